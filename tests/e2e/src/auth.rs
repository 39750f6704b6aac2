//! Handlers and token minting for the access-control test API (`apis/auth.kdl`).

use base64::Engine;
use http::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tollgate::{
    AuthorizerError, AuthorizerRequest, AuthorizerResponse, HandlerResult, Request, response,
};

use crate::apis::auth::Guarded;

/// The custom authorizers and handlers of `apis/auth.kdl`, counting their calls.
///
/// `check_token` reads `Bearer VERB-USER`: `allow` (everything, with a context), `deny`
/// (an explicit deny of everything), `gettoken` (an Allow of `GET /token` only), `admin`
/// (everything plus `execute-api:InvalidateCache`), `key` (allow, with USER as the usage
/// identifier key), `unauthorized`, `broken` (fails) and `malformed` (a policy that is not one).
#[derive(Debug, Default, Clone)]
pub struct AuthHandlers {
    /// Calls of `check_token`.
    pub token_calls: Arc<AtomicUsize>,
    /// Calls of `check_fresh`.
    pub fresh_calls: Arc<AtomicUsize>,
    /// Calls of `check_brief`.
    pub brief_calls: Arc<AtomicUsize>,
    /// Calls of `check_tenant`.
    pub tenant_calls: Arc<AtomicUsize>,
    /// Calls of `numbered`.
    pub numbered_calls: Arc<AtomicUsize>,
}

impl AuthHandlers {
    /// How many times `check_token` ran.
    pub fn token_calls(&self) -> usize {
        self.token_calls.load(Ordering::SeqCst)
    }
}

impl Guarded for AuthHandlers {
    async fn whoami(&self, request: Request, id: String) -> HandlerResult {
        let p = request.context().authorizer.clone();
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({
                "id": id,
                "principal": p.as_ref().map(|p| p.principal_id.clone()),
                "tenant": p.as_ref().and_then(|p| p.get("tenant").map(str::to_owned)),
            }),
        ))
    }

    async fn numbered(&self, request: Request) -> HandlerResult {
        let n = self.numbered_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let principal = request
            .context()
            .authorizer
            .as_ref()
            .map(|p| p.principal_id.clone());
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "call": n, "principal": principal }),
        ))
    }

    async fn check_token(
        &self,
        request: AuthorizerRequest,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        self.token_calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(request.kind, "TOKEN");
        let token = request.authorization_token.unwrap_or_default();
        let rest = token.strip_prefix("Bearer ").unwrap_or(&token);
        let (verb, user) = rest.split_once('-').unwrap_or((rest, ""));
        match verb {
            "allow" => Ok(AuthorizerResponse::allow(user, "*")
                .context("tier", "gold")
                .context("n", 3i64)),
            "deny" => Ok(AuthorizerResponse::deny(user, "*")),
            "gettoken" => Ok(AuthorizerResponse::allow(
                user,
                "arn:aws:execute-api:*:*:*/*/GET/token",
            )),
            "admin" => {
                let mut r = AuthorizerResponse::allow(user, "*");
                r.statements[0]
                    .actions
                    .push("execute-api:InvalidateCache".to_owned());
                Ok(r)
            }
            "key" => Ok(AuthorizerResponse::allow("keyed", "*").usage_identifier_key(user)),
            "unauthorized" => Err(AuthorizerError::Unauthorized),
            "malformed" => AuthorizerResponse::from_json(&serde_json::json!({
                "principalId": "x",
                "policyDocument": {"Statement": [{"Effect": "Maybe"}]}
            }))
            .map_err(AuthorizerError::Failed),
            _ => Err(AuthorizerError::Failed(format!(
                "cannot read token {rest:?}"
            ))),
        }
    }

    async fn check_fresh(
        &self,
        request: AuthorizerRequest,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        self.fresh_calls.fetch_add(1, Ordering::SeqCst);
        let token = request.authorization_token.unwrap_or_default();
        Ok(AuthorizerResponse::allow(token, "*"))
    }

    async fn check_brief(
        &self,
        request: AuthorizerRequest,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        self.brief_calls.fetch_add(1, Ordering::SeqCst);
        let token = request.authorization_token.unwrap_or_default();
        Ok(AuthorizerResponse::allow(token, "*"))
    }

    async fn check_tenant(
        &self,
        request: AuthorizerRequest,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        self.tenant_calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(request.kind, "REQUEST");
        let user = request
            .headers
            .get("x-user")
            .cloned()
            .ok_or(AuthorizerError::Unauthorized)?;
        let tenant = request
            .query_string_parameters
            .get("tenant")
            .cloned()
            .unwrap_or_default();
        // The stage variable names the tenant this stage serves.
        let allowed = request.stage_variables.get("tenant") == Some(&tenant);
        let r = if allowed {
            AuthorizerResponse::allow(user, request.method_arn.clone())
        } else {
            AuthorizerResponse::deny(user, "*")
        };
        Ok(r.context("tenant", tenant))
    }
}

/// Mints ES256 tokens with the test-only key of `apis/auth/` (kid `e2e-1`).
#[derive(Debug)]
pub struct Jwt {
    key: ring::signature::EcdsaKeyPair,
}

impl Default for Jwt {
    fn default() -> Self {
        Self::new()
    }
}

impl Jwt {
    /// Loads the key.
    pub fn new() -> Jwt {
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/apis/auth/test-es256.pk8"
        ))
        .expect("the test key");
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &ring::rand::SystemRandom::new(),
        )
        .expect("a P-256 PKCS#8 key");
        Jwt { key }
    }

    /// A signed token with `header` and `claims` as given.
    pub fn sign(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self
            .key
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .expect("signing");
        format!("{input}.{}", b64(sig.as_ref()))
    }

    /// A valid token for `sub` with the API's issuer and audience, `extra` claims merged in.
    pub fn token(&self, sub: &str, extra: serde_json::Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let mut claims = serde_json::json!({
            "iss": "https://id.example.test",
            "aud": "guarded-app",
            "sub": sub,
            "iat": now,
            "exp": now + 600,
        });
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    c.remove(k);
                } else {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        self.sign(
            &serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "e2e-1"}),
            &claims,
        )
    }
}
