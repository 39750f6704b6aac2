//! The Redis store (`--store redis://HOST:PORT/DB`): many gateway instances share every
//! bucket, quota, usage counter and key.
//!
//! **One script per decision.** A request's limits — the key's bucket, its quota, the method's
//! bucket, the account's — are checked and taken by one Lua script (`decide.lua`), atomically:
//! either every limit admits and all are taken, or nothing is. Buckets are GCRA on Redis's own
//! clock (`TIME`), the arithmetic of [`crate::throttle::Bucket`] in microseconds, so instances
//! with skewed clocks still share one schedule; quota periods come from the gateway's clock.
//!
//! **Failure.** Each decision has a deadline (`--redis-timeout-ms`, 200 ms). When Redis errors or
//! is late, the configured [`FailMode`] answers (open: serve without limits; closed: 503), the
//! transition is logged once, and for the next second decisions skip Redis instead of piling
//! up timeouts; then it is tried again, and recovery is logged. Keys keep being checked against
//! the last snapshot loaded.
//!
//! Layout, under the prefix (`tollgate`): `P:keys` (hash id → key JSON), `P:keys:version`,
//! `P:API:b:…` (bucket schedules, expiring once full), `P:API:q:PLAN:KEY:PERIOD` (quota
//! counters, expiring at the period's end), `P:u:YYYY-MM-DD` (usage: hash
//! `API\tPLAN\tKEY` → requests). Single Redis server or replica set; Redis Cluster is not
//! supported (a decision's keys span hash slots).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{FailMode, KeyStore, StoreConfig, StoreError};
use crate::gateway::ApiSpec;
use crate::keys::ApiKey;
use crate::limits::{KeyPlan, Limits, Policy, RateItem, RateLimits, Refusal};
use crate::quota::QuotaPeriod;
use crate::throttle::ThrottleSpec;
use crate::usage::{UsageQuery, UsageRow};

/// The decision script.
pub const DECIDE_LUA: &str = include_str!("decide.lua");

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis: {e}"))
}

/// Keys and usage in Redis, for `tollgate keys`, the admin endpoint and the key refresh.
pub struct RedisKeys {
    client: redis::Client,
    conn: Option<redis::Connection>,
    prefix: String,
}

impl std::fmt::Debug for RedisKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKeys")
            .field("prefix", &self.prefix)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl RedisKeys {
    /// A key store at `url` under `prefix` (connects on first use).
    pub fn open(url: &str, prefix: &str) -> Result<RedisKeys, StoreError> {
        Ok(RedisKeys {
            client: redis::Client::open(url).map_err(backend)?,
            conn: None,
            prefix: prefix.to_owned(),
        })
    }

    fn conn(&mut self) -> Result<&mut redis::Connection, StoreError> {
        if self.conn.is_none() {
            let c = self
                .client
                .get_connection_with_timeout(Duration::from_secs(2))
                .map_err(backend)?;
            c.set_read_timeout(Some(Duration::from_secs(5)))
                .map_err(backend)?;
            c.set_write_timeout(Some(Duration::from_secs(5)))
                .map_err(backend)?;
            self.conn = Some(c);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("redis: not connected".to_owned()))
    }

    /// Runs `f` on the connection; a failed connection is dropped so the next call reconnects.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let result = f(self.conn()?);
        if result.is_err() {
            self.conn = None;
        }
        result.map_err(backend)
    }
}

impl RedisKeys {
    /// Deletes every cached answer of `stage` of `api` (what a gateway's
    /// `POST /cache/flush` does); how many there were.
    pub fn flush_cache(&mut self, api: &str, stage: &str) -> Result<u64, StoreError> {
        let pattern = format!("{}:{api}:c:{stage}:*", self.prefix);
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self.with(|c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(500)
                    .query(c)
            })?;
            if !keys.is_empty() {
                let n: u64 = self.with(|c| redis::cmd("UNLINK").arg(&keys).query(c))?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

impl KeyStore for RedisKeys {
    fn version(&mut self) -> Result<String, StoreError> {
        let key = format!("{}:keys:version", self.prefix);
        let v: Option<i64> = self.with(|c| redis::cmd("GET").arg(&key).query(c))?;
        Ok(v.unwrap_or(0).to_string())
    }

    fn keys(&mut self) -> Result<Vec<ApiKey>, StoreError> {
        let key = format!("{}:keys", self.prefix);
        let all: Vec<(String, String)> = self.with(|c| redis::cmd("HGETALL").arg(&key).query(c))?;
        let mut out = Vec::with_capacity(all.len());
        for (id, json) in all {
            out.push(serde_json::from_str(&json).map_err(|e| {
                StoreError::Corrupt(format!("key `{id}` in {key} is not a tollgate key: {e}"))
            })?);
        }
        out.sort_by(|a: &ApiKey, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(out)
    }

    fn put(&mut self, keys: &[ApiKey]) -> Result<(), StoreError> {
        let hash = format!("{}:keys", self.prefix);
        let version = format!("{hash}:version");
        let mut pipe = redis::pipe();
        pipe.atomic();
        for k in keys {
            let json = serde_json::to_string(k).map_err(|e| StoreError::Backend(e.to_string()))?;
            pipe.cmd("HSET").arg(&hash).arg(&k.id).arg(json).ignore();
        }
        pipe.cmd("INCR").arg(&version).ignore();
        self.with(|c| pipe.query::<()>(c))
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let hash = format!("{}:keys", self.prefix);
        let version = format!("{hash}:version");
        let (n,): (i64,) = self.with(|c| {
            redis::pipe()
                .atomic()
                .cmd("HDEL")
                .arg(&hash)
                .arg(id)
                .cmd("INCR")
                .arg(&version)
                .ignore()
                .query(c)
        })?;
        Ok(n > 0)
    }

    fn usage(&mut self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let mut out = Vec::new();
        for day in q.from_day..=q.to_day {
            let date = tollgate_vtl::calendar::iso_date(day);
            let key = format!("{}:u:{date}", self.prefix);
            let fields: Vec<(String, i64)> =
                self.with(|c| redis::cmd("HGETALL").arg(&key).query(c))?;
            for (field, n) in fields {
                let mut parts = field.splitn(3, '\t');
                let (Some(api), Some(plan), Some(key_id)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if q.wants(api, plan, key_id, day) && n > 0 {
                    out.push(UsageRow {
                        api: api.to_owned(),
                        usage_plan: plan.to_owned(),
                        key_id: key_id.to_owned(),
                        key_name: String::new(),
                        date: date.clone(),
                        requests: n as u64,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// A multiplexed connection to `url` that connects on first use (Redis may be down at start-up)
/// and reconnects on its own after I/O errors.
fn connect_lazily(url: &str, config: &StoreConfig) -> Result<ConnectionManager, StoreError> {
    let client = redis::Client::open(url).map_err(backend)?;
    // Callers put their own deadline around each use, which also covers waiting for a
    // reconnection; a second per-command timer would only cost time.
    let manager = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.redis_timeout.max(Duration::from_millis(50))))
        .set_response_timeout(None)
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, manager).map_err(backend)
}

/// One limit a decision checks, in order.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A bucket: its policy and limits.
    Bucket(Policy, ThrottleSpec),
    /// The key's quota: spec, period and this period's limit.
    Quota(crate::quota::QuotaSpec, u32, u64),
}

/// The data-plane half of the Redis store: one script call per decision.
#[derive(Debug)]
pub struct Limiter {
    conn: ConnectionManager,
    script: redis::Script,
    /// `P:API`
    base: String,
    /// `P:u:`
    usage_base: String,
    /// Per `stage * routes + route`: the method bucket's Redis key and limits.
    methods: Box<[Option<(String, ThrottleSpec)>]>,
    account: Option<(String, ThrottleSpec)>,
    routes: usize,
    fail: FailMode,
    timeout: Duration,
    /// Until when (monotonic ns) decisions skip Redis after a failure.
    skip_until: AtomicU64,
    down: AtomicBool,
}

impl Limiter {
    /// A limiter for `spec` against the Redis at `url`. Connects lazily: Redis may be down at
    /// start-up.
    pub(crate) fn new(
        spec: &'static ApiSpec,
        url: &str,
        config: &StoreConfig,
    ) -> Result<Limiter, StoreError> {
        let conn = connect_lazily(url, config)?;
        let base = format!("{}:{}", config.redis_prefix, spec.name);
        let routes = spec.routes.len();
        let methods = spec
            .stages
            .iter()
            .flat_map(|s| {
                let base = &base;
                (0..routes).map(move |r| {
                    let t = s
                        .method_throttles
                        .iter()
                        .find(|(route, _)| *route == r)
                        .map(|(_, t)| *t)
                        .or(s.throttle)?;
                    let route = &spec.routes[r];
                    Some((
                        format!(
                            "{base}:b:m:{}:{} {}",
                            s.name, route.method, route.resource_path
                        ),
                        t,
                    ))
                })
            })
            .collect();
        Ok(Limiter {
            conn,
            script: redis::Script::new(DECIDE_LUA),
            usage_base: format!("{}:u:", config.redis_prefix),
            account: spec.throttle.map(|t| (format!("{base}:b:account"), t)),
            base,
            methods,
            routes,
            fail: config.on_failure,
            timeout: config.redis_timeout,
            skip_until: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }

    /// Decides one request (see the module docs).
    pub(crate) async fn admit(
        &self,
        limits: &Limits,
        stage: usize,
        route: usize,
        key: Option<&KeyPlan>,
    ) -> Result<RateLimits, Refusal> {
        let method = self
            .methods
            .get(stage * self.routes + route)
            .and_then(Option::as_ref);
        if key.is_none() && method.is_none() && self.account.is_none() {
            return Ok(RateLimits::default());
        }
        let mono = limits.clock.monotonic_nanos();
        if mono < self.skip_until.load(Ordering::Relaxed) {
            return self.failed(None);
        }
        let mut steps: smallvec::SmallVec<[Step; 4]> = smallvec::SmallVec::new();
        let mut inv = self.script.prepare_invoke();
        let mut kinds = String::with_capacity(4);
        let now_ms = limits.clock.unix_millis();
        let plan_name = key.map(|k| limits.spec.usage_plans[k.plan].name);
        if let Some(kp) = key {
            let plan = plan_name.unwrap_or("");
            if let Some((t, own)) = KeyPlan::throttle_for(limits.spec, kp.plan, stage, route) {
                let k = if own {
                    let r = &limits.spec.routes[route];
                    format!(
                        "{}:b:k:{plan}:{}:{}:{} {}",
                        self.base,
                        kp.key_id,
                        limits.spec.stages[stage].name,
                        r.method,
                        r.resource_path
                    )
                } else {
                    format!("{}:b:k:{plan}:{}", self.base, kp.key_id)
                };
                push_bucket(&mut inv, &mut kinds, k, t);
                steps.push(Step::Bucket(Policy::Key, t));
            }
            if let Some((q, period, limit)) = limits.quota_at(kp, now_ms) {
                let expire = q.period.end_ms(period) / 1000 + 60;
                inv.key(format!("{}:q:{plan}:{}:{period}", self.base, kp.key_id));
                inv.arg(limit).arg(expire);
                kinds.push('q');
                steps.push(Step::Quota(q, period, limit));
            }
        }
        if let Some((k, t)) = method {
            push_bucket(&mut inv, &mut kinds, k.clone(), *t);
            steps.push(Step::Bucket(Policy::Burst, *t));
        }
        if let Some((k, t)) = &self.account {
            push_bucket(&mut inv, &mut kinds, k.clone(), *t);
            steps.push(Step::Bucket(Policy::Burst, *t));
        }
        let usage_field = match (key, plan_name) {
            (Some(kp), Some(plan)) => {
                let date =
                    tollgate_vtl::calendar::iso_date(i64::from(QuotaPeriod::Day.index(now_ms)));
                inv.key(format!("{}{date}", self.usage_base));
                format!("{}\t{plan}\t{}", limits.spec.name, kp.key_id)
            }
            _ => String::new(),
        };
        inv.arg(kinds).arg(usage_field);
        let mut conn = self.conn.clone();
        let reply =
            tokio::time::timeout(self.timeout, inv.invoke_async::<Vec<i64>>(&mut conn)).await;
        let reply = match reply {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.failed(Some((mono, e.to_string()))),
            Err(_) => {
                return self.failed(Some((mono, format!("no answer within {:?}", self.timeout))));
            }
        };
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!(store = %self.base, "Redis answers again; limits are enforced");
        }
        interpret(&reply, &steps, now_ms)
    }

    /// The answer when Redis could not decide; `failure` starts a skip window and logs the
    /// transition.
    fn failed(&self, failure: Option<(u64, String)>) -> Result<RateLimits, Refusal> {
        if let Some((mono, why)) = failure {
            self.skip_until
                .store(mono + 1_000_000_000, Ordering::Relaxed);
            if !self.down.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    store = %self.base,
                    error = %why,
                    fail = ?self.fail,
                    "Redis cannot decide; failing {} until it answers",
                    match self.fail { FailMode::Open => "open (no limits)", FailMode::Closed => "closed (503)" }
                );
            }
        }
        match self.fail {
            FailMode::Open => Ok(RateLimits::default()),
            FailMode::Closed => Err(Refusal::Unavailable(
                "the Redis store cannot decide".to_owned(),
            )),
        }
    }
}

/// Adds a bucket's key and its limits in microseconds (interval, tolerance).
fn push_bucket(
    inv: &mut redis::ScriptInvocation<'_>,
    kinds: &mut String,
    key: String,
    t: ThrottleSpec,
) {
    let interval = (1e6 / t.rate).round().max(1.0) as u64;
    inv.key(key);
    inv.arg(interval)
        .arg(interval.saturating_mul(u64::from(t.burst.max(1))));
    kinds.push('b');
}

/// Turns the script's reply into the decision.
fn interpret(reply: &[i64], steps: &[Step], now_ms: u64) -> Result<RateLimits, Refusal> {
    let bucket_item = |policy, t: ThrottleSpec, remaining: i64, reset_us: i64| {
        let interval = (1e6 / t.rate).round().max(1.0) as u64;
        let tol = interval * u64::from(t.burst.max(1));
        RateItem {
            policy,
            quota: u64::from(t.burst),
            window_secs: tol.div_ceil(1_000_000).max(1),
            remaining: remaining.max(0) as u64,
            reset_secs: (reset_us.max(0) as u64).div_ceil(1_000_000),
        }
    };
    match reply.first() {
        Some(0) => {
            let mut out = RateLimits::default();
            for (i, step) in steps.iter().enumerate() {
                let (a, b) = (reply.get(1 + 2 * i), reply.get(2 + 2 * i));
                let (Some(&a), Some(&b)) = (a, b) else {
                    break;
                };
                match *step {
                    Step::Bucket(p, t) => out.push(bucket_item(p, t, a, b)),
                    Step::Quota(q, period, limit) => out.push(crate::limits::quota_item(
                        q,
                        period,
                        limit,
                        a.max(0) as u64,
                        now_ms,
                    )),
                }
            }
            Ok(out)
        }
        Some(1) => {
            let step = reply
                .get(1)
                .and_then(|&i| usize::try_from(i - 1).ok())
                .and_then(|i| steps.get(i));
            let retry_us = reply.get(2).copied().unwrap_or(0).max(0) as u64;
            match step {
                Some(Step::Bucket(p, t)) => Err(Refusal::Throttled {
                    retry_after: Duration::from_micros(retry_us),
                    item: RateItem {
                        remaining: 0,
                        reset_secs: retry_us.div_ceil(1_000_000),
                        ..bucket_item(*p, *t, 0, 0)
                    },
                }),
                Some(Step::Quota(q, period, limit)) => {
                    Err(crate::limits::quota_exceeded(*q, *period, *limit, now_ms))
                }
                None => Err(Refusal::Unavailable(format!(
                    "unexpected reply from the decision script: {reply:?}"
                ))),
            }
        }
        _ => Err(Refusal::Unavailable(format!(
            "unexpected reply from the decision script: {reply:?}"
        ))),
    }
}

/// The response cache in Redis: entries under `P:API:c:STAGE:KEY` with Redis's own expiry,
/// and a short lock per key so one instance fetches a missing entry while the others wait.
#[derive(Debug)]
pub struct RedisCache {
    conn: ConnectionManager,
    /// `P:API:c:`
    base: String,
    timeout: Duration,
    down: AtomicBool,
}

/// What [`RedisCache::lock`] got.
#[derive(Debug)]
pub(crate) enum Lock {
    /// This instance fetches; the token unlocks.
    Held(String),
    /// Another instance fetches.
    Busy,
    /// Redis did not answer: fetch without coordinating.
    Unavailable,
}

/// How long a fetch may hold a key's lock (a crashed holder frees it after this).
const LOCK_MS: u64 = 30_000;

impl RedisCache {
    /// A cache for `spec` in the Redis at `url` (connects lazily).
    pub(crate) fn new(
        spec: &'static ApiSpec,
        url: &str,
        config: &StoreConfig,
    ) -> Result<RedisCache, StoreError> {
        Ok(RedisCache {
            conn: connect_lazily(url, config)?,
            base: format!("{}:{}:c:", config.redis_prefix, spec.name),
            timeout: config.redis_timeout,
            down: AtomicBool::new(false),
        })
    }

    fn key(&self, stage: &str, key: &[u8]) -> String {
        let digest = crate::keys::Digest::of_bytes(key).to_hex();
        format!("{}{stage}:{digest}", self.base)
    }

    /// Runs one command within the deadline; failures are logged once and read as `None`.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.conn.clone();
        self.deadline(cmd.query_async::<T>(&mut conn)).await
    }

    /// Runs a pipeline within the deadline (as [`RedisCache::run`]).
    async fn run_pipe<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> Option<T> {
        let mut conn = self.conn.clone();
        self.deadline(pipe.query_async::<T>(&mut conn)).await
    }

    async fn deadline<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(cache = %self.base, "Redis answers again; caching resumes");
                }
                Some(v)
            }
            Ok(Err(e)) => self.failed(e.to_string()),
            Err(_) => self.failed(format!("no answer within {:?}", self.timeout)),
        }
    }

    fn failed<T>(&self, why: String) -> Option<T> {
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::error!(cache = %self.base, error = %why, "Redis cache unavailable; answering without it");
        }
        None
    }

    /// The entry of `key`, with its remaining TTL turned into an expiry on the gateway's clock.
    pub(crate) async fn get(
        &self,
        stage: &str,
        key: &[u8],
        now: u64,
    ) -> Option<std::sync::Arc<crate::cache::Entry>> {
        let k = self.key(stage, key);
        let (bytes, pttl): (Option<Vec<u8>>, i64) = self
            .run_pipe(redis::pipe().cmd("GET").arg(&k).cmd("PTTL").arg(&k))
            .await?;
        let ttl = Duration::from_millis(pttl.max(0) as u64);
        crate::cache::Entry::decode(&bytes?, now + ttl.as_nanos() as u64, ttl)
            .map(std::sync::Arc::new)
    }

    /// Stores `entry` for `ttl`.
    pub(crate) async fn put(
        &self,
        stage: &str,
        key: &[u8],
        entry: &crate::cache::Entry,
        ttl: Duration,
    ) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(stage, key))
            .arg(entry.encode())
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        let _: Option<()> = self.run(&cmd).await;
    }

    /// Takes the fetch lock of `key`.
    pub(crate) async fn lock(&self, stage: &str, key: &[u8]) -> Lock {
        let token = crate::keys::generate_id().unwrap_or_else(|_| "lock".to_owned());
        let mut cmd = redis::cmd("SET");
        cmd.arg(format!("{}:lock", self.key(stage, key)))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_MS);
        match self.run::<Option<String>>(&cmd).await {
            Some(Some(_)) => Lock::Held(token),
            Some(None) => Lock::Busy,
            None => Lock::Unavailable,
        }
    }

    /// Releases the lock of `key` if this instance still holds it.
    pub(crate) async fn unlock(&self, stage: &str, key: &[u8], token: &str) {
        const UNLOCK: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(UNLOCK)
            .arg(1)
            .arg(format!("{}:lock", self.key(stage, key)))
            .arg(token);
        let _: Option<i64> = self.run(&cmd).await;
    }

    /// Waits for the entry another instance is fetching: polls until it appears, the lock is
    /// gone without one, or the lock's lifetime has passed.
    pub(crate) async fn wait(
        &self,
        stage: &str,
        key: &[u8],
        now: impl Fn() -> u64,
    ) -> Option<std::sync::Arc<crate::cache::Entry>> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(2);
        let lock_key = format!("{}:lock", self.key(stage, key));
        while started.elapsed() < Duration::from_millis(LOCK_MS) {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
            if let Some(e) = self.get(stage, key, now()).await {
                return Some(e);
            }
            let held: Option<i64> = self.run(redis::cmd("EXISTS").arg(&lock_key)).await;
            if held != Some(1) {
                return self.get(stage, key, now()).await;
            }
        }
        None
    }

    /// Deletes every entry of `stage`; how many there were.
    pub(crate) async fn flush(&self, stage: &str) -> Result<u64, String> {
        let pattern = format!("{}{stage}:*", self.base);
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| format!("redis: {e}"))?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| format!("redis: {e}"))?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}
