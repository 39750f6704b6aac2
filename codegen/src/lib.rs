//! tollgate-codegen: the back of tollgate's compiler.
//!
//! ```text
//! api.kdl ─► tollgate_dsl ─► ir::Api ─► api::generate ─► TokenStream ─► prettyplease ─► OUT_DIR/<api>.rs
//! ```
//!
//! It never sees KDL or `syn` input: it takes a checked [`ir::Api`] and returns Rust. The
//! build-script API follows tonic-build and prost-build:
//!
//! ```no_run
//! // build.rs: fn main() { … }
//! tollgate_codegen::compile("api.kdl").unwrap();
//! ```
//!
//! and in the crate: `mod petstore { tollgate::include_api!("petstore"); }`. Generated code names
//! only `::tollgate::__codegen::*`, so the one `tollgate` dependency is enough.

mod api;
mod auth;
mod mapping;
mod model;
mod router;
mod template;
mod types;

use std::path::{Path, PathBuf};
pub use tollgate_dsl::ir;
use tollgate_dsl::{Diagnostics, LoadError};

/// Why code generation failed.
#[derive(thiserror::Error)]
pub enum Error {
    /// The API file could not be read or the output not written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The API definition has errors; every one is inside, each pointing at its line.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// `OUT_DIR` is not set and no output directory was configured.
    #[error("OUT_DIR is not set: call compile() from build.rs, or set configure().out_dir(…)")]
    NoOutDir,
    /// Generated tokens did not parse back: a bug in tollgate-codegen.
    #[error("internal error: generated code does not parse ({0}); please report it")]
    Internal(String),
}

/// `Debug` renders the diagnostics in full, so `compile(…).unwrap()` in a build script shows
/// every error with its source line.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(d) => write!(f, "{d:?}"),
            other => write!(f, "{other}"),
        }
    }
}

/// Compiles the API file at `path` into `$OUT_DIR/<api name>.rs` with the default settings.
pub fn compile(path: impl AsRef<Path>) -> Result<PathBuf, Error> {
    configure().compile(path)
}

/// Formatted Rust source of a standalone function `fn NAME(env: &Env, out: &mut Output) ->
/// Result<(), RenderError>` rendering the mapping template `text` (what an API's templates
/// compile to). For tests and benchmarks that render templates without a gateway.
pub fn template_function(
    name: &str,
    text: &str,
) -> Result<String, Vec<tollgate_template::ParseError>> {
    let t = tollgate_template::parse(text)?;
    let ident = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
    let tokens = template::function(quote::quote!(pub), &ident, &t);
    Ok(match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    })
}

/// Every template file the API reads (`file=` on templates), relative to the `.kdl` file.
fn template_files(api: &ir::Api) -> Vec<&str> {
    let mut all: Vec<&ir::MappingTemplate> = Vec::new();
    for r in &api.routes {
        match &r.integration {
            ir::Integration::Http {
                request_templates,
                responses,
                ..
            }
            | ir::Integration::Mock {
                request_templates,
                responses,
                ..
            } => {
                all.extend(request_templates);
                all.extend(responses.iter().flat_map(|r| &r.templates));
            }
            _ => {}
        }
    }
    all.extend(api.gateway_responses.iter().flat_map(|g| &g.templates));
    all.iter()
        .filter_map(|t| match &t.origin {
            ir::TemplateOrigin::File { path, .. } => Some(path.as_str()),
            ir::TemplateOrigin::Inline { .. } => None,
        })
        .collect()
}

/// A builder for the settings [`compile`] uses by default.
pub fn configure() -> Builder {
    Builder {
        out_dir: None,
        emit_rerun_if_changed: true,
    }
}

/// Code-generation settings.
#[derive(Debug, Clone)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    emit_rerun_if_changed: bool,
}

impl Builder {
    /// Where to write generated files. Default: `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed=<file>` and warnings as `cargo:warning`.
    /// Default `true`; turn it off outside build scripts.
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.emit_rerun_if_changed = yes;
        self
    }

    /// Reads, checks and generates the API at `path`; writes `<out_dir>/<api name>.rs` only when
    /// its contents changed (so dependants are not rebuilt needlessly). Returns the file written.
    pub fn compile(self, path: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let path = path.as_ref();
        if self.emit_rerun_if_changed {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let checked = tollgate_dsl::load(path).map_err(|e| match e {
            LoadError::Io { source, .. } => Error::Io {
                path: path.to_owned(),
                source,
            },
            LoadError::Invalid(d) => Error::Invalid(d),
        })?;
        if self.emit_rerun_if_changed {
            // Schema files are inputs too: editing one must regenerate the code.
            let dir = path.parent().unwrap_or_else(|| Path::new("."));
            for m in &checked.api.models {
                if let ir::ModelOrigin::File { path: schema, .. } = &m.origin {
                    println!("cargo:rerun-if-changed={}", dir.join(schema).display());
                }
            }
            for file in template_files(&checked.api) {
                println!("cargo:rerun-if-changed={}", dir.join(file).display());
            }
            for w in checked.warnings.items() {
                let code = w.code.as_deref().unwrap_or("tollgate");
                println!("cargo:warning={}: {} [{code}]", path.display(), w.message);
            }
        }
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let code = generate(&checked.api, &file_name)?;
        let out_dir = match self.out_dir {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let out = out_dir.join(format!("{}.rs", checked.api.name.value));
        write_if_changed(&out, &code)?;
        Ok(out)
    }
}

/// Generates the formatted Rust module for a checked API. `source` names the file it came from
/// in the `@generated` header.
pub fn generate(api: &ir::Api, source: &str) -> Result<String, Error> {
    let tokens = generate_tokens(api)?.tokens;
    let file: syn::File = syn::parse2(tokens).map_err(|e| Error::Internal(e.to_string()))?;
    let body = prettyplease::unparse(&file);
    Ok(format!(
        "// @generated by tollgate-codegen {} from `{source}`. Do not edit by hand.\n\
         // API `{}` ({} flavour): {} stage(s), {} route(s).\n\n{body}",
        env!("CARGO_PKG_VERSION"),
        api.name.value,
        match api.flavor {
            ir::Flavor::Rest => "REST",
            ir::Flavor::Http => "HTTP",
        },
        api.stages.len(),
        api.routes.len(),
    ))
}

/// What [`generate_tokens`] produces: the API module's items and the handler trait's shape.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The items of the API module (models, handler trait, API type, `Gateway` impl), to be
    /// placed in a module of their own, as `include_api!` does.
    pub tokens: proc_macro2::TokenStream,
    /// One entry per method of the handler trait, in trait order.
    pub handlers: Vec<HandlerSignature>,
}

/// The shape of one handler method of the generated trait:
/// `fn NAME(&self, request: Request, <params>[, body: BODY]) -> impl Future<Output = HandlerResult>`.
#[derive(Debug, Clone)]
pub struct HandlerSignature {
    /// The method name (the `handler name=` of its routes).
    pub name: String,
    /// The path parameters in path order: the parameter's name in the path and its Rust type.
    pub params: Vec<(String, proc_macro2::TokenStream)>,
    /// The typed body's Rust type, relative to the API module (`models::NewPet`), if any.
    pub body: Option<proc_macro2::TokenStream>,
}

/// How generated code turns a KDL name into a Rust argument or module name: `petId` →
/// `pet_id`, `pet-id` → `pet_id`, with a leading `_` when the result would be empty or start
/// with a digit. The attribute macros use it too, so both doors name things alike.
pub fn snake_case(s: &str) -> String {
    api::snake_case(s)
}

/// Generates the API module's items for a checked API as tokens, unformatted: the entry for
/// front ends that emit code themselves (the `#[tollgate::api]` macro), `&ir::Api → TokenStream`.
pub fn generate_tokens(api: &ir::Api) -> Result<Generated, Error> {
    let uris: Vec<String> = api
        .models
        .iter()
        .map(|m| tollgate_dsl::check::model_uri(&m.name.value))
        .collect();
    let roots: Vec<(&str, &serde_json::Value)> = uris
        .iter()
        .map(String::as_str)
        .zip(api.models.iter().map(|m| &m.schema))
        .collect();
    let (set, root_ids) = tollgate_dsl::schema::compile(&roots).map_err(|errors| {
        Error::Internal(format!(
            "models did not compile after checking: {}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.location, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let models = api::Models {
        set: &set,
        roots: &root_ids,
    };
    Ok(Generated {
        tokens: api::generate(api, &models),
        handlers: api::signatures(api, &models),
    })
}

/// Compiled validators for arbitrary schemas, outside any API (the conformance suite uses it):
/// for each `(function name, node)`, a public `fn NAME(v: &Value) -> bool` and
/// `fn NAME_violations(v: &Value) -> Vec<Violation>`, plus every node function of `set`.
pub fn schema_validators(
    set: &tollgate_dsl::schema::SchemaSet,
    entries: &[(String, tollgate_dsl::schema::NodeId)],
) -> Result<String, Error> {
    let entry_fns = entries.iter().map(|(name, node)| {
        let f = model::node_fn(*node);
        let valid = quote::format_ident!("{}", name);
        let violations = quote::format_ident!("{}_violations", name);
        quote::quote! {
            /// Whether `v` satisfies the schema.
            pub fn #valid(v: &::tollgate::__codegen::schema::serde_json::Value) -> bool {
                ::tollgate::__codegen::schema::begin();
                #f(v, &::tollgate::__codegen::schema::Path::Root, &mut ::tollgate::__codegen::schema::Fast)
            }
            /// Every violation of the schema in `v`.
            pub fn #violations(v: &::tollgate::__codegen::schema::serde_json::Value) -> ::std::vec::Vec<::tollgate::__codegen::schema::Violation> {
                ::tollgate::__codegen::schema::begin();
                let mut c = ::tollgate::__codegen::schema::Collect::default();
                #f(v, &::tollgate::__codegen::schema::Path::Root, &mut c);
                c.0
            }
        }
    });
    let nodes = model::validators(set);
    let file: syn::File = syn::parse2(quote::quote!(#(#entry_fns)* #nodes))
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(format!(
        "// @generated by tollgate-codegen {}. Do not edit by hand.\n\n{}",
        env!("CARGO_PKG_VERSION"),
        prettyplease::unparse(&file)
    ))
}

/// Like [`schema_validators`], plus the model types (a `models` module) and, per entry, a
/// `NAME_typed(json: &str) -> Option<Checked>`: the one-pass path (deserialise into the type,
/// check it), `None` when serde refuses the text. The conformance suite uses it to prove the
/// typed path never disagrees with the exact validator.
pub fn schema_validators_typed(
    set: &tollgate_dsl::schema::SchemaSet,
    entries: &[(String, tollgate_dsl::schema::NodeId)],
) -> Result<String, Error> {
    let plain = schema_validators(set, entries)?;
    let named: Vec<(String, tollgate_dsl::schema::NodeId)> = entries
        .iter()
        .map(|(n, id)| (types::upper_camel_name(n), *id))
        .collect();
    let model_types = types::model_types(set, &named);
    let module = &model_types.module;
    let typed = entries.iter().zip(&model_types.types).map(|((name, _), ty)| {
        let f = quote::format_ident!("{}_typed", name);
        quote::quote! {
            /// The one-pass path: `None` when serde refuses the text.
            pub fn #f(json: &str) -> ::core::option::Option<::tollgate::__codegen::schema::Checked> {
                let value: #ty = ::tollgate::__codegen::schema::serde_json::from_str(json).ok()?;
                ::core::option::Option::Some(
                    if <#ty as ::tollgate::__codegen::schema::TypedCheck>::EXACT {
                        ::tollgate::__codegen::schema::TypedCheck::check(&value)
                    } else {
                        ::tollgate::__codegen::schema::Checked::Unsure
                    },
                )
            }
        }
    });
    let file: syn::File = syn::parse2(quote::quote!(#module #(#typed)*))
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(format!("{plain}\n{}", prettyplease::unparse(&file)))
}

/// The Rust names generated for an API: `(handler trait, API type)`, e.g. `("Petstore", "PetstoreApi")`.
pub fn type_names(api: &ir::Api) -> (String, String) {
    let n = api::Names::of(api);
    (n.handlers.to_string(), n.api.to_string())
}

fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
