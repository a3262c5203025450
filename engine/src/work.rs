//! Real CPU work of a calibrated size, and the thread CPU clock that verifies it.
//!
//! The work is a dependent chain of integer mixing steps: it cannot be
//! vectorised or skipped by the optimiser, touches no memory, and takes the
//! same CPU time whether or not the thread is preempted (unlike a spin on the
//! wall clock, which would "finish" early after a preemption).

use std::hint::black_box;
use std::time::Duration;

/// One unit of work: a few multiply-xorshift rounds (splitmix64).
#[inline(always)]
fn step(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs `iters` steps and returns the result (so it is not optimised away).
#[inline(never)]
pub fn spin(iters: u64) -> u64 {
    let mut x = black_box(iters);
    for _ in 0..iters {
        x = step(x);
    }
    black_box(x)
}

/// CPU time consumed by the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time consumed by the whole process so far.
pub fn process_cpu_time() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CLOCK_MONOTONIC: what `Instant` reads on Linux, and the same in every
/// process of the machine (an HTTP cell's two processes share a window by it).
pub fn monotonic_time() -> Duration {
    clock(libc::CLOCK_MONOTONIC)
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids are constants.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A request's CPU part, sized by calibration.
#[derive(Debug, Clone, Copy)]
pub struct CpuWork {
    iters: u64,
}

impl CpuWork {
    pub fn new(cpu_ms: f64, iters_per_ms: f64) -> Self {
        CpuWork {
            iters: (cpu_ms * iters_per_ms).round().max(0.0) as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.iters == 0
    }

    /// Does the work; returns the thread CPU time it took (zero when empty,
    /// without reading the clock).
    pub fn run(&self) -> Duration {
        if self.iters == 0 {
            return Duration::ZERO;
        }
        let t0 = thread_cpu_time();
        spin(self.iters);
        thread_cpu_time().saturating_sub(t0)
    }
}
