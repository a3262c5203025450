//! The non-blocking driver: tokio-postgres over the runtime's own TcpStream
//! (`connect_raw`), its connection futures spawned on that same runtime. With
//! tokio-postgres's `runtime` feature off, nothing in it needs tokio's
//! reactor or timers, so on smol and async-std no hidden runtime thread
//! exists (a test checks the thread count). tokio-postgres would pipeline
//! many queries on one connection; the pool hands each connection to one
//! request at a time instead, as asyncpg's pool does, so `db_pool` means what
//! it means there.

use super::{check, err, param, sql, DbError, Param};
use crate::cell::DbQuery;
use crate::counters::CellCounters;
use crate::runtime::AsyncRuntime;
use hyper_util::rt::TokioIo;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, Statement};

struct Conn {
    client: Client,
    statement: Statement,
}

pub struct AsyncDb<R: AsyncRuntime> {
    query: DbQuery,
    idle_tx: async_channel::Sender<Conn>,
    idle_rx: async_channel::Receiver<Conn>,
    wait_limit: Duration,
    /// The cell's counters: right answers, the last failure, pool waits.
    counters: Arc<CellCounters>,
    _rt: std::marker::PhantomData<fn() -> R>,
}

fn server_addr(config: &tokio_postgres::Config) -> Result<SocketAddr, DbError> {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => return Err(DbError("the connection string needs a TCP host".into())),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| DbError(format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| DbError(format!("cannot resolve {host}")))
}

async fn connect<R: AsyncRuntime>(
    rt: &R,
    (conninfo, config): (&str, &tokio_postgres::Config),
    addr: SocketAddr,
    query: DbQuery,
    counters: &CellCounters,
) -> Result<Conn, DbError> {
    let failed = |e: &dyn std::fmt::Display| super::connect_error(conninfo, "tokio-postgres", e);
    let tcp = TokioIo::new(R::connect(addr).await.map_err(|e| failed(&e))?);
    let (client, connection) = config
        .connect_raw(tcp, tokio_postgres::NoTls)
        .await
        .map_err(|e| failed(&e))?;
    rt.spawn(async move {
        let _ = connection.await;
    });
    let statement = client
        .prepare(sql(query))
        .await
        .map_err(|e| err(counters, e))?;
    Ok(Conn { client, statement })
}

impl<R: AsyncRuntime> AsyncDb<R> {
    /// Opens `size` connections on the runtime before the load starts.
    /// Blocks the calling (non-runtime) thread until they are up.
    pub fn open(
        rt: Arc<R>,
        url: &str,
        size: u32,
        query: DbQuery,
        timeout: Duration,
        counters: Arc<CellCounters>,
    ) -> Result<Self, DbError> {
        let conninfo = super::session_url(url, timeout.as_millis() as u64);
        let config: tokio_postgres::Config = conninfo.parse().map_err(|e| err(&counters, e))?;
        let addr = server_addr(&config)?;
        let (idle_tx, idle_rx) = async_channel::bounded(size.max(1) as usize);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        // A few openers at once (`super::OPENERS` says why).
        let shares = super::opener_shares(size);
        for share in shares.iter().copied() {
            let (tx, rt2, counters2, done_tx) = (
                idle_tx.clone(),
                rt.clone(),
                counters.clone(),
                done_tx.clone(),
            );
            let (conninfo, config) = (conninfo.clone(), config.clone());
            rt.spawn(async move {
                let mut result = Ok(());
                for _ in 0..share {
                    match connect(rt2.as_ref(), (&conninfo, &config), addr, query, &counters2).await
                    {
                        Ok(c) => drop(tx.try_send(c)),
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                // The runtime's last handle must never be dropped on one of its
                // own threads (tokio panics: "Cannot drop a runtime in a context
                // where blocking is not allowed"). Dropping ours before reporting
                // leaves the caller, a plain thread, holding the last one when
                // opening fails.
                drop(rt2);
                let _ = done_tx.send(result);
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in &shares {
            done_rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .map_err(|_| DbError("connecting the pool took over 30 s".into()))??;
        }
        Ok(AsyncDb {
            query,
            idle_tx,
            idle_rx,
            wait_limit: timeout,
            counters,
            _rt: std::marker::PhantomData,
        })
    }

    /// One query: waits (bounded) for a connection, then for the answer,
    /// yielding to the runtime throughout.
    pub async fn call(&self, latency: Duration) -> Result<(), DbError> {
        let t0 = Instant::now();
        let limit = self.wait_limit;
        let deadline = async move {
            R::sleep(limit).await;
            Err(DbError(format!(
                "no free connection within {} ms (pool exhausted)",
                limit.as_millis()
            )))
        };
        let conn = futures_lite::future::or(
            async {
                self.idle_rx
                    .recv()
                    .await
                    .map_err(|e| err(&self.counters, e))
            },
            deadline,
        )
        .await?;
        self.counters.record_pool_wait(t0, t0.elapsed());
        let p = param(self.query, latency);
        let rows = match p {
            Param::Seconds(s) => conn.client.query(&conn.statement, &[&s]).await,
            Param::Id(id) => conn.client.query(&conn.statement, &[&id]).await,
        };
        // A closed connection goes back too: later calls fail fast on it,
        // and each failure is counted, instead of waiting for a connection
        // that no longer exists.
        let _ = self.idle_tx.try_send(conn);
        let rows = rows.map_err(|e| err(&self.counters, e))?;
        let first: Option<String> = rows.first().and_then(|r| match p {
            Param::Seconds(_) => Some(String::new()),
            Param::Id(_) => match self.query {
                DbQuery::Point => r.try_get::<_, String>(0).ok(),
                _ => r.try_get::<_, i32>(0).ok().map(|v| v.to_string()),
            },
        });
        check(&self.counters, self.query, p, rows.len(), first.as_deref())
    }
}
