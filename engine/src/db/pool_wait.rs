//! Time requests wait for a pooled connection, recorded inside the cell's
//! measured window only (like every other latency figure). One per cell, held
//! by its [`crate::counters::CellCounters`].

use crate::measure::Window;
use hdrhistogram::Histogram;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Default)]
pub(crate) struct PoolWaits {
    /// Set once, before the load starts: the pools open (and verification
    /// runs) before the window is known, and their waits must not count.
    window: OnceLock<Window>,
    waits: Mutex<Option<Histogram<u64>>>,
}

impl PoolWaits {
    /// Fixes the window; a second call is ignored (one window per cell).
    pub(crate) fn set_window(&self, window: Window) {
        let _ = self.window.set(window);
    }

    /// Records a wait that started inside [window.start, window.end).
    pub(crate) fn record(&self, started: Instant, waited: Duration) {
        let Some(window) = self.window.get() else {
            return;
        };
        if !window.contains(started) {
            return;
        }
        let mut h = self.waits.lock().unwrap_or_else(|e| e.into_inner());
        let h = h.get_or_insert_with(|| {
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
        });
        h.saturating_record((waited.as_micros() as u64).max(1));
    }

    /// The waits recorded so far (microseconds), empty when none were.
    pub(crate) fn snapshot(&self) -> Histogram<u64> {
        self.waits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| Histogram::new(3).expect("valid"))
    }
}
