//! `aduan import --source NAME FILE` (docs/integrations.md#import): a city's existing complaints from
//! CSV and from JSON lines, with their original dates; run twice, it imports nothing twice; a refused
//! row is named with its line and why, and the rest still come in.

use crate::support::{Db, Server};
use serde_json::Value;
use std::process::Output;

fn import(s: &Server, file: &std::path::Path) -> (Output, Value) {
    let out = s.command().args(["import", "--source", "lapor-hendi"]).arg(file).output().unwrap();
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out, summary)
}

fn a_citys_complaints_come_in_once_with_their_dates(db: Db) {
    let s = Server::start(db);
    let out = s.command().args(["source", "create", "lapor-hendi", "--agency", "33.74"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = aduan_testkit::process::tempdir("import");
    let csv = dir.path().join("lapor-hendi.csv");
    std::fs::write(
        &csv,
        "id,title,body,category,region,reporter_name,address,lat,long,received_at\n\
         LH-1,Jalan berlubang,\"Di depan pasar, sudah lama\",infrastruktur,33.74,Sri,Jl. Pemuda 1,-6.98,110.41,2026-06-01T08:00:00+07:00\n\
         LH-2,Lampu jalan mati,Sudah seminggu,infrastruktur,33.74,,,,,2026-11-20T19:30:00+07:00\n\
         LH-3,Kategori tidak ada,Isi,bukan-kategori,33.74,,,,,2026-11-21T09:00:00+07:00\n\
         LH-4,Tanpa tanggal,Isi,infrastruktur,33.74,,,,,\n",
    )
    .unwrap();
    let (out, first) = import(&s, &csv);
    assert_eq!(out.status.code(), Some(1), "a refused row makes the exit status 1");
    assert_eq!(
        (first["read"].as_u64(), first["imported"].as_u64(), first["already"].as_u64()),
        (Some(4), Some(2), Some(0)),
        "{first}"
    );
    let rejected = first["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{first}");
    assert_eq!(rejected[0]["line"], 4);
    assert!(rejected[0]["error"].as_str().unwrap().contains("category"), "{first}");
    assert_eq!(rejected[1]["line"], 5);
    assert!(rejected[1]["error"].as_str().unwrap().contains("received_at"), "{first}");

    // Again: nothing imported twice.
    let (_, second) = import(&s, &csv);
    assert_eq!((second["imported"].as_u64(), second["already"].as_u64()), (Some(0), Some(2)), "{second}");
    let listed = s.get_as("/v1/complaints?limit=10", Some(&s.admin)).json();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    let old = items.iter().find(|v| v["source"]["id"] == "LH-1").expect("LH-1 came in");
    assert_eq!(old["created_at"], "2026-06-01T01:00:00Z", "its original date");
    assert_eq!(old["channel"], "integration");
    assert_eq!(old["location"]["lat"], -6.98);

    // JSON lines, the same references and one more: only the new one comes in.
    let jsonl = dir.path().join("lapor-hendi.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\": \"LH-2\", \"title\": \"Lampu jalan mati\", \"body\": \"Sudah seminggu\", \"category\": \"infrastruktur\", \"region\": \"33.74\", \"received_at\": \"2026-11-20T19:30:00+07:00\"}\n\
         {\"id\": \"LH-5\", \"title\": \"Sampah menumpuk\", \"region\": \"33.74\", \"received_at\": \"2026-11-25T07:00:00+07:00\"}\n\
         not json\n",
    )
    .unwrap();
    let (_, third) = import(&s, &jsonl);
    assert_eq!((third["imported"].as_u64(), third["already"].as_u64()), (Some(1), Some(1)), "{third}");
    assert_eq!(third["rejected"][0]["line"], 3, "{third}");
}

both_backends!(a_citys_complaints_come_in_once_with_their_dates);
