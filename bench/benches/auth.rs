//! Access control (issue #6), one check at a time:
//!
//! - `jwt/*`: `JwtVerifier::verify` on a valid token with the JWKS already cached (a file with a
//!   P-256 and an RSA-2048 key, read once at construction), inside a Tokio current-thread
//!   runtime (`block_on` per check; `jwt/block-on-empty` is that overhead alone). `floor/*` is
//!   the signature check alone with ring on the same input and key: what any verifier pays.
//! - `sigv4/*`: `sigv4::verify` on requests botocore signed (`bench/sigv4_vectors.py`; the
//!   signatures are hard-coded here), a GET and a POST with a 1 KB body, at the signing time.
//! - `custom-cache-hit/*`: a custom authorizer whose answer is cached. The gateway has no public
//!   hook for `Exchange::authorize_custom` alone, so these time the pieces that run on a hit, as
//!   the runtime writes them: the moka lookup keyed by the token, the policy evaluation of a
//!   2-statement answer against the method ARN, and (`replica`) everything on the hit path in
//!   one iteration — method ARN, identity read from the headers, key, lookup, policy, the
//!   `InvalidateCache` check, the `Principal`. A replica, not the runtime's own function.
//!
//! Every case is checked to succeed before it is timed.
//!
//! Run with: `cargo bench -p tollgate-bench --bench auth`

#[path = "../src/bench_jwt.rs"]
mod bench_jwt;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, Uri};
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair, RsaKeyPair};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use tollgate_runtime::auth::Principal;
use tollgate_runtime::auth::custom::AuthorizerResponse;
use tollgate_runtime::auth::jwt::{JwksSource, JwtConfig, JwtVerifier};
use tollgate_runtime::auth::policy::{self, Verdict};
use tollgate_runtime::auth::sigv4::{self, Credential, Credentials};

/// The test RSA key of the runtime's JWT tests (`openssl genrsa 2048`, PKCS#8 PEM).
const RSA_PEM: &[u8] = include_bytes!("../../runtime/tests/data/jwt-rsa-2048.pem");
/// When the benchmark tokens were issued; they are checked a minute later.
const IAT: u64 = 1_700_000_000;

fn jwt(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    // The JWKS file: the benchmark's P-256 key (kid bench-1) and the RSA test key (kid rsa-1).
    let es = bench_jwt::es256_key();
    let point = es.public_key().as_ref();
    let der = PrivatePkcs8KeyDer::from_pem_slice(RSA_PEM).expect("a PKCS#8 PEM");
    let rsa = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("an RSA key");
    let rsa_public: signature::RsaPublicKeyComponents<Vec<u8>> = rsa.public().into();
    let jwks = serde_json::json!({ "keys": [
        {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": bench_jwt::KID,
         "x": bench_jwt::b64url(&point[1..33]), "y": bench_jwt::b64url(&point[33..])},
        {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "rsa-1",
         "n": bench_jwt::b64url(&rsa_public.n), "e": bench_jwt::b64url(&rsa_public.e)},
    ]});
    let dir = std::env::temp_dir().join(format!("tollgate-bench-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("jwks.json");
    std::fs::write(&file, jwks.to_string()).expect("write the JWKS");
    let verifier = JwtVerifier::new(
        JwtConfig::new(
            bench_jwt::ISSUER,
            vec![bench_jwt::AUDIENCE.to_owned()],
            JwksSource::File(file),
        ),
        None,
    )
    .expect("a verifier");
    let _ = std::fs::remove_dir_all(&dir);

    // What the gateway hands the verifier: the `Authorization` header's value.
    let claims = bench_jwt::claims(IAT, 86_400);
    let es256 = format!("Bearer {}", bench_jwt::es256_token(&claims));
    let rs256 = format!(
        "Bearer {}",
        bench_jwt::compact("RS256", "rsa-1", &claims, |input| {
            let mut sig = vec![0; rsa.public().modulus_len()];
            rsa.sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input,
                &mut sig,
            )
            .expect("RSA signing");
            sig
        })
    );
    let now = UNIX_EPOCH + Duration::from_secs(IAT + 60);
    for token in [&es256, &rs256] {
        let claims = rt
            .block_on(verifier.verify(token, &[], now))
            .expect("the benchmark token verifies");
        assert_eq!(
            claims.get("sub").and_then(|v| v.as_str()),
            Some("bench-user")
        );
    }
    assert_eq!(verifier.load_count(), 1, "the JWKS is read once");

    let mut g = c.benchmark_group("auth");
    g.bench_function("jwt/block-on-empty", |b| {
        b.iter(|| rt.block_on(async { black_box(1) }))
    });
    g.bench_function("jwt/es256", |b| {
        b.iter(|| {
            let claims = rt.block_on(verifier.verify(black_box(&es256), &[], now));
            black_box(claims.is_ok())
        })
    });
    g.bench_function("jwt/rs256", |b| {
        b.iter(|| {
            let claims = rt.block_on(verifier.verify(black_box(&rs256), &[], now));
            black_box(claims.is_ok())
        })
    });

    // The floor: the signature check alone, ring, with the public key already parsed from
    // bytes per call (as `UnparsedPublicKey` does).
    let split = |t: &str| {
        let t = t.trim_start_matches("Bearer ");
        let dot = t.rfind('.').expect("three parts");
        let sig = base64_decode(&t[dot + 1..]);
        (t[..dot].to_owned(), sig)
    };
    let (es_input, es_sig) = split(&es256);
    let (rs_input, rs_sig) = split(&rs256);
    let es_key = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point);
    let rs_key = signature::RsaPublicKeyComponents {
        n: &rsa_public.n,
        e: &rsa_public.e,
    };
    es_key
        .verify(es_input.as_bytes(), &es_sig)
        .expect("ES256 floor");
    rs_key
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            rs_input.as_bytes(),
            &rs_sig,
        )
        .expect("RS256 floor");
    g.bench_function("floor/ring-es256-verify", |b| {
        b.iter(|| {
            black_box(
                es_key
                    .verify(black_box(es_input.as_bytes()), &es_sig)
                    .is_ok(),
            )
        })
    });
    g.bench_function("floor/ring-rs256-verify", |b| {
        b.iter(|| {
            black_box(
                rs_key
                    .verify(
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                        black_box(rs_input.as_bytes()),
                        &rs_sig,
                    )
                    .is_ok(),
            )
        })
    });
    g.finish();
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

// ------------------------------------------------------------------------------------------
// SigV4: requests signed by botocore 1.43 (`python3 bench/sigv4_vectors.py`), verified at the
// signing time.

const ACCESS_KEY: &str = "AKIDBENCH";
const SECRET_KEY: &str = "bench/secret/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "bench.execute-api.us-east-1.amazonaws.com";
/// 2026-11-28T12:00:00Z, the signing time.
const SIGNED_AT: u64 = 1_795_867_200;
const GET_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDBENCH/20261128/us-east-1/execute-api/aws4_request, \
    SignedHeaders=host;x-amz-date, \
    Signature=094177830cb4e66e173539e438d9ec41fc93b95bf6b584ee12894b6bbbbe41de";
const POST_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDBENCH/20261128/us-east-1/execute-api/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date, \
    Signature=7232efe48bcc72fcbb4415d7fc7c92e60b0de7bb6a074532de00b6c0361513e1";

fn signed_headers(
    authorization: &'static str,
    extra: &[(&'static str, &'static str)],
) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static(HOST));
    h.insert("x-amz-date", HeaderValue::from_static("20261128T120000Z"));
    h.insert("authorization", HeaderValue::from_static(authorization));
    // Sent by a client but not signed.
    h.insert(
        "user-agent",
        HeaderValue::from_static("Boto3/1.35 md/Botocore#1.43.11"),
    );
    h.insert("accept-encoding", HeaderValue::from_static("identity"));
    for (n, v) in extra {
        h.insert(*n, HeaderValue::from_static(v));
    }
    h
}

fn sigv4(c: &mut Criterion) {
    let mut credentials = Credentials::new();
    credentials.insert(
        ACCESS_KEY,
        Credential::new(SECRET_KEY, "arn:aws:iam::123456789012:user/bench").expect("a credential"),
    );
    let now = UNIX_EPOCH + Duration::from_secs(SIGNED_AT);
    let get_uri: Uri = "/prod/items/42?view=full".parse().expect("a URI");
    let get_headers = signed_headers(GET_AUTHORIZATION, &[]);
    let post_uri: Uri = "/prod/items".parse().expect("a URI");
    let post_headers = signed_headers(
        POST_AUTHORIZATION,
        &[
            ("content-type", "application/json"),
            ("content-length", "1024"),
        ],
    );
    let body = format!(r#"{{"data":"{}"}}"#, "a".repeat(1013)).into_bytes();
    assert_eq!(body.len(), 1024);

    let get = || sigv4::verify(&Method::GET, &get_uri, &get_headers, b"", &credentials, now);
    let post = || {
        sigv4::verify(
            &Method::POST,
            &post_uri,
            &post_headers,
            &body,
            &credentials,
            now,
        )
    };
    for verified in [get(), post()] {
        let verified = verified.expect("botocore's signature verifies");
        assert_eq!(
            verified.principal_arn,
            "arn:aws:iam::123456789012:user/bench"
        );
    }

    let mut g = c.benchmark_group("auth");
    g.bench_function("sigv4/get", |b| b.iter(|| black_box(get().is_ok())));
    g.bench_function("sigv4/post-1k-body", |b| {
        b.iter(|| black_box(post().is_ok()))
    });
    g.finish();
}

// ------------------------------------------------------------------------------------------
// A custom authorizer's cached answer: the pieces of `Exchange::authorize_custom` on a hit.

const API: &str = "bench";
const STAGE: &str = "prod";

fn cache_hit(c: &mut Criterion) {
    let account = tollgate_runtime::mapping::ACCOUNT_ID;
    let arn_prefix = format!(
        "arn:aws:execute-api:{}:{account}:{API}",
        tollgate_runtime::auth::REGION
    );
    // The cache as the runtime builds it (`custom_cache`), with 1,000 callers' answers: Allow
    // GET on the stage, Deny DELETE, one context value.
    let cache: moka::sync::Cache<(usize, String), Arc<AuthorizerResponse>> =
        moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(300))
            .build();
    let tokens: Vec<String> = (0..1000u64)
        .map(|i| format!("Bearer {:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        let answer =
            AuthorizerResponse::allow(format!("user-{i}"), format!("{arn_prefix}/{STAGE}/GET/*"))
                .statement(false, format!("{arn_prefix}/{STAGE}/DELETE/*"))
                .context("tier", "gold");
        cache.insert((0, t.clone()), Arc::new(answer));
    }
    let token = &tokens[500];
    let key = (0usize, token.clone());
    let answer = cache.get(&key).expect("cached");
    let arn = format!("{arn_prefix}/{STAGE}/GET/open");
    assert_eq!(policy::evaluate(&answer.statements, &arn), Verdict::Allow);
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(token).expect("a header"),
    );
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    headers.insert("user-agent", HeaderValue::from_static("wrk"));

    let mut g = c.benchmark_group("auth");
    g.bench_function("custom-cache-hit/moka-get", |b| {
        b.iter(|| black_box(cache.get(black_box(&key))))
    });
    g.bench_function("custom-cache-hit/policy-evaluate-2-statements", |b| {
        b.iter(|| black_box(policy::evaluate(&answer.statements, black_box(&arn))))
    });
    g.bench_function("custom-cache-hit/replica", |b| {
        b.iter(|| {
            // `Exchange::target`: the resource and the method ARN.
            let resource = format!("{STAGE}/{}/{}", Method::GET.as_str(), "open");
            let arn = format!(
                "arn:aws:execute-api:{}:{account}:{API}/{resource}",
                tollgate_runtime::auth::REGION
            );
            // `identity_value` for a header source, then the cache key.
            let values: Vec<&str> = black_box(&headers)
                .get_all("authorization")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            // The runtime collects the identity sources into a `Vec` and joins them.
            #[allow(clippy::useless_vec)]
            let identity = vec![values.join(",")];
            let key = (0usize, identity.join(","));
            let answer = cache.get(&key).expect("a hit");
            let verdict = policy::evaluate(&answer.statements, &arn);
            assert_eq!(verdict, Verdict::Allow);
            let may_invalidate_cache = answer.statements.iter().any(|s| {
                s.allow
                    && s.actions.iter().any(|a| {
                        policy::glob(&a.to_ascii_lowercase(), "execute-api:invalidatecache")
                    })
                    && s.resources.iter().any(|r| policy::glob(r, &arn))
            });
            black_box(Arc::new(Principal {
                principal_id: answer.principal_id.clone(),
                context: answer
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_text()))
                    .collect(),
                usage_identifier_key: answer.usage_identifier_key.clone(),
                may_invalidate_cache,
                ..Principal::default()
            }))
        })
    });
    g.finish();
}

criterion_group!(benches, jwt, sigv4, cache_hit);
criterion_main!(benches);
