//! The run's calibrations, as the manifest records them: the CPU work's
//! speed, and each HTTP server's own cost per request. The engine measures
//! them, the runner writes them, the theory and the report read them.

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

/// What a cell's theory needs of its server's own cost: the calibrated CPU
/// per request and the ceiling, on the trivial endpoint
/// ([`ServerCalibration`]). The runner hands it to every HTTP cell of that
/// server; the theory prices the bound with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerCost {
    /// CPU seconds of the server's process per request, as ms.
    pub cpu_ms: f64,
    /// Requests per second the server served at saturation.
    pub ceiling_rps: f64,
}

/// One server's own cost, calibrated once per run before its HTTP cells: a
/// short closed loop on the trivial endpoint (no CPU work, a 0 ms timer),
/// at saturation. The server's process's CPU time (utime + stime of
/// `/proc/<pid>/stat`) over the window, divided by the requests it
/// completed, is what the server spends per request whatever the cell asks
/// of it; the throughput is its ceiling on this machine, the load
/// generator's share of the cores included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerCalibration {
    /// The server, as [`ServerCalibration::key`] names it (`fastapi`,
    /// `tomcat-pool-java21`, `tokio`): the cells of this run it prices.
    pub server: String,
    /// The calibration cell's id (its settings: workers, pool, ...).
    pub cell: String,
    pub concurrency: u32,
    /// Warm-up and window of the calibration, seconds.
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Requests completed in the window.
    pub completed: u64,
    /// CPU seconds of the server's process over the window (user + system).
    pub cpu_s: f64,
    /// `cpu_s / completed`, as ms (None: it did not run).
    pub cpu_per_request_ms: Option<f64>,
    /// `completed / duration_s` (None: it did not run).
    pub ceiling_rps: Option<f64>,
    /// Why there is no figure: the calibration failed or was skipped (the
    /// server's cells are then held to the claim's bound alone).
    pub error: Option<String>,
}

impl ServerCalibration {
    /// The name of a server configuration: the model, and for a JVM stack
    /// the Java version it runs on.
    pub fn key(model: &str, java: Option<u32>) -> String {
        match java {
            Some(j) => format!("{model}-java{j}"),
            None => model.to_string(),
        }
    }

    /// The cost the theory prices with, when the calibration measured one.
    pub fn cost(&self) -> Option<ServerCost> {
        match (self.cpu_per_request_ms, self.ceiling_rps) {
            (Some(cpu_ms), Some(ceiling_rps)) if cpu_ms > 0.0 && ceiling_rps > 0.0 => {
                Some(ServerCost {
                    cpu_ms,
                    ceiling_rps,
                })
            }
            _ => None,
        }
    }
}
