//! The headline chart of a verdict rule: what an experiment's section shows
//! first, so the verdict is seen before the generic charts.
//!
//! One chart per rule. x: the rule's checks (each labelled by the factors
//! that tell its cell apart, and `÷ <baseline>` for a ratio); y: the rule's
//! value in its unit (a ratio `×` with a baseline; log when the values,
//! their intervals and the threshold span 20× or more). Each check is a
//! point with its 95% interval as an error bar, or a `no interval (n = …)`
//! label when its n gives none; the point's colour is the check's state in
//! the page's verdict colours (clear of the threshold: supported green,
//! wrong side: not-supported vermillion, undecided: inconclusive orange).
//! The threshold is a dashed line, the side where the rule holds is tinted.
//!
//! Written as SVG by hand rather than through plotters: categorical x with
//! multi-line labels, centred text, and a `<title>` per check (the full cell
//! ids and interval on hover, no script). The elements carry classes
//! (`threshold`, `errorbar`, `point`, `no-interval`) so tests can find them.

use super::{fmt_tick, Scale};
use crate::load::{fmt_compact, Value};
use crate::stats::{varying_factors, MeasuredCell, FACTORS};
use crate::verdict::{RuleCheck, Compare, Rule, RuleOutcome};
use std::fmt::Write as _;
use threadloop_vocab::schema::cols;

/// The page's verdict colours (`.verdict.*` in base.html).
pub const CLEAR_HEX: &str = "#009E73";
pub const WRONG_HEX: &str = "#D55E00";
pub const UNDECIDED_HEX: &str = "#E69F00";

/// Where a check's interval lies relative to the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// The whole interval satisfies the comparison.
    Clear,
    /// The whole interval violates it.
    Wrong,
    /// Neither: the interval straddles the threshold, or there is none.
    Undecided,
}

impl CheckState {
    pub fn of(c: &RuleCheck) -> Self {
        if c.clear {
            CheckState::Clear
        } else if c.wrong {
            CheckState::Wrong
        } else {
            CheckState::Undecided
        }
    }
    pub fn hex(self) -> &'static str {
        match self {
            CheckState::Clear => CLEAR_HEX,
            CheckState::Wrong => WRONG_HEX,
            CheckState::Undecided => UNDECIDED_HEX,
        }
    }
    /// CSS class.
    pub fn slug(self) -> &'static str {
        match self {
            CheckState::Clear => "clear",
            CheckState::Wrong => "wrong",
            CheckState::Undecided => "undecided",
        }
    }
    /// The chart legend's short form.
    pub fn legend(self) -> &'static str {
        match self {
            CheckState::Clear => "clear of threshold",
            CheckState::Wrong => "on the wrong side",
            CheckState::Undecided => "undecided",
        }
    }
    /// What the state means, for tables and hover text.
    pub fn describe(self) -> &'static str {
        match self {
            CheckState::Clear => "interval clear of the threshold",
            CheckState::Wrong => "interval on the wrong side",
            CheckState::Undecided => "undecided",
        }
    }
}

/// One check of the rule, ready to draw.
#[derive(Debug, Clone)]
pub struct HeadPoint {
    /// Lines under the x axis.
    pub label: Vec<String>,
    /// Hover text: full cell ids, value, interval, method.
    pub tooltip: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
    /// `n = 3 vs 3` (the method's n part).
    pub n: String,
    pub state: CheckState,
}

/// A rule's headline chart.
#[derive(Debug, Clone)]
pub struct Headline {
    pub title: String,
    pub y_label: String,
    /// A ratio to a baseline: ticks and values are marked `×`.
    pub ratio: bool,
    pub threshold: Option<(Compare, f64)>,
    pub points: Vec<HeadPoint>,
}

/// A metric's name and unit for the y axis.
pub fn metric_unit(metric: &str) -> (String, &'static str) {
    let (name, unit) = match metric {
        cols::throughput_rps => ("throughput", "req/s"),
        cols::fidelity => (cols::fidelity, "measured / bound"),
        cols::latency_p50_ms => ("latency p50", "ms"),
        cols::latency_p90_ms => ("latency p90", "ms"),
        cols::latency_p99_ms => ("latency p99", "ms"),
        cols::latency_p999_ms => ("latency p99.9", "ms"),
        cols::latency_mean_ms => ("mean latency", "ms"),
        cols::loop_lag_p99_ms => ("loop lag p99", "ms"),
        cols::queue_wait_p99_ms => ("queue wait p99", "ms"),
        "rss_per_inflight_bytes" => ("RSS per in-flight request", "bytes"),
        "ctx_per_request" => ("context switches per request", ""),
        cols::threads_peak => ("OS threads (peak)", ""),
        cols::timeouts => (cols::timeouts, "requests"),
        cols::errors => (cols::errors, "requests"),
        other => return (other.to_string(), ""),
    };
    (name.to_string(), unit)
}

/// `≥`, `≤`, `>`, `<`.
pub fn compare_sign(c: Compare) -> &'static str {
    match c {
        Compare::Ge => "≥",
        Compare::Le => "≤",
        Compare::Gt => ">",
        Compare::Lt => "<",
    }
}

/// `n = 3 vs 3` from `n = 3 vs 3, Welch t on logs (df 3.8)` or
/// `n = 1: no interval`.
pub fn n_part(method: &str) -> &str {
    let end = method.find([',', ':']).unwrap_or(method.len());
    method[..end].trim()
}

/// `4.93×` or `0.977`.
pub fn fmt_value(v: f64, ratio: bool) -> String {
    format!("{}{}", fmt_compact(v), if ratio { "×" } else { "" })
}

/// A factor's value in a label: the model bare, `c=1000`, `client=async`.
fn token(factor: &str, v: &Value) -> String {
    match factor {
        cols::model => v.display(),
        cols::concurrency => format!("c={}", v.display()),
        cols::rate_rps => format!("{} req/s", v.display()),
        cols::io_latency_ms => format!("io={}ms", v.display()),
        cols::cpu_ms => format!("cpu={}ms", v.display()),
        f => format!("{f}={}", v.display()),
    }
}

/// Factors on which two cells differ, both having a value.
fn differing(a: &MeasuredCell, b: &MeasuredCell) -> Vec<&'static str> {
    FACTORS
        .iter()
        .copied()
        .filter(|f| {
            let (x, y) = (a.factor(f), b.factor(f));
            !x.is_null() && !y.is_null() && x.display() != y.display()
        })
        .collect()
}

/// Label tokens of each check: the checked cell's model and the factors
/// that tell it apart from the other checks and from its baseline; the
/// baseline's tokens are where it differs from the cell (its model when
/// nothing differs). A cell the experiment does not have keeps its id.
pub fn check_tokens(checks: &[RuleCheck], cells: &[&MeasuredCell]) -> Vec<(Vec<String>, Option<Vec<String>>)> {
    let find = |id: &str| cells.iter().copied().find(|c| c.cell == id);
    let own: Vec<&MeasuredCell> = checks.iter().filter_map(|c| find(&c.cell)).collect();
    let vary = varying_factors(&own);
    checks
        .iter()
        .map(|check| {
            let Some(cell) = find(&check.cell) else {
                return (
                    vec![check.cell.clone()],
                    check.baseline_cell.clone().map(|b| vec![b]),
                );
            };
            let base = check.baseline_cell.as_deref().map(|b| (b, find(b)));
            let against: Vec<&'static str> = match base {
                Some((_, Some(b))) => differing(cell, b),
                _ => Vec::new(),
            };
            let mut lhs = vec![cell.model.clone()];
            let shown = |f: &str| {
                (vary.iter().chain(&against).any(|v| *v == f)) && !cell.factor(f).is_null()
            };
            for f in FACTORS.iter().copied().filter(|f| *f != cols::model) {
                // The CPU ratio follows the CPU time: one of them is enough.
                if f == cols::cpu_ratio && shown(cols::cpu_ms) {
                    continue;
                }
                if shown(f) {
                    lhs.push(token(f, cell.factor(f)));
                }
            }
            let rhs = base.map(|(id, b)| match b {
                None => vec![id.to_string()],
                Some(b) if against.is_empty() => vec![b.model.clone()],
                Some(b) => against.iter().map(|f| token(f, b.factor(f))).collect(),
            });
            (lhs, rhs)
        })
        .collect()
}

/// Greedy word wrap into lines of at most `width` characters (a longer
/// word is cut with `…`), at most `max_lines` (the last one ends in `…`
/// when text is left over).
pub fn wrap(words: &[String], width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(4);
    let cut = |s: &str| -> String {
        if s.chars().count() > width {
            s.chars().take(width - 1).collect::<String>() + "…"
        } else {
            s.to_string()
        }
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for w in words {
        let len = current.chars().count();
        if len == 0 {
            current = cut(w);
        } else if len + 1 + w.chars().count() <= width {
            current.push(' ');
            current.push_str(w);
        } else {
            lines.push(std::mem::take(&mut current));
            current = cut(w);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("max_lines > 0");
        let keep = width.saturating_sub(1).min(last.chars().count());
        *last = last.chars().take(keep).collect::<String>() + "…";
    }
    lines
}

/// Pixel width of one check's slot.
const SLOT_MIN: f64 = 92.0;
/// Chart width: 560 px, wider with more than five checks (at most 1120).
pub fn chart_width(checks: usize) -> u32 {
    let w = 84.0 + SLOT_MIN * checks as f64;
    w.clamp(560.0, 1120.0) as u32
}
const LEFT: f64 = 66.0;
const RIGHT: f64 = 18.0;
const PLOT_H: f64 = 200.0;
/// Approximate width of one character at the label size (11 px sans).
const CHAR_W: f64 = 6.2;

/// The headline of one rule outcome; `None` without checks (nothing to
/// draw: the rule's reason says why). `rule` is the parsed spec rule (for
/// the threshold and the metric's unit); `cells` the experiment's cells
/// (for the labels).
pub fn headline(outcome: &RuleOutcome, rule: Option<&Rule>, cells: &[&MeasuredCell]) -> Option<Headline> {
    if outcome.checks.is_empty() {
        return None;
    }
    let ratio = rule.is_some_and(|r| r.baseline.is_some())
        || outcome.checks.iter().any(|c| c.baseline_cell.is_some());
    let width = chart_width(outcome.checks.len()) as f64;
    let slot = (width - LEFT - RIGHT) / outcome.checks.len() as f64;
    let chars = ((slot - 6.0) / CHAR_W).floor() as usize;
    let tokens = check_tokens(&outcome.checks, cells);
    let points = outcome
        .checks
        .iter()
        .zip(tokens)
        .map(|(c, (lhs, rhs))| {
            let mut label = wrap(&lhs, chars, if rhs.is_some() { 2 } else { 3 });
            if let Some(mut rhs) = rhs {
                if let Some(first) = rhs.first_mut() {
                    *first = format!("÷ {first}");
                }
                label.extend(wrap(&rhs, chars, 1));
            }
            let who = match &c.baseline_cell {
                Some(b) => format!("{} ÷ {}", c.cell, b),
                None => c.cell.clone(),
            };
            let interval = match (c.ci_lo, c.ci_hi) {
                (Some(lo), Some(hi)) => format!(" [{}, {}]", fmt_compact(lo), fmt_compact(hi)),
                _ => String::new(),
            };
            let state = CheckState::of(c);
            HeadPoint {
                label,
                tooltip: format!(
                    "{who}: {}{interval} ({}); {}",
                    fmt_value(c.value, ratio),
                    c.method,
                    state.describe()
                ),
                value: c.value,
                ci: c.ci_lo.zip(c.ci_hi),
                n: n_part(&c.method).to_string(),
                state,
            }
        })
        .collect();
    let metric = rule.map(|r| r.metric.as_str()).unwrap_or_else(|| {
        // `metric[filter] …` when the spec rule is not at hand.
        let f = &outcome.formal;
        &f[..f.find(['[', ' ']).unwrap_or(f.len())]
    });
    let (name, unit) = metric_unit(metric);
    let y_label = if ratio {
        format!("{name} ratio (×)")
    } else if unit.is_empty() {
        name
    } else {
        format!("{name} ({unit})")
    };
    Some(Headline {
        title: outcome.text.clone(),
        y_label,
        ratio,
        threshold: rule.map(|r| (r.compare, r.threshold)),
        points,
    })
}

/// XML text escaping.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Log when every value, bound and the threshold is positive and they
/// span 20× or more.
pub fn headline_scale(h: &Headline) -> Scale {
    let mut vs: Vec<f64> = Vec::new();
    for p in &h.points {
        vs.push(p.value);
        if let Some((lo, hi)) = p.ci {
            vs.extend([lo, hi]);
        }
    }
    vs.extend(h.threshold.map(|t| t.1));
    vs.retain(|v| v.is_finite());
    let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo > 0.0 && hi / lo >= 20.0 {
        Scale::Log10
    } else {
        Scale::Linear
    }
}

/// Draws the headline chart as an SVG string.
pub fn render_headline(h: &Headline) -> String {
    let n = h.points.len().max(1);
    let width = chart_width(n) as f64;
    let title_lines = wrap(
        &h.title
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>(),
        ((width - 24.0) / 7.4) as usize,
        3,
    );
    let label_lines = h.points.iter().map(|p| p.label.len()).max().unwrap_or(1);
    let top_title = 20.0;
    let legend_y = top_title + 18.0 * title_lines.len() as f64 - 2.0;
    let plot_top = legend_y + 16.0;
    let plot_bottom = plot_top + PLOT_H;
    let height = plot_bottom + 10.0 + 13.0 * label_lines as f64 + 8.0;
    let (plot_left, plot_right) = (LEFT, width - RIGHT);
    let slot = (plot_right - plot_left) / n as f64;
    let x_of = |i: usize| plot_left + slot * (i as f64 + 0.5);

    // The y axis: every value, bound and the threshold in view, with room
    // above and below for the labels.
    let scale = headline_scale(h);
    let mut ts: Vec<f64> = Vec::new();
    for p in &h.points {
        ts.extend(scale.forward(p.value));
        if let Some((lo, hi)) = p.ci {
            ts.extend(scale.forward(lo));
            ts.extend(scale.forward(hi));
        }
    }
    if let Some((_, t)) = h.threshold {
        ts.extend(scale.forward(t));
    }
    let lo = ts.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if ts.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        let pad = (hi - lo) * 0.10;
        (lo - pad, hi + pad)
    } else {
        // One value: a band of ±10% (or ±1 around zero).
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - d, hi + d)
    };
    let (t0, t1, ticks) = scale.axis(lo, hi, false);
    let y_of = |t: f64| plot_bottom - (t - t0) / (t1 - t0) * PLOT_H;

    let x_suffix = if h.ratio { "×" } else { "" };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" class="headline">"#,
        w = width,
        h = height.round()
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{}" fill="#ffffff"/>"##,
        height.round()
    );
    // Title: the rule's sentence.
    for (i, line) in title_lines.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="12" y="{}" font-size="14" fill="#1b1b1b">{}</text>"##,
            top_title + 18.0 * i as f64,
            esc(line)
        );
    }
    // Legend: the states present, in the verdict colours.
    let mut lx = 12.0;
    for state in [CheckState::Clear, CheckState::Wrong, CheckState::Undecided] {
        if !h.points.iter().any(|p| p.state == state) {
            continue;
        }
        let _ = write!(s, "{}", marker(lx + 5.0, legend_y - 4.0, state, 4.0));
        let text = state.legend();
        let _ = write!(
            s,
            r##"<text x="{}" y="{legend_y}" font-size="11" fill="#5b5b5b">{}</text>"##,
            lx + 13.0,
            esc(text)
        );
        lx += 13.0 + CHAR_W * text.chars().count() as f64 + 16.0;
    }
    // The threshold's entry (in the legend, where no point can hide it).
    if let Some((cmp, t)) = h.threshold {
        let _ = write!(
            s,
            r##"<line x1="{lx}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{}" y="{legend_y}" font-size="11" fill="#5b5b5b">threshold {} {}{x_suffix}</text>"##,
            lx + 22.0,
            lx + 27.0,
            compare_sign(cmp),
            esc(&fmt_tick(t)),
            y = legend_y - 4.0
        );
    }
    // The side of the threshold where the rule holds, tinted.
    if let Some((cmp, t)) = h.threshold {
        if let Some(ty) = scale.forward(t).map(y_of) {
            let ty = ty.clamp(plot_top, plot_bottom);
            let (y0, y1) = match cmp {
                Compare::Ge | Compare::Gt => (plot_top, ty),
                Compare::Le | Compare::Lt => (ty, plot_bottom),
            };
            let _ = write!(
                s,
                r##"<rect class="holds" x="{plot_left}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{CLEAR_HEX}" fill-opacity="0.07"/>"##,
                plot_right - plot_left,
                y1 - y0
            );
        }
    }
    // Grid and y ticks.
    for &t in &ticks {
        let y = y_of(t);
        let _ = write!(
            s,
            r##"<line x1="{plot_left}" y1="{y:.1}" x2="{plot_right}" y2="{y:.1}" stroke="#e3e3e3" stroke-width="1"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#1b1b1b">{}{x_suffix}</text>"##,
            plot_left - 5.0,
            y + 4.0,
            esc(&scale_label(scale, t))
        );
    }
    let y_desc = if scale == Scale::Log10 {
        format!("{}, log", h.y_label)
    } else {
        h.y_label.clone()
    };
    let mid = (plot_top + plot_bottom) / 2.0;
    let _ = write!(
        s,
        r##"<text x="14" y="{mid:.1}" font-size="12" text-anchor="middle" fill="#1b1b1b" transform="rotate(-90 14 {mid:.1})">{}</text>"##,
        esc(&y_desc)
    );
    // Axes.
    let _ = write!(
        s,
        r##"<line x1="{plot_left}" y1="{plot_top:.1}" x2="{plot_left}" y2="{plot_bottom:.1}" stroke="#888888" stroke-width="1"/><line x1="{plot_left}" y1="{plot_bottom:.1}" x2="{plot_right}" y2="{plot_bottom:.1}" stroke="#888888" stroke-width="1"/>"##
    );
    // The threshold.
    if let Some((cmp, t)) = h.threshold {
        if let Some(ty) = scale.forward(t).map(y_of) {
            let _ = write!(
                s,
                r##"<line class="threshold" x1="{plot_left}" y1="{ty:.1}" x2="{plot_right}" y2="{ty:.1}" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"><title>threshold {} {}{x_suffix}</title></line>"##,
                compare_sign(cmp),
                esc(&fmt_tick(t))
            );
        }
    }
    // The checks.
    for (i, p) in h.points.iter().enumerate() {
        let x = x_of(i);
        let _ = write!(
            s,
            r#"<g class="check {}"><title>{}</title>"#,
            p.state.slug(),
            esc(&p.tooltip)
        );
        for (k, line) in p.label.iter().enumerate() {
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#1b1b1b">{}</text>"##,
                plot_bottom + 16.0 + 13.0 * k as f64,
                esc(line)
            );
        }
        let Some(py) = scale.forward(p.value).map(y_of) else {
            s.push_str("</g>");
            continue;
        };
        let color = p.state.hex();
        match p
            .ci
            .and_then(|(lo, hi)| Some((y_of(scale.forward(lo)?), y_of(scale.forward(hi)?))))
        {
            Some((ylo, yhi)) => {
                let _ = write!(
                    s,
                    r#"<g class="errorbar" stroke="{color}" stroke-width="2"><line x1="{x:.1}" y1="{ylo:.1}" x2="{x:.1}" y2="{yhi:.1}"/><line x1="{:.1}" y1="{ylo:.1}" x2="{:.1}" y2="{ylo:.1}"/><line x1="{:.1}" y1="{yhi:.1}" x2="{:.1}" y2="{yhi:.1}"/></g>"#,
                    x - 6.0,
                    x + 6.0,
                    x - 6.0,
                    x + 6.0
                );
            }
            None => {
                // No bar: say why, above the point (below it when the
                // point is near the top).
                let (y1, y2) = if py - plot_top > 34.0 {
                    (py - 22.0, py - 10.0)
                } else {
                    (py + 18.0, py + 30.0)
                };
                let _ = write!(
                    s,
                    r##"<text class="no-interval" x="{x:.1}" font-size="10" text-anchor="middle" fill="#5b5b5b" {HALO}><tspan x="{x:.1}" y="{y1:.1}">no interval</tspan><tspan x="{x:.1}" y="{y2:.1}">({})</tspan></text>"##,
                    esc(&p.n)
                );
            }
        }
        let _ = write!(
            s,
            "{}",
            marker(x, py, p.state, 5.0).replacen("<circle", "<circle class=\"point\"", 1)
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#1b1b1b" {HALO}>{}</text>"##,
            x + 9.0,
            py + 4.0,
            esc(&fmt_value(p.value, h.ratio))
        );
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A white outline under text drawn over lines, so a value stays legible
/// on the threshold or a grid line.
const HALO: &str =
    r##"stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke""##;

/// A tick label of a scale (`2`, `0.95`, `1000`).
fn scale_label(scale: Scale, t: f64) -> String {
    match scale {
        Scale::Log10 => fmt_tick(10f64.powf(t)),
        _ => fmt_tick(t),
    }
}

/// A check's point: filled for a decided state, a ring for undecided.
fn marker(x: f64, y: f64, state: CheckState, r: f64) -> String {
    let c = state.hex();
    match state {
        CheckState::Undecided => format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="#ffffff" stroke="{c}" stroke-width="2.5"/>"##
        ),
        _ => format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{c}" stroke="#ffffff" stroke-width="1"/>"##
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;
    use serde_json::json;

    fn check(
        cell: &str,
        value: f64,
        ci: Option<(f64, f64)>,
        method: &str,
        state: CheckState,
    ) -> RuleCheck {
        RuleCheck {
            cell: cell.into(),
            model: "tokio".into(),
            baseline_cell: Some(format!("threads-of-{cell}")),
            value,
            ci_lo: ci.map(|c| c.0),
            ci_hi: ci.map(|c| c.1),
            method: method.into(),
            holds: value >= 3.0,
            clear: state == CheckState::Clear,
            wrong: state == CheckState::Wrong,
            repetitions: if ci.is_some() { 3 } else { 1 },
            undecided: state == CheckState::Undecided,
        }
    }

    fn fixture() -> (RuleOutcome, Rule) {
        let rule: Rule = serde_json::from_value(json!({
            "text": "every async model serves at least 3× the pool <b>",
            "metric": "throughput_rps",
            "filter": {"model": ["tokio", "smol"]},
            "baseline": {"model": "threads"},
            "compare": ">=",
            "threshold": 3.0
        }))
        .unwrap();
        let checks = vec![
            check(
                "tokio-c1000",
                4.93,
                Some((4.1, 5.9)),
                "n = 3 vs 3, Welch t on logs (df 3.8)",
                CheckState::Clear,
            ),
            check(
                "smol-c1000",
                2.5,
                None,
                "n = 1 vs 3: no interval",
                CheckState::Undecided,
            ),
        ];
        let outcome = RuleOutcome {
            rule: Some(rule.clone()),
            experiment: "e".into(),
            text: rule.text.clone(),
            formal: rule.formal(),
            verdict: Verdict::Inconclusive,
            effect: Some(2.5),
            effect_ci_lo: None,
            effect_ci_hi: None,
            effect_cell: Some("smol-c1000 vs threads-of-smol-c1000".into()),
            method: Some("n = 1 vs 3: no interval".into()),
            reason: Some("fewer than 2 ok repetitions".into()),
            checks,
        };
        (outcome, rule)
    }

    #[test]
    fn headline_draws_threshold_error_bars_and_missing_intervals() {
        let (outcome, rule) = fixture();
        let h = headline(&outcome, Some(&rule), &[]).expect("checks to draw");
        assert!(h.ratio);
        assert_eq!(h.y_label, "throughput ratio (×)");
        assert_eq!(h.points[1].n, "n = 1 vs 3");
        let svg = render_headline(&h);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"threshold\"").count(), 1, "{svg}");
        assert!(svg.contains("threshold ≥ 3×"), "{svg}");
        // One error bar per check with an interval, none for the other.
        let with_ci = outcome.checks.iter().filter(|c| c.ci_lo.is_some()).count();
        assert_eq!(with_ci, 1);
        assert_eq!(svg.matches("class=\"errorbar\"").count(), with_ci, "{svg}");
        assert_eq!(svg.matches("class=\"no-interval\"").count(), 1);
        assert!(svg.contains(">(n = 1 vs 3)</tspan>"), "{svg}");
        // One point per check, in its state's colour.
        assert_eq!(svg.matches("class=\"point\"").count(), 2);
        assert!(svg.contains(&format!("stroke=\"{CLEAR_HEX}\"")));
        assert!(svg.contains(&format!("stroke=\"{UNDECIDED_HEX}\"")));
        // The rule's text is the title, escaped.
        assert!(svg.contains("the pool &lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"));
        // Values, and the ratio's baseline under each label.
        assert!(svg.contains(">4.93×</text>"), "{svg}");
        assert!(svg.contains("÷ threads-of-tokio-c1000"), "{svg}");
        // 2.5 to 5.9 spans less than 20×: a linear axis.
        assert_eq!(headline_scale(&h), Scale::Linear);
    }

    #[test]
    fn log_axis_when_values_span_twenty_times() {
        let (mut outcome, rule) = fixture();
        outcome.checks[0].value = 140.0;
        outcome.checks[0].ci_lo = Some(90.0);
        outcome.checks[0].ci_hi = Some(210.0);
        let h = headline(&outcome, Some(&rule), &[]).unwrap();
        assert_eq!(headline_scale(&h), Scale::Log10);
        assert!(render_headline(&h).contains("ratio (×), log"));
        // No checks (no cell matched): nothing to draw.
        outcome.checks.clear();
        assert!(headline(&outcome, Some(&rule), &[]).is_none());
    }

    #[test]
    fn wrap_keeps_lines_short() {
        let words: Vec<String> = ["tokio-current", "client=blocking", "c=1000"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            wrap(&words, 14, 3),
            vec!["tokio-current", "client=blocki…", "c=1000"]
        );
        assert_eq!(wrap(&words, 30, 1), vec!["tokio-current client=blocking…"]);
        assert_eq!(n_part("n = 3 vs 3, Welch t on logs (df 3.8)"), "n = 3 vs 3");
        assert_eq!(n_part("n = 1: no interval"), "n = 1");
    }
}
