//! The HTML pages: tera templates embedded with `include_str!` and
//! registered in one `add_raw_templates` call (so `extends` resolves in any
//! order). Autoescape is on for `.html`; only generated SVG is `| safe`.

use crate::analysis::{Analysis, Experiment};
use crate::error::Result;
use crate::load::fmt_compact;
use crate::render::charts::headline::{
    check_tokens, fmt_value, headline, render_headline, CheckState,
};
use crate::render::charts::{experiment_charts, model_hex, ChartOut};
use crate::render::environment::{environment, kv, Environment, KeyValue};
use crate::render::reading::{effect_words, headline as headline_words, worst_check};
use crate::render::remedies::{remedy_lines, RemedyLine};
use crate::render::side_by_side::{side_by_side, SideVerdicts};
use crate::render::undecided::{undecided, Undecided};
use crate::render::{anchor, slug};
use crate::stats::{in_model_order, table_factors, Estimate, Failure, MeasuredCell};
use crate::verdict::RuleOutcome;
use serde::Serialize;
use tera::{Context, Tera};
use threadloop_vocab::schema::cols;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("compare.html", include_str!("templates/compare.html")),
];

/// The template set, autoescaping `.html`.
pub fn templates() -> Result<Tera> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    tera.autoescape_on(vec![".html"]);
    Ok(tera)
}

/// The mean with its 95% t interval and n, `1234 [1200, 1250] n=3`; one
/// repetition prints the value and `n=1`, never an interval.
pub fn fmt_estimate(e: Option<&Estimate>, scale: f64) -> String {
    match e {
        Some(e) => match (e.ci_lo, e.ci_hi) {
            (Some(lo), Some(hi)) => format!(
                "{} [{}, {}] n={}",
                fmt_compact(e.mean * scale),
                fmt_compact(lo * scale),
                fmt_compact(hi * scale),
                e.n
            ),
            _ => format!("{} n={}", fmt_compact(e.mean * scale), e.n),
        },
        None => "–".into(),
    }
}

/// `12.3%`.
pub fn fmt_pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// Effect of a rule with its interval and how it was made:
/// `3.05× [2.90, 3.20] (n = 3 vs 3, Welch t on logs (df 3.8))`, or
/// `9.99× (n = 2 vs 1: no interval)` (a ratio is marked `×`).
pub fn fmt_effect(r: Option<&RuleOutcome>) -> String {
    let Some(r) = r else { return "–".into() };
    let Some(v) = r.effect else {
        return "–".into();
    };
    let ratio = r.checks.iter().any(|c| c.baseline_cell.is_some());
    let x = if ratio { "×" } else { "" };
    let method = r.method.as_deref().unwrap_or("no interval");
    match (r.effect_ci_lo, r.effect_ci_hi) {
        (Some(lo), Some(hi)) => {
            format!(
                "{}{x} [{}, {}] ({method})",
                fmt_compact(v),
                fmt_compact(lo),
                fmt_compact(hi)
            )
        }
        _ => format!("{}{x} ({method})", fmt_compact(v)),
    }
}

#[derive(Serialize)]
struct Link {
    anchor: String,
    name: String,
}

#[derive(Serialize)]
struct ClaimRow {
    id: String,
    summary: String,
    verdict: &'static str,
    slug: &'static str,
    /// The deciding rule's number in words, with what was wanted
    /// (`light-request latency p99, inline over worker-pool: 0.79×, wanted ≥ 5×`).
    headline: Option<String>,
    /// The deciding check (`tokio-current cpu=10ms ÷ worker-pool`).
    at: Option<String>,
    /// What its interval is, in words.
    interval: Option<String>,
    reason: Option<String>,
    links: Vec<Link>,
    /// For a claim with a stack's cells: its verdict on each side alone.
    sides: Option<SideVerdicts>,
    /// Each failing side's measured cause, and its remedy's result.
    remedies: Vec<RemedyLine>,
}

#[derive(Serialize)]
struct RuleView {
    text: String,
    formal: String,
    verdict: &'static str,
    slug: &'static str,
    effect: String,
    /// The number in words, with what was wanted, and its interval in words.
    headline: Option<String>,
    interval: Option<String>,
    /// The worst check's short label (`tokio ÷ threads`), its full cell
    /// ids in `effect_cell_id`.
    effect_cell: Option<String>,
    effect_cell_id: Option<String>,
    reason: Option<String>,
    /// The headline chart: the checks against the threshold.
    chart: Option<ChartOut>,
    checks: Vec<CheckRow>,
}

/// One check of a rule under its headline chart.
#[derive(Serialize)]
struct CheckRow {
    /// Short label (the factors that tell the cell apart), full ids in
    /// `cell`.
    label: String,
    cell: String,
    value: String,
    /// `[lo, hi]`, or `no interval`.
    interval: String,
    method: String,
    state: &'static str,
    state_slug: &'static str,
}

#[derive(Serialize)]
struct CellRow {
    cell: String,
    model: String,
    hex: String,
    factors: Vec<String>,
    n: usize,
    failed_reps: usize,
    throughput: String,
    throughput_cv: String,
    p50: String,
    p99: String,
    p99_cv: String,
    fidelity: String,
    outliers: String,
}

#[derive(Serialize)]
struct Note {
    cell: String,
    text: String,
}

#[derive(Serialize)]
struct ExperimentView {
    anchor: String,
    name: String,
    title: String,
    claim: Option<String>,
    description: Option<String>,
    file: Option<String>,
    cell_count: usize,
    rules: Vec<RuleView>,
    charts: Vec<ChartOut>,
    factor_headers: Vec<String>,
    rows: Vec<CellRow>,
    notes: Vec<Note>,
    /// H10: the essay's coroutines-vs-virtual-threads table, measured.
    comparison: Vec<crate::render::claims::ComparisonRow>,
}

#[derive(Serialize)]
struct Swatch {
    model: String,
    hex: String,
}

#[derive(Serialize)]
struct IndexPage {
    version: &'static str,
    run_id: String,
    env: Environment,
    crates: Vec<KeyValue>,
    legend: Vec<Swatch>,
    claims: Vec<ClaimRow>,
    /// Per claim with a stack's cells, the Rust models and the stacks side by side.
    sides: Vec<crate::render::side_by_side::SideBySide>,
    failures: Vec<Failure>,
    experiments: Vec<ExperimentView>,
    /// The rules the run left undecided, and why.
    undecided: Vec<Undecided>,
}

fn outlier_text(cell: &MeasuredCell) -> String {
    let mut parts = Vec::new();
    for (metric, label) in [
        (cols::throughput_rps, "throughput"),
        (cols::latency_p50_ms, "p50"),
        (cols::latency_p99_ms, "p99"),
    ] {
        if let Some(e) = cell.estimate(metric) {
            if !e.outliers.is_empty() {
                let reps: Vec<String> = e.outliers.iter().map(|r| r.to_string()).collect();
                parts.push(format!("{label}: rep {}", reps.join(", ")));
            }
        }
    }
    parts.join("; ")
}

/// `0.97 (−3.0%)`: fidelity and its distance from 1.
pub fn fmt_fidelity(e: Option<&Estimate>) -> String {
    match e {
        Some(e) => format!("{:.2} ({:+.1}%)", e.median, (e.median - 1.0) * 100.0),
        None => "–".into(),
    }
}

/// The fidelity against the claim's bound and, where the server's own
/// calibrated cost lowers it, against the priced bound too, with how far
/// below Little's law that puts it: `0.81 (−19.0%); priced 0.97 (−3.0%),
/// bound 16% below Little's law`.
fn fmt_fidelities(cell: &MeasuredCell) -> String {
    let plain = fmt_fidelity(cell.estimate(cols::fidelity).as_ref());
    let median = |c: &str| cell.estimate(c).map(|e| e.median);
    match (
        median(cols::theory_priced_rps),
        median(cols::theory_throughput_rps),
        cell.estimate(cols::fidelity_priced),
    ) {
        (Some(priced), Some(bound), Some(f)) if bound > 0.0 && priced < bound * 0.99 => format!(
            "{plain}; priced {}, bound {:.0}% below Little's law",
            fmt_fidelity(Some(&f)),
            (1.0 - priced / bound) * 100.0
        ),
        _ => plain,
    }
}

fn cell_row(cell: &MeasuredCell, factors: &[&str]) -> CellRow {
    let thr = cell.estimate(cols::throughput_rps);
    let p99 = cell.estimate(cols::latency_p99_ms);
    CellRow {
        cell: cell.cell.clone(),
        model: cell.model.clone(),
        hex: model_hex(&cell.model),
        factors: factors.iter().map(|f| cell.factor(f).display()).collect(),
        n: cell.ok_repetitions,
        failed_reps: cell.failures.len(),
        throughput: fmt_estimate(thr.as_ref(), 1.0),
        throughput_cv: fmt_pct(thr.as_ref().and_then(|e| e.cv)),
        p50: fmt_estimate(cell.estimate(cols::latency_p50_ms).as_ref(), 1.0),
        p99: fmt_estimate(p99.as_ref(), 1.0),
        p99_cv: fmt_pct(p99.as_ref().and_then(|e| e.cv)),
        fidelity: fmt_fidelities(cell),
        outliers: outlier_text(cell),
    }
}

fn rule_view(r: &RuleOutcome, cells: &[&MeasuredCell], chart_id: String) -> RuleView {
    let head = headline(r, r.rule.as_ref(), cells);
    let ratio = head.as_ref().is_some_and(|h| h.ratio);
    let labels = check_tokens(&r.checks, cells);
    let checks: Vec<CheckRow> = r
        .checks
        .iter()
        .zip(labels)
        .map(|(c, (lhs, rhs))| {
            let mut label = lhs.join(" ");
            if let Some(rhs) = rhs {
                label = format!("{label} ÷ {}", rhs.join(" "));
            }
            let state = CheckState::of(c);
            CheckRow {
                label,
                cell: match &c.baseline_cell {
                    Some(b) => format!("{} ÷ {}", c.cell, b),
                    None => c.cell.clone(),
                },
                value: fmt_value(c.value, ratio),
                interval: match (c.ci_lo, c.ci_hi) {
                    (Some(lo), Some(hi)) => format!("[{}, {}]", fmt_compact(lo), fmt_compact(hi)),
                    _ => "no interval".into(),
                },
                method: c.method.to_string(),
                state: state.describe(),
                state_slug: state.slug(),
            }
        })
        .collect();
    RuleView {
        text: r.text.clone(),
        formal: r.formal.clone(),
        verdict: r.verdict.as_str(),
        slug: r.verdict.slug(),
        effect: fmt_effect(Some(r)),
        headline: headline_words(r, cells),
        interval: effect_words(r),
        effect_cell: r.effect_cell.as_ref().map(|id| {
            r.checks
                .iter()
                .zip(&checks)
                .find(|(c, _)| {
                    *id == c.cell
                        || c.baseline_cell
                            .as_ref()
                            .is_some_and(|b| *id == format!("{} vs {b}", c.cell))
                })
                .map(|(_, row)| row.label.clone())
                .unwrap_or_else(|| id.clone())
        }),
        effect_cell_id: r.effect_cell.clone(),
        reason: r.reason.clone(),
        chart: head.map(|h| ChartOut {
            id: chart_id,
            title: h.title.clone(),
            svg: render_headline(&h),
        }),
        checks,
    }
}

fn experiment_view(analysis: &Analysis, e: &Experiment) -> Result<ExperimentView> {
    let cells = analysis.experiment_cells(e);
    let factors = table_factors(&cells);
    // Identical notes are listed once, with the cells they concern.
    let mut notes: Vec<(String, Vec<String>)> = Vec::new();
    for c in &cells {
        let mut texts = c.notes.clone();
        // The engine explains a transient cell in a note whenever it knows
        // the queue's turnover; without one, say it here.
        if c.transient && c.raw(cols::theory_turnover_s).is_empty() {
            texts.push("transient: the cell had not reached a steady state".into());
        }
        for text in texts {
            match notes.iter_mut().find(|(t, _)| *t == text) {
                Some((_, who)) => who.push(c.cell.clone()),
                None => notes.push((text, vec![c.cell.clone()])),
            }
        }
    }
    let notes = notes
        .into_iter()
        .map(|(text, who)| Note {
            cell: if who.len() == cells.len() && cells.len() > 1 {
                "all cells".into()
            } else {
                who.join(", ")
            },
            text,
        })
        .collect();
    Ok(ExperimentView {
        anchor: anchor(e),
        name: e.name.clone(),
        title: e.title.clone(),
        claim: e.claim.clone(),
        description: e.description.clone(),
        file: e.file.clone(),
        cell_count: cells.len(),
        rules: e
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let id = format!("{}-rule-{}", slug(&e.name), i + 1);
                rule_view(r, &cells, id)
            })
            .collect(),
        charts: experiment_charts(analysis, e)?,
        factor_headers: factors.iter().map(|f| f.to_string()).collect(),
        rows: cells.iter().map(|c| cell_row(c, &factors)).collect(),
        notes,
        comparison: crate::render::claims::comparison(e.claim.as_deref(), &cells),
    })
}

/// The cells of the experiment a rule outcome belongs to.
fn rule_cells<'a>(analysis: &'a Analysis, r: &RuleOutcome) -> Vec<&'a MeasuredCell> {
    analysis
        .experiments
        .iter()
        .find(|e| e.name == r.experiment)
        .map(|e| analysis.experiment_cells(e))
        .unwrap_or_default()
}

/// The short label of a rule's deciding check: the factors that tell its
/// cell apart (`tokio-current cpu=10ms ÷ worker-pool`).
fn worst_label(r: &RuleOutcome, cells: &[&MeasuredCell]) -> Option<String> {
    let worst = worst_check(r)?;
    let i = r.checks.iter().position(|c| std::ptr::eq(c, worst))?;
    let (lhs, rhs) = check_tokens(&r.checks, cells).swap_remove(i);
    let mut label = lhs.join(" ");
    if let Some(rhs) = rhs {
        label = format!("{label} ÷ {}", rhs.join(" "));
    }
    Some(label)
}

/// Renders `index.html` of a run.
pub fn render_index(analysis: &Analysis) -> Result<String> {
    let models: Vec<String> = in_model_order(analysis.cells.iter().map(|c| c.model.as_str()))
        .into_iter()
        .map(String::from)
        .collect();
    let sides = side_by_side(analysis);
    let claims = analysis
        .claims
        .iter()
        .map(|c| ClaimRow {
            id: c.id.clone(),
            summary: c.summary.clone(),
            verdict: c.verdict.as_str(),
            slug: c.verdict.slug(),
            headline: c
                .deciding
                .as_ref()
                .and_then(|r| headline_words(r, &rule_cells(analysis, r))),
            at: c
                .deciding
                .as_ref()
                .and_then(|r| worst_label(r, &rule_cells(analysis, r))),
            interval: c.deciding.as_ref().and_then(effect_words),
            reason: c.reason.clone(),
            remedies: remedy_lines(analysis, &c.id),
            links: analysis
                .experiments
                .iter()
                .filter(|e| e.claim.as_deref() == Some(c.id.as_str()))
                .map(|e| Link {
                    anchor: anchor(e),
                    name: e.name.clone(),
                })
                .collect(),
            sides: sides
                .iter()
                .find(|s| s.claim == c.id)
                .map(|s| s.verdicts.clone()),
        })
        .collect();
    let experiments = analysis
        .experiments
        .iter()
        .map(|e| experiment_view(analysis, e))
        .collect::<Result<Vec<_>>>()?;
    let page = IndexPage {
        version: env!("CARGO_PKG_VERSION"),
        run_id: analysis.run.run_id.clone(),
        env: environment(analysis),
        crates: analysis
            .manifest()
            .run
            .crates
            .iter()
            .map(|(k, v)| kv(k, v.clone()))
            .collect(),
        legend: models
            .iter()
            .map(|m| Swatch {
                model: m.clone(),
                hex: model_hex(m),
            })
            .collect(),
        claims,
        sides,
        failures: analysis.failures.clone(),
        experiments,
        undecided: undecided(analysis),
    };
    let tera = templates()?;
    Ok(tera.render("index.html", &Context::from_serialize(&page)?)?)
}

/// Renders any serialisable page with a named template (used by compare).
pub fn render_page<T: Serialize>(template: &str, page: &T) -> Result<String> {
    let tera = templates()?;
    let mut ctx = Context::from_serialize(page)?;
    ctx.insert("version", env!("CARGO_PKG_VERSION"));
    Ok(tera.render(template, &ctx)?)
}
