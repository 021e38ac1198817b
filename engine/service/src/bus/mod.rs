//! The bus: Aduan's NATS side (docs/nats.md). The only module that imports async-nats (invariant 2).
//!
//! - [`Bus::connect`] connects (to one server, or to any of a cluster's listed comma-separated),
//!   refuses servers older than 2.10, and creates or updates the JetStream streams `{PREFIX}_CMD` (work
//!   queue), `{PREFIX}_EVT`, `{PREFIX}_QUEUE`, `{PREFIX}_DLQ` and the KV bucket `{PREFIX}_PACKS`, each
//!   with the configured number of replicas ([`Bus::connect_with`]; R3 on a cluster).
//! - [`event_subject`] names the subject of an event from the agency holding the case;
//!   [`queue_subject`] the subject of its copy by region while no agency holds the case.
//! - [`run_relay`] is the outbox relay, the only publisher of events (invariant 3): it publishes committed
//!   outbox rows in order, with `Nats-Msg-Id` = event id, and marks them sent.
//! - [`run_consumer`] is the durable pull consumer of commands: it hands each command to a
//!   [`CommandHandler`], acks only after the handler returned (that is, after commit), and sorts failures
//!   into permanent (dead-lettered), ordering (retried, then dead-lettered) and transient (retried forever).

mod consumer;
mod floor;
mod lanes;
mod letter;
mod packs;
mod publish;
mod relay;
mod retry;
mod tail;

use std::fmt;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream;
use async_nats::jetstream::context::{CreateStreamErrorKind, PublishErrorKind};
use async_nats::jetstream::stream::{Config as StreamConfig, RetentionPolicy};
use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use tokio::sync::watch;

pub use consumer::{run_consumer, CommandFailure, CommandHandler, CommandMsg};
pub use floor::PublishRun;
pub use packs::{decode_pack, encode_pack, watch_packs, PUBLISHED_KEY, PUBLISHED_SOURCE};
pub use publish::PendingPublish;
pub use relay::{run_relay, Outbox, OutboxError, OutboxItem};

/// How long a JetStream API call or a publish acknowledgement may take before the bus counts NATS as
/// unavailable.
const JS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the first connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deduplication window of the event streams (`Nats-Msg-Id` = event id) unless configured otherwise
/// (`ADUAN_NATS_DUPLICATE_WINDOW`, [`Bus::connect_with_window`]). The relay does not rely on it.
pub const EVT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long `{PREFIX}_DLQ` keeps a dead letter: long enough for an operator to look into it after a
/// holiday, not forever (docs/nats.md#dead-letters).
pub const DLQ_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How many revisions of each pack the KV bucket keeps.
const PACKS_HISTORY: i64 = 5;
/// The most replicas JetStream keeps of a stream.
pub const MAX_REPLICAS: usize = 5;

/// Errors of the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// NATS cannot be reached, or did not answer in time. Worth retrying.
    #[error("NATS unavailable: {0}")]
    Unavailable(String),
    /// The server predates JetStream features Aduan relies on.
    #[error("nats-server {version} is too old: Aduan needs 2.10 or newer for JetStream features it uses")]
    ServerTooOld {
        /// The version the server announced.
        version: String,
    },
    /// The configured prefix would make invalid subjects or stream names.
    #[error("bad NATS prefix {0:?}: it must match [A-Za-z0-9_-]+")]
    BadPrefix(String),
    /// The configuration cannot work with this server: more replicas than a stream may have, or
    /// replicas asked of a server that is not part of a cluster. Retrying does not help.
    #[error("{0}")]
    Misconfigured(String),
    /// Anything else (a bad URL, a stream that cannot be created, a rejected publish).
    #[error("NATS: {0}")]
    Other(String),
}

/// A connection to NATS with Aduan's streams in place. Cheap to clone (the clones share the connection).
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    prefix: String,
    /// How many replicas each stream and the bucket get (1 on a single server, 3 on a cluster).
    replicas: usize,
    /// The duplicate window of `{PREFIX}_EVT` and `{PREFIX}_QUEUE`.
    duplicate_window: Duration,
    /// Counts the connections made (the first one and each reconnection).
    connects: watch::Receiver<u64>,
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus").field("prefix", &self.prefix).field("state", &self.client.connection_state()).finish()
    }
}

impl Bus {
    /// Connects to the server at `url` and creates or updates the streams and the KV bucket of `prefix`.
    ///
    /// Fails fast (no retry) with [`BusError::Unavailable`] when no server answers, and with
    /// [`BusError::ServerTooOld`] against a server older than 2.10. Once connected, the client reconnects
    /// on its own after an outage (delays capped at 1 s), forever.
    pub async fn connect(url: &str, prefix: &str) -> Result<Bus, BusError> {
        Self::connect_with(url, prefix, 1).await
    }

    /// [`Bus::connect`] with `replicas` copies of every stream and of the bucket (`ADUAN_NATS_REPLICAS`,
    /// docs/configuration.md): 1 on a single server, 3 on a three-node cluster, so that an acknowledged
    /// event or command survives the loss of a node. An existing stream is updated to that number.
    ///
    /// [`BusError::Misconfigured`] when `replicas` is 0 or above [`MAX_REPLICAS`], or above 1 while the
    /// server is not part of a cluster (it would keep one copy whatever was asked).
    pub async fn connect_with(url: &str, prefix: &str, replicas: usize) -> Result<Bus, BusError> {
        Self::connect_with_window(url, prefix, replicas, EVT_DUPLICATE_WINDOW).await
    }

    /// [`Bus::connect_with`] with `duplicate_window` as the event streams' duplicate window
    /// (`ADUAN_NATS_DUPLICATE_WINDOW`; default [`EVT_DUPLICATE_WINDOW`]). An existing stream is updated
    /// to it.
    pub async fn connect_with_window(
        url: &str,
        prefix: &str,
        replicas: usize,
        duplicate_window: Duration,
    ) -> Result<Bus, BusError> {
        check_replicas(replicas)?;
        let mut bus = Self::connect_only(url, prefix).await?;
        if replicas > 1 && bus.client.server_info().cluster.is_none_or(|c| c.is_empty()) {
            return Err(BusError::Misconfigured(format!(
                "{replicas} replicas asked (ADUAN_NATS_REPLICAS), but the NATS server {} is not part of a \
                 cluster: use 1 on a single server",
                bus.client.server_info().server_name
            )));
        }
        bus.replicas = replicas;
        bus.duplicate_window = duplicate_window;
        bus.ensure_streams().await?;
        Ok(bus)
    }

    /// [`Bus::connect`] without creating or updating the streams and the bucket: for tools that only
    /// use what a running `serve` made (`policy publish`), so their NATS user needs no stream-admin rights.
    pub async fn connect_only(url: &str, prefix: &str) -> Result<Bus, BusError> {
        validate_prefix(prefix)?;
        let servers = server_list(url);
        let (connects_tx, connects) = watch::channel(0u64);
        let client = credentials(url, ConnectOptions::new())
            .name(format!("aduan ({prefix})"))
            .connection_timeout(CONNECT_TIMEOUT)
            .reconnect_delay_callback(|attempts| Duration::from_millis(100 * attempts.min(10) as u64))
            .event_callback(move |event| {
                if matches!(event, Event::Connected) {
                    connects_tx.send_modify(|n| *n += 1);
                }
                async move {
                    match event {
                        Event::Connected => tracing::info!("NATS connected"),
                        Event::Disconnected => tracing::warn!("NATS disconnected; reconnecting"),
                        // Reconnects are unlimited: the connection closes only when the process
                        // lets it go (shutdown), which is no cause for a warning.
                        Event::Closed => tracing::info!("NATS connection closed"),
                        other => tracing::warn!("NATS: {other}"),
                    }
                }
            })
            .connect(servers)
            .await
            .map_err(|e| match e.kind() {
                ConnectErrorKind::ServerParse => BusError::Other(format!("bad NATS URL {url:?}: {e}")),
                _ => BusError::Unavailable(format!("cannot connect to {url}: {e}")),
            })?;

        let version = client.server_info().version;
        if !version_at_least(&version, 2, 10) {
            let version = if version.is_empty() { "(unknown version)".to_string() } else { version };
            return Err(BusError::ServerTooOld { version });
        }

        let js = jetstream::ContextBuilder::new().timeout(JS_TIMEOUT).build(client.clone());
        Ok(Bus {
            client,
            js,
            prefix: prefix.to_string(),
            replicas: 1,
            duplicate_window: EVT_DUPLICATE_WINDOW,
            connects,
        })
    }

    /// Creates the streams and the KV bucket, or updates them to the configuration below.
    async fn ensure_streams(&self) -> Result<(), BusError> {
        let p = &self.prefix;
        let streams = [
            StreamConfig {
                name: self.commands_stream(),
                subjects: vec![format!("{p}.cmd.>")],
                retention: RetentionPolicy::WorkQueue,
                description: Some("Aduan commands (work queue)".to_string()),
                num_replicas: self.replicas,
                ..Default::default()
            },
            StreamConfig {
                name: self.events_stream(),
                subjects: vec![format!("{p}.evt.>")],
                retention: RetentionPolicy::Limits,
                duplicate_window: self.duplicate_window,
                description: Some("Aduan events, published by the outbox relay".to_string()),
                num_replicas: self.replicas,
                ..Default::default()
            },
            StreamConfig {
                name: self.queue_stream(),
                subjects: vec![format!("{p}.queue.>")],
                retention: RetentionPolicy::Limits,
                duplicate_window: self.duplicate_window,
                description: Some("Aduan events of cases no agency holds yet, by region".to_string()),
                num_replicas: self.replicas,
                ..Default::default()
            },
            StreamConfig {
                name: self.dead_letter_stream(),
                subjects: vec![format!("{p}.dlq.>")],
                retention: RetentionPolicy::Limits,
                max_age: DLQ_MAX_AGE,
                description: Some("Aduan commands that can never succeed, with their error".to_string()),
                num_replicas: self.replicas,
                ..Default::default()
            },
        ];
        for config in streams {
            let name = config.name.clone();
            self.js.create_or_update_stream(config).await.map_err(|e| match e.kind() {
                CreateStreamErrorKind::TimedOut | CreateStreamErrorKind::JetStreamUnavailable => {
                    BusError::Unavailable(format!("create or update stream {name}: {e}"))
                }
                _ => BusError::Other(format!("create or update stream {name}: {e}")),
            })?;
        }
        let bucket = self.packs_bucket();
        self.js
            .create_or_update_key_value(jetstream::kv::Config {
                bucket: bucket.clone(),
                description: "Aduan policy packs".to_string(),
                history: PACKS_HISTORY,
                num_replicas: self.replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Other(format!("create or update KV bucket {bucket}: {e}")))?;
        Ok(())
    }

    /// How many replicas the streams and the bucket were given.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The configured prefix of every subject (`aduan`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The underlying NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context (5 s timeouts) over [`Bus::client`].
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Whether the connection is up right now (for `/readyz`, which reports it without failing on it).
    pub async fn is_connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    /// A receiver that changes on every (re)connection, so a task can notice a reconnect even when the
    /// outage was too short to observe in [`Bus::is_connected`].
    pub(crate) fn connects(&self) -> watch::Receiver<u64> {
        self.connects.clone()
    }

    /// `{PREFIX}_CMD`: the commands' work-queue stream.
    pub fn commands_stream(&self) -> String {
        format!("{}_CMD", self.prefix.to_uppercase())
    }

    /// `{PREFIX}_EVT`: the events' stream.
    pub fn events_stream(&self) -> String {
        format!("{}_EVT", self.prefix.to_uppercase())
    }

    /// `{PREFIX}_QUEUE`: the stream of events of cases awaiting dispatch, by region ([`queue_subject`]).
    pub fn queue_stream(&self) -> String {
        format!("{}_QUEUE", self.prefix.to_uppercase())
    }

    /// `{PREFIX}_DLQ`: the dead letters' stream.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}_DLQ", self.prefix.to_uppercase())
    }

    /// `{PREFIX}_PACKS`: the KV bucket of policy packs.
    pub fn packs_bucket(&self) -> String {
        format!("{}_PACKS", self.prefix.to_uppercase())
    }

    /// `{prefix}-commands`: the durable consumer that replicas share on the command stream.
    pub fn commands_consumer(&self) -> String {
        format!("{}-commands", self.prefix)
    }
}

/// The servers of `ADUAN_NATS_URL`: one URL, or several separated by commas (a cluster's nodes, any
/// of which will do: the client connects to one and fails over to the others, and to those the cluster
/// announces).
fn server_list(url: &str) -> Vec<&str> {
    url.split(',').map(str::trim).filter(|u| !u.is_empty()).collect()
}

/// 1 to [`MAX_REPLICAS`].
fn check_replicas(replicas: usize) -> Result<(), BusError> {
    if (1..=MAX_REPLICAS).contains(&replicas) {
        Ok(())
    } else {
        Err(BusError::Misconfigured(format!(
            "{replicas} replicas asked (ADUAN_NATS_REPLICAS): JetStream keeps 1 to {MAX_REPLICAS} copies of a stream"
        )))
    }
}

/// The user and password, or the token, of `nats://USER:PASS@HOST` (`nats://TOKEN@HOST`): async-nats
/// reads only the host from a URL, so credentials written there (docs/nats.md#credentials) are passed on
/// here.
fn credentials(url: &str, options: ConnectOptions) -> ConnectOptions {
    let Some(addr) = url.split(',').next().and_then(|u| u.trim().parse::<async_nats::ServerAddr>().ok()) else {
        return options;
    };
    match (addr.username(), addr.password()) {
        (Some(user), Some(pass)) => options.user_and_password(user.to_owned(), pass.to_owned()),
        (Some(token), None) => options.token(token.to_owned()),
        _ => options,
    }
}

/// Sorts a JetStream publish error: a missing answer is [`BusError::Unavailable`], a refusal is
/// [`BusError::Other`].
fn publish_error(subject: &str, e: jetstream::context::PublishError) -> BusError {
    match e.kind() {
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending
        // "No responders": no stream answers yet, e.g. JetStream is still recovering after a restart.
        | PublishErrorKind::StreamNotFound => BusError::Unavailable(format!("publish to {subject}: {e}")),
        _ => BusError::Other(format!("publish to {subject}: {e}")),
    }
}

/// Checks a prefix against `[A-Za-z0-9_-]+` (docs/configuration.md#variables-and-flags): it becomes a subject token and part of
/// stream and bucket names.
pub fn validate_prefix(prefix: &str) -> Result<(), BusError> {
    if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        Ok(())
    } else {
        Err(BusError::BadPrefix(prefix.to_string()))
    }
}

/// Whether a server version string (`2.15.1`, `2.10.0-RC.1`) is at least `major.minor`. An unreadable
/// version counts as too old.
fn version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version.trim_start_matches('v').split(['.', '-', '+']).map(|p| p.parse::<u64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(ma)), Some(Ok(mi))) => (ma, mi) >= (major, minor),
        _ => false,
    }
}

/// The subject of an event (docs/nats.md#subjects): `{prefix}.evt.{P}.{K}.{U}.{type}`, from the id of the agency
/// holding the case after the event.
///
/// - `35.78/dinas-pu` → `35.78.dinas-pu`, `35.78` → `35.78._`, `35` → `35._._`, `35/dinkes` → `35._.dinkes`;
/// - a national body `pln` → `nasional.pln._` (and its unit `pln/up3` → `nasional.pln.up3`);
/// - no holder yet → `_._._`.
///
/// A region code deeper than kab/kota keeps its first two levels. Characters that cannot appear in a
/// subject token (`.`, `*`, `>`, spaces) in a slug or type become `_`, so a subscriber's wildcards always
/// line up.
pub fn event_subject(prefix: &str, agency: Option<&str>, event_type: &str) -> String {
    let [p, k, u] = match agency.map(str::trim).filter(|a| !a.is_empty()) {
        None => ["_".to_string(), "_".to_string(), "_".to_string()],
        Some(agency) => holder_tokens(agency),
    };
    format!("{prefix}.evt.{p}.{k}.{u}.{}", token(event_type))
}

/// The `{P}.{K}.{U}` tokens of a holder (see [`event_subject`]).
fn holder_tokens(agency: &str) -> [String; 3] {
    let (base, unit) = match agency.split_once('/') {
        Some((base, unit)) => (base, Some(unit)),
        None => (agency, None),
    };
    let unit = token(unit.unwrap_or(""));
    if base.starts_with(|c: char| c.is_ascii_digit()) {
        let mut levels = base.split('.');
        [token(levels.next().unwrap_or("")), token(levels.next().unwrap_or("")), unit]
    } else {
        ["nasional".to_string(), token(base), unit]
    }
}

/// The subject of the copy of an event of a case that no agency holds after it (`submitted`,
/// `verify_overdue`, …), by the region it was filed in (docs/nats.md#queue-by-region):
/// `{prefix}.queue.{P}.{K}.{type}`, `35.78.01.2001` → `35.78`, `35` → `35._`. A region's government
/// subscribes to its own queue of cases awaiting verification; `{prefix}.evt._._._.…` still carries
/// the event itself.
pub fn queue_subject(prefix: &str, region: &str, event_type: &str) -> String {
    let mut levels = region.trim().split('.');
    let p = token(levels.next().unwrap_or(""));
    let k = token(levels.next().unwrap_or(""));
    format!("{prefix}.queue.{p}.{k}.{}", token(event_type))
}

/// The subjects that carry every event of an agency's subtree (docs/nats.md#subjects), and, for a
/// government, the copies of its region's cases no agency holds yet (its verification queue): what
/// the dashboard's live queue listens to. `kemenpanrb`, the root, hears everything.
pub fn subtree_subjects(prefix: &str, agency: &str) -> Vec<String> {
    if agency == aduan_core::directory::ROOT {
        return vec![format!("{prefix}.evt.>"), format!("{prefix}.queue.>")];
    }
    // The levels an agency names; the `_` levels after them are its subtree.
    let below = |tokens: &[String]| {
        let named = tokens.iter().rposition(|t| t != "_").map_or(0, |i| i + 1);
        tokens[..named].join(".")
    };
    let mut subjects = vec![format!("{prefix}.evt.{}.>", below(&holder_tokens(agency)))];
    if !agency.contains('/') && agency.starts_with(|c: char| c.is_ascii_digit()) {
        let mut levels = agency.split('.');
        let region = [token(levels.next().unwrap_or("")), token(levels.next().unwrap_or(""))];
        subjects.push(format!("{prefix}.queue.{}.>", below(&region)));
    }
    subjects
}

/// One subject token: `_` when empty, unsafe characters replaced by `_`.
fn token(s: &str) -> String {
    if s.is_empty() {
        return "_".to_string();
    }
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// The next item of an async-nats stream (they implement only `futures_core::Stream`; this saves a
/// dependency on `futures-util` for `StreamExt::next`).
pub(crate) async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// A core-NATS subscription for tools (the load generator, tests): messages as (subject, payload).
pub struct Subscription(async_nats::Subscriber);

impl Subscription {
    /// The next message, or `None` when the subscription ended.
    pub async fn next(&mut self) -> Option<(String, Vec<u8>)> {
        next(&mut self.0).await.map(|m| (m.subject.to_string(), m.payload.to_vec()))
    }
}

impl Bus {
    /// Subscribes to `subject` (wildcards allowed) on core NATS.
    pub async fn subscribe(&self, subject: &str) -> Result<Subscription, BusError> {
        self.client()
            .subscribe(subject.to_owned())
            .await
            .map(Subscription)
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }

    /// A fresh inbox subject for replies.
    pub fn new_inbox(&self) -> String {
        self.client().new_inbox()
    }

    /// Publishes a command to `{prefix}.cmd.{action}` the way an integration would: JetStream, with
    /// `Nats-Msg-Id`, `Aduan-Reply-To` and `Authorization: Bearer` when given, awaiting the stream's ack.
    pub async fn send_command(
        &self,
        action: &str,
        body: Vec<u8>,
        msg_id: Option<&str>,
        reply_to: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<(), BusError> {
        let mut headers = async_nats::HeaderMap::new();
        if let Some(t) = bearer {
            headers.insert("Authorization", format!("Bearer {t}").as_str());
        }
        if let Some(id) = msg_id {
            headers.insert("Nats-Msg-Id", id);
        }
        if let Some(r) = reply_to {
            headers.insert("Aduan-Reply-To", r);
        }
        let subject = format!("{}.cmd.{action}", self.prefix());
        let ack = self
            .jetstream()
            .publish_with_headers(subject, headers, body.into())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        ack.await.map(|_| ()).map_err(|e| BusError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_subjects_follow_the_contract() {
        let s = |agency: Option<&str>| event_subject("aduan", agency, "escalated");
        assert_eq!(s(Some("35.78/dinas-pu")), "aduan.evt.35.78.dinas-pu.escalated");
        assert_eq!(s(Some("35.78")), "aduan.evt.35.78._.escalated");
        assert_eq!(s(Some("35")), "aduan.evt.35._._.escalated");
        assert_eq!(s(Some("35/dinkes")), "aduan.evt.35._.dinkes.escalated");
        assert_eq!(s(Some("pln")), "aduan.evt.nasional.pln._.escalated");
        assert_eq!(s(Some("kemenpanrb")), "aduan.evt.nasional.kemenpanrb._.escalated");
        assert_eq!(s(Some("pln/up3-surabaya")), "aduan.evt.nasional.pln.up3-surabaya.escalated");
        assert_eq!(s(None), "aduan.evt._._._.escalated");
        assert_eq!(s(Some("")), "aduan.evt._._._.escalated");
        assert_eq!(event_subject("x-1", Some("11.01"), "submitted"), "x-1.evt.11.01._.submitted");
    }

    #[test]
    fn a_subtree_is_its_levels_and_what_lies_below() {
        let s = |agency: &str| subtree_subjects("aduan", agency);
        assert_eq!(s("35.78/dinas-pu"), ["aduan.evt.35.78.dinas-pu.>"]);
        assert_eq!(s("35.78"), ["aduan.evt.35.78.>", "aduan.queue.35.78.>"]);
        assert_eq!(s("35"), ["aduan.evt.35.>", "aduan.queue.35.>"]);
        assert_eq!(s("35/dinkes"), ["aduan.evt.35._.dinkes.>"]);
        assert_eq!(s("pln"), ["aduan.evt.nasional.pln.>"]);
        assert_eq!(s("kemenpanrb"), ["aduan.evt.>", "aduan.queue.>"]);
    }

    #[test]
    fn queue_subjects_keep_the_kab_kota() {
        assert_eq!(queue_subject("aduan", "35.78.01.2001", "submitted"), "aduan.queue.35.78.submitted");
        assert_eq!(queue_subject("aduan", "35", "verify_overdue"), "aduan.queue.35._.verify_overdue");
        assert_eq!(queue_subject("aduan", "3*.>", "a.b"), "aduan.queue.3_._.a_b");
    }

    #[test]
    fn event_subjects_never_break_the_token_structure() {
        assert_eq!(event_subject("aduan", Some("35.78.01/dinas pu"), "a.b"), "aduan.evt.35.78.dinas_pu.a_b");
        assert_eq!(event_subject("aduan", Some("pl*n/>"), "x"), "aduan.evt.nasional.pl_n._.x");
        assert_eq!(event_subject("aduan", Some("35.78/"), ""), "aduan.evt.35.78._._");
    }

    #[test]
    fn a_url_may_list_a_clusters_servers() {
        assert_eq!(server_list("nats://127.0.0.1:4222"), ["nats://127.0.0.1:4222"]);
        assert_eq!(
            server_list("nats://u:p@a:4222, nats://u:p@b:4222,,nats://u:p@c:4222 "),
            ["nats://u:p@a:4222", "nats://u:p@b:4222", "nats://u:p@c:4222"]
        );
    }

    #[test]
    fn replicas_are_one_to_five() {
        for ok in 1..=5 {
            assert!(check_replicas(ok).is_ok(), "{ok}");
        }
        for bad in [0, 6, 9] {
            assert!(matches!(check_replicas(bad), Err(BusError::Misconfigured(m)) if m.contains("1 to 5")), "{bad}");
        }
    }

    #[test]
    fn prefixes_are_validated() {
        for ok in ["aduan", "ADUAN", "a_b-c9", "x"] {
            assert!(validate_prefix(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a.b", "a b", "a*", "a>", "ädu", "a/b"] {
            assert!(matches!(validate_prefix(bad), Err(BusError::BadPrefix(p)) if p == bad), "{bad}");
        }
    }

    #[test]
    fn server_versions_are_compared_numerically() {
        assert!(version_at_least("2.10.0", 2, 10));
        assert!(version_at_least("2.15.1", 2, 10));
        assert!(version_at_least("2.10.0-RC.1", 2, 10));
        assert!(version_at_least("3.0.0", 2, 10));
        assert!(!version_at_least("2.9.10", 2, 10));
        assert!(!version_at_least("2.2.0", 2, 10));
        assert!(!version_at_least("", 2, 10));
        assert!(!version_at_least("banana", 2, 10));
    }

    #[test]
    fn too_old_names_the_version() {
        let e = BusError::ServerTooOld { version: "2.9.10".to_string() };
        assert_eq!(
            e.to_string(),
            "nats-server 2.9.10 is too old: Aduan needs 2.10 or newer for JetStream features it uses"
        );
    }
}
