//! `aduan import --source NAME FILE` (docs/cli.md#import): a source system's existing complaints, from
//! CSV or JSON lines, filed through `Service::import` as that source with their original dates
//! (docs/integrations.md#import). Each row's `id` is its source reference, so a second run imports
//! nothing twice. A progress bar on stderr; a summary on stdout, with each refused row and why.

use crate::Config;
use aduan_service::problem::decode_json;
use anyhow::{anyhow, Context};
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest file read.
const MAX_BYTES: u64 = 512 * 1024 * 1024;
/// The columns (CSV) or keys (JSON lines) a row may have, and the submission field each fills.
const COLUMNS: [(&str, &str); 15] = [
    ("id", "source.id"),
    ("url", "source.url"),
    ("kind", "kind"),
    ("channel", "channel"),
    ("title", "title"),
    ("body", "body"),
    ("category", "category"),
    ("region", "region"),
    ("privacy", "privacy"),
    ("reporter_name", "reporter.name"),
    ("reporter_contact", "reporter.contact"),
    ("address", "location.address"),
    ("lat", "location.lat"),
    ("long", "location.long"),
    ("received_at", "received_at"),
];

/// How the file is written.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, a header row naming the columns.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `aduan import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The registered source system the complaints come from (`aduan source create`).
    #[arg(long)]
    pub source: String,
    /// The file: `.csv`, or `.jsonl` / `.ndjson` (JSON lines).
    pub file: PathBuf,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// A row of the file: its line, and its fields keyed by column, or why it could not be read.
type Row = (usize, Result<Map<String, Value>, String>);

/// What a run did.
#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    read: usize,
    imported: usize,
    already: usize,
    rejected: Vec<Rejected>,
}

/// A refused row: its line in the file and why.
#[derive(Debug, serde::Serialize)]
struct Rejected {
    line: usize,
    error: String,
}

/// Runs an import; exit 1 when a row was refused.
pub fn run(args: ImportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let format = args.format.or_else(|| format_of(&args.file)).ok_or_else(|| {
        anyhow!("{}: say --format csv or jsonl (the extension is neither .csv nor .jsonl)", args.file.display())
    })?;
    let rows = read_rows(&args.file, format)?;
    super::sweep::runtime()?.block_on(async {
        let service = super::sweep::service_keyed(config, true).await?;
        let caller = service.source_caller(&args.source).await.map_err(|e| anyhow!("{e}"))?;
        let bar = indicatif::ProgressBar::new(rows.len() as u64);
        let mut summary = Summary { read: rows.len(), ..Summary::default() };
        for (line, row) in rows {
            bar.inc(1);
            let filed = match row.and_then(|r| submission(&args.source, r)) {
                Ok(sub) => service.import(sub, &caller, aduan_service::clock::now()).await.map_err(|e| e.to_string()),
                Err(why) => Err(why),
            };
            match filed {
                Ok(reply) if reply.replayed => summary.already += 1,
                Ok(_) => summary.imported += 1,
                Err(error) => summary.rejected.push(Rejected { line, error }),
            }
        }
        bar.finish_and_clear();
        println!("{}", serde_json::to_string(&summary)?);
        Ok(if summary.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "csv" => Some(Format::Csv),
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        _ => None,
    }
}

/// Every row of the file with its line number: a JSON object keyed by the columns, or why not.
fn read_rows(path: &Path, format: Format) -> anyhow::Result<Vec<Row>> {
    let shown = path.display();
    let size = std::fs::metadata(path).with_context(|| format!("{shown}: cannot read"))?.len();
    anyhow::ensure!(size <= MAX_BYTES, "{shown}: larger than {MAX_BYTES} bytes");
    let text = std::fs::read_to_string(path).with_context(|| format!("{shown}: cannot read as UTF-8"))?;
    Ok(match format {
        Format::Jsonl => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (i + 1, serde_json::from_str::<Map<String, Value>>(l).map_err(|e| format!("not a JSON object: {e}")))
            })
            .collect(),
        Format::Csv => csv_rows(&text).with_context(|| format!("{shown}"))?,
    })
}

fn csv_rows(text: &str) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.iter().any(|(c, _)| c == h)) {
        anyhow::bail!("unknown column `{unknown}`; the columns are {}", COLUMNS.map(|(c, _)| c).join(", "));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let line = record.as_ref().ok().and_then(|r| r.position()).map_or(0, |p| p.line() as usize);
        let row = record.map_err(|e| e.to_string()).map(|r| {
            headers
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.clone(), typed(h, v.trim())))
                .collect()
        });
        rows.push((line, row));
    }
    Ok(rows)
}

/// A CSV cell as the JSON the submission reads: coordinates as numbers.
fn typed(column: &str, value: &str) -> Value {
    match column {
        "lat" | "long" => value.parse::<f64>().map_or_else(|_| Value::from(value), Value::from),
        _ => Value::from(value),
    }
}

/// A row as a submission from `source`, with the defaults of an import (`pengaduan`, channel
/// `integration`); a missing `id` or `received_at`, or an unknown key, refuses the row.
fn submission(source: &str, row: Map<String, Value>) -> Result<aduan_service::wire::Submission, String> {
    let mut out = Map::new();
    for (key, value) in row {
        let field =
            COLUMNS.iter().find(|(c, _)| *c == key).map(|(_, f)| *f).ok_or_else(|| format!("unknown field `{key}`"))?;
        aduan_service::wire::insert_dotted(&mut out, field, value);
    }
    for (column, field) in [("id", "source"), ("received_at", "received_at")] {
        if !out.contains_key(field) || (field == "source" && out["source"].get("id").is_none()) {
            return Err(format!("`{column}` is required"));
        }
    }
    out["source"]["system"] = source.into();
    out.entry("kind").or_insert_with(|| "pengaduan".into());
    out.entry("channel").or_insert_with(|| "integration".into());
    out.entry("body").or_insert_with(|| "".into());
    decode_json(&serde_json::to_vec(&Value::Object(out)).unwrap_or_default()).map_err(|p| p.detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: Value) -> Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn a_row_becomes_a_submission_from_its_source() {
        let sub = submission(
            "lapor-hendi",
            row(serde_json::json!({"id": "LH-1", "title": "Jalan rusak", "region": "33.74", "lat": -6.99, "long": 110.42,
                                   "received_at": "2026-09-01T08:00:00+07:00", "reporter_name": "Sri"})),
        )
        .unwrap();
        let source = sub.source.unwrap();
        assert_eq!((source.system.as_str(), source.id.as_str()), ("lapor-hendi", "LH-1"));
        assert_eq!((sub.kind.as_str(), sub.channel.as_str()), ("pengaduan", "integration"));
        assert_eq!(sub.location.unwrap().lat, Some(-6.99));
        assert_eq!(sub.reporter.unwrap().name.as_deref(), Some("Sri"));
    }

    #[test]
    fn a_row_without_its_reference_or_date_or_with_a_stranger_key_is_refused() {
        let err = submission("s", row(serde_json::json!({"title": "x", "received_at": "2026-09-01T08:00:00Z"})));
        assert!(err.unwrap_err().contains("`id` is required"));
        let err = submission("s", row(serde_json::json!({"id": "1", "title": "x"})));
        assert!(err.unwrap_err().contains("`received_at` is required"));
        let err = submission(
            "s",
            row(serde_json::json!({"id": "1", "title": "x", "received_at": "2026-09-01T08:00:00Z", "nik": "3374"})),
        );
        assert!(err.unwrap_err().contains("unknown field `nik`"));
    }

    #[test]
    fn csv_rows_carry_their_line_and_refuse_a_stranger_column() {
        let rows = csv_rows(
            "id,title,received_at,lat\nA,Jalan,2026-09-01T08:00:00Z,-6.9\nB,\"Lampu, mati\",2026-09-02T08:00:00Z,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.as_ref().unwrap()["lat"], -6.9);
        assert_eq!(rows[1].1.as_ref().unwrap()["title"], "Lampu, mati");
        assert!(csv_rows("id,nik\n1,2\n").unwrap_err().to_string().contains("unknown column `nik`"));
    }
}
