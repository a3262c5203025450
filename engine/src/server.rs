//! The one small interface every execution model implements, and the request
//! that flows through it.
//!
//! The load generator owns the clock: it stamps the intended send time, hands
//! the request to [`Server::submit`] and learns of the end through a channel.
//! A model only stamps when the request starts and ends; it never decides what
//! is measured.

use crate::measure::LagRecorder;
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a request ended, as the model saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// The model could not serve it (I/O error, thread spawn failure, ...).
    Error,
    /// Refused at the door: the accept queue was full.
    Rejected,
}

/// The message a finished request sends back to the load generator.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    pub id: u64,
    /// Index of the request's class in the cell's mix (0 without a mix).
    pub class: u16,
    pub intended: Instant,
    pub started: Option<Instant>,
    pub ended: Instant,
    pub status: Status,
    /// Thread CPU time the request's CPU part took (verifies calibration).
    pub cpu: Duration,
}

/// One request in flight. Dropping it without [`Request::finish`] reports an
/// error, so a request lost inside a model is counted, never silently missing.
///
/// It carries nothing shared but its reply channel: whoever sends requests
/// knows which are still out by the answers it has not yet read, so no
/// counter is touched by both the generator's thread and the model's (each
/// such counter is a cache line that moves between cores on every request).
pub struct Request {
    id: u64,
    class: u16,
    intended: Instant,
    started: Option<Instant>,
    done: Option<Sender<Done>>,
}

impl Request {
    pub fn new(id: u64, class: u16, intended: Instant, done: Sender<Done>) -> Self {
        Request {
            id,
            class,
            intended,
            started: None,
            done: Some(done),
        }
    }

    /// The generator's id of this request.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Which class of the cell's request mix this request belongs to.
    pub fn class(&self) -> usize {
        self.class as usize
    }

    /// Marks the moment the model begins serving it (ends its queue wait).
    pub fn start(&mut self) {
        self.started = Some(Instant::now());
    }

    pub fn finish(mut self, status: Status, cpu: Duration) {
        self.send(status, cpu);
    }

    fn send(&mut self, status: Status, cpu: Duration) {
        if let Some(tx) = self.done.take() {
            // The generator may have stopped listening at the end of the
            // window; a send error then is expected and harmless.
            let _ = tx.send(Done {
                id: self.id,
                class: self.class,
                intended: self.intended,
                started: self.started,
                ended: Instant::now(),
                status,
                cpu,
            });
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.send(Status::Error, Duration::ZERO);
    }
}

/// What a request does: its CPU part, then its I/O.
#[derive(Clone)]
pub struct Work {
    pub cpu: crate::work::CpuWork,
    pub io: crate::io::Io,
}

/// The work of each class of a cell's request mix (one entry without a mix).
#[derive(Clone)]
pub struct Job {
    classes: Arc<Vec<Work>>,
}

impl Job {
    pub fn new(classes: Vec<Work>) -> Self {
        assert!(!classes.is_empty(), "a job has at least one class");
        Job {
            classes: Arc::new(classes),
        }
    }

    pub fn single(work: Work) -> Self {
        Job::new(vec![work])
    }

    /// The work of a request's class.
    pub fn of(&self, class: usize) -> &Work {
        &self.classes[class.min(self.classes.len() - 1)]
    }

    /// The work an HTTP order asks for: its CPU part at the cell's
    /// calibration, its I/O through the clients the order's class opened.
    pub fn work_for(&self, order: &crate::wire::contract::Order, iters_per_ms: f64) -> Work {
        Work {
            cpu: crate::work::CpuWork::new(order.cpu_ms, iters_per_ms),
            io: crate::io::Io::new(
                order.io,
                order.io_ms,
                self.of(order.class as usize).io.clients.clone(),
            ),
        }
    }
}

/// An execution model, started, however its requests reach it (in-process
/// through [`Server::submit`], or over HTTP through its own sockets): what
/// the cell asks of it besides requests.
pub trait Model: Send + Sync {
    /// Starts the loop-lag probe, which records into `lag` until the process ends.
    fn start_probe(&self, lag: Arc<LagRecorder>);

    /// OS threads the harness itself added inside this model (e.g. a probe
    /// thread), so reported thread counts can be read net of them.
    fn harness_threads(&self) -> u32 {
        0
    }

    /// The process that serves, when it is not this one (a foreign stack's):
    /// the cell measures that process instead of itself.
    fn process(&self) -> Option<u32> {
        None
    }

    /// What a foreign stack says about itself once the window is over
    /// (`None` for the Rust models), and notes on what it could not say.
    fn stack_report(&self) -> (Option<crate::outcome::StackReport>, Vec<String>) {
        (None, Vec::new())
    }
}

/// A model that takes requests in-process, from the load generator's thread.
pub trait Server: Model {
    /// Hands one request to the model. Must return promptly: the caller is the
    /// load generator, and a model that blocks here would slow the arrivals.
    fn submit(&self, req: Request);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_reports_once_even_when_dropped() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let r1 = Request::new(1, 0, Instant::now(), tx.clone());
        let r2 = Request::new(2, 0, Instant::now(), tx.clone());
        let r3 = Request::new(3, 0, Instant::now(), tx);
        r1.finish(Status::Ok, Duration::ZERO);
        // A request lost inside a model reports an error.
        drop(r2);
        drop(r3);
        let reported: Vec<_> = rx.try_iter().map(|d| (d.id, d.status)).collect();
        assert_eq!(
            reported,
            [(1, Status::Ok), (2, Status::Error), (3, Status::Error)]
        );
    }
}
