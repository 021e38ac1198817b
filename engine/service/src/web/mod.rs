//! The web front (docs/web.md): server-rendered pages for citizens (`/`, `/track/{id}`) and for
//! officers, admins and supervisors (`/dashboard`). Pages are HTML (maud) in Bahasa Indonesia first,
//! with English a cookie away; they work without JavaScript and load nothing from elsewhere.
//!
//! Every page calls the same service functions as the JSON API with the caller its credentials name
//! (the public, a reporter token typed into a form, or the API token a session cookie holds), so
//! roles and visibility apply to a page exactly as to `GET /v1/complaints/{id}`.
//!
//! - `i18n.rs`: the words of each language; `layout.rs`: the page shell and the stylesheet;
//!   `form.rs`: reading a urlencoded form; `session.rs`: the sealed session cookie and CSRF;
//!   `present.rs`: a case's parts as both sides show them (status, deadlines, history);
//!   `public.rs`: the citizen's pages; `signin.rs`: signing in and out (`signin/sso.rs`: by redirect
//!   to the identity provider); `dashboard.rs`: the queue, a case and its actions;
//!   `stats.rs`: statistics with charts and CSV; `hooks.rs`: the failed webhooks; `intake.rs`: a walk-in or a letter typed in;
//!   `complaint_form.rs`: the complaint form both filing pages share; `report.rs`: the monthly compliance report; `live.rs`: the queue's server-sent events, fed by
//!   NATS, and its script.

mod complaint_form;
mod dashboard;
mod form;
mod hooks;
mod i18n;
mod intake;
mod layout;
mod live;
mod present;
mod public;
mod report;
mod session;
mod signin;
mod stats;

use crate::api::ApiState;
use crate::problem;
use crate::service::ServiceError;
use crate::wire::Problem;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use i18n::Lang;
use maud::Markup;

/// The pages' routes, merged into the API's router (so the access log and metrics cover them).
pub fn router() -> Router<ApiState> {
    sso_routes(Router::new())
        .route("/", get(public::file_form).post(public::file))
        .route("/track", get(public::track_lookup))
        .route("/track/{id}", get(public::track).post(public::reporter_act))
        .route("/lang/{code}", get(switch_language))
        .route("/assets/aduan.css", get(layout::stylesheet))
        .route("/assets/queue.js", get(live::script))
        .route("/dashboard/events", get(live::events))
        .route("/dashboard", get(dashboard::queue))
        .route("/dashboard/login", get(signin::login_form).post(signin::login))
        .route("/dashboard/logout", axum::routing::post(signin::logout))
        .route("/dashboard/cases/{id}", get(dashboard::case).post(dashboard::act))
        .route("/dashboard/stats", get(stats::show))
        .route("/dashboard/reports", get(report::show))
        .route("/dashboard/webhooks", get(hooks::show))
        .route("/dashboard/intake", get(intake::form).post(intake::file))
        .layer(middleware::from_fn(page_headers))
}

/// The sign-in by redirect's two routes (docs/web.md#single-sign-on), in a build with OIDC.
fn sso_routes(router: Router<ApiState>) -> Router<ApiState> {
    #[cfg(feature = "oidc")]
    let router = router
        .route("/dashboard/login/sso", get(signin::sso_start))
        .route("/dashboard/login/sso/callback", get(signin::sso_callback));
    router
}

/// What every page answers with: no framing, no sniffing, scripts and styles from here only, and
/// nothing cached that a session rendered.
async fn page_headers(req: axum::extract::Request, next: Next) -> Response {
    let private = req.uri().path().starts_with("/dashboard");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; \
             form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        let cache = if private { "no-store" } else { "no-cache" };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    resp
}

/// A cookie's value from the request, by name (the first of that name).
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A path on this site to go back to: only a local absolute path (`/track/X`), never `//host` or a
/// URL, so a link cannot redirect a visitor elsewhere.
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 512 => p,
        _ => "/",
    }
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// `GET /lang/{code}?back=/path`: keeps the chosen language in a cookie and returns to the page.
async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    let back: Back = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or(Back { back: None });
    let lang = Lang::parse(&code).unwrap_or(Lang::Id);
    let mut resp = redirect(local_path(back.back.as_deref()));
    let cookie = format!("{}={}; Path=/; Max-Age=31536000; SameSite=Lax", i18n::LANG_COOKIE, lang.code());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A 303 to a path on this site (after a form: the browser then GETs it).
fn redirect(path: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(path) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A page and its status.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, markup.into_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    resp
}

/// Something a page could not do, shown as a page in the visitor's language with the status the
/// JSON API would give.
#[derive(Debug)]
struct PageError {
    problem: Problem,
    lang: Lang,
}

impl PageError {
    fn new(lang: Lang, problem: Problem) -> Self {
        Self { problem, lang }
    }

    fn service(lang: Lang, e: &ServiceError) -> Self {
        Self::new(lang, problem::problem(e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = page(status, layout::error_page(self.lang, &self.problem));
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
