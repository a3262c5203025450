//! Runs one cell end to end inside the current process: start the model,
//! offer the load, summarise. The cell binary calls this once and exits, so
//! nothing of one cell (threads, memory, runtime state) leaks into the next.

use crate::cell::{Cell, Client, DbQuery, IoKind, Load, ModelKind, Transport};
use crate::counters::CellCounters;
use crate::http::blocking::BlockingClient;
use crate::http::Target;
use crate::io::{BlockingClients, Io};
use crate::load::{Generator, Unanswered};
use crate::measure::{LagRecorder, ProcStatus, Window};
use crate::memory::{KernelMemory, Meter};
use crate::outcome::{CellOutcome, ClassOutcome, DbOutcome, Percentiles, SpectrumPoint};
use crate::server::{Job, Model, Work};
use crate::theory::theory;
use crate::work::CpuWork;
use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |us: u64| us as f64 / 1e3;
    Percentiles {
        count: h.len(),
        mean_ms: h.mean() / 1e3,
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

/// The percentile spectrum, 5 points per halving of the tail (as HdrHistogram's
/// own percentile output), enough for an HDR plot.
pub fn spectrum(h: &Histogram<u64>) -> Vec<SpectrumPoint> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_quantiles(5)
        .map(|v| SpectrumPoint {
            percentile: v.quantile_iterated_to() * 100.0,
            latency_ms: h.highest_equivalent(v.value_iterated_to()) as f64 / 1e3,
            count: v.count_since_last_iteration(),
        })
        .collect()
}

pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialising to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

pub fn decode_histogram(s: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s)?;
    Ok(hdrhistogram::serialization::Deserializer::new().deserialize(&mut bytes.as_slice())?)
}

fn http_target(cell: &Cell) -> anyhow::Result<Option<Target>> {
    match (cell.io, &cell.downstream) {
        (IoKind::Http, Some(addr)) => Ok(Some(Target {
            addr: addr.clone(),
            tag: crate::http::tag(cell),
        })),
        (IoKind::Http, None) => {
            anyhow::bail!("an http cell needs the downstream's address (the runner starts it)")
        }
        _ => Ok(None),
    }
}

/// After the window, lets requests still in the model finish (bounded), so
/// the downstream's count can be compared with the cell's exactly.
fn drain(cell: &Cell, unanswered: &mut Unanswered) -> bool {
    unanswered.drain(Instant::now() + Duration::from_millis(cell.timeout_ms.min(10_000) + 1_000))
}

/// Does this cell's model call the DB driver synchronously? Thread models
/// always do; async models when the spec asks for a blocking driver;
/// `threads-async-io` hands its I/O to the async driver; a foreign stack
/// opens its own pool in its own process.
fn blocking_db(cell: &Cell) -> bool {
    match cell.model {
        ModelKind::ThreadsAsyncIo => false,
        m if m.stack().is_some() => false,
        m if m.is_async() => cell.client.unwrap_or(Client::Async) != Client::Async,
        _ => true,
    }
}

/// Threads of the cell process that are not the model's over HTTP: the main
/// thread (which samples the server's process) and the two that read the
/// generator's output.
const HTTP_HARNESS_THREADS: u32 = 3;

/// What driving the load measured, whichever the transport.
struct Measured {
    result: crate::load::LoadResult,
    unanswered: Unanswered,
    lag: Arc<LagRecorder>,
    idle: ProcStatus,
    /// The kernel memory of the process under test before the load.
    kernel_idle: KernelMemory,
    /// Requests checked through the model (and the DB) before the load.
    verified: u64,
    model: Box<dyn Model>,
    /// OS threads of the cell process that the harness added.
    harness_threads: u32,
    /// What the transport noticed (the generator's first failure, its load).
    notes: Vec<String>,
    /// A foreign stack's own figures.
    stack: Option<crate::outcome::StackReport>,
    /// A warm-up that ended when the server settled.
    warmup: Option<crate::outcome::Warmup>,
}

/// The in-process transport: the generator on this thread hands requests
/// to the model through its `submit`.
fn in_process(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
    uses_db: bool,
    memory: &Meter,
) -> anyhow::Result<Measured> {
    let server = crate::models::start(cell, job, counters)?;
    let verified = if uses_db {
        crate::db::verify::through_model(cell, server.as_ref(), counters)?
    } else {
        0
    };
    // Let the model's threads come up before taking the idle reading.
    std::thread::sleep(Duration::from_millis(20));
    let idle = ProcStatus::read();
    let kernel_idle = memory.read();

    let start = Instant::now();
    let window = Window {
        start: start + Duration::from_secs_f64(cell.warmup_s),
        end: start + Duration::from_secs_f64(cell.warmup_s + cell.duration_s),
    };
    counters.set_window(window);
    let lag = Arc::new(LagRecorder::new(window));
    server.start_probe(lag.clone());
    let (result, unanswered) = Generator::new(cell, server.as_ref(), window, memory).run();
    Ok(Measured {
        result,
        unanswered,
        lag,
        idle,
        kernel_idle,
        verified,
        harness_threads: 1 + server.harness_threads(),
        model: server,
        notes: Vec::new(),
        stack: None,
        warmup: None,
    })
}

pub fn run_cell(cell: &Cell) -> anyhow::Result<CellOutcome> {
    // First, so that it is dropped last (after the model, a stack's process
    // included): the process under test gets a memory cgroup of its own
    // before it allocates what the cell measures (`crate::memory`).
    let memory = if cell.model.stack().is_some() {
        Meter::for_a_child()
    } else {
        Meter::for_this_process()
    };
    // This cell's own counts: everything that updates them gets this Arc
    // explicitly, and the outcome reads them from here.
    let counters = Arc::new(CellCounters::new());
    let target = http_target(cell)?;
    let timeout = Duration::from_millis(cell.timeout_ms);
    let db_url = if cell.uses_postgres() {
        Some(crate::db::url_from_env()?)
    } else {
        None
    };
    let clients = BlockingClients {
        http: target
            .clone()
            .map(|t| BlockingClient::new(t, timeout, counters.clone())),
        db: match &db_url {
            Some(url) if blocking_db(cell) => {
                Some(Arc::new(crate::db::blocking::BlockingDb::open(
                    url,
                    cell.db_pool.unwrap_or(crate::db::DEFAULT_POOL),
                    cell.db_query.unwrap_or(DbQuery::Sleep),
                    timeout,
                    counters.clone(),
                )?))
            }
            _ => None,
        },
    };
    let job = if cell.classes.is_empty() {
        Job::single(Work {
            cpu: CpuWork::new(cell.cpu_ms, cell.cpu_iters_per_ms),
            io: Io::new(cell.io, cell.io_latency_ms, clients.clone()),
        })
    } else {
        Job::new(
            cell.classes
                .iter()
                .map(|c| Work {
                    cpu: CpuWork::new(c.cpu_ms, cell.cpu_iters_per_ms),
                    io: Io::new(c.io, c.io_latency_ms, clients.clone()),
                })
                .collect(),
        )
    };
    let Measured {
        result: r,
        mut unanswered,
        lag,
        idle,
        kernel_idle,
        verified,
        // Kept to the end of the cell, as the model's runtime must be.
        model,
        harness_threads,
        notes: transport_notes,
        stack,
        warmup,
    } = match cell.transport {
        Transport::InProcess => in_process(cell, job, &counters, db_url.is_some(), &memory)?,
        Transport::Http => {
            let d = crate::wire::drive::run(cell, job, &counters, &memory)?;
            Measured {
                result: d.result,
                unanswered: Unanswered::none(),
                lag: d.lag,
                idle: d.idle,
                kernel_idle: d.kernel_idle,
                // The generator checked one request of each class against
                // the contract (the DB's answer included) before the load.
                verified: if db_url.is_some() {
                    cell.classes.len().max(1) as u64
                } else {
                    0
                },
                // A foreign stack's process holds none of the harness's threads.
                harness_threads: if d.model.process().is_some() {
                    0
                } else {
                    HTTP_HARNESS_THREADS + d.model.harness_threads()
                },
                model: d.model,
                notes: d.notes,
                stack: d.stack,
                warmup: d.warmup,
            }
        }
    };
    let (lag_hist, lag_refused) = lag.snapshot();
    // The serving process's: a foreign stack's, or this one.
    let end_status = model
        .process()
        .map_or_else(ProcStatus::read, ProcStatus::of_pid);
    // A downstream that cannot be asked (it refused every call) leaves the
    // counts empty and a note; the cell's own errors already tell the story.
    let mut count_error = None;
    let db = db_url.as_deref().map(|url| DbOutcome {
        verified,
        server_connections: crate::db::verify::server_connections(url),
        drained: drain(cell, &mut unanswered),
        queries_ok: counters.queries_ok(),
        server_statements: None,
        pool_wait: percentiles(&counters.pool_waits()),
    });
    let downstream_check = match &clients.http {
        Some(client) => {
            let drained = drain(cell, &mut unanswered);
            match client.tag_count() {
                Ok(count) => Some((drained, count)),
                Err(e) => {
                    count_error = Some(format!("could not ask the downstream for its count: {e}"));
                    None
                }
            }
        }
        None => None,
    };

    let window_s = cell.duration_s;
    let throughput = r.tallies.completed as f64 / window_s;
    let latency = percentiles(&r.latency);
    // The bound prices CPU work at the speed it ran in this window (the
    // measured thread CPU time over the calibration's), not at the speed of
    // the start-of-run calibration.
    let cpu_cost_ratio = (!r.cpu_asked.is_zero() && !r.cpu_used.is_zero())
        .then(|| r.cpu_used.as_secs_f64() / r.cpu_asked.as_secs_f64());
    let priced_cell = cell.with_cpu_cost(cpu_cost_ratio.unwrap_or(1.0));
    let mut th = theory(&priced_cell);
    if let Load::Open { rate_rps, arrival } = cell.load {
        // The cell's own arrivals (same seed, same draws as the generator):
        // the expected throughput is what arrived in the window, not the
        // nominal rate, so fidelity is free of the Poisson noise of the count.
        let (start, end) = (cell.warmup_s, cell.warmup_s + cell.duration_s);
        let arrivals = crate::theory::arrival_times(rate_rps, arrival, cell.seed, end);
        let arrived = arrivals.iter().filter(|&&t| t >= start && t < end).count() as f64;
        let realised = arrived / window_s;
        th.throughput_rps = Some(th.capacity_rps.map_or(realised, |c| realised.min(c)));
        th.priced_rps = crate::theory::priced(&priced_cell, th.throughput_rps);
        // The queue replay uses the service time the model really delivered,
        // so that measured − replay is what queueing in the model adds.
        if let (Some(_), false) = (th.queue_wait_path_ms, r.service.is_empty()) {
            let s = r.service.mean() / 1e6;
            th.queue_wait_path_ms = Some(
                crate::theory::path_wait(&arrivals, s, cell.threads.unwrap_or(1) as usize, start)
                    * 1e3,
            );
        }
    }
    let fidelity = th
        .throughput_rps
        .filter(|b| *b > 0.0)
        .map(|b| throughput / b);
    let fidelity_priced = th.priced_rps.filter(|b| *b > 0.0).map(|b| throughput / b);
    let littles = match cell.load {
        Load::Closed { concurrency } if latency.mean_ms > 0.0 => {
            Some(concurrency as f64 / (latency.mean_ms / 1e3))
        }
        _ => None,
    };
    // The exact sum over the requests, not the histogram's bucketed mean.
    let cpu_work_mean_ms = if r.cpu.is_empty() {
        0.0
    } else {
        r.cpu_used.as_secs_f64() * 1e3 / r.cpu.len() as f64
    };
    let mut out = CellOutcome {
        cell: cell.clone(),
        completed: r.tallies.completed,
        errors: r.tallies.errors,
        rejected: r.tallies.rejected,
        timeouts: r.tallies.timeouts,
        late: r.tallies.late,
        overflow: r.tallies.overflow,
        sent: r.tallies.sent,
        window_s,
        throughput_rps: throughput,
        latency,
        queue_wait: percentiles(&r.queue_wait),
        service: percentiles(&r.service),
        loop_lag: percentiles(&lag_hist),
        loop_lag_refused: lag_refused,
        cpu_work_mean_ms,
        cpu_cost_ratio,
        rss_idle_bytes: idle.rss_bytes,
        rss_peak_bytes: end_status.rss_peak_bytes,
        rss_window_peak_bytes: r.rss_peak_in_window,
        vm_idle_bytes: idle.vm_bytes,
        vm_window_peak_bytes: r.vm_peak_in_window,
        kernel_idle,
        kernel_window_peak: r.kernel_peak_in_window,
        memory_source: Some(memory.source()),
        threads_idle: idle.threads,
        threads_peak: r.threads_peak,
        harness_threads,
        cpu_user_s: r.usage.user_s,
        cpu_sys_s: r.usage.sys_s,
        ctx_voluntary: r.usage.voluntary,
        ctx_involuntary: r.usage.involuntary,
        harness_cpu_s: r.generator_usage.user_s + r.generator_usage.sys_s,
        harness_ctx: r.generator_usage.voluntary + r.generator_usage.involuntary,
        theory: th,
        fidelity,
        fidelity_priced,
        warmup,
        littles_law_rps: littles,
        io_calls_ok: downstream_check.as_ref().map(|_| counters.responses_ok()),
        downstream_received: downstream_check.as_ref().map(|(_, c)| c.received),
        downstream_answered: downstream_check.as_ref().map(|(_, c)| c.answered),
        drained: downstream_check.as_ref().map(|(d, _)| *d),
        db,
        classes: cell
            .classes
            .iter()
            .zip(&r.classes)
            .map(|(c, t)| ClassOutcome {
                name: c.name.clone(),
                completed: t.completed,
                errors: t.errors,
                rejected: t.rejected,
                timeouts: t.timeouts,
                throughput_rps: t.completed as f64 / window_s,
                latency: percentiles(&t.latency),
                spectrum: spectrum(&t.latency),
                histogram: encode_histogram(&t.latency),
            })
            .collect(),
        stack,
        notes: Vec::new(),
        spectrum: spectrum(&r.latency),
        histogram: encode_histogram(&r.latency),
    };
    out.notes = notes(&out, r.window);
    out.notes.extend(count_error);
    out.notes.extend(transport_notes);
    out.notes.extend(memory.note.clone());
    if let Some(w) = out.warmup.filter(|w| !w.settled) {
        out.notes.push(format!(
            "the server had not settled (throughput within {:.0}% over {} slices of {} ms, its JIT compiler threads at most {:.0}% of a core) after a {:.1} s warm-up: the window may include the JIT's compiling",
            crate::wire::settle::TOLERANCE * 100.0,
            crate::wire::settle::SLICES,
            crate::wire::settle::SLICE.as_millis(),
            crate::wire::settle::JIT_QUIET * 100.0,
            w.taken_s
        ));
    }
    if out.drained == Some(false) {
        out.notes.push("requests were still in flight when the downstream was asked for its count: the counts may differ".into());
    }
    Ok(out)
}

/// Caveats that belong next to the numbers.
fn notes(o: &CellOutcome, _w: Window) -> Vec<String> {
    let c = &o.cell;
    let mut n = Vec::new();
    if matches!(c.load, Load::Closed { .. }) {
        n.push("closed loop: latency counts from the actual send and is not coordinated-omission corrected".into());
    }
    if let (true, Some(turn)) = (o.transient(), o.theory.turnover_s) {
        n.push(format!(
            "transient: the queue turns over in {turn:.1} s (C/T × S), longer than the {:.1} s warm-up, so latency is below its steady state",
            c.warmup_s
        ));
    }
    if matches!(c.model, ModelKind::Tokio | ModelKind::TokioCurrent)
        && c.io == IoKind::Timer
        && c.io_latency_ms > 0.0
    {
        n.push("tokio's timer ticks in 1 ms: each sleep ends up to ~1 ms late, so the nominal bound is not quite reachable".into());
    }
    if let Some(ratio) = o.cpu_cost_ratio {
        let dev = ratio - 1.0;
        if dev.abs() > 0.10 {
            n.push(format!(
                "the CPU work took {:+.0}% of the time the calibration asked: the machine ran at another speed than at the run's start; the bound uses the measured time",
                dev * 100.0
            ));
        }
    }
    let gen_share = o.harness_cpu_s / o.window_s;
    if gen_share > 0.25 {
        n.push(format!(
            "the load generator used {:.0}% of a core",
            gen_share * 100.0
        ));
    }
    // Deterministic CPU work in a closed loop completes in waves, every
    // C x c / k (all clients sharing the cores finish together): a window of
    // few waves aliases them and throughput reads high or low by up to
    // 1 / waves.
    let cpu_ms = c.mean_parts_ms().0;
    if let (Load::Closed { concurrency }, true) = (c.load, cpu_ms > 0.0) {
        let period_s =
            concurrency as f64 * cpu_ms / 1e3 / crate::theory::cpu_parallelism(c).max(1.0);
        let waves = c.duration_s / period_s;
        if waves < 10.0 {
            n.push(format!(
                "the window holds {waves:.1} completion waves (C x cpu / cores = {period_s:.2} s apart): throughput may be off by up to {:.0}%",
                100.0 / waves.max(1.0)
            ));
        }
    }
    if c.model == ModelKind::Coroutines && c.uses_postgres() {
        n.push("libpq is a native call: it pins the coroutine's carrier thread while it waits (Java's JNI pinning)".into());
    }
    if o.overflow > 0 {
        n.push(format!(
            "{} arrivals were not sent: {} requests were already in flight",
            o.overflow, c.max_in_flight
        ));
    }
    n
}
