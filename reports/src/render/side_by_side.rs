//! Per claim, the Rust stand-ins and the essay's own stacks (Tomcat,
//! FastAPI) side by side: each rule's verdict per model, one row per rule
//! text (a stack's experiment repeats its Rust experiment's rules word for
//! word, so both land on one row), and the rows where they disagree, with
//! how close each side came to its own theory (the fidelity of the cells the
//! rule read): a stack far below its bound did not reach what its design
//! allows; at its bound, the design itself differs.

use crate::analysis::Analysis;
use crate::load::fmt_num;
use crate::render::charts::{model_hex, models_in_order};
use crate::verdict::{combine, ModelVerdict, RuleOutcome, Verdict};
use serde::Serialize;
use threadloop_vocab::factor::{Factor as _, ModelKind};
use threadloop_vocab::schema::cols;

/// One claim's table.
#[derive(Debug, Serialize)]
pub struct SideBySide {
    pub claim: String,
    /// The claim's verdict on the Rust models' checks alone, and on the
    /// stacks' alone (the claim's own verdict combines both).
    pub rust: &'static str,
    pub rust_slug: &'static str,
    pub stacks: &'static str,
    pub stacks_slug: &'static str,
    pub models: Vec<Head>,
    pub rows: Vec<Row>,
    /// One sentence per row where a Rust model and a stack reach different
    /// decided verdicts.
    pub disagreements: Vec<String>,
}

/// A column: one model.
#[derive(Debug, Serialize)]
pub struct Head {
    pub model: String,
    pub hex: String,
    /// One of the essay's stacks (else a Rust model).
    pub stack: bool,
}

/// A rule's verdicts, one entry per column (none where the model has no cell
/// the rule reads).
#[derive(Debug, Serialize)]
pub struct Row {
    pub text: String,
    pub experiments: String,
    pub entries: Vec<Option<Entry>>,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub verdict: &'static str,
    pub slug: &'static str,
    /// The model's check values: one, or the smallest to the largest.
    pub value: String,
}

fn is_stack(model: &str) -> bool {
    ModelKind::parse_name(model).is_ok_and(|m| m.stack().is_some())
}

fn value(v: &ModelVerdict) -> String {
    let (lo, hi) = (fmt_num(v.lo), fmt_num(v.hi));
    if lo == hi {
        lo
    } else {
        format!("{lo}–{hi}")
    }
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

/// A rule text's verdicts per model, over every experiment of the claim
/// that states it.
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

fn disagreement(analysis: &Analysis, row: &Merged) -> Option<String> {
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
                let fid = fidelity(analysis, row, &m.model).map_or(String::new(), |f| {
                    format!(", {} of its theory's bound", fmt_num(f))
                });
                format!("{} {} ({}{fid})", m.model, m.verdict.as_str(), value(m))
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

/// The side-by-side tables of the claims that have a stack's cells.
pub fn side_by_side(analysis: &Analysis) -> Vec<SideBySide> {
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
            let mut models: Vec<&str> = models_in_order()
                .into_iter()
                .filter(|m| {
                    merged
                        .iter()
                        .any(|r| r.models.iter().any(|v| v.model == *m))
                })
                .collect();
            for r in &merged {
                for v in &r.models {
                    if !models.contains(&v.model.as_str()) {
                        models.push(&v.model);
                    }
                }
            }
            if !models.iter().any(|m| is_stack(m)) {
                return None;
            }
            let rows = merged
                .iter()
                .map(|r| Row {
                    text: r.text.to_string(),
                    experiments: r.experiments.join(", "),
                    entries: models
                        .iter()
                        .map(|m| {
                            r.models.iter().find(|v| v.model == *m).map(|v| Entry {
                                verdict: v.verdict.as_str(),
                                slug: v.verdict.slug(),
                                value: value(v),
                            })
                        })
                        .collect(),
                })
                .collect();
            let (rust, stacks) = (side_verdict(&merged, false), side_verdict(&merged, true));
            Some(SideBySide {
                claim: claim.id.clone(),
                rust: rust.as_str(),
                rust_slug: rust.slug(),
                stacks: stacks.as_str(),
                stacks_slug: stacks.slug(),
                models: models
                    .iter()
                    .map(|m| Head {
                        model: m.to_string(),
                        hex: model_hex(m),
                        stack: is_stack(m),
                    })
                    .collect(),
                rows,
                disagreements: merged
                    .iter()
                    .filter_map(|r| disagreement(analysis, r))
                    .collect(),
            })
        })
        .collect()
}
