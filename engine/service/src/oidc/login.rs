//! The dashboard's sign-in by redirect (docs/web.md#single-sign-on): OpenID Connect's authorization
//! code flow with PKCE (S256), `state` and `nonce`, as a confidential client (`client_secret_post`) or
//! a public one. The identity provider's endpoints come from its discovery document
//! (`{issuer}/.well-known/openid-configuration`), fetched on the first sign-in and kept; a failed fetch
//! is tried again on the next. The ID token the code buys is verified by [`OidcVerifier`] against the
//! client id and the sign-in's nonce.
//!
//! [`OidcVerifier`]: super::OidcVerifier

use super::{http_client, invalid, parse_url, read_body, OidcError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the discovery document sits below the issuer.
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// What the sign-in asks for: an ID token with the holder's profile (the role and agency claims ride
/// on it, as the identity provider is configured to add them).
const SCOPES: &str = "openid profile";
/// Longest error code of the identity provider that is repeated on the sign-in page.
const MAX_ERROR_CODE: usize = 64;

/// The dashboard as a client of the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginConfig {
    /// The identity provider's issuer (the `iss` of its tokens), whose discovery document is read.
    pub issuer: String,
    /// The client id the dashboard is registered under; the audience of its ID tokens.
    pub client_id: String,
    /// The client secret, sent in the token request's body; none for a public client (PKCE only).
    pub client_secret: Option<String>,
}

/// A sign-in under way: what the browser carries, sealed, from the redirect to the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The `state` sent; the callback must bring it back.
    pub state: String,
    /// The `nonce` sent; the ID token must carry it.
    pub nonce: String,
    /// The PKCE code verifier, whose S256 challenge was sent.
    pub verifier: String,
    /// The `redirect_uri` sent; the token request repeats it.
    pub redirect_uri: String,
}

/// The two endpoints of the discovery document the flow uses.
#[derive(Debug)]
struct Endpoints {
    authorization: reqwest::Url,
    token: reqwest::Url,
}

/// The sign-in client. `Send + Sync`: share it behind an `Arc`.
#[derive(Debug)]
pub struct OidcLogin {
    cfg: LoginConfig,
    discovery: reqwest::Url,
    client: reqwest::Client,
    endpoints: tokio::sync::OnceCell<Endpoints>,
}

impl OidcLogin {
    /// Checks the configuration (an issuer that is https, or http to a loopback host; a client id);
    /// nothing is fetched until the first sign-in.
    pub fn new(cfg: LoginConfig) -> Result<OidcLogin, OidcError> {
        if cfg.client_id.trim().is_empty() {
            return Err(OidcError::Config("the sign-in client id is empty".into()));
        }
        let discovery = format!("{}{DISCOVERY_PATH}", cfg.issuer.trim_end_matches('/'));
        let discovery = parse_url("issuer", &discovery)?;
        let client = http_client(&discovery)?;
        Ok(OidcLogin { cfg, discovery, client, endpoints: tokio::sync::OnceCell::new() })
    }

    /// The client id: the audience the ID tokens of this sign-in must name.
    pub fn client_id(&self) -> &str {
        &self.cfg.client_id
    }

    /// Starts a sign-in that returns to `redirect_uri`: the identity provider's address to send the
    /// browser to, and what the callback needs to finish.
    pub async fn begin(&self, redirect_uri: &str) -> Result<(String, PendingSignIn), OidcError> {
        let endpoints = self.endpoints().await?;
        let pending = PendingSignIn {
            state: crate::crypto::new_token(),
            nonce: crate::crypto::new_token(),
            verifier: crate::crypto::new_token(),
            redirect_uri: redirect_uri.to_owned(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let mut url = endpoints.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.cfg.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok((url.to_string(), pending))
    }

    /// Trades the callback's `code` for the ID token (not yet verified).
    pub async fn exchange(&self, pending: &PendingSignIn, code: &str) -> Result<String, OidcError> {
        let endpoints = self.endpoints().await?;
        let body = self.token_request(pending, code);
        let resp = self
            .client
            .post(endpoints.token.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable_idp(&e.without_url().to_string()))?;
        let ok = resp.status().is_success();
        let body = read_body(resp).await.map_err(|e| unreachable_idp(&e))?;
        token_answer(ok, &body)
    }

    /// The token request's form (built apart: the serializer is not `Send`, so it must not live
    /// across the request's await).
    fn token_request(&self, pending: &PendingSignIn, code: &str) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &pending.redirect_uri)
            .append_pair("code_verifier", &pending.verifier)
            .append_pair("client_id", &self.cfg.client_id);
        if let Some(secret) = &self.cfg.client_secret {
            form.append_pair("client_secret", secret);
        }
        form.finish()
    }

    /// The endpoints, from the discovery document read once.
    async fn endpoints(&self) -> Result<&Endpoints, OidcError> {
        self.endpoints.get_or_try_init(|| self.discover()).await
    }

    async fn discover(&self) -> Result<Endpoints, OidcError> {
        #[derive(Deserialize)]
        struct Document {
            issuer: String,
            authorization_endpoint: String,
            token_endpoint: String,
        }
        let body = super::fetch(&self.client, &self.discovery).await.map_err(|e| unreachable_idp(&e))?;
        let doc: Document = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Config(format!("{}: not a discovery document: {e}", self.discovery)))?;
        if doc.issuer != self.cfg.issuer {
            return Err(OidcError::Config(format!("{}: names another issuer", self.discovery)));
        }
        Ok(Endpoints {
            authorization: parse_url("authorization endpoint", &doc.authorization_endpoint)?,
            token: parse_url("token endpoint", &doc.token_endpoint)?,
        })
    }
}

/// The ID token of a token endpoint's answer, or why there is none.
fn token_answer(ok: bool, body: &[u8]) -> Result<String, OidcError> {
    #[derive(Deserialize)]
    struct Answer {
        id_token: Option<String>,
        error: Option<String>,
    }
    let answer: Answer =
        serde_json::from_slice(body).map_err(|_| invalid("the identity provider's token answer is not JSON"))?;
    match (ok, answer.id_token, answer.error) {
        (true, Some(token), _) => Ok(token),
        (true, None, _) => Err(invalid("the identity provider's token answer has no ID token")),
        (false, _, Some(code)) => {
            Err(invalid(format!("the identity provider refused the code: {}", error_code(&code))))
        }
        (false, _, None) => Err(invalid("the identity provider refused the code")),
    }
}

/// An OAuth error code as it may be shown: its first characters of `[a-z_]` (the codes RFC 6749 defines).
pub fn error_code(code: &str) -> String {
    code.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').take(MAX_ERROR_CODE).collect()
}

fn unreachable_idp(why: &str) -> OidcError {
    OidcError::Unreachable(format!("could not be reached: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_gives_its_id_token_or_says_why_not() {
        assert_eq!(token_answer(true, br#"{"id_token":"a.b.c","access_token":"x"}"#).unwrap(), "a.b.c");
        let refused = token_answer(false, br#"{"error":"invalid_grant","error_description":"<b>"}"#);
        assert!(refused.unwrap_err().to_string().ends_with("refused the code: invalid_grant"));
        assert!(token_answer(true, b"{}").unwrap_err().to_string().contains("no ID token"));
        assert!(token_answer(true, b"<html>").unwrap_err().to_string().contains("not JSON"));
    }

    #[test]
    fn error_codes_are_shown_only_as_codes() {
        assert_eq!(error_code("access_denied"), "access_denied");
        assert_eq!(error_code("access_denied<script>"), "access_denied");
        assert_eq!(error_code(&"x".repeat(500)).len(), MAX_ERROR_CODE);
    }

    #[tokio::test]
    async fn an_issuer_must_be_https_or_loopback() {
        let cfg = |issuer: &str| LoginConfig { issuer: issuer.into(), client_id: "c".into(), client_secret: None };
        assert!(OidcLogin::new(cfg("https://sso.example.go.id/realms/lapor")).is_ok());
        assert!(OidcLogin::new(cfg("http://127.0.0.1:8080")).is_ok());
        assert!(OidcLogin::new(cfg("http://sso.example.go.id")).is_err());
        let no_client = LoginConfig { client_id: " ".into(), ..cfg("https://sso.example.go.id") };
        assert!(OidcLogin::new(no_client).is_err());
    }
}
