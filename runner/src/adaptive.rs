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
//! Within a round the checks are served in [`rank`] order: the chance that
//! one more repetition decides the check (how far its values lie from the
//! threshold against their spread: [`threadloop_reports::outlook`]) per
//! second its cells cost, halved for a rule whose claim another rule has
//! already decided "not supported" (its verdict can no longer change the
//! claim's). When the run's budget is short, the repetitions go to the
//! checks one more value would decide, not to the widest intervals.
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

/// Weight of a check whose claim is already "not supported" by another
/// rule: deciding it changes a rule's verdict, not the claim's.
pub const SETTLED_CLAIM_WEIGHT: f64 = 0.5;

/// An undecided check that wants one more repetition of its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Want {
    pub experiment: String,
    /// The planned cells the check reads: its cell, and its baseline's.
    pub cells: Vec<String>,
    pub why: String,
    /// The chance one more repetition decides the check, times
    /// [`SETTLED_CLAIM_WEIGHT`] when its claim is settled.
    pub worth: f64,
}

/// The undecided checks of the inconclusive rules of `dir`'s run, each with
/// the cells it wants more repetitions of and what one more is worth.
pub fn wanted(dir: &Path) -> anyhow::Result<Vec<Want>> {
    let run = threadloop_reports::load::load_run(dir)?;
    let analysis = threadloop_reports::analysis::analyse(run);
    Ok(wants_of(&analysis))
}

/// [`wanted`] on an analysis.
pub fn wants_of(analysis: &Analysis) -> Vec<Want> {
    let mut out: Vec<Want> = Vec::new();
    for e in &analysis.experiments {
        let settled = e.claim.as_ref().is_some_and(|id| {
            analysis
                .claims
                .iter()
                .any(|c| &c.id == id && c.verdict == Verdict::NotSupported)
        });
        for rule in e
            .rules
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
        {
            let Some(threshold) = rule.rule.as_ref().map(|r| r.threshold) else {
                continue;
            };
            for check in rule.checks.iter().filter(|c| c.undecided) {
                let why = format!(
                    "\"{}\" is undecided: {} {}",
                    rule.text,
                    threadloop_reports::load::fmt_compact(check.value),
                    threadloop_reports::verdict::fmt_interval(check)
                );
                // A request class's row is measured by its cell: that is
                // what runs again.
                let mut cells: Vec<String> = std::iter::once(&check.cell)
                    .chain(check.baseline_cell.as_ref())
                    .map(|c| planned_cell(analysis, &e.name, c).to_string())
                    .collect();
                cells.dedup();
                let weight = if settled { SETTLED_CLAIM_WEIGHT } else { 1.0 };
                out.push(Want {
                    experiment: e.name.clone(),
                    cells,
                    why,
                    worth: weight * check.outlook(threshold).p_next,
                });
            }
        }
    }
    out
}

/// The order in which `wants` are served: most worth per second of cost
/// first (`cost_s`: what one more repetition of a want's cells takes); ties
/// keep the order asked. A want that costs nothing known comes last.
pub fn rank(wants: &[Want], cost_s: impl Fn(&Want) -> f64) -> Vec<&Want> {
    let score = |w: &Want| {
        let cost = cost_s(w);
        if cost > 0.0 && cost.is_finite() {
            w.worth / cost
        } else {
            0.0
        }
    };
    let mut ranked: Vec<(f64, &Want)> = wants.iter().map(|w| (score(w), w)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().map(|(_, w)| w).collect()
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

/// The next round: one more repetition of each wanted check's cells still
/// under its experiment's `max_repetitions`, in [`rank`] order, while the
/// experiment's budget (measured wall time so far plus the estimates of
/// what this round already took) lasts and the round fits in `run_left_s`,
/// what is left of the run's own budget (`runner run --budget`; infinite
/// without one). A cell two checks want runs once. Returns (index into
/// `cells`, repetition number, why).
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
    let index = |experiment: &str, cell: &str| {
        cells
            .iter()
            .position(|c| c.experiment == experiment && c.id == cell)
    };
    let cost_s = |w: &Want| -> f64 {
        w.cells
            .iter()
            .filter_map(|c| index(&w.experiment, c))
            .map(|i| estimate_s(&cells[i].cell))
            .sum()
    };
    let mut round: Vec<(usize, u32, String)> = Vec::new();
    for w in rank(wants, cost_s) {
        for cell in &w.cells {
            let Some(i) = index(&w.experiment, cell) else {
                continue;
            };
            if round.iter().any(|(j, _, _)| *j == i) {
                continue;
            }
            let (next, counted) = reps
                .get(&(w.experiment.as_str(), cell.as_str()))
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
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, cells: &[&str], worth: f64) -> Want {
        Want {
            experiment: name.into(),
            cells: cells.iter().map(|c| c.to_string()).collect(),
            why: String::new(),
            worth,
        }
    }

    fn names(ranked: &[&Want]) -> Vec<String> {
        ranked.iter().map(|w| w.experiment.clone()).collect()
    }

    #[test]
    fn a_check_one_repetition_decides_goes_before_a_wide_one() {
        // Asked in experiment order: the wide interval first, the one two
        // values far below the threshold decide (tomcat-virtual-c10k) last.
        let wide = want("async-io-pool", &["a", "b"], 0.01);
        let far = want("tomcat-virtual-c10k", &["v100", "v0"], 0.99);
        let wants = [wide, far];
        let ranked = rank(&wants, |_| 10.0);
        assert_eq!(names(&ranked), ["tomcat-virtual-c10k", "async-io-pool"]);
    }

    #[test]
    fn cost_divides_the_worth() {
        // Equal chances: the cheaper check first; a costly check that is
        // nearly certain to decide still beats a cheap long shot.
        let wants = [
            want("dear", &["x"], 0.5),
            want("cheap", &["y"], 0.5),
            want("long-shot", &["z"], 0.02),
            want("dear-sure", &["w"], 0.95),
        ];
        let cost = |w: &Want| match w.experiment.as_str() {
            "dear" | "dear-sure" => 20.0,
            _ => 2.0,
        };
        assert_eq!(
            names(&rank(&wants, cost)),
            ["cheap", "dear-sure", "dear", "long-shot"]
        );
    }

    #[test]
    fn ties_keep_the_order_asked_and_an_unknown_cost_comes_last() {
        let wants = [
            want("unknown", &["gone"], 0.9),
            want("first", &["a"], 0.3),
            want("second", &["b"], 0.3),
        ];
        let cost = |w: &Want| if w.experiment == "unknown" { 0.0 } else { 5.0 };
        assert_eq!(names(&rank(&wants, cost)), ["first", "second", "unknown"]);
    }

    #[test]
    fn wants_of_an_analysis_weigh_each_check_by_its_outlook() {
        use threadloop_test_support::{write_fixture, FixtureOptions};
        let dir = std::env::temp_dir().join(format!("threadloop-wants-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_fixture(&dir, &FixtureOptions::default()).unwrap();
        let run = threadloop_reports::load::load_run(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let analysis = threadloop_reports::analysis::analyse(run);
        let wants = wants_of(&analysis);
        // Every want comes from an undecided check of an inconclusive rule,
        // names that check's cells, and is worth a probability.
        for w in &wants {
            assert!(!w.cells.is_empty(), "{w:?}");
            assert!((0.0..=1.0).contains(&w.worth), "{w:?}");
            assert!(w.why.contains("is undecided"), "{w:?}");
        }
        let undecided = analysis
            .experiments
            .iter()
            .flat_map(|e| &e.rules)
            .filter(|r| r.verdict == Verdict::Inconclusive && r.rule.is_some())
            .flat_map(|r| r.checks.iter().filter(|c| c.undecided))
            .count();
        assert_eq!(wants.len(), undecided);
    }
}
