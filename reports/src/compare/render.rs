//! The gate's outputs: the Markdown table (printed and written as
//! `compare.md`) and `compare.html`, next to NEW's report.

use super::judge::{NotGated, RatioCheck};
use super::noise::Ratio;
use super::rows::{CompareRow, Comparison, Info};
use crate::error::{ReportError, Result};
use crate::load::fmt_compact;
use crate::render::charts::model_hex;
use crate::render::html::render_page;
use crate::render::{report_dir, write};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Escapes text for a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// A reason, short enough for a table cell.
fn short(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn fmt_pct(p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{p:+.1}%"),
        None => "–".into(),
    }
}

/// `0.580 (n=3, sd 1.2%)`, `0.351 (n=1)`.
fn fmt_ratio(r: Option<&Ratio>) -> String {
    match r {
        Some(r) => match r.sd_pct {
            Some(s) => format!("{:.3} (n={}, sd {s:.2}%)", r.value, r.rounds),
            None => format!("{:.3} (n={})", r.value, r.rounds),
        },
        None => "–".into(),
    }
}

fn fmt_info(i: &Info) -> String {
    let v = |x: Option<f64>| x.map(fmt_compact).unwrap_or_else(|| "–".into());
    format!("{} → {} ({})", v(i.base), v(i.new), fmt_pct(i.change_pct))
}

impl RatioCheck {
    fn base_new(&self) -> String {
        format!(
            "{} → {}",
            fmt_ratio(self.base.as_ref()),
            fmt_ratio(self.new.as_ref())
        )
    }
}

impl CompareRow {
    /// What the gate made of the row.
    pub fn status(&self, cmp: &Comparison) -> String {
        let t = &cmp.thresholds;
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
        let reasons: Vec<Option<&NotGated>> =
            self.checks().iter().map(|c| c.not_gated.as_ref()).collect();
        if reasons[0].is_some() && reasons[0] == reasons[1] {
            // One reason for both ratios: say it once.
            parts.push(format!(
                "not gated: {}",
                reasons[0].expect("checked").describe(t)
            ));
        } else {
            for c in self.checks() {
                if let Some(why) = &c.not_gated {
                    parts.push(format!(
                        "{} not gated: {}",
                        c.quantity.label(),
                        why.describe(t)
                    ));
                }
            }
        }
        for c in self.checks() {
            if c.regression {
                parts.push(format!(
                    "REGRESSION {} vs others {} (beyond {}%)",
                    c.quantity.label(),
                    fmt_pct(c.change_pct),
                    t.fail_pct
                ));
            }
        }
        if let Some(r) = &self.recheck {
            let changes = format!(
                "{} repetitions: throughput vs others {}, p50 vs others {}",
                r.repetitions,
                fmt_pct(r.throughput_change_pct),
                fmt_pct(r.p50_change_pct)
            );
            parts.push(if r.confirmed {
                format!("CONFIRMED on rerun {} ({changes})", r.run_id)
            } else {
                format!("not reproduced on rerun {} ({changes}): passes", r.run_id)
            });
        } else if self.gated() && !self.fails() {
            parts.insert(0, "pass".into());
        }
        parts.join("; ")
    }
}

impl Comparison {
    /// The summary line above the table.
    pub fn headline(&self) -> String {
        let t = &self.thresholds;
        let mut s = format!(
            "{} cells compared: {} gated",
            self.rows.len(),
            self.gated().len()
        );
        match self.fail_on_regression_pct {
            Some(p) => s.push_str(&format!(", {} failing the {p}% gate", self.failing().len())),
            None => s.push_str(&format!(
                " (classified at {}%; gate off: nothing fails), {} beyond it",
                t.fail_pct,
                self.regressions().len()
            )),
        }
        let ungated: Vec<&CompareRow> = self.rows.iter().filter(|r| !r.gated()).collect();
        if !ungated.is_empty() {
            let count = |f: fn(&NotGated) -> bool| {
                ungated
                    .iter()
                    .filter(|r| r.throughput.not_gated.as_ref().is_some_and(f))
                    .count()
            };
            let kinds = [
                (
                    count(|w| matches!(w, NotGated::NoReference)),
                    "no other model at the load point",
                ),
                (
                    count(|w| matches!(w, NotGated::OffTheory { .. })),
                    "off their theory bound in BASE",
                ),
                (
                    count(|w| matches!(w, NotGated::Queueing { .. })),
                    "queueing",
                ),
                (
                    count(|w| matches!(w, NotGated::FewRequests { .. })),
                    "few requests",
                ),
                (
                    count(|w| matches!(w, NotGated::SpreadUnknown)),
                    "spread unknown (1 repetition in each run)",
                ),
                (count(|w| matches!(w, NotGated::Noisy { .. })), "noisy"),
                (
                    count(|w| matches!(w, NotGated::NoValue { .. })),
                    "no value in a run",
                ),
            ];
            let listed: Vec<String> = kinds
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
            s.push_str(&format!(
                "; {} reported, not gated ({})",
                ungated.len(),
                listed.join(", ")
            ));
        }
        let passed_again = self.not_reproduced().len();
        if passed_again > 0 {
            s.push_str(&format!("; {passed_again} failing once but not on a rerun"));
        }
        let failed = self.newly_failed().len();
        if failed > 0 {
            s.push_str(&format!("; {failed} failed in NEW only"));
        }
        let unmatched = self.only_in_base.len() + self.only_in_new.len();
        if unmatched > 0 {
            s.push_str(&format!("; {unmatched} in only one run"));
        }
        s.push('.');
        s
    }

    /// How to read the table.
    pub fn explanation(&self) -> String {
        let t = &self.thresholds;
        format!(
            "Gated, per cell, inside each run: **throughput** = the cell's fidelity \
             (throughput / theory bound) ÷ the median fidelity at its load point (the cell \
             and the other models of the experiment with the same load factors); **p50** = \
             its p50 ÷ the same cells' median p50. Both are taken per \
             repetition round and are unchanged by a machine that is uniformly faster or \
             slower. A gated ratio fails when it moves the bad way (throughput down, p50 up) \
             by more than {pct}%. It is gated only when BASE shows the cell at its theory \
             (fidelity within {pct}% of 1; for p50 also p50 within {pct}% above I/O + CPU \
             per request; at least {min:.0} requests per window), it has such a reference \
             in both runs, and its rounds (in a run with ≥ 2) say unchanged code stays \
             inside {pct}%: {z} × the 95% upper bound of their sd × the spread of a \
             difference of medians ≤ {pct}%. Otherwise the row says why it is reported, not \
             gated. A cell ok in BASE that fails in NEW fails the gate. Fidelity, absolute \
             throughput and p99 are for reading: they depend on the machine and are never \
             gated.",
            pct = t.fail_pct,
            min = t.min_completed(),
            z = t.z
        ) + if self.rows.iter().any(|r| r.recheck.is_some()) {
            " Each row failing in NEW was judged again against a rerun of its experiment \
             (every cell, several rounds): it fails only where the rerun fails too."
        } else {
            ""
        }
    }

    /// The Markdown table (printed and written as `compare.md`).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# threadloop compare `{}` → `{}`\n\n{}\n\n{}\n\n",
            self.base_id.replace('`', "'"),
            self.new_id.replace('`', "'"),
            self.headline(),
            self.explanation()
        );
        out.push_str(
            "| experiment | cell | model | throughput vs others BASE → NEW | Δ | p50 vs others BASE → NEW | Δ | fidelity | throughput req/s | p99 ms | gate |\n\
             |---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                md(&r.experiment),
                md(&r.cell),
                md(&r.model),
                r.throughput.base_new(),
                fmt_pct(r.throughput.change_pct),
                r.p50.base_new(),
                fmt_pct(r.p50.change_pct),
                fmt_info(&r.fidelity),
                fmt_info(&r.throughput_rps),
                fmt_info(&r.p99_ms),
                md(&r.status(self))
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
            throughput: String,
            throughput_change: String,
            p50: String,
            p50_change: String,
            fidelity: String,
            throughput_rps: String,
            p99: String,
            status: String,
            fails: bool,
            gated: bool,
        }
        #[derive(Serialize)]
        struct Page {
            base_id: String,
            new_id: String,
            headline: String,
            explanation: String,
            rows: Vec<Row>,
            unmatched: Vec<String>,
        }
        let page = Page {
            base_id: self.base_id.clone(),
            new_id: self.new_id.clone(),
            headline: self.headline(),
            explanation: self.explanation().replace("**", ""),
            rows: self
                .rows
                .iter()
                .map(|r| Row {
                    experiment: r.experiment.clone(),
                    cell: r.cell.clone(),
                    model: r.model.clone(),
                    hex: model_hex(&r.model),
                    throughput: r.throughput.base_new(),
                    throughput_change: fmt_pct(r.throughput.change_pct),
                    p50: r.p50.base_new(),
                    p50_change: fmt_pct(r.p50.change_pct),
                    fidelity: fmt_info(&r.fidelity),
                    throughput_rps: fmt_info(&r.throughput_rps),
                    p99: fmt_info(&r.p99_ms),
                    status: r.status(self),
                    fails: r.fails(),
                    gated: r.gated(),
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
