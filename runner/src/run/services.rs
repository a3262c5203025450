//! What the cells of a run are executed with: the executor (a child process
//! per cell), and one downstream API and one PostgreSQL per run, each
//! started only when a cell calls it. Both stop when [`Services`] is
//! dropped (their own `Drop`), so nothing outlives the run however it ends:
//! an error, Ctrl-C or the end (a hard kill: `crate::reap`).

use crate::downstream::Downstream;
use crate::exec::{ExecError, Executor};
use crate::manifest::Manifest;
use crate::plan::PlannedCell;
use crate::postgres::{PgOptions, PgServer};
use std::sync::atomic::AtomicBool;
use threadloop_engine::{Cell, CellOutcome, IoKind};

/// The PostgreSQL of a run.
enum Postgres {
    /// No cell queries it.
    Unused,
    // Boxed: a server is large, the other variants small.
    Up(Box<PgServer>),
    /// It did not start: the `postgres` cells fail with this reason, and
    /// every other cell still runs.
    Failed(String),
}

pub struct Services {
    executor: Executor,
    downstream: Option<Downstream>,
    postgres: Postgres,
}

impl Services {
    /// Starts what `cells` need; a PostgreSQL that started is recorded in
    /// `manifest` (and labelled with its run id). A downstream that does not
    /// start stops the run; a PostgreSQL that does not start does not.
    pub fn start(
        mut executor: Executor,
        cells: &[PlannedCell],
        pg: &PgOptions,
        manifest: &mut Manifest,
    ) -> anyhow::Result<Services> {
        let downstream = if cells.iter().any(|c| c.cell.io == IoKind::Http) {
            Some(Downstream::start(&executor.binary)?)
        } else {
            None
        };
        let postgres = if cells.iter().any(|c| c.cell.uses_postgres()) {
            match PgServer::start(pg, &manifest.run.run_id) {
                Ok(server) => {
                    tracing::info!(
                        "PostgreSQL {} ({}: {}) ready in {:.1} s",
                        server.info.version,
                        server.info.backend,
                        server.info.source,
                        server.info.startup_s
                    );
                    executor.pg_url = Some(server.url.clone());
                    manifest.postgres = Some(server.info.clone());
                    Postgres::Up(Box::new(server))
                }
                Err(e) => {
                    tracing::warn!("{e:#}");
                    Postgres::Failed(format!("{e:#}"))
                }
            }
        } else {
            Postgres::Unused
        };
        Ok(Services {
            executor,
            downstream,
            postgres,
        })
    }

    /// Points an `http` cell at the run's downstream API.
    pub fn connect(&self, cell: &mut Cell) {
        if cell.io == IoKind::Http {
            cell.downstream = self.downstream.as_ref().map(|d| d.addr.clone());
        }
    }

    /// Executes `cell`, unless `skip` gives a reason not to (it then fails
    /// with that reason), or it queries a PostgreSQL that did not start.
    /// Around a `postgres` cell, skipped or not, the server's statement
    /// counts are reset and read, and a server that went away is replaced
    /// ([`crate::postgres::after_cell`]).
    pub fn execute(
        &mut self,
        cell: &Cell,
        skip: Option<&str>,
        interrupt: &AtomicBool,
    ) -> Result<CellOutcome, ExecError> {
        let uses_pg = cell.uses_postgres();
        if let (true, Postgres::Up(server)) = (uses_pg, &self.postgres) {
            server.before_cell();
        }
        let result = match (skip, uses_pg, &self.postgres) {
            (Some(reason), _, _) => Err(ExecError::Failed(reason.to_string())),
            (None, true, Postgres::Failed(e)) => Err(ExecError::Failed(e.clone())),
            (None, _, _) => self.executor.run(cell, interrupt),
        };
        match (uses_pg, &mut self.postgres) {
            (true, Postgres::Up(server)) => {
                crate::postgres::after_cell(server, result, &mut self.executor)
            }
            _ => result,
        }
    }

    /// What the services saw over the run, into `manifest`: the downstream's
    /// counts, and the PostgreSQL as it ended (restarts).
    pub fn record(&self, manifest: &mut Manifest) {
        if let Some(d) = &self.downstream {
            manifest.downstream = d.stats();
        }
        if let Postgres::Up(server) = &self.postgres {
            manifest.postgres = Some(server.info.clone());
        }
    }
}
