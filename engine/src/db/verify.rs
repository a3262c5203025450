//! Before timing, as TechEmpower does: requests go through the model's own
//! path (model × driver × query) and every answer is checked against the
//! seeded schema; a cell whose driver returns wrong rows never gets measured.

use crate::cell::{Cell, IoKind};
use crate::counters::CellCounters;
use crate::server::{Request, Server, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests sent through the model before the load.
const CHECKS: u64 = 3;

/// Sends [`CHECKS`] requests of the first class that queries PostgreSQL and
/// waits for each; returns how many passed, or why one failed (the last
/// failure the cell's drivers remembered in `counters`).
pub fn through_model(
    cell: &Cell,
    server: &dyn Server,
    counters: &Arc<CellCounters>,
) -> anyhow::Result<u64> {
    let class = cell
        .classes
        .iter()
        .position(|c| c.io == IoKind::Postgres)
        .unwrap_or(0) as u16;
    let (tx, rx) = crossbeam_channel::unbounded();
    let limit = Duration::from_millis(cell.timeout_ms) + Duration::from_secs(5);
    for i in 0..CHECKS {
        // Ids far above the generator's, so they cannot collide in any tally.
        server.submit(Request::new(
            u64::MAX - i,
            class,
            Instant::now(),
            tx.clone(),
        ));
        let done = rx
            .recv_timeout(limit)
            .map_err(|_| anyhow::anyhow!("verification: no answer within {limit:?}"))?;
        if done.status != Status::Ok {
            anyhow::bail!(
                "verification through {} failed: {}",
                cell.model,
                counters
                    .last_db_error()
                    .unwrap_or_else(|| format!("status {:?}", done.status))
            );
        }
    }
    Ok(CHECKS)
}

/// Connections the server has open for this cell's drivers (admin query on
/// a connection of its own, which the filter leaves out).
pub fn server_connections(url: &str) -> Option<u64> {
    super::admin::Admin::connect(url)
        .and_then(|mut a| {
            a.scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'threadloop-cell'",
            )
        })
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
}
