//! Admission: API keys, usage plans, quotas and throttles, in API Gateway's order.
//!
//! For a request on a method that requires a key: the `x-api-key` header is hashed and looked
//! up in the key registry (a snapshot of the store's keys, refreshed in the background); a
//! missing, unknown or disabled key, or one in no usage plan bound to the stage, is 403
//! `Forbidden`. Then, first refusal wins:
//!
//! 1. the key's throttle in its plan (the plan's per-method throttle, else the plan's own),
//! 2. the key's quota in its plan (429 `Limit Exceeded`),
//! 3. the method's throttle (its own, else the stage default),
//! 4. the account throttle.
//!
//! A request takes from every limit or from none: a refusal gives back what the earlier limits
//! took, so a 429 never costs quota. Methods that do not require a key skip 1 and 2 even when a
//! key is sent, as API Gateway does. Admitted keyed requests are counted per key and day
//! (usage metering).
//!
//! Where the state lives is the store's business ([`crate::store`]): in this process (memory,
//! SQLite) every decision is a few atomic operations; with Redis it is one script call, so many
//! gateway instances share buckets, quotas and usage.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::gateway::ApiSpec;
use crate::keys::{ApiKey, Digest};
use crate::quota::{PeriodCounter, QuotaPeriod, QuotaSpec};
use crate::response::{GatewayError, ResponseType};
use crate::throttle::{Bucket, Granted, Refused, ThrottleSpec, Throttles};

/// Where methods that require an API key read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeySource {
    /// The `x-api-key` header.
    Header,
    /// A custom authorizer's usage identifier.
    Authorizer,
}

/// A usage plan as compiled.
#[derive(Debug)]
pub struct UsagePlanSpec {
    /// The plan's name (keys list their plans by it).
    pub name: &'static str,
    /// The per-key bucket, shared by every stage and method of the plan.
    pub throttle: Option<ThrottleSpec>,
    /// The per-key quota.
    pub quota: Option<QuotaSpec>,
    /// The stages the plan is bound to.
    pub stages: &'static [PlanStageSpec],
}

/// A stage a usage plan is bound to.
#[derive(Debug)]
pub struct PlanStageSpec {
    /// The stage index.
    pub stage: usize,
    /// Per-key, per-method throttles: route index and limits.
    pub method_throttles: &'static [(usize, ThrottleSpec)],
}

/// Which limit a `RateLimit` header item describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The API key's throttle in its usage plan.
    Key,
    /// The API key's quota.
    Quota,
    /// The method's (else the account's) throttle.
    Burst,
}

impl Policy {
    /// The policy's name in `RateLimit-Policy` / `RateLimit`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Key => "key",
            Policy::Quota => "quota",
            Policy::Burst => "burst",
        }
    }
}

/// One limit's state after a decision (an IETF `RateLimit` item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateItem {
    /// Which limit.
    pub policy: Policy,
    /// Its size: the bucket's burst, or the quota's limit in this period.
    pub quota: u64,
    /// Its window in seconds: an empty bucket's refill time, or the quota period's length.
    pub window_secs: u64,
    /// What is left.
    pub remaining: u64,
    /// Seconds until the limit is whole again (bucket full, period over).
    pub reset_secs: u64,
}

impl RateItem {
    /// Appends `"name";q=…;w=…` to a `RateLimit-Policy` list.
    fn write_policy(&self, out: &mut Vec<u8>) {
        self.write(out, b";q=", self.quota, b";w=", self.window_secs.max(1));
    }

    /// Appends `"name";r=…;t=…` to a `RateLimit` list.
    fn write_state(&self, out: &mut Vec<u8>) {
        self.write(out, b";r=", self.remaining, b";t=", self.reset_secs);
    }

    // Written with `itoa` into buffers sized once, not with `format!`: this runs for every
    // admitted answer of a limited route, and the `fmt` machinery was most of its cost
    // (measured with `perf record` under `bench/limits.sh`).
    fn write(&self, out: &mut Vec<u8>, ka: &[u8], a: u64, kb: &[u8], b: u64) {
        let mut n = itoa::Buffer::new();
        if !out.is_empty() {
            out.extend_from_slice(b", ");
        }
        out.push(b'"');
        out.extend_from_slice(self.policy.name().as_bytes());
        out.push(b'"');
        out.extend_from_slice(ka);
        out.extend_from_slice(n.format(a).as_bytes());
        out.extend_from_slice(kb);
        out.extend_from_slice(n.format(b).as_bytes());
    }

    fn bucket(policy: Policy, g: Granted) -> RateItem {
        RateItem {
            policy,
            quota: u64::from(g.burst),
            window_secs: g.window_secs.max(1),
            remaining: u64::from(g.remaining),
            reset_secs: g.full_in_secs,
        }
    }
}

/// What an admitted request learned about its limits (at most one item per policy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    items: [Option<RateItem>; 3],
}

impl RateLimits {
    /// Records `item` (replacing one of the same policy).
    pub fn push(&mut self, item: RateItem) {
        let slot = match item.policy {
            Policy::Key => 0,
            Policy::Quota => 1,
            Policy::Burst => 2,
        };
        self.items[slot] = Some(item);
    }

    /// The recorded items, key first.
    pub fn items(&self) -> impl Iterator<Item = &RateItem> {
        self.items.iter().flatten()
    }

    /// Whether nothing limited the request.
    pub fn is_empty(&self) -> bool {
        self.items.iter().all(Option::is_none)
    }

    /// The values of `RateLimit-Policy` and `RateLimit` for these items.
    pub fn header_values(&self) -> (Option<http::HeaderValue>, Option<http::HeaderValue>) {
        let (mut policy, mut state) = (Vec::with_capacity(96), Vec::with_capacity(96));
        for item in self.items() {
            item.write_policy(&mut policy);
            item.write_state(&mut state);
        }
        let value = |v: Vec<u8>| http::HeaderValue::from_maybe_shared(bytes::Bytes::from(v)).ok();
        (value(policy), value(state))
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403 `Forbidden` (`INVALID_API_KEY`); the detail is for the log.
    InvalidKey(&'static str),
    /// 429 `Too Many Requests` (`THROTTLED`).
    Throttled {
        /// When one request would pass.
        retry_after: Duration,
        /// The limit that refused.
        item: RateItem,
    },
    /// 429 `Limit Exceeded` (`QUOTA_EXCEEDED`).
    QuotaExceeded {
        /// When the period ends.
        retry_after: Duration,
        /// The quota.
        item: RateItem,
    },
    /// The store could not decide and fails closed: 503.
    Unavailable(String),
}

impl From<Refusal> for GatewayError {
    fn from(r: Refusal) -> GatewayError {
        match r {
            Refusal::InvalidKey(why) => GatewayError::new(ResponseType::InvalidApiKey, why),
            Refusal::Throttled { retry_after, item } => {
                GatewayError::limited(ResponseType::Throttled, retry_after, item)
            }
            Refusal::QuotaExceeded { retry_after, item } => {
                GatewayError::limited(ResponseType::QuotaExceeded, retry_after, item)
            }
            Refusal::Unavailable(why) => GatewayError::store_unavailable(why),
        }
    }
}

fn throttled(policy: Policy, r: Refused) -> Refusal {
    Refusal::Throttled {
        retry_after: r.retry_after,
        item: RateItem {
            policy,
            quota: u64::from(r.burst),
            window_secs: r.window_secs.max(1),
            remaining: 0,
            reset_secs: r.retry_after.as_nanos().div_ceil(1_000_000_000) as u64,
        },
    }
}

/// One API key's state in one usage plan: its buckets, quota and usage counters.
#[derive(Debug)]
pub(crate) struct KeyPlan {
    /// The plan's index in [`ApiSpec::usage_plans`].
    pub(crate) plan: usize,
    /// The key's id.
    pub(crate) key_id: Arc<str>,
    /// When the key was created (a quota offset applies to that period).
    pub(crate) created_ms: u64,
    bucket: Option<Bucket>,
    /// Per-method buckets: stage, route, bucket.
    methods: Box<[(usize, usize, Bucket)]>,
    /// Requests counted against the quota in the current period.
    pub(crate) quota: PeriodCounter,
    /// Admitted requests per day (the period index is the day since the epoch).
    pub(crate) usage: PeriodCounter,
    /// What has been persisted of `quota` and `usage` (SQLite).
    pub(crate) flushed: std::sync::Mutex<Flushed>,
}

/// The last persisted `(period, count)` of a key plan's counters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Flushed {
    pub(crate) quota: (u32, u32),
    pub(crate) usage: (u32, u32),
}

/// Counter values a store resumes from.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Seed {
    pub(crate) quota: (u32, u32),
    pub(crate) usage: (u32, u32),
}

impl KeyPlan {
    fn new(spec: &ApiSpec, plan: usize, key: &ApiKey, seed: Seed) -> KeyPlan {
        let p = &spec.usage_plans[plan];
        KeyPlan {
            plan,
            key_id: Arc::from(key.id.as_str()),
            created_ms: key.created_ms,
            bucket: p.throttle.map(Bucket::new),
            methods: p
                .stages
                .iter()
                .flat_map(|s| {
                    s.method_throttles
                        .iter()
                        .map(move |(route, t)| (s.stage, *route, Bucket::new(*t)))
                })
                .collect(),
            quota: PeriodCounter::new(seed.quota.0, seed.quota.1),
            usage: PeriodCounter::new(seed.usage.0, seed.usage.1),
            flushed: std::sync::Mutex::new(Flushed {
                quota: seed.quota,
                usage: seed.usage,
            }),
        }
    }

    /// The key's bucket for `route` of `stage`: the plan's per-method one, else the plan's.
    fn bucket_for(&self, stage: usize, route: usize) -> Option<&Bucket> {
        self.methods
            .iter()
            .find(|(s, r, _)| *s == stage && *r == route)
            .map(|(_, _, b)| b)
            .or(self.bucket.as_ref())
    }

    /// The plan's throttle for `route` of `stage` (what [`KeyPlan::bucket_for`] runs), and
    /// whether it is a per-method one.
    #[cfg(feature = "redis")]
    pub(crate) fn throttle_for(
        spec: &ApiSpec,
        plan: usize,
        stage: usize,
        route: usize,
    ) -> Option<(ThrottleSpec, bool)> {
        let p = &spec.usage_plans[plan];
        let own = p
            .stages
            .iter()
            .filter(|s| s.stage == stage)
            .flat_map(|s| s.method_throttles.iter())
            .find(|(r, _)| *r == route)
            .map(|(_, t)| (*t, true));
        own.or(p.throttle.map(|t| (t, false)))
    }
}

/// A key of the registry, with the plan that applies on each stage.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) key: ApiKey,
    /// The key id, shared with the request context.
    pub(crate) id: Arc<str>,
    /// Every plan of the key (in the key's order), with its state.
    pub(crate) plans: Box<[Arc<KeyPlan>]>,
    /// Per stage of the API: the index in `plans` of the plan bound to it.
    by_stage: Box<[Option<u8>]>,
}

impl KeyEntry {
    /// The key's plan on `stage`.
    pub(crate) fn plan_on(&self, stage: usize) -> Option<&Arc<KeyPlan>> {
        let i = (*self.by_stage.get(stage)?)?;
        self.plans.get(usize::from(i))
    }
}

/// A snapshot of the store's keys, indexed by digest.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Whether the store's keys were ever loaded (until then, keyed requests cannot be decided).
    pub(crate) loaded: bool,
    /// The store's change token the snapshot was built from.
    pub(crate) version: String,
    by_digest: HashMap<Digest, Arc<KeyEntry>, foldhash::fast::FixedState>,
}

impl Registry {
    /// Builds a registry of `keys` for `spec`, carrying the state of every (key, plan) that
    /// `old` already has; new ones start from `seed`.
    pub(crate) fn build(
        spec: &ApiSpec,
        keys: Vec<ApiKey>,
        version: String,
        old: &Registry,
        seed: &dyn Fn(&str, &str) -> Seed,
    ) -> Registry {
        let old_plans: HashMap<(&str, usize), &Arc<KeyPlan>> = old
            .by_digest
            .values()
            .flat_map(|e| e.plans.iter().map(move |p| ((&*e.id, p.plan), p)))
            .collect();
        let mut by_digest = HashMap::with_capacity_and_hasher(keys.len(), Default::default());
        for key in keys {
            let mut plans: Vec<Arc<KeyPlan>> = Vec::new();
            let mut by_stage: Vec<Option<u8>> = vec![None; spec.stages.len()];
            for name in &key.plans {
                let Some(plan) = spec.usage_plans.iter().position(|p| p.name == name) else {
                    // A plan of another API sharing the store, or one since removed.
                    tracing::debug!(key = %key.id, plan = %name, "API key names a usage plan this API does not have");
                    continue;
                };
                if plans.iter().any(|p| p.plan == plan) || plans.len() >= usize::from(u8::MAX) {
                    continue;
                }
                let kp = match old_plans.get(&(key.id.as_str(), plan)) {
                    Some(kp) if kp.created_ms == key.created_ms => Arc::clone(kp),
                    _ => Arc::new(KeyPlan::new(spec, plan, &key, seed(&key.id, name))),
                };
                let index = plans.len() as u8;
                for s in spec.usage_plans[plan].stages {
                    match by_stage.get_mut(s.stage) {
                        Some(slot @ None) => *slot = Some(index),
                        Some(Some(first)) => tracing::warn!(
                            key = %key.id,
                            stage = spec.stages[s.stage].name,
                            used = spec.usage_plans[plans[usize::from(*first)].plan].name,
                            ignored = name.as_str(),
                            "API key is in two usage plans bound to one stage; API Gateway allows one, the first applies"
                        ),
                        None => {}
                    }
                }
                plans.push(kp);
            }
            let entry = KeyEntry {
                id: Arc::from(key.id.as_str()),
                plans: plans.into(),
                by_stage: by_stage.into(),
                key,
            };
            by_digest.insert(entry.key.digest, Arc::new(entry));
        }
        Registry {
            loaded: true,
            version,
            by_digest,
        }
    }

    /// The key with this digest.
    pub(crate) fn get(&self, digest: &Digest) -> Option<&Arc<KeyEntry>> {
        self.by_digest.get(digest)
    }

    /// Every key.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Arc<KeyEntry>> {
        self.by_digest.values()
    }
}

/// A request's key, authenticated for its stage.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub(crate) entry: Arc<KeyEntry>,
    pub(crate) plan: Arc<KeyPlan>,
}

/// Every limit of one server and where their state lives: what the gateway runs for each
/// request on a method with limits ([`crate::exchange::Exchange::admit`]), usable on its own.
#[derive(Debug)]
pub struct Limits {
    pub(crate) spec: &'static ApiSpec,
    pub(crate) clock: Clock,
    /// Method and account buckets, when this process keeps them.
    throttles: Throttles,
    pub(crate) registry: RwLock<Arc<Registry>>,
    pub(crate) backend: Backend,
}

/// Where decisions are made.
#[derive(Debug)]
pub(crate) enum Backend {
    /// In this process (the memory and SQLite stores).
    Local,
    /// In Redis, one script per decision.
    #[cfg(feature = "redis")]
    Redis(crate::store::redis::Limiter),
}

impl Limits {
    pub(crate) fn new(spec: &'static ApiSpec, clock: Clock, backend: Backend) -> Limits {
        Limits {
            spec,
            clock,
            throttles: Throttles::new(spec),
            registry: RwLock::new(Arc::new(Registry::default())),
            backend,
        }
    }

    /// The current key registry.
    pub(crate) fn registry(&self) -> Arc<Registry> {
        match self.registry.read() {
            Ok(r) => Arc::clone(&r),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the key registry.
    pub(crate) fn set_registry(&self, r: Registry) {
        let r = Arc::new(r);
        match self.registry.write() {
            Ok(mut g) => *g = r,
            Err(poisoned) => *poisoned.into_inner() = r,
        }
    }

    /// The limits of `spec` on the store `config` describes, with its keys loaded (no
    /// background refresh: a server runs that).
    pub async fn open(
        spec: &'static ApiSpec,
        config: &crate::store::StoreConfig,
        clock: Clock,
    ) -> Result<Limits, crate::store::StoreError> {
        crate::store::running::attach(spec, config, clock)
            .await
            .map(|(limits, _)| limits)
    }

    /// Finds the key a request carries and its plan on `stage`.
    pub fn authenticate(
        &self,
        headers: &http::HeaderMap,
        usage_identifier_key: Option<&str>,
        stage: usize,
    ) -> Result<Authenticated, Refusal> {
        let value = match self.spec.api_key_source {
            ApiKeySource::Header => headers
                .get(http::HeaderName::from_static("x-api-key"))
                .and_then(|v| v.to_str().ok()),
            // The custom authorizer's `usageIdentifierKey` (checked at build time: every
            // method that requires a key under this source has a custom authorizer).
            ApiKeySource::Authorizer => usage_identifier_key,
        }
        .filter(|v| !v.is_empty());
        let Some(value) = value else {
            return Err(Refusal::InvalidKey(match self.spec.api_key_source {
                ApiKeySource::Header => "no x-api-key header",
                ApiKeySource::Authorizer => "the authorizer gave no usage identifier key",
            }));
        };
        let digest = Digest::of(value);
        let registry = self.registry();
        if !registry.loaded {
            return Err(Refusal::Unavailable(
                "the API keys have not been loaded from the store yet".to_owned(),
            ));
        }
        let Some(entry) = registry.get(&digest) else {
            return Err(Refusal::InvalidKey("unknown API key"));
        };
        if !entry.key.enabled {
            return Err(Refusal::InvalidKey("disabled API key"));
        }
        let Some(plan) = entry.plan_on(stage) else {
            return Err(Refusal::InvalidKey(
                "the API key is in no usage plan bound to this stage",
            ));
        };
        Ok(Authenticated {
            plan: Arc::clone(plan),
            entry: Arc::clone(entry),
        })
    }

    /// Decides one request on `route` of `stage` (with its authenticated key, when the method
    /// requires one).
    pub async fn admit(
        &self,
        stage: usize,
        route: usize,
        key: Option<&Authenticated>,
    ) -> Result<RateLimits, Refusal> {
        match &self.backend {
            Backend::Local => self.admit_local(stage, route, key.map(|k| &*k.plan)),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.admit(self, stage, route, key.map(|k| &*k.plan)).await,
        }
    }

    /// The quota of `kp`'s plan at `now_ms`: its spec, period index and this period's limit.
    pub(crate) fn quota_at(&self, kp: &KeyPlan, now_ms: u64) -> Option<(QuotaSpec, u32, u64)> {
        let q = self.spec.usage_plans[kp.plan].quota?;
        let period = q.period.index(now_ms);
        Some((q, period, q.limit_in(period, kp.created_ms)))
    }

    fn admit_local(
        &self,
        stage: usize,
        route: usize,
        key: Option<&KeyPlan>,
    ) -> Result<RateLimits, Refusal> {
        let mut out = RateLimits::default();
        if key.is_none() && !self.throttles.applies(stage, route) {
            return Ok(out);
        }
        let now = self.clock.monotonic_nanos();
        // What this request took so far, to give back on a later refusal.
        let mut took_bucket = None;
        let mut took_quota = None;
        let undo = |bucket: Option<&Bucket>, quota: Option<(&PeriodCounter, u32)>| {
            if let Some(b) = bucket {
                b.refund();
            }
            if let Some((c, p)) = quota {
                c.refund(p);
            }
        };
        let mut now_ms = 0;
        if let Some(kp) = key {
            if let Some(b) = kp.bucket_for(stage, route) {
                let g = b.take(now).map_err(|r| throttled(Policy::Key, r))?;
                out.push(RateItem::bucket(Policy::Key, g));
                took_bucket = Some(b);
            }
            now_ms = self.clock.unix_millis();
            if let Some((q, period, limit)) = self.quota_at(kp, now_ms) {
                match kp.quota.take(period, limit) {
                    Ok(used) => {
                        out.push(quota_item(q, period, limit, used, now_ms));
                        took_quota = Some((&kp.quota, period));
                    }
                    Err(_) => {
                        undo(took_bucket, None);
                        return Err(quota_exceeded(q, period, limit, now_ms));
                    }
                }
            }
        }
        match self.throttles.check_at(stage, route, now) {
            Ok(Some(g)) => out.push(RateItem::bucket(Policy::Burst, g)),
            Ok(None) => {}
            Err(r) => {
                undo(took_bucket, took_quota);
                return Err(throttled(Policy::Burst, r));
            }
        }
        if let Some(kp) = key {
            kp.usage.take(QuotaPeriod::Day.index(now_ms), u64::MAX).ok();
        }
        Ok(out)
    }
}

/// The `RateLimit` item of a quota after a request used `used` of `limit` in `period`.
pub(crate) fn quota_item(
    q: QuotaSpec,
    period: u32,
    limit: u64,
    used: u64,
    now_ms: u64,
) -> RateItem {
    let start = q.period.start_ms(period);
    let end = q.period.end_ms(period);
    RateItem {
        policy: Policy::Quota,
        quota: limit,
        window_secs: (end - start) / 1000,
        remaining: limit.saturating_sub(used),
        reset_secs: end.saturating_sub(now_ms).div_ceil(1000),
    }
}

/// The refusal of an exhausted quota: come back when the period ends.
pub(crate) fn quota_exceeded(q: QuotaSpec, period: u32, limit: u64, now_ms: u64) -> Refusal {
    let item = quota_item(q, period, limit, limit, now_ms);
    Refusal::QuotaExceeded {
        retry_after: Duration::from_secs(item.reset_secs),
        item,
    }
}
