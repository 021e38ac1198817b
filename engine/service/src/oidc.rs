//! OIDC bearer tokens: verifying a JWT against the signing keys of a configured JWKS (a file, or the
//! identity provider's URL), and reading the role, agency and name it carries.
//!
//! Signatures and the time and audience checks are jsonwebtoken's (a well-kept crate, no hand-written
//! crypto); this module picks the key, pins the algorithm to the key's, and turns every failure into an
//! [`OidcError`] whose message says what was wrong without repeating the token or its claim values (it
//! becomes the detail of a 401).
//!
//! - The key is the JWKS key named by the token's `kid`; with no `kid`, the only key of a one-key set.
//! - The algorithm is the key's (`alg`, else derived from its type and curve; RSA without `alg` is
//!   RS256), and the token's `alg` must equal it. `none` and HMAC are never accepted: a public key set
//!   must not double as an HMAC secret.
//! - `exp` is required, `nbf` honoured, with 30 s of leeway; `iss` must equal the configured issuer and
//!   `aud` (a string or an array) must contain the configured audience.
//! - A URL source is fetched when the verifier is made, and again, at most once a minute, when a token
//!   names a key id the set lacks (key rotation).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Longest token accepted; a longer one is refused before any decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Largest JWKS read from a file or a URL.
const MAX_JWKS_BYTES: u64 = 1024 * 1024;
/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;
/// Least time between two refetches of a URL source for an unknown key id.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Whole-request timeout of a JWKS fetch (connect, headers and body).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// Where the signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, read once when the verifier is made (a regular file of at most 1 MiB).
    File(PathBuf),
    /// The identity provider's JWKS URL: `https`, or `http` to a loopback host only. Fetched when the
    /// verifier is made and refetched on an unknown key id, at most once a minute.
    Url(String),
}

/// How tokens are checked and which claims carry what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// Where the signing keys come from.
    pub jwks: JwksSource,
    /// `iss` must equal this.
    pub issuer: String,
    /// `aud` (a string or an array) must contain this.
    pub audience: String,
    /// The string claim holding the caller's role, e.g. `aduan_role`; required in every token.
    pub role_claim: String,
    /// The string claim holding the caller's agency, e.g. `aduan_agency`; optional in the token.
    pub agency_claim: String,
    /// The string claim holding the caller's display name, e.g. `preferred_username`; `sub` when absent.
    pub name_claim: String,
}

/// What a verified token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The role claim's value.
    pub role: String,
    /// The agency claim's value, when the token has one.
    pub agency: Option<String>,
    /// The name claim's value, else `sub`.
    pub name: String,
}

/// Why a verifier could not be made or a token was refused.
///
/// The messages of [`OidcError::Invalid`] are meant for HTTP clients: they name what was wrong (and at
/// most a claim's name), never the token or a claim's value.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The configuration is unusable (an empty field, a bad URL, a JWKS path that is not a file).
    #[error("OIDC configuration: {0}")]
    Config(String),
    /// The key set could not be read, fetched or parsed, or holds no usable key.
    #[error("OIDC key set: {0}")]
    Jwks(String),
    /// The token was refused.
    #[error("invalid bearer token: {0}")]
    Invalid(String),
}

fn invalid(why: impl Into<String>) -> OidcError {
    OidcError::Invalid(why.into())
}

/// One usable verification key of the set.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// Where keys are loaded from, ready to load again.
enum Source {
    File(PathBuf),
    Url { url: reqwest::Url, client: reqwest::Client },
}

/// Verifies bearer JWTs against a JWKS. `Send + Sync`: share it behind an `Arc`.
pub struct OidcVerifier {
    source: Source,
    issuer: String,
    role_claim: String,
    agency_claim: String,
    name_claim: String,
    /// The checks common to every token; the algorithm is set per key.
    validation: Validation,
    /// The current key set; replaced whole on a refetch.
    keys: RwLock<Arc<Vec<Key>>>,
    /// When the URL source was last refetched for an unknown key id; held across the fetch so
    /// concurrent misses wait for one fetch instead of starting their own.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::File(path) => format!("file {}", path.display()),
            Source::Url { url, .. } => format!("url {url}"),
        };
        f.debug_struct("OidcVerifier")
            .field("source", &source)
            .field("issuer", &self.issuer)
            .field("keys", &self.current_keys().len())
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// Checks the configuration and loads the key set now (reads the file, or fetches the URL). A set
    /// with no usable key is an error.
    pub async fn new(cfg: OidcConfig) -> Result<Self, OidcError> {
        for (field, value) in [
            ("issuer", &cfg.issuer),
            ("audience", &cfg.audience),
            ("role_claim", &cfg.role_claim),
            ("agency_claim", &cfg.agency_claim),
            ("name_claim", &cfg.name_claim),
        ] {
            if value.trim().is_empty() {
                return Err(OidcError::Config(format!("`{field}` is empty")));
            }
        }
        let source = match cfg.jwks {
            JwksSource::File(path) => Source::File(path),
            JwksSource::Url(url) => {
                let url = parse_jwks_url(&url)?;
                let client = http_client(&url)?;
                Source::Url { url, client }
            }
        };
        let keys = load(&source).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&cfg.issuer]);
        validation.set_audience(&[&cfg.audience]);

        Ok(OidcVerifier {
            source,
            issuer: cfg.issuer,
            role_claim: cfg.role_claim,
            agency_claim: cfg.agency_claim,
            name_claim: cfg.name_claim,
            validation,
            keys: RwLock::new(Arc::new(keys)),
            last_refetch: tokio::sync::Mutex::new(None),
        })
    }

    /// Verifies `token` (the bearer value, without `Bearer `) and returns what it says about its holder.
    /// Every refusal is [`OidcError::Invalid`].
    pub async fn verify(&self, token: &str) -> Result<Claims, OidcError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("token is too long"));
        }
        if !Self::looks_like_jwt(token) {
            return Err(invalid("not a JWT"));
        }
        let header = peek_header(token)?;
        let alg = token_algorithm(header.alg.as_deref())?;

        let mut keys = self.current_keys();
        if let Some(kid) = &header.kid {
            if !keys.iter().any(|k| k.kid.as_deref() == Some(kid.as_str())) && self.refetch().await {
                keys = self.current_keys();
            }
        }
        let key = pick_key(&keys, header.kid.as_deref(), alg)?;

        let mut validation = self.validation.clone();
        validation.algorithms = vec![key.alg];
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation).map_err(refusal)?;
        self.claims(&data.claims)
    }

    /// Whether `token` has a JWT's shape: three non-empty base64url parts separated by dots. Cheap (no
    /// decoding), to tell a JWT from Aduan's own tokens before verifying it.
    pub fn looks_like_jwt(token: &str) -> bool {
        let mut parts = 0;
        for part in token.split('.') {
            parts += 1;
            if parts > 3
                || part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return false;
            }
        }
        parts == 3
    }

    fn current_keys(&self) -> Arc<Vec<Key>> {
        // A poisoned lock still holds a whole Arc (the writer only swaps it), so its value is sound.
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Refetches a URL source for an unknown key id, at most once per [`REFETCH_INTERVAL`]; returns
    /// whether the set may have changed. A failed fetch keeps the old set (and is logged).
    async fn refetch(&self) -> bool {
        let Source::Url { url, .. } = &self.source else { return false };
        let mut last = self.last_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
            // Another miss refetched recently (maybe while this one waited for the lock): look again.
            return true;
        }
        *last = Some(Instant::now());
        match load(&self.source).await {
            Ok(keys) => {
                tracing::info!(url = %url, keys = keys.len(), "OIDC key set refetched for an unknown key id");
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "OIDC key set refetch failed; keeping the old set");
                false
            }
        }
    }

    fn claims(&self, claims: &Map<String, Value>) -> Result<Claims, OidcError> {
        // jsonwebtoken also accepts an array `iss` holding ours; an issuer is one string.
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(invalid("issuer does not match"));
        }
        let role = string_claim(claims, &self.role_claim)?
            .ok_or_else(|| invalid(format!("missing claim `{}`", self.role_claim)))?;
        let agency = string_claim(claims, &self.agency_claim)?;
        let name = match string_claim(claims, &self.name_claim)? {
            Some(name) => name,
            None => string_claim(claims, "sub")?
                .ok_or_else(|| invalid(format!("missing claim `{}` and `sub`", self.name_claim)))?,
        };
        Ok(Claims { role, agency, name })
    }
}

/// A string claim: `None` when absent, null or empty; refused when of another type.
fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, OidcError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("claim `{name}` is not a string"))),
    }
}

/// The header fields read before the signature is checked, to choose the key.
#[derive(serde::Deserialize)]
struct PeekedHeader {
    alg: Option<String>,
    kid: Option<String>,
}

fn peek_header(token: &str) -> Result<PeekedHeader, OidcError> {
    use base64::Engine as _;
    let encoded = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| invalid("malformed token header"))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("malformed token header"))
}

/// The token's `alg`, refusing `none`, HMAC and anything unknown (the value itself is not repeated).
fn token_algorithm(alg: Option<&str>) -> Result<Algorithm, OidcError> {
    let alg = alg.ok_or_else(|| invalid("token header has no `alg`"))?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(invalid("unsigned tokens (`alg: none`) are not accepted"));
    }
    match Algorithm::from_str(alg) {
        Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => Err(invalid("HMAC algorithms are not accepted")),
        Ok(alg) => Ok(alg),
        Err(_) => Err(invalid("unsupported algorithm")),
    }
}

fn pick_key<'k>(keys: &'k [Key], kid: Option<&str>, alg: Algorithm) -> Result<&'k Key, OidcError> {
    let mut candidates: Vec<&Key> = match kid {
        Some(kid) => keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect(),
        None if keys.len() == 1 => keys.iter().collect(),
        None => return Err(invalid("token has no key id and the key set holds several keys")),
    };
    if candidates.is_empty() {
        return Err(invalid("unknown key id"));
    }
    // Key ids are meant to be unique; when they are not, the key of the token's algorithm is the one.
    match candidates.iter().position(|k| k.alg == alg) {
        Some(i) => Ok(candidates.swap_remove(i)),
        None => Err(invalid("algorithm does not match the key")),
    }
}

/// A jsonwebtoken refusal as a message that names what was wrong (never the token or a value).
fn refusal(e: jsonwebtoken::errors::Error) -> OidcError {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::InvalidSignature => invalid("signature does not verify"),
        K::ExpiredSignature => invalid("expired"),
        K::ImmatureSignature => invalid("not valid yet (`nbf` is in the future)"),
        K::InvalidIssuer => invalid("issuer does not match"),
        K::InvalidAudience => invalid("audience does not match"),
        // The names come from our own required set or jsonwebtoken's registered claims, not the token.
        K::MissingRequiredClaim(claim) => invalid(format!("missing claim `{claim}`")),
        K::InvalidClaimFormat(claim) => invalid(format!("claim `{claim}` is malformed")),
        K::InvalidAlgorithm | K::MissingAlgorithm | K::UnsupportedAlgorithm => {
            invalid("algorithm does not match the key")
        }
        K::InvalidToken | K::Base64(_) | K::Json(_) | K::Utf8(_) => invalid("malformed token"),
        _ => invalid("signature does not verify"),
    }
}

fn parse_jwks_url(url: &str) -> Result<reqwest::Url, OidcError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| OidcError::Config(format!("JWKS URL `{url}`: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(OidcError::Config(format!("JWKS URL `{url}`: plain http is accepted for loopback hosts only"))),
        _ => Err(OidcError::Config(format!("JWKS URL `{url}`: not an http(s) URL"))),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn http_client(url: &reqwest::Url) -> Result<reqwest::Client, OidcError> {
    let mut builder = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(FETCH_TIMEOUT)
        // The configured URL is the key set's address; a redirect could lead anywhere, so none is followed.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("aduan/", env!("CARGO_PKG_VERSION")));
    if is_loopback(url) {
        builder = builder.no_proxy();
    } else {
        builder = builder.https_only(true);
    }
    builder.build().map_err(|e| OidcError::Config(format!("JWKS HTTP client: {e}")))
}

/// Reads or fetches the key set and keeps its usable keys; none usable is an error.
async fn load(source: &Source) -> Result<Vec<Key>, OidcError> {
    let (body, from) = match source {
        Source::File(path) => (read_file(path).await?, path.display().to_string()),
        Source::Url { url, client } => (fetch(client, url).await?, url.to_string()),
    };
    let keys = parse_jwks(&body).map_err(|e| OidcError::Jwks(format!("{from}: {e}")))?;
    if keys.is_empty() {
        return Err(OidcError::Jwks(format!("{from}: no usable signing key (RSA, EC P-256/P-384 or Ed25519)")));
    }
    Ok(keys)
}

async fn read_file(path: &std::path::Path) -> Result<Vec<u8>, OidcError> {
    let shown = path.display();
    // Checked before opening: opening a FIFO would block until a writer comes.
    let meta = tokio::fs::metadata(path).await.map_err(|e| OidcError::Jwks(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Err(OidcError::Config(format!("JWKS file {shown} is not a regular file")));
    }
    let file = tokio::fs::File::open(path).await.map_err(|e| OidcError::Jwks(format!("{shown}: {e}")))?;
    // Checked again on the open file, in case the path was swapped in between.
    let meta = file.metadata().await.map_err(|e| OidcError::Jwks(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Err(OidcError::Config(format!("JWKS file {shown} is not a regular file")));
    }
    if meta.len() > MAX_JWKS_BYTES {
        return Err(OidcError::Jwks(format!("{shown}: larger than 1 MiB")));
    }
    let mut body = Vec::new();
    file.take(MAX_JWKS_BYTES + 1).read_to_end(&mut body).await.map_err(|e| OidcError::Jwks(format!("{shown}: {e}")))?;
    if body.len() as u64 > MAX_JWKS_BYTES {
        return Err(OidcError::Jwks(format!("{shown}: larger than 1 MiB")));
    }
    Ok(body)
}

async fn fetch(client: &reqwest::Client, url: &reqwest::Url) -> Result<Vec<u8>, OidcError> {
    let fail = |e: reqwest::Error| OidcError::Jwks(format!("fetching {url}: {}", e.without_url()));
    let mut resp = client.get(url.clone()).header("accept", "application/json").send().await.map_err(fail)?;
    if !resp.status().is_success() {
        return Err(OidcError::Jwks(format!("fetching {url}: HTTP {}", resp.status())));
    }
    if resp.content_length().is_some_and(|n| n > MAX_JWKS_BYTES) {
        return Err(OidcError::Jwks(format!("fetching {url}: larger than 1 MiB")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(fail)? {
        if (body.len() + chunk.len()) as u64 > MAX_JWKS_BYTES {
            return Err(OidcError::Jwks(format!("fetching {url}: larger than 1 MiB")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The usable keys of a JWKS document. A key that is not for signatures, of an unknown or symmetric
/// type, of an algorithm its type cannot have, or a short RSA modulus, is skipped (and logged).
fn parse_jwks(body: &[u8]) -> Result<Vec<Key>, String> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = Vec::new();
    for (i, raw) in set.keys.into_iter().enumerate() {
        match usable_key(raw) {
            Ok(key) => keys.push(key),
            Err(why) => tracing::warn!(index = i, why, "OIDC key set: key skipped"),
        }
    }
    Ok(keys)
}

fn usable_key(raw: Value) -> Result<Key, &'static str> {
    let jwk: Jwk = serde_json::from_value(raw).map_err(|_| "not a JWK")?;
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return Err("`use` is not `sig`");
    }
    if jwk.common.key_operations.as_ref().is_some_and(|ops| !ops.contains(&KeyOperations::Verify)) {
        return Err("`key_ops` lacks `verify`");
    }
    let derived = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            use base64::Engine as _;
            let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&rsa.n).map_err(|_| "bad RSA `n`")?;
            let leading_zeros = n.iter().take_while(|b| **b == 0).count();
            let bits = (n.len() - leading_zeros) * 8;
            if bits < MIN_RSA_BITS {
                return Err("RSA modulus shorter than 2048 bits");
            }
            Algorithm::RS256
        }
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            _ => return Err("unsupported EC curve"),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => Algorithm::EdDSA,
            _ => return Err("unsupported OKP curve"),
        },
        AlgorithmParameters::OctetKey(_) => return Err("symmetric keys are not accepted"),
        _ => return Err("unsupported key type"),
    };
    let alg = match jwk.common.key_algorithm {
        None => derived,
        Some(alg) => {
            let alg = Algorithm::try_from(alg).map_err(|_| "unsupported `alg`")?;
            let fits = match derived {
                // An RSA key signs with any RS or PS algorithm; its `alg` says which one.
                Algorithm::RS256 => matches!(
                    alg,
                    Algorithm::RS256
                        | Algorithm::RS384
                        | Algorithm::RS512
                        | Algorithm::PS256
                        | Algorithm::PS384
                        | Algorithm::PS512
                ),
                other => alg == other,
            };
            if !fits {
                return Err("`alg` does not fit the key type");
            }
            alg
        }
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "key material does not parse")?;
    Ok(Key { kid: jwk.common.key_id, alg, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::future::IntoFuture;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
        assert_eq!(claims, Claims { role: ROLE.into(), agency: Some(AGENCY.into()), name: NAME.into() });
    }

    #[tokio::test]
    async fn good_eddsa_and_es256_tokens_give_the_claims() {
        let v = file_verifier().await;
        let want = Claims { role: ROLE.into(), agency: Some(AGENCY.into()), name: NAME.into() };
        let ed = EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).expect("ed pem");
        let token = sign(Algorithm::EdDSA, Some("ed-1"), &ed, &good_claims());
        assert_eq!(v.verify(&token).await.expect("EdDSA verifies"), want);
        let ec = EncodingKey::from_ec_pem(&fixture("p256-private.pem")).expect("ec pem");
        let token = sign(Algorithm::ES256, Some("p256-1"), &ec, &good_claims());
        assert_eq!(v.verify(&token).await.expect("ES256 verifies"), want);
    }

    #[tokio::test]
    async fn agency_is_optional_and_name_falls_back_to_sub() {
        let v = file_verifier().await;
        let claims = without(without(good_claims(), "aduan_agency"), "preferred_username");
        let got = v.verify(&rs256(&claims)).await.expect("verifies");
        assert_eq!(got, Claims { role: ROLE.into(), agency: None, name: SUB.into() });

        let nameless = without(without(good_claims(), "preferred_username"), "sub");
        refused(&v, &rs256(&nameless), "missing claim `preferred_username` and `sub`").await;
        refused(&v, &rs256(&with(good_claims(), "aduan_agency", json!(7))), "claim `aduan_agency` is not a string")
            .await;
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
        refused(&v, &rs256(&with(good_claims(), "iss", json!([ISSUER, "other-issuer"]))), "issuer does not match")
            .await;
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
        refused(&v, &rs256(&with(good_claims(), "aduan_role", json!(["a"]))), "claim `aduan_role` is not a string")
            .await;
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
        refused(&v, &sign(Algorithm::RS384, Some("rsa-1"), &rsa_key(), &good_claims()), "algorithm does not match")
            .await;
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
        assert!(!OidcVerifier::looks_like_jwt(&crate::crypto::new_token()));
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
}
