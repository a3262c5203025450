//! A warm-up that ends when the server has settled, for a JVM: its JIT
//! compiles the hot code while the load runs, so a fixed warm-up measured a
//! window in which it was still compiling (Tomcat at 1,000 connections:
//! 4,100, then 9,000 req/s over 20 s). The generator counts the answers in
//! consecutive short slices and starts the window once the last few agree
//! and, where it can read them, the JVM's compiler threads have gone quiet
//! over those slices (`super::jit`: a flat throughput on two cores can be
//! a plateau of code not yet compiled), never before the cell's `warmup_s`
//! (the queue's turnover and the theory count on it) and never after a
//! bound.

use crate::cell::{Cell, Load, Stack};
use std::time::{Duration, Instant};

/// One slice of the watch: long enough for a few thousand answers from a
/// warm JVM, short enough that the warm-up ends soon after it settles.
pub const SLICE: Duration = Duration::from_millis(500);
/// Slices that must agree.
pub const SLICES: usize = 3;
/// How far they may differ: 5% of the lowest, or the counting noise of a
/// slice of few answers (3 / sqrt(n)), whichever is wider.
pub const TOLERANCE: f64 = 0.05;
/// The most CPU the JIT's compiler threads may use over the agreeing
/// slices, as a share of one core: 5%, argued before any run from the
/// throughput's own tolerance: a compiler at 5% of one core takes at most
/// 2.5% of this machine's two cores from the request threads, so its
/// remaining work cannot move the throughput by more than [`TOLERANCE`]
/// through the CPU it takes; above it, the JIT is still replacing the
/// code the requests run.
pub const JIT_QUIET: f64 = 0.05;
/// The most a settling warm-up adds to the cell's `warmup_s`, seconds.
pub const EXTRA_S: f64 = 8.0;
/// Between the decision and the window's start: the server's side reads
/// the announcement before the window begins.
const LEAD: Duration = Duration::from_millis(20);

/// A JVM stack (Tomcat, Spring) in a closed loop (open loop: the throughput
/// is the offered rate, whether the JIT is done or not).
pub fn settles(cell: &Cell) -> bool {
    cell.model.stack().is_some_and(Stack::has_jit) && matches!(cell.load, Load::Closed { .. })
}

/// The longest warm-up `cell` can take.
pub fn max_warmup_s(cell: &Cell) -> f64 {
    if settles(cell) {
        cell.warmup_s + EXTRA_S
    } else {
        cell.warmup_s
    }
}

/// The last [`SLICES`] counts agree within [`TOLERANCE`] and, if the
/// compiler threads are read (`jit_s`: their CPU seconds per slice, one per
/// count; empty: not read), they used at most [`JIT_QUIET`] of a core over
/// those slices, unless the counts already reach `bound` (the cell's bound
/// in answers per slice, within [`TOLERANCE`]): at its bound a server has
/// no throughput left for the JIT to win, and Spring's JIT kept compiling
/// at over 5% of a core for 9 s even at 100 clients and 1,000 req/s, where
/// the cap, not the code, sets the throughput.
pub fn settled(counts: &[u64], jit_s: &[f64], bound: Option<f64>) -> bool {
    let Some(last) = last_slices(counts) else {
        return false;
    };
    let mean = last.iter().sum::<u64>() as f64 / SLICES as f64;
    let at_bound = bound.is_some_and(|b| b > 0.0 && mean >= (1.0 - TOLERANCE) * b);
    if let Some(jit) = last_slices(jit_s).filter(|_| !at_bound) {
        let span_s = SLICE.as_secs_f64() * SLICES as f64;
        if jit.iter().sum::<f64>() > JIT_QUIET * span_s {
            return false;
        }
    }
    let lo = last.iter().copied().min().unwrap_or(0);
    let hi = last.iter().copied().max().unwrap_or(0);
    if lo == 0 {
        return false;
    }
    let tol = TOLERANCE.max(3.0 / (lo as f64).sqrt());
    hi as f64 / lo as f64 - 1.0 <= tol
}

/// The last [`SLICES`] readings; None before there are that many.
fn last_slices<T>(readings: &[T]) -> Option<&[T]> {
    readings.len().checked_sub(SLICES).map(|i| &readings[i..])
}

/// Watches `answered` (the answers so far) and, where there is one, the
/// server's `compiler` from `t0` in slices until they have settled (the
/// cell's bound `bound_rps` waives the compiler's part: [`settled`]), at
/// least `min` and at most `max` after `t0`: the window's start, and whether
/// it settled before `max`.
pub async fn warm_up(
    answered: impl Fn() -> u64,
    mut compiler: Option<super::jit::CompilerWatch>,
    bound_rps: Option<f64>,
    t0: Instant,
    min: Duration,
    max: Duration,
) -> (Instant, bool) {
    let (mut at, mut last) = (t0, answered());
    let (mut counts, mut jit_s) = (Vec::new(), Vec::new());
    let bound = bound_rps.map(|b| b * SLICE.as_secs_f64());
    loop {
        at += SLICE;
        tokio::time::sleep_until(at.into()).await;
        let now = answered();
        counts.push(now - last);
        last = now;
        // Read off the loop: /proc of a busy JVM must not delay the answers.
        if let Some(mut c) = compiler.take() {
            let read = tokio::task::spawn_blocking(move || {
                let s = c.since_last();
                (c, s)
            });
            if let Ok((c, s)) = read.await {
                jit_s.push(s);
                compiler = Some(c);
            }
        }
        let elapsed = at - t0;
        if elapsed >= min && settled(&counts, &jit_s, bound) {
            return (Instant::now() + LEAD, true);
        }
        if elapsed >= max {
            return (Instant::now() + LEAD, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{ModelKind, Transport};

    #[test]
    fn a_rising_throughput_has_not_settled() {
        assert!(
            !settled(&[4100, 6000, 9000], &[], None),
            "the JIT still compiling"
        );
        assert!(!settled(&[9000, 9000], &[], None), "too few slices");
        assert!(settled(&[4100, 9000, 9100, 8950], &[], None));
        assert!(!settled(&[9000, 9000, 0], &[], None), "a stalled slice");
        // Five answers a slice (one client, 100 ms): counting noise, not a JIT.
        assert!(settled(&[5, 4, 5], &[], None));
    }

    #[test]
    fn a_flat_throughput_with_the_compiler_busy_is_a_plateau() {
        let flat = [1300, 1310, 1305, 1300];
        // The compiler threads at 40% of a core over the last slices.
        assert!(!settled(&flat, &[0.3, 0.2, 0.2, 0.2], None));
        // Quiet: 30 ms over 1.5 s, 2% of a core.
        assert!(settled(&flat, &[0.3, 0.01, 0.01, 0.01], None));
        // Just under the bound (75 ms over 1.5 s) settles; beyond, not.
        let at = JIT_QUIET * SLICE.as_secs_f64();
        assert!(settled(&flat, &[0.0, at, at, at * 0.9], None));
        assert!(!settled(&flat, &[0.0, at, at, at + 0.01], None));
        // At the cell's bound (1,300 a slice), a busy compiler has nothing
        // left to win; below it (1,500), it has.
        assert!(settled(&flat, &[0.3, 0.2, 0.2, 0.2], Some(1300.0)));
        assert!(!settled(&flat, &[0.3, 0.2, 0.2, 0.2], Some(1500.0)));
        assert!(
            !settled(&[9000, 9000, 0], &[], Some(1.0)),
            "a stalled slice"
        );
        // A quiet compiler does not make a rising throughput settled.
        assert!(!settled(&[4100, 6000, 9000], &[0.0, 0.0, 0.0], None));
    }

    #[test]
    fn only_a_jvm_in_a_closed_loop_settles() {
        let tomcat = Cell {
            transport: Transport::Http,
            warmup_s: 2.0,
            ..Cell::timer(ModelKind::TomcatPool, Load::Closed { concurrency: 10 }, 1.0)
        };
        assert!(settles(&tomcat));
        assert_eq!(max_warmup_s(&tomcat), 2.0 + EXTRA_S);
        for model in [ModelKind::SpringMvc, ModelKind::SpringWebflux] {
            let spring = Cell {
                model,
                ..tomcat.clone()
            };
            assert!(settles(&spring), "{model:?}: Spring's JIT warms up too");
        }
        let fastapi = Cell {
            model: ModelKind::Fastapi,
            ..tomcat.clone()
        };
        assert!(!settles(&fastapi));
        assert_eq!(max_warmup_s(&fastapi), 2.0);
    }
}
