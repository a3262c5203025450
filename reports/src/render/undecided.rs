//! The rules a run left undecided, and why: the run's budget ran out
//! before their turn, one more round of their cells cost more than their
//! experiment's budget had left, their cells reached `max_repetitions`, or
//! more repetitions could not decide them (no check more n can move: a
//! missing baseline, a value of zero on a log scale, or an estimate so near
//! the threshold that the interval would still straddle it at
//! `max_repetitions`, projected by [`crate::outlook`], the same projection
//! the adaptive budget ranks its repetitions by).

use crate::analysis::Analysis;
use crate::load::fmt_compact;
use crate::outlook::Outlook;
use crate::verdict::{RuleOutcome, Verdict};
use serde::Serialize;
use threadloop_vocab::schema::cols;

/// Why a rule stayed undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Why {
    /// The run's `--budget` was spent before its repetitions.
    #[serde(rename = "budget exhausted")]
    BudgetExhausted,
    /// One more round of its cells did not fit its experiment's budget.
    #[serde(rename = "cost")]
    Cost,
    /// Its cells ran `max_repetitions` times.
    #[serde(rename = "max_repetitions reached")]
    Cap,
    /// More repetitions cannot decide it.
    #[serde(rename = "not decidable by more n")]
    NotByMoreN,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::BudgetExhausted => "budget exhausted",
            Why::Cost => "cost",
            Why::Cap => "max_repetitions reached",
            Why::NotByMoreN => "not decidable by more n",
        }
    }
}

/// One rule left undecided.
#[derive(Debug, Clone, Serialize)]
pub struct Undecided {
    pub experiment: String,
    pub rule: String,
    pub why: Why,
    pub why_text: &'static str,
    /// The numbers behind `why`.
    pub detail: String,
}

/// Mean wall time of one execution of `cell` (a class row's planned cell).
fn cost_s(analysis: &Analysis, experiment: &str, cell: &str) -> f64 {
    let walls: Vec<f64> = analysis
        .run
        .rows
        .iter()
        .filter(|r| r.str(cols::experiment) == Some(experiment) && r.str(cols::cell) == Some(cell))
        .filter_map(|r| r.num(cols::wall_s))
        .collect();
    if walls.is_empty() {
        0.0
    } else {
        walls.iter().sum::<f64>() / walls.len() as f64
    }
}

/// Every inconclusive rule of the run with why it stayed so.
pub fn undecided(analysis: &Analysis) -> Vec<Undecided> {
    let cell_time: f64 = analysis
        .run
        .rows
        .iter()
        .filter_map(|r| r.num(cols::wall_s))
        .sum();
    let budget = analysis
        .manifest()
        .extra
        .get("budget_s")
        .and_then(serde_json::Value::as_f64);
    let mut out = Vec::new();
    for e in &analysis.experiments {
        let cells = analysis.experiment_cells(e);
        let planned = |id: &str| {
            cells
                .iter()
                .find(|c| c.cell == id)
                .map_or(id.to_string(), |c| c.planned_cell().to_string())
        };
        for r in e
            .rules
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
        {
            let (why, detail) = judge(
                r,
                e.max_repetitions,
                |check| {
                    std::iter::once(&check.cell)
                        .chain(check.baseline_cell.as_ref())
                        .map(|c| cost_s(analysis, &e.name, &planned(c)))
                        .sum()
                },
                cell_time,
                budget,
            );
            out.push(Undecided {
                experiment: e.name.clone(),
                rule: r.text.clone(),
                why,
                why_text: why.as_str(),
                detail,
            });
        }
    }
    out
}

/// Why one inconclusive rule stayed so, and the numbers: `cap` its
/// experiment's `max_repetitions`, `cost` one more repetition of a check's
/// cells, `cell_time` what the run's cells took, `budget` the run's own.
fn judge(
    r: &RuleOutcome,
    cap: Option<u32>,
    cost: impl Fn(&crate::verdict::RuleCheck) -> f64,
    cell_time: f64,
    budget: Option<f64>,
) -> (Why, String) {
    let Some(rule) = r.rule.as_ref() else {
        return (Why::NotByMoreN, r.reason.clone().unwrap_or_default());
    };
    let open: Vec<(&crate::verdict::RuleCheck, Outlook)> = r
        .checks
        .iter()
        .filter(|c| c.undecided)
        .map(|c| (c, c.outlook(rule.threshold)))
        .collect();
    if open.is_empty() {
        return (
            Why::NotByMoreN,
            r.reason
                .clone()
                .unwrap_or_else(|| "no check more repetitions could move".into()),
        );
    }
    let cap = cap.map(|c| c as usize);
    let at_cap = |o: &Outlook| cap.is_some_and(|c| o.n >= c);
    // The check most likely to decide with one more repetition.
    let (best, o) = open
        .iter()
        .max_by(|a, b| a.1.p_next.total_cmp(&b.1.p_next))
        .copied()
        .expect("not empty");
    let chance = format!("one more repetition decides it with p ≈ {:.2}", o.p_next);
    if open.iter().all(|(_, o)| at_cap(o)) {
        let cap = cap.unwrap_or(0);
        return if open
            .iter()
            .any(|(_, o)| o.p_next >= 0.5 || o.decidable_within(cap + 1))
        {
            (
                Why::Cap,
                format!("its cells ran {cap} times, the spec's max_repetitions; {chance}"),
            )
        } else {
            (Why::NotByMoreN, needs(&o, cap))
        };
    }
    if let Some(cap) = cap {
        if !open.iter().any(|(_, o)| o.decidable_within(cap)) && o.p_next < 0.5 {
            return (Why::NotByMoreN, needs(&o, cap));
        }
    }
    let round = cost(best);
    match budget {
        Some(b) if cell_time + round > b => (
            Why::BudgetExhausted,
            format!(
                "the run's budget of {} s: its cells took {} s; {chance} (~{} s)",
                fmt_compact(b),
                fmt_compact(cell_time),
                fmt_compact(round)
            ),
        ),
        _ => (
            Why::Cost,
            format!(
                "one more round of its cells (~{} s) did not fit its experiment's budget (budget_s, or 1.5× its planned time); {chance}",
                fmt_compact(round)
            ),
        ),
    }
}

fn needs(o: &Outlook, cap: usize) -> String {
    match o.needed {
        Some(n) => format!(
            "at this spread the interval clears the threshold only at about {n} repetitions (max_repetitions {cap})"
        ),
        None => format!(
            "the estimate lies too near the threshold for its spread: no n up to {} would decide it (max_repetitions {cap})",
            crate::outlook::HORIZON
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::ratio_welch;
    use crate::verdict::{Rule, RuleCheck};
    use serde_json::json;

    fn outcome(a: &[f64], b: &[f64], threshold: f64) -> RuleOutcome {
        let rule: Rule = serde_json::from_value(json!({"text": "t", "metric": "throughput_rps",
            "filter": {"io_latency_ms": 100}, "baseline": {"io_latency_ms": 0},
            "compare": ">=", "threshold": threshold}))
        .unwrap();
        let i = ratio_welch(a, b);
        let (lo, hi) = i.bounds().unwrap();
        let check = RuleCheck {
            cell: "v100".into(),
            model: "tomcat-virtual".into(),
            baseline_cell: Some("v0".into()),
            value: i.estimate,
            ci_lo: i.lo,
            ci_hi: i.hi,
            method: i.basis,
            holds: i.estimate >= threshold,
            clear: lo >= threshold,
            wrong: hi < threshold,
            repetitions: i.n(),
            undecided: lo < threshold && hi >= threshold,
        };
        RuleOutcome {
            rule: Some(rule),
            experiment: "e".into(),
            text: "t".into(),
            formal: String::new(),
            verdict: Verdict::Inconclusive,
            effect: Some(i.estimate),
            effect_ci_lo: i.lo,
            effect_ci_hi: i.hi,
            effect_cell: Some("v100 vs v0".into()),
            method: Some(i.basis.to_string()),
            reason: None,
            checks: vec![check],
        }
    }

    const FAR: (&[f64], &[f64]) = (&[6885.0, 10689.0], &[44500.0, 42538.0]);
    const NEAR: (&[f64], &[f64]) = (&[645.0, 64.5], &[100.0, 10.0]);

    #[test]
    fn far_values_at_their_cap_say_the_cap_and_that_one_more_would_decide() {
        let r = outcome(FAR.0, FAR.1, 0.8);
        let (why, detail) = judge(&r, Some(2), |_| 20.0, 100.0, None);
        assert_eq!(why, Why::Cap, "{detail}");
        assert!(
            detail.contains("max_repetitions")
                && (detail.contains("p ≈ 0.9") || detail.contains("p ≈ 1.00")),
            "{detail}"
        );
    }

    #[test]
    fn under_the_cap_the_budget_or_the_cost_is_why() {
        let r = outcome(FAR.0, FAR.1, 0.8);
        let (why, _) = judge(&r, Some(6), |_| 20.0, 1160.0, Some(1170.0));
        assert_eq!(why, Why::BudgetExhausted);
        let (why, _) = judge(&r, Some(6), |_| 20.0, 600.0, Some(1170.0));
        assert_eq!(why, Why::Cost);
    }

    #[test]
    fn a_check_more_n_cannot_clear_is_not_decidable_by_more_n() {
        let r = outcome(NEAR.0, NEAR.1, 5.0);
        let (why, detail) = judge(&r, Some(6), |_| 20.0, 100.0, Some(1170.0));
        assert_eq!(why, Why::NotByMoreN, "{detail}");
        let (why, _) = judge(&r, Some(2), |_| 20.0, 100.0, None);
        assert_eq!(why, Why::NotByMoreN);
        // A rule without a check more n could move (a missing baseline).
        let mut r = outcome(FAR.0, FAR.1, 0.8);
        r.checks.clear();
        r.reason = Some("no baseline cell for x".into());
        assert_eq!(
            judge(&r, Some(6), |_| 1.0, 0.0, None),
            (Why::NotByMoreN, "no baseline cell for x".into())
        );
    }
}
