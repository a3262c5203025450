//! What is left of a run: its planned slots in their shuffled order, less
//! those already recorded (a resumed run), then the extra repetitions an
//! earlier invocation had planned and not executed. A new run has nothing
//! recorded, so all of its plan is left.

use crate::manifest::Manifest;
use crate::plan::{self, PlannedCell, Slot};
use crate::store::{CellRecord, RunDir};
use std::collections::HashSet;

/// The work of a run: its cells, what was already recorded, and the slots
/// still to execute (indices into `cells`).
pub struct Work {
    /// Every cell of the run (all experiments), the slots' index.
    pub cells: Vec<PlannedCell>,
    /// The records already saved (by an earlier invocation).
    pub done: Vec<CellRecord>,
    /// Planned slots not yet recorded, in the run's shuffled order.
    pub planned: Vec<Slot>,
    /// Extra repetitions in the manifest not yet recorded; they run after
    /// the planned slots.
    pub extra: Vec<Slot>,
}

/// Reads what `dir` recorded and returns what is left of `manifest`'s run.
pub fn left(dir: &RunDir, manifest: &Manifest) -> anyhow::Result<Work> {
    let cells: Vec<PlannedCell> = manifest
        .experiments
        .iter()
        .flat_map(|e| e.cells.clone())
        .collect();
    let done = dir.records()?;
    let recorded: HashSet<(String, String, u32)> = done
        .iter()
        .map(|r| (r.experiment.clone(), r.cell_id.clone(), r.repetition))
        .collect();
    let planned: Vec<Slot> = plan::order(&cells, manifest.run.seed)
        .into_iter()
        .filter(|s| {
            !recorded.contains(&(
                cells[s.cell].experiment.clone(),
                cells[s.cell].id.clone(),
                s.repetition,
            ))
        })
        .collect();
    let extra: Vec<Slot> = manifest
        .extra_repetitions
        .iter()
        .filter(|e| !recorded.contains(&(e.experiment.clone(), e.cell.clone(), e.repetition)))
        .filter_map(|e| {
            let cell = cells
                .iter()
                .position(|c| c.experiment == e.experiment && c.id == e.cell)?;
            Some(Slot {
                cell,
                repetition: e.repetition,
            })
        })
        .collect();
    Ok(Work {
        cells,
        done,
        planned,
        extra,
    })
}
