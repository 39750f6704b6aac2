//! Authentication and authorization: steps 3–4 of the request lifecycle, between route match
//! and API keys.
//!
//! ```text
//! route ─► resource policy (explicit deny, pre-auth) ─► auth: none | iam (SigV4) | jwt | custom
//!       ─► policies combined (any Deny refuses, an Allow from either side admits) ─► API key …
//! ```
//!
//! Generated code calls [`Exchange::authorize`] (or [`Exchange::authorize_custom`] with the
//! handler method of a TOKEN/REQUEST authorizer) on routes that have an `auth` or when the API
//! has a resource policy. What the caller authenticated as ([`Principal`]) stays on the exchange:
//! `$context.authorizer.*` and `$context.identity.*` in templates, `Context::authorizer` in
//! handlers, the API key under `api-key-source authorizer`, and the response-cache key (so one
//! caller's cached answer never reaches another).

pub mod custom;
pub mod jwt;
pub mod policy;
pub mod sigv4;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderValue;

use crate::exchange::Exchange;
use crate::gateway::Flavor;
use crate::response::{GatewayError, ResponseType};
use custom::{AuthorizerError, AuthorizerRequest, AuthorizerResponse};
use policy::{Facts, ResourcePolicy, Verdict};

pub use custom::ContextValue;

/// The region in method ARNs (`arn:aws:execute-api:{region}:…`).
pub const REGION: &str = "us-east-1";

/// How long a custom authorizer may take before the request fails with 500 (API Gateway's
/// 10 s for HTTP-API Lambda authorizers).
pub const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// One authorizer, as generated code declares it.
#[derive(Debug)]
pub struct AuthorizerSpec {
    /// The name methods use.
    pub name: &'static str,
    /// What checks the caller.
    pub kind: AuthorizerKindSpec,
    /// Where the identity is read.
    pub identity_sources: &'static [IdentitySourceSpec],
    /// Result cache TTL in seconds (custom authorizers; 0 = off).
    pub ttl_secs: u64,
}

/// The kinds of authorizer.
#[derive(Debug)]
pub enum AuthorizerKindSpec {
    /// TOKEN: one header, optionally matched against `validation` before the call.
    Token {
        /// The whole token must match this expression.
        validation: Option<&'static str>,
    },
    /// REQUEST: the identity sources plus the request.
    Request,
    /// JWT checked against a JWKS.
    Jwt {
        /// Required `iss`.
        issuer: &'static str,
        /// Accepted `aud` / `client_id` values.
        audiences: &'static [&'static str],
        /// `jwks-file`.
        jwks_file: Option<&'static str>,
        /// `jwks-uri`.
        jwks_uri: Option<&'static str>,
    },
}

/// Where an identity source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityLocation {
    /// A request header.
    Header,
    /// A query-string parameter.
    QueryString,
    /// A stage variable.
    StageVariable,
    /// A `$context` value (`sourceIp`, `httpMethod`, `stage`, `path`, `requestId`).
    Context,
}

/// One identity source.
#[derive(Debug)]
pub struct IdentitySourceSpec {
    /// Where.
    pub location: IdentityLocation,
    /// The name there.
    pub name: &'static str,
}

/// How a route authenticates callers.
#[derive(Debug, Clone, Copy)]
pub enum RouteAuthSpec {
    /// Open (`NONE`).
    None,
    /// The API's authorizer number `index`, requiring one of `scopes` (JWT).
    Authorizer {
        /// Index into [`crate::gateway::ApiSpec::authorizers`].
        index: usize,
        /// Required scopes, any one suffices; empty = none.
        scopes: &'static [&'static str],
    },
    /// AWS SigV4 against the credentials store.
    Iam,
}

/// Who the caller authenticated as.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `principalId` (custom), `sub` (JWT) or the IAM user ARN.
    pub principal_id: String,
    /// `$context.authorizer.KEY` values, stringified (custom authorizers' `context`).
    pub context: Vec<(String, String)>,
    /// `$context.authorizer.claims.NAME` values, stringified (JWT).
    pub claims: Vec<(String, String)>,
    /// The token's scopes (JWT).
    pub scopes: Vec<String>,
    /// The API key a custom authorizer supplied (`usageIdentifierKey`).
    pub usage_identifier_key: Option<String>,
    /// The SigV4 identity (IAM).
    pub iam: Option<sigv4::Verified>,
    /// May this caller invalidate cache entries (`Cache-Control: max-age=0`)? IAM callers and
    /// custom-authorizer callers whose policy allows `execute-api:InvalidateCache` may.
    pub may_invalidate_cache: bool,
}

impl Principal {
    /// `$context.authorizer.KEY` (or `principalId`).
    pub fn get(&self, key: &str) -> Option<&str> {
        if key == "principalId" {
            return Some(&self.principal_id);
        }
        self.context
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A JWT claim, stringified.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

enum AuthorizerState {
    Custom {
        validation: Option<regex::Regex>,
        cache: Option<moka::sync::Cache<(usize, String), Arc<AuthorizerResponse>>>,
    },
    Jwt {
        verifier: Arc<jwt::JwtVerifier>,
        /// Tokens already verified, by their exact text: a repeat request skips the signature
        /// check (an ES256 verification costs tens of µs).
        tokens: TokenCache,
    },
}

/// A verified token's principal, valid until the token expires (or the keys are reloaded).
#[derive(Debug)]
struct VerifiedToken {
    principal: Arc<Principal>,
    /// `exp` plus the leeway, in seconds since the epoch.
    valid_until: u64,
    /// The verifier's key-load count when it was verified: a reload (a rotation) drops it.
    generation: u64,
}

type TokenCache = moka::sync::Cache<Arc<str>, Arc<VerifiedToken>, foldhash::fast::RandomState>;

/// How long a verified token is reused at most, whatever its `exp`.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

fn token_cache() -> TokenCache {
    moka::sync::Cache::builder()
        // Bounded by bytes: tokens are a few hundred bytes to a few KB.
        .weigher(|k: &Arc<str>, _: &Arc<VerifiedToken>| {
            u32::try_from(k.len() + 512).unwrap_or(u32::MAX)
        })
        .max_capacity(32 * 1024 * 1024)
        .time_to_live(TOKEN_CACHE_TTL)
        .build_with_hasher(foldhash::fast::RandomState::default())
}

impl std::fmt::Debug for AuthorizerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthorizerState::Custom { cache, .. } => f
                .debug_struct("Custom")
                .field("cached", &cache.as_ref().map(|c| c.entry_count()))
                .finish(),
            AuthorizerState::Jwt { tokens, .. } => f
                .debug_struct("Jwt")
                .field("cached_tokens", &tokens.entry_count())
                .finish(),
        }
    }
}

/// Start-up settings of authentication.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// IAM credentials (`auth iam`). Default: none, every signed request is refused.
    pub credentials: Arc<sigv4::Credentials>,
    /// PEM CA certificates trusted for `jwks-uri` fetches besides the webpki roots. Default:
    /// none.
    pub extra_roots: Option<Arc<[u8]>>,
}

/// The authorizers' run-time state: result caches, JWKS caches, the parsed resource policy.
#[derive(Debug)]
pub(crate) struct Auth {
    authorizers: Box<[AuthorizerState]>,
    policy: Option<ResourcePolicy>,
    credentials: Arc<sigv4::Credentials>,
}

impl Auth {
    pub(crate) fn new(
        spec: &'static crate::gateway::ApiSpec,
        config: &AuthConfig,
    ) -> Result<Self, String> {
        let mut authorizers = Vec::with_capacity(spec.authorizers.len());
        for a in spec.authorizers {
            let state = match &a.kind {
                AuthorizerKindSpec::Token { validation } => AuthorizerState::Custom {
                    validation: match validation {
                        Some(v) => Some(
                            regex::Regex::new(&format!("^(?:{v})$"))
                                .map_err(|e| format!("authorizer `{}`: validation: {e}", a.name))?,
                        ),
                        None => None,
                    },
                    cache: custom_cache(a.ttl_secs),
                },
                AuthorizerKindSpec::Request => AuthorizerState::Custom {
                    validation: None,
                    cache: custom_cache(a.ttl_secs),
                },
                AuthorizerKindSpec::Jwt {
                    issuer,
                    audiences,
                    jwks_file,
                    jwks_uri,
                } => {
                    let jwks = match (jwks_file, jwks_uri) {
                        (Some(f), _) => jwt::JwksSource::File((*f).into()),
                        (None, Some(u)) => jwt::JwksSource::Url((*u).to_owned()),
                        (None, None) => return Err(format!("authorizer `{}` has no JWKS", a.name)),
                    };
                    let jc = jwt::JwtConfig {
                        issuer: (*issuer).to_owned(),
                        audiences: audiences.iter().map(|s| (*s).to_owned()).collect(),
                        jwks,
                        leeway: jwt::DEFAULT_LEEWAY,
                    };
                    let verifier = jwt::JwtVerifier::new(jc, config.extra_roots.as_deref())
                        .map_err(|e| format!("authorizer `{}`: {e}", a.name))?;
                    AuthorizerState::Jwt {
                        verifier: Arc::new(verifier),
                        tokens: token_cache(),
                    }
                }
            };
            authorizers.push(state);
        }
        Ok(Auth {
            authorizers: authorizers.into(),
            policy: spec.resource_policy.map(ResourcePolicy::new),
            credentials: config.credentials.clone(),
        })
    }
}

fn custom_cache(ttl: u64) -> Option<moka::sync::Cache<(usize, String), Arc<AuthorizerResponse>>> {
    (ttl > 0).then(|| {
        moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(ttl))
            .build()
    })
}

/// `arn:aws:execute-api:us-east-1:********0000:…` as API Gateway masks accounts in messages.
fn masked(arn: &str) -> String {
    let account = crate::mapping::ACCOUNT_ID;
    let tail = &account[account.len().saturating_sub(4)..];
    arn.replacen(
        &format!(":{account}:"),
        &format!(":{}{tail}:", "*".repeat(account.len() - tail.len())),
        1,
    )
}

fn access_denied(flavor: Flavor, message: String) -> GatewayError {
    match flavor {
        Flavor::Rest => GatewayError::new(ResponseType::AccessDenied, message.clone())
            .with_body(&serde_json::json!({ "Message": message })),
        Flavor::Http => GatewayError::new(ResponseType::AccessDenied, message),
    }
}

/// 403 for a resource-policy refusal.
fn policy_denied(flavor: Flavor, user: &str, arn: &str, explicit: bool) -> GatewayError {
    let why = if explicit {
        "with an explicit deny"
    } else {
        "because no resource-based policy allows the execute-api:Invoke action"
    };
    access_denied(
        flavor,
        format!(
            "User: {user} is not authorized to perform: execute-api:Invoke on resource: {} {why}",
            masked(arn)
        ),
    )
}

fn unauthorized(detail: impl Into<String>) -> GatewayError {
    GatewayError::new(ResponseType::Unauthorized, detail)
}

/// The request facts authorization works from, computed once.
struct Target {
    /// `STAGE/METHOD/path`.
    resource: String,
    /// The full method ARN.
    arn: String,
}

/// The longest method ARN API Gateway builds; longer is 414.
pub const MAX_METHOD_ARN_BYTES: usize = 1600;
/// The longest `Resource` of an authorizer's policy statement.
pub const MAX_POLICY_RESOURCE_CHARS: usize = 512;

impl Exchange {
    fn target(&self) -> Result<Target, GatewayError> {
        let path = self.raw_tail(0);
        let resource = format!(
            "{}/{}/{}",
            self.stage().name,
            self.parts.method.as_str(),
            path.trim_start_matches('/')
        );
        let arn = format!(
            "arn:aws:execute-api:{REGION}:{}:{}/{resource}",
            crate::mapping::ACCOUNT_ID,
            self.shared.api_name
        );
        if arn.len() > MAX_METHOD_ARN_BYTES {
            return Err(GatewayError::new(
                ResponseType::UriTooLong,
                format!(
                    "the method ARN is {} bytes, over {MAX_METHOD_ARN_BYTES}",
                    arn.len()
                ),
            ));
        }
        Ok(Target { resource, arn })
    }

    fn facts<'a>(&'a self, t: &'a Target, principal: Option<&'a str>) -> Facts<'a> {
        let h = |n: http::HeaderName| self.parts.headers.get(n).and_then(|v| v.to_str().ok());
        Facts {
            resource: &t.resource,
            source_ip: self.remote.ip(),
            user_agent: h(http::header::USER_AGENT),
            referer: h(http::header::REFERER),
            principal,
        }
    }

    /// Step 3: the resource policy's explicit deny, before any authorizer runs.
    fn pre_auth(&self, t: &Target) -> Result<(), GatewayError> {
        if let Some(p) = &self.shared.auth.policy
            && p.evaluate(&self.facts(t, None), true) == Verdict::Deny
        {
            return Err(policy_denied(self.shared.flavor, "anonymous", &t.arn, true));
        }
        Ok(())
    }

    /// Authenticates and authorizes a request on `route` whose method is open, `auth iam` or a
    /// JWT authorizer, in API Gateway's order (resource policy first). On success the caller's
    /// [`Principal`] is kept for templates, handlers, API keys and the cache key.
    pub async fn authorize(&mut self, route: usize) -> Result<(), GatewayError> {
        let t = self.target()?;
        self.pre_auth(&t)?;
        let shared = self.shared.clone();
        let flavor = shared.flavor;
        let policy = shared.auth.policy.as_ref();
        match shared.routes[route].auth {
            RouteAuthSpec::None => {
                if let Some(p) = policy {
                    match p.evaluate(&self.facts(&t, None), false) {
                        Verdict::Allow => {}
                        v => {
                            return Err(policy_denied(
                                flavor,
                                "anonymous",
                                &t.arn,
                                v == Verdict::Deny,
                            ));
                        }
                    }
                }
            }
            RouteAuthSpec::Iam => {
                let body = self.body().await?;
                let verified = sigv4::verify(
                    &self.parts.method,
                    &self.parts.uri,
                    &self.parts.headers,
                    &body,
                    &shared.auth.credentials,
                    SystemTime::now(),
                )
                .map_err(|e| sigv4_error(flavor, &e))?;
                if let Some(p) = policy
                    && p.evaluate(&self.facts(&t, Some(&verified.principal_arn)), false)
                        == Verdict::Deny
                {
                    return Err(policy_denied(flavor, &verified.principal_arn, &t.arn, true));
                }
                self.principal = Some(Arc::new(Principal {
                    principal_id: verified.principal_arn.clone(),
                    iam: Some(verified),
                    may_invalidate_cache: true,
                    ..Principal::default()
                }));
            }
            RouteAuthSpec::Authorizer { index, scopes } => {
                let AuthorizerState::Jwt { verifier, tokens } = &shared.auth.authorizers[index]
                else {
                    // Generated code calls `authorize_custom` for custom authorizers.
                    return Err(GatewayError::new(
                        ResponseType::AuthorizerConfigurationError,
                        "a custom authorizer's route was authorized without its handler",
                    ));
                };
                let spec = &shared.authorizers[index];
                let token = spec
                    .identity_sources
                    .first()
                    .and_then(|s| self.parts.headers.get(s.name))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let now = SystemTime::now();
                let now_secs = now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let generation = verifier.load_count();
                let cached = tokens
                    .get(token)
                    .filter(|t| t.generation == generation && now_secs < t.valid_until);
                let principal = match cached {
                    Some(t) => t.principal.clone(),
                    None => {
                        // Scopes are the route's: checked below, on cached tokens too.
                        let claims = match verifier.verify(token, &[], now).await {
                            Ok(c) => c,
                            Err(e) => return Err(jwt_error(flavor, &e)),
                        };
                        let principal = Arc::new(Principal {
                            principal_id: claims
                                .get("sub")
                                .and_then(|v| v.as_str())
                                .unwrap_or_default()
                                .to_owned(),
                            claims: claims.stringified(),
                            scopes: claims.scopes(),
                            ..Principal::default()
                        });
                        if let Some(exp) = claims.get("exp").and_then(|v| v.as_u64()) {
                            tokens.insert(
                                token.into(),
                                Arc::new(VerifiedToken {
                                    principal: principal.clone(),
                                    valid_until: exp.saturating_add(jwt::DEFAULT_LEEWAY.as_secs()),
                                    generation,
                                }),
                            );
                        }
                        principal
                    }
                };
                if !scopes.is_empty()
                    && !scopes
                        .iter()
                        .any(|s| principal.scopes.iter().any(|have| have == s))
                {
                    let e = jwt::JwtError::InsufficientScope {
                        required: scopes.iter().map(|s| (*s).to_owned()).collect(),
                    };
                    return Err(jwt_error(flavor, &e));
                }
                if let Some(p) = policy
                    && p.evaluate(&self.facts(&t, Some(&principal.principal_id)), false)
                        != Verdict::Allow
                {
                    return Err(policy_denied(
                        flavor,
                        &principal.principal_id,
                        &t.arn,
                        false,
                    ));
                }
                self.principal = Some(principal);
            }
        }
        Ok(())
    }

    /// Authenticates and authorizes a request on `route` through its custom (TOKEN or
    /// REQUEST) authorizer, calling `call` — the handler method — unless the identity is
    /// missing or invalid (401 without a call) or a cached answer for it is fresh.
    pub async fn authorize_custom<F, Fut>(
        &mut self,
        route: usize,
        call: F,
    ) -> Result<(), GatewayError>
    where
        F: FnOnce(AuthorizerRequest) -> Fut,
        Fut: Future<Output = Result<AuthorizerResponse, AuthorizerError>>,
    {
        let t = self.target()?;
        self.pre_auth(&t)?;
        let shared = self.shared.clone();
        let flavor = shared.flavor;
        let RouteAuthSpec::Authorizer { index, .. } = shared.routes[route].auth else {
            return self.authorize(route).await;
        };
        let spec = &shared.authorizers[index];
        let AuthorizerState::Custom { validation, cache } = &shared.auth.authorizers[index] else {
            return self.authorize(route).await;
        };
        let token = matches!(spec.kind, AuthorizerKindSpec::Token { .. });

        // Identity sources: all present and non-empty, or 401 without calling the function.
        let mut identity = Vec::with_capacity(spec.identity_sources.len());
        for source in spec.identity_sources {
            let value = self.identity_value(source);
            match value {
                Some(v) if !v.is_empty() => identity.push(v),
                _ => {
                    return Err(unauthorized(format!(
                        "identity source {:?} `{}` is missing or empty",
                        source.location, source.name
                    )));
                }
            }
        }
        if let (Some(re), Some(v)) = (validation, identity.first())
            && !re.is_match(v)
        {
            return Err(unauthorized(
                "the token does not match the authorizer's validation expression",
            ));
        }
        let key = (self.stage, identity.join(","));
        let cached = cache.as_ref().and_then(|c| c.get(&key));
        let answer = match cached {
            Some(a) => a,
            None => {
                let request = self.authorizer_request(route, &t, token, identity.first().cloned());
                let answer = match tokio::time::timeout(AUTHORIZER_TIMEOUT, call(request)).await {
                    Ok(Ok(a)) => a,
                    Ok(Err(AuthorizerError::Unauthorized)) => {
                        return Err(unauthorized(format!(
                            "authorizer `{}` answered Unauthorized",
                            spec.name
                        )));
                    }
                    Ok(Err(AuthorizerError::Failed(e))) => {
                        return Err(GatewayError::new(
                            ResponseType::AuthorizerConfigurationError,
                            format!("authorizer `{}` failed: {e}", spec.name),
                        ));
                    }
                    Err(_) => {
                        return Err(GatewayError::new(
                            ResponseType::AuthorizerConfigurationError,
                            format!(
                                "authorizer `{}` took longer than {AUTHORIZER_TIMEOUT:?}",
                                spec.name
                            ),
                        ));
                    }
                };
                if let Some(r) = answer
                    .statements
                    .iter()
                    .flat_map(|s| &s.resources)
                    .find(|r| r.chars().count() > MAX_POLICY_RESOURCE_CHARS)
                {
                    return Err(GatewayError::new(
                        ResponseType::AuthorizerConfigurationError,
                        format!(
                            "authorizer `{}` answered a policy Resource of {} characters, over {MAX_POLICY_RESOURCE_CHARS}",
                            spec.name,
                            r.chars().count()
                        ),
                    ));
                }
                if answer.approx_size() > custom::MAX_RESULT_BYTES {
                    return Err(GatewayError::new(
                        ResponseType::AuthorizerConfigurationError,
                        format!("authorizer `{}` answered more than 8 KB", spec.name),
                    ));
                }
                let answer = Arc::new(answer);
                if let Some(c) = cache {
                    c.insert(key, answer.clone());
                }
                answer
            }
        };
        // The (possibly cached) policy is applied to this method's ARN, as API Gateway does.
        let verdict = policy::evaluate(&answer.statements, &t.arn);
        let resource_verdict = match &shared.auth.policy {
            Some(p) => p.evaluate(&self.facts(&t, Some(&answer.principal_id)), false),
            None => Verdict::Silent,
        };
        match (verdict, resource_verdict) {
            (Verdict::Deny, _) => {
                return Err(access_denied(
                    flavor,
                    "User is not authorized to access this resource with an explicit deny"
                        .to_owned(),
                ));
            }
            (_, Verdict::Deny) => {
                return Err(policy_denied(flavor, &answer.principal_id, &t.arn, true));
            }
            (Verdict::Allow, _) | (_, Verdict::Allow) => {}
            (Verdict::Silent, Verdict::Silent) => {
                return Err(access_denied(
                    flavor,
                    "User is not authorized to access this resource".to_owned(),
                ));
            }
        }
        let may_invalidate_cache = answer.statements.iter().any(|s| {
            s.allow
                && s.actions
                    .iter()
                    .any(|a| policy::glob(&a.to_ascii_lowercase(), "execute-api:invalidatecache"))
                && s.resources.iter().any(|r| policy::glob(r, &t.arn))
        });
        self.principal = Some(Arc::new(Principal {
            principal_id: answer.principal_id.clone(),
            context: answer
                .context
                .iter()
                .map(|(k, v)| (k.clone(), v.to_text()))
                .collect(),
            usage_identifier_key: answer.usage_identifier_key.clone(),
            may_invalidate_cache,
            ..Principal::default()
        }));
        Ok(())
    }

    fn identity_value(&self, source: &IdentitySourceSpec) -> Option<String> {
        match source.location {
            IdentityLocation::Header => {
                let values: Vec<&str> = self
                    .parts
                    .headers
                    .get_all(source.name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            IdentityLocation::QueryString => crate::mapping::form_pairs(self.parts.uri.query()?)
                .filter(|(k, _)| k == source.name)
                .map(|(_, v)| v)
                .last(),
            IdentityLocation::StageVariable => {
                self.stage().variables.get(source.name).map(str::to_owned)
            }
            IdentityLocation::Context => Some(match source.name {
                "sourceIp" | "identity.sourceIp" => self.remote.ip().to_string(),
                "httpMethod" => self.parts.method.to_string(),
                "stage" => self.stage().name.to_owned(),
                "path" => self.parts.uri.path().to_owned(),
                "requestId" => self.request_id.as_str().to_owned(),
                _ => return None,
            }),
        }
    }

    fn authorizer_request(
        &self,
        route: usize,
        t: &Target,
        token: bool,
        value: Option<String>,
    ) -> AuthorizerRequest {
        let spec = &self.shared.routes[route];
        let mut headers = std::collections::BTreeMap::new();
        let mut query = std::collections::BTreeMap::new();
        let mut path_parameters = std::collections::BTreeMap::new();
        let mut stage_variables = std::collections::BTreeMap::new();
        if !token {
            for (n, v) in &self.parts.headers {
                headers.insert(
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                );
            }
            if let Some(q) = self.parts.uri.query() {
                for (k, v) in crate::mapping::form_pairs(q) {
                    query.insert(k, v);
                }
            }
            let uri_path = self.parts.uri.path();
            for p in spec.params {
                let v = if p.greedy {
                    self.path.decoded_tail(uri_path, self.skip + p.index)
                } else {
                    self.path.segment(uri_path, self.skip + p.index).to_owned()
                };
                path_parameters.insert(p.name.to_owned(), v);
            }
            for (k, v) in self.stage().variables.iter() {
                stage_variables.insert(k.to_owned(), v.to_owned());
            }
        }
        AuthorizerRequest {
            kind: if token { "TOKEN" } else { "REQUEST" },
            authorization_token: if token { value } else { None },
            method_arn: t.arn.clone(),
            resource: spec.resource_path,
            path: self.parts.uri.path().to_owned(),
            http_method: self.parts.method.to_string(),
            headers,
            query_string_parameters: query,
            path_parameters,
            stage_variables,
            source_ip: self.remote.ip().to_string(),
            request_id: self.request_id.as_str().to_owned(),
            stage: self.stage().name,
        }
    }
}

fn sigv4_error(flavor: Flavor, e: &sigv4::SigV4Error) -> GatewayError {
    let kind = match e.response_type() {
        "MISSING_AUTHENTICATION_TOKEN" => return GatewayError::no_route(),
        _ if e.status() == 400 => ResponseType::BadRequest,
        _ => ResponseType::InvalidSignature,
    };
    match flavor {
        Flavor::Rest => GatewayError::with_message(kind, e.message()),
        Flavor::Http => GatewayError::new(kind, e.message()),
    }
}

/// A refused token. A missing scope is 401 on REST APIs (a Cognito authorizer's answer) and
/// 403 `Forbidden` on HTTP APIs (a JWT authorizer's); the challenge says which check failed.
fn jwt_error(flavor: Flavor, e: &jwt::JwtError) -> GatewayError {
    let kind = if e.status() == 403 && flavor == Flavor::Http {
        ResponseType::AccessDenied
    } else {
        ResponseType::Unauthorized
    };
    let mut err = GatewayError::new(kind, e.description().to_owned());
    if let Ok(v) = HeaderValue::from_str(&e.www_authenticate()) {
        err = err.with_header(http::header::WWW_AUTHENTICATE, v);
    }
    err
}
