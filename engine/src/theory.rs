//! The bounds every measurement is held against.
//!
//! Closed loop (asymptotic bounds from Little's law): C clients with service
//! time S cannot exceed C / S; a pool of T threads blocking for S caps at
//! T / S; CPU work of c per request on k usable cores caps at k / c. The bound
//! is the least of these, and the latency it implies is R = C / X.
//! Open loop: throughput is the offered rate (when below capacity) and the
//! pool is an M/D/T queue (or D/D/T for constant arrivals), whose mean
//! queueing delay is computed by simulation.
//!
//! Over HTTP the server spends CPU of its own on every request (parsing,
//! routing, the framework), which the claim's bound does not count. Its
//! calibrated cost ([`ServerCost`]) prices the bound: [`priced`].

use crate::cell::{Arrival, Cell, DbQuery, Load, Offload};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;
use threadloop_vocab::factor::{CpuOn, Holds};
use threadloop_vocab::ServerCost;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Theory {
    /// Upper bound on throughput (closed) or the expected throughput (open:
    /// the offered rate here; the cell replaces it with the arrivals its own
    /// seed put in its window, capped by capacity).
    pub throughput_rps: Option<f64>,
    /// The model's capacity whatever the load: min(T/S, k/c).
    pub capacity_rps: Option<f64>,
    /// Mean latency the bound implies (closed: C / X; open: S + queue wait).
    pub latency_ms: Option<f64>,
    /// Open loop: offered rate / capacity.
    pub utilisation: Option<f64>,
    /// Open loop, `threads`: mean queueing delay of the M/D/T (or D/D/T)
    /// queue in steady state.
    pub queue_wait_ms: Option<f64>,
    /// The same queue fed with this cell's own arrival sequence (same seed),
    /// over its measured window: free of the sampling noise of a short run,
    /// so measured − this is what the model and harness add.
    pub queue_wait_path_ms: Option<f64>,
    /// Closed loop, C > T: time for the queue to turn over once (C/T × S);
    /// a warm-up shorter than this measures a transient, not a steady state.
    pub turnover_s: Option<f64>,
    /// The bound priced with the server's own cost ([`priced`]): None
    /// without a calibrated server (in-process, or the calibration failed).
    #[serde(default)]
    pub priced_rps: Option<f64>,
}

/// Requests the model can have in service at once (None: unbounded): the
/// scarce thread its traits say a request holds ([`Holds`]).
fn concurrency_cap(cell: &Cell) -> Option<f64> {
    use crate::cell::{Client, IoKind, Pinning};
    let traits = cell.model.traits();
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as f64;
    match traits.holds {
        Holds::Nothing => None,
        Holds::PoolThread => Some(cell.threads.unwrap_or(1) as f64),
        Holds::LoopThread => {
            // The client waits on the loop's thread (or its blocking pool's)
            // for its I/O; FastAPI's waits there on its timer too (`time.sleep`
            // on the loop; a `def` endpoint holds one of AnyIO's threads).
            let held = cell.io.has_client() || traits.client_sleeps;
            let loop_threads = match (traits.workers, traits.loop_floor) {
                (true, _) => workers,
                // Reactor Netty's ioWorkerCount: max(cores, 4).
                (false, Some(floor)) => (cell.cores.max(1) as f64).max(f64::from(floor)),
                (false, None) => 1.0,
            };
            match cell.client {
                Some(Client::Blocking) if held => Some(loop_threads),
                Some(Client::BlockingOffload) if held => traits.blocking_pool.map(f64::from),
                Some(Client::Blocking | Client::BlockingOffload | Client::Async) | None => None,
            }
        }
        // A pinned coroutine holds its carrier for the whole request; libpq
        // in a coroutine is a native call: it pins the carrier.
        Holds::Carrier => match (cell.io, cell.pinning) {
            (IoKind::Postgres, _) => Some(workers),
            (IoKind::Timer | IoKind::Http, Some(p)) if p != Pinning::None => Some(workers),
            (IoKind::Timer | IoKind::Http, Some(_) | None) => None,
        },
        // Before JEP 491 (Java 24), a virtual thread blocking inside
        // `synchronized` pins its carrier (one per core); pgjdbc 42.5.5's
        // execute is one.
        Holds::VirtualThreadCarrier => {
            let carriers = cell.cores.max(1) as f64;
            let java21 = cell.java.is_some_and(|j| j < 24);
            match cell.pinning {
                Some(Pinning::Synchronized) if java21 => Some(carriers),
                Some(Pinning::Jdbc) if java21 && cell.io == IoKind::Postgres => Some(carriers),
                Some(
                    Pinning::None
                    | Pinning::Synchronized
                    | Pinning::Jdbc
                    | Pinning::BlockingSyscall
                    | Pinning::Mutex,
                )
                | None => None,
            }
        }
    }
}

/// Mean time a request holds the scarce thread that `concurrency_cap` counts:
/// the whole service time for a pool thread or a pinned carrier; only the
/// blocking HTTP call for a loop thread (a mix's other classes do not hold it).
fn holding_s(cell: &Cell, service_s: f64) -> f64 {
    use crate::cell::{Client, IoKind};
    let traits = cell.model.traits();
    let blocking_client = traits.tasks
        && matches!(
            cell.client,
            Some(Client::Blocking | Client::BlockingOffload)
        );
    if !blocking_client {
        return service_s;
    }
    // FastAPI's blocking client blocks on its timer too (`time.sleep`).
    let held = |io: IoKind| io.has_client() || traits.client_sleeps;
    let http_ms = |io: IoKind, ms: f64| if held(io) { ms } else { 0.0 };
    let total: f64 = cell.classes.iter().map(|c| c.weight).sum();
    let ms = if cell.classes.is_empty() || total <= 0.0 {
        http_ms(cell.io, cell.io_latency_ms)
    } else {
        cell.classes
            .iter()
            .map(|c| c.weight * http_ms(c.io, c.io_latency_ms))
            .sum::<f64>()
            / total
    };
    ms / 1e3
}

/// Mean time a request holds a pooled DB connection (`pg_sleep` queries: the
/// sleep; other queries take an unknown, short time and are not bounded here).
fn db_holding_s(cell: &Cell) -> f64 {
    use crate::cell::IoKind;
    let total: f64 = cell.classes.iter().map(|c| c.weight).sum();
    let ms = if cell.classes.is_empty() || total <= 0.0 {
        if cell.io == IoKind::Postgres {
            cell.io_latency_ms
        } else {
            0.0
        }
    } else {
        cell.classes
            .iter()
            .filter(|c| c.io == IoKind::Postgres)
            .map(|c| c.weight * c.io_latency_ms)
            .sum::<f64>()
            / total
    };
    ms / 1e3
}

/// Cores the CPU part of requests can use at once: where the model's traits
/// say it runs ([`CpuOn`]).
pub fn cpu_parallelism(cell: &Cell) -> f64 {
    let traits = cell.model.traits();
    let cores = cell.cores.max(1) as f64;
    let workers = cell.workers.unwrap_or(cell.cores).max(1) as f64;
    let pool = cell.pool_threads.unwrap_or(cell.cores).max(1) as f64;
    match traits.cpu {
        CpuOn::PoolThreads => cores.min(cell.threads.unwrap_or(1) as f64),
        CpuOn::EveryCore => cores,
        // The GIL serialises Python's CPU, except where it is left: in
        // other processes, or in C that releases it on the worker threads.
        CpuOn::OneThread => match (cell.offload, cell.cpu_work) {
            (Some(Offload::ProcessPool), _) => cores.min(pool),
            (Some(Offload::WorkerPool), Some(threadloop_vocab::factor::CpuWork::Hashlib)) => {
                cores.min(pool)
            }
            _ => 1.0,
        },
        CpuOn::Carriers => cores.min(workers),
        CpuOn::Offload => match cell.offload.unwrap_or(Offload::Inline) {
            Offload::SpawnBlocking => cores,
            Offload::WorkerPool | Offload::ProcessPool => cores.min(pool),
            // On the loop's threads: `workers` of them, or the one loop.
            Offload::Inline if traits.workers => cores.min(workers),
            Offload::Inline => 1.0,
        },
    }
}

/// The pool of `threads` a request holds throughout, when the model has one
/// (the closed loop's turnover, the open loop's M/D/T queue).
fn held_pool(cell: &Cell) -> Option<u32> {
    match cell.model.traits().holds {
        Holds::PoolThread => cell.threads,
        Holds::Nothing | Holds::LoopThread | Holds::Carrier | Holds::VirtualThreadCarrier => None,
    }
}

pub fn theory(cell: &Cell) -> Theory {
    // With a request mix, the means over the mix (Little's law holds for means).
    let (cpu_ms, io_ms) = cell.mean_parts_ms();
    let s = (cpu_ms + io_ms) / 1e3;
    let c = cpu_ms / 1e3;
    let mut caps = Vec::new();
    let hold = holding_s(cell, s);
    if let (Some(t), true) = (concurrency_cap(cell), hold > 0.0) {
        caps.push(t / hold);
    }
    if c > 0.0 {
        caps.push(cpu_parallelism(cell) / c);
    }
    // A pool of P connections held for the query's time caps at P / t.
    if let (Some(p), Some(DbQuery::Sleep)) = (cell.db_pool, cell.db_query) {
        let db_s = db_holding_s(cell);
        if db_s > 0.0 {
            caps.push(p as f64 / db_s);
        }
    }
    let capacity = caps.into_iter().reduce(f64::min);
    match cell.load {
        Load::Closed { concurrency } => {
            let n = concurrency as f64;
            let by_clients = (s > 0.0).then(|| n / s);
            let bound = match (by_clients, capacity) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let turnover = held_pool(cell)
                .filter(|&t| concurrency > t && s > 0.0)
                .map(|t| n / t as f64 * s);
            Theory {
                throughput_rps: bound,
                capacity_rps: capacity,
                latency_ms: bound.map(|x| n / x * 1e3),
                utilisation: None,
                queue_wait_ms: None,
                queue_wait_path_ms: None,
                turnover_s: turnover,
                priced_rps: priced(cell, priced_clients_bound(cell, n, s, capacity)),
            }
        }
        Load::Open { rate_rps, arrival } => {
            let rho = capacity.map(|cap| rate_rps / cap);
            // The queue simulations assume one fixed service time.
            let pool = held_pool(cell)
                .filter(|_| s > 0.0 && cell.classes.is_empty())
                .map(|t| t as usize);
            let queue_wait = pool
                .filter(|_| rho.is_some_and(|r| r < 1.0))
                .map(|t| simulate_pool_wait(rate_rps, s, t, arrival, 200_000, cell.seed) * 1e3);
            let queue_wait_path = pool.map(|t| {
                let arrivals = arrival_times(
                    rate_rps,
                    arrival,
                    cell.seed,
                    cell.warmup_s + cell.duration_s,
                );
                path_wait(&arrivals, s, t, cell.warmup_s) * 1e3
            });
            let expected = Some(capacity.map_or(rate_rps, |cap| rate_rps.min(cap)));
            Theory {
                throughput_rps: expected,
                capacity_rps: capacity,
                latency_ms: (s > 0.0 && rho.is_none_or(|r| r < 1.0))
                    .then(|| s * 1e3 + queue_wait.unwrap_or(0.0)),
                utilisation: rho,
                queue_wait_ms: queue_wait,
                queue_wait_path_ms: queue_wait_path,
                turnover_s: None,
                priced_rps: priced(cell, expected),
            }
        }
    }
}

/// Closed loop over a calibrated server: `n` clients each wait at least the
/// service time `s` plus the server's own CPU on their request, so
/// Little's law gives n / (s + server CPU), then capped by `capacity`.
/// Without a calibrated server, the claim's bound.
fn priced_clients_bound(cell: &Cell, n: f64, s: f64, capacity: Option<f64>) -> Option<f64> {
    let own = cell.server.map_or(0.0, |c| c.cpu_ms / 1e3);
    let by_clients = (s + own > 0.0).then(|| n / (s + own));
    match (by_clients, capacity) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The claim's `bound` priced with the server's own cost: the lower of it
/// and what the cores can serve when every request costs both the cell's CPU
/// work `c` and the server's own CPU `s`. The work runs on the cores the
/// model gives it ([`cpu_parallelism`]); the server's part on what the
/// server used at its ceiling X₀ (X₀ × s cores: one for FastAPI's one
/// thread, what the load generator leaves for the others), so it takes
/// 1 / X₀ of the machine per request: X ≤ 1 / (c / P + 1 / X₀). With P and
/// X₀ × s both the machine's k cores this is k / (c + s). None without a
/// calibrated server.
pub fn priced(cell: &Cell, bound: Option<f64>) -> Option<f64> {
    let ServerCost { ceiling_rps, .. } = cell.server.filter(|s| s.ceiling_rps > 0.0)?;
    let (cpu_ms, _) = cell.mean_parts_ms();
    let work = if cpu_ms > 0.0 {
        cpu_ms / 1e3 / cpu_parallelism(cell)
    } else {
        0.0
    };
    let cap = 1.0 / (work + 1.0 / ceiling_rps);
    Some(bound.map_or(cap, |b| b.min(cap)))
}

/// The arrival times (seconds from the start) the load generator produces
/// for this rate, process and seed: the same RNG, the same draws, in order.
pub fn arrival_times(rate: f64, arrival: Arrival, seed: u64, until_s: f64) -> Vec<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut t = 0.0;
    let mut out = Vec::new();
    while t < until_s {
        out.push(t);
        t += inter_arrival(rate, arrival, &mut rng);
    }
    out
}

/// One gap between arrivals. Shared with the load generator, so that the
/// theory can replay a cell's exact arrivals.
pub fn inter_arrival(rate: f64, arrival: Arrival, rng: &mut SmallRng) -> f64 {
    match arrival {
        Arrival::Constant => 1.0 / rate,
        Arrival::Poisson => -(1.0 - rng.random::<f64>()).ln() / rate,
    }
}

/// Mean queueing delay (seconds) of the arrivals at or after `from_s`, for a
/// FIFO pool of `servers` with fixed service time `service_s`.
pub fn path_wait(arrivals: &[f64], service_s: f64, servers: usize, from_s: f64) -> f64 {
    let mut free: BinaryHeap<std::cmp::Reverse<u64>> = (0..servers.max(1))
        .map(|_| std::cmp::Reverse(0u64))
        .collect();
    let ns = |secs: f64| (secs * 1e9) as u64;
    let (mut total, mut n) = (0u128, 0u64);
    for &t in arrivals {
        let arrive = ns(t);
        let std::cmp::Reverse(earliest) = free.pop().expect("at least one server");
        let begin = earliest.max(arrive);
        free.push(std::cmp::Reverse(begin + ns(service_s)));
        if t >= from_s {
            total += (begin - arrive) as u128;
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        total as f64 / n as f64 / 1e9
    }
}

/// Mean queueing delay (seconds) of a FIFO pool of `servers` with fixed
/// service time `service_s`, fed at `rate` by `arrival`: M/D/c for Poisson,
/// D/D/c for constant. A discrete-event simulation over `n` arrivals, the
/// first tenth discarded as warm-up; deterministic for a seed.
pub fn simulate_pool_wait(
    rate: f64,
    service_s: f64,
    servers: usize,
    arrival: Arrival,
    n: usize,
    seed: u64,
) -> f64 {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut t = 0.0;
    let arrivals: Vec<f64> = (0..n)
        .map(|_| {
            t += inter_arrival(rate, arrival, &mut rng);
            t
        })
        .collect();
    let skip_until = arrivals.get(n / 10).copied().unwrap_or(0.0);
    path_wait(&arrivals, service_s, servers, skip_until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{IoKind, Load, ModelKind, Pinning};

    fn cell(model: ModelKind, load: Load) -> Cell {
        Cell {
            threads: Some(20),
            queue: Some(10_000),
            workers: Some(2),
            offload: Some(Offload::Inline),
            timeout_ms: 2000,
            max_in_flight: 100_000,
            warmup_s: 1.0,
            duration_s: 5.0,
            cpu_iters_per_ms: 1e5,
            ..Cell::timer(model, load, 50.0)
        }
    }

    #[test]
    fn pool_caps_closed_loop_at_threads_over_latency() {
        let th = theory(&cell(ModelKind::Threads, Load::Closed { concurrency: 100 }));
        assert!((th.throughput_rps.unwrap() - 400.0).abs() < 1e-9);
        assert!(
            (th.latency_ms.unwrap() - 250.0).abs() < 1e-9,
            "C/X = 100/400 s"
        );
        assert!((th.turnover_s.unwrap() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn async_bound_is_clients_over_latency() {
        let th = theory(&cell(ModelKind::Tokio, Load::Closed { concurrency: 1000 }));
        assert!((th.throughput_rps.unwrap() - 20_000.0).abs() < 1e-6);
        assert_eq!(th.capacity_rps, None);
    }

    #[test]
    fn cpu_bound_uses_usable_cores() {
        let mut c = cell(ModelKind::TokioCurrent, Load::Closed { concurrency: 1000 });
        c.cpu_ms = 10.0;
        assert!(
            (theory(&c).throughput_rps.unwrap() - 100.0).abs() < 1e-9,
            "one loop: 1/10ms"
        );
        c.model = ModelKind::Tokio;
        assert!(
            (theory(&c).throughput_rps.unwrap() - 200.0).abs() < 1e-9,
            "two workers"
        );
        c.offload = Some(Offload::WorkerPool);
        c.pool_threads = Some(1);
        assert!(
            (theory(&c).throughput_rps.unwrap() - 100.0).abs() < 1e-9,
            "pool of one"
        );
    }

    #[test]
    fn cpu_bound_is_priced_at_the_measured_cpu_cost() {
        let mut c = cell(ModelKind::Tokio, Load::Closed { concurrency: 1000 });
        c.cpu_ms = 10.0;
        c.classes = vec![
            crate::cell::RequestClass {
                name: "light".into(),
                weight: 1.0,
                cpu_ms: 0.0,
                io: IoKind::Timer,
                io_latency_ms: 1.0,
            },
            crate::cell::RequestClass {
                name: "heavy".into(),
                weight: 1.0,
                cpu_ms: 10.0,
                io: IoKind::Timer,
                io_latency_ms: 1.0,
            },
        ];
        assert_eq!(c.asked_cpu(1), std::time::Duration::from_millis(10));
        assert_eq!(c.asked_cpu(0), std::time::Duration::ZERO);
        assert_eq!(
            c.asked_cpu(9),
            c.asked_cpu(1),
            "out of range: the last class"
        );
        // Mean CPU 5 ms on two workers: 400 req/s as calibrated; a machine
        // running 25% slower gets a bound 25% lower, the I/O untouched.
        assert!((theory(&c).throughput_rps.unwrap() - 400.0).abs() < 1e-9);
        let slow = c.with_cpu_cost(1.25);
        assert!((theory(&slow).throughput_rps.unwrap() - 320.0).abs() < 1e-9);
        assert_eq!(slow.classes[1].io_latency_ms, 1.0);
        assert_eq!(slow.cpu_ms, 12.5);
    }

    #[test]
    fn pinned_coroutines_are_capped_by_their_carriers() {
        let mut c = cell(ModelKind::Coroutines, Load::Closed { concurrency: 1000 });
        c.pinning = Some(crate::cell::Pinning::None);
        assert!((theory(&c).throughput_rps.unwrap() - 20_000.0).abs() < 1e-6);
        c.pinning = Some(crate::cell::Pinning::BlockingSyscall);
        assert!(
            (theory(&c).throughput_rps.unwrap() - 40.0).abs() < 1e-9,
            "2 workers / 50 ms"
        );
    }

    #[test]
    fn the_real_stacks_are_capped_where_the_essay_says() {
        let mut c = cell(ModelKind::TomcatVirtual, Load::Closed { concurrency: 100 });
        c.io_latency_ms = 100.0;
        c.pinning = Some(Pinning::Synchronized);
        c.java = Some(21);
        c.cores = 2;
        // Two carriers, each pinned for 100 ms.
        assert_eq!(theory(&c).throughput_rps, Some(20.0));
        c.java = Some(25);
        assert_eq!(theory(&c).throughput_rps, Some(1000.0));
        let mut f = cell(ModelKind::Fastapi, Load::Closed { concurrency: 100 });
        f.io_latency_ms = 50.0;
        f.client = Some(crate::cell::Client::Blocking);
        assert_eq!(theory(&f).throughput_rps, Some(20.0));
        f.client = Some(crate::cell::Client::BlockingOffload);
        assert_eq!(theory(&f).throughput_rps, Some(800.0));
        f.client = Some(crate::cell::Client::Async);
        assert_eq!(theory(&f).throughput_rps, Some(2000.0));
        // WebFlux's blocking JDBC holds one of Reactor Netty's event loops:
        // max(2 cores, 4) of them.
        let mut w = cell(ModelKind::SpringWebflux, Load::Closed { concurrency: 100 });
        (w.io, w.io_latency_ms, w.cores) = (IoKind::Postgres, 50.0, 2);
        w.client = Some(crate::cell::Client::Blocking);
        assert_eq!(theory(&w).throughput_rps, Some(80.0));
    }

    #[test]
    fn fastapis_cpu_leaves_the_gil_only_where_a_remedy_takes_it() {
        use threadloop_vocab::factor::CpuWork as Code;
        let mut f = cell(ModelKind::Fastapi, Load::Closed { concurrency: 100 });
        (f.cpu_ms, f.io_latency_ms, f.cores, f.pool_threads) = (10.0, 0.0, 2, Some(4));
        let cases = [
            (Offload::Inline, Code::Python, 1.0),
            (Offload::Inline, Code::Hashlib, 1.0),
            (Offload::WorkerPool, Code::Python, 1.0),
            // C that releases the GIL runs on the pool's threads at once.
            (Offload::WorkerPool, Code::Hashlib, 2.0),
            // Each process has its own interpreter.
            (Offload::ProcessPool, Code::Python, 2.0),
            (Offload::ProcessPool, Code::Hashlib, 2.0),
        ];
        for (offload, code, parallel) in cases {
            (f.offload, f.cpu_work) = (Some(offload), Some(code));
            assert_eq!(cpu_parallelism(&f), parallel, "{offload:?} {code:?}");
            assert_eq!(theory(&f).throughput_rps, Some(parallel / 0.010));
        }
    }

    #[test]
    fn the_servers_own_cost_prices_the_bound() {
        let mut f = cell(ModelKind::Fastapi, Load::Closed { concurrency: 100 });
        f.io_latency_ms = 50.0;
        f.client = Some(crate::cell::Client::Async);
        assert_eq!(theory(&f).priced_rps, None, "no calibrated server");
        // Little's law: 100 / 50 ms = 2,000; a server whose ceiling is 1,600
        // cannot serve more, whatever the clients.
        f.server = Some(ServerCost {
            cpu_ms: 0.625,
            ceiling_rps: 1600.0,
        });
        let th = theory(&f);
        assert_eq!(th.throughput_rps, Some(2000.0), "the claim's bound stays");
        assert_eq!(th.priced_rps, Some(1600.0));
        // Below its ceiling each client still waits for the server's own
        // CPU on its request: 100 / (50 ms + 0.2 ms).
        f.server = Some(ServerCost {
            cpu_ms: 0.2,
            ceiling_rps: 5000.0,
        });
        assert!((theory(&f).priced_rps.unwrap() - 100.0 / 0.0502).abs() < 1e-6);
        // CPU work on the one thread adds to the server's share of it:
        // 1 / (1 ms + 1 / 2,000 s) = 666.7 against 1 / 1 ms = 1,000.
        f.cpu_ms = 1.0;
        f.io_latency_ms = 0.0;
        f.server = Some(ServerCost {
            cpu_ms: 0.5,
            ceiling_rps: 2000.0,
        });
        let th = theory(&f);
        assert!((th.throughput_rps.unwrap() - 1000.0).abs() < 1e-9);
        assert!((th.priced_rps.unwrap() - 2000.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn no_op_requests_have_no_bound() {
        let mut c = cell(ModelKind::Tokio, Load::Closed { concurrency: 10 });
        c.io_latency_ms = 0.0;
        assert_eq!(theory(&c).throughput_rps, None);
    }

    #[test]
    fn open_loop_utilisation_and_md_c_wait() {
        let mut c = cell(
            ModelKind::Threads,
            Load::Open {
                rate_rps: 400.0,
                arrival: Arrival::Poisson,
            },
        );
        c.threads = Some(10);
        c.io_latency_ms = 20.0;
        let th = theory(&c);
        assert!((th.utilisation.unwrap() - 0.8).abs() < 1e-9);
        let w = th.queue_wait_ms.unwrap();
        // M/D/10 at rho 0.8: about half the M/M/10 wait (Erlang C 0.409 → 4.1 ms).
        assert!(w > 1.0 && w < 4.1, "M/D/10 wait {w} ms");
    }

    #[test]
    fn simulation_matches_known_queues() {
        // M/D/1 (Pollaczek-Khinchine): Wq = rho S / (2 (1 - rho)).
        let wq = simulate_pool_wait(50.0, 0.01, 1, Arrival::Poisson, 400_000, 7);
        let expect = 0.5 * 0.01 / (2.0 * 0.5);
        assert!(
            (wq - expect).abs() / expect < 0.05,
            "M/D/1 {wq} vs {expect}"
        );
        // D/D/c below capacity never waits.
        assert_eq!(
            simulate_pool_wait(900.0, 0.01, 10, Arrival::Constant, 10_000, 7),
            0.0
        );
    }
}
