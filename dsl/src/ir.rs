//! The intermediate representation: plain data every front end produces and codegen consumes.
//!
//! Nothing here names a `kdl`, `syn` or `serde_yaml` type. Every node keeps the [`Span`] of the
//! source it came from so later stages can point at the user's line. The IR is `serde`
//! serialisable: `tollgate check --emit ir` prints it and tests snapshot it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A byte range in the source file a node came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

impl Span {
    /// A span from a byte offset and a length.
    pub const fn new(offset: usize, len: usize) -> Self {
        Span { offset, len }
    }

    /// The sub-span `start..start+len` of this span (clamped to it).
    pub fn sub(self, start: usize, len: usize) -> Span {
        let start = start.min(self.len);
        Span::new(self.offset + start, len.min(self.len - start))
    }
}

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `value` with `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// Which family of API Gateway defaults and answers an API follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// REST APIs (v1): unknown routes answer 403 `Missing Authentication Token`, timeouts 504.
    Rest,
    /// HTTP APIs (v2): unknown routes answer 404 `Not Found`, timeouts 503.
    Http,
}

impl Flavor {
    /// The default integration timeout in milliseconds (REST 29 s, HTTP 30 s).
    pub const fn default_timeout_ms(self) -> u64 {
        match self {
            Flavor::Rest => 29_000,
            Flavor::Http => 30_000,
        }
    }

    /// The largest integration timeout the API may raise its limit to (REST 300 s, HTTP 30 s).
    pub const fn hard_max_timeout_ms(self) -> u64 {
        match self {
            Flavor::Rest => 300_000,
            Flavor::Http => 30_000,
        }
    }
}

/// Smallest integration timeout API Gateway accepts, in milliseconds.
pub const MIN_TIMEOUT_MS: u64 = 50;

/// A cached answer's default time to live, in seconds (API Gateway's).
pub const DEFAULT_CACHE_TTL: u64 = 300;

/// The longest time to live of a cached answer, in seconds (API Gateway's).
pub const MAX_CACHE_TTL: u64 = 3600;

/// One API: what one `api` node (or one `#[api]` block) describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Api {
    /// The API's name; also the generated file's name (`OUT_DIR/<name>.rs`).
    pub name: Spanned<String>,
    /// REST or HTTP answers and defaults.
    pub flavor: Flavor,
    /// The largest integration timeout routes may use, in ms. Defaults to the flavour's default
    /// timeout; REST APIs may raise it to 300 s as API Gateway allows for regional APIs.
    pub max_integration_timeout_ms: Spanned<u64>,
    /// Deployment stages, each mounted at `/{stage}/…` by default.
    pub stages: Vec<Stage>,
    /// Models (JSON Schema draft 4), user-declared ones first, then the defaults `Empty` and
    /// `Error` unless the user declared a model of that name.
    pub models: Vec<Model>,
    /// The API-wide request validator (`validator …` on `api`); `None` validates nothing.
    pub validator: Option<Spanned<Validator>>,
    /// `validation-errors detailed`: an invalid body is answered with every violation and its
    /// JSON pointer instead of only `Invalid request body` (a tollgate extension; off by default).
    pub detailed_validation_errors: bool,
    /// Every method of every resource, flattened, in source order.
    pub routes: Vec<Route>,
    /// Customised gateway responses (`gateway-response TYPE …`), in source order.
    pub gateway_responses: Vec<GatewayResponse>,
    /// The account-level throttle (`throttle` on `api`), shared by every stage and method;
    /// `None`: no account limit (API Gateway's per-account default does not apply off AWS).
    pub throttle: Option<Throttle>,
    /// Where methods that require an API key read it (`api-key-source`); `None` is the default,
    /// the `x-api-key` header.
    pub api_key_source: Option<Spanned<ApiKeySource>>,
    /// Usage plans: per-key throttles and quotas for API keys, bound to stages.
    pub usage_plans: Vec<UsagePlan>,
    /// Authorizers methods name with `auth NAME` (custom, JWT), in source order.
    pub authorizers: Vec<Authorizer>,
    /// The resource policy (`resource-policy`): allow/deny statements evaluated before any
    /// authorizer. `None`: no policy, every request passes this step.
    pub resource_policy: Option<ResourcePolicy>,
    /// The API-wide CORS configuration (`cors` on `api`); resources may override it.
    pub cors: Option<Cors>,
    /// The span of the whole `api` node.
    pub span: Span,
}

/// Where a method that requires an API key reads it (API Gateway's `apiKeySource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeySource {
    /// The `x-api-key` request header (any case).
    #[default]
    Header,
    /// The `usageIdentifierKey` a custom authorizer returns.
    Authorizer,
}

impl ApiKeySource {
    /// The spelling in the language.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiKeySource::Header => "header",
            ApiKeySource::Authorizer => "authorizer",
        }
    }
}

/// A usage plan (`usage-plan NAME { … }`): limits every API key in the plan gets, on the
/// stages the plan is bound to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlan {
    /// The plan's name; API keys name their plans by it (`UsagePlanIds` in an import file).
    pub name: Spanned<String>,
    /// The per-key token bucket, shared by every stage and method of the plan.
    pub throttle: Option<Throttle>,
    /// The per-key request quota.
    pub quota: Option<Quota>,
    /// The stages the plan applies to, with per-method throttles.
    pub stages: Vec<PlanStage>,
    /// The span of the `usage-plan` node.
    pub span: Span,
}

/// A stage a usage plan is bound to (API Gateway's `apiStages` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStage {
    /// The stage name.
    pub name: Spanned<String>,
    /// Per-key, per-method throttles (`"/path/METHOD"` entries), replacing the plan's
    /// throttle for that method.
    pub method_throttles: Vec<MethodThrottle>,
    /// The span of the node.
    pub span: Span,
}

/// A usage plan's quota: at most `limit` requests per key per `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    /// Requests per period.
    pub limit: Spanned<u64>,
    /// The period.
    pub period: Spanned<QuotaPeriod>,
    /// Requests subtracted from the limit in a key's first period.
    pub offset: Option<Spanned<u64>>,
    /// The span of the `quota` node.
    pub span: Span,
}

/// The period a quota counts over, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaPeriod {
    /// A calendar day, from 00:00 UTC.
    Day,
    /// A week, from Monday 00:00 UTC.
    Week,
    /// A calendar month, from the 1st, 00:00 UTC.
    Month,
}

impl QuotaPeriod {
    /// Every period.
    pub const ALL: [QuotaPeriod; 3] = [QuotaPeriod::Day, QuotaPeriod::Week, QuotaPeriod::Month];

    /// The spelling in the language.
    pub const fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Week => "week",
            QuotaPeriod::Month => "month",
        }
    }

    /// Parses the language's spelling.
    pub fn parse(s: &str) -> Option<QuotaPeriod> {
        QuotaPeriod::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A stage: a name and its stage variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The stage name, the first path segment it is served under.
    pub name: Spanned<String>,
    /// Stage variables in source order.
    pub variables: Vec<StageVariable>,
    /// The stage's default method throttle (API Gateway's `*/*` method setting): every method
    /// of the stage gets its own bucket with these limits.
    pub throttle: Option<Throttle>,
    /// Per-method throttles (`{resourcePath}/{httpMethod}` method settings).
    pub method_throttles: Vec<MethodThrottle>,
    /// The stage's response cache (`cache capacity=… ttl=…`); `None`: no caching.
    pub cache: Option<StageCache>,
    /// The span of the `stage` node.
    pub span: Span,
}

/// A stage's response cache (API Gateway's stage cache cluster and its `*/*` method settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCache {
    /// Capacity in bytes (bodies and headers of the cached answers).
    pub capacity: Spanned<u64>,
    /// Default time to live in seconds (300; 0 turns caching off; at most 3600).
    pub ttl: Spanned<u64>,
    /// Whether `Cache-Control: max-age=0` needs authorization to invalidate (default `true`).
    pub require_authorization: bool,
    /// What an unauthorized invalidation gets (default `succeed-with-response-header`).
    pub unauthorized: Spanned<UnauthorizedCacheControl>,
    /// The span of the `cache` node.
    pub span: Span,
}

/// API Gateway's `unauthorizedCacheControlHeaderStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnauthorizedCacheControl {
    /// `FAIL_WITH_403`: the request is refused.
    FailWith403,
    /// `SUCCEED_WITH_RESPONSE_HEADER`: the header is ignored and the answer says so.
    #[default]
    SucceedWithResponseHeader,
    /// `SUCCEED_WITHOUT_RESPONSE_HEADER`: the header is ignored silently.
    SucceedWithoutResponseHeader,
}

impl UnauthorizedCacheControl {
    /// Every strategy.
    pub const ALL: [UnauthorizedCacheControl; 3] = [
        UnauthorizedCacheControl::FailWith403,
        UnauthorizedCacheControl::SucceedWithResponseHeader,
        UnauthorizedCacheControl::SucceedWithoutResponseHeader,
    ];

    /// The spelling in the language.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnauthorizedCacheControl::FailWith403 => "fail-with-403",
            UnauthorizedCacheControl::SucceedWithResponseHeader => "succeed-with-response-header",
            UnauthorizedCacheControl::SucceedWithoutResponseHeader => {
                "succeed-without-response-header"
            }
        }
    }

    /// Parses the language's spelling.
    pub fn parse(s: &str) -> Option<UnauthorizedCacheControl> {
        UnauthorizedCacheControl::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

/// A method's cache settings (`cache` in a method): overrides of the stage's and the cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodCache {
    /// `enabled=`; `None`: cached when the stage caches and the method is GET, or when this
    /// node is written on another method (writing it opts the method in).
    pub enabled: Option<Spanned<bool>>,
    /// `ttl=` seconds, replacing the stage's.
    pub ttl: Option<Spanned<u64>>,
    /// `require-authorization=`, replacing the stage's.
    pub require_authorization: Option<bool>,
    /// `unauthorized=`, replacing the stage's.
    pub unauthorized: Option<Spanned<UnauthorizedCacheControl>>,
    /// Request parameters in the cache key (`cacheKeyParameters`), in order.
    pub keys: Vec<CacheKey>,
    /// The span of the `cache` node.
    pub span: Span,
}

/// A request parameter of the cache key (`method.request.querystring.type` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Where it is read.
    pub location: ParamLocation,
    /// Its name (case-sensitive for query strings, as API Gateway).
    pub name: String,
    /// The span of the `key` argument.
    pub span: Span,
}

impl Stage {
    /// The value of the stage variable `name`, if the stage defines it.
    pub fn variable(&self, name: &str) -> Option<&StageVariable> {
        self.variables.iter().find(|v| v.name.value == name)
    }
}

/// One stage variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageVariable {
    /// Its name (alphanumerics and `_`).
    pub name: Spanned<String>,
    /// Its value.
    pub value: Spanned<String>,
}

/// HTTP methods a route can be declared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
    /// `OPTIONS`
    Options,
    /// `ANY`: every method not declared explicitly on the same resource.
    Any,
}

impl Method {
    /// Every method name the language accepts.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
        Method::Any,
    ];

    /// The upper-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    /// Parses an upper-case method name.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One method on one resource, with its integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The method.
    pub method: Spanned<Method>,
    /// The full resource path, e.g. `/pets/{petId}`.
    pub path: PathTemplate,
    /// What answers the request.
    pub integration: Integration,
    /// Request models, required parameters and the validator of this method.
    pub request: RequestSpec,
    /// `api-key-required`: requests need a valid API key in a usage plan bound to the stage.
    /// The span of the node, `None` when no key is required.
    pub api_key_required: Option<Span>,
    /// The method's cache settings and cache key (`cache …`).
    pub cache: Option<MethodCache>,
    /// How callers authenticate (`auth NAME|iam|none`); `None`: open (API Gateway's `NONE`).
    pub auth: Option<RouteAuth>,
    /// The CORS configuration of the method's resource (`cors` in a `resource`, inherited by
    /// nested resources); `None`: the API-wide one, if any.
    pub cors: Option<Cors>,
    /// The span of the method node.
    pub span: Span,
}

/// A model: a named JSON Schema (draft 4) for request bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The model name (`Pet`); other models reference it with API Gateway's model URL
    /// `https://apigateway.amazonaws.com/restapis/{id}/models/Pet`.
    pub name: Spanned<String>,
    /// The schema document.
    pub schema: serde_json::Value,
    /// Where the schema came from.
    pub origin: ModelOrigin,
    /// The span of the `model` node (or of the `api` name for the default models).
    pub span: Span,
}

/// Where a model's schema was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ModelOrigin {
    /// `schema=…` in the KDL file; the span is the string's.
    Inline {
        /// The span of the schema string.
        span: Span,
    },
    /// `schema-file=…`, resolved relative to the KDL file.
    File {
        /// The path as written.
        path: String,
        /// The span of the path string.
        span: Span,
    },
    /// One of API Gateway's default models (`Empty`, `Error`).
    Default,
}

impl ModelOrigin {
    /// The span diagnostics about the schema should point at.
    pub fn span(&self, fallback: Span) -> Span {
        match self {
            ModelOrigin::Inline { span } | ModelOrigin::File { span, .. } => *span,
            ModelOrigin::Default => fallback,
        }
    }
}

/// Which parts of a request API Gateway validates (its three validator presets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// Parameters and body (`validateRequestParameters` and `validateRequestBody`).
    All,
    /// Required parameters only.
    ParamsOnly,
    /// The body only.
    BodyOnly,
    /// Nothing (overrides an API-wide validator for one method).
    None,
}

impl Validator {
    /// Every preset name.
    pub const ALL: [Validator; 4] = [
        Validator::All,
        Validator::ParamsOnly,
        Validator::BodyOnly,
        Validator::None,
    ];

    /// The name used in the language.
    pub const fn as_str(self) -> &'static str {
        match self {
            Validator::All => "all",
            Validator::ParamsOnly => "params-only",
            Validator::BodyOnly => "body-only",
            Validator::None => "none",
        }
    }

    /// Parses a preset name.
    pub fn parse(s: &str) -> Option<Validator> {
        Validator::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether required parameters are checked.
    pub const fn params(self) -> bool {
        matches!(self, Validator::All | Validator::ParamsOnly)
    }

    /// Whether the body is checked against its model.
    pub const fn body(self) -> bool {
        matches!(self, Validator::All | Validator::BodyOnly)
    }
}

/// What a method declares about its requests (API Gateway's method request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSpec {
    /// `requestModels`: content type (or `$default`) → model name.
    pub models: Vec<RequestModel>,
    /// `requestParameters`.
    pub parameters: Vec<RequestParameter>,
    /// This method's validator; `None` uses the API's.
    pub validator: Option<Spanned<Validator>>,
}

/// One entry of a method's request models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestModel {
    /// The MIME type it applies to (`application/json` by default), or `$default`.
    pub content_type: Spanned<String>,
    /// The model name.
    pub model: Spanned<String>,
}

/// Where a request parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// `method.request.header.NAME` (names compare case-insensitively, as HTTP headers do).
    Header,
    /// `method.request.path.NAME`
    Path,
    /// `method.request.querystring.NAME` (case-sensitive)
    Querystring,
}

impl ParamLocation {
    /// The location's name in `method.request.<location>.<name>`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Header => "header",
            ParamLocation::Path => "path",
            ParamLocation::Querystring => "querystring",
        }
    }
}

/// A declared request parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestParameter {
    /// Where it is read from.
    pub location: ParamLocation,
    /// Its name.
    pub name: String,
    /// Whether a validator with parameter checks requires it (present and non-blank).
    pub required: bool,
    /// The span of the parameter's key.
    pub span: Span,
}

/// A resource path template: literal segments, `{param}` and a trailing greedy `{proxy+}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathTemplate {
    /// The segments, root first. Empty for the root resource `/`.
    pub segments: Vec<Segment>,
}

impl PathTemplate {
    /// The path parameters in order of appearance.
    pub fn params(&self) -> impl Iterator<Item = (&Segment, &str)> {
        self.segments.iter().filter_map(|s| match &s.kind {
            SegmentKind::Literal { .. } => None,
            SegmentKind::Param { name, .. } | SegmentKind::Greedy { name } => {
                Some((s, name.as_str()))
            }
        })
    }

    /// The segment declaring parameter `name`, if any.
    pub fn param(&self, name: &str) -> Option<&Segment> {
        self.params().find(|(_, n)| *n == name).map(|(s, _)| s)
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for s in &self.segments {
            f.write_str("/")?;
            match &s.kind {
                SegmentKind::Literal { text } => f.write_str(text)?,
                SegmentKind::Param { name, .. } => write!(f, "{{{name}}}")?,
                SegmentKind::Greedy { name } => write!(f, "{{{name}+}}")?,
            }
        }
        Ok(())
    }
}

/// One path segment and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// What the segment matches.
    pub kind: SegmentKind,
    /// Where it was written.
    pub span: Span,
}

/// What a path segment matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SegmentKind {
    /// Exactly this text (compared after percent-decoding).
    Literal {
        /// The text.
        text: String,
    },
    /// One non-empty segment, bound to `name` and parsed as `ty`.
    Param {
        /// The parameter name.
        name: String,
        /// The type the handler receives it as.
        ty: ParamType,
    },
    /// One or more segments (`{name+}`); only as the last segment.
    Greedy {
        /// The parameter name.
        name: String,
    },
}

/// The Rust type a path parameter is handed to a handler as. Declared with
/// `param NAME type=…` inside the resource; `string` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// `String` (the default).
    String,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f64`
    F64,
    /// `bool`
    Bool,
}

impl ParamType {
    /// Every accepted type name.
    pub const ALL: [ParamType; 7] = [
        ParamType::String,
        ParamType::I32,
        ParamType::I64,
        ParamType::U32,
        ParamType::U64,
        ParamType::F64,
        ParamType::Bool,
    ];

    /// The name used in the language (and in Rust).
    pub const fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::I32 => "i32",
            ParamType::I64 => "i64",
            ParamType::U32 => "u32",
            ParamType::U64 => "u64",
            ParamType::F64 => "f64",
            ParamType::Bool => "bool",
        }
    }

    /// Parses a type name.
    pub fn parse(s: &str) -> Option<ParamType> {
        ParamType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What answers a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Integration {
    /// An in-process async Rust function: API Gateway's Lambda proxy integration, done natively.
    Handler {
        /// The handler method name on the generated trait.
        name: Spanned<String>,
        /// The span of the `integration` node.
        span: Span,
    },
    /// Forward the request to an upstream URI (API Gateway's `HTTP_PROXY`).
    HttpProxy {
        /// The URI template: `${stageVariables.x}` and `{param}` are substituted per request.
        uri: Spanned<UriTemplate>,
        /// Integration timeout in ms; `None` means the flavour's default.
        timeout_ms: Option<Spanned<u64>>,
        /// The span of the `integration` node.
        span: Span,
    },
    /// A fixed answer (API Gateway's `MOCK` integration). With `response` children it is API
    /// Gateway's templated mock: the request template's `statusCode` picks the integration
    /// response, whose template renders the body.
    Mock {
        /// Status code of the fixed answer.
        status: Spanned<u16>,
        /// Response headers in order.
        headers: Vec<Header>,
        /// Response body.
        body: String,
        /// What happens when no request template matches the content type.
        passthrough: Passthrough,
        /// Request templates by content type.
        request_templates: Vec<MappingTemplate>,
        /// Integration responses; empty for the fixed answer.
        responses: Vec<IntegrationResponse>,
        /// The span of the `integration` node.
        span: Span,
    },
    /// A non-proxy HTTP integration (API Gateway's `HTTP`): the request is rebuilt from
    /// parameter mappings and a request template, and the answer goes through integration
    /// responses.
    Http {
        /// The URI template (`{name}` from `integration.request.path.name` or the route's path
        /// parameter of that name; `${stageVariables.x}`).
        uri: Spanned<UriTemplate>,
        /// The integration's HTTP method (`http-method=`); `None` keeps the request's.
        http_method: Option<Spanned<String>>,
        /// Integration timeout in ms; `None` means the flavour's default.
        timeout_ms: Option<Spanned<u64>>,
        /// What happens when no request template matches the content type.
        passthrough: Passthrough,
        /// `integration.request.*` parameter mappings.
        parameters: Vec<ParameterMapping>,
        /// Request templates by content type.
        request_templates: Vec<MappingTemplate>,
        /// Integration responses.
        responses: Vec<IntegrationResponse>,
        /// The span of the `integration` node.
        span: Span,
    },
}

/// A token bucket: `rate` requests per second refill it, `burst` is its capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// Requests per second (may be fractional).
    pub rate: Spanned<f64>,
    /// Bucket capacity: requests accepted at once.
    pub burst: Spanned<u64>,
    /// The span of the `throttle` node.
    pub span: Span,
}

/// `throttle "/path" METHOD rate=… burst=…` inside a `stage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodThrottle {
    /// The resource path as written (matched against the routes' paths).
    pub path: Spanned<String>,
    /// The method (`ANY` matches the `ANY` route).
    pub method: Spanned<Method>,
    /// The limits.
    pub throttle: Throttle,
}

impl MethodThrottle {
    /// The path as routes print theirs (`Route::path.to_string()`): no trailing `/`, the root
    /// as `/`.
    pub fn route_path(&self) -> &str {
        let p = self.path.value.trim_end_matches('/');
        if p.is_empty() { "/" } else { p }
    }
}

/// API Gateway's `passthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Passthrough {
    /// Pass the body through untouched when no template matches (the default).
    #[default]
    WhenNoMatch,
    /// Pass through only when the integration has no templates at all; otherwise 415.
    WhenNoTemplates,
    /// Never pass through: 415 when no template matches.
    Never,
}

impl Passthrough {
    /// The KDL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Passthrough::WhenNoMatch => "when-no-match",
            Passthrough::WhenNoTemplates => "when-no-templates",
            Passthrough::Never => "never",
        }
    }
}

/// A mapping template for one content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingTemplate {
    /// The content type (MIME type) it is selected by.
    pub content_type: Spanned<String>,
    /// The template text.
    pub text: String,
    /// The parsed template.
    pub template: tollgate_template::Template,
    /// Where the text comes from: the string in the `.kdl`, or a file.
    pub origin: TemplateOrigin,
    /// The span of the node.
    pub span: Span,
}

/// Where a template's text was written, to point diagnostics at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TemplateOrigin {
    /// Inline in the `.kdl` file: the string value's span.
    Inline {
        /// The span of the string.
        span: Span,
    },
    /// `file="…"`: the path as written (relative to the `.kdl` file) and the property's span.
    File {
        /// The path as written.
        path: String,
        /// The span of the `file=` value.
        span: Span,
    },
}

/// An integration response: which backend answers it takes (by status code) and how it
/// answers the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationResponse {
    /// The method response's status code.
    pub status: Spanned<u16>,
    /// `selectionPattern`: a Java regex matched against the whole backend status code. `None`
    /// is the default response.
    pub pattern: Option<Spanned<String>>,
    /// `method.response.header.*` mappings.
    pub parameters: Vec<ParameterMapping>,
    /// Response templates by content type (selected by the request's `Accept`).
    pub templates: Vec<MappingTemplate>,
    /// The span of the `response` node.
    pub span: Span,
}

/// A customised gateway response (`gateway-response DEFAULT_4XX status=… { … }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayResponse {
    /// The response type (`DEFAULT_4XX`, `THROTTLED`, …).
    pub kind: Spanned<String>,
    /// The status code; `None` keeps the type's own.
    pub status: Option<Spanned<u16>>,
    /// `gatewayresponse.header.*` mappings.
    pub parameters: Vec<ParameterMapping>,
    /// Body templates (substitution of `$context.*`, `$stageVariables.*` only).
    pub templates: Vec<MappingTemplate>,
    /// The span of the node.
    pub span: Span,
}

/// `parameter TARGET SOURCE`: one parameter mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterMapping {
    /// What is set.
    pub target: Spanned<MappingTarget>,
    /// Where the value comes from.
    pub source: Spanned<MappingSource>,
}

/// Where a request parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    /// `path`
    Path,
    /// `querystring`
    Querystring,
    /// `header`
    Header,
    /// `multivaluequerystring`
    MultiQuerystring,
    /// `multivalueheader`
    MultiHeader,
}

impl Location {
    /// The API Gateway spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Querystring => "querystring",
            Location::Header => "header",
            Location::MultiQuerystring => "multivaluequerystring",
            Location::MultiHeader => "multivalueheader",
        }
    }
}

/// The left side of a parameter mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MappingTarget {
    /// `integration.request.{path|querystring|header}.NAME`
    IntegrationRequest {
        /// Path, querystring or header.
        location: Location,
        /// The parameter name.
        name: String,
    },
    /// `method.response.header.NAME`
    MethodResponseHeader {
        /// The header name.
        name: String,
    },
    /// `gatewayresponse.header.NAME`
    GatewayResponseHeader {
        /// The header name.
        name: String,
    },
}

/// The right side of a parameter mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MappingSource {
    /// `'literal'`
    Static {
        /// The value.
        value: String,
    },
    /// `method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.NAME`
    MethodRequest {
        /// Where.
        location: Location,
        /// The name.
        name: String,
    },
    /// `method.request.body` or `method.request.body.JSONPATH`
    MethodRequestBody {
        /// The JSONPath (with `$.` prepended), `None` for the whole body.
        path: Option<String>,
    },
    /// `integration.response.header.NAME` / `multivalueheader.NAME`
    IntegrationResponseHeader {
        /// The header name.
        name: String,
        /// Every value joined with `,`.
        multi: bool,
    },
    /// `integration.response.body` or `integration.response.body.JSONPATH`
    IntegrationResponseBody {
        /// The JSONPath, `None` for the whole body.
        path: Option<String>,
    },
    /// `stageVariables.NAME`
    StageVariable {
        /// The variable.
        name: String,
    },
    /// `context.a.b`
    Context {
        /// The path below `$context`.
        path: Vec<String>,
    },
}

impl Integration {
    /// The span of the `integration` node.
    pub fn span(&self) -> Span {
        match self {
            Integration::Handler { span, .. }
            | Integration::HttpProxy { span, .. }
            | Integration::Http { span, .. }
            | Integration::Mock { span, .. } => *span,
        }
    }
}

/// A response header of a mock integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Header name.
    pub name: Spanned<String>,
    /// Header value.
    pub value: Spanned<String>,
}

/// An upstream URI with `${stageVariables.x}` and `{param}` placeholders, split into parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UriTemplate {
    /// The template as written.
    pub raw: String,
    /// The template split into literal text and placeholders.
    pub parts: Vec<UriPart>,
}

/// A piece of a [`UriTemplate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum UriPart {
    /// Literal text.
    Literal(String),
    /// `${stageVariables.name}`
    StageVariable(String),
    /// `{name}`: a path parameter of the route.
    PathParam(String),
}

/// Error from [`UriTemplate::parse`]: a message and the byte range in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Byte offset within the template text.
    pub offset: usize,
    /// Length of the offending text.
    pub len: usize,
}

impl UriTemplate {
    /// Splits `raw` into literal text, `${stageVariables.x}` and `{param}` parts.
    pub fn parse(raw: &str) -> Result<UriTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let (open, skip) = match (bytes[i], bytes.get(i + 1)) {
                (b'$', Some(b'{')) => (true, 2),
                (b'{', _) => (false, 1),
                (b'}', _) => {
                    return Err(TemplateError {
                        message: "unmatched `}`".into(),
                        offset: i,
                        len: 1,
                    });
                }
                _ => {
                    let ch = raw[i..].chars().next().unwrap_or_default();
                    lit.push(ch);
                    i += ch.len_utf8().max(1);
                    continue;
                }
            };
            let start = i;
            let Some(close) = raw[i + skip..].find('}') else {
                return Err(TemplateError {
                    message: "unclosed placeholder".into(),
                    offset: start,
                    len: raw.len() - start,
                });
            };
            let inner = &raw[i + skip..i + skip + close];
            let whole_len = skip + close + 1;
            if !lit.is_empty() {
                parts.push(UriPart::Literal(std::mem::take(&mut lit)));
            }
            if open {
                let Some(name) = inner.strip_prefix("stageVariables.") else {
                    return Err(TemplateError {
                        message: format!("`${{{inner}}}` is not a stage variable reference"),
                        offset: start,
                        len: whole_len,
                    });
                };
                if !is_variable_name(name) {
                    return Err(TemplateError {
                        message: format!("`{name}` is not a valid stage variable name"),
                        offset: start,
                        len: whole_len,
                    });
                }
                parts.push(UriPart::StageVariable(name.to_owned()));
            } else {
                let name = inner.strip_suffix('+').unwrap_or(inner);
                if !is_param_name(name) {
                    return Err(TemplateError {
                        message: format!("`{{{inner}}}` is not a valid path parameter reference"),
                        offset: start,
                        len: whole_len,
                    });
                }
                parts.push(UriPart::PathParam(name.to_owned()));
            }
            i += whole_len;
        }
        if !lit.is_empty() {
            parts.push(UriPart::Literal(lit));
        }
        Ok(UriTemplate {
            raw: raw.to_owned(),
            parts,
        })
    }
}

/// Whether `s` is a valid stage-variable name: alphanumerics and `_`, 1 to 64 characters.
pub fn is_variable_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether `s` is a valid path-parameter name: alphanumerics, `_`, `-` and `.`, not empty.
pub fn is_param_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The default authorizer result TTL, in seconds (API Gateway's `authorizerResultTtlInSeconds`).
pub const DEFAULT_AUTHORIZER_TTL: u64 = 300;
/// The largest authorizer result TTL API Gateway accepts, in seconds.
pub const MAX_AUTHORIZER_TTL: u64 = 3600;
/// The most audiences a JWT authorizer may list (API Gateway's limit).
pub const MAX_JWT_AUDIENCES: usize = 50;
/// The most scopes one route may require (API Gateway's limit).
pub const MAX_ROUTE_SCOPES: usize = 10;

/// One authorizer (`authorizer NAME type=… { … }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorizer {
    /// The name methods refer to with `auth NAME`.
    pub name: Spanned<String>,
    /// What checks the caller.
    pub kind: AuthorizerKind,
    /// Where the identity comes from (`identity-source "header.Authorization" …`): one header
    /// for TOKEN and JWT authorizers (default `header.Authorization`), any number of headers,
    /// query strings, stage variables and context values for REQUEST authorizers.
    pub identity_sources: Vec<IdentitySource>,
    /// How long a custom authorizer's answer is reused for the same identity, in seconds
    /// (default 300, at most 3600, 0 = never cached). Unused by JWT authorizers.
    pub ttl: Spanned<u64>,
    /// The span of the node.
    pub span: Span,
}

/// The kinds of authorizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AuthorizerKind {
    /// API Gateway's TOKEN Lambda authorizer, as a Rust handler method: gets one header's value.
    Token {
        /// The handler method called (`handler=NAME`).
        handler: Spanned<String>,
        /// `validation "REGEX"`: the token must match it (whole value) before the handler is
        /// called; a mismatch is 401 without a call.
        validation: Option<Spanned<String>>,
    },
    /// API Gateway's REQUEST Lambda authorizer: gets the identity sources and the request.
    Request {
        /// The handler method called (`handler=NAME`).
        handler: Spanned<String>,
    },
    /// A JWT authorizer (HTTP APIs' `JWT`, REST APIs' Cognito user pools).
    Jwt {
        /// The required `iss`.
        issuer: Spanned<String>,
        /// Accepted `aud` / `client_id` values (`audience "a" "b"`).
        audiences: Vec<Spanned<String>>,
        /// Where the signing keys come from.
        jwks: Spanned<JwksLocation>,
    },
}

impl AuthorizerKind {
    /// The `type=` value that declares this kind.
    pub const fn type_name(&self) -> &'static str {
        match self {
            AuthorizerKind::Token { .. } => "token",
            AuthorizerKind::Request { .. } => "request",
            AuthorizerKind::Jwt { .. } => "jwt",
        }
    }

    /// The handler method a custom authorizer calls.
    pub fn handler(&self) -> Option<&Spanned<String>> {
        match self {
            AuthorizerKind::Token { handler, .. } | AuthorizerKind::Request { handler } => {
                Some(handler)
            }
            AuthorizerKind::Jwt { .. } => None,
        }
    }
}

/// Where a JWT authorizer's JWKS is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwksLocation {
    /// `jwks-file=PATH`: a file, read at start-up (relative to the working directory) and again
    /// when a token names an unknown key.
    File(String),
    /// `jwks-uri=URL`: an `https://` URL, fetched on first use and on an unknown key.
    Url(String),
}

/// One identity source of an authorizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySource {
    /// Where the value is read.
    pub location: IdentityLocation,
    /// The header, query string, stage variable or context name.
    pub name: String,
    /// The span of the source text.
    pub span: Span,
}

/// Where an identity source is read (API Gateway's `method.request.header.X`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityLocation {
    /// `header.NAME`.
    Header,
    /// `querystring.NAME`.
    QueryString,
    /// `stageVariables.NAME`.
    StageVariable,
    /// `context.NAME` (`context.sourceIp`, `context.httpMethod`, …).
    Context,
}

impl IdentityLocation {
    /// The prefix written in KDL.
    pub const fn as_str(self) -> &'static str {
        match self {
            IdentityLocation::Header => "header",
            IdentityLocation::QueryString => "querystring",
            IdentityLocation::StageVariable => "stageVariables",
            IdentityLocation::Context => "context",
        }
    }
}

/// How a method authenticates callers (`auth …`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RouteAuth {
    /// `auth NAME [scopes="a b"]`: the named authorizer.
    Authorizer {
        /// The authorizer's name.
        name: Spanned<String>,
        /// OAuth scopes, one of which the token must carry (JWT authorizers only).
        scopes: Vec<Spanned<String>>,
    },
    /// `auth iam`: AWS Signature Version 4 against the credentials store.
    Iam(Span),
}

/// A resource policy: statements, a `Deny` match wins, otherwise an `Allow` match admits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    /// The statements in source order.
    pub statements: Vec<PolicyStatement>,
    /// The span of the node.
    pub span: Span,
}

/// One `allow { … }` or `deny { … }` statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyStatement {
    /// `true` for `allow`.
    pub allow: bool,
    /// Resource patterns over `STAGE/METHOD/path` (`*` and `?` wildcards); empty = every method.
    pub resources: Vec<Spanned<String>>,
    /// `source-ip "CIDR" …`: the caller's address must be in one of them (`aws:SourceIp`).
    pub source_ips: Vec<Spanned<String>>,
    /// `not-source-ip "CIDR" …`: the caller's address must be in none of them.
    pub not_source_ips: Vec<Spanned<String>>,
    /// `user-agent "pattern" …`: the User-Agent must match one (`aws:UserAgent`, StringLike).
    pub user_agents: Vec<Spanned<String>>,
    /// `referer "pattern" …`: the Referer must match one (`aws:Referer`, StringLike).
    pub referers: Vec<Spanned<String>>,
    /// `principal "arn-or-id" …`: the authenticated principal must match one (IAM user ARN or a
    /// custom authorizer's `principalId`; `*` wildcards). Empty: any caller, even anonymous.
    pub principals: Vec<Spanned<String>>,
    /// The span of the node.
    pub span: Span,
}

/// A CORS configuration (`cors { allow-origins …; … }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cors {
    /// `allow-origins`: exact origins, or `*`.
    pub allow_origins: Vec<Spanned<String>>,
    /// `allow-methods`: empty = the methods the resource has.
    pub allow_methods: Vec<Spanned<String>>,
    /// `allow-headers`: request headers a preflight may ask for; `*` allows any.
    pub allow_headers: Vec<Spanned<String>>,
    /// `expose-headers`: response headers scripts may read.
    pub expose_headers: Vec<Spanned<String>>,
    /// `max-age`: seconds a preflight answer may be cached by the browser.
    pub max_age: Option<Spanned<u64>>,
    /// `allow-credentials`: cookies and `Authorization` may be sent (never with origin `*`).
    pub allow_credentials: Option<Spanned<bool>>,
    /// `cors #false` in a resource: no CORS below it even if the API has it.
    pub disabled: bool,
    /// The span of the node.
    pub span: Span,
}
