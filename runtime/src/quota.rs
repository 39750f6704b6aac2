//! Quotas: at most `limit` requests per key per day, week or month (UTC), as API Gateway's
//! usage plans count them, and the per-period counters behind quotas and usage metering.
//!
//! Periods start at 00:00 UTC: a day at midnight, a week on Monday, a month on the 1st. A
//! period is named by its index since the Unix epoch (days, Monday-weeks, months), which is
//! what the stores keep. `offset` requests are subtracted from the limit in a key's first
//! period: the one its key was created in.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tollgate_vtl::calendar::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;

/// The period a quota counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaPeriod {
    /// A calendar day from 00:00 UTC.
    Day,
    /// A week from Monday 00:00 UTC.
    Week,
    /// A calendar month from the 1st, 00:00 UTC.
    Month,
}

impl QuotaPeriod {
    /// API Gateway's spelling (`DAY`, `WEEK`, `MONTH`).
    pub fn aws_name(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "DAY",
            QuotaPeriod::Week => "WEEK",
            QuotaPeriod::Month => "MONTH",
        }
    }

    /// The index of the period containing `unix_ms`.
    pub fn index(self, unix_ms: u64) -> u32 {
        let days = (unix_ms as i64).div_euclid(DAY_MS);
        let i = match self {
            QuotaPeriod::Day => days,
            // 1970-01-01 was a Thursday: +3 puts Mondays on multiples of 7.
            QuotaPeriod::Week => (days + 3).div_euclid(7),
            QuotaPeriod::Month => {
                let (y, m, _) = civil_from_days(days);
                (y - 1970) * 12 + i64::from(m) - 1
            }
        };
        i.clamp(0, i64::from(u32::MAX)) as u32
    }

    /// When period `index` starts, in milliseconds since the Unix epoch (0 at the earliest).
    pub fn start_ms(self, index: u32) -> u64 {
        let i = i64::from(index);
        let days = match self {
            QuotaPeriod::Day => i,
            QuotaPeriod::Week => i * 7 - 3,
            QuotaPeriod::Month => days_from_civil(1970 + i / 12, (i % 12) as u32 + 1, 1),
        };
        (days * DAY_MS).max(0) as u64
    }

    /// When period `index` ends (the next one starts), in milliseconds since the Unix epoch.
    pub fn end_ms(self, index: u32) -> u64 {
        self.start_ms(index.saturating_add(1))
    }
}

/// A usage plan's quota as compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSpec {
    /// Requests per period.
    pub limit: u64,
    /// The period.
    pub period: QuotaPeriod,
    /// Requests subtracted from the limit in a key's first period.
    pub offset: u64,
}

impl QuotaSpec {
    /// The limit of period `index` for a key created at `created_ms`.
    pub fn limit_in(&self, index: u32, created_ms: u64) -> u64 {
        if index == self.period.index(created_ms) {
            self.limit.saturating_sub(self.offset)
        } else {
            self.limit
        }
    }
}

/// A count that starts again every period: the period index and the count packed in one
/// `AtomicU64`, so taking one is a single compare-and-swap. When a request opens a new period,
/// the closed period's final count is kept for whoever reports or persists it.
#[derive(Debug, Default)]
pub struct PeriodCounter {
    packed: AtomicU64,
    closed: Mutex<Vec<(u32, u32)>>,
}

fn pack(period: u32, count: u32) -> u64 {
    (u64::from(period) << 32) | u64::from(count)
}

fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

impl PeriodCounter {
    /// A counter at `count` in `period` (a restart resuming from a store).
    pub fn new(period: u32, count: u32) -> PeriodCounter {
        PeriodCounter {
            packed: AtomicU64::new(pack(period, count)),
            closed: Mutex::new(Vec::new()),
        }
    }

    /// Counts one request in `period` if the count stays at most `limit`: the count after it,
    /// or, refused, the count that is already there. A `period` older than the counter's (a
    /// clock stepped back) counts in the counter's period.
    pub fn take(&self, period: u32, limit: u64) -> Result<u64, u64> {
        let mut cur = self.packed.load(Ordering::Relaxed);
        loop {
            let (p, c) = unpack(cur);
            let (p2, c2) = if period > p { (period, 0) } else { (p, c) };
            if u64::from(c2) >= limit.min(u64::from(u32::MAX)) {
                return Err(u64::from(c2));
            }
            match self.packed.compare_exchange_weak(
                cur,
                pack(p2, c2 + 1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if p2 != p && c > 0 {
                        self.close(p, c);
                    }
                    return Ok(u64::from(c2) + 1);
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Gives back one request taken in `period` (a later limit refused the request).
    pub fn refund(&self, period: u32) {
        let mut cur = self.packed.load(Ordering::Relaxed);
        loop {
            let (p, c) = unpack(cur);
            if p != period || c == 0 {
                return;
            }
            match self.packed.compare_exchange_weak(
                cur,
                pack(p, c - 1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The count of `period` so far (0 for a period the counter has not reached).
    pub fn count(&self, period: u32) -> u64 {
        let (p, c) = unpack(self.packed.load(Ordering::Acquire));
        if p == period {
            return u64::from(c);
        }
        self.closed
            .lock()
            .map(|v| {
                v.iter()
                    .find(|(cp, _)| *cp == period)
                    .map(|(_, c)| u64::from(*c))
            })
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// The current period and its count.
    pub fn current(&self) -> (u32, u32) {
        unpack(self.packed.load(Ordering::Acquire))
    }

    /// Every closed period's final count, oldest first; with `drain`, they are forgotten.
    pub fn closed(&self, drain: bool) -> Vec<(u32, u32)> {
        match self.closed.lock() {
            Ok(mut v) if drain => std::mem::take(&mut *v),
            Ok(v) => v.clone(),
            Err(_) => Vec::new(),
        }
    }

    /// Records the final count of a closed period.
    pub(crate) fn close(&self, period: u32, count: u32) {
        if let Ok(mut v) = self.closed.lock() {
            v.push((period, count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_vtl::calendar::parse_iso_date;

    fn ms(date: &str) -> u64 {
        parse_iso_date(date).map(|d| d as u64 * 86_400_000).unwrap()
    }

    #[test]
    fn periods_start_at_midnight_monday_and_the_first() {
        let t = ms("2026-11-28") + 13 * 3_600_000; // Saturday 13:00 UTC
        let d = QuotaPeriod::Day.index(t);
        assert_eq!(QuotaPeriod::Day.start_ms(d), ms("2026-11-28"));
        assert_eq!(QuotaPeriod::Day.end_ms(d), ms("2026-11-29"));
        let w = QuotaPeriod::Week.index(t);
        assert_eq!(QuotaPeriod::Week.start_ms(w), ms("2026-11-23")); // a Monday
        assert_eq!(QuotaPeriod::Week.end_ms(w), ms("2026-11-30"));
        let m = QuotaPeriod::Month.index(t);
        assert_eq!(QuotaPeriod::Month.start_ms(m), ms("2026-11-01"));
        assert_eq!(QuotaPeriod::Month.end_ms(m), ms("2026-12-01"));
        // December rolls into January; the last millisecond belongs to the old period.
        let dec = QuotaPeriod::Month.index(ms("2026-12-31"));
        assert_eq!(QuotaPeriod::Month.end_ms(dec), ms("2027-01-01"));
        assert_eq!(QuotaPeriod::Month.index(ms("2027-01-01") - 1), dec);
        assert_eq!(QuotaPeriod::Month.index(ms("2027-01-01")), dec + 1);
        // Sunday night is still the same week; Monday starts the next.
        assert_eq!(QuotaPeriod::Week.index(ms("2026-11-30") - 1), w);
        assert_eq!(QuotaPeriod::Week.index(ms("2026-11-30")), w + 1);
    }

    #[test]
    fn the_offset_applies_to_the_first_period_only() {
        let q = QuotaSpec {
            limit: 100,
            period: QuotaPeriod::Day,
            offset: 30,
        };
        let created = ms("2026-11-28") + 5_000;
        let first = QuotaPeriod::Day.index(created);
        assert_eq!(q.limit_in(first, created), 70);
        assert_eq!(q.limit_in(first + 1, created), 100);
    }

    #[test]
    fn counters_roll_over_and_keep_the_closed_period() {
        let c = PeriodCounter::new(10, 0);
        assert_eq!(c.take(10, 2), Ok(1));
        assert_eq!(c.take(10, 2), Ok(2));
        assert_eq!(c.take(10, 2), Err(2));
        c.refund(10);
        assert_eq!(c.take(10, 2), Ok(2));
        // A new period starts from zero; the old one's count is kept.
        assert_eq!(c.take(11, 2), Ok(1));
        assert_eq!(c.count(10), 2);
        assert_eq!(c.count(11), 1);
        // A clock stepping back counts in the newest period.
        assert_eq!(c.take(10, 5), Ok(2));
        assert_eq!(c.current(), (11, 2));
        assert_eq!(c.closed(true), vec![(10, 2)]);
        assert!(c.closed(false).is_empty());
        // Refunds never cross periods.
        c.refund(10);
        assert_eq!(c.current(), (11, 2));
    }

    #[test]
    fn concurrent_takes_never_exceed_the_limit() {
        let c = std::sync::Arc::new(PeriodCounter::default());
        let admitted: usize = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).filter(|_| c.take(5, 1500).is_ok()).count())
            })
            .map(|h| h.join().unwrap_or(0))
            .sum();
        assert_eq!(admitted, 1500);
    }
}
