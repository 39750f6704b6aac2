//! Response caching: API Gateway's stage cache, resolved per stage and method at start-up.
//!
//! A stage with `cache` caches the answers of its GET methods (other methods opt in with their
//! own `cache`), for the stage's TTL (300 s by default) or the method's. The key is the stage,
//! the route and the values of the method's cache-key parameters — nothing else: path and query
//! string are not in the key unless listed, as in API Gateway. The lookup comes after the
//! request passed its limits and validation; an integration's answer (any status) is stored
//! when its body is at most 1 MiB; the gateway's own answers (429, 502, …) never are.
//!
//! Concurrent misses for one key run the integration once: the first request fetches, the
//! others wait for its answer (and with Redis, instances coordinate through a short lock, so
//! one instance fetches). `Cache-Control: max-age=0` refetches and replaces the entry when the
//! client may invalidate; otherwise the method's unauthorized strategy applies. Every cached
//! method's answer says what happened in `x-tollgate-cache: hit | miss | refresh | bypass`, and
//! hits and misses are counted per stage and method (API Gateway's `CacheHitCount` /
//! `CacheMissCount`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::gateway::{ApiSpec, Method};
use crate::response::{Body, GatewayError, Response, ResponseType};

/// Largest answer API Gateway caches, in bytes.
pub const MAX_ENTRY_BYTES: usize = 1_048_576;

/// The header that says what the cache did.
pub const CACHE_STATUS_HEADER: &str = "x-tollgate-cache";

/// API Gateway's `unauthorizedCacheControlHeaderStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthorized {
    /// `FAIL_WITH_403`
    FailWith403,
    /// `SUCCEED_WITH_RESPONSE_HEADER`
    SucceedWithResponseHeader,
    /// `SUCCEED_WITHOUT_RESPONSE_HEADER`
    SucceedWithoutResponseHeader,
}

/// A stage's cache as compiled.
#[derive(Debug, Clone, Copy)]
pub struct StageCacheSpec {
    /// Capacity in bytes.
    pub capacity: u64,
    /// Default TTL in seconds (0: off).
    pub ttl: u64,
    /// Whether invalidating needs authorization.
    pub require_authorization: bool,
    /// What an unauthorized invalidation gets.
    pub unauthorized: Unauthorized,
}

/// Where a cache-key parameter is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A header (case-insensitive name).
    Header,
    /// A query-string parameter (case-sensitive name).
    Querystring,
    /// The path parameter at this route segment.
    Path(usize),
}

/// A method's cache settings as compiled.
#[derive(Debug)]
pub struct MethodCacheSpec {
    /// Explicitly on or off; `None`: on for GET (and whenever the method has `cache`).
    pub enabled: Option<bool>,
    /// TTL in seconds, replacing the stage's.
    pub ttl: Option<u64>,
    /// Replaces the stage's `require_authorization`.
    pub require_authorization: Option<bool>,
    /// Replaces the stage's strategy.
    pub unauthorized: Option<Unauthorized>,
    /// The cache-key parameters.
    pub keys: &'static [(KeySource, &'static str)],
}

/// One cached answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Status.
    pub status: StatusCode,
    /// The integration's headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// When it stops being fresh (monotonic ns).
    pub expires_at: u64,
    /// Its TTL.
    pub lifetime: Duration,
    /// The headers of an early hit, built on the first one: the integration's, the cache
    /// status and the request-id slots, so a hit clones one map and hashes no header name.
    early: std::sync::OnceLock<HeaderMap>,
}

impl Entry {
    /// The answer it stands for, marked with `status` in [`CACHE_STATUS_HEADER`].
    fn response(&self, status: &'static str) -> Response {
        let mut r = http::Response::new(Body::Full(self.body.clone()));
        *r.status_mut() = self.status;
        // Room for this header and the ones the server adds (request ids, CORS): a clone
        // would be exactly full and grow on the next insert.
        let headers = r.headers_mut();
        headers.reserve(self.headers.len() + 4);
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        r.headers_mut().insert(
            http::HeaderName::from_static(CACHE_STATUS_HEADER),
            HeaderValue::from_static(status),
        );
        r
    }

    /// The answer to an early hit (see [`Caches::early_hit`]), with the request's ids already
    /// in their headers. The header map is cloned from one built once per entry, with the ids'
    /// slots last; they are filled by position, so no header name is hashed per request.
    fn early_response(
        &self,
        request_id: &crate::request_id::RequestId,
        extended_id: &crate::request_id::ExtendedRequestId,
    ) -> Response {
        use crate::request_id::{EXTENDED_ID_HEADER, REQUEST_ID_HEADER};
        let template = self.early.get_or_init(|| {
            let mut h = HeaderMap::with_capacity(self.headers.len() + 5);
            for (name, value) in &self.headers {
                h.append(name.clone(), value.clone());
            }
            h.insert(
                http::HeaderName::from_static(CACHE_STATUS_HEADER),
                HeaderValue::from_static("hit"),
            );
            h.insert(&REQUEST_ID_HEADER, HeaderValue::from_static(""));
            h.insert(&EXTENDED_ID_HEADER, HeaderValue::from_static(""));
            h
        });
        let mut headers = template.clone();
        for (name, value) in headers.iter_mut() {
            if *name == REQUEST_ID_HEADER {
                *value = request_id.header_value();
            } else if *name == EXTENDED_ID_HEADER {
                *value = extended_id.header_value();
            }
        }
        let mut r = http::Response::new(Body::Full(self.body.clone()));
        *r.status_mut() = self.status;
        *r.headers_mut() = headers;
        r
    }

    /// Bytes it occupies, roughly (what the capacity counts).
    fn weight(&self) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 32)
            .sum();
        (self.body.len() + headers + 64).min(u32::MAX as usize) as u32
    }

    /// Serialises the entry for a shared store: status, headers, remaining TTL is the store's.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 256);
        out.extend_from_slice(&self.status.as_u16().to_be_bytes());
        out.extend_from_slice(&(self.headers.len() as u32).to_be_bytes());
        for (n, v) in &self.headers {
            out.extend_from_slice(&(n.as_str().len() as u32).to_be_bytes());
            out.extend_from_slice(n.as_str().as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads what [`Entry::encode`] wrote; `None` when it is not that.
    pub fn decode(bytes: &[u8], expires_at: u64, lifetime: Duration) -> Option<Entry> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            if b.len() < n {
                return None;
            }
            let (head, rest) = b.split_at(n);
            *b = rest;
            Some(head)
        }
        fn u32_of(b: &mut &[u8]) -> Option<usize> {
            let v = take(b, 4)?;
            Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]) as usize)
        }
        let mut b = bytes;
        let s = take(&mut b, 2)?;
        let status = StatusCode::from_u16(u16::from_be_bytes([s[0], s[1]])).ok()?;
        let n = u32_of(&mut b)?;
        let mut headers = HeaderMap::with_capacity(n.min(64));
        for _ in 0..n {
            let nl = u32_of(&mut b)?;
            let name = http::HeaderName::from_bytes(take(&mut b, nl)?).ok()?;
            let vl = u32_of(&mut b)?;
            let value = HeaderValue::from_bytes(take(&mut b, vl)?).ok()?;
            headers.append(name, value);
        }
        Some(Entry {
            status,
            headers,
            body: Bytes::copy_from_slice(b),
            expires_at,
            lifetime,
            early: Default::default(),
        })
    }
}

/// A route's cache settings on one stage, resolved.
#[derive(Debug, Clone)]
struct RouteCache {
    /// The whole key when the method has no key parameters (one entry per route).
    fixed_key: Option<Bytes>,
    ttl: Duration,
    require_authorization: bool,
    unauthorized: Unauthorized,
    keys: &'static [(KeySource, &'static str)],
    /// An `ANY` route caches GET requests only.
    get_only: bool,
}

/// Hits and misses of one method on one stage.
#[derive(Debug, Default)]
pub struct Stats {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Stats {
    /// `CacheHitCount`
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// `CacheMissCount`
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

/// Moka's cache of one stage: size-bounded (bytes), least recently used out first.
type MemoryCache = moka::sync::Cache<Bytes, Arc<Entry>, foldhash::fast::RandomState>;

/// One stage's cache in this process: moka holds the entries; in front of it, the entry of
/// each route answered before dispatch ([`crate::gateway::RouteSpec::plain`], key without
/// parameters) sits in a slot of its own, so such a hit hashes no key and takes no lock.
///
/// The slots only mirror moka: a store fills the slot of its key, moka's removal listener
/// empties it (capacity, expiry, replacement), a flush empties all. Hits through a slot touch
/// moka every [`TOUCH_EVERY`]th time, so a hot entry stays recently used for the LRU.
#[derive(Debug)]
pub(crate) struct MemoryStage {
    cache: MemoryCache,
    slots: Arc<Slots>,
}

/// The slot of every early-answered route of a stage, by route index.
#[derive(Debug, Default)]
struct Slots(Box<[Option<Slot>]>);

#[derive(Debug)]
struct Slot {
    key: Bytes,
    entry: arc_swap::ArcSwapOption<Entry>,
}

impl Slots {
    fn of_key(&self, key: &Bytes) -> Option<&Slot> {
        self.0.iter().flatten().find(|s| s.key == *key)
    }

    /// Empties the slot holding `entry` (moka removed it).
    fn removed(&self, key: &Bytes, entry: &Arc<Entry>) {
        if let Some(slot) = self.of_key(key) {
            slot.entry.compare_and_swap(entry, None::<Arc<Entry>>);
        }
    }
}

/// A hit through a slot touches moka once in this many.
const TOUCH_EVERY: u64 = 64;

/// Where entries live.
#[derive(Debug)]
pub(crate) enum Backend {
    /// One cache per caching stage, in this process.
    Memory(Box<[Option<MemoryStage>]>),
    /// Redis, shared by every instance.
    #[cfg(feature = "redis")]
    Redis(crate::store::redis::RedisCache),
}

impl Backend {
    /// The per-stage caches of the memory backend.
    fn memory(&self) -> Option<&[Option<MemoryStage>]> {
        match self {
            Backend::Memory(stages) => Some(stages),
            #[cfg(feature = "redis")]
            Backend::Redis(_) => None,
        }
    }
}

/// The answer of one fetch, shared by the requests that waited for it.
type Fetched = Result<Arc<Entry>, GatewayError>;

/// Every cache of one server.
#[derive(Debug)]
pub struct Caches {
    spec: &'static ApiSpec,
    /// `stage * routes + route`
    routes: Box<[Option<RouteCache>]>,
    stats: Box<[Stats]>,
    backend: Backend,
    clock: Clock,
    /// Fetches in progress, by key: followers wait on the leader's answer.
    inflight: Mutex<HashMap<Bytes, tokio::sync::watch::Receiver<Option<Fetched>>>>,
}

/// Expiry of memory entries: each lives its own TTL (plus a second; freshness is decided on
/// read with the gateway's clock, this only reclaims memory).
struct EntryExpiry;

impl moka::Expiry<Bytes, Arc<Entry>> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &Bytes,
        value: &Arc<Entry>,
        _now: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.lifetime + Duration::from_secs(1))
    }
}

/// The longest TTL API Gateway allows, in seconds.
pub const MAX_TTL_SECS: u64 = 3600;

impl Caches {
    /// The caches of `spec`: in memory, or in `backend` when given.
    pub(crate) fn new(spec: &'static ApiSpec, clock: Clock, redis: Option<Backend>) -> Caches {
        let n = spec.routes.len();
        let routes: Box<[Option<RouteCache>]> = spec
            .stages
            .iter()
            .flat_map(|s| (0..n).map(move |r| resolve(s.cache, &spec.routes[r], r)))
            .collect();
        let backend = redis.unwrap_or_else(|| {
            Backend::Memory(
                spec.stages
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let c = s.cache.filter(|c| c.ttl > 0)?;
                        let slots = Arc::new(Slots(
                            (0..n)
                                .map(|r| {
                                    let key = routes[i * n + r].as_ref()?.fixed_key.clone()?;
                                    spec.routes[r].plain.then(|| Slot {
                                        key,
                                        entry: arc_swap::ArcSwapOption::empty(),
                                    })
                                })
                                .collect(),
                        ));
                        let listener = slots.clone();
                        let cache = moka::sync::Cache::builder()
                            .max_capacity(c.capacity)
                            .weigher(|_: &Bytes, e: &Arc<Entry>| e.weight())
                            .eviction_policy(moka::policy::EvictionPolicy::lru())
                            .expire_after(EntryExpiry)
                            .eviction_listener(move |key: Arc<Bytes>, entry: Arc<Entry>, _| {
                                listener.removed(&key, &entry)
                            })
                            // Keys are short and not chosen by attackers alone (the route id
                            // leads): a fast hash, not SipHash.
                            .build_with_hasher(foldhash::fast::RandomState::default());
                        Some(MemoryStage { cache, slots })
                    })
                    .collect(),
            )
        });
        Caches {
            spec,
            stats: (0..routes.len()).map(|_| Stats::default()).collect(),
            routes,
            backend,
            clock,
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `route` of `stage` caches at all.
    pub fn caches(&self, stage: usize, route: usize) -> bool {
        self.route(stage, route).is_some()
    }

    fn route(&self, stage: usize, route: usize) -> Option<&RouteCache> {
        self.routes
            .get(stage * self.spec.routes.len() + route)?
            .as_ref()
    }

    /// Hits and misses of `route` on `stage`.
    pub fn stats(&self, stage: usize, route: usize) -> &Stats {
        &self.stats[stage * self.spec.routes.len() + route]
    }

    /// Empties the cache of `stage`.
    pub(crate) async fn flush(&self, stage: usize) -> Result<u64, String> {
        match &self.backend {
            Backend::Memory(stages) => match stages.get(stage).and_then(Option::as_ref) {
                Some(m) => {
                    let n = m.cache.entry_count();
                    m.cache.invalidate_all();
                    m.cache.run_pending_tasks();
                    for slot in m.slots.0.iter().flatten() {
                        slot.entry.store(None);
                    }
                    Ok(n)
                }
                None => Ok(0),
            },
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.flush(self.spec.stages[stage].name).await,
        }
    }

    async fn lookup(&self, stage: usize, key: &Bytes) -> Option<Arc<Entry>> {
        let now = self.clock.monotonic_nanos();
        let entry = match &self.backend {
            Backend::Memory(stages) => stages.get(stage)?.as_ref()?.cache.get(key),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.get(self.spec.stages[stage].name, key, now).await,
        }?;
        (entry.expires_at > now).then_some(entry)
    }

    async fn store(&self, stage: usize, key: Bytes, entry: Arc<Entry>, ttl: Duration) {
        match &self.backend {
            Backend::Memory(stages) => {
                if let Some(Some(m)) = stages.get(stage) {
                    m.cache.insert(key.clone(), entry.clone());
                    // Evict now, so the cache never holds more than its capacity (this runs
                    // on a miss, beside an integration call).
                    m.cache.run_pending_tasks();
                    if let Some(slot) = m.slots.of_key(&key) {
                        slot.entry.store(Some(entry.clone()));
                        // A concurrent store or an eviction may have replaced the entry in
                        // moka since: the slot holds only what moka holds.
                        if !m.cache.get(&key).is_some_and(|e| Arc::ptr_eq(&e, &entry)) {
                            slot.entry.compare_and_swap(&entry, None::<Arc<Entry>>);
                        }
                    }
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.put(self.spec.stages[stage].name, &key, &entry, ttl).await,
        }
        #[cfg(not(feature = "redis"))]
        let _ = ttl;
    }

    /// What the cache will do with a request on `route` of `stage`: the key and whether to
    /// refresh, or a bypass, or a refusal (an unauthorized invalidation under `fail-with-403`).
    pub(crate) fn plan(
        &self,
        stage: usize,
        route: usize,
        method: Method,
        headers: &HeaderMap,
        principal: Option<&crate::auth::Principal>,
        key_values: &dyn Fn(KeySource, &str) -> Option<String>,
    ) -> Plan {
        let Some(rc) = self.route(stage, route) else {
            return Plan::Off;
        };
        if rc.get_only && method != Method::Get {
            return Plan::Bypass;
        }
        let mut warning = false;
        let refresh = if wants_refresh(headers) {
            // Invalidating needs authorization unless the method waives it: an IAM caller, or
            // a custom authorizer's policy allowing `execute-api:InvalidateCache`.
            let authorized =
                !rc.require_authorization || principal.is_some_and(|p| p.may_invalidate_cache);
            if !authorized {
                match rc.unauthorized {
                    Unauthorized::FailWith403 => {
                        return Plan::Denied(self.invalidation_denied(stage, route));
                    }
                    Unauthorized::SucceedWithResponseHeader => warning = true,
                    Unauthorized::SucceedWithoutResponseHeader => {}
                }
            }
            authorized
        } else {
            false
        };
        // Behind an authorizer the caller is part of the key: one caller's cached answer never
        // reaches another, whatever the key parameters say.
        let key = match (&rc.fixed_key, principal) {
            (Some(k), None) => k.clone(),
            (_, principal) => {
                let mut k = cache_key(route, rc.keys, key_values);
                if let Some(p) = principal {
                    let mut v = Vec::with_capacity(k.len() + p.principal_id.len() + 5);
                    v.extend_from_slice(&k);
                    v.push(2);
                    v.extend_from_slice(&(p.principal_id.len() as u32).to_be_bytes());
                    v.extend_from_slice(p.principal_id.as_bytes());
                    k = Bytes::from(v);
                }
                k
            }
        };
        Plan::Use {
            key,
            refresh,
            warning,
        }
    }

    /// A fresh entry answering `key` without waiting on I/O: the memory backend's hit, counted.
    /// `None` on a miss, and always with a shared backend (see [`Caches::serve`]).
    ///
    /// Kept apart from `serve` so a hit never builds the miss path's future, which holds the
    /// integration's closure (and the whole request) several times over: moving that future
    /// per request cost more than the lookup itself.
    pub(crate) fn hit_now(
        &self,
        stage: usize,
        route: usize,
        key: &Bytes,
        warning: bool,
    ) -> Option<Response> {
        let entry = self.fresh_in_memory(stage, key)?;
        self.stats(stage, route)
            .hits
            .fetch_add(1, Ordering::Relaxed);
        Some(warn(entry.response("hit"), warning))
    }

    /// A fresh entry of the memory backend.
    fn fresh_in_memory(&self, stage: usize, key: &Bytes) -> Option<Arc<Entry>> {
        let entry = self
            .backend
            .memory()?
            .get(stage)?
            .as_ref()?
            .cache
            .get(key)?;
        (entry.expires_at > self.clock.monotonic_nanos()).then_some(entry)
    }

    /// Whether `stage` has a cache in this process.
    pub(crate) fn in_memory(&self, stage: usize) -> bool {
        self.backend
            .memory()
            .is_some_and(|stages| stages.get(stage).is_some_and(Option::is_some))
    }

    /// A memory hit for a GET on a route whose key has no parameters, looked up before the
    /// request is dispatched (the server does so only for routes where nothing runs before the
    /// cache: [`crate::gateway::RouteSpec::plain`]). `None` sends the request the usual way,
    /// which decides everything else (invalidation, keys, misses).
    pub(crate) fn early_hit(
        &self,
        stage: usize,
        route: usize,
        headers: &HeaderMap,
        ids: (
            &crate::request_id::RequestId,
            &crate::request_id::ExtendedRequestId,
        ),
    ) -> Option<Response> {
        let memory = self.backend.memory()?.get(stage)?.as_ref()?;
        let slot = memory.slots.0.get(route)?.as_ref()?;
        if wants_refresh(headers) {
            return None;
        }
        let guard = slot.entry.load();
        let entry = guard.as_ref()?;
        if entry.expires_at <= self.clock.monotonic_nanos() {
            return None;
        }
        let n = self
            .stats(stage, route)
            .hits
            .fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(TOUCH_EVERY) {
            // Keeps the entry recently used in moka's eyes.
            let _ = memory.cache.get(&slot.key);
        }
        Some(entry.early_response(ids.0, ids.1))
    }

    /// Answers a [`Plan::Use`] from a shared backend or by running `fetch` (the integration)
    /// once for every request waiting on the same key. With the memory backend the caller has
    /// already tried [`Caches::hit_now`].
    pub(crate) async fn serve<F, Fut>(
        &self,
        stage: usize,
        route: usize,
        (key, refresh, warning): (Bytes, bool, bool),
        fetch: F,
    ) -> Result<Response, GatewayError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Response, GatewayError>>,
    {
        let Some(rc) = self.route(stage, route) else {
            return fetch().await;
        };
        let stats = self.stats(stage, route);
        if !refresh
            && !matches!(self.backend, Backend::Memory(_))
            && let Some(entry) = self.lookup(stage, &key).await
        {
            stats.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(warn(entry.response("hit"), warning));
        }
        stats.misses.fetch_add(1, Ordering::Relaxed);
        let status = if refresh { "refresh" } else { "miss" };
        let entry = self.fetch_once(stage, key, rc.ttl, fetch).await?;
        Ok(warn(entry.response(status), warning))
    }

    /// Runs `fetch` unless a fetch of `key` is in progress (then waits for its answer); stores
    /// a storable answer.
    async fn fetch_once<F, Fut>(&self, stage: usize, key: Bytes, ttl: Duration, fetch: F) -> Fetched
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Response, GatewayError>>,
    {
        // Lead the fetch of `key`, or follow the one in progress (the lock is never held
        // across an await).
        let role = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            match inflight.get(&key) {
                Some(rx) => Err(rx.clone()),
                None => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    inflight.insert(key.clone(), rx);
                    Ok(tx)
                }
            }
        };
        let tx = match role {
            Ok(tx) => tx,
            Err(mut rx) => {
                let shared = match rx.wait_for(Option::is_some).await {
                    Ok(v) => v.clone(),
                    Err(_) => None,
                };
                // The leader's request was cancelled before it had an answer: fetch here.
                return match shared {
                    Some(fetched) => fetched,
                    None => self.fetch_shared(stage, &key, ttl, fetch).await,
                };
            }
        };
        // Whatever happens below (even a cancelled request), the flight ends.
        let _landing = Landing {
            caches: self,
            key: key.clone(),
        };
        let fetched = self.fetch_shared(stage, &key, ttl, fetch).await;
        let _ = tx.send(Some(fetched.clone()));
        fetched
    }

    /// The leader's fetch; with Redis, one instance fetches while the others wait for its entry.
    async fn fetch_shared<F, Fut>(
        &self,
        stage: usize,
        key: &Bytes,
        ttl: Duration,
        fetch: F,
    ) -> Fetched
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Response, GatewayError>>,
    {
        #[cfg(feature = "redis")]
        let lock = match &self.backend {
            Backend::Redis(r) => {
                let stage_name = self.spec.stages[stage].name;
                match r.lock(stage_name, key).await {
                    crate::store::redis::Lock::Held(token) => Some((r, stage_name, token)),
                    crate::store::redis::Lock::Busy => {
                        // Another instance fetches: wait for its entry, a little longer than
                        // the integration could take, then fetch here after all.
                        let now = || self.clock.monotonic_nanos();
                        if let Some(e) = r.wait(stage_name, key, now).await {
                            return Ok(e);
                        }
                        None
                    }
                    crate::store::redis::Lock::Unavailable => None,
                }
            }
            Backend::Memory(_) => None,
        };
        let result = async {
            let response = fetch().await?;
            let now = self.clock.monotonic_nanos();
            let entry = Arc::new(buffer(response, now + ttl.as_nanos() as u64, ttl).await?);
            if entry.body.len() <= MAX_ENTRY_BYTES {
                self.store(stage, key.clone(), entry.clone(), ttl).await;
            }
            Ok(entry)
        }
        .await;
        #[cfg(feature = "redis")]
        if let Some((r, stage_name, token)) = lock {
            r.unlock(stage_name, key, &token).await;
        }
        result
    }

    fn invalidation_denied(&self, stage: usize, route: usize) -> GatewayError {
        let r = &self.spec.routes[route];
        let resource = format!(
            "arn:aws:execute-api:local:{}:{}/{}/{}{}",
            crate::mapping::ACCOUNT_ID,
            self.spec.name,
            self.spec.stages[stage].name,
            r.method,
            r.resource_path
        );
        GatewayError::new(
            ResponseType::AccessDenied,
            "Cache-Control: max-age=0 without permission to invalidate the cache",
        )
        .with_body(&serde_json::json!({
            "Message": format!(
                "User: anonymous is not authorized to perform: execute-api:InvalidateCache on resource: {resource}"
            )
        }))
    }
}

/// What the cache does with one request.
#[derive(Debug)]
pub(crate) enum Plan {
    /// The method does not cache on this stage.
    Off,
    /// The method caches, this request does not (a non-GET request on a cached `ANY`).
    Bypass,
    /// An invalidation the client may not make, under `fail-with-403`.
    Denied(GatewayError),
    /// Look up (unless refreshing) and fill `key`.
    Use {
        key: Bytes,
        refresh: bool,
        warning: bool,
    },
}

/// Removes a finished flight from the in-flight map (on every exit path).
struct Landing<'a> {
    caches: &'a Caches,
    key: Bytes,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut inflight = self
            .caches
            .inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        inflight.remove(&self.key);
    }
}

/// Whether the request asks to bypass and refresh the cache (`Cache-Control: max-age=0`).
fn wants_refresh(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("max-age=0"))
}

pub(crate) fn mark(mut r: Response, status: &'static str) -> Response {
    r.headers_mut().insert(
        http::HeaderName::from_static(CACHE_STATUS_HEADER),
        HeaderValue::from_static(status),
    );
    r
}

/// Adds the warning of an ignored, unauthorized `Cache-Control: max-age=0`.
fn warn(mut r: Response, warning: bool) -> Response {
    if warning {
        r.headers_mut().insert(
            header::WARNING,
            HeaderValue::from_static(
                "199 - \"Cache-Control: max-age=0 ignored: not authorized to invalidate the cache\"",
            ),
        );
    }
    r
}

/// The key of one request: the route and each key parameter's value (present or not).
fn cache_key(
    route: usize,
    keys: &[(KeySource, &'static str)],
    values: &dyn Fn(KeySource, &str) -> Option<String>,
) -> Bytes {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&(route as u32).to_be_bytes());
    for (source, name) in keys {
        match values(*source, name) {
            Some(v) => {
                k.push(1);
                k.extend_from_slice(&(v.len() as u32).to_be_bytes());
                k.extend_from_slice(v.as_bytes());
            }
            None => k.push(0),
        }
    }
    Bytes::from(k)
}

/// Reads an integration's answer whole (within API Gateway's 10 MB payload limit) so it can be
/// stored and shared.
async fn buffer(
    response: Response,
    expires_at: u64,
    lifetime: Duration,
) -> Result<Entry, GatewayError> {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Full(b) => b,
        Body::Incoming(inc) => match Limited::new(inc, crate::server::DEFAULT_MAX_BODY_BYTES)
            .collect()
            .await
        {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                return Err(GatewayError::new(
                    ResponseType::IntegrationFailure,
                    format!("reading the integration's answer failed: {e}"),
                ));
            }
        },
    };
    let mut headers = parts.headers;
    // A streamed answer's framing does not describe the stored body.
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::CONTENT_LENGTH);
    Ok(Entry {
        status: parts.status,
        headers,
        body,
        expires_at,
        lifetime,
        early: Default::default(),
    })
}

fn resolve(
    stage: Option<StageCacheSpec>,
    route: &crate::gateway::RouteSpec,
    route_index: usize,
) -> Option<RouteCache> {
    let stage = stage?;
    let method = route.cache;
    let enabled = match method.and_then(|m| m.enabled) {
        Some(e) => e,
        None => method.is_some() || route.method == "GET",
    };
    let ttl = method.and_then(|m| m.ttl).unwrap_or(stage.ttl);
    if !enabled || ttl == 0 {
        return None;
    }
    let keys = method.map(|m| m.keys).unwrap_or(&[]);
    Some(RouteCache {
        fixed_key: keys
            .is_empty()
            .then(|| cache_key(route_index, keys, &|_, _| None)),
        ttl: Duration::from_secs(ttl.min(MAX_TTL_SECS)),
        require_authorization: method
            .and_then(|m| m.require_authorization)
            .unwrap_or(stage.require_authorization),
        unauthorized: method
            .and_then(|m| m.unauthorized)
            .unwrap_or(stage.unauthorized),
        keys,
        get_only: route.method == "ANY",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_their_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        let e = Entry {
            status: StatusCode::CREATED,
            headers,
            body: Bytes::from_static(b"{\"ok\":true}"),
            expires_at: 5,
            lifetime: Duration::from_secs(1),
            early: Default::default(),
        };
        let d = Entry::decode(&e.encode(), 9, Duration::from_secs(2)).unwrap();
        assert_eq!(d.status, StatusCode::CREATED);
        assert_eq!(d.headers, e.headers);
        assert_eq!(d.body, e.body);
        assert_eq!(d.expires_at, 9);
        assert!(Entry::decode(b"\x00", 0, Duration::ZERO).is_none());
        assert!(Entry::decode(&e.encode()[..9], 0, Duration::ZERO).is_none());
    }

    #[test]
    fn keys_tell_absent_from_empty_values() {
        let keys: &[(KeySource, &str)] = &[(KeySource::Querystring, "type")];
        let none = cache_key(3, keys, &|_, _| None);
        let empty = cache_key(3, keys, &|_, _| Some(String::new()));
        let other_route = cache_key(4, keys, &|_, _| None);
        assert_ne!(none, empty);
        assert_ne!(none, other_route);
        assert_eq!(
            cache_key(3, keys, &|_, _| Some("a".into())),
            cache_key(3, keys, &|_, _| Some("a".into()))
        );
    }

    #[test]
    fn only_max_age_zero_asks_for_a_refresh() {
        let mut h = HeaderMap::new();
        assert!(!wants_refresh(&h));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, Max-Age=0"),
        );
        assert!(wants_refresh(&h));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=10"),
        );
        assert!(!wants_refresh(&h));
    }
}
