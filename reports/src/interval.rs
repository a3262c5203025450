//! Confidence intervals that are valid at the n a catalogue really has: 2 to
//! about 8 repetitions of a cell, one value per repetition.
//!
//! Why Student t rather than a bootstrap: a repetition is one process, and
//! most of a cell's spread is between processes (thread placement, page
//! faults, the other tenant of the machine), so the repetition is the unit
//! of replication. A percentile bootstrap over 2 or 3 such values has at
//! most a handful of distinct resamples and covers far less than its
//! nominal level; the t distribution is exact for normal per-repetition
//! values at any n ≥ 2 and widens honestly when n is small (t₀.₉₇₅ is 12.7
//! at df 1, 4.3 at df 2, 2.8 at df 4).
//!
//! Ratios (tokio over threads) and positive metrics are taken on the log
//! scale: the effects are multiplicative, per-repetition throughputs and
//! latencies are closer to log-normal than to normal, and the interval of a
//! ratio is then the exponential of a Welch interval on the difference of
//! log means (Welch: the two cells' spreads differ, often by 10×). The point
//! estimate is the ratio of geometric means.
//!
//! `reports/src/interval.rs`'s tests check coverage: the nominal 95% must
//! cover the true value in 93–97% of 4,000 simulated experiments at every n
//! the catalogue uses. Welch is liberal (about 93%) when the noisier cell
//! also has the fewer repetitions; the runner avoids that design by
//! repeating an undecided check's cell and its baseline together.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::fmt;

/// Confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// Fewest values a t interval needs (one degree of freedom).
pub const MIN_N: usize = 2;

/// How an [`Interval`] was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Student t on the values (mean).
    StudentT,
    /// Student t on the logs of positive values (geometric mean).
    LogStudentT,
    /// Welch t on the difference of log means (ratio of geometric means).
    WelchLogT,
    /// Fewer than [`MIN_N`] values: no interval.
    TooFew,
    /// A ratio with a non-positive value (a count of zero): no interval.
    NonPositive,
}

impl Method {
    /// A short phrase for tables and the report.
    pub fn describe(self) -> &'static str {
        match self {
            Method::StudentT => "Student t",
            Method::LogStudentT => "Student t on logs",
            Method::WelchLogT => "Welch t on logs",
            Method::TooFew => "no interval",
            Method::NonPositive => "non-positive values: no interval",
        }
    }
}

/// The n behind an interval: one group's values, or a ratio's two groups'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSize {
    /// One group of values.
    One(usize),
    /// A ratio: the numerator's values and the denominator's.
    Ratio(usize, usize),
}

impl SampleSize {
    /// Values behind the estimate; for a ratio, the smaller group's.
    pub fn fewest(self) -> usize {
        match self {
            SampleSize::One(n) => n,
            SampleSize::Ratio(a, b) => a.min(b),
        }
    }
}

/// `n = 3`, or `n = 3 vs 2` for a ratio.
impl fmt::Display for SampleSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleSize::One(n) => write!(f, "n = {n}"),
            SampleSize::Ratio(a, b) => write!(f, "n = {a} vs {b}"),
        }
    }
}

/// What an interval rests on: its n, its method and the degrees of freedom
/// of its t quantile. Carried as data from the verdict to the report, so
/// that a chart reads the n from here rather than from the text; shown (and
/// serialised) as the text `n = 3 vs 3, Welch t on logs (df 3.8)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Basis {
    pub n: SampleSize,
    pub method: Method,
    /// Degrees of freedom of the t quantile (Welch's may be fractional).
    pub df: Option<f64>,
}

/// `n = 3, Student t on logs (df 2)` or `n = 1: no interval`.
impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.n;
        match (self.method, self.df) {
            (Method::TooFew | Method::NonPositive, _) => {
                write!(f, "{n}: {}", self.method.describe())
            }
            (m, Some(df)) => write!(f, "{n}, {} (df {})", m.describe(), fmt_df(df)),
            (m, None) => write!(f, "{n}, {}", m.describe()),
        }
    }
}

/// As its text: the report's JSON shows how an interval was made as before.
impl Serialize for Basis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An estimate with its 95% confidence interval (absent when the method
/// cannot give one at this n), and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub estimate: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Its n, method and degrees of freedom.
    pub basis: Basis,
}

impl Interval {
    /// Both bounds, when there is an interval.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        self.lo.zip(self.hi)
    }

    /// Values behind the estimate; for a ratio, the smaller group's.
    pub fn n(&self) -> usize {
        self.basis.n.fewest()
    }

    /// `n = 3, Student t on logs (df 2)` or `n = 1: no interval`.
    pub fn describe(&self) -> String {
        self.basis.to_string()
    }
}

fn fmt_df(df: f64) -> String {
    if (df - df.round()).abs() < 0.05 {
        format!("{}", df.round())
    } else {
        format!("{df:.1}")
    }
}

fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (n − 1 in the denominator); needs n ≥ 2.
fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// The two-sided t quantile for [`LEVEL`] at `df` degrees of freedom.
pub fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0)
}

/// No interval: too few values, or non-positive ones for a ratio.
fn too_few(estimate: f64, n: SampleSize, method: Method) -> Interval {
    Interval {
        estimate,
        lo: None,
        hi: None,
        basis: Basis {
            n,
            method,
            df: None,
        },
    }
}

/// (centre, half-width, df) of a t interval of the mean of `xs` (n ≥ 2).
fn t_half_width(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let df = n - 1.0;
    (mean(xs), t_quantile(df) * (variance(xs) / n).sqrt(), df)
}

/// The mean of `xs` with a Student t interval.
pub fn mean_t(xs: &[f64]) -> Interval {
    let xs = finite(xs);
    let n = SampleSize::One(xs.len());
    if xs.is_empty() {
        return too_few(f64::NAN, n, Method::TooFew);
    }
    if xs.len() < MIN_N {
        return too_few(mean(&xs), n, Method::TooFew);
    }
    let (m, h, df) = t_half_width(&xs);
    Interval {
        estimate: m,
        lo: Some(m - h),
        hi: Some(m + h),
        basis: Basis {
            n,
            method: Method::StudentT,
            df: Some(df),
        },
    }
}

/// The geometric mean of positive `xs` with a Student t interval on the
/// logs; values with a zero or a negative fall back to [`mean_t`].
pub fn geometric_t(xs: &[f64]) -> Interval {
    let xs = finite(xs);
    if xs.iter().any(|x| *x <= 0.0) {
        return mean_t(&xs);
    }
    let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let n = SampleSize::One(logs.len());
    if logs.len() < MIN_N {
        let est = if logs.is_empty() {
            f64::NAN
        } else {
            mean(&logs).exp()
        };
        return too_few(est, n, Method::TooFew);
    }
    let (m, h, df) = t_half_width(&logs);
    Interval {
        estimate: m.exp(),
        lo: Some((m - h).exp()),
        hi: Some((m + h).exp()),
        basis: Basis {
            n,
            method: Method::LogStudentT,
            df: Some(df),
        },
    }
}

/// The ratio of geometric means `a / b` with a Welch t interval on the
/// difference of log means.
pub fn ratio_welch(a: &[f64], b: &[f64]) -> Interval {
    let (a, b) = (finite(a), finite(b));
    let pair = SampleSize::Ratio(a.len(), b.len());
    if a.is_empty() || b.is_empty() {
        return too_few(f64::NAN, pair, Method::TooFew);
    }
    if a.iter().chain(&b).any(|x| *x <= 0.0) {
        return too_few(mean(&a) / mean(&b), pair, Method::NonPositive);
    }
    let la: Vec<f64> = a.iter().map(|x| x.ln()).collect();
    let lb: Vec<f64> = b.iter().map(|x| x.ln()).collect();
    let d = mean(&la) - mean(&lb);
    if pair.fewest() < MIN_N {
        return too_few(d.exp(), pair, Method::TooFew);
    }
    let (va, vb) = (
        variance(&la) / la.len() as f64,
        variance(&lb) / lb.len() as f64,
    );
    let se2 = va + vb;
    // Welch–Satterthwaite; with no spread on either side the ratio is exact
    // (a thread count), and the interval is that point.
    let df = if se2 > 0.0 {
        se2 * se2 / (va * va / (la.len() - 1) as f64 + vb * vb / (lb.len() - 1) as f64)
    } else {
        (la.len() + lb.len() - 2) as f64
    };
    let h = t_quantile(df) * se2.sqrt();
    Interval {
        estimate: d.exp(),
        lo: Some((d - h).exp()),
        hi: Some((d + h).exp()),
        basis: Basis {
            n: pair,
            method: Method::WelchLogT,
            df: Some(df),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SplitMix64;
    use statrs::distribution::Normal;

    /// A standard normal draw by inversion (statrs's quantile function).
    fn z(rng: &mut SplitMix64) -> f64 {
        let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        Normal::standard().inverse_cdf(u)
    }

    /// One repetition of a cell: a process-level offset (drawn once per
    /// process) times the window's own noise, around `centre`.
    #[derive(Clone, Copy)]
    enum Shape {
        /// centre × exp(offset + noise): log-normal.
        LogNormal,
        /// centre × (1 + offset + noise): normal.
        Normal,
    }

    impl Shape {
        fn name(self) -> &'static str {
            match self {
                Shape::LogNormal => "log-normal",
                Shape::Normal => "normal",
            }
        }
    }

    fn repetition(
        rng: &mut SplitMix64,
        shape: Shape,
        centre: f64,
        offset_sd: f64,
        noise_sd: f64,
    ) -> f64 {
        let offset = offset_sd * z(rng);
        let noise = noise_sd * z(rng);
        match shape {
            Shape::LogNormal => centre * (offset + noise).exp(),
            Shape::Normal => centre * (1.0 + offset + noise),
        }
    }

    /// The value a log-scale interval estimates: exp(E log X), by a large
    /// sample (for the normal shape it has no closed form).
    fn true_geometric(shape: Shape, centre: f64, offset_sd: f64, noise_sd: f64) -> f64 {
        match shape {
            Shape::LogNormal => centre,
            Shape::Normal => {
                let mut rng = SplitMix64::new(99);
                let k = 400_000;
                let s: f64 = (0..k)
                    .map(|_| repetition(&mut rng, shape, centre, offset_sd, noise_sd).ln())
                    .sum();
                (s / k as f64).exp()
            }
        }
    }

    const TRIALS: usize = 4000;

    fn coverage_of(mut trial: impl FnMut(&mut SplitMix64) -> bool, seed: u64) -> f64 {
        let mut rng = SplitMix64::new(seed);
        (0..TRIALS).filter(|_| trial(&mut rng)).count() as f64 / TRIALS as f64
    }

    fn covers(i: &Interval, truth: f64) -> bool {
        let (lo, hi) = i.bounds().expect("an interval");
        lo <= truth && truth <= hi
    }

    /// The catalogue runs 2 or 3 repetitions and adds up to a few more.
    const CATALOGUE_NS: [usize; 4] = [2, 3, 5, 8];

    #[test]
    fn one_sample_log_t_covers_95_percent() {
        for shape in [Shape::LogNormal, Shape::Normal] {
            // A real cell: between-process spread 6%, window noise 3%.
            let (centre, off, noise) = (1000.0, 0.06, 0.03);
            let truth = true_geometric(shape, centre, off, noise);
            for (k, n) in CATALOGUE_NS.into_iter().enumerate() {
                let cov = coverage_of(
                    |rng| {
                        let xs: Vec<f64> = (0..n)
                            .map(|_| repetition(rng, shape, centre, off, noise))
                            .collect();
                        covers(&geometric_t(&xs), truth)
                    },
                    7 + k as u64,
                );
                assert!(
                    (0.93..=0.97).contains(&cov),
                    "{}: n = {n}: coverage {cov}",
                    shape.name()
                );
            }
        }
    }

    #[test]
    fn mean_t_covers_95_percent() {
        let (centre, off, noise) = (50.0, 0.05, 0.02);
        for (k, n) in CATALOGUE_NS.into_iter().enumerate() {
            let cov = coverage_of(
                |rng| {
                    let xs: Vec<f64> = (0..n)
                        .map(|_| repetition(rng, Shape::Normal, centre, off, noise))
                        .collect();
                    covers(&mean_t(&xs), centre)
                },
                100 + k as u64,
            );
            assert!((0.93..=0.97).contains(&cov), "n = {n}: coverage {cov}");
        }
    }

    /// Coverage of the Welch ratio interval for two cells: `a` over `b`,
    /// each (centre, between-process sd, window-noise sd).
    fn welch_coverage(
        shape: Shape,
        a: (f64, f64, f64),
        b: (f64, f64, f64),
        na: usize,
        nb: usize,
        seed: u64,
    ) -> f64 {
        let truth = true_geometric(shape, a.0, a.1, a.2) / true_geometric(shape, b.0, b.1, b.2);
        coverage_of(
            |rng| {
                let xa: Vec<f64> = (0..na)
                    .map(|_| repetition(rng, shape, a.0, a.1, a.2))
                    .collect();
                let xb: Vec<f64> = (0..nb)
                    .map(|_| repetition(rng, shape, b.0, b.1, b.2))
                    .collect();
                covers(&ratio_welch(&xa, &xb), truth)
            },
            seed,
        )
    }

    #[test]
    fn welch_ratio_covers_95_percent() {
        // Two cells of one run: a 5× effect, the faster one four times
        // noisier (as tokio vs a saturated pool). The runner repeats a
        // check's two cells together, so n is balanced here.
        let (fast, slow) = ((5000.0, 0.12, 0.04), (1000.0, 0.03, 0.01));
        for shape in [Shape::LogNormal, Shape::Normal] {
            for (k, n) in [2, 3, 4, 5, 8].into_iter().enumerate() {
                let cov = welch_coverage(shape, fast, slow, n, n, 200 + k as u64);
                assert!(
                    (0.93..=0.97).contains(&cov),
                    "{}: n = {n}: coverage {cov}",
                    shape.name()
                );
            }
        }
    }

    #[test]
    fn welch_ratio_covers_95_percent_with_a_shared_baseline() {
        // A baseline several rules read can have more repetitions than
        // the cell: unequal n with comparable spreads.
        let (a, b) = ((2000.0, 0.06, 0.03), (1000.0, 0.05, 0.02));
        for shape in [Shape::LogNormal, Shape::Normal] {
            for (k, (na, nb)) in [(2, 3), (3, 2), (3, 5), (5, 3), (4, 8)]
                .into_iter()
                .enumerate()
            {
                let cov = welch_coverage(shape, a, b, na, nb, 300 + k as u64);
                assert!(
                    (0.93..=0.97).contains(&cov),
                    "{}: n = {na} vs {nb}: coverage {cov}",
                    shape.name()
                );
            }
        }
    }

    #[test]
    fn too_few_values_give_no_interval() {
        let one = geometric_t(&[5.0]);
        assert_eq!(one.bounds(), None);
        assert_eq!(one.describe(), "n = 1: no interval");
        assert_eq!(mean_t(&[]).n(), 0);
        let r = ratio_welch(&[10.0, 11.0], &[2.0]);
        assert_eq!(r.bounds(), None);
        assert_eq!(r.describe(), "n = 2 vs 1: no interval");
        let z = ratio_welch(&[0.0, 1.0], &[2.0, 3.0]);
        assert_eq!(z.basis.method, Method::NonPositive);
        assert_eq!(z.basis.n, SampleSize::Ratio(2, 2));
        assert_eq!(z.bounds(), None);
    }

    #[test]
    fn a_basis_is_data_shown_and_serialised_as_its_text() {
        let r = ratio_welch(&[10.0, 11.0, 12.0], &[2.0, 2.2, 2.1]);
        assert_eq!(r.basis.n, SampleSize::Ratio(3, 3));
        assert_eq!(r.n(), 3);
        assert_eq!(r.basis.n.to_string(), "n = 3 vs 3");
        assert!(
            r.describe().starts_with("n = 3 vs 3, Welch t on logs (df "),
            "{}",
            r.describe()
        );
        assert_eq!(
            serde_json::to_value(r.basis).unwrap(),
            serde_json::Value::String(r.describe())
        );
        assert_eq!(geometric_t(&[1.0, 2.0, 4.0]).basis.n, SampleSize::One(3));
    }

    #[test]
    fn two_values_give_a_wide_interval_not_a_narrow_one() {
        // The old bootstrap printed [min, max] here; t at df 1 is 12.7.
        let i = mean_t(&[100.0, 102.0]);
        let (lo, hi) = i.bounds().unwrap();
        assert!(hi - lo > 20.0, "{lo} {hi}");
        assert_eq!(i.describe(), "n = 2, Student t (df 1)");
    }

    #[test]
    fn exact_ratio_has_a_point_interval() {
        let r = ratio_welch(&[2000.0, 2000.0, 2000.0], &[200.0, 200.0]);
        let (lo, hi) = r.bounds().unwrap();
        assert!((lo - 10.0).abs() < 1e-9 && (hi - 10.0).abs() < 1e-9);
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_quantile(1.0) - 12.706).abs() < 1e-3);
        assert!((t_quantile(2.0) - 4.303).abs() < 1e-3);
        assert!((t_quantile(30.0) - 2.042).abs() < 1e-3);
    }
}
