//! The `tollgate` command-line tool.
//!
//! - `tollgate check FILE [--emit ir]`: read and check an API file, print every diagnostic (or
//!   the IR as JSON).
//! - `tollgate serve FILE [--stage S] [--listen ADDR] …`: compile a config-only API (mock and
//!   http-proxy integrations) into a binary under `target/tollgate-serve/` and run it.
//! - `tollgate keys create|list|disable|enable|delete|set-plans|import …`: manage API keys in a
//!   gateway's store; `tollgate usage --from … --to …`: requests per key and day (JSON, CSV);
//!   `tollgate cache flush --stage S`: empty a stage's response cache.
//! - `tollgate model validate SCHEMA.json DOCUMENT.json` or
//!   `tollgate model validate --api API.kdl --model NAME DOCUMENT.json`: validate a JSON document
//!   against a JSON Schema (draft 4) or a model of an API, with the rules the gateway's request
//!   validator applies.

mod keys_command;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use std::cell::RefCell;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use tollgate_dsl::ir::Integration;
use tollgate_dsl::schema::{self, NodeId, SchemaError, SchemaSet, Violation};

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Compile API Gateway-style APIs into Rust gateways"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Check an API file and print every problem with its line.
    Check {
        /// The API file (.kdl).
        file: PathBuf,
        /// Print something besides the verdict.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
    },
    /// Build a config-only API (mock and http-proxy integrations) into a binary and run it.
    Serve {
        /// The API file (.kdl).
        file: PathBuf,
        /// Build with optimisations (slower build, faster gateway).
        #[arg(long)]
        release: bool,
        /// Flags passed to the gateway binary: --listen, --stage, --at-root, --stage-var, …
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Work with models (JSON Schema draft 4).
    Model {
        #[command(subcommand)]
        command: ModelCmd,
    },
    /// Work with mapping templates (API Gateway's Velocity templates).
    Template {
        #[command(subcommand)]
        command: TemplateCmd,
    },
    /// Manage API keys in a gateway's store (values are shown once and stored hashed).
    Keys {
        #[command(subcommand)]
        command: keys_command::KeysCmd,
        #[command(flatten)]
        target: keys_command::Target,
    },
    /// Manage response caches (empty a stage's cache).
    Cache {
        #[command(subcommand)]
        command: keys_command::CacheCmd,
        #[command(flatten)]
        target: keys_command::Target,
    },
    /// Report requests per API key, usage plan and day, as JSON or CSV.
    Usage {
        #[command(flatten)]
        args: keys_command::UsageArgs,
        #[command(flatten)]
        target: keys_command::Target,
    },
}

#[derive(Debug, Subcommand)]
enum TemplateCmd {
    /// Render one mapping template against a sample request, as the gateway would.
    ///
    /// The request file is JSON: {"body": "…" or {…}, "path": {…}, "querystring": {…},
    /// "headers": {…}, "stageVariables": {…}, "context": {…}}, every key optional. The output
    /// goes to stdout; overrides the template set ($context.requestOverride / responseOverride)
    /// are listed on stderr. Exit status: 0 rendered, 1 the template failed at run time (the
    /// gateway would answer 400/500), 2 a syntax error or an unreadable file.
    Render {
        /// The template file (.vtl); `-` reads it from stdin.
        file: PathBuf,
        /// The sample request (JSON). Without it: an empty request.
        #[arg(long, value_name = "REQUEST.json")]
        request: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ModelCmd {
    /// Validate a JSON document against a schema file or a model of an API.
    ///
    /// Uses the rules of the gateway's request validator: JSON Schema draft 4, `format` not
    /// enforced, ECMA 262 regexes; an empty document is validated as `{}`, as API Gateway
    /// validates an empty request body.
    #[command(
        override_usage = VALIDATE_USAGE,
        after_help = VALIDATE_AFTER_HELP
    )]
    Validate {
        /// SCHEMA.json and DOCUMENT.json; with --api, only DOCUMENT.json. A DOCUMENT of `-` is
        /// read from stdin.
        #[arg(value_name = "FILES", required = true, num_args = 1..=2)]
        files: Vec<PathBuf>,
        /// Validate against a model of this API file (.kdl) instead of a schema file.
        #[arg(long, value_name = "API.kdl", requires = "model")]
        api: Option<PathBuf>,
        /// The model of --api to validate against.
        #[arg(long, value_name = "NAME", requires = "api")]
        model: Option<String>,
        /// How violations are printed on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

const VALIDATE_USAGE: &str =
    "tollgate model validate [--format text|json] SCHEMA.json DOCUMENT.json
       tollgate model validate [--format text|json] --api API.kdl --model NAME DOCUMENT.json";

const VALIDATE_AFTER_HELP: &str = "\
Output:
  valid document: `valid` (text) or `[]` (json) on stdout.
  invalid document: one line per violation on stdout, `POINTER: MESSAGE [KEYWORD]` (POINTER is
  the JSON pointer into the document, `/` for the document itself), or with --format json an
  array of {\"instance\", \"schema\", \"keyword\", \"message\"}; then `N violation(s)` on stderr.

Schema `$ref`s to other files are resolved relative to the schema file (file:// only, nothing
is fetched over the network); models of an API refer to each other by model URL
(https://apigateway.amazonaws.com/restapis/{id}/models/NAME).

Exit status:
  0  the document is valid
  1  the document is invalid, or is not JSON (the gateway would answer 400)
  2  nothing was validated: bad arguments, an unreadable file, a schema with errors, an API file
     with errors, or an unknown model";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per violation.
    Text,
    /// A JSON array of violations.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Emit {
    /// The checked IR as JSON, on stdout.
    Ir,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Check { file, emit } => check(&file, emit),
        Cmd::Serve {
            file,
            release,
            args,
        } => serve(&file, release, &args),
        Cmd::Model {
            command:
                ModelCmd::Validate {
                    files,
                    api,
                    model,
                    format,
                },
        } => model_validate(&files, api.as_deref(), model.as_deref(), format),
        Cmd::Template {
            command: TemplateCmd::Render { file, request },
        } => template_render(&file, request.as_deref()),
        Cmd::Keys { command, target } => keys_command::keys(command, &target),
        Cmd::Usage { args, target } => keys_command::usage(args, &target),
        Cmd::Cache { command, target } => keys_command::cache(command, &target),
    }
}

fn load(file: &Path) -> Option<tollgate_dsl::Checked> {
    let color = std::io::stderr().is_terminal();
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    match tollgate_dsl::load(file) {
        Ok(checked) => {
            if !checked.warnings.items().is_empty() {
                eprint!("{}", checked.warnings.render_with(theme));
            }
            Some(checked)
        }
        Err(tollgate_dsl::LoadError::Invalid(d)) => {
            eprint!("{}", d.render_with(theme));
            eprintln!("error: {d}");
            None
        }
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn check(file: &Path, emit: Option<Emit>) -> ExitCode {
    let Some(checked) = load(file) else {
        return ExitCode::FAILURE;
    };
    match emit {
        Some(Emit::Ir) => match serde_json::to_string_pretty(&checked.api) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot serialise the IR: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => {
            let api = &checked.api;
            eprintln!(
                "{}: ok — API `{}`, {} stage(s), {} route(s)",
                file.display(),
                api.name.value,
                api.stages.len(),
                api.routes.len()
            );
        }
    }
    ExitCode::SUCCESS
}

fn template_render(file: &Path, request: Option<&Path>) -> ExitCode {
    use tollgate_vtl::env::{Env, ErrorKind, Output, Sample};
    let text = if file == Path::new("-") {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("error: reading the template from stdin: {e}");
            return ExitCode::from(2);
        }
        s
    } else {
        match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    };
    let template = match tollgate_template::parse(&text) {
        Ok(t) => t,
        Err(errors) => {
            let source = miette::NamedSource::new(file.display().to_string(), text.clone());
            let handler =
                miette::GraphicalReportHandler::new_themed(if std::io::stderr().is_terminal() {
                    miette::GraphicalTheme::unicode()
                } else {
                    miette::GraphicalTheme::unicode_nocolor()
                });
            for e in &errors {
                let d = miette::MietteDiagnostic::new(e.message.clone())
                    .with_code("tollgate::template::syntax")
                    .with_help(e.help.clone())
                    .with_label(miette::LabeledSpan::new_primary_with_span(
                        Some(e.message.clone()),
                        (e.span.start, e.span.end.saturating_sub(e.span.start).max(1)),
                    ));
                let report = miette::Report::new(d).with_source_code(source.clone());
                let mut out = String::new();
                let _ = handler.render_report(&mut out, report.as_ref());
                eprint!("{out}");
            }
            eprintln!(
                "{} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return ExitCode::from(2);
        }
    };
    let sample = match request {
        None => Sample {
            context: Sample::default_context(),
            ..Sample::default()
        },
        Some(p) => {
            let parsed = std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|t| Sample::from_json_text(&t));
            match parsed {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {}: {e}", p.display());
                    return ExitCode::from(2);
                }
            }
        }
    };
    let env = Env::new(&sample);
    let mut out = Output::new();
    let result = tollgate_template::interpret::render(&template, &env, &mut out);
    let _ = std::io::stdout().write_all(out.body.as_bytes());
    let o = &out.overrides;
    let show = |what: &str, list: &[(String, tollgate_vtl::Value)]| {
        for (n, v) in list {
            eprintln!("override: {what}.{n} = {}", v.to_java_string());
        }
    };
    show("requestOverride.header", &o.request_header);
    show("requestOverride.path", &o.request_path);
    show("requestOverride.querystring", &o.request_querystring);
    show("responseOverride.header", &o.response_header);
    if let Some(s) = &o.response_status {
        eprintln!("override: responseOverride.status = {}", s.to_java_string());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let answer = match e.kind {
                ErrorKind::BodyNotJson => "400 in a request template, 500 in a response template",
                ErrorKind::Template => "500 Internal server error",
            };
            eprintln!("\nerror: the template failed: {e}\n(the gateway would answer {answer})");
            ExitCode::FAILURE
        }
    }
}

fn serve(file: &Path, release: bool, args: &[String]) -> ExitCode {
    let Some(checked) = load(file) else {
        return ExitCode::FAILURE;
    };
    let api = &checked.api;
    let handlers: Vec<String> = api
        .routes
        .iter()
        .filter_map(|r| match &r.integration {
            Integration::Handler { name, .. } => {
                Some(format!("`{}` ({} {})", name.value, r.method.value, r.path))
            }
            _ => None,
        })
        .collect();
    if !handlers.is_empty() {
        eprintln!(
            "error: API `{}` has handler integrations: {}.\n\
             Handlers are Rust functions, so `tollgate serve` cannot build them from the file alone.\n\
             help: compile the API from build.rs with `tollgate_codegen::compile(\"{}\")`, implement the \
             generated trait and call `tollgate::run(...)` — see examples/petstore.",
            api.name.value,
            handlers.join(", "),
            file.display()
        );
        return ExitCode::from(2);
    }

    let source_name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = match tollgate_codegen::generate(api, &source_name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("tollgate-serve");
    let project = target.join(&api.name.value);
    let package = format!("tollgate-serve-{}", api.name.value);
    let (_, api_type) = tollgate_codegen::type_names(api);
    if let Err(e) = write_project(&project, &package, &api_type, &code) {
        eprintln!("error: cannot write {}: {e}", project.display());
        return ExitCode::FAILURE;
    }

    eprintln!("building {} …", project.display());
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target.join("target"));
    if release {
        build.arg("--release");
    }
    match build.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("error: building the gateway failed ({s})");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            return ExitCode::FAILURE;
        }
    }
    let binary = target
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    exec(&binary, args)
}

fn write_project(dir: &Path, package: &str, api_type: &str, code: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    // In a checkout the gateway links this very tollgate; an installed CLI uses the release.
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dep = if here.join("runtime").is_dir() {
        format!(
            "{{ path = {:?}, default-features = false }}",
            here.display().to_string()
        )
    } else {
        format!(
            "{{ version = \"={}\", default-features = false }}",
            env!("CARGO_PKG_VERSION")
        )
    };
    let manifest = format!(
        "# @generated by `tollgate serve`. Do not edit by hand.\n\
         [package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\ntollgate = {dep}\n\n[workspace]\n"
    );
    let main = format!(
        "// @generated by `tollgate serve`. Do not edit by hand.\n\
         mod api {{\n    include!(\"api.rs\");\n}}\n\n\
         fn main() -> std::process::ExitCode {{\n    tollgate::run(api::{api_type}::new(()))\n}}\n"
    );
    // Pin the same dependency versions as this checkout, so the build reuses what is cached.
    let lock = here.join("Cargo.lock");
    if lock.is_file() && !dir.join("Cargo.lock").exists() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))?;
    }
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), &main)?;
    write_if_changed(&dir.join("src/api.rs"), code)
}

fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents)
}

#[cfg(unix)]
fn exec(binary: &Path, args: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Replace this process, so signals (Ctrl-C, SIGTERM) reach the gateway directly.
    let err = Command::new(binary).args(args).exec();
    eprintln!("error: cannot run {}: {err}", binary.display());
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn exec(binary: &Path, args: &[String]) -> ExitCode {
    match Command::new(binary).args(args).status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", binary.display());
            ExitCode::FAILURE
        }
    }
}

// ---- tollgate model validate ------------------------------------------------------------------

/// Exit status when nothing could be validated (bad arguments, schema or API errors).
const CANNOT_VALIDATE: u8 = 2;

fn model_validate(
    files: &[PathBuf],
    api: Option<&Path>,
    model: Option<&str>,
    format: Format,
) -> ExitCode {
    let compiled = match (api, model, files) {
        (Some(api), Some(model), [document]) => api_model(api, model).map(|c| (c, document)),
        (None, None, [schema, document]) => schema_file(schema).map(|c| (c, document)),
        (Some(_), _, _) => {
            return usage_error(
                "with --api and --model, give only the document: \
                 `tollgate model validate --api API.kdl --model NAME DOCUMENT.json`",
            );
        }
        _ => {
            return usage_error(
                "give a schema and a document: `tollgate model validate SCHEMA.json DOCUMENT.json` \
                 (or --api API.kdl --model NAME DOCUMENT.json)",
            );
        }
    };
    let Ok(((set, root), document)) = compiled else {
        return ExitCode::from(CANNOT_VALIDATE);
    };
    let (name, bytes) = match read_input(document) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(CANNOT_VALIDATE);
        }
    };
    let doc = match parse_document(&bytes) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!(
                "error: {name}:{}:{}: the document is not JSON: {}",
                e.line(),
                e.column(),
                json_error_message(&e)
            );
            return ExitCode::FAILURE;
        }
    };
    let violations = schema::interpret::validate(&set, root, &doc);
    print_violations(&violations, format);
    if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} violation(s)", violations.len());
        ExitCode::FAILURE
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!(
        "error: {message}\n\nUsage: {VALIDATE_USAGE}\n\n\
         For more information, try 'tollgate model validate --help'."
    );
    ExitCode::from(CANNOT_VALIDATE)
}

/// Compiles a schema file (with the `file://` documents it refers to) and returns its root.
fn schema_file(path: &Path) -> Result<(SchemaSet, NodeId), ()> {
    let shown = path.display().to_string();
    let fail = |message: String| {
        eprintln!("error: {message}");
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read {shown}: {e}")))?;
    let schema: Value = serde_json::from_slice(&bytes).map_err(|e| {
        fail(format!(
            "{shown}:{}:{}: the schema is not JSON: {}",
            e.line(),
            e.column(),
            json_error_message(&e)
        ))
    })?;
    let absolute = std::fs::canonicalize(path)
        .map_err(|e| fail(format!("cannot resolve the path {shown}: {e}")))?;
    let base = file_uri(&absolute);
    // Why each document the compiler asked for could not be loaded, to explain its errors.
    let notes = RefCell::new(Vec::new());
    let resolver = |uri: &str| -> Option<Value> {
        let note = |why: String| notes.borrow_mut().push(why);
        let Some(file) = file_path(uri) else {
            note(format!(
                "`{uri}` was not loaded: only file:// documents are, nothing is fetched over the \
                 network"
            ));
            return None;
        };
        let text = match std::fs::read(&file) {
            Ok(text) => text,
            Err(e) => {
                note(format!("cannot read {}: {e}", file.display()));
                return None;
            }
        };
        match serde_json::from_slice(&text) {
            Ok(value) => Some(value),
            Err(e) => {
                note(format!(
                    "{}:{}:{}: the schema is not JSON: {}",
                    file.display(),
                    e.line(),
                    e.column(),
                    json_error_message(&e)
                ));
                None
            }
        }
    };
    let compiled = schema::compile_with(
        &[(base.as_str(), &schema)],
        &resolver,
        &schema::CompileOptions::default(),
    );
    let shown_location = |location: &str| -> String {
        let (document, pointer) = location.split_once('#').unwrap_or((location, ""));
        let document = if document == base {
            shown.clone()
        } else {
            file_path(document).map_or_else(|| document.to_owned(), |p| p.display().to_string())
        };
        format!("{document}#{pointer}")
    };
    let result = check_compiled(compiled, &shown_location);
    for note in notes.borrow().iter() {
        eprintln!("note: {note}");
    }
    let (set, roots) = result.map_err(schema_summary)?;
    Ok((set, roots[0]))
}

/// Loads an API file and compiles all its models together; returns the root of `model`.
fn api_model(file: &Path, model: &str) -> Result<(SchemaSet, NodeId), ()> {
    let checked = load(file).ok_or(())?;
    let api = &checked.api;
    let Some(index) = api.models.iter().position(|m| m.name.value == model) else {
        let names: Vec<&str> = api.models.iter().map(|m| m.name.value.as_str()).collect();
        let close = names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(model))
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        eprintln!(
            "error: API `{}` has no model `{model}`\n  help: {close}its models are: {}",
            api.name.value,
            names.join(", ")
        );
        return Err(());
    };
    let uris: Vec<String> = api
        .models
        .iter()
        .map(|m| tollgate_dsl::check::model_uri(&m.name.value))
        .collect();
    let roots: Vec<(&str, &Value)> = uris
        .iter()
        .map(String::as_str)
        .zip(api.models.iter().map(|m| &m.schema))
        .collect();
    let shown_location = |location: &str| -> String {
        let (document, pointer) = location.split_once('#').unwrap_or((location, ""));
        match document.strip_prefix("model:") {
            Some(name) if pointer.is_empty() => format!("model `{name}`, at the root"),
            Some(name) => format!("model `{name}`, at {pointer}"),
            None => location.to_owned(),
        }
    };
    let (set, roots) =
        check_compiled(schema::compile(&roots), &shown_location).map_err(schema_summary)?;
    Ok((set, roots[index]))
}

/// Prints every schema error (and refuses schemas no validator can evaluate, as `check` does);
/// the error is how many there were.
fn check_compiled(
    compiled: Result<(SchemaSet, Vec<NodeId>), Vec<SchemaError>>,
    shown_location: &dyn Fn(&str) -> String,
) -> Result<(SchemaSet, Vec<NodeId>), usize> {
    let errors = match compiled {
        Ok((set, roots)) => match set.unguarded_cycle() {
            None => return Ok((set, roots)),
            Some(node) => vec![SchemaError {
                location: set.node(node).location.clone(),
                message: "this schema refers back to itself without descending into the document"
                    .to_owned(),
                help: "a `$ref`/`allOf`/`anyOf`/`oneOf`/`not` loop never terminates; reach the \
                       recursion through `properties` or `items`"
                    .to_owned(),
            }],
        },
        Err(errors) => errors,
    };
    for e in &errors {
        eprintln!(
            "error: {}\n  --> {}\n  help: {}",
            e.message,
            shown_location(&e.location),
            e.help
        );
    }
    Err(errors.len())
}

fn schema_summary(errors: usize) {
    eprintln!("the schema has {errors} error(s)");
}

/// The bytes of `path` (`-`: stdin) and the name to show for it.
fn read_input(path: &Path) -> Result<(String, Vec<u8>), String> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(("<stdin>".to_owned(), bytes));
    }
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => Ok((name, bytes)),
        Err(e) => Err(format!("cannot read {name}: {e}")),
    }
}

/// The document as the gateway sees a request body: nothing but whitespace is `{}`.
fn parse_document(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes)
}

/// A JSON error's message without serde_json's ` at line L column C` (shown as `L:C` instead).
fn json_error_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

fn print_violations(violations: &[Violation], format: Format) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (`| head`) is not worth a panic; the exit status still tells.
    let _ = match format {
        Format::Json => match serde_json::to_string_pretty(violations) {
            Ok(json) => writeln!(out, "{json}"),
            Err(e) => writeln!(out, "error: cannot serialise the violations: {e}"),
        },
        Format::Text if violations.is_empty() => writeln!(out, "valid"),
        Format::Text => violations.iter().try_for_each(|v| {
            let pointer = if v.instance.is_empty() {
                "/"
            } else {
                &v.instance
            };
            writeln!(
                out,
                "{}: {} [{}]",
                one_line(pointer),
                one_line(&v.message),
                v.keyword
            )
        }),
    };
}

/// `s` with control characters escaped (`\n`, `\u{1b}`), so a violation stays on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bytes a `file://` URI path keeps unencoded (RFC 3986 unreserved characters and `/`).
fn uri_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// `file:///abs/path`, percent-encoded, for an absolute path.
fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = {
        // `C:\dir\x.json` → `/C:/dir/x.json`; the verbatim prefix of canonical paths goes.
        let s = path.to_string_lossy();
        let s = s.strip_prefix(r"\\?\").unwrap_or(&s).replace('\\', "/");
        format!("/{}", s.trim_start_matches('/')).into_bytes()
    };
    let mut uri = String::from("file://");
    for b in bytes {
        if uri_safe(b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The local path of a `file://` URI (empty or `localhost` authority), percent-decoded.
fn file_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    if !rest.starts_with('/') {
        return None;
    }
    let mut bytes = Vec::with_capacity(rest.len());
    let mut input = rest.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let hex = [input.next()?, input.next()?];
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    #[cfg(unix)]
    let path =
        PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes));
    #[cfg(not(unix))]
    let path = {
        let s = String::from_utf8(bytes).ok()?;
        // `/C:/dir/x.json` → `C:/dir/x.json`
        let s = match s.as_bytes() {
            [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() => s[1..].to_owned(),
            _ => s,
        };
        PathBuf::from(s)
    };
    Some(path)
}
