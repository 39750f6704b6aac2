//! The JSON Schema draft-4 suite compiled into tollgate validators (see `build.rs`).
//! `tests/suite.rs` runs it.

/// One test case of a group.
#[derive(Debug)]
pub struct Case {
    /// What it checks.
    pub description: &'static str,
    /// The document, as JSON text.
    pub data: &'static str,
    /// Whether the document should satisfy the schema.
    pub valid: bool,
}

/// One schema of the suite with its cases.
#[derive(Debug)]
pub struct Group {
    /// The suite file, relative to the suite directory (`optional/…` for optional tests).
    pub file: &'static str,
    /// What the group checks.
    pub description: &'static str,
    /// The schema, as JSON text.
    pub schema: &'static str,
    /// The compiled validator, unless the schema failed to compile.
    pub validate: Option<fn(&serde_json::Value) -> bool>,
    /// Why the schema did not compile.
    pub compile_error: Option<&'static str>,
    /// The cases.
    pub cases: &'static [Case],
}

#[cfg(not(suite_missing))]
include!(concat!(env!("OUT_DIR"), "/suite.rs"));

/// The suite was not found beside the repository when this crate was built.
#[cfg(suite_missing)]
pub static SUITE: &[Group] = &[];
#[cfg(suite_missing)]
include!(concat!(env!("OUT_DIR"), "/suite.rs"));
