//! Stackful coroutines on `may`: the Rust analog of Java's virtual threads.
//!
//! Request code is synchronous (no `async`, no `.await`); `may`'s sleep (and
//! its net I/O) parks the coroutine and frees the carrier thread, as a virtual
//! thread unmounts on blocking I/O. `may` is maintained (0.3.x), runs an M:N
//! scheduler on `workers` carrier threads, and its coroutines have small fixed
//! stacks (32 KiB by default; an overflow is a segfault, not an error).
//! Spawning is `unsafe` in `may` because a coroutine must not block its
//! carrier or hold thread-locals across a yield: the request path below only
//! uses the channel send, the clock and `may`'s sleep, except in the pinned
//! variants, which block the carrier on purpose — that is what they measure.

use crate::cell::{IoKind, Pinning};
use crate::measure::LagRecorder;
use crate::server::{Job, Model, Request, Server, Status, Work};
use crate::wire::contract::{route, Answer};
use crate::wire::http1::Conn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEFAULT_STACK_KIB: u32 = 32;
/// Locks of the `mutex` pinning variant, striped by request id.
const LOCKS: usize = 64;

pub struct CoroutineServer {
    job: Job,
    pinning: Pinning,
    stack_words: usize,
    locks: Arc<Vec<Mutex<()>>>,
}

impl CoroutineServer {
    pub fn start(
        workers: usize,
        stack_kib: u32,
        pool_capacity: usize,
        pinning: Pinning,
        job: Job,
    ) -> anyhow::Result<Self> {
        let stack_words = stack_kib as usize * 1024 / std::mem::size_of::<usize>();
        // Read once, when the scheduler first starts: each cell is its own process.
        // The pool of finished coroutines is sized to the requests in flight,
        // so stacks are reused instead of mapped afresh per request (may's
        // default keeps 1,000; at 10k in flight that cost ~10% throughput
        // in mmap/munmap). may fills the pool when its scheduler first runs,
        // which is inside the warm-up.
        may::config()
            .set_workers(workers)
            .set_stack_size(stack_words)
            .set_pool_capacity(pool_capacity);
        Ok(CoroutineServer {
            job,
            pinning,
            stack_words,
            locks: Arc::new((0..LOCKS).map(|_| Mutex::new(())).collect()),
        })
    }

    fn spawn(&self, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let builder = may::coroutine::Builder::new().stack_size(self.stack_words);
        // SAFETY: the closures passed here use no thread-locals across a
        // yield; the only blocking calls are the deliberate pinning variants.
        unsafe { builder.spawn(f) }.map(drop)
    }
}

impl Server for CoroutineServer {
    fn submit(&self, mut req: Request) {
        let (job, pinning, locks) = (self.job.clone(), self.pinning, self.locks.clone());
        let id = req_slot(&req);
        // On a failed spawn the closure, and the request in it, is dropped:
        // the request is reported as an error.
        let _ = self.spawn(move || {
            req.start();
            let w = job.of(req.class());
            let cpu = w.cpu.run();
            let io = wait(w, pinning, &locks[id % LOCKS]);
            req.finish(io.map_or(Status::Error, |()| Status::Ok), cpu);
        });
    }
}

impl CoroutineServer {
    /// Serves the request contract over HTTP on `may`'s own net: a
    /// coroutine accepts, and one coroutine per connection reads, runs each
    /// request as [`Server::submit`] does, and answers; its blocking-looking
    /// reads and writes park the coroutine, not the carrier.
    pub fn serve_http(
        &self,
        listener: std::net::TcpListener,
        iters_per_ms: f64,
    ) -> std::io::Result<()> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        // SAFETY: the descriptor comes from a listener this call owns and
        // gives up; may's listener owns it from here on.
        let listener = unsafe { may::net::TcpListener::from_raw_fd(listener.into_raw_fd()) };
        let (job, pinning, locks) = (self.job.clone(), self.pinning, self.locks.clone());
        let stack_words = self.stack_words;
        let next = Arc::new(AtomicUsize::new(0));
        self.spawn(move || loop {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                // Out of descriptors, or a connection reset before it was
                // accepted: back off briefly instead of spinning.
                Err(_) => {
                    may::coroutine::sleep(Duration::from_millis(5));
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let (job, locks, next) = (job.clone(), locks.clone(), next.clone());
            let builder = may::coroutine::Builder::new().stack_size(stack_words);
            let connection = move || {
                let mut conn = Conn::new(stream);
                while let Ok(Some(target)) = conn.next_target() {
                    let answer = match route(&target) {
                        Err(answer) => answer,
                        Ok(order) => {
                            let started = Instant::now();
                            let w = job.work_for(&order, iters_per_ms);
                            w.cpu.run();
                            let lock = &locks[next.fetch_add(1, Ordering::Relaxed) % LOCKS];
                            Answer::served(&order, wait(&w, pinning, lock), started.elapsed())
                        }
                    };
                    if conn.write(&answer).is_err() {
                        return;
                    }
                }
            };
            // SAFETY: as in `spawn`: no thread-locals across a yield; the
            // only blocking calls are the deliberate pinning variants.
            let _ = unsafe { builder.spawn(connection) };
        })
    }
}

/// A request's I/O as the pinning factor says it behaves on the carrier.
fn wait(w: &Work, pinning: Pinning, lock: &Mutex<()>) -> Result<(), String> {
    match (pinning, w.io.kind) {
        (Pinning::None, IoKind::Timer) => {
            if !w.io.latency.is_zero() {
                may::coroutine::sleep(w.io.latency);
            }
            Ok(())
        }
        // libpq is a native call: whatever the pinning factor says,
        // it pins the carrier (Java's JNI case); the theory caps it so.
        (Pinning::None, IoKind::Postgres) => w.io.blocking(),
        // may's own net I/O would yield; an HTTP client on it is not
        // written yet, and a blocking one would pin: refuse honestly.
        (Pinning::None, IoKind::Http) => Err(
            "coroutines: no HTTP client on may's net yet (a blocking one would pin the carrier)"
                .into(),
        ),
        (Pinning::BlockingSyscall, _) => w.io.blocking(),
        (p @ (Pinning::Synchronized | Pinning::Jdbc), _) => Err(format!(
            "coroutines: pinning = {p} is the Java stack's (the runner plans it only for tomcat-virtual)"
        )),
        (Pinning::Mutex, _) => {
            // A `synchronized` section doing blocking I/O: the lock
            // is held across the call, so the carrier cannot be freed.
            let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
            w.io.blocking()
        }
    }
}

impl Model for CoroutineServer {
    fn start_probe(&self, lag: Arc<LagRecorder>) {
        let _ = self.spawn(move || {
            let tick = Duration::from_millis(1);
            while !lag.is_over() {
                let t0 = Instant::now();
                lag.begin(t0, tick);
                may::coroutine::sleep(tick);
                lag.record(t0.elapsed().saturating_sub(tick));
            }
        });
    }
}

fn req_slot(req: &Request) -> usize {
    req.id() as usize
}

/// The coroutines built for a cell: `workers` carriers, the cell's stack
/// size and pinning, and a pool of finished coroutines sized to the requests
/// in flight; the same server takes requests in-process or over HTTP.
pub struct Coroutines {
    server: CoroutineServer,
    iters_per_ms: f64,
}

impl Coroutines {
    pub fn start(cell: &crate::cell::Cell, job: Job) -> anyhow::Result<Self> {
        let server = CoroutineServer::start(
            cell.workers.unwrap_or(cell.cores).max(1) as usize,
            cell.stack_kib.unwrap_or(DEFAULT_STACK_KIB),
            cell.concurrency()
                .map_or(1000, |c| (c as usize * 6 / 5).clamp(1000, 200_000)),
            cell.pinning.unwrap_or(Pinning::None),
            job,
        )?;
        Ok(Coroutines {
            server,
            iters_per_ms: cell.cpu_iters_per_ms,
        })
    }
}

impl super::Runtime for Coroutines {
    fn in_process(self: Box<Self>) -> anyhow::Result<Box<dyn Server>> {
        Ok(Box::new(self.server))
    }

    fn over_http(
        self: Box<Self>,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<Box<dyn Model>> {
        self.server.serve_http(listener, self.iters_per_ms)?;
        Ok(Box::new(self.server))
    }
}
