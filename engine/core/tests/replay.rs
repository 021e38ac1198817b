//! Replaying a case's events (`aduan_core::replay`, behind `audit verify`): real lifecycles decided by
//! the core replay to the case they left, with envelopes stamped as the service stamps them (every event
//! of a decision carries the case's agency and level after it); an impossible history is named by seq.

mod common;

use aduan_core::case::Command;
use aduan_core::event::EventType;
use aduan_core::pack::Pack;
use aduan_core::replay::{replay, ReplayError, ReplayEvent, Replayed};
use aduan_core::workflow::Workflow;
use common::life::{verify, view, Life, Stored};
use serde_json::json;

/// Takes `cmd` and checks the history still replays to the case.
fn act(l: &mut Life, pack: &Pack, cmd: Command, at: &str) {
    l.act(pack, cmd, at);
    check(l, &pack.workflow);
}

/// Sweeps and checks the history still replays to the case.
fn sweep(l: &mut Life, pack: &Pack, at: &str) {
    l.sweep(pack, at);
    check(l, &pack.workflow);
}

fn replayed(l: &Life, workflow: &Workflow) -> Result<Replayed, ReplayError> {
    replay(l.events.iter().enumerate().map(|(i, e)| (view(i, e), workflow)))
}

/// The history replays to the case as it stands.
fn check(l: &Life, workflow: &Workflow) {
    let want = Replayed {
        status: l.case.status.clone(),
        agency: l.case.agency.clone(),
        escalation_level: l.case.escalation_level as i32,
    };
    let types: Vec<&str> = l.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(replayed(l, workflow), Ok(want), "{types:?}");
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
    check(&l, &pack.workflow);
    act(&mut l, &pack, verify(), "2026-03-02T10:00:00+07:00");
    act(&mut l, &pack, Command::Respond { message: message("Kami cek") }, "2026-03-03T10:00:00+07:00");
    act(&mut l, &pack, Command::RequestInfo { message: message("Lokasi?") }, "2026-03-04T10:00:00+07:00");
    act(&mut l, &pack, Command::ProvideInfo { message: message("Depan pasar") }, "2026-03-05T10:00:00+07:00");
    act(
        &mut l,
        &pack,
        Command::Forward { agency: "33.74/bpbd".into(), reason: message("bukan wewenang") },
        "2026-03-05T11:00:00+07:00",
    );
    act(
        &mut l,
        &pack,
        Command::Forward { agency: "33.74/dinas-pu".into(), reason: message("kembali") },
        "2026-03-05T12:00:00+07:00",
    );
    let esc = || Command::Escalate { reason: message("tidak ada tanggapan") };
    for day in ["2026-03-06", "2026-03-09", "2026-03-10", "2026-03-11"] {
        act(&mut l, &pack, esc(), &format!("{day}T10:00:00+07:00"));
    }
    assert_eq!((l.case.agency.as_deref(), l.case.escalation_level), (Some("ombudsman"), 4));
    act(&mut l, &pack, Command::Resolve { message: message("Sudah") }, "2026-03-12T10:00:00+07:00");
    act(&mut l, &pack, Command::Reopen { message: message("Belum") }, "2026-03-13T10:00:00+07:00");
    act(&mut l, &pack, Command::Resolve { message: message("Sudah") }, "2026-03-16T10:00:00+07:00");
    act(&mut l, &pack, Command::Rate { score: 4 }, "2026-03-17T10:00:00+07:00");
    assert_eq!(l.case.status, "closed");
    assert_eq!(l.events.iter().rev().take(2).map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["closed", "rated"]);
}

#[test]
fn sweeps_replay_too_breach_escalation_warnings_and_closing() {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    sweep(&mut l, &pack, "2026-03-20T10:00:00+07:00"); // verify overdue
    assert!(l.events.iter().any(|e| e.event_type == "verify_overdue"), "{:?}", l.events);
    act(&mut l, &pack, verify(), "2026-03-20T11:00:00+07:00");
    sweep(&mut l, &pack, "2026-04-30T10:00:00+07:00"); // respond and complete breached: one escalation
    assert_eq!(l.case.escalation_level, 1, "{:?}", l.events);
    act(&mut l, &pack, Command::Resolve { message: message("Sudah") }, "2026-05-04T10:00:00+07:00");
    sweep(&mut l, &pack, "2026-07-30T10:00:00+07:00"); // no reply: close
    assert_eq!(l.case.status, "closed");
    // Rating a case closed for want of a reply keeps it closed, with no second `closed`.
    act(&mut l, &pack, Command::Rate { score: 2 }, "2026-07-31T10:00:00+07:00");
    assert_eq!(l.events.last().unwrap().event_type, "rated");
}

#[test]
fn an_archived_case_replays_to_archived() {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    act(&mut l, &pack, Command::Archive { reason: message("spam") }, "2026-03-02T10:00:00+07:00");
    assert_eq!(l.case.status, "archived");
}

#[test]
fn an_impossible_history_names_the_event() {
    let pack = common::national_pack();
    let w = &pack.workflow;
    let mut l = Life::new(&pack, "35.78", "2026-03-02T09:00:00+07:00");
    act(&mut l, &pack, verify(), "2026-03-02T10:00:00+07:00");
    act(&mut l, &pack, Command::Resolve { message: message("Sudah") }, "2026-03-03T10:00:00+07:00");
    let why = |events: Vec<Stored>| {
        let l = Life { case: l.case.clone(), events };
        replayed(&l, w).unwrap_err().to_string()
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
    act(&mut l, &old, verify(), "2026-03-02T10:00:00+07:00");
    act(&mut l, &old, Command::Respond { message: message("Kami cek") }, "2026-03-03T10:00:00+07:00");
    assert_eq!(l.case.status, "in_progress");
    assert_eq!(replayed(&l, &new.workflow).unwrap().status, "ditindaklanjuti", "the active pack alone misreads it");
    assert_eq!(replayed(&l, &old.workflow).unwrap().status, "in_progress");
}
