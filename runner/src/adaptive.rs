//! Adaptive repetitions: evidence is spent where a verdict needs it.
//!
//! After an experiment's planned repetitions, its rules are evaluated on
//! what has been measured (the report's own analysis, so the runner and the
//! report can never disagree on what "undecided" means). A rule that is
//! inconclusive because a check's 95% interval straddles its threshold (or
//! has no interval yet) asks for one more repetition of the cells that check
//! reads: the cell and its baseline. Rounds repeat until every rule is
//! decided, a cell reaches the experiment's `max_repetitions`, or the next
//! round would overrun the experiment's `budget_s`. A 20× effect decides at
//! the planned n and costs nothing more; a borderline ratio gets the extra
//! repetitions, and stays "inconclusive" honestly when they are not enough.
//!
//! Every added repetition is recorded in the manifest with the rule and the
//! interval that asked for it.

use crate::manifest::Manifest;
use crate::plan::{estimate_s, PlannedCell};
use crate::store::CellRecord;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use threadloop_reports::analysis::Analysis;
use threadloop_reports::stats::MeasuredCell;
use threadloop_reports::verdict::Verdict;

/// Budget of an experiment without `budget_s`: this many times its planned
/// time.
pub const DEFAULT_BUDGET_FACTOR: f64 = 1.5;

/// A cell an undecided rule wants more of.
#[derive(Debug, Clone, PartialEq)]
pub struct Want {
    pub experiment: String,
    pub cell: String,
    pub why: String,
}

/// The cells that the inconclusive rules of `dir`'s run want more
/// repetitions of (each cell once, with the first rule that asked).
pub fn wanted(dir: &Path) -> anyhow::Result<Vec<Want>> {
    let run = threadloop_reports::load::load_run(dir)?;
    let analysis = threadloop_reports::analysis::analyse(run);
    let mut out: Vec<Want> = Vec::new();
    for e in &analysis.experiments {
        for rule in e
            .rules
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
        {
            for check in rule.checks.iter().filter(|c| c.undecided) {
                let why = format!(
                    "\"{}\" is undecided: {} {}",
                    rule.text,
                    threadloop_reports::load::fmt_compact(check.value),
                    threadloop_reports::verdict::fmt_interval(check)
                );
                for cell in std::iter::once(&check.cell).chain(check.baseline_cell.as_ref()) {
                    // A request class's row is measured by its cell: that is
                    // what runs again.
                    let cell = &planned_cell(&analysis, &e.name, cell).to_string();
                    if !out
                        .iter()
                        .any(|w| w.experiment == e.name && &w.cell == cell)
                    {
                        out.push(Want {
                            experiment: e.name.clone(),
                            cell: cell.clone(),
                            why: why.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The planned cell that the result rows `row_cell` of `experiment` belong
/// to (their `class` column says whether they are a request class's).
fn planned_cell<'a>(analysis: &'a Analysis, experiment: &str, row_cell: &'a str) -> &'a str {
    analysis
        .cells
        .iter()
        .find(|c| c.experiment == experiment && c.cell == row_cell)
        .map_or(row_cell, MeasuredCell::planned_cell)
}

/// An experiment's time budget in seconds: its `budget_s`, or
/// [`DEFAULT_BUDGET_FACTOR`] × its planned time.
pub fn budget_s(manifest: &Manifest, experiment: &str) -> f64 {
    let Some(e) = manifest.experiments.iter().find(|e| e.name == experiment) else {
        return 0.0;
    };
    e.spec.budget_s.unwrap_or_else(|| {
        DEFAULT_BUDGET_FACTOR
            * e.cells
                .iter()
                .map(|c| estimate_s(&c.cell) * c.repetitions as f64)
                .sum::<f64>()
    })
}

/// The next round: one more repetition of each wanted cell still under its
/// experiment's `max_repetitions`, in the order asked, while the
/// experiment's budget (measured wall time so far plus the estimates of
/// what this round already took) lasts and the round fits in `run_left_s`,
/// what is left of the run's own budget (`runner run --budget`; infinite
/// without one). Returns (index into `cells`, repetition number, why).
pub fn next_round(
    manifest: &Manifest,
    cells: &[PlannedCell],
    records: &[CellRecord],
    wants: &[Want],
    run_left_s: f64,
) -> Vec<(usize, u32, String)> {
    let mut run_left_s = run_left_s;
    let mut spent: HashMap<&str, f64> = HashMap::new();
    // Per cell: the next free repetition number, and how many executions
    // count towards `max_repetitions` (a disturbed one does not).
    let mut reps: HashMap<(&str, &str), (u32, u32)> = HashMap::new();
    for r in records {
        *spent.entry(r.experiment.as_str()).or_default() += r.wall_s;
        let (next, counted) = reps
            .entry((r.experiment.as_str(), r.cell_id.as_str()))
            .or_default();
        *next = (*next).max(r.repetition + 1);
        *counted += u32::from(!r.disturbed());
    }
    let budgets: BTreeMap<&str, f64> = manifest
        .experiments
        .iter()
        .map(|e| (e.name.as_str(), budget_s(manifest, &e.name)))
        .collect();
    let max_reps: BTreeMap<&str, u32> = manifest
        .experiments
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                e.spec.max_repetitions.max(e.spec.repetitions),
            )
        })
        .collect();
    let mut round = Vec::new();
    for w in wants {
        let Some(i) = cells
            .iter()
            .position(|c| c.experiment == w.experiment && c.id == w.cell)
        else {
            continue;
        };
        let (next, counted) = reps
            .get(&(w.experiment.as_str(), w.cell.as_str()))
            .copied()
            .unwrap_or((0, 0));
        if counted >= max_reps.get(w.experiment.as_str()).copied().unwrap_or(0) {
            continue;
        }
        let cost = estimate_s(&cells[i].cell);
        let used = spent.entry(w.experiment.as_str()).or_default();
        if *used + cost > budgets.get(w.experiment.as_str()).copied().unwrap_or(0.0)
            || cost > run_left_s
        {
            continue;
        }
        *used += cost;
        run_left_s -= cost;
        round.push((i, next, w.why.clone()));
    }
    round
}
