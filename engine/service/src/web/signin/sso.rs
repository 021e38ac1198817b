//! Sign-in by redirect (docs/web.md#single-sign-on): `GET /dashboard/login/sso` sends the browser to
//! the identity provider with a fresh `state`, `nonce` and PKCE challenge, kept sealed in a cookie;
//! `GET /dashboard/login/sso/callback` checks the `state` it brings back, has the service trade the
//! code for a verified ID token, and starts the session.

use super::{login_page, set_cookie};
use crate::api::ApiState;
use crate::crypto::is_sealed;
use crate::oidc::error_code;
use crate::service::PendingSignIn;
use crate::web::i18n::Lang;
use crate::web::layout::{shell, Area};
use crate::web::session::{over_tls, same_secret, secure, Session};
use crate::web::{cookie, page};
use crate::wire::Problem;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use maud::html;
use serde::{Deserialize, Serialize};

/// The pending sign-in's cookie. `SameSite=Lax`, not Strict: the callback is a navigation from the
/// identity provider's site, on which a Strict cookie is not sent.
const PENDING_COOKIE: &str = "aduan_sso";
/// Where the identity provider sends the browser back.
const CALLBACK_PATH: &str = "/dashboard/login/sso/callback";
/// How long a sign-in may take at the identity provider.
const PENDING_LENGTH: Duration = Duration::minutes(10);
/// Longest `Host` a redirect URI is made from.
const MAX_HOST: usize = 255;
/// Longest authorization code taken from the callback.
const MAX_CODE: usize = 4096;

/// What the pending cookie holds, sealed with the data key.
#[derive(Serialize, Deserialize)]
struct Pending {
    sign_in: PendingSignIn,
    /// Milliseconds since the epoch after which the cookie is refused.
    expires: i64,
}

/// `GET /dashboard/login/sso`: a 303 to the identity provider's authorization endpoint.
pub async fn sso_start(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let Some(redirect_uri) = redirect_uri(&headers) else {
        let p = Problem::new(400, "the request's Host header names no address to come back to");
        return login_page(&s, lang, &headers, Some(&p));
    };
    let (url, sign_in) = match s.service.sso_begin(&redirect_uri).await {
        Ok(started) => started,
        Err(e) => return login_page(&s, lang, &headers, Some(&crate::problem::problem(&e))),
    };
    let Ok(location) = HeaderValue::from_str(&url) else {
        let p = Problem::new(503, "the identity provider's address cannot be sent to a browser");
        return login_page(&s, lang, &headers, Some(&p));
    };
    let pending = Pending { sign_in, expires: (Utc::now() + PENDING_LENGTH).timestamp_millis() };
    let sealed = s.service.data_key().seal(&serde_json::to_string(&pending).unwrap_or_default());
    let mut resp = StatusCode::SEE_OTHER.into_response();
    resp.headers_mut().insert(header::LOCATION, location);
    let age = PENDING_LENGTH.num_seconds();
    let flags = format!("Path=/dashboard/login; Max-Age={age}; HttpOnly; SameSite=Lax{}", secure(&headers));
    set_cookie(&mut resp, &format!("{PENDING_COOKIE}={sealed}; {flags}"));
    resp
}

/// The callback's query: a code and the state, or the identity provider's error.
#[derive(Deserialize, Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /dashboard/login/sso/callback`: the session, on a page that moves on to the dashboard; or
/// the sign-in page saying what went wrong. The pending cookie is spent either way.
pub async fn sso_callback(State(s): State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let lang = Lang::of(&headers);
    let mut resp = match finish(&s, &headers, q.as_deref().unwrap_or_default()).await {
        Ok(session) => signed_on_page(&s, lang, &headers, &session),
        Err(p) => login_page(&s, lang, &headers, Some(&p)),
    };
    let spent =
        format!("{PENDING_COOKIE}=; Path=/dashboard/login; Max-Age=0; HttpOnly; SameSite=Lax{}", secure(&headers));
    set_cookie(&mut resp, &spent);
    resp
}

async fn finish(s: &ApiState, headers: &HeaderMap, query: &str) -> Result<Session, Problem> {
    let params: Callback = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Some(code) = &params.error {
        let why = format!("the identity provider did not sign you in ({})", error_code(code));
        return Err(Problem::new(401, &why));
    }
    let now = Utc::now();
    let pending = cookie(headers, PENDING_COOKIE)
        .filter(|v| is_sealed(v))
        .and_then(|sealed| s.service.data_key().open(&sealed).ok())
        .and_then(|json| serde_json::from_str::<Pending>(&json).ok())
        .filter(|p| p.expires > now.timestamp_millis());
    let stale = || Problem::new(400, "this sign-in took too long or began in another browser; start it again");
    let pending = pending.ok_or_else(stale)?;
    same_secret(params.state.as_deref(), Some(&pending.sign_in.state)).map_err(|_| stale())?;
    let code = params.code.filter(|c| !c.is_empty() && c.len() <= MAX_CODE);
    let code = code.ok_or_else(|| Problem::new(400, "the identity provider sent no usable code"))?;
    let signed = s.service.sso_finish(&pending.sign_in, &code).await.map_err(|e| crate::problem::problem(&e))?;
    Ok(Session::signed_on(signed.id_token, pending.sign_in.nonce, signed.expires, now))
}

/// The page that sets the session and moves on to the dashboard (`Refresh`, and a link). Not a 303:
/// after a redirect chain that began at the identity provider, the browser would not send the new
/// `SameSite=Strict` cookie; a navigation this page starts is the site's own.
fn signed_on_page(s: &ApiState, lang: Lang, headers: &HeaderMap, session: &Session) -> Response {
    let t = lang.text();
    let body = html! {
        h1 { (t.sso_signed_in) }
        p { a.button href="/dashboard" { (t.sso_continue) } }
    };
    let mut resp = page(StatusCode::OK, shell(lang, Area::SignIn, t.sso_signed_in, CALLBACK_PATH, body));
    resp.headers_mut().insert(header::REFRESH, HeaderValue::from_static("0; url=/dashboard"));
    set_cookie(&mut resp, &session.set_cookie(s.service.data_key(), headers));
    resp
}

/// The callback's address on the host the browser used (`X-Forwarded-Proto: https` makes it https);
/// none when `Host` is missing or not a plain host and port. The identity provider accepts only the
/// redirect URIs registered for the client, so a forged `Host` leads nowhere.
fn redirect_uri(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b".-:[]".contains(&b);
    if host.is_empty() || host.len() > MAX_HOST || !host.bytes().all(plain) {
        return None;
    }
    let scheme = if over_tls(headers) { "https" } else { "http" };
    Some(format!("{scheme}://{host}{CALLBACK_PATH}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_redirect_uri_is_the_callback_on_the_host_the_browser_used() {
        let uri = |pairs: &[(&'static str, &str)]| redirect_uri(&headers(pairs));
        assert_eq!(uri(&[("host", "127.0.0.1:8080")]).unwrap(), "http://127.0.0.1:8080/dashboard/login/sso/callback");
        let behind_tls = uri(&[("host", "lapor.semarangkota.go.id"), ("x-forwarded-proto", "https")]);
        assert_eq!(behind_tls.unwrap(), "https://lapor.semarangkota.go.id/dashboard/login/sso/callback");
        for bad in ["evil.example/x?", "a@b", "", "host with space"] {
            assert_eq!(uri(&[("host", bad)]), None, "{bad:?}");
        }
        assert_eq!(uri(&[]), None);
    }
}
