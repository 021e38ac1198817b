//! Replaying a case's events (`aduan_core::replay`, behind `audit verify`): real lifecycles decided by
//! the core replay to the case they left, with envelopes stamped as the service stamps them (every event
//! of a decision carries the case's agency and level after it); an impossible history is named by seq.

mod common;

use aduan_core::case::{decide, submit, Actor, Case, Command, NewCase, NewEvent, Privacy};
use aduan_core::domain::Kind;
use aduan_core::event::EventType;
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::replay::{replay, ReplayError, ReplayEvent, Replayed};
use aduan_core::sweep::{sweep_case, Fired};
use aduan_core::workflow::Workflow;
use common::t;
use serde_json::{json, Value};

/// A stored event as the replay reads it.
#[derive(Debug, Clone)]
struct Stored {
    event_type: String,
    agency: Option<String>,
    level: i32,
    data: Value,
}

/// A case and its history so far.
struct Life {
    case: Case,
    events: Vec<Stored>,
}

impl Life {
    fn new(pack: &Pack, region: &str, at: &str) -> Self {
        let n = NewCase {
            id: "c1".into(),
            tracking_id: "ABCDE-FGHJK".into(),
            kind: Kind::Pengaduan,
            channel: "web".into(),
            category: Some("infrastruktur".into()),
            region: Some(RegionCode::parse(region).unwrap()),
            privacy: Privacy::Public,
            title: "Jalan berlubang".into(),
            received_at: t(at),
        };
        let (case, out) = submit(pack, n, t(at));
        let mut life = Life { case, events: Vec::new() };
        life.stamp(out.events);
        life
    }

    /// Appends a decision's events, stamped with the case after it (`chain_events` in the service).
    fn stamp(&mut self, events: Vec<NewEvent>) {
        for e in events {
            self.events.push(Stored {
                event_type: e.event_type,
                agency: self.case.agency.clone(),
                level: self.case.escalation_level as i32,
                data: e.data,
            });
        }
    }

    fn act(&mut self, pack: &Pack, cmd: Command, at: &str) {
        let out =
            decide(pack, &mut self.case, &Actor::system(), &cmd, t(at)).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        self.stamp(out.events);
        self.check(&pack.workflow);
    }

    fn sweep(&mut self, pack: &Pack, at: &str) {
        let out = sweep_case(pack, &mut self.case, &Fired::new(), t(at));
        self.stamp(out.outcome.events);
        self.check(&pack.workflow);
    }

    fn replayed(&self, workflow: &Workflow) -> Result<Replayed, ReplayError> {
        replay(self.events.iter().enumerate().map(|(i, e)| (view(i, e), workflow)))
    }

    /// The history replays to the case as it stands.
    fn check(&self, workflow: &Workflow) {
        let want = Replayed {
            status: self.case.status.clone(),
            agency: self.case.agency.clone(),
            escalation_level: self.case.escalation_level as i32,
        };
        let types: Vec<&str> = self.events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(self.replayed(workflow), Ok(want), "{types:?}");
    }
}

fn view(i: usize, e: &Stored) -> ReplayEvent<'_> {
    ReplayEvent {
        seq: i as i64 + 1,
        event_type: &e.event_type,
        agency: e.agency.as_deref(),
        escalation_level: Some(e.level),
        data: &e.data,
    }
}

fn verify() -> Command {
    Command::Verify { agency: None, category: None, investigation: None }
}

fn message(s: &str) -> String {
    s.to_owned()
}

#[test]
fn every_action_event_is_an_action_of_the_national_workflow() {
    let pack = common::national_pack();
    for action in EventType::ALL.into_iter().filter_map(EventType::action) {
        assert!(pack.workflow.action(action).is_some(), "{action}");
    }
}

#[test]
fn a_whole_life_replays_to_the_case_at_every_step() {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "33.74", "2026-03-02T09:00:00+07:00");
    l.check(&pack.workflow);
    l.act(&pack, verify(), "2026-03-02T10:00:00+07:00");
    l.act(&pack, Command::Respond { message: message("Kami cek") }, "2026-03-03T10:00:00+07:00");
    l.act(&pack, Command::RequestInfo { message: message("Lokasi?") }, "2026-03-04T10:00:00+07:00");
    l.act(&pack, Command::ProvideInfo { message: message("Depan pasar") }, "2026-03-05T10:00:00+07:00");
    l.act(
        &pack,
        Command::Forward { agency: "33.74/bpbd".into(), reason: message("bukan wewenang") },
        "2026-03-05T11:00:00+07:00",
    );
    l.act(
        &pack,
        Command::Forward { agency: "33.74/dinas-pu".into(), reason: message("kembali") },
        "2026-03-05T12:00:00+07:00",
    );
    let esc = || Command::Escalate { reason: message("tidak ada tanggapan") };
    for day in ["2026-03-06", "2026-03-09", "2026-03-10", "2026-03-11"] {
        l.act(&pack, esc(), &format!("{day}T10:00:00+07:00"));
    }
    assert_eq!((l.case.agency.as_deref(), l.case.escalation_level), (Some("ombudsman"), 4));
    l.act(&pack, Command::Resolve { message: message("Sudah") }, "2026-03-12T10:00:00+07:00");
    l.act(&pack, Command::Reopen { message: message("Belum") }, "2026-03-13T10:00:00+07:00");
    l.act(&pack, Command::Resolve { message: message("Sudah") }, "2026-03-16T10:00:00+07:00");
    l.act(&pack, Command::Rate { score: 4 }, "2026-03-17T10:00:00+07:00");
    assert_eq!(l.case.status, "closed");
    assert_eq!(l.events.iter().rev().take(2).map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["closed", "rated"]);
}

#[test]
fn sweeps_replay_too_breach_escalation_warnings_and_closing() {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    l.sweep(&pack, "2026-03-20T10:00:00+07:00"); // verify overdue
    assert!(l.events.iter().any(|e| e.event_type == "verify_overdue"), "{:?}", l.events);
    l.act(&pack, verify(), "2026-03-20T11:00:00+07:00");
    l.sweep(&pack, "2026-04-30T10:00:00+07:00"); // respond and complete breached: one escalation
    assert_eq!(l.case.escalation_level, 1, "{:?}", l.events);
    l.act(&pack, Command::Resolve { message: message("Sudah") }, "2026-05-04T10:00:00+07:00");
    l.sweep(&pack, "2026-07-30T10:00:00+07:00"); // no reply: close
    assert_eq!(l.case.status, "closed");
    // Rating a case closed for want of a reply keeps it closed, with no second `closed`.
    l.act(&pack, Command::Rate { score: 2 }, "2026-07-31T10:00:00+07:00");
    assert_eq!(l.events.last().unwrap().event_type, "rated");
}

#[test]
fn an_archived_case_replays_to_archived() {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    l.act(&pack, Command::Archive { reason: message("spam") }, "2026-03-02T10:00:00+07:00");
    assert_eq!(l.case.status, "archived");
}

#[test]
fn an_impossible_history_names_the_event() {
    let pack = common::national_pack();
    let w = &pack.workflow;
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    l.act(&pack, verify(), "2026-03-02T10:00:00+07:00");
    l.act(&pack, Command::Resolve { message: message("Sudah") }, "2026-03-03T10:00:00+07:00");
    let why = |events: Vec<Stored>| {
        let l = Life { case: l.case.clone(), events };
        l.replayed(w).unwrap_err().to_string()
    };
    // Resolving before dispatch: the swapped order cannot be replayed.
    let mut swapped = l.events.clone();
    swapped.swap(1, 2);
    assert_eq!(
        why(swapped),
        "event 2 (resolved) cannot be replayed: `resolve` is not allowed while the case is submitted"
    );
    // A deleted dispatch.
    let mut deleted = l.events.clone();
    deleted.remove(1);
    assert!(why(deleted).starts_with("event 2 (resolved) cannot be replayed"));
    // A history that does not start with `submitted`, an unknown type, a second `submitted`.
    assert!(why(l.events[1..].to_vec()).starts_with("event 1 (assigned) cannot be replayed"));
    let mut unknown = l.events.clone();
    unknown[2].event_type = "teleported".into();
    assert_eq!(why(unknown), "event 3 (teleported) cannot be replayed: unknown event type `teleported`");
    let mut twice = l.events.clone();
    twice.push(l.events[0].clone());
    assert!(why(twice).starts_with("event 4 (submitted) cannot be replayed"));
    // A dispatch whose data and envelope disagree on the holder.
    let mut holder = l.events.clone();
    holder[1].data["agency"] = json!("35.78/bpbd");
    assert!(why(holder).contains("its data says agency 35.78/bpbd, its envelope says agency 35.78/dinas-pu"));
    assert_eq!(replay(std::iter::empty::<(ReplayEvent<'_>, &Workflow)>()), Err(ReplayError::NoEvents));
}

#[test]
fn each_event_replays_on_its_own_packs_workflow() {
    // A newer pack renames `in_progress`: a case that responded under the old pack stays `in_progress`
    // (nothing is re-decided), and replays so only when its events are read with the pack that decided them.
    let old = common::national_pack();
    let mut files = common::pack_files(&common::pack_dir());
    let wf = files.iter_mut().find(|f| f.path == "workflow.yaml").unwrap();
    wf.bytes = String::from_utf8(wf.bytes.clone())
        .unwrap()
        .replace("in_progress", "ditindaklanjuti")
        .replace("ditindaklanjuti: [", "in_progress: [") // the stats key keeps its name
        .into_bytes();
    let new = Pack::from_files(&files).unwrap_or_else(|e| panic!("{e}"));
    let mut l = Life::new(&old, "35.78", "2026-03-02T09:00:00+07:00");
    l.act(&old, verify(), "2026-03-02T10:00:00+07:00");
    l.act(&old, Command::Respond { message: message("Kami cek") }, "2026-03-03T10:00:00+07:00");
    assert_eq!(l.case.status, "in_progress");
    assert_eq!(l.replayed(&new.workflow).unwrap().status, "ditindaklanjuti", "the active pack alone misreads it");
    assert_eq!(l.replayed(&old.workflow).unwrap().status, "in_progress");
}
