//! Thread-per-request on a bounded pool (Tomcat's model): `threads` OS
//! threads take requests from an accept queue of `queue` places; a request
//! that finds the queue full is rejected at once. Each request runs
//! synchronously on its thread: CPU part, then blocking I/O.

use super::accept_queue::AcceptQueue;
use crate::measure::LagRecorder;
use crate::server::{Job, Model, Request, Server, Status};
use crate::wire::pool_http::{self, Handler, Workers};
use std::sync::Arc;

pub struct PoolServer {
    queue: AcceptQueue,
}

impl PoolServer {
    pub fn start(threads: usize, queue: usize, job: Job) -> anyhow::Result<Self> {
        let (accept, rx) = AcceptQueue::new(queue);
        for i in 0..threads {
            let rx = rx.clone();
            let job = job.clone();
            std::thread::Builder::new()
                .name(format!("pool-{i}"))
                .spawn(move || {
                    for mut req in rx.iter().filter_map(|item| item.into_request()) {
                        req.start();
                        let w = job.of(req.class());
                        let cpu = w.cpu.run();
                        let status = w.io.blocking().map_or(Status::Error, |()| Status::Ok);
                        req.finish(status, cpu);
                    }
                })?;
        }
        Ok(PoolServer { queue: accept })
    }
}

impl Server for PoolServer {
    fn submit(&self, req: Request) {
        self.queue.submit(req);
    }
}

impl Model for PoolServer {
    fn start_probe(&self, lag: Arc<LagRecorder>) {
        self.queue.start_probe(lag);
    }

    fn harness_threads(&self) -> u32 {
        1
    }
}

/// The same pool serving the request contract over HTTP, as Tomcat's NIO
/// connector does ([`pool_http`]): `threads` workers (maxThreads),
/// at most `max_connections` open connections (maxConnections), the rest in
/// the listener's backlog (acceptCount, set when it was bound).
pub struct PoolHttpServer;

impl PoolHttpServer {
    pub fn start(
        threads: usize,
        max_connections: usize,
        job: Job,
        iters_per_ms: f64,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let handler = Handler::blocking(job, iters_per_ms);
        pool_http::serve(listener, Workers::Pool(threads), max_connections, handler)?;
        Ok(PoolHttpServer)
    }
}

impl Model for PoolHttpServer {
    /// No loop-lag probe: a pool has no loop, and over HTTP its queue holds
    /// connections, not the probe's tasks (the lag columns stay empty).
    fn start_probe(&self, _lag: Arc<LagRecorder>) {}
}

/// The pool built for a cell, started in the shape its transport wants: the
/// in-process accept queue of `queue` places, or the HTTP connector with
/// `queue` less the backlog as its open connections.
pub struct Pool {
    threads: usize,
    queue: Option<u32>,
    job: Job,
    iters_per_ms: f64,
}

impl Pool {
    pub fn new(cell: &crate::cell::Cell, threads: usize, job: Job) -> Self {
        Pool {
            threads,
            queue: cell.queue,
            job,
            iters_per_ms: cell.cpu_iters_per_ms,
        }
    }
}

impl super::Runtime for Pool {
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>> {
        let queue = self.queue.unwrap_or(0) as usize;
        Ok(Box::new(PoolServer::start(self.threads, queue, self.job)?))
    }

    fn over_http(
        self: Box<Self>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Box<dyn Model>> {
        Ok(Box::new(PoolHttpServer::start(
            self.threads,
            super::max_connections(self.queue),
            self.job,
            self.iters_per_ms,
            listener,
        )?))
    }
}
