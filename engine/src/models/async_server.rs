//! The request path shared by every async runtime: start, CPU part (inline or
//! offloaded), I/O (the runtime's own timer, or a client: async, blocking on
//! the loop, or blocking offloaded), finish.

use super::WorkerPool;
use crate::async_io::AsyncClients;
use crate::cell::{Cell, Client, IoKind, Offload};
use crate::counters::CellCounters;
use crate::measure::LagRecorder;
use crate::runtime::AsyncRuntime;
use crate::server::{Job, Model, Request, Server, Status, Work};
use crate::wire::contract::Order;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct AsyncServer<R: AsyncRuntime> {
    rt: Arc<R>,
    path: Arc<RequestPath<R>>,
}

/// Everything a request's task needs, behind one `Arc`: a submit clones one
/// reference count, not one per part (each is a cache line the generator's
/// thread and the runtime's workers pass back and forth).
struct RequestPath<R: AsyncRuntime> {
    job: Job,
    offload: Offload,
    pool: Option<WorkerPool>,
    client: Client,
    clients: AsyncClients<R>,
    /// The cell's calibration, for orders that arrive over HTTP.
    iters_per_ms: f64,
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
            path: Arc::new(RequestPath {
                job,
                offload,
                pool,
                client,
                clients,
                iters_per_ms: cell.cpu_iters_per_ms,
            }),
        })
    }
}

async fn serve<R: AsyncRuntime>(mut req: Request, path: Arc<RequestPath<R>>) {
    req.start();
    let (io, cpu) = perform(&path, path.job.of(req.class())).await;
    req.finish(io.map_or(Status::Error, |()| Status::Ok), cpu);
}

/// One request's work on the model: the CPU part (inline or offloaded),
/// then the I/O. Returns how it ended (the failure's reason) and the CPU
/// time of its CPU part.
async fn perform<R: AsyncRuntime>(
    path: &RequestPath<R>,
    w: &Work,
) -> (Result<(), String>, Duration) {
    let cpu = w.cpu;
    // A request with no CPU part (a mix's light class) has nothing to
    // offload: run_in_executor is called for the heavy work only.
    let offload = if cpu.is_empty() {
        Offload::Inline
    } else {
        path.offload
    };
    let cpu_time = match (offload, &path.pool) {
        (Offload::Inline, _) => cpu.run(),
        (Offload::SpawnBlocking, _) => R::unblock(move || cpu.run()).await,
        (Offload::WorkerPool, Some(pool)) => match pool.run(move || cpu.run()).await {
            Some(t) => t,
            None => return (Err("the worker pool is gone".into()), Duration::ZERO),
        },
        (Offload::WorkerPool, None) => {
            return (
                Err("offload = worker-pool without a pool".into()),
                Duration::ZERO,
            )
        }
        // Refused when the server starts (`models::async_server`).
        (Offload::ProcessPool, _) => return (Err("offload = process-pool".into()), Duration::ZERO),
    };
    let io = match (w.io.kind, path.client) {
        (kind @ IoKind::Timer, _) | (kind, Client::Async) => {
            path.clients.call(kind, w.io.latency).await
        }
        // The mistake under study: a synchronous call on the event loop.
        (IoKind::Http | IoKind::Postgres, Client::Blocking) => w.io.blocking(),
        (IoKind::Http | IoKind::Postgres, Client::BlockingOffload) => {
            let io = w.io.clone();
            R::unblock(move || io.blocking()).await
        }
    };
    (io, cpu_time)
}

impl<R: AsyncRuntime> AsyncServer<R> {
    /// Serves the request contract on `listener` with the runtime's own
    /// sockets: each order runs the same request path as an in-process
    /// request, its work read from the order (CPU at the cell's calibration,
    /// the I/O through the cell's clients).
    pub fn serve_http(&self, listener: std::net::TcpListener) {
        let path = self.path.clone();
        crate::wire::async_http::serve(self.rt.clone(), listener, move |order: Order| {
            let path = path.clone();
            async move {
                let w = path.job.work_for(&order, path.iters_per_ms);
                perform(&path, &w).await.0
            }
        });
    }
}

/// Both transports run the same request path: over HTTP it reads each order's work.
impl<R: AsyncRuntime> super::Runtime for AsyncServer<R> {
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>> {
        Ok(self)
    }

    fn over_http(
        self: Box<Self>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Box<dyn Model>> {
        self.serve_http(listener);
        Ok(self)
    }
}

impl<R: AsyncRuntime> Server for AsyncServer<R> {
    fn submit(&self, req: Request) {
        self.rt.spawn(serve::<R>(req, self.path.clone()));
    }
}

impl<R: AsyncRuntime> Model for AsyncServer<R> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Io;
    use crate::models::{async_std_rt::AsyncStd, smol_rt::SmolRuntime, tokio_rt::TokioRuntime};
    use crate::work::CpuWork;

    /// The size of one request's task on runtime `R` (the future `submit` spawns).
    fn task_size<R: AsyncRuntime>() -> usize {
        let path = Arc::new(RequestPath::<R> {
            job: Job::single(Work {
                cpu: CpuWork::new(0.0, 1.0),
                io: Io::new(IoKind::Timer, 0.0, Default::default()),
            }),
            offload: Offload::Inline,
            pool: None,
            client: Client::Async,
            clients: AsyncClients::none(),
            iters_per_ms: 1.0,
        });
        let (tx, _rx) = crossbeam_channel::unbounded();
        let task = serve::<R>(Request::new(0, 0, Instant::now(), tx), path);
        std::mem::size_of_val(&task)
    }

    /// A task larger than the allocator's per-thread cache (glibc's tcache:
    /// up to 1,032 bytes, a runtime's task header included) is allocated by
    /// the generator's thread and freed by a worker under the arena's lock:
    /// that cost the harness 0.45 µs a request. A client whose future is
    /// large must be boxed inside `AsyncClients::call`.
    #[test]
    fn a_request_task_fits_the_allocators_thread_cache() {
        for (runtime, size) in [
            ("tokio", task_size::<TokioRuntime>()),
            ("async-std", task_size::<AsyncStd>()),
            ("smol", task_size::<SmolRuntime>()),
        ] {
            assert!(size <= 768, "{runtime}: a request's future is {size} bytes");
        }
    }
}
