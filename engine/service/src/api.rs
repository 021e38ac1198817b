//! The HTTP API (docs/http.md); with `web` (merged here) and `open311` (nested here at `/open311/v2`),
//! the only modules that import axum. Handlers decode the request, call one service function and
//! encode the answer; errors are `application/problem+json` naming the field.
//!
//! Status precedence: 413 (body over 1 MiB, before parsing) → 400 (not JSON) → 401 → 404 → 403 → 409 →
//! 422 → 429. `POST /v1/packs` asks for the token first (401, 403 for a role that may not publish), then
//! reads its body (up to 40 MiB).

mod bridges;

use crate::bus::Bus;
use crate::metrics::{self, Format, Readings};
use crate::problem;
use crate::service::{Caller, ListQuery, Service, ServiceError};
use crate::store::CaseOrder;
use crate::wire::compliance::{csv as compliance_csv, ComplianceReport, ReportFormat};
use crate::wire::text::{self, SHORT};
use crate::wire::{
    ActionRequest, ComplaintList, ComplaintView, PackReadiness, PackUpload, Problem, PublishList, PublishRecord,
    Readiness, SmsMessage, Stats, Submission,
};
use aduan_core::pack::PackFile;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use utoipa::OpenApi;

/// The largest request body accepted (checked before parsing).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The largest body of `POST /v1/packs`: a pack's files may hold 32 MiB, and JSON escapes some of it.
pub const PACK_BODY_LIMIT: usize = 40 * 1024 * 1024;

/// What the API needs besides the service.
#[derive(Clone)]
pub struct ApiState {
    /// The service.
    pub service: Service,
    /// The NATS connection once established (NATS may be away; the API works without it).
    pub bus: Arc<RwLock<Option<Bus>>>,
    /// Submissions and reads by tracking id per minute per client IP (0 = off).
    pub rate: Arc<RateLimiter>,
}

/// Client IPs kept by the rate limiter before the idle ones are dropped.
const RATE_MEMORY: usize = 100_000;

/// Who a rate limit counts: a caller with a token by its token, everyone else by client IP.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// No token: the client's IP.
    Ip(IpAddr),
    /// A token's name (API token or JWT subject) or a reporter token's hash.
    Token(String),
}

impl RateKey {
    fn of(caller: &Caller, ip: IpAddr) -> Self {
        match caller {
            Caller::Public => RateKey::Ip(ip),
            Caller::Principal(a) => RateKey::Token(a.name.clone()),
            Caller::Bearer(t) => RateKey::Token(crate::crypto::sha256_hex(t.as_bytes())),
        }
    }
}

/// The rate limit per client IP or token: governor's GCRA, `per_minute` requests per minute with
/// bursts of up to `per_minute` (a client that used its burst gets one more every `60 / per_minute`
/// seconds).
#[derive(Debug)]
pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<RateKey>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute per IP or token; 0 turns the limiter off.
    pub fn new(per_minute: u32) -> Self {
        Self { limiter: NonZeroU32::new(per_minute).map(|n| GovernorLimiter::keyed(Quota::per_minute(n))) }
    }

    /// `Ok` to go ahead, or `Err(whole seconds until the next request is allowed, at least 1)`.
    pub fn check(&self, key: &RateKey) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        if limiter.len() > RATE_MEMORY {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// An API error: a problem document with its status and extra headers.
#[derive(Debug)]
pub struct ApiError {
    problem: Problem,
    retry_after: Option<u64>,
}

impl ApiError {
    /// The problem document it answers with.
    pub(crate) fn problem(self) -> Problem {
        self.problem
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self { problem, retry_after: None }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self { problem: problem::problem(&e), retry_after: problem::is_transient(&e).then_some(1) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(&self.problem)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        resp
    }
}

/// Whether a `Content-Type` names JSON: `application/json` or `application/…+json`, any parameters.
fn is_json(ct: &HeaderValue) -> bool {
    let Ok(ct) = ct.to_str() else { return false };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body: 415 when its `Content-Type` names something else (none at all is taken as JSON), 413
/// past the limit, 400 when not JSON, 422 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_body(req, state, BODY_LIMIT).await.map(JsonBody)
    }
}

/// Reads a JSON body as [`JsonBody`] does, `limit` being the route's body limit (its
/// `DefaultBodyLimit`), named in the 413.
async fn json_body<S: Send + Sync, T: DeserializeOwned>(req: Request, state: &S, limit: usize) -> Result<T, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        if !is_json(ct) {
            let ct = String::from_utf8_lossy(ct.as_bytes()).chars().take(100).collect::<String>();
            return Err(Problem::new(415, format!("the body must be application/json, not `{ct}`")).into());
        }
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(413, format!("the body is over {limit} bytes"))
        } else {
            Problem::bad_request(e.body_text())
        }
    })?;
    Ok(problem::decode_json(&bytes)?)
}

/// The `Idempotency-Key` header: 422 naming it when it is not text of at most [`SHORT`] characters.
fn idempotency_key(h: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = h.get("idempotency-key") else { return Ok(None) };
    let key = v.to_str().map_err(|_| ServiceError::invalid("Idempotency-Key", "not visible ASCII"))?;
    bounded("Idempotency-Key", key.to_owned()).map(Some)
}

/// A complaint id or tracking id from the path: 422 naming `id` when it cannot be one (a NUL, or too long).
fn path_id(id: String) -> Result<String, ApiError> {
    bounded("id", id)
}

/// `value` when it is text of at most [`SHORT`] characters, else the 422 naming `field`.
fn bounded(field: &str, value: String) -> Result<String, ApiError> {
    match text::refusal(&value, SHORT) {
        Some(why) => Err(ServiceError::invalid(field, why).into()),
        None => Ok(value),
    }
}

/// The challenge of every 401 (RFC 6750).
const CHALLENGE: &str = "Bearer realm=\"aduan\"";

/// The caller the `Authorization` header names: none is the public; anything but `Bearer TOKEN`, or a
/// token that does not authenticate, is 401.
async fn caller(s: &ApiState, h: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(v) = h.get(header::AUTHORIZATION) else { return Ok(Caller::Public) };
    let bearer = v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(|| {
        ApiError::from(ServiceError::Unauthenticated("the Authorization header must be `Bearer TOKEN`".into()))
    })?;
    Ok(s.service.authenticate(Some(bearer)).await?)
}

/// 429 when `caller` (by token, else by client IP) is over the rate limit; the pages count with it too.
pub(crate) fn limited(state: &ApiState, caller: &Caller, ip: IpAddr) -> Result<(), ApiError> {
    limited_at(state, caller, ip).map_err(|secs| ApiError {
        problem: Problem::new(429, "over the rate limit; retry later"),
        retry_after: Some(secs),
    })
}

/// The rate limit for `caller` at `ip` (by its token, else by IP): `Err(seconds to wait)` when over
/// it. Both doors, this API and Open311, count on the same limiter.
pub(crate) fn limited_at(state: &ApiState, caller: &Caller, ip: IpAddr) -> Result<(), u64> {
    state.rate.check(&RateKey::of(caller, ip))
}

/// File a complaint.
#[utoipa::path(post, path = "/v1/complaints", request_body = Submission,
    params(("Idempotency-Key" = Option<String>, Header, description = "Idempotency key (or `command_id`)")),
    responses(
        (status = 201, description = "Filed (a replay of the same idempotency key answers the same): the view with `reporter_token`", body = ComplaintView),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An idempotency key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body's Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit per client IP", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database cannot take the request now, or the case kept changing under it; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn submit(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(sub): JsonBody<Submission>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let who = caller(&s, &headers).await?;
    limited(&s, &who, addr.ip())?;
    let reply = s.service.submit(sub, idempotency_key(&headers)?, &who, crate::clock::now()).await?;
    Ok((StatusCode::from_u16(reply.status).unwrap_or(StatusCode::CREATED), Json(reply.view)))
}

/// One complaint, by id or tracking id, with its history.
#[utoipa::path(get, path = "/v1/complaints/{id}", params(("id" = String, Path, description = "id or tracking id")),
    responses(
        (status = 200, description = "The complaint view with `history`", body = ComplaintView),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The id cannot be one: a NUL character, or over 200 characters (`field`: `id`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit per client IP", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is away; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn get_one(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    let who = caller(&s, &headers).await?;
    let id = path_id(id)?;
    if crate::crypto::is_tracking_id(&id) {
        limited(&s, &who, addr.ip())?;
    }
    Ok(Json(s.service.get(&id, &who).await?))
}

/// Take an action on a complaint.
#[utoipa::path(post, path = "/v1/complaints/{id}/actions", request_body = ActionRequest,
    params(("id" = String, Path, description = "id or tracking id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Idempotency key (or `command_id`)")),
    responses(
        (status = 200, description = "Done (a replay of the same idempotency key answers the same): the view", body = ComplaintView),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The action is outside the caller's role or scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the case's state (`allowed` lists the actions allowed now), or an idempotency key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body's Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot take the request now, or the case kept changing under it; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn act(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ActionRequest>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    if req.complaint.as_deref().is_some_and(|c| c != id) {
        return Err(Problem::new(422, "complaint: differs from the path").with_field("complaint").into());
    }
    let who = caller(&s, &headers).await?;
    let id = path_id(id)?;
    let reply = s.service.act(&id, req, idempotency_key(&headers)?, &who, crate::clock::now()).await?;
    Ok((StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK), Json(reply.view)))
}

/// The query of `GET /v1/complaints`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Cases held by this agency or any agency under it.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    agency: Option<String>,
    /// Cases in this state of the pack's workflow (`assigned`, `in_progress`, …).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    status: Option<String>,
    /// Only open cases with a running clock past `due_at`.
    overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (`order=newest` only).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    cursor: Option<String>,
    /// `newest` (default: newest first, paged by cursor) or `due` (a queue: the soonest deadline of a
    /// running clock first, one page).
    #[param(inline)]
    order: Option<ListOrder>,
}

/// The order of `GET /v1/complaints`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum ListOrder {
    /// Newest first.
    Newest,
    /// Soonest deadline first.
    Due,
}

impl From<ListOrder> for CaseOrder {
    fn from(o: ListOrder) -> Self {
        match o {
            ListOrder::Newest => CaseOrder::Newest,
            ListOrder::Due => CaseOrder::SoonestDue,
        }
    }
}

/// Decodes a query string, 422 naming the parameter (from the deserializer's path, as for bodies).
fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
        .map_err(|e| problem::invalid_at(e.path(), &e.inner().to_string()).into())
}

/// Complaints, newest first.
#[utoipa::path(get, path = "/v1/complaints", params(ListParams),
    responses(
        (status = 200, description = "A page of complaints, newest first, without history", body = ComplaintList),
        (status = 422, description = "A query parameter is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is away; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn list(
    State(s): State<ApiState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<ComplaintList>, ApiError> {
    let who = caller(&s, &headers).await?;
    let p: ListParams = query(q.as_deref())?;
    let q = ListQuery {
        agency: p.agency,
        status: p.status,
        overdue: p.overdue.unwrap_or(false),
        limit: p.limit,
        cursor: p.cursor,
        order: p.order.map_or(CaseOrder::Newest, CaseOrder::from),
    };
    Ok(Json(s.service.list(q, &who, crate::clock::now()).await?))
}

/// The query of `GET /v1/stats`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    /// The agency whose subtree is counted (default: every case).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    agency: Option<String>,
    /// Cases created at or after this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Cases created before this instant (RFC 3339).
    to: Option<DateTime<Utc>>,
}

/// Statistics of an agency's subtree.
#[utoipa::path(get, path = "/v1/stats", params(StatsParams),
    responses(
        (status = 200, description = "Statistics of the cases created in [`from`, `to`)", body = Stats),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is away; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn stats(State(s): State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Result<Json<Stats>, ApiError> {
    let who = caller(&s, &headers).await?;
    let p: StatsParams = query(q.as_deref())?;
    Ok(Json(s.service.stats(p.agency.as_deref(), p.from, p.to, &who, crate::clock::now()).await?))
}

/// The query of `GET /v1/reports/compliance`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ComplianceParams {
    /// The agency whose subtree is reported (default: the caller's own; `kemenpanrb` for the national
    /// admin).
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    agency: Option<String>,
    /// The month, `YYYY-MM`, counted in the agency's time zone.
    #[param(pattern = r"^\d{4}-\d{2}$", example = "2026-08")]
    #[serde(deserialize_with = "text::bounded::<SHORT, _>")]
    month: String,
    /// `json` (the default) or `csv`: the same rows as CSV.
    format: Option<ReportFormat>,
}

/// The compliance report of an agency's subtree for one month (docs/reports.md).
#[utoipa::path(get, path = "/v1/reports/compliance", params(ComplianceParams),
    responses(
        (status = 200, description = "The report: one row per unit and the total; with `format=csv`, the same rows as CSV", content(
            (ComplianceReport = "application/json"),
            (String = "text/csv; charset=utf-8"))),
        (status = 401, description = "No token, or a token that authenticates nothing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency, or one outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is wrong (`field` names it: `month`, `format`, …)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is away; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn compliance(
    State(s): State<ApiState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let who = caller(&s, &headers).await?;
    let p: ComplianceParams = query(q.as_deref())?;
    let report = s.service.compliance(p.agency.as_deref(), &p.month, &who, crate::clock::now()).await?;
    Ok(match p.format.unwrap_or_default() {
        ReportFormat::Json => Json(report).into_response(),
        ReportFormat::Csv => {
            let file =
                format!("attachment; filename=\"compliance-{}-{}.csv\"", report.agency.replace('/', "_"), report.month);
            let disposition = HeaderValue::from_str(&file).unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            let headers = [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                (header::CONTENT_DISPOSITION, disposition),
            ];
            (headers, compliance_csv(&report)).into_response()
        }
    })
}

/// Publish a policy pack: a policy author's whole candidate, within its scope.
#[utoipa::path(post, path = "/v1/packs", request_body = PackUpload,
    responses(
        (status = 200, description = "Published (or unchanged: it is the active pack already): the record", body = PublishRecord),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a token that authenticates nothing", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not publish packs, or the candidate changes files outside its scope (`detail` names each)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 40 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body's Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A file the engine may not read (`field` names it), or an invalid pack (`detail` lists every problem)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database or NATS cannot take the pack now; nothing changed; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn publish(State(s): State<ApiState>, req: Request) -> Result<Json<PublishRecord>, ApiError> {
    let who = caller(&s, req.headers()).await?;
    // Who may publish at all is asked before a large body is read.
    let author = s.service.author(&who)?;
    let upload: PackUpload = json_body(req, &s, PACK_BODY_LIMIT).await?;
    let files = upload.files.into_iter().map(|f| PackFile { path: f.path, bytes: f.content.into_bytes() }).collect();
    let bus = s.bus.read().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Json(s.service.publish_pack(&author, files, bus.as_ref(), crate::clock::now()).await?))
}

/// The query of `GET /v1/packs/publishes`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PublishesParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default, deserialize_with = "text::bounded_opt::<SHORT, _>")]
    cursor: Option<String>,
}

/// The record of every pack publish, newest first: the national admin's.
#[utoipa::path(get, path = "/v1/packs/publishes", params(PublishesParams),
    responses(
        (status = 200, description = "A page of publish records, newest first", body = PublishList),
        (status = 401, description = "No token, or a token that authenticates nothing", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only the national admin reads the publish records", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is away; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
async fn publishes(
    State(s): State<ApiState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<PublishList>, ApiError> {
    let who = caller(&s, &headers).await?;
    let p: PublishesParams = query(q.as_deref())?;
    Ok(Json(s.service.publishes(&who, p.limit, p.cursor.as_deref()).await?))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz",
    responses((status = 200, description = "The process is alive", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: whether the database takes writes; NATS and the pack are reported without failing on them.
#[utoipa::path(get, path = "/readyz",
    responses(
        (status = 200, description = "Ready (NATS may still be down)", body = Readiness),
        (status = 503, description = "The database cannot take writes", body = Readiness)
    ))]
async fn readyz(State(s): State<ApiState>) -> Response {
    let db = s.service.store().check_writable().await;
    let bus = s.bus.read().unwrap_or_else(|e| e.into_inner()).clone();
    let nats = match bus {
        Some(b) if b.is_connected().await => "ok",
        _ => "down",
    };
    let body = Readiness {
        database: match &db {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("down: {e}"),
        },
        nats: nats.to_owned(),
        pack: PackReadiness { active: s.service.pack().hash.clone(), rejected: s.service.rejected_pack() },
    };
    let status = if db.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Prometheus metrics: the Prometheus text format 0.0.4, or OpenMetrics when `Accept` asks for it.
#[utoipa::path(get, path = "/metrics",
    params(("Accept" = Option<String>, Header, description = "`application/openmetrics-text` for OpenMetrics; anything else (or none) gets the Prometheus text format 0.0.4")),
    responses((status = 200, description = "The metrics (docs/operations.md#metrics)", content(
        (String = "text/plain; version=0.0.4; charset=utf-8"),
        (String = "application/openmetrics-text; version=1.0.0; charset=utf-8")))))]
async fn metrics(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    let store = s.service.store();
    let oldest = store.outbox_oldest().await;
    let readings = Readings {
        outbox_backlog: store.outbox_backlog().await.unwrap_or(-1),
        outbox_oldest_age: match oldest {
            Ok(Some(at)) => (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0,
            Ok(None) => 0.0,
            Err(_) => -1.0,
        },
        open_timers: if s.service.metrics().open_timers_due() {
            Some(store.open_timer_count().await.unwrap_or(-1))
        } else {
            None
        },
        pack_rejected: s.service.rejected_pack().is_some(),
    };
    let format = Format::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let text = s.service.metrics().render(format, readings);
    ([(header::CONTENT_TYPE, format.content_type())], text).into_response()
}

/// Counts every answer in the metrics (by route template, never the path as sent) and writes one
/// access line per request at info: method, route template, status and duration; no query string,
/// no header, so neither an identity nor a token can reach the log.
async fn observe(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = metrics::method_label(req.method().as_str());
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let took = started.elapsed();
    s.service.metrics().http(method, &route, status, took);
    tracing::info!(target: "aduan::access", method = %method, route = %route, status, elapsed_ms = took.as_secs_f64() * 1000.0, "request");
    resp
}

/// The OpenAPI document, generated from the wire types.
#[derive(OpenApi)]
#[openapi(
    info(title = "Aduan", description = "Public-service complaint handling (SP4N-LAPOR! style)"),
    paths(
        submit,
        bridges::sms,
        bridges::whatsapp_handshake,
        bridges::whatsapp,
        get_one,
        act,
        list,
        stats,
        compliance,
        publish,
        publishes,
        healthz,
        readyz,
        metrics
    ),
    components(schemas(
        Submission,
        SmsMessage,
        ActionRequest,
        ComplaintView,
        ComplaintList,
        Stats,
        ComplianceReport,
        crate::wire::compliance::ComplianceRow,
        crate::wire::compliance::ComplianceFigures,
        crate::wire::compliance::ZoneThresholds,
        crate::wire::compliance::ZoneName,
        ReportFormat,
        Problem,
        Readiness,
        PackUpload,
        PublishRecord,
        PublishList,
        crate::wire::PublishOutcome,
        crate::wire::EventMessage,
        crate::wire::ReportKind,
        crate::wire::Channel,
        crate::wire::Privacy,
        crate::wire::Action
    ))
)]
pub struct ApiDoc;

/// The served document: the JSON API's and Open311's paths.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::open311::Open311Doc::openapi());
    doc
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

async fn not_found() -> ApiError {
    Problem::new(404, "no such endpoint").into()
}

/// The router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/complaints", post(submit).get(list))
        .route("/v1/complaints/{id}", get(get_one))
        .route("/v1/complaints/{id}/actions", post(act))
        .route("/v1/bridges/sms", post(bridges::sms))
        .route("/v1/bridges/whatsapp/{source}", get(bridges::whatsapp_handshake).post(bridges::whatsapp))
        .route("/v1/stats", get(stats))
        .route("/v1/reports/compliance", get(compliance))
        .route("/v1/packs", post(publish).layer(DefaultBodyLimit::max(PACK_BODY_LIMIT)))
        .route("/v1/packs/publishes", get(publishes))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(crate::web::router())
        .nest(crate::open311::PREFIX, crate::open311::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` is cancelled, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
