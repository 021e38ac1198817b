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

mod doc;
mod requests;
mod services;
pub mod spec;
pub mod xml;

pub use doc::Open311Doc;

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
        .route("/discovery.json", only_get(|s, h, q| services::discovery(s, h, q, Format::Json)))
        .route("/discovery.xml", only_get(|s, h, q| services::discovery(s, h, q, Format::Xml)))
        .route("/services.json", only_get(|s, _, q| services::services(s, q, Format::Json)))
        .route("/services.xml", only_get(|s, _, q| services::services(s, q, Format::Xml)))
        .route("/services/{file}", get(services::service_definition).fallback(method_not_allowed))
        .route(
            "/requests.json",
            get(|s, c, q| requests::requests(s, c, q, Format::Json))
                .post(|s, c, r| requests::create(s, c, r, Format::Json))
                .fallback(method_not_allowed),
        )
        .route(
            "/requests.xml",
            get(|s, c, q| requests::requests(s, c, q, Format::Xml))
                .post(|s, c, r| requests::create(s, c, r, Format::Xml))
                .fallback(method_not_allowed),
        )
        .route("/requests/{file}", get(requests::request).fallback(method_not_allowed))
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
