//! The JWT authorizer's verification core: step 4 of the request lifecycle, used by the
//! [auth module](super) for methods with `auth NAME` where `NAME` is a `type=jwt` authorizer
//! (API Gateway HTTP APIs' `JWT` authorizer, REST APIs' Cognito user-pool authorizer).
//!
//! ```text
//! Authorization: Bearer h.p.s ─► parse ─► alg pinned ─► kid ─► JWKS (cached) ─► signature
//!                                                               │ unknown kid: one refetch,
//!                                                               │ at most one per 10 s
//!                             claims ◄─ scopes ◄─ aud/client_id ◄─ iss ◄─ exp/nbf/iat
//! ```
//!
//! * Only asymmetric algorithms are accepted: `RS256/384/512`, `PS256/384/512`, `ES256/384`.
//!   `none` and the HMAC algorithms (the "HMAC keyed with the public key" confusion) are refused
//!   before any key is looked at, and a token's `alg` must suit its key's `kty`/`crv` (and the
//!   key's own `alg` when the JWKS gives one).
//! * The signing keys come from a file (read at construction, re-read on an unknown `kid`) or an
//!   `https://` URL (fetched on first use or by [`JwtVerifier::prefetch`], cached, refetched on
//!   an unknown `kid`). Loads are rate-limited to one per [`MIN_REFRESH_INTERVAL`] and
//!   coalesced: one load in flight, concurrent requests wait for it. A fetch has API Gateway's
//!   bounds: [`FETCH_TIMEOUT`] for the whole fetch, at most [`MAX_JWKS_BYTES`], status 200.
//! * Time claims are checked against the `now` the caller passes, with the configured leeway;
//!   `iss` must equal the issuer exactly; `aud` (string or array) or `client_id` must name one
//!   of the audiences.
//! * Every refusal is a [`JwtError`]: 401 `invalid_token` (including keys that could not be
//!   fetched — never a 500) or 403 `insufficient_scope`, with API Gateway's
//!   `www-authenticate` challenge. Nothing here panics on any input.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Map, Value};

use crate::clock::Clock;

/// The default clock-skew allowance for `exp`, `nbf` and `iat`: 5 seconds. Small on purpose:
/// API Gateway documents no skew allowance, and a few seconds absorb clock drift between the
/// issuer and the gateway without keeping expired tokens alive noticeably longer.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
/// The least time between two loads of the signing keys (file reads or URL fetches, failed
/// ones included): 10 seconds. Tokens naming unknown keys cannot make the gateway hammer the
/// identity provider.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// How long a JWKS fetch may take, connection and body included (API Gateway's 1500 ms).
pub const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);
/// The largest JWKS accepted, in bytes (API Gateway's 150,000); reading stops beyond it.
pub const MAX_JWKS_BYTES: usize = 150_000;

/// The token algorithms a JWT authorizer accepts: asymmetric ones only.
const ALLOWED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Where the signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file: read when the verifier is built (a missing or bad file is an error then)
    /// and again when a token names an unknown key.
    File(PathBuf),
    /// An `https://` URL (anything else is refused by [`JwtVerifier::new`]): fetched on first
    /// use (or by [`JwtVerifier::prefetch`]), cached, and fetched again when a token names an
    /// unknown key.
    Url(String),
}

/// A JWT authorizer's static configuration (built by the caller from generated constants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// The required `iss`, compared exactly (no trailing-slash folding).
    pub issuer: String,
    /// Accepted audiences: a token passes when its `aud` (a string or an array of strings)
    /// contains one of them, or its `client_id` (Cognito access tokens carry no `aud`) equals
    /// one of them. Empty means no audience check (a REST API Cognito user-pool authorizer
    /// admits every app client of the pool); HTTP API JWT authorizers always list one.
    pub audiences: Vec<String>,
    /// Where the signing keys come from.
    pub jwks: JwksSource,
    /// Clock-skew allowance for `exp`, `nbf` and `iat` ([`DEFAULT_LEEWAY`] via
    /// [`JwtConfig::new`]).
    pub leeway: Duration,
}

impl JwtConfig {
    /// A configuration with the default leeway ([`DEFAULT_LEEWAY`], 5 s).
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>, jwks: JwksSource) -> JwtConfig {
        JwtConfig {
            issuer: issuer.into(),
            audiences,
            jwks,
            leeway: DEFAULT_LEEWAY,
        }
    }
}

/// Why a token was refused.
///
/// Every variant but [`JwtError::InsufficientScope`] is 401 `{"message":"Unauthorized"}` with
/// `www-authenticate: Bearer scope="" error="invalid_token" error_description="…"`, as API
/// Gateway HTTP APIs answer; a scope failure is 403 `{"message":"Forbidden"}` with
/// `error="insufficient_scope"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts, or a header or payload that is not a JSON object.
    Malformed,
    /// `alg` is `none`, an HMAC algorithm or anything else not asymmetric and supported.
    AlgorithmNotAllowed,
    /// The header has no `kid`.
    MissingKeyId,
    /// No key of the JWKS has the token's `kid`, even after a refetch.
    UnknownKeyId,
    /// The key named by `kid` does not sign with the token's `alg` (`kty`, `crv` or the key's
    /// own `alg` disagree).
    KeyAlgorithmMismatch,
    /// The signature does not verify (tampered header, payload or signature).
    InvalidSignature,
    /// The token has no numeric `exp`.
    MissingExpiry,
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `iss` is missing or not the configured issuer.
    InvalidIssuer,
    /// Neither `aud` nor `client_id` names a configured audience.
    InvalidAudience,
    /// The signing keys could not be loaded (unreachable URL, timeout, status not 200, too big,
    /// bad JSON, no usable key). Logged with `tracing::warn` where it happens.
    KeysUnavailable,
    /// The token carries none of the route's scopes (403).
    InsufficientScope {
        /// The route's scopes, one of which was required.
        required: Vec<String>,
    },
}

impl JwtError {
    /// The HTTP status: 403 for [`JwtError::InsufficientScope`], 401 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            JwtError::InsufficientScope { .. } => 403,
            _ => 401,
        }
    }

    /// The body's message: `Forbidden` for a scope failure, `Unauthorized` otherwise.
    pub fn message(&self) -> &'static str {
        match self {
            JwtError::InsufficientScope { .. } => "Forbidden",
            _ => "Unauthorized",
        }
    }

    /// The response body, `{"message":"Unauthorized"}` or `{"message":"Forbidden"}`.
    pub fn body(&self) -> &'static str {
        match self {
            JwtError::InsufficientScope { .. } => r#"{"message":"Forbidden"}"#,
            _ => r#"{"message":"Unauthorized"}"#,
        }
    }

    /// The human-readable reason, as sent in `error_description`.
    pub fn description(&self) -> &str {
        match self {
            JwtError::Malformed => "the token is malformed",
            JwtError::AlgorithmNotAllowed => "the token's algorithm is not allowed",
            JwtError::MissingKeyId => "the token has no key id",
            JwtError::UnknownKeyId => "the token's key id is unknown",
            JwtError::KeyAlgorithmMismatch => "the token's algorithm does not match its key",
            JwtError::InvalidSignature => "the token signature is invalid",
            JwtError::MissingExpiry => "the token has no expiration time",
            JwtError::Expired => "the token has expired",
            JwtError::NotYetValid => "the token is not valid yet",
            JwtError::IssuedInFuture => "the token was issued in the future",
            JwtError::InvalidIssuer => "the token's issuer is not valid",
            JwtError::InvalidAudience => "the token does not have a valid audience",
            JwtError::KeysUnavailable => "signing keys could not be fetched",
            JwtError::InsufficientScope { .. } => "the token does not have a required scope",
        }
    }

    /// The `www-authenticate` value: `Bearer scope="" error="invalid_token"
    /// error_description="…"`, or for a scope failure `Bearer scope="a b"
    /// error="insufficient_scope" error_description="…"`.
    pub fn www_authenticate(&self) -> String {
        let (scope, error) = match self {
            JwtError::InsufficientScope { required } => (required.join(" "), "insufficient_scope"),
            _ => (String::new(), "invalid_token"),
        };
        format!(
            "Bearer scope=\"{}\" error=\"{error}\" error_description=\"{}\"",
            quoted(&scope),
            quoted(self.description())
        )
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for JwtError {}

/// `s` made safe inside a quoted header parameter: `"` and `\` escaped, control characters and
/// non-ASCII dropped (a header value must stay valid whatever the configuration holds).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
    out
}

/// A verified token's claims: its payload, a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// The claims as a JSON object.
    pub fn new(map: Map<String, Value>) -> Claims {
        Claims(map)
    }

    /// One claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// All claims.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// All claims, owned.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// The claims as API Gateway HTTP APIs hand them on (`$context.authorizer.claims.NAME`,
    /// `requestContext.authorizer.jwt.claims`): every value a string. Strings stay as they are,
    /// integers are decimal (`1700000000`, also for whole-number floats), other numbers, `true`,
    /// `false` and `null` are their JSON text, arrays are API Gateway's bracketed,
    /// space-separated form (`["a","b"]` → `[a b]`), objects are their JSON text.
    pub fn stringified(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), stringify(v)))
            .collect()
    }

    /// The token's scopes: the space-separated `scope` claim, then `scp` (a space-separated
    /// string or an array of strings), in order, without duplicates.
    pub fn scopes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            if !s.is_empty() && !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        };
        for name in ["scope", "scp"] {
            match self.0.get(name) {
                Some(Value::String(s)) => s.split_ascii_whitespace().for_each(&mut push),
                Some(Value::Array(items)) => {
                    items.iter().filter_map(Value::as_str).for_each(&mut push)
                }
                _ => {}
            }
        }
        out
    }
}

/// One claim value as API Gateway stringifies it (see [`Claims::stringified`]).
fn stringify(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => (f as i64).to_string(),
                    _ => n.to_string(),
                }
            }
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(stringify).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::Bool(_) | Value::Null | Value::Object(_) => v.to_string(),
    }
}

/// The verifier of one JWT authorizer: its configuration and its cached signing keys.
///
/// Build one per authorizer at start-up and share it (`Arc<JwtVerifier>`); every method takes
/// `&self`.
pub struct JwtVerifier {
    config: JwtConfig,
    fetcher: Fetcher,
    clock: Clock,
    min_refresh_interval: Duration,
    /// The keys in use and the number of loads that have completed (the "generation").
    state: RwLock<KeyState>,
    /// Held by the one load in flight; the others queue on it and reuse its result.
    gate: tokio::sync::Mutex<Gate>,
    loads: AtomicU64,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.snapshot().0;
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.config.issuer)
            .field("audiences", &self.config.audiences)
            .field("jwks", &self.config.jwks)
            .field("leeway", &self.config.leeway)
            .field(
                "keys",
                &keys.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("loads", &self.load_count())
            .finish()
    }
}

#[derive(Default)]
struct KeyState {
    set: Arc<KeySet>,
    generation: u64,
}

#[derive(Default)]
struct Gate {
    /// When the last load started (on `clock`'s monotonic scale), once it completed.
    last_load_nanos: Option<u64>,
    /// Why the last load failed, if it did.
    last_error: Option<String>,
}

/// The usable keys of a JWKS.
#[derive(Default)]
struct KeySet {
    /// False until a load succeeded (a URL source before its first fetch).
    loaded: bool,
    keys: Vec<Key>,
}

struct Key {
    kid: String,
    /// The algorithms this key verifies: the JWK's `alg`, or every allowed one its `kty`/`crv`
    /// suits.
    algorithms: Vec<Algorithm>,
    decoding: DecodingKey,
}

enum Lookup<'a> {
    Found(&'a Key),
    UnknownKid,
    AlgorithmMismatch,
}

impl KeySet {
    fn find(&self, kid: &str, alg: Algorithm) -> Lookup<'_> {
        let mut known = false;
        for key in self.keys.iter().filter(|k| k.kid == kid) {
            known = true;
            if key.algorithms.contains(&alg) {
                return Lookup::Found(key);
            }
        }
        if known {
            Lookup::AlgorithmMismatch
        } else {
            Lookup::UnknownKid
        }
    }
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

enum Fetcher {
    File(PathBuf),
    Https {
        uri: http::Uri,
        /// Trusts the webpki roots plus the extra roots, if any.
        client: Box<HttpsClient>,
    },
}

impl JwtVerifier {
    /// A verifier for `config`.
    ///
    /// `extra_roots`: PEM CA certificates trusted in addition to the webpki roots (for private
    /// issuers and tests); `None` = webpki roots only. A file source is read now (missing,
    /// unreadable, too big, bad JSON or without a usable key is an error); a URL source must be
    /// `https://` with a host and is fetched on first use. Errors are for the operator, at
    /// start-up.
    pub fn new(config: JwtConfig, extra_roots: Option<&[u8]>) -> Result<JwtVerifier, String> {
        if config.issuer.is_empty() {
            return Err("a JWT authorizer needs an issuer".into());
        }
        let clock = Clock::system();
        let (fetcher, initial) = match &config.jwks {
            JwksSource::File(path) => {
                let set = read_jwks_file(path)
                    .and_then(|bytes| parse_jwks(&bytes))
                    .map_err(|e| format!("JWKS file {}: {e}", path.display()))?;
                (Fetcher::File(path.clone()), Some(set))
            }
            JwksSource::Url(url) => {
                let uri: http::Uri = url
                    .parse()
                    .map_err(|e| format!("JWKS URL `{url}` is not a URL: {e}"))?;
                if uri.scheme_str() != Some("https") {
                    return Err(format!("JWKS URL `{url}` must be https://"));
                }
                if uri.host().is_none_or(str::is_empty) {
                    return Err(format!("JWKS URL `{url}` has no host"));
                }
                (
                    Fetcher::Https {
                        uri,
                        client: Box::new(https_client(extra_roots)?),
                    },
                    None,
                )
            }
        };
        let mut gate = Gate::default();
        let mut state = KeyState::default();
        let mut loads = 0;
        if let Some(set) = initial {
            gate.last_load_nanos = Some(clock.monotonic_nanos());
            state = KeyState {
                set: Arc::new(set),
                generation: 1,
            };
            loads = 1;
        }
        Ok(JwtVerifier {
            config,
            fetcher,
            clock,
            min_refresh_interval: MIN_REFRESH_INTERVAL,
            state: RwLock::new(state),
            gate: tokio::sync::Mutex::new(gate),
            loads: AtomicU64::new(loads),
        })
    }

    /// Uses `clock`'s monotonic scale for the refresh rate limit (default: the system clock;
    /// tests pass a manual one). Call before sharing the verifier.
    pub fn with_clock(mut self, clock: Clock) -> JwtVerifier {
        if let Some(last) = self.gate.get_mut().last_load_nanos.as_mut() {
            *last = clock.monotonic_nanos();
        }
        self.clock = clock;
        self
    }

    /// Sets the least time between two loads of the keys (default [`MIN_REFRESH_INTERVAL`],
    /// 10 s).
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> JwtVerifier {
        self.min_refresh_interval = interval;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// How many loads of the keys were attempted (file reads or URL fetches, the one at
    /// construction and failed ones included).
    pub fn load_count(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// The key ids currently cached.
    pub fn key_ids(&self) -> Vec<String> {
        self.snapshot()
            .0
            .keys
            .iter()
            .map(|k| k.kid.clone())
            .collect()
    }

    /// Loads the keys now if none are loaded yet (a URL source at start-up), so the first
    /// request does not wait for the fetch. Subject to the refresh rate limit; the error says
    /// why the keys could not be loaded.
    pub async fn prefetch(&self) -> Result<(), String> {
        let (set, generation) = self.snapshot();
        if set.loaded {
            return Ok(());
        }
        let (set, error) = self.refresh(generation).await;
        if set.loaded {
            Ok(())
        } else {
            Err(error.unwrap_or_else(|| "the signing keys are not loaded yet".into()))
        }
    }

    /// Verifies a bearer token — bare or prefixed with `Bearer ` (any case) — at time `now`,
    /// requiring at least one of `scopes` (empty = no scope check) in the `scope` claim
    /// (space-separated) or `scp` (string or array). Returns the token's claims.
    ///
    /// Runs on the gateway's Tokio runtime (a key fetch uses its timer and I/O).
    pub async fn verify(
        &self,
        token: &str,
        scopes: &[&str],
        now: SystemTime,
    ) -> Result<Claims, JwtError> {
        let parsed = ParsedToken::parse(token)?;
        let keys = self.keys_for(&parsed.kid).await?;
        let key = match keys.find(&parsed.kid, parsed.alg) {
            Lookup::Found(key) => key,
            Lookup::UnknownKid => return Err(JwtError::UnknownKeyId),
            Lookup::AlgorithmMismatch => return Err(JwtError::KeyAlgorithmMismatch),
        };
        verify_signature(parsed.compact, key, parsed.alg)?;
        let claims = Claims(parsed.claims);
        self.check_claims(&claims, now)?;
        if !scopes.is_empty() {
            let have = claims.scopes();
            if !scopes.iter().any(|s| have.iter().any(|h| h == s)) {
                return Err(JwtError::InsufficientScope {
                    required: scopes.iter().map(|s| (*s).to_owned()).collect(),
                });
            }
        }
        Ok(claims)
    }

    /// Time, issuer and audience checks, in that order.
    fn check_claims(&self, claims: &Claims, now: SystemTime) -> Result<(), JwtError> {
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        let leeway = self.config.leeway.as_secs_f64();
        let time = |name: &str| -> Result<Option<f64>, JwtError> {
            match claims.get(name) {
                None => Ok(None),
                Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(JwtError::Malformed),
                Some(_) => Err(JwtError::Malformed),
            }
        };
        let exp = time("exp")?.ok_or(JwtError::MissingExpiry)?;
        if now >= exp + leeway {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = time("nbf")?
            && nbf > now + leeway
        {
            return Err(JwtError::NotYetValid);
        }
        if let Some(iat) = time("iat")?
            && iat > now + leeway
        {
            return Err(JwtError::IssuedInFuture);
        }
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(JwtError::InvalidIssuer);
        }
        if !self.config.audiences.is_empty() {
            let accepted = |v: &Value| {
                v.as_str()
                    .is_some_and(|s| self.config.audiences.iter().any(|a| a == s))
            };
            let by_aud = match claims.get("aud") {
                Some(Value::Array(items)) => items.iter().any(accepted),
                Some(v) => accepted(v),
                None => false,
            };
            if !by_aud && !claims.get("client_id").is_some_and(accepted) {
                return Err(JwtError::InvalidAudience);
            }
        }
        Ok(())
    }

    fn snapshot(&self) -> (Arc<KeySet>, u64) {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        (state.set.clone(), state.generation)
    }

    /// The key set to look `kid` up in: loaded first if need be, reloaded once if `kid` is
    /// unknown (rate limit permitting).
    async fn keys_for(&self, kid: &str) -> Result<Arc<KeySet>, JwtError> {
        let (mut set, generation) = self.snapshot();
        let mut reloaded = false;
        if !set.loaded {
            set = self.refresh(generation).await.0;
            reloaded = true;
            if !set.loaded {
                return Err(JwtError::KeysUnavailable);
            }
        }
        if !reloaded && !set.keys.iter().any(|k| k.kid == kid) {
            let issuer = &self.config.issuer;
            tracing::debug!(kid, %issuer, "JWT names an unknown key: reloading the JWKS");
            set = self.refresh(generation).await.0;
        }
        Ok(set)
    }

    /// Loads the keys unless a load completed since `seen` (then its result is reused) or the
    /// last one started less than the refresh interval ago. Returns the keys in use and, when a
    /// load failed, why.
    async fn refresh(&self, seen: u64) -> (Arc<KeySet>, Option<String>) {
        let mut gate = self.gate.lock().await;
        let (set, generation) = self.snapshot();
        if generation != seen {
            // Another request's load completed while this one waited: coalesced.
            return (set, gate.last_error.clone());
        }
        let started = self.clock.monotonic_nanos();
        let interval = u64::try_from(self.min_refresh_interval.as_nanos()).unwrap_or(u64::MAX);
        if let Some(last) = gate.last_load_nanos
            && started.saturating_sub(last) < interval
        {
            tracing::debug!(issuer = %self.config.issuer, "JWKS reload skipped: rate-limited");
            return (set, gate.last_error.clone());
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        let result = self.load().await;
        // Recorded only once the load completed: a cancelled load does not block the next.
        gate.last_load_nanos = Some(started);
        gate.last_error = result.as_ref().err().cloned();
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.generation += 1;
        match result {
            Ok(set) => {
                tracing::debug!(
                    issuer = %self.config.issuer,
                    keys = set.keys.len(),
                    "JWKS loaded"
                );
                state.set = Arc::new(set);
                (state.set.clone(), None)
            }
            Err(error) => {
                tracing::warn!(
                    issuer = %self.config.issuer,
                    jwks = %self.source_text(),
                    %error,
                    "JWT signing keys could not be loaded"
                );
                (state.set.clone(), Some(error))
            }
        }
    }

    fn source_text(&self) -> String {
        match &self.config.jwks {
            JwksSource::File(p) => p.display().to_string(),
            JwksSource::Url(u) => u.clone(),
        }
    }

    async fn load(&self) -> Result<KeySet, String> {
        match &self.fetcher {
            // A local file of at most 150 kB: read in place, it is quick.
            Fetcher::File(path) => read_jwks_file(path).and_then(|b| parse_jwks(&b)),
            Fetcher::Https { uri, client } => {
                let bytes = tokio::time::timeout(FETCH_TIMEOUT, fetch(uri, client))
                    .await
                    .map_err(|_| {
                        format!("no complete answer within {} ms", FETCH_TIMEOUT.as_millis())
                    })??;
                parse_jwks(&bytes)
            }
        }
    }
}

/// Reads a JWKS file, refusing one bigger than [`MAX_JWKS_BYTES`] without reading it all.
fn read_jwks_file(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_JWKS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!("bigger than {MAX_JWKS_BYTES} bytes"));
    }
    Ok(bytes)
}

/// The HTTPS client (no connection pooling: fetches are rare, a fresh connection never goes
/// stale), trusting the webpki roots and `extra_roots` (when given).
fn https_client(extra_roots: Option<&[u8]>) -> Result<HttpsClient, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = extra_roots {
        let before = roots.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("extra root certificates: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("extra root certificate: {e}"))?;
        }
        if roots.len() == before {
            return Err("extra root certificates: no PEM certificate found".into());
        }
    }
    let tls =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector))
}

/// GETs the JWKS: status 200 and at most [`MAX_JWKS_BYTES`] required.
async fn fetch(uri: &http::Uri, client: &HttpsClient) -> Result<Bytes, String> {
    let request = http::Request::get(uri.clone())
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, "tollgate")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| error_chain(&e))?;
    let status = response.status();
    if status != http::StatusCode::OK {
        return Err(format!("status {}", status.as_u16()));
    }
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
        return Err(format!("bigger than {MAX_JWKS_BYTES} bytes"));
    }
    match Limited::new(response.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
    {
        Ok(body) => Ok(body.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(format!("bigger than {MAX_JWKS_BYTES} bytes"))
        }
        Err(e) => Err(format!("reading the body: {e}")),
    }
}

/// An error and its sources, `: `-separated (hyper's own message is just "client error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The usable signing keys of a JWKS document. Keys that are not for signatures, of another
/// type (`oct` — never HMAC —, `OKP`), on another curve, too small, without `kid` or otherwise
/// broken are skipped; a document left without any key is an error.
fn parse_jwks(bytes: &[u8]) -> Result<KeySet, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(items) = doc.get("keys").and_then(Value::as_array) else {
        return Err("no `keys` array".into());
    };
    let mut keys = Vec::new();
    for item in items {
        match parse_jwk(item) {
            Ok(key) => keys.push(key),
            Err(why) => {
                let kid = item.get("kid").and_then(Value::as_str).unwrap_or("");
                tracing::debug!(kid, why, "JWKS key skipped");
            }
        }
    }
    if keys.is_empty() {
        return Err("no usable signing key (RSA ≥ 2048 bits, EC P-256/P-384, with a kid)".into());
    }
    Ok(KeySet { loaded: true, keys })
}

fn parse_jwk(jwk: &Value) -> Result<Key, &'static str> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = text("kid").ok_or("no kid")?;
    if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return Err("not a signature key (`use`)");
    }
    if let Some(ops) = jwk.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")))
    {
        return Err("not a verification key (`key_ops`)");
    }
    let (suited, decoding): (&[Algorithm], DecodingKey) = match text("kty") {
        Some("RSA") => {
            let n = b64url_decode(text("n").ok_or("no n")?).ok_or("bad n")?;
            let e = b64url_decode(text("e").ok_or("no e")?).ok_or("bad e")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
            if !(2048..=8192).contains(&bits) {
                return Err("RSA modulus not between 2048 and 8192 bits");
            }
            if e.is_empty() {
                return Err("RSA exponent is zero");
            }
            (
                &ALLOWED_ALGORITHMS[..6],
                DecodingKey::from_rsa_raw_components(n, e),
            )
        }
        Some("EC") => {
            let (suited, size): (&[Algorithm], usize) = match text("crv") {
                Some("P-256") => (&[Algorithm::ES256], 32),
                Some("P-384") => (&[Algorithm::ES384], 48),
                _ => return Err("unsupported curve"),
            };
            let x = text("x").ok_or("no x")?;
            let y = text("y").ok_or("no y")?;
            let (Some(xb), Some(yb)) = (b64url_decode(x), b64url_decode(y)) else {
                return Err("bad x or y");
            };
            if xb.len() != size || yb.len() != size {
                return Err("x or y of the wrong size for the curve");
            }
            let decoding = DecodingKey::from_ec_components(x, y).map_err(|_| "bad x or y")?;
            (suited, decoding)
        }
        _ => return Err("unsupported kty"),
    };
    let algorithms = match jwk.get("alg") {
        None => suited.to_vec(),
        Some(alg) => {
            let alg = alg
                .as_str()
                .and_then(allowed_algorithm)
                .ok_or("alg not allowed")?;
            if !suited.contains(&alg) {
                return Err("alg does not suit the key type");
            }
            vec![alg]
        }
    };
    Ok(Key {
        kid: kid.to_owned(),
        algorithms,
        decoding,
    })
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The algorithm named `name`, if it is one a JWT authorizer accepts.
fn allowed_algorithm(name: &str) -> Option<Algorithm> {
    let alg: Algorithm = name.parse().ok()?;
    ALLOWED_ALGORITHMS.contains(&alg).then_some(alg)
}

/// A token taken apart, not yet verified.
#[derive(Debug)]
struct ParsedToken<'a> {
    /// The compact serialization, `Bearer ` and surrounding whitespace removed.
    compact: &'a str,
    alg: Algorithm,
    kid: String,
    claims: Map<String, Value>,
}

impl<'a> ParsedToken<'a> {
    fn parse(token: &'a str) -> Result<ParsedToken<'a>, JwtError> {
        let mut compact = token.trim();
        if compact.len() >= 7 && compact.as_bytes()[..7].eq_ignore_ascii_case(b"bearer ") {
            // The first 7 bytes are ASCII, so 7 is a char boundary.
            compact = compact[7..].trim_start();
        }
        let mut parts = compact.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let object = |part: &str| -> Result<Map<String, Value>, JwtError> {
            let bytes = b64url_decode(part).ok_or(JwtError::Malformed)?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(JwtError::Malformed),
            }
        };
        let header = object(header)?;
        let alg = match header.get("alg") {
            Some(Value::String(name)) => {
                allowed_algorithm(name).ok_or(JwtError::AlgorithmNotAllowed)?
            }
            _ => return Err(JwtError::Malformed),
        };
        let claims = object(payload)?;
        if signature.is_empty() || b64url_decode(signature).is_none() {
            return Err(JwtError::Malformed);
        }
        let kid = match header.get("kid") {
            Some(Value::String(kid)) => kid.clone(),
            None => return Err(JwtError::MissingKeyId),
            Some(_) => return Err(JwtError::Malformed),
        };
        Ok(ParsedToken {
            compact,
            alg,
            kid,
            claims,
        })
    }
}

/// Checks the signature with `jsonwebtoken`, allowing exactly the token's (already vetted)
/// algorithm and none of its claim checks (ours use the injected time).
fn verify_signature(compact: &str, key: &Key, alg: Algorithm) -> Result<(), JwtError> {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    match jsonwebtoken::decode::<serde::de::IgnoredAny>(compact, &key.decoding, &validation) {
        Ok(_) => Ok(()),
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind;
            Err(match e.kind() {
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    JwtError::KeyAlgorithmMismatch
                }
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => JwtError::Malformed,
                _ => JwtError::InvalidSignature,
            })
        }
    }
}

/// Decodes unpadded base64url (RFC 7515), refusing padding, other alphabets and non-zero
/// trailing bits.
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in bytes {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

    fn token(header: &str, payload: &str, sig: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url(header.as_bytes()),
            b64url(payload.as_bytes()),
            sig
        )
    }

    #[test]
    fn base64url_round_trips_and_refuses_bad_input() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(b64url_decode(&b64url(&data)).as_deref(), Some(&data[..]));
        }
        assert_eq!(b64url_decode("AA=="), None, "padding");
        assert_eq!(b64url_decode("A+/A"), None, "standard alphabet");
        assert_eq!(b64url_decode("A"), None, "impossible length");
        assert_eq!(b64url_decode("AB"), None, "non-zero trailing bits");
        assert_eq!(b64url_decode("AA"), Some(vec![0]));
        assert_eq!(b64url_decode("é"), None);
    }

    #[test]
    fn parse_refuses_malformed_tokens() {
        let ok_header = r#"{"alg":"RS256","kid":"k"}"#;
        let cases = [
            String::new(),
            "Bearer ".into(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{}..c2ln", b64url(ok_header.as_bytes())),
            token("not json", "{}", "c2ln"),
            token("[1]", "{}", "c2ln"),
            token(ok_header, "not json", "c2ln"),
            token(ok_header, "\"string\"", "c2ln"),
            token(ok_header, "{}", ""),
            token(ok_header, "{}", "c2ln="),
            token(r#"{"kid":"k"}"#, "{}", "c2ln"),
            token(r#"{"alg":5,"kid":"k"}"#, "{}", "c2ln"),
            token(r#"{"alg":"RS256","kid":5}"#, "{}", "c2ln"),
            "é.é.é".into(),
            "Bearer\u{00e9}x.y.z".into(),
        ];
        for case in cases {
            assert_eq!(
                ParsedToken::parse(&case).map(|_| ()),
                Err(JwtError::Malformed),
                "{case:?}"
            );
        }
    }

    #[test]
    fn parse_pins_algorithms_before_anything_else() {
        for alg in [
            "none", "None", "HS256", "HS384", "HS512", "EdDSA", "RSA-OAEP", "ES512",
        ] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert_eq!(
                ParsedToken::parse(&token(&header, "{}", "")).map(|_| ()),
                Err(JwtError::AlgorithmNotAllowed),
                "{alg}"
            );
        }
        let t = token(r#"{"alg":"ES256"}"#, "{}", "c2ln");
        assert_eq!(
            ParsedToken::parse(&t).map(|_| ()),
            Err(JwtError::MissingKeyId)
        );
    }

    #[test]
    fn parse_accepts_bearer_prefix_in_any_case() {
        let t = token(r#"{"alg":"PS384","kid":"k1"}"#, r#"{"a":1}"#, "c2ln");
        for prefixed in [
            t.clone(),
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("BEARER   {t} "),
        ] {
            let p = ParsedToken::parse(&prefixed).expect("parses");
            assert_eq!(p.compact, t);
            assert_eq!(p.alg, Algorithm::PS384);
            assert_eq!(p.kid, "k1");
            assert_eq!(p.claims["a"], 1);
        }
    }

    #[test]
    fn stringified_claims_follow_api_gateway() {
        let claims = Claims(
            serde_json::from_str(
                r#"{"s":"x y","i":1700000000,"f":1.5,"w":2.0,"neg":-3,"b":true,"n":null,
                    "groups":["admin","users"],"nested":[1,["a"]],"o":{"k":"v"},"e":[]}"#,
            )
            .unwrap(),
        );
        let s: std::collections::HashMap<_, _> = claims.stringified().into_iter().collect();
        assert_eq!(s["s"], "x y");
        assert_eq!(s["i"], "1700000000");
        assert_eq!(s["f"], "1.5");
        assert_eq!(s["w"], "2");
        assert_eq!(s["neg"], "-3");
        assert_eq!(s["b"], "true");
        assert_eq!(s["n"], "null");
        assert_eq!(s["groups"], "[admin users]");
        assert_eq!(s["nested"], "[1 [a]]");
        assert_eq!(s["o"], r#"{"k":"v"}"#);
        assert_eq!(s["e"], "[]");
    }

    #[test]
    fn scopes_come_from_scope_and_scp() {
        let c = |json: &str| Claims(serde_json::from_str(json).unwrap()).scopes();
        assert_eq!(c(r#"{"scope":"a  b a"}"#), ["a", "b"]);
        assert_eq!(c(r#"{"scp":["x","y",3]}"#), ["x", "y"]);
        assert_eq!(c(r#"{"scp":"x y"}"#), ["x", "y"]);
        assert_eq!(c(r#"{"scope":"a","scp":["a","b"]}"#), ["a", "b"]);
        assert!(c(r#"{"scope":5}"#).is_empty());
    }

    #[test]
    fn errors_render_api_gateway_challenges() {
        let e = JwtError::Expired;
        assert_eq!(e.status(), 401);
        assert_eq!(e.body(), r#"{"message":"Unauthorized"}"#);
        assert_eq!(
            e.www_authenticate(),
            r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#
        );
        let e = JwtError::InsufficientScope {
            required: vec!["read".into(), "we\"ird\n".into()],
        };
        assert_eq!(e.status(), 403);
        assert_eq!(e.message(), "Forbidden");
        assert_eq!(
            e.www_authenticate(),
            r#"Bearer scope="read we\"ird" error="insufficient_scope" error_description="the token does not have a required scope""#
        );
        assert!(http::HeaderValue::from_str(&e.www_authenticate()).is_ok());
        assert_eq!(JwtError::KeysUnavailable.status(), 401);
        assert_eq!(
            JwtError::KeysUnavailable.to_string(),
            "signing keys could not be fetched"
        );
    }

    fn ec_jwk(kid: &str, crv: &str, size: usize, extra: &str) -> String {
        let coord = b64url(&vec![7u8; size]);
        format!(r#"{{"kty":"EC","kid":"{kid}","crv":"{crv}","x":"{coord}","y":"{coord}"{extra}}}"#)
    }

    fn rsa_jwk(kid: &str, bits: usize, extra: &str) -> String {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0xc1;
        format!(
            r#"{{"kty":"RSA","kid":"{kid}","n":"{}","e":"AQAB"{extra}}}"#,
            b64url(&n)
        )
    }

    #[test]
    fn jwks_keeps_only_usable_signing_keys() {
        let doc = format!(
            r#"{{"keys":[{},{},{},{},{},{},{},{},{},{},{},{}]}}"#,
            rsa_jwk("rsa", 2048, ""),
            rsa_jwk("rsa-ps", 3072, r#","alg":"PS256","use":"sig""#),
            rsa_jwk("small", 1024, ""),
            rsa_jwk("enc", 2048, r#","use":"enc""#),
            rsa_jwk("hs", 2048, r#","alg":"HS256""#),
            rsa_jwk("mismatch", 2048, r#","alg":"ES256""#),
            ec_jwk("p256", "P-256", 32, ""),
            ec_jwk("p384", "P-384", 48, r#","key_ops":["verify"]"#),
            ec_jwk("short", "P-256", 31, ""),
            ec_jwk("p521", "P-521", 66, ""),
            r#"{"kty":"oct","kid":"oct","k":"c2VjcmV0"}"#,
            r#"{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AAAA"}"#,
        );
        let set = parse_jwks(doc.as_bytes()).expect("usable keys");
        let kids: Vec<_> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["rsa", "rsa-ps", "p256", "p384"]);
        assert_eq!(set.keys[0].algorithms.len(), 6);
        assert_eq!(set.keys[1].algorithms, [Algorithm::PS256]);
        assert_eq!(set.keys[2].algorithms, [Algorithm::ES256]);
        assert_eq!(set.keys[3].algorithms, [Algorithm::ES384]);
        assert!(matches!(
            set.find("p256", Algorithm::RS256),
            Lookup::AlgorithmMismatch
        ));
        assert!(matches!(
            set.find("nope", Algorithm::RS256),
            Lookup::UnknownKid
        ));
        assert!(matches!(
            set.find("rsa", Algorithm::PS512),
            Lookup::Found(_)
        ));

        for bad in [
            "",
            "[]",
            "{}",
            r#"{"keys":{}}"#,
            r#"{"keys":[]}"#,
            r#"{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}"#,
        ] {
            assert!(parse_jwks(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    fn file_config(path: PathBuf) -> JwtConfig {
        JwtConfig::new("https://issuer", vec!["aud".into()], JwksSource::File(path))
    }

    #[test]
    fn new_refuses_bad_sources() {
        let url = |u: &str| {
            JwtVerifier::new(
                JwtConfig::new("https://issuer", vec![], JwksSource::Url(u.into())),
                None,
            )
            .map(|_| ())
        };
        assert!(
            url("http://example.com/jwks.json")
                .unwrap_err()
                .contains("https://")
        );
        assert!(url("example.com/jwks.json").is_err());
        assert!(url("not a url").is_err());
        assert!(url("https://example.com/.well-known/jwks.json").is_ok());
        let bad_roots = JwtVerifier::new(
            JwtConfig::new(
                "https://issuer",
                vec![],
                JwksSource::Url("https://example.com/jwks".into()),
            ),
            Some(b"not a certificate"),
        );
        assert!(bad_roots.unwrap_err().contains("extra root"));

        let missing = JwtVerifier::new(file_config("/nonexistent/jwks.json".into()), None);
        assert!(missing.unwrap_err().contains("/nonexistent/jwks.json"));

        let dir = std::env::temp_dir().join(format!("tollgate-jwt-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        assert!(JwtVerifier::new(file_config(bad.clone()), None).is_err());
        std::fs::write(&bad, vec![b' '; MAX_JWKS_BYTES + 1]).unwrap();
        assert!(
            JwtVerifier::new(file_config(bad.clone()), None)
                .unwrap_err()
                .contains("bigger")
        );
        let good = dir.join("good.json");
        std::fs::write(
            &good,
            format!(r#"{{"keys":[{}]}}"#, ec_jwk("k", "P-256", 32, "")),
        )
        .unwrap();
        let v = JwtVerifier::new(file_config(good), None).expect("loads");
        assert_eq!(v.key_ids(), ["k"]);
        assert_eq!(v.load_count(), 1);
        assert!(format!("{v:?}").contains("https://issuer"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn unreachable_url_is_a_401_and_rate_limited() {
        // Port 9 on localhost: nothing listens, the connection is refused at once.
        let v = JwtVerifier::new(
            JwtConfig::new(
                "https://issuer",
                vec![],
                JwksSource::Url("https://127.0.0.1:9/jwks.json".into()),
            ),
            None,
        )
        .unwrap();
        let t = token(r#"{"alg":"ES256","kid":"k"}"#, "{}", "c2ln");
        let now = SystemTime::now();
        assert_eq!(v.verify(&t, &[], now).await, Err(JwtError::KeysUnavailable));
        assert_eq!(v.verify(&t, &[], now).await, Err(JwtError::KeysUnavailable));
        assert_eq!(v.load_count(), 1, "the second request is rate-limited");
        assert!(v.prefetch().await.is_err());
    }
}
