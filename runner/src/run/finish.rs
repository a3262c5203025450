//! The last stage: the results in a stable order, the failed count, the end
//! time (none for a run Ctrl-C stopped: it is not finished) and what the
//! services saw, written to the run directory.

use super::execute::Executed;
use super::services::Services;
use crate::manifest::Manifest;
use crate::store::RunDir;

/// Writes the final `results.parquet` and `manifest.json` of `executed`.
pub fn finish(
    dir: &RunDir,
    manifest: &mut Manifest,
    executed: &mut Executed,
    services: &Services,
) -> anyhow::Result<()> {
    let records = &mut executed.records;
    records.sort_by(|a, b| {
        (&a.experiment, &a.cell_id, a.repetition).cmp(&(&b.experiment, &b.cell_id, b.repetition))
    });
    dir.write_parquet(&manifest.run.run_id, records)?;
    manifest.run.cells_failed = records
        .iter()
        .filter(|r| r.outcome.is_none() && !r.skipped)
        .count();
    if !executed.interrupted {
        manifest.run.ended_at = Some(chrono::Utc::now().to_rfc3339());
    }
    services.record(manifest);
    dir.write_manifest(manifest)
}
