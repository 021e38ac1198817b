//! Signing in to the dashboard (docs/web.md#sessions): with an API token or JWT on the form, or, where
//! configured, by redirect to the identity provider (docs/web.md#single-sign-on); signing out; and the
//! viewer every dashboard page starts from.

use super::form::Fields;
use super::i18n::Lang;
use super::layout::{problem_box, shell, Area};
use super::session::{self, Session};
use super::{page, redirect, PageError};
use crate::api::ApiState;
use crate::service::Caller;
use crate::wire::Problem;
use aduan_core::case::Actor;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

#[cfg(feature = "oidc")]
pub use sso::{sso_callback, sso_start};

/// A signed-in viewer: the session, the caller its token names, and the actor.
pub(super) struct Viewer {
    pub(super) session: Session,
    pub(super) caller: Caller,
    pub(super) actor: Actor,
}

impl Viewer {
    /// The header of the viewer's pages.
    pub(super) fn area(&self) -> Area<'_> {
        use aduan_core::access::{reach, Operation, Reach};
        let deliveries = reach(self.actor.role, Operation::ReadDeliveries) != Reach::Nowhere;
        let intake = reach(self.actor.role, Operation::BackDate) != Reach::Nowhere;
        Area::Dashboard { who: &self.actor.name, csrf: &self.session.csrf, deliveries, intake }
    }
}

/// The viewer of a request, or the redirect to the sign-in page (no session, an expired one, or a
/// token that no longer authenticates).
pub(super) async fn signed_in(s: &ApiState, headers: &HeaderMap) -> Result<Viewer, Response> {
    let key = s.service.data_key();
    let session = Session::of(headers, key, chrono::Utc::now()).ok_or_else(|| redirect("/dashboard/login"))?;
    let caller = match &session.nonce {
        Some(nonce) => s.service.authenticate_id_token(&session.token, nonce).await,
        None => s.service.authenticate(Some(&session.token)).await,
    };
    match caller {
        Ok(caller @ Caller::Principal(_)) => {
            let actor = caller.actor().map_err(|_| redirect("/dashboard/login"))?;
            Ok(Viewer { session, caller, actor })
        }
        _ => Err(redirect("/dashboard/login")),
    }
}

/// `GET /dashboard/login`: the sign-in form, with its CSRF nonce set as a cookie, and the way to the
/// identity provider where one is configured.
pub async fn login_form(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    login_page(&s, Lang::of(&headers), &headers, None)
}

/// The sign-in page, with `problem` above the form (and its status) when the last try failed.
fn login_page(s: &ApiState, lang: Lang, headers: &HeaderMap, problem: Option<&Problem>) -> Response {
    let t = lang.text();
    let nonce = session::login_nonce();
    let sso = s.service.sso_enabled();
    let body = html! {
        h1 { (t.login_heading) }
        @if let Some(p) = problem { (problem_box(p)) }
        @if sso {
            p { a.button href="/dashboard/login/sso" { (t.sso_sign_in) } }
            h2 { (t.sso_or_token) }
        }
        form method="post" action="/dashboard/login" {
            input type="hidden" name="csrf" value=(nonce);
            label for="token" { (t.login_intro) }
            input id="token" type="password" name="token" required autocomplete="off";
            button type="submit" { (t.sign_in) }
        }
    };
    let status = problem.map_or(StatusCode::OK, |p| StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST));
    let mut resp = page(status, shell(lang, Area::SignIn, t.login_heading, "/dashboard/login", body));
    set_cookie(&mut resp, &session::login_cookie(&nonce, headers));
    resp
}

/// Adds a `Set-Cookie` to `resp`.
pub(super) fn set_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `POST /dashboard/login`: an API token or JWT that authenticates starts a session; a reporter
/// token or anything else is refused on the form.
pub async fn login(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::of(&headers);
    let refused = |p: Problem| login_page(&s, lang, &headers, Some(&p));
    let fields = match Fields::read(&headers, &body).and_then(|f| session::check_login(&headers, &f).map(|()| f)) {
        Ok(f) => f,
        Err(p) => return refused(p),
    };
    let Some(token) = fields.get("token") else {
        return refused(Problem::new(422, "a token is needed").with_field("token"));
    };
    match s.service.authenticate(Some(token)).await {
        Ok(Caller::Principal(_)) => {
            let session = Session::new(token.to_owned(), chrono::Utc::now());
            let mut resp = redirect("/dashboard");
            set_cookie(&mut resp, &session.set_cookie(s.service.data_key(), &headers));
            resp
        }
        Ok(_) => refused(Problem::new(401, "not an API token or a JWT of this service").with_field("token")),
        Err(e) => refused(crate::problem::problem(&e).with_field("token")),
    }
}

/// `POST /dashboard/logout`: ends the session (the form carries its CSRF token).
pub async fn logout(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::of(&headers);
    if let Some(session) = Session::of(&headers, s.service.data_key(), chrono::Utc::now()) {
        let checked = Fields::read(&headers, &body).and_then(|f| session.check_csrf(&f));
        if let Err(p) = checked {
            return PageError::new(lang, p).into_response();
        }
    }
    let mut resp = redirect("/dashboard/login");
    set_cookie(&mut resp, &Session::clear_cookie(&headers));
    resp
}

#[cfg(feature = "oidc")]
mod sso;
