//! A fresh OS thread per request, no pool: the model C10K is about. Spawning
//! happens on the caller's thread (like an acceptor thread), so its cost is
//! part of what is measured; a failed spawn is a counted error.

use crate::measure::LagRecorder;
use crate::server::{Job, Model, Request, Server, Status};
use crate::wire::pool_http::{self, Handler, Workers};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Small stacks, as a C10K server would configure; only touched pages count in RSS.
const STACK_BYTES: usize = 64 * 1024;

pub struct SpawnServer {
    job: Job,
}

impl SpawnServer {
    pub fn new(job: Job) -> Self {
        SpawnServer { job }
    }
}

impl Server for SpawnServer {
    fn submit(&self, mut req: Request) {
        let job = self.job.clone();
        let spawned = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(move || {
                req.start();
                let w = job.of(req.class());
                let cpu = w.cpu.run();
                let status = w.io.blocking().map_or(Status::Error, |()| Status::Ok);
                req.finish(status, cpu);
            });
        // On failure the closure (and the request inside it) is dropped,
        // which reports the request as an error.
        drop(spawned);
    }
}

impl Model for SpawnServer {
    fn start_probe(&self, lag: Arc<LagRecorder>) {
        spawn_lag_probe(lag);
    }

    fn harness_threads(&self) -> u32 {
        2
    }
}

/// The same model serving the request contract over HTTP: the connector's
/// acceptor and poller ([`pool_http`]) start a fresh thread for every
/// request, with no limit on open connections but the process's file
/// descriptors.
pub struct SpawnHttpServer;

impl SpawnHttpServer {
    pub fn start(
        job: Job,
        iters_per_ms: f64,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let handler = Handler::blocking(job, iters_per_ms);
        let workers = Workers::PerRequest {
            stack_bytes: STACK_BYTES,
        };
        pool_http::serve(listener, workers, usize::MAX, handler)?;
        Ok(SpawnHttpServer)
    }
}

impl Model for SpawnHttpServer {
    fn start_probe(&self, lag: Arc<LagRecorder>) {
        spawn_lag_probe(lag);
    }

    /// The lag probe; the acceptor and the poller are the server's own.
    fn harness_threads(&self) -> u32 {
        1
    }
}

/// The lag of this model is the time from spawn to the new thread running.
fn spawn_lag_probe(lag: Arc<LagRecorder>) {
    std::thread::Builder::new()
        .name("lag-probe".into())
        .spawn(move || {
            while !lag.is_over() {
                let t0 = Instant::now();
                match std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn(move || t0.elapsed())
                {
                    Ok(h) => {
                        if let Ok(waited) = h.join() {
                            lag.record(waited);
                        }
                    }
                    Err(_) => lag.record_refused(),
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .expect("spawning the lag probe");
}

/// The model built for a cell: a thread per request, in-process or over HTTP.
pub struct Spawn {
    job: Job,
    iters_per_ms: f64,
}

impl Spawn {
    pub fn new(cell: &crate::cell::Cell, job: Job) -> Self {
        Spawn {
            job,
            iters_per_ms: cell.cpu_iters_per_ms,
        }
    }
}

impl super::Runtime for Spawn {
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>> {
        Ok(Box::new(SpawnServer::new(self.job)))
    }

    fn over_http(
        self: Box<Self>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Box<dyn Model>> {
        Ok(Box::new(SpawnHttpServer::start(
            self.job,
            self.iters_per_ms,
            listener,
        )?))
    }
}
