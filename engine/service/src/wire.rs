//! Wire types: what HTTP and NATS carry (docs/http.md, docs/nats.md). Separate from the domain types (invariant 7)
//! so the public surface changes only on purpose. Every request type denies unknown fields; the OpenAPI
//! document is generated from these types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use text::{LONG, REASON, SHORT};

pub mod compliance;
pub mod whatsapp;

/// The kinds of report (`Submission.kind`). In the OpenAPI document only: the field stays a string
/// that the service checks, so that a wrong value is a 422 naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// A complaint about a public service.
    Pengaduan,
    /// A suggestion.
    Aspirasi,
    /// A request for information.
    PermintaanInformasi,
}

/// The channels a report comes through (`Submission.channel`); documentation only, like [`ReportKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The web form.
    Web,
    /// SMS.
    Sms,
    /// The mobile app.
    App,
    /// Social media.
    Social,
    /// WhatsApp, typed in by an admin.
    Whatsapp,
    /// At a counter, typed in by an admin.
    Counter,
    /// A letter, typed in by an admin.
    Letter,
    /// Another system.
    Integration,
}

/// Who may see the reporter (`Submission.privacy`); documentation only, like [`ReportKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    /// Everything visible (the reporter's identity never is, publicly).
    Public,
    /// Anonim: the reporter's identity is hidden from the agency and the public.
    Anonymous,
    /// Rahasia: the content is hidden from the public.
    Confidential,
}

/// The actions on a complaint (`ActionRequest.action`); documentation only, like [`ReportKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Verify and dispatch (`agency`, `category`, `investigation`).
    Verify,
    /// Archive (`reason`).
    Archive,
    /// Forward to another agency (`agency`, `reason`).
    Forward,
    /// Respond (`message`).
    Respond,
    /// Ask the reporter for information (`message`).
    RequestInfo,
    /// The reporter's information (`message`).
    ProvideInfo,
    /// Resolve (`message`).
    Resolve,
    /// Reopen (`message`).
    Reopen,
    /// Rate the handling (`score`).
    Rate,
    /// Escalate (`reason`).
    Escalate,
}

/// Reporter identity as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// Name.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Phone, e-mail or other contact.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
}

/// Where a complaint is (`Submission.location`; `ComplaintView.location`, shown where the viewer may see
/// the case's text): coordinates, an address, or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude, WGS 84 degrees, -90 to 90; given with `long`.
    #[serde(default, deserialize_with = "geo::latitude", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// Longitude, WGS 84 degrees, -180 to 180; given with `lat`.
    #[serde(default, deserialize_with = "geo::longitude", skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -180, maximum = 180)]
    pub long: Option<f64>,
    /// The address as written, at most 2,000 characters.
    #[serde(default, deserialize_with = "text::bounded_opt::<REASON, _>", skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub address: Option<String>,
}

/// Puts `value` into the JSON object `obj` under `name`, where `outer.inner` nests it in an object
/// `outer` (`reporter.name`, `location.address`): how a form's fields or an import's columns become the
/// wire types' JSON.
pub fn insert_dotted(obj: &mut serde_json::Map<String, Value>, name: &str, value: Value) {
    match name.split_once('.') {
        Some((outer, inner)) => {
            let slot = obj.entry(outer.to_owned()).or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Value::Object(m) = slot {
                m.insert(inner.to_owned(), value);
            }
        }
        None => {
            obj.insert(name.to_owned(), value);
        }
    }
}

/// The source system a submission comes from, and its own reference to the complaint
/// (docs/integrations.md). Only the source's integration token may file with it; the pair
/// (`system`, `id`) names one case for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// The registered source's name (`aduan source create`).
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub system: String,
    /// The complaint's id in the source system.
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub id: String,
    /// The complaint's address in the source system: an `http` or `https` URL (optional).
    #[serde(default, deserialize_with = "text::http_url_opt", skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
}

/// A stored case the new one may repeat (docs/duplicates.md): found when the case was filed, shown to
/// the viewers who may list cases, and only those they may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateCandidate {
    /// The other case.
    pub id: String,
    /// Its tracking id.
    pub tracking_id: String,
    /// The estimated similarity of the two complaints' text, 0 to 1 (from 0.24 on).
    pub score: f64,
}

/// `POST /v1/bridges/sms`: one text message an SMS gateway received (the `1708` style: free text,
/// perhaps a region code after `#`), posted with the gateway's own source token
/// (docs/integrations.md#bridges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsMessage {
    /// The sender's number: the reporter's contact.
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub from: String,
    /// The message as sent.
    #[serde(deserialize_with = "text::bounded::<LONG, _>")]
    #[schema(max_length = 20000)]
    pub text: String,
    /// The gateway's id of the message: its source reference, so a gateway's retry files nothing new.
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub id: String,
}

/// `POST /v1/complaints` and `{prefix}.cmd.submit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// `pengaduan` | `aspirasi` | `permintaan_informasi`.
    #[schema(value_type = ReportKind)]
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    pub kind: String,
    /// `web` | `sms` | `app` | `social` | `whatsapp` | `counter` | `letter` | `integration`.
    #[schema(value_type = Channel)]
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    pub channel: String,
    /// At most 200 characters.
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub title: String,
    /// At most 20,000 characters.
    #[serde(deserialize_with = "text::bounded::<LONG, _>")]
    #[schema(max_length = 20000)]
    pub body: String,
    /// A category id of the pack (optional: the admin may set it at verify).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub category: Option<String>,
    /// Kemendagri region code.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub region: Option<String>,
    /// `public` (default) | `anonymous` | `confidential`.
    #[schema(value_type = Option<Privacy>)]
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    pub privacy: Option<String>,
    /// The reporter.
    pub reporter: Option<Reporter>,
    /// Idempotency key.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub command_id: Option<String>,
    /// When the report was received on an offline channel (an admin, officer or integration token; not in the future, ≤ 30 days back).
    pub received_at: Option<DateTime<Utc>>,
    /// Where: `lat` and `long` together, an `address`, or both (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// A photo or document of the complaint: an `http` or `https` URL with a host, at most 2,000
    /// characters (optional; the engine stores the link, never fetches it).
    #[serde(default, deserialize_with = "text::http_url_opt", skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub media_url: Option<String>,
    /// The source system and its reference, for a submission from a connected local system (its
    /// integration token only): a resend of the same reference files nothing new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// `POST /v1/complaints/{id}/actions`: `{"action": …, …fields}`; on NATS also `complaint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The action (`verify`, `archive`, `forward`, `respond`, `request_info`, `provide_info`, `resolve`,
    /// `reopen`, `rate`, `escalate`).
    #[schema(value_type = Option<Action>)]
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    pub action: Option<String>,
    /// The complaint (NATS only; HTTP takes it from the path).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub complaint: Option<String>,
    /// Target agency (`verify`, `forward`).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub agency: Option<String>,
    /// Category (`verify`).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub category: Option<String>,
    /// Needs investigation (`verify`).
    pub investigation: Option<bool>,
    /// Reason (`archive`, `forward`, `escalate`).
    #[serde(default, deserialize_with = "text::bounded_opt::<REASON, _>")]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// Message (`respond`, `request_info`, `provide_info`, `resolve`, `reopen`).
    #[serde(default, deserialize_with = "text::bounded_opt::<LONG, _>")]
    #[schema(max_length = 20000)]
    pub message: Option<String>,
    /// Score 1–5 (`rate`).
    #[schema(minimum = 1, maximum = 5)]
    pub score: Option<i64>,
    /// Idempotency key.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    #[schema(max_length = 200)]
    pub command_id: Option<String>,
}

/// One deadline of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    /// Clock name.
    pub clock: String,
    /// Exclusive deadline (null while paused).
    pub due_at: Option<DateTime<Utc>>,
    /// Local date of the last working day.
    pub due_date: Option<String>,
    /// The time zone the clock counts in (its calendar's, an IANA name: `Asia/Jakarta`), in which
    /// `due_date` is a local date.
    pub time_zone: String,
    /// The clock is paused (awaiting the reporter).
    pub paused: bool,
    /// Computed across a provisional date or past the calendar's years.
    pub provisional: bool,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Hash of the pack that decided it.
    pub pack: String,
    /// Event data.
    pub data: Value,
}

/// The complaint view (docs/http.md#complaint-view; who sees what: docs/http.md#visibility). Fields the viewer may not see are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintView {
    /// UUID.
    pub id: String,
    /// `XXXXX-XXXXX`.
    pub tracking_id: String,
    /// Kind.
    #[schema(value_type = ReportKind)]
    pub kind: String,
    /// Channel.
    #[schema(value_type = Channel)]
    pub channel: String,
    /// Category.
    pub category: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Privacy.
    #[schema(value_type = Privacy)]
    pub privacy: String,
    /// Status: a state of the active pack's workflow (`submitted`, `assigned`, …, `closed`, `archived`).
    pub status: String,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Where, when the submission said (withheld with the text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// A photo or document, when the submission gave one (withheld with the text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The source system that filed it and its reference there (withheld with the text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    /// Possible duplicates found when it was filed, best first, in the single view for a viewer who
    /// may list cases (docs/duplicates.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Vec<DuplicateCandidate>>,
    /// Reporter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
    /// Holder.
    pub agency: Option<String>,
    /// Escalation level.
    pub escalation_level: i32,
    /// Deadlines of the running and paused clocks.
    pub deadlines: Vec<DeadlineView>,
    /// Hash of the pack that took the latest decision.
    pub pack: String,
    /// Hash of the last event.
    pub head_hash: String,
    /// Flags.
    pub flags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// History (single view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// The reporter token (only in the answer to a submission).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_token: Option<String>,
}

/// `GET /v1/complaints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplaintList {
    /// Newest first, without history.
    pub items: Vec<ComplaintView>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// All cases in scope.
    pub total: u64,
    /// Resolved or closed.
    pub resolved: u64,
    /// In progress or awaiting the reporter.
    pub in_progress: u64,
    /// Assigned, with no follow-up yet.
    pub not_followed_up: u64,
    /// Open, with a running clock past `due_at`.
    pub overdue: u64,
    /// Escalated at least once while held in the subtree.
    pub escalated: u64,
    /// Archived.
    pub archived: u64,
    /// Median working days from first dispatch to first follow-up.
    pub median_first_response_working_days: Option<f64>,
}

/// An RFC 9457 problem (`application/problem+json`); on NATS the same JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A short title.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What is wrong, naming the field.
    pub detail: String,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For 409: the actions allowed now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

impl Problem {
    /// A problem of `status`, titled by [`title_of`]: every problem Aduan answers, on HTTP or NATS,
    /// starts here, so one status always has one title.
    pub fn new(status: u16, detail: impl Into<String>) -> Problem {
        Problem { title: title_of(status).to_owned(), status, detail: detail.into(), field: None, allowed: None }
    }

    /// 400: a request that cannot be read at all (not JSON, not UTF-8, no action in the subject).
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(400, detail)
    }

    /// The same problem, naming the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Problem {
        self.field = Some(field.into());
        self
    }

    /// The same problem, listing the actions allowed now (409).
    pub fn with_allowed(mut self, allowed: Vec<String>) -> Problem {
        self.allowed = Some(allowed);
        self
    }
}

/// The title of a problem of `status`: the one status → title table of HTTP and NATS.
pub fn title_of(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        413 => "payload too large",
        415 => "unsupported media type",
        422 => "invalid field",
        429 => "too many requests",
        503 => "service unavailable",
        500..=599 => "internal error",
        _ => "error",
    }
}

/// An event as published on NATS and hashed in the store: the exact JSON bytes of this struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventMessage {
    /// UUID v7; also `Nats-Msg-Id`.
    pub event_id: String,
    /// The case (null for a digest).
    pub complaint_id: Option<String>,
    /// Its tracking id.
    pub tracking_id: Option<String>,
    /// Event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Holder after the event.
    pub agency: Option<String>,
    /// Level after the event (null for a digest, which spans cases at every level).
    pub escalation_level: Option<i32>,
    /// Who acted (never the reporter's identity).
    pub actor: String,
    /// Hash of the pack that decided.
    pub pack: String,
    /// Event data.
    pub data: Value,
}

impl EventMessage {
    /// The event as the core reads a history back (`audit verify`'s replay, `policy replay`), as the
    /// `seq`-th of its case.
    pub fn as_replayed(&self, seq: i64) -> aduan_core::replay::ReplayEvent<'_> {
        aduan_core::replay::ReplayEvent {
            seq,
            event_type: &self.event_type,
            at: self.at,
            agency: self.agency.as_deref(),
            escalation_level: self.escalation_level,
            data: &self.data,
        }
    }
}

/// `data` of a digest (an [`EventMessage`] about an agency rather than a case: `complaint_id`,
/// `tracking_id` and `escalation_level` null): the agency's deadlines falling due on its local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DigestData {
    /// The agency's local date, `YYYY-MM-DD`.
    pub date: String,
    /// The agency's time zone (`Asia/Makassar`).
    pub time_zone: String,
    /// How many entries `due` has.
    pub count: usize,
    /// Each running clock due that day, by `due_at`.
    pub due: Vec<DigestEntry>,
}

/// One deadline in a digest. No reporter identity, whatever the privacy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DigestEntry {
    /// The case.
    pub complaint_id: String,
    /// Its tracking id.
    pub tracking_id: String,
    /// The clock (`respond`, `complete`, …).
    pub clock: String,
    /// Its deadline (the exclusive bound: the clock breaches at this instant).
    pub due_at: DateTime<Utc>,
}

/// `GET /readyz`: each part's state (the status is 503 only when the database cannot take writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ok`, or `down: why`.
    pub database: String,
    /// `ok` or `down` (NATS being away keeps the service ready).
    pub nats: String,
    /// The policy pack.
    pub pack: PackReadiness,
}

/// The pack part of [`Readiness`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackReadiness {
    /// Hash of the active pack.
    pub active: String,
    /// The last candidate pack refused, if any.
    pub rejected: Option<RejectedPack>,
}

/// A candidate pack that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedPack {
    /// Its hash (empty when its files could not even be read).
    pub hash: String,
    /// Where it came from: `directory DIR`, `published` (the `{PREFIX}_PACKS` bucket) or `stored`.
    pub source: String,
    /// Every problem, `file:line:col: message`, one a line.
    pub error: String,
    /// When it was refused.
    pub at: DateTime<Utc>,
}

/// `POST /v1/packs`: a whole candidate pack, every file the engine loads (docs/http.md#publishing-a-pack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackUpload {
    /// The pack's YAML and rhai files (not `tests/`), each once.
    pub files: Vec<PackUploadFile>,
}

/// One file of a [`PackUpload`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackUploadFile {
    /// Relative to the pack, `/`-separated (`sla/33.74-kota-semarang.yaml`).
    pub path: String,
    /// The file's text (pack files are UTF-8).
    pub content: String,
}

/// What became of a publish (`PublishRecord.outcome`); documentation only, like [`ReportKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublishOutcome {
    /// The candidate is the active pack now.
    Published,
    /// The candidate is the active pack already: nothing changed.
    Unchanged,
    /// Refused (403): it changes files outside the author's scope (`detail` names them).
    OutOfScope,
    /// Refused (422): the candidate is not a valid pack (`detail` lists every problem).
    Invalid,
}

/// One file a publish changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangedFile {
    /// Relative to the pack.
    pub path: String,
    /// `added`, `removed` or `modified`.
    pub change: String,
    /// Whose the file is: `national`, `region 33.74`, `agency 33.74/dinkes`.
    pub scope: String,
}

/// The record of one publish (`POST /v1/packs` answers it; `GET /v1/packs/publishes` lists them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublishRecord {
    /// UUID v7.
    pub id: String,
    /// When it was offered.
    pub at: DateTime<Utc>,
    /// The author: its token's name, or `oidc:NAME` (never a secret).
    pub actor: String,
    /// The author's role.
    pub role: String,
    /// The author's agency.
    pub agency: String,
    /// What the author may publish: `national`, or the agency whose subtree it reaches (`33.74`).
    pub scope: String,
    /// What became of it.
    #[schema(value_type = PublishOutcome)]
    pub outcome: String,
    /// The active pack's hash before.
    pub hash_before: String,
    /// The candidate's hash.
    pub candidate: String,
    /// The active pack's hash after (the candidate's when published, else `hash_before`).
    pub hash_after: String,
    /// The files the candidate changes, in path order.
    pub files: Vec<ChangedFile>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The `{PREFIX}_PACKS` revision the pack was written at, so every replica takes it; null when it
    /// was not (NATS away: written when the replica reconnects).
    pub bucket_revision: Option<u64>,
}

/// `GET /v1/packs/publishes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublishList {
    /// Newest first.
    pub items: Vec<PublishRecord>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Bounded text on the wire: `deserialize_with` helpers that refuse a string holding a NUL character
/// (PostgreSQL cannot store one) or longer than its limit, so such input is a 422 naming its field on
/// HTTP and NATS alike, before anything is written (docs/http.md, "Limits").
pub mod text {
    use serde::{de::Error, Deserialize, Deserializer};

    /// Ids, codes, names, contacts and idempotency keys: at most 200 characters.
    pub const SHORT: usize = 200;
    /// Reasons (`archive`, `forward`, `escalate`): at most 2,000 characters.
    pub const REASON: usize = 2_000;
    /// A complaint's body and messages: at most 20,000 characters.
    pub const LONG: usize = 20_000;

    /// Why `s` may not be taken as text of at most `max` characters, or `None`.
    pub fn refusal(s: &str, max: usize) -> Option<String> {
        if s.contains('\0') {
            Some("contains a NUL character".to_owned())
        } else if s.chars().count() > max {
            let max = if max >= 1000 { format!("{},{:03}", max / 1000, max % 1000) } else { max.to_string() };
            Some(format!("at most {max} characters"))
        } else {
            None
        }
    }

    /// A string of at most `MAX` characters without NUL.
    pub fn bounded<'de, const MAX: usize, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        refusal(&s, MAX).map_or(Ok(s), |why| Err(D::Error::custom(why)))
    }

    /// An optional string of at most `MAX` characters without NUL.
    pub fn bounded_opt<'de, const MAX: usize, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => refusal(&s, MAX).map_or(Ok(Some(s)), |why| Err(D::Error::custom(why))),
            None => Ok(None),
        }
    }

    /// The first non-blank line of `text`, trimmed, cut to `max` characters (the last one `…`): the
    /// title of a complaint that came without one (an Open311 request, a channel's message).
    pub fn headline(text: &str, max: usize) -> Option<String> {
        let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        Some(if line.chars().count() > max {
            format!("{}…", line.chars().take(max.saturating_sub(1)).collect::<String>())
        } else {
            line.to_owned()
        })
    }

    /// Why `s` may not be taken as a media URL (`http` or `https`, with a host, at most [`REASON`]
    /// characters), or `None`. Parsed by the `url` crate (the WHATWG URL standard), never by hand.
    pub fn url_refusal(s: &str) -> Option<String> {
        if let Some(why) = refusal(s, REASON) {
            return Some(why);
        }
        match url::Url::parse(s) {
            Err(e) => Some(format!("not a URL ({e})")),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                Some(format!("`{}:` URL; only http and https", u.scheme()))
            }
            Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("a URL without a host".to_owned()),
            Ok(_) => None,
        }
    }

    /// An optional `http` or `https` URL ([`url_refusal`]).
    pub fn http_url_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => url_refusal(&s).map_or(Ok(Some(s)), |why| Err(D::Error::custom(why))),
            None => Ok(None),
        }
    }
}

/// Coordinates on the wire: `deserialize_with` helpers that refuse a latitude outside [-90, 90] or a
/// longitude outside [-180, 180], so such input is a 422 naming its field.
pub mod geo {
    use serde::{de::Error, Deserialize, Deserializer};

    /// Why `v` may not be a coordinate within ±`max` degrees, or `None`.
    pub fn refusal(v: f64, max: f64) -> Option<String> {
        (!v.is_finite() || v.abs() > max).then(|| format!("{v} is not between -{max} and {max} degrees"))
    }

    fn within<'de, D: Deserializer<'de>>(d: D, max: f64) -> Result<Option<f64>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            Some(v) => refusal(v, max).map_or(Ok(Some(v)), |why| Err(D::Error::custom(why))),
            None => Ok(None),
        }
    }

    /// An optional latitude, -90 to 90.
    pub fn latitude<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        within(d, 90.0)
    }

    /// An optional longitude, -180 to 180.
    pub fn longitude<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        within(d, 180.0)
    }
}
