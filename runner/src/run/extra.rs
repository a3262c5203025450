//! Repetitions beyond the plan, each recorded in the manifest with why: a
//! round of adaptive repetitions when the queue runs dry and a rule is
//! still undecided ([`crate::adaptive`]), and the replacement of an
//! execution the machine disturbed ([`crate::hiccup`]). Neither starts
//! when the run's budget has no room for it.

use crate::manifest::Manifest;
use crate::plan::{self, PlannedCell, Slot};
use crate::store::{CellRecord, RunDir};
use std::collections::{HashMap, VecDeque};

/// One repetition to add, and why (the manifest's `extra_repetitions`).
pub struct Extra {
    pub slot: Slot,
    pub why: String,
}

/// The next round of adaptive repetitions (see [`crate::adaptive`]); a run
/// with nothing recorded or no time left gets none, and one whose results
/// cannot be analysed yet gets none, with a warning.
pub fn adaptive_round(
    dir: &RunDir,
    manifest: &Manifest,
    cells: &[PlannedCell],
    records: &[CellRecord],
    left_s: f64,
) -> Vec<Extra> {
    if records.is_empty() || left_s <= 0.0 {
        return Vec::new();
    }
    let wants = match crate::adaptive::wanted(&dir.path) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("no adaptive repetitions: {e:#}");
            return Vec::new();
        }
    };
    crate::adaptive::next_round(manifest, cells, records, &wants, left_s)
        .into_iter()
        .map(|(cell, repetition, why)| Extra {
            slot: Slot { cell, repetition },
            why,
        })
        .collect()
}

/// How many times one cell's disturbed executions are repeated in a run: a
/// machine that stalls that often gets an honest gap, not an endless run.
const MAX_REPLACEMENTS: u32 = 2;

/// The replacements of disturbed executions made so far in this
/// invocation, per cell.
#[derive(Default)]
pub struct Replacements {
    per_cell: HashMap<usize, u32>,
}

impl Replacements {
    /// The slot that repeats `record`, the disturbed execution of `slot`
    /// (the cell's next free repetition number, past those recorded and
    /// queued), unless the cell was replaced [`MAX_REPLACEMENTS`] times or
    /// the budget's `left_s` has no room for it.
    pub fn replace(
        &mut self,
        slot: &Slot,
        record: &CellRecord,
        records: &[CellRecord],
        queue: &VecDeque<Slot>,
        left_s: f64,
    ) -> Option<Extra> {
        let n = self.per_cell.entry(slot.cell).or_default();
        if *n >= MAX_REPLACEMENTS || plan::estimate_s(&record.cell) > left_s {
            return None;
        }
        *n += 1;
        let done = records
            .iter()
            .filter(|r| r.experiment == record.experiment && r.cell_id == record.cell_id)
            .map(|r| r.repetition);
        let queued = queue
            .iter()
            .filter(|s| s.cell == slot.cell)
            .map(|s| s.repetition);
        let next = done
            .chain(queued)
            .chain([slot.repetition])
            .max()
            .map_or(0, |m| m + 1);
        Some(Extra {
            slot: Slot {
                cell: slot.cell,
                repetition: next,
            },
            why: format!(
                "replaces r{}: the machine stalled {:.0} ms during it",
                slot.repetition,
                record.stall_ms.unwrap_or(0.0)
            ),
        })
    }
}
