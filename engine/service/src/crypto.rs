//! Secrets at rest: the data key (`ADUAN_DATA_KEY`) seals anonymous reporters' identities and, for 24 h,
//! the reporter token of a submission (so an idempotent replay can return it). Tokens are 32 random
//! bytes shown once and stored as SHA-256.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of a sealed value, naming the scheme so it can change later.
const SEALED_PREFIX: &str = "sealed:v1:";

/// Why a data key or a sealed value is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// `ADUAN_DATA_KEY` is not 32 bytes of base64.
    #[error("ADUAN_DATA_KEY must be 32 bytes, base64-encoded ({0})")]
    BadKey(String),
    /// A sealed value does not open with this key.
    #[error("a sealed value does not open with this data key")]
    Open,
}

/// The 32-byte key that seals identities.
#[derive(Clone)]
pub struct DataKey(ChaCha20Poly1305);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// Parses a base64 key (standard or URL-safe alphabet).
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        let bytes = STANDARD
            .decode(s)
            .or_else(|_| URL_SAFE_NO_PAD.decode(s))
            .map_err(|e| CryptoError::BadKey(e.to_string()))?;
        let len = bytes.len();
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey(format!("got {len} bytes")))?;
        Ok(Self(ChaCha20Poly1305::new(&Key::from(key))))
    }

    /// A fresh random key, base64-encoded (written to `data/aduan.key` on first SQLite start).
    pub fn generate_base64() -> String {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        STANDARD.encode(k)
    }

    /// Seals a value: `sealed:v1:` + base64url(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self.0.encrypt(&Nonce::from(nonce), plaintext.as_bytes()).expect("in-memory encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a sealed value; a value that is not sealed is returned as it is.
    pub fn open(&self, value: &str) -> Result<String, CryptoError> {
        let Some(b64) = value.strip_prefix(SEALED_PREFIX) else { return Ok(value.to_owned()) };
        let raw = URL_SAFE_NO_PAD.decode(b64).map_err(|_| CryptoError::Open)?;
        if raw.len() < 12 {
            return Err(CryptoError::Open);
        }
        let nonce: [u8; 12] = raw[..12].try_into().map_err(|_| CryptoError::Open)?;
        let pt = self.0.decrypt(&Nonce::from(nonce), &raw[12..]).map_err(|_| CryptoError::Open)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Open)
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED_PREFIX)
}

/// A new secret token: 32 random bytes, base64url.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// What every API token starts with: a dot, so it never looks like a reporter token (base64url, no
/// dot) nor like a JWT (three dot-separated parts).
pub const API_TOKEN_PREFIX: &str = "adn.";

/// A new API token: [`API_TOKEN_PREFIX`] and a [`new_token`].
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", new_token())
}

/// Whether `s` has the shape of a tracking id (`XXXXX-XXXXX` over [`TRACKING_ALPHABET`]).
pub fn is_tracking_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b.iter().enumerate().all(|(i, c)| if i == 5 { *c == b'-' } else { TRACKING_ALPHABET.contains(c) })
}

/// SHA-256 hex, for storing tokens and request fingerprints.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Tracking-id alphabet: no 0/O, 1/I (unambiguous over SMS).
pub const TRACKING_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A new tracking id: 10 symbols (50 bits) shown as `XXXXX-XXXXX`.
pub fn new_tracking_id() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            s.push('-');
        }
        s.push(TRACKING_ALPHABET[(rng.next_u32() % 32) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_tamper_fails() {
        let k = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
        let sealed = k.seal("{\"name\":\"Sri\"}");
        assert!(is_sealed(&sealed));
        assert_eq!(k.open(&sealed).unwrap(), "{\"name\":\"Sri\"}");
        let other = DataKey::from_base64(&DataKey::generate_base64()).unwrap();
        assert!(other.open(&sealed).is_err());
        assert_eq!(k.open("plain").unwrap(), "plain");
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn api_tokens_look_like_neither_reporter_tokens_nor_jwts() {
        let t = new_api_token();
        assert_eq!(t.matches('.').count(), 1);
        assert!(!new_token().contains('.'));
        assert!(!is_tracking_id("ABCDE-FGHI0") && !is_tracking_id("0190a1b2-c3d4"));
    }

    #[test]
    fn tracking_ids_are_unambiguous() {
        for _ in 0..200 {
            let t = new_tracking_id();
            assert_eq!(t.len(), 11);
            assert_eq!(&t[5..6], "-");
            assert!(t.chars().filter(|c| *c != '-').all(|c| TRACKING_ALPHABET.contains(&(c as u8))));
            assert!(!t.contains(['0', 'O', '1', 'I']));
            assert!(is_tracking_id(&t));
        }
    }
}
