//! The bounded accept queue in front of a thread pool (Tomcat's accept
//! count): a request that finds it full is rejected at once. Shared by
//! `threads` and `threads-async-io`, with the lag probe that measures how long
//! a job waits in it.

use crate::measure::LagRecorder;
use crate::server::{Request, Status};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub enum Item {
    Request(Request),
    /// The lag probe: a job that reports how long it waited in the queue.
    Probe(Instant, Sender<Duration>),
}

impl Item {
    /// Answers a probe; hands a request back for the pool thread to serve.
    pub fn into_request(self) -> Option<Request> {
        match self {
            Item::Request(req) => Some(req),
            Item::Probe(queued, reply) => {
                let _ = reply.send(queued.elapsed());
                None
            }
        }
    }
}

pub struct AcceptQueue {
    tx: Sender<Item>,
}

impl AcceptQueue {
    /// The queue holds `capacity` waiting requests; a pool thread blocked in
    /// `recv` takes a request directly, so idle threads accept more.
    pub fn new(capacity: usize) -> (Self, Receiver<Item>) {
        let (tx, rx) = bounded(capacity);
        (AcceptQueue { tx }, rx)
    }

    pub fn submit(&self, req: Request) {
        match self.tx.try_send(Item::Request(req)) {
            Ok(()) => {}
            Err(TrySendError::Full(Item::Request(req))) => {
                req.finish(Status::Rejected, Duration::ZERO)
            }
            // Disconnected: dropping the request reports it as an error.
            Err(_) => {}
        }
    }

    /// Every millisecond, queues a probe job and records its wait (a probe
    /// still waiting when the window ends counts as waiting until then).
    pub fn start_probe(&self, lag: Arc<LagRecorder>) {
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
}
