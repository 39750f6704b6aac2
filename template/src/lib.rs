//! tollgate-template: API Gateway mapping templates (Velocity 1.7 as API Gateway runs it).
//!
//! Where it sits: `dsl` parses every template of an API with [`parse()`] at build time (syntax
//! errors become diagnostics with the template's line and column) and keeps the [`ast`] in the IR;
//! `codegen` turns that AST into Rust that calls `tollgate_vtl` through `tollgate::__codegen`.
//! [`interpret`] runs the same AST directly, for `tollgate template render` and as the reference the
//! generated code is tested against.

pub mod ast;
pub mod check;
pub mod interpret;
pub mod parse;

pub use ast::{Span, Template};
pub use parse::{ParseError, parse};
/// The value library templates run on (re-exported for the compiler's checks).
pub use tollgate_vtl as vtl;
