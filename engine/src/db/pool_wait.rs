//! Time requests wait for a pooled connection, recorded inside the cell's
//! measured window only (like every other latency figure).

use hdrhistogram::Histogram;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static WINDOW: OnceLock<(Instant, Instant)> = OnceLock::new();
static WAITS: Mutex<Option<Histogram<u64>>> = Mutex::new(None);

/// Called once per process by the cell, before the load starts.
pub fn set_window(start: Instant, end: Instant) {
    let _ = WINDOW.set((start, end));
}

pub(crate) fn record(started: Instant, waited: Duration) {
    let Some((start, end)) = WINDOW.get() else {
        return;
    };
    if started < *start || started >= *end {
        return;
    }
    let mut h = WAITS.lock().unwrap_or_else(|e| e.into_inner());
    let h = h.get_or_insert_with(|| {
        Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
    });
    h.saturating_record((waited.as_micros() as u64).max(1));
}

/// The waits recorded so far (microseconds), empty when none were.
pub fn pool_wait_snapshot() -> Histogram<u64> {
    WAITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Histogram::new(3).expect("valid"))
}
