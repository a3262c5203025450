//! What one cell runs: a plain, fully resolved description shared by the
//! runner (which builds it from a spec) and the cell process (which runs it).

use serde::{Deserialize, Serialize};

pub use threadloop_vocab::factor::{
    Arrival, Client, CpuWork, DbQuery, Factor, IoKind, ModelKind, Offload, Pinning, ProcessorCache,
    Stack, Transport, UnknownName, Uvicorn,
};
pub use threadloop_vocab::factors::{Setting, SettingType, Value};
pub use threadloop_vocab::ServerCost;

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
    /// How requests reach the model (older results: in-process).
    #[serde(default)]
    pub transport: Transport,
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
    /// FastAPI only: what the CPU part is made of (pure Python, or hashlib).
    #[serde(default)]
    pub cpu_work: Option<CpuWork>,
    /// Offload strategy (async models only).
    pub offload: Option<Offload>,
    /// Coroutines only: what the I/O does to the carrier thread.
    #[serde(default)]
    pub pinning: Option<Pinning>,
    /// Coroutines only: stack size of each coroutine, KiB.
    #[serde(default)]
    pub stack_kib: Option<u32>,
    /// Java stacks only: the JVM's major version (21 or 25).
    #[serde(default)]
    pub java: Option<u32>,
    /// Java stacks only: Tomcat's processorCache.
    #[serde(default)]
    pub processor_cache: Option<ProcessorCache>,
    /// FastAPI only: asyncio's debug mode, whose slow-callback warnings (a
    /// callback or task step holding the loop over 100 ms) the stack counts.
    /// Its own cells: debug mode slows every callback.
    #[serde(default)]
    pub loop_debug: Option<bool>,
    /// FastAPI only: uvicorn's loop and HTTP parser.
    #[serde(default)]
    pub uvicorn: Option<Uvicorn>,
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
    /// `http` transport: the server's own cost per request, calibrated at
    /// the start of the run, filled in by the runner; the theory prices the
    /// bound with it ([`crate::theory::Theory::priced_rps`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerCost>,
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
    /// A cell of `model` under `load` whose requests only wait `io_latency_ms`
    /// on the model's own timer: no CPU work, no mix, no clients, no factor a
    /// model would need (a pool's size, a runtime's workers), a 1 s window
    /// without warm-up. The base of tests and benchmarks, which set what they
    /// study with `Cell { threads: Some(20), ..Cell::timer(..) }`. The
    /// runner's plan takes from it only the settings (all unset), and sets
    /// each from the spec with [`Cell::set_setting`].
    pub fn timer(model: ModelKind, load: Load, io_latency_ms: f64) -> Cell {
        Cell {
            model,
            transport: Transport::InProcess,
            threads: None,
            queue: None,
            workers: None,
            pool_threads: None,
            load,
            io: IoKind::Timer,
            io_latency_ms,
            cpu_ms: 0.0,
            cpu_work: None,
            offload: None,
            pinning: None,
            stack_kib: None,
            java: None,
            processor_cache: None,
            loop_debug: None,
            uvicorn: None,
            client: None,
            db_query: None,
            db_pool: None,
            downstream: None,
            server: None,
            classes: Vec::new(),
            timeout_ms: 1000,
            retry_after_ms: 10,
            max_in_flight: 1_000_000,
            warmup_s: 0.0,
            duration_s: 1.0,
            seed: 1,
            cpu_iters_per_ms: 1.0,
            cores: 2,
        }
    }

    /// A readable, unique id of the cell within its experiment: the model,
    /// the transport, then each factor's token in column order (a
    /// setting's token is declared with it, in `vocab::factors`).
    pub fn id(&self) -> String {
        let mut parts = vec![self.model.name().to_string()];
        // In-process ids stay as they were before the transport existed.
        if self.transport == Transport::Http {
            parts.push("http".to_string());
        }
        let setting = |s: Setting| self.setting(s);
        parts.extend(threadloop_vocab::factors::id_tokens(true, setting));
        match self.load {
            Load::Closed { concurrency } => parts.push(format!("c{concurrency}")),
            Load::Open { rate_rps, arrival } => {
                parts.push(format!("{}{}rps", arrival.name(), id_number(rate_rps)))
            }
        }
        parts.push(format!(
            "{}{}ms",
            self.io.name(),
            id_number(self.io_latency_ms)
        ));
        parts.push(format!("cpu{}ms", id_number(self.cpu_ms)));
        parts.extend(threadloop_vocab::factors::id_tokens(false, setting));
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

    /// The CPU time asked of a request of class `class` (the cell's own
    /// without a mix): what the calibration turns into loop iterations.
    pub fn asked_cpu(&self, class: u16) -> std::time::Duration {
        let ms = match self.classes.len() {
            0 => self.cpu_ms,
            n => self.classes[(class as usize).min(n - 1)].cpu_ms,
        };
        std::time::Duration::from_secs_f64(ms.max(0.0) / 1e3)
    }

    /// The cell with every CPU part `factor` times as long: the same loop
    /// iterations priced at the speed the machine really ran them. A VM's CPU
    /// speed drifts by several percent over minutes (steal time, a neighbour's
    /// load), and a bound priced at the start-of-run calibration would move
    /// every CPU-bound fidelity with it.
    pub fn with_cpu_cost(&self, factor: f64) -> Cell {
        let mut c = self.clone();
        c.cpu_ms *= factor;
        for class in &mut c.classes {
            class.cpu_ms *= factor;
        }
        c
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

/// A number as a cell id spells it: an integer without a fraction, others
/// to four decimals with trailing zeros trimmed (`0.25`, `100`).
pub fn id_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Makes of the factor table the cell's typed access to its settings: a
/// field per setting, named as it, of type `Option<its type>` (the match
/// does not compile when a field is missing or of another type).
macro_rules! cell_settings {
    ($(
        $name:ident: $kind:ident, $unit:literal, $part:ident, $doc:literal
        $(=> $ty:ty { $($key:ident: $value:expr),* $(,)? })?;
    )*) => {
        impl Cell {
            /// The setting's value in this cell; `None` where it does not apply.
            pub fn setting(&self, s: Setting) -> Option<Value> {
                match s {
                    $($(Setting::$name => {
                        let v: Option<$ty> = self.$name;
                        v.map(SettingType::to_value)
                    })?)*
                }
            }

            /// Sets the setting (the plan resolving a cell).
            ///
            /// # Panics
            /// On a value of another type than the setting's.
            pub fn set_setting(&mut self, s: Setting, value: Option<Value>) {
                match s {
                    $($(Setting::$name => {
                        let v: Option<$ty> = value.map(|v| {
                            SettingType::from_value(v).unwrap_or_else(|| {
                                panic!("{v:?} is not a value of {}", stringify!($name))
                            })
                        });
                        self.$name = v;
                    })?)*
                }
            }
        }
    };
}

threadloop_vocab::for_each_factor!(cell_settings);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting reads back what was set, and the id spells it.
    #[test]
    fn settings_read_back_and_show_in_the_id() {
        let mut c = Cell::timer(ModelKind::Tokio, Load::Closed { concurrency: 4 }, 10.0);
        assert!(Setting::all().all(|s| c.setting(s).is_none()));
        c.set_setting(Setting::workers, Some(Value::Int(2)));
        c.set_setting(Setting::offload, Some(Value::Name("worker-pool")));
        c.set_setting(Setting::pool_threads, Some(Value::Int(3)));
        c.set_setting(Setting::loop_debug, Some(Value::Bool(false)));
        assert_eq!(c.workers, Some(2));
        assert_eq!(c.offload, Some(Offload::WorkerPool));
        assert_eq!(c.setting(Setting::pool_threads), Some(Value::Int(3)));
        assert_eq!(c.id(), "tokio-w2-c4-timer10ms-cpu0ms-worker-pool-p3");
        c.loop_debug = Some(true);
        c.io_latency_ms = 0.25;
        assert_eq!(
            c.id(),
            "tokio-w2-c4-timer0.25ms-cpu0ms-worker-pool-p3-loop-debug"
        );
    }
}
