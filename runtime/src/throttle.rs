//! Throttling: API Gateway's token buckets (rate refills, burst is the capacity), in memory.
//!
//! Each bucket is one `AtomicU64` run as GCRA, the "virtual scheduling" form of a token bucket:
//! it stores the theoretical arrival time (TAT) of the next request; a request at `now` conforms
//! while `max(TAT, now) + T - now <= burst·T` (T = 1/rate) and moves TAT on by T. Over any window
//! of t seconds that starts full it admits exactly `burst + rate·t` requests, and a decision is one
//! compare-and-swap. Hand-written rather than `governor` (same algorithm) because governor 0.10
//! pins a second `hashbrown` into the build, and the distributed store planned for issue #4 must
//! run this exact arithmetic as a Redis script; `benches/throttle.rs` measures a decision.
//!
//! Order, as API Gateway: the method's bucket (its own throttle, else the stage default), then
//! the account bucket; the first to refuse answers 429 `THROTTLED`. A request takes a token
//! from every bucket or from none: when a later bucket refuses, the earlier ones get theirs back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::gateway::{ApiSpec, StageSpec};

/// A throttle as compiled: requests per second and bucket size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleSpec {
    /// Requests per second (checked at build time: > 0).
    pub rate: f64,
    /// Bucket capacity (checked at build time: ≥ 1).
    pub burst: u32,
}

/// What a refused request learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// How long until one request would conform.
    pub retry_after: Duration,
    /// The bucket's capacity.
    pub burst: u32,
    /// Seconds for an empty bucket to refill (`RateLimit-Policy`'s window).
    pub window_secs: u64,
}

/// What an admitted request learns (for the `RateLimit` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    /// Tokens left.
    pub remaining: u32,
    /// The bucket's capacity.
    pub burst: u32,
    /// Seconds for an empty bucket to refill.
    pub window_secs: u64,
    /// Seconds until this bucket is full again (rounded up).
    pub full_in_secs: u64,
}

/// One token bucket.
#[derive(Debug)]
pub struct Bucket {
    /// Theoretical arrival time, in ns since the throttle's epoch.
    tat: AtomicU64,
    /// Emission interval T = 1/rate, in ns.
    interval: u64,
    /// Burst tolerance: burst·T, in ns.
    tolerance: u64,
    burst: u32,
}

impl Bucket {
    /// A full bucket for `spec`.
    pub fn new(spec: ThrottleSpec) -> Bucket {
        let interval = (1e9 / spec.rate).round().clamp(1.0, u64::MAX as f64 / 4.0) as u64;
        let burst = spec.burst.max(1);
        Bucket {
            tat: AtomicU64::new(0),
            interval,
            tolerance: interval.saturating_mul(u64::from(burst)),
            burst,
        }
    }

    /// Takes one token at `now` (ns since the epoch the caller uses for this bucket): `Ok` with
    /// the tokens left, or when to come back.
    pub fn take(&self, now: u64) -> Result<Granted, Refused> {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let start = tat.max(now);
            let next = start + self.interval;
            let ahead = next - now;
            if ahead > self.tolerance {
                return Err(Refused {
                    retry_after: Duration::from_nanos(ahead - self.tolerance),
                    burst: self.burst,
                    window_secs: self.tolerance.div_ceil(1_000_000_000),
                });
            }
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Ok(Granted {
                        remaining: ((self.tolerance - ahead) / self.interval) as u32,
                        burst: self.burst,
                        window_secs: self.tolerance.div_ceil(1_000_000_000),
                        full_in_secs: ahead.div_ceil(1_000_000_000),
                    });
                }
                Err(actual) => tat = actual,
            }
        }
    }

    /// Gives back the token a request took (a later limit refused the request).
    pub fn refund(&self) {
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let back = tat.saturating_sub(self.interval);
            match self
                .tat
                .compare_exchange_weak(tat, back, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => tat = actual,
            }
        }
    }

    /// The emission interval 1/rate, in ns.
    pub fn interval_nanos(&self) -> u64 {
        self.interval
    }

    /// The burst tolerance burst/rate, in ns.
    pub fn tolerance_nanos(&self) -> u64 {
        self.tolerance
    }
}

/// Every bucket of one server: per stage and route, and the account's.
#[derive(Debug)]
pub struct Throttles {
    account: Option<Bucket>,
    /// `stage * routes + route`; `None` where neither a method nor a stage throttle applies.
    methods: Box<[Option<Bucket>]>,
    routes: usize,
}

impl Throttles {
    /// Buckets for `api` as compiled.
    pub fn new(api: &ApiSpec) -> Throttles {
        let routes = api.routes.len();
        let methods = api
            .stages
            .iter()
            .flat_map(|s: &StageSpec| {
                (0..routes).map(move |r| {
                    s.method_throttles
                        .iter()
                        .find(|(route, _)| *route == r)
                        .map(|(_, t)| *t)
                        .or(s.throttle)
                        .map(Bucket::new)
                })
            })
            .collect();
        Throttles {
            account: api.throttle.map(Bucket::new),
            methods,
            routes,
        }
    }

    /// Whether any bucket exists (generated code skips the check otherwise).
    pub fn is_empty(&self) -> bool {
        self.account.is_none() && self.methods.iter().all(Option::is_none)
    }

    /// One request on `route` of `stage` at `now` (ns on the clock's monotonic scale): what
    /// the method's bucket (else the account's) has left, `None` when no bucket applies.
    pub fn check_at(
        &self,
        stage: usize,
        route: usize,
        now: u64,
    ) -> Result<Option<Granted>, Refused> {
        let method = self.method_bucket(stage, route);
        let granted = match method {
            Some(b) => Some(b.take(now)?),
            None => None,
        };
        if let Some(b) = &self.account {
            match b.take(now) {
                Ok(g) => return Ok(granted.or(Some(g))),
                Err(r) => {
                    if let Some(m) = method {
                        m.refund();
                    }
                    return Err(r);
                }
            }
        }
        Ok(granted)
    }

    /// Whether any bucket applies to `route` of `stage`.
    pub fn applies(&self, stage: usize, route: usize) -> bool {
        self.account.is_some() || self.method_bucket(stage, route).is_some()
    }

    /// Gives back the tokens a request took on `route` of `stage`.
    pub fn refund(&self, stage: usize, route: usize) {
        if let Some(b) = self.method_bucket(stage, route) {
            b.refund();
        }
        if let Some(b) = &self.account {
            b.refund();
        }
    }

    fn method_bucket(&self, stage: usize, route: usize) -> Option<&Bucket> {
        self.methods.get(stage * self.routes + route)?.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn a_full_bucket_admits_burst_then_rate() {
        let b = Bucket::new(ThrottleSpec {
            rate: 10.0,
            burst: 5,
        });
        let t0 = 7 * SEC;
        for left in (0..5).rev() {
            assert_eq!(b.take(t0).map(|g| g.remaining), Ok(left));
        }
        let refused = b.take(t0).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        assert_eq!(refused.window_secs, 1);
        // One token per 100 ms after that.
        assert!(b.take(t0 + 99_000_000).is_err());
        let g = b.take(t0 + 100_000_000).unwrap();
        assert_eq!(
            (g.remaining, g.burst, g.window_secs, g.full_in_secs),
            (0, 5, 1, 1)
        );
        assert!(b.take(t0 + 150_000_000).is_err());
    }

    #[test]
    fn admitted_count_is_burst_plus_rate_times_time() {
        let b = Bucket::new(ThrottleSpec {
            rate: 200.0,
            burst: 50,
        });
        // A request every 1 ms for 3 s: far above the rate.
        let admitted = (0..3000u64)
            .filter(|i| b.take(SEC + i * 1_000_000).is_ok())
            .count();
        // b + r·t, with t = 2.999 s of arrivals.
        assert_eq!(admitted, 50 + 599);
    }

    #[test]
    fn fractional_rates_and_a_refilled_bucket() {
        let b = Bucket::new(ThrottleSpec {
            rate: 0.5,
            burst: 1,
        });
        assert!(b.take(0).is_ok());
        let r = b.take(SEC).unwrap_err();
        assert_eq!(r.retry_after, Duration::from_secs(1));
        assert!(b.take(2 * SEC).is_ok());
        // Idle for an hour: the bucket holds `burst`, not more.
        assert!(b.take(3600 * SEC).is_ok());
        assert!(b.take(3600 * SEC).is_err());
    }

    #[test]
    fn a_refund_gives_the_token_back() {
        let b = Bucket::new(ThrottleSpec {
            rate: 1.0,
            burst: 2,
        });
        assert!(b.take(SEC).is_ok());
        assert!(b.take(SEC).is_ok());
        assert!(b.take(SEC).is_err());
        b.refund();
        assert_eq!(b.take(SEC).map(|g| g.remaining), Ok(0));
        assert!(b.take(SEC).is_err());
    }

    #[test]
    fn concurrent_takes_never_admit_more_than_the_burst() {
        let b = std::sync::Arc::new(Bucket::new(ThrottleSpec {
            rate: 1.0,
            burst: 100,
        }));
        let admitted: usize = (0..4)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || (0..1000).filter(|_| b.take(SEC).is_ok()).count())
            })
            .map(|h| h.join().unwrap_or(0))
            .sum();
        assert_eq!(admitted, 100);
    }
}
