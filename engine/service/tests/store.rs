//! The store's conformance suite: every test in [`conformance!`] runs against SQLite (a temp file) and
//! PostgreSQL (a fresh database from `aduan_testkit::pg`), as `sqlite::NAME` and `postgres::NAME`.
//! Backend-specific tests follow. Time is always an argument: nothing here sleeps or reads the clock to
//! wait for an effect.

use std::time::{Duration, Instant};

use aduan_service::store::{
    Backend, CaseFilter, CaseOrder, CaseRow, ColumnInfo, CommandRecord, DueTimer, EventRow, PublishRow, ReceivedScope,
    StatsRow, StatsScope, Store, StoreError, StoreOptions, TimerRow,
};
use chrono::{DateTime, Utc};

/// Generates `sqlite::$name` and `postgres::$name` for each `async fn $name(store: Store)`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let url = format!("sqlite://{}", dir.path().join("aduan.db").display());
                    let store = super::open(&url).await;
                    assert_eq!(store.backend(), super::Backend::Sqlite);
                    super::$name(store.clone()).await;
                    store.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = aduan_testkit::pg::TestDatabase::create().await;
                    let store = super::open(db.url()).await;
                    assert_eq!(store.backend(), super::Backend::Postgres);
                    super::$name(store.clone()).await;
                    store.close().await;
                    db.drop_now().await;
                }
            )*
        }
    };
}

conformance!(
    migrate_twice_is_a_noop,
    check_writable_succeeds,
    insert_and_read_case,
    duplicate_case_conflicts,
    update_case_is_optimistic,
    append_event_chain,
    events_ordered_by_seq,
    replace_timers,
    list_cases_newest_first_with_cursor,
    list_cases_agency_subtree,
    list_cases_soonest_due_first,
    list_cases_status_and_overdue,
    browse_cases_filters_newest_first,
    outbox_order_mark_sent_backlog,
    idempotency_records,
    holders_and_stats_scope,
    leases,
    packs_store_and_active,
    publishes_newest_first_with_cursor,
    case_ids_after_pages_by_id,
    received_cases_by_date_and_region,
    rollback_discards_writes,
    claim_due_claims_due_unclaimed_timers,
    claim_due_limit_takes_earliest_first,
    release_claims_frees_only_the_owners,
    replace_timers_clears_claims,
    lock_case_reads_in_tx,
    rungs_fire_once,
    bulk_insert_round_trips,
    due_queries_use_the_index,
    concurrent_claims_are_disjoint,
    digest_due_between_is_open_below_and_closed_above,
    digest_rows_are_unique_per_agency_and_local_date,
    recompute_walk_and_progress,
    schema_lists_the_tables,
);

async fn open(url: &str) -> Store {
    let store = Store::connect(url, StoreOptions::default()).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// An instant at `ms` epoch milliseconds (the store keeps millisecond precision).
fn t(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("instant")
}

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn case(id: &str, tracking_id: &str, agency: Option<&str>, created_ms: i64) -> CaseRow {
    CaseRow {
        id: id.to_owned(),
        tracking_id: tracking_id.to_owned(),
        kind: "pengaduan".to_owned(),
        channel: "web".to_owned(),
        category: Some("infrastruktur".to_owned()),
        region: Some("35.78".to_owned()),
        privacy: "public".to_owned(),
        status: if agency.is_some() { "assigned" } else { "submitted" }.to_owned(),
        agency: agency.map(str::to_owned),
        escalation_level: 0,
        flags: "[]".to_owned(),
        title: "Jalan rusak".to_owned(),
        body: "Jalan di depan pasar berlubang — ½ lajur tertutup.".to_owned(),
        reporter: Some(r#"{"name":"Siti","contact":"siti@example.org"}"#.to_owned()),
        state: "{}".to_owned(),
        created_at: t(created_ms),
        updated_at: t(created_ms),
        pack: "sha256:pack1".to_owned(),
        head_seq: 1,
        head_hash: format!("h-{id}-1"),
        first_assigned_at: agency.map(|_| t(created_ms + 1_000)),
        first_followup_at: None,
        first_followup_agency: None,
        location_lat: None,
        location_long: None,
        location_address: None,
        media_url: None,
        source_system: None,
        source_ref: None,
        source_url: None,
    }
}

fn event(complaint_id: &str, seq: i64) -> EventRow {
    EventRow {
        id: format!("ev-{complaint_id}-{seq}"),
        complaint_id: complaint_id.to_owned(),
        seq,
        event_type: if seq == 1 { "submitted" } else { "assigned" }.to_owned(),
        at: t(T0 + seq * 1_000),
        actor: "system".to_owned(),
        agency: Some("35.78/dinas-pu".to_owned()),
        escalation_level: 0,
        pack: "sha256:pack1".to_owned(),
        payload: format!(r#"{{"seq":{seq},"note":"exact bytes ✓"}}"#),
        prev_hash: if seq == 1 { String::new() } else { format!("h-{complaint_id}-{}", seq - 1) },
        hash: format!("h-{complaint_id}-{seq}"),
    }
}

fn timer(complaint_id: &str, clock: &str, due_ms: Option<i64>) -> TimerRow {
    TimerRow {
        complaint_id: complaint_id.to_owned(),
        clock: clock.to_owned(),
        generation: 1,
        budget_kind: "days".to_owned(),
        budget: 5,
        warn_permille: 800,
        calendar_ref: "region:35.78".to_owned(),
        started_at: t(T0),
        suspensions: r#"[{"from":"2026-01-02","to":"2026-01-03"}]"#.to_owned(),
        status: if due_ms.is_some() { "running" } else { "paused" }.to_owned(),
        due_at: due_ms.map(t),
        warn_at: due_ms.map(|d| t(d - 10_000)),
        next_action_at: due_ms.map(|d| t(d - 10_000)),
        sla_source: "national:sla.yaml:12".to_owned(),
    }
}

/// Inserts cases in one committed transaction.
async fn insert_cases(store: &Store, rows: &[CaseRow]) {
    let mut tx = store.begin().await.expect("begin");
    for r in rows {
        tx.insert_case(r).await.expect("insert case");
    }
    tx.commit().await.expect("commit");
}

fn ids(rows: &[CaseRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

fn filter(limit: i64) -> CaseFilter {
    CaseFilter { limit, ..CaseFilter::default() }
}

// ---------------------------------------------------------------------------------------------------
// Conformance tests (both backends)
// ---------------------------------------------------------------------------------------------------

async fn migrate_twice_is_a_noop(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    assert!(store.case_by_id("c1").await.expect("read").is_some(), "migrating again kept the data");
}

async fn check_writable_succeeds(store: Store) {
    store.check_writable().await.expect("writable");
    store.check_writable().await.expect("writable twice");
    // The probe write was rolled back: no lease exists, so anyone can take any lease.
    assert!(store.try_lease("aduan.readyz", "someone", t(T0), Duration::from_secs(1)).await.expect("lease"));
}

async fn insert_and_read_case(store: Store) {
    let mut row = case("c1", "AAAAA-00001", Some("35.78/dinas-pu"), T0);
    row.first_followup_at = Some(t(T0 + 5_000));
    row.first_followup_agency = Some("35.78/dinas-pu".to_owned());
    row.escalation_level = 2;
    // A location and a photo round-trip exactly (floating point on both backends).
    row.location_lat = Some(-7.257_472_1);
    row.location_long = Some(112.752_088_3);
    row.location_address = Some("Jl. Genteng Kali ½, RT 03/RW 05".to_owned());
    row.media_url = Some("https://example.org/foto/jalan.jpg?w=800&h=600".to_owned());
    let bare =
        CaseRow { category: None, region: None, agency: None, reporter: None, ..case("c2", "AAAAA-00002", None, T0) };
    insert_cases(&store, &[row.clone(), bare.clone()]).await;

    assert_eq!(store.case_by_id("c1").await.expect("by id"), Some(row.clone()));
    assert_eq!(store.case_by_tracking_id("AAAAA-00001").await.expect("by tracking id"), Some(row.clone()));
    assert_eq!(store.case_by_id("c2").await.expect("by id"), Some(bare.clone()));
    assert_eq!(store.case_by_id("nope").await.expect("missing"), None);
    assert_eq!(store.case_by_tracking_id("ZZZZZ-99999").await.expect("missing"), None);

    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.case_by_id("c1").await.expect("tx by id"), Some(row.clone()));
    assert_eq!(tx.case_by_tracking_id("AAAAA-00002").await.expect("tx by tracking id"), Some(bare));
    assert_eq!(tx.case_by_id("nope").await.expect("tx missing"), None);
    tx.rollback().await.expect("rollback");
}

/// The public listing: received in a closed range, of some categories, states and region, newest first.
async fn browse_cases_filters_newest_first(store: Store) {
    use aduan_service::store::BrowseFilter;
    let mut a = case("a", "AAAAA-0000A", None, T0);
    a.region = Some("35".to_owned());
    let b = case("b", "AAAAA-0000B", Some("35.78/dinas-pu"), T0 + 1_000);
    let mut c = case("c", "AAAAA-0000C", None, T0 + 2_000);
    (c.region, c.category) = (Some("51.71".to_owned()), Some("kesehatan".to_owned()));
    let mut d = case("d", "AAAAA-0000D", None, T0 + 3_000);
    d.region = Some("35.780".to_owned()); // a LIKE `35.78%` would take it: regions match by segment
    insert_cases(&store, &[a, b, c, d]).await;
    let all =
        BrowseFilter { from: t(T0), to: t(T0 + 3_000), categories: None, statuses: None, region: None, limit: 10 };
    let ids = |rows: Vec<CaseRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let got = |f: BrowseFilter| {
        let store = store.clone();
        async move { ids(store.browse_cases(&f).await.expect("browse")) }
    };
    assert_eq!(got(all.clone()).await, ["d", "c", "b", "a"], "both ends are in the range");
    assert_eq!(got(BrowseFilter { from: t(T0 + 1), to: t(T0 + 2_999), ..all.clone() }).await, ["c", "b"]);
    assert_eq!(got(BrowseFilter { limit: 2, ..all.clone() }).await, ["d", "c"]);
    assert_eq!(got(BrowseFilter { limit: 0, ..all.clone() }).await, Vec::<String>::new());
    let kesehatan = Some(vec!["kesehatan".to_owned()]);
    assert_eq!(got(BrowseFilter { categories: kesehatan, ..all.clone() }).await, ["c"]);
    assert_eq!(got(BrowseFilter { categories: Some(vec![]), ..all.clone() }).await, Vec::<String>::new());
    let assigned = Some(vec!["assigned".to_owned(), "closed".to_owned()]);
    assert_eq!(got(BrowseFilter { statuses: assigned, ..all.clone() }).await, ["b"]);
    assert_eq!(got(BrowseFilter { region: Some("35".to_owned()), ..all.clone() }).await, ["d", "b", "a"]);
    assert_eq!(got(BrowseFilter { region: Some("35.78".to_owned()), ..all.clone() }).await, ["b"]);
    assert_eq!(got(BrowseFilter { region: Some("3_".to_owned()), ..all }).await, Vec::<String>::new(), "literal");
}

async fn duplicate_case_conflicts(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;
    let mut tx = store.begin().await.expect("begin");
    let same_id = tx.insert_case(&case("c1", "AAAAA-00009", None, T0)).await;
    assert!(matches!(same_id, Err(StoreError::Conflict(_))), "{same_id:?}");
    let same_tracking = tx.insert_case(&case("c9", "AAAAA-00001", None, T0)).await;
    assert!(matches!(same_tracking, Err(StoreError::Conflict(_))), "{same_tracking:?}");
    // A conflict leaves the transaction usable (on PostgreSQL too).
    tx.insert_case(&case("c2", "AAAAA-00002", None, T0)).await.expect("insert after conflicts");
    tx.commit().await.expect("commit");
    assert!(store.case_by_id("c2").await.expect("read").is_some());
    assert!(store.case_by_id("c9").await.expect("read").is_none());
}

async fn update_case_is_optimistic(store: Store) {
    let original = case("c1", "AAAAA-00001", None, T0);
    insert_cases(&store, std::slice::from_ref(&original)).await;

    let mut next = original.clone();
    next.status = "assigned".to_owned();
    next.agency = Some("35.78/dinas-pu".to_owned());
    next.head_seq = 2;
    next.head_hash = "h-c1-2".to_owned();
    next.updated_at = t(T0 + 60_000);
    next.first_assigned_at = Some(t(T0 + 60_000));
    let mut tx = store.begin().await.expect("begin");
    tx.update_case(&next, 1).await.expect("update at head 1");
    tx.commit().await.expect("commit");
    assert_eq!(store.case_by_id("c1").await.expect("read"), Some(next.clone()));

    // A second writer that read head 1 loses.
    let mut stale = original.clone();
    stale.status = "rejected".to_owned();
    stale.head_seq = 2;
    let mut tx = store.begin().await.expect("begin");
    let lost = tx.update_case(&stale, 1).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    let missing = tx.update_case(&case("nope", "ZZZZZ-00000", None, T0), 1).await;
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
    tx.commit().await.expect("commit");
    assert_eq!(store.case_by_id("c1").await.expect("read"), Some(next));
}

async fn append_event_chain(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;
    let mut tx = store.begin().await.expect("begin");
    for seq in 1..=3 {
        tx.append_event(&event("c1", seq)).await.expect("append");
    }
    tx.commit().await.expect("commit");

    // A second command that also read head 2 tries to write seq 3: the chain does not fork.
    let mut tx = store.begin().await.expect("begin");
    let fork = EventRow { id: "ev-other".to_owned(), hash: "h-other".to_owned(), ..event("c1", 3) };
    let err = tx.append_event(&fork).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    // The same event id twice is refused too.
    let again = EventRow { seq: 4, ..event("c1", 3) };
    let err = tx.append_event(&again).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    // The transaction is still usable: seq 4 goes in.
    tx.append_event(&event("c1", 4)).await.expect("append seq 4");
    tx.commit().await.expect("commit");

    let events = store.events("c1").await.expect("events");
    assert_eq!(events, (1..=4).map(|s| event("c1", s)).collect::<Vec<_>>());
    assert_eq!(events[1].prev_hash, events[0].hash);
    assert!(store.events("nope").await.expect("none").is_empty());
}

async fn events_ordered_by_seq(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0), case("c2", "AAAAA-00002", None, T0)]).await;
    let mut tx = store.begin().await.expect("begin");
    for (c, seq) in [("c1", 3), ("c2", 1), ("c1", 1), ("c1", 10), ("c1", 2), ("c2", 2)] {
        tx.append_event(&event(c, seq)).await.expect("append");
    }
    tx.commit().await.expect("commit");
    let seqs: Vec<i64> = store.events("c1").await.expect("events").iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 10]);
    let seqs: Vec<i64> = store.events("c2").await.expect("events").iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
}

async fn replace_timers(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0), case("c2", "AAAAA-00002", None, T0)]).await;
    let mut tx = store.begin().await.expect("begin");
    let first = vec![timer("c1", "verify", Some(T0 + 100_000)), timer("c1", "follow_up", None)];
    tx.replace_timers("c1", &first).await.expect("replace");
    tx.replace_timers("c2", &[timer("c2", "verify", Some(T0 + 50_000))]).await.expect("replace c2");
    // The transaction sees its own writes, ordered by clock.
    assert_eq!(tx.timers("c1").await.expect("tx timers"), vec![first[1].clone(), first[0].clone()]);
    tx.commit().await.expect("commit");
    assert_eq!(store.timers("c1").await.expect("timers"), vec![first[1].clone(), first[0].clone()]);
    assert_eq!(store.open_timer_count().await.expect("count"), 3);

    // Replacing drops clocks not in the new set and rewrites the rest.
    let mut restarted = timer("c1", "follow_up", Some(T0 + 900_000));
    restarted.generation = 2;
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers("c1", std::slice::from_ref(&restarted)).await.expect("replace");
    tx.commit().await.expect("commit");
    assert_eq!(store.timers("c1").await.expect("timers"), vec![restarted]);
    assert_eq!(store.timers("c2").await.expect("other case untouched").len(), 1);
    assert_eq!(store.open_timer_count().await.expect("count"), 2);

    // Clearing, and a row of another case refused.
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers("c1", &[]).await.expect("clear");
    let stray = tx.replace_timers("c1", &[timer("c2", "x", None)]).await;
    assert!(matches!(stray, Err(StoreError::Other(_))), "{stray:?}");
    tx.commit().await.expect("commit");
    assert!(store.timers("c1").await.expect("timers").is_empty());
    assert_eq!(store.open_timer_count().await.expect("count"), 1);
}

async fn list_cases_newest_first_with_cursor(store: Store) {
    // Two cases share a creation instant: id breaks the tie (descending).
    let rows = vec![
        case("c1", "AAAAA-00001", None, T0),
        case("c2", "AAAAA-00002", None, T0 + 1_000),
        case("c3b", "AAAAA-00003", None, T0 + 2_000),
        case("c3a", "AAAAA-00004", None, T0 + 2_000),
        case("c4", "AAAAA-00005", None, T0 + 3_000),
    ];
    insert_cases(&store, &rows).await;
    let all = store.list_cases(&filter(100)).await.expect("list");
    assert_eq!(ids(&all), ["c4", "c3b", "c3a", "c2", "c1"]);
    assert_eq!(all[0], rows[4]);

    let mut pages = Vec::new();
    let mut f = filter(2);
    loop {
        let page = store.list_cases(&f).await.expect("page");
        if page.is_empty() {
            break;
        }
        let last = page.last().expect("last");
        f.cursor = Some((last.created_at.timestamp_millis(), last.id.clone()));
        pages.push(ids(&page).into_iter().map(str::to_owned).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec!["c4", "c3b"], vec!["c3a", "c2"], vec!["c1"]]);

    // A cursor between the two tied cases continues with the second.
    let f = CaseFilter { cursor: Some((T0 + 2_000, "c3b".to_owned())), ..filter(10) };
    assert_eq!(ids(&store.list_cases(&f).await.expect("list")), ["c3a", "c2", "c1"]);
    assert!(store.list_cases(&filter(0)).await.expect("limit 0").is_empty());
}

async fn list_cases_agency_subtree(store: Store) {
    let rows = vec![
        case("a", "AAAAA-00001", Some("35"), T0),
        case("b", "AAAAA-00002", Some("35.78"), T0 + 1),
        case("c", "AAAAA-00003", Some("35.78/dinas-pu"), T0 + 2),
        case("d", "AAAAA-00004", Some("36"), T0 + 3),
        case("e", "AAAAA-00005", Some("351"), T0 + 4),
        case("f", "AAAAA-00006", Some("35.7"), T0 + 5),
        case("g", "AAAAA-00007", Some("35.78/DINAS-PU"), T0 + 6),
        case("h", "AAAAA-00008", None, T0 + 7),
        case("i", "AAAAA-00009", Some("kemenpanrb"), T0 + 8),
    ];
    insert_cases(&store, &rows).await;
    let by = |agency: &str| CaseFilter { agency: Some(agency.to_owned()), ..filter(100) };
    assert_eq!(ids(&store.list_cases(&by("35")).await.expect("35")), ["g", "f", "c", "b", "a"]);
    assert_eq!(ids(&store.list_cases(&by("35.78")).await.expect("35.78")), ["g", "c", "b"]);
    // LIKE is case-sensitive on both backends.
    assert_eq!(ids(&store.list_cases(&by("35.78/dinas-pu")).await.expect("unit")), ["c"]);
    assert_eq!(ids(&store.list_cases(&by("36")).await.expect("36")), ["d"]);
    // The national ministry sees everything, undispatched cases included.
    assert_eq!(store.list_cases(&by("kemenpanrb")).await.expect("all").len(), rows.len());
}

async fn list_cases_soonest_due_first(store: Store) {
    let rows = [
        case("late", "AAAAA-00001", Some("35.78"), T0),
        case("none", "AAAAA-00002", Some("35.78"), T0 + 1),
        case("soon", "AAAAA-00003", Some("35.78"), T0 + 2),
        case("paused", "AAAAA-00004", Some("35.78"), T0 + 3),
    ];
    insert_cases(&store, &rows).await;
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers("late", &[timer("late", "respond", Some(T0 + 50_000))]).await.expect("late");
    tx.replace_timers(
        "soon",
        &[timer("soon", "respond", Some(T0 + 9_000)), timer("soon", "complete", Some(T0 + 99_000))],
    )
    .await
    .expect("soon");
    // A paused clock's stale due_at does not put its case first.
    let mut paused = timer("paused", "respond", Some(T0 + 1_000));
    paused.status = "paused".to_owned();
    tx.replace_timers("paused", &[paused]).await.expect("paused");
    tx.commit().await.expect("commit");
    let queue = CaseFilter { order: CaseOrder::SoonestDue, ..filter(100) };
    // No running clock: last, newest first among them.
    assert_eq!(ids(&store.list_cases(&queue).await.expect("queue")), ["soon", "late", "paused", "none"]);
    let two = CaseFilter { order: CaseOrder::SoonestDue, ..filter(2) };
    assert_eq!(ids(&store.list_cases(&two).await.expect("page")), ["soon", "late"]);
}

async fn list_cases_status_and_overdue(store: Store) {
    let mut closed = case("c3", "AAAAA-00003", Some("35.78"), T0 + 2);
    closed.status = "closed".to_owned();
    insert_cases(
        &store,
        &[case("c1", "AAAAA-00001", Some("35.78"), T0), case("c2", "AAAAA-00002", None, T0 + 1), closed],
    )
    .await;
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers("c1", &[timer("c1", "follow_up", Some(T0 + 10_000)), timer("c1", "paused", None)])
        .await
        .expect("timers c1");
    tx.replace_timers("c2", &[timer("c2", "verify", Some(T0 + 20_000))]).await.expect("timers c2");
    // A paused clock with a stale due_at never makes a case overdue.
    let mut paused = timer("c3", "follow_up", Some(T0 + 5_000));
    paused.status = "paused".to_owned();
    tx.replace_timers("c3", &[paused]).await.expect("timers c3");
    tx.commit().await.expect("commit");

    let status = |s: &str| CaseFilter { status: Some(s.to_owned()), ..filter(100) };
    assert_eq!(ids(&store.list_cases(&status("assigned")).await.expect("assigned")), ["c1"]);
    assert_eq!(ids(&store.list_cases(&status("closed")).await.expect("closed")), ["c3"]);
    assert!(store.list_cases(&status("resolved")).await.expect("none").is_empty());

    let overdue = |ms: i64| CaseFilter { overdue_at: Some(t(ms)), ..filter(100) };
    assert!(store.list_cases(&overdue(T0 + 9_999)).await.expect("none yet").is_empty());
    assert_eq!(ids(&store.list_cases(&overdue(T0 + 10_000)).await.expect("due = at")), ["c1"]);
    assert_eq!(ids(&store.list_cases(&overdue(T0 + 30_000)).await.expect("both")), ["c2", "c1"]);

    let combined = CaseFilter {
        agency: Some("35".to_owned()),
        status: Some("assigned".to_owned()),
        overdue_at: Some(t(T0 + 30_000)),
        ..filter(100)
    };
    assert_eq!(ids(&store.list_cases(&combined).await.expect("combined")), ["c1"]);
}

async fn outbox_order_mark_sent_backlog(store: Store) {
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);
    let mut tx = store.begin().await.expect("begin");
    for i in 1..=5 {
        tx.insert_outbox(&format!("ev{i}"), "aduan.events.assigned", &format!(r#"{{"n":{i}}}"#), t(T0 + i))
            .await
            .expect("outbox");
    }
    let dup = tx.insert_outbox("ev3", "aduan.events.assigned", "{}", t(T0)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    tx.commit().await.expect("commit");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 5);

    let batch = store.outbox_batch(3).await.expect("batch");
    let events: Vec<&str> = batch.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(events, ["ev1", "ev2", "ev3"]);
    assert!(batch.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(batch[0].subject, "aduan.events.assigned");
    assert_eq!(batch[0].payload, r#"{"n":1}"#);
    assert_eq!(batch[0].created_at, t(T0 + 1));

    let sent: Vec<i64> = batch.iter().map(|r| r.id).collect();
    store.mark_sent(&sent, t(T0 + 100)).await.expect("mark");
    store.mark_sent(&[], t(T0 + 100)).await.expect("mark nothing");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 2);
    let rest: Vec<String> = store.outbox_batch(10).await.expect("rest").into_iter().map(|r| r.event_id).collect();
    assert_eq!(rest, ["ev4", "ev5"]);

    // Marking again, or ids that do not exist, is harmless.
    store.mark_sent(&[sent[0], 999_999], t(T0 + 200)).await.expect("mark again");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 2);

    // More ids than one statement takes.
    let mut tx = store.begin().await.expect("begin");
    for i in 0..1_200 {
        tx.insert_outbox(&format!("bulk{i}"), "aduan.events.x", "{}", t(T0)).await.expect("bulk");
    }
    tx.commit().await.expect("commit");
    let all: Vec<i64> = store.outbox_batch(10_000).await.expect("all").iter().map(|r| r.id).collect();
    assert_eq!(all.len(), 1_202);
    store.mark_sent(&all, t(T0 + 300)).await.expect("mark bulk");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);
    assert!(store.outbox_batch(10).await.expect("empty").is_empty());
}

async fn idempotency_records(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;
    let rec = CommandRecord {
        scope: "submit".to_owned(),
        key: "key-1".to_owned(),
        request_hash: "sha256:abc".to_owned(),
        status: 201,
        complaint_id: Some("c1".to_owned()),
        reporter_token_sealed: Some("sealed".to_owned()),
        created_at: t(T0),
    };
    let other_scope =
        CommandRecord { scope: "c1:verify".to_owned(), complaint_id: None, reporter_token_sealed: None, ..rec.clone() };
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.command("submit", "key-1").await.expect("get"), None);
    tx.insert_command(&rec).await.expect("insert");
    tx.insert_command(&other_scope).await.expect("same key, other scope");
    let dup = tx.insert_command(&CommandRecord { request_hash: "sha256:other".to_owned(), ..rec.clone() }).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(tx.command("submit", "key-1").await.expect("get"), Some(rec.clone()));
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.command("submit", "key-1").await.expect("get"), Some(rec));
    assert_eq!(tx.command("c1:verify", "key-1").await.expect("get"), Some(other_scope));
    assert_eq!(tx.command("submit", "key-2").await.expect("get"), None);
    tx.rollback().await.expect("rollback");
}

/// The national workflow's final states, as statistics take them.
fn finals() -> Vec<String> {
    vec!["closed".to_owned(), "archived".to_owned()]
}

async fn holders_and_stats_scope(store: Store) {
    // k1: held by 35.78/dinas-pu, escalated from it to 35.78, then to 35 (province).
    // k2: held by 35.79/x only. k3: never dispatched, filed in 35.78. k4: never dispatched, filed in 36.
    // k5: held by 36.01 only, created outside the window. k6: closed and past due, held by 35.78.
    let mut k1 = case("k1", "AAAAA-00001", Some("35"), T0);
    k1.status = "assigned".to_owned();
    k1.escalation_level = 2;
    k1.first_followup_at = Some(t(T0 + 5_000));
    k1.first_followup_agency = Some("35.78".to_owned());
    let k2 = case("k2", "AAAAA-00002", Some("35.79/x"), T0 + 1);
    let mut k3 = case("k3", "AAAAA-00003", None, T0 + 2);
    k3.region = Some("35.78.01".to_owned());
    let mut k4 = case("k4", "AAAAA-00004", None, T0 + 3);
    k4.region = Some("36".to_owned());
    let k5 = case("k5", "AAAAA-00005", Some("36.01"), T0 + 100_000);
    let mut k6 = case("k6", "AAAAA-00006", Some("35.78"), T0 + 4);
    k6.status = "closed".to_owned();
    insert_cases(&store, &[k1.clone(), k2, k3, k4, k5, k6]).await;

    let mut tx = store.begin().await.expect("begin");
    tx.add_holder("k1", "35.78/dinas-pu").await.expect("holder");
    tx.mark_escalated_from("k1", "35.78/dinas-pu").await.expect("escalated");
    tx.add_holder("k1", "35.78").await.expect("holder");
    tx.mark_escalated_from("k1", "35.78").await.expect("escalated");
    tx.add_holder("k1", "35").await.expect("holder");
    // add_holder again keeps the escalation mark.
    tx.add_holder("k1", "35.78/dinas-pu").await.expect("holder again");
    tx.add_holder("k2", "35.79/x").await.expect("holder");
    tx.add_holder("k5", "36.01").await.expect("holder");
    tx.add_holder("k6", "35.78").await.expect("holder");
    tx.replace_timers("k1", &[timer("k1", "follow_up", Some(T0 + 10_000))]).await.expect("timer");
    tx.replace_timers("k6", &[timer("k6", "follow_up", Some(T0 + 10_000))]).await.expect("timer");
    tx.commit().await.expect("commit");

    let window = (Some(t(T0)), Some(t(T0 + 100_000)));
    let now = t(T0 + 20_000);
    let rows_for = |scope: Option<StatsScope>| {
        let store = store.clone();
        async move { store.stats_rows(scope.as_ref(), &finals(), window.0, window.1, now).await.expect("stats") }
    };
    let scope = |agency: &str, region: Option<&str>| StatsScope {
        agency_patterns: aduan_service::store::subtree_patterns(agency).expect("patterns"),
        region: region.map(str::to_owned),
    };

    // Everything in the window: k1, k2, k3, k4, k6 (k5 starts at the window's end, excluded).
    let all = rows_for(None).await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        all[0],
        StatsRow {
            status: "assigned".to_owned(),
            escalated_in_scope: true,
            overdue: true,
            first_assigned_at: k1.first_assigned_at,
            first_followup_at: Some(t(T0 + 5_000)),
            first_followup_agency: Some("35.78".to_owned()),
        }
    );
    let flags: Vec<(bool, bool)> = all.iter().map(|r| (r.escalated_in_scope, r.overdue)).collect();
    // k6 is past due but closed: not overdue.
    assert_eq!(flags, [(true, true), (false, false), (false, false), (false, false), (false, false)]);

    // The city 35.78: k1 (held by its unit and itself, escalated away), k6; k3 is undispatched in 35.78.01.
    let city = rows_for(Some(scope("35.78", Some("35.78")))).await;
    let statuses: Vec<&str> = city.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["assigned", "submitted", "closed"]);
    assert!(city[0].escalated_in_scope && city[0].overdue);
    assert!(!city[2].escalated_in_scope && !city[2].overdue);

    // The province 35 held k1 but never escalated it away; 35.79/x is in the province too.
    let province = rows_for(Some(scope("35", Some("35")))).await;
    assert_eq!(province.len(), 4, "{province:?}"); // k1, k2, k3, k6 each once
    assert!(province[0].escalated_in_scope, "a unit of the province escalated k1");
    let only_province = StatsScope { agency_patterns: vec!["35".to_owned()], region: None };
    let exact = rows_for(Some(only_province)).await;
    assert_eq!(exact.len(), 1);
    assert!(!exact[0].escalated_in_scope, "35 itself was not escalated from");

    // The unit only: k1, escalated from it.
    let unit = rows_for(Some(scope("35.78/dinas-pu", None))).await;
    assert_eq!(unit.len(), 1);
    assert!(unit[0].escalated_in_scope);

    // Region 36: k4 only (k5 is outside the window); region matching is by prefix with a dot.
    let other = rows_for(Some(scope("36", Some("36")))).await;
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].status, "submitted");
    let region_3 = StatsScope { agency_patterns: vec![], region: Some("3".to_owned()) };
    assert!(rows_for(Some(region_3)).await.is_empty());

    // The final states are the caller's: with none, k6 counts as overdue too.
    let no_finals = store.stats_rows(None, &[], window.0, window.1, now).await.expect("stats");
    assert!(no_finals[4].overdue, "{no_finals:?}");

    // Open-ended windows.
    let all_time = store.stats_rows(None, &finals(), None, None, now).await.expect("stats");
    assert_eq!(all_time.len(), 6);
    let from_only = store.stats_rows(None, &finals(), Some(t(T0 + 4)), None, now).await.expect("stats");
    assert_eq!(from_only.len(), 2);
}

async fn leases(store: Store) {
    let ttl = Duration::from_secs(10);
    assert!(store.try_lease("relay", "a", t(T0), ttl).await.expect("a takes"));
    assert!(!store.try_lease("relay", "b", t(T0 + 5_000), ttl).await.expect("b refused"));
    // The holder extends its lease.
    assert!(store.try_lease("relay", "a", t(T0 + 5_000), ttl).await.expect("a extends"));
    assert!(!store.try_lease("relay", "b", t(T0 + 14_999), ttl).await.expect("b refused before expiry"));
    assert!(store.try_lease("relay", "b", t(T0 + 15_000), ttl).await.expect("b takes at expiry"));
    assert!(!store.try_lease("relay", "a", t(T0 + 16_000), ttl).await.expect("a refused now"));
    // Other names are independent.
    assert!(store.try_lease("sweeper", "a", t(T0 + 16_000), ttl).await.expect("other lease"));

    // Release by a non-holder does nothing; by the holder frees it at once.
    store.release_lease("relay", "a").await.expect("release by non-holder");
    assert!(!store.try_lease("relay", "c", t(T0 + 17_000), ttl).await.expect("still b's"));
    store.release_lease("relay", "b").await.expect("release");
    assert!(store.try_lease("relay", "c", t(T0 + 17_000), ttl).await.expect("c takes"));
    store.release_lease("nothing", "x").await.expect("release of an unknown lease");
}

async fn packs_store_and_active(store: Store) {
    assert_eq!(store.active_pack().await.expect("none active"), None);
    assert_eq!(store.pack_files("sha256:p1").await.expect("missing"), None);
    let files = vec![
        ("pack.yaml".to_owned(), b"name: lapor\n".to_vec()),
        ("rules/route.rhai".to_owned(), "// ½ ✓\nfn route() {}\n".as_bytes().to_vec()),
        ("bin".to_owned(), (0..=255u8).collect()),
        ("empty".to_owned(), Vec::new()),
    ];
    store.store_pack("sha256:p1", &files, t(T0)).await.expect("store");
    store.store_pack("sha256:p1", &files, t(T0 + 1)).await.expect("store again is a no-op");
    store.store_pack("sha256:p2", &files[..1], t(T0)).await.expect("store p2");
    assert_eq!(store.pack_files("sha256:p1").await.expect("files"), Some(files.clone()));
    assert_eq!(store.pack_files("sha256:p2").await.expect("files"), Some(files[..1].to_vec()));

    assert_eq!(store.active_pack().await.expect("none active yet"), None);
    store.set_active_pack("sha256:p1").await.expect("activate p1");
    assert_eq!(store.active_pack().await.expect("active"), Some("sha256:p1".to_owned()));
    store.set_active_pack("sha256:p1").await.expect("activate p1 again");
    store.set_active_pack("sha256:p2").await.expect("activate p2");
    assert_eq!(store.active_pack().await.expect("active"), Some("sha256:p2".to_owned()));
    let unknown = store.set_active_pack("sha256:nope").await;
    assert!(matches!(unknown, Err(StoreError::Other(_))), "{unknown:?}");
    assert_eq!(store.active_pack().await.expect("still p2"), Some("sha256:p2".to_owned()));
}

/// Publish records come back whole, newest first (by id, a UUID v7), a page after a cursor.
async fn publishes_newest_first_with_cursor(store: Store) {
    assert_eq!(store.publishes(None, 10).await.expect("none"), Vec::new());
    let row = |id: &str, outcome: &str, revision: Option<i64>| PublishRow {
        id: id.to_owned(),
        at: t(T0),
        actor: "semarang".to_owned(),
        role: "policy_author".to_owned(),
        agency: "33.74".to_owned(),
        scope: "33.74".to_owned(),
        outcome: outcome.to_owned(),
        hash_before: "h0".to_owned(),
        candidate: "h1".to_owned(),
        hash_after: "h1".to_owned(),
        files: r#"[{"path":"sla/x.yaml","change":"modified","scope":"region 33.74"}]"#.to_owned(),
        detail: (outcome != "published").then(|| "why ½".to_owned()),
        bucket_revision: revision,
    };
    let rows = [row("p1", "published", Some(7)), row("p2", "out_of_scope", None), row("p3", "invalid", None)];
    for r in &rows {
        store.insert_publish(r).await.expect("insert");
    }
    assert_eq!(store.publishes(None, 10).await.expect("all"), vec![rows[2].clone(), rows[1].clone(), rows[0].clone()]);
    assert_eq!(store.publishes(None, 2).await.expect("page"), vec![rows[2].clone(), rows[1].clone()]);
    assert_eq!(store.publishes(Some("p2"), 2).await.expect("next"), vec![rows[0].clone()]);
    let again = store.insert_publish(&rows[0]).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn case_ids_after_pages_by_id(store: Store) {
    let rows: Vec<CaseRow> = ["c5", "c1", "c3", "c2", "c4"]
        .iter()
        .enumerate()
        .map(|(i, id)| case(id, &format!("AAAAA-0000{i}"), None, T0))
        .collect();
    insert_cases(&store, &rows).await;
    assert_eq!(store.case_ids_after(None, 2).await.expect("first"), ["c1", "c2"]);
    assert_eq!(store.case_ids_after(Some("c2"), 2).await.expect("next"), ["c3", "c4"]);
    assert_eq!(store.case_ids_after(Some("c4"), 2).await.expect("last"), ["c5"]);
    assert!(store.case_ids_after(Some("c5"), 2).await.expect("end").is_empty());
}

/// `policy replay`'s walk: cases received since an instant, in a region or below it, paged by id, with
/// a page's timers and events read by its bounds.
async fn received_cases_by_date_and_region(store: Store) {
    let at = |id: &str, region: Option<&str>, created: i64| {
        let mut c = case(id, &format!("AAAAA-{:05}", created - T0 + 10), None, created);
        c.region = region.map(str::to_owned);
        c
    };
    insert_cases(
        &store,
        &[
            at("c1", Some("33.74"), T0 - 1),
            at("c2", Some("35.78"), T0),
            at("c3", Some("33.74"), T0 + 5),
            at("c4", Some("33.74.01"), T0 + 6),
            at("c5", Some("33"), T0 + 7),
            at("c6", None, T0 + 8),
            at("c7", Some("34.71"), T0 + 9),
        ],
    )
    .await;
    let scope = |region: Option<&str>| ReceivedScope { since: t(T0), region: region.map(str::to_owned) };
    let all = store.received_after(&scope(None), None, 10).await.expect("all");
    assert_eq!(ids(&all), ["c2", "c3", "c4", "c5", "c6", "c7"], "received before `since` left out");
    assert_eq!(store.count_received(&scope(None)).await.expect("count"), 6);
    let page = store.received_after(&scope(Some("33")), None, 2).await.expect("first page");
    assert_eq!(ids(&page), ["c3", "c4"]);
    let page = store.received_after(&scope(Some("33")), Some("c4"), 2).await.expect("next page");
    assert_eq!(ids(&page), ["c5"]);
    assert_eq!(store.count_received(&scope(Some("33"))).await.expect("count"), 3);
    let city = store.received_after(&scope(Some("33.74")), None, 10).await.expect("city");
    assert_eq!(ids(&city), ["c3", "c4"], "the region and below it, not its province");
    assert_eq!(store.count_received(&scope(Some("36"))).await.expect("count"), 0);

    let mut tx = store.begin().await.expect("begin");
    for (id, seqs) in [("c3", 2), ("c2", 1)] {
        for seq in 1..=seqs {
            tx.append_event(&event(id, seq)).await.expect("event");
        }
    }
    tx.replace_timers("c3", &[timer("c3", "respond", Some(T0)), timer("c3", "complete", None)]).await.expect("timers");
    tx.commit().await.expect("commit");
    // A page's timers and events by its bounds, of the scope's cases only.
    let events = |scope: ReceivedScope, after: Option<&'static str>, last: &'static str| {
        let store = store.clone();
        async move {
            let rows = store.received_events(&scope, after, last).await.expect("events");
            rows.into_iter().map(|e| (e.complaint_id, e.seq)).collect::<Vec<_>>()
        }
    };
    let pairs = |v: &[(&str, i64)]| v.iter().map(|(c, s)| (c.to_string(), *s)).collect::<Vec<_>>();
    assert_eq!(events(scope(None), None, "c3").await, pairs(&[("c2", 1), ("c3", 1), ("c3", 2)]));
    assert_eq!(events(scope(None), Some("c2"), "c9").await, pairs(&[("c3", 1), ("c3", 2)]), "after the lower bound");
    assert_eq!(events(scope(Some("35")), None, "c9").await, pairs(&[("c2", 1)]), "the scope's cases only");
    let timers: Vec<(String, String)> = store
        .received_timers(&scope(Some("33")), None, "c9")
        .await
        .expect("timers")
        .into_iter()
        .map(|t| (t.complaint_id, t.clock))
        .collect();
    assert_eq!(timers, [("c3".into(), "complete".into()), ("c3".into(), "respond".into())]);
}

async fn rollback_discards_writes(store: Store) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_case(&case("c1", "AAAAA-00001", None, T0)).await.expect("insert");
    tx.append_event(&event("c1", 1)).await.expect("event");
    tx.insert_outbox("ev-c1-1", "aduan.events.submitted", "{}", t(T0)).await.expect("outbox");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.case_by_id("c1").await.expect("read"), None);
    assert!(store.events("c1").await.expect("events").is_empty());
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);

    // Dropping a transaction without committing rolls it back too.
    {
        let mut tx = store.begin().await.expect("begin");
        tx.insert_case(&case("c2", "AAAAA-00002", None, T0)).await.expect("insert");
    }
    let mut tx = store.begin().await.expect("begin after drop");
    assert_eq!(tx.case_by_id("c2").await.expect("read"), None);
    tx.commit().await.expect("commit");
    assert_eq!(store.case_by_id("c2").await.expect("read"), None);
}

// ---------------------------------------------------------------------------------------------------
// Sweeps: claims, rungs, bulk load (both backends)
// ---------------------------------------------------------------------------------------------------

/// A timer whose next action is at `next_ms` exactly (None: paused).
fn timer_next(complaint_id: &str, clock: &str, next_ms: Option<i64>) -> TimerRow {
    timer(complaint_id, clock, next_ms.map(|n| n + 10_000))
}

/// Cases c1…c4 with timers: c1 has two due timers, c2 one due later, c3 a paused clock, c4 one not due
/// before `T0 + 1_000_000`.
async fn claim_fixture(store: &Store) {
    let cases: Vec<CaseRow> =
        (1..=4).map(|i| case(&format!("c{i}"), &format!("AAAAA-0000{i}"), Some("35.78"), T0)).collect();
    insert_cases(store, &cases).await;
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers(
        "c1",
        &[timer_next("c1", "verify", Some(T0 + 1_000)), timer_next("c1", "warn", Some(T0 + 2_000))],
    )
    .await
    .expect("timers c1");
    tx.replace_timers("c2", &[timer_next("c2", "verify", Some(T0 + 5_000))]).await.expect("timers c2");
    tx.replace_timers("c3", &[timer_next("c3", "verify", None)]).await.expect("timers c3");
    tx.replace_timers("c4", &[timer_next("c4", "verify", Some(T0 + 1_000_000))]).await.expect("timers c4");
    tx.commit().await.expect("commit");
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn claim_due_claims_due_unclaimed_timers(store: Store) {
    claim_fixture(&store).await;
    let ttl = Duration::from_secs(30);
    let now = T0 + 10_000;
    assert_eq!(store.due_count(t(T0 + 999)).await.expect("none due"), 0);
    assert_eq!(store.due_count(t(T0 + 1_000)).await.expect("due at next_action_at"), 1);
    assert_eq!(store.due_count(t(now)).await.expect("due"), 3);
    assert!(store.claim_due("a", t(T0 + 999), ttl, 10).await.expect("nothing due yet").is_empty());

    // Three due timers, two cases: c1's two timers give one id.
    let claimed = store.claim_due("a", t(now), ttl, 10).await.expect("claim");
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert_eq!(sorted(claimed), ["c1", "c2"]);
    // Claiming does not make a timer less due.
    assert_eq!(store.due_count(t(now)).await.expect("still due"), 3);

    // Another owner gets none of a's live claims, up to the last millisecond of the lease.
    assert!(store.claim_due("b", t(now), ttl, 10).await.expect("b at once").is_empty());
    assert!(store.claim_due("b", t(now + 29_999), ttl, 10).await.expect("b before expiry").is_empty());
    // a claims its own again, which extends its claims from that instant.
    assert_eq!(sorted(store.claim_due("a", t(now + 20_000), ttl, 10).await.expect("a again")), ["c1", "c2"]);
    assert!(store.claim_due("b", t(now + 30_000), ttl, 10).await.expect("b, extended").is_empty());
    // Once a's claims lapse (claim_until <= now), b takes them over; then a is the one refused.
    let later = now + 50_000;
    assert_eq!(sorted(store.claim_due("b", t(later), ttl, 10).await.expect("b takes over")), ["c1", "c2"]);
    assert!(store.claim_due("a", t(later + 1), ttl, 10).await.expect("a refused").is_empty());
    // Much later c4 is due too, and b's claims have lapsed.
    let all = store.claim_due("a", t(T0 + 1_000_000), ttl, 10).await.expect("all");
    assert_eq!(sorted(all), ["c1", "c2", "c4"]);
}

async fn claim_due_limit_takes_earliest_first(store: Store) {
    claim_fixture(&store).await;
    let ttl = Duration::from_secs(30);
    let now = t(T0 + 10_000);
    assert!(store.claim_due("a", now, ttl, 0).await.expect("limit 0").is_empty());
    assert!(store.claim_due("a", now, ttl, -1).await.expect("negative limit").is_empty());
    // The earliest timer is c1's verify.
    assert_eq!(store.claim_due("a", now, ttl, 1).await.expect("one"), ["c1"]);
    // b gets what a left: c1's second timer (due at T0+2000) before c2's (T0+5000). Claims are per
    // timer, so c1 shows up again, for b.
    assert_eq!(store.claim_due("b", now, ttl, 1).await.expect("next"), ["c1"]);
    assert_eq!(sorted(store.claim_due("b", now, ttl, 5).await.expect("rest")), ["c1", "c2"]);
    assert!(store.claim_due("c", now, ttl, 5).await.expect("all claimed").is_empty());
}

async fn release_claims_frees_only_the_owners(store: Store) {
    claim_fixture(&store).await;
    let ttl = Duration::from_secs(30);
    let now = t(T0 + 10_000);
    assert_eq!(sorted(store.claim_due("a", now, ttl, 10).await.expect("claim")), ["c1", "c2"]);
    // Releasing someone else's claim, or nothing, changes nothing.
    store.release_claims("b", &["c1".to_owned(), "c2".to_owned()]).await.expect("release by non-owner");
    store.release_claims("a", &[]).await.expect("release nothing");
    store.release_claims("a", &["nope".to_owned()]).await.expect("release an unknown case");
    assert!(store.claim_due("b", now, ttl, 10).await.expect("still a's").is_empty());
    // a releases c1 only: b gets it at once, c2 stays a's.
    store.release_claims("a", &["c1".to_owned()]).await.expect("release c1");
    assert_eq!(store.claim_due("b", now, ttl, 10).await.expect("b gets c1"), ["c1"]);
    store.release_claims("a", &["c1".to_owned(), "c2".to_owned()]).await.expect("release both");
    // c1 is b's now (a's release did not touch it); c2 is free.
    assert_eq!(store.claim_due("c", now, ttl, 10).await.expect("c gets c2"), ["c2"]);
    // Many ids at once (more than one chunk).
    let many: Vec<String> = (0..1_200).map(|i| format!("x{i}")).chain(["c1".to_owned()]).collect();
    store.release_claims("b", &many).await.expect("release many");
    assert_eq!(store.claim_due("d", now, ttl, 10).await.expect("d gets c1"), ["c1"]);
}

async fn replace_timers_clears_claims(store: Store) {
    claim_fixture(&store).await;
    let ttl = Duration::from_secs(30);
    let now = t(T0 + 10_000);
    assert_eq!(sorted(store.claim_due("a", now, ttl, 10).await.expect("claim")), ["c1", "c2"]);
    // a's action on c1 rewrites its timers (unchanged here): the rewritten rows are unclaimed.
    let mut tx = store.begin().await.expect("begin");
    let timers = tx.timers("c1").await.expect("timers");
    tx.replace_timers("c1", &timers).await.expect("rewrite");
    tx.commit().await.expect("commit");
    assert_eq!(store.timers("c1").await.expect("read"), timers, "the rewrite kept every column");
    assert_eq!(store.claim_due("b", now, ttl, 10).await.expect("b gets c1"), ["c1"]);
    // A bulk-loaded timer is unclaimed too.
    let (cases, events, timers, holders) = seed_rows("z", 1, 1);
    store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk");
    let later = store.claim_due("b", t(T0 + 1_000_000_000), ttl, 10).await.expect("b");
    assert_eq!(sorted(later), ["c1", "c2", "c4", "z0000000"]);
}

async fn lock_case_reads_in_tx(store: Store) {
    let row = case("c1", "AAAAA-00001", Some("35.78"), T0);
    insert_cases(&store, std::slice::from_ref(&row)).await;
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.lock_case("c1").await.expect("lock"), Some(row.clone()));
    assert_eq!(tx.lock_case("c1").await.expect("lock again in the same tx"), Some(row.clone()));
    assert_eq!(tx.lock_case("nope").await.expect("missing"), None);
    let mut next = row.clone();
    next.head_seq = 2;
    tx.update_case(&next, 1).await.expect("update the locked case");
    tx.commit().await.expect("commit");
    assert_eq!(store.case_by_id("c1").await.expect("read"), Some(next));
}

async fn rungs_fire_once(store: Store) {
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0), case("c2", "AAAAA-00002", None, T0)]).await;
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.fired_rungs("c1").await.expect("none yet").is_empty());
    tx.insert_rung("c1", "verify", 1, "warn", t(T0 + 1)).await.expect("warn");
    let again = tx.insert_rung("c1", "verify", 1, "warn", t(T0 + 2)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // The transaction is still usable: other rungs, generations and clocks go in.
    tx.insert_rung("c1", "verify", 1, "escalate:1", t(T0 + 3)).await.expect("escalate");
    tx.insert_rung("c1", "verify", 2, "warn", t(T0 + 4)).await.expect("next generation");
    tx.insert_rung("c1", "follow_up", 1, "warn", t(T0 + 5)).await.expect("other clock");
    tx.insert_rung("c2", "verify", 1, "warn", t(T0 + 6)).await.expect("other case");
    let fired = vec![
        ("follow_up".to_owned(), 1, "warn".to_owned()),
        ("verify".to_owned(), 1, "escalate:1".to_owned()),
        ("verify".to_owned(), 1, "warn".to_owned()),
        ("verify".to_owned(), 2, "warn".to_owned()),
    ];
    assert_eq!(tx.fired_rungs("c1").await.expect("fired in tx"), fired);
    tx.commit().await.expect("commit");

    // A later action (another worker, after a crash) finds the rung taken.
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.fired_rungs("c1").await.expect("fired"), fired);
    assert_eq!(tx.fired_rungs("c2").await.expect("fired c2").len(), 1);
    let late = tx.insert_rung("c1", "verify", 1, "warn", t(T0 + 9)).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    // A rolled-back action leaves no rung behind.
    tx.insert_rung("c2", "verify", 1, "close", t(T0 + 9)).await.expect("close");
    tx.rollback().await.expect("rollback");
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.fired_rungs("c2").await.expect("fired c2"), [("verify".to_owned(), 1, "warn".to_owned())]);
    assert!(tx.fired_rungs("nope").await.expect("unknown case").is_empty());
    tx.commit().await.expect("commit");
}

async fn digest_due_between_is_open_below_and_closed_above(store: Store) {
    let day = 86_400_000;
    let held = |id: &str, agency: &str| case(id, &format!("AAAAA-0000{}", &id[1..]), Some(agency), T0);
    insert_cases(
        &store,
        &[held("c1", "35.78/dinas-pu"), held("c2", "73.71/dinas-pu"), case("c3", "AAAAA-00003", None, T0)],
    )
    .await;
    let mut tx = store.begin().await.expect("begin");
    // c1: due at the very end of the window (in), at its start (out: that deadline ended the day before),
    // and paused (no due_at). c2: in the window, twice. c3: in the window but held by no agency.
    tx.replace_timers("c1", &[timer("c1", "respond", Some(T0 + day)), timer("c1", "complete", Some(T0))])
        .await
        .expect("c1");
    tx.replace_timers("c2", &[timer("c2", "respond", Some(T0 + 5)), timer("c2", "complete", Some(T0 + 5))])
        .await
        .expect("c2");
    tx.replace_timers("c3", &[timer("c3", "verify", Some(T0 + 5))]).await.expect("c3");
    tx.commit().await.expect("commit");
    let due = store.due_between(t(T0), t(T0 + day)).await.expect("due");
    let due_timer = |id: &str, agency: &str, clock: &str, due_ms: i64| DueTimer {
        complaint_id: id.to_owned(),
        tracking_id: format!("AAAAA-0000{}", &id[1..]),
        agency: agency.to_owned(),
        status: "assigned".to_owned(),
        clock: clock.to_owned(),
        due_at: t(due_ms),
    };
    assert_eq!(
        due,
        vec![
            due_timer("c2", "73.71/dinas-pu", "complete", T0 + 5),
            due_timer("c2", "73.71/dinas-pu", "respond", T0 + 5),
            due_timer("c1", "35.78/dinas-pu", "respond", T0 + day),
        ]
    );
    assert!(store.due_between(t(T0 + day), t(T0 + 2 * day)).await.expect("next day").is_empty());
}

async fn digest_rows_are_unique_per_agency_and_local_date(store: Store) {
    assert_eq!(store.digest_sent("35.78/dinas-pu", "2026-12-08").await.expect("none yet"), None);
    let mut tx = store.begin().await.expect("begin");
    tx.insert_digest("35.78/dinas-pu", "2026-12-08", "ev-1", t(T0)).await.expect("first");
    let again = tx.insert_digest("35.78/dinas-pu", "2026-12-08", "ev-2", t(T0 + 1)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // The transaction is still usable: other dates and agencies go in, with their outbox rows.
    tx.insert_digest("35.78/dinas-pu", "2026-12-09", "ev-3", t(T0 + 2)).await.expect("next day");
    tx.insert_digest("73.71/dinas-pu", "2026-12-08", "ev-4", t(T0 + 3)).await.expect("other agency");
    tx.insert_outbox("ev-1", "aduan.evt.35.78.dinas-pu.digest", "{}", t(T0)).await.expect("outbox");
    tx.commit().await.expect("commit");
    assert_eq!(store.digest_sent("35.78/dinas-pu", "2026-12-08").await.expect("sent"), Some("ev-1".to_owned()));
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 1);
    // A rolled-back digest leaves neither row behind.
    let mut tx = store.begin().await.expect("begin");
    tx.insert_digest("35.78/dinas-pu", "2026-12-10", "ev-5", t(T0 + 4)).await.expect("insert");
    tx.insert_outbox("ev-5", "aduan.evt.35.78.dinas-pu.digest", "{}", t(T0 + 4)).await.expect("outbox");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.digest_sent("35.78/dinas-pu", "2026-12-10").await.expect("not sent"), None);
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 1);
}

/// `n` seeded cases `{prefix}{i:07}`, each with one event, a `verify` timer and a `finish` timer, and
/// one holder. Every `due_every`-th case's verify timer is due from `T0 + i` ms; every other timer's
/// next action is far in the future (T0 + 10^9 ms and later), or paused for odd cases' finish timers.
#[allow(clippy::type_complexity)]
fn seed_rows(
    prefix: &str,
    n: usize,
    due_every: usize,
) -> (Vec<CaseRow>, Vec<EventRow>, Vec<TimerRow>, Vec<(String, String)>) {
    let mut cases = Vec::with_capacity(n);
    let mut events = Vec::with_capacity(n);
    let mut timers = Vec::with_capacity(2 * n);
    let mut holders = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("{prefix}{i:07}");
        let agency = if i % 3 == 0 { None } else { Some("35.78/dinas-pu") };
        let mut c = case(&id, &format!("{}-{i:09}", prefix.to_uppercase()), agency, T0 + i as i64);
        if i % 5 == 0 {
            c.category = None;
            c.reporter = None;
        }
        cases.push(c);
        events.push(event(&id, 1));
        let far = T0 + 1_000_000_000 + i as i64;
        let verify_next = if i % due_every == 0 { T0 + i as i64 } else { far };
        timers.push(timer_next(&id, "verify", Some(verify_next)));
        timers.push(timer_next(&id, "finish", if i % 2 == 0 { Some(far + 1) } else { None }));
        holders.push((id, "35.78/dinas-pu".to_owned()));
    }
    (cases, events, timers, holders)
}

async fn bulk_insert_round_trips(store: Store) {
    const N: usize = 10_000;
    let (mut cases, mut events, timers, holders) = seed_rows("b", N, 100);
    // Text that a bulk format must escape, and a value that looks like its NULL marker.
    cases[1].body = "tab\there\nnew line\r\n back\\slash \\N ½ end\\".to_owned();
    cases[1].reporter = Some("\\N".to_owned());
    cases[1].first_followup_agency = Some(String::new());
    events[1].payload = "{\"note\":\"line\\nbreak\\ttab\"}\n".to_owned();
    let started = Instant::now();
    store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk insert");
    let took = started.elapsed();
    let rows = cases.len() + events.len() + timers.len() + holders.len();
    println!("bulk_insert {N} cases ({rows} rows) in {took:?}: {:.0} rows/s", rows as f64 / took.as_secs_f64());
    store.bulk_insert(&[], &[], &[], &[]).await.expect("nothing to insert");

    assert_eq!(store.case_ids_after(None, 2 * N as i64).await.expect("ids").len(), N);
    assert_eq!(store.open_timer_count().await.expect("timers"), 2 * N as i64);
    assert_eq!(store.outbox_backlog().await.expect("no outbox rows"), 0, "seeded history is not published");
    for i in [0, 1, 4_321, N - 1] {
        let id = &cases[i].id;
        assert_eq!(store.case_by_id(id).await.expect("case").as_ref(), Some(&cases[i]));
        assert_eq!(
            store.case_by_tracking_id(&cases[i].tracking_id).await.expect("by tracking id").as_ref(),
            Some(&cases[i])
        );
        assert_eq!(store.events(id).await.expect("events"), [events[i].clone()]);
        let mut expected = vec![timers[2 * i].clone(), timers[2 * i + 1].clone()];
        expected.sort_by(|a, b| a.clock.cmp(&b.clock));
        assert_eq!(store.timers(id).await.expect("timers"), expected);
    }
    // Holders: every case counts for the unit's statistics.
    let scope = StatsScope { agency_patterns: vec!["35.78/dinas-pu".to_owned()], region: None };
    assert_eq!(store.stats_rows(Some(&scope), &finals(), None, None, t(T0)).await.expect("stats").len(), N);
    // Every 100th case is due by T0 + N.
    assert_eq!(store.due_count(t(T0 + N as i64)).await.expect("due"), (N / 100) as i64);

    // One existing key fails the whole call and writes nothing.
    let (more, more_events, more_timers, more_holders) = seed_rows("m", 10, 1);
    let mut clash = more.clone();
    clash.push(cases[7].clone());
    let err = store.bulk_insert(&clash, &more_events, &more_timers, &more_holders).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    let err = store.bulk_insert(&more, &more_events, &more_timers, &holders[..1]).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.case_by_id(&more[0].id).await.expect("read"), None);
    assert_eq!(store.open_timer_count().await.expect("timers"), 2 * N as i64);
}

/// The claim and the due count run on `timers_next_action`, never a scan of `timers`, on a table big
/// enough (and analyzed) for the planner's choice to be its real one.
async fn due_queries_use_the_index(store: Store) {
    let (cases, events, timers, holders) = seed_rows("p", 10_000, 100);
    store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk insert");
    store.analyze().await.expect("analyze");
    for (what, now) in [("some due", T0 + 5_000), ("nothing due", T0 - 1)] {
        let plan = store.explain_claim(t(now)).await.expect("explain");
        println!("{:?} plan, {what}:\n{plan}\n", store.backend());
        assert!(plan.contains("timers_next_action"), "{what}: not on the index:\n{plan}");
        match store.backend() {
            Backend::Sqlite => assert!(!plan.contains("SCAN timers"), "{what}: scans timers:\n{plan}"),
            Backend::Postgres => assert!(!plan.contains("Seq Scan"), "{what}: sequential scan:\n{plan}"),
        }
        for part in ["-- claim_due", "-- due_count"] {
            let section = plan.split(part).nth(1).expect("section").split("-- ").next().expect("body");
            assert!(section.contains("timers_next_action"), "{what}: {part} not on the index:\n{plan}");
        }
    }
}

/// Three sweepers claim 3,000 due cases concurrently, 100 at a time, and act on each claimed case as
/// a sweep does (lock it, record the rung, rewrite its timers, which ends the claim and the dueness),
/// until nothing is left: each case goes to exactly one of them (no claim lapses within the test) and
/// every rung fires once. (A sweeper that did not act would get its own claims back on every call.)
async fn concurrent_claims_are_disjoint(store: Store) {
    const N: usize = 3_000;
    let (cases, events, timers, holders) = seed_rows("k", N, 1);
    store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk insert");
    let now = t(T0 + N as i64);
    assert_eq!(store.due_count(now).await.expect("due"), N as i64);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..3 {
        let store = store.clone();
        tasks.spawn(async move {
            let owner = format!("worker-{w}");
            let mut mine = Vec::new();
            for _ in 0..N {
                let got = store.claim_due(&owner, now, Duration::from_secs(30), 100).await?;
                if got.is_empty() {
                    return Ok::<_, StoreError>(mine);
                }
                assert!(got.len() <= 100);
                for id in &got {
                    let mut tx = store.begin().await?;
                    tx.lock_case(id).await?.expect("claimed case exists");
                    let mut timers = tx.timers(id).await?;
                    for t in &mut timers {
                        if t.next_action_at.is_some_and(|n| n <= now) {
                            tx.insert_rung(id, &t.clock, t.generation, "warn", now).await?;
                            t.next_action_at = None;
                        }
                    }
                    tx.replace_timers(id, &timers).await?;
                    tx.commit().await?;
                }
                mine.extend(got);
            }
            panic!("{owner} never ran out of due cases");
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let mine = done.expect("task").expect("claims");
        println!("{:?}: one sweeper claimed {} cases", store.backend(), mine.len());
        all.extend(mine);
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), claimed, "a case was claimed twice");
    assert_eq!(all.len(), N, "every due case was claimed");
    assert_eq!(store.due_count(now).await.expect("due"), 0);
    assert!(store.claim_due("late", now, Duration::from_secs(30), 100).await.expect("late").is_empty());
}

// ---------------------------------------------------------------------------------------------------
// Backend-specific tests
// ---------------------------------------------------------------------------------------------------

/// Two stores on one file (as two processes would be) and several tasks each do read-modify-write
/// transactions on the same case. `BEGIN IMMEDIATE` makes them queue: none fails with SQLITE_BUSY and
/// none loses an update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_transactions_serialize() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("aduan.db").display());
    let a = open(&url).await;
    let b = open(&url).await;
    insert_cases(&a, &[case("c1", "AAAAA-00001", None, T0)]).await;

    const TASKS_PER_STORE: usize = 3;
    const ROUNDS: usize = 4;
    let mut tasks = tokio::task::JoinSet::new();
    for store in [a.clone(), b.clone()] {
        for _ in 0..TASKS_PER_STORE {
            let store = store.clone();
            tasks.spawn(async move {
                for _ in 0..ROUNDS {
                    let mut tx = store.begin().await?;
                    let mut row = tx.case_by_id("c1").await?.expect("case");
                    let head = row.head_seq;
                    row.head_seq += 1;
                    tx.append_event(&event("c1", row.head_seq)).await?;
                    tx.update_case(&row, head).await?;
                    tx.commit().await?;
                }
                Ok::<(), StoreError>(())
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("transaction");
    }
    let total = (2 * TASKS_PER_STORE * ROUNDS) as i64;
    assert_eq!(b.case_by_id("c1").await.expect("read").expect("case").head_seq, 1 + total);
    assert_eq!(a.events("c1").await.expect("events").len() as i64, total);
    a.close().await;
    b.close().await;
}

/// The SQLite file and its missing parent directories are created.
#[tokio::test]
async fn sqlite_creates_file_and_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/deeper/aduan.db");
    let store = open(&format!("sqlite://{}", path.display())).await;
    assert!(path.exists());
    store.check_writable().await.expect("writable");
    store.close().await;

    // Reopening with options: synchronous=FULL and a one-connection read pool.
    let store = Store::connect(
        &format!("sqlite://{}", path.display()),
        StoreOptions { sqlite_synchronous_full: true, max_connections: Some(1), ..StoreOptions::default() },
    )
    .await
    .expect("reopen with options");
    store.migrate().await.expect("migrate");
    store.close().await;
}

/// A store opened read-only reads what is there and refuses every write, on `url`'s backend.
async fn read_only_reads_and_refuses_writes(url: &str) {
    let store = open(url).await;
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;
    store.close().await;
    let ro = Store::connect(url, StoreOptions { read_only: true, ..StoreOptions::default() }).await.expect("read-only");
    assert!(ro.case_by_id("c1").await.expect("reads").is_some());
    assert!(ro.check_writable().await.is_err(), "a read-only store takes no write");
    let mut tx = ro.begin().await.expect("a transaction opens");
    assert!(tx.insert_case(&case("c2", "AAAAA-00002", None, T0)).await.is_err(), "an insert fails");
    drop(tx);
    assert!(ro.store_pack("sha256:p", &[], t(T0)).await.is_err(), "so does the store's own write");
    assert_eq!(ro.case_ids_after(None, 10).await.expect("reads"), ["c1"]);
    ro.close().await;
}

/// Read-only SQLite: the file's bytes stay as they were, and a missing file is an error, not created.
#[tokio::test]
async fn sqlite_read_only_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("aduan.db");
    let url = format!("sqlite://{}", path.display());
    read_only_reads_and_refuses_writes(&url).await;
    let before = std::fs::read(&path).expect("the file");
    let ro = Store::connect(&url, StoreOptions { read_only: true, ..StoreOptions::default() }).await.expect("open");
    assert!(ro.case_by_id("c1").await.expect("reads").is_some());
    ro.close().await;
    assert_eq!(std::fs::read(&path).expect("the file"), before, "not a byte changed");
    let missing = dir.path().join("nested/none.db");
    let opts = StoreOptions { read_only: true, ..StoreOptions::default() };
    assert!(Store::connect(&format!("sqlite://{}", missing.display()), opts).await.is_err());
    assert!(!missing.exists() && !missing.parent().expect("dir").exists(), "nothing was created");
}

/// Read-only PostgreSQL: every transaction is read-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_only_writes_nothing() {
    let db = aduan_testkit::pg::TestDatabase::create().await;
    read_only_reads_and_refuses_writes(db.url()).await;
    db.drop_now().await;
}

#[tokio::test]
async fn sqlite_in_memory_is_refused() {
    for url in ["sqlite::memory:", "sqlite://:memory:", "sqlite://"] {
        let err = Store::connect(url, StoreOptions::default()).await.expect_err(url);
        assert!(matches!(err, StoreError::BadUrl(_)), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn unsupported_url_is_bad_url() {
    for (url, scheme) in [("mysql://root@localhost/aduan", "mysql"), ("aduan.db", ""), ("redis://x", "redis")] {
        let err = Store::connect(url, StoreOptions::default()).await.expect_err(url);
        match &err {
            StoreError::BadUrl(msg) => assert!(msg.contains(scheme), "{url}: {msg}"),
            other => panic!("{url}: {other:?}"),
        }
        assert!(!err.is_transient());
    }
}

#[tokio::test]
async fn postgres_nothing_listening_is_unavailable_quickly() {
    let started = Instant::now();
    let err =
        Store::connect("postgres://postgres@127.0.0.1:1/aduan", StoreOptions::default()).await.expect_err("port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    // postgresql:// is accepted as a scheme too.
    let err =
        Store::connect("postgresql://postgres@127.0.0.1:1/aduan", StoreOptions::default()).await.expect_err("port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// Two stores on one PostgreSQL database: a stale head loses with Conflict rather than forking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_writers_conflict_not_fork() {
    let db = aduan_testkit::pg::TestDatabase::create().await;
    let url = db.url().to_owned();
    let a = open(&url).await;
    let b = Store::connect(&url, StoreOptions { max_connections: Some(2), ..StoreOptions::default() })
        .await
        .expect("second store");
    b.migrate().await.expect("concurrent-safe migrate");
    insert_cases(&a, &[case("c1", "AAAAA-00001", None, T0)]).await;

    let mut ta = a.begin().await.expect("begin a");
    let mut tb = b.begin().await.expect("begin b");
    let mut ra = ta.case_by_id("c1").await.expect("read a").expect("case");
    let mut rb = tb.case_by_id("c1").await.expect("read b").expect("case");
    ra.head_seq = 2;
    rb.head_seq = 2;
    ta.append_event(&event("c1", 2)).await.expect("append a");
    ta.update_case(&ra, 1).await.expect("update a");
    ta.commit().await.expect("commit a");
    // b read head 1 too; its event slot is now taken and its head check fails.
    let forked = tb.append_event(&EventRow { id: "ev-b".to_owned(), ..event("c1", 2) }).await;
    assert!(matches!(forked, Err(StoreError::Conflict(_))), "{forked:?}");
    let stale = tb.update_case(&rb, 1).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    tb.rollback().await.expect("rollback b");
    assert_eq!(b.events("c1").await.expect("events").len(), 1);

    a.close().await;
    b.close().await;
    db.drop_now().await;
}

/// On PostgreSQL, `lock_case` waits for a transaction holding the case: a second read-modify-write
/// of the case reads after the first commits, so its optimistic update succeeds instead of conflicting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_case_waits_for_the_holder() {
    let db = aduan_testkit::pg::TestDatabase::create().await;
    let url = db.url().to_owned();
    let store = open(&url).await;
    insert_cases(&store, &[case("c1", "AAAAA-00001", None, T0)]).await;

    let bump = |store: Store| async move {
        let mut tx = store.begin().await?;
        let mut row = tx.lock_case("c1").await?.expect("case");
        let head = row.head_seq;
        row.head_seq += 1;
        tx.update_case(&row, head).await?;
        tx.commit().await
    };
    let mut first = store.begin().await.expect("begin");
    let mut row = first.lock_case("c1").await.expect("lock").expect("case");
    let second = tokio::spawn(bump(store.clone()));
    // Give the second transaction every chance to read the case before the first commits (it must not
    // be able to: were it to read head 1, its update would conflict below).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second lock did not wait");
    row.head_seq = 2;
    first.update_case(&row, 1).await.expect("update");
    first.commit().await.expect("commit");
    second.await.expect("task").expect("second read-modify-write");
    assert_eq!(store.case_by_id("c1").await.expect("read").expect("case").head_seq, 3);

    store.close().await;
    db.drop_now().await;
}

/// Measures `bulk_insert` and `claim_due` at scale (not a pass/fail timing; run with
/// `cargo test --profile ci -p aduan-service --test store -- --ignored --nocapture scale`):
/// 100,000 cases (+1 event, 2 timers, 1 holder each) in batches of 10,000, then 500,000 cases
/// (1,000,000 open timers, 10,000 due): a sweep's claims of every due timer and a claim with nothing due.
async fn scale(store: Store) {
    const BATCH: usize = 10_000;
    let mut rows_done = 0usize;
    let started = Instant::now();
    for b in 0..10 {
        let (cases, events, timers, holders) = seed_rows(&format!("s{b}_"), BATCH, 50);
        rows_done += cases.len() + events.len() + timers.len() + holders.len();
        store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk insert");
    }
    let took = started.elapsed();
    println!(
        "{:?}: bulk_insert 100,000 cases ({rows_done} rows) in {took:.2?}: {:.0} rows/s, {:.0} cases/s",
        store.backend(),
        rows_done as f64 / took.as_secs_f64(),
        100_000.0 / took.as_secs_f64()
    );
    let started = Instant::now();
    for b in 10..50 {
        let (cases, events, timers, holders) = seed_rows(&format!("s{b}_"), BATCH, 50);
        store.bulk_insert(&cases, &events, &timers, &holders).await.expect("bulk insert");
    }
    println!("{:?}: 400,000 more cases in {:.2?}", store.backend(), started.elapsed());
    let started = Instant::now();
    store.analyze().await.expect("analyze");
    println!("{:?}: analyze in {:.2?}", store.backend(), started.elapsed());
    assert_eq!(store.open_timer_count().await.expect("count"), 1_000_000);
    let now = t(T0 + BATCH as i64);
    assert_eq!(store.due_count(now).await.expect("due"), 10_000);
    println!("{}", store.explain_claim(now).await.expect("plan"));

    let nothing = t(T0 - 1);
    let mut best = Duration::MAX;
    for _ in 0..20 {
        let started = Instant::now();
        assert!(store.claim_due("w", nothing, Duration::from_secs(60), 1_000).await.expect("claim").is_empty());
        best = best.min(started.elapsed());
    }
    println!("{:?}: claim_due with nothing due: best of 20 {best:.2?}", store.backend());
    let started = Instant::now();
    let count = store.due_count(nothing).await.expect("due");
    println!("{:?}: due_count with nothing due ({count}) {:.2?}", store.backend(), started.elapsed());

    // Claims only (the sweep's actions are not the store's): a new owner per round stands in for the
    // action that would end each claim, so every round skips the claims before it.
    let started = Instant::now();
    let mut claimed = 0;
    for round in 0.. {
        let got = store.claim_due(&format!("w{round}"), now, Duration::from_secs(60), 1_000).await.expect("claim");
        if got.is_empty() {
            break;
        }
        claimed += got.len();
    }
    println!("{:?}: claimed {claimed} due cases, 1,000 at a time, in {:.2?}", store.backend(), started.elapsed());
    assert_eq!(claimed, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with --ignored --nocapture"]
async fn sqlite_scale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&format!("sqlite://{}", dir.path().join("aduan.db").display())).await;
    scale(store.clone()).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with --ignored --nocapture"]
async fn postgres_scale() {
    let db = aduan_testkit::pg::TestDatabase::create().await;
    let url = db.url().to_owned();
    let store = open(&url).await;
    scale(store.clone()).await;
    store.close().await;
    db.drop_now().await;
}

/// The recompute's walk (cases with open timers, in id order) and its stored progress: once per pack,
/// resumable from the last case done, superseded by a newer pack.
async fn recompute_walk_and_progress(store: Store) {
    let rows =
        [case("c1", "AAAAA-00001", None, T0), case("c2", "AAAAA-00002", None, T0), case("c3", "AAAAA-00003", None, T0)];
    insert_cases(&store, &rows).await;
    let mut tx = store.begin().await.expect("begin");
    tx.replace_timers("c1", &[timer("c1", "verify", Some(T0)), timer("c1", "respond", Some(T0))]).await.expect("c1");
    tx.replace_timers("c3", &[timer("c3", "verify", Some(T0))]).await.expect("c3");
    tx.commit().await.expect("commit");
    // Only cases with open clocks, each once, paged by id.
    assert_eq!(store.timer_case_ids_after(None, 10).await.expect("walk"), vec!["c1", "c3"]);
    assert_eq!(store.timer_case_ids_after(None, 1).await.expect("page"), vec!["c1"]);
    assert_eq!(store.timer_case_ids_after(Some("c1"), 10).await.expect("after"), vec!["c3"]);
    assert!(store.timer_case_ids_after(Some("c3"), 10).await.expect("end").is_empty());

    assert_eq!(store.pending_recompute("pack-a").await.expect("none"), None);
    store.start_recompute("pack-a", t(T0)).await.expect("start");
    assert_eq!(store.pending_recompute("pack-a").await.expect("fresh"), Some((None, 0)));
    store.advance_recompute("pack-a", Some("c1"), 1, None).await.expect("advance");
    // Starting again on the same pack keeps the progress (a restart resumes).
    store.start_recompute("pack-a", t(T0 + 1)).await.expect("again");
    assert_eq!(store.pending_recompute("pack-a").await.expect("kept"), Some((Some("c1".to_owned()), 1)));
    // A newer pack supersedes the unfinished one.
    store.start_recompute("pack-b", t(T0 + 2)).await.expect("newer");
    assert_eq!(store.pending_recompute("pack-a").await.expect("superseded"), None);
    assert_eq!(store.pending_recompute("pack-b").await.expect("b"), Some((None, 0)));
    store.advance_recompute("pack-b", Some("c3"), 2, Some(t(T0 + 3))).await.expect("finish");
    assert_eq!(store.pending_recompute("pack-b").await.expect("finished"), None);
}

/// The tables the migrations create, and nothing of sqlx's or SQLite's own.
async fn schema_lists_the_tables(store: Store) {
    let schema = store.schema().await.expect("schema");
    let tables: Vec<&str> = schema.keys().map(String::as_str).collect();
    assert_eq!(
        tables,
        [
            "api_tokens",
            "case_bands",
            "case_holders",
            "case_signatures",
            "complaints",
            "digests",
            "duplicate_candidates",
            "events",
            "leases",
            "outbox",
            "pack_publishes",
            "packs",
            "processed_commands",
            "recomputes",
            "sources",
            "timer_actions",
            "timers",
            "webhook_deliveries"
        ]
    );
    let timers: Vec<&str> = schema["timers"].iter().map(|c| c.name.as_str()).collect();
    assert_eq!(timers.len(), 16, "{timers:?}");
    assert_eq!(timers[14..], ["claim_owner", "claim_until"]);
    let id = &schema["outbox"][0];
    assert_eq!((id.name.as_str(), id.nullable), ("id", false), "a primary key is never null");
    let sent = schema["outbox"].iter().find(|c| c.name == "sent_at").expect("sent_at");
    assert!(sent.nullable);
}

/// Loosely, what a column holds: text, or a number (SQLite's INTEGER is PostgreSQL's INTEGER, BIGINT
/// or BOOLEAN).
fn loose(c: &ColumnInfo) -> (String, bool, &'static str) {
    let class = if c.declared_type == "text" { "text" } else { "number" };
    (c.name.clone(), c.nullable, class)
}

/// The SQLite and PostgreSQL migrations make the same tables, with the same columns (names,
/// nullability, text or number) in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lite = open(&format!("sqlite://{}", dir.path().join("aduan.db").display())).await;
    let url = aduan_testkit::pg::fresh_database().await;
    let pg = open(&url).await;
    let lite_schema = lite.schema().await.expect("sqlite schema");
    let pg_schema = pg.schema().await.expect("postgres schema");
    lite.close().await;
    pg.close().await;
    aduan_testkit::pg::drop_database(&url).await;

    let lite_tables: Vec<&String> = lite_schema.keys().collect();
    let pg_tables: Vec<&String> = pg_schema.keys().collect();
    assert_eq!(lite_tables, pg_tables);
    for (table, cols) in &lite_schema {
        let lite_cols: Vec<_> = cols.iter().map(loose).collect();
        let pg_cols: Vec<_> = pg_schema[table].iter().map(loose).collect();
        assert_eq!(lite_cols, pg_cols, "table {table}");
    }
}
