//! The execution loop: the planned slots first, then the extra repetitions
//! a resumed run had already planned, then rounds of adaptive repetitions
//! while the budget allows. Each record is saved, and the results rewritten,
//! as soon as it finishes, so an interruption or an error loses no finished
//! execution. Ctrl-C stops the loop after the current execution.

use super::budget::Budget;
use super::extra::{self, Extra, Replacements};
use super::left::Work;
use super::services::Services;
use super::slot::{self, Execution, Watch};
use crate::manifest::{ExtraRepetition, Manifest};
use crate::plan::{self, PlannedCell, Slot};
use crate::progress::Progress;
use crate::store::{CellRecord, RunDir};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What the loop did.
pub struct Executed {
    /// Every record of the run: the earlier invocation's, then this one's.
    pub records: Vec<CellRecord>,
    /// Executions this invocation recorded, and how many of them failed.
    pub executed: usize,
    pub failed: usize,
    /// Ctrl-C stopped it before the work was done.
    pub interrupted: bool,
}

/// The slots still to execute, and how far the loop got through them (the
/// progress message's "i of total").
struct Queue {
    slots: VecDeque<Slot>,
    taken: usize,
    total: usize,
}

/// Executes `work`, writing each record to `dir` and each added repetition
/// to `manifest` (and `dir`'s manifest) as it goes.
pub fn execute(
    dir: &RunDir,
    manifest: &mut Manifest,
    work: Work,
    budget: &Budget,
    services: &mut Services,
    interrupt: &AtomicBool,
    quiet: bool,
) -> anyhow::Result<Executed> {
    let Work {
        cells,
        done: mut records,
        planned,
        extra: extras,
    } = work;
    // The planned executions and the extra ones a resumed run still owes:
    // both count in the progress (a resume used to show `[5/3]`).
    let slots: VecDeque<Slot> = planned.into_iter().chain(extras).collect();
    let total_s: f64 = slots
        .iter()
        .map(|s| plan::estimate_s(&cells[s.cell].cell))
        .sum();
    // A bar on a terminal, one line per execution otherwise (progress.rs).
    let bar = Progress::new(quiet, slots.len(), ms(total_s));
    let mut queue = Queue {
        total: slots.len(),
        slots,
        taken: 0,
    };
    // Stalls of the machine itself (src/hiccup.rs), watched from here.
    let hiccups = crate::hiccup::HiccupMonitor::start();
    let watch = Watch {
        interrupt,
        hiccups: &hiccups,
        bar: &bar,
    };
    let mut replacements = Replacements::default();
    let (mut executed, mut failed) = (0, 0);
    let mut interrupted = false;
    loop {
        let Some(slot) = queue.slots.pop_front() else {
            let round = extra::adaptive_round(dir, manifest, &cells, &records, budget.left_s());
            if round.is_empty() {
                break;
            }
            for e in round {
                add(manifest, &mut queue, &bar, &cells, e);
            }
            dir.write_manifest(manifest)?;
            continue;
        };
        queue.taken += 1;
        let planned = &cells[slot.cell];
        bar.set_message(format!(
            "{}/{} {} r{} ({} of {})",
            planned.experiment,
            planned.id,
            planned.claim,
            slot.repetition,
            queue.taken,
            queue.total
        ));
        let record = match slot::execute(manifest, planned, &slot, services, &watch) {
            Execution::Interrupted => {
                interrupted = true;
                break;
            }
            Execution::Recorded { record, failed: f } => {
                failed += usize::from(f);
                *record
            }
        };
        if record.disturbed() {
            let again =
                replacements.replace(&slot, &record, &records, &queue.slots, budget.left_s());
            if let Some(again) = again {
                add(manifest, &mut queue, &bar, &cells, again);
                dir.write_manifest(manifest)?;
            }
        }
        dir.save(&record)?;
        records.push(record);
        dir.write_parquet(&manifest.run.run_id, &records)?;
        executed += 1;
        bar.inc(ms(plan::estimate_s(&planned.cell)));
        bar.finished(records.last().expect("just pushed"));
        if interrupt.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    bar.finish_and_clear();
    Ok(Executed {
        records,
        executed,
        failed,
        interrupted,
    })
}

/// Queues an extra repetition, records it (and why) in the manifest, and
/// lengthens the progress by its estimate.
fn add(
    manifest: &mut Manifest,
    queue: &mut Queue,
    bar: &Progress,
    cells: &[PlannedCell],
    e: Extra,
) {
    let planned = &cells[e.slot.cell];
    manifest.extra_repetitions.push(ExtraRepetition {
        experiment: planned.experiment.clone(),
        cell: planned.id.clone(),
        repetition: e.slot.repetition,
        why: e.why,
    });
    bar.inc_length(ms(plan::estimate_s(&planned.cell)));
    queue.slots.push_back(e.slot);
    queue.total += 1;
}

/// Estimated seconds as the progress counts them (milliseconds).
fn ms(s: f64) -> u64 {
    (s * 1000.0) as u64
}

/// The flag Ctrl-C sets: the current execution stops at once, and the loop
/// after saving what finished. Set once per run (a second handler is
/// refused), and shared by every stage that executes cells.
pub fn ctrl_c() -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // Installing twice (tests run several runs per process) is harmless to refuse.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    interrupt
}
