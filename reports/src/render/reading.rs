//! A rule's number as a reader reads it: what it is, in words and units,
//! beside what was wanted (`light-request latency p99, inline over
//! worker-pool: 0.79×, wanted ≥ 5×`), and what its interval is (`95%
//! interval 0.58–207: the ratio of geometric means, 2 vs 2 repetitions,
//! Welch t on the logs (df 1.2)`). The words come from the typed rule: its
//! metric and that metric's unit, its class, and for a ratio the factors on
//! which the deciding check's cell and its baseline differ; a spec's
//! `headline` replaces the derived words where they cannot say it.

use crate::interval::{Basis, Method, SampleSize};
use crate::load::{fmt_compact, Value};
use crate::render::charts::headline::{compare_sign, differing, metric_unit, token};
use crate::stats::MeasuredCell;
use crate::verdict::{Rule, RuleCheck, RuleOutcome};
use serde_json::Value as Json;
use threadloop_vocab::schema::cols;

/// What the rule's number is, in words: the spec's `headline`, or the
/// metric (with its request class) and, for a ratio, the two sides of the
/// deciding check (`worst`), else those the filters name.
pub fn quantity(rule: &Rule, worst: Option<&RuleCheck>, cells: &[&MeasuredCell]) -> String {
    if let Some(words) = rule.headline.as_deref().filter(|w| !w.trim().is_empty()) {
        return words.trim().to_string();
    }
    let (name, _) = metric_unit(&rule.metric);
    let name = if rule.metric == cols::fidelity {
        "throughput / its bound".to_string()
    } else {
        name
    };
    let class = match rule.filter.get(cols::class) {
        Some(Json::String(c)) if c != "all" => format!("{c}-request "),
        _ => String::new(),
    };
    let what = format!("{class}{name}");
    let Some(baseline) = &rule.baseline else {
        return what;
    };
    let find = |id: &str| cells.iter().copied().find(|c| c.cell == id);
    let pair = worst.and_then(|w| Some((find(&w.cell)?, find(w.baseline_cell.as_deref()?)?)));
    let (num, den) = match pair {
        Some((cell, base)) => {
            let against = differing(cell, base);
            let side = |c: &MeasuredCell| {
                against
                    .iter()
                    .filter(|f| **f != cols::class)
                    .map(|f| side_token(f, c.factor(f)))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (side(cell), side(base))
        }
        None => {
            let side = |filter: &std::collections::BTreeMap<String, Json>| {
                baseline
                    .keys()
                    .filter_map(|k| filter.get(k).map(|v| side_token(k, &json_value(v))))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (side(&rule.filter), side(baseline))
        }
    };
    match (num.is_empty(), den.is_empty()) {
        (false, false) => format!("{what}, {num} over {den}"),
        (true, false) => format!("{what} over {den}'s"),
        _ => format!("{what} ratio"),
    }
}

/// One side of a ratio: a named value bare (`inline`, `blocking`), a
/// number with its factor (`io=100ms`, `c=1000`).
fn side_token(factor: &str, v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => token(factor, other),
    }
}

fn json_value(v: &Json) -> Value {
    match v {
        Json::String(s) => Value::Str(s.clone()),
        Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        Json::Bool(b) => Value::Bool(*b),
        Json::Array(items) => Value::Str(
            items
                .iter()
                .map(|i| match i {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/"),
        ),
        _ => Value::Null,
    }
}

/// A value of `metric` in its unit: `297 ms`, `2000 req/s`, `14.3 KiB`,
/// `0.79×` for a ratio.
pub fn with_unit(v: f64, metric: &str, ratio: bool) -> String {
    if ratio {
        return format!("{}×", fmt_compact(v));
    }
    let (_, unit) = metric_unit(metric);
    match unit {
        "bytes" => bytes(v),
        "" | "measured / bound" => fmt_compact(v),
        u => format!("{} {u}", fmt_compact(v)),
    }
}

/// `14.3 KiB`, `1.20 MiB`, `512 B`.
fn bytes(v: f64) -> String {
    let a = v.abs();
    if a >= (1u64 << 30) as f64 {
        format!("{} GiB", fmt_compact(v / (1u64 << 30) as f64))
    } else if a >= (1u64 << 20) as f64 {
        format!("{} MiB", fmt_compact(v / (1u64 << 20) as f64))
    } else if a >= 1024.0 {
        format!("{} KiB", fmt_compact(v / 1024.0))
    } else {
        format!("{} B", fmt_compact(v))
    }
}

/// A rule's headline: `light-request latency p99, inline over worker-pool:
/// 0.79×, wanted ≥ 5×`; without a number, what was wanted alone.
pub fn headline(outcome: &RuleOutcome, cells: &[&MeasuredCell]) -> Option<String> {
    let rule = outcome.rule.as_ref()?;
    let ratio = rule.baseline.is_some();
    let worst = worst_check(outcome);
    let what = quantity(rule, worst, cells);
    let wanted = format!(
        "wanted {} {}",
        compare_sign(rule.compare),
        with_unit(rule.threshold, &rule.metric, ratio)
    );
    Some(match outcome.effect {
        Some(v) if v.is_finite() => {
            format!("{what}: {}, {wanted}", with_unit(v, &rule.metric, ratio))
        }
        _ => format!("{what}: {wanted}"),
    })
}

/// The check the outcome's effect comes from.
pub fn worst_check(outcome: &RuleOutcome) -> Option<&RuleCheck> {
    let id = outcome.effect_cell.as_deref()?;
    outcome.checks.iter().find(|c| match &c.baseline_cell {
        Some(b) => id == format!("{} vs {b}", c.cell),
        None => id == c.cell,
    })
}

/// What a check's interval is, in words: `95% interval 0.58–207: the ratio
/// of geometric means, 2 vs 2 repetitions, Welch t on the logs (df 1.2)`.
pub fn interval_words(
    lo: Option<f64>,
    hi: Option<f64>,
    basis: &Basis,
    unit: &dyn Fn(f64) -> String,
) -> String {
    let reps = |n: usize| {
        if n == 1 {
            "1 repetition".to_string()
        } else {
            format!("{n} repetitions")
        }
    };
    let of = match basis.n {
        SampleSize::One(n) => reps(n),
        SampleSize::Ratio(a, b) if a == b => format!("{} of each side", reps(a)),
        SampleSize::Ratio(a, b) => format!("{} over {}", reps(a), reps(b)),
    };
    let df = basis
        .df
        .map(|d| {
            if (d - d.round()).abs() < 0.05 {
                format!(" (df {})", d.round())
            } else {
                format!(" (df {d:.1})")
            }
        })
        .unwrap_or_default();
    let (what, how) = match basis.method {
        Method::TooFew => return format!("{of}: too few for an interval"),
        Method::NonPositive => return format!("{of}: a value of zero, so no interval on the logs"),
        Method::StudentT => ("the mean", "Student t"),
        Method::LogStudentT => ("the geometric mean", "Student t on the logs"),
        Method::WelchLogT => ("the ratio of geometric means", "Welch t on the logs"),
    };
    match (lo, hi) {
        (Some(lo), Some(hi)) if unit(lo) == unit(hi) => {
            format!("{what} of {of}, every repetition alike (no spread)")
        }
        (Some(lo), Some(hi)) => format!(
            "95% interval {} to {}: {what} of {of}, {how}{df}",
            unit(lo),
            unit(hi)
        ),
        _ => format!("{of}: no interval"),
    }
}

/// [`interval_words`] of a rule's deciding check, in the rule's unit.
pub fn effect_words(outcome: &RuleOutcome) -> Option<String> {
    let worst = worst_check(outcome)?;
    let (metric, ratio) = match &outcome.rule {
        Some(r) => (r.metric.as_str(), r.baseline.is_some()),
        None => ("", worst.baseline_cell.is_some()),
    };
    Some(interval_words(
        worst.ci_lo,
        worst.ci_hi,
        &worst.method,
        &|v| with_unit(v, metric, ratio),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::{geometric_t, ratio_welch};
    use serde_json::json;

    fn rule(v: Json) -> Rule {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_ratio_names_its_metric_class_and_sides_from_the_filters() {
        let r = rule(json!({"text": "t", "metric": "latency_p99_ms",
            "filter": {"class": "light", "offload": "inline", "cpu_ms": ">=10"},
            "baseline": {"offload": "worker-pool"}, "compare": ">=", "threshold": 5}));
        assert_eq!(
            quantity(&r, None, &[]),
            "light-request latency p99, inline over worker-pool"
        );
        let r = rule(json!({"text": "t", "metric": "fidelity",
            "filter": {"model": "threads"}, "compare": ">=", "threshold": 0.9}));
        assert_eq!(quantity(&r, None, &[]), "throughput / its bound");
        let r = rule(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"io_latency_ms": 100}, "baseline": {"io_latency_ms": 0},
            "compare": ">=", "threshold": 0.8,
            "headline": "throughput waiting 100 ms over waiting 0 ms"}));
        assert_eq!(
            quantity(&r, None, &[]),
            "throughput waiting 100 ms over waiting 0 ms"
        );
    }

    #[test]
    fn values_carry_their_unit_and_a_ratio_its_sign() {
        assert_eq!(with_unit(297.0, "latency_p99_ms", false), "297 ms");
        assert_eq!(with_unit(0.79, "latency_p99_ms", true), "0.790×");
        assert_eq!(
            with_unit(14643.0, "rss_per_inflight_bytes", false),
            "14.3 KiB"
        );
        assert_eq!(with_unit(0.95, "fidelity", false), "0.950");
    }

    #[test]
    fn an_interval_says_what_it_is() {
        let r = ratio_welch(&[6885.0, 10689.0], &[44500.0, 42538.0]);
        let words = interval_words(r.lo, r.hi, &r.basis, &|v| fmt_compact(v));
        assert!(
            words.starts_with("95% interval 0.0")
                && words.contains(": the ratio of geometric means of 2 repetitions of each side, Welch t on the logs (df 1"),
            "{words}"
        );
        let g = geometric_t(&[1.0, 1.0]);
        let words = interval_words(g.lo, g.hi, &g.basis, &|v| fmt_compact(v));
        assert_eq!(
            words,
            "the geometric mean of 2 repetitions, every repetition alike (no spread)"
        );
        let one = geometric_t(&[3.0]);
        assert_eq!(
            interval_words(one.lo, one.hi, &one.basis, &|v| fmt_compact(v)),
            "1 repetition: too few for an interval"
        );
    }
}
