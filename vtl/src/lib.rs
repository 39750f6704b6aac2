//! tollgate-vtl: the runtime half of mapping templates: the values templates compute with; used
//! by code generated from templates (through `tollgate_runtime::__codegen`) and by the build-time
//! interpreter (`tollgate-template`).
//!
//! Amazon API Gateway runs mapping templates with Apache Velocity 1.7 on the JVM: values are Java
//! objects (strings, boxed numbers, `java.util` lists and maps, json-smart arrays from JSONPath),
//! and what a template prints is each value's `toString()`. This crate reproduces that world in
//! Rust:
//!
//! - [`value`]: [`Value`] and [`Object`], Java-style printing and JSON (de)serialisation;
//! - [`ops`]: Velocity's equality, comparison, arithmetic and truthiness;
//! - [`methods`]: the Java methods templates call on strings, lists and maps;
//! - [`util`]: API Gateway's `$util` functions;
//! - [`jsonpath`]: Jayway JSONPath, as `$input.path` and `$input.json` use it;
//! - [`number`]: Java's `Double.toString`.
//!
//! Nothing here panics on any input: strings are sliced on character boundaries (Java indexes
//! count UTF-16 code units), recursion is bounded, and self-referencing template lists print
//! like Java's `(this Collection)` instead of recursing forever.

pub mod calendar;
pub mod env;
#[cfg(test)]
mod fuzz_tests;
mod jregex;

/// Compiles a Java regex (API Gateway's selection patterns, `String.matches`) for the `regex`
/// crate; with `whole`, it must match the entire input (`Matcher.matches()`). Lookaround and
/// backreferences are errors (the `regex` crate has neither).
pub fn java_regex(pattern: &str, whole: bool) -> Result<regex::Regex> {
    jregex::compile(pattern, whole)
}
pub mod jsonpath;
pub mod methods;
pub mod number;
pub mod ops;
pub mod util;
pub mod value;

pub use jsonpath::JsonPath;
pub use value::{Object, Value};

/// A template failed at run time (API Gateway answers 500 then). Display = message.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What went wrong, usually phrased like the Java exception API Gateway would have thrown
    /// (`java.lang.StringIndexOutOfBoundsException: ...`).
    pub message: String,
}

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The result of a template operation that can fail at run time.
pub type Result<T> = std::result::Result<T, Error>;
