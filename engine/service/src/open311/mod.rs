//! Open311 GeoReport v2 at `/open311/v2` (docs/open311.md): the HTTP layer of a second door, beside
//! the JSON API of `api.rs`, and with it the only modules that import axum. Handlers decode the spec's
//! parameters, call the same service functions as the JSON API (`submit`, `get`, and `browse` for the
//! public listing) with the same access checks, and write the spec's shapes (`spec.rs`) as JSON or
//! XML (`xml.rs`) by the path's extension. Nothing here decides who may see what: a case reaches an
//! Open311 answer only as the service rendered it for the public.
//!
//! Errors are the spec's error list (`[{"code": 400, "description": "…"}]`, `<errors><error>…`), its
//! `code` the answer's status: 400 for a parameter that is wrong or missing (the description starts
//! with its name), 403 for an `api_key` that is missing, does not authenticate or is no API token, 404
//! for an unknown service or request, 413, 415, 429 and 503 as on the JSON API. Bad input is never a
//! 5xx.

pub mod spec;
pub mod xml;

use crate::api::{limited_at, ApiState};
use crate::crypto::is_tracking_id;
use crate::problem;
use crate::service::{BrowseQuery, Caller, Service, ServiceError, BROWSE_LIMIT};
use crate::wire::{ComplaintView, Location, Reporter, Submission, SHORT};
use aduan_core::clock::Clock;
use aduan_core::directory::{Handler, RegionStatus};
use aduan_core::event::EventType;
use aduan_core::pack::Pack;
use aduan_core::region::{time_zone_of_code, RegionCode};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spec::{
    Created, Discovery, Endpoint, ErrorEntry, Format, List, NewRequest, RequestsQuery, ServiceDefinition, ServiceEntry,
    ServiceRequest, ServicesQuery, Text,
};
use std::net::SocketAddr;

/// Where the router is nested in the API.
pub const PREFIX: &str = "/open311/v2";
/// When this API last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-12-04T00:00:00Z";
/// The window `GET requests` covers when no date is given, and the widest one it allows.
const WINDOW_DAYS: i64 = 90;

/// The Open311 routes, for `api::router` to nest at [`PREFIX`] (inside its metrics middleware).
pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/discovery.json", only_get(|s, h, q| discovery(s, h, q, Format::Json)))
        .route("/discovery.xml", only_get(|s, h, q| discovery(s, h, q, Format::Xml)))
        .route("/services.json", only_get(|s, _, q| services(s, q, Format::Json)))
        .route("/services.xml", only_get(|s, _, q| services(s, q, Format::Xml)))
        .route("/services/{file}", get(service_definition).fallback(method_not_allowed))
        .route(
            "/requests.json",
            get(|s, c, q| requests(s, c, q, Format::Json))
                .post(|s, c, r| create(s, c, r, Format::Json))
                .fallback(method_not_allowed),
        )
        .route(
            "/requests.xml",
            get(|s, c, q| requests(s, c, q, Format::Xml))
                .post(|s, c, r| create(s, c, r, Format::Xml))
                .fallback(method_not_allowed),
        )
        .route("/requests/{file}", get(request).fallback(method_not_allowed))
        .fallback(unknown_endpoint)
}

/// A GET-only route whose handler reads the state, the headers and the query.
fn only_get<F, Fut>(handler: F) -> MethodRouter<ApiState>
where
    F: Fn(State<ApiState>, HeaderMap, RawQuery) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    get(move |s: State<ApiState>, h: HeaderMap, q: RawQuery| handler(s, h, q)).fallback(method_not_allowed)
}

// ---- answers ------------------------------------------------------------------------------------

/// An Open311 error: the status (also the entry's `code`) and the description.
#[derive(Debug)]
struct Failure {
    status: u16,
    description: String,
    retry_after: Option<u64>,
}

impl Failure {
    fn new(status: u16, description: impl Into<String>) -> Self {
        Self { status, description: description.into(), retry_after: None }
    }

    /// 400 naming the parameter.
    fn param(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(400, format!("{name}: {why}"))
    }

    /// The answer in `format`.
    fn answer(self, format: Format) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let entry = ErrorEntry { code: status.as_u16(), description: Text::new(&self.description) };
        let mut resp = encode(format, status, "errors", &List::new(format, "error", vec![entry]));
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// The Submission fields a service error may name, as the Open311 parameters they came from.
const PARAM_OF_FIELD: [(&str, &str); 11] = [
    ("region", "jurisdiction_id"),
    ("category", "service_code"),
    ("body", "description"),
    ("title", "description"),
    ("location.lat", "lat"),
    ("location.long", "long"),
    ("location.address", "address_string"),
    ("location", "lat"),
    ("media_url", "media_url"),
    ("reporter.name", "first_name"),
    ("reporter.contact", "email"),
];

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        let retry_after = problem::is_transient(&e).then_some(1);
        let p = problem::problem(&e);
        let (status, description) = match (p.status, &e) {
            // The spec answers a credential it does not accept with 403.
            (401, _) => (403, p.detail),
            (422, ServiceError::Invalid { field, detail }) => {
                let name = PARAM_OF_FIELD.iter().find(|(f, _)| f == field).map_or(field.as_str(), |(_, p)| p);
                (400, format!("{name}: {detail}"))
            }
            (409 | 422, _) => (400, p.detail),
            (s, _) if s >= 500 && !matches!(e, ServiceError::Unavailable(_) | ServiceError::LostRace) => {
                (s, "internal error".to_owned())
            }
            (s, _) => (s, p.detail),
        };
        Self { status, description, retry_after }
    }
}

/// `value` in `format` under `root` (XML's root element; JSON has none).
fn encode<T: Serialize>(format: Format, status: StatusCode, root: &str, value: &T) -> Response {
    let body = match format {
        Format::Json => serde_json::to_string(value).map_err(|e| e.to_string()),
        Format::Xml => xml::document(root, value).map_err(|e| e.to_string()),
    };
    match body {
        Ok(body) => (status, [(header::CONTENT_TYPE, format.content_type())], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an Open311 answer could not be written");
            let fallback = r#"[{"code":500,"description":"internal error"}]"#;
            (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, Format::Json.content_type())], fallback)
                .into_response()
        }
    }
}

/// 200 with `value`, or the error list.
fn answer<T: Serialize>(format: Format, root: &str, result: Result<T, Failure>) -> Response {
    match result {
        Ok(v) => encode(format, StatusCode::OK, root, &v),
        Err(f) => f.answer(format),
    }
}

async fn unknown_endpoint() -> Response {
    Failure::new(404, "no such Open311 endpoint (docs/open311.md lists them: discovery, services, requests)")
        .answer(Format::Json)
}

async fn method_not_allowed(req: Request) -> Response {
    let format = req.uri().path().rsplit_once('.').and_then(|(_, ext)| Format::of(ext)).unwrap_or(Format::Json);
    Failure::new(405, format!("{} is not allowed here", req.method())).answer(format)
}

// ---- decoding -----------------------------------------------------------------------------------

/// Decodes form-encoded bytes (a query string; for a POST the query and the body joined by `&`) into
/// `T`: 400 naming the parameter; a refused identity parameter (`email`, `first_name`…) is named, its
/// value never repeated (the bounds' words never repeat a value).
fn decode<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Failure> {
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw))).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        if path.is_empty() || path == "." {
            // A repeated parameter: serde names it.
            Failure::new(400, clip(&message))
        } else if path.starts_with("attribute[") {
            Failure::param(&clip(&path), "no service takes attributes (`metadata` is false)")
        } else if spec::IDENTITY_PARAMS.contains(&path.as_str()) && !ours(&message) {
            Failure::param(&path, "wrong value (not repeated)")
        } else {
            Failure::param(&clip(&path), clip(&message))
        }
    })
}

/// Whether a decode message is one of the bounds' own (`wire::text::refusal`), which never repeat a value.
fn ours(message: &str) -> bool {
    message == "contains a NUL character" || (message.starts_with("at most ") && message.ends_with(" characters"))
}

fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, Failure> {
    decode(raw.unwrap_or_default().as_bytes())
}

/// A `jurisdiction_id` as the directory reads it: a Kemendagri region code of Indonesia's tables
/// (a superseded code counts as today's), else 400 naming it.
fn jurisdiction(pack: &Pack, code: &str) -> Result<RegionCode, Failure> {
    let region = RegionCode::parse(code).map_err(|e| Failure::param("jurisdiction_id", e))?;
    match pack.directory.region_status(&region) {
        RegionStatus::Known => Ok(region),
        RegionStatus::Superseded { now } => Ok(now),
        RegionStatus::Unknown => {
            Err(Failure::param("jurisdiction_id", format!("`{code}` is no region of the directory")))
        }
    }
}

/// An instant as W3C date-time in `tz` (`2026-12-04T08:26:11+07:00`).
fn w3c(at: DateTime<Utc>, tz: Tz) -> Text {
    Text::new(&at.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// A `start_date` or `end_date`: a W3C date-time with its offset, else 400 naming it.
fn date_param(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Failure> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v.trim()).map(|d| d.with_timezone(&Utc)).map_err(|_| {
                Failure::param(name, format!("`{v}` is not a W3C date-time with an offset (2026-12-01T00:00:00+07:00)"))
            })
        })
        .transpose()
}

/// The comma-separated items of a list parameter, trimmed, without empties or repeats, in order.
fn items(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}

// ---- discovery and services ---------------------------------------------------------------------

/// `GET discovery`.
async fn discovery(_: State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery, format: Format) -> Response {
    let result = query::<ServicesQuery>(q.as_deref()).map(|_| {
        let formats = ["text/xml", "application/json"].map(Text::new).to_vec();
        let endpoint = Endpoint {
            specification: Text::new("http://wiki.open311.org/GeoReport_v2"),
            url: Text::new(&base_url(&headers)),
            changeset: Text::new(CHANGESET),
            kind: Text::new("production"),
            formats: List::new(format, "format", formats),
        };
        Discovery {
            changeset: Text::new(CHANGESET),
            contact: Text::new("The operator of this Aduan installation"),
            key_service: Text::new(
                "An API token from the operator: `aduan token create --role integration` (docs/access.md#tokens)",
            ),
            endpoints: List::new(format, "endpoint", vec![endpoint]),
        }
    });
    answer(format, "discovery", result)
}

/// This endpoint's base URL as the client reached it (`Host`, and `X-Forwarded-Proto: https` behind a
/// proxy), else the path alone.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let https = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).is_some_and(|p| p.trim() == "https");
    let scheme = if https { "https" } else { "http" };
    match url::Url::parse(&format!("{scheme}://{host}{PREFIX}")) {
        Ok(u) if !host.is_empty() && u.host_str().is_some() && u.path() == PREFIX => u.to_string(),
        _ => PREFIX.to_owned(),
    }
}

/// `GET services`: the active pack's categories.
async fn services(State(s): State<ApiState>, RawQuery(q): RawQuery, format: Format) -> Response {
    let pack = s.service.pack();
    let result = query::<ServicesQuery>(q.as_deref()).and_then(|q| {
        if let Some(code) = &q.jurisdiction_id {
            jurisdiction(&pack, code)?;
        }
        let entries = pack.directory.categories().map(|c| {
            let (keywords, group) = match &c.handler {
                Handler::Unit(slug) => (slug.as_str(), "urusan daerah"),
                Handler::National(body) => (body.as_str(), "urusan nasional"),
            };
            ServiceEntry {
                service_code: Text::new(&c.id),
                service_name: Text::new(&c.name),
                description: Text::new(&c.description),
                metadata: false,
                kind: Text::new("realtime"),
                keywords: Text::new(keywords),
                group: Text::new(group),
            }
        });
        Ok(List::new(format, "service", entries.collect()))
    });
    answer(format, "services", result)
}

/// `GET services/{service_code}`: a category's definition (no attributes), 404 for an unknown one.
async fn service_definition(
    State(s): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, format)) = path_file(path) else { return unknown_format() };
    let pack = s.service.pack();
    let result = query::<ServicesQuery>(q.as_deref()).and_then(|q| {
        if let Some(j) = &q.jurisdiction_id {
            jurisdiction(&pack, j)?;
        }
        match pack.directory.category(&code) {
            Some(c) => Ok(ServiceDefinition {
                service_code: Text::new(&c.id),
                attributes: List::new(format, "attribute", vec![]),
            }),
            None => Err(Failure::new(404, format!("service_code: no service `{}`", clip(&code)))),
        }
    });
    answer(format, "service_definition", result)
}

/// A path's `{name}.{json|xml}` file part.
fn path_file(path: Result<Path<String>, PathRejection>) -> Option<(String, Format)> {
    let Path(file) = path.ok()?;
    let (name, format) = spec::split_format(&file)?;
    Some((name.to_owned(), format))
}

fn unknown_format() -> Response {
    Failure::new(404, "no such Open311 endpoint: the path ends in `.json` or `.xml`").answer(Format::Json)
}

/// At most 100 characters of a value a client sent, for an error's description.
fn clip(s: &str) -> String {
    s.chars().take(100).collect()
}

// ---- requests -----------------------------------------------------------------------------------

/// `GET requests/{service_request_id}`: one case as the public sees it, in a list of one.
async fn request(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, format)) = path_file(path) else { return unknown_format() };
    let result = async {
        limited_at(&s, &Caller::Public, addr.ip()).map_err(rate_limited)?;
        let q: RequestsQuery = query(q.as_deref())?;
        let pack = s.service.pack();
        if let Some(j) = &q.jurisdiction_id {
            jurisdiction(&pack, j)?;
        }
        let view = public_view(&s.service, &id)
            .await?
            .ok_or_else(|| Failure::new(404, format!("service_request_id: no service request `{}`", clip(&id))))?;
        Ok(List::new(format, "request", vec![service_request(&pack, &view)]))
    }
    .await;
    answer(format, "service_requests", result)
}

/// A case by tracking id as the public reads it (`Service::get`), or none when there is no such case.
async fn public_view(service: &Service, id: &str) -> Result<Option<ComplaintView>, Failure> {
    if !is_tracking_id(id) {
        return Ok(None);
    }
    match service.get(id, &Caller::Public).await {
        Ok(v) => Ok(Some(v)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn rate_limited(secs: u64) -> Failure {
    Failure { status: 429, description: "over the rate limit; retry later".into(), retry_after: Some(secs) }
}

/// `GET requests`: the public listing, filtered as the spec says.
async fn requests(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    format: Format,
) -> Response {
    let result = async {
        limited_at(&s, &Caller::Public, addr.ip()).map_err(rate_limited)?;
        let q: RequestsQuery = query(q.as_deref())?;
        let pack = s.service.pack();
        let views = match q.service_request_id.as_deref() {
            Some(ids) => {
                let ids = items(ids);
                if ids.len() > BROWSE_LIMIT as usize {
                    return Err(Failure::param("service_request_id", format!("at most {BROWSE_LIMIT} ids")));
                }
                let mut views = Vec::with_capacity(ids.len());
                for id in &ids {
                    views.extend(public_view(&s.service, id).await?);
                }
                views
            }
            None => s.service.browse(browse_query(&pack, &q, Utc::now())?).await?,
        };
        Ok(List::new(format, "request", views.iter().map(|v| service_request(&pack, v)).collect()))
    }
    .await;
    answer(format, "service_requests", result)
}

/// The public listing's query from the spec's filters: the dates (by default the last 90 days; a
/// range over 90 days is refused), the service codes, `open`/`closed` as the workflow's states, and
/// the jurisdiction.
fn browse_query(pack: &Pack, q: &RequestsQuery, now: DateTime<Utc>) -> Result<BrowseQuery, Failure> {
    let start = date_param("start_date", q.start_date.as_deref())?;
    let end = date_param("end_date", q.end_date.as_deref())?;
    let window = Duration::days(WINDOW_DAYS);
    let (from, to) = match (start, end) {
        (None, None) => (now - window, now),
        (Some(f), None) => (f, f + window),
        (None, Some(t)) => (t - window, t),
        (Some(f), Some(t)) => (f, t),
    };
    if to < from {
        return Err(Failure::param("end_date", "before start_date"));
    }
    if to - from > window {
        return Err(Failure::param("end_date", format!("more than {WINDOW_DAYS} days after start_date")));
    }
    let statuses = match q.status.as_deref() {
        None => None,
        Some(list) => {
            let asked = items(list);
            if let Some(bad) = asked.iter().find(|s| !matches!(s.as_str(), "open" | "closed")) {
                return Err(Failure::param("status", format!("`{}` is not open or closed", clip(bad))));
            }
            let states = pack.workflow.states().iter().filter(|state| {
                let status = if is_closed(pack, state) { "closed" } else { "open" };
                asked.iter().any(|a| a == status)
            });
            Some(states.cloned().collect())
        }
    };
    let region = q.jurisdiction_id.as_deref().map(|j| jurisdiction(pack, j)).transpose()?;
    Ok(BrowseQuery {
        from,
        to,
        categories: q.service_code.as_deref().map(items),
        statuses,
        region: region.map(|r| r.to_string()),
        limit: BROWSE_LIMIT,
    })
}

/// Whether Open311 reads a workflow state as `closed`: a final state, or one the workflow counts as
/// resolved (the agency has finished; a reopen makes the case open again).
fn is_closed(pack: &Pack, state: &str) -> bool {
    let w = &pack.workflow;
    w.is_final(state) || w.meaning().stats.resolved.iter().any(|s| s == state)
}

/// A case's public view as a service request.
fn service_request(pack: &Pack, v: &ComplaintView) -> ServiceRequest {
    let tz = time_zone_of_code(v.region.as_deref());
    let history = v.history.as_deref().unwrap_or_default();
    let notes = [EventType::Responded.as_str(), EventType::Resolved.as_str()];
    // The public view has withheld a confidential case's messages already.
    let status_notes = history
        .iter()
        .rev()
        .filter(|h| notes.contains(&h.event_type.as_str()))
        .find_map(|h| h.data.get("message").and_then(|m| m.as_str()))
        .map(Text::new);
    let complete = v.deadlines.iter().find(|d| d.clock == Clock::COMPLETE.as_str()).and_then(|d| d.due_at);
    let category = v.category.as_deref().and_then(|c| pack.directory.category(c));
    let agency = v.agency.as_deref().map(|a| pack.directory.agency(a).map_or(a, |x| x.name.as_str()));
    let location = v.location.clone().unwrap_or_default();
    ServiceRequest {
        service_request_id: Text::new(&v.tracking_id),
        status: Text::new(if is_closed(pack, &v.status) { "closed" } else { "open" }),
        status_notes,
        service_name: category.map(|c| Text::new(&c.name)),
        service_code: v.category.as_deref().map(Text::new),
        description: v.body.as_deref().map(Text::new),
        agency_responsible: agency.map(Text::new),
        service_notice: None,
        requested_datetime: w3c(v.created_at, tz),
        updated_datetime: history.last().map(|h| w3c(h.at, tz)),
        expected_datetime: complete.map(|at| w3c(at, tz)),
        address: location.address.as_deref().map(Text::new),
        address_id: None,
        zipcode: None,
        lat: location.lat,
        long: location.long,
        media_url: v.media_url.as_deref().map(Text::new),
    }
}

// ---- POST requests ------------------------------------------------------------------------------

/// `POST requests`: files a complaint for a third-party app holding an API token (`api_key`).
async fn create(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    format: Format,
) -> Response {
    let result = async {
        let mut raw = req.uri().query().unwrap_or_default().as_bytes().to_vec();
        raw.push(b'&');
        raw.extend_from_slice(&form_body(req, &s).await?);
        let form: NewRequest = decode(&raw)?;
        let caller = api_caller(&s.service, form.api_key.as_deref()).await?;
        limited_at(&s, &caller, addr.ip()).map_err(rate_limited)?;
        let pack = s.service.pack();
        let sub = submission(&pack, form)?;
        // The reporter token stays here: an Open311 answer has no place for it, and a third-party app
        // (or its logs) is not the reporter.
        let reply = s.service.submit(sub, None, &caller, crate::clock::now()).await?;
        let view = reply.view;
        let verify = view.deadlines.iter().find(|d| d.clock == Clock::VERIFY.as_str()).and_then(|d| d.due_date.clone());
        let notice = match verify {
            Some(date) => format!("Received: to be verified and dispatched by {date} (local date of the region)."),
            None => "Received: to be verified and dispatched.".to_owned(),
        };
        let created = Created {
            service_request_id: Text::new(&view.tracking_id),
            service_notice: Text::new(&notice),
            account_id: None,
        };
        Ok(List::new(format, "request", vec![created]))
    }
    .await;
    answer(format, "service_requests", result)
}

/// The form body: `application/x-www-form-urlencoded` (none given is taken as such), else 415; over
/// the API's body limit, 413.
async fn form_body(req: Request, s: &ApiState) -> Result<Bytes, Failure> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let essence = ct.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/x-www-form-urlencoded" {
            let shown = clip(&String::from_utf8_lossy(ct.as_bytes()));
            return Err(Failure::new(
                415,
                format!("the body must be application/x-www-form-urlencoded, not `{shown}`"),
            ));
        }
    }
    let bytes = Bytes::from_request(req, s).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::new(413, format!("the body is over {} bytes", crate::api::BODY_LIMIT))
        } else {
            Failure::new(400, e.body_text())
        }
    })?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Failure::new(400, "the body is not UTF-8"));
    }
    Ok(bytes)
}

/// The caller an `api_key` names: an API token (or a verified JWT) of any role the access table lets
/// submit; missing, not authenticating or not an API token, 403.
async fn api_caller(service: &Service, key: Option<&str>) -> Result<Caller, Failure> {
    let key = key.ok_or_else(|| {
        Failure::new(403, "api_key: required to submit (an API token: docs/open311.md#filing-a-request)")
    })?;
    match service.authenticate(Some(key)).await {
        Ok(c @ Caller::Principal(_)) => Ok(c),
        Ok(_) => Err(Failure::new(403, "api_key: not an API token")),
        Err(ServiceError::Unauthenticated(_)) => Err(Failure::new(403, "api_key: unknown or revoked")),
        Err(e) => Err(e.into()),
    }
}

/// The JSON API's submission for an Open311 request: a `pengaduan` through the `integration` channel,
/// public (the reporter is never shown to the public; the agency sees it), its title the first line of
/// the description (else the service's name).
fn submission(pack: &Pack, f: NewRequest) -> Result<Submission, Failure> {
    let region = f
        .jurisdiction_id
        .as_deref()
        .ok_or_else(|| Failure::param("jurisdiction_id", "required (a Kemendagri region code, e.g. 35.78)"))?;
    let region = jurisdiction(pack, region)?;
    let code = f
        .service_code
        .as_deref()
        .ok_or_else(|| Failure::param("service_code", "required (GET services lists them)"))?;
    let category = pack.directory.category(code).ok_or_else(|| {
        Failure::param("service_code", format!("no service `{}` (GET services lists them)", clip(code)))
    })?;
    match (f.lat, f.long) {
        (Some(_), None) => return Err(Failure::param("long", "required with lat")),
        (None, Some(_)) => return Err(Failure::param("lat", "required with long")),
        (None, None) if f.address_string.is_none() => {
            return Err(Failure::param(
                "lat",
                "a location is required: lat and long, or address_string (address_id alone is not supported)",
            ))
        }
        _ => {}
    }
    if let Some(why) = f.media_url.as_deref().and_then(crate::wire::text::url_refusal) {
        return Err(Failure::param("media_url", why));
    }
    let name = [f.first_name.as_deref(), f.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.chars().count() > SHORT {
        return Err(Failure::param("first_name", format!("with last_name, at most {SHORT} characters")));
    }
    let contact = f.email.clone().or_else(|| f.phone.clone());
    let reporter =
        (!name.is_empty() || contact.is_some()).then(|| Reporter { name: (!name.is_empty()).then_some(name), contact });
    let body = f.description.unwrap_or_default();
    let title = match body.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) if line.chars().count() > 100 => format!("{}…", line.chars().take(99).collect::<String>()),
        Some(line) => line.to_owned(),
        None => category.name.clone(),
    };
    Ok(Submission {
        kind: "pengaduan".into(),
        channel: "integration".into(),
        title,
        body,
        category: Some(category.id.clone()),
        region: Some(region.to_string()),
        privacy: None,
        reporter,
        command_id: None,
        received_at: None,
        location: Some(Location { lat: f.lat, long: f.long, address: f.address_string }),
        media_url: f.media_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_once_each() {
        assert_eq!(items(" open, closed,,open "), ["open", "closed"]);
        assert!(items(" , ").is_empty());
    }

    #[test]
    fn times_carry_the_region_offset() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T01:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(w3c(at, time_zone_of_code(Some("35.78"))).as_str(), "2026-12-04T08:00:00+07:00");
        assert_eq!(w3c(at, time_zone_of_code(Some("51.71"))).as_str(), "2026-12-04T09:00:00+08:00");
        assert_eq!(w3c(at, time_zone_of_code(Some("94.71"))).as_str(), "2026-12-04T10:00:00+09:00");
        assert_eq!(w3c(at, time_zone_of_code(None)).as_str(), "2026-12-04T08:00:00+07:00");
    }

    #[test]
    fn dates_must_carry_an_offset() {
        assert!(date_param("start_date", Some("2026-12-01T00:00:00Z")).unwrap().is_some());
        assert!(date_param("start_date", Some("2026-12-01T00:00:00+07:00")).unwrap().is_some());
        let e = date_param("end_date", Some("2026-12-01")).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.description.starts_with("end_date: "), "{}", e.description);
    }

    #[test]
    fn a_refused_identity_is_never_repeated() {
        let long = "x".repeat(SHORT + 1);
        let e = decode::<NewRequest>(format!("first_name=Budi{long}").as_bytes()).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.description.starts_with("first_name: ") && !e.description.contains("Budi"), "{}", e.description);
        let e = decode::<NewRequest>(b"lat=91").unwrap_err();
        assert!(e.description.starts_with("lat: "), "{}", e.description);
        let e = decode::<NewRequest>(b"attribute%5Bx%5D=1").unwrap_err();
        assert!(e.description.contains("attribute[x]"), "{}", e.description);
        let e = decode::<NewRequest>(b"email=a&email=b").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(decode::<NewRequest>(b"lat=&long=&address_string=Jl.%20Raya").unwrap().lat.is_none());
    }
}
