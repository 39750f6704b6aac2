//! The `tollgate` command-line tool.
//!
//! - `tollgate check FILE [--emit ir]`: read and check an API file, print every diagnostic (or
//!   the IR as JSON).
//! - `tollgate serve FILE [--stage S] [--listen ADDR] …`: compile a config-only API (mock and
//!   http-proxy integrations) into a binary under `target/tollgate-serve/` and run it.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use tollgate_dsl::ir::Integration;

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
