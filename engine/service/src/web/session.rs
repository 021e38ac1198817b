//! The dashboard's session (docs/web.md#sessions): a cookie sealed with the data key holding the API
//! token or JWT the officer signed in with (or the ID token of a sign-in by redirect, with its nonce),
//! a CSRF token and an expiry. Nothing is stored on the
//! server, so any replica reads it; the token inside is authenticated again on every request, so a
//! revoked token ends its sessions at once. The cookie is HttpOnly and SameSite=Strict, and Secure
//! when the request came over TLS (a proxy's `X-Forwarded-Proto: https`).

use super::form::Fields;
use crate::crypto::{is_sealed, new_token, DataKey};
use crate::wire::Problem;
use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "aduan_session";
/// The sign-in form's own CSRF cookie (there is no session yet to hold one).
pub const LOGIN_COOKIE: &str = "aduan_login";
/// How long a session lasts from sign-in.
pub const SESSION_LENGTH: Duration = Duration::hours(8);

/// A signed-in officer's session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The bearer the officer signed in with, or the ID token of a sign-in by redirect.
    pub token: String,
    /// The sign-in's nonce when `token` is an ID token (docs/web.md#single-sign-on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// What every form of this session carries back.
    pub csrf: String,
    /// Milliseconds since the epoch after which the cookie is refused.
    expires: i64,
}

impl Session {
    /// A new session for `token`.
    pub fn new(token: String, now: DateTime<Utc>) -> Session {
        Session { token, nonce: None, csrf: new_token(), expires: (now + SESSION_LENGTH).timestamp_millis() }
    }

    /// A new session for the ID token of a sign-in by redirect: it ends with the token (`exp`, in
    /// seconds), at most [`SESSION_LENGTH`] after sign-in.
    #[cfg(feature = "oidc")]
    pub fn signed_on(id_token: String, nonce: String, exp: Option<i64>, now: DateTime<Utc>) -> Session {
        let longest = (now + SESSION_LENGTH).timestamp_millis();
        let expires = exp.map_or(longest, |exp| longest.min(exp.saturating_mul(1000)));
        Session { token: id_token, nonce: Some(nonce), csrf: new_token(), expires }
    }

    /// The request's session: a cookie this service sealed, not expired; anything else is none.
    pub fn of(headers: &HeaderMap, key: &DataKey, now: DateTime<Utc>) -> Option<Session> {
        let sealed = super::cookie(headers, SESSION_COOKIE).filter(|v| is_sealed(v))?;
        let s: Session = serde_json::from_str(&key.open(&sealed).ok()?).ok()?;
        (s.expires > now.timestamp_millis()).then_some(s)
    }

    /// The `Set-Cookie` value that keeps this session.
    pub fn set_cookie(&self, key: &DataKey, headers: &HeaderMap) -> String {
        let sealed = key.seal(&serde_json::to_string(self).unwrap_or_default());
        let age = ((self.expires - Utc::now().timestamp_millis()) / 1000).clamp(0, SESSION_LENGTH.num_seconds());
        format!("{SESSION_COOKIE}={sealed}; Path=/; Max-Age={age}; HttpOnly; SameSite=Strict{}", secure(headers))
    }

    /// The `Set-Cookie` value that ends a session.
    pub fn clear_cookie(headers: &HeaderMap) -> String {
        format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", secure(headers))
    }

    /// 403 unless the form carries this session's CSRF token.
    pub fn check_csrf(&self, fields: &Fields) -> Result<(), Problem> {
        same_secret(fields.get("csrf"), Some(&self.csrf))
    }
}

/// The sign-in form's CSRF pair: a random value set as a cookie and written into the form; the
/// form's post must bring both, equal.
pub fn login_nonce() -> String {
    new_token()
}

/// The `Set-Cookie` value of the sign-in form's nonce (for ten minutes, the sign-in page only).
pub fn login_cookie(nonce: &str, headers: &HeaderMap) -> String {
    format!("{LOGIN_COOKIE}={nonce}; Path=/dashboard/login; Max-Age=600; HttpOnly; SameSite=Strict{}", secure(headers))
}

/// 403 unless the sign-in form's `csrf` field equals its cookie.
pub fn check_login(headers: &HeaderMap, fields: &Fields) -> Result<(), Problem> {
    same_secret(fields.get("csrf"), super::cookie(headers, LOGIN_COOKIE).as_deref())
}

/// Compares two secrets by their hashes (no early exit on the first differing byte).
pub(super) fn same_secret(given: Option<&str>, expected: Option<&str>) -> Result<(), Problem> {
    match (given, expected) {
        (Some(g), Some(e)) if !e.is_empty() && Sha256::digest(g) == Sha256::digest(e) => Ok(()),
        _ => Err(Problem::new(403, "the form has expired or did not come from this site; open the page again")
            .with_field("csrf")),
    }
}

/// `; Secure` when the request came over TLS, as a proxy in front says.
pub(super) fn secure(headers: &HeaderMap) -> &'static str {
    if over_tls(headers) {
        "; Secure"
    } else {
        ""
    }
}

/// Whether the request came over TLS, as a proxy in front says (`X-Forwarded-Proto: https`).
pub(super) fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}
