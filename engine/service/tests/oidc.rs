//! OIDC bearer tokens (`aduan_service::oidc`, the `oidc` feature) with real keys: the test-only keys in
//! `tests/fixtures/oidc/`, tokens signed by jsonwebtoken, and a JWKS URL served by a real axum server
//! on loopback.
#![cfg(feature = "oidc")]

use aduan_service::oidc::*;
use jsonwebtoken::Algorithm;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use serde_json::Value;
use std::future::IntoFuture;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ISSUER: &str = "https://id.example.test/realms/aduan";
const AUDIENCE: &str = "aduan-api";
/// Distinctive claim values, to check that no error message repeats them.
const ROLE: &str = "role-value-7f3a";
const AGENCY: &str = "agency-value-91c2";
const NAME: &str = "name-value-c0de";
const SUB: &str = "sub-value-5e11";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oidc")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).expect("fixture")
}

fn config(jwks: JwksSource) -> OidcConfig {
    OidcConfig {
        jwks,
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        role_claim: "aduan_role".into(),
        agency_claim: "aduan_agency".into(),
        name_claim: "preferred_username".into(),
    }
}

async fn file_verifier() -> OidcVerifier {
    OidcVerifier::new(config(JwksSource::File(fixtures().join("jwks.json")))).await.expect("verifier")
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUB,
        "exp": now() + 300,
        "iat": now(),
        "aduan_role": ROLE,
        "aduan_agency": AGENCY,
        "preferred_username": NAME,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).expect("rsa pem")
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("encode")
}

fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), claims)
}

/// Asserts a refusal whose message contains `want` and repeats neither the token, nor any of its
/// parts, nor a claim value.
async fn refused(v: &OidcVerifier, token: &str, want: &str) {
    let err = v.verify(token).await.expect_err("token must be refused");
    let msg = err.to_string();
    assert!(matches!(err, OidcError::Invalid(_)), "{err:?}");
    assert!(msg.contains(want), "message {msg:?} should say {want:?}");
    if !token.is_empty() {
        assert!(!msg.contains(token), "message repeats the token");
    }
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!msg.contains(part), "message repeats a token part");
    }
    for value in [ROLE, AGENCY, NAME, SUB, ISSUER, AUDIENCE, "other-issuer", "other-audience"] {
        assert!(!msg.contains(value), "message {msg:?} repeats a claim value");
    }
}

/// `c` without its expiry, which moves with the clock.
fn timeless(c: Claims) -> Claims {
    Claims { expires: None, ..c }
}

#[test]
fn verifier_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<OidcVerifier>();
    check::<Arc<OidcVerifier>>();
}

#[tokio::test]
async fn good_rs256_token_gives_the_claims() {
    let v = file_verifier().await;
    let claims = v.verify(&rs256(&good_claims())).await.expect("verifies");
    assert!(claims.expires.is_some_and(|exp| exp > now()), "{claims:?}");
    assert_eq!(
        timeless(claims),
        Claims { role: ROLE.into(), agency: Some(AGENCY.into()), name: NAME.into(), expires: None }
    );
}

#[tokio::test]
async fn good_eddsa_and_es256_tokens_give_the_claims() {
    let v = file_verifier().await;
    let want = Claims { role: ROLE.into(), agency: Some(AGENCY.into()), name: NAME.into(), expires: None };
    let ed = EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).expect("ed pem");
    let token = sign(Algorithm::EdDSA, Some("ed-1"), &ed, &good_claims());
    assert_eq!(timeless(v.verify(&token).await.expect("EdDSA verifies")), want);
    let ec = EncodingKey::from_ec_pem(&fixture("p256-private.pem")).expect("ec pem");
    let token = sign(Algorithm::ES256, Some("p256-1"), &ec, &good_claims());
    assert_eq!(timeless(v.verify(&token).await.expect("ES256 verifies")), want);
}

#[tokio::test]
async fn agency_is_optional_and_name_falls_back_to_sub() {
    let v = file_verifier().await;
    let claims = without(without(good_claims(), "aduan_agency"), "preferred_username");
    let got = v.verify(&rs256(&claims)).await.expect("verifies");
    assert_eq!(timeless(got), Claims { role: ROLE.into(), agency: None, name: SUB.into(), expires: None });

    let nameless = without(without(good_claims(), "preferred_username"), "sub");
    refused(&v, &rs256(&nameless), "missing claim `preferred_username` and `sub`").await;
    refused(&v, &rs256(&with(good_claims(), "aduan_agency", json!(7))), "claim `aduan_agency` is not a string").await;
}

#[tokio::test]
async fn time_claims_are_checked_with_30_s_of_leeway() {
    let v = file_verifier().await;
    refused(&v, &rs256(&with(good_claims(), "exp", json!(now() - 120))), "expired").await;
    refused(&v, &rs256(&without(good_claims(), "exp")), "missing claim `exp`").await;
    // jsonwebtoken counts an `exp` that is not a number as missing.
    refused(&v, &rs256(&with(good_claims(), "exp", json!("soon"))), "missing claim `exp`").await;
    refused(&v, &rs256(&with(good_claims(), "nbf", json!(now() + 120))), "not valid yet").await;
    // Within the leeway both pass.
    v.verify(&rs256(&with(good_claims(), "exp", json!(now() - 10)))).await.expect("exp within leeway");
    v.verify(&rs256(&with(good_claims(), "nbf", json!(now() + 10)))).await.expect("nbf within leeway");
}

#[tokio::test]
async fn issuer_and_audience_are_checked() {
    let v = file_verifier().await;
    refused(&v, &rs256(&with(good_claims(), "iss", json!("other-issuer"))), "issuer does not match").await;
    refused(&v, &rs256(&with(good_claims(), "iss", json!([ISSUER, "other-issuer"]))), "issuer does not match").await;
    refused(&v, &rs256(&without(good_claims(), "iss")), "missing claim `iss`").await;
    refused(&v, &rs256(&with(good_claims(), "aud", json!("other-audience"))), "audience does not match").await;
    refused(&v, &rs256(&with(good_claims(), "aud", json!(["other-audience"]))), "audience does not match").await;
    refused(&v, &rs256(&without(good_claims(), "aud")), "missing claim `aud`").await;
    let token = rs256(&with(good_claims(), "aud", json!(["other-audience", AUDIENCE])));
    assert_eq!(v.verify(&token).await.expect("array audience holding ours").role, ROLE);
}

#[tokio::test]
async fn role_claim_is_required_and_a_string() {
    let v = file_verifier().await;
    refused(&v, &rs256(&without(good_claims(), "aduan_role")), "missing claim `aduan_role`").await;
    refused(&v, &rs256(&with(good_claims(), "aduan_role", json!(""))), "missing claim `aduan_role`").await;
    refused(&v, &rs256(&with(good_claims(), "aduan_role", json!(["a"]))), "claim `aduan_role` is not a string").await;
}

#[tokio::test]
async fn key_choice_and_forgeries_are_refused() {
    let v = file_verifier().await;
    // A key id the (file) set lacks.
    refused(&v, &sign(Algorithm::RS256, Some("rsa-9"), &rsa_key(), &good_claims()), "unknown key id").await;
    // Signed by another key under the known kid.
    let other = EncodingKey::from_rsa_pem(&fixture("rsa-other-private.pem")).expect("rsa pem");
    refused(&v, &sign(Algorithm::RS256, Some("rsa-1"), &other, &good_claims()), "signature does not verify").await;
    // The key's algorithm is pinned: RS384 by the right key is still refused.
    refused(&v, &sign(Algorithm::RS384, Some("rsa-1"), &rsa_key(), &good_claims()), "algorithm does not match").await;
    // No kid with several keys in the set.
    refused(&v, &sign(Algorithm::RS256, None, &rsa_key(), &good_claims()), "no key id").await;
    // HS256 with the public key's bytes as the HMAC secret.
    let hmac = EncodingKey::from_secret(&fixture("rsa-public.pem")).expect("hmac key");
    refused(&v, &sign(Algorithm::HS256, Some("rsa-1"), &hmac, &good_claims()), "HMAC").await;
    // A tampered payload under a good signature.
    let good = rs256(&good_claims());
    let forged = rs256(&with(good_claims(), "aduan_role", json!("admin")));
    let parts: Vec<&str> = good.split('.').collect();
    let forged_payload = forged.split('.').nth(1).expect("payload");
    refused(&v, &format!("{}.{}.{}", parts[0], forged_payload, parts[2]), "signature does not verify").await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let v = file_verifier().await;
    for alg in ["none", "None", "NONE"] {
        let unsigned = format!("{}.{}.", b64(&json!({"alg": alg, "kid": "rsa-1"})), b64(&good_claims()));
        refused(&v, &unsigned, "not a JWT").await;
        let with_sig = format!("{unsigned}c2lnbmF0dXJl");
        refused(&v, &with_sig, "`alg: none`").await;
    }
    let no_alg = format!("{}.{}.c2ln", b64(&json!({"kid": "rsa-1"})), b64(&good_claims()));
    refused(&v, &no_alg, "no `alg`").await;
    let odd_alg = format!("{}.{}.c2ln", b64(&json!({"alg": "XS999", "kid": "rsa-1"})), b64(&good_claims()));
    refused(&v, &odd_alg, "unsupported algorithm").await;
}

#[tokio::test]
async fn garbage_is_refused_without_panicking() {
    let v = file_verifier().await;
    let good = rs256(&good_claims());
    let huge = "a".repeat(20 * 1024);
    let huge_jwt = format!("{}.{}.{}", "a".repeat(7000), "b".repeat(7000), "c".repeat(7000));
    let cases = [
        "",
        "garbage",
        "a.b.c",
        "...",
        "a..c",
        "a.b.c.d",
        "\0",
        "a\0.b.c",
        "eyJhbGciOiJSUzI1NiJ9.\0.c2ln",
        "é.ü.ß",
        huge.as_str(),
        huge_jwt.as_str(),
        &good[..good.len() - 10],
        &good[10..],
    ];
    for token in cases {
        let err = v.verify(token).await.expect_err("refused");
        assert!(matches!(err, OidcError::Invalid(_)), "{err:?}");
        if !token.is_empty() {
            assert!(!err.to_string().contains(token));
        }
    }
    refused(&v, &huge, "too long").await;
    // A JSON header of the wrong shape, and base64 that is not JSON.
    refused(&v, "W10.e30.c2ln", "malformed token header").await;
    refused(&v, "bm90IGpzb24.e30.c2ln", "malformed token header").await;
}

#[test]
fn looks_like_jwt_is_a_shape_check() {
    assert!(OidcVerifier::looks_like_jwt("eyJh.eyJz.c2ln"));
    assert!(OidcVerifier::looks_like_jwt("a-_9.b.c"));
    for not in ["", "abc", "a.b", "a.b.c.d", "a..c", "a.b.", ".b.c", "a.b.c=", "a+b.c.d", "a.b.c\0", "a b.c.d"] {
        assert!(!OidcVerifier::looks_like_jwt(not), "{not:?}");
    }
    // Aduan's own tokens (32 random bytes, base64url) are not JWTs.
    assert!(!OidcVerifier::looks_like_jwt(&aduan_service::crypto::new_token()));
}

#[tokio::test]
async fn one_key_set_serves_tokens_without_kid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set: Value = serde_json::from_slice(&fixture("jwks.json")).expect("json");
    let path = dir.path().join("one.json");
    std::fs::write(&path, json!({"keys": [set["keys"][0]]}).to_string()).expect("write");
    let v = OidcVerifier::new(config(JwksSource::File(path))).await.expect("verifier");
    let token = sign(Algorithm::RS256, None, &rsa_key(), &good_claims());
    assert_eq!(v.verify(&token).await.expect("verifies").role, ROLE);
}

#[tokio::test]
async fn unusable_key_sets_and_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        path
    };
    let new = |path: PathBuf| OidcVerifier::new(config(JwksSource::File(path)));

    // Only a symmetric key, a key for encryption, and a short RSA key: nothing usable.
    let set: Value = serde_json::from_slice(&fixture("jwks.json")).expect("json");
    let mut enc = set["keys"][1].clone();
    enc["use"] = json!("enc");
    let short = json!({"kty": "RSA", "kid": "short", "alg": "RS256", "n": "AQAB", "e": "AQAB"});
    let hmac = json!({"kty": "oct", "kid": "hs", "alg": "HS256", "k": "c2VjcmV0"});
    let path = write("unusable.json", json!({"keys": [hmac, enc, short]}).to_string().as_bytes());
    assert!(matches!(new(path).await, Err(OidcError::Jwks(m)) if m.contains("no usable signing key")));
    let path = write("empty.json", br#"{"keys": []}"#);
    assert!(matches!(new(path).await, Err(OidcError::Jwks(_))));
    let path = write("garbage.json", b"\0not json");
    assert!(matches!(new(path).await, Err(OidcError::Jwks(_))));
    // `alg` that does not fit the key type.
    let mut lying = set["keys"][1].clone();
    lying["alg"] = json!("RS256");
    let path = write("lying.json", json!({"keys": [lying]}).to_string().as_bytes());
    assert!(matches!(new(path).await, Err(OidcError::Jwks(_))));

    // Over 1 MiB (valid JSON, padded with spaces).
    let mut big = fixture("jwks.json");
    big.resize(MAX_JWKS_BYTES as usize + 1, b' ');
    let path = write("big.json", &big);
    assert!(matches!(new(path).await, Err(OidcError::Jwks(m)) if m.contains("1 MiB")));

    // A directory, a missing file, and a FIFO (which must not block).
    assert!(matches!(new(dir.path().to_path_buf()).await, Err(OidcError::Config(_))));
    assert!(matches!(new(dir.path().join("missing.json")).await, Err(OidcError::Jwks(_))));
    let fifo = dir.path().join("jwks.fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(status.success());
    let got = tokio::time::timeout(Duration::from_secs(5), new(fifo)).await.expect("a FIFO must not block");
    assert!(matches!(got, Err(OidcError::Config(m)) if m.contains("not a regular file")));
}

#[tokio::test]
async fn bad_configs_are_refused() {
    let file = JwksSource::File(fixtures().join("jwks.json"));
    let mut cfg = config(file.clone());
    cfg.role_claim = " ".into();
    assert!(matches!(OidcVerifier::new(cfg).await, Err(OidcError::Config(m)) if m.contains("role_claim")));
    for url in ["http://id.example.test/jwks", "ftp://127.0.0.1/jwks", "not a url"] {
        let got = OidcVerifier::new(config(JwksSource::Url(url.into()))).await;
        assert!(matches!(got, Err(OidcError::Config(_))), "{url}: {got:?}");
    }
}

/// The test JWKS server: serves `jwks.json`, or `jwks-rotated.json` once `rotated` is set, and
/// counts requests. Stopped when the guard drops, also when a test fails.
struct JwksServer {
    url: String,
    requests: Arc<AtomicUsize>,
    rotated: Arc<AtomicBool>,
    _stop: tokio_util::sync::DropGuard,
}

async fn jwks_server() -> JwksServer {
    #[derive(Clone)]
    struct State {
        requests: Arc<AtomicUsize>,
        rotated: Arc<AtomicBool>,
        first: Arc<Vec<u8>>,
        second: Arc<Vec<u8>>,
    }
    async fn serve(axum::extract::State(s): axum::extract::State<State>) -> impl axum::response::IntoResponse {
        s.requests.fetch_add(1, Ordering::SeqCst);
        let body = if s.rotated.load(Ordering::SeqCst) { &s.second } else { &s.first };
        ([(axum::http::header::CONTENT_TYPE, "application/json")], body.as_ref().clone())
    }
    let state = State {
        requests: Arc::new(AtomicUsize::new(0)),
        rotated: Arc::new(AtomicBool::new(false)),
        first: Arc::new(fixture("jwks.json")),
        second: Arc::new(fixture("jwks-rotated.json")),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = tokio_util::sync::CancellationToken::new();
    let app = axum::Router::new().route("/jwks", axum::routing::get(serve)).with_state(state.clone());
    tokio::spawn(axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned()).into_future());
    JwksServer {
        url: format!("http://{addr}/jwks"),
        requests: state.requests,
        rotated: state.rotated,
        _stop: stop.drop_guard(),
    }
}

#[tokio::test]
async fn url_source_refetches_on_an_unknown_kid_at_most_once_a_minute() {
    let server = jwks_server().await;
    let v = Arc::new(OidcVerifier::new(config(JwksSource::Url(server.url.clone()))).await.expect("verifier"));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "fetched at new");
    v.verify(&rs256(&good_claims())).await.expect("rsa-1 verifies");
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "a known kid does not fetch");

    // The provider rotates: a token under the new kid makes one refetch and then verifies.
    server.rotated.store(true, Ordering::SeqCst);
    let other = EncodingKey::from_rsa_pem(&fixture("rsa-other-private.pem")).expect("rsa pem");
    let rotated = sign(Algorithm::RS256, Some("rsa-2"), &other, &good_claims());
    assert_eq!(v.verify(&rotated).await.expect("rsa-2 verifies after the refetch").role, ROLE);
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);

    // Another unknown kid within the minute does not fetch again.
    refused(&v, &sign(Algorithm::RS256, Some("rsa-3"), &other, &good_claims()), "unknown key id").await;
    assert_eq!(server.requests.load(Ordering::SeqCst), 2, "no second refetch within 60 s");
    // The set in use is the rotated one (ed-1 left it); old and new RSA keys still verify.
    let ed = EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).expect("ed pem");
    refused(&v, &sign(Algorithm::EdDSA, Some("ed-1"), &ed, &good_claims()), "unknown key id").await;
    v.verify(&rs256(&good_claims())).await.expect("rsa-1 still verifies");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn url_source_failures_are_jwks_errors() {
    let server = jwks_server().await;
    let missing = server.url.replace("/jwks", "/nothing");
    assert!(
        matches!(OidcVerifier::new(config(JwksSource::Url(missing))).await, Err(OidcError::Jwks(m)) if m.contains("404"))
    );
    drop(server);
    // Nothing listens on a port just freed (the guard stopped the server).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    drop(listener);
    assert!(matches!(OidcVerifier::new(config(JwksSource::Url(url))).await, Err(OidcError::Jwks(_))));
}

#[tokio::test]
async fn an_id_token_is_for_the_sign_in_client_and_its_nonce() {
    let v = file_verifier().await;
    let id_token = |aud: &str, nonce: Option<&str>| {
        let mut c = with(good_claims(), "aud", json!(aud));
        if let Some(n) = nonce {
            c = with(c, "nonce", json!(n));
        }
        rs256(&c)
    };
    let got = v.verify_id_token(&id_token("dashboard", Some("n-1")), "dashboard", "n-1").await.expect("verifies");
    assert_eq!(got.name, NAME);
    for (token, why) in [
        (id_token("dashboard", Some("n-2")), "does not answer this sign-in"),
        (id_token("dashboard", None), "does not answer this sign-in"),
        (id_token(AUDIENCE, Some("n-1")), "audience does not match"),
    ] {
        let err = v.verify_id_token(&token, "dashboard", "n-1").await.expect_err("refused");
        assert!(err.to_string().contains(why), "{err} should say {why}");
    }
    // An ID token is no bearer for the API: its audience is the sign-in client's.
    assert!(v.verify(&id_token("dashboard", Some("n-1"))).await.is_err());
}
