//! The compliance report end to end (docs/reports.md): cases received in one month in Jawa Timur,
//! dispatched late and on time, followed up late and on time, resolved, rated, escalated and left
//! overdue, then `GET /v1/reports/compliance` for the province, as JSON and CSV, with its figures
//! asserted exactly; callers out of reach and bad parameters refused.
//!
//! Time: the cases are received 29 days back (`received_at`, the latest an admin may back-date, and
//! `aduan seed --at`, whose cases are dispatched at once), so `verify` (3 working days) and `respond`
//! (5) have long run out when the test acts now; the server runs without workers, so no sweep acts.

use crate::support::{submission, Db, Server};
use chrono::{Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use serde_json::{json, Value};

both_backends!(compliance_report_counts_each_figure);

/// 10:00 WIB (UTC+7, Asia/Jakarta) on the date 29 days back: inside the 30 days `received_at` allows, one month for all.
fn received_at() -> chrono::DateTime<Utc> {
    let wib = FixedOffset::east_opt(7 * 3600).unwrap();
    let day = (Utc::now() - Duration::days(29)).with_timezone(&wib).date_naive();
    wib.from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap())).unwrap().with_timezone(&Utc)
}

/// A case received at `at` by the counter of Surabaya's road office (an admin types it in).
fn counter_case(s: &Server, region: &str, at: &str) -> String {
    let mut body = submission(region, "infrastruktur");
    body["channel"] = json!("counter");
    body["received_at"] = json!(at);
    let auth = format!("Bearer {}", s.admin);
    let r = s.submit(&body, &[("Authorization", &auth)]);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn act(s: &Server, id: &str, body: Value) {
    let r = s.act(id, &body, &[]);
    assert_eq!(r.status, 200, "{body}: {}", r.text());
}

fn verify(s: &Server, id: &str) {
    act(s, id, json!({"action": "verify"}));
}

fn row<'a>(report: &'a Value, agency: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agency"] == agency)
        .unwrap_or_else(|| panic!("no row {agency}"))
}

fn figures(received: u64, dispatched: [u64; 2], followed_up: [u64; 2], completed: [u64; 2], rest: Value) -> Value {
    let mut f = json!({
        "received": received,
        "dispatched": dispatched[0], "dispatched_within_deadline": dispatched[1],
        "followed_up": followed_up[0], "followed_up_within_deadline": followed_up[1],
        "completed": completed[0], "completed_within_deadline": completed[1],
    });
    f.as_object_mut().unwrap().extend(rest.as_object().unwrap().clone());
    f
}

fn compliance_report_counts_each_figure(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let t = received_at();
    let at = t.to_rfc3339();
    let month = t.with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap()).format("%Y-%m").to_string();

    // A: dispatched late, followed up and resolved at once, rated. B: dispatched late, resolved at once.
    // H: dispatched late, followed up at once, still open within its deadlines.
    let a = counter_case(&s, "35.78", &at);
    let b = counter_case(&s, "35.78", &at);
    let h = counter_case(&s, "35.78", &at);
    for id in [&a, &b, &h] {
        verify(&s, id);
    }
    act(&s, &a, json!({"action": "respond", "message": "Sedang ditinjau"}));
    act(&s, &a, json!({"action": "resolve", "message": "Sudah diperbaiki"}));
    act(&s, &a, json!({"action": "rate", "score": 5}));
    act(&s, &b, json!({"action": "resolve", "message": "Sudah diperbaiki"}));
    act(&s, &h, json!({"action": "respond", "message": "Kami jadwalkan"}));
    // E: Kota Malang, never dispatched: its `verify` is overdue. Outside the province: not counted.
    let _e = counter_case(&s, "35.73", &at);
    let _semarang = counter_case(&s, "33.74", &at);

    // C, D, F: dispatched on time (seeded, verified when received) to 35.78/dinas-pu.
    let o = s.command().args(["seed", "--complaints", "3", "--region", "35.78", "--at", &at]).output().unwrap();
    assert!(o.status.success(), "seed: {}", String::from_utf8_lossy(&o.stderr));
    let seeded: Vec<String> = s.get("/v1/complaints?agency=35.78/dinas-pu&status=assigned").json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["id"] != h.as_str())
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    let [c, d, _f] = <[String; 3]>::try_from(seeded).unwrap();
    // C: first followed up now, long after `respond` ran out (late), asking the reporter: paused.
    act(&s, &c, json!({"action": "request_info", "message": "Mohon foto lokasi"}));
    // D: escalated to Kota Surabaya, which follows up within the `respond` restarted there.
    act(&s, &d, json!({"action": "escalate", "reason": "Tidak ditanggapi"}));
    act(&s, &d, json!({"action": "request_info", "message": "Mohon detail alamat"}));
    // F: left as seeded: its `respond` has run out, so it is overdue.

    let supervisor = s.token("supervisor", "35");
    let path = format!("/v1/reports/compliance?agency=35&month={month}");
    let r = s.get_as(&path, Some(&supervisor));
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!((report["agency"].clone(), report["month"].clone()), (json!("35"), json!(month)));
    assert_eq!(report["time_zone"], "Asia/Jakarta");
    assert_eq!(report["zones"]["hijau"], json!(0.9));
    assert!(report["zones"]["note"].as_str().unwrap().contains("not the Ombudsman"));
    assert_eq!(report["rows"][0]["agency"], "35");
    assert_eq!(report["rows"][0]["covers"], "own");
    assert_eq!(report["rows"][0]["figures"]["received"], 0);

    let surabaya = row(&report, "35.78");
    assert_eq!(surabaya["covers"], "subtree");
    assert_eq!(surabaya["name"], "Pemerintah Kota Surabaya");
    let want = figures(
        6,
        [6, 3],
        [5, 4],
        [2, 2],
        json!({
            "overdue": 1, "escalated": 1, "rated": 1, "rating_share": 0.5,
            "median_first_response_working_days": 0.0, "settled": 3, "on_time_share": 2.0 / 3.0, "zone": "merah",
        }),
    );
    assert_eq!(surabaya["figures"], want, "{surabaya:#}");
    let malang = row(&report, "35.73");
    let want = figures(
        1,
        [0, 0],
        [0, 0],
        [0, 0],
        json!({
            "overdue": 1, "escalated": 0, "rated": 0, "rating_share": null,
            "median_first_response_working_days": null, "settled": 1, "on_time_share": 0.0, "zone": "merah",
        }),
    );
    assert_eq!(malang["figures"], want);
    let want = figures(
        7,
        [6, 3],
        [5, 4],
        [2, 2],
        json!({
            "overdue": 2, "escalated": 1, "rated": 1, "rating_share": 0.5,
            "median_first_response_working_days": 0.0, "settled": 4, "on_time_share": 0.5, "zone": "merah",
        }),
    );
    assert_eq!(report["total"], want);
    let others: u64 =
        report["rows"].as_array().unwrap().iter().map(|r| r["figures"]["received"].as_u64().unwrap()).sum();
    assert_eq!(others, 7, "each case counts in one row");

    // The same rows as CSV.
    let r = s.get_as(&format!("{path}&format=csv"), Some(&supervisor));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = r.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), report["rows"].as_array().unwrap().len() + 2, "header, rows, total");
    assert_eq!(
        lines[0],
        "agency,name,covers,received,dispatched,dispatched_within_deadline,followed_up,\
         followed_up_within_deadline,completed,completed_within_deadline,overdue,escalated,rated,rating_share,\
         median_first_response_working_days,settled,on_time_share,zone"
    );
    assert!(
        lines.contains(&"35.78,Pemerintah Kota Surabaya,subtree,6,6,3,5,4,2,2,1,1,1,0.5,0,3,0.6666666666666666,merah"),
        "{csv}"
    );
    assert!(lines.contains(&"35.73,Pemerintah Kota Malang,subtree,1,0,0,0,0,0,0,1,0,0,,,1,0,merah"), "{csv}");
    assert_eq!(*lines.last().unwrap(), "35,Pemerintah Provinsi Jawa Timur,total,7,6,3,5,4,2,2,2,1,1,0.5,0,4,0.5,merah");

    // The unit's own officer reads its own report (every case first dispatched to it, D escalated away
    // included); the province is out of its reach, as it is out of
    // Jawa Tengah's supervisor's.
    let officer = s.token("officer", "35.78/dinas-pu");
    let own = s.get_as(&format!("/v1/reports/compliance?month={month}"), Some(&officer));
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(
        (own.json()["agency"].clone(), own.json()["total"]["received"].clone()),
        (json!("35.78/dinas-pu"), json!(6))
    );
    // The shape users read (insta; the month and its instants redacted).
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("compliance_report", own.json(), {
            ".month" => "[month]", ".from" => "[time]", ".to" => "[time]", ".as_of" => "[time]",
        });
    });
    for (who, token) in [("officer", &officer), ("supervisor of 33", &s.token("supervisor", "33"))] {
        let r = s.get_as(&path, Some(token));
        assert_eq!(r.status, 404, "{who}: {}", r.text());
    }
    assert_eq!(s.get_as(&path, None).status, 401);

    // Bad parameters: 422 naming the parameter; an unknown agency is 404.
    for (query, field) in [
        ("agency=35&month=2026-13", "month"),
        ("agency=35", "month"),
        ("agency=35&month=August", "month"),
        (&*format!("agency=35&month={month}&format=xml"), "format"),
        (&*format!("agency=35&month={month}&sort=zone"), "sort"),
    ] {
        let r = s.get(&format!("/v1/reports/compliance?{query}"));
        assert_eq!(r.status, 422, "{query}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{query}");
    }
    let r = s.get(&format!("/v1/reports/compliance?agency=35.99&month={month}"));
    assert_eq!(r.status, 404, "{}", r.text());
}
