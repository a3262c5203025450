//! Orchestration of `runner run`, as stages with plain data between them:
//! validate every spec first (nothing runs on bad input) and calibrate, or
//! read back the run to resume ([`prepare`]); find what is left to execute
//! ([`left`]); start the services the cells call ([`services`]); calibrate
//! each HTTP server's own cost per kind of request
//! ([`calibrate_servers`]); execute the
//! slots in their shuffled order, saving each record as it finishes and
//! adding the extra repetitions the budget allows ([`execute`], [`slot`],
//! [`extra`], [`budget`]); write the final results and manifest
//! ([`finish`]). A failed cell is recorded and the run goes on; Ctrl-C stops
//! after saving, and `--resume` finishes the rest.

mod budget;
mod calibrate_servers;
mod execute;
mod extra;
mod finish;
mod left;
mod prepare;
mod services;
mod slot;

use crate::exec::Executor;
use std::path::PathBuf;
use std::time::Instant;

pub use prepare::load_specs;

/// `runner run`'s options: the CLI parses straight into this.
#[derive(clap::Args)]
pub struct RunOptions {
    /// Spec files (default: every experiments/*.toml).
    pub specs: Vec<PathBuf>,
    /// Leave experiment NAME (experiments/NAME.toml) out of the default
    /// catalogue; repeatable. `just run-all` leaves out the bare-servlet
    /// experiments that the Spring stack repeats (README: Experiments).
    #[arg(long, value_name = "NAME", conflicts_with = "resume")]
    pub except: Vec<String>,
    /// Apply [profiles.NAME] of every spec (e.g. quick).
    #[arg(long)]
    pub profile: Option<String>,
    /// The run directory itself (DIR/results.parquet).
    #[arg(long, conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Finish a run that was interrupted or crashed.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Seed of the cell order and the arrivals (default: random, recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// No progress bar (terminal) or progress lines (pipe, log file).
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (1 <= I <= N): a deterministic 1/N of the
    /// cells, the same on every machine; join the shards with `runner merge`.
    /// Recorded in the manifest.
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse, conflicts_with = "resume")]
    pub shard: Option<crate::shard::Shard>,
    /// Time budget of the whole run (`14m30s`, `900s`): adaptive
    /// repetitions that would end past it are not started. Planned
    /// repetitions always run. Recorded in the manifest; `--resume` keeps it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub budget: Option<std::time::Duration>,
    /// Run every cell exactly N times, whatever its spec and profile say (no
    /// adaptive or context repetitions): a rerun whose cells must share
    /// their rounds, as `just gate` uses it. Recorded in each spec.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100), conflicts_with = "resume")]
    pub repetitions: Option<u32>,
    #[command(flatten)]
    pub pg: crate::postgres::PgOptions,
}

/// How a run ended.
pub struct RunSummary {
    pub dir: PathBuf,
    pub executed: usize,
    pub failed: usize,
    pub interrupted: bool,
}

/// Runs (or resumes) a run. The services are dropped, which stops them,
/// however this returns: an error, Ctrl-C or the end.
pub fn run(opts: RunOptions) -> anyhow::Result<RunSummary> {
    // The budget counts from here: reaping and calibration spend it too.
    let started = Instant::now();
    // What an earlier runner killed hard left behind (src/reap.rs).
    for said in crate::reap::leftovers() {
        tracing::warn!("{said}");
    }
    let executor = Executor {
        binary: crate::exec::cell_binary()?,
        pg_url: None,
    };
    let prepare::Prepared { dir, mut manifest } = prepare::prepare(&opts, &executor)?;
    let work = left::left(&dir, &manifest)?;
    let mut services = services::Services::start(executor, &work.cells, &opts.pg, &mut manifest)?;
    let interrupt = execute::ctrl_c();
    let left_cells = work.planned.iter().chain(&work.extra);
    calibrate_servers::calibrate_servers(
        left_cells.map(|s| &work.cells[s.cell]),
        &mut manifest,
        &dir,
        &mut services,
        &interrupt,
    )?;
    let budget = budget::Budget::new(manifest.budget_s, &work.done, started);
    let mut executed = execute::execute(
        &dir,
        &mut manifest,
        work,
        &budget,
        &mut services,
        &interrupt,
        opts.quiet,
    )?;
    finish::finish(&dir, &mut manifest, &mut executed, &services)?;
    Ok(RunSummary {
        dir: dir.path.clone(),
        executed: executed.executed,
        failed: executed.failed,
        interrupted: executed.interrupted,
    })
}
