//! The execution models. Each file starts one model (or one runtime's flavours) and returns it as a
//! [`Server`]; the async runtimes share the request path in [`async_server`]
//! and differ only in their [`AsyncRuntime`] implementation.

mod accept_queue;
mod async_server;
mod async_std_rt;
mod coroutines;
mod smol_rt;
mod thread_per_request;
mod threads;
mod threads_async_io;
mod tokio_rt;
mod worker_pool;

pub use async_server::{AsyncRuntime, AsyncServer};
pub use worker_pool::WorkerPool;

use crate::cell::{Cell, ModelKind};
use crate::server::{Job, Server};

/// Starts the cell's model. Returns once it can take requests.
pub fn start(cell: &Cell, job: Job) -> anyhow::Result<Box<dyn Server>> {
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as usize;
    Ok(match cell.model {
        ModelKind::Threads => Box::new(threads::PoolServer::start(
            cell.threads.unwrap_or(200) as usize,
            cell.queue.unwrap_or(0) as usize,
            job,
        )?),
        ModelKind::ThreadsAsyncIo => Box::new(threads_async_io::AsyncIoPoolServer::start(
            cell,
            cell.threads.unwrap_or(200) as usize,
            cell.queue.unwrap_or(0) as usize,
            job,
        )?),
        ModelKind::ThreadPerRequest => Box::new(thread_per_request::SpawnServer::new(job)),
        ModelKind::Tokio => async_model(tokio_rt::TokioRuntime::multi_thread(workers)?, cell, job)?,
        ModelKind::TokioCurrent => {
            async_model(tokio_rt::TokioRuntime::current_thread()?, cell, job)?
        }
        ModelKind::AsyncStd => async_model(async_std_rt::AsyncStd::start(workers)?, cell, job)?,
        ModelKind::Smol => async_model(smol_rt::SmolRuntime::multi_thread(workers)?, cell, job)?,
        ModelKind::SmolLocal => async_model(smol_rt::SmolRuntime::local()?, cell, job)?,
        ModelKind::Coroutines => Box::new(coroutines::CoroutineServer::start(
            workers,
            cell.stack_kib.unwrap_or(coroutines::DEFAULT_STACK_KIB),
            cell.concurrency()
                .map_or(1000, |c| (c as usize * 6 / 5).clamp(1000, 200_000)),
            cell.pinning.unwrap_or(crate::cell::Pinning::None),
            job,
        )?),
    })
}

fn async_model<R: AsyncRuntime>(rt: R, cell: &Cell, job: Job) -> anyhow::Result<Box<dyn Server>> {
    let offload = cell.offload.unwrap_or(crate::cell::Offload::Inline);
    let pool = cell
        .pool_threads
        .map(|n| WorkerPool::start(n.max(1) as usize));
    Ok(Box::new(AsyncServer::new(rt, cell, job, offload, pool)?))
}
