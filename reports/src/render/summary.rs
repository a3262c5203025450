//! `summary.json` (one object per claim and per cell, stable field names)
//! and `summary.md` (the verdict table for CI logs and PR comments).

use crate::analysis::Analysis;
use crate::load::Value;
use crate::render::html::fmt_effect;
use crate::render::reading::{effect_words, headline};
use crate::stats::{Estimate, Failure, MeasuredCell};
use crate::verdict::{RuleOutcome, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use threadloop_vocab::schema::cols;

/// Version of the `summary.json` layout; bump on a breaking change.
pub const SCHEMA_VERSION: u32 = 2;

/// Metrics summarised per cell in `summary.json`.
pub const SUMMARY_METRICS: &[&str] = &[
    cols::throughput_rps,
    cols::latency_p50_ms,
    cols::latency_p90_ms,
    cols::latency_p99_ms,
    cols::latency_p999_ms,
    cols::queue_wait_p99_ms,
    cols::loop_lag_p99_ms,
    "rss_per_inflight_bytes",
    "ctx_per_request",
    cols::theory_throughput_rps,
    cols::fidelity,
    cols::errors,
    cols::timeouts,
];

#[derive(Debug, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub run_id: String,
    pub git_commit: Option<String>,
    pub claims: Vec<ClaimSummary>,
    pub cells: Vec<CellSummary>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct ClaimSummary {
    pub claim: String,
    pub summary: String,
    pub verdict: Verdict,
    pub experiments: Vec<String>,
    pub effect: Option<f64>,
    pub effect_ci_lo: Option<f64>,
    pub effect_ci_hi: Option<f64>,
    /// n and interval method of the deciding rule's effect.
    pub method: Option<String>,
    pub reason: Option<String>,
    pub rules: Vec<RuleOutcome>,
}

#[derive(Debug, Serialize)]
pub struct CellSummary {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    /// `ok`, `partial` (some repetitions failed) or `failed`.
    pub status: &'static str,
    pub repetitions: usize,
    pub failed_repetitions: usize,
    pub factors: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, Estimate>,
    pub notes: Vec<String>,
    pub transient: bool,
}

fn cell_summary(c: &MeasuredCell) -> CellSummary {
    CellSummary {
        experiment: c.experiment.clone(),
        cell: c.cell.clone(),
        model: c.model.clone(),
        status: match (c.ok_repetitions, c.failures.len()) {
            (0, _) => "failed",
            (_, 0) => "ok",
            _ => "partial",
        },
        repetitions: c.ok_repetitions,
        failed_repetitions: c.failures.len(),
        factors: c
            .factors
            .iter()
            .filter(|(k, _)| k.as_str() != cols::model)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        metrics: SUMMARY_METRICS
            .iter()
            .filter_map(|m| Some((m.to_string(), c.estimate(m)?)))
            .collect(),
        notes: c.notes.clone(),
        transient: c.transient,
    }
}

/// The JSON summary of an analysed run.
pub fn summary(analysis: &Analysis) -> Summary {
    Summary {
        schema_version: SCHEMA_VERSION,
        run_id: analysis.run.run_id.clone(),
        git_commit: analysis.manifest().run.git_commit.clone(),
        claims: analysis
            .claims
            .iter()
            .map(|c| ClaimSummary {
                claim: c.id.clone(),
                summary: c.summary.clone(),
                verdict: c.verdict,
                experiments: c.experiments.clone(),
                effect: c.deciding.as_ref().and_then(|r| r.effect),
                effect_ci_lo: c.deciding.as_ref().and_then(|r| r.effect_ci_lo),
                effect_ci_hi: c.deciding.as_ref().and_then(|r| r.effect_ci_hi),
                method: c.deciding.as_ref().and_then(|r| r.method.clone()),
                reason: c.reason.clone(),
                rules: analysis
                    .experiments
                    .iter()
                    .filter(|e| e.claim.as_deref() == Some(c.id.as_str()))
                    .flat_map(|e| e.rules.iter().cloned())
                    .collect(),
            })
            .collect(),
        cells: analysis.cells.iter().map(cell_summary).collect(),
        failures: analysis.failures.clone(),
    }
}

/// Escapes text for a Markdown table cell.
pub fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// Escapes text for a code span inside a Markdown table cell (entities are
/// not decoded inside code spans, so only pipes and backticks change).
pub fn md_code(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'").replace('\n', " ")
}

/// `summary.md`: the verdict table, the rules and the failed cells.
pub fn markdown(analysis: &Analysis) -> String {
    let mut out = format!(
        "# threadloop run `{}`\n\n",
        analysis.run.run_id.replace('`', "'")
    );
    out.push_str(
        "| claim | verdict | the deciding number, and what was wanted | its interval | experiments |\n|---|---|---|---|---|\n",
    );
    for c in &analysis.claims {
        let cells = |r: &RuleOutcome| {
            analysis
                .experiments
                .iter()
                .find(|e| e.name == r.experiment)
                .map(|e| analysis.experiment_cells(e))
                .unwrap_or_default()
        };
        let words = c
            .deciding
            .as_ref()
            .and_then(|r| headline(r, &cells(r)))
            .unwrap_or_else(|| "–".into());
        let interval = c
            .deciding
            .as_ref()
            .and_then(effect_words)
            .unwrap_or_else(|| "–".into());
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md(&c.id),
            c.verdict.as_str(),
            md(&words),
            md(&interval),
            if c.experiments.is_empty() {
                "–".to_string()
            } else {
                md(&c.experiments.join(", "))
            }
        ));
    }
    let rules: Vec<&RuleOutcome> = analysis.experiments.iter().flat_map(|e| &e.rules).collect();
    if !rules.is_empty() {
        out.push_str("\n## Rules\n\n| experiment | rule | formal | verdict | effect (95% CI) |\n|---|---|---|---|---|\n");
        for r in rules {
            let mut verdict = r.verdict.as_str().to_string();
            if let Some(reason) = &r.reason {
                verdict = format!("{verdict} ({reason})");
            }
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} |\n",
                md(&r.experiment),
                md(&r.text),
                md_code(&r.formal),
                md(&verdict),
                md(&fmt_effect(Some(r)))
            ));
        }
    }
    if !analysis.failures.is_empty() {
        out.push_str(&format!(
            "\n## Failed cells ({})\n\n| experiment | cell | rep. | error |\n|---|---|---|---|\n",
            analysis.failures.len()
        ));
        for f in &analysis.failures {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md(&f.experiment),
                md(&f.cell),
                f.repetition,
                md(&f.error)
            ));
        }
    }
    out
}
