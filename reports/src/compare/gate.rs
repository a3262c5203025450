//! The gate's analysis: which same-run ratios two runs have, how far they
//! moved, and which of them may fail the gate.
//!
//! Every gated quantity is a ratio between cells of *one* run, so a
//! machine that is uniformly faster or slower (the baseline is recorded on
//! one machine, CI runs on another) cancels out of it:
//!
//! - **throughput** of a cell: its fidelity (throughput / the theory bound
//!   `theory_throughput_rps`, from the run's `fidelity` column) divided by
//!   the median fidelity at its load point: the cell and the other cells
//!   of the experiment with the same factors except the model
//!   configuration ([`MODEL_FACTORS`]). Higher is better.
//! - **p50** of a cell: its p50 latency divided by the median p50 of the
//!   same cells. Lower is better.
//!
//! Both are computed per repetition round (repetition `r` of the cell
//! against repetition `r` of the others), so a round that ran on a busy
//! machine moves the cell and its reference together. A run's value is the
//! median over its rounds; the change is `new / base − 1`.
//!
//! A ratio is **gated** only where the gate can know it is steady:
//!
//! 1. a reference exists: another cell at the load point, in both runs,
//!    that could be gated itself;
//! 2. BASE shows the cell at its theory ([`structural`]): fidelity within
//!    the threshold of 1 (off it, something the theory does not model
//!    limits the cell, and its cost is the machine's: the issue's
//!    `thread-per-request-c1000` at fidelity 0.58 here, ~0.35 on CI); for
//!    p50 also p50 within the threshold above the service time (above it,
//!    queueing sets p50); and enough completed requests that one request
//!    more or less stays far inside the threshold;
//! 3. its noise is known and small ([`Noise`]): from the rounds of a run
//!    with ≥ 2 of them (the baseline is recorded with more repetitions
//!    than the smoke run), the 95% upper confidence bound of the ratio's
//!    standard deviation, times [`Z`] and the spread of a NEW-vs-BASE
//!    difference of medians, stays within the threshold. Few rounds give a
//!    loose bound (3 rounds: 4.4 × the sample sd), so a short baseline
//!    gates only very steady ratios.
//!
//! Everything else is reported with the reason and never fails. p99 and
//! absolute throughput are reported only.

use crate::analysis::Analysis;
use crate::stats::{MeasuredCell, FACTORS};
use serde::Serialize;
use std::collections::BTreeMap;
use threadloop_vocab::schema::cols;

/// The gate's threshold when `--fail-on-regression` is not given (the
/// table is still classified with it; nothing fails). CI passes the same
/// value. The argument for it is in the README ("Regression gate").
pub const DEFAULT_PCT: f64 = 8.0;

/// Factors that make up a cell's model configuration. Every other factor
/// in [`FACTORS`] (clients, rate, I/O kind and latency, CPU per request,
/// request class, database query and pool, load mode, window, timeout) is
/// the *load point*: cells of one experiment with the same load point are
/// one another's reference.
pub const MODEL_FACTORS: &[&str] = &threadloop_vocab::factors::MODEL_FACTORS;

/// Standard deviations between the threshold and unchanged code: a ratio
/// is gated only if `Z` × (the 95% upper bound of its standard deviation)
/// × (the spread of a difference of medians) is within the threshold.
/// Under normal noise a gated ratio of unchanged code then crosses the
/// threshold with probability < 3.2e-5 (one-sided), < 0.4% per run of
/// ~120 gated ratios.
pub const Z: f64 = 4.0;

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

/// Lower 5% quantiles of the χ² distribution, df 1..=30.
const CHI2_05: [f64; 30] = [
    0.00393, 0.1026, 0.3518, 0.7107, 1.1455, 1.6354, 2.1673, 2.7326, 3.3251, 3.9403, 4.5748,
    5.2260, 5.8919, 6.5706, 7.2609, 7.9616, 8.6718, 9.3905, 10.1170, 10.8508, 11.5913, 12.3380,
    13.0905, 13.8484, 14.6114, 15.3792, 16.1514, 16.9279, 17.7084, 18.4927,
];

/// The factor from a sample standard deviation with `df` degrees of
/// freedom to its one-sided 95% upper confidence bound, √(df / χ²₀.₀₅).
pub fn sd_upper_factor(df: usize) -> f64 {
    let q = match df {
        0 => return f64::INFINITY,
        1..=30 => CHI2_05[df - 1],
        _ => {
            // Wilson–Hilferty, z₀.₀₅ = −1.6449.
            let d = df as f64;
            let a = 2.0 / (9.0 * d);
            d * (1.0 - a - 1.6449 * a.sqrt()).powi(3)
        }
    };
    (df as f64 / q).sqrt()
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

impl Noise {
    fn of(base: &[f64], new: &[f64], floor_pct: f64, t: &Thresholds) -> Option<Noise> {
        let mut ss = 0.0;
        let mut df = 0usize;
        for rounds in [base, new] {
            if rounds.len() < 2 {
                continue;
            }
            let m = median(rounds)?;
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
            reach_pct: t.z * sd * sd_upper_factor(df) * spread * 100.0,
        })
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
    fn of(rounds: &[f64]) -> Option<Ratio> {
        let m = median(rounds)?;
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

/// One gated quantity of one cell, in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
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

impl Check {
    pub fn gated(&self) -> bool {
        self.not_gated.is_none()
    }

    /// Moved the bad way by more than the threshold, gated or not.
    pub fn moved_beyond(&self, t: &Thresholds) -> bool {
        self.worse && self.change_pct.is_some_and(|p| p.abs() > t.fail_pct)
    }

    /// Judges a ratio from its rounds in each run (`None`: no value);
    /// `has_reference`: another cell at the load point in both runs;
    /// `structural`: why the cell itself cannot be gated, if so (no value
    /// in a run, [`structural`]);
    /// `floor_pct`: the least sd to credit the rounds with
    /// ([`sd_floor_pct`]).
    #[allow(clippy::too_many_arguments)]
    pub fn judge(
        quantity: Quantity,
        base: Option<&[f64]>,
        new: Option<&[f64]>,
        has_reference: bool,
        structural: Option<NotGated>,
        floor_pct: f64,
        t: &Thresholds,
    ) -> Check {
        let b = base.and_then(Ratio::of);
        let n = new.and_then(Ratio::of);
        let change_pct = match (&b, &n) {
            (Some(b), Some(n)) => Some((n.value / b.value - 1.0) * 100.0),
            _ => None,
        };
        let worse = change_pct.is_some_and(|p| {
            if quantity.higher_is_better() {
                p < 0.0
            } else {
                p > 0.0
            }
        });
        let (base_rounds, new_rounds) = (base.unwrap_or(&[]), new.unwrap_or(&[]));
        let noise = Noise::of(base_rounds, new_rounds, floor_pct, t);
        let not_gated = if structural.is_some() {
            structural
        } else if !has_reference {
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
        let mut check = Check {
            quantity,
            reference: Vec::new(),
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

/// A cell's repetitions in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repetitions {
    pub ok: usize,
    /// Repetitions with status `failed` (crashed, killed, hung).
    pub failed: usize,
    /// Every repetition was `skipped` (beyond the machine's thread limits).
    pub skipped: bool,
    /// The first failed or skipped repetition's reason.
    pub error: Option<String>,
}

impl Repetitions {
    fn of(cell: &MeasuredCell) -> Repetitions {
        // A cell is skipped as a whole (the runner decides per cell, before
        // starting it); then its first row is a skipped one.
        let skipped =
            cell.ok_repetitions == 0 && cell.first_row.str(cols::status) == Some("skipped");
        Repetitions {
            ok: cell.ok_repetitions,
            failed: if skipped { 0 } else { cell.failures.len() },
            skipped,
            error: cell.failures.first().map(|f| f.error.clone()),
        }
    }
}

/// A metric's median in each run and its change, reported only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Info {
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// (new / base − 1) × 100.
    pub change_pct: Option<f64>,
}

impl Info {
    fn of(b: &MeasuredCell, n: &MeasuredCell, metric: &str) -> Info {
        let base = median(&b.raw(metric));
        let new = median(&n.raw(metric));
        let change_pct = match (base, new) {
            (Some(b), Some(n)) if b != 0.0 => Some((n / b - 1.0) * 100.0),
            _ => None,
        };
        Info {
            base,
            new,
            change_pct,
        }
    }
}

/// One cell present in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub experiment: String,
    pub cell: String,
    pub model: String,
    pub throughput: Check,
    pub p50: Check,
    /// Reported only.
    pub fidelity: Info,
    pub throughput_rps: Info,
    pub p99_ms: Info,
    pub base_repetitions: Repetitions,
    pub new_repetitions: Repetitions,
    /// Fails in NEW but was ok in BASE: a failed repetition where BASE had
    /// none, or no ok repetition left where BASE had one.
    pub newly_failed: bool,
    /// What a rerun made of a failing row ([`Comparison::recheck`]).
    pub recheck: Option<Recheck>,
}

/// A failing row judged again against a rerun of its experiment
/// (`report compare --recheck RERUN`).
///
/// One repetition of a 1-second window is at the mercy of the machine:
/// another process taking a core for 100 ms, a PostgreSQL checkpoint. Such a
/// hiccup is rare and short, a regression in the code is neither, so a
/// failure counts only when the rerun (every cell of the experiment, several
/// rounds, the gate's median over them) fails the same way.
#[derive(Debug, Clone, Serialize)]
pub struct Recheck {
    /// The rerun's run id.
    pub run_id: String,
    /// The cell's ok repetitions in the rerun (0: absent or all failed).
    pub repetitions: usize,
    /// The rerun's change of each gated ratio against BASE.
    pub throughput_change_pct: Option<f64>,
    pub p50_change_pct: Option<f64>,
    /// The rerun fails too (or lacks the cell): the failure stands.
    pub confirmed: bool,
}

impl CompareRow {
    pub fn checks(&self) -> [&Check; 2] {
        [&self.throughput, &self.p50]
    }

    /// A gated ratio moved beyond the threshold, or the cell newly fails,
    /// and a rerun, if any, confirmed it.
    pub fn fails(&self) -> bool {
        self.fails_once() && self.recheck.as_ref().is_none_or(|r| r.confirmed)
    }

    /// The failure as NEW alone shows it, before any rerun.
    pub fn fails_once(&self) -> bool {
        self.newly_failed || self.throughput.regression || self.p50.regression
    }

    /// At least one of its ratios is gated.
    pub fn gated(&self) -> bool {
        self.checks().iter().any(|c| c.gated())
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base_id: String,
    pub new_id: String,
    pub rows: Vec<CompareRow>,
    /// `experiment/cell` present in BASE only (reported, never a failure).
    pub only_in_base: Vec<String>,
    /// `experiment/cell` present in NEW only (reported, never a failure).
    pub only_in_new: Vec<String>,
    /// `--fail-on-regression`: without it nothing fails.
    pub fail_on_regression_pct: Option<f64>,
    pub thresholds: Thresholds,
}

impl Comparison {
    /// Rows that fail the gate (empty without `--fail-on-regression`).
    pub fn failing(&self) -> Vec<&CompareRow> {
        if self.fail_on_regression_pct.is_none() {
            return Vec::new();
        }
        self.rows.iter().filter(|r| r.fails()).collect()
    }

    /// Rows with a gated ratio beyond the threshold (with or without the
    /// gate switched on).
    pub fn regressions(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.throughput.regression || r.p50.regression)
            .collect()
    }

    /// Cells that fail in NEW but were ok in BASE.
    pub fn newly_failed(&self) -> Vec<&CompareRow> {
        self.rows.iter().filter(|r| r.newly_failed).collect()
    }

    /// Rows with at least one gated ratio.
    pub fn gated(&self) -> Vec<&CompareRow> {
        self.rows.iter().filter(|r| r.gated()).collect()
    }

    /// Rows that failed in NEW but passed on the rerun.
    pub fn not_reproduced(&self) -> Vec<&CompareRow> {
        self.rows
            .iter()
            .filter(|r| r.recheck.as_ref().is_some_and(|c| !c.confirmed))
            .collect()
    }

    /// Failing rows a rerun may clear: those failing on a ratio only. A
    /// cell that newly fails (crashed, hung, errors) fails the gate however
    /// a rerun goes: a failure that comes and goes is a bug, not noise.
    fn recheckable(row: &CompareRow) -> bool {
        row.fails() && !row.newly_failed
    }

    /// The experiments with a row a rerun may clear, each once, sorted:
    /// what to rerun.
    pub fn failing_experiments(&self) -> Vec<&str> {
        let set: std::collections::BTreeSet<&str> = self
            .failing()
            .into_iter()
            .filter(|r| Self::recheckable(r))
            .map(|r| r.experiment.as_str())
            .collect();
        set.into_iter().collect()
    }

    /// Judges each row failing on a ratio again from `rerun`, the
    /// comparison of BASE with a rerun of those rows' experiments
    /// ([`Recheck`]): a failure stands where the rerun lacks the cell, the
    /// cell fails there, or a ratio that failed moves the bad way beyond the
    /// threshold again. The rerun's own rounds are not asked to show the
    /// ratio steady: the ratio was gated on BASE and NEW, the rerun only
    /// says whether the move lasts.
    pub fn recheck(&mut self, rerun: &Comparison) {
        let t = &self.thresholds;
        let again_fails = |row: &CompareRow, a: &CompareRow| {
            a.newly_failed
                || (row.throughput.regression && a.throughput.moved_beyond(t))
                || (row.p50.regression && a.p50.moved_beyond(t))
        };
        for row in self.rows.iter_mut().filter(|r| Self::recheckable(r)) {
            let again = rerun
                .rows
                .iter()
                .find(|r| r.experiment == row.experiment && r.cell == row.cell);
            row.recheck = Some(Recheck {
                run_id: rerun.new_id.clone(),
                repetitions: again.map_or(0, |r| r.new_repetitions.ok),
                throughput_change_pct: again.and_then(|r| r.throughput.change_pct),
                p50_change_pct: again.and_then(|r| r.p50.change_pct),
                confirmed: again.is_none_or(|a| again_fails(row, a)),
            });
        }
    }
}

/// The load point of a cell: its experiment and every factor outside the
/// model configuration.
pub fn load_point(cell: &MeasuredCell) -> String {
    let mut key = cell.experiment.clone();
    for f in FACTORS.iter().filter(|f| !MODEL_FACTORS.contains(f)) {
        key.push('\u{1f}');
        key.push_str(f);
        key.push('=');
        key.push_str(&cell.factor(f).display());
    }
    key
}

/// The cell's fidelity in its run (median over repetitions); a request
/// class's row (`<cell>~<class>`, fidelity null) takes its cell's.
fn fidelity(cell: &MeasuredCell, run: &[MeasuredCell]) -> Option<f64> {
    median(&cell.raw(cols::fidelity)).or_else(|| {
        let (parent, _) = cell.cell.split_once('~')?;
        let p = run
            .iter()
            .find(|c| c.experiment == cell.experiment && c.cell == parent)?;
        median(&p.raw(cols::fidelity))
    })
}

/// Whether the cell can be gated on quantity `q` at all, whatever its
/// noise: `None` if so, else why not. Both quantities: the fewest
/// completions (either run) at least [`Thresholds::min_completed`];
/// BASE's fidelity within the threshold of 1. p50 also: BASE's p50 at most
/// the threshold above the service time (`io_latency_ms + cpu_ms`).
pub fn structural(
    q: Quantity,
    base: &MeasuredCell,
    new: &MeasuredCell,
    run: &[MeasuredCell],
    t: &Thresholds,
) -> Option<NotGated> {
    let tol = t.fail_pct / 100.0;
    let completed = base
        .raw(cols::completed)
        .into_iter()
        .chain(new.raw(cols::completed))
        .fold(f64::INFINITY, f64::min);
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
        let p50_ms = median(&base.raw(cols::latency_p50_ms))?;
        if p50_ms > service_ms * (1.0 + tol) {
            return Some(NotGated::Queueing { p50_ms, service_ms });
        }
    }
    None
}

/// Per-round ratios of `cell` against the load point's median in the same
/// round: with one other cell, that cell's value; with more, the median of
/// the cell's own value and the others' (so that one cell moving, either
/// way, leaves the others' reference in place while its own ratio takes
/// the whole move). A round that no other cell has uses the others'
/// medians.
fn rounds(cell: &[(i64, f64)], others: &[Vec<(i64, f64)>]) -> Vec<f64> {
    let medians: Vec<f64> = others
        .iter()
        .filter_map(|o| median(&o.iter().map(|p| p.1).collect::<Vec<_>>()))
        .collect();
    cell.iter()
        .filter_map(|&(rep, x)| {
            let mut same: Vec<f64> = others
                .iter()
                .filter_map(|o| o.iter().find(|p| p.0 == rep).map(|p| p.1))
                .collect();
            if same.is_empty() {
                same = medians.clone();
            }
            if others.len() > 1 {
                same.push(x);
            }
            let reference = median(&same)?;
            (reference > 0.0).then(|| x / reference)
        })
        .collect()
}

/// `(repetition, value)` pairs of one cell in one run.
type Reps = Vec<(i64, f64)>;
/// A cell's [`Reps`] in BASE and in NEW.
type Both = (Reps, Reps);

/// Compares the cells two runs have in common; `fail_on_regression_pct`
/// sets the thresholds (default [`DEFAULT_PCT`]) and switches failing on.
pub fn compare(base: &Analysis, new: &Analysis, fail_on_regression_pct: Option<f64>) -> Comparison {
    let thresholds = Thresholds::new(fail_on_regression_pct.unwrap_or(DEFAULT_PCT));
    let key = |c: &MeasuredCell| format!("{}/{}", c.experiment, c.cell);
    // Matched cells, in NEW's order.
    let mut pairs: Vec<(&MeasuredCell, &MeasuredCell)> = Vec::new();
    let mut only_in_new = Vec::new();
    for n in &new.cells {
        match base
            .cells
            .iter()
            .find(|b| b.experiment == n.experiment && b.cell == n.cell)
        {
            Some(b) => pairs.push((b, n)),
            None => only_in_new.push(key(n)),
        }
    }
    let only_in_base = base
        .cells
        .iter()
        .filter(|b| {
            !new.cells
                .iter()
                .any(|n| n.experiment == b.experiment && n.cell == b.cell)
        })
        .map(key)
        .collect();

    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, n)) in pairs.iter().enumerate() {
        groups.entry(load_point(n)).or_default().push(i);
    }
    // values[q][i] = (base, new) per-repetition values of pair i.
    let values: Vec<Vec<Both>> = Quantity::ALL
        .iter()
        .map(|q| {
            pairs
                .iter()
                .map(|(b, n)| (q.values(b), q.values(n)))
                .collect()
        })
        .collect();

    // structural[q][i]: why pair i cannot be gated on quantity q, if so.
    let structural: Vec<Vec<Option<NotGated>>> = Quantity::ALL
        .iter()
        .enumerate()
        .map(|(qi, &q)| {
            pairs
                .iter()
                .enumerate()
                .map(|(i, (b, n))| {
                    if values[qi][i].0.is_empty() {
                        Some(NotGated::NoValue { side: Side::Base })
                    } else if values[qi][i].1.is_empty() {
                        Some(NotGated::NoValue { side: Side::New })
                    } else {
                        structural(q, b, n, &base.cells, &thresholds)
                    }
                })
                .collect()
        })
        .collect();

    let rows = pairs
        .iter()
        .enumerate()
        .map(|(i, (b, n))| {
            let group = &groups[&load_point(n)];
            let mut checks = Quantity::ALL.iter().enumerate().map(|(qi, &q)| {
                let v = &values[qi];
                // The reference: the other cells at the load point that
                // could be gated themselves (at their theory, enough
                // requests), with a value in both runs. A cell limited by
                // the machine would make the reference the machine's.
                let others: Vec<usize> = group
                    .iter()
                    .copied()
                    .filter(|&j| j != i && structural[qi][j].is_none())
                    .collect();
                let side = |pick: fn(&Both) -> &Reps| {
                    let own = pick(&v[i]);
                    let refs: Vec<Reps> = others.iter().map(|&j| pick(&v[j]).clone()).collect();
                    let r = rounds(own, &refs);
                    (!r.is_empty()).then_some(r)
                };
                let base_rounds = side(|p| &p.0);
                let new_rounds = side(|p| &p.1);
                let completed = b
                    .raw(cols::completed)
                    .into_iter()
                    .chain(n.raw(cols::completed))
                    .fold(f64::INFINITY, f64::min);
                let mut check = Check::judge(
                    q,
                    base_rounds.as_deref(),
                    new_rounds.as_deref(),
                    !others.is_empty(),
                    structural[qi][i].clone(),
                    sd_floor_pct(completed),
                    &thresholds,
                );
                check.reference = others.iter().map(|&j| pairs[j].1.cell.clone()).collect();
                check
            });
            let throughput = checks.next().expect("two quantities");
            let p50 = checks.next().expect("two quantities");
            let base_repetitions = Repetitions::of(b);
            let new_repetitions = Repetitions::of(n);
            let newly_failed = new_repetitions.failed > 0
                && base_repetitions.ok > 0
                && (base_repetitions.failed == 0 || new_repetitions.ok == 0);
            CompareRow {
                experiment: n.experiment.clone(),
                cell: n.cell.clone(),
                model: n.model.clone(),
                throughput,
                p50,
                fidelity: Info::of(b, n, cols::fidelity),
                throughput_rps: Info::of(b, n, cols::throughput_rps),
                p99_ms: Info::of(b, n, cols::latency_p99_ms),
                base_repetitions,
                new_repetitions,
                newly_failed,
                recheck: None,
            }
        })
        .collect();

    Comparison {
        base_id: base.run.run_id.clone(),
        new_id: new.run.run_id.clone(),
        rows,
        only_in_base,
        only_in_new,
        fail_on_regression_pct,
        thresholds,
    }
}

/// Median of the finite values; `None` without any.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        fail_pct: 10.0,
        z: Z,
    };
    /// Three rounds with a 0.1% sd: steady enough for a 10% gate.
    const STEADY: [f64; 3] = [1.0, 1.001, 0.999];

    fn judge(q: Quantity, base: &[f64], new: &[f64]) -> Check {
        Check::judge(q, Some(base), Some(new), true, None, 0.0, &T)
    }

    #[test]
    fn a_steady_ratio_that_moves_the_bad_way_beyond_the_threshold_fails() {
        let c = judge(Quantity::Throughput, &STEADY, &[0.5]);
        assert!(c.gated() && c.worse && c.regression, "{c:?}");
        assert!((c.change_pct.unwrap() + 50.0).abs() < 1e-9);
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
        // on a difference of medians reach 21.7% > 10%.
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
        assert!((reach_pct - 21.7).abs() < 0.1, "{reach_pct}");
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
    fn the_sd_bound_follows_chi_square() {
        assert!((sd_upper_factor(2) - 4.415).abs() < 0.01);
        assert!((sd_upper_factor(9) - 1.645).abs() < 0.01);
        // Wilson–Hilferty beyond the table: χ²₀.₀₅(100) = 77.93.
        assert!((sd_upper_factor(100) - (100.0f64 / 77.93).sqrt()).abs() < 0.002);
        assert!(sd_upper_factor(0).is_infinite());
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
        let c = Check::judge(
            Quantity::Throughput,
            Some(&STEADY),
            Some(&[0.1]),
            false,
            None,
            0.0,
            &T,
        );
        assert_eq!(c.not_gated, Some(NotGated::NoReference));
        assert!(!c.regression);
        let c = Check::judge(
            Quantity::Throughput,
            Some(&STEADY),
            None,
            true,
            None,
            0.0,
            &T,
        );
        assert_eq!(c.not_gated, Some(NotGated::NoValue { side: Side::New }));
        assert_eq!(c.change_pct, None);
        let off = NotGated::OffTheory {
            fidelity: Some(0.58),
        };
        let c = Check::judge(
            Quantity::Throughput,
            Some(&STEADY),
            Some(&[0.1]),
            true,
            Some(off.clone()),
            0.0,
            &T,
        );
        assert_eq!(c.not_gated, Some(off));
        assert!(c.worse && !c.regression);
    }

    #[test]
    fn rounds_pair_repetitions_and_fall_back_to_medians() {
        // Round 1: 2 / median(2, 1, 3) = 1; round 2: 4 / median(4, 2, 2)
        // = 2; round 3: nobody else has it: 4.5 / median(4.5, medians 1.5
        // and 2.5) = 1.8.
        let r = rounds(
            &[(1, 2.0), (2, 4.0), (3, 4.5)],
            &[vec![(1, 1.0), (2, 2.0)], vec![(1, 3.0), (2, 2.0)]],
        );
        assert_eq!(r, vec![1.0, 2.0, 1.8]);
        // One other cell: the reference is that cell.
        assert_eq!(rounds(&[(1, 3.0)], &[vec![(1, 1.5)]]), vec![2.0]);
    }

    #[test]
    fn ratio_and_median() {
        let r = Ratio::of(&[1.0, 1.1, 0.9]).unwrap();
        assert_eq!(r.value, 1.0);
        assert!((r.sd_pct.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(Ratio::of(&[2.0]).unwrap().sd_pct, None);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
