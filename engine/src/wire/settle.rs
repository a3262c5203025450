//! A warm-up that ends when the server has settled, for a JVM: its JIT
//! compiles the hot code while the load runs, so a fixed warm-up measured a
//! window in which it was still compiling (Tomcat at 1,000 connections:
//! 4,100, then 9,000 req/s over 20 s). The generator counts the answers in
//! consecutive short slices and starts the window once the last few agree,
//! never before the cell's `warmup_s` (the queue's turnover and the theory
//! count on it) and never after a bound.

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

/// The last [`SLICES`] counts agree within [`TOLERANCE`].
pub fn settled(counts: &[u64]) -> bool {
    let Some(last) = counts.len().checked_sub(SLICES).map(|i| &counts[i..]) else {
        return false;
    };
    let lo = last.iter().copied().min().unwrap_or(0);
    let hi = last.iter().copied().max().unwrap_or(0);
    if lo == 0 {
        return false;
    }
    let tol = TOLERANCE.max(3.0 / (lo as f64).sqrt());
    hi as f64 / lo as f64 - 1.0 <= tol
}

/// Watches `answered` (the answers so far) from `t0` in slices until they
/// have settled, at least `min` and at most `max` after `t0`: the window's
/// start, and whether it settled before `max`.
pub async fn warm_up(
    answered: impl Fn() -> u64,
    t0: Instant,
    min: Duration,
    max: Duration,
) -> (Instant, bool) {
    let (mut at, mut last) = (t0, answered());
    let mut counts = Vec::new();
    loop {
        at += SLICE;
        tokio::time::sleep_until(at.into()).await;
        let now = answered();
        counts.push(now - last);
        last = now;
        let elapsed = at - t0;
        if elapsed >= min && settled(&counts) {
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
        assert!(!settled(&[4100, 6000, 9000]), "the JIT still compiling");
        assert!(!settled(&[9000, 9000]), "too few slices");
        assert!(settled(&[4100, 9000, 9100, 8950]));
        assert!(!settled(&[9000, 9000, 0]), "a stalled slice");
        // Five answers a slice (one client, 100 ms): counting noise, not a JIT.
        assert!(settled(&[5, 4, 5]));
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
