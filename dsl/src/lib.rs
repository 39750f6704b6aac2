//! tollgate-dsl: the front of tollgate's pipeline.
//!
//! ```text
//! api.kdl ──► kdl::parse ──► KdlDocument ──► kdl::read ──► ir::Api ──► check ──► codegen
//! ```
//!
//! [`ir`] is the contract between front ends and code generation: plain, serialisable data with a
//! span on every node. [`kdl`] translates KDL into it, [`check`] holds the semantic rules every
//! front end shares, and [`diagnostics`] turns problems into `miette` reports that point at the
//! user's line. Front ends and checks collect every problem rather than stopping at the first.

pub mod check;
mod check_auth;
mod check_cache;
mod check_limits;
mod check_mapping;
pub mod diagnostics;
pub mod ir;
pub mod kdl;
pub mod schema;

pub use diagnostics::{Diagnostics, Sink, Source};

/// A checked API and the warnings found on the way.
#[derive(Debug)]
pub struct Checked {
    /// The API, free of errors.
    pub api: ir::Api,
    /// Warnings (possibly none); they never fail a build.
    pub warnings: Diagnostics,
}

/// Why [`load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file has errors; every one of them is inside.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads, translates and checks a KDL source: `text → KdlDocument → ir::Api → check`.
///
/// Returns every error at once when there is any.
pub fn compile_kdl(source: &Source) -> Result<Checked, Diagnostics> {
    let mut sink = Sink::new();
    let api = kdl::parse(source.text(), &mut sink)
        .and_then(|doc| kdl::read(&doc, source.base_dir(), &mut sink));
    if let Some(api) = &api {
        // Checks run even when reading found errors, so one run reports both kinds.
        check::check(api, &mut sink);
    }
    match api {
        Some(api) if !sink.has_errors() => Ok(Checked {
            api,
            warnings: sink.into_diagnostics(source),
        }),
        _ => Err(sink.into_diagnostics(source)),
    }
}

/// Reads the KDL file at `path` and compiles it with [`compile_kdl`].
pub fn load(path: impl AsRef<std::path::Path>) -> Result<Checked, LoadError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        dir
    };
    compile_kdl(&Source::new(path.display().to_string(), text).with_base_dir(dir))
        .map_err(LoadError::Invalid)
}
