//! Judging one same-run ratio of one cell: whether it can be gated at all
//! ([`structural`]), whether its noise allows it ([`super::noise`]), and
//! whether it moved the bad way beyond the threshold ([`RatioCheck::judge`]).

use super::noise::{median_or_none, Noise, Ratio, Z};
use crate::stats::{MeasuredCell, FACTORS};
use serde::Serialize;
use threadloop_vocab::schema::cols;

/// The gate's threshold when `--fail-on-regression` is not given (the
/// table is still classified with it; nothing fails), and `report gate`'s
/// default, which CI runs. The argument for it is in docs/gate.md.
pub const DEFAULT_PCT: f64 = 8.0;

/// The gate's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// A gated ratio that moves the bad way by more than this (percent)
    /// fails; the noise rule and the at-theory tolerances use it too.
    pub fail_pct: f64,
    /// See [`Z`].
    pub z: f64,
}

impl Thresholds {
    pub fn new(fail_pct: f64) -> Thresholds {
        Thresholds { fail_pct, z: Z }
    }

    /// Fewest completed requests per window for a gated cell: one request
    /// is then at most `fail_pct / z` percent of the count.
    pub fn min_completed(&self) -> f64 {
        self.z * 100.0 / self.fail_pct
    }
}

/// A gated quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quantity {
    /// Fidelity relative to the other cells at the load point.
    Throughput,
    /// p50 latency relative to the other cells at the load point.
    P50,
}

impl Quantity {
    pub const ALL: [Quantity; 2] = [Quantity::Throughput, Quantity::P50];

    pub fn label(self) -> &'static str {
        match self {
            Quantity::Throughput => "throughput",
            Quantity::P50 => "p50",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Quantity::Throughput)
    }

    /// The cell's per-repetition values of the quantity's numerator:
    /// fidelity (else throughput / theory bound, e.g. a request class's
    /// row, whose `fidelity` is null), or p50.
    pub fn values(self, cell: &MeasuredCell) -> Vec<(i64, f64)> {
        let col = |name: &str| cell.values.get(name).cloned().unwrap_or_default();
        let v = match self {
            Quantity::P50 => col(cols::latency_p50_ms),
            Quantity::Throughput => {
                let fidelity = col(cols::fidelity);
                let theory = col(cols::theory_throughput_rps);
                col(cols::throughput_rps)
                    .into_iter()
                    .map(|(rep, x)| {
                        let f = fidelity.iter().find(|p| p.0 == rep).map(|p| p.1);
                        let t = theory.iter().find(|p| p.0 == rep).map(|p| p.1);
                        match (f, t) {
                            (Some(f), _) => (rep, f),
                            (None, Some(t)) if t > 0.0 => (rep, x / t),
                            _ => (rep, x),
                        }
                    })
                    .collect()
            }
        };
        v.into_iter()
            .filter(|p| p.1.is_finite() && p.1 > 0.0)
            .collect()
    }
}

/// Which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Base,
    New,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Base => "BASE",
            Side::New => "NEW",
        }
    }
}

/// Why a ratio is reported but not gated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "why")]
pub enum NotGated {
    /// A run has no value (no ok repetition, or the column is missing).
    NoValue { side: Side },
    /// No other cell of the experiment at this load point, in both runs and
    /// itself gateable (at its theory, enough requests): nothing steady in
    /// the run to measure the cell against.
    NoReference,
    /// In BASE the cell's fidelity is off its theory bound by more than the
    /// threshold: something the theory does not model (thread creation,
    /// scheduling, the harness) limits it, and that cost is the machine's.
    /// `fidelity` is null when BASE has no theory bound for the cell.
    OffTheory { fidelity: Option<f64> },
    /// In BASE the cell's p50 is more than the threshold above its service
    /// time (I/O + CPU per request): queueing sets it, and a queue's
    /// percentiles follow its order and its window, which the theory does
    /// not fix (its mean is throughput's mirror, Little's law).
    Queueing { p50_ms: f64, service_ms: f64 },
    /// The cell completes so few requests per window that one request
    /// more or less is more than `fail_pct / z` percent of them.
    FewRequests { completed: f64 },
    /// One repetition round in each run: its spread is unknown.
    SpreadUnknown,
    /// Unchanged code could move the ratio beyond the threshold, judged
    /// from its rounds (see [`Noise`]).
    Noisy {
        sd_pct: f64,
        rounds: usize,
        reach_pct: f64,
        /// `sd_pct` is the resolution floor, not the rounds' own sd.
        floored: bool,
    },
}

impl NotGated {
    pub fn describe(&self, t: &Thresholds) -> String {
        match self {
            NotGated::NoValue { side } => format!("no value in {}", side.label()),
            NotGated::NoReference => {
                "no other model at this load point at its theory in BASE".into()
            }
            NotGated::OffTheory {
                fidelity: Some(fidelity),
            } => format!(
                "off its theory bound in BASE (fidelity {fidelity:.3}, more than {}% from 1)",
                t.fail_pct
            ),
            NotGated::OffTheory { fidelity: None } => "no theory bound in BASE".into(),
            NotGated::Queueing { p50_ms, service_ms } => format!(
                "queueing: p50 {p50_ms:.3} ms in BASE is more than {}% above the service \
                 time {service_ms:.3} ms",
                t.fail_pct
            ),
            NotGated::FewRequests { completed } => format!(
                "few requests: {completed:.0} completed in a window (< {:.0}), one request is \
                 {:.1}%",
                t.min_completed(),
                100.0 / completed
            ),
            NotGated::SpreadUnknown => "spread unknown (1 repetition in each run)".into(),
            NotGated::Noisy {
                sd_pct,
                rounds,
                reach_pct,
                floored,
            } => format!(
                "noisy: sd {sd_pct:.2}%{} over {rounds} rounds, unchanged code could move it \
                 {reach_pct:.1}% (> {}%)",
                if *floored {
                    " (its resolution: one request, or 0.1%)"
                } else {
                    ""
                },
                t.fail_pct
            ),
        }
    }
}

/// What the gate knows of one ratio of one cell: what
/// [`RatioCheck::judge`] judges.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub quantity: Quantity,
    /// The ratio's rounds in BASE (`None`: no value).
    pub base: Option<Vec<f64>>,
    /// The ratio's rounds in NEW (`None`: no value).
    pub new: Option<Vec<f64>>,
    /// The other cells at the load point, in both runs, that the ratio is
    /// taken against (empty: none).
    pub reference: Vec<String>,
    /// Why the cell itself cannot be gated, if so (no value in a run,
    /// [`structural`]).
    pub structural: Option<NotGated>,
    /// The least sd to credit the rounds with
    /// ([`super::noise::sd_floor_pct`]).
    pub floor_pct: f64,
}

/// One gated quantity of one cell, in both runs: the gate's check of a
/// same-run ratio.
#[derive(Debug, Clone, Serialize)]
pub struct RatioCheck {
    pub quantity: Quantity,
    /// The other cells at the load point the ratio is taken against.
    pub reference: Vec<String>,
    pub base: Option<Ratio>,
    pub new: Option<Ratio>,
    /// What the rounds say about the ratio's noise (null: 1 round a run).
    pub noise: Option<Noise>,
    /// (new / base − 1) × 100.
    pub change_pct: Option<f64>,
    /// The change goes the bad way (throughput down, p50 up), any size.
    pub worse: bool,
    /// Why the check is reported but not gated; `None`: gated.
    pub not_gated: Option<NotGated>,
    /// Gated, worse, and by more than the threshold.
    pub regression: bool,
}

impl RatioCheck {
    pub fn gated(&self) -> bool {
        self.not_gated.is_none()
    }

    /// Moved the bad way by more than the threshold, gated or not.
    pub fn moved_beyond(&self, t: &Thresholds) -> bool {
        self.worse && self.change_pct.is_some_and(|p| p.abs() > t.fail_pct)
    }

    /// Judges a ratio: the first reason in [`Evidence`]'s order (the cell's
    /// own, no reference, no value, its noise) leaves it reported, not
    /// gated; a gated ratio that moved the bad way beyond the threshold is
    /// a regression.
    pub fn judge(e: Evidence, t: &Thresholds) -> RatioCheck {
        let (base_rounds, new_rounds) = (e.base.as_deref(), e.new.as_deref());
        let b = base_rounds.and_then(Ratio::of);
        let n = new_rounds.and_then(Ratio::of);
        let change_pct = match (&b, &n) {
            (Some(b), Some(n)) => Some((n.value / b.value - 1.0) * 100.0),
            _ => None,
        };
        let worse = change_pct.is_some_and(|p| {
            if e.quantity.higher_is_better() {
                p < 0.0
            } else {
                p > 0.0
            }
        });
        let (base_rounds, new_rounds) = (base_rounds.unwrap_or(&[]), new_rounds.unwrap_or(&[]));
        let noise = Noise::of(base_rounds, new_rounds, e.floor_pct, t.z);
        let not_gated = if e.structural.is_some() {
            e.structural
        } else if e.reference.is_empty() {
            Some(NotGated::NoReference)
        } else if b.is_none() {
            Some(NotGated::NoValue { side: Side::Base })
        } else if n.is_none() {
            Some(NotGated::NoValue { side: Side::New })
        } else {
            match &noise {
                None => Some(NotGated::SpreadUnknown),
                Some(x) if x.reach_pct > t.fail_pct => Some(NotGated::Noisy {
                    floored: x.floored,
                    sd_pct: x.sd_pct,
                    rounds: [base_rounds, new_rounds]
                        .iter()
                        .filter(|r| r.len() >= 2)
                        .map(|r| r.len())
                        .sum(),
                    reach_pct: x.reach_pct,
                }),
                Some(_) => None,
            }
        };
        let mut check = RatioCheck {
            quantity: e.quantity,
            reference: e.reference,
            base: b,
            new: n,
            noise,
            change_pct,
            worse,
            not_gated,
            regression: false,
        };
        check.regression = check.gated() && check.moved_beyond(t);
        check
    }
}

/// The fewest requests a repetition of the cell completed, in either run
/// (infinite when neither run has the column).
pub fn fewest_completed(base: &MeasuredCell, new: &MeasuredCell) -> f64 {
    base.raw(cols::completed)
        .into_iter()
        .chain(new.raw(cols::completed))
        .fold(f64::INFINITY, f64::min)
}

/// The cell a request class's row belongs to: the row of its experiment
/// with the same factors whose `class` is `all` (the cell's own row);
/// `None` for a row that is not a class's.
fn whole_cell<'a>(class_row: &MeasuredCell, run: &'a [MeasuredCell]) -> Option<&'a MeasuredCell> {
    let is_class = |c: &MeasuredCell| c.factor(cols::class).as_str().is_some_and(|k| k != "all");
    if !is_class(class_row) {
        return None;
    }
    run.iter().find(|c| {
        c.experiment == class_row.experiment
            && c.factor(cols::class).as_str() == Some("all")
            && FACTORS
                .iter()
                .filter(|f| **f != cols::class)
                .all(|f| c.factor(f) == class_row.factor(f))
    })
}

/// The cell's fidelity in its run (median over repetitions); a request
/// class's row (fidelity null) takes its whole cell's.
fn fidelity(cell: &MeasuredCell, run: &[MeasuredCell]) -> Option<f64> {
    median_or_none(&cell.raw(cols::fidelity))
        .or_else(|| median_or_none(&whole_cell(cell, run)?.raw(cols::fidelity)))
}

/// Whether the cell can be gated on quantity `q` at all, whatever its
/// noise: `None` if so, else why not. Both quantities: the fewest
/// completions (either run) at least [`Thresholds::min_completed`];
/// BASE's fidelity within the threshold of 1. p50 also: BASE's p50 at most
/// the threshold above the service time (`io_latency_ms + cpu_ms`).
/// `run` is BASE's cells (where a class row finds its cell's fidelity).
pub fn structural(
    q: Quantity,
    base: &MeasuredCell,
    new: &MeasuredCell,
    run: &[MeasuredCell],
    t: &Thresholds,
) -> Option<NotGated> {
    let tol = t.fail_pct / 100.0;
    let completed = fewest_completed(base, new);
    if completed.is_finite() && completed < t.min_completed() {
        return Some(NotGated::FewRequests { completed });
    }
    match fidelity(base, run) {
        None => return Some(NotGated::OffTheory { fidelity: None }),
        Some(f) if (f - 1.0).abs() > tol => return Some(NotGated::OffTheory { fidelity: Some(f) }),
        Some(_) => {}
    }
    if q == Quantity::P50 {
        let service_ms = base.factor_num(cols::io_latency_ms).unwrap_or(0.0)
            + base.factor_num(cols::cpu_ms).unwrap_or(0.0);
        let p50_ms = median_or_none(&base.raw(cols::latency_p50_ms))?;
        if p50_ms > service_ms * (1.0 + tol) {
            return Some(NotGated::Queueing { p50_ms, service_ms });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Row, Value};
    use crate::stats::cells;

    const T: Thresholds = Thresholds {
        fail_pct: 10.0,
        z: Z,
    };
    /// Three rounds with a 0.1% sd: steady enough for a 10% gate.
    const STEADY: [f64; 3] = [1.0, 1.001, 0.999];

    /// Evidence for a ratio with a reference and nothing against the cell.
    fn evidence(q: Quantity, base: Option<&[f64]>, new: Option<&[f64]>) -> Evidence {
        Evidence {
            quantity: q,
            base: base.map(<[f64]>::to_vec),
            new: new.map(<[f64]>::to_vec),
            reference: vec!["other-cell".into()],
            structural: None,
            floor_pct: 0.0,
        }
    }

    fn judge(q: Quantity, base: &[f64], new: &[f64]) -> RatioCheck {
        RatioCheck::judge(evidence(q, Some(base), Some(new)), &T)
    }

    #[test]
    fn a_steady_ratio_that_moves_the_bad_way_beyond_the_threshold_fails() {
        let c = judge(Quantity::Throughput, &STEADY, &[0.5]);
        assert!(c.gated() && c.worse && c.regression, "{c:?}");
        assert!((c.change_pct.unwrap() + 50.0).abs() < 1e-9);
        assert_eq!(c.reference, ["other-cell"]);
        // Within the threshold: worse, not a regression.
        let c = judge(Quantity::Throughput, &STEADY, &[0.92]);
        assert!(c.gated() && c.worse && !c.regression);
        // The good way: never a regression.
        let c = judge(Quantity::Throughput, &STEADY, &[2.0]);
        assert!(c.gated() && !c.worse && !c.regression);
        // p50: up is worse.
        assert!(judge(Quantity::P50, &STEADY, &[1.2]).regression);
        let c = judge(Quantity::P50, &STEADY, &[0.5]);
        assert!(!c.worse && !c.regression);
    }

    #[test]
    fn the_threshold_is_strict() {
        let c = judge(Quantity::Throughput, &[1.0, 1.0], &[0.9]);
        assert!(c.gated() && c.worse && !c.regression, "{c:?}");
    }

    #[test]
    fn a_noisy_ratio_is_reported_not_gated() {
        // sd 1% over 3 rounds: its 95% upper bound is 4.4%, and 4 of those
        // on a difference of medians reach 21.8% > 10% (the exact
        // chi-squared quantile; the old hand-typed table gave 21.7).
        let c = judge(Quantity::Throughput, &[1.0, 1.01, 0.99], &[0.5]);
        let Some(NotGated::Noisy {
            sd_pct,
            rounds,
            reach_pct,
            ..
        }) = c.not_gated
        else {
            panic!("{c:?}")
        };
        assert!((sd_pct - 1.0).abs() < 1e-9 && rounds == 3);
        assert!((reach_pct - 21.8).abs() < 0.05, "{reach_pct}");
        assert!(c.worse && !c.regression);
        // NEW's rounds count too.
        let c = judge(Quantity::P50, &[1.0], &[2.0, 2.5]);
        assert!(matches!(c.not_gated, Some(NotGated::Noisy { .. })));
    }

    #[test]
    fn more_rounds_gate_the_same_noise() {
        // The same 1% sd over 10 rounds: bound 1.645%, reach 7.1% <= 10%.
        let ten: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { 1.0095 } else { 0.9905 })
            .collect();
        let c = judge(Quantity::Throughput, &ten, &[0.5]);
        let noise = c.noise.clone().unwrap();
        assert!((noise.sd_pct - 1.0).abs() < 0.01, "{noise:?}");
        assert!((noise.reach_pct - 7.1).abs() < 0.1, "{noise:?}");
        assert!(c.gated() && c.regression, "{c:?}");
    }

    #[test]
    fn one_round_on_each_side_is_not_gated() {
        let c = judge(Quantity::Throughput, &[1.0], &[0.1]);
        assert_eq!(c.not_gated, Some(NotGated::SpreadUnknown));
        assert!(c.worse && !c.regression);
        // Either side's rounds tell the noise.
        assert!(judge(Quantity::Throughput, &[1.0, 1.0], &[0.1]).regression);
        assert!(judge(Quantity::Throughput, &[1.0], &[0.1, 0.1]).regression);
    }

    #[test]
    fn without_a_reference_a_value_or_a_theory_nothing_is_gated() {
        let alone = Evidence {
            reference: Vec::new(),
            ..evidence(Quantity::Throughput, Some(&STEADY), Some(&[0.1]))
        };
        let c = RatioCheck::judge(alone, &T);
        assert_eq!(c.not_gated, Some(NotGated::NoReference));
        assert!(!c.regression);
        let c = RatioCheck::judge(evidence(Quantity::Throughput, Some(&STEADY), None), &T);
        assert_eq!(c.not_gated, Some(NotGated::NoValue { side: Side::New }));
        assert_eq!(c.change_pct, None);
        let off = NotGated::OffTheory {
            fidelity: Some(0.58),
        };
        let off_theory = Evidence {
            structural: Some(off.clone()),
            ..evidence(Quantity::Throughput, Some(&STEADY), Some(&[0.1]))
        };
        let c = RatioCheck::judge(off_theory, &T);
        assert_eq!(c.not_gated, Some(off));
        assert!(c.worse && !c.regression);
    }

    /// A row of `cell` with `class` and `fidelity` (null: none).
    fn row(cell: &str, class: &str, fidelity: Option<f64>) -> Row {
        let mut values: Vec<(&str, Value)> = vec![
            ("experiment", Value::Str("mix".into())),
            ("cell", Value::Str(cell.into())),
            ("model", Value::Str("tokio".into())),
            ("repetition", Value::Num(1.0)),
            ("status", Value::Str("ok".into())),
            ("class", Value::Str(class.into())),
            ("concurrency", Value::Num(100.0)),
            ("completed", Value::Num(1000.0)),
            ("latency_p50_ms", Value::Num(50.0)),
            ("io_latency_ms", Value::Num(50.0)),
        ];
        if let Some(f) = fidelity {
            values.push(("fidelity", Value::Num(f)));
        }
        Row {
            values: values
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    #[test]
    fn a_class_row_takes_its_cells_fidelity_from_the_class_column() {
        // The class rows name their class in the `class` column; the cell's
        // own row (class `all`) carries the fidelity.
        let run = cells(&[
            row("c100", "all", Some(0.5)),
            row("c100~slow", "slow", None),
            row("c100~fast", "fast", None),
            row("other", "all", Some(1.0)),
        ]);
        for class_row in &run[1..3] {
            let why = structural(Quantity::Throughput, class_row, class_row, &run, &T);
            assert_eq!(
                why,
                Some(NotGated::OffTheory {
                    fidelity: Some(0.5)
                })
            );
        }
        // A cell at other factors is no class row's cell.
        let mut at_200 = row("c200~slow", "slow", None);
        at_200
            .values
            .insert("concurrency".into(), Value::Num(200.0));
        let lone = cells(&[at_200]);
        let why = structural(Quantity::Throughput, &lone[0], &lone[0], &run, &T);
        assert_eq!(why, Some(NotGated::OffTheory { fidelity: None }));
        // The cell's own row is not a class row.
        assert!(whole_cell(&run[0], &run).is_none());
        assert!(structural(Quantity::P50, &run[3], &run[3], &run, &T).is_none());
    }
}
