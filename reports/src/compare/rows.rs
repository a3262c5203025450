//! The comparison's plain data: a row per cell present in both runs
//! ([`CompareRow`]), what a rerun made of it ([`Recheck`]), and the whole
//! [`Comparison`] with the questions the gate asks of it (what fails, what
//! to rerun).

use super::judge::{RatioCheck, Thresholds};
use super::noise::median_or_none;
use crate::stats::MeasuredCell;
use serde::Serialize;
use std::collections::BTreeSet;

/// A cell's repetitions in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repetitions {
    pub ok: usize,
    /// Repetitions with status `failed` (crashed, killed, hung).
    pub failed: usize,
    /// Every repetition was `skipped` (beyond the machine's thread limits).
    pub skipped: bool,
    /// The first failed or skipped repetition's reason.
    pub error: Option<String>,
}

impl Repetitions {
    pub fn of(cell: &MeasuredCell) -> Repetitions {
        // A cell is skipped as a whole (the runner decides per cell, before
        // starting it); then its first row is a skipped one.
        let skipped = cell.ok_repetitions == 0
            && cell.first_row.status() == Some(threadloop_vocab::Status::Skipped);
        Repetitions {
            ok: cell.ok_repetitions,
            failed: if skipped { 0 } else { cell.failures.len() },
            skipped,
            error: cell.failures.first().map(|f| f.error.clone()),
        }
    }

    /// Fails in NEW (`self`) but was ok in `base`: a failed repetition
    /// where BASE had none, or no ok repetition left where BASE had one.
    pub fn newly_failed(&self, base: &Repetitions) -> bool {
        self.failed > 0 && base.ok > 0 && (base.failed == 0 || self.ok == 0)
    }
}

/// A metric's median in each run and its change, reported only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Info {
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// (new / base − 1) × 100.
    pub change_pct: Option<f64>,
}

impl Info {
    pub fn of(b: &MeasuredCell, n: &MeasuredCell, metric: &str) -> Info {
        let base = median_or_none(&b.raw(metric));
        let new = median_or_none(&n.raw(metric));
        let change_pct = match (base, new) {
            (Some(b), Some(n)) if b != 0.0 => Some((n / b - 1.0) * 100.0),
            _ => None,
        };
        Info {
            base,
            new,
            change_pct,
        }
    }
}

/// One cell present in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    pub throughput: RatioCheck,
    pub p50: RatioCheck,
    /// Reported only.
    pub fidelity: Info,
    pub throughput_rps: Info,
    pub p99_ms: Info,
    pub base_repetitions: Repetitions,
    pub new_repetitions: Repetitions,
    /// Fails in NEW but was ok in BASE ([`Repetitions::newly_failed`]).
    pub newly_failed: bool,
    /// What a rerun made of a failing row ([`Comparison::recheck`]).
    pub recheck: Option<Recheck>,
}

/// A failing row judged again against a rerun of its experiment
/// (`report compare --recheck RERUN`, `report gate`).
///
/// One repetition of a 1-second window is at the mercy of the machine:
/// another process taking a core for 100 ms, a PostgreSQL checkpoint. Such a
/// hiccup is rare and short, a regression in the code is neither, so a
/// failure counts only when the rerun (every cell of the experiment, several
/// rounds, the gate's median over them) fails the same way.
#[derive(Debug, Clone, Serialize)]
pub struct Recheck {
    /// The rerun's run id.
    pub run_id: String,
    /// The cell's ok repetitions in the rerun (0: absent or all failed).
    pub repetitions: usize,
    /// The rerun's change of each gated ratio against BASE.
    pub throughput_change_pct: Option<f64>,
    pub p50_change_pct: Option<f64>,
    /// The rerun fails too (or lacks the cell): the failure stands.
    pub confirmed: bool,
}

impl CompareRow {
    pub fn checks(&self) -> [&RatioCheck; 2] {
        [&self.throughput, &self.p50]
    }

    /// A gated ratio moved beyond the threshold, or the cell newly fails,
    /// and a rerun, if any, confirmed it.
    pub fn fails(&self) -> bool {
        self.fails_once() && self.recheck.as_ref().is_none_or(|r| r.confirmed)
    }

    /// The failure as NEW alone shows it, before any rerun.
    pub fn fails_once(&self) -> bool {
        self.newly_failed || self.throughput.regression || self.p50.regression
    }

    /// At least one of its ratios is gated.
    pub fn gated(&self) -> bool {
        self.checks().iter().any(|c| c.gated())
    }

    /// Failing, and a rerun may clear it: it fails on a ratio only. A cell
    /// that newly fails (crashed, hung, errors) fails the gate however a
    /// rerun goes: a failure that comes and goes is a bug, not noise.
    fn recheckable(&self) -> bool {
        self.fails() && !self.newly_failed
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base_id: String,
    pub new_id: String,
    pub rows: Vec<CompareRow>,
    /// `experiment/cell` present in BASE only (reported, never a failure).
    pub only_in_base: Vec<String>,
    /// `experiment/cell` present in NEW only (reported, never a failure).
    pub only_in_new: Vec<String>,
    /// `--fail-on-regression`: without it nothing fails.
    pub fail_on_regression_pct: Option<f64>,
    pub thresholds: Thresholds,
}

impl Comparison {
    /// Rows that fail the gate (empty without `--fail-on-regression`).
    pub fn failing(&self) -> Vec<&CompareRow> {
        if self.fail_on_regression_pct.is_none() {
            return Vec::new();
        }
        self.rows.iter().filter(|r| r.fails()).collect()
    }

    /// Rows with a gated ratio beyond the threshold (with or without the
    /// gate switched on).
    pub fn regressions(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.throughput.regression || r.p50.regression)
            .collect()
    }

    /// Cells that fail in NEW but were ok in BASE.
    pub fn newly_failed(&self) -> Vec<&CompareRow> {
        self.rows.iter().filter(|r| r.newly_failed).collect()
    }

    /// Rows with at least one gated ratio.
    pub fn gated(&self) -> Vec<&CompareRow> {
        self.rows.iter().filter(|r| r.gated()).collect()
    }

    /// Rows that failed in NEW but passed on the rerun.
    pub fn not_reproduced(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.recheck.as_ref().is_some_and(|c| !c.confirmed))
            .collect()
    }

    /// The experiments with a failing row a rerun may clear (one failing
    /// on a ratio only), each once, sorted: what to rerun.
    pub fn failing_experiments(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .failing()
            .into_iter()
            .filter(|r| r.recheckable())
            .map(|r| r.experiment.as_str())
            .collect();
        set.into_iter().collect()
    }

    /// Judges each row failing on a ratio again from `rerun`, the
    /// comparison of BASE with a rerun of those rows' experiments
    /// ([`Recheck`]): a failure stands where the rerun lacks the cell, the
    /// cell fails there, or a ratio that failed moves the bad way beyond the
    /// threshold again. The rerun's own rounds are not asked to show the
    /// ratio steady: the ratio was gated on BASE and NEW, the rerun only
    /// says whether the move lasts.
    pub fn recheck(&mut self, rerun: &Comparison) {
        let t = &self.thresholds;
        let again_fails = |row: &CompareRow, a: &CompareRow| {
            a.newly_failed
                || (row.throughput.regression && a.throughput.moved_beyond(t))
                || (row.p50.regression && a.p50.moved_beyond(t))
        };
        for row in self.rows.iter_mut().filter(|r| r.recheckable()) {
            let again = rerun
                .rows
                .iter()
                .find(|r| r.experiment == row.experiment && r.cell == row.cell);
            row.recheck = Some(Recheck {
                run_id: rerun.new_id.clone(),
                repetitions: again.map_or(0, |r| r.new_repetitions.ok),
                throughput_change_pct: again.and_then(|r| r.throughput.change_pct),
                p50_change_pct: again.and_then(|r| r.p50.change_pct),
                confirmed: again.is_none_or(|a| again_fails(row, a)),
            });
        }
    }
}
