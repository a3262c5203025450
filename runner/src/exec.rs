//! Runs one cell in a fresh child process (`threadloop-cell`): isolation,
//! honest per-cell RSS and rusage, async-std's per-process thread count, and
//! a crash or hang that costs one cell, not the run.

use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use threadloop_engine::{Cell, CellOutcome};

/// Why a cell produced no outcome.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Failed(String),
}

/// Extra wall time a cell may take beyond warm-up and window before it is
/// killed (start-up, idle settling, output).
const GRACE: Duration = Duration::from_secs(20);

/// Locates `threadloop-cell`: `THREADLOOP_CELL_BIN`, else next to the running
/// binary (or one level up, for test binaries in `target/*/deps`).
pub fn cell_binary() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("THREADLOOP_CELL_BIN") {
        return Ok(p.into());
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        let p = d.join("threadloop-cell");
        if p.is_file() {
            return Ok(p);
        }
    }
    anyhow::bail!(
        "threadloop-cell not found next to {} (build it with `cargo build --release --workspace`, or set THREADLOOP_CELL_BIN)",
        exe.display()
    )
}

pub struct Executor {
    pub binary: PathBuf,
    /// The run's PostgreSQL connection string, handed to cells through the
    /// environment (never stored with the cell).
    pub pg_url: Option<String>,
}

impl Executor {
    /// Runs `cell` and returns its outcome. Polls `interrupt` so Ctrl-C stops
    /// the child at once instead of waiting for its window to end.
    pub fn run(&self, cell: &Cell, interrupt: &AtomicBool) -> Result<CellOutcome, ExecError> {
        let input = serde_json::to_vec(cell).expect("cells serialise");
        // http cells drain their in-flight requests after the window.
        let drain = if cell.uses_http() || cell.uses_postgres() {
            Duration::from_millis(cell.timeout_ms.min(10_000) + 1_000)
        } else {
            Duration::ZERO
        };
        // A JVM's warm-up may run past `warmup_s` until the server settles.
        let warmup_s = threadloop_engine::wire::settle::max_warmup_s(cell);
        let limit = Duration::from_secs_f64(warmup_s + cell.duration_s) + drain + GRACE;
        self.child(&[], &input, limit, interrupt)
    }

    /// Runs the CPU-work calibration in a child (the same binary and
    /// optimisation the cells use).
    pub fn calibrate(&self) -> anyhow::Result<threadloop_engine::calibrate::Calibration> {
        self.child(
            &["--calibrate"],
            b"",
            Duration::from_secs(60),
            &AtomicBool::new(false),
        )
        .map_err(|e| anyhow::anyhow!("calibration failed: {e}"))
    }

    fn child<T: DeserializeOwned>(
        &self,
        args: &[&str],
        input: &[u8],
        limit: Duration,
        interrupt: &AtomicBool,
    ) -> Result<T, ExecError> {
        let threads = serde_json::from_slice::<Cell>(input)
            .ok()
            .map(|c| c.workers.unwrap_or(c.cores).max(1))
            .unwrap_or(1);
        let mut command = Command::new(&self.binary);
        if let Some(url) = &self.pg_url {
            command.env(threadloop_engine::db::URL_ENV, url);
        }
        crate::reap::die_with_runner(&mut command);
        let mut child = command
            .args(args)
            .env("ASYNC_STD_THREAD_COUNT", threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C in the terminal reaches the
            // runner, which then stops the child deliberately.
            .process_group(0)
            .spawn()
            .map_err(|e| {
                ExecError::Failed(format!("cannot start {}: {e}", self.binary.display()))
            })?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input)
            .map_err(|e| ExecError::Failed(format!("cannot send the cell to the child: {e}")))?;
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out_reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stdout.read_to_end(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            s
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(format!("waiting for the child: {e}")),
            }
            if interrupt.load(Ordering::SeqCst) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExecError::Interrupted);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "killed: still running {:.0} s after its window should have ended",
                    GRACE.as_secs_f64()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        let reason = why(&String::from_utf8_lossy(&err));
        let status = status.map_err(ExecError::Failed)?;
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            let how = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "ended abnormally".into(),
            };
            return Err(ExecError::Failed(
                format!("cell process {how}: {reason}")
                    .trim_end_matches(": ")
                    .to_string(),
            ));
        }
        serde_json::from_slice(&out).map_err(|e| {
            ExecError::Failed(format!(
                "unreadable outcome from the cell process ({e}): {reason}"
            ))
        })
    }
}

/// What a failed child said about why, its first line naming the cause: the
/// cell's `threadloop-cell error:` line (the cause chain), followed by its
/// backtrace when one was asked for (`RUST_BACKTRACE`); a panic's message;
/// else the end of its stderr.
fn why(stderr: &str) -> String {
    if let Some((cause, after)) = threadloop_engine::failure::extract(stderr) {
        return match after {
            "" => cause.to_string(),
            after => format!("{cause}\n{}", head(after, 4000)),
        };
    }
    // A panic: "thread 'main' panicked at FILE:LINE:COL:\nMESSAGE\n" (then
    // a note or a backtrace).
    if let Some(i) = stderr.find("panicked at ") {
        let start = stderr[..i].rfind('\n').map_or(0, |n| n + 1);
        let end = ["\nnote: ", "\nstack backtrace:"]
            .iter()
            .filter_map(|m| stderr[start..].find(m))
            .min()
            .map_or(stderr.len(), |n| start + n);
        let panic = stderr[start..end].split_whitespace().collect::<Vec<_>>();
        return head(&panic.join(" "), 600);
    }
    tail(stderr, 600)
}

fn head(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::why;

    #[test]
    fn the_cause_comes_first_and_a_backtrace_only_when_printed() {
        let e = "threadloop-cell error: postgres: connect to PostgreSQL at 127.0.0.1:1 (libpq): Connection refused\n";
        assert_eq!(
            why(e),
            "postgres: connect to PostgreSQL at 127.0.0.1:1 (libpq): Connection refused"
        );
        let with_bt = format!("{e}Stack backtrace:\n   0: main\n");
        let w = why(&with_bt);
        assert_eq!(
            w.lines().next(),
            Some("postgres: connect to PostgreSQL at 127.0.0.1:1 (libpq): Connection refused")
        );
        assert!(w.ends_with("   0: main"), "{w}");
    }

    #[test]
    fn a_panic_is_recorded_by_its_message() {
        let s = "thread 'main' panicked at engine/src/run.rs:10:5:\nboom\nstack backtrace:\n   0: x\n   1: y\n";
        assert_eq!(
            why(s),
            "thread 'main' panicked at engine/src/run.rs:10:5: boom"
        );
        let s = "thread 'main' panicked at a.rs:1:1:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(why(s), "thread 'main' panicked at a.rs:1:1: boom");
        assert_eq!(why("  killed  "), "killed");
    }
}
