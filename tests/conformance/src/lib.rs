//! The JSON Schema draft-4 suite compiled into tollgate validators (see `build.rs`).
//! `tests/suite.rs` runs it.

/// An exact compiled validator.
pub type Exact = fn(&serde_json::Value) -> bool;
/// The one-pass typed path (`None` when serde refuses the text).
pub type Typed = fn(&str) -> Option<tollgate::__codegen::schema::Checked>;

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
    /// The compiled validator and the one-pass typed path, unless the schema failed to compile.
    pub validate: Option<(Exact, Typed)>,
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

/// Our own struct-shaped schemas (`schemas/`): (name, exact validator, one-pass typed path).
pub mod own {
    include!(concat!(env!("OUT_DIR"), "/own.rs"));
}
#[cfg(suite_missing)]
include!(concat!(env!("OUT_DIR"), "/suite.rs"));
