//! Verdict rules: a small declarative language carried from the spec's
//! `[[verdict]]` tables through the manifest (typed, [`Rule`], read once by
//! [`crate::load`]), evaluated on per-repetition values with the t
//! intervals of [`crate::interval`]. A rule is the question; a [`Verdict`]
//! is its answer, and a [`RuleOutcome`] the answer with its evidence (one
//! [`RuleCheck`] per cell, or cell and baseline, the rule compares).
//!
//! A rule selects the ok cells of its experiment that match `filter`, takes
//! the geometric mean of `metric` per cell (or, with `baseline`, the ratio
//! of geometric means to the matching baseline cell) with its 95% interval,
//! and checks `value compare threshold`.
//! `supported` needs every check to hold with its CI clear of the
//! threshold; `not supported` needs a check whose CI lies entirely on the
//! wrong side; anything else is `inconclusive`.

use crate::interval::{geometric_t, ratio_welch, Basis, Interval};
use crate::load::{fmt_compact, MalformedRule, Value};
use crate::outlook::{outlook, Outlook};
use crate::stats::{MeasuredCell, FACTORS};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
pub use threadloop_vocab::rule::{fmt_filter, Compare, Rule};
use threadloop_vocab::schema::cols;

/// The answer a rule (or a claim) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "supported")]
    Supported,
    #[serde(rename = "not supported")]
    NotSupported,
    #[serde(rename = "inconclusive")]
    Inconclusive,
    #[serde(rename = "not run")]
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not supported",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotRun => "not run",
        }
    }
    /// CSS class / slug.
    pub fn slug(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not-supported",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotRun => "not-run",
        }
    }
}

/// Combines verdicts: all supported → supported; any not supported → not
/// supported; otherwise (or with none) inconclusive.
pub fn combine(verdicts: &[Verdict]) -> Verdict {
    if verdicts.is_empty() {
        Verdict::Inconclusive
    } else if verdicts.contains(&Verdict::NotSupported) {
        Verdict::NotSupported
    } else if verdicts.iter().all(|v| *v == Verdict::Supported) {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    }
}

/// One evaluated cell (or cell / baseline pair) of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCheck {
    pub cell: String,
    /// The cell's model: the report sets a rule's verdict per model side by
    /// side (the Rust stand-ins beside the essay's own stacks).
    pub model: String,
    pub baseline_cell: Option<String>,
    /// Geometric mean of the metric, or the ratio of geometric means with a
    /// baseline.
    pub value: f64,
    /// 95% interval; null when the method has none at this n.
    pub ci_lo: Option<f64>,
    pub ci_hi: Option<f64>,
    /// How the interval was made: `n = 3 vs 3, Welch t on logs (df 3.8)`.
    pub method: Basis,
    /// `value compare threshold` holds.
    pub holds: bool,
    /// The whole CI satisfies the comparison.
    pub clear: bool,
    /// The whole CI violates the comparison.
    pub wrong: bool,
    /// Fewest ok repetitions behind the value (cell or baseline); with
    /// fewer than 2 there is no interval and the check cannot decide.
    pub repetitions: usize,
    /// Neither clear nor wrong: more repetitions of `cell` (and
    /// `baseline_cell`) could decide it.
    pub undecided: bool,
}

/// A rule evaluated on one experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleOutcome {
    /// The rule evaluated; `None` for a malformed one (see `reason`).
    #[serde(skip)]
    pub rule: Option<Rule>,
    pub experiment: String,
    pub text: String,
    pub formal: String,
    pub verdict: Verdict,
    /// The worst-case check's value (geometric mean or ratio).
    pub effect: Option<f64>,
    pub effect_ci_lo: Option<f64>,
    pub effect_ci_hi: Option<f64>,
    /// The cell of the worst-case check.
    pub effect_cell: Option<String>,
    /// The worst-case check's n and interval method (`n = 2: no interval`).
    pub method: Option<String>,
    /// Why the verdict is inconclusive, when there is a simple reason.
    pub reason: Option<String>,
    pub checks: Vec<RuleCheck>,
}

fn parse_num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn num_eq(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Whether a cell's value matches one filter value (scalar or list).
pub fn value_matches(value: &Value, spec: &Json) -> bool {
    match spec {
        Json::Array(items) => items.iter().any(|i| value_matches(value, i)),
        Json::Null => value.is_null(),
        Json::Bool(b) => matches!(value, Value::Bool(v) if v == b),
        Json::Number(n) => {
            let Some(n) = n.as_f64() else { return false };
            match value {
                Value::Num(x) => num_eq(*x, n),
                Value::Str(s) => parse_num(s).is_some_and(|x| num_eq(x, n)),
                _ => false,
            }
        }
        Json::String(s) => {
            if let Some((cmp, t)) = Compare::bound(s) {
                return value.as_f64().is_some_and(|x| cmp.holds(x, t));
            }
            match value {
                Value::Str(v) => v == s,
                Value::Num(x) => parse_num(s).is_some_and(|n| num_eq(*x, n)),
                Value::Bool(b) => s.eq_ignore_ascii_case(&b.to_string()),
                Value::Null => false,
            }
        }
        Json::Object(_) => false,
    }
}

/// Whether a cell matches every entry of a filter.
pub fn cell_matches(cell: &MeasuredCell, filter: &BTreeMap<String, Json>) -> bool {
    filter.iter().all(|(column, spec)| {
        let value = match column.as_str() {
            cols::cell => Value::Str(cell.cell.clone()),
            cols::experiment => Value::Str(cell.experiment.clone()),
            _ => cell.factor(column).clone(),
        };
        value_matches(&value, spec)
    })
}

/// Whether `base` agrees with `cell` on every factor not named in the
/// baseline filter; a factor that does not apply to one of them (null, e.g.
/// `threads` for an async model) is ignored.
fn agrees(cell: &MeasuredCell, base: &MeasuredCell, named: &[&String]) -> bool {
    FACTORS.iter().all(|f| {
        if named.iter().any(|n| n.as_str() == *f) {
            return true;
        }
        match (cell.factor(f), base.factor(f)) {
            (Value::Null, _) | (_, Value::Null) => true,
            (Value::Num(a), Value::Num(b)) => num_eq(*a, *b),
            (a, b) => a == b,
        }
    })
}

fn inconclusive(experiment: &str, rule: &Rule, reason: String) -> RuleOutcome {
    undecided(
        experiment,
        Some(rule.clone()),
        rule.text.clone(),
        rule.formal(),
        reason,
    )
}

/// A rule of the manifest that does not read: inconclusive, saying why.
pub fn malformed(experiment: &str, bad: &MalformedRule) -> RuleOutcome {
    undecided(
        experiment,
        None,
        bad.text.clone(),
        bad.written.clone(),
        format!("malformed rule: {}", bad.why),
    )
}

/// An inconclusive outcome with no effect and no checks: why is `reason`.
fn undecided(
    experiment: &str,
    rule: Option<Rule>,
    text: String,
    formal: String,
    reason: String,
) -> RuleOutcome {
    RuleOutcome {
        rule,
        experiment: experiment.to_string(),
        text,
        formal,
        verdict: Verdict::Inconclusive,
        effect: None,
        effect_ci_lo: None,
        effect_ci_hi: None,
        effect_cell: None,
        method: None,
        reason: Some(reason),
        checks: Vec::new(),
    }
}

/// Evaluates a rule on the cells of one experiment.
pub fn evaluate(experiment: &str, rule: &Rule, cells: &[&MeasuredCell]) -> RuleOutcome {
    let ok: Vec<&MeasuredCell> = cells.iter().copied().filter(|c| c.is_ok()).collect();
    let matched: Vec<&MeasuredCell> = ok
        .iter()
        .copied()
        .filter(|c| cell_matches(c, &rule.filter))
        .collect();
    if matched.is_empty() {
        return inconclusive(
            experiment,
            rule,
            format!("no ok cell matches the filter {}", fmt_filter(&rule.filter)),
        );
    }
    let mut checks = Vec::new();
    let mut missing = Vec::new();
    for cell in &matched {
        let values = cell.raw(&rule.metric);
        if values.is_empty() {
            missing.push(format!("{} has no `{}`", cell.cell, rule.metric));
            continue;
        }
        match &rule.baseline {
            None => {
                checks.push(make_check(rule, cell, None, geometric_t(&values)));
            }
            Some(bfilter) => {
                // Only the factors the baseline names may differ: a factor
                // that `filter` narrows (e.g. `concurrency = ">=1000"`) is
                // still compared like for like.
                let named: Vec<&String> = bfilter.keys().collect();
                let bases: Vec<&MeasuredCell> = ok
                    .iter()
                    .copied()
                    .filter(|b| b.cell != cell.cell)
                    .filter(|b| cell_matches(b, bfilter) && agrees(cell, b, &named))
                    .collect();
                if bases.is_empty() {
                    missing.push(format!("no baseline cell for {}", cell.cell));
                }
                for base in bases {
                    let bvalues = base.raw(&rule.metric);
                    if bvalues.is_empty() || bvalues.iter().all(|x| *x == 0.0) {
                        missing.push(format!(
                            "baseline {} has no usable `{}`",
                            base.cell, rule.metric
                        ));
                        continue;
                    }
                    let ratio = ratio_welch(&values, &bvalues);
                    checks.push(make_check(rule, cell, Some(&base.cell), ratio));
                }
            }
        }
    }
    let verdict = match judge(checks.iter()) {
        Verdict::Supported if !missing.is_empty() => Verdict::Inconclusive,
        v => v,
    };
    let worst = checks.iter().min_by(|a, b| {
        let ord = a.value.total_cmp(&b.value);
        if rule.compare.wants_large() {
            ord
        } else {
            ord.reverse()
        }
    });
    let mut thin: Vec<&str> = checks
        .iter()
        .filter(|c| c.repetitions < 2)
        .map(|c| c.cell.as_str())
        .collect();
    thin.dedup();
    let reason = if verdict == Verdict::Inconclusive {
        if !missing.is_empty() {
            Some(abbreviate(&missing, "; "))
        } else if !thin.is_empty() {
            Some(format!(
                "fewer than 2 ok repetitions (no confidence interval): {}",
                abbreviate(&thin, ", ")
            ))
        } else {
            let straddling: Vec<String> = checks
                .iter()
                .filter(|c| c.undecided)
                .map(|c| format!("{} {}", c.cell, fmt_interval(c)))
                .collect();
            Some(format!(
                "the 95% interval straddles the threshold {}: {}",
                rule.threshold,
                abbreviate(&straddling, "; ")
            ))
        }
    } else {
        None
    };
    RuleOutcome {
        rule: Some(rule.clone()),
        experiment: experiment.to_string(),
        text: rule.text.clone(),
        formal: rule.formal(),
        verdict,
        effect: worst.map(|c| c.value),
        effect_ci_lo: worst.and_then(|c| c.ci_lo),
        effect_ci_hi: worst.and_then(|c| c.ci_hi),
        effect_cell: worst.map(|c| match &c.baseline_cell {
            Some(b) => format!("{} vs {}", c.cell, b),
            None => c.cell.clone(),
        }),
        method: worst.map(|c| c.method.to_string()),
        reason,
        checks,
    }
}

/// A set of checks judged as a rule judges its own: one whose interval lies
/// wholly on the wrong side makes it not supported; every one holding with
/// its interval clear, supported; anything else (or none), inconclusive.
pub(crate) fn judge<'a>(checks: impl IntoIterator<Item = &'a RuleCheck>) -> Verdict {
    let checks: Vec<&RuleCheck> = checks.into_iter().collect();
    if checks.iter().any(|c| c.wrong) {
        Verdict::NotSupported
    } else if !checks.is_empty() && checks.iter().all(|c| c.holds && c.clear) {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    }
}

/// A rule's verdict on one model's cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVerdict {
    pub model: String,
    pub verdict: Verdict,
    /// The smallest and largest value of its checks.
    pub lo: f64,
    pub hi: f64,
}

impl RuleCheck {
    /// The check's interval, as the rule computed it.
    pub fn interval(&self) -> Interval {
        Interval {
            estimate: self.value,
            lo: self.ci_lo,
            hi: self.ci_hi,
            basis: self.method,
        }
    }

    /// What more repetitions of its cells would do to it.
    pub fn outlook(&self, threshold: f64) -> Outlook {
        outlook(&self.interval(), threshold)
    }
}

impl RuleOutcome {
    /// The rule's verdict per model, each model's checks judged as the rule
    /// judges all of them, in the report's model order.
    pub fn by_model(&self) -> Vec<ModelVerdict> {
        crate::stats::in_model_order(self.checks.iter().map(|c| c.model.as_str()))
            .into_iter()
            .map(|m| {
                let mine: Vec<&RuleCheck> = self.checks.iter().filter(|c| c.model == m).collect();
                let values = mine.iter().map(|c| c.value);
                ModelVerdict {
                    model: m.to_string(),
                    verdict: judge(mine.iter().copied()),
                    lo: values.clone().fold(f64::INFINITY, f64::min),
                    hi: values.fold(f64::NEG_INFINITY, f64::max),
                }
            })
            .collect()
    }
}

/// Joins at most three items and counts the rest.
fn abbreviate<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let shown: Vec<&str> = items.iter().take(3).map(|s| s.as_ref()).collect();
    let mut out = shown.join(sep);
    if items.len() > 3 {
        out.push_str(&format!(" and {} more", items.len() - 3));
    }
    out
}

/// `[lo, hi] (n = 3 vs 3, Welch t on logs (df 3.8))`, or the method alone.
pub fn fmt_interval(c: &RuleCheck) -> String {
    match (c.ci_lo, c.ci_hi) {
        (Some(lo), Some(hi)) => {
            format!("[{}, {}] ({})", fmt_compact(lo), fmt_compact(hi), c.method)
        }
        _ => format!("({})", c.method),
    }
}

fn make_check(
    rule: &Rule,
    cell: &MeasuredCell,
    baseline: Option<&str>,
    interval: Interval,
) -> RuleCheck {
    let (t, cmp) = (rule.threshold, rule.compare);
    let bounds = interval.bounds();
    let clear = bounds.is_some_and(|(lo, hi)| cmp.holds(lo, t) && cmp.holds(hi, t));
    let wrong = bounds.is_some_and(|(lo, hi)| !cmp.holds(lo, t) && !cmp.holds(hi, t));
    RuleCheck {
        cell: cell.cell.clone(),
        model: cell.model.clone(),
        baseline_cell: baseline.map(str::to_string),
        value: interval.estimate,
        ci_lo: interval.lo,
        ci_hi: interval.hi,
        method: interval.basis,
        holds: cmp.holds(interval.estimate, t),
        clear,
        wrong,
        repetitions: interval.n(),
        undecided: !clear && !wrong,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Row;
    use serde_json::json;

    fn cell(name: &str, model: &str, concurrency: f64, throughput: &[f64]) -> MeasuredCell {
        let mut row = Row::default();
        row.values.insert("model".into(), Value::Str(model.into()));
        row.values
            .insert("concurrency".into(), Value::Num(concurrency));
        row.values.insert("io_latency_ms".into(), Value::Num(50.0));
        row.values.insert("threads".into(), Value::Null);
        MeasuredCell {
            experiment: "e".into(),
            cell: name.into(),
            model: model.into(),
            factors: FACTORS
                .iter()
                .map(|f| (f.to_string(), row.get(f).clone()))
                .collect(),
            first_row: row,
            values: [(
                "throughput_rps".to_string(),
                throughput
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (i as i64, *x))
                    .collect(),
            )]
            .into_iter()
            .collect(),
            ok_repetitions: throughput.len(),
            failures: vec![],
            notes: vec![],
            transient: false,
            cache: Default::default(),
        }
    }

    fn rule(v: Json) -> Rule {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn filter_semantics() {
        let v = Value::Num(1000.0);
        assert!(value_matches(&v, &json!(1000)));
        assert!(value_matches(&v, &json!(1000.0)));
        assert!(value_matches(&v, &json!([10, 1000])));
        assert!(!value_matches(&v, &json!([10, 100])));
        assert!(value_matches(&v, &json!(">=400")));
        assert!(value_matches(&v, &json!(">999.5")));
        assert!(!value_matches(&v, &json!("<1000")));
        assert!(value_matches(&v, &json!("<=1000")));
        assert!(value_matches(&v, &json!("1000")));
        assert!(!value_matches(&Value::Null, &json!(">=0")));
        assert!(value_matches(&Value::Null, &json!(null)));
        let s = Value::Str("tokio".into());
        assert!(value_matches(&s, &json!("tokio")));
        assert!(value_matches(&s, &json!(["smol", "tokio"])));
        assert!(!value_matches(&s, &json!("tokio-current")));
        assert!(value_matches(&Value::Bool(true), &json!(true)));
    }

    #[test]
    fn a_rule_is_judged_per_model_too() {
        // The Rust model clears the threshold; the stack is wholly below it.
        let rust = cell(
            "threads-c1000",
            "threads",
            1000.0,
            &[1990.0, 2000.0, 1995.0],
        );
        let stack = cell(
            "tomcat-c1000",
            "tomcat-pool",
            1000.0,
            &[900.0, 950.0, 920.0],
        );
        let both = cell(
            "tomcat-c1000-b",
            "tomcat-pool",
            1000.0,
            &[1980.0, 1990.0, 1985.0],
        );
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {}, "compare": ">=", "threshold": 1800}));
        let out = evaluate("e", &r, &[&rust, &stack, &both]);
        assert_eq!(out.verdict, Verdict::NotSupported);
        let by = out.by_model();
        assert_eq!(
            by.iter()
                .map(|m| (m.model.as_str(), m.verdict))
                .collect::<Vec<_>>(),
            [
                ("threads", Verdict::Supported),
                ("tomcat-pool", Verdict::NotSupported)
            ]
        );
        let tomcat = &by[1];
        assert!(tomcat.lo < 930.0 && tomcat.hi > 1980.0, "{tomcat:?}");
        assert_eq!(tomcat.lo, out.checks[1].value);
    }

    #[test]
    fn threshold_rule_supported_and_not_supported() {
        let a = cell("a", "tokio", 1000.0, &[1000.0, 1010.0, 990.0]);
        let b = cell("b", "tokio", 100.0, &[500.0, 505.0, 495.0]);
        let cells = [&a, &b];
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio", "concurrency": ">=400"}, "compare": ">=", "threshold": 900}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.verdict, Verdict::Supported);
        assert_eq!(out.checks.len(), 1, "only the c=1000 cell matches");
        // The geometric mean of 1000, 1010, 990.
        assert!(
            (out.effect.unwrap() - 999.97).abs() < 0.01,
            "{:?}",
            out.effect
        );
        assert_eq!(
            r.formal(),
            "throughput_rps[concurrency>=400, model=tokio] >= 900"
        );

        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio"}, "compare": ">=", "threshold": 900}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.verdict, Verdict::NotSupported);
        assert!(
            (out.effect.unwrap() - 500.0).abs() < 0.1,
            "worst case is the minimum"
        );
    }

    #[test]
    fn inconclusive_when_ci_overlaps_threshold_or_nothing_matches() {
        let a = cell("a", "tokio", 1000.0, &[850.0, 1000.0, 950.0]);
        let cells = [&a];
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio"}, "compare": ">=", "threshold": 900}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        let reason = out.reason.unwrap();
        assert!(reason.contains("straddles the threshold 900"), "{reason}");
        assert!(
            reason.contains("n = 3, Student t on logs (df 2)"),
            "{reason}"
        );

        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "smol"}, "compare": ">=", "threshold": 900}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert!(out.reason.unwrap().contains("no ok cell matches"));
    }

    #[test]
    fn baseline_ratio_matches_on_unnamed_factors() {
        let t1 = cell("t1", "tokio", 100.0, &[300.0, 310.0, 305.0]);
        let t2 = cell("t2", "tokio", 1000.0, &[3000.0, 3050.0, 2990.0]);
        let h1 = cell("h1", "threads", 100.0, &[100.0, 101.0, 99.0]);
        let h2 = cell("h2", "threads", 1000.0, &[200.0, 201.0, 199.0]);
        let cells = [&t1, &t2, &h1, &h2];
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio"}, "baseline": {"model": "threads"},
            "compare": ">=", "threshold": 2}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.checks.len(), 2);
        assert_eq!(out.checks[0].baseline_cell.as_deref(), Some("h1"));
        assert_eq!(out.checks[1].baseline_cell.as_deref(), Some("h2"));
        assert_eq!(out.verdict, Verdict::Supported);
        // The ratio of geometric means, 3050 / 1000 at the worst check.
        assert!(
            (out.effect.unwrap() - 3.05).abs() < 0.01,
            "{:?}",
            out.effect
        );
        assert!(out
            .method
            .unwrap()
            .starts_with("n = 3 vs 3, Welch t on logs"));

        // A factor the filter narrows is still compared like for like.
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio", "concurrency": ">=500"}, "baseline": {"model": "threads"},
            "compare": ">=", "threshold": 2}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.checks.len(), 1);
        assert_eq!(out.checks[0].baseline_cell.as_deref(), Some("h2"));

        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"model": "tokio"}, "baseline": {"model": "smol"},
            "compare": ">=", "threshold": 2}));
        let out = evaluate("e", &r, &cells);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert!(out.reason.unwrap().contains("no baseline cell"));
    }

    #[test]
    fn one_repetition_cannot_decide() {
        let a = cell("a", "tokio", 1000.0, &[5000.0]);
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {}, "compare": ">=", "threshold": 900}));
        let out = evaluate("e", &r, &[&a]);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert!(out.reason.unwrap().contains("fewer than 2"));
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {}, "compare": "<", "threshold": 900}));
        assert_eq!(evaluate("e", &r, &[&a]).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn malformed_rule_is_inconclusive() {
        let bad = MalformedRule {
            text: "x".into(),
            written: json!({"text": "x", "metric": "m"}).to_string(),
            why: "missing field `compare`".into(),
        };
        let out = malformed("e", &bad);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert_eq!(out.rule, None);
        assert!(out.reason.unwrap().starts_with("malformed rule"));
    }

    #[test]
    fn combine_verdicts() {
        use Verdict::*;
        assert_eq!(combine(&[Supported, Supported]), Supported);
        assert_eq!(combine(&[Supported, Inconclusive]), Inconclusive);
        assert_eq!(combine(&[Inconclusive, NotSupported]), NotSupported);
        assert_eq!(combine(&[]), Inconclusive);
    }
}
