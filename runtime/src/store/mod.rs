//! Stores: where API keys, quota counters, usage and (with Redis) throttle buckets live, chosen
//! at start-up with `--store`.
//!
//! | store | keys | buckets, quotas, usage | for |
//! |---|---|---|---|
//! | `memory` (default) | a keys file (`--api-keys`), re-read when it changes | this process; a restart forgets them | one instance, nothing to install |
//! | `sqlite:PATH` | the database | this process, written to the database every flush interval (1 s) and at shutdown | one instance whose quotas and usage survive restarts |
//! | `redis://HOST:PORT/DB` | Redis | Redis, one script per decision | many instances sharing every limit |
//!
//! Key management ([`KeyStore`]) is synchronous and the same for the `tollgate keys` command,
//! the admin endpoint and the gateway's background refresh; only the per-request decision is
//! on the request path (and async only for Redis).

pub mod file;
#[cfg(feature = "redis")]
pub mod redis;
pub(crate) mod running;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::keys::{self, ApiKey, Digest};
use crate::usage::{UsageQuery, UsageRow};

/// Which store, from `--store`: `memory`, `sqlite:PATH` or `redis://…`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSpec {
    /// This process's memory (keys from a keys file).
    #[default]
    Memory,
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A Redis server, by URL (`redis://[:password@]host:port[/db]`).
    Redis(String),
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<StoreSpec, String> {
        if s == "memory" {
            return Ok(StoreSpec::Memory);
        }
        if let Some(path) = s.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err("`sqlite:` needs a file: `sqlite:tollgate.db`".to_owned());
            }
            return Ok(StoreSpec::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("redis://") || s.starts_with("redis+unix://") {
            return Ok(StoreSpec::Redis(s.to_owned()));
        }
        if s.starts_with("rediss://") {
            return Err("TLS connections to Redis (`rediss://`) are not supported yet".to_owned());
        }
        Err(format!(
            "`{s}` is not a store: use `memory`, `sqlite:PATH` or `redis://HOST:PORT/DB`"
        ))
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Memory => f.write_str("memory"),
            StoreSpec::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            StoreSpec::Redis(url) => f.write_str(&redact(url)),
        }
    }
}

/// A Redis URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// What the gateway does when its store cannot decide (Redis unreachable or too slow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Serve the request without the store's limits (API Gateway's behaviour when its usage
    /// plan check fails internally). API keys are still checked against the last keys loaded.
    #[default]
    Open,
    /// Refuse the request: 503 `Service Unavailable` with `Retry-After: 1`.
    Closed,
}

impl FromStr for FailMode {
    type Err = String;

    fn from_str(s: &str) -> Result<FailMode, String> {
        match s {
            "open" => Ok(FailMode::Open),
            "closed" => Ok(FailMode::Closed),
            other => Err(format!(
                "`{other}` is not a failure mode: use `open` or `closed`"
            )),
        }
    }
}

/// Start-up settings of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Which store. Default `memory`.
    pub spec: StoreSpec,
    /// The keys file of the memory store. Default none: every key is unknown.
    pub api_keys_file: Option<PathBuf>,
    /// What to do when the store cannot decide. Default [`FailMode::Open`].
    pub on_failure: FailMode,
    /// How often the gateway looks for changed keys. Default 2 s.
    pub keys_refresh: Duration,
    /// How often the SQLite store writes counters (the most a crash can lose). Default 1 s.
    pub flush_interval: Duration,
    /// How long one Redis decision may take before the failure mode applies. Default 200 ms.
    pub redis_timeout: Duration,
    /// The prefix of every Redis key. Default `tollgate`.
    pub redis_prefix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            spec: StoreSpec::Memory,
            api_keys_file: None,
            on_failure: FailMode::Open,
            keys_refresh: Duration::from_secs(2),
            flush_interval: Duration::from_secs(1),
            redis_timeout: Duration::from_millis(200),
            redis_prefix: "tollgate".to_owned(),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug)]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    Backend(String),
    /// The stored data is not what tollgate writes.
    Corrupt(String),
    /// The operation does not exist for this store.
    Unsupported(String),
    /// The request is invalid (unknown key, duplicate value, …).
    Invalid(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend(m)
            | StoreError::Corrupt(m)
            | StoreError::Unsupported(m)
            | StoreError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

/// A counter change to persist: `delta` requests in `period` of `(api, plan, key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterDelta {
    /// The API's name.
    pub api: String,
    /// The usage plan.
    pub plan: String,
    /// The key id.
    pub key_id: String,
    /// The period index (quota) or day since the epoch (usage).
    pub period: u32,
    /// Requests to add (negative after refunds the previous flush did not see).
    pub delta: i64,
}

/// Persisted counters of one API: `(plan, key id) → (period, count)`.
pub type Counters = std::collections::HashMap<(String, String), (u32, u32)>;

/// Key management and usage reports, synchronous. One implementation per store.
pub trait KeyStore: Send {
    /// A change token: it differs whenever the keys differ.
    fn version(&mut self) -> Result<String, StoreError>;
    /// Every key.
    fn keys(&mut self) -> Result<Vec<ApiKey>, StoreError>;
    /// Inserts or replaces keys by id, all or none.
    fn put(&mut self, keys: &[ApiKey]) -> Result<(), StoreError>;
    /// Deletes a key; whether it existed.
    fn delete(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Usage per key, plan and day.
    fn usage(&mut self, query: &UsageQuery) -> Result<Vec<UsageRow>, StoreError>;
    /// Counters persisted for `api`: quotas in the periods given per plan (`quota_periods`), and
    /// usage of `day`. Stores that keep no counters return none.
    fn load_counters(
        &mut self,
        _api: &str,
        _quota_periods: &[(String, u32)],
        _day: u32,
    ) -> Result<(Counters, Counters), StoreError> {
        Ok(Default::default())
    }
    /// Adds counter deltas (quota, usage), all or none. Stores that keep counters elsewhere
    /// ignore them.
    fn save_counters(
        &mut self,
        _quota: &[CounterDelta],
        _usage: &[CounterDelta],
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Opens the key store of `spec` (`keys_file` for the memory store).
pub fn open(spec: &StoreSpec, keys_file: Option<&Path>) -> Result<Box<dyn KeyStore>, StoreError> {
    match spec {
        StoreSpec::Memory => match keys_file {
            Some(path) => Ok(Box::new(file::KeysFile::new(path))),
            None => Ok(Box::new(file::NoKeys)),
        },
        #[cfg(feature = "sqlite")]
        StoreSpec::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path)?)),
        #[cfg(not(feature = "sqlite"))]
        StoreSpec::Sqlite(_) => Err(StoreError::Unsupported(
            "this build has no SQLite store: enable tollgate's `sqlite` feature".to_owned(),
        )),
        #[cfg(feature = "redis")]
        StoreSpec::Redis(url) => Ok(Box::new(redis::RedisKeys::open(url, "tollgate")?)),
        #[cfg(not(feature = "redis"))]
        StoreSpec::Redis(_) => Err(StoreError::Unsupported(
            "this build has no Redis store: enable tollgate's `redis` feature".to_owned(),
        )),
    }
}

/// Opens the key store a gateway configured with `config` uses.
pub fn open_config(config: &StoreConfig) -> Result<Box<dyn KeyStore>, StoreError> {
    match &config.spec {
        #[cfg(feature = "redis")]
        StoreSpec::Redis(url) => Ok(Box::new(redis::RedisKeys::open(url, &config.redis_prefix)?)),
        spec => open(spec, config.api_keys_file.as_deref()),
    }
}

/// The response cache's backend for `config`: Redis when the store is Redis (shared by every
/// instance), else `None` (this process's memory).
pub(crate) fn cache_backend(
    spec: &'static crate::gateway::ApiSpec,
    config: &StoreConfig,
) -> Result<Option<crate::cache::Backend>, StoreError> {
    match &config.spec {
        #[cfg(feature = "redis")]
        StoreSpec::Redis(url) if spec.stages.iter().any(|s| s.cache.is_some()) => Ok(Some(
            crate::cache::Backend::Redis(redis::RedisCache::new(spec, url, config)?),
        )),
        _ => {
            let _ = spec;
            Ok(None)
        }
    }
}

/// A new key to create.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its value; `None` generates one.
    pub value: Option<String>,
    /// Whether it starts enabled.
    pub enabled: bool,
    /// Its usage plans.
    pub plans: Vec<String>,
}

/// Creates a key; returns it with its value (the only time the value is known).
pub fn create_key(
    store: &mut dyn KeyStore,
    new: NewKey,
    now_ms: u64,
) -> Result<(ApiKey, String), StoreError> {
    keys::check_name(&new.name).map_err(StoreError::Invalid)?;
    check_plans(&new.plans)?;
    let value = match new.value {
        Some(v) => {
            keys::check_value(&v).map_err(StoreError::Invalid)?;
            v
        }
        None => keys::generate_value().map_err(|e| StoreError::Backend(e.to_string()))?,
    };
    let digest = Digest::of(&value);
    let existing = store.keys()?;
    if existing.iter().any(|k| k.digest == digest) {
        return Err(StoreError::Invalid(
            "a key with this value exists already".to_owned(),
        ));
    }
    let key = ApiKey {
        id: fresh_id(&existing)?,
        name: new.name,
        description: new.description,
        digest,
        enabled: new.enabled,
        created_ms: now_ms,
        plans: new.plans,
    };
    store.put(std::slice::from_ref(&key))?;
    Ok((key, value))
}

fn fresh_id(existing: &[ApiKey]) -> Result<String, StoreError> {
    loop {
        let id = keys::generate_id().map_err(|e| StoreError::Backend(e.to_string()))?;
        if !existing.iter().any(|k| k.id == id) {
            return Ok(id);
        }
    }
}

fn check_plans(plans: &[String]) -> Result<(), StoreError> {
    if plans.len() > keys::MAX_PLANS_PER_KEY {
        return Err(StoreError::Invalid(format!(
            "a key belongs to at most {} usage plans",
            keys::MAX_PLANS_PER_KEY
        )));
    }
    for p in plans {
        if p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(StoreError::Invalid(format!(
                "`{p}` is not a usage plan name (letters, digits, `_`, `-`)"
            )));
        }
    }
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Keys that were new.
    pub created: usize,
    /// Keys whose value existed already (API Gateway: the newest import wins).
    pub updated: usize,
}

/// Imports keys read by [`keys::parse_import`], all or none. A key whose value exists already
/// is overwritten (its id and creation time stay), as API Gateway's import does.
pub fn import_keys(
    store: &mut dyn KeyStore,
    rows: &[keys::ImportedKey],
    now_ms: u64,
) -> Result<ImportSummary, StoreError> {
    let mut existing = store.keys()?;
    let mut summary = ImportSummary::default();
    let mut batch = Vec::with_capacity(rows.len());
    for row in rows {
        check_plans(&row.plans)
            .map_err(|e| StoreError::Invalid(format!("line {}: {e}", row.line)))?;
        let digest = Digest::of(&row.value);
        let (id, created_ms) = match existing.iter().find(|k| k.digest == digest) {
            Some(k) => {
                summary.updated += 1;
                (k.id.clone(), k.created_ms)
            }
            None => {
                summary.created += 1;
                (fresh_id(&existing)?, now_ms)
            }
        };
        let key = ApiKey {
            id,
            name: row.name.clone(),
            description: row.description.clone(),
            digest,
            enabled: row.enabled,
            created_ms,
            plans: row.plans.clone(),
        };
        existing.retain(|k| k.id != key.id);
        existing.push(key.clone());
        batch.push(key);
    }
    store.put(&batch)?;
    Ok(summary)
}

/// Changes one key with `f`; the key as it is now.
pub fn update_key(
    store: &mut dyn KeyStore,
    id: &str,
    f: impl FnOnce(&mut ApiKey),
) -> Result<ApiKey, StoreError> {
    let mut key = store
        .keys()?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| StoreError::Invalid(format!("no API key `{id}`")))?;
    f(&mut key);
    check_plans(&key.plans)?;
    store.put(std::slice::from_ref(&key))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_parse() {
        assert_eq!("memory".parse(), Ok(StoreSpec::Memory));
        assert_eq!(
            "sqlite:/var/lib/tg.db".parse(),
            Ok(StoreSpec::Sqlite("/var/lib/tg.db".into()))
        );
        assert_eq!(
            "redis://127.0.0.1:6379/2".parse(),
            Ok(StoreSpec::Redis("redis://127.0.0.1:6379/2".into()))
        );
        assert!("sqlite:".parse::<StoreSpec>().is_err());
        assert!("postgres://x".parse::<StoreSpec>().is_err());
        assert_eq!(
            StoreSpec::Redis("redis://:secret@h:1/0".into()).to_string(),
            "redis://***@h:1/0"
        );
        assert_eq!("closed".parse(), Ok(FailMode::Closed));
        assert!("maybe".parse::<FailMode>().is_err());
    }
}
