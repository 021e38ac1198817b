//! Row types the store reads and writes. They mirror the tables one to one; the service maps them to
//! and from core domain types. Instants are `DateTime<Utc>` here and BIGINT epoch milliseconds in SQL
//! (the same on SQLite and PostgreSQL, so ordering and indexes behave alike).

use chrono::{DateTime, Utc};

/// `complaints`: a case's current state. (`PartialEq` only: the coordinates are floating point.)
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    /// UUID v7, text.
    pub id: String,
    /// `XXXXX-XXXXX`, unique.
    pub tracking_id: String,
    /// `pengaduan` | `aspirasi` | `permintaan_informasi`.
    pub kind: String,
    /// Channel name.
    pub channel: String,
    /// Category id, once known.
    pub category: Option<String>,
    /// Kemendagri region code, if given.
    pub region: Option<String>,
    /// `public` | `anonymous` | `confidential`.
    pub privacy: String,
    /// Workflow state.
    pub status: String,
    /// The holding agency (null before dispatch).
    pub agency: Option<String>,
    /// 0 until escalated.
    pub escalation_level: i32,
    /// JSON array of flags, e.g. `["ombudsman_referral"]`.
    pub flags: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Reporter identity as stored: JSON `{"name","contact"}`, or for anonymous reports the sealed form.
    pub reporter: Option<String>,
    /// JSON object of engine state that needs no index (investigation flag, forward counts, rating).
    pub state: String,
    /// When the case was created (its clocks' origin unless `received_at` moved it).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Hash of the pack that took the latest decision.
    pub pack: String,
    /// Sequence number of the last event.
    pub head_seq: i64,
    /// Hash of the last event.
    pub head_hash: String,
    /// First dispatch (first `assigned` event), for statistics.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// First follow-up (respond, request_info or resolve), for statistics.
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The agency that made the first follow-up.
    pub first_followup_agency: Option<String>,
    /// Latitude of the complaint's place, WGS 84 degrees in [-90, 90] (with `location_long`).
    pub location_lat: Option<f64>,
    /// Longitude, WGS 84 degrees in [-180, 180] (with `location_lat`).
    pub location_long: Option<f64>,
    /// The address as the reporter wrote it.
    pub location_address: Option<String>,
    /// An http(s) URL of a photo or document of the complaint.
    pub media_url: Option<String>,
    /// The source system that filed it (docs/integrations.md), with `source_ref`.
    pub source_system: Option<String>,
    /// The case's id in the source system; (system, ref) is unique.
    pub source_ref: Option<String>,
    /// The case's address in the source system.
    pub source_url: Option<String>,
}

/// `events`: the append-only, hash-chained history of one case. Messages about no case (a morning
/// digest) go to the outbox only, never here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// UUID v7, text; also the NATS `Nats-Msg-Id`.
    pub id: String,
    /// The case.
    pub complaint_id: String,
    /// 1, 2, 3… per case; UNIQUE(complaint_id, seq) keeps a chain from forking.
    pub seq: i64,
    /// Event type (`submitted`, `assigned`, …).
    pub event_type: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (`system`, `admin:…`, `reporter`, …).
    pub actor: String,
    /// The holder after the event.
    pub agency: Option<String>,
    /// The level after the event.
    pub escalation_level: i32,
    /// Hash of the pack that decided it.
    pub pack: String,
    /// The exact JSON bytes hashed (TEXT, never jsonb).
    pub payload: String,
    /// Hash of the previous event ("" for the first).
    pub prev_hash: String,
    /// SHA-256 hex over prev_hash and payload.
    pub hash: String,
}

/// `timers`: one row per running or paused clock of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRow {
    /// The case.
    pub complaint_id: String,
    /// Clock name; PRIMARY KEY(complaint_id, clock).
    pub clock: String,
    /// Bumped when the clock restarts or a manual escalation resets its rungs.
    pub generation: i64,
    /// `days` | `hours`.
    pub budget_kind: String,
    /// Working days or hours.
    pub budget: i64,
    /// Warning point in thousandths.
    pub warn_permille: i32,
    /// `region:35.78`, `agency:35.78/dinas-pu`, `national`.
    pub calendar_ref: String,
    /// When the clock started.
    pub started_at: DateTime<Utc>,
    /// JSON array of `{"from","to"}`.
    pub suspensions: String,
    /// `running` | `paused`.
    pub status: String,
    /// Derived deadline (null while paused).
    pub due_at: Option<DateTime<Utc>>,
    /// Derived warning point (null while paused).
    pub warn_at: Option<DateTime<Utc>>,
    /// The earliest instant a sweep has something to do (null while paused or when all rungs fired).
    pub next_action_at: Option<DateTime<Utc>>,
    /// The SLA layer that set the budget (provenance).
    pub sla_source: String,
}

/// `outbox`: events waiting to be published, in id order (so each case's events go out in seq order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Autoincrement position.
    pub id: i64,
    /// The event id (= `Nats-Msg-Id`).
    pub event_id: String,
    /// NATS subject.
    pub subject: String,
    /// Wire JSON.
    pub payload: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A running clock whose deadline falls in a digest's window, with its case (the morning digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// The case.
    pub complaint_id: String,
    /// Its tracking id.
    pub tracking_id: String,
    /// The agency holding the case.
    pub agency: String,
    /// The case's workflow state.
    pub status: String,
    /// Clock name.
    pub clock: String,
    /// The deadline.
    pub due_at: DateTime<Utc>,
}

/// `api_tokens`: an API token without its secret (docs/access.md#tokens).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    /// Unique, also after revocation; the history names the actor by it.
    pub name: String,
    /// The role's wire name (`admin`, `officer`, …).
    pub role: String,
    /// The root of the agency subtree the token reaches.
    pub agency: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `sources`: a source system (docs/integrations.md): a city's own hotline or app, its integration
/// token and where its cases' events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// The system's name, as submissions name it in `source.system`.
    pub name: String,
    /// The integration token it submits with (a row of `api_tokens`).
    pub token_name: String,
    /// Where its cases' events are posted, if anywhere.
    pub webhook_url: Option<String>,
    /// The webhooks' HMAC key, sealed with the data key.
    pub webhook_secret: Option<String>,
    /// For a WhatsApp number: the Meta app's secret that signs its webhooks, sealed with the data key.
    pub whatsapp_app_secret: Option<String>,
    /// For a WhatsApp number: the SHA-256 of the subscription handshake's verify token.
    pub whatsapp_verify_sha256: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// A webhook delivery due now (docs/integrations.md#webhooks): the earliest undelivered event of its
/// case, with where it goes and the sealed key it is signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDue {
    /// Its row.
    pub id: i64,
    /// The source system.
    pub source: String,
    /// The event's id (the receiver's deduplication key).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The event message, as published on NATS.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The source's webhook URL.
    pub url: String,
    /// The source's webhook secret, sealed with the data key.
    pub secret_sealed: String,
}

/// A webhook delivery that was dead-lettered after its last attempt (the dashboard's list).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedWebhook {
    /// The source system.
    pub source: String,
    /// The case.
    pub complaint_id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// Attempts made.
    pub attempts: i64,
    /// Why the last one failed (a status or a connection error; never the body sent).
    pub last_error: Option<String>,
    /// When it was given up.
    pub failed_at: DateTime<Utc>,
}

/// `pack_publishes`: one pack a policy author offered, published or refused (docs/access.md#publishing-packs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRow {
    /// UUID v7 (so ids sort by time).
    pub id: String,
    /// When it was offered.
    pub at: DateTime<Utc>,
    /// The author's name: its token's name or OIDC subject, never a secret.
    pub actor: String,
    /// The author's role (`policy_author`).
    pub role: String,
    /// The author's agency.
    pub agency: String,
    /// What the author may publish: `national`, or the agency whose subtree it reaches.
    pub scope: String,
    /// `published`, `unchanged`, `out_of_scope` or `invalid`.
    pub outcome: String,
    /// The active pack's hash when it was offered.
    pub hash_before: String,
    /// The candidate's hash.
    pub candidate: String,
    /// The active pack's hash afterwards (the candidate's when published).
    pub hash_after: String,
    /// JSON list of the changed files, `{"path", "change", "scope"}`.
    pub files: String,
    /// Why it was refused (every file out of scope, or every problem).
    pub detail: Option<String>,
    /// The `{PREFIX}_PACKS` revision it was written at, when it was.
    pub bucket_revision: Option<i64>,
}

/// `processed_commands`: idempotency keys and what they answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// `submit`, or `{complaint_id}:{action}`.
    pub scope: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the canonical request body: the same key with another body is a 409.
    pub request_hash: String,
    /// HTTP status first answered.
    pub status: i32,
    /// The case it touched.
    pub complaint_id: Option<String>,
    /// For submissions: the reporter token, sealed, kept 24 h then cleared.
    pub reporter_token_sealed: Option<String>,
    /// When it was first processed.
    pub created_at: DateTime<Utc>,
}

/// Filter of `GET /v1/complaints`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// Only cases held by this agency or an agency under it (see [`subtree_patterns`]).
    pub agency: Option<String>,
    /// With `agency`: also the cases no agency holds yet that were filed in this region or below it
    /// (the queue of a regional government awaiting verification).
    pub region: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only cases with a running clock whose `due_at` ≤ this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Page size.
    pub limit: i64,
    /// Continue after this (created_at ms, id) position, newest first (with [`CaseOrder::Newest`] only).
    pub cursor: Option<(i64, String)>,
    /// The order of the page.
    pub order: CaseOrder,
}

/// The order of a list of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseOrder {
    /// Newest first by (created_at, id): pages continue by cursor.
    #[default]
    Newest,
    /// A queue: the soonest deadline of a running clock first, cases without one last, then newest.
    SoonestDue,
}

/// An agency's subtree, as SQL LIKE patterns over agency ids: the id itself, its units (`{id}/…`) and,
/// for a province, its kab/kota (`{id}.…`). `kemenpanrb` covers everything (no patterns: no filter).
/// The id is matched literally (`agency=%` finds nothing): the patterns are for `LIKE … ESCAPE '\'`.
pub fn subtree_patterns(agency: &str) -> Option<Vec<String>> {
    if agency == "kemenpanrb" {
        return None;
    }
    let id = like_literal(agency);
    let mut p = vec![id.clone(), format!("{id}/%")];
    if agency.len() == 2 && agency.bytes().all(|b| b.is_ascii_digit()) {
        p.push(format!("{id}.%"));
    }
    Some(p)
}

/// `s` as a LIKE pattern that matches only itself, under `ESCAPE '\'`: its `\`, `%` and `_` escaped.
pub(crate) fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
