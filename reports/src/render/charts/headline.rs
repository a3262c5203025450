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
//! This file builds a rule's [`Headline`] from its outcome; [`labels`]
//! words it, [`state`] colours its checks and [`svg`] draws it.

mod labels;
mod state;
mod svg;

pub use labels::{check_tokens, compare_sign, fmt_value, metric_unit, wrap};
pub(crate) use labels::{differing, token};
pub use state::{CheckState, CLEAR_HEX, UNDECIDED_HEX, WRONG_HEX};
pub use svg::{headline_scale, render_headline};

use crate::interval::SampleSize;
use crate::load::fmt_compact;
use crate::stats::MeasuredCell;
use crate::verdict::{Compare, Rule, RuleOutcome};

/// One check of the rule, ready to draw.
#[derive(Debug, Clone)]
pub struct HeadPoint {
    /// Lines under the x axis.
    pub label: Vec<String>,
    /// Hover text: full cell ids, value, interval, method.
    pub tooltip: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
    /// The n behind the interval (`n = 1 vs 3` under a missing one).
    pub n: SampleSize,
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
pub fn headline(
    outcome: &RuleOutcome,
    rule: Option<&Rule>,
    cells: &[&MeasuredCell],
) -> Option<Headline> {
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
                n: c.method.n,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::{Basis, Method};
    use crate::render::charts::Scale;
    use crate::verdict::{RuleCheck, Verdict};
    use serde_json::json;

    fn check(
        cell: &str,
        value: f64,
        ci: Option<(f64, f64)>,
        method: Basis,
        state: CheckState,
    ) -> RuleCheck {
        RuleCheck {
            cell: cell.into(),
            model: "tokio".into(),
            baseline_cell: Some(format!("threads-of-{cell}")),
            value,
            ci_lo: ci.map(|c| c.0),
            ci_hi: ci.map(|c| c.1),
            method,
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
                Basis {
                    n: SampleSize::Ratio(3, 3),
                    method: Method::WelchLogT,
                    df: Some(3.8),
                },
                CheckState::Clear,
            ),
            check(
                "smol-c1000",
                2.5,
                None,
                Basis {
                    n: SampleSize::Ratio(1, 3),
                    method: Method::TooFew,
                    df: None,
                },
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
        assert_eq!(h.points[1].n, SampleSize::Ratio(1, 3));
        // The hover text shows how each interval was made.
        assert!(
            h.points[0]
                .tooltip
                .contains("(n = 3 vs 3, Welch t on logs (df 3.8))"),
            "{}",
            h.points[0].tooltip
        );
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
}
