//! The gate's statistics of one same-run ratio's repetition rounds: their
//! median and spread ([`Ratio`]), and how far unchanged code could move the
//! ratio between two runs ([`Noise`]): the 95% upper confidence bound of
//! the rounds' standard deviation (χ², from statrs), times [`Z`], times the
//! spread of a difference of two medians.

use crate::stats;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Standard deviations between the threshold and unchanged code: a ratio
/// is gated only if `Z` × (the 95% upper bound of its standard deviation)
/// × (the spread of a difference of medians) is within the threshold.
/// Under normal noise a gated ratio of unchanged code then crosses the
/// threshold with probability < 3.2e-5 (one-sided), < 0.4% per run of
/// ~120 gated ratios.
pub const Z: f64 = 4.0;

/// The median of the finite values ([`stats::median`]); `None` without
/// any (where [`stats::median`] is NaN).
pub(crate) fn median_or_none(xs: &[f64]) -> Option<f64> {
    let m = stats::median(xs);
    (!m.is_nan()).then_some(m)
}

/// The factor from a sample standard deviation with `df` degrees of
/// freedom to its one-sided 95% upper confidence bound, √(df / χ²₀.₀₅(df)).
pub fn sd_upper_factor(df: usize) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    let d = df as f64;
    let q = ChiSquared::new(d)
        .expect("χ² with df ≥ 1 is a distribution")
        .inverse_cdf(0.05);
    (d / q).sqrt()
}

/// Variance factor of the median of `n` values, relative to σ² (the mean's
/// 1/n for n ≤ 2, where the median is the mean; π/(2n) above).
fn median_var(n: usize) -> f64 {
    match n {
        0 => f64::INFINITY,
        1 | 2 => 1.0 / n as f64,
        _ => std::f64::consts::FRAC_PI_2 / n as f64,
    }
}

/// The smallest sd a ratio is credited with, percent: the resolution of
/// what it is made of (HdrHistogram's 3 significant digits, 0.1%; one
/// request of the fewest `completed` in a window). Rounds that agree
/// exactly (a pool-bound cell completes the same count every time) still
/// differ by one request elsewhere.
pub fn sd_floor_pct(completed: f64) -> f64 {
    let one_request = if completed > 0.0 && completed.is_finite() {
        100.0 / completed
    } else {
        0.0
    };
    one_request.max(0.1)
}

/// What the rounds of both runs say about a ratio's noise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Noise {
    /// Pooled relative standard deviation of one round, percent (each
    /// run's rounds around their own mean, over that run's median), at
    /// least [`sd_floor_pct`].
    pub sd_pct: f64,
    /// Degrees of freedom of `sd_pct`: Σ (rounds − 1) over the runs.
    pub df: usize,
    /// The rounds agreed more closely than [`sd_floor_pct`]: `sd_pct` is
    /// the floor.
    pub floored: bool,
    /// `z` × the 95% upper bound of the sd × √(var of the BASE median +
    /// var of the NEW median): how far unchanged code could move the
    /// ratio, percent.
    pub reach_pct: f64,
}

impl Noise {
    /// From the ratio's rounds in each run, crediting them with at least
    /// `floor_pct` of sd, `z` standard deviations from the threshold;
    /// `None` when neither run has 2 rounds.
    pub fn of(base: &[f64], new: &[f64], floor_pct: f64, z: f64) -> Option<Noise> {
        let mut ss = 0.0;
        let mut df = 0usize;
        for rounds in [base, new] {
            if rounds.len() < 2 {
                continue;
            }
            let m = median_or_none(rounds)?;
            let mean = rounds.iter().sum::<f64>() / rounds.len() as f64;
            ss += rounds.iter().map(|x| ((x - mean) / m).powi(2)).sum::<f64>();
            df += rounds.len() - 1;
        }
        if df == 0 {
            return None;
        }
        let measured = (ss / df as f64).sqrt();
        let sd = measured.max(floor_pct / 100.0);
        let spread = (median_var(base.len()) + median_var(new.len())).sqrt();
        Some(Noise {
            sd_pct: sd * 100.0,
            df,
            floored: sd > measured,
            reach_pct: z * sd * sd_upper_factor(df) * spread * 100.0,
        })
    }
}

/// A same-run ratio in one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    /// Median over the repetition rounds.
    pub value: f64,
    /// Rounds with a value.
    pub rounds: usize,
    /// Relative standard deviation of the rounds, percent; null below 2.
    pub sd_pct: Option<f64>,
}

impl Ratio {
    /// From the ratio's rounds in one run; `None` without a positive median.
    pub fn of(rounds: &[f64]) -> Option<Ratio> {
        let m = median_or_none(rounds)?;
        if m <= 0.0 {
            return None;
        }
        let n = rounds.len();
        let sd_pct = (n >= 2).then(|| {
            let mean = rounds.iter().sum::<f64>() / n as f64;
            let var = rounds.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            var.sqrt() / m * 100.0
        });
        Some(Ratio {
            value: m,
            rounds: n,
            sd_pct,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-typed table the gate used before statrs: lower 5%
    /// quantiles of χ², df 1..=30, to 3–4 significant digits.
    const CHI2_05: [f64; 30] = [
        0.00393, 0.1026, 0.3518, 0.7107, 1.1455, 1.6354, 2.1673, 2.7326, 3.3251, 3.9403, 4.5748,
        5.2260, 5.8919, 6.5706, 7.2609, 7.9616, 8.6718, 9.3905, 10.1170, 10.8508, 11.5913, 12.3380,
        13.0905, 13.8484, 14.6114, 15.3792, 16.1514, 16.9279, 17.7084, 18.4927,
    ];

    #[test]
    fn statrs_quantiles_match_the_old_table() {
        for (i, &table) in CHI2_05.iter().enumerate() {
            let df = (i + 1) as f64;
            let q = ChiSquared::new(df).unwrap().inverse_cdf(0.05);
            // The table's precision: its last printed digit.
            let digits = if table < 0.01 { 5 } else { 4 };
            let step = 10f64.powi(-digits);
            assert!(
                (q - table).abs() <= step / 2.0 + 1e-12,
                "df {df}: {q} vs {table}"
            );
            // And the factor the gate takes from it.
            let old = (df / table).sqrt();
            let new = sd_upper_factor(i + 1);
            assert!((new / old - 1.0).abs() < 1e-3, "df {df}: {new} vs {old}");
        }
    }

    #[test]
    fn the_sd_bound_follows_chi_square() {
        assert!((sd_upper_factor(2) - 4.415).abs() < 0.01);
        assert!((sd_upper_factor(9) - 1.645).abs() < 0.01);
        // Beyond the old table's 30 rows too: χ²₀.₀₅(100) = 77.93.
        assert!((sd_upper_factor(100) - (100.0f64 / 77.93).sqrt()).abs() < 0.002);
        assert!(sd_upper_factor(0).is_infinite());
    }

    #[test]
    fn ratio_and_median() {
        let r = Ratio::of(&[1.0, 1.1, 0.9]).unwrap();
        assert_eq!(r.value, 1.0);
        assert!((r.sd_pct.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(Ratio::of(&[2.0]).unwrap().sd_pct, None);
        assert_eq!(median_or_none(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median_or_none(&[]), None);
        assert_eq!(median_or_none(&[f64::NAN]), None);
    }

    #[test]
    fn the_floor_is_one_request_or_a_tenth_of_a_percent() {
        assert_eq!(sd_floor_pct(50.0), 2.0);
        assert_eq!(sd_floor_pct(1e6), 0.1);
        assert_eq!(sd_floor_pct(f64::INFINITY), 0.1);
        assert_eq!(sd_floor_pct(0.0), 0.1);
    }
}
