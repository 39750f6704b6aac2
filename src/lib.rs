//! # tollgate
//!
//! An API-gateway compiler. Describe an API in KDL (or, later, with attribute macros or OpenAPI);
//! `tollgate-codegen` compiles it in `build.rs` into Rust — a `match` router, a handler trait,
//! constant policies — and this crate links it against the hyper/tokio runtime. One binary
//! answers like Amazon API Gateway.
//!
//! ```text
//! api.kdl ─► tollgate-dsl ─► ir::Api ─► check ─► tollgate-codegen ─► OUT_DIR/<api>.rs ─┐
//!                                                   your handlers + tollgate (this) ─┴─► binary
//! ```
//!
//! ```ignore
//! // build.rs
//! fn main() { tollgate_codegen::compile("api.kdl").unwrap(); }
//!
//! // main.rs
//! mod petstore { tollgate::include_api!("petstore"); }
//!
//! struct Pets;
//! impl petstore::Petstore for Pets {
//!     async fn list_pets(&self, _req: tollgate::Request) -> tollgate::HandlerResult {
//!         Ok(tollgate::response::json(tollgate::http::StatusCode::OK, &["Rex"]))
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     tollgate::run(petstore::PetstoreApi::new(Pets))
//! }
//! ```

#[cfg(feature = "macros")]
mod macro_support;
pub mod serve;

/// A model declared with `#[derive(tollgate::Model)]`: its name and JSON Schema.
#[cfg(feature = "macros")]
pub use macro_support::Model;
/// `#[tollgate::api(…)]` on an `impl` block: the API written on its handlers (see
/// `docs/macros.md`). `#[derive(tollgate::Model)]`: a request model from a struct.
#[cfg(feature = "macros")]
pub use tollgate_macros::{Model, api};
/// Route attributes; only meaningful on methods inside `#[tollgate::api]`.
#[cfg(feature = "macros")]
pub use tollgate_macros::{any, delete, get, head, options, patch, post, put};

/// What the macros expand to. Not a public API.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __macros {
    pub use crate::macro_support::*;
    pub use serde_json;
}
#[cfg(feature = "macros")]
#[doc(hidden)]
pub use tollgate_macros::__api_expand;

pub use serve::{ServeArgs, run, run_with};
/// Authorizers, policies and SigV4 credentials (`auth …`, `--iam-credentials`).
pub use tollgate_runtime::auth;
pub use tollgate_runtime::handler::{Context, PathParam};
pub use tollgate_runtime::stage::StageVariables;
pub use tollgate_runtime::{
    AuthorizerError, AuthorizerRequest, AuthorizerResponse, Body, Bound, ContextValue, Flavor,
    Gateway, GatewayError, HandlerError, HandlerResult, Principal, Request, Response, ServeError,
    Server, ServerConfig, StageVariableOverride, bytes, http, response,
};
/// API keys, stores, clocks and usage reports (`--store`, `tollgate keys`, `tollgate usage`).
pub use tollgate_runtime::{clock, keys, store, usage};

/// What generated code names. Not a public API.
#[doc(hidden)]
pub use tollgate_runtime::__codegen;

/// Includes the code `tollgate_codegen::compile` generated for the API named `$name`
/// (`$OUT_DIR/$name.rs`). Put it in a module of its own:
///
/// ```ignore
/// mod petstore { tollgate::include_api!("petstore"); }
/// ```
#[macro_export]
macro_rules! include_api {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}
