//! Duplicates across doors (docs/duplicates.md): the same complaint through a city's own app (a
//! source system, resent once), WhatsApp and the web becomes one case per door, the later ones
//! flagged with the earlier as candidates for the verifier; the same street with another problem and
//! the same text in another kab/kota are not; the public sees no candidates; the admin's dashboard
//! case page lists them.

use crate::support::{Db, Server};
use serde_json::{json, Value};

/// The detector's threshold, as docs/duplicates.md gives it: no candidate scores below it.
const THRESHOLD: f64 = 0.24;

fn complaint(channel: &str, region: &str, title: &str, body: &str) -> Value {
    json!({"kind": "pengaduan", "channel": channel, "title": title, "body": body, "category": "infrastruktur",
           "region": region, "privacy": "public"})
}

fn filed(s: &Server, body: &Value, auth: Option<&str>) -> Value {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    let r = s.submit(body, &headers);
    assert!(r.status < 300, "{}", r.text());
    r.json()
}

fn candidates(s: &Server, id: &str) -> Vec<(String, f64)> {
    let view = s.get_as(&format!("/v1/complaints/{id}"), Some(&s.admin)).json();
    view["duplicates"]
        .as_array()
        .unwrap_or_else(|| panic!("the admin sees the candidates: {view}"))
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["score"].as_f64().unwrap()))
        .collect()
}

fn three_doors_one_complaint(db: Db) {
    let s = Server::start(db);
    let out = s.command().args(["source", "create", "lapor-hendi", "--agency", "33.74"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let auth = format!("Bearer {}", made["token"].as_str().unwrap());

    // The city's app, and its resend: one case.
    let mut app = complaint(
        "app",
        "33.74",
        "Lampu penerangan jalan umum mati",
        "Lampu penerangan jalan umum di Jalan Setiabudi, Kelurahan Srondol Kulon, Kecamatan Banyumanik \
         sudah mati sejak seminggu yang lalu. Mohon segera diperbaiki karena jalan sangat gelap di malam hari.",
    );
    app["source"] = json!({"system": "lapor-hendi", "id": "LH-7781"});
    let first = filed(&s, &app, Some(&auth));
    let again = filed(&s, &app, Some(&auth));
    assert_eq!(again["id"], first["id"], "the resend is the same case");
    let first_id = first["id"].as_str().unwrap();
    assert!(candidates(&s, first_id).is_empty(), "nothing came before it");

    // WhatsApp, terse and informal.
    let wa = filed(
        &s,
        &complaint(
            "whatsapp",
            "33.74",
            "lampu pju mati",
            "min lampu pju di jl setiabudi srondol kulon mati udh seminggu, gelap bgt klo malem. tolong dibenerin",
        ),
        None,
    );
    let wa_id = wa["id"].as_str().unwrap();
    let found = candidates(&s, wa_id);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, first_id);
    assert!(found[0].1 >= THRESHOLD, "{found:?}");

    // The web form, reworded: both earlier doors are its candidates.
    let web = filed(&s, &complaint("web", "33.74.01", "Lampu jalan Setiabudi padam",
        "Lampu jalan di Jl. Setiabudi, Srondol Kulon, Banyumanik padam sudah tujuh hari. Jalan jadi gelap dan rawan."), None);
    let web_id = web["id"].as_str().unwrap();
    let mut ids: Vec<String> = candidates(&s, web_id).into_iter().map(|(id, _)| id).collect();
    ids.sort();
    let mut want = vec![first_id.to_owned(), wa_id.to_owned()];
    want.sort();
    assert_eq!(ids, want);

    // Hard negatives: the same street with another problem; the same text in another kab/kota.
    let pothole = filed(
        &s,
        &complaint(
            "web",
            "33.74",
            "Jalan Setiabudi berlubang",
            "Jalan Setiabudi di Kelurahan Srondol Kulon, Banyumanik berlubang besar di depan minimarket, \
         sudah dua motor jatuh. Mohon segera ditambal.",
        ),
        None,
    );
    assert!(candidates(&s, pothole["id"].as_str().unwrap()).is_empty(), "another problem on the same street");
    let elsewhere =
        filed(&s, &complaint("app", "33.72", "Lampu penerangan jalan umum mati", app["body"].as_str().unwrap()), None);
    assert!(candidates(&s, elsewhere["id"].as_str().unwrap()).is_empty(), "another kab/kota");

    // The public view carries no candidates; the admin's case page lists them with a link.
    let public = s.get_as(&format!("/v1/complaints/{}", wa["tracking_id"].as_str().unwrap()), None).json();
    assert!(public.get("duplicates").is_none(), "{public}");
    let (status, page) = s.dashboard(&s.admin, &format!("/dashboard/cases/{web_id}"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("data-testid=\"duplicates\"") && page.contains(first["tracking_id"].as_str().unwrap()),
        "{page}"
    );
}

both_backends!(three_doors_one_complaint);
