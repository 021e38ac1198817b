//! The load: `concurrency` clients, each running lifecycles one after another until the time is up,
//! then finishing the command it has in flight. A lifecycle is drawn from a seeded RNG (the same run
//! for the same client number): a region among every government of the directory, a category among the
//! pack's, and the mix
//!
//! submit → verify → forward (10 %) → request_info → provide_info (10 %) → respond → resolve
//! → reopen → respond → resolve (5 %).
//!
//! Each command waits for its reply, then for its own event on NATS, before the next command of the
//! lifecycle; latencies run from sending it.

use super::events::Events;
use super::tokens::Tokens;
use super::transport::{Outgoing, Transport};
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_service::service::new_id;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a command's event may take to arrive before it counts as missing.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Who sends a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    /// Anyone (the submission).
    Anyone,
    /// The national admin.
    Admin,
    /// An officer of the agency holding the case.
    Holder,
    /// The reporter, with the token the submission returned.
    Reporter,
}

/// One command of a lifecycle: the action, the event it must produce, who sends it.
#[derive(Debug, Clone, Copy)]
struct Step {
    action: &'static str,
    event: &'static str,
    party: Party,
}

const fn step(action: &'static str, event: &'static str, party: Party) -> Step {
    Step { action, event, party }
}

const SUBMIT: Step = step("submit", "submitted", Party::Anyone);
const VERIFY: Step = step("verify", "assigned", Party::Admin);
const FORWARD: Step = step("forward", "forwarded", Party::Holder);
const REQUEST_INFO: Step = step("request_info", "info_requested", Party::Holder);
const PROVIDE_INFO: Step = step("provide_info", "info_provided", Party::Reporter);
const RESPOND: Step = step("respond", "responded", Party::Holder);
const RESOLVE: Step = step("resolve", "resolved", Party::Holder);
const REOPEN: Step = step("reopen", "reopened", Party::Reporter);

/// The lifecycle's steps, drawn from the mix.
fn mix(rng: &mut StdRng) -> Vec<Step> {
    let mut steps = vec![SUBMIT, VERIFY];
    if rng.random_bool(0.10) {
        steps.push(FORWARD);
    }
    if rng.random_bool(0.10) {
        steps.extend([REQUEST_INFO, PROVIDE_INFO]);
    }
    steps.extend([RESPOND, RESOLVE]);
    if rng.random_bool(0.05) {
        steps.extend([REOPEN, RESPOND, RESOLVE]);
    }
    steps
}

/// What the clients share.
pub(super) struct Shared {
    pub pack: Arc<Pack>,
    pub tokens: Tokens,
    pub events: Events,
    /// Every province and kab/kota government's region.
    pub regions: Vec<RegionCode>,
    /// Every category of the pack.
    pub categories: Vec<String>,
    /// When clients stop starting commands.
    pub until: Instant,
}

impl Shared {
    pub(super) fn new(pack: Arc<Pack>, tokens: Tokens, events: Events, until: Instant) -> Self {
        let regions = pack.directory.governments().iter().filter_map(|a| a.region.clone()).collect();
        let mut categories: Vec<String> = pack.directory.categories().map(|c| c.id.clone()).collect();
        categories.sort();
        Self { pack, tokens, events, regions, categories, until }
    }
}

/// What one client (or, merged, all of them) measured.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Lifecycles run to their last step.
    pub lifecycles: u64,
    /// Commands answered, by action.
    pub commands: BTreeMap<&'static str, u64>,
    /// From sending a command to its own event arriving on NATS, in milliseconds.
    pub event_ms: Vec<f64>,
    /// From sending a command to its reply, in milliseconds.
    pub reply_ms: Vec<f64>,
    /// Commands whose event did not arrive within 30 s.
    pub missing_events: u64,
    /// Commands answered with an error (their lifecycle is abandoned).
    pub errors: u64,
    /// The first error, as said.
    pub first_error: Option<String>,
    /// Officer tokens made during the run (one write each, the first time a case reaches an agency).
    pub officer_tokens: u64,
}

impl Tally {
    pub(super) fn merge(&mut self, other: Tally) {
        self.lifecycles += other.lifecycles;
        for (a, n) in other.commands {
            *self.commands.entry(a).or_default() += n;
        }
        self.event_ms.extend(other.event_ms);
        self.reply_ms.extend(other.reply_ms);
        self.missing_events += other.missing_events;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
    }

    /// Every command answered.
    pub(super) fn total_commands(&self) -> u64 {
        self.commands.values().sum()
    }
}

/// The case a lifecycle is on, as its replies told.
#[derive(Default)]
struct Case {
    id: String,
    reporter: String,
    holder: String,
    region: String,
    category: String,
}

/// One client: lifecycles until the time is up.
pub(super) async fn client(number: u64, mut transport: Transport, shared: Arc<Shared>) -> Tally {
    let mut rng = StdRng::seed_from_u64(number);
    let mut tally = Tally::default();
    while Instant::now() < shared.until {
        let mut case = Case {
            region: shared.regions[rng.random_range(0..shared.regions.len())].to_string(),
            category: shared.categories[rng.random_range(0..shared.categories.len())].clone(),
            ..Case::default()
        };
        let steps = mix(&mut rng);
        let mut done = 0;
        for s in &steps {
            if done > 0 && Instant::now() >= shared.until {
                break;
            }
            let body = body(s, &case, &shared, &mut rng);
            match command(&mut transport, &shared, s, &mut case, body, &mut tally).await {
                Ok(()) => done += 1,
                Err(e) => {
                    tally.errors += 1;
                    tally.first_error.get_or_insert_with(|| format!("{e:#}"));
                    break;
                }
            }
        }
        if done == steps.len() {
            tally.lifecycles += 1;
        }
        shared.events.forget(&case.id);
    }
    tally
}

/// Sends one step and waits for its event, noting both latencies.
async fn command(
    transport: &mut Transport,
    shared: &Shared,
    s: &Step,
    case: &mut Case,
    body: Value,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let bearer = match s.party {
        Party::Anyone => None,
        Party::Admin => Some(shared.tokens.admin.clone()),
        Party::Holder => Some(shared.tokens.officer_of(&case.holder).await?),
        Party::Reporter => Some(case.reporter.clone()),
    };
    let key = new_id();
    let t0 = Instant::now();
    let send = Outgoing { action: s.action, complaint: &case.id, bearer: bearer.as_deref(), key: &key, body };
    let view = transport.send(send).await?;
    tally.reply_ms.push(ms_since(t0, Instant::now()));
    if let Some(id) = view["id"].as_str() {
        case.id = id.to_owned();
    }
    if let Some(t) = view["reporter_token"].as_str() {
        case.reporter = t.to_owned();
    }
    if let Some(a) = view["agency"].as_str() {
        case.holder = a.to_owned();
    }
    *tally.commands.entry(s.action).or_default() += 1;
    match shared.events.wait(&case.id, s.event, EVENT_TIMEOUT).await {
        Some(at) => tally.event_ms.push(ms_since(t0, at)),
        None => tally.missing_events += 1,
    }
    Ok(())
}

fn ms_since(t0: Instant, t: Instant) -> f64 {
    t.saturating_duration_since(t0).as_secs_f64() * 1000.0
}

/// The body of a step (the complaint's id travels in the path, or is added for NATS).
fn body(s: &Step, case: &Case, shared: &Shared, rng: &mut StdRng) -> Value {
    match s.action {
        "submit" => json!({
            "kind": "pengaduan", "channel": "app", "title": "Lampu jalan mati",
            "body": "Sudah seminggu lampu jalan di depan rumah mati.", "category": case.category,
            "region": case.region, "privacy": "public", "reporter": {"name": "Budi", "contact": "0813"}
        }),
        "verify" => json!({"action": "verify"}),
        "forward" => json!({
            "action": "forward", "agency": forward_target(case, shared, rng),
            "reason": "Bukan wewenang kami"
        }),
        action => json!({"action": action, "message": "Ditindaklanjuti"}),
    }
}

/// Another agency of the directory for a forward: the one that handles another category in the
/// case's region, else the region's government.
fn forward_target(case: &Case, shared: &Shared, rng: &mut StdRng) -> String {
    let dir = &shared.pack.directory;
    let region = RegionCode::parse(&case.region).ok();
    let start = rng.random_range(0..shared.categories.len());
    let others = shared.categories.iter().cycle().skip(start).take(shared.categories.len());
    others
        .map(|c| dir.default_route(region.as_ref(), Some(c)).0)
        .chain(region.as_ref().and_then(|r| dir.government_of(r)).map(str::to_owned))
        .find(|a| *a != case.holder)
        .unwrap_or_else(|| aduan_core::directory::ROOT.to_owned())
}
