//! The gateway's time: a monotonic scale for token buckets and the wall clock (UTC) for quota
//! periods and usage days. Real clocks in production; tests inject a [`ManualClock`] and move
//! it, so a quota rolling over at midnight is a test that takes milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Where the gateway reads the time from. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The machine's clocks: `Instant` (measured from `epoch`) and `SystemTime`.
    System {
        /// The origin of the monotonic scale.
        epoch: Instant,
    },
    /// A clock tests set and advance.
    Manual(Arc<ManualClock>),
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The machine's clocks.
    pub fn system() -> Clock {
        Clock::System {
            epoch: Instant::now(),
        }
    }

    /// A manual clock reading `unix_ms` on the wall, and the handle that moves it.
    pub fn manual(unix_ms: u64) -> (Clock, Arc<ManualClock>) {
        let m = Arc::new(ManualClock {
            // Not 0: a bucket's first decision at "time 0" is no special case worth testing.
            monotonic: AtomicU64::new(1_000_000_000),
            unix_ms: AtomicU64::new(unix_ms),
        });
        (Clock::Manual(m.clone()), m)
    }

    /// Nanoseconds on a monotonic scale (token buckets). Never goes backwards.
    #[inline]
    pub fn monotonic_nanos(&self) -> u64 {
        match self {
            Clock::System { epoch } => epoch.elapsed().as_nanos() as u64,
            Clock::Manual(m) => m.monotonic.load(Ordering::Acquire),
        }
    }

    /// Milliseconds since the Unix epoch (quota periods, usage days).
    #[inline]
    pub fn unix_millis(&self) -> u64 {
        match self {
            Clock::System { .. } => SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or_default(),
            Clock::Manual(m) => m.unix_ms.load(Ordering::Acquire),
        }
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    monotonic: AtomicU64,
    unix_ms: AtomicU64,
}

impl ManualClock {
    /// Moves both scales forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.monotonic
            .fetch_add(d.as_nanos() as u64, Ordering::AcqRel);
        self.unix_ms
            .fetch_add(d.as_millis() as u64, Ordering::AcqRel);
    }

    /// The wall clock's reading, in milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> u64 {
        self.unix_ms.load(Ordering::Acquire)
    }
}
