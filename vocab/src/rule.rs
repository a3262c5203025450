//! A `[[verdict]]` rule, declared once: the runner validates it from a spec
//! and records it in the manifest; the report evaluates it. What a rule
//! means (filters, baselines, the interval against the threshold) is in the
//! README's Statistics section.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Comparison operator of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl Compare {
    /// Every operator, longest symbol first (so `>=` is not read as `>`).
    pub const ALL: [Compare; 4] = [Compare::Ge, Compare::Le, Compare::Gt, Compare::Lt];

    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Ge => ">=",
            Compare::Le => "<=",
            Compare::Gt => ">",
            Compare::Lt => "<",
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Compare::Ge => value >= threshold,
            Compare::Le => value <= threshold,
            Compare::Gt => value > threshold,
            Compare::Lt => value < threshold,
        }
    }

    /// Whether larger values are better for this comparison.
    pub fn wants_large(self) -> bool {
        matches!(self, Compare::Ge | Compare::Gt)
    }

    /// The operator written exactly as `s`.
    pub fn parse_symbol(s: &str) -> Option<Compare> {
        Compare::ALL.into_iter().find(|c| c.symbol() == s)
    }

    /// A numeric bound written as a filter string: `">=400"` → (Ge, 400).
    pub fn bound(s: &str) -> Option<(Compare, f64)> {
        let s = s.trim();
        Compare::ALL.into_iter().find_map(|c| {
            let rest = s.strip_prefix(c.symbol())?;
            rest.trim().parse::<f64>().ok().map(|t| (c, t))
        })
    }
}

/// One `[[verdict]]` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule in words, shown next to the verdict.
    pub text: String,
    /// A numeric column of `results.parquet` (or a metric the report
    /// derives: `rss_per_inflight_bytes`, `ctx_per_request`).
    pub metric: String,
    /// Column → value or list of values; a string starting with `>=`, `<=`,
    /// `>` or `<` is a numeric bound.
    #[serde(default)]
    pub filter: BTreeMap<String, Json>,
    /// Selects the baseline cells; the value compared is then the ratio
    /// median(metric) / median(baseline metric).
    #[serde(default)]
    pub baseline: Option<BTreeMap<String, Json>>,
    pub compare: Compare,
    pub threshold: f64,
    /// What the rule's number is, in a reader's words, where the metric and
    /// the filters cannot say it (`"throughput waiting 100 ms over waiting
    /// 0 ms"`): the report's verdict table prints it before the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
}

impl Rule {
    /// The rule in one line, e.g.
    /// `latency_p99_ms[model=tokio] / latency_p99_ms[model=threads] >= 5`.
    pub fn formal(&self) -> String {
        let lhs = format!("{}{}", self.metric, fmt_filter(&self.filter));
        match &self.baseline {
            Some(b) => format!(
                "{lhs} / {}{} {} {}",
                self.metric,
                fmt_filter(b),
                self.compare.symbol(),
                self.threshold
            ),
            None => format!("{lhs} {} {}", self.compare.symbol(), self.threshold),
        }
    }
}

/// A filter as the report prints it: `[model=tokio, concurrency>=400]`.
pub fn fmt_filter(filter: &BTreeMap<String, Json>) -> String {
    let parts: Vec<String> = filter
        .iter()
        .map(|(k, v)| match v {
            Json::String(s) if Compare::bound(s).is_some() => format!("{k}{s}"),
            Json::String(s) => format!("{k}={s}"),
            Json::Array(items) => format!(
                "{k}∈{{{}}}",
                items
                    .iter()
                    .map(|i| match i {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => format!("{k}={other}"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_symbols_read_back() {
        assert_eq!(Compare::bound(">=400"), Some((Compare::Ge, 400.0)));
        assert_eq!(Compare::bound(" > 0.94"), Some((Compare::Gt, 0.94)));
        assert_eq!(Compare::bound("=400"), None);
        for c in Compare::ALL {
            assert_eq!(Compare::parse_symbol(c.symbol()), Some(c));
        }
        assert_eq!(Compare::parse_symbol("=>"), None);
    }
}
