//! The blocking driver: libpq connections in a fixed pool, each call made
//! synchronously on the calling thread. Used natively by the thread models,
//! inline on a loop (the psycopg2 mistake), or inside the runtime's blocking
//! pool (`blocking-offload`).

use super::libpq::Conn;
use super::{check, err, param, sql, DbError, Param};
use crate::cell::DbQuery;
use crate::counters::CellCounters;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const STATEMENT: &str = "q";

pub struct BlockingDb {
    query: DbQuery,
    idle: Mutex<Vec<Conn>>,
    freed: Condvar,
    /// Longest a call waits for a free connection.
    wait_limit: Duration,
    /// The cell's counters: right answers, the last failure, pool waits.
    counters: Arc<CellCounters>,
}

impl BlockingDb {
    /// Opens `size` connections up front (as a pool's minimum size would), so
    /// connection set-up is not inside the measured window.
    pub fn open(
        url: &str,
        size: u32,
        query: DbQuery,
        timeout: Duration,
        counters: Arc<CellCounters>,
    ) -> Result<Self, DbError> {
        let url = super::session_url(url, timeout.as_millis() as u64);
        let open = |n: u32| {
            (0..n)
                .map(|_| {
                    let mut c =
                        Conn::connect(&url).map_err(|e| super::connect_error(&url, "libpq", e))?;
                    c.prepare(STATEMENT, sql(query))
                        .map_err(|e| err(&counters, e))?;
                    Ok(c)
                })
                .collect::<Result<Vec<_>, DbError>>()
        };
        // A few openers at once (`super::OPENERS` says why), on threads of
        // their own that end before the cell's load begins.
        let conns = std::thread::scope(|s| {
            let openers: Vec<_> = super::opener_shares(size)
                .into_iter()
                .map(|n| s.spawn(move || open(n)))
                .collect();
            openers
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Result<Vec<_>, DbError>>()
        })?
        .into_iter()
        .flatten()
        .collect();
        Ok(BlockingDb {
            query,
            idle: Mutex::new(conns),
            freed: Condvar::new(),
            wait_limit: timeout,
            counters,
        })
    }

    /// One query, blocking the calling thread for the pool wait and the call.
    pub fn call(&self, latency: Duration) -> Result<(), DbError> {
        let mut conn = self.checkout()?;
        let p = param(self.query, latency);
        let text = match p {
            Param::Seconds(s) => format!("{s}"),
            Param::Id(id) => id.to_string(),
        };
        let result = conn.exec_prepared(STATEMENT, &[text]);
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        self.freed.notify_one();
        let answer = result.map_err(|e| err(&self.counters, e))?;
        check(
            &self.counters,
            self.query,
            p,
            answer.rows,
            answer.first.as_deref(),
        )
    }

    fn checkout(&self) -> Result<Conn, DbError> {
        let t0 = Instant::now();
        let deadline = t0 + self.wait_limit;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = idle.pop() {
                self.counters.record_pool_wait(t0, t0.elapsed());
                return Ok(c);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DbError(format!(
                    "no free connection within {} ms (pool exhausted)",
                    self.wait_limit.as_millis()
                )));
            }
            idle = self
                .freed
                .wait_timeout(idle, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
