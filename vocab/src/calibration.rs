//! The run's calibration of the CPU work, as the manifest records it: the
//! engine measures it, the runner writes it, the report shows it.

use serde::{Deserialize, Serialize};

/// Iterations of the CPU work's loop per millisecond of thread CPU time on
/// the machine of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Calibration {
    /// Median of the rounds: iterations per ms of thread CPU time.
    pub iters_per_ms: f64,
    /// Every round's estimate, to show how stable the machine was.
    pub rounds: Vec<f64>,
}
