//! The request path shared by every async runtime: start, CPU part (inline or
//! offloaded), I/O on the runtime's own timer, finish.

use super::WorkerPool;
use crate::cell::{IoKind, Offload};
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

    /// Runs `f` on the runtime's blocking pool.
    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}

pub struct AsyncServer<R: AsyncRuntime> {
    rt: Arc<R>,
    job: Job,
    offload: Offload,
    pool: Option<Arc<WorkerPool>>,
}

impl<R: AsyncRuntime> AsyncServer<R> {
    pub fn new(rt: R, job: Job, offload: Offload, pool: Option<WorkerPool>) -> Self {
        AsyncServer {
            rt: Arc::new(rt),
            job,
            offload,
            pool: pool.map(Arc::new),
        }
    }
}

async fn serve<R: AsyncRuntime>(
    mut req: Request,
    job: Job,
    offload: Offload,
    pool: Option<Arc<WorkerPool>>,
) {
    req.start();
    let cpu = job.cpu;
    let cpu_time = match (offload, pool) {
        (Offload::Inline, _) => cpu.run(),
        (Offload::SpawnBlocking, _) => R::unblock(move || cpu.run()).await,
        (Offload::WorkerPool, Some(pool)) => match pool.run(move || cpu.run()).await {
            Some(t) => t,
            None => return req.finish(Status::Error, Duration::ZERO),
        },
        (Offload::WorkerPool, None) => return req.finish(Status::Error, Duration::ZERO),
    };
    match job.io.kind {
        IoKind::Timer => {
            if !job.io.latency.is_zero() {
                R::sleep(job.io.latency).await
            }
        }
    }
    req.finish(Status::Ok, cpu_time);
}

impl<R: AsyncRuntime> Server for AsyncServer<R> {
    fn submit(&self, req: Request) {
        self.rt
            .spawn(serve::<R>(req, self.job, self.offload, self.pool.clone()));
    }

    fn start_probe(&self, lag: Arc<LagRecorder>) {
        self.rt.spawn(async move {
            let tick = Duration::from_millis(1);
            while !lag.is_over() {
                let t0 = Instant::now();
                R::sleep(tick).await;
                lag.record(t0.elapsed().saturating_sub(tick));
            }
        });
    }
}
