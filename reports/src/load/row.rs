//! One row of `results.parquet` as the report reads it: its values,
//! normalised ([`Value`]), and the metrics derived from them
//! ([`DERIVED_METRICS`], each declared in `threadloop_vocab::schema`).

use serde::Serialize;
use std::collections::BTreeMap;
use threadloop_vocab::schema::{cols, derived};
use threadloop_vocab::Status;

/// One cell value of `results.parquet`, normalised: every numeric column is
/// read as `f64`, every non-numeric, non-boolean column as a string.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(x) if x.is_finite() => Some(*x),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Short human form (`1000`, `0.5`, `tokio`, `true`, `–`).
    pub fn display(&self) -> String {
        match self {
            Value::Null => "–".into(),
            Value::Num(x) => fmt_compact(*x),
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// Formats a number for reading: integers without decimals, others with
/// three significant digits (`engine::fmt_num` formats one for a cell id).
pub fn fmt_compact(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    if a >= 100.0 {
        format!("{:.0}", x)
    } else if a >= 10.0 {
        format!("{:.1}", x)
    } else if a >= 1.0 {
        format!("{:.2}", x)
    } else if a >= 0.01 {
        format!("{:.3}", x)
    } else {
        format!("{:.2e}", x)
    }
}

/// One row of `results.parquet` (one cell × repetition), plus the derived
/// metrics ([`DERIVED_METRICS`]).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub values: BTreeMap<String, Value>,
}

impl Row {
    pub fn get(&self, column: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.values.get(column).unwrap_or(&NULL)
    }
    pub fn num(&self, column: &str) -> Option<f64> {
        self.get(column).as_f64()
    }
    pub fn str(&self, column: &str) -> Option<&str> {
        self.get(column).as_str()
    }
    pub fn text(&self, column: &str) -> String {
        self.str(column).unwrap_or_default().to_string()
    }
    /// The `status` column; `None` when it is missing (a file from before
    /// it) or names no status.
    pub fn status(&self) -> Option<Status> {
        self.str(cols::status).and_then(Status::parse)
    }
    /// Status ok (a missing status counts as ok; one naming no status does
    /// not).
    pub fn is_ok(&self) -> bool {
        self.str(cols::status).is_none() || self.status() == Some(Status::Ok)
    }
    /// Measured while the machine stalled: neither ok nor failed.
    pub fn is_disturbed(&self) -> bool {
        self.status() == Some(Status::Disturbed)
    }

    pub(super) fn add_derived(&mut self) {
        // A figure's growth over the window, and its share per request in
        // flight or per thread the process gained (none gained: none).
        let delta = |peak: &str, idle: &str| Some(self.num(peak)? - self.num(idle)?);
        let over = |d: Option<f64>, n: Option<f64>| match (d, n) {
            (Some(d), Some(n)) if n > 0.0 => Some(d / n),
            _ => None,
        };
        let inflight = self.num(cols::concurrency);
        let gained = delta(cols::threads_peak, cols::threads_idle);
        let rss_delta = delta(cols::rss_window_peak_bytes, cols::rss_idle_bytes);
        let kernel_delta = delta(cols::kernel_window_peak_bytes, cols::kernel_idle_bytes);
        let rss = over(rss_delta, inflight);
        let kernel = over(kernel_delta, inflight);
        let total = rss.zip(kernel).map(|(r, k)| r + k);
        let switches = self
            .num(cols::ctx_voluntary)
            .zip(self.num(cols::ctx_involuntary));
        let ctx = over(switches.map(|(v, i)| v + i), self.num(cols::completed));
        let vm = over(
            delta(cols::vm_window_peak_bytes, cols::vm_idle_bytes),
            gained,
        );
        let paid = over(rss_delta.zip(kernel_delta).map(|(r, k)| r + k), gained);
        for (name, value) in [
            (derived::rss_per_inflight_bytes, rss),
            (derived::kernel_per_inflight_bytes, kernel),
            (derived::memory_per_inflight_bytes, total),
            (derived::ctx_per_request, ctx),
            (derived::vm_per_thread_bytes, vm),
            (derived::memory_per_thread_bytes, paid),
        ] {
            self.values
                .insert(name.into(), value.map_or(Value::Null, Value::Num));
        }
    }
}

/// Metrics the report derives per row from the stored columns (see
/// [`Row::add_derived`]; each declared, with its unit and formula, in
/// `threadloop_vocab::schema::DERIVED`): a rule may name them as it names a
/// column.
pub const DERIVED_METRICS: [&str; 6] = [
    derived::rss_per_inflight_bytes,
    derived::kernel_per_inflight_bytes,
    derived::memory_per_inflight_bytes,
    derived::ctx_per_request,
    derived::vm_per_thread_bytes,
    derived::memory_per_thread_bytes,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every derived metric declared is computed, and a row's memory per
    /// request in flight is its RSS and its kernel memory together.
    #[test]
    fn every_declared_derived_metric_is_computed() {
        let names: Vec<&str> = threadloop_vocab::schema::DERIVED
            .iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, DERIVED_METRICS);
        let mut row = Row::default();
        for (c, v) in [
            (cols::rss_idle_bytes, 1000.0),
            (cols::rss_window_peak_bytes, 21_000.0),
            (cols::kernel_idle_bytes, 500.0),
            (cols::kernel_window_peak_bytes, 40_500.0),
            (cols::concurrency, 10.0),
        ] {
            row.values.insert(c.into(), Value::Num(v));
        }
        row.add_derived();
        assert_eq!(row.num(derived::rss_per_inflight_bytes), Some(2000.0));
        assert_eq!(row.num(derived::kernel_per_inflight_bytes), Some(4000.0));
        assert_eq!(row.num(derived::memory_per_inflight_bytes), Some(6000.0));
        assert_eq!(
            row.num(derived::vm_per_thread_bytes),
            None,
            "no threads counted"
        );
        for (c, v) in [
            (cols::threads_idle, 10.0),
            (cols::threads_peak, 30.0),
            (cols::vm_idle_bytes, 1e9),
            (cols::vm_window_peak_bytes, 1e9 + 20.0 * 1_048_576.0),
        ] {
            row.values.insert(c.into(), Value::Num(v));
        }
        row.add_derived();
        assert_eq!(row.num(derived::vm_per_thread_bytes), Some(1_048_576.0));
        assert_eq!(row.num(derived::memory_per_thread_bytes), Some(3000.0));
        row.values.remove(cols::kernel_idle_bytes);
        row.add_derived();
        assert_eq!(row.num(derived::memory_per_inflight_bytes), None);
        assert_eq!(row.num(derived::memory_per_thread_bytes), None);
    }

    #[test]
    fn a_status_reads_typed() {
        let row = |s: Option<&str>| Row {
            values: s
                .map(|s| (cols::status.to_string(), Value::Str(s.into())))
                .into_iter()
                .collect(),
        };
        assert!(row(None).is_ok() && row(Some("ok")).is_ok());
        assert!(!row(Some("failed")).is_ok() && !row(Some("bogus")).is_ok());
        assert!(row(Some("disturbed")).is_disturbed());
        assert_eq!(row(Some("skipped")).status(), Some(Status::Skipped));
    }
}
