//! What more repetitions would do to an undecided check: the adaptive
//! budget ranks its repetitions by it, and the report says with it why a
//! rule stayed undecided.
//!
//! A check is undecided while its 95% interval straddles the threshold. On
//! the interval's own scale (logs for a geometric mean or a ratio), let `d`
//! be the distance of the estimate from the threshold and `s` the spread of
//! one repetition (from the interval's half-width, its t quantile and its
//! n). At `m` repetitions the interval's half-width would be about
//! `t(df_m) · s / √m`; the check is decided once that is below `d`. One
//! more repetition also moves the estimate, by a normal shift of sd
//! `s · √(1 + 1/n) / (n + 1)` (the predictive spread of the next value,
//! weighted by 1 / (n + 1)); the chance it decides is the chance the moved
//! estimate lands farther from the threshold than the new half-width, on
//! either side. Two values 3× below a threshold with Welch df 1 (the
//! interval 200× wide) come out nearly certain to decide at n = 3; an
//! estimate 1.3× from its threshold with the same spread, nearly never
//! before n = 20.
//!
//! A ratio's two groups are taken as growing together (the runner repeats
//! a check's cell and its baseline in the same round): its standard error
//! shrinks as for one group of the smaller n, and Welch's df grows in
//! proportion.

use crate::interval::{t_quantile, Interval, Method, SampleSize, MIN_N};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// The most repetitions the projection looks at: a check that needs more
/// is not decidable by repetition at this spread.
pub const HORIZON: usize = 50;

/// What more repetitions would do to one check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outlook {
    /// Repetitions behind the check now (the smaller group of a ratio).
    pub n: usize,
    /// The chance that one more repetition (of the cell and its baseline)
    /// decides the check, under the current estimate and spread.
    pub p_next: f64,
    /// The fewest repetitions at which the projected interval clears the
    /// threshold, if the estimate stays where it is; `None` past
    /// [`HORIZON`] or when the estimate sits on the threshold (or no
    /// interval on logs exists: a value of zero in a ratio).
    pub needed: Option<usize>,
}

impl Outlook {
    /// Whether `cap` repetitions (the spec's `max_repetitions`) could decide it.
    pub fn decidable_within(&self, cap: usize) -> bool {
        self.needed.is_some_and(|n| n <= cap)
    }
}

/// The outlook of `interval` against `threshold`. Below two values there
/// is no spread yet: one more repetition gives the check its first
/// interval, and its chance to decide is unknown (taken as one half).
pub fn outlook(interval: &Interval, threshold: f64) -> Outlook {
    let n = interval.n();
    let log = matches!(
        interval.basis.method,
        Method::LogStudentT | Method::WelchLogT
    );
    let none = Outlook {
        n,
        p_next: 0.0,
        needed: None,
    };
    match interval.basis.method {
        Method::NonPositive => return none,
        Method::TooFew => {
            return Outlook {
                n,
                p_next: 0.5,
                needed: Some(MIN_N.max(n + 1)),
            }
        }
        _ => {}
    }
    let (Some((lo, hi)), Some(df)) = (interval.bounds(), interval.basis.df) else {
        return none;
    };
    let scale = |x: f64| if log { x.ln() } else { x };
    if log && (threshold <= 0.0 || lo <= 0.0) {
        return none;
    }
    let centre = (scale(lo) + scale(hi)) / 2.0;
    let half = (scale(hi) - scale(lo)) / 2.0;
    let d = (centre - scale(threshold)).abs();
    let ratio = matches!(interval.basis.n, SampleSize::Ratio(..));
    let df_at = |m: usize| {
        if ratio && n > 1 {
            df * (m - 1) as f64 / (n - 1) as f64
        } else {
            (m - 1) as f64
        }
    };
    // One repetition's spread, from the half-width t(df) · s / √n.
    let s = half / t_quantile(df) * (n as f64).sqrt();
    if !(s.is_finite() && d.is_finite()) {
        return none;
    }
    let half_at = |m: usize| t_quantile(df_at(m)) * s / (m as f64).sqrt();
    if s == 0.0 {
        // No spread: the check is as decided as it will ever be.
        return Outlook {
            n,
            p_next: if d > 0.0 { 1.0 } else { 0.0 },
            needed: (d > 0.0).then_some(n),
        };
    }
    let next = half_at(n + 1);
    let shift = s * (1.0 + 1.0 / n as f64).sqrt() / (n + 1) as f64;
    let normal = Normal::new(0.0, 1.0).expect("a standard normal");
    // The moved estimate lands past the threshold plus or minus the new
    // half-width (its distance from the threshold is d ± shift · Z).
    let p_next = normal.cdf((d - next) / shift) + normal.cdf((-d - next) / shift);
    let needed = (n + 1..=HORIZON).find(|&m| half_at(m) < d);
    Outlook {
        n,
        p_next: p_next.clamp(0.0, 1.0),
        needed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::{geometric_t, ratio_welch};

    #[test]
    fn two_values_far_below_the_threshold_are_nearly_certain_to_decide_at_three() {
        // tomcat-virtual-c10k: 0.15 and 0.25 of the ceiling, wanted >= 0.8,
        // Welch df about 1: the interval spans the threshold.
        let r = ratio_welch(&[6885.0, 10689.0], &[44500.0, 42538.0]);
        let (lo, hi) = r.bounds().unwrap();
        assert!(lo < 0.8 && hi > 0.8, "{r:?}");
        let o = outlook(&r, 0.8);
        assert!(o.p_next > 0.9, "{o:?}");
        assert_eq!(o.needed, Some(3), "{o:?}");
        assert!(o.decidable_within(3));
    }

    #[test]
    fn an_estimate_near_its_threshold_with_a_wide_spread_needs_many() {
        // async-io-pool: 6.45x [0.030, 1395] against 5x.
        let r = ratio_welch(&[645.0, 64.5], &[100.0, 10.0]);
        let o = outlook(&r, 5.0);
        assert!(o.p_next < 0.05, "{o:?}");
        assert!(!o.decidable_within(6), "{o:?}");
    }

    #[test]
    fn closer_and_noisier_checks_rank_below_far_and_tight_ones() {
        let far = outlook(&geometric_t(&[0.5, 0.6, 0.55]), 0.9);
        let near = outlook(&geometric_t(&[0.85, 0.95, 0.8]), 0.9);
        let noisy = outlook(&geometric_t(&[0.3, 1.0, 0.55]), 0.9);
        assert!(far.p_next > near.p_next, "{far:?} {near:?}");
        assert!(far.p_next > noisy.p_next, "{far:?} {noisy:?}");
        assert!(far.needed.unwrap() <= near.needed.unwrap_or(usize::MAX));
    }

    #[test]
    fn an_estimate_on_the_threshold_is_never_decided_by_more_n() {
        let o = outlook(&geometric_t(&[0.8, 1.25]), 1.0);
        assert_eq!(o.needed, None, "{o:?}");
        assert!(o.p_next < 0.05, "{o:?}");
    }

    #[test]
    fn one_value_asks_for_a_second_and_a_zero_in_a_ratio_for_nothing() {
        let o = outlook(&geometric_t(&[5.0]), 1.0);
        assert_eq!((o.p_next, o.needed), (0.5, Some(2)));
        let o = outlook(&ratio_welch(&[0.0, 1.0], &[2.0, 3.0]), 1.0);
        assert_eq!((o.p_next, o.needed), (0.0, None));
    }
}
