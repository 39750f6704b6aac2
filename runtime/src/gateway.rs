//! The contract between generated code and the runtime.
//!
//! codegen emits, per API, a type implementing [`Gateway`]: constant specs of its stages and
//! routes, a `match` from stage names to stage indices, and `dispatch`, a `match` over path
//! segments that calls the route's integration. The runtime owns everything around it: sockets,
//! request ids, stage selection, gateway responses.

use crate::exchange::Exchange;
use crate::response::{GatewayError, Response};
use std::future::Future;

/// Which family of API Gateway answers an API gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// REST APIs (v1).
    Rest,
    /// HTTP APIs (v2).
    Http,
}

/// A request method, resolved once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Anything else (`TRACE`, `CONNECT`, extensions): no route serves it; `ANY` excludes it.
    Other,
}

impl Method {
    /// Resolves an `http::Method`.
    pub fn from_http(m: &http::Method) -> Method {
        match m.as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    /// Whether `ANY` covers this method (DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT).
    pub fn is_standard(self) -> bool {
        self != Method::Other
    }
}

/// Compile-time description of an API.
#[derive(Debug)]
pub struct ApiSpec {
    /// The API name.
    pub name: &'static str,
    /// REST or HTTP answers.
    pub flavor: Flavor,
    /// The stages, in declaration order (the index is the stage id).
    pub stages: &'static [StageSpec],
    /// The routes, in declaration order (the index is the route id).
    pub routes: &'static [RouteSpec],
    /// Customised gateway responses.
    pub gateway_responses: &'static [crate::mapping::GatewayResponseSpec],
    /// The account-level throttle, if any.
    pub throttle: Option<crate::throttle::ThrottleSpec>,
    /// Usage plans: per-key throttles and quotas.
    pub usage_plans: &'static [crate::limits::UsagePlanSpec],
    /// Where methods that require an API key read it.
    pub api_key_source: crate::limits::ApiKeySource,
    /// Authorizers, indexed by [`crate::auth::RouteAuthSpec::Authorizer`].
    pub authorizers: &'static [crate::auth::AuthorizerSpec],
    /// The resource policy, if the API has one.
    pub resource_policy: Option<&'static crate::auth::policy::ResourcePolicySpec>,
    /// The API-wide CORS configuration.
    pub cors: Option<&'static crate::cors::CorsSpec>,
}

/// Compile-time description of a stage.
#[derive(Debug)]
pub struct StageSpec {
    /// The stage name (`$default` serves at the root in HTTP APIs).
    pub name: &'static str,
    /// Stage variables as declared.
    pub variables: &'static [(&'static str, &'static str)],
    /// The default throttle of every method of the stage.
    pub throttle: Option<crate::throttle::ThrottleSpec>,
    /// Per-method throttles: route index and limits.
    pub method_throttles: &'static [(usize, crate::throttle::ThrottleSpec)],
    /// The stage's response cache.
    pub cache: Option<crate::cache::StageCacheSpec>,
}

/// Compile-time description of a route.
#[derive(Debug)]
pub struct RouteSpec {
    /// The declared method (`ANY` included).
    pub method: &'static str,
    /// The resource path template, e.g. `/pets/{petId}` (`$context.resourcePath`).
    pub resource_path: &'static str,
    /// Path parameters: name, segment index within the route path, greedy or not.
    pub params: &'static [ParamSpec],
    /// Whether requests need an API key in a usage plan bound to the stage.
    pub api_key_required: bool,
    /// The method's cache settings and cache key.
    pub cache: Option<&'static crate::cache::MethodCacheSpec>,
    /// How callers authenticate.
    pub auth: crate::auth::RouteAuthSpec,
    /// The CORS configuration of the route's resource; `None`: the API's.
    pub cors: Option<&'static crate::cors::CorsSpec>,
    /// Nothing runs before the route's cache lookup (no authorization, API key, throttle,
    /// validation or parameter parsing): a memory-cache hit may be answered before the request
    /// is dispatched. Set by code generation.
    pub plain: bool,
}

/// A path parameter of a route.
#[derive(Debug)]
pub struct ParamSpec {
    /// The parameter name.
    pub name: &'static str,
    /// Its segment index within the route's path (after the stage).
    pub index: usize,
    /// Whether it is greedy (`{name+}`), capturing the rest of the path.
    pub greedy: bool,
}

/// Implemented by the code tollgate generates for each API.
pub trait Gateway: Send + Sync + 'static {
    /// The API's compile-time description.
    const SPEC: &'static ApiSpec;

    /// The stage index for a stage name, as a generated `match`.
    fn stage_index(name: &str) -> Option<usize>;

    /// The route a method and decoded path segments (after the stage) match, as a generated
    /// `match`; ids past the routes are the gateway's CORS preflight answers.
    fn route_of(method: Method, segments: &[&str]) -> Option<usize>;

    /// Matches the request to a route and runs its integration.
    fn dispatch(&self, ex: Exchange)
    -> impl Future<Output = Result<Response, GatewayError>> + Send;
}
