//! The request path shared by every async runtime: start, CPU part (inline or
//! offloaded), I/O (the runtime's own timer, or a client: async, blocking on
//! the loop, or blocking offloaded), finish.

use super::WorkerPool;
use crate::cell::{Cell, Client, DbQuery, IoKind, Offload};
use crate::db::async_driver::AsyncDb;
use crate::http::pool::AsyncClient;
use crate::http::Target;
use crate::measure::LagRecorder;
use crate::server::{Job, Request, Server, Status};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the shared request path needs from a runtime. One implementation per
/// runtime; adding a runtime is one file and a line in `models::start`.
pub trait AsyncRuntime: Send + Sync + 'static {
    /// Spawns a detached task. Called from the load generator's thread, which
    /// is never one of the runtime's threads.
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F);

    /// The runtime's own timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// The runtime's own TCP stream, as hyper's I/O traits want it.
    type Tcp: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// Connects with the runtime's own reactor (no hidden runtime thread).
    fn connect(
        addr: std::net::SocketAddr,
    ) -> impl Future<Output = std::io::Result<Self::Tcp>> + Send;

    /// Runs `f` on the runtime's blocking pool.
    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}

/// The non-blocking clients of a cell (only those its I/O uses).
struct AsyncClients<R: AsyncRuntime> {
    http: Option<AsyncClient<R>>,
    db: Option<AsyncDb<R>>,
}

pub struct AsyncServer<R: AsyncRuntime> {
    rt: Arc<R>,
    job: Job,
    offload: Offload,
    pool: Option<Arc<WorkerPool>>,
    client: Client,
    clients: Arc<AsyncClients<R>>,
}

impl<R: AsyncRuntime> AsyncServer<R> {
    pub fn new(
        rt: R,
        cell: &Cell,
        job: Job,
        offload: Offload,
        pool: Option<WorkerPool>,
    ) -> anyhow::Result<Self> {
        let rt = Arc::new(rt);
        let client = cell.client.unwrap_or(Client::Async);
        let timeout = Duration::from_millis(cell.timeout_ms);
        let http = match (cell.uses_http(), client, &cell.downstream) {
            (true, Client::Async, Some(addr)) => Some(AsyncClient::new(
                rt.clone(),
                Target {
                    addr: addr.clone(),
                    tag: crate::run::tag(cell),
                },
                timeout,
            )?),
            _ => None,
        };
        let db = match (cell.uses_postgres(), client) {
            (true, Client::Async) => Some(AsyncDb::open(
                rt.clone(),
                &crate::db::url_from_env()?,
                cell.db_pool.unwrap_or(crate::db::DEFAULT_POOL),
                cell.db_query.unwrap_or(DbQuery::Sleep),
                timeout,
            )?),
            _ => None,
        };
        Ok(AsyncServer {
            rt,
            job,
            offload,
            pool: pool.map(Arc::new),
            client,
            clients: Arc::new(AsyncClients { http, db }),
        })
    }
}

async fn serve<R: AsyncRuntime>(
    mut req: Request,
    job: Job,
    offload: Offload,
    pool: Option<Arc<WorkerPool>>,
    client: Client,
    clients: Arc<AsyncClients<R>>,
) {
    req.start();
    let w = job.of(req.class());
    let cpu = w.cpu;
    // A request with no CPU part (a mix's light class) has nothing to
    // offload: run_in_executor is called for the heavy work only.
    let offload = if cpu.is_empty() {
        Offload::Inline
    } else {
        offload
    };
    let cpu_time = match (offload, pool) {
        (Offload::Inline, _) => cpu.run(),
        (Offload::SpawnBlocking, _) => R::unblock(move || cpu.run()).await,
        (Offload::WorkerPool, Some(pool)) => match pool.run(move || cpu.run()).await {
            Some(t) => t,
            None => return req.finish(Status::Error, Duration::ZERO),
        },
        (Offload::WorkerPool, None) => return req.finish(Status::Error, Duration::ZERO),
    };
    let io = match (w.io.kind, client) {
        (IoKind::Timer, _) => {
            if !w.io.latency.is_zero() {
                R::sleep(w.io.latency).await
            }
            Ok(())
        }
        (IoKind::Http, Client::Async) => match &clients.http {
            Some(c) => c.get(w.io.latency).await.map_err(|e| e.to_string()),
            None => Err("no downstream address for an http cell".into()),
        },
        (IoKind::Postgres, Client::Async) => match &clients.db {
            Some(db) => db.call(w.io.latency).await.map_err(|e| e.to_string()),
            None => Err("no async driver opened for a postgres cell".into()),
        },
        // The mistake under study: a synchronous call on the event loop.
        (IoKind::Http | IoKind::Postgres, Client::Blocking) => w.io.blocking(),
        (IoKind::Http | IoKind::Postgres, Client::BlockingOffload) => {
            let io = w.io.clone();
            R::unblock(move || io.blocking()).await
        }
    };
    req.finish(io.map_or(Status::Error, |()| Status::Ok), cpu_time);
}

impl<R: AsyncRuntime> Server for AsyncServer<R> {
    fn submit(&self, req: Request) {
        self.rt.spawn(serve::<R>(
            req,
            self.job.clone(),
            self.offload,
            self.pool.clone(),
            self.client,
            self.clients.clone(),
        ));
    }

    fn start_probe(&self, lag: Arc<LagRecorder>) {
        self.rt.spawn(async move {
            let tick = Duration::from_millis(1);
            while !lag.is_over() {
                let t0 = Instant::now();
                lag.begin(t0, tick);
                R::sleep(tick).await;
                lag.record(t0.elapsed().saturating_sub(tick));
            }
        });
    }
}
