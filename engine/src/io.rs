//! The I/O part of a request. `timer` is the model's own sleep; PostgreSQL and
//! HTTP add variants here, each with a blocking call (for threads and for the
//! "blocking client inside async code" mistake) and an async call per runtime.

use crate::cell::IoKind;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Io {
    pub kind: IoKind,
    pub latency: Duration,
}

impl Io {
    pub fn new(kind: IoKind, latency_ms: f64) -> Self {
        Io {
            kind,
            latency: Duration::from_secs_f64(latency_ms.max(0.0) / 1e3),
        }
    }

    /// Blocks the calling OS thread for the I/O. A zero latency does nothing
    /// (a sleep of zero would still be a syscall and a timer tick).
    pub fn blocking(&self) {
        match self.kind {
            IoKind::Timer => {
                if !self.latency.is_zero() {
                    std::thread::sleep(self.latency);
                }
            }
        }
    }
}
