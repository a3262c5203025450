//! The non-blocking side of a request's I/O, shared by every model that
//! waits without holding a thread: the runtime's own timer, the HTTP client
//! on the runtime's own sockets, the async PostgreSQL driver. One
//! constructor decides which clients a cell opens and one dispatch on the
//! I/O kind runs them, so the models that use them cannot drift apart.

use crate::cell::{Cell, DbQuery, IoKind};
use crate::counters::CellCounters;
use crate::db::async_driver::AsyncDb;
use crate::http::pool::AsyncClient;
use crate::http::Target;
use crate::runtime::AsyncRuntime;
use std::sync::Arc;
use std::time::Duration;

/// The non-blocking clients of a cell (only those its I/O uses).
pub struct AsyncClients<R: AsyncRuntime> {
    http: Option<AsyncClient<R>>,
    db: Option<AsyncDb<R>>,
}

impl<R: AsyncRuntime> AsyncClients<R> {
    /// No clients: the cell's I/O goes through a blocking client.
    pub fn none() -> Self {
        AsyncClients {
            http: None,
            db: None,
        }
    }

    /// Opens, on `rt`, the clients any request of the cell (any class of its
    /// mix) needs: the downstream's HTTP client, the async driver's pool.
    pub fn open(rt: &Arc<R>, cell: &Cell, counters: &Arc<CellCounters>) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(cell.timeout_ms);
        let http = match (cell.uses_http(), &cell.downstream) {
            (true, Some(addr)) => Some(AsyncClient::new(
                rt.clone(),
                Target {
                    addr: addr.clone(),
                    tag: crate::http::tag(cell),
                },
                timeout,
                counters.clone(),
            )?),
            _ => None,
        };
        let db = if cell.uses_postgres() {
            Some(AsyncDb::open(
                rt.clone(),
                &crate::db::url_from_env()?,
                cell.db_pool.unwrap_or(crate::db::DEFAULT_POOL),
                cell.db_query.unwrap_or(DbQuery::Sleep),
                timeout,
                counters.clone(),
            )?)
        } else {
            None
        };
        Ok(AsyncClients { http, db })
    }

    /// One request's I/O of `kind`, waiting without holding a thread.
    ///
    /// The clients' futures are boxed: hyper's and the driver's state
    /// machines are over a kilobyte, and inline they would size every task
    /// of every cell, timer-only ones included, past the allocator's
    /// per-thread cache (glibc's tcache stops at 1,032 bytes). A task the
    /// generator allocates and a worker frees then takes the arena's lock on
    /// both threads, which is the harness's cost, not the model's. One
    /// small allocation per network call is noise beside the call.
    pub async fn call(&self, kind: IoKind, latency: Duration) -> Result<(), String> {
        match kind {
            IoKind::Timer => {
                if !latency.is_zero() {
                    R::sleep(latency).await
                }
                Ok(())
            }
            IoKind::Http => match &self.http {
                Some(c) => Box::pin(c.get(latency)).await.map_err(|e| e.to_string()),
                None => Err("no downstream address for an http cell".into()),
            },
            IoKind::Postgres => match &self.db {
                Some(db) => Box::pin(db.call(latency)).await.map_err(|e| e.to_string()),
                None => Err("no async driver opened for a postgres cell".into()),
            },
        }
    }
}
