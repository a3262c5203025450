//! What one cell runs: a plain, fully resolved description shared by the
//! runner (which builds it from a spec) and the cell process (which runs it).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An execution model under test. Adding one means a file in `models/` and a
/// line in [`ModelKind::ALL`] and [`crate::models::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Thread-per-request with a bounded pool fed by a bounded accept queue (Tomcat).
    Threads,
    /// The same pool, with the I/O handed to a non-blocking client and the
    /// continuation back on the pool (CompletableFuture + WebClient).
    ThreadsAsyncIo,
    /// A fresh OS thread per request, no pool.
    ThreadPerRequest,
    /// tokio multi-thread runtime on `workers` threads.
    Tokio,
    /// tokio current_thread runtime: one event loop.
    TokioCurrent,
    /// async-std on `workers` threads (discontinued upstream: the legacy column).
    AsyncStd,
    /// smol `Executor` driven by `workers` threads.
    Smol,
    /// smol `LocalExecutor`: one event loop.
    SmolLocal,
    /// Stackful coroutines (`may`) on `workers` carrier threads: synchronous
    /// request code that yields on I/O, the Rust analog of virtual threads.
    Coroutines,
}

impl ModelKind {
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Threads,
        ModelKind::ThreadsAsyncIo,
        ModelKind::ThreadPerRequest,
        ModelKind::Tokio,
        ModelKind::TokioCurrent,
        ModelKind::AsyncStd,
        ModelKind::Smol,
        ModelKind::SmolLocal,
        ModelKind::Coroutines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Threads => "threads",
            ModelKind::ThreadsAsyncIo => "threads-async-io",
            ModelKind::ThreadPerRequest => "thread-per-request",
            ModelKind::Tokio => "tokio",
            ModelKind::TokioCurrent => "tokio-current",
            ModelKind::AsyncStd => "async-std",
            ModelKind::Smol => "smol",
            ModelKind::SmolLocal => "smol-local",
            ModelKind::Coroutines => "coroutines",
        }
    }

    /// Uses the `threads` and `queue` factors (a bounded pool).
    pub fn has_pool(self) -> bool {
        matches!(self, ModelKind::Threads | ModelKind::ThreadsAsyncIo)
    }

    /// Runs requests as async tasks (and so has `offload`).
    pub fn is_async(self) -> bool {
        !matches!(
            self,
            ModelKind::Threads
                | ModelKind::ThreadsAsyncIo
                | ModelKind::ThreadPerRequest
                | ModelKind::Coroutines
        )
    }

    /// Uses the `workers` factor (a multi-thread runtime or carrier pool).
    pub fn has_workers(self) -> bool {
        matches!(
            self,
            ModelKind::Tokio | ModelKind::AsyncStd | ModelKind::Smol | ModelKind::Coroutines
        )
    }

    /// Uses the `pinning` and `stack_kib` factors (stackful coroutines).
    pub fn is_stackful(self) -> bool {
        self == ModelKind::Coroutines
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for a name that is not one of a closed set of choices.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} `{given}`, expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

fn parse_named<T: Copy>(
    what: &'static str,
    s: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|v| name(*v) == s)
        .ok_or_else(|| UnknownName {
            what,
            given: s.to_string(),
            expected: all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", "),
        })
}

impl FromStr for ModelKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("model", s, &ModelKind::ALL, ModelKind::name)
    }
}

/// Where the I/O of a request goes. `http` and `postgres` go through a client
/// (async, blocking, or blocking offloaded: [`Client`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IoKind {
    /// The model's own sleep: `thread::sleep` for threads, the runtime's timer for async.
    Timer,
    /// A call to the slow downstream API on loopback, `io_latency_ms` long.
    Http,
    /// A query to a real PostgreSQL server ([`DbQuery`] says which).
    Postgres,
}

impl IoKind {
    pub const ALL: [IoKind; 3] = [IoKind::Timer, IoKind::Http, IoKind::Postgres];
    pub fn name(self) -> &'static str {
        match self {
            IoKind::Timer => "timer",
            IoKind::Http => "http",
            IoKind::Postgres => "postgres",
        }
    }

    /// Goes through a client (HTTP client or DB driver) that can block.
    pub fn has_client(self) -> bool {
        matches!(self, IoKind::Http | IoKind::Postgres)
    }
}

/// What a `postgres` request asks the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DbQuery {
    /// `SELECT pg_sleep(io_latency_ms)`: the server holds the connection.
    Sleep,
    /// A primary-key lookup in `products`.
    Point,
    /// Decrements one product's stock (a one-statement transaction).
    Update,
}

impl DbQuery {
    pub const ALL: [DbQuery; 3] = [DbQuery::Sleep, DbQuery::Point, DbQuery::Update];
    pub fn name(self) -> &'static str {
        match self {
            DbQuery::Sleep => "sleep",
            DbQuery::Point => "point",
            DbQuery::Update => "update",
        }
    }
}

impl FromStr for DbQuery {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("db query", s, &DbQuery::ALL, DbQuery::name)
    }
}

impl FromStr for IoKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("io kind", s, &IoKind::ALL, IoKind::name)
    }
}

/// Where an async model runs the CPU part of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Offload {
    /// On the event loop itself (blocks it for `cpu_ms`).
    Inline,
    /// The runtime's own blocking pool (`spawn_blocking`, `smol::unblock`).
    SpawnBlocking,
    /// A fixed pool of `pool_threads` OS threads (Python's ThreadPoolExecutor).
    WorkerPool,
}

impl Offload {
    pub const ALL: [Offload; 3] = [Offload::Inline, Offload::SpawnBlocking, Offload::WorkerPool];
    pub fn name(self) -> &'static str {
        match self {
            Offload::Inline => "inline",
            Offload::SpawnBlocking => "spawn-blocking",
            Offload::WorkerPool => "worker-pool",
        }
    }
}

impl FromStr for Offload {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("offload", s, &Offload::ALL, Offload::name)
    }
}

/// What a coroutine does during its I/O: yield the carrier (`none`), or pin
/// it as Java's virtual threads are pinned (a blocking syscall; a
/// `synchronized`-style lock held across a blocking call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pinning {
    None,
    BlockingSyscall,
    Mutex,
}

impl Pinning {
    pub const ALL: [Pinning; 3] = [Pinning::None, Pinning::BlockingSyscall, Pinning::Mutex];
    pub fn name(self) -> &'static str {
        match self {
            Pinning::None => "none",
            Pinning::BlockingSyscall => "blocking-syscall",
            Pinning::Mutex => "mutex",
        }
    }
}

impl FromStr for Pinning {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("pinning", s, &Pinning::ALL, Pinning::name)
    }
}

/// Which client (HTTP client or DB driver) an async model uses for `http`
/// and `postgres` I/O. Spec files may call it `driver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// Non-blocking, on the runtime under test (httpx / WebClient).
    Async,
    /// A synchronous client called on the loop (a sync `invoke` inside async code).
    Blocking,
    /// The synchronous client inside the runtime's blocking pool.
    BlockingOffload,
}

impl Client {
    pub const ALL: [Client; 3] = [Client::Async, Client::Blocking, Client::BlockingOffload];
    pub fn name(self) -> &'static str {
        match self {
            Client::Async => "async",
            Client::Blocking => "blocking",
            Client::BlockingOffload => "blocking-offload",
        }
    }
}

impl FromStr for Client {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("client", s, &Client::ALL, Client::name)
    }
}

/// One class of a request mix (e.g. 90% light, 10% heavy), resolved: every
/// field has a value. Each request draws its class by weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestClass {
    pub name: String,
    pub weight: f64,
    pub cpu_ms: f64,
    pub io: IoKind,
    pub io_latency_ms: f64,
}

/// Inter-arrival distribution of the open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrival {
    Poisson,
    Constant,
}

impl Arrival {
    pub const ALL: [Arrival; 2] = [Arrival::Poisson, Arrival::Constant];
    pub fn name(self) -> &'static str {
        match self {
            Arrival::Poisson => "poisson",
            Arrival::Constant => "constant",
        }
    }
}

impl FromStr for Arrival {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_named("arrival", s, &Arrival::ALL, Arrival::name)
    }
}

/// How load is offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Load {
    /// `concurrency` clients, each sending its next request when the last ends
    /// (or `retry_after_ms` after a rejection or an error). Latency is not
    /// CO-corrected.
    Closed { concurrency: u32 },
    /// Arrivals at `rate_rps`; latency counts from the intended send time
    /// (coordinated-omission corrected, as wrk2 does).
    Open { rate_rps: f64, arrival: Arrival },
}

impl Load {
    pub fn mode_name(&self) -> &'static str {
        match self {
            Load::Closed { .. } => "closed",
            Load::Open { .. } => "open",
        }
    }
}

/// One fully resolved cell: every factor has a value, factors that do not
/// apply to the model are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub model: ModelKind,
    /// Pool size (`threads` model only).
    pub threads: Option<u32>,
    /// Accept-queue capacity (`threads` model only); a full queue rejects.
    pub queue: Option<u32>,
    /// Worker threads of a multi-thread async runtime.
    pub workers: Option<u32>,
    /// Threads of the `worker-pool` offload.
    pub pool_threads: Option<u32>,
    pub load: Load,
    pub io: IoKind,
    pub io_latency_ms: f64,
    /// Calibrated CPU work per request.
    pub cpu_ms: f64,
    /// Offload strategy (async models only).
    pub offload: Option<Offload>,
    /// Coroutines only: what the I/O does to the carrier thread.
    #[serde(default)]
    pub pinning: Option<Pinning>,
    /// Coroutines only: stack size of each coroutine, KiB.
    #[serde(default)]
    pub stack_kib: Option<u32>,
    /// Async models with `http` or `postgres` I/O: which client / driver.
    #[serde(default)]
    pub client: Option<Client>,
    /// `postgres` I/O: the query each request sends.
    #[serde(default)]
    pub db_query: Option<DbQuery>,
    /// `postgres` I/O: connections in the cell's pool.
    #[serde(default)]
    pub db_pool: Option<u32>,
    /// `http` I/O: the downstream's `host:port`, filled in by the runner.
    #[serde(default)]
    pub downstream: Option<String>,
    /// A request mix; empty: every request is `cpu_ms` + `io_latency_ms` of `io`.
    #[serde(default)]
    pub classes: Vec<RequestClass>,
    /// A request not answered within this is a timeout; a closed-loop client
    /// abandons it and sends its next request.
    pub timeout_ms: u64,
    /// Back-off of a closed-loop client after a rejection.
    pub retry_after_ms: u64,
    /// Open loop: arrivals beyond this many requests in flight are counted as
    /// errors instead of sent (keeps memory bounded under overload).
    pub max_in_flight: u32,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub seed: u64,
    /// Calibration of the CPU work: loop iterations per millisecond of CPU.
    pub cpu_iters_per_ms: f64,
    /// Cores of the machine (for the theory's CPU bound).
    pub cores: u32,
}

impl Cell {
    /// A readable, unique id of the cell within its experiment.
    pub fn id(&self) -> String {
        let mut parts = vec![self.model.name().to_string()];
        if let Some(t) = self.threads {
            parts.push(format!("t{t}"));
        }
        if let Some(q) = self.queue {
            parts.push(format!("q{q}"));
        }
        if let Some(w) = self.workers {
            parts.push(format!("w{w}"));
        }
        match self.load {
            Load::Closed { concurrency } => parts.push(format!("c{concurrency}")),
            Load::Open { rate_rps, arrival } => {
                parts.push(format!("{}{}rps", arrival.name(), fmt_num(rate_rps)))
            }
        }
        parts.push(format!(
            "{}{}ms",
            self.io.name(),
            fmt_num(self.io_latency_ms)
        ));
        parts.push(format!("cpu{}ms", fmt_num(self.cpu_ms)));
        if let Some(o) = self.offload {
            parts.push(o.name().to_string());
        }
        if let Some(p) = self.pool_threads {
            parts.push(format!("p{p}"));
        }
        if let Some(p) = self.pinning {
            parts.push(format!("pin-{}", p.name()));
        }
        if let Some(k) = self.stack_kib {
            parts.push(format!("stack{k}k"));
        }
        if let Some(c) = self.client {
            parts.push(format!("client-{}", c.name()));
        }
        if let Some(q) = self.db_query {
            parts.push(format!("db-{}", q.name()));
        }
        if let Some(p) = self.db_pool {
            parts.push(format!("dbpool{p}"));
        }
        parts.join("-")
    }

    pub fn concurrency(&self) -> Option<u32> {
        match self.load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        }
    }

    pub fn rate_rps(&self) -> Option<f64> {
        match self.load {
            Load::Open { rate_rps, .. } => Some(rate_rps),
            Load::Closed { .. } => None,
        }
    }

    /// Mean CPU and I/O time per request, ms: over the request mix (by
    /// weight) when there is one, else the cell's own.
    pub fn mean_parts_ms(&self) -> (f64, f64) {
        let total: f64 = self.classes.iter().map(|c| c.weight).sum();
        if self.classes.is_empty() || total <= 0.0 {
            return (self.cpu_ms, self.io_latency_ms);
        }
        let mean = |f: fn(&RequestClass) -> f64| {
            self.classes.iter().map(|c| c.weight * f(c)).sum::<f64>() / total
        };
        (mean(|c| c.cpu_ms), mean(|c| c.io_latency_ms))
    }

    /// Any request of the cell queries PostgreSQL.
    pub fn uses_postgres(&self) -> bool {
        self.io == IoKind::Postgres || self.classes.iter().any(|c| c.io == IoKind::Postgres)
    }

    /// Any request of the cell calls the HTTP downstream.
    pub fn uses_http(&self) -> bool {
        self.io == IoKind::Http || self.classes.iter().any(|c| c.io == IoKind::Http)
    }

    /// The fraction of unloaded service time spent on CPU.
    pub fn cpu_ratio(&self) -> f64 {
        let s = self.cpu_ms + self.io_latency_ms;
        if s > 0.0 {
            self.cpu_ms / s
        } else {
            0.0
        }
    }
}

/// Formats a number for ids: integers without a fraction, others trimmed.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
