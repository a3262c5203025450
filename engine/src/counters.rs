//! The counts one cell keeps about itself while it runs: HTTP responses
//! read, correct DB answers, the last DB failure and the waits for a pooled
//! connection. (Requests still in the model are the generator's to count: it
//! knows which answers it has not read.)
//!
//! They used to be process-wide statics, which was only right because the
//! cell binary runs one cell per process. Here they belong to the cell:
//! [`crate::run::run_cell`] creates one [`CellCounters`] and hands an `Arc`
//! of it to everything that updates it (the HTTP clients, the DB pools),
//! then reads its own copy. Two cells in one process (a test, a benchmark)
//! therefore never see each other's counts.

use crate::db::pool_wait::PoolWaits;
use crate::measure::Window;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One cell's counters. Relaxed atomics, as the statics they replace were:
/// the counts are read after the drain, and none orders other memory.
#[derive(Default)]
pub struct CellCounters {
    /// HTTP responses read completely by the cell's clients (warm-up included).
    responses_ok: AtomicU64,
    /// Queries completed with the right answer (warm-up included): compared
    /// after the cell with what the server counted.
    queries_ok: AtomicU64,
    /// The last query failure, for a message that says why verification failed.
    last_db_error: Mutex<Option<String>>,
    /// Waits for a pooled connection that started inside the measured window.
    pool_waits: PoolWaits,
}

impl CellCounters {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn count_response(&self) {
        self.responses_ok.fetch_add(1, Ordering::Relaxed);
    }

    pub fn responses_ok(&self) -> u64 {
        self.responses_ok.load(Ordering::Relaxed)
    }

    pub(crate) fn count_query_ok(&self) {
        self.queries_ok.fetch_add(1, Ordering::Relaxed);
    }

    pub fn queries_ok(&self) -> u64 {
        self.queries_ok.load(Ordering::Relaxed)
    }

    pub(crate) fn remember_db_error(&self, message: &str) {
        *self.last_db_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.to_string());
    }

    pub fn last_db_error(&self) -> Option<String> {
        self.last_db_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Fixes the measured window for pool waits; called once, before the load.
    pub fn set_window(&self, window: Window) {
        self.pool_waits.set_window(window);
    }

    /// A wait for a pooled connection that began at `started` and took `waited`.
    pub(crate) fn record_pool_wait(&self, started: Instant, waited: Duration) {
        self.pool_waits.record(started, waited);
    }

    /// The pool waits recorded so far (microseconds), empty when none were.
    pub fn pool_waits(&self) -> Histogram<u64> {
        self.pool_waits.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_cells_keep_separate_counts() {
        let (a, b) = (CellCounters::new(), CellCounters::new());
        a.count_response();
        b.count_query_ok();
        b.count_query_ok();
        a.remember_db_error("a's failure");

        assert_eq!((a.responses_ok(), b.responses_ok()), (1, 0));
        assert_eq!((a.queries_ok(), b.queries_ok()), (0, 2));
        assert_eq!(a.last_db_error().as_deref(), Some("a's failure"));
        assert_eq!(b.last_db_error(), None);
    }

    #[test]
    fn pool_waits_are_per_cell_and_inside_the_window_only() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let (a, b) = (CellCounters::new(), CellCounters::new());
        // Before a window is set nothing counts (the verification requests).
        a.record_pool_wait(t0 + s, Duration::from_millis(1));
        a.set_window(Window {
            start: t0 + s,
            end: t0 + 3 * s,
        });
        b.set_window(Window {
            start: t0 + 10 * s,
            end: t0 + 20 * s,
        });
        a.record_pool_wait(t0, Duration::from_millis(2)); // before the window
        a.record_pool_wait(t0 + s, Duration::from_millis(3)); // at its start: in
        a.record_pool_wait(t0 + 2 * s, Duration::from_millis(4)); // in
        a.record_pool_wait(t0 + 3 * s, Duration::from_millis(5)); // at its end: out
        b.record_pool_wait(t0 + 2 * s, Duration::from_millis(6)); // outside b's window

        let h = a.pool_waits();
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 3_000);
        assert_eq!(h.highest_equivalent(h.max()), h.highest_equivalent(4_000));
        assert!(b.pool_waits().is_empty());
    }

    #[test]
    fn the_window_is_fixed_once() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let c = CellCounters::new();
        c.set_window(Window {
            start: t0,
            end: t0 + s,
        });
        c.set_window(Window {
            start: t0 + s,
            end: t0 + 2 * s,
        });
        c.record_pool_wait(t0, Duration::from_millis(1));
        c.record_pool_wait(t0 + s, Duration::from_millis(1));
        assert_eq!(c.pool_waits().len(), 1);
    }
}
