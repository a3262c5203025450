//! `runner run`'s progress: an indicatif bar when standard error is a
//! terminal; otherwise (CI, `| tee`, a log file) one line per finished
//! execution, cargo-style:
//!
//! ```text
//!   [ 12/318] pool-size/threads-t200-c2000 r1 ok 1.4 s · elapsed 0:41 · ETA 12:03
//! ```
//!
//! `--quiet` silences both. Progress is counted in estimated milliseconds
//! (`plan::estimate_s`), as the bar's length and position; the ETA scales the
//! estimate left by how fast the estimates have been going.

use crate::store::CellRecord;
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

enum Mode {
    Hidden,
    Bar(ProgressBar),
    Lines,
}

pub struct Progress {
    mode: Mode,
    t0: Instant,
    /// Estimated milliseconds: all executions, and those finished.
    length: Cell<u64>,
    position: Cell<u64>,
    /// Executions: all, and those finished.
    count: Cell<usize>,
    done: Cell<usize>,
}

impl Progress {
    /// `count` executions to run, `length` their estimated milliseconds.
    pub fn new(quiet: bool, count: usize, length: u64) -> Progress {
        let mode = if quiet {
            Mode::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(length);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% ETA {eta} {msg}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        Progress {
            mode,
            t0: Instant::now(),
            length: Cell::new(length),
            position: Cell::new(0),
            count: Cell::new(count),
            done: Cell::new(0),
        }
    }

    /// What is running now (the bar's message).
    pub fn set_message(&self, msg: String) {
        if let Mode::Bar(b) = &self.mode {
            b.set_message(msg);
        }
    }

    /// One more execution to run, of `delta` estimated milliseconds.
    pub fn inc_length(&self, delta: u64) {
        self.count.set(self.count.get() + 1);
        self.length.set(self.length.get() + delta);
        if let Mode::Bar(b) = &self.mode {
            b.inc_length(delta);
        }
    }

    /// Executions finished (estimated milliseconds).
    pub fn inc(&self, delta: u64) {
        self.position.set(self.position.get() + delta);
        if let Mode::Bar(b) = &self.mode {
            b.inc(delta);
        }
    }

    /// Runs `f` (which logs) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.mode {
            Mode::Bar(b) => b.suspend(f),
            _ => f(),
        }
    }

    /// An execution finished: without a terminal, its line. Call after
    /// [`inc`](Self::inc), so the ETA counts it.
    pub fn finished(&self, record: &CellRecord) {
        self.done.set(self.done.get() + 1);
        if let Mode::Lines = self.mode {
            let (n, total) = (self.done.get(), self.count.get());
            let elapsed = self.t0.elapsed();
            let eta = eta(elapsed, self.position.get(), self.length.get());
            eprintln!(
                "{}",
                line(
                    n,
                    total,
                    &format!(
                        "{}/{} r{}",
                        record.experiment, record.cell_id, record.repetition
                    ),
                    &status(record),
                    record.wall_s,
                    elapsed,
                    eta,
                )
            );
        }
    }

    pub fn finish_and_clear(&self) {
        if let Mode::Bar(b) = &self.mode {
            b.finish_and_clear();
        }
    }
}

/// `ok`, `disturbed: the machine stalled <ms>`, `FAILED: <first line of
/// the error>` or `skipped: <reason>`.
pub fn status(record: &CellRecord) -> String {
    let first = |e: &Option<String>| {
        let l = e
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .trim();
        match l.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &l[..i]),
            None => l.to_string(),
        }
    };
    match (&record.outcome, record.skipped) {
        (Some(_), _) if record.disturbed() => format!(
            "disturbed: the machine stalled {:.0} ms (set aside, repeated)",
            record.stall_ms.unwrap_or(0.0)
        ),
        (Some(_), _) => "ok".into(),
        (None, true) => format!("skipped: {}", first(&record.error)),
        (None, false) => format!("FAILED: {}", first(&record.error)),
    }
}

/// Time left: the estimate left, at the pace the finished estimates took.
pub fn eta(elapsed: Duration, position: u64, length: u64) -> Option<Duration> {
    (position > 0)
        .then(|| elapsed.mul_f64(length.saturating_sub(position) as f64 / position as f64))
}

/// `0:41`, `12:03`, `1:02:03`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, m, s) => format!("{m}:{s:02}"),
        (h, m, s) => format!("{h}:{m:02}:{s:02}"),
    }
}

/// One finished execution: `  [ 12/318] EXP/CELL rN STATUS 1.4 s · elapsed 0:41 · ETA 12:03`.
pub fn line(
    n: usize,
    total: usize,
    label: &str,
    status: &str,
    wall_s: f64,
    elapsed: Duration,
    eta: Option<Duration>,
) -> String {
    let w = total.to_string().len();
    let eta = eta.map_or_else(|| "?".to_string(), clock);
    let (status, sep) = match status {
        "ok" => ("ok", " "),
        s => (s, " · "),
    };
    format!(
        "  [{n:>w$}/{total}] {label} {status}{sep}{wall_s:.1} s · elapsed {} · ETA {eta}",
        clock(elapsed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_reads_like_cargo() {
        let l = line(
            12,
            318,
            "pool-size/threads-t200-c2000 r1",
            "ok",
            1.43,
            Duration::from_secs(41),
            Some(Duration::from_secs(723)),
        );
        assert_eq!(
            l,
            "  [ 12/318] pool-size/threads-t200-c2000 r1 ok 1.4 s · elapsed 0:41 · ETA 12:03"
        );
        let l = line(
            318,
            318,
            "db/tokio r0",
            "FAILED: connect to PostgreSQL at 127.0.0.1:1: Connection refused",
            0.3,
            Duration::from_secs(3723),
            Some(Duration::ZERO),
        );
        assert_eq!(
            l,
            "  [318/318] db/tokio r0 FAILED: connect to PostgreSQL at 127.0.0.1:1: \
             Connection refused · 0.3 s · elapsed 1:02:03 · ETA 0:00"
        );
        assert!(line(1, 9, "a r0", "ok", 0.0, Duration::ZERO, None).ends_with("ETA ?"));
    }

    #[test]
    fn the_eta_follows_the_pace_of_the_estimates() {
        // Half the estimate done in 10 s: 10 s left.
        assert_eq!(
            eta(Duration::from_secs(10), 500, 1000),
            Some(Duration::from_secs(10))
        );
        assert_eq!(eta(Duration::from_secs(10), 0, 1000), None);
        assert_eq!(
            eta(Duration::from_secs(10), 1200, 1000),
            Some(Duration::ZERO)
        );
    }
}
