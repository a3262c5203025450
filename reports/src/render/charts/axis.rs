//! Axes: linear, log10 and "nines" (percentile) scales, their ticks and
//! tick labels, and the choice of a log axis when values span decades.
//!
//! Axes are drawn in a transformed linear space (log10, or "nines" for
//! percentiles) with explicit tick positions, so one coordinate type
//! ([`TickAxis`]) serves linear, log and percentile axes.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::Ranged;

/// Axis scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    Log10,
    /// Percentile 0..100 on a "nines" axis: x = -log10(1 - p/100).
    Nines,
}

impl Scale {
    pub(crate) fn forward(self, v: f64) -> Option<f64> {
        let t = match self {
            Scale::Linear => v,
            Scale::Log10 if v > 0.0 => v.log10(),
            Scale::Log10 => return None,
            Scale::Nines if (0.0..100.0).contains(&v) => -(1.0 - v / 100.0).log10(),
            Scale::Nines => return None,
        };
        t.is_finite().then_some(t)
    }

    pub(crate) fn label(self, t: f64) -> String {
        match self {
            Scale::Linear => fmt_tick(t),
            Scale::Log10 => fmt_tick(10f64.powf(t)),
            Scale::Nines => {
                let p = 100.0 * (1.0 - 10f64.powf(-t));
                let s = format!("{:.6}", p);
                let s = s.trim_end_matches('0').trim_end_matches('.');
                format!("{s}%")
            }
        }
    }

    /// Axis range (in transformed space) and tick positions.
    pub(crate) fn axis(self, lo: f64, hi: f64, from_zero: bool) -> (f64, f64, Vec<f64>) {
        match self {
            Scale::Linear => {
                let lo = if from_zero { lo.min(0.0) } else { lo };
                let (lo, hi) = if hi > lo {
                    let pad = (hi - lo) * 0.04;
                    (if lo == 0.0 { lo } else { lo - pad }, hi + pad)
                } else {
                    (lo - 1.0, hi + 1.0)
                };
                let step = nice_step((hi - lo) / 6.0);
                let mut ticks = Vec::new();
                let mut t = (lo / step).ceil() * step;
                while t <= hi + step * 1e-9 {
                    ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
                    t += step;
                }
                (lo, hi, ticks)
            }
            Scale::Log10 => {
                let pad = ((hi - lo) * 0.04).max(0.02);
                let (a, b) = (lo - pad, hi + pad);
                let decades = (b.ceil() - a.floor()).round() as i64;
                let mut ticks = Vec::new();
                for k in a.floor() as i64..=b.ceil() as i64 {
                    // Fewer decades, more ticks per decade.
                    let span = b - a;
                    let mults: &[f64] = if span < 1.2 {
                        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
                    } else if decades <= 3 {
                        &[1.0, 2.0, 5.0]
                    } else {
                        &[1.0]
                    };
                    for &m in mults {
                        let t = k as f64 + m.log10();
                        if t >= a && t <= b {
                            ticks.push(t);
                        }
                    }
                }
                (a, b, ticks)
            }
            Scale::Nines => {
                let b = hi.ceil().max(1.0);
                let ticks = (0..=b as i64).map(|k| k as f64).collect();
                (0.0, b, ticks)
            }
        }
    }
}

/// Tick label: four significant digits, no trailing zeros (`0.15`, `20`,
/// `1e6` stays `1000000`).
pub(crate) fn fmt_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let digits = 4 - 1 - v.abs().log10().floor() as i32;
    let f = 10f64.powi(digits.max(0));
    let r = (v * f).round() / f;
    if digits < 0 {
        let g = 10f64.powi(-digits);
        return format!("{}", ((v / g).round() * g) as i64);
    }
    format!("{r}")
}

fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A linear f64 axis with explicit tick positions (the ticks of log and
/// nines axes are computed in transformed space by [`Scale::axis`]).
#[derive(Debug, Clone)]
pub struct TickAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl TickAxis {
    pub(crate) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        TickAxis { lo, hi, ticks }
    }
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn spans_decades(values: &[f64]) -> bool {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lo > 0.0 && hi / lo >= 50.0
}

/// Log10 when `values` span decades (all positive, max / min ≥ 50),
/// linear otherwise (a zero or negative value would vanish on a log axis).
pub(crate) fn scale_for(values: &[f64]) -> Scale {
    if spans_decades(values) {
        Scale::Log10
    } else {
        Scale::Linear
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels() {
        assert_eq!(Scale::Nines.label(0.0), "0%");
        assert_eq!(Scale::Nines.label(1.0), "90%");
        assert_eq!(Scale::Nines.label(3.0), "99.9%");
        assert_eq!(Scale::Nines.forward(100.0), None);
        assert!((Scale::Nines.forward(99.0).unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(fmt_tick(0.15), "0.15");
        assert_eq!(fmt_tick(10f64.powf(20f64.log10())), "20");
        assert_eq!(fmt_tick(1234567.0), "1235000");
        assert_eq!(fmt_tick(0.0), "0");
    }

    #[test]
    fn log_ticks_are_decades() {
        let (lo, hi, ticks) = Scale::Log10.axis(0.0, 4.0, false);
        assert_eq!(ticks, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!(lo < 0.0 && hi > 4.0, "data off the frame");
        assert_eq!(Scale::Log10.label(3.0), "1000");
    }
}
