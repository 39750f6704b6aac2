//! What `bench-token` and the `auth` benchmark share: the benchmark-only ES256 key
//! (`apis/bench-es256.pk8`, whose public half is `apis/jwks.json`, kid `bench-1`) and the tokens
//! signed with it for `apis/bench.kdl`'s `users` JWT authorizer. Included with `#[path]`.
//!
//! The key was generated for these benchmarks (`openssl genpkey -algorithm EC -pkeyopt
//! ec_paramgen_curve:P-256 | openssl pkcs8 -topk8 -nocrypt -outform DER`) and protects nothing:
//! never trust it anywhere else.

#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

/// The `users` authorizer's issuer in `apis/bench.kdl`.
pub const ISSUER: &str = "https://id.bench.test";
/// Its audience.
pub const AUDIENCE: &str = "bench";
/// The key id of `apis/jwks.json`.
pub const KID: &str = "bench-1";
/// The benchmark-only P-256 private key, PKCS#8 DER.
pub const ES256_PKCS8: &[u8] = include_bytes!("../apis/bench-es256.pk8");

/// Unpadded base64url (RFC 7515).
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The claims of a benchmark token issued at `iat` (seconds since the epoch), valid for `ttl`
/// seconds: the shape of an ordinary access token (issuer, audience, subject, one scope, times).
pub fn claims(iat: u64, ttl: u64) -> String {
    format!(
        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"bench-user","scope":"bench/read","iat":{iat},"exp":{}}}"#,
        iat + ttl
    )
}

/// A compact JWS: `header.payload.signature`, `sign` signing the first two parts.
pub fn compact(alg: &str, kid: &str, claims: &str, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#);
    let input = format!(
        "{}.{}",
        b64url(header.as_bytes()),
        b64url(claims.as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64url(&signature))
}

/// The benchmark key.
pub fn es256_key() -> EcdsaKeyPair {
    EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        ES256_PKCS8,
        &SystemRandom::new(),
    )
    .expect("apis/bench-es256.pk8 is a P-256 PKCS#8 key")
}

/// An ES256 token with `claims`, signed with the benchmark key (kid `bench-1`).
pub fn es256_token(claims: &str) -> String {
    let key = es256_key();
    compact("ES256", KID, claims, |input| {
        key.sign(&SystemRandom::new(), input)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    })
}
