//! The I/O part of a request. `timer` is the model's own sleep; `http` calls
//! the downstream API; `postgres` queries the database. Each kind has a
//! blocking call here (threads, and the "sync call inside async code"
//! mistake) and an async call per runtime (`models::async_server`).

use crate::cell::IoKind;
use crate::db::blocking::BlockingDb;
use crate::http::blocking::BlockingClient;
use std::sync::Arc;
use std::time::Duration;

/// The blocking clients a cell opened, shared by all its requests.
#[derive(Clone, Default)]
pub struct BlockingClients {
    pub http: Option<BlockingClient>,
    pub db: Option<Arc<BlockingDb>>,
}

#[derive(Clone)]
pub struct Io {
    pub kind: IoKind,
    pub latency: Duration,
    pub clients: BlockingClients,
}

impl Io {
    pub fn new(kind: IoKind, latency_ms: f64, clients: BlockingClients) -> Self {
        Io {
            kind,
            latency: Duration::from_secs_f64(latency_ms.max(0.0) / 1e3),
            clients,
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
            IoKind::Http => match &self.clients.http {
                Some(client) => client.get(self.latency).map_err(|e| e.to_string()),
                None => Err("no downstream address for an http cell".into()),
            },
            IoKind::Postgres => match &self.clients.db {
                Some(db) => db.call(self.latency).map_err(|e| e.to_string()),
                None => Err("no blocking driver opened for a postgres cell".into()),
            },
        }
    }
}
