//! `report compare BASE NEW`: per cell (matched on experiment + cell id),
//! the change in median throughput and p99 latency, and the gate
//! `--fail-on-regression PCT` that CI runs against a committed baseline.
//!
//! How a change is judged, per metric (the [`Basis`]):
//! - **n ≥ 2 on both sides** (ok repetitions with a value): the bootstrap
//!   95% CIs of the two medians. Disjoint CIs make the change *significant*
//!   (`*`); a significant change in the bad direction (throughput down, p99
//!   up) is a *regression*, and one larger than PCT fails the gate.
//! - **n = 1 on either side** (a smoke run has one repetition per cell): no
//!   CI exists, so nothing is called significant. The two point estimates
//!   are compared instead: a change in the bad direction larger than PCT
//!   fails the gate, and the row says `point estimate (n=1)`. PCT stands in
//!   for the noise band one repetition cannot measure, so a gate on n = 1
//!   runs should be wide (a throughput drop cannot exceed 100%).
//! - **no value on a side**: no change is computed.
//!
//! A cell that fails in NEW (a repetition with status `failed`) while BASE
//! had it ok (no failed repetition), or that has no ok repetition left in
//! NEW while BASE had one, is a regression of any size: it fails any gate.
//! A cell skipped in NEW (beyond the machine's thread limits) is reported,
//! not failed. Cells present in only one of the runs are listed and
//! never fail the gate. Without `--fail-on-regression` nothing fails.

use crate::charts::model_hex;
use crate::error::{ReportError, Result};
use crate::html::{fmt_estimate, render_page};
use crate::report::{report_dir, write, Analysis};
use crate::stats::{Cell, Estimate};
use crate::summary::md;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a [`Change`] was judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Both runs have ≥ 2 values: bootstrap 95% CIs of the medians.
    ConfidenceIntervals,
    /// A run has a single value (n = 1): the two point estimates.
    PointEstimate,
    /// A run has no value for the metric: nothing to compare.
    Missing,
}

/// Change of one metric of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub base: Option<Estimate>,
    pub new: Option<Estimate>,
    /// (new − base) / base × 100, on the medians.
    pub change_pct: Option<f64>,
    pub basis: Basis,
    /// CIs disjoint (only on [`Basis::ConfidenceIntervals`]).
    pub significant: bool,
    /// The change goes the bad way (throughput down, latency up), of any
    /// size and on any basis.
    pub worse: bool,
    /// Significant and in the bad direction.
    pub regression: bool,
}

/// p99 changes smaller than this (ms) never count as a regression.
pub const P99_FLOOR_MS: f64 = 10.0;

impl Change {
    fn of(base: &Cell, new: &Cell, metric: &str, higher_is_better: bool) -> Change {
        Change::between(
            base.estimate(metric),
            new.estimate(metric),
            higher_is_better,
        )
    }

    /// The change from `base` to `new`; `higher_is_better` sets the bad
    /// direction.
    pub fn between(b: Option<Estimate>, n: Option<Estimate>, higher_is_better: bool) -> Change {
        let (change_pct, basis, significant) = match (&b, &n) {
            (Some(b), Some(n)) => {
                let pct = (b.median != 0.0).then(|| (n.median - b.median) / b.median.abs() * 100.0);
                if b.n >= 2 && n.n >= 2 {
                    let disjoint = b.ci_hi < n.ci_lo || n.ci_hi < b.ci_lo;
                    (pct, Basis::ConfidenceIntervals, disjoint)
                } else {
                    (pct, Basis::PointEstimate, false)
                }
            }
            _ => (None, Basis::Missing, false),
        };
        let worse = change_pct.is_some_and(|p| if higher_is_better { p < 0.0 } else { p > 0.0 });
        Change {
            base: b,
            new: n,
            change_pct,
            basis,
            significant,
            worse,
            regression: significant && worse,
        }
    }

    /// Changes smaller than `floor` (in the metric's unit) are never worse:
    /// a 3 ms p99 that doubles on a shared machine is scheduling noise, not
    /// a regression of the harness.
    fn with_floor(mut self, floor: f64) -> Change {
        if let (Some(b), Some(n)) = (&self.base, &self.new) {
            if (n.median - b.median).abs() < floor {
                self.worse = false;
                self.regression = false;
            }
        }
        self
    }

    /// The change fails a gate of `pct` percent: a significant regression
    /// larger than `pct` (n ≥ 2), or a change in the bad direction larger
    /// than `pct` between point estimates (n = 1).
    pub fn exceeds(&self, pct: f64) -> bool {
        let big = self.change_pct.is_some_and(|p| p.abs() > pct);
        match self.basis {
            Basis::ConfidenceIntervals => self.regression && big,
            Basis::PointEstimate => self.worse && big,
            Basis::Missing => false,
        }
    }
}

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
    fn of(cell: &Cell) -> Repetitions {
        // A cell is skipped as a whole (the runner decides per cell, before
        // starting it); then its first row is a skipped one.
        let skipped = cell.ok_repetitions == 0 && cell.first_row.str("status") == Some("skipped");
        Repetitions {
            ok: cell.ok_repetitions,
            failed: if skipped { 0 } else { cell.failures.len() },
            skipped,
            error: cell.failures.first().map(|f| f.error.clone()),
        }
    }
}

/// One matched cell.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    pub throughput: Change,
    pub p99: Change,
    pub base_repetitions: Repetitions,
    pub new_repetitions: Repetitions,
    /// Fails in NEW but was ok in BASE: a failed repetition where BASE had
    /// none, or no ok repetition left where BASE had one.
    pub newly_failed: bool,
}

impl CompareRow {
    fn of(b: &Cell, n: &Cell) -> CompareRow {
        let base_repetitions = Repetitions::of(b);
        let new_repetitions = Repetitions::of(n);
        let newly_failed = new_repetitions.failed > 0
            && base_repetitions.ok > 0
            && (base_repetitions.failed == 0 || new_repetitions.ok == 0);
        CompareRow {
            experiment: n.experiment.clone(),
            cell: n.cell.clone(),
            model: n.model.clone(),
            throughput: Change::of(b, n, "throughput_rps", true),
            p99: Change::of(b, n, "latency_p99_ms", false).with_floor(P99_FLOOR_MS),
            base_repetitions,
            new_repetitions,
            newly_failed,
        }
    }

    /// At least one metric was judged on point estimates (n = 1).
    pub fn point_estimate(&self) -> bool {
        self.throughput.basis == Basis::PointEstimate || self.p99.basis == Basis::PointEstimate
    }

    /// The row fails a gate of `pct` percent.
    pub fn fails(&self, pct: f64) -> bool {
        self.newly_failed || self.throughput.exceeds(pct) || self.p99.exceeds(pct)
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
    pub fail_on_regression_pct: Option<f64>,
}

/// Compares the cells two runs have in common.
pub fn compare(base: &Analysis, new: &Analysis, fail_on_regression_pct: Option<f64>) -> Comparison {
    let key = |c: &Cell| format!("{}/{}", c.experiment, c.cell);
    let mut rows = Vec::new();
    let mut only_in_new = Vec::new();
    for n in &new.cells {
        match base
            .cells
            .iter()
            .find(|b| b.experiment == n.experiment && b.cell == n.cell)
        {
            Some(b) => rows.push(CompareRow::of(b, n)),
            None => only_in_new.push(key(n)),
        }
    }
    let only_in_base = base
        .cells
        .iter()
        .filter(|b| {
            !new.cells
                .iter()
                .any(|n| n.experiment == b.experiment && n.cell == b.cell)
        })
        .map(key)
        .collect();
    Comparison {
        base_id: base.run.run_id.clone(),
        new_id: new.run.run_id.clone(),
        rows,
        only_in_base,
        only_in_new,
        fail_on_regression_pct,
    }
}

fn fmt_change(c: &Change) -> String {
    match c.change_pct {
        Some(p) => format!("{:+.1}%{}", p, if c.significant { " *" } else { "" }),
        None => "–".into(),
    }
}

/// A reason, short enough for a table cell.
fn short(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl CompareRow {
    fn status(&self, pct: Option<f64>) -> String {
        let mut parts = Vec::new();
        let (b, n) = (&self.base_repetitions, &self.new_repetitions);
        if self.newly_failed {
            parts.push(format!(
                "FAILED in NEW ({} of {} repetitions: {})",
                n.failed,
                n.failed + n.ok,
                short(n.error.as_deref().unwrap_or("no reason recorded"))
            ));
        } else if n.skipped && !b.skipped {
            parts.push(format!(
                "skipped in NEW ({})",
                short(n.error.as_deref().unwrap_or("no reason recorded"))
            ));
        } else if b.ok == 0 && n.ok > 0 {
            parts.push(
                if b.skipped {
                    "skipped in BASE"
                } else {
                    "failed in BASE"
                }
                .into(),
            );
        }
        for (name, c) in [("throughput", &self.throughput), ("p99", &self.p99)] {
            if let Some(p) = pct.filter(|&p| c.exceeds(p)) {
                parts.push(format!("REGRESSION {name} (beyond {p}%)"));
            } else if c.regression {
                parts.push(format!("regression {name}"));
            } else if c.significant {
                parts.push(format!("improved {name}"));
            }
        }
        if self.point_estimate() {
            parts.push("point estimate (n=1)".into());
        }
        if parts.is_empty() {
            "no significant change".into()
        } else {
            parts.join(", ")
        }
    }
}

impl Comparison {
    /// Rows that fail the gate: a regression beyond its percentage (see
    /// [`Change::exceeds`]) or a cell newly failed in NEW. Empty without a
    /// gate.
    pub fn failing(&self) -> Vec<&CompareRow> {
        let Some(pct) = self.fail_on_regression_pct else {
            return Vec::new();
        };
        self.rows.iter().filter(|r| r.fails(pct)).collect()
    }

    /// Significant regressions of any size (n ≥ 2 on both sides).
    pub fn regressions(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.throughput.regression || r.p99.regression)
            .collect()
    }

    /// Cells that fail in NEW but were ok in BASE.
    pub fn newly_failed(&self) -> Vec<&CompareRow> {
        self.rows.iter().filter(|r| r.newly_failed).collect()
    }

    fn headline(&self) -> String {
        let mut s = format!(
            "{} cells compared, {} with a significant regression",
            self.rows.len(),
            self.regressions().len()
        );
        let point = self.rows.iter().filter(|r| r.point_estimate()).count();
        if point > 0 {
            s.push_str(&format!(", {point} on point estimates (n=1)"));
        }
        let failed = self.newly_failed().len();
        if failed > 0 {
            s.push_str(&format!(", {failed} failed in NEW only"));
        }
        let unmatched = self.only_in_base.len() + self.only_in_new.len();
        if unmatched > 0 {
            s.push_str(&format!(", {unmatched} in only one run"));
        }
        if let Some(p) = self.fail_on_regression_pct {
            s.push_str(&format!(", {} failing the {p}% gate", self.failing().len()));
        }
        s.push_str(
            ". `*` marks a significant change (bootstrap 95% CIs disjoint, ≥ 2 repetitions each).",
        );
        if point > 0 {
            s.push_str(
                " A row marked point estimate (n=1) has one repetition in a run: no CI, nothing \
                 is significant, and the gate fails a change in the bad direction larger than \
                 its percentage.",
            );
        }
        s
    }

    /// The Markdown table (printed and written as `compare.md`).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# threadloop compare `{}` → `{}`\n\n{}\n\n",
            self.base_id.replace('`', "'"),
            self.new_id.replace('`', "'"),
            self.headline()
        );
        out.push_str("| experiment | cell | model | throughput base | throughput new | Δ | p99 ms base | p99 ms new | Δ | status |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                md(&r.experiment),
                md(&r.cell),
                md(&r.model),
                fmt_estimate(r.throughput.base.as_ref(), 1.0),
                fmt_estimate(r.throughput.new.as_ref(), 1.0),
                fmt_change(&r.throughput),
                fmt_estimate(r.p99.base.as_ref(), 1.0),
                fmt_estimate(r.p99.new.as_ref(), 1.0),
                fmt_change(&r.p99),
                md(&r.status(self.fail_on_regression_pct))
            ));
        }
        for (which, cells) in [("BASE", &self.only_in_base), ("NEW", &self.only_in_new)] {
            if !cells.is_empty() {
                out.push_str(&format!(
                    "\nOnly in {which} (not compared): {}\n",
                    md(&cells.join(", "))
                ));
            }
        }
        out
    }

    /// `compare.html`.
    pub fn html(&self) -> Result<String> {
        #[derive(Serialize)]
        struct Row {
            experiment: String,
            cell: String,
            model: String,
            hex: String,
            throughput_base: String,
            throughput_new: String,
            throughput_change: String,
            p99_base: String,
            p99_new: String,
            p99_change: String,
            status: String,
            regression: bool,
        }
        #[derive(Serialize)]
        struct Page {
            base_id: String,
            new_id: String,
            headline: String,
            rows: Vec<Row>,
            unmatched: Vec<String>,
        }
        let pct = self.fail_on_regression_pct;
        let page = Page {
            base_id: self.base_id.clone(),
            new_id: self.new_id.clone(),
            headline: self.headline(),
            rows: self
                .rows
                .iter()
                .map(|r| Row {
                    experiment: r.experiment.clone(),
                    cell: r.cell.clone(),
                    model: r.model.clone(),
                    hex: model_hex(&r.model),
                    throughput_base: fmt_estimate(r.throughput.base.as_ref(), 1.0),
                    throughput_new: fmt_estimate(r.throughput.new.as_ref(), 1.0),
                    throughput_change: fmt_change(&r.throughput),
                    p99_base: fmt_estimate(r.p99.base.as_ref(), 1.0),
                    p99_new: fmt_estimate(r.p99.new.as_ref(), 1.0),
                    p99_change: fmt_change(&r.p99),
                    status: r.status(pct),
                    regression: r.throughput.regression
                        || r.p99.regression
                        || pct.is_some_and(|p| r.fails(p))
                        || r.newly_failed,
                })
                .collect(),
            unmatched: self
                .only_in_base
                .iter()
                .map(|c| format!("{c} (only in BASE)"))
                .chain(
                    self.only_in_new
                        .iter()
                        .map(|c| format!("{c} (only in NEW)")),
                )
                .collect(),
        };
        render_page("compare.html", &page)
    }
}

/// Writes `compare.html` and `compare.md` into NEW's report directory
/// under `out_root`; returns their paths.
pub fn write_comparison(cmp: &Comparison, out_root: &Path) -> Result<(PathBuf, PathBuf)> {
    let dir = report_dir(out_root, &cmp.new_id);
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::io(&dir, e))?;
    let html = dir.join("compare.html");
    let mdp = dir.join("compare.md");
    write(&html, &cmp.html()?)?;
    write(&mdp, &cmp.markdown())?;
    Ok((html, mdp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(xs: &[f64]) -> Option<Estimate> {
        let pairs: Vec<(i64, f64)> = xs.iter().enumerate().map(|(i, &x)| (i as i64, x)).collect();
        Estimate::from_pairs(&pairs)
    }
    fn throughput(base: &[f64], new: &[f64]) -> Change {
        Change::between(est(base), est(new), true)
    }
    fn latency(base: &[f64], new: &[f64]) -> Change {
        Change::between(est(base), est(new), false)
    }

    #[test]
    fn n1_throughput_drop_beyond_pct_exceeds_the_gate() {
        let c = throughput(&[1000.0], &[400.0]);
        assert_eq!(c.basis, Basis::PointEstimate);
        assert!(
            !c.significant && !c.regression,
            "n = 1 is never significant"
        );
        assert!(c.worse);
        assert!((c.change_pct.unwrap() + 60.0).abs() < 1e-9);
        assert!(c.exceeds(50.0));
        assert!(
            !c.exceeds(60.0),
            "the gate is strict: a change equal to PCT passes"
        );
    }

    #[test]
    fn n1_throughput_drop_within_pct_passes() {
        let c = throughput(&[1000.0], &[800.0]);
        assert_eq!(c.basis, Basis::PointEstimate);
        assert!(c.worse);
        assert!(!c.exceeds(50.0));
        assert!(c.exceeds(10.0));
    }

    #[test]
    fn n1_only_the_bad_direction_fails() {
        // Throughput up 150%: an improvement, whatever the gate.
        assert!(!throughput(&[400.0], &[1000.0]).exceeds(50.0));
        // p99 up 70%: worse; p99 down 70%: better.
        let up = latency(&[100.0], &[170.0]);
        assert!(up.worse && up.exceeds(50.0));
        let down = latency(&[100.0], &[30.0]);
        assert!(!down.worse && !down.exceeds(50.0));
    }

    #[test]
    fn a_p99_change_under_the_floor_never_fails() {
        // 4 ms -> 9 ms is +125% but 5 ms: scheduling noise, not a regression.
        let small = latency(&[4.0], &[9.0]).with_floor(P99_FLOOR_MS);
        assert!(!small.worse && !small.exceeds(75.0));
        // 40 ms -> 90 ms: beyond the floor and the gate.
        let big = latency(&[40.0], &[90.0]).with_floor(P99_FLOOR_MS);
        assert!(big.worse && big.exceeds(75.0));
    }

    #[test]
    fn one_side_with_one_repetition_uses_point_estimates() {
        let c = throughput(&[990.0, 1000.0, 1010.0], &[400.0]);
        assert_eq!(c.basis, Basis::PointEstimate);
        assert!(!c.significant && c.exceeds(50.0));
        let c = throughput(&[1000.0], &[396.0, 400.0, 404.0]);
        assert_eq!(c.basis, Basis::PointEstimate);
        assert!(!c.significant && c.exceeds(50.0));
    }

    #[test]
    fn n2_keeps_the_confidence_interval_rule() {
        // Disjoint CIs, -60%: a significant regression beyond 50%.
        let c = throughput(&[990.0, 1000.0, 1010.0], &[396.0, 400.0, 404.0]);
        assert_eq!(c.basis, Basis::ConfidenceIntervals);
        assert!(c.significant && c.regression && c.exceeds(50.0));
        assert!(!c.exceeds(60.0));
        // The median drops 70% but one repetition kept the old value: the
        // CIs overlap, so not significant, and the gate passes although the
        // point estimates alone would fail it.
        let c = throughput(&[990.0, 1000.0, 1010.0], &[297.0, 300.0, 1010.0]);
        assert_eq!(c.basis, Basis::ConfidenceIntervals);
        assert!((c.change_pct.unwrap() + 70.0).abs() < 1e-9);
        assert!(c.worse && !c.significant && !c.regression);
        assert!(!c.exceeds(50.0));
        // Two repetitions a side are enough for the CI rule.
        let c = latency(&[100.0, 101.0], &[200.0, 202.0]);
        assert_eq!(c.basis, Basis::ConfidenceIntervals);
        assert!(c.regression && c.exceeds(50.0));
    }

    #[test]
    fn a_missing_side_is_no_change() {
        let c = throughput(&[1000.0], &[]);
        assert_eq!(c.basis, Basis::Missing);
        assert_eq!(c.change_pct, None);
        assert!(!c.worse && !c.exceeds(0.0));
        // A zero base gives no percentage, so nothing to gate on.
        let c = throughput(&[0.0], &[10.0]);
        assert_eq!(c.change_pct, None);
        assert!(!c.exceeds(0.0));
    }
}
