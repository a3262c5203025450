//! Orchestration of `runner run`: validate every spec first (nothing runs on
//! bad input), calibrate, then execute the slots in their shuffled order,
//! saving each record as it finishes. A failed cell is recorded and the run
//! goes on; Ctrl-C stops after saving, and `--resume` finishes the rest.

use crate::adaptive::Want;
use crate::exec::{ExecError, Executor};
use crate::manifest::{
    crate_versions, environment, ExtraRepetition, Manifest, ManifestExperiment, RunInfo,
};
use crate::plan::{self, Machine, PlannedCell, Slot};
use crate::progress::Progress;
use crate::spec::{self, ExperimentSpec};
use crate::store::{CellRecord, RunDir};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// `runner run`'s options: the CLI parses straight into this.
#[derive(clap::Args)]
pub struct RunOptions {
    /// Spec files (default: every experiments/*.toml).
    pub specs: Vec<PathBuf>,
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

/// Loads and validates every spec; the first error stops everything.
/// `repetitions`: every cell exactly that many times ([`ExperimentSpec::with_repetitions`]).
pub fn load_specs(
    files: &[PathBuf],
    profile: Option<&str>,
    repetitions: Option<u32>,
) -> anyhow::Result<Vec<ExperimentSpec>> {
    let specs = files
        .iter()
        .map(|f| {
            spec::load(f, profile, false).map(|s| match repetitions {
                Some(n) => s.with_repetitions(n),
                None => s,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut names = HashSet::new();
    for s in &specs {
        if !names.insert(&s.name) {
            anyhow::bail!(
                "{}: experiment name `{}` is used by another spec of this run",
                s.file,
                s.name
            );
        }
    }
    Ok(specs)
}

fn run_id(seed: u64) -> String {
    format!(
        "{}-{:04x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        seed & 0xffff
    )
}

pub fn run(opts: RunOptions) -> anyhow::Result<RunSummary> {
    let t_run = Instant::now();
    // What an earlier runner killed hard left behind (src/reap.rs).
    for said in crate::reap::leftovers() {
        tracing::warn!("{said}");
    }
    let mut executor = Executor {
        binary: crate::exec::cell_binary()?,
        pg_url: None,
    };
    let (dir, mut manifest) = match &opts.resume {
        Some(path) => {
            let dir = RunDir::open(path)?;
            let m = dir.manifest()?;
            (dir, m)
        }
        None => {
            let specs = load_specs(&opts.specs, opts.profile.as_deref(), opts.repetitions)?;
            if specs.is_empty() {
                anyhow::bail!("no experiment specs given");
            }
            let seed = opts.seed.unwrap_or_else(|| {
                // Clock nanoseconds are seed enough: the seed is recorded, not secret.
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            });
            let env = environment();
            let calibration = executor.calibrate()?;
            let machine = Machine {
                cores: env.cores,
                cpu_iters_per_ms: calibration.iters_per_ms,
            };
            let experiments: Vec<ManifestExperiment> = specs
                .into_iter()
                .map(|s| ManifestExperiment {
                    file: s.file.clone(),
                    name: s.name.clone(),
                    claim: s.claim.clone(),
                    title: s.title.clone(),
                    description: s.description.clone(),
                    // A shard keeps its cells only; `--resume` reads them back.
                    cells: crate::shard::select_spec(&s, plan::expand(&s, machine), opts.shard),
                    spec: s,
                })
                .collect();
            let id = run_id(seed);
            let path = opts
                .out
                .clone()
                .unwrap_or_else(|| Path::new("data/runs").join(&id));
            let dir = RunDir::create(&path)?;
            let m = Manifest {
                run: RunInfo {
                    run_id: id,
                    started_at: chrono::Utc::now().to_rfc3339(),
                    ended_at: None,
                    git_commit: env.git_commit,
                    git_dirty: env.git_dirty,
                    rustc: env!("THREADLOOP_RUSTC").to_string(),
                    crates: crate_versions(),
                    cpu_model: env.cpu_model,
                    cores: env.cores,
                    memory_bytes: env.memory_bytes,
                    kernel: env.kernel,
                    profile: opts.profile.clone(),
                    seed,
                    calibration,
                    cells_total: experiments.iter().map(|e| e.cells.len()).sum(),
                    cells_failed: 0,
                },
                limits: env.limits,
                command: crate::manifest::redacted_command(std::env::args()),
                downstream: None,
                postgres: None,
                experiments,
                shard: opts.shard,
                merged_from: Vec::new(),
                extra_repetitions: Vec::new(),
                budget_s: opts.budget.map(|d| d.as_secs_f64()),
            };
            dir.write_manifest(&m)?;
            (dir, m)
        }
    };
    let cells: Vec<PlannedCell> = manifest
        .experiments
        .iter()
        .flat_map(|e| e.cells.clone())
        .collect();
    // One downstream API per run, only when a cell calls it.
    let downstream = if cells
        .iter()
        .any(|c| c.cell.io == threadloop_engine::IoKind::Http)
    {
        Some(crate::downstream::Downstream::start(&executor.binary)?)
    } else {
        None
    };
    // One PostgreSQL per run, only when a cell queries it. Without one, the
    // `postgres` cells fail with the reason and every other cell still runs.
    let mut pg = None;
    let mut pg_error = None;
    if cells.iter().any(|c| c.cell.uses_postgres()) {
        match crate::postgres::PgServer::start(&opts.pg, &manifest.run.run_id) {
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
                pg = Some(server);
            }
            Err(e) => {
                tracing::warn!("{e:#}");
                pg_error = Some(format!("{e:#}"));
            }
        }
    }
    let mut records = dir.records()?;
    // Time an earlier invocation of this run already spent (resume).
    let earlier_s: f64 = records.iter().map(|r| r.wall_s).sum();
    if let Some(b) = opts.budget {
        manifest.budget_s = Some(b.as_secs_f64());
    }
    let done: HashSet<(String, String, u32)> = records
        .iter()
        .map(|r| (r.experiment.clone(), r.cell_id.clone(), r.repetition))
        .collect();
    let todo: Vec<Slot> = plan::order(&cells, manifest.run.seed)
        .into_iter()
        .filter(|s| {
            !done.contains(&(
                cells[s.cell].experiment.clone(),
                cells[s.cell].id.clone(),
                s.repetition,
            ))
        })
        .collect();

    let interrupt = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupt.clone();
        // Installing twice (tests run several runs per process) is harmless to refuse.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    let total_s: f64 = todo
        .iter()
        .map(|s| plan::estimate_s(&cells[s.cell].cell))
        .sum();
    // A bar on a terminal, one line per execution otherwise (progress.rs).
    let bar = Progress::new(opts.quiet, todo.len(), (total_s * 1000.0) as u64);
    let (mut executed, mut failed) = (0, 0);
    let mut interrupted = false;
    // Planned slots first, then rounds of adaptive repetitions (extra ones
    // a resumed run had already planned go first in its queue).
    let mut queue: VecDeque<Slot> = todo.into();
    for extra in &manifest.extra_repetitions {
        let key = (
            extra.experiment.clone(),
            extra.cell.clone(),
            extra.repetition,
        );
        if let (false, Some(cell)) = (
            done.contains(&key),
            cells
                .iter()
                .position(|c| c.experiment == extra.experiment && c.id == extra.cell),
        ) {
            queue.push_back(Slot {
                cell,
                repetition: extra.repetition,
            });
        }
    }
    let mut total = queue.len();
    let mut i = 0;
    // Stalls of the machine itself (src/hiccup.rs), watched from here.
    let hiccups = crate::hiccup::HiccupMonitor::start();
    let mut replaced: HashMap<usize, u32> = HashMap::new();
    loop {
        let Some(slot) = queue.pop_front() else {
            let left_s = left_of(manifest.budget_s, earlier_s, t_run);
            let round = adaptive_round(&dir, &manifest, &cells, &records, left_s);
            if round.is_empty() {
                break;
            }
            for (cell, repetition, why) in round {
                let planned = &cells[cell];
                manifest.extra_repetitions.push(ExtraRepetition {
                    experiment: planned.experiment.clone(),
                    cell: planned.id.clone(),
                    repetition,
                    why,
                });
                bar.inc_length((plan::estimate_s(&planned.cell) * 1000.0) as u64);
                queue.push_back(Slot { cell, repetition });
                total += 1;
            }
            dir.write_manifest(&manifest)?;
            continue;
        };
        let slot = &slot;
        i += 1;
        let planned = &cells[slot.cell];
        bar.set_message(format!(
            "{}/{} {} r{} ({} of {})",
            planned.experiment, planned.id, planned.claim, slot.repetition, i, total
        ));
        let mut cell = planned.cell.clone();
        cell.seed = plan::slot_seed(
            manifest.run.seed,
            &planned.id,
            &planned.experiment,
            slot.repetition,
        );
        if cell.io == threadloop_engine::IoKind::Http {
            cell.downstream = downstream.as_ref().map(|d| d.addr.clone());
        }
        let started_at = chrono::Utc::now().to_rfc3339();
        let t0 = Instant::now();
        let skip = crate::limits::check(&cell, &manifest.limits)
            .or_else(|| threadloop_engine::stacks::missing(&cell));
        let uses_pg = cell.uses_postgres();
        if let (true, Some(server)) = (uses_pg, &pg) {
            server.before_cell();
        }
        let result = match (&skip, uses_pg, &pg_error) {
            (Some(reason), _, _) => Err(ExecError::Failed(reason.clone())),
            (None, true, Some(e)) => Err(ExecError::Failed(e.clone())),
            (None, _, _) => executor.run(&cell, &interrupt),
        };
        let result = match (uses_pg, pg.as_mut()) {
            (true, Some(server)) => crate::postgres::after_cell(server, result, &mut executor),
            _ => result,
        };
        let (outcome, error) = match result {
            Ok(o) => (Some(o), None),
            Err(ExecError::Failed(e)) if skip.is_some() => {
                bar.suspend(|| {
                    tracing::warn!(
                        "{}/{} r{} {e}",
                        planned.experiment,
                        planned.id,
                        slot.repetition
                    )
                });
                (None, Some(e))
            }
            Err(ExecError::Interrupted) => {
                interrupted = true;
                break;
            }
            Err(ExecError::Failed(e)) => {
                failed += 1;
                bar.suspend(|| {
                    tracing::warn!(
                        "{}/{} r{} failed: {e}",
                        planned.experiment,
                        planned.id,
                        slot.repetition
                    )
                });
                (None, Some(e))
            }
        };
        let stall = hiccups.longest_between(t0, Instant::now());
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
        if record.disturbed() {
            let left_s = left_of(manifest.budget_s, earlier_s, t_run);
            if let Some(again) = replacement(slot, &record, &records, &queue, &mut replaced, left_s)
            {
                manifest.extra_repetitions.push(ExtraRepetition {
                    experiment: planned.experiment.clone(),
                    cell: planned.id.clone(),
                    repetition: again.repetition,
                    why: format!(
                        "replaces r{}: the machine stalled {:.0} ms during it",
                        slot.repetition,
                        stall.as_secs_f64() * 1e3
                    ),
                });
                dir.write_manifest(&manifest)?;
                bar.inc_length((plan::estimate_s(&planned.cell) * 1000.0) as u64);
                queue.push_back(again);
                total += 1;
            }
        }
        dir.save(&record)?;
        records.push(record);
        dir.write_parquet(&manifest.run.run_id, &records)?;
        executed += 1;
        bar.inc((plan::estimate_s(&planned.cell) * 1000.0) as u64);
        bar.finished(records.last().expect("just pushed"));
        if interrupt.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    bar.finish_and_clear();
    records.sort_by(|a, b| {
        (&a.experiment, &a.cell_id, a.repetition).cmp(&(&b.experiment, &b.cell_id, b.repetition))
    });
    dir.write_parquet(&manifest.run.run_id, &records)?;
    manifest.run.cells_failed = records
        .iter()
        .filter(|r| r.outcome.is_none() && !r.skipped)
        .count();
    if !interrupted {
        manifest.run.ended_at = Some(chrono::Utc::now().to_rfc3339());
    }
    if let Some(d) = &downstream {
        manifest.downstream = d.stats();
    }
    if let Some(server) = &pg {
        manifest.postgres = Some(server.info.clone());
    }
    dir.write_manifest(&manifest)?;
    Ok(RunSummary {
        dir: dir.path.clone(),
        executed,
        failed,
        interrupted,
    })
}

/// What is left of the run's budget (`--budget`, infinite without one):
/// what an earlier invocation spent (`earlier_s`, on resume) and this one's
/// time so far count against it.
fn left_of(budget_s: Option<f64>, earlier_s: f64, t_run: Instant) -> f64 {
    budget_s.map_or(f64::INFINITY, |b| {
        b - earlier_s - t_run.elapsed().as_secs_f64()
    })
}

/// How many times one cell's disturbed executions are repeated in a run: a
/// machine that stalls that often gets an honest gap, not an endless run.
const MAX_REPLACEMENTS: u32 = 2;

/// The slot that repeats a disturbed execution (the cell's next free
/// repetition number), unless the cell was replaced [`MAX_REPLACEMENTS`]
/// times or the run's budget has no room for it.
fn replacement(
    slot: &Slot,
    record: &CellRecord,
    records: &[CellRecord],
    queue: &VecDeque<Slot>,
    replaced: &mut HashMap<usize, u32>,
    left_s: f64,
) -> Option<Slot> {
    let n = replaced.entry(slot.cell).or_default();
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
    Some(Slot {
        cell: slot.cell,
        repetition: next,
    })
}

/// The next round of adaptive repetitions (see [`crate::adaptive`]); a run
/// whose results cannot be analysed yet gets none, with a warning.
fn adaptive_round(
    dir: &RunDir,
    manifest: &Manifest,
    cells: &[PlannedCell],
    records: &[CellRecord],
    left_s: f64,
) -> Vec<(usize, u32, String)> {
    if records.is_empty() || left_s <= 0.0 {
        return Vec::new();
    }
    let wants: Vec<Want> = match crate::adaptive::wanted(&dir.path) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("no adaptive repetitions: {e:#}");
            return Vec::new();
        }
    };
    crate::adaptive::next_round(manifest, cells, records, &wants, left_s)
}
