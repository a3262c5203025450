//! The execution models. [`build`] dispatches a cell's model once, to its
//! file's [`Runtime`], which then serves in-process ([`start`]) or over HTTP
//! ([`start_http`]); the async runtimes share the request path in
//! [`async_server`] and differ only in their [`AsyncRuntime`] implementation
//! ([`crate::runtime`]).

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
use std::net::TcpListener;
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

/// A model built for one cell, not yet taking requests: what both
/// transports start from, so that each model is dispatched once ([`build`]).
pub trait Runtime {
    /// Takes requests in-process, through [`Server::submit`].
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>>;

    /// Serves the request contract (`crate::wire::contract`) on `listener`
    /// (bound with the model's backlog) with the model's own sockets.
    fn over_http(self: Box<Self>, listener: TcpListener) -> anyhow::Result<Box<dyn Model>>;
}

/// Builds the cell's model: the one place a model is dispatched. The async
/// runtimes share the request path ([`AsyncServer`]); the other models are
/// their own files' [`Runtime`]s. A stack is no runtime of this process: it
/// starts as a process of its own ([`start_http`]).
pub fn build(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<Box<dyn Runtime>> {
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as usize;
    Ok(match cell.model {
        ModelKind::Threads => Box::new(threads::Pool::new(cell, pool_size(cell)?, job)),
        ModelKind::ThreadsAsyncIo => Box::new(threads_async_io::AsyncIoPool::new(
            cell,
            pool_size(cell)?,
            job,
            counters,
        )),
        ModelKind::ThreadPerRequest => Box::new(thread_per_request::Spawn::new(cell, job)),
        ModelKind::Tokio => Box::new(async_server(
            tokio_rt::TokioRuntime::multi_thread(workers)?,
            cell,
            job,
            counters,
        )?),
        ModelKind::TokioCurrent => Box::new(async_server(
            tokio_rt::TokioRuntime::current_thread()?,
            cell,
            job,
            counters,
        )?),
        ModelKind::AsyncStd => Box::new(async_server(
            async_std_rt::AsyncStd::start(workers)?,
            cell,
            job,
            counters,
        )?),
        ModelKind::Smol => Box::new(async_server(
            smol_rt::SmolRuntime::multi_thread(workers)?,
            cell,
            job,
            counters,
        )?),
        ModelKind::SmolLocal => Box::new(async_server(
            smol_rt::SmolRuntime::local()?,
            cell,
            job,
            counters,
        )?),
        ModelKind::Coroutines => Box::new(coroutines::Coroutines::start(cell, job)?),
        // The stacks' models, whose traits name their stack, so that a new
        // stack adds no arm here; a test checks that every other model has one.
        m => match m.stack() {
            Some(_) => anyhow::bail!(
                "{m} is a stack of its own (a process): it serves over HTTP only (transport = \"http\")"
            ),
            None => anyhow::bail!("{m} has no runtime: models::build has no arm for it"),
        },
    })
}

/// Starts the cell's model. Returns once it can take requests. The async
/// clients and drivers it opens count into the cell's `counters`.
pub fn start(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<Box<dyn Server>> {
    build(cell, job, counters)?.in_process()
}

fn async_server<R: AsyncRuntime>(
    rt: R,
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<AsyncServer<R>> {
    let offload = cell.offload.unwrap_or(crate::cell::Offload::Inline);
    // Python's ProcessPoolExecutor: a remedy of the FastAPI stack only.
    anyhow::ensure!(
        offload != crate::cell::Offload::ProcessPool,
        "offload = process-pool is the fastapi stack's; {} offloads to spawn-blocking or a worker-pool",
        cell.model
    );
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
fn max_connections(queue: Option<u32>) -> usize {
    let queue = queue.unwrap_or(ACCEPT_COUNT + 1);
    queue.saturating_sub(ACCEPT_COUNT).max(1) as usize
}

/// The listen backlog other models get (tokio's and Go's default is 1,024;
/// Linux caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 1024;

/// Starts the cell's model as an HTTP server on `bind` (a cell's own:
/// [`crate::wire::LOOPBACK`]), serving the request contract
/// (`crate::wire::contract`) with the model's own sockets; a stack starts as
/// a process of its own, on the port it picks. Returns the model and its
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
    let backlog = if cell.model.has_pool() {
        ACCEPT_COUNT
    } else {
        BACKLOG
    };
    let listener = crate::wire::listen(bind, backlog)?;
    let addr = listener.local_addr()?;
    let model = build(cell, job, counters)?.over_http(listener)?;
    Ok((model, addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{Factor as _, Load};

    fn pool_cell(threads: Option<u32>) -> Cell {
        Cell {
            threads,
            queue: Some(0),
            ..Cell::timer(ModelKind::Threads, Load::Closed { concurrency: 1 }, 0.0)
        }
    }

    #[test]
    fn every_rust_model_builds_and_every_stack_is_refused_in_process() {
        let job = || {
            Job::single(crate::server::Work {
                cpu: crate::work::CpuWork::new(0.0, 1.0),
                io: crate::io::Io::new(crate::cell::IoKind::Timer, 1.0, Default::default()),
            })
        };
        let counters = Arc::new(CellCounters::new());
        // async-std reads it at start-up (the cell process sets it from `workers`).
        std::env::set_var("ASYNC_STD_THREAD_COUNT", "1");
        for model in ModelKind::all() {
            let cell = Cell {
                model,
                workers: Some(1),
                ..pool_cell(Some(1))
            };
            match (model.stack(), start(&cell, job(), &counters)) {
                (None, Ok(_)) => {}
                (None, Err(e)) => panic!("{model}: {e:#}"),
                (Some(_), Ok(_)) => panic!("{model} is a stack, yet started in-process"),
                (Some(_), Err(e)) => assert!(e.to_string().contains("HTTP only"), "{e}"),
            }
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
