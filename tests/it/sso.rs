//! Single sign-on end to end (docs/access.md#single-sign-on): `aduan serve` with `ADUAN_JWKS_FILE` (the
//! test-only keys of engine/service/tests/fixtures/oidc), JWTs signed here with jsonwebtoken. A token
//! with role and agency claims acts in its scope over HTTP and NATS and is named in the history as
//! `role:oidc:NAME@agency`; outside its scope it gets 404 (read) and 403 (act); an expired token, a
//! wrong audience, issuer or key, `alg: none`, an HMAC token keyed with the public key, and claims
//! naming no role or agency of this service get 401 with `WWW-Authenticate`, on both doors, and no
//! answer or log line repeats the token.

use crate::support::{nats_request, read_stream, submission, Db, Server};
use aduan_testkit::http::{self, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

both_backends!(jwts_act_in_scope_and_bad_ones_are_401);

const ISSUER: &str = "https://sso.example.test/realms/aduan";
const AUDIENCE: &str = "aduan-api";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(crate::root().join("engine/service/tests/fixtures/oidc").join(name)).expect("fixture")
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn claims(role: &str, agency: &str, name: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": format!("sub-{name}"), "iat": now(), "exp": now() + 300,
           "aduan_role": role, "aduan_agency": agency, "preferred_username": name})
}

fn sign(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("encode")
}

/// Signed by the fixture's `rsa-1`, the key set's RS256 key.
fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, "rsa-1", &EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap(), claims)
}

fn with(mut c: Value, k: &str, v: Value) -> Value {
    c[k] = v;
    c
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn act(s: &Server, id: &str, body: &Value, token: &str) -> Response {
    s.act(id, body, &[("Authorization", &bearer(token))])
}

fn jwts_act_in_scope_and_bad_ones_are_401(db: Db) {
    let jwks = crate::root().join("engine/service/tests/fixtures/oidc/jwks.json");
    let jwks = jwks.to_str().unwrap();
    let env = [("ADUAN_JWKS_FILE", jwks), ("ADUAN_JWT_ISSUER", ISSUER), ("ADUAN_JWT_AUDIENCE", AUDIENCE)];
    let s = Server::start_with_env(db, &["--no-workers"], &env);
    let filed = s.submit(&submission("35.78", "infrastruktur"), &[]).json();
    let id = filed["id"].as_str().unwrap().to_owned();

    // In scope: the kota's admin verifies over HTTP, the holder's officer reads and responds over NATS
    // (signed with another key type of the set), a national supervisor lists.
    let admin = rs256(&claims("admin", "35.78", "budi"));
    let r = act(&s, &id, &json!({"action": "verify"}), &admin);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["agency"], "35.78/dinas-pu");
    let ed = EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).unwrap();
    let officer = sign(Algorithm::EdDSA, "ed-1", &ed, &claims("officer", "35.78/dinas-pu", "sari"));
    assert_eq!(s.get_as(&format!("/v1/complaints/{id}"), Some(&officer)).status, 200);
    let respond = json!({"complaint": id, "message": "Kami tangani"});
    let reply = nats_request(&s.nats_url, &s.prefix, "respond", respond.to_string().as_bytes(), None, Some(&officer));
    assert_eq!(reply.status(), 200, "{}", String::from_utf8_lossy(&reply.body));
    let supervisor = rs256(&claims("supervisor", "kemenpanrb", "wati"));
    assert_eq!(s.get_as("/v1/complaints", Some(&supervisor)).status, 200);
    let history = s.get(&format!("/v1/complaints/{id}")).json()["history"].clone();
    let actors: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["anyone", "admin:oidc:budi@35.78", "officer:oidc:sari@35.78/dinas-pu"]);

    // Out of scope: an officer of another kota reads nothing (404) and may not act (403, both doors).
    let far = rs256(&claims("officer", "33.74", "joko"));
    assert_eq!(s.get_as(&format!("/v1/complaints/{id}"), Some(&far)).status, 404);
    let r = act(&s, &id, &json!({"action": "respond", "message": "x"}), &far);
    assert_eq!(r.status, 403, "{}", r.text());
    let cmd = json!({"complaint": id, "message": "x"});
    assert_eq!(
        nats_request(&s.nats_url, &s.prefix, "respond", cmd.to_string().as_bytes(), None, Some(&far)).status(),
        403
    );
    // A supervisor in scope still acts on nothing.
    let r = act(&s, &id, &json!({"action": "respond", "message": "x"}), &supervisor);
    assert_eq!(r.status, 403, "{}", r.text());

    // Refused credentials: 401 on both doors, and nothing repeats the token.
    let good = claims("officer", "35.78/dinas-pu", "sari");
    let other_key = EncodingKey::from_rsa_pem(&fixture("rsa-other-private.pem")).unwrap();
    let unsigned = {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", part(json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"})), part(good.clone()))
    };
    let refused = [
        ("expired", rs256(&with(good.clone(), "exp", json!(now() - 120)))),
        ("a wrong audience", rs256(&with(good.clone(), "aud", json!("another-api")))),
        ("a wrong issuer", rs256(&with(good.clone(), "iss", json!("https://evil.example.test")))),
        ("a wrong key", sign(Algorithm::RS256, "rsa-1", &other_key, &good)),
        ("alg none", unsigned),
        ("HMAC keyed with the public key", {
            sign(Algorithm::HS256, "rsa-1", &EncodingKey::from_secret(&fixture("rsa-public.pem")).unwrap(), &good)
        }),
        ("an unknown role", rs256(&with(good.clone(), "aduan_role", json!("superuser")))),
        ("an agency outside the directory", rs256(&with(good.clone(), "aduan_agency", json!("99.99/nowhere")))),
        ("no role claim", rs256(&with(good.clone(), "aduan_role", Value::Null))),
    ];
    for (what, token) in &refused {
        let r = s.get_as(&format!("/v1/complaints/{id}"), Some(token));
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"aduan\""), "{what}");
        assert!(!r.text().contains(token.as_str()), "{what}: the answer repeats the token");
        let r = http::post_json(
            &s.url("/v1/complaints"),
            &submission("35.78", "kesehatan"),
            &[("Authorization", &bearer(token))],
        );
        assert_eq!(r.status, 401, "{what}: a bad credential is refused even where none is needed");
        let cmd = json!({"complaint": id, "message": "x"});
        let reply = nats_request(&s.nats_url, &s.prefix, "respond", cmd.to_string().as_bytes(), None, Some(token));
        assert_eq!(reply.status(), 401, "{what}: {}", String::from_utf8_lossy(&reply.body));
        assert!(!String::from_utf8_lossy(&reply.body).contains(token.as_str()), "{what}");
    }
    // The dead letters (the far officer's and the refused ones) and the log keep no token either.
    let letters = read_stream(&s.nats_url, &s.stream("DLQ"), 1 + refused.len() as u64);
    let letters: Vec<String> = letters.iter().map(|m| String::from_utf8_lossy(&m.raw).into_owned()).collect();
    let log = s.log_text();
    for (what, token) in &refused {
        let signature = token.rsplit('.').next().unwrap();
        for text in letters.iter().chain([&log]) {
            assert!(!text.contains(token.as_str()), "{what}: {text}");
            assert!(signature.is_empty() || !text.contains(signature), "{what}: {text}");
        }
    }
}
