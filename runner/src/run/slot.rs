//! One execution: a slot (a cell and a repetition) run through the
//! services into a [`CellRecord`]. A cell the machine's limits or a missing
//! stack rule out is recorded as skipped; one that fails is recorded with
//! its error and counted; Ctrl-C leaves nothing to record.

use super::services::Services;
use crate::exec::ExecError;
use crate::hiccup::HiccupMonitor;
use crate::manifest::Manifest;
use crate::plan::{self, PlannedCell, Slot};
use crate::progress::Progress;
use crate::store::CellRecord;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// What every execution of an invocation shares.
pub struct Watch<'a> {
    /// Set by Ctrl-C.
    pub interrupt: &'a AtomicBool,
    /// Stalls of the machine, so a disturbed execution is known.
    pub hiccups: &'a HiccupMonitor,
    /// Where warnings go past the progress bar.
    pub bar: &'a Progress,
}

/// How one execution ended.
pub enum Execution {
    /// Ctrl-C stopped it: nothing to record.
    Interrupted,
    /// Its record; `failed` if the cell ran and failed (a skipped one did not).
    Recorded {
        // Boxed: a record is large, the other variant empty.
        record: Box<CellRecord>,
        failed: bool,
    },
}

/// Executes `slot` of `planned`, seeded from the run's seed.
pub fn execute(
    manifest: &Manifest,
    planned: &PlannedCell,
    slot: &Slot,
    services: &mut Services,
    watch: &Watch,
) -> Execution {
    let mut cell = planned.cell.clone();
    cell.seed = plan::slot_seed(
        manifest.run.seed,
        &planned.id,
        &planned.experiment,
        slot.repetition,
    );
    services.connect(&mut cell);
    super::calibrate_servers::price(&mut cell, &manifest.run.servers);
    let started_at = chrono::Utc::now().to_rfc3339();
    let t0 = Instant::now();
    let skip = crate::limits::check(&cell, &manifest.limits)
        .or_else(|| threadloop_engine::stacks::missing(&cell));
    let result = services.execute(&cell, skip.as_deref(), watch.interrupt);
    let (outcome, error, failed) = match result {
        Ok(o) => (Some(o), None, false),
        Err(ExecError::Failed(e)) if skip.is_some() => {
            watch.bar.suspend(|| {
                tracing::warn!(
                    "{}/{} r{} {e}",
                    planned.experiment,
                    planned.id,
                    slot.repetition
                )
            });
            (None, Some(e), false)
        }
        Err(ExecError::Interrupted) => return Execution::Interrupted,
        Err(ExecError::Failed(e)) => {
            watch.bar.suspend(|| {
                tracing::warn!(
                    "{}/{} r{} failed: {e}",
                    planned.experiment,
                    planned.id,
                    slot.repetition
                )
            });
            (None, Some(e), true)
        }
    };
    let stall = watch.hiccups.longest_between(t0, Instant::now());
    let record = CellRecord {
        experiment: planned.experiment.clone(),
        claim: planned.claim.clone(),
        title: planned.title.clone(),
        cell_id: planned.id.clone(),
        repetition: slot.repetition,
        started_at,
        wall_s: t0.elapsed().as_secs_f64(),
        cell,
        outcome,
        error,
        skipped: skip.is_some(),
        stall_ms: Some(stall.as_secs_f64() * 1e3),
    };
    Execution::Recorded {
        record: Box::new(record),
        failed,
    }
}
