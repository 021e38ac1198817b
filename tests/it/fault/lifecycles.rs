//! Complaint lifecycles driven over NATS, and the checker that sorts every command into applied once,
//! lost or duplicated.
//!
//! A lifecycle is five commands on `{prefix}.cmd.{action}`, each with its own `Nats-Msg-Id` and an
//! `Aduan-Reply-To` naming it: submit; once it is answered (the case's id, the reporter's token),
//! verify and respond; once respond is answered, resolve and rate. Each pair is published back to back,
//! so the second may meet a case its first has not reached yet: an ordering failure the consumer
//! retries. (Not the four at once: the consumer keeps no order per case, so with respond retried,
//! resolve could pass it, taking the case from `assigned` to `resolved`, and respond would never fit
//! again.) A window of lifecycles runs at once: each answered submit starts the next, so later
//! commands interleave with new submits.

use super::next_message;
use crate::support::{block_on, read_stream, submission, Server};
use async_nats::HeaderMap;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The actions of a lifecycle, in order, and the event each one writes into the case's history.
pub const STEPS: [(&str, &str); 5] = [
    ("submit", "submitted"),
    ("verify", "assigned"),
    ("respond", "responded"),
    ("resolve", "resolved"),
    ("rate", "rated"),
];
/// Where the cases are filed: routed at verify to [`HOLDER`].
const REGION: &str = "35.78";
const CATEGORY: &str = "infrastruktur";
/// The agency the national pack routes an `infrastruktur` case of Kota Surabaya to.
pub const HOLDER: &str = "35.78/dinas-pu";
/// Lifecycles running at once.
const WINDOW: usize = 200;
/// How long the driver waits for one more answer before it gives up on the rest (longer than the
/// consumer's 30 s ack wait, after which a command a killed replica held comes back).
const IDLE: Duration = Duration::from_secs(60);

/// What a lifecycle's commands act with: the national admin verifies, the holder's officer responds and
/// resolves, the reporter (its token from the submit's answer) rates.
pub struct Credentials {
    pub admin: String,
    pub officer: String,
}

impl Credentials {
    pub fn of(s: &Server) -> Credentials {
        Credentials { admin: s.admin.clone(), officer: s.token("officer", HOLDER) }
    }
}

/// One lifecycle as the driver saw it.
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// The case's id and the reporter's token, from the submit's answer.
    pub id: Option<String>,
    pub reporter: Option<String>,
    /// Answers received per step (a command redelivered after its answer went out is answered again).
    pub answers: [u32; 5],
    /// Steps published.
    pub published: usize,
}

/// Runs `lifecycles` lifecycles against the server at `nats_url`/`prefix`; `progress` counts the
/// commands answered so far (for a test that injects faults at chosen points). Returns when every
/// published command was answered, or when no answer came for [`IDLE`].
pub fn drive(
    nats_url: &str,
    prefix: &str,
    creds: &Credentials,
    lifecycles: usize,
    progress: &AtomicUsize,
) -> Vec<Case> {
    block_on(async {
        let client = async_nats::connect(nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let inbox = format!("_INBOX.fault-{prefix}");
        let mut sub = client.subscribe(format!("{inbox}.>")).await.unwrap();
        let publish = |i: usize, step: usize, body: Value, bearer: Option<String>| {
            let (js, inbox) = (js.clone(), inbox.clone());
            async move {
                let action = STEPS[step].0;
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("{prefix}-{i}-{action}").as_str());
                headers.insert("Aduan-Reply-To", format!("{inbox}.{i}.{step}").as_str());
                if let Some(t) = bearer {
                    headers.insert("Authorization", format!("Bearer {t}").as_str());
                }
                let subject = format!("{prefix}.cmd.{action}");
                js.publish_with_headers(subject, headers, body.to_string().into()).await.unwrap().await.unwrap();
            }
        };
        let mut cases = vec![Case::default(); lifecycles];
        let mut started = 0;
        while started < lifecycles.min(WINDOW) {
            publish(started, 0, lifecycle_submission(started), None).await;
            cases[started].published = 1;
            started += 1;
        }
        let total = lifecycles * STEPS.len();
        // Commands answered, plus those never published because their submit failed.
        let mut settled = 0;
        while settled < total {
            let Ok(Some(msg)) = tokio::time::timeout(IDLE, next_message(&mut sub)).await else { break };
            let mut parts = msg.subject.as_str().rsplit('.');
            let step: usize = parts.next().unwrap().parse().unwrap();
            let i: usize = parts.next().unwrap().parse().unwrap();
            cases[i].answers[step] += 1;
            if cases[i].answers[step] > 1 {
                continue;
            }
            settled += 1;
            progress.fetch_add(1, Ordering::SeqCst);
            let problem = msg.headers.as_ref().and_then(|h| h.get("Aduan-Error")).map(|v| v.to_string());
            if let Some(problem) = &problem {
                eprintln!("lifecycle {i}: {} answered a problem: {problem}", STEPS[step].0);
            }
            if step == 0 {
                let view: Value = serde_json::from_slice(&msg.payload).unwrap_or(Value::Null);
                if let (None, Some(id), Some(reporter)) =
                    (&problem, view["id"].as_str(), view["reporter_token"].as_str())
                {
                    cases[i].id = Some(id.to_owned());
                    cases[i].reporter = Some(reporter.to_owned());
                }
            }
            // The next pair: verify and respond once submitted, resolve and rate once responded.
            let next = match (step, &problem, &cases[i].id) {
                (0 | 2, None, Some(_)) => step + 1..step + 3,
                (0 | 2, _, _) => {
                    settled += STEPS.len() - 1 - step;
                    0..0
                }
                _ => 0..0,
            };
            for k in next {
                let (id, reporter) = (cases[i].id.clone().unwrap(), cases[i].reporter.clone().unwrap());
                let bearer = match k {
                    1 => creds.admin.clone(),
                    4 => reporter,
                    _ => creds.officer.clone(),
                };
                publish(i, k, step_body(k, &id), Some(bearer)).await;
                cases[i].published = k + 1;
            }
            if step == 0 && started < lifecycles {
                publish(started, 0, lifecycle_submission(started), None).await;
                cases[started].published = 1;
                started += 1;
            }
        }
        cases
    })
}

/// The submission of lifecycle `i` (its title names it).
fn lifecycle_submission(i: usize) -> Value {
    let mut body = submission(REGION, CATEGORY);
    body["title"] = json!(format!("fault lifecycle {i}"));
    body
}

/// The body of step `k` (verify, respond, resolve or rate) on case `id`.
fn step_body(k: usize, id: &str) -> Value {
    match k {
        1 => json!({"complaint": id}),
        2 => json!({"complaint": id, "message": "Sedang kami cek"}),
        3 => json!({"complaint": id, "message": "Sudah ditambal"}),
        _ => json!({"complaint": id, "score": 5}),
    }
}

/// What the checker found.
#[derive(Debug, Default)]
pub struct Tally {
    pub commands: usize,
    pub applied_once: usize,
    pub lost: usize,
    pub duplicated: usize,
    /// Events in `{PREFIX}_EVT` of these cases, and those stored more than once, or missing from the
    /// stream though in a history, or in the stream but in no history.
    pub events: usize,
    pub events_twice: usize,
    pub events_missing: usize,
    pub events_unknown: usize,
    pub dead_letters: usize,
    /// What went wrong, one line per command or event (at most a few dozen kept).
    pub findings: Vec<String>,
}

impl Tally {
    fn note(&mut self, finding: String) {
        if self.findings.len() < 40 {
            self.findings.push(finding);
        }
    }

    /// Panics, listing the findings, unless every command was applied once and every event of the
    /// histories is in the stream once.
    pub fn assert_clean(&self) {
        let clean = self.lost == 0
            && self.duplicated == 0
            && self.events_twice == 0
            && self.events_missing == 0
            && self.events_unknown == 0
            && self.applied_once == self.commands;
        assert!(clean, "{self}\n{}", self.findings.join("\n"));
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} commands: {} applied once, {} lost, {} duplicated; {} events in the stream ({} twice, {} missing, \
             {} in no history); {} dead letters",
            self.commands,
            self.applied_once,
            self.lost,
            self.duplicated,
            self.events,
            self.events_twice,
            self.events_missing,
            self.events_unknown,
            self.dead_letters
        )
    }
}

/// Classifies every command of `cases` from each case's history as `s` serves it (a command applied
/// once wrote its event once), counts the cases the database holds (a submit applied twice makes two),
/// and checks `{PREFIX}_EVT`: each event of every history in it exactly once, nothing else.
pub fn check(s: &Server, cases: &[Case]) -> Tally {
    let mut t = Tally { commands: cases.len() * STEPS.len(), ..Tally::default() };
    let mut histories: HashMap<String, Vec<String>> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(id) = &case.id else {
            t.lost += STEPS.len();
            t.note(format!("lifecycle {i}: the submit was never answered with a case"));
            continue;
        };
        let view = s.get(&format!("/v1/complaints/{id}")).json();
        let types: Vec<String> =
            view["history"].as_array().unwrap().iter().map(|h| h["type"].as_str().unwrap().to_owned()).collect();
        for (action, event) in STEPS {
            match types.iter().filter(|t| *t == event).count() {
                1 => t.applied_once += 1,
                0 => {
                    t.lost += 1;
                    t.note(format!("lifecycle {i} ({id}): {action} lost; history {types:?}"));
                }
                n => {
                    t.duplicated += 1;
                    t.note(format!("lifecycle {i} ({id}): {action} applied {n} times; history {types:?}"));
                }
            }
        }
        histories.insert(id.clone(), types);
    }
    let stored = s.get("/v1/stats").json()["total"].as_u64().unwrap() as usize;
    if stored > histories.len() {
        let extra = stored - histories.len();
        t.duplicated += extra;
        t.note(format!("{stored} cases stored for {} submits answered", histories.len()));
    }
    let expected: usize = histories.values().map(Vec::len).sum();
    let events = read_stream(&s.nats_url, &s.stream("EVT"), expected as u64);
    let mut by_msg_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut streamed: HashMap<String, Vec<String>> = HashMap::new();
    for m in &events {
        let Some(case) = m.payload["complaint_id"].as_str() else { continue };
        t.events += 1;
        *by_msg_id.entry(m.msg_id.clone().unwrap_or_default()).or_default() += 1;
        streamed.entry(case.to_owned()).or_default().push(m.payload["type"].as_str().unwrap_or_default().to_owned());
    }
    for (msg_id, n) in by_msg_id.iter().filter(|(_, n)| **n > 1) {
        t.events_twice += n - 1;
        t.note(format!("event {msg_id} stored {n} times"));
    }
    for (id, types) in &histories {
        let got = streamed.remove(id).unwrap_or_default();
        if &got != types {
            t.events_missing += types.len().saturating_sub(got.len());
            t.note(format!("case {id}: history {types:?}, stream {got:?}"));
        }
    }
    for (id, got) in streamed {
        t.events_unknown += got.len();
        t.note(format!("case {id} in the stream, in no history: {got:?}"));
    }
    t.dead_letters = dead_letters(s);
    t
}

/// How many dead letters `{PREFIX}_DLQ` holds.
fn dead_letters(s: &Server) -> usize {
    let stream = s.stream("DLQ");
    block_on(async {
        let client = async_nats::connect(&s.nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut st) = js.get_stream(&stream).await {
                return st.info().await.unwrap().state.messages as usize;
            }
            assert!(Instant::now() < deadline, "stream {stream} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}
