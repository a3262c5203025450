//! A bounded pool whose threads hand the I/O to a non-blocking client: the
//! CompletableFuture + WebClient pattern. A pool thread runs the CPU part,
//! starts the I/O on one event-loop thread (tokio current_thread, like
//! WebClient's Netty loop) and is free again at once; when the I/O ends, the
//! continuation comes back to the pool, which finishes the request. Same
//! bounded accept queue as `threads`.

use super::accept_queue::AcceptQueue;
use super::tokio_rt::TokioRuntime;
use crate::async_io::AsyncClients;
use crate::cell::Cell;
use crate::counters::CellCounters;
use crate::measure::LagRecorder;
use crate::runtime::AsyncRuntime;
use crate::server::{Job, Model, Request, Server, Status};
use crate::wire::pool_http::{self, Done, Handler, Workers};
use crossbeam_channel::{select, unbounded};
use std::sync::Arc;
use std::time::Duration;

/// A request whose I/O has ended, back for its pool thread.
struct Continuation {
    req: Request,
    cpu: Duration,
    io: Result<(), String>,
}

pub struct AsyncIoPoolServer {
    queue: AcceptQueue,
}

impl AsyncIoPoolServer {
    pub fn start(
        cell: &Cell,
        threads: usize,
        queue: usize,
        job: Job,
        counters: &Arc<CellCounters>,
    ) -> anyhow::Result<Self> {
        let rt = Arc::new(TokioRuntime::current_thread()?);
        let clients = Arc::new(AsyncClients::open(&rt, cell, counters)?);
        let (accept, rx) = AcceptQueue::new(queue);
        let (done_tx, done_rx) = unbounded::<Continuation>();
        for i in 0..threads {
            let (rx, done_rx, done_tx) = (rx.clone(), done_rx.clone(), done_tx.clone());
            let (job, rt, clients) = (job.clone(), rt.clone(), clients.clone());
            std::thread::Builder::new()
                .name(format!("pool-{i}"))
                .spawn(move || loop {
                    // Continuations first: they finish requests already admitted.
                    if let Ok(c) = done_rx.try_recv() {
                        finish(c);
                        continue;
                    }
                    select! {
                        recv(done_rx) -> c => match c {
                            Ok(c) => finish(c),
                            Err(_) => return,
                        },
                        recv(rx) -> item => match item {
                            Ok(item) => if let Some(mut req) = item.into_request() {
                                req.start();
                                let w = job.of(req.class());
                                let cpu = w.cpu.run();
                                let (kind, latency) = (w.io.kind, w.io.latency);
                                let (clients, done_tx) = (clients.clone(), done_tx.clone());
                                rt.spawn(async move {
                                    let result = clients.call(kind, latency).await;
                                    let _ = done_tx.send(Continuation { req, cpu, io: result });
                                });
                            }
                            Err(_) => return,
                        },
                    }
                })?;
        }
        Ok(AsyncIoPoolServer { queue: accept })
    }
}

fn finish(c: Continuation) {
    let status = c.io.map_or(Status::Error, |()| Status::Ok);
    c.req.finish(status, c.cpu);
}

impl Server for AsyncIoPoolServer {
    fn submit(&self, req: Request) {
        self.queue.submit(req);
    }
}

impl Model for AsyncIoPoolServer {
    fn start_probe(&self, lag: Arc<LagRecorder>) {
        self.queue.start_probe(lag);
    }

    fn harness_threads(&self) -> u32 {
        1
    }
}

/// The same pool serving the contract over HTTP ([`pool_http`]'s connector):
/// a worker runs the CPU part, hands the I/O to the event-loop thread and is
/// free at once; whichever worker takes the continuation writes the answer.
/// Connections beyond `max_connections` wait in the listener's backlog.
pub struct AsyncIoPoolHttpServer;

impl AsyncIoPoolHttpServer {
    pub fn start(
        cell: &Cell,
        threads: usize,
        max_connections: usize,
        job: Job,
        counters: &Arc<CellCounters>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let rt = Arc::new(TokioRuntime::current_thread()?);
        let clients = Arc::new(AsyncClients::open(&rt, cell, counters)?);
        let iters_per_ms = cell.cpu_iters_per_ms;
        let handler = Handler::Continued(Arc::new(move |order, done: Done| {
            let w = job.work_for(&order, iters_per_ms);
            w.cpu.run();
            let (kind, latency, clients) = (w.io.kind, w.io.latency, clients.clone());
            rt.spawn(async move { done(clients.call(kind, latency).await) });
        }));
        pool_http::serve(listener, Workers::Pool(threads), max_connections, handler)?;
        Ok(AsyncIoPoolHttpServer)
    }
}

impl Model for AsyncIoPoolHttpServer {
    /// No loop-lag probe, as for the `threads` pool over HTTP.
    fn start_probe(&self, _lag: Arc<LagRecorder>) {}
}

/// The pool built for a cell: in-process with its accept queue, or over
/// HTTP with `queue` less the backlog as its open connections.
pub struct AsyncIoPool {
    cell: Cell,
    threads: usize,
    job: Job,
    counters: Arc<CellCounters>,
}

impl AsyncIoPool {
    pub fn new(cell: &Cell, threads: usize, job: Job, counters: &Arc<CellCounters>) -> Self {
        AsyncIoPool {
            cell: cell.clone(),
            threads,
            job,
            counters: counters.clone(),
        }
    }
}

impl super::Runtime for AsyncIoPool {
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>> {
        let queue = self.cell.queue.unwrap_or(0) as usize;
        Ok(Box::new(AsyncIoPoolServer::start(
            &self.cell,
            self.threads,
            queue,
            self.job,
            &self.counters,
        )?))
    }

    fn over_http(
        self: Box<Self>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Box<dyn Model>> {
        Ok(Box::new(AsyncIoPoolHttpServer::start(
            &self.cell,
            self.threads,
            super::max_connections(self.cell.queue),
            self.job,
            &self.counters,
            listener,
        )?))
    }
}
