//! `aduan policy publish DIR`: validates the pack as `policy check` does, then publishes it, either
//! over HTTP to a running `serve` with a policy author's token (`--server URL --token TOKEN`: the
//! server takes only the files of the author's scope, docs/access.md#publishing-packs), or straight
//! into the `{PREFIX}_PACKS` bucket with NATS credentials (the national operator).

use crate::Config;
use aduan_core::pack::{pack_hash, PackFile};
use aduan_service::bus::Bus;
use aduan_service::packs::read_pack_dir;
use aduan_service::wire::{PackUpload, PackUploadFile, Problem, PublishRecord};
use anyhow::{anyhow, Context};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// How long a publish over HTTP may take (the server validates and smoke-runs the pack).
const HTTP_TIMEOUT: Duration = Duration::from_secs(120);

/// Where `policy publish` sends the pack.
pub enum Target<'a> {
    /// The bucket, over NATS.
    Bucket,
    /// A server's `POST /v1/packs`, with a bearer token.
    Server { url: &'a str, token: &'a str },
}

/// `policy publish DIR [--server URL --token TOKEN]`: exit 1 when the pack is invalid or refused.
pub fn publish(dir: &Path, target: Target<'_>, config: &Config) -> anyhow::Result<ExitCode> {
    if super::policy::check(dir)? != ExitCode::SUCCESS {
        eprintln!("error: not published: the pack in {} is invalid", dir.display());
        return Ok(ExitCode::FAILURE);
    }
    let files = read_pack_dir(dir)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match target {
        Target::Bucket => {
            let (revision, bucket) = rt.block_on(async {
                let bus = Bus::connect_only(&config.nats_url, &config.nats_prefix)
                    .await
                    .with_context(|| format!("connecting to NATS at {}", config.nats_url))?;
                let revision = bus.publish_pack(&files).await.context("publishing")?;
                anyhow::Ok((revision, bus.packs_bucket()))
            })?;
            println!("published: pack {} to {bucket} revision {revision}", pack_hash(&files));
            Ok(ExitCode::SUCCESS)
        }
        Target::Server { url, token } => rt.block_on(over_http(url, token, files)),
    }
}

/// Publishes over HTTP and prints the record, or the refusal (exit 1).
async fn over_http(server: &str, token: &str, files: Vec<PackFile>) -> anyhow::Result<ExitCode> {
    let files = files
        .into_iter()
        .map(|f| match String::from_utf8(f.bytes) {
            Ok(content) => Ok(PackUploadFile { path: f.path, content }),
            Err(_) => Err(anyhow!("{}: not UTF-8 text", f.path)),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let body = serde_json::to_vec(&PackUpload { files })?;
    let url = format!("{}/v1/packs", server.trim_end_matches('/'));
    let client = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build().context("making the HTTP client")?;
    let response = client
        .post(&url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response.bytes().await.with_context(|| format!("reading the answer of POST {url}"))?;
    if !status.is_success() {
        match serde_json::from_slice::<Problem>(&body) {
            Ok(p) => eprintln!("error: not published ({} {}): {}", p.status, p.title, p.detail),
            Err(_) => eprintln!("error: not published ({status}): {}", String::from_utf8_lossy(&body)),
        }
        return Ok(ExitCode::FAILURE);
    }
    let record: PublishRecord = serde_json::from_slice(&body).with_context(|| format!("the answer of POST {url}"))?;
    print_record(&record);
    Ok(ExitCode::SUCCESS)
}

/// The record as the author reads it: the hashes, every file changed, where it went.
fn print_record(r: &PublishRecord) {
    if r.files.is_empty() {
        println!("unchanged: pack {} is active already (record {})", r.hash_after, r.id);
        return;
    }
    println!(
        "published: pack {} (was {}), scope {}, {} files changed:",
        r.hash_after,
        r.hash_before,
        r.scope,
        r.files.len()
    );
    for f in &r.files {
        println!("  {:<8} {} ({})", f.change, f.path, f.scope);
    }
    match r.bucket_revision {
        Some(n) => println!("record {}; bucket revision {n}: every replica takes it", r.id),
        None => println!("record {}; live on that replica (it had no NATS: the bucket gets it when it connects)", r.id),
    }
}
