//! Statistics per cell across repetitions: median, mean with its Student t
//! 95% CI (see [`crate::interval`] for why t and not a bootstrap), Tukey
//! fences that flag outliers without dropping them, coefficient of
//! variation.

use crate::interval::mean_t;
use crate::load::{Row, Value};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use threadloop_vocab::schema::cols;

/// splitmix64: tiny and deterministic; the coverage tests draw with it.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Linear-interpolated quantile of sorted data, `q` in 0..=1.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Median (NaN for no data).
pub fn median(xs: &[f64]) -> f64 {
    quantile_sorted(&sorted(xs), 0.5)
}

/// Tukey fences (1.5 × IQR beyond the quartiles): `true` marks an outlier.
/// Flags only; the caller keeps every value.
pub fn tukey_flags(xs: &[f64]) -> Vec<bool> {
    let s = sorted(xs);
    if s.len() < 3 {
        return vec![false; xs.len()];
    }
    let q1 = quantile_sorted(&s, 0.25);
    let q3 = quantile_sorted(&s, 0.75);
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    xs.iter().map(|&x| x < lo || x > hi).collect()
}

/// Coefficient of variation (sample standard deviation / mean); `None` for
/// fewer than two values or a zero mean.
pub fn cv(xs: &[f64]) -> Option<f64> {
    let xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return None;
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(var.sqrt() / mean.abs())
}

/// A metric of one cell aggregated over its ok repetitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub median: f64,
    pub mean: f64,
    /// 95% CI of the mean (Student t); null below 2 repetitions.
    pub ci_lo: Option<f64>,
    pub ci_hi: Option<f64>,
    /// How the interval was made, with its n: `n = 3, Student t (df 2)`.
    pub method: String,
    /// Coefficient of variation; null with one repetition.
    pub cv: Option<f64>,
    /// Repetitions that contributed a value.
    pub n: usize,
    /// Repetition numbers outside the Tukey fences (kept in the estimate).
    pub outliers: Vec<i64>,
}

impl Estimate {
    /// From `(repetition, value)` pairs; `None` without any finite value.
    pub fn from_pairs(pairs: &[(i64, f64)]) -> Option<Estimate> {
        let pairs: Vec<(i64, f64)> = pairs.iter().copied().filter(|p| p.1.is_finite()).collect();
        if pairs.is_empty() {
            return None;
        }
        let xs: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let interval = mean_t(&xs);
        let flags = tukey_flags(&xs);
        Some(Estimate {
            median: median(&xs),
            mean: interval.estimate,
            ci_lo: interval.lo,
            ci_hi: interval.hi,
            method: interval.describe(),
            cv: cv(&xs),
            n: xs.len(),
            outliers: pairs
                .iter()
                .zip(flags)
                .filter(|(_, f)| *f)
                .map(|(p, _)| p.0)
                .collect(),
        })
    }
}

/// Columns that describe a cell rather than measure it: the schema's factor
/// columns, in writing order, then the request class (a class row is a cell
/// of its own).
pub static FACTORS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    threadloop_vocab::schema::factors()
        .chain([cols::class])
        .collect()
});

/// The factors (model first) that take at least two distinct values among
/// `cells`, ignoring cells where a factor does not apply: what tells the
/// cells apart, so what their labels must show.
pub fn varying_factors(cells: &[&MeasuredCell]) -> Vec<&'static str> {
    FACTORS
        .iter()
        .copied()
        .filter(|f| distinct_values(cells, f, Unset::Ignored) > 1)
        .collect()
}

/// The factor columns of an experiment's cell table: the factors but the
/// model (a column of its own) whose shown value differs between `cells`, a
/// factor that does not apply to a cell (shown `–`) counting as a value.
pub fn table_factors(cells: &[&MeasuredCell]) -> Vec<&'static str> {
    FACTORS
        .iter()
        .copied()
        .filter(|f| *f != cols::model)
        .filter(|f| distinct_values(cells, f, Unset::Shown) > 1)
        .collect()
}

/// How [`distinct_values`] counts a factor that does not apply to a cell.
#[derive(Clone, Copy, PartialEq)]
enum Unset {
    /// Not at all.
    Ignored,
    /// As the value `–`.
    Shown,
}

/// How many distinct shown values `factor` takes among `cells`.
fn distinct_values(cells: &[&MeasuredCell], factor: &str, unset: Unset) -> usize {
    let mut seen: Vec<String> = cells
        .iter()
        .filter(|c| unset == Unset::Shown || !c.factor(factor).is_null())
        .map(|c| c.factor(factor).display())
        .collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

/// The display rank of a model by name (after every known model if
/// unknown): the order of legends and of table rows.
pub fn model_rank(model: &str) -> usize {
    use threadloop_vocab::Factor as _;
    threadloop_vocab::ModelKind::parse_name(model)
        .map_or(usize::MAX, threadloop_vocab::ModelKind::display_rank)
}

/// Each distinct model once, in display order ([`model_rank`], then name):
/// the order of every legend, column and table of the report.
pub fn in_model_order<'a>(models: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = models.into_iter().collect();
    v.sort_by_key(|m| (model_rank(m), *m));
    v.dedup();
    v
}

/// A repetition that failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    pub repetition: i64,
    pub error: String,
}

/// One cell of an experiment as measured: its factors and its repetitions,
/// the ok ones' values (with their estimates) apart from the failures. A
/// request class's row of a mixed cell is a measured cell of its own.
#[derive(Debug, Clone)]
pub struct MeasuredCell {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    /// Factor columns (see [`FACTORS`]) from the cell's first row.
    pub factors: BTreeMap<String, Value>,
    /// Every column of the cell's first row (for rule filters).
    pub first_row: Row,
    /// Numeric columns of ok repetitions: `(repetition, value)`.
    pub values: BTreeMap<String, Vec<(i64, f64)>>,
    pub ok_repetitions: usize,
    pub failures: Vec<Failure>,
    /// Distinct notes over all repetitions, in first-seen order.
    pub notes: Vec<String>,
    pub transient: bool,
    /// Estimates already computed (charts, tables and summaries ask for
    /// the same metric repeatedly).
    pub cache: RefCell<BTreeMap<String, Option<Estimate>>>,
}

impl MeasuredCell {
    /// Aggregate of a numeric column over the ok repetitions.
    pub fn estimate(&self, metric: &str) -> Option<Estimate> {
        if let Some(e) = self.cache.borrow().get(metric) {
            return e.clone();
        }
        let e = Estimate::from_pairs(self.values.get(metric)?);
        self.cache
            .borrow_mut()
            .insert(metric.to_string(), e.clone());
        e
    }
    /// Raw ok values of a numeric column.
    pub fn raw(&self, metric: &str) -> Vec<f64> {
        self.values
            .get(metric)
            .map(|v| v.iter().map(|p| p.1).collect())
            .unwrap_or_default()
    }
    pub fn factor(&self, name: &str) -> &Value {
        self.first_row.get(name)
    }
    pub fn factor_num(&self, name: &str) -> Option<f64> {
        self.factor(name).as_f64()
    }
    pub fn is_ok(&self) -> bool {
        self.ok_repetitions > 0
    }
    /// The id of the planned cell these rows belong to (what the runner
    /// executes): a request class's row is measured by its cell.
    pub fn planned_cell(&self) -> &str {
        threadloop_vocab::class_row::planned_cell(&self.cell, self.factor(cols::class).as_str())
    }
}

/// Groups rows into cells (in first-seen order), separating failed
/// repetitions from the statistics.
pub fn cells(rows: &[Row]) -> Vec<MeasuredCell> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut by_key: BTreeMap<(String, String), MeasuredCell> = BTreeMap::new();
    for row in rows {
        let key = (row.text(cols::experiment), row.text(cols::cell));
        let cell = by_key.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            MeasuredCell {
                experiment: key.0.clone(),
                cell: key.1.clone(),
                model: row.text(cols::model),
                factors: FACTORS
                    .iter()
                    .map(|f| (f.to_string(), row.get(f).clone()))
                    .collect(),
                first_row: row.clone(),
                values: BTreeMap::new(),
                ok_repetitions: 0,
                failures: Vec::new(),
                notes: Vec::new(),
                transient: false,
                cache: RefCell::default(),
            }
        });
        let repetition = row.num(cols::repetition).unwrap_or(0.0) as i64;
        if row.is_disturbed() {
            // Measured while the machine itself stalled (runner/src/hiccup.rs):
            // shown, never counted; the runner repeated it.
            let note = format!(
                "r{repetition} set aside: the machine stalled {} ms during it",
                row.num(cols::stall_ms)
                    .map_or("?".into(), |ms| format!("{ms:.0}"))
            );
            cell.notes.push(note);
            continue;
        }
        if !row.is_ok() {
            cell.failures.push(Failure {
                experiment: cell.experiment.clone(),
                cell: cell.cell.clone(),
                model: cell.model.clone(),
                repetition,
                error: row
                    .str(cols::error)
                    .unwrap_or("(no error message)")
                    .to_string(),
            });
            continue;
        }
        if cell.ok_repetitions == 0 {
            // Prefer an ok row's factors (a failed row may miss some).
            cell.first_row = row.clone();
            for f in FACTORS.iter() {
                cell.factors.insert(f.to_string(), row.get(f).clone());
            }
        }
        cell.ok_repetitions += 1;
        for (name, value) in &row.values {
            if let Value::Num(x) = value {
                if x.is_finite() {
                    cell.values
                        .entry(name.clone())
                        .or_default()
                        .push((repetition, *x));
                }
            }
        }
        if let Some(notes) = row.str(cols::notes) {
            for note in threadloop_vocab::notes::split(notes) {
                if !cell.notes.iter().any(|n| n == note) {
                    cell.notes.push(note.to_string());
                }
            }
        }
        if matches!(row.get(cols::transient), Value::Bool(true)) {
            cell.transient = true;
        }
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .collect()
}

/// The pointwise median of one cell's latency spectra, one spectrum per
/// repetition: `(percentile, median latency in ms)` in percentile order,
/// at the percentiles every repetition reached. The pointwise median of
/// monotone curves is monotone, but a tail point only the fastest
/// repetition recorded would make the curve drop at its end.
pub fn median_spectrum<'a>(
    points: impl IntoIterator<Item = &'a crate::load::SpectrumPoint>,
) -> Vec<(f64, f64)> {
    let mut by_p: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
    let mut reps: Vec<i64> = Vec::new();
    for p in points {
        reps.push(p.repetition);
        by_p.entry(p.percentile.to_bits())
            .or_insert((p.percentile, Vec::new()))
            .1
            .push(p.latency_ms);
    }
    reps.sort_unstable();
    reps.dedup();
    let mut out: Vec<(f64, f64)> = by_p
        .values()
        .filter(|(_, v)| v.len() >= reps.len())
        .map(|(p, v)| (*p, median(v)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disturbed_repetition_is_noted_and_never_counted() {
        use threadloop_vocab::Status;
        let row = |rep: f64, status: Status, rps: f64| Row {
            values: [
                ("experiment", Value::Str("e".into())),
                ("cell", Value::Str("c".into())),
                ("model", Value::Str("threads".into())),
                ("repetition", Value::Num(rep)),
                ("status", Value::Str(status.name().into())),
                (
                    "stall_ms",
                    Value::Num(if status == Status::Ok { 3.0 } else { 3950.0 }),
                ),
                ("throughput_rps", Value::Num(rps)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        };
        let c = &cells(&[
            row(0.0, Status::Disturbed, 480.0),
            row(1.0, Status::Ok, 19_900.0),
        ])[0];
        assert_eq!(c.ok_repetitions, 1);
        assert!(c.failures.is_empty());
        assert_eq!(c.values["throughput_rps"], vec![(1, 19_900.0)]);
        assert_eq!(
            c.notes,
            vec!["r0 set aside: the machine stalled 3950 ms during it".to_string()]
        );
    }

    #[test]
    fn splitmix_is_deterministic() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::new(1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn median_and_quantiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
    }

    #[test]
    fn tukey_flags_without_dropping() {
        let xs = [10.0, 11.0, 10.5, 10.2, 50.0];
        let flags = tukey_flags(&xs);
        assert_eq!(flags, vec![false, false, false, false, true]);
        let e = Estimate::from_pairs(
            &xs.iter()
                .enumerate()
                .map(|(i, x)| (i as i64, *x))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(e.n, 5, "the outlier stays in the estimate");
        assert_eq!(e.outliers, vec![4]);
        assert_eq!(tukey_flags(&[1.0, 100.0]), vec![false, false]);
    }

    #[test]
    fn coefficient_of_variation() {
        assert_eq!(cv(&[5.0]), None);
        assert_eq!(cv(&[2.0, 2.0, 2.0]), Some(0.0));
        let c = cv(&[1.0, 2.0, 3.0]).unwrap();
        assert!((c - 0.5).abs() < 1e-12, "{c}");
    }

    #[test]
    fn median_spectrum_is_pointwise_where_every_repetition_reached() {
        let point =
            |repetition: i64, percentile: f64, latency_ms: f64| crate::load::SpectrumPoint {
                experiment: "e".into(),
                cell: "c".into(),
                repetition,
                model: "tokio".into(),
                percentile,
                latency_ms,
            };
        let points = [
            point(1, 50.0, 1.0),
            point(2, 50.0, 3.0),
            point(3, 50.0, 2.0),
            point(1, 99.0, 9.0),
            point(2, 99.0, 7.0),
            point(3, 99.0, 8.0),
            // Only one repetition reached the tail.
            point(1, 99.99, 4.0),
        ];
        assert_eq!(
            median_spectrum(points.iter().rev()),
            vec![(50.0, 2.0), (99.0, 8.0)]
        );
        assert!(median_spectrum([]).is_empty());
    }
}
