//! `tollgate keys …` and `tollgate usage …`: API keys and usage reports, managed outside the
//! gateway binary, in the same store the gateway reads (`--store`, or `--api-keys FILE` for the
//! memory store).

use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tollgate_runtime::keys::{self, ApiKey};
use tollgate_runtime::store::{self, KeyStore, NewKey, StoreError, StoreSpec};
use tollgate_runtime::usage::{self, UsageQuery};
use tollgate_vtl::calendar::{iso_datetime, parse_iso_date};

/// Which store a command works on.
#[derive(Debug, Args)]
pub struct Target {
    /// The store the gateway runs with: `sqlite:PATH` or `redis://HOST:PORT/DB`.
    #[arg(long, env = "TOLLGATE_STORE", global = true, value_name = "STORE")]
    store: Option<StoreSpec>,
    /// The memory store's keys file (what the gateway's --api-keys reads).
    #[arg(long, env = "TOLLGATE_API_KEYS", global = true, value_name = "FILE")]
    api_keys: Option<PathBuf>,
    /// Prefix of every Redis key (as the gateway's --redis-prefix).
    #[arg(long, global = true, default_value = "tollgate", value_name = "PREFIX")]
    redis_prefix: String,
}

/// Text for people or JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// JSON.
    Json,
}

/// `tollgate keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a key; its value is printed once and never stored.
    Create {
        /// A name for people.
        #[arg(long)]
        name: String,
        /// A description for people.
        #[arg(long, default_value = "")]
        description: String,
        /// A usage plan the key belongs to (repeatable).
        #[arg(long = "plan", value_name = "PLAN")]
        plans: Vec<String>,
        /// Use this value instead of a random one (20 to 128 characters).
        #[arg(long)]
        value: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
        /// Check the plans against this API file's usage plans.
        #[arg(long, value_name = "API.kdl")]
        api: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        format: Output,
    },
    /// List the keys (never their values).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        format: Output,
    },
    /// Disable a key: requests with it answer 403.
    Disable {
        /// The key's id.
        id: String,
    },
    /// Enable a disabled key.
    Enable {
        /// The key's id.
        id: String,
    },
    /// Delete a key.
    Delete {
        /// The key's id.
        id: String,
    },
    /// Set a key's usage plans.
    SetPlans {
        /// The key's id.
        id: String,
        /// The plans (none: the key is in no plan).
        plans: Vec<String>,
        /// Check the plans against this API file's usage plans.
        #[arg(long, value_name = "API.kdl")]
        api: Option<PathBuf>,
    },
    /// Import keys from API Gateway's CSV format (`Name,Key[,Description,Enabled,UsagePlanIds]`).
    ///
    /// A key whose value exists already is overwritten, as API Gateway's import does. Nothing
    /// is imported when any line is wrong; every wrong line is reported.
    Import {
        /// The CSV file; `-` reads stdin.
        file: PathBuf,
        /// Check the plans against this API file's usage plans.
        #[arg(long, value_name = "API.kdl")]
        api: Option<PathBuf>,
    },
}

fn open(target: &Target) -> Result<Box<dyn KeyStore>, String> {
    match (&target.store, &target.api_keys) {
        (Some(StoreSpec::Memory) | None, Some(file)) => {
            store::open(&StoreSpec::Memory, Some(file)).map_err(|e| e.to_string())
        }
        (Some(StoreSpec::Redis(url)), None) => {
            let config = store::StoreConfig {
                spec: StoreSpec::Redis(url.clone()),
                redis_prefix: target.redis_prefix.clone(),
                ..Default::default()
            };
            store::open_config(&config).map_err(|e| e.to_string())
        }
        (Some(spec @ StoreSpec::Sqlite(_)), None) => {
            store::open(spec, None).map_err(|e| e.to_string())
        }
        (Some(_), Some(_)) => Err(
            "--api-keys is the memory store's keys file; with --store sqlite:… or redis://… the \
             keys live in that store"
                .to_owned(),
        ),
        (Some(StoreSpec::Memory) | None, None) => Err(
            "say where the keys are: --store sqlite:PATH, --store redis://HOST:PORT/DB, or \
             --api-keys FILE (the memory store's keys file)"
                .to_owned(),
        ),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Checks `plans` against the usage plans of the API in `api` (when given): each must exist,
/// and no two may be bound to one stage (API Gateway allows one plan per stage per key).
fn check_plans(api: Option<&Path>, plans: &[String]) -> Result<(), String> {
    let Some(file) = api else {
        return Ok(());
    };
    let checked = tollgate_dsl::load(file).map_err(|e| match e {
        tollgate_dsl::LoadError::Invalid(d) => format!("{} has errors:\n{d}", file.display()),
        e => e.to_string(),
    })?;
    let api = &checked.api;
    let mut stages: Vec<(&str, &str)> = Vec::new();
    for p in plans {
        let Some(plan) = api.usage_plans.iter().find(|u| &u.name.value == p) else {
            let known: Vec<&str> = api
                .usage_plans
                .iter()
                .map(|u| u.name.value.as_str())
                .collect();
            return Err(format!(
                "API `{}` has no usage plan `{p}`; its plans are: {}",
                api.name.value,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        };
        for s in &plan.stages {
            if let Some((_, other)) = stages.iter().find(|(st, _)| *st == s.name.value) {
                return Err(format!(
                    "plans `{other}` and `{p}` are both bound to stage `{}`; a key may be in one \
                     plan per stage",
                    s.name.value
                ));
            }
            stages.push((&s.name.value, p));
        }
    }
    Ok(())
}

/// A key's plans for people: `basic, gold`, or `none`.
fn plan_list(plans: &[String]) -> String {
    if plans.is_empty() {
        "none".to_owned()
    } else {
        plans.join(", ")
    }
}

fn print_key_line(out: &mut impl Write, k: &ApiKey) {
    let _ = writeln!(
        out,
        "{:<10}  {:<8}  {:<20}  {:<20}  {}",
        k.id,
        if k.enabled { "enabled" } else { "disabled" },
        iso_datetime(k.created_ms as i64),
        if k.plans.is_empty() {
            "-".to_owned()
        } else {
            k.plans.join(",")
        },
        k.name
    );
}

fn key_json(k: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "id": k.id,
        "name": k.name,
        "description": k.description,
        "enabled": k.enabled,
        "createdDate": iso_datetime(k.created_ms as i64),
        "usagePlans": k.plans,
    })
}

/// Runs `tollgate keys …`.
pub fn keys(command: KeysCmd, target: &Target) -> ExitCode {
    let mut store = match open(target) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let store = store.as_mut();
    let result: Result<(), String> = (|| match command {
        KeysCmd::Create {
            name,
            description,
            plans,
            value,
            disabled,
            api,
            format,
        } => {
            check_plans(api.as_deref(), &plans)?;
            let new = NewKey {
                name,
                description,
                value,
                enabled: !disabled,
                plans,
            };
            let (key, value) =
                store::create_key(store, new, now_ms()).map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            match format {
                Output::Json => {
                    let mut v = key_json(&key);
                    v["value"] = serde_json::Value::String(value);
                    let _ = writeln!(out, "{v:#}");
                }
                Output::Text => {
                    let _ = writeln!(
                        out,
                        "created API key {} ({}), usage plans: {}",
                        key.id,
                        key.name,
                        plan_list(&key.plans)
                    );
                    let _ = writeln!(out, "value: {value}");
                    eprintln!("the value is shown only now: only its SHA-256 digest is stored");
                }
            }
            Ok(())
        }
        KeysCmd::List { format } => {
            let keys = store.keys().map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            match format {
                Output::Json => {
                    let list: Vec<_> = keys.iter().map(key_json).collect();
                    let _ = writeln!(out, "{:#}", serde_json::json!({ "items": list }));
                }
                Output::Text => {
                    let _ = writeln!(
                        out,
                        "{:<10}  {:<8}  {:<20}  {:<20}  NAME",
                        "ID", "STATE", "CREATED", "PLANS"
                    );
                    for k in &keys {
                        print_key_line(&mut out, k);
                    }
                }
            }
            Ok(())
        }
        KeysCmd::Disable { id } => {
            let k =
                store::update_key(store, &id, |k| k.enabled = false).map_err(|e| e.to_string())?;
            println!("disabled API key {} ({})", k.id, k.name);
            Ok(())
        }
        KeysCmd::Enable { id } => {
            let k =
                store::update_key(store, &id, |k| k.enabled = true).map_err(|e| e.to_string())?;
            println!("enabled API key {} ({})", k.id, k.name);
            Ok(())
        }
        KeysCmd::Delete { id } => match store.delete(&id).map_err(|e| e.to_string())? {
            true => {
                println!("deleted API key {id}");
                Ok(())
            }
            false => Err(format!("no API key `{id}`")),
        },
        KeysCmd::SetPlans { id, plans, api } => {
            check_plans(api.as_deref(), &plans)?;
            let k =
                store::update_key(store, &id, |k| k.plans = plans).map_err(|e| e.to_string())?;
            println!(
                "API key {} ({}) is in usage plans: {}",
                k.id,
                k.name,
                plan_list(&k.plans)
            );
            Ok(())
        }
        KeysCmd::Import { file, api } => {
            let text = if file == Path::new("-") {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("reading stdin: {e}"))?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let rows = keys::parse_import(&text).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("  {}:{}: {}", file.display(), e.line, e.message))
                    .collect();
                format!(
                    "{} has {} problem(s); nothing was imported:\n{}",
                    file.display(),
                    errors.len(),
                    lines.join("\n")
                )
            })?;
            for row in &rows {
                check_plans(api.as_deref(), &row.plans)
                    .map_err(|e| format!("{}:{}: {e}", file.display(), row.line))?;
            }
            let summary = store::import_keys(store, &rows, now_ms()).map_err(|e| e.to_string())?;
            println!(
                "imported {} key(s): {} created, {} updated",
                rows.len(),
                summary.created,
                summary.updated
            );
            Ok(())
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Report formats of `tollgate usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageFormat {
    /// `{"from","to","items":[…]}`
    Json,
    /// A header row, then one row per key, plan and day.
    Csv,
}

/// `tollgate usage …`
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The first day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: String,
    /// The last day, YYYY-MM-DD (UTC), included. Default: `--from`.
    #[arg(long)]
    to: Option<String>,
    /// Only this key id.
    #[arg(long)]
    key: Option<String>,
    /// Only this usage plan.
    #[arg(long)]
    plan: Option<String>,
    /// Only this API (a store may hold several).
    #[arg(long = "api-name", value_name = "NAME")]
    api: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = UsageFormat::Json)]
    format: UsageFormat,
    /// Ask a running gateway's admin endpoint (any store; the only way for the memory store),
    /// e.g. http://127.0.0.1:9901.
    #[arg(long, value_name = "URL", conflicts_with_all = ["store", "api_keys"])]
    admin: Option<String>,
}

/// Runs `tollgate usage …`.
pub fn usage(args: UsageArgs, target: &Target) -> ExitCode {
    let day =
        |s: &str| parse_iso_date(s).ok_or_else(|| format!("`{s}` is not a date: write YYYY-MM-DD"));
    let (from, to) = match (day(&args.from), args.to.as_deref().map(day).transpose()) {
        (Ok(f), Ok(t)) => (f, t.unwrap_or(f)),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    if from > to {
        return fail("--from is after --to");
    }
    let query = UsageQuery {
        api: args.api.clone(),
        key_id: args.key.clone(),
        plan: args.plan.clone(),
        from_day: from,
        to_day: to,
    };
    if let Some(admin) = &args.admin {
        return usage_from_admin(admin, &args, &query);
    }
    let mut store = match open(target) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let rows = store.usage(&query).and_then(|mut rows| {
        let keys = store.keys()?;
        let names = |id: &str| keys.iter().find(|k| k.id == id).map(|k| k.name.clone());
        usage::finish(&mut rows, &names);
        Ok::<_, StoreError>(rows)
    });
    match rows {
        Ok(rows) => {
            let text = match args.format {
                UsageFormat::Json => usage::to_json(&rows, &query),
                UsageFormat::Csv => usage::to_csv(&rows),
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn usage_from_admin(admin: &str, args: &UsageArgs, query: &UsageQuery) -> ExitCode {
    let mut params = vec![
        format!("from={}", tollgate_vtl::calendar::iso_date(query.from_day)),
        format!("to={}", tollgate_vtl::calendar::iso_date(query.to_day)),
        format!(
            "format={}",
            match args.format {
                UsageFormat::Json => "json",
                UsageFormat::Csv => "csv",
            }
        ),
    ];
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    if let Some(k) = &args.key {
        params.push(format!("key={}", enc(k)));
    }
    if let Some(p) = &args.plan {
        params.push(format!("plan={}", enc(p)));
    }
    let url = format!("{}/usage?{}", admin.trim_end_matches('/'), params.join("&"));
    match admin_request(http::Method::GET, admin, &url) {
        Ok(body) => {
            let _ = std::io::stdout().write_all(&body);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `method url` against a gateway's admin endpoint `admin`: the body of a 2xx answer, or why
/// there was none.
pub fn admin_request(method: http::Method, admin: &str, url: &str) -> Result<bytes::Bytes, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{admin}` is not a URL: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (status, body) = runtime.block_on(async move {
        use http_body_util::BodyExt;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Empty<bytes::Bytes>>();
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(http_body_util::Empty::new())
            .map_err(|e| e.to_string())?;
        let resp =
            tokio::time::timeout(std::time::Duration::from_secs(30), client.request(request))
                .await
                .map_err(|_| "the admin endpoint did not answer within 30 s".to_owned())?
                .map_err(|e| format!("cannot reach the admin endpoint {admin}: {e}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>((status, body))
    })?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!(
            "the admin endpoint answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ))
    }
}

/// `tollgate cache …`
#[derive(Debug, Subcommand)]
pub enum CacheCmd {
    /// Empty a stage's response cache: through a running gateway's admin endpoint (any cache),
    /// or directly in Redis.
    Flush {
        /// The stage.
        #[arg(long)]
        stage: String,
        /// A running gateway's admin endpoint, e.g. http://127.0.0.1:9901.
        #[arg(long, value_name = "URL", conflicts_with = "store")]
        admin: Option<String>,
        /// With --store redis://…: the API whose cache to empty.
        #[arg(long = "api-name", value_name = "NAME", requires = "store")]
        api: Option<String>,
    },
}

/// Runs `tollgate cache …`.
pub fn cache(command: CacheCmd, target: &Target) -> ExitCode {
    let CacheCmd::Flush { stage, admin, api } = command;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    if let Some(admin) = admin {
        let url = format!(
            "{}/cache/flush?stage={}",
            admin.trim_end_matches('/'),
            enc(&stage)
        );
        return match admin_request(http::Method::POST, &admin, &url) {
            Ok(body) => {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                println!(
                    "flushed {} entr{} of stage {stage}",
                    v["flushed"],
                    if v["flushed"] == 1 { "y" } else { "ies" }
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    match (&target.store, api) {
        (Some(StoreSpec::Redis(url)), Some(api)) => {
            let flushed = store::redis::RedisKeys::open(url, &target.redis_prefix)
                .and_then(|mut r| r.flush_cache(&api, &stage));
            match flushed {
                Ok(n) => {
                    println!(
                        "flushed {n} entr{} of stage {stage}",
                        if n == 1 { "y" } else { "ies" }
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        (Some(StoreSpec::Redis(_)), None) => {
            fail("with --store redis://…, say which API: --api-name NAME")
        }
        _ => fail(
            "say which cache: --admin URL (a running gateway; any cache), or --store redis://… \
             --api-name NAME (the shared cache in Redis)",
        ),
    }
}
