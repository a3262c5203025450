//! A fresh OS thread per request, no pool: the model C10K is about. Spawning
//! happens on the caller's thread (like an acceptor thread), so its cost is
//! part of what is measured; a failed spawn is a counted error.

use crate::measure::LagRecorder;
use crate::server::{Job, Model, Request, Server, Status};
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
        // The lag of this model is the time from spawn to the new thread running.
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

    fn harness_threads(&self) -> u32 {
        2
    }
}
