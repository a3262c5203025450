//! Per claim, the Rust stand-ins and the essay's own stacks (Tomcat,
//! FastAPI) side by side: each rule's verdict per model, one row per rule
//! text (a stack's experiment repeats its Rust experiment's rules word for
//! word, so both land on one row), and the rows where they disagree, with
//! how close each side came to its own theory (the fidelity of the cells the
//! rule read): a stack far below its bound did not reach what its design
//! allows; at its bound, the design itself differs.
//!
//! Plain data computed from an [`Analysis`]; `render::side_by_side` only
//! formats it.

use crate::analysis::Analysis;
use crate::load::fmt_compact;
use crate::stats::in_model_order;
use crate::verdict::{combine, ModelVerdict, RuleOutcome, Verdict};
use serde::Serialize;
use threadloop_vocab::factor::{Factor as _, ModelKind};
use threadloop_vocab::schema::cols;

/// One claim's rules, per model, for a claim with a stack's cells.
#[derive(Debug, Serialize)]
pub struct ClaimSides {
    pub claim: String,
    /// The claim's verdict on the Rust models' checks alone, and on the
    /// stacks' alone (the claim's own verdict combines both).
    pub rust: Verdict,
    pub stacks: Verdict,
    /// The columns, in the report's model order.
    pub models: Vec<String>,
    pub rows: Vec<SideRow>,
    /// One sentence per row where a Rust model and a stack reach different
    /// decided verdicts.
    pub disagreements: Vec<String>,
}

/// A rule text over every experiment of the claim that states it.
#[derive(Debug, Serialize)]
pub struct SideRow {
    pub text: String,
    pub experiments: Vec<String>,
    /// One per column of [`ClaimSides::models`]; none where the model has
    /// no cell the rule reads.
    pub verdicts: Vec<Option<ModelVerdict>>,
}

/// One of the essay's stacks (else a Rust model).
pub fn is_stack(model: &str) -> bool {
    ModelKind::parse_name(model).is_ok_and(|m| m.stack().is_some())
}

/// A model's check values: one, or the smallest to the largest.
pub fn span(v: &ModelVerdict) -> String {
    let (lo, hi) = (fmt_compact(v.lo), fmt_compact(v.hi));
    if lo == hi {
        lo
    } else {
        format!("{lo}–{hi}")
    }
}

/// A rule text's verdicts per model, with the rules behind it.
struct Merged<'a> {
    text: &'a str,
    experiments: Vec<&'a str>,
    rules: Vec<&'a RuleOutcome>,
    models: Vec<ModelVerdict>,
}

fn merge<'a>(rules: impl Iterator<Item = &'a RuleOutcome>) -> Vec<Merged<'a>> {
    let mut rows: Vec<Merged> = Vec::new();
    for r in rules {
        let i = match rows.iter().position(|m| m.text == r.text) {
            Some(i) => i,
            None => {
                rows.push(Merged {
                    text: &r.text,
                    experiments: Vec::new(),
                    rules: Vec::new(),
                    models: Vec::new(),
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        if !row.experiments.contains(&r.experiment.as_str()) {
            row.experiments.push(&r.experiment);
        }
        row.rules.push(r);
        for v in r.by_model() {
            match row.models.iter_mut().find(|m| m.model == v.model) {
                Some(m) => {
                    m.verdict = combine(&[m.verdict, v.verdict]);
                    m.lo = m.lo.min(v.lo);
                    m.hi = m.hi.max(v.hi);
                }
                None => row.models.push(v),
            }
        }
    }
    rows
}

/// One side's verdict over every row: each row's models of that side
/// combined, then the rows combined, as a claim combines its rules.
fn side_verdict(rows: &[Merged], stack: bool) -> Verdict {
    let per_row: Vec<Verdict> = rows
        .iter()
        .filter_map(|r| {
            let mine: Vec<Verdict> = r
                .models
                .iter()
                .filter(|m| is_stack(&m.model) == stack)
                .map(|m| m.verdict)
                .collect();
            (!mine.is_empty()).then(|| combine(&mine))
        })
        .collect();
    combine(&per_row)
}

/// Mean fidelity (measured ÷ theory) of the cells a row's checks read for
/// one model, when the theory has a bound for them.
fn fidelity(analysis: &Analysis, row: &Merged, model: &str) -> Option<f64> {
    let values: Vec<f64> = row
        .rules
        .iter()
        .flat_map(|r| {
            r.checks
                .iter()
                .filter(|c| c.model == model)
                .map(move |c| (r.experiment.as_str(), c.cell.as_str()))
        })
        .filter_map(|(e, id)| {
            analysis
                .cells
                .iter()
                .find(|c| c.experiment == e && c.cell == id)
        })
        .filter_map(|c| c.estimate(cols::fidelity).map(|e| e.mean))
        .collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn decided(v: Verdict) -> bool {
    matches!(v, Verdict::Supported | Verdict::NotSupported)
}

/// The row's sentence when a Rust model and a stack reach different decided
/// verdicts; `fidelity` gives a model's mean fidelity on the row's cells.
fn disagreement(row: &Merged, fidelity: impl Fn(&str) -> Option<f64>) -> Option<String> {
    let side = |stack: bool| -> Vec<&ModelVerdict> {
        row.models
            .iter()
            .filter(|m| is_stack(&m.model) == stack && decided(m.verdict))
            .collect()
    };
    let (rust, stacks) = (side(false), side(true));
    let differs = rust
        .iter()
        .any(|r| stacks.iter().any(|s| s.verdict != r.verdict));
    if !differs {
        return None;
    }
    let say = |ms: &[&ModelVerdict]| -> String {
        ms.iter()
            .map(|m| {
                let fid = fidelity(&m.model).map_or(String::new(), |f| {
                    format!(", {} of its theory's bound", fmt_compact(f))
                });
                format!("{} {} ({}{fid})", m.model, m.verdict.as_str(), span(m))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "“{}”: {} against {}",
        row.text,
        say(&stacks),
        say(&rust)
    ))
}

/// The claims that have a stack's cells, each with its rules per model.
pub fn claim_sides(analysis: &Analysis) -> Vec<ClaimSides> {
    analysis
        .claims
        .iter()
        .filter_map(|claim| {
            let rules = analysis
                .experiments
                .iter()
                .filter(|e| e.claim.as_deref() == Some(claim.id.as_str()))
                .flat_map(|e| e.rules.iter());
            let merged = merge(rules);
            let models = in_model_order(
                merged
                    .iter()
                    .flat_map(|r| r.models.iter().map(|v| v.model.as_str())),
            );
            if !models.iter().any(|m| is_stack(m)) {
                return None;
            }
            let rows = merged
                .iter()
                .map(|r| SideRow {
                    text: r.text.to_string(),
                    experiments: r.experiments.iter().map(|e| e.to_string()).collect(),
                    verdicts: models
                        .iter()
                        .map(|m| r.models.iter().find(|v| v.model == *m).cloned())
                        .collect(),
                })
                .collect();
            Some(ClaimSides {
                claim: claim.id.clone(),
                rust: side_verdict(&merged, false),
                stacks: side_verdict(&merged, true),
                models: models.iter().map(|m| m.to_string()).collect(),
                rows,
                disagreements: merged
                    .iter()
                    .filter_map(|r| disagreement(r, |m| fidelity(analysis, r, m)))
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::RuleCheck;

    /// A check of `model` that is clearly on one side of its threshold.
    fn check(model: &str, value: f64, holds: bool) -> RuleCheck {
        RuleCheck {
            cell: format!("{model}-cell"),
            model: model.into(),
            baseline_cell: None,
            value,
            ci_lo: Some(value * 0.9),
            ci_hi: Some(value * 1.1),
            method: crate::interval::geometric_t(&[value; 3]).basis,
            holds,
            clear: holds,
            wrong: !holds,
            repetitions: 3,
            undecided: false,
        }
    }

    fn outcome(experiment: &str, text: &str, checks: Vec<RuleCheck>) -> RuleOutcome {
        RuleOutcome {
            rule: None,
            experiment: experiment.into(),
            text: text.into(),
            formal: String::new(),
            verdict: crate::verdict::judge(checks.iter()),
            effect: None,
            effect_ci_lo: None,
            effect_ci_hi: None,
            effect_cell: None,
            method: None,
            reason: None,
            checks,
        }
    }

    #[test]
    fn a_rule_stated_by_two_experiments_is_one_row() {
        let rust = outcome(
            "cpu-on-loop",
            "offloading helps",
            vec![check("tokio", 6.5, true)],
        );
        let stack = outcome(
            "fastapi-cpu",
            "offloading helps",
            vec![check("fastapi", 0.9, false), check("fastapi", 1.2, false)],
        );
        let other = outcome(
            "cpu-on-loop",
            "another rule",
            vec![check("tokio", 2.0, true)],
        );
        let rows = merge([&rust, &other, &stack].into_iter());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].experiments, ["cpu-on-loop", "fastapi-cpu"]);
        let fastapi = rows[0]
            .models
            .iter()
            .find(|m| m.model == "fastapi")
            .unwrap();
        assert_eq!(fastapi.verdict, Verdict::NotSupported);
        assert_eq!(span(fastapi), "0.900–1.20");

        // Each side judged alone; the stacks have no say on the other rule.
        assert_eq!(side_verdict(&rows, false), Verdict::Supported);
        assert_eq!(side_verdict(&rows, true), Verdict::NotSupported);
        assert_eq!(side_verdict(&rows[1..], true), Verdict::Inconclusive);

        // Where they disagree, with each side's distance from its theory.
        let said = disagreement(&rows[0], |m| (m == "fastapi").then_some(0.5)).unwrap();
        assert_eq!(
            said,
            "“offloading helps”: fastapi not supported (0.900–1.20, 0.500 of its theory's bound) \
             against tokio supported (6.50)"
        );
        assert_eq!(disagreement(&rows[1], |_| None), None);
    }

    #[test]
    fn an_undecided_side_is_no_disagreement() {
        let mut open = check("tomcat-pool", 0.95, true);
        (open.clear, open.wrong, open.undecided) = (false, false, true);
        let r = outcome("e", "r", vec![check("threads", 1.0, true), open]);
        let rows = merge(std::iter::once(&r));
        assert_eq!(side_verdict(&rows, true), Verdict::Inconclusive);
        assert_eq!(disagreement(&rows[0], |_| None), None);
        assert!(is_stack("tomcat-pool") && !is_stack("threads"));
    }
}
