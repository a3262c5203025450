//! The cell's side of an HTTP cell. The cell process starts the model's own
//! HTTP server on loopback, then the load generator as a child process
//! (`threadloop-loadgen`, which dies with it), and measures the server's
//! process (itself, or a foreign stack's) over the window the generator announces: CPU, context
//! switches, threads, RSS, loop lag, as for an in-process cell. The
//! generator's counts and latencies come back as JSON on its stdout.

use super::loadgen::{instant_of, raise_fd_limit, WireReport};
use crate::cell::{Cell, Load};
use crate::counters::CellCounters;
use crate::load::LoadResult;
use crate::measure::{new_histogram, LagRecorder, ProcStatus, Usage, Window};
use crate::memory::{KernelMemory, Meter};
use crate::server::{Job, Model};
use anyhow::Context as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the server's process is sampled (threads, RSS, kernel memory), as in-process.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How long the generator may take to verify the server and connect (and
/// warm it up: a settling warm-up announces the window when it ends).
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// An HTTP cell's measurements, and the model (kept alive to the end).
pub struct Driven {
    pub result: LoadResult,
    pub model: Box<dyn Model>,
    pub lag: Arc<LagRecorder>,
    pub idle: ProcStatus,
    /// The server process's kernel memory before the load.
    pub kernel_idle: KernelMemory,
    /// What the generator saw that the counts alone do not say.
    pub notes: Vec<String>,
    /// A foreign stack's own figures.
    pub stack: Option<crate::outcome::StackReport>,
    /// A warm-up that ended when the server settled.
    pub warmup: Option<crate::outcome::Warmup>,
}

/// The generator's binary: next to this one (or one level up, from a test
/// binary in `target/<profile>/deps`).
fn loadgen_binary() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe().context("locate the running binary")?;
    let dir = exe
        .parent()
        .context("the running binary has no directory")?;
    [dir.join("threadloop-loadgen"), dir.join("../threadloop-loadgen")]
        .into_iter()
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "threadloop-loadgen is not next to {} (build the workspace: `cargo build --release --workspace`)",
                exe.display()
            )
        })
}

/// Kills the generator if the cell gives up on it (it also dies with the cell).
struct Generator(Child);

impl Drop for Generator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `memory` reads the server process's kernel memory (its cell's cgroup).
pub fn run(
    cell: &Cell,
    job: Job,
    counters: &Arc<CellCounters>,
    memory: &Meter,
) -> anyhow::Result<Driven> {
    let connections = match cell.load {
        Load::Closed { concurrency } => concurrency,
        Load::Open { .. } => cell.max_in_flight.min(super::loadgen::MAX_OPEN_CONNECTIONS),
    };
    // The server holds one socket per connection too.
    raise_fd_limit(connections as u64).context("the server's side")?;
    let (model, addr) = crate::models::start_http(cell, job, counters, super::LOOPBACK)?;
    let server = Server(model.process());
    std::thread::sleep(Duration::from_millis(20));
    let idle = server.status();
    let kernel_idle = memory.read();

    let mut command = Command::new(loadgen_binary()?);
    command.arg("--target").arg(addr.to_string());
    if let Some(pid) = server.0 {
        command.arg("--server-pid").arg(pid.to_string());
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The generator dies with the cell, however the cell ends.
    crate::child::dies_with_parent(&mut command);
    crate::child::unmeasured(&mut command);
    let mut child = Generator(command.spawn().context("start threadloop-loadgen")?);
    let mut stdin = child.0.stdin.take().context("the generator's stdin")?;
    stdin.write_all(serde_json::to_string(cell)?.as_bytes())?;
    drop(stdin);
    let stdout = child.0.stdout.take().context("the generator's stdout")?;
    let mut stderr = child.0.stderr.take().context("the generator's stderr")?;
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Lines from the generator, read on a thread so a hung generator
    // cannot hang the cell.
    let (tx, lines) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let why = |child: &mut Generator, errors: std::thread::JoinHandle<String>, what: &str| {
        let _ = child.0.kill();
        let _ = child.0.wait();
        let log = errors.join().unwrap_or_default();
        let cause = log
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim_start_matches("threadloop-loadgen error: ")
            .to_string();
        anyhow::anyhow!("the HTTP load generator {what}: {cause}")
    };
    let setup = SETUP_LIMIT + Duration::from_secs_f64(super::settle::max_warmup_s(cell));
    let window = match lines.recv_timeout(setup) {
        Ok(Ok(line)) => parse_window(&line)?,
        _ => return Err(why(&mut child, errors, "did not start its window")),
    };
    counters.set_window(window);
    let lag = Arc::new(LagRecorder::new(window));
    model.start_probe(lag.clone());

    let (usage, peak, kernel_peak) = sample_window(server, window, memory);
    let end_status = server.status();
    let kernel_at_end = memory.read();
    let limit = Duration::from_millis(cell.timeout_ms).max(Duration::from_secs(10));
    let report: WireReport = match lines.recv_timeout(limit) {
        Ok(Ok(line)) => serde_json::from_str(&line).context("read the generator's report")?,
        _ => return Err(why(&mut child, errors, "did not report")),
    };
    let status = child.0.wait()?;
    anyhow::ensure!(
        status.success(),
        "the HTTP load generator exited with {status}"
    );
    let classes = report.class_tallies()?;
    let (stack, mut notes) = model.stack_report();
    if let Some(e) = &report.first_error {
        notes.push(format!("the first failed request over HTTP: {e}"));
    }
    let send_lag = crate::run::decode_histogram(&report.send_lag)?;
    if let (Load::Open { .. }, false) = (cell.load, send_lag.is_empty()) {
        let p99_ms = send_lag.value_at_quantile(0.99) as f64 / 1e3;
        if p99_ms > 1.0 {
            notes.push(format!(
                "the HTTP generator sent 1% of its requests over {p99_ms:.1} ms after their \
                 intended time (its own lag, counted in their latency): it may be a bottleneck"
            ));
        }
    }
    Ok(Driven {
        result: LoadResult {
            classes,
            tallies: report.tallies,
            latency: crate::run::decode_histogram(&report.latency)?,
            // The server's own time comes from its Server-Timing header;
            // the thread CPU time of the work is the server's alone to know.
            queue_wait: crate::run::decode_histogram(&report.queue_wait)?,
            cpu: new_histogram(),
            cpu_used: Duration::ZERO,
            cpu_asked: Duration::ZERO,
            service: crate::run::decode_histogram(&report.service)?,
            window,
            usage,
            generator_usage: report.generator,
            threads_peak: peak.threads.max(end_status.threads),
            rss_peak_in_window: peak.rss_bytes.max(end_status.rss_bytes),
            rss_at_window_end: end_status.rss_bytes,
            vm_peak_in_window: peak.vm_bytes.max(end_status.vm_bytes),
            kernel_peak_in_window: kernel_peak.max_by_total(kernel_at_end),
        },
        model,
        lag,
        idle,
        kernel_idle,
        notes,
        stack,
        warmup: report.warmup,
    })
}

fn parse_window(line: &str) -> anyhow::Result<Window> {
    let mut parts = line.split_whitespace();
    let (Some("window"), Some(start), Some(end)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("the HTTP load generator said {line:?}, expected `window START END`");
    };
    Ok(Window {
        start: instant_of(start.parse()?),
        end: instant_of(end.parse()?),
    })
}

/// The server's process: this one, or a foreign stack's (its pid).
#[derive(Clone, Copy)]
struct Server(Option<u32>);

impl Server {
    fn status(self) -> ProcStatus {
        self.0.map_or_else(ProcStatus::read, ProcStatus::of_pid)
    }

    fn usage(self) -> Usage {
        self.0.map_or_else(Usage::process, Usage::of_pid)
    }
}

/// The server's process over the window: its CPU and context switches, and
/// its peak threads, RSS and kernel memory sampled every [`SAMPLE_EVERY`].
fn sample_window(
    server: Server,
    window: Window,
    memory: &Meter,
) -> (Usage, ProcStatus, KernelMemory) {
    let now = Instant::now();
    if window.start > now {
        std::thread::sleep(window.start - now);
    }
    let at_start = server.usage();
    let (mut peak, mut kernel) = (ProcStatus::default(), KernelMemory::default());
    loop {
        peak = peak.peak(server.status());
        kernel = kernel.max_by_total(memory.read());
        let now = Instant::now();
        if now >= window.end {
            break;
        }
        std::thread::sleep(SAMPLE_EVERY.min(window.end - now));
    }
    (server.usage().since(&at_start), peak, kernel)
}
