//! Sign-in by redirect (docs/web.md#single-sign-on) against a real OpenID provider: oidc-provider from
//! npm (tests/web/idp.mjs), with its own login and consent pages, driven in headless Chromium; and the
//! callback's refusals over plain HTTP.

use super::{dispatched, scenario};
use crate::support::{Db, Server};
use aduan_testkit::http;
use serde_json::json;
use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const CLIENT_ID: &str = "aduan-dashboard";
const CLIENT_SECRET: &str = "rahasia-klien-uji";

/// The identity provider of tests/web/idp.mjs: stopped (stdin closed, then killed) when dropped.
struct Idp {
    issuer: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Idp {
    /// Starts the provider, giving each account `claims`; it waits for the client's redirect URI.
    fn start(claims: &serde_json::Value) -> Idp {
        let modules = std::env::var("ADUAN_WEB_MODULES").expect("ADUAN_WEB_MODULES: run deploy/test.sh");
        let key = std::fs::read_to_string(crate::root().join("engine/service/tests/fixtures/oidc/rsa-private.pem"))
            .expect("the fixture key");
        let mut cmd = Command::new("node");
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/idp.mjs"))
            .env("ADUAN_WEB_MODULES", modules)
            .env("IDP_KEY", key)
            .env("IDP_KID", "rsa-1")
            .env("IDP_CLAIMS", claims.to_string())
            .env("IDP_CLIENT_SECRET", CLIENT_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = aduan_testkit::process::spawn(cmd).expect("node starts");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let issuer = stdout.next().and_then(Result::ok).expect("the provider prints its issuer");
        assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
        Idp { issuer, child, stdin, stdout }
    }

    /// Registers the client with `redirect_uri` and waits until the provider serves.
    fn register(&mut self, redirect_uri: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{redirect_uri}").expect("the provider reads");
        let ready = self.stdout.next().and_then(Result::ok);
        assert_eq!(ready.as_deref(), Some("ready"));
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` as the provider's client, with the fixture keys as its JWKS.
fn client_of(idp: &Idp) -> Server {
    let jwks = crate::root().join("engine/service/tests/fixtures/oidc/jwks.json");
    let env = [
        ("ADUAN_JWKS_FILE", jwks.to_str().unwrap()),
        ("ADUAN_JWT_ISSUER", idp.issuer.as_str()),
        ("ADUAN_JWT_AUDIENCE", "aduan-api"),
        ("ADUAN_OIDC_CLIENT_ID", CLIENT_ID),
        ("ADUAN_OIDC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    Server::start_with_env(Db::Sqlite, &[], &env)
}

#[test]
fn an_officer_signs_in_at_the_identity_provider_and_responds() {
    let mut idp = Idp::start(&json!({"aduan_role": "officer", "aduan_agency": "33.74/dinas-pu"}));
    let s = client_of(&idp);
    idp.register(&s.url("/dashboard/login/sso/callback"));
    let (id, tracking) = dispatched(&s, "public", "Sri");
    let input = json!({"issuer": idp.issuer, "login": "budi", "tracking_id": tracking,
                       "message": "Ditangani lewat SSO"});
    let found = scenario(&s, "sso", &input);
    assert!(found["who"].as_str().unwrap().contains("oidc:budi"), "{found}");
    let view = s.get(&format!("/v1/complaints/{id}")).json();
    let last = view["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["type"].as_str(), last["data"]["message"].as_str()),
        (Some("responded"), Some(input["message"].as_str().unwrap()))
    );
    assert!(last["actor"].as_str().unwrap().contains("oidc:budi"), "{last}");
}

#[test]
fn the_callback_refuses_what_this_sign_in_did_not_start() {
    let mut idp = Idp::start(&json!({"aduan_role": "officer", "aduan_agency": "33.74/dinas-pu"}));
    let s = client_of(&idp);
    idp.register(&s.url("/dashboard/login/sso/callback"));
    // The start: a 303 to the provider with PKCE, state and nonce; the pending cookie is Lax.
    let r = http::get(&s.url("/dashboard/login/sso"));
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").unwrap().to_owned();
    assert!(to.starts_with(&idp.issuer), "{to}");
    for part in ["response_type=code", "client_id=aduan-dashboard", "code_challenge_method=S256", "state=", "nonce="] {
        assert!(to.contains(part), "{to} lacks {part}");
    }
    let pending = r.header("set-cookie").unwrap().to_owned();
    assert!(pending.starts_with("aduan_sso=") && pending.contains("SameSite=Lax") && pending.contains("HttpOnly"));
    let pending = pending.split(';').next().unwrap().to_owned();
    let callback = |query: &str, cookie: Option<&str>| {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
        http::request("GET", &s.url(&format!("/dashboard/login/sso/callback?{query}")), &headers, None)
    };
    // No pending sign-in, another state, or a code without its verifier: refused, no session.
    for (query, cookie, status, says) in [
        ("code=x&state=y", None, 400, "start it again"),
        ("code=x&state=not-this-one", Some(pending.as_str()), 400, "start it again"),
        ("error=access_denied&error_description=%3Cb%3E", Some(pending.as_str()), 401, "access_denied"),
    ] {
        let r = callback(query, cookie);
        assert_eq!(r.status, status, "{query}: {}", r.text());
        assert!(r.text().contains(says), "{query}: {}", r.text());
        assert!(!r.text().contains("<b>"), "the provider's description is not repeated");
        let session = r.headers.iter().any(|(n, v)| n == "set-cookie" && v.starts_with("aduan_session="));
        assert!(!session, "{query}: a session was started");
    }
    let state = to.split("state=").nth(1).unwrap().split('&').next().unwrap();
    let r = callback(&format!("code=forged&state={state}"), Some(&pending));
    assert_eq!(r.status, 401, "a code the provider never issued: {}", r.text());
    assert!(r.text().contains("refused the code"), "{}", r.text());
}

#[test]
fn without_a_client_there_is_no_sign_in_by_redirect() {
    let s = Server::start(Db::Sqlite);
    assert_eq!(http::get(&s.url("/dashboard/login/sso")).status, 404);
    assert!(!http::get(&s.url("/dashboard/login")).text().contains("/dashboard/login/sso"));
}
