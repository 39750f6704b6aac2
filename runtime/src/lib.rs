//! tollgate-runtime: the back of tollgate's pipeline, linked into every generated gateway.
//!
//! ```text
//! api.kdl ─► dsl ─► ir::Api ─► codegen ─► generated `impl Gateway` ─┐
//!                                                                   ├─► one binary
//!                     tollgate-runtime (this crate): server, integrations, responses ─┘
//! ```
//!
//! Generated code implements [`gateway::Gateway`]: constant specs and a `match` over path
//! segments. This crate does the rest of the request lifecycle: accepting HTTP/1.1 and h2c
//! connections ([`server`]), request ids ([`request_id`]), stage selection and stage variables
//! ([`stage`]), the `mock` and `http-proxy` integrations ([`integration`]), what handlers see
//! ([`handler`]) and API Gateway's gateway responses ([`response`]).

pub mod admin;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod cors;
pub mod exchange;
pub mod gateway;
pub mod handler;
pub mod integration;
pub mod keys;
pub mod limits;
pub mod mapping;
pub mod path;
pub mod quota;
pub mod request_id;
pub mod response;
pub mod schema;
pub mod server;
pub mod stage;
pub mod store;
pub mod throttle;
pub mod usage;
pub mod validation;
mod watchdog;

pub use auth::Principal;
pub use auth::custom::{AuthorizerError, AuthorizerRequest, AuthorizerResponse, ContextValue};
pub use gateway::{Flavor, Gateway};
pub use handler::{Context, HandlerError, HandlerResult, Request};
pub use response::{Body, GatewayError, Response};
pub use server::{Bound, ServeError, Server, ServerConfig, StageVariableOverride};

/// What generated code names, re-exported by the facade as `::tollgate::__codegen`.
/// Not a public API: it changes whenever codegen does.
#[doc(hidden)]
pub mod __codegen {
    pub use crate::auth::custom::{AuthorizerError, AuthorizerRequest, AuthorizerResponse};
    pub use crate::auth::policy::{ResourcePolicySpec, StatementSpec};
    pub use crate::auth::{
        AuthorizerKindSpec, AuthorizerSpec, IdentityLocation, IdentitySourceSpec, RouteAuthSpec,
    };
    pub use crate::cache::{KeySource, MethodCacheSpec, StageCacheSpec, Unauthorized};
    pub use crate::cors::{CorsSpec, PreflightSpec};
    pub use crate::exchange::{Exchange, handler_response, with_rate_limit};
    pub use crate::gateway::{ApiSpec, Flavor, Gateway, Method, ParamSpec, RouteSpec, StageSpec};
    pub use crate::handler::{HandlerResult, Request};
    pub use crate::integration::http::{ProxySpec, UriPart};
    pub use crate::integration::mock::MockSpec;
    pub use crate::limits::{ApiKeySource, PlanStageSpec, UsagePlanSpec};
    pub use crate::mapping::{
        GatewayResponseSpec, HeaderMapping, HttpSpec, MapSource, MapTarget, MockTemplateSpec,
        Passthrough, Pattern, RequestMapping, ResponseSpec, TemplateSpec,
    };
    pub use crate::quota::{QuotaPeriod, QuotaSpec};
    pub use crate::response::{GatewayError, Response};
    pub use crate::throttle::ThrottleSpec;
    pub use crate::validation::{ModelSpec, ParamSource, RequestValidation, RequiredParam};
    pub use serde;
    /// The values mapping templates compute with.
    pub use tollgate_vtl as vtl;
    /// Compiled JSON Schema validators' helpers.
    pub mod schema {
        pub use crate::schema::*;
    }
}

pub use bytes;
pub use http;
