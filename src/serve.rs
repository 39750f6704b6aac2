//! Running a generated gateway as a program: command-line flags, logging, a tokio runtime,
//! signals. `tollgate::run(api)` is the whole `main` of a gateway binary.

use clap::Parser;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;
use tollgate_runtime::store::{FailMode, StoreConfig, StoreSpec};
use tollgate_runtime::{Gateway, Server, ServerConfig, StageVariableOverride};

/// The flags every tollgate gateway binary accepts.
#[derive(Debug, Clone, Parser)]
#[command(about = "An API gateway compiled by tollgate")]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Serve only this stage (default: every stage, each under /{stage}/).
    #[arg(long)]
    pub stage: Option<String>,

    /// Mount the stage chosen with --stage at / instead of /{stage}/.
    #[arg(long, requires = "stage")]
    pub at_root: bool,

    /// Override a stage variable: NAME=VALUE for every stage, or STAGE.NAME=VALUE. Repeatable.
    #[arg(long = "stage-var", value_name = "[STAGE.]NAME=VALUE", value_parser = parse_override)]
    pub stage_vars: Vec<StageVariableOverride>,

    /// Seconds to let in-flight requests finish after Ctrl-C or SIGTERM.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,

    /// Seconds an HTTP/1.1 connection may wait for a request's headers — before its first
    /// request, between keep-alive requests, or while they trickle in — before it is closed
    /// (checked four times per period, so within a quarter more; 0 turns the limit off).
    #[arg(long, default_value_t = 30)]
    pub header_read_timeout: u64,

    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `tollgate_runtime=debug`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// Where API keys, quotas, usage and buckets live: `memory`, `sqlite:PATH` (survives
    /// restarts) or `redis://HOST:PORT/DB` (shared by many gateway instances).
    #[arg(
        long,
        env = "TOLLGATE_STORE",
        default_value = "memory",
        value_name = "STORE"
    )]
    pub store: StoreSpec,

    /// The memory store's API keys: a file `tollgate keys --api-keys FILE …` manages, re-read
    /// when it changes.
    #[arg(long, env = "TOLLGATE_API_KEYS", value_name = "FILE")]
    pub api_keys: Option<std::path::PathBuf>,

    /// When the store cannot decide (Redis down or slow): `open` serves without limits (API
    /// Gateway's behaviour), `closed` answers 503.
    #[arg(
        long,
        env = "TOLLGATE_STORE_FAILURE",
        default_value = "open",
        value_name = "open|closed"
    )]
    pub store_failure: FailMode,

    /// Milliseconds between looks for changed API keys.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub keys_refresh_ms: u64,

    /// Milliseconds between writes of quota and usage counters (SQLite): the most a crash loses.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub flush_interval_ms: u64,

    /// Milliseconds one Redis decision may take before --store-failure applies.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub redis_timeout_ms: u64,

    /// Prefix of every Redis key.
    #[arg(long, default_value = "tollgate", value_name = "PREFIX")]
    pub redis_prefix: String,

    /// Serve the admin endpoint (usage, keys, health) on this loopback address, e.g.
    /// 127.0.0.1:9901.
    #[arg(long, env = "TOLLGATE_ADMIN", value_name = "ADDR")]
    pub admin: Option<SocketAddr>,

    /// IAM credentials for `auth iam` methods: a JSON file
    /// `[{"accessKeyId": …, "secretAccessKey": …, "principal": "arn:aws:iam::ACCOUNT:user/NAME"}]`.
    #[arg(long, env = "TOLLGATE_IAM_CREDENTIALS", value_name = "FILE")]
    pub iam_credentials: Option<std::path::PathBuf>,

    /// PEM CA certificates to trust, besides the public web roots, when fetching a JWT
    /// authorizer's `jwks-uri` (a private identity provider).
    #[arg(long, env = "TOLLGATE_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
}

fn parse_override(s: &str) -> Result<StageVariableOverride, String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE or STAGE.NAME=VALUE"))?;
    let (stage, name) = match key.split_once('.') {
        Some((stage, name)) => (Some(stage.to_owned()), name),
        None => (None, key),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "`{name}` is not a stage variable name (letters, digits, `_`)"
        ));
    }
    Ok(StageVariableOverride {
        stage,
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

impl ServeArgs {
    /// The server configuration these flags describe; an unreadable or malformed credentials
    /// or CA file is an error naming it.
    pub fn config(&self) -> Result<ServerConfig, String> {
        let mut c = ServerConfig::default()
            .listen(self.listen)
            .at_root(self.at_root)
            .shutdown_grace(Duration::from_secs(self.shutdown_grace))
            .header_read_timeout(
                (self.header_read_timeout > 0)
                    .then(|| Duration::from_secs(self.header_read_timeout)),
            );
        if let Some(s) = &self.stage {
            c = c.stage(s.clone());
        }
        c = c.store(StoreConfig {
            spec: self.store.clone(),
            api_keys_file: self.api_keys.clone(),
            on_failure: self.store_failure,
            keys_refresh: Duration::from_millis(self.keys_refresh_ms),
            flush_interval: Duration::from_millis(self.flush_interval_ms),
            redis_timeout: Duration::from_millis(self.redis_timeout_ms.max(1)),
            redis_prefix: self.redis_prefix.clone(),
        });
        c = c.admin(self.admin);
        for o in &self.stage_vars {
            c = c.stage_variable(o.clone());
        }
        if let Some(path) = &self.iam_credentials {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read --iam-credentials {}: {e}", path.display()))?;
            let creds = tollgate_runtime::auth::sigv4::Credentials::from_json(&text)
                .map_err(|e| format!("--iam-credentials {}: {e}", path.display()))?;
            c = c.iam_credentials(creds);
        }
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read --ca-file {}: {e}", path.display()))?;
            c = c.extra_roots(Some(pem));
        }
        Ok(c)
    }
}

/// Parses the process's flags ([`ServeArgs`]) and serves `gateway` until Ctrl-C or SIGTERM.
///
/// Prints `listening on http://ADDR` on stdout once bound, then one line per served stage.
pub fn run<G: Gateway>(gateway: G) -> ExitCode {
    run_with(gateway, ServeArgs::parse())
}

/// Like [`run`], with flags parsed by the caller.
pub fn run_with<G: Gateway>(gateway: G, args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let bound = match Server::new(gateway).config(config).bind().await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Write errors are ignored: a closed stdout must not take the gateway down.
        let spec = G::SPEC;
        let flavor = match spec.flavor {
            tollgate_runtime::Flavor::Rest => "REST",
            tollgate_runtime::Flavor::Http => "HTTP",
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", bound.local_addr());
        for url in bound.stage_urls() {
            let _ = writeln!(out, "  {url} ({flavor} API `{}`)", spec.name);
        }
        if let Some(admin) = bound.admin_addr() {
            let _ = writeln!(out, "admin on http://{admin}");
        }
        let _ = out.flush();
        drop(out);
        match bound.serve().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_variable_overrides_parse_with_and_without_a_stage() {
        let o = parse_override("prod.upstream=http://127.0.0.1:1/x?a=b").unwrap();
        assert_eq!(o.stage.as_deref(), Some("prod"));
        assert_eq!(o.name, "upstream");
        assert_eq!(o.value, "http://127.0.0.1:1/x?a=b");
        let o = parse_override("upstream=x").unwrap();
        assert_eq!(o.stage, None);
        assert!(parse_override("novalue").is_err());
        assert!(parse_override("bad name=1").is_err());
    }
}
