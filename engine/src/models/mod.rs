//! The execution models. Each file starts one model (or one runtime's flavours) and returns it as a
//! [`Server`]; the async runtimes share the request path in [`async_server`]
//! and differ only in their [`AsyncRuntime`] implementation ([`crate::runtime`]).

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

pub use async_server::AsyncServer;
pub use worker_pool::WorkerPool;

use crate::cell::{Cell, ModelKind};
use crate::counters::CellCounters;
use crate::runtime::AsyncRuntime;
use crate::server::{Job, Model, Server};
use std::sync::Arc;

/// A pool model's cell without a pool size. The runner resolves `threads`
/// (its default included) for every pool model, so the engine keeps no
/// default of its own that could drift from the runner's.
#[derive(Debug, thiserror::Error)]
#[error("the {model} model needs `threads` (the pool size); the runner resolves it")]
pub struct MissingThreads {
    pub model: ModelKind,
}

fn pool_size(cell: &Cell) -> Result<usize, MissingThreads> {
    cell.threads
        .map(|t| t as usize)
        .ok_or(MissingThreads { model: cell.model })
}

/// Starts the cell's model. Returns once it can take requests. The async
/// clients and drivers it opens count into the cell's `counters`.
pub fn start(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<Box<dyn Server>> {
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as usize;
    Ok(match cell.model {
        ModelKind::Threads => Box::new(threads::PoolServer::start(
            pool_size(cell)?,
            cell.queue.unwrap_or(0) as usize,
            job,
        )?),
        ModelKind::ThreadsAsyncIo => Box::new(threads_async_io::AsyncIoPoolServer::start(
            cell,
            pool_size(cell)?,
            cell.queue.unwrap_or(0) as usize,
            job,
            counters,
        )?),
        ModelKind::ThreadPerRequest => Box::new(thread_per_request::SpawnServer::new(job)),
        ModelKind::Tokio => async_model(
            tokio_rt::TokioRuntime::multi_thread(workers)?,
            cell,
            job,
            counters,
        )?,
        ModelKind::TokioCurrent => async_model(
            tokio_rt::TokioRuntime::current_thread()?,
            cell,
            job,
            counters,
        )?,
        ModelKind::AsyncStd => {
            async_model(async_std_rt::AsyncStd::start(workers)?, cell, job, counters)?
        }
        ModelKind::Smol => async_model(
            smol_rt::SmolRuntime::multi_thread(workers)?,
            cell,
            job,
            counters,
        )?,
        ModelKind::SmolLocal => async_model(smol_rt::SmolRuntime::local()?, cell, job, counters)?,
        ModelKind::Coroutines => Box::new(coroutine_server(cell, job)?),
        m @ (ModelKind::TomcatPool
        | ModelKind::TomcatAsync
        | ModelKind::TomcatVirtual
        | ModelKind::Fastapi) => anyhow::bail!(
            "{m} is a stack of its own (a process): it serves over HTTP only (transport = \"http\")"
        ),
    })
}

fn coroutine_server(cell: &Cell, job: Job) -> anyhow::Result<coroutines::CoroutineServer> {
    coroutines::CoroutineServer::start(
        cell.workers.unwrap_or(cell.cores).max(1) as usize,
        cell.stack_kib.unwrap_or(coroutines::DEFAULT_STACK_KIB),
        cell.concurrency()
            .map_or(1000, |c| (c as usize * 6 / 5).clamp(1000, 200_000)),
        cell.pinning.unwrap_or(crate::cell::Pinning::None),
        job,
    )
}

fn async_model<R: AsyncRuntime>(
    rt: R,
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<Box<dyn Server>> {
    Ok(Box::new(async_server(rt, cell, job, counters)?))
}

fn async_server<R: AsyncRuntime>(
    rt: R,
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<AsyncServer<R>> {
    let offload = cell.offload.unwrap_or(crate::cell::Offload::Inline);
    let pool = cell
        .pool_threads
        .map(|n| WorkerPool::start(n.max(1) as usize));
    AsyncServer::new(rt, cell, job, offload, pool, counters)
}

/// Tomcat's acceptCount: the listen backlog of the `threads` model's HTTP
/// connector. Its `queue` (maxConnections + acceptCount in-process) leaves
/// maxConnections = `queue` - this.
pub const ACCEPT_COUNT: u32 = 100;

/// A pool model's open connections over HTTP (Tomcat's maxConnections):
/// its `queue` less the backlog's [`ACCEPT_COUNT`].
fn max_connections(cell: &Cell) -> usize {
    let queue = cell.queue.unwrap_or(ACCEPT_COUNT + 1);
    queue.saturating_sub(ACCEPT_COUNT).max(1) as usize
}

/// The listen backlog other models get (tokio's and Go's default is 1,024;
/// Linux caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 1024;

/// Starts the cell's model as an HTTP server on `bind` (a cell's own:
/// [`crate::wire::LOOPBACK`]), serving the request contract
/// (`crate::wire::contract`) with the model's own sockets. Returns it and its
/// address once it accepts connections.
pub fn start_http(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
    bind: std::net::SocketAddr,
) -> anyhow::Result<(Box<dyn Model>, std::net::SocketAddr)> {
    if cell.model.stack().is_some() {
        let stack = crate::stacks::StackServer::start(cell)?;
        let addr = stack.addr();
        return Ok((Box::new(stack), addr));
    }
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as usize;
    let backlog = if cell.model.has_pool() {
        ACCEPT_COUNT
    } else {
        BACKLOG
    };
    let listener = crate::wire::listen(bind, backlog)?;
    let addr = listener.local_addr()?;
    fn served<R: AsyncRuntime>(
        s: AsyncServer<R>,
        listener: std::net::TcpListener,
    ) -> Box<dyn Model> {
        s.serve_http(listener);
        Box::new(s)
    }
    let model: Box<dyn Model> = match cell.model {
        ModelKind::Threads => Box::new(threads::PoolHttpServer::start(
            pool_size(cell)?,
            max_connections(cell),
            job,
            cell.cpu_iters_per_ms,
            listener,
        )?),
        ModelKind::Tokio => served(
            async_server(
                tokio_rt::TokioRuntime::multi_thread(workers)?,
                cell,
                job,
                counters,
            )?,
            listener,
        ),
        ModelKind::TokioCurrent => served(
            async_server(
                tokio_rt::TokioRuntime::current_thread()?,
                cell,
                job,
                counters,
            )?,
            listener,
        ),
        ModelKind::AsyncStd => served(
            async_server(async_std_rt::AsyncStd::start(workers)?, cell, job, counters)?,
            listener,
        ),
        ModelKind::Smol => served(
            async_server(
                smol_rt::SmolRuntime::multi_thread(workers)?,
                cell,
                job,
                counters,
            )?,
            listener,
        ),
        ModelKind::SmolLocal => served(
            async_server(smol_rt::SmolRuntime::local()?, cell, job, counters)?,
            listener,
        ),
        ModelKind::ThreadsAsyncIo => Box::new(threads_async_io::AsyncIoPoolHttpServer::start(
            cell,
            pool_size(cell)?,
            max_connections(cell),
            job,
            counters,
            listener,
        )?),
        ModelKind::ThreadPerRequest => Box::new(thread_per_request::SpawnHttpServer::start(
            job,
            cell.cpu_iters_per_ms,
            listener,
        )?),
        ModelKind::Coroutines => {
            let server = coroutine_server(cell, job)?;
            server.serve_http(listener, cell.cpu_iters_per_ms)?;
            Box::new(server)
        }
        ModelKind::TomcatPool
        | ModelKind::TomcatAsync
        | ModelKind::TomcatVirtual
        | ModelKind::Fastapi => unreachable!("a stack is started above, as a process"),
    };
    Ok((model, addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Load;

    fn pool_cell(threads: Option<u32>) -> Cell {
        Cell {
            threads,
            queue: Some(0),
            ..Cell::timer(ModelKind::Threads, Load::Closed { concurrency: 1 }, 0.0)
        }
    }

    #[test]
    fn a_pool_model_takes_its_size_from_the_cell_and_invents_none() {
        assert_eq!(pool_size(&pool_cell(Some(7))).unwrap(), 7);
        let e = pool_size(&pool_cell(None)).unwrap_err();
        assert_eq!(e.model, ModelKind::Threads);
        assert!(e.to_string().contains("needs `threads`"), "{e}");
    }
}
