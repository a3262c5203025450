//! [`compare`]: pairs the cells two runs have in common, takes each
//! cell's ratios against the other cells at its load point, and judges
//! them ([`RatioCheck::judge`]).

use super::judge::{
    fewest_completed, structural, Evidence, NotGated, Quantity, RatioCheck, Side, Thresholds,
    DEFAULT_PCT,
};
use super::noise::sd_floor_pct;
use super::reference::{load_point, rounds, Reps};
use super::rows::{CompareRow, Comparison, Info, Repetitions};
use crate::analysis::Analysis;
use crate::stats::MeasuredCell;
use threadloop_vocab::schema::cols;

/// Compares the cells two runs have in common; `fail_on_regression_pct`
/// sets the thresholds (default [`DEFAULT_PCT`]) and switches failing on.
pub fn compare(base: &Analysis, new: &Analysis, fail_on_regression_pct: Option<f64>) -> Comparison {
    let thresholds = Thresholds::new(fail_on_regression_pct.unwrap_or(DEFAULT_PCT));
    let matched = Matched::of(&base.cells, &new.cells);
    let pairs: Vec<Pair> = matched
        .pairs
        .iter()
        .map(|&(b, n)| Pair::new(b, n, &base.cells, &thresholds))
        .collect();
    let rows = pairs
        .iter()
        .enumerate()
        .map(|(i, pair)| {
            let check = |q: Quantity| {
                let others = reference(&pairs, i, q);
                RatioCheck::judge(evidence(pair, q, &others), &thresholds)
            };
            pair.row(check(Quantity::Throughput), check(Quantity::P50))
        })
        .collect();
    Comparison {
        base_id: base.run.run_id.clone(),
        new_id: new.run.run_id.clone(),
        rows,
        only_in_base: matched.only_in_base,
        only_in_new: matched.only_in_new,
        fail_on_regression_pct,
        thresholds,
    }
}

/// The cells of BASE and NEW matched on experiment and cell id.
struct Matched<'a> {
    /// `(BASE, NEW)`, in NEW's order.
    pairs: Vec<(&'a MeasuredCell, &'a MeasuredCell)>,
    /// `experiment/cell` of the cells only BASE has, in BASE's order.
    only_in_base: Vec<String>,
    /// `experiment/cell` of the cells only NEW has, in NEW's order.
    only_in_new: Vec<String>,
}

impl<'a> Matched<'a> {
    fn of(base: &'a [MeasuredCell], new: &'a [MeasuredCell]) -> Matched<'a> {
        let key = |c: &MeasuredCell| format!("{}/{}", c.experiment, c.cell);
        let same =
            |a: &MeasuredCell, b: &MeasuredCell| a.experiment == b.experiment && a.cell == b.cell;
        let mut pairs = Vec::new();
        let mut only_in_new = Vec::new();
        for n in new {
            match base.iter().find(|b| same(b, n)) {
                Some(b) => pairs.push((b, n)),
                None => only_in_new.push(key(n)),
            }
        }
        let only_in_base = base
            .iter()
            .filter(|b| !new.iter().any(|n| same(b, n)))
            .map(key)
            .collect();
        Matched {
            pairs,
            only_in_base,
            only_in_new,
        }
    }
}

/// A quantity's numerator for one cell: its per-repetition values in each
/// run ([`Quantity::values`]), and why the cell cannot be gated on it, if
/// so (no value in a run, [`structural`]).
struct Numerator {
    base: Reps,
    new: Reps,
    not_gateable: Option<NotGated>,
}

/// One cell in both runs, with what the gate needs of it.
struct Pair<'a> {
    base: &'a MeasuredCell,
    new: &'a MeasuredCell,
    load_point: String,
    throughput: Numerator,
    p50: Numerator,
}

impl<'a> Pair<'a> {
    /// `base_run`: BASE's cells (where a class row finds its cell).
    fn new(
        base: &'a MeasuredCell,
        new: &'a MeasuredCell,
        base_run: &[MeasuredCell],
        t: &Thresholds,
    ) -> Pair<'a> {
        let numerator = |q: Quantity| {
            let (b, n) = (q.values(base), q.values(new));
            let not_gateable = if b.is_empty() {
                Some(NotGated::NoValue { side: Side::Base })
            } else if n.is_empty() {
                Some(NotGated::NoValue { side: Side::New })
            } else {
                structural(q, base, new, base_run, t)
            };
            Numerator {
                base: b,
                new: n,
                not_gateable,
            }
        };
        Pair {
            base,
            new,
            load_point: load_point(new),
            throughput: numerator(Quantity::Throughput),
            p50: numerator(Quantity::P50),
        }
    }

    fn numerator(&self, q: Quantity) -> &Numerator {
        match q {
            Quantity::Throughput => &self.throughput,
            Quantity::P50 => &self.p50,
        }
    }

    /// The row of the cell, from its two judged ratios.
    fn row(&self, throughput: RatioCheck, p50: RatioCheck) -> CompareRow {
        let (b, n) = (self.base, self.new);
        let base_repetitions = Repetitions::of(b);
        let new_repetitions = Repetitions::of(n);
        CompareRow {
            experiment: n.experiment.clone(),
            cell: n.cell.clone(),
            model: n.model.clone(),
            throughput,
            p50,
            fidelity: Info::of(b, n, cols::fidelity),
            throughput_rps: Info::of(b, n, cols::throughput_rps),
            p99_ms: Info::of(b, n, cols::latency_p99_ms),
            newly_failed: new_repetitions.newly_failed(&base_repetitions),
            base_repetitions,
            new_repetitions,
            recheck: None,
        }
    }
}

/// The reference of pair `i` on quantity `q`: the other cells at its load
/// point that could be gated on `q` themselves (at their theory, enough
/// requests), with a value in both runs. A cell limited by the machine
/// would make the reference the machine's.
fn reference<'p>(pairs: &'p [Pair<'p>], i: usize, q: Quantity) -> Vec<&'p Pair<'p>> {
    let at = &pairs[i].load_point;
    pairs
        .iter()
        .enumerate()
        .filter(|&(j, o)| j != i && &o.load_point == at && o.numerator(q).not_gateable.is_none())
        .map(|(_, o)| o)
        .collect()
}

/// What the gate knows of `pair`'s ratio on quantity `q` against `others`
/// (its [`reference`]): its per-round ratios to them in each run.
fn evidence(pair: &Pair, q: Quantity, others: &[&Pair]) -> Evidence {
    let own = pair.numerator(q);
    let ratios = |pick: fn(&Numerator) -> &Reps| {
        let refs: Vec<&[(i64, f64)]> = others
            .iter()
            .map(|o| pick(o.numerator(q)).as_slice())
            .collect();
        let r = rounds(pick(own), &refs);
        (!r.is_empty()).then_some(r)
    };
    Evidence {
        quantity: q,
        base: ratios(|n| &n.base),
        new: ratios(|n| &n.new),
        reference: others.iter().map(|o| o.new.cell.clone()).collect(),
        structural: own.not_gateable.clone(),
        floor_pct: sd_floor_pct(fewest_completed(pair.base, pair.new)),
    }
}
