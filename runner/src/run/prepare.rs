//! The first stage: the run directory and its manifest. A new run validates
//! every spec (the first error stops everything, before anything runs),
//! calibrates, plans its cells (a shard keeps its own) and writes the
//! manifest; `--resume` reads them back, so it runs the same cells.

use super::RunOptions;
use crate::exec::Executor;
use crate::manifest::{crate_versions, environment, Manifest, ManifestExperiment, RunInfo};
use crate::plan::{self, Machine};
use crate::spec::{self, ExperimentSpec};
use crate::store::RunDir;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A run directory and its manifest, as written (new run) or read back
/// (resume).
pub struct Prepared {
    pub dir: RunDir,
    pub manifest: Manifest,
}

/// The run `opts` asks for: a new one, or the one `--resume` names.
/// `executor` calibrates a new run.
pub fn prepare(opts: &RunOptions, executor: &Executor) -> anyhow::Result<Prepared> {
    let mut prepared = match &opts.resume {
        Some(path) => {
            let dir = RunDir::open(path)?;
            let manifest = dir.manifest()?;
            Prepared { dir, manifest }
        }
        None => create(opts, executor)?,
    };
    // `--budget` on resume replaces the recorded one (written with the
    // manifest's next write).
    if let Some(b) = opts.budget {
        prepared.manifest.budget_s = Some(b.as_secs_f64());
    }
    Ok(prepared)
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

/// A new run: specs, seed, calibration, the planned cells, and the run
/// directory with its first manifest.
fn create(opts: &RunOptions, executor: &Executor) -> anyhow::Result<Prepared> {
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
    let manifest = Manifest {
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
            servers: Vec::new(),
            cells_total: experiments.iter().map(|e| e.cells.len()).sum(),
            cells_failed: 0,
            memory_source: Some(threadloop_engine::memory::probe()),
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
    dir.write_manifest(&manifest)?;
    Ok(Prepared { dir, manifest })
}

/// `<UTC start>-<low 16 bits of the seed, hex>`: sorts by time, and two runs
/// started in the same second differ unless their seeds share those bits.
fn run_id(seed: u64) -> String {
    format!(
        "{}-{:04x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        seed & 0xffff
    )
}
