//! What a cell reports back to the runner: one plain, documented record per
//! cell × repetition (serialised as JSON on the cell process's stdout).

use crate::cell::Cell;
use crate::memory::{KernelMemory, MemorySource};
use crate::theory::Theory;
use serde::{Deserialize, Serialize};

/// Summary of one latency-like histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// One point of the percentile spectrum (for HDR plots).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpectrumPoint {
    pub percentile: f64,
    pub latency_ms: f64,
    pub count: u64,
}

/// What one class of a request mix measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassOutcome {
    pub name: String,
    pub completed: u64,
    pub errors: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub throughput_rps: f64,
    pub latency: Percentiles,
    pub spectrum: Vec<SpectrumPoint>,
    pub histogram: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellOutcome {
    pub cell: Cell,
    /// Answered in time inside the window.
    pub completed: u64,
    pub errors: u64,
    pub rejected: u64,
    pub timeouts: u64,
    /// Answers that arrived after the client had given up.
    pub late: u64,
    /// Open loop: arrivals dropped because `max_in_flight` were outstanding.
    pub overflow: u64,
    pub sent: u64,
    /// Length of the measured window actually observed, seconds.
    pub window_s: f64,
    pub throughput_rps: f64,
    pub latency: Percentiles,
    /// From the intended send time to the model starting the request.
    pub queue_wait: Percentiles,
    /// From the model starting a request to its end: the service time it
    /// really took (timer overshoot and hand-offs included).
    pub service: Percentiles,
    /// How late the model's 1 ms probe woke (threads: its wait in the queue).
    pub loop_lag: Percentiles,
    /// Probes that could not even be queued (full queue, failed spawn).
    pub loop_lag_refused: u64,
    /// Measured thread CPU time of the CPU part, mean per request (ms).
    pub cpu_work_mean_ms: f64,
    /// Measured CPU time of the CPU parts over the time the calibration asked
    /// of them (None without CPU work). The theory's bound is priced with it.
    pub cpu_cost_ratio: Option<f64>,
    pub rss_idle_bytes: u64,
    pub rss_peak_bytes: u64,
    pub rss_window_peak_bytes: u64,
    /// Address space reserved (`VmSize`) before load, and its peak in the
    /// window: what a thread's stack reserves, against the RSS and kernel
    /// memory it pays. Zero in a record from before it was read.
    #[serde(default)]
    pub vm_idle_bytes: u64,
    #[serde(default)]
    pub vm_window_peak_bytes: u64,
    /// Kernel memory of the process under test (kernel stacks, slab, page
    /// tables, socket buffers: none of it in RSS) before the load, and at
    /// its peak in the window, read where `memory_source` says.
    #[serde(default)]
    pub kernel_idle: KernelMemory,
    #[serde(default)]
    pub kernel_window_peak: KernelMemory,
    #[serde(default)]
    pub memory_source: Option<MemorySource>,
    pub threads_idle: u32,
    pub threads_peak: u32,
    /// Threads of the harness itself (generator, probe) inside the counts.
    pub harness_threads: u32,
    /// Process CPU over the window, the generator's share included.
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    pub ctx_voluntary: i64,
    pub ctx_involuntary: i64,
    /// The generator thread's own CPU and context switches over the window.
    pub harness_cpu_s: f64,
    pub harness_ctx: i64,
    pub theory: Theory,
    /// measured throughput / theory throughput.
    pub fidelity: Option<f64>,
    /// measured throughput / the bound priced with the server's own cost
    /// (`theory.priced_rps`); None without a calibrated server.
    #[serde(default)]
    pub fidelity_priced: Option<f64>,
    /// A JVM stack's warm-up, ended when its throughput settled (None: the
    /// fixed `warmup_s`).
    #[serde(default)]
    pub warmup: Option<Warmup>,
    /// Closed loop: C / measured mean latency, the throughput Little's law
    /// predicts from the latency actually seen (checks the bookkeeping).
    pub littles_law_rps: Option<f64>,
    /// `http` I/O: responses this cell's clients read completely (warm-up and
    /// drain included), and what the downstream counted for its tag.
    pub io_calls_ok: Option<u64>,
    pub downstream_received: Option<u64>,
    pub downstream_answered: Option<u64>,
    /// `http` I/O: every request finished before the counts were taken.
    pub drained: Option<bool>,
    /// `postgres` I/O: what the database side of the cell saw.
    #[serde(default)]
    pub db: Option<DbOutcome>,
    /// A foreign stack's own figures (None for the Rust models).
    #[serde(default)]
    pub stack: Option<StackReport>,
    /// Per class of the request mix (empty without a mix).
    #[serde(default)]
    pub classes: Vec<ClassOutcome>,
    /// Caveats a reader must see next to the numbers.
    pub notes: Vec<String>,
    pub spectrum: Vec<SpectrumPoint>,
    /// The latency histogram, HdrHistogram V2 + deflate, base64 (for merging).
    pub histogram: String,
}

impl CellOutcome {
    /// The pool's queue turns over more slowly than the warm-up lasts, so
    /// the window saw a transient, not a steady state (the theory's
    /// `turnover_s` against the cell's `warmup_s`).
    pub fn transient(&self) -> bool {
        self.theory
            .turnover_s
            .is_some_and(|turn| turn > self.cell.warmup_s)
    }
}

/// A warm-up that ends when the server has settled: how long it took, and
/// whether throughput settled before the bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Warmup {
    pub taken_s: f64,
    pub settled: bool,
}

/// The database side of a `postgres` cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DbOutcome {
    /// Requests sent through the model's own path before the load, each
    /// answer checked against the seeded schema (all must pass).
    pub verified: u64,
    /// Queries this cell completed with a correct answer (verification,
    /// warm-up and drain included).
    pub queries_ok: u64,
    /// Statements the server executed for this cell (`pg_stat_statements`),
    /// filled in by the runner after the cell ends; `None` when unavailable.
    #[serde(default)]
    pub server_statements: Option<u64>,
    /// Connections the server had open for the benchmark database at the end
    /// of the window (the pool's real size as the server sees it).
    pub server_connections: Option<u64>,
    /// Time requests waited for a pooled connection, in the window.
    pub pool_wait: Percentiles,
    /// Every request finished before the counts were taken.
    pub drained: bool,
}

/// What a foreign stack (Tomcat, FastAPI) says about itself: its start-up,
/// and the counters it keeps (`GET /stats`), read once after the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StackReport {
    /// From the launch to `LISTENING`.
    pub startup_s: f64,
    /// JFR's `jdk.VirtualThreadPinned` events (Tomcat on virtual threads).
    pub pinned: Option<u64>,
    /// asyncio debug mode's slow-callback warnings (FastAPI with `--debug`).
    pub slow_callbacks: Option<u64>,
}
