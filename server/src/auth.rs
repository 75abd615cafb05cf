//! Credentials: a fixed token (compared in constant time), or a JWT signed with HS256,
//! verified by `jsonwebtoken`: `exp` required and an integer, `nbf` and `iat` checked,
//! with a small leeway for clock skew.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::Config;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not a JWT, or its claims are not what they must be (`exp` missing or not an
    /// integer, `nbf`/`iat` not integers).
    Malformed,
    /// The header's `alg` is not `HS256`.
    Algorithm,
    /// The signature does not match the secret.
    Signature,
    /// `exp` is in the past.
    Expired,
    /// `nbf` (or `iat`) is in the future.
    NotYetValid,
}

/// The claims the server reads. `exp` must be an integer: `jsonwebtoken` would take a
/// float, so the type says `u64`.
#[derive(Debug, Deserialize)]
struct Claims {
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    sub: Option<Value>,
}

/// Who a credential belongs to, and until when it is good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The JWT's `sub` (a string, or a number as text); `None` for the fixed token or a
    /// JWT without one.
    pub user: Option<String>,
    /// The JWT's `exp`, in seconds since the Unix epoch; `None` for the fixed token.
    pub expires_at: Option<u64>,
}

/// Verifies an HS256 JWT against `secret` at `now_secs`; returns its credential.
pub fn verify_jwt(token: &str, secret: &[u8], now_secs: u64) -> Result<Credential, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    if header.alg != Algorithm::HS256 {
        return Err(JwtError::Algorithm);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Time is checked below against `now_secs` (testable), not the library's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let data = decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtError::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwtError::Algorithm,
            _ => JwtError::Malformed,
        },
    )?;
    let claims = data.claims;
    if claims.exp + LEEWAY_SECS <= now_secs {
        return Err(JwtError::Expired);
    }
    let future = |t: Option<u64>| t.is_some_and(|t| t > now_secs + LEEWAY_SECS);
    if future(claims.nbf) || future(claims.iat) {
        return Err(JwtError::NotYetValid);
    }
    let user = claims.sub.and_then(|s| match s {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Ok(Credential { user, expires_at: Some(claims.exp + LEEWAY_SECS) })
}

/// Signs `claims` as an HS256 JWT (for tests and the demo).
pub fn sign_jwt(claims: &Value, secret: &[u8]) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether the server requires credentials at all.
pub fn required(config: &Config) -> bool {
    config.auth_token.is_some() || config.jwt_secret.is_some()
}

/// Whether two secrets are equal, in time that depends on their lengths only.
pub fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Checks `token`: the fixed token, or a JWT valid under the secret. With neither
/// configured, any non-empty token is accepted (anonymous).
pub fn check(config: &Config, token: &str) -> Result<Credential, &'static str> {
    if token.is_empty() {
        return Err("empty token");
    }
    if !required(config) {
        return Ok(Credential { user: None, expires_at: None });
    }
    if config.auth_token.as_deref().is_some_and(|t| same(token, t)) {
        return Ok(Credential { user: None, expires_at: None });
    }
    match config.jwt_secret.as_deref() {
        Some(secret) => verify_jwt(token, secret.as_bytes(), now_secs()).map_err(|e| match e {
            JwtError::Expired => "token expired",
            JwtError::NotYetValid => "token not valid yet",
            _ => "invalid token",
        }),
        None => Err("invalid token"),
    }
}

/// Whether `token` is accepted (`check` without the details).
pub fn accepts(config: &Config, token: &str) -> bool {
    check(config, token).is_ok()
}
