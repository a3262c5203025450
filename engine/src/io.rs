//! The I/O part of a request. `timer` is the model's own sleep; `http` calls
//! the downstream API. Each kind has a blocking call (threads, and the "sync
//! call inside async code" mistake) and an async call per runtime
//! (`models::async_server`). PostgreSQL goes here next.

use crate::cell::IoKind;
use crate::http::blocking::BlockingClient;
use std::time::Duration;

#[derive(Clone)]
pub struct Io {
    pub kind: IoKind,
    pub latency: Duration,
    /// The blocking HTTP client, when `kind` is `http`.
    pub http: Option<BlockingClient>,
}

impl Io {
    pub fn new(kind: IoKind, latency_ms: f64, http: Option<BlockingClient>) -> Self {
        Io {
            kind,
            latency: Duration::from_secs_f64(latency_ms.max(0.0) / 1e3),
            http,
        }
    }

    /// Blocks the calling OS thread for the I/O. A zero timer does nothing
    /// (a sleep of zero would still be a syscall and a timer tick).
    pub fn blocking(&self) -> Result<(), String> {
        match self.kind {
            IoKind::Timer => {
                if !self.latency.is_zero() {
                    std::thread::sleep(self.latency);
                }
                Ok(())
            }
            IoKind::Http => match &self.http {
                Some(client) => client.get(self.latency).map_err(|e| e.to_string()),
                None => Err("no downstream address for an http cell".into()),
            },
        }
    }
}
