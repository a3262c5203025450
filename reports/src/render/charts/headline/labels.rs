//! The words of a headline chart: the metric's name and unit, the
//! comparison's sign, values, and each check's label (the factors that tell
//! its cell apart), wrapped to its slot.

use crate::load::{fmt_compact, Value};
use crate::stats::{varying_factors, MeasuredCell, FACTORS};
use crate::verdict::{Compare, RuleCheck};
use threadloop_vocab::schema::cols;

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
        "memory_per_inflight_bytes" => ("memory (RSS + kernel) per in-flight request", "bytes"),
        cols::kernel_window_peak_bytes => ("kernel memory (peak)", "bytes"),
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

/// `4.93×` or `0.977`.
pub fn fmt_value(v: f64, ratio: bool) -> String {
    format!("{}{}", fmt_compact(v), if ratio { "×" } else { "" })
}

/// A factor's value in a label: the model bare, `c=1000`, `client=async`.
pub(crate) fn token(factor: &str, v: &Value) -> String {
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
pub(crate) fn differing(a: &MeasuredCell, b: &MeasuredCell) -> Vec<&'static str> {
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
pub fn check_tokens(
    checks: &[RuleCheck],
    cells: &[&MeasuredCell],
) -> Vec<(Vec<String>, Option<Vec<String>>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
