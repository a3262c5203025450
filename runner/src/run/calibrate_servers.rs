//! The stage before the HTTP cells: each server the run's HTTP cells use
//! (every stack on each JVM it runs on, each Rust model's HTTP server) is
//! calibrated once per kind of request its cells make, with no wait and no
//! CPU work (the trivial endpoint for a timer cell;
//! [`threadloop_engine::calibrate_server`]), and the figures go into the
//! manifest (`servers`) as each finishes. A resumed run keeps the ones it
//! has and calibrates only what is missing. [`price`] then hands each
//! cell its server's cost, with which the cell's theory prices its bound.

use super::services::Services;
use crate::exec::ExecError;
use crate::manifest::Manifest;
use crate::plan::{self, PlannedCell};
use crate::store::RunDir;
use std::sync::atomic::{AtomicBool, Ordering};
use threadloop_engine::calibrate_server::{cost, parts, summarise, ServerCalibration};
use threadloop_engine::Cell;

/// The experiment name the calibration cells' seeds are drawn under.
const SEED_SCOPE: &str = "server-calibration";

/// Calibrates every server of `cells` that `manifest` has no figure for,
/// in the order the cells come, writing the manifest after each. A server
/// whose calibration fails (or is skipped: a missing stack, the machine's
/// limits) is recorded with its reason, and its cells keep the claim's
/// bound alone. Ctrl-C (`interrupt`) stops before the next server.
pub fn calibrate_servers<'a>(
    cells: impl IntoIterator<Item = &'a PlannedCell>,
    manifest: &mut Manifest,
    dir: &RunDir,
    services: &mut Services,
    interrupt: &AtomicBool,
) -> anyhow::Result<()> {
    let mut wanted: Vec<(String, Cell)> = Vec::new();
    for part in cells.into_iter().flat_map(|p| parts(&p.cell)) {
        let known = manifest.run.servers.iter().any(|s| s.server == part.key);
        if !known && !wanted.iter().any(|(w, _)| *w == part.key) {
            wanted.push((part.key, part.trivial));
        }
    }
    for (k, mut cell) in wanted {
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
        cell.seed = plan::slot_seed(manifest.run.seed, &k, SEED_SCOPE, 0);
        services.connect(&mut cell);
        let skip = crate::limits::check(&cell, &manifest.limits)
            .or_else(|| threadloop_engine::stacks::missing(&cell));
        let result = services.execute(&cell, skip.as_deref(), interrupt);
        let outcome = match &result {
            Ok(o) => Ok(o),
            Err(ExecError::Failed(e)) => Err(e.clone()),
            Err(ExecError::Interrupted) => break,
        };
        let cal = summarise(&k, &cell, outcome);
        log(&cal);
        manifest.run.servers.push(cal);
        dir.write_manifest(manifest)?;
    }
    Ok(())
}

fn log(cal: &ServerCalibration) {
    match (cal.cpu_per_request_ms, cal.ceiling_rps, &cal.error) {
        (Some(cpu), Some(ceiling), _) => tracing::info!(
            "server {}: {cpu:.3} ms of CPU per request, ceiling {ceiling:.0} req/s ({} clients, {})",
            cal.server,
            cal.concurrency,
            cal.cell
        ),
        (_, _, Some(e)) => tracing::warn!(
            "server {}: not calibrated ({e}); its cells keep the claim's bound alone",
            cal.server
        ),
        _ => {}
    }
}

/// Hands `cell` its server's calibrated cost (None: in-process, or no
/// figure for one of its kinds of request).
pub fn price(cell: &mut Cell, servers: &[ServerCalibration]) {
    cell.server = cost(cell, servers);
}

#[cfg(test)]
mod tests {
    use super::*;
    use threadloop_engine::{Load, ModelKind, Transport};

    #[test]
    fn a_cell_gets_its_own_servers_cost_and_no_other() {
        let servers = vec![
            ServerCalibration {
                server: "fastapi".into(),
                cpu_per_request_ms: Some(0.25),
                ceiling_rps: Some(4000.0),
                ..ServerCalibration::default()
            },
            ServerCalibration {
                server: "tokio".into(),
                error: Some("failed".into()),
                ..ServerCalibration::default()
            },
        ];
        let http = |m| Cell {
            transport: Transport::Http,
            ..Cell::timer(m, Load::Closed { concurrency: 1 }, 1.0)
        };
        let mut f = http(ModelKind::Fastapi);
        price(&mut f, &servers);
        assert_eq!(f.server.map(|s| s.ceiling_rps), Some(4000.0));
        let mut t = http(ModelKind::Tokio);
        price(&mut t, &servers);
        assert_eq!(t.server, None, "a failed calibration prices nothing");
        let mut inproc = Cell::timer(ModelKind::Fastapi, Load::Closed { concurrency: 1 }, 1.0);
        price(&mut inproc, &servers);
        assert_eq!(inproc.server, None, "in-process: no server");
    }
}
