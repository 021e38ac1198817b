//! The HTTP API (CONTRACT.md §7), the only module that imports axum. Handlers decode the request, call
//! one service function and encode the answer; errors are `application/problem+json` naming the field.
//!
//! Status precedence: 413 (body over 1 MiB, before parsing) → 400 (not JSON) → 401 → 404 → 403 → 409 →
//! 422 → 429.

use crate::bus::Bus;
use crate::service::{ListQuery, Service, ServiceError};
use crate::wire::{ActionRequest, ComplaintList, ComplaintView, Problem, Stats, Submission};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use utoipa::OpenApi;

/// The largest request body accepted (checked before parsing).
pub const BODY_LIMIT: usize = 1024 * 1024;

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

/// A fixed-window rate limiter per client IP.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute per IP; 0 turns the limiter off.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// `Ok` to go ahead, or `Err(seconds until the window reopens)`.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            return Err(60u64.saturating_sub(now.duration_since(entry.0).as_secs()).max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// An API error: a problem document with its status and extra headers.
#[derive(Debug)]
pub struct ApiError {
    problem: Problem,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, title: &str, detail: impl Into<String>, field: Option<&str>) -> Self {
        let problem = Problem {
            title: title.into(),
            status,
            detail: detail.into(),
            field: field.map(str::to_owned),
            allowed: None,
        };
        Self { problem, retry_after: None }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = e.status();
        let title = match status {
            404 => "not found",
            403 => "forbidden",
            409 => "conflict",
            422 => "invalid field",
            503 => "service unavailable",
            _ => "internal error",
        };
        let mut err = ApiError::new(status, title, e.to_string(), None);
        match e {
            ServiceError::Invalid { field, .. } => err.problem.field = Some(field),
            ServiceError::Conflict { allowed, .. } => err.problem.allowed = Some(allowed),
            ServiceError::Unavailable(_) => err.retry_after = Some(1),
            _ => {}
        }
        err
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
        resp
    }
}

/// The problem for a JSON body that does not decode: 400 when it is not JSON, 422 naming the field.
pub fn decode_problem(e: &serde_json::Error) -> (u16, String, Option<String>) {
    use serde_json::error::Category;
    let msg = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => (400, format!("the body is not valid JSON: {msg}"), None),
        Category::Data => {
            // serde names the field in backquotes: "unknown field `x`", "missing field `kind`".
            let field = msg.split('`').nth(1).map(str::to_owned);
            (422, msg, field)
        }
    }
}

/// A JSON body: 413 past the limit, 400 when not JSON, 422 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(413, "payload too large", format!("the body is over {BODY_LIMIT} bytes"), None)
            } else {
                ApiError::new(400, "bad request", e.body_text(), None)
            }
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            let (status, detail, field) = decode_problem(&e);
            ApiError::new(status, if status == 400 { "bad request" } else { "invalid field" }, detail, field.as_deref())
        })
    }
}

fn idempotency_key(h: &HeaderMap) -> Option<String> {
    h.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

fn limited(state: &ApiState, ip: IpAddr) -> Result<(), ApiError> {
    state.rate.check(ip).map_err(|secs| {
        let mut e = ApiError::new(429, "too many requests", "over the rate limit; retry later", None);
        e.retry_after = Some(secs);
        e
    })
}

/// File a complaint.
#[utoipa::path(post, path = "/v1/complaints", request_body = Submission,
    responses((status = 201, body = ComplaintView), (status = 400, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn submit(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(sub): JsonBody<Submission>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    limited(&s, addr.ip())?;
    let reply = s.service.submit(sub, idempotency_key(&headers), crate::clock::now()).await?;
    Ok((StatusCode::from_u16(reply.status).unwrap_or(StatusCode::CREATED), Json(reply.view)))
}

/// One complaint, by id or tracking id, with its history.
#[utoipa::path(get, path = "/v1/complaints/{id}", params(("id" = String, Path, description = "id or tracking id")),
    responses((status = 200, body = ComplaintView), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn get_one(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    if id.len() == 11 && id.as_bytes()[5] == b'-' {
        limited(&s, addr.ip())?;
    }
    Ok(Json(s.service.get(&id).await?))
}

/// Take an action on a complaint.
#[utoipa::path(post, path = "/v1/complaints/{id}/actions", request_body = ActionRequest, params(("id" = String, Path)),
    responses((status = 200, body = ComplaintView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ActionRequest>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    if req.complaint.as_deref().is_some_and(|c| c != id) {
        return Err(ApiError::new(422, "invalid field", "complaint: differs from the path", Some("complaint")));
    }
    let reply = s.service.act(&id, req, idempotency_key(&headers), bearer(&headers), crate::clock::now()).await?;
    Ok((StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK), Json(reply.view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ListParams {
    agency: Option<String>,
    status: Option<String>,
    overdue: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn query<T: DeserializeOwned>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v).map_err(|e| {
        let text = e.body_text();
        let field = text.split('`').nth(1).map(str::to_owned);
        ApiError::new(422, "invalid field", text, field.as_deref())
    })
}

/// Complaints, newest first.
#[utoipa::path(get, path = "/v1/complaints", params(ListParams), responses((status = 200, body = ComplaintList), (status = 422, body = Problem)))]
async fn list(
    State(s): State<ApiState>,
    q: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ComplaintList>, ApiError> {
    let p = query(q)?;
    let q = ListQuery {
        agency: p.agency,
        status: p.status,
        overdue: p.overdue.unwrap_or(false),
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(s.service.list(q, crate::clock::now()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    agency: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// Statistics of an agency's subtree.
#[utoipa::path(get, path = "/v1/stats", params(StatsParams), responses((status = 200, body = Stats), (status = 422, body = Problem)))]
async fn stats(
    State(s): State<ApiState>,
    q: Result<Query<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    let p = query(q)?;
    Ok(Json(s.service.stats(p.agency.as_deref(), p.from, p.to, crate::clock::now()).await?))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<ApiState>) -> Response {
    let db = s.service.store().check_writable().await;
    let bus = s.bus.read().unwrap_or_else(|e| e.into_inner()).clone();
    let nats = match bus {
        Some(b) if b.is_connected().await => "ok",
        _ => "down",
    };
    let body = serde_json::json!({
        "database": if db.is_ok() { "ok".to_owned() } else { format!("down: {}", db.as_ref().err().map(|e| e.to_string()).unwrap_or_default()) },
        "nats": nats,
        "pack": {"active": s.service.pack().hash, "rejected": null},
    });
    let status = if db.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn metrics(State(s): State<ApiState>) -> Response {
    let store = s.service.store();
    let backlog = store.outbox_backlog().await.unwrap_or(-1);
    let timers = store.open_timer_count().await.unwrap_or(-1);
    let text = s.service.metrics().render(backlog, timers);
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// The OpenAPI document, generated from the wire types.
#[derive(OpenApi)]
#[openapi(
    info(title = "Aduan", description = "Public-service complaint handling (SP4N-LAPOR! style)"),
    paths(submit, get_one, act, list, stats),
    components(schemas(
        Submission,
        ActionRequest,
        ComplaintView,
        ComplaintList,
        Stats,
        Problem,
        crate::wire::EventMessage
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(404, "not found", "no such endpoint", None)
}

/// The router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/complaints", post(submit).get(list))
        .route("/v1/complaints/{id}", get(get_one))
        .route("/v1/complaints/{id}/actions", post(act))
        .route("/v1/stats", get(stats))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
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
