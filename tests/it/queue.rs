//! The region queue (docs/nats.md#queue-by-region): while no agency holds a case, each of its events is
//! also published on `{prefix}.queue.{P}.{K}.{type}` (stream `{PREFIX}_QUEUE`), so a regional
//! government hears of the complaints awaiting its verification: `submitted` when filed,
//! `verify_overdue` when nobody verified in time. Once dispatched, events go on the holder's subject only.

use crate::stderr;
use crate::support::{read_stream, submission, Db, Server};
use serde_json::{json, Value};

both_backends!(unverified_cases_reach_their_region_queue);

/// Long after any verify budget of a case filed today.
const LATER: &str = "2027-06-01T03:00:00Z";

fn unverified_cases_reach_their_region_queue(db: Db) {
    let s = Server::start(db);
    let filed = |region: &str, category: &str| {
        let r = s.submit(&submission(region, category), &[]);
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()
    };
    let surabaya = filed("35.78", "infrastruktur");
    let semarang = filed("33.74.01", "kesehatan");
    let dispatched = filed("35.78", "infrastruktur");
    let r = s.act(dispatched["id"].as_str().unwrap(), &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());

    let queue = read_stream(&s.nats_url, &s.stream("QUEUE"), 3);
    let subjects: Vec<(String, String)> =
        queue.iter().map(|m| (m.subject.clone(), m.payload["complaint_id"].as_str().unwrap().to_owned())).collect();
    let q = |region: &str, t: &str| format!("{}.queue.{region}.{t}", s.prefix);
    assert_eq!(
        subjects,
        [
            (q("35.78", "submitted"), id(&surabaya)),
            (q("33.74", "submitted"), id(&semarang)),
            (q("35.78", "submitted"), id(&dispatched)),
        ],
        "one copy per submission on its kab/kota's queue; the verify that dispatched a case adds none"
    );
    // The copy is the event itself, deduplicated on its own key; the event stream still has it once.
    let events = read_stream(&s.nats_url, &s.stream("EVT"), 4);
    for copy in &queue {
        let event_id = copy.payload["event_id"].as_str().unwrap();
        assert_eq!(copy.msg_id.as_deref(), Some(format!("{event_id}.queue").as_str()));
        let originals: Vec<_> = events.iter().filter(|e| e.payload["event_id"] == event_id).collect();
        assert_eq!(originals.len(), 1);
        assert_eq!(originals[0].payload, copy.payload);
        assert_eq!(originals[0].subject, format!("{}.evt._._._.submitted", s.prefix));
    }

    let out = s.command().args(["sweep", "--now", LATER]).output().unwrap();
    assert!(out.status.success(), "sweep: {}", stderr(&out));
    let queue = read_stream(&s.nats_url, &s.stream("QUEUE"), 5);
    let mut overdue: Vec<(String, String)> = queue[3..]
        .iter()
        .map(|m| (m.subject.clone(), m.payload["complaint_id"].as_str().unwrap().to_owned()))
        .collect();
    overdue.sort();
    assert_eq!(
        overdue,
        [(q("33.74", "verify_overdue"), id(&semarang)), (q("35.78", "verify_overdue"), id(&surabaya))],
        "the two cases nobody verified are overdue on their region's queue"
    );
}

fn id(view: &Value) -> String {
    view["id"].as_str().unwrap().to_owned()
}
