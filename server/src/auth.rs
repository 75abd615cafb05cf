//! Credentials: a fixed token, or a JWT signed with HS256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::Config;

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts.
    Malformed,
    /// The header's `alg` is not `HS256`.
    Algorithm,
    /// The signature does not match the secret.
    Signature,
    /// `exp` is in the past.
    Expired,
}

/// Verifies an HS256 JWT against `secret`; returns its claims.
pub fn verify_jwt(token: &str, secret: &[u8], now_secs: u64) -> Result<Value, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let signed_len = header.len() + 1 + payload.len();
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed);
    let header: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    if header["alg"] != "HS256" {
        return Err(JwtError::Algorithm);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| JwtError::Signature)?;
    mac.update(&token.as_bytes()[..signed_len]);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&decode(signature)?).map_err(|_| JwtError::Signature)?;
    let claims: Value =
        serde_json::from_slice(&decode(payload)?).map_err(|_| JwtError::Malformed)?;
    if claims["exp"].as_u64().is_some_and(|exp| exp <= now_secs) {
        return Err(JwtError::Expired);
    }
    Ok(claims)
}

/// Signs `claims` as an HS256 JWT (for tests and the demo).
pub fn sign_jwt(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length"); // ok: invariant of HMAC
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether the server requires credentials at all.
pub fn required(config: &Config) -> bool {
    config.auth_token.is_some() || config.jwt_secret.is_some()
}

/// Whether `token` is accepted: the fixed token, or a JWT valid under the secret. With
/// neither configured, any non-empty token is.
pub fn accepts(config: &Config, token: &str) -> bool {
    if !required(config) {
        return !token.is_empty();
    }
    let fixed = config.auth_token.as_deref().is_some_and(|t| t == token);
    let jwt = config
        .jwt_secret
        .as_deref()
        .is_some_and(|s| verify_jwt(token, s.as_bytes(), now_secs()).is_ok());
    fixed || jwt
}
