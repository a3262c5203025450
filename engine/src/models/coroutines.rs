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

use crate::cell::Pinning;
use crate::measure::LagRecorder;
use crate::server::{Job, Model, Request, Server, Status};
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
            let io = match (pinning, w.io.kind) {
                (Pinning::None, crate::cell::IoKind::Timer) => {
                    if !w.io.latency.is_zero() {
                        may::coroutine::sleep(w.io.latency);
                    }
                    Ok(())
                }
                // libpq is a native call: whatever the pinning factor says,
                // it pins the carrier (Java's JNI case); the theory caps it so.
                (Pinning::None, crate::cell::IoKind::Postgres) => w.io.blocking().map_err(drop),
                // may's own net I/O would yield; an HTTP client on it is not
                // written yet, and a blocking one would pin: refuse honestly.
                (Pinning::None, _) => Err(()),
                (Pinning::BlockingSyscall, _) => w.io.blocking().map_err(drop),
                (Pinning::Mutex, _) => {
                    // A `synchronized` section doing blocking I/O: the lock
                    // is held across the call, so the carrier cannot be freed.
                    let _guard = locks[id % LOCKS].lock().unwrap_or_else(|p| p.into_inner());
                    w.io.blocking().map_err(drop)
                }
            };
            req.finish(io.map_or(Status::Error, |()| Status::Ok), cpu);
        });
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
