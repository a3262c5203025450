//! The side-by-side section of `index.html`: [`crate::sides`]' tables with
//! each model's colour and each verdict's label and style.

use crate::analysis::Analysis;
use crate::render::charts::model_hex;
use crate::sides::{claim_sides, is_stack, span};
use serde::Serialize;

/// One claim's table.
#[derive(Debug, Serialize)]
pub struct SideBySide {
    pub claim: String,
    #[serde(flatten)]
    pub verdicts: SideVerdicts,
    pub models: Vec<Head>,
    pub rows: Vec<Row>,
    pub disagreements: Vec<String>,
}

/// A claim's verdict on the Rust models alone and on the stacks alone, with
/// each verdict's style: the table's heading and the claims table's note.
#[derive(Debug, Clone, Serialize)]
pub struct SideVerdicts {
    pub rust: &'static str,
    pub rust_slug: &'static str,
    pub stacks: &'static str,
    pub stacks_slug: &'static str,
}

/// A column: one model.
#[derive(Debug, Serialize)]
pub struct Head {
    pub model: String,
    pub hex: String,
    /// One of the essay's stacks (else a Rust model).
    pub stack: bool,
}

/// A rule's verdicts, one entry per column.
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
    pub value: String,
}

/// The side-by-side tables of the claims that have a stack's cells.
pub fn side_by_side(analysis: &Analysis) -> Vec<SideBySide> {
    claim_sides(analysis)
        .into_iter()
        .map(|c| SideBySide {
            claim: c.claim,
            verdicts: SideVerdicts {
                rust: c.rust.as_str(),
                rust_slug: c.rust.slug(),
                stacks: c.stacks.as_str(),
                stacks_slug: c.stacks.slug(),
            },
            models: c
                .models
                .iter()
                .map(|m| Head {
                    model: m.clone(),
                    hex: model_hex(m),
                    stack: is_stack(m),
                })
                .collect(),
            rows: c
                .rows
                .into_iter()
                .map(|r| Row {
                    text: r.text,
                    experiments: r.experiments.join(", "),
                    entries: r
                        .verdicts
                        .iter()
                        .map(|v| {
                            v.as_ref().map(|v| Entry {
                                verdict: v.verdict.as_str(),
                                slug: v.verdict.slug(),
                                value: span(v),
                            })
                        })
                        .collect(),
                })
                .collect(),
            disagreements: c.disagreements,
        })
        .collect()
}
