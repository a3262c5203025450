//! The request path shared by every async runtime: start, CPU part (inline or
//! offloaded), I/O (the runtime's own timer, or a client: async, blocking on
//! the loop, or blocking offloaded), finish.

use super::WorkerPool;
use crate::async_io::AsyncClients;
use crate::cell::{Cell, Client, IoKind, Offload};
use crate::counters::CellCounters;
use crate::measure::LagRecorder;
use crate::runtime::AsyncRuntime;
use crate::server::{Job, Request, Server, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        counters: &Arc<CellCounters>,
    ) -> anyhow::Result<Self> {
        let rt = Arc::new(rt);
        let client = cell.client.unwrap_or(Client::Async);
        let clients = match client {
            Client::Async => AsyncClients::open(&rt, cell, counters)?,
            Client::Blocking | Client::BlockingOffload => AsyncClients::none(),
        };
        Ok(AsyncServer {
            rt,
            job,
            offload,
            pool: pool.map(Arc::new),
            client,
            clients: Arc::new(clients),
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
        (kind @ IoKind::Timer, _) | (kind, Client::Async) => clients.call(kind, w.io.latency).await,
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
