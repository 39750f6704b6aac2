//! The store as a running gateway uses it: the first load of the keys, the background refresh
//! of the key registry, and (SQLite) the periodic and final writes of the counters.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{CounterDelta, Counters, KeyStore, StoreConfig, StoreError, StoreSpec};
use crate::clock::Clock;
use crate::gateway::ApiSpec;
use crate::limits::{Backend, Limits, Registry, Seed};
use crate::quota::{PeriodCounter, QuotaPeriod};

/// The key store, shared by the refresh task, the flush task and the admin endpoint; every use
/// runs on a blocking thread.
pub(crate) type SharedKeys = Arc<Mutex<Box<dyn KeyStore>>>;

/// A gateway's store: its key store and how to keep the limits' state.
#[derive(Clone)]
pub(crate) struct Attached {
    pub(crate) keys: SharedKeys,
    pub(crate) config: StoreConfig,
    /// Whether counters live in this process and are persisted (SQLite).
    pub(crate) persists: bool,
    /// Counters the store had at start-up, for keys first seen later.
    seeds: Arc<(Counters, Counters)>,
    /// One refresh at a time: two built from the same old registry would each start fresh
    /// counters for new keys, and the later one would drop what the earlier one counted.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("store", &self.config.spec)
            .field("persists", &self.persists)
            .finish_non_exhaustive()
    }
}

/// Locks the key store (a panic elsewhere does not make it unusable).
pub(crate) fn lock(keys: &SharedKeys) -> std::sync::MutexGuard<'_, Box<dyn KeyStore>> {
    keys.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the store of `config` for `spec` and loads the keys once. A store that cannot be
/// reached yet is not fatal for Redis (the refresh keeps trying; keyed requests wait for it);
/// a SQLite file or keys file that cannot be opened is.
pub(crate) async fn attach(
    spec: &'static ApiSpec,
    config: &StoreConfig,
    clock: Clock,
) -> Result<(Limits, Attached), StoreError> {
    let cfg = config.clone();
    let keys: Box<dyn KeyStore> = tokio::task::spawn_blocking(move || super::open_config(&cfg))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
    let keys: SharedKeys = Arc::new(Mutex::new(keys));
    let persists = matches!(config.spec, StoreSpec::Sqlite(_));
    let backend = match &config.spec {
        #[cfg(feature = "redis")]
        StoreSpec::Redis(url) => Backend::Redis(super::redis::Limiter::new(spec, url, config)?),
        _ => Backend::Local,
    };
    let limits = Limits::new(spec, clock.clone(), backend);
    let seeds = if persists {
        let keys = keys.clone();
        let now = clock.unix_millis();
        let periods: Vec<(String, u32)> = spec
            .usage_plans
            .iter()
            .filter_map(|p| Some((p.name.to_owned(), p.quota?.period.index(now))))
            .collect();
        let day = QuotaPeriod::Day.index(now);
        tokio::task::spawn_blocking(move || lock(&keys).load_counters(spec.name, &periods, day))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??
    } else {
        Default::default()
    };
    let attached = Attached {
        keys,
        config: config.clone(),
        persists,
        seeds: Arc::new(seeds),
        refreshing: Arc::new(tokio::sync::Mutex::new(())),
    };
    match attached.refresh(&limits).await {
        Ok(n) => tracing::info!(store = %config.spec, keys = n, "API keys loaded"),
        Err(e) if matches!(config.spec, StoreSpec::Redis(_)) => {
            tracing::error!(store = %config.spec, error = %e, "cannot load the API keys yet; retrying in the background")
        }
        Err(e) => return Err(e),
    }
    Ok((limits, attached))
}

impl Attached {
    /// Reloads the keys when the store's version changed; the number of keys either way.
    pub(crate) async fn refresh(&self, limits: &Limits) -> Result<usize, StoreError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let keys = self.keys.clone();
        let current = limits.registry();
        let known = current.loaded.then(|| current.version.clone());
        let loaded = tokio::task::spawn_blocking(move || {
            let mut store = lock(&keys);
            let version = store.version()?;
            if known.as_deref() == Some(version.as_str()) {
                return Ok(None);
            }
            Ok::<_, StoreError>(Some((version, store.keys()?)))
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
        let Some((version, keys)) = loaded else {
            return Ok(current.entries().count());
        };
        // Counts of keys about to disappear (deleted, or their plans changed) are written first.
        if let Err(e) = self.flush(limits).await {
            tracing::warn!(store = %self.config.spec, error = %e, "cannot write counters before reloading the keys");
        }
        let n = keys.len();
        let seeds = self.seeds.clone();
        let spec = limits.spec;
        let seed = |key: &str, plan: &str| {
            let k = (plan.to_owned(), key.to_owned());
            Seed {
                quota: seeds.0.get(&k).copied().unwrap_or_default(),
                usage: seeds.1.get(&k).copied().unwrap_or_default(),
            }
        };
        limits.set_registry(Registry::build(spec, keys, version, &current, &seed));
        Ok(n)
    }

    /// Writes what the counters gained since the last write (SQLite); a no-op otherwise.
    pub(crate) async fn flush(&self, limits: &Limits) -> Result<(), StoreError> {
        if !self.persists {
            return Ok(());
        }
        let registry = limits.registry();
        let spec = limits.spec;
        let mut quota = Vec::new();
        let mut usage = Vec::new();
        // (key plan, quota closed periods written, usage closed periods written, new marks)
        let mut marks = Vec::new();
        for entry in registry.entries() {
            for kp in entry.plans.iter() {
                let plan = spec.usage_plans[kp.plan].name;
                let flushed = *kp.flushed.lock().unwrap_or_else(|p| p.into_inner());
                let delta = |api: &str, period: u32, delta: i64| CounterDelta {
                    api: api.to_owned(),
                    plan: plan.to_owned(),
                    key_id: kp.key_id.to_string(),
                    period,
                    delta,
                };
                let (q_closed, q_mark, q_deltas) = deltas(&kp.quota, flushed.quota);
                let (u_closed, u_mark, u_deltas) = deltas(&kp.usage, flushed.usage);
                quota.extend(q_deltas.into_iter().map(|(p, d)| delta(spec.name, p, d)));
                usage.extend(u_deltas.into_iter().map(|(p, d)| delta(spec.name, p, d)));
                marks.push((kp.clone(), q_closed, u_closed, q_mark, u_mark));
            }
        }
        if quota.is_empty() && usage.is_empty() {
            return Ok(());
        }
        let keys = self.keys.clone();
        tokio::task::spawn_blocking(move || lock(&keys).save_counters(&quota, &usage))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        for (kp, q_closed, u_closed, q_mark, u_mark) in marks {
            forget(&kp.quota, &q_closed);
            forget(&kp.usage, &u_closed);
            let mut f = kp.flushed.lock().unwrap_or_else(|p| p.into_inner());
            f.quota = q_mark;
            f.usage = u_mark;
        }
        Ok(())
    }

    /// Refreshes keys and flushes counters until `stop`, then flushes once more.
    pub(crate) async fn run(
        self,
        shared: Arc<crate::exchange::Shared>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut stop = stop;
        let refresh = self.config.keys_refresh.max(Duration::from_millis(50));
        let flush = self.config.flush_interval.max(Duration::from_millis(10));
        // The keys were loaded at start-up: the first refresh is one period later.
        let start = tokio::time::Instant::now();
        let mut refresh_tick = tokio::time::interval_at(start + refresh, refresh);
        let mut flush_tick = tokio::time::interval_at(start + flush, flush);
        refresh_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = refresh_tick.tick() => {
                    match self.refresh(&shared.limits).await {
                        Ok(_) if failing => {
                            failing = false;
                            tracing::info!(store = %self.config.spec, "API keys readable again");
                        }
                        Ok(_) => {}
                        Err(e) if !failing => {
                            failing = true;
                            tracing::error!(store = %self.config.spec, error = %e, "cannot refresh the API keys; keeping the last ones");
                        }
                        Err(_) => {}
                    }
                }
                _ = flush_tick.tick(), if self.persists => {
                    if let Err(e) = self.flush(&shared.limits).await {
                        tracing::error!(store = %self.config.spec, error = %e, "cannot write quota and usage counters; retrying");
                    }
                }
                _ = stop.changed() => break,
            }
        }
        if let Err(e) = self.flush(&shared.limits).await {
            tracing::error!(store = %self.config.spec, error = %e, "cannot write quota and usage counters at shutdown");
        }
    }
}

/// A counter's unwritten increments since `flushed`: the closed periods it read, the new mark
/// (its current period and count) and the deltas per period.
#[allow(clippy::type_complexity)]
fn deltas(
    c: &PeriodCounter,
    flushed: (u32, u32),
) -> (Vec<(u32, u32)>, (u32, u32), Vec<(u32, i64)>) {
    let base = |p: u32| {
        if p == flushed.0 {
            i64::from(flushed.1)
        } else {
            0
        }
    };
    // The current period first: if it closes before the closed list is read, the list has its
    // final count, which then stands for it.
    let current = c.current();
    let closed = c.closed(false);
    let rolled = closed.iter().find(|(p, _)| *p == current.0).copied();
    let mark = rolled.unwrap_or(current);
    let mut out = Vec::new();
    let open = if rolled.is_some() {
        None
    } else {
        Some(current)
    };
    for (p, n) in closed.iter().copied().chain(open) {
        let d = i64::from(n) - base(p);
        if d != 0 {
            out.push((p, d));
        }
    }
    (closed, mark, out)
}

/// Drops closed periods that were written.
fn forget(c: &PeriodCounter, written: &[(u32, u32)]) {
    if written.is_empty() {
        return;
    }
    let mut rest = c.closed(true);
    rest.retain(|e| !written.contains(e));
    for (p, n) in rest {
        // Closed after the read: keep for the next flush.
        c.close(p, n);
    }
}
