//! `aduan audit verify [--case ID]`: walks each case's hash chain (ARCHITECTURE.md invariant 8) straight from
//! the database and names every case whose stored history was altered.
//!
//! For each case it checks that
//! - the events run 1, 2, 3… and each one's `hash` is SHA-256 over its `prev_hash` and the exact payload
//!   bytes, `prev_hash` being the previous event's hash ([`aduan_core::chain::verify`]);
//! - the case row's `head_seq`/`head_hash` name the last event, so a deleted last event is caught;
//! - every event's columns (`id`, `complaint_id`, `event_type`, `at`, `actor`, `agency`,
//!   `escalation_level`, `pack`) and the case's tracking id agree with the hashed payload, so an edited
//!   column is caught even though the hash covers only the payload;
//! - replaying the events through the workflow ([`aduan_core::replay`]) is possible, and leads to the
//!   case row's `status`, `agency` and `escalation_level`, so an edited case row is caught though no
//!   event was touched.
//!
//! Which workflow replays an event: the one of the pack that decided it (its `pack` hash), read from
//! the `packs` table where `serve` stores every pack it starts with; an event whose pack is not stored
//! there (a history written by `aduan seed` before any `serve`) or no longer loads replays on the active
//! pack (the database's, else `--policy-dir`), as `sweep` and `seed` act with. Not the active pack for
//! every event: a case's state was decided by the pack of its events and is never re-decided when the
//! active pack changes (docs/deadlines.md#recompute, ARCHITECTURE.md invariant 5), so a workflow that
//! renames a state or moves an action's `to` would otherwise call every older case altered
//! (docs/cli.md#audit-verify).
//!
//! Output: one line `ALTERED {case_id} ({tracking_id}): {reason}` per broken case, then one JSON
//! summary line `{"cases": N, "events": M, "altered": K}`, all on stdout; exit 0 when nothing was
//! altered, 1 otherwise (and 1 with one `error: …` line on stderr when the database, or the active pack
//! an event needs, cannot be read).
//! The command never writes to the database.

use crate::cmd::sweep::{active_pack, stored_pack_files};
use crate::Config;
use aduan_core::chain;
use aduan_core::pack::Pack;
use aduan_core::replay::replay;
use aduan_core::time::Timestamp;
use aduan_core::workflow::Workflow;
use aduan_service::store::{CaseRow, EventRow, Store, StoreOptions};
use aduan_service::wire::EventMessage;
use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Cases read per page when walking the whole store.
const PAGE: i64 = 500;
/// Reads of a case whose head moves while it is being read (a live `serve` appending) before its
/// history is judged as it stands.
const READ_ATTEMPTS: usize = 3;

/// Arguments of `audit verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// Verify only this case (id or tracking id).
    #[arg(long = "case")]
    pub case: Option<String>,
}

/// What a run saw: the JSON summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Summary {
    cases: u64,
    events: u64,
    altered: u64,
}

/// `aduan audit verify`: walks every case's hash chain (or only `--case`'s); exit 1 naming any case
/// whose history was altered.
pub fn verify(args: VerifyArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if let Some(path) = missing_sqlite_file(&config.database_url) {
        // Connecting would create an empty database there; say what is wrong instead.
        bail!("no database at {} (set --database-url or ADUAN_DATABASE_URL)", path.display());
    }
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let store = Store::connect(&config.database_url, StoreOptions::default())
            .await
            .context("connecting to the database")?;
        let mut workflows = Workflows { config, by_pack: HashMap::new(), active: None };
        let result = walk(&store, &mut workflows, args.case.as_deref()).await;
        store.close().await;
        let summary = result?;
        emit(&format!(
            "{{\"cases\": {}, \"events\": {}, \"altered\": {}}}",
            summary.cases, summary.events, summary.altered
        ))?;
        Ok(if summary.altered == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}

/// Verifies one case (by id or tracking id) or every case, printing an `ALTERED` line per broken one.
async fn walk(store: &Store, workflows: &mut Workflows<'_>, only: Option<&str>) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    if let Some(key) = only {
        let row = match store.case_by_id(key).await.context("reading the case")? {
            Some(row) => Some(row),
            None => store.case_by_tracking_id(key).await.context("reading the case")?,
        };
        let Some(row) = row else { bail!("no case with id or tracking id `{key}`") };
        verify_case(store, workflows, &row.id, &mut summary).await?;
        return Ok(summary);
    }
    let mut after: Option<String> = None;
    loop {
        let ids = store.case_ids_after(after.as_deref(), PAGE).await.context("listing cases")?;
        for id in &ids {
            verify_case(store, workflows, id, &mut summary).await?;
        }
        if (ids.len() as i64) < PAGE {
            return Ok(summary);
        }
        after = ids.last().cloned();
    }
}

/// Reads and judges one case, counting it into `summary`. A case that vanished between the listing
/// and the read is skipped (nothing deletes cases, so it is only possible under a concurrent writer
/// outside the engine, and there is no history left to judge).
async fn verify_case(
    store: &Store,
    workflows: &mut Workflows<'_>,
    id: &str,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let Some((row, events)) = read_case(store, id).await? else { return Ok(()) };
    summary.cases += 1;
    summary.events += events.len() as u64;
    for e in &events {
        workflows.load(store, &e.pack).await?;
    }
    if let Some(reason) = check_case(&row, &events, &|pack| workflows.get(pack)) {
        summary.altered += 1;
        emit(&format!("ALTERED {} ({}): {reason}", row.id, row.tracking_id))?;
    }
    Ok(())
}

/// A case row and its events read consistently: the row is read before the events, and read again
/// when the last event is not its head, because a running `serve` may append between the two reads
/// (it moves the head and appends in one transaction). After [`READ_ATTEMPTS`] the last pair stands.
async fn read_case(store: &Store, id: &str) -> anyhow::Result<Option<(CaseRow, Vec<EventRow>)>> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(row) = store.case_by_id(id).await.with_context(|| format!("reading case {id}"))? else {
            return Ok(None);
        };
        let events = store.events(id).await.with_context(|| format!("reading the events of case {id}"))?;
        let last = events.last().map_or(0, |e| e.seq);
        if last == row.head_seq || attempt >= READ_ATTEMPTS {
            return Ok(Some((row, events)));
        }
    }
}

/// The workflow that replays each event: its pack's, else the active pack's (see the module comment).
struct Workflows<'c> {
    config: &'c Config,
    /// Each pack hash seen, with its workflow when the pack is stored and loads.
    by_pack: HashMap<String, Option<Workflow>>,
    /// The active pack's, read the first time an event needs it.
    active: Option<Workflow>,
}

impl Workflows<'_> {
    /// Makes [`Workflows::get`] answer for `hash`, reading the pack (or the active one) at most once.
    async fn load(&mut self, store: &Store, hash: &str) -> anyhow::Result<()> {
        if !self.by_pack.contains_key(hash) {
            let files = stored_pack_files(store, hash).await.with_context(|| format!("reading pack {hash}"))?;
            let workflow = files.and_then(|f| Pack::from_files(&f).ok()).map(|p| p.workflow);
            self.by_pack.insert(hash.to_owned(), workflow);
        }
        if self.by_pack[hash].is_none() && self.active.is_none() {
            let pack = active_pack(store, self.config).await.context("loading the active pack")?;
            self.active = Some(pack.workflow.clone());
        }
        Ok(())
    }

    /// The workflow for `hash`, once [`Workflows::load`]ed.
    fn get(&self, hash: &str) -> &Workflow {
        match (self.by_pack.get(hash), &self.active) {
            (Some(Some(w)), _) | (_, Some(w)) => w,
            _ => unreachable!("Workflows::load ran for pack {hash}"),
        }
    }
}

/// Why a case's stored history does not hold, or `None` when it does. `workflow_of` gives the workflow
/// that replays an event decided by a pack (its hash).
fn check_case<'w>(row: &CaseRow, events: &[EventRow], workflow_of: &dyn Fn(&str) -> &'w Workflow) -> Option<String> {
    let links = events.iter().map(|e| (e.seq, e.prev_hash.as_str(), e.payload.as_str(), e.hash.as_str()));
    if let Err(e) = chain::verify(links, row.head_seq, &row.head_hash) {
        return Some(e.to_string());
    }
    let parsed: Result<Vec<EventMessage>, String> = events
        .iter()
        .map(|e| {
            serde_json::from_str(&e.payload).map_err(|err| format!("event {}: payload is not an event ({err})", e.seq))
        })
        .collect();
    let msgs = match parsed {
        Ok(msgs) => msgs,
        Err(why) => return Some(why),
    };
    let columns = events
        .iter()
        .zip(&msgs)
        .find_map(|(e, m)| check_columns(row, e, m).map(|why| format!("event {}: {why}", e.seq)));
    columns.or_else(|| check_replay(row, events, &msgs, workflow_of))
}

/// Why the case row disagrees with what its events (`msgs`, their parsed payloads) replay to, or `None`.
/// Runs after the columns were found to agree with the payloads, so each `pack` is the row's.
fn check_replay<'w>(
    row: &CaseRow,
    events: &[EventRow],
    msgs: &[EventMessage],
    workflow_of: &dyn Fn(&str) -> &'w Workflow,
) -> Option<String> {
    let replayed = events.iter().zip(msgs).map(|(e, m)| (m.as_replayed(e.seq), workflow_of(&m.pack)));
    let replayed = match replay(replayed) {
        Ok(r) => r,
        Err(e) => return Some(e.to_string()),
    };
    let agency = |a: Option<&str>| a.unwrap_or("(none)").to_owned();
    let fields = [
        ("status", row.status.clone(), replayed.status),
        ("agency", agency(row.agency.as_deref()), agency(replayed.agency.as_deref())),
        ("escalation_level", row.escalation_level.to_string(), replayed.escalation_level.to_string()),
    ];
    fields
        .into_iter()
        .find(|(_, stored, replayed)| stored != replayed)
        .map(|(field, stored, replayed)| format!("the case row says {field} {stored}, its events say {replayed}"))
}

/// Why an event's columns (or its case's tracking id) disagree with its hashed payload `msg`, or `None`.
fn check_columns(row: &CaseRow, e: &EventRow, msg: &EventMessage) -> Option<String> {
    let text = |v: Option<&str>| v.map_or_else(|| "null".to_owned(), |s| format!("{s:?}"));
    // The column keeps milliseconds. Events written before every edge made a millisecond
    // `Timestamp` (submissions and worker sweeps before issue 8) may carry more precision in the payload.
    let millis = |t: DateTime<Utc>| Timestamp::new(t).utc().to_rfc3339_opts(SecondsFormat::Millis, true);
    let columns = [
        ("id", text(Some(&e.id)), text(Some(&msg.event_id))),
        ("complaint_id", text(Some(&e.complaint_id)), text(msg.complaint_id.as_deref())),
        ("event_type", text(Some(&e.event_type)), text(Some(&msg.event_type))),
        ("at", millis(e.at), millis(msg.at)),
        ("actor", text(Some(&e.actor)), text(Some(&msg.actor))),
        ("agency", text(e.agency.as_deref()), text(msg.agency.as_deref())),
        (
            "escalation_level",
            e.escalation_level.to_string(),
            msg.escalation_level.map_or_else(|| "null".to_owned(), |l| l.to_string()),
        ),
        ("pack", text(Some(&e.pack)), text(Some(&msg.pack))),
    ];
    if let Some((column, stored, hashed)) = columns.into_iter().find(|(_, stored, hashed)| stored != hashed) {
        return Some(format!("column {column} is {stored}, the hashed payload says {hashed}"));
    }
    if e.complaint_id != row.id {
        return Some(format!("it belongs to case {:?}, not this one", e.complaint_id));
    }
    let hashed = text(msg.tracking_id.as_deref());
    (text(Some(&row.tracking_id)) != hashed)
        .then(|| format!("the case's tracking_id is {:?}, the hashed payload says {hashed}", row.tracking_id))
}

/// Writes one line on stdout (an error, not a panic, when stdout is closed).
fn emit(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush()).context("writing to stdout")
}

/// The file a `sqlite:` URL names when it does not exist (connecting would create it), else `None`.
pub(crate) fn missing_sqlite_file(url: &str) -> Option<PathBuf> {
    let (scheme, rest) = url.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("sqlite") {
        return None;
    }
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    // Empty and in-memory URLs are the store's to reject; percent-encoded paths are left to it too.
    if path.is_empty() || path.starts_with(':') || path.contains('%') {
        return None;
    }
    let path = PathBuf::from(path);
    (!path.exists()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_core::chain::event_hash;
    use chrono::TimeZone;

    fn case_with(n: i64) -> (CaseRow, Vec<EventRow>) {
        let at = Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).unwrap();
        let mut events = Vec::new();
        let mut prev = String::new();
        for seq in 1..=n {
            let msg = EventMessage {
                event_id: format!("e{seq}"),
                complaint_id: Some("c1".into()),
                tracking_id: Some("ABCDE-FGHJK".into()),
                event_type: match seq {
                    1 => "submitted".into(),
                    2 => "assigned".into(),
                    _ => "deadline_warning".into(),
                },
                at,
                agency: (seq > 1).then(|| "35.78/dinas-pu".to_owned()),
                escalation_level: Some(0),
                actor: "system".into(),
                pack: "p1".into(),
                data: serde_json::json!({}),
            };
            let payload = serde_json::to_string(&msg).unwrap();
            let hash = event_hash(&prev, &payload);
            events.push(EventRow {
                id: msg.event_id.clone(),
                complaint_id: "c1".into(),
                seq,
                event_type: msg.event_type.clone(),
                at,
                actor: msg.actor.clone(),
                agency: msg.agency.clone(),
                escalation_level: 0,
                pack: msg.pack.clone(),
                payload,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        let row = CaseRow {
            id: "c1".into(),
            tracking_id: "ABCDE-FGHJK".into(),
            kind: "pengaduan".into(),
            channel: "web".into(),
            category: None,
            region: None,
            privacy: "public".into(),
            status: "assigned".into(),
            agency: Some("35.78/dinas-pu".into()),
            escalation_level: 0,
            flags: "[]".into(),
            title: "t".into(),
            body: "b".into(),
            reporter: None,
            state: "{}".into(),
            created_at: at,
            updated_at: at,
            pack: "p1".into(),
            head_seq: n,
            head_hash: prev,
            first_assigned_at: None,
            first_followup_at: None,
            first_followup_agency: None,
            location_lat: None,
            location_long: None,
            location_address: None,
            media_url: None,
            source_system: None,
            source_ref: None,
            source_url: None,
        };
        (row, events)
    }

    /// The national workflow (policies/lapor).
    fn national() -> Workflow {
        let dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from)
            .join("policies/lapor");
        aduan_service::packs::load_pack(&dir).expect("the national pack loads").workflow
    }

    fn check_case(row: &CaseRow, events: &[EventRow]) -> Option<String> {
        let w = national();
        super::check_case(row, events, &|_| &w)
    }

    #[test]
    fn an_intact_case_passes() {
        let (row, events) = case_with(3);
        assert_eq!(check_case(&row, &events), None);
    }

    #[test]
    fn an_edited_payload_breaks_the_chain() {
        let (row, mut events) = case_with(3);
        events[1].payload = events[1].payload.replace("assigned", "closed");
        assert_eq!(check_case(&row, &events).as_deref(), Some("event 2: hash mismatch (history altered)"));
    }

    #[test]
    fn a_deleted_last_event_breaks_the_head() {
        let (row, mut events) = case_with(3);
        events.pop();
        let why = check_case(&row, &events).unwrap();
        assert!(why.starts_with("head mismatch"), "{why}");
    }

    #[test]
    fn an_edited_column_is_caught_though_the_chain_holds() {
        let (row, events) = case_with(3);
        type Edit = fn(&mut EventRow);
        let edits: [(&str, Edit); 7] = [
            ("column event_type", |e| e.event_type = "closed".into()),
            ("column id", |e| e.id = "other".into()),
            ("column actor", |e| e.actor = "admin:x".into()),
            ("column agency", |e| e.agency = None),
            ("column escalation_level", |e| e.escalation_level = 2),
            ("column pack", |e| e.pack = "p2".into()),
            ("column at", |e| e.at += chrono::Duration::seconds(1)),
        ];
        for (what, edit) in edits {
            let mut events = events.clone();
            edit(&mut events[1]);
            let why = check_case(&row, &events).unwrap_or_default();
            assert!(why.starts_with(&format!("event 2: {what} is ")), "{what}: {why}");
        }
        let mut row = row;
        row.tracking_id = "ZZZZZ-ZZZZZ".into();
        let why = check_case(&row, &events).unwrap_or_default();
        assert!(why.contains("tracking_id"), "{why}");
    }

    /// Rewrites the chain's hashes and the head after payload edits (a forger with write access).
    fn rehash(row: &mut CaseRow, events: &mut [EventRow]) {
        let mut prev = String::new();
        for e in events.iter_mut() {
            e.prev_hash = prev.clone();
            e.hash = event_hash(&prev, &e.payload);
            prev = e.hash.clone();
        }
        row.head_hash = prev;
    }

    #[test]
    fn sub_millisecond_payload_times_match_the_column() {
        let (mut row, mut events) = case_with(2);
        for e in events.iter_mut() {
            let mut msg: EventMessage = serde_json::from_str(&e.payload).unwrap();
            msg.at += chrono::Duration::nanoseconds(456_789);
            e.payload = serde_json::to_string(&msg).unwrap();
        }
        rehash(&mut row, &mut events);
        assert!(events[0].payload.contains(".000456789Z"), "{}", events[0].payload);
        assert_eq!(check_case(&row, &events), None);
        // A whole millisecond apart is a different time.
        let mut msg: EventMessage = serde_json::from_str(&events[1].payload).unwrap();
        msg.at += chrono::Duration::milliseconds(1);
        events[1].payload = serde_json::to_string(&msg).unwrap();
        rehash(&mut row, &mut events);
        let why = check_case(&row, &events).unwrap_or_default();
        assert!(why.starts_with("event 2: column at is "), "{why}");
    }

    #[test]
    fn an_edited_case_row_is_caught_by_the_replay() {
        let (row, events) = case_with(3);
        type Edit = fn(&mut CaseRow);
        let edits: [(&str, Edit); 4] = [
            ("the case row says status closed, its events say assigned", |r| r.status = "closed".into()),
            ("the case row says agency 35.78, its events say 35.78/dinas-pu", |r| r.agency = Some("35.78".into())),
            ("the case row says agency (none), its events say 35.78/dinas-pu", |r| r.agency = None),
            ("the case row says escalation_level 2, its events say 0", |r| r.escalation_level = 2),
        ];
        for (want, edit) in edits {
            let mut row = row.clone();
            edit(&mut row);
            assert_eq!(check_case(&row, &events).as_deref(), Some(want));
        }
    }

    #[test]
    fn a_rehashed_history_the_workflow_cannot_take_is_named() {
        let (mut row, mut events) = case_with(3);
        let mut msg: EventMessage = serde_json::from_str(&events[1].payload).unwrap();
        msg.event_type = "resolved".into();
        events[1].payload = serde_json::to_string(&msg).unwrap();
        events[1].event_type = msg.event_type;
        rehash(&mut row, &mut events);
        assert_eq!(
            check_case(&row, &events).as_deref(),
            Some("event 2 (resolved) cannot be replayed: `resolve` is not allowed while the case is submitted")
        );
    }

    #[test]
    fn an_unparseable_payload_is_reported_even_when_rehashed() {
        let (mut row, mut events) = case_with(2);
        events[0].payload = "{}".into();
        rehash(&mut row, &mut events);
        let why = check_case(&row, &events).unwrap_or_default();
        assert!(why.starts_with("event 1: payload is not an event"), "{why}");
    }

    #[test]
    fn a_missing_sqlite_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let missing = dir.join("nope.db");
        assert_eq!(missing_sqlite_file(&format!("sqlite://{}", missing.display())), Some(missing.clone()));
        assert_eq!(missing_sqlite_file(&format!("sqlite:{}?mode=rwc", missing.display())), Some(missing));
        let present = dir.join("yes.db");
        std::fs::write(&present, b"").unwrap();
        assert_eq!(missing_sqlite_file(&format!("sqlite://{}", present.display())), None);
        assert_eq!(missing_sqlite_file("postgres://u@h/db"), None);
        assert_eq!(missing_sqlite_file("sqlite::memory:"), None);
    }
}
