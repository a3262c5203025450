//! `report compare BASE NEW`: per cell (matched on experiment + cell id),
//! the change in median throughput and p99 latency, significant when the
//! two bootstrap CIs are disjoint (both runs need ≥ 2 ok repetitions of the
//! cell). A significant regression beyond `--fail-on-regression PCT` fails
//! the gate.

use crate::charts::model_hex;
use crate::error::{ReportError, Result};
use crate::html::{fmt_estimate, render_page};
use crate::report::{report_dir, write, Analysis};
use crate::stats::{Cell, Estimate};
use crate::summary::md;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Change of one metric of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub base: Option<Estimate>,
    pub new: Option<Estimate>,
    /// (new − base) / base × 100.
    pub change_pct: Option<f64>,
    /// CIs disjoint (and ≥ 2 repetitions on both sides).
    pub significant: bool,
    /// Significant and in the bad direction.
    pub regression: bool,
}

impl Change {
    fn of(base: &Cell, new: &Cell, metric: &str, higher_is_better: bool) -> Change {
        let b = base.estimate(metric);
        let n = new.estimate(metric);
        let (change_pct, significant) = match (&b, &n) {
            (Some(b), Some(n)) => {
                let pct = (b.median != 0.0).then(|| (n.median - b.median) / b.median.abs() * 100.0);
                let disjoint = b.ci_hi < n.ci_lo || n.ci_hi < b.ci_lo;
                (pct, disjoint && b.n >= 2 && n.n >= 2)
            }
            _ => (None, false),
        };
        let worse = change_pct.is_some_and(|p| if higher_is_better { p < 0.0 } else { p > 0.0 });
        Change {
            base: b,
            new: n,
            change_pct,
            significant,
            regression: significant && worse,
        }
    }
    /// Regression larger than `pct` percent.
    pub fn exceeds(&self, pct: f64) -> bool {
        self.regression && self.change_pct.is_some_and(|p| p.abs() > pct)
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
}

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base_id: String,
    pub new_id: String,
    pub rows: Vec<CompareRow>,
    /// `experiment/cell` present in only one run.
    pub unmatched: Vec<String>,
    pub fail_on_regression_pct: Option<f64>,
}

/// Compares the cells two runs have in common.
pub fn compare(base: &Analysis, new: &Analysis, fail_on_regression_pct: Option<f64>) -> Comparison {
    let key = |c: &Cell| format!("{}/{}", c.experiment, c.cell);
    let mut rows = Vec::new();
    let mut unmatched = Vec::new();
    for n in &new.cells {
        match base
            .cells
            .iter()
            .find(|b| b.experiment == n.experiment && b.cell == n.cell)
        {
            Some(b) => rows.push(CompareRow {
                experiment: n.experiment.clone(),
                cell: n.cell.clone(),
                model: n.model.clone(),
                throughput: Change::of(b, n, "throughput_rps", true),
                p99: Change::of(b, n, "latency_p99_ms", false),
            }),
            None => unmatched.push(key(n)),
        }
    }
    for b in &base.cells {
        if !new
            .cells
            .iter()
            .any(|n| n.experiment == b.experiment && n.cell == b.cell)
        {
            unmatched.push(key(b));
        }
    }
    Comparison {
        base_id: base.run.run_id.clone(),
        new_id: new.run.run_id.clone(),
        rows,
        unmatched,
        fail_on_regression_pct,
    }
}

fn fmt_change(c: &Change) -> String {
    match c.change_pct {
        Some(p) => format!("{:+.1}%{}", p, if c.significant { " *" } else { "" }),
        None => "–".into(),
    }
}

impl CompareRow {
    fn status(&self, pct: Option<f64>) -> String {
        let gate = |c: &Change| pct.is_some_and(|p| c.exceeds(p));
        let mut parts = Vec::new();
        for (name, c) in [("throughput", &self.throughput), ("p99", &self.p99)] {
            if gate(c) {
                parts.push(format!(
                    "REGRESSION {name} (beyond {}%)",
                    pct.unwrap_or(0.0)
                ));
            } else if c.regression {
                parts.push(format!("regression {name}"));
            } else if c.significant {
                parts.push(format!("improved {name}"));
            }
        }
        if parts.is_empty() {
            "no significant change".into()
        } else {
            parts.join(", ")
        }
    }
}

impl Comparison {
    /// Rows whose significant regression exceeds the gate's percentage.
    pub fn failing(&self) -> Vec<&CompareRow> {
        let Some(pct) = self.fail_on_regression_pct else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter(|r| r.throughput.exceeds(pct) || r.p99.exceeds(pct))
            .collect()
    }

    /// Significant regressions of any size.
    pub fn regressions(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.throughput.regression || r.p99.regression)
            .collect()
    }

    fn headline(&self) -> String {
        let regs = self.regressions().len();
        let failing = self.failing().len();
        let mut s = format!(
            "{} cells compared, {} with a significant regression",
            self.rows.len(),
            regs
        );
        if let Some(p) = self.fail_on_regression_pct {
            s.push_str(&format!(", {failing} beyond the {p}% gate"));
        }
        s.push_str(
            ". `*` marks a significant change (bootstrap 95% CIs disjoint, ≥ 2 repetitions each).",
        );
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
                r.status(self.fail_on_regression_pct)
            ));
        }
        if !self.unmatched.is_empty() {
            out.push_str(&format!(
                "\nIn only one run: {}\n",
                md(&self.unmatched.join(", "))
            ));
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
                    status: r.status(self.fail_on_regression_pct),
                    regression: r.throughput.regression || r.p99.regression,
                })
                .collect(),
            unmatched: self.unmatched.clone(),
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
