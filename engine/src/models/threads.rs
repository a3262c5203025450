//! Thread-per-request on a bounded pool (Tomcat's model): `threads` OS
//! threads take requests from an accept queue of `queue` places; a request
//! that finds the queue full is rejected at once. Each request runs
//! synchronously on its thread: CPU part, then blocking I/O.

use crate::measure::LagRecorder;
use crate::server::{Job, Request, Server, Status};
use crossbeam_channel::{bounded, Sender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

enum Item {
    Request(Request),
    /// The lag probe: a job that reports how long it waited in the queue.
    Probe(Instant, Sender<Duration>),
}

pub struct PoolServer {
    tx: Sender<Item>,
}

impl PoolServer {
    pub fn start(threads: usize, queue: usize, job: Job) -> anyhow::Result<Self> {
        // The queue holds `queue` waiting requests; a thread blocked in recv
        // takes a request directly, so `threads` more are accepted when idle.
        let (tx, rx) = bounded::<Item>(queue);
        for i in 0..threads {
            let rx = rx.clone();
            let job = job.clone();
            std::thread::Builder::new()
                .name(format!("pool-{i}"))
                .spawn(move || {
                    for item in rx {
                        match item {
                            Item::Request(mut req) => {
                                req.start();
                                let w = job.of(req.class());
                                let cpu = w.cpu.run();
                                let status = w.io.blocking().map_or(Status::Error, |()| Status::Ok);
                                req.finish(status, cpu);
                            }
                            Item::Probe(queued, reply) => {
                                let _ = reply.send(queued.elapsed());
                            }
                        }
                    }
                })?;
        }
        Ok(PoolServer { tx })
    }
}

impl Server for PoolServer {
    fn submit(&self, req: Request) {
        match self.tx.try_send(Item::Request(req)) {
            Ok(()) => {}
            Err(TrySendError::Full(Item::Request(req))) => {
                req.finish(Status::Rejected, Duration::ZERO)
            }
            // Disconnected: dropping the request reports it as an error.
            Err(_) => {}
        }
    }

    fn start_probe(&self, lag: Arc<LagRecorder>) {
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name("lag-probe".into())
            .spawn(move || {
                let (reply_tx, reply_rx) = bounded(1);
                while !lag.is_over() {
                    let t0 = Instant::now();
                    lag.begin(t0, Duration::ZERO);
                    match tx.try_send(Item::Probe(t0, reply_tx.clone())) {
                        Ok(()) => {
                            // Bounded wait: the probe gives up with the run.
                            if let Ok(waited) = reply_rx.recv_timeout(lag.remaining()) {
                                lag.record(waited);
                            }
                        }
                        Err(_) => {
                            lag.cancel();
                            lag.record_refused();
                        }
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
            .expect("spawning the lag probe");
    }

    fn harness_threads(&self) -> u32 {
        1
    }
}
