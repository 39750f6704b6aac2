//! The JWT authorizer's verification core end to end: RSA (a checked-in key made with
//! `openssl genrsa 2048`) and EC (generated per run) keys, tokens minted here, JWKS from a file
//! and from a local HTTPS server (tokio-rustls, rcgen self-signed certificate trusted through
//! `extra_roots`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tollgate_runtime::auth::jwt::{JwksSource, JwtConfig, JwtError, JwtVerifier};
use tollgate_runtime::clock::{Clock, ManualClock};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const AUDIENCE: &str = "client-abc";
const RSA_PEM: &[u8] = include_bytes!("data/jwt-rsa-2048.pem");

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str),
}

impl Signer {
    fn rsa() -> Signer {
        let der = PrivatePkcs8KeyDer::from_pem_slice(RSA_PEM).expect("PKCS#8 PEM");
        Signer::Rsa(RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("RSA key"))
    }

    fn p256() -> Signer {
        Self::ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256")
    }

    fn p384() -> Signer {
        Self::ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384")
    }

    fn ec(alg: &'static signature::EcdsaSigningAlgorithm, crv: &'static str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Signer::Ec(
            EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap(),
            crv,
        )
    }

    /// The public key as a JWK (with `extra` members merged in).
    fn jwk(&self, kid: &str, extra: Value) -> Value {
        let mut jwk = match self {
            Signer::Rsa(kp) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = kp.public().into();
                json!({"kty": "RSA", "kid": kid, "n": b64url(&c.n), "e": b64url(&c.e)})
            }
            Signer::Ec(kp, crv) => {
                let point = kp.public_key().as_ref();
                let size = (point.len() - 1) / 2;
                json!({
                    "kty": "EC", "kid": kid, "crv": crv,
                    "x": b64url(&point[1..1 + size]), "y": b64url(&point[1 + size..]),
                })
            }
        };
        if let (Value::Object(jwk), Value::Object(extra)) = (&mut jwk, extra) {
            jwk.extend(extra);
        }
        jwk
    }

    /// The public key's bytes (DER `RSAPublicKey` / SEC1 point): what an attacker feeds HMAC.
    fn public_bytes(&self) -> Vec<u8> {
        match self {
            Signer::Rsa(kp) => kp.public().as_ref().to_vec(),
            Signer::Ec(kp, _) => kp.public_key().as_ref().to_vec(),
        }
    }

    fn sign(&self, alg: &str, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Signer::Rsa(kp) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    other => panic!("not an RSA algorithm: {other}"),
                };
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(padding, &rng, message, &mut sig).unwrap();
                sig
            }
            Signer::Ec(kp, _) => kp.sign(&rng, message).unwrap().as_ref().to_vec(),
        }
    }
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// A token with `header` and `claims`, signed by `signer` with the header's `alg`.
fn mint(header: Value, claims: &Value, signer: &Signer) -> String {
    let alg = header["alg"].as_str().unwrap().to_owned();
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = signer.sign(&alg, message.as_bytes());
    format!("{message}.{}", b64url(&sig))
}

/// An HMAC-signed token (the algorithm-confusion attack).
fn mint_hmac(header: Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", b64url(tag.as_ref()))
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "kid": kid, "typ": "JWT"})
}

/// Valid claims at [`now`], with `changes` applied (`null` removes a claim).
fn claims(changes: Value) -> Value {
    let t = secs(now());
    let mut c = json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": t + 3600,
        "iat": t - 10,
        "nbf": t - 10,
        "scope": "openid pets/read",
        "cognito:groups": ["admin", "users"],
        "email_verified": true,
    });
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// File-backed verifiers

struct Fixture {
    rsa: Signer,
    p256: Signer,
    p384: Signer,
    dir: PathBuf,
    clock: Arc<ManualClock>,
    verifier: JwtVerifier,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tollgate-jwt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A verifier reading a JWKS file with an RSA key (`rsa`), a PS256-only copy of it
/// (`rsa-ps`), a P-256 key (`ec`) and a P-384 key (`ec384`).
fn fixture(name: &str, audiences: &[&str]) -> Fixture {
    let (rsa, p256, p384) = (Signer::rsa(), Signer::p256(), Signer::p384());
    let dir = temp_dir(name);
    let path = dir.join("jwks.json");
    std::fs::write(
        &path,
        jwks(&[
            rsa.jwk("rsa", json!({"use": "sig"})),
            rsa.jwk("rsa-ps", json!({"alg": "PS256"})),
            p256.jwk("ec", json!({"alg": "ES256"})),
            p384.jwk("ec384", json!({})),
        ]),
    )
    .unwrap();
    let config = JwtConfig::new(
        ISSUER,
        audiences.iter().map(|a| (*a).to_owned()).collect(),
        JwksSource::File(path),
    );
    let (clock, manual) = Clock::manual(1_700_000_000_000);
    let verifier = JwtVerifier::new(config, None)
        .expect("JWKS file loads")
        .with_clock(clock);
    Fixture {
        rsa,
        p256,
        p384,
        dir,
        clock: manual,
        verifier,
    }
}

impl Fixture {
    async fn verify(&self, token: &str) -> Result<tollgate_runtime::auth::jwt::Claims, JwtError> {
        self.verifier.verify(token, &[], now()).await
    }

    async fn verify_scoped(&self, token: &str, scopes: &[&str]) -> Result<(), JwtError> {
        self.verifier.verify(token, scopes, now()).await.map(|_| ())
    }
}

#[tokio::test]
async fn valid_rs256_token_yields_claims_and_scopes() {
    let f = fixture("valid-rs256", &[AUDIENCE]);
    let token = mint(header("RS256", "rsa"), &claims(json!({})), &f.rsa);
    let c = f.verify(&token).await.expect("valid");
    assert_eq!(c.get("sub"), Some(&json!("user-1")));
    assert_eq!(c.scopes(), ["openid", "pets/read"]);
    let s: HashMap<String, String> = c.stringified().into_iter().collect();
    assert_eq!(s["cognito:groups"], "[admin users]");
    assert_eq!(s["exp"], (secs(now()) + 3600).to_string());
    assert_eq!(s["email_verified"], "true");
    assert_eq!(s["iss"], ISSUER);
}

#[tokio::test]
async fn valid_tokens_with_every_supported_algorithm() {
    let f = fixture("valid-algs", &[AUDIENCE]);
    let c = claims(json!({}));
    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
        let token = mint(header(alg, "rsa"), &c, &f.rsa);
        assert!(f.verify(&token).await.is_ok(), "{alg}");
    }
    let ps = mint(header("PS256", "rsa-ps"), &c, &f.rsa);
    assert!(f.verify(&ps).await.is_ok());
    let es256 = mint(header("ES256", "ec"), &c, &f.p256);
    assert_eq!(
        f.verify(&es256).await.unwrap().get("sub"),
        Some(&json!("user-1"))
    );
    let es384 = mint(header("ES384", "ec384"), &c, &f.p384);
    assert!(f.verify(&es384).await.is_ok());
}

#[tokio::test]
async fn token_alg_must_suit_its_key() {
    let f = fixture("alg-mismatch", &[AUDIENCE]);
    let c = claims(json!({}));
    // The JWK says PS256 only.
    let rs = mint(header("RS256", "rsa-ps"), &c, &f.rsa);
    assert_eq!(f.verify(&rs).await, Err(JwtError::KeyAlgorithmMismatch));
    // An RSA algorithm naming an EC key, an EC algorithm naming an RSA key, the wrong curve.
    let rs_on_ec = mint(header("RS256", "ec"), &c, &f.rsa);
    assert_eq!(
        f.verify(&rs_on_ec).await,
        Err(JwtError::KeyAlgorithmMismatch)
    );
    let es_on_rsa = mint(header("ES256", "rsa"), &c, &f.p256);
    assert_eq!(
        f.verify(&es_on_rsa).await,
        Err(JwtError::KeyAlgorithmMismatch)
    );
    let es384_on_p256 = mint(header("ES384", "ec"), &c, &f.p384);
    assert_eq!(
        f.verify(&es384_on_p256).await,
        Err(JwtError::KeyAlgorithmMismatch)
    );
}

#[tokio::test]
async fn time_claims_are_checked_with_leeway() {
    let f = fixture("times", &[AUDIENCE]);
    let t = secs(now());
    let cases = [
        (json!({"exp": t - 10}), Err(JwtError::Expired)),
        (json!({"exp": t - 5}), Err(JwtError::Expired)),
        (json!({"exp": t - 3}), Ok(())),
        (json!({"exp": t as f64 + 0.5}), Ok(())),
        (json!({"exp": null}), Err(JwtError::MissingExpiry)),
        (json!({"exp": "tomorrow"}), Err(JwtError::Malformed)),
        (json!({"nbf": t + 60}), Err(JwtError::NotYetValid)),
        (json!({"nbf": t + 3}), Ok(())),
        (json!({"nbf": null}), Ok(())),
        (json!({"iat": t + 60}), Err(JwtError::IssuedInFuture)),
        (json!({"iat": t + 3}), Ok(())),
        (json!({"iat": null}), Ok(())),
    ];
    for (changes, expected) in cases {
        let token = mint(header("RS256", "rsa"), &claims(changes.clone()), &f.rsa);
        assert_eq!(f.verify(&token).await.map(|_| ()), expected, "{changes}");
    }
    // `now` is the caller's: the same token expires when `now` moves on.
    let token = mint(header("ES256", "ec"), &claims(json!({})), &f.p256);
    let later = now() + Duration::from_secs(3600 + 5);
    assert_eq!(
        f.verifier.verify(&token, &[], later).await.map(|_| ()),
        Err(JwtError::Expired)
    );
    let expired = f.verifier.verify(&token, &[], later).await.unwrap_err();
    assert_eq!(expired.status(), 401);
    assert_eq!(
        expired.www_authenticate(),
        r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#
    );
}

#[tokio::test]
async fn issuer_must_match_exactly() {
    let f = fixture("issuer", &[AUDIENCE]);
    for iss in [
        json!("https://evil.example.com"),
        json!(format!("{ISSUER}/")),
        json!([ISSUER]),
        Value::Null,
    ] {
        let token = mint(
            header("RS256", "rsa"),
            &claims(json!({ "iss": iss })),
            &f.rsa,
        );
        assert_eq!(
            f.verify(&token).await.map(|_| ()),
            Err(JwtError::InvalidIssuer),
            "{iss}"
        );
    }
}

#[tokio::test]
async fn audience_from_aud_or_client_id() {
    let f = fixture("audience", &["other", AUDIENCE]);
    let ok = |changes: Value| (changes, Ok(()));
    let bad = |changes: Value| (changes, Err(JwtError::InvalidAudience));
    let cases = [
        ok(json!({})),
        ok(json!({"aud": ["x", AUDIENCE]})),
        ok(json!({"aud": "other"})),
        // A Cognito access token: no aud, client_id.
        ok(json!({"aud": null, "client_id": AUDIENCE, "token_use": "access"})),
        ok(json!({"aud": "nope", "client_id": AUDIENCE})),
        bad(json!({"aud": "nope"})),
        bad(json!({"aud": ["nope", "also-nope"]})),
        bad(json!({"aud": null})),
        bad(json!({"aud": null, "client_id": "nope"})),
        bad(json!({"aud": 5})),
        bad(json!({"aud": [[AUDIENCE]]})),
    ];
    for (changes, expected) in cases {
        let token = mint(header("ES256", "ec"), &claims(changes.clone()), &f.p256);
        assert_eq!(f.verify(&token).await.map(|_| ()), expected, "{changes}");
    }
    // No audiences configured: no audience check.
    let open = fixture("audience-open", &[]);
    let token = mint(
        header("RS256", "rsa"),
        &claims(json!({"aud": null})),
        &open.rsa,
    );
    assert!(open.verify(&token).await.is_ok());
}

#[tokio::test]
async fn alg_none_and_hmac_confusion_are_refused() {
    let f = fixture("confusion", &[AUDIENCE]);
    let c = claims(json!({}));
    let payload = b64url(c.to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let h = b64url(header(alg, "rsa").to_string().as_bytes());
        for token in [format!("{h}.{payload}."), format!("{h}.{payload}")] {
            let result = f.verify(&token).await.map(|_| ());
            if token.ends_with('.') {
                assert_eq!(result, Err(JwtError::AlgorithmNotAllowed), "{alg}");
            } else {
                assert_eq!(
                    result,
                    Err(JwtError::Malformed),
                    "{alg} without a third part"
                );
            }
        }
    }
    // HS256 keyed with the RSA public key's bytes, and with the JWK's `n` text.
    let public = f.rsa.public_bytes();
    let n = f.rsa.jwk("rsa", json!({}))["n"]
        .as_str()
        .unwrap()
        .to_owned();
    for secret in [&public[..], n.as_bytes(), &f.p256.public_bytes()[..]] {
        for kid in ["rsa", "ec"] {
            let token = mint_hmac(header("HS256", kid), &c, secret);
            let err = f.verify(&token).await.unwrap_err();
            assert_eq!(err, JwtError::AlgorithmNotAllowed);
            assert_eq!(err.description(), "the token's algorithm is not allowed");
        }
    }
    for alg in ["HS384", "HS512", "EdDSA"] {
        let token = mint_hmac(header(alg, "rsa"), &c, &public);
        assert_eq!(
            f.verify(&token).await.map(|_| ()),
            Err(JwtError::AlgorithmNotAllowed)
        );
    }
}

#[tokio::test]
async fn tampering_breaks_the_signature() {
    let f = fixture("tamper", &[AUDIENCE]);
    for (alg, kid, signer) in [("RS256", "rsa", &f.rsa), ("ES256", "ec", &f.p256)] {
        let token = mint(header(alg, kid), &claims(json!({})), signer);
        let parts: Vec<&str> = token.split('.').collect();

        // Payload: a different, well-formed claim set under the original signature.
        let forged = b64url(claims(json!({"sub": "admin"})).to_string().as_bytes());
        let t = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(
            f.verify(&t).await.map(|_| ()),
            Err(JwtError::InvalidSignature),
            "{alg}"
        );

        // Signature: one character in the middle changed.
        let mut sig: Vec<u8> = parts[2].bytes().collect();
        let mid = sig.len() / 2;
        sig[mid] = if sig[mid] == b'A' { b'B' } else { b'A' };
        let t = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            String::from_utf8(sig).unwrap()
        );
        assert_eq!(
            f.verify(&t).await.map(|_| ()),
            Err(JwtError::InvalidSignature),
            "{alg}"
        );

        // Header: another algorithm of the same family claimed.
        let other = if alg == "RS256" { "RS512" } else { "ES256" };
        let h = b64url(
            json!({"alg": other, "kid": kid, "x": 1})
                .to_string()
                .as_bytes(),
        );
        let t = format!("{h}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            f.verify(&t).await.map(|_| ()),
            Err(JwtError::InvalidSignature),
            "{alg}"
        );
    }

    // Signed by another key under a known kid.
    let stranger = Signer::p256();
    let t = mint(header("ES256", "ec"), &claims(json!({})), &stranger);
    assert_eq!(
        f.verify(&t).await.map(|_| ()),
        Err(JwtError::InvalidSignature)
    );
}

#[tokio::test]
async fn scopes_from_scope_string_or_scp_array() {
    let f = fixture("scopes", &[AUDIENCE]);
    let scope = mint(header("RS256", "rsa"), &claims(json!({})), &f.rsa);
    assert_eq!(f.verify_scoped(&scope, &["pets/read"]).await, Ok(()));
    assert_eq!(
        f.verify_scoped(&scope, &["pets/write", "openid"]).await,
        Ok(())
    );
    let err = f
        .verify_scoped(&scope, &["pets/write", "admin"])
        .await
        .unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(err.body(), r#"{"message":"Forbidden"}"#);
    assert_eq!(
        err.www_authenticate(),
        r#"Bearer scope="pets/write admin" error="insufficient_scope" error_description="the token does not have a required scope""#
    );

    let scp = mint(
        header("ES256", "ec"),
        &claims(json!({"scope": null, "scp": ["orders:read", "orders:write"]})),
        &f.p256,
    );
    assert_eq!(f.verify_scoped(&scp, &["orders:write"]).await, Ok(()));
    assert!(matches!(
        f.verify_scoped(&scp, &["pets/read"]).await,
        Err(JwtError::InsufficientScope { .. })
    ));

    let none = mint(
        header("ES256", "ec"),
        &claims(json!({"scope": null})),
        &f.p256,
    );
    assert!(matches!(
        f.verify_scoped(&none, &["openid"]).await,
        Err(JwtError::InsufficientScope { .. })
    ));
    assert_eq!(f.verify_scoped(&none, &[]).await, Ok(()));
}

#[tokio::test]
async fn bearer_prefix_is_optional_and_case_insensitive() {
    let f = fixture("bearer", &[AUDIENCE]);
    let token = mint(header("RS256", "rsa"), &claims(json!({})), &f.rsa);
    for value in [
        token.clone(),
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BeArEr {token}"),
    ] {
        assert!(f.verify(&value).await.is_ok(), "{value:.20}");
    }
    assert_eq!(
        f.verify(&format!("Basic {token}")).await.map(|_| ()),
        Err(JwtError::Malformed)
    );
}

#[tokio::test]
async fn malformed_tokens_are_401_and_nothing_panics() {
    let f = fixture("malformed", &[AUDIENCE]);
    for bad in [
        "",
        "Bearer",
        "x",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "....",
        "\u{0}.\u{0}.\u{0}",
    ] {
        let err = f.verify(bad).await.unwrap_err();
        assert_eq!(err, JwtError::Malformed, "{bad:?}");
        assert_eq!(err.status(), 401);
    }
    let no_kid = mint(json!({"alg": "RS256"}), &claims(json!({})), &f.rsa);
    assert_eq!(
        f.verify(&no_kid).await.map(|_| ()),
        Err(JwtError::MissingKeyId)
    );

    // Mutations of a valid token: every one refused or accepted, none panics.
    let token = mint(header("ES256", "ec"), &claims(json!({})), &f.p256);
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet = b"AZaz09-_.=+/ \xc3\xa9";
    for _ in 0..2000 {
        let mut bytes = token.clone().into_bytes();
        match rng.u8(0..3) {
            0 => {
                let i = rng.usize(0..bytes.len());
                bytes[i] = alphabet[rng.usize(0..alphabet.len())];
            }
            1 => bytes.truncate(rng.usize(0..bytes.len())),
            _ => {
                let i = rng.usize(0..bytes.len());
                bytes.insert(i, alphabet[rng.usize(0..alphabet.len())]);
            }
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = f.verify(&s).await;
    }
}

#[tokio::test]
async fn unknown_kid_rereads_the_file_rate_limited() {
    let f = fixture("file-refresh", &[AUDIENCE]);
    assert_eq!(f.verifier.load_count(), 1, "read at construction");
    let newcomer = Signer::p256();
    let token = mint(header("ES256", "new"), &claims(json!({})), &newcomer);

    // Within 10 s of the last read: no re-read, unknown.
    let err = f.verify(&token).await.unwrap_err();
    assert_eq!(err, JwtError::UnknownKeyId);
    assert_eq!(err.description(), "the token's key id is unknown");
    assert_eq!(f.verifier.load_count(), 1);

    // The key is published; 11 s later the unknown kid triggers one re-read.
    let path = f.dir.join("jwks.json");
    std::fs::write(
        &path,
        jwks(&[f.rsa.jwk("rsa", json!({})), newcomer.jwk("new", json!({}))]),
    )
    .unwrap();
    f.clock.advance(Duration::from_secs(11));
    assert!(f.verify(&token).await.is_ok());
    assert_eq!(f.verifier.load_count(), 2);
    assert_eq!(f.verifier.key_ids(), ["rsa", "new"]);

    // Another unknown kid right away: rate-limited, still unknown, no read.
    let ghost = mint(header("ES256", "ghost"), &claims(json!({})), &newcomer);
    assert_eq!(
        f.verify(&ghost).await.map(|_| ()),
        Err(JwtError::UnknownKeyId)
    );
    assert_eq!(f.verifier.load_count(), 2);

    // A broken file later: the cached keys stay in use.
    std::fs::write(&path, "{ not json").unwrap();
    f.clock.advance(Duration::from_secs(11));
    assert_eq!(
        f.verify(&ghost).await.map(|_| ()),
        Err(JwtError::UnknownKeyId)
    );
    assert_eq!(f.verifier.load_count(), 3);
    assert!(f.verify(&token).await.is_ok());
    assert_eq!(f.verifier.load_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// HTTPS JWKS server

/// What the server answers with.
struct Behaviour {
    status: u16,
    body: Vec<u8>,
    delay: Duration,
    /// Sent in small chunks without `content-length`.
    chunked: bool,
}

/// A change to the server's answer and the start of the load error it causes.
type Answer = (fn(&mut Behaviour), &'static str);

struct JwksServer {
    port: u16,
    hits: Arc<AtomicUsize>,
    behaviour: Arc<Mutex<Behaviour>>,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A response body of chunks; its size is known only when it is a single chunk.
struct Chunks {
    chunks: VecDeque<Bytes>,
    known: Option<u64>,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.chunks.pop_front().map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.known.map(SizeHint::with_exact).unwrap_or_default()
    }
}

impl JwksServer {
    async fn start(body: String) -> JwksServer {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        let ca_pem = certified.cert.pem();
        let key =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let behaviour = Arc::new(Mutex::new(Behaviour {
            status: 200,
            body: body.into_bytes(),
            delay: Duration::ZERO,
            chunked: false,
        }));
        let (h, b) = (hits.clone(), behaviour.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, hits, behaviour) = (acceptor.clone(), h.clone(), b.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (hits, behaviour) = (hits.clone(), behaviour.clone());
                        async move {
                            hits.fetch_add(1, Ordering::SeqCst);
                            let (status, body, delay, chunked) = {
                                let b = behaviour.lock().unwrap();
                                (b.status, b.body.clone(), b.delay, b.chunked)
                            };
                            tokio::time::sleep(delay).await;
                            let chunks: VecDeque<Bytes> = if req.uri().path() != "/jwks.json" {
                                VecDeque::new()
                            } else if chunked {
                                body.chunks(8192).map(Bytes::copy_from_slice).collect()
                            } else {
                                VecDeque::from([Bytes::from(body)])
                            };
                            let known =
                                (!chunked).then(|| chunks.iter().map(|c| c.len() as u64).sum());
                            let status = if req.uri().path() == "/jwks.json" {
                                status
                            } else {
                                404
                            };
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Chunks { chunks, known })
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        JwksServer {
            port,
            hits,
            behaviour,
            ca_pem,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/jwks.json", self.port)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.behaviour.lock().unwrap());
    }

    /// A verifier of this server's JWKS, trusting its certificate, on a manual clock.
    fn verifier(&self) -> (JwtVerifier, Arc<ManualClock>) {
        let config = JwtConfig::new(ISSUER, vec![AUDIENCE.into()], JwksSource::Url(self.url()));
        let (clock, manual) = Clock::manual(1_700_000_000_000);
        let v = JwtVerifier::new(config, Some(self.ca_pem.as_bytes()))
            .expect("verifier")
            .with_clock(clock);
        (v, manual)
    }
}

#[tokio::test]
async fn https_jwks_is_fetched_once_cached_and_refetched_on_unknown_kid() {
    let (a, b, c) = (Signer::p256(), Signer::rsa(), Signer::p384());
    let server = JwksServer::start(jwks(&[a.jwk("a", json!({}))])).await;
    let (v, clock) = server.verifier();
    assert_eq!(server.hits(), 0, "fetched lazily");

    let token_a = mint(header("ES256", "a"), &claims(json!({})), &a);
    for _ in 0..3 {
        assert!(v.verify(&token_a, &[], now()).await.is_ok());
    }
    assert_eq!(server.hits(), 1, "fetched once, then cached");
    assert_eq!(v.load_count(), 1);

    // Unknown kid within 10 s of the fetch: rate-limited, no request.
    let token_b = mint(header("RS256", "b"), &claims(json!({})), &b);
    assert_eq!(
        v.verify(&token_b, &[], now()).await.map(|_| ()),
        Err(JwtError::UnknownKeyId)
    );
    assert_eq!(server.hits(), 1);

    // Rotation: the issuer publishes b; 11 s later the unknown kid refetches once.
    server.set(|s| s.body = jwks(&[a.jwk("a", json!({})), b.jwk("b", json!({}))]).into_bytes());
    clock.advance(Duration::from_secs(11));
    assert!(v.verify(&token_b, &[], now()).await.is_ok());
    assert!(v.verify(&token_b, &[], now()).await.is_ok());
    assert_eq!(server.hits(), 2);

    // Still-unknown kid: one refetch per 10 s at most.
    let token_c = mint(header("ES384", "c"), &claims(json!({})), &c);
    for _ in 0..3 {
        assert_eq!(
            v.verify(&token_c, &[], now()).await.map(|_| ()),
            Err(JwtError::UnknownKeyId)
        );
    }
    assert_eq!(server.hits(), 2);
    clock.advance(Duration::from_secs(11));
    for _ in 0..3 {
        assert_eq!(
            v.verify(&token_c, &[], now()).await.map(|_| ()),
            Err(JwtError::UnknownKeyId)
        );
    }
    assert_eq!(server.hits(), 3);
    assert_eq!(v.load_count(), 3);
    assert!(v.verify(&token_a, &[], now()).await.is_ok());
    assert_eq!(server.hits(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_share_one_fetch() {
    let a = Signer::p256();
    let server = JwksServer::start(jwks(&[a.jwk("a", json!({}))])).await;
    server.set(|s| s.delay = Duration::from_millis(300));
    let v = Arc::new(server.verifier().0);
    let token = mint(header("ES256", "a"), &claims(json!({})), &a);
    let unknown = mint(header("ES256", "zzz"), &claims(json!({})), &a);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (v, t) = (
            v.clone(),
            if i % 3 == 0 {
                unknown.clone()
            } else {
                token.clone()
            },
        );
        set.spawn(async move { v.verify(&t, &[], now()).await.map(|_| ()) });
    }
    let mut ok = 0;
    while let Some(result) = set.join_next().await {
        match result.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert_eq!(e, JwtError::UnknownKeyId),
        }
    }
    assert_eq!(ok, 8);
    assert_eq!(
        server.hits(),
        1,
        "one fetch in flight, the others waited for it"
    );
}

#[tokio::test]
async fn prefetch_loads_at_start_up() {
    let a = Signer::p256();
    let server = JwksServer::start(jwks(&[a.jwk("a", json!({}))])).await;
    let (v, _) = server.verifier();
    v.prefetch().await.expect("fetched");
    assert_eq!(server.hits(), 1);
    assert_eq!(v.key_ids(), ["a"]);
    v.prefetch().await.expect("already loaded");
    let token = mint(header("ES256", "a"), &claims(json!({})), &a);
    assert!(v.verify(&token, &[], now()).await.is_ok());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn oversize_jwks_is_refused() {
    let a = Signer::p256();
    let mut keys = vec![a.jwk("a", json!({}))];
    keys.extend((0..400).map(|i| a.jwk(&format!("pad-{i}"), json!({"x5c": ["A".repeat(400)]}))));
    let big = jwks(&keys);
    assert!(big.len() > 150_000, "{}", big.len());
    let token = mint(header("ES256", "a"), &claims(json!({})), &a);
    // With `content-length` (refused before reading) and chunked (reading stops at the limit).
    for chunked in [false, true] {
        let server = JwksServer::start(big.clone()).await;
        server.set(|s| s.chunked = chunked);
        let (v, _) = server.verifier();
        let why = v.prefetch().await.unwrap_err();
        assert_eq!(why, "bigger than 150000 bytes", "chunked: {chunked}");
        let err = v.verify(&token, &[], now()).await.unwrap_err();
        assert_eq!(err, JwtError::KeysUnavailable, "chunked: {chunked}");
        assert_eq!(err.status(), 401);
        assert_eq!(err.body(), r#"{"message":"Unauthorized"}"#);
        assert_eq!(err.description(), "signing keys could not be fetched");
        assert_eq!(server.hits(), 1, "rate-limited after the failure");
    }
    // Just under the limit is fine.
    let mut keys = vec![a.jwk("a", json!({}))];
    keys.push(a.jwk("pad", json!({"x5c": ["A".repeat(140_000)]})));
    let server = JwksServer::start(jwks(&keys)).await;
    server.set(|s| s.chunked = true);
    assert!(server.verifier().0.verify(&token, &[], now()).await.is_ok());
}

#[tokio::test]
async fn slow_jwks_server_is_a_401_not_a_hang() {
    let a = Signer::p256();
    let server = JwksServer::start(jwks(&[a.jwk("a", json!({}))])).await;
    server.set(|s| s.delay = Duration::from_secs(5));
    let (v, clock) = server.verifier();
    let token = mint(header("ES256", "a"), &claims(json!({})), &a);
    let started = Instant::now();
    let result = v.verify(&token, &[], now()).await;
    let took = started.elapsed();
    assert_eq!(result.map(|_| ()), Err(JwtError::KeysUnavailable));
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    assert!(took < Duration::from_millis(3000), "{took:?}");

    // Within the rate limit the failure is immediate; after it, a healthy server recovers.
    let started = Instant::now();
    assert_eq!(
        v.verify(&token, &[], now()).await.map(|_| ()),
        Err(JwtError::KeysUnavailable)
    );
    assert_eq!(
        v.prefetch().await.unwrap_err(),
        "no complete answer within 1500 ms"
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    server.set(|s| s.delay = Duration::ZERO);
    clock.advance(Duration::from_secs(11));
    assert!(v.verify(&token, &[], now()).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn bad_answers_and_untrusted_servers_are_401() {
    let a = Signer::p256();
    let token = mint(header("ES256", "a"), &claims(json!({})), &a);
    let good = jwks(&[a.jwk("a", json!({}))]);

    let server = JwksServer::start(good.clone()).await;
    let (v, clock) = server.verifier();
    let answers: [Answer; 3] = [
        (|s| s.status = 500, "status 500"),
        (
            |s| {
                s.status = 200;
                s.body = b"<html>not json</html>".to_vec();
            },
            "not JSON",
        ),
        (
            |s| s.body = br#"{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}"#.to_vec(),
            "no usable signing key",
        ),
    ];
    for (answer, why) in answers {
        server.set(answer);
        clock.advance(Duration::from_secs(11));
        assert_eq!(
            v.verify(&token, &[], now()).await.map(|_| ()),
            Err(JwtError::KeysUnavailable)
        );
        let error = v.prefetch().await.unwrap_err();
        assert!(error.starts_with(why), "{error}");
    }
    assert_eq!(server.hits(), 3);

    // The server's certificate is not trusted without `extra_roots`.
    let config = JwtConfig::new(ISSUER, vec![AUDIENCE.into()], JwksSource::Url(server.url()));
    server.set(|s| s.body = good.clone().into_bytes());
    let untrusting = JwtVerifier::new(config, None).unwrap();
    assert_eq!(
        untrusting.verify(&token, &[], now()).await.map(|_| ()),
        Err(JwtError::KeysUnavailable)
    );
    let why = untrusting.prefetch().await.unwrap_err();
    assert!(why.contains("certificate"), "{why}");
    assert_eq!(server.hits(), 3, "no request over an untrusted connection");

    // Another path of the same server: 404.
    let config = JwtConfig::new(
        ISSUER,
        vec![AUDIENCE.into()],
        JwksSource::Url(format!("https://localhost:{}/other.json", server.port)),
    );
    let wrong_path = JwtVerifier::new(config, Some(server.ca_pem.as_bytes())).unwrap();
    assert_eq!(wrong_path.prefetch().await.unwrap_err(), "status 404");

    // Recovery once the server is healthy again.
    clock.advance(Duration::from_secs(11));
    assert!(v.verify(&token, &[], now()).await.is_ok());
}
