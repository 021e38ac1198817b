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

mod login;

pub use login::{error_code, LoginConfig, OidcLogin, PendingSignIn};

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
pub const MAX_JWKS_BYTES: u64 = 1024 * 1024;
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
    /// `exp`, in seconds since the epoch.
    pub expires: Option<i64>,
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
    /// The identity provider did not answer the sign-in's requests (discovery, the token request).
    #[error("OIDC provider: {0}")]
    Unreachable(String),
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
                let url = parse_url("JWKS URL", &url)?;
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
        let claims = self.decode(token, self.validation.clone()).await?;
        self.claims(&claims)
    }

    /// Verifies an ID token the identity provider issued to the dashboard's sign-in (`client_id` is its
    /// audience) in answer to the sign-in that sent `nonce`; what it says about its holder.
    pub async fn verify_id_token(&self, token: &str, client_id: &str, nonce: &str) -> Result<Claims, OidcError> {
        let mut validation = self.validation.clone();
        validation.set_audience(&[client_id]);
        let claims = self.decode(token, validation).await?;
        if nonce.is_empty() || claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(invalid("the ID token does not answer this sign-in (`nonce`)"));
        }
        self.claims(&claims)
    }

    /// Verifies `token`'s signature with the key it names and checks it against `validation`.
    async fn decode(&self, token: &str, mut validation: Validation) -> Result<Map<String, Value>, OidcError> {
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
        validation.algorithms = vec![key.alg];
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation).map_err(refusal)?;
        Ok(data.claims)
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
        let expires = claims.get("exp").and_then(Value::as_i64);
        Ok(Claims { role, agency, name, expires })
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

/// `url` as the address of `what` (the JWKS URL, the issuer): https, or plain http to a loopback host.
fn parse_url(what: &str, url: &str) -> Result<reqwest::Url, OidcError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| OidcError::Config(format!("{what} `{url}`: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(OidcError::Config(format!("{what} `{url}`: plain http is accepted for loopback hosts only"))),
        _ => Err(OidcError::Config(format!("{what} `{url}`: not an http(s) URL"))),
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
    builder.build().map_err(|e| OidcError::Config(format!("OIDC HTTP client: {e}")))
}

/// Reads or fetches the key set and keeps its usable keys; none usable is an error.
async fn load(source: &Source) -> Result<Vec<Key>, OidcError> {
    let (body, from) = match source {
        Source::File(path) => (read_file(path).await?, path.display().to_string()),
        Source::Url { url, client } => (fetch(client, url).await.map_err(OidcError::Jwks)?, url.to_string()),
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

/// GETs `url` as JSON: the body of a successful answer, at most 1 MiB.
async fn fetch(client: &reqwest::Client, url: &reqwest::Url) -> Result<Vec<u8>, String> {
    let resp = client.get(url.clone()).header("accept", "application/json").send().await;
    let resp = resp.map_err(|e| format!("fetching {url}: {}", e.without_url()))?;
    if !resp.status().is_success() {
        return Err(format!("fetching {url}: HTTP {}", resp.status()));
    }
    read_body(resp).await.map_err(|e| format!("fetching {url}: {e}"))
}

/// An answer's body, at most 1 MiB (a key set, a discovery document or a token answer is far smaller).
async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_large = || "larger than 1 MiB".to_owned();
    if resp.content_length().is_some_and(|n| n > MAX_JWKS_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.without_url().to_string())? {
        if (body.len() + chunk.len()) as u64 > MAX_JWKS_BYTES {
            return Err(too_large());
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
