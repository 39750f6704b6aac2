//! Access control through the gateway (`apis/auth.kdl`): custom TOKEN and REQUEST authorizers
//! with their result cache, a JWT authorizer, IAM SigV4 signed by botocore (AWS's own Python
//! client library), the resource policy, API keys from an authorizer, the response cache
//! behind an authorizer, and CORS on answers, preflights and errors.

use http::{Method, StatusCode};
use serde_json::json;
use std::sync::atomic::Ordering;
use tollgate::ServerConfig;
use tollgate::store::{StoreConfig, StoreSpec};
use tollgate_e2e::apis::auth::GuardedApi;
use tollgate_e2e::{AuthHandlers, Client, Jwt, Proto, Reply, Running, TempDir, start};

const ALICE_KEY: &str = "AKIDALICE0000000";
const ALICE_SECRET: &str = "alice/secret+Key0000000000000000000000000";
const MALLORY_KEY: &str = "AKIDMALLORY00000";
const MALLORY_SECRET: &str = "mallory/secret+Key00000000000000000000000";

struct Setup {
    gw: Running,
    h: AuthHandlers,
    c: Client,
    dir: TempDir,
}

async fn setup() -> Setup {
    let dir = TempDir::new("auth");
    let creds = tollgate::auth::sigv4::Credentials::from_json(
        &json!([
            {"accessKeyId": ALICE_KEY, "secretAccessKey": ALICE_SECRET,
             "principal": "arn:aws:iam::123456789012:user/alice"},
            {"accessKeyId": MALLORY_KEY, "secretAccessKey": MALLORY_SECRET,
             "principal": "arn:aws:iam::123456789012:user/mallory"},
        ])
        .to_string(),
    )
    .expect("credentials");
    let h = AuthHandlers::default();
    let config = ServerConfig::default()
        .iam_credentials(creds)
        .store(StoreConfig {
            spec: StoreSpec::Memory,
            api_keys_file: Some(dir.join("keys.json")),
            keys_refresh: std::time::Duration::from_millis(50),
            ..Default::default()
        });
    let gw = start(GuardedApi::new(h.clone()), config).await;
    Setup {
        gw,
        h,
        c: Client::new(),
        dir,
    }
}

impl Setup {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.c
            .request(
                Proto::Http1,
                Method::GET,
                &self.gw.url(path),
                headers,
                bytes::Bytes::new(),
            )
            .await
    }

    async fn bearer(&self, path: &str, token: &str) -> Reply {
        self.get(path, &[("authorization", &format!("Bearer {token}"))])
            .await
    }
}

fn assert_json(r: &Reply, status: StatusCode, body: serde_json::Value) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.json(), body);
}

// ---- custom authorizers ----------------------------------------------------------------

#[tokio::test]
async fn token_authorizer_outcomes_match_api_gateway() {
    let s = setup().await;
    let unauthorized = json!({"message": "Unauthorized"});
    // Missing, empty or invalid identity: 401 without calling the function.
    for headers in [
        vec![],
        vec![("authorization", "")],
        vec![("authorization", "Basic dXNlcjpwdw==")],
        vec![("authorization", "Bearer has spaces")],
    ] {
        let r = s.get("/test/token", &headers).await;
        assert_json(&r, StatusCode::UNAUTHORIZED, unauthorized.clone());
        assert_eq!(r.header("x-amzn-errortype"), Some("UnauthorizedException"));
    }
    assert_eq!(
        s.h.token_calls(),
        0,
        "rejected before the function is called"
    );

    let r = s.bearer("/test/token", "allow-alice").await;
    assert_json(
        &r,
        StatusCode::OK,
        json!({"principal": "alice", "tier": "gold", "n": "3"}),
    );
    let r = s.bearer("/test/token", "deny-eve").await;
    assert_json(
        &r,
        StatusCode::FORBIDDEN,
        json!({"Message": "User is not authorized to access this resource with an explicit deny"}),
    );
    assert_eq!(r.header("x-amzn-errortype"), Some("AccessDeniedException"));
    let r = s.bearer("/test/token", "unauthorized-x").await;
    assert_json(&r, StatusCode::UNAUTHORIZED, unauthorized);
    for broken in ["broken-x", "malformed-x"] {
        let r = s.bearer("/test/token", broken).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.text(), r#"{"message": null}"#);
        assert_eq!(
            r.header("x-amzn-errortype"),
            Some("AuthorizerConfigurationException")
        );
    }
}

#[tokio::test]
async fn authorizer_results_are_cached_per_identity_and_reapplied_to_other_methods() {
    let s = setup().await;
    for _ in 0..3 {
        assert_eq!(
            s.bearer("/test/token", "allow-alice").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(s.h.token_calls(), 1, "one call per identity per TTL");
    assert_eq!(
        s.bearer("/test/token", "allow-bob").await.status,
        StatusCode::OK
    );
    assert_eq!(s.h.token_calls(), 2);

    // A policy that allows only GET /token: cached, then applied to another method's ARN (on
    // stage `other`, where the resource policy allows nothing: on `test` its Allow would admit).
    assert_eq!(
        s.bearer("/other/token", "gettoken-carl").await.status,
        StatusCode::OK
    );
    let calls = s.h.token_calls();
    let r = s.bearer("/other/token/admin", "gettoken-carl").await;
    assert_eq!(s.h.token_calls(), calls);
    assert_json(
        &r,
        StatusCode::FORBIDDEN,
        json!({"Message": "User is not authorized to access this resource"}),
    );
    // A deny, cached and re-applied to another method without a second call.
    let before = s.h.token_calls();
    assert_eq!(
        s.bearer("/test/token", "deny-dan").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.bearer("/test/cached", "deny-dan").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.h.token_calls(), before + 1);

    // TTL 1 s: a second request within it is answered from the cache, one after it calls again.
    for _ in 0..2 {
        assert_eq!(
            s.get("/test/brief", &[("authorization", "b")]).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(s.h.brief_calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        s.get("/test/brief", &[("authorization", "b")]).await.status,
        StatusCode::OK
    );
    assert_eq!(s.h.brief_calls.load(Ordering::SeqCst), 2);

    // TTL 0: every request calls the authorizer.
    for _ in 0..3 {
        assert_eq!(
            s.get("/test/fresh", &[("authorization", "t")]).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(s.h.fresh_calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn request_authorizer_reads_its_identity_sources() {
    let s = setup().await;
    let r = s
        .get("/test/request/7?tenant=acme", &[("x-user", "ann")])
        .await;
    assert_json(
        &r,
        StatusCode::OK,
        json!({"id": "7", "principal": "ann", "tenant": "acme"}),
    );
    // The cache key is every identity source: same values, no new call.
    let again = s
        .get("/test/request/8?tenant=acme", &[("x-user", "ann")])
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(s.h.tenant_calls.load(Ordering::SeqCst), 1);
    // A missing source: 401 without a call.
    let r = s.get("/test/request/7?tenant=acme", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s.get("/test/request/7", &[("x-user", "ann")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.h.tenant_calls.load(Ordering::SeqCst), 1);
    // A method ARN over 1600 bytes: 414 before the authorizer is called.
    let long = format!("/test/request/{}?tenant=acme", "x".repeat(1600));
    let r = s.get(&long, &[("x-user", "ann")]).await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG, "{}", r.text());
    assert_eq!(s.h.tenant_calls.load(Ordering::SeqCst), 1);
    // Another tenant than the stage variable names: the handler denies.
    let r = s
        .get("/test/request/7?tenant=evil", &[("x-user", "ann")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn usage_identifier_key_from_the_authorizer_is_the_api_key() {
    let s = setup().await;
    let mut keys =
        tollgate::store::open(&StoreSpec::Memory, Some(&s.dir.join("keys.json"))).unwrap();
    let (_, value) = tollgate_e2e::create_key(keys.as_mut(), "member", &["members"], 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the keys file is re-read
    let token = format!("key-{value}");
    assert_eq!(
        s.bearer("/test/metered", &token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.bearer("/test/metered", &token).await.status,
        StatusCode::OK
    );
    let r = s.bearer("/test/metered", &token).await;
    assert_json(
        &r,
        StatusCode::TOO_MANY_REQUESTS,
        json!({"message": "Limit Exceeded"}),
    );
    // An authorizer answer without a usage identifier key: no API key, 403.
    let r = s.bearer("/test/metered", "allow-nokey").await;
    assert_json(&r, StatusCode::FORBIDDEN, json!({"message": "Forbidden"}));
    // A key the authorizer names but the store does not know.
    let r = s
        .bearer("/test/metered", "key-unknownkeyvalue0000000000")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn two_users_behind_an_authorizer_never_see_each_others_cached_body() {
    let s = setup().await;
    let cache = |r: &Reply| r.header("x-tollgate-cache").map(str::to_owned);
    let a1 = s.bearer("/test/cached", "allow-alice").await;
    let b1 = s.bearer("/test/cached", "allow-bob").await;
    assert_eq!(a1.json(), json!({"call": 1, "principal": "alice"}));
    assert_eq!(b1.json(), json!({"call": 2, "principal": "bob"}));
    let a2 = s.bearer("/test/cached", "allow-alice").await;
    let b2 = s.bearer("/test/cached", "allow-bob").await;
    assert_eq!((a2.json(), cache(&a2).as_deref()), (a1.json(), Some("hit")));
    assert_eq!((b2.json(), cache(&b2).as_deref()), (b1.json(), Some("hit")));

    // Invalidation needs `execute-api:InvalidateCache` in the caller's policy.
    let plain = s
        .get(
            "/test/cached",
            &[
                ("authorization", "Bearer allow-alice"),
                ("cache-control", "max-age=0"),
            ],
        )
        .await;
    assert_eq!(plain.json()["call"], 1, "not allowed to invalidate");
    let admin = s
        .get(
            "/test/cached",
            &[
                ("authorization", "Bearer admin-alice"),
                ("cache-control", "max-age=0"),
            ],
        )
        .await;
    assert_eq!(cache(&admin).as_deref(), Some("refresh"));
    assert_eq!(admin.json(), json!({"call": 3, "principal": "alice"}));
}

// ---- JWT -----------------------------------------------------------------------------------

#[tokio::test]
async fn jwt_authorizer_admits_valid_tokens_and_exposes_claims() {
    let s = setup().await;
    let jwt = Jwt::new();
    let t = jwt.token("user-1", json!({"email": "u1@example.test"}));
    assert_json(
        &s.bearer("/test/jwt", &t).await,
        StatusCode::OK,
        json!({"sub": "user-1", "email": "u1@example.test"}),
    );
    // A bare token (no `Bearer `) is accepted too; `client_id` stands in for `aud`.
    let t = jwt.token("user-2", json!({"aud": null, "client_id": "guarded-cli"}));
    let r = s.get("/test/jwt", &[("authorization", &t)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Scopes: one of the route's is enough, from `scope` or `scp`.
    let t = jwt.token("user-3", json!({"scope": "openid pets:write"}));
    assert_eq!(
        s.bearer("/test/jwt/scoped", &t).await.status,
        StatusCode::OK
    );
    let t = jwt.token("user-3", json!({"scp": ["pets:admin"]}));
    assert_eq!(
        s.bearer("/test/jwt/scoped", &t).await.status,
        StatusCode::OK
    );
    let t = jwt.token("user-3", json!({"scope": "openid"}));
    // Verified once and cached on a route without scopes: the scopes still apply elsewhere.
    assert_eq!(s.bearer("/test/jwt", &t).await.status, StatusCode::OK);
    let r = s.bearer("/test/jwt/scoped", &t).await;
    // REST answers a missing scope as Cognito does: 401.
    assert_json(
        &r,
        StatusCode::UNAUTHORIZED,
        json!({"message": "Unauthorized"}),
    );
    assert!(
        r.header("www-authenticate")
            .unwrap_or("")
            .contains("insufficient_scope"),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn jwt_authorizer_refuses_bad_tokens_with_401_and_a_challenge() {
    let s = setup().await;
    let jwt = Jwt::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let valid = jwt.token("u", json!({}));
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let b64 = |v: serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let tampered_payload = format!(
        "{head}.{}.{sig}",
        b64(
            json!({"iss": "https://id.example.test", "aud": "guarded-app", "sub": "admin", "exp": now + 600})
        )
    );
    let mut tampered_sig = valid.clone();
    let last = tampered_sig.pop().unwrap();
    tampered_sig.push(if last == 'A' { 'B' } else { 'A' });
    let cases: Vec<(&str, String)> = vec![
        ("missing", String::new()),
        ("garbage", "not-a-jwt".into()),
        (
            "expired",
            jwt.token("u", json!({"exp": now - 3600, "iat": now - 7200})),
        ),
        ("not yet valid", jwt.token("u", json!({"nbf": now + 3600}))),
        (
            "issued in the future",
            jwt.token("u", json!({"iat": now + 3600})),
        ),
        (
            "wrong issuer",
            jwt.token("u", json!({"iss": "https://evil.example.test"})),
        ),
        (
            "wrong audience",
            jwt.token("u", json!({"aud": "someone-else"})),
        ),
        (
            "unknown kid",
            jwt.sign(
                &json!({"alg": "ES256", "kid": "nobody"}),
                &json!({"iss": "https://id.example.test", "aud": "guarded-app", "exp": now + 600}),
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(json!({"alg": "none", "kid": "e2e-1"})),
                b64(
                    json!({"iss": "https://id.example.test", "aud": "guarded-app", "exp": now + 600})
                )
            ),
        ),
        (
            "HS256 confusion",
            format!(
                "{}.{}.c2lnbmF0dXJl",
                b64(json!({"alg": "HS256", "kid": "e2e-1"})),
                b64(
                    json!({"iss": "https://id.example.test", "aud": "guarded-app", "exp": now + 600})
                )
            ),
        ),
        ("tampered payload", tampered_payload),
        ("tampered signature", tampered_sig),
    ];
    for (what, token) in cases {
        let headers: Vec<(&str, String)> = if token.is_empty() {
            vec![]
        } else {
            vec![("authorization", format!("Bearer {token}"))]
        };
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.get("/test/jwt", &h).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text());
        assert_eq!(r.json(), json!({"message": "Unauthorized"}), "{what}");
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Bearer") && challenge.contains("invalid_token"),
            "{what}: {challenge:?}"
        );
    }
}

// ---- IAM SigV4, signed by botocore ---------------------------------------------------------

const SIGNER: &str = r#"
import json, sys, datetime
from unittest import mock
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
a = json.load(sys.stdin)
req = AWSRequest(method=a["method"], url=a["url"], data=a["body"].encode(), headers=a["headers"])
creds = Credentials(a["key"], a["secret"])
signer = SigV4QueryAuth(creds, "execute-api", "us-east-1", expires=300) if a["presign"] else SigV4Auth(creds, "execute-api", "us-east-1")
when = datetime.datetime.fromtimestamp(a["unix"], datetime.timezone.utc).replace(tzinfo=None)
with mock.patch("botocore.auth.get_current_datetime", return_value=when):
    signer.add_auth(req)
p = req.prepare()
print(json.dumps({"url": p.url, "headers": dict(p.headers.items())}))
"#;

struct Signed {
    url: String,
    headers: Vec<(String, String)>,
}

/// Signs with botocore; `None` (and a message) when python3 or botocore is missing, a failure
/// under CI.
fn botocore_sign(
    method: &str,
    url: &str,
    body: &str,
    key: &str,
    secret: &str,
    unix: u64,
    presign: bool,
) -> Option<Signed> {
    use std::io::Write;
    let input = json!({"method": method, "url": url, "body": body, "headers": {},
                       "key": key, "secret": secret, "unix": unix, "presign": presign});
    let child = std::process::Command::new("python3")
        .args(["-c", SIGNER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let out = child.and_then(|mut c| {
        c.stdin
            .take()
            .expect("stdin")
            .write_all(input.to_string().as_bytes())?;
        c.wait_with_output()
    });
    let out = match out {
        Ok(o) if o.status.success() => o,
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("botocore signing failed under CI: {why}");
            }
            eprintln!("SKIP: python3 with botocore is needed to sign SigV4 requests: {why}");
            return None;
        }
    };
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("signer output");
    Some(Signed {
        url: v["url"].as_str().expect("url").to_owned(),
        headers: v["headers"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
    })
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Setup {
    async fn send_signed(&self, method: Method, s: &Signed, body: &str) -> Reply {
        let h: Vec<(&str, &str)> = s
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.c
            .request(Proto::Http1, method, &s.url, &h, body.to_owned())
            .await
    }
}

#[tokio::test]
async fn iam_accepts_requests_signed_by_botocore_and_refuses_tampering() {
    let s = setup().await;
    let url = s.gw.url("/test/iam?b=2&a=1&q=hello%20world");
    let Some(signed) = botocore_sign("GET", &url, "", ALICE_KEY, ALICE_SECRET, now_unix(), false)
    else {
        return;
    };
    let r = s.send_signed(Method::GET, &signed, "").await;
    assert_json(
        &r,
        StatusCode::OK,
        json!({"user": "arn:aws:iam::123456789012:user/alice", "key": ALICE_KEY}),
    );
    // A presigned URL.
    let pre = botocore_sign("GET", &url, "", ALICE_KEY, ALICE_SECRET, now_unix(), true).unwrap();
    assert!(pre.url.contains("X-Amz-Signature="));
    assert_eq!(
        s.send_signed(Method::GET, &pre, "").await.status,
        StatusCode::OK
    );
    // A signed body.
    let post_url = s.gw.url("/test/iam");
    let body = r#"{"order": 1}"#;
    let post = botocore_sign(
        "POST",
        &post_url,
        body,
        ALICE_KEY,
        ALICE_SECRET,
        now_unix(),
        false,
    )
    .unwrap();
    assert_eq!(
        s.send_signed(Method::POST, &post, body).await.status,
        StatusCode::OK
    );

    let mismatch = json!({"message": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."});
    // A modified body.
    let r = s.send_signed(Method::POST, &post, r#"{"order": 2}"#).await;
    assert_json(&r, StatusCode::FORBIDDEN, mismatch.clone());
    // A modified query.
    let mut q = Signed {
        url: signed.url.replace("a=1", "a=9"),
        headers: signed.headers.clone(),
    };
    let r = s.send_signed(Method::GET, &q, "").await;
    assert_json(&r, StatusCode::FORBIDDEN, mismatch.clone());
    // A wrong secret.
    let wrong = botocore_sign(
        "GET",
        &url,
        "",
        ALICE_KEY,
        "not-the-secret",
        now_unix(),
        false,
    )
    .unwrap();
    assert_json(
        &s.send_signed(Method::GET, &wrong, "").await,
        StatusCode::FORBIDDEN,
        mismatch,
    );
    // A stale date: more than 5 minutes old.
    let stale = botocore_sign(
        "GET",
        &url,
        "",
        ALICE_KEY,
        ALICE_SECRET,
        now_unix() - 600,
        false,
    )
    .unwrap();
    let r = s.send_signed(Method::GET, &stale, "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired"),
        "{}",
        r.text()
    );
    // An unknown access key.
    let unknown =
        botocore_sign("GET", &url, "", "AKIDNOBODY000000", "x", now_unix(), false).unwrap();
    assert_json(
        &s.send_signed(Method::GET, &unknown, "").await,
        StatusCode::FORBIDDEN,
        json!({"message": "The security token included in the request is invalid."}),
    );
    // Unsigned.
    q.headers.clear();
    q.url = url.clone();
    assert_json(
        &s.send_signed(Method::GET, &q, "").await,
        StatusCode::FORBIDDEN,
        json!({"message": "Missing Authentication Token"}),
    );
    // The resource policy denies one principal after authentication.
    let m = botocore_sign(
        "GET",
        &url,
        "",
        MALLORY_KEY,
        MALLORY_SECRET,
        now_unix(),
        false,
    )
    .unwrap();
    let r = s.send_signed(Method::GET, &m, "").await;
    assert_json(
        &r,
        StatusCode::FORBIDDEN,
        json!({"Message": "User: arn:aws:iam::123456789012:user/mallory is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:guarded/test/GET/iam with an explicit deny"}),
    );
}

// ---- resource policy -----------------------------------------------------------------------

#[tokio::test]
async fn resource_policy_denies_before_the_authorizer_and_needs_an_allow() {
    let s = setup().await;
    assert_eq!(s.get("/test/open", &[]).await.status, StatusCode::OK);
    let arn = |p: &str| format!("arn:aws:execute-api:us-east-1:********0000:guarded/{p}");
    let r = s.get("/test/blocked", &[]).await;
    assert_json(
        &r,
        StatusCode::FORBIDDEN,
        json!({"Message": format!("User: anonymous is not authorized to perform: execute-api:Invoke on resource: {} with an explicit deny", arn("test/GET/blocked"))}),
    );
    // A source-IP condition: the tests come from loopback.
    assert_eq!(
        s.get("/test/local", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // Stage `other` has no Allow: an open route there is an implicit deny.
    let r = s.get("/other/open", &[]).await;
    assert_json(
        &r,
        StatusCode::FORBIDDEN,
        json!({"Message": format!("User: anonymous is not authorized to perform: execute-api:Invoke on resource: {} because no resource-based policy allows the execute-api:Invoke action", arn("other/GET/open"))}),
    );
    // …but a custom authorizer's Allow is enough there (same-account table).
    assert_eq!(
        s.bearer("/other/token", "allow-alice").await.status,
        StatusCode::OK
    );
    // A JWT caller needs the policy's Allow too.
    let t = Jwt::new().token("u", json!({}));
    assert_eq!(s.bearer("/test/jwt", &t).await.status, StatusCode::OK);
    assert_eq!(
        s.bearer("/other/jwt", &t).await.status,
        StatusCode::FORBIDDEN
    );
    // An explicit deny is applied before the authorizer is called.
    let before = s.h.token_calls();
    let r = s.bearer("/test/blocked", "allow-alice").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.h.token_calls(), before);
}

// ---- CORS ----------------------------------------------------------------------------------

const ORIGIN: &str = "https://app.example.test";

#[tokio::test]
async fn preflights_are_answered_by_the_gateway_without_auth() {
    let s = setup().await;
    let preflight = |path: &'static str, origin: &'static str, method: &'static str| {
        let url = s.gw.url(path);
        let c = &s.c;
        async move {
            c.request(
                Proto::Http1,
                Method::OPTIONS,
                &url,
                &[
                    ("origin", origin),
                    ("access-control-request-method", method),
                    (
                        "access-control-request-headers",
                        "Content-Type, Authorization",
                    ),
                ],
                bytes::Bytes::new(),
            )
            .await
        }
    };
    let r = preflight("/test/open", ORIGIN, "POST").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET,POST,OPTIONS")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type,authorization")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    // Behind an authorizer: the preflight carries no token and is still answered.
    let r = preflight("/test/token", ORIGIN, "GET").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(s.h.token_calls(), 0);
    // A foreign origin or method: 204 without the headers, and the browser refuses.
    let r = preflight("/test/open", "https://evil.example.test", "GET").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = preflight("/test/open", ORIGIN, "DELETE").await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    // `cors #false` on a resource: no preflight answer (no OPTIONS route there).
    let r = preflight("/test/nocors", ORIGIN, "GET").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cors_headers_go_on_answers_and_on_gateway_errors() {
    let s = setup().await;
    let origin = [("origin", ORIGIN)];
    let r = s.get("/test/open", &origin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("x-amzn-requestid")
    );
    assert_eq!(r.header("vary"), Some("Origin"));
    // Gateway errors: 401 from an authorizer, 403 for an unknown path, 403 from the policy.
    for path in ["/test/token", "/test/nowhere", "/test/blocked"] {
        let r = s.get(path, &origin).await;
        assert!(r.status.is_client_error(), "{path}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{path}"
        );
    }
    // Other origins and `cors #false` get nothing.
    let r = s
        .get("/test/open", &[("origin", "https://evil.example.test")])
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = s.get("/test/nocors", &origin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Without an Origin header, nothing is added.
    assert_eq!(
        s.get("/test/open", &[])
            .await
            .header("access-control-allow-origin"),
        None
    );
}
