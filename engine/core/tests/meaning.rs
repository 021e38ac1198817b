//! The states' meaning (`meaning:` in workflow.yaml): the national block equals what the actions derive,
//! so an older workflow without it behaves the same; every state named is checked at pack load.

mod common;

use aduan_core::pack::{Pack, PackError, PackFile};

fn national_workflow() -> String {
    let files = common::pack_files(&common::pack_dir());
    let file = files.into_iter().find(|f| f.path == "workflow.yaml").expect("workflow.yaml");
    String::from_utf8(file.bytes).expect("UTF-8")
}

fn with_workflow(text: &str) -> Result<Pack, PackError> {
    let mut files = common::pack_files(&common::pack_dir());
    files.retain(|f| f.path != "workflow.yaml");
    files.push(PackFile { path: "workflow.yaml".into(), bytes: text.as_bytes().to_vec() });
    Pack::from_files(&files)
}

/// The national workflow without its `meaning:` block (and the comments above it).
fn without_meaning() -> String {
    let text = national_workflow();
    let start = text.find("# What the engine reads each state as").expect("the block's comment");
    let end = text.find("actions:").expect("actions");
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn the_national_meaning_is_what_the_actions_derive() {
    let written = common::national_pack();
    let m = written.workflow.meaning();
    assert_eq!(m.awaiting_dispatch, "submitted");
    assert_eq!(m.escalated, "assigned");
    assert_eq!(m.paused, ["awaiting_reporter"]);
    assert_eq!(m.closed, "closed");
    assert_eq!(m.stats.resolved, ["resolved", "closed"]);
    assert_eq!(m.stats.in_progress, ["in_progress", "awaiting_reporter"]);
    assert_eq!(m.stats.not_followed_up, ["assigned"]);
    assert_eq!(m.stats.archived, ["archived"]);
    let derived = with_workflow(&without_meaning()).unwrap_or_else(|e| panic!("an older workflow loads:\n{e}"));
    assert_eq!(derived.workflow.meaning(), m, "derived from the actions");
    assert!(derived.workflow.is_paused("awaiting_reporter") && !derived.workflow.is_paused("assigned"));
}

#[test]
fn every_state_named_is_checked_at_load_with_its_location() {
    let text = national_workflow()
        .replace("escalated: assigned", "escalated: asigned")
        .replace("archived: [archived]", "archived: [archived, shelved]");
    let e = with_workflow(&text).unwrap_err().to_string();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).expect("line") + 1;
    assert!(e.contains(&format!("workflow.yaml:{}:", line_of("escalated: asigned"))), "{e}");
    assert!(e.contains("meaning.escalated: unknown state `asigned`"), "{e}");
    assert!(e.contains(&format!("workflow.yaml:{}:", line_of("[archived, shelved]"))), "{e}");
    assert!(e.contains("meaning.stats.archived: unknown state `shelved`"), "{e}");

    let e =
        with_workflow(&national_workflow().replace("closed: closed ", "closed: resolved ")).unwrap_err().to_string();
    assert!(e.contains("meaning.closed: `resolved` is not a final state"), "{e}");
    let e = with_workflow(&national_workflow().replace("awaiting_dispatch: submitted", "awaiting_dispatch: assigned"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("meaning.awaiting_dispatch is `assigned`, but `submit` enters `submitted`"), "{e}");
    let e = with_workflow(&national_workflow().replace("  paused:", "  pasued:")).unwrap_err().to_string();
    assert!(e.contains("pasued"), "unknown keys are refused: {e}");
}
