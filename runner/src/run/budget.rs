//! The run's time budget (`--budget`): what is left of it decides whether
//! an extra repetition (adaptive, or a replacement) is started. Planned
//! repetitions always run.

use crate::store::CellRecord;
use std::time::Instant;

/// The budget of one invocation of a run.
pub struct Budget {
    /// Seconds, or none (infinite).
    budget_s: Option<f64>,
    /// What an earlier invocation of this run already spent (resume).
    earlier_s: f64,
    /// When this invocation started.
    started: Instant,
}

impl Budget {
    /// `done`: the records an earlier invocation saved; their wall time
    /// counts against the budget.
    pub fn new(budget_s: Option<f64>, done: &[CellRecord], started: Instant) -> Budget {
        Budget {
            budget_s,
            earlier_s: done.iter().map(|r| r.wall_s).sum(),
            started,
        }
    }

    /// Seconds left (infinite without a budget): what an earlier invocation
    /// spent and this one's time so far count against it.
    pub fn left_s(&self) -> f64 {
        self.budget_s.map_or(f64::INFINITY, |b| {
            b - self.earlier_s - self.started.elapsed().as_secs_f64()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;
    use std::time::Instant;

    #[test]
    fn no_budget_leaves_all_the_time_there_is() {
        assert_eq!(
            Budget::new(None, &[], Instant::now()).left_s(),
            f64::INFINITY
        );
    }

    #[test]
    fn what_was_spent_counts_against_the_budget() {
        let b = Budget {
            budget_s: Some(100.0),
            earlier_s: 30.0,
            started: Instant::now(),
        };
        let left = b.left_s();
        assert!(left <= 70.0, "{left}");
        let spent = Budget {
            earlier_s: 120.0,
            ..b
        };
        assert!(spent.left_s() < 0.0);
    }
}
