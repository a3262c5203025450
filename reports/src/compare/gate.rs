//! `report gate`: the regression gate as CI runs it, one policy in one
//! place (why each step: docs/gate.md).
//!
//! 1. Compare RUN with the baseline at PCT ([`compare`]).
//! 2. If cells fail on a ratio, rerun their experiments, every cell
//!    [`RERUN_REPETITIONS`] times: `runner run <specs> --profile quick
//!    --repetitions 3 --out RUN/recheck`. One repetition of a 1-second
//!    window is at the mercy of the machine; a regression in the code
//!    lasts. A cell that newly fails (crashed, hung, errors) is never
//!    rerun: a failure that comes and goes is a bug, not noise.
//! 3. Judge each such row again against the rerun
//!    ([`Comparison::recheck`]): it fails only if it fails there too.
//!
//! `.ci/run` (through `just gate`) and the GitHub workflow both run this.

use super::pairing::compare;
use super::rows::Comparison;
use crate::analysis::{analyse, Analysis};
use crate::error::ReportError;
use crate::load::load_run;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The profile the failing experiments are rerun with (the smoke run's).
pub const RERUN_PROFILE: &str = "quick";
/// Repetitions per cell of the rerun: enough rounds for a median that one
/// hiccup does not move.
pub const RERUN_REPETITIONS: u32 = 3;
/// The rerun's directory inside the run directory.
pub const RERUN_DIR: &str = "recheck";

/// What can stop the gate before it judges (the display is the context;
/// the cause is the source).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("loading {path}")]
    Load {
        path: PathBuf,
        #[source]
        source: ReportError,
    },
    #[error("clearing the old rerun {path}")]
    ClearRerun {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the runner {runner} (or pass --runner PATH)")]
    StartRunner {
        runner: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A run directory's analysis.
pub fn load_analysis(dir: &Path) -> Result<Analysis, GateError> {
    load_run(dir)
        .map(analyse)
        .map_err(|source| GateError::Load {
            path: dir.to_path_buf(),
            source,
        })
}

/// How the gate reruns experiments.
#[derive(Debug, Clone)]
pub struct Rerunner {
    /// The runner binary.
    pub runner: PathBuf,
    /// Where the specs are: experiment `NAME` is `DIR/NAME.toml`.
    pub specs_dir: PathBuf,
}

impl Rerunner {
    /// The runner next to the binary `exe` (the same target directory).
    pub fn runner_beside(exe: &Path) -> PathBuf {
        exe.with_file_name(format!("runner{}", std::env::consts::EXE_SUFFIX))
    }

    /// The runner's arguments for a rerun of `specs` into `out`.
    pub fn args(specs: &[PathBuf], out: &Path) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
        args.extend(specs.iter().map(|s| s.clone().into_os_string()));
        for a in ["--profile", RERUN_PROFILE, "--repetitions"] {
            args.push(a.into());
        }
        args.push(RERUN_REPETITIONS.to_string().into());
        args.push("--out".into());
        args.push(out.as_os_str().to_owned());
        args
    }
}

/// What became of the rerun.
#[derive(Debug, Clone, PartialEq)]
pub enum Rerun {
    /// No cell failed on a ratio: nothing to rerun.
    NotNeeded,
    /// The experiments ran again into `dir`, and the rows failing on a
    /// ratio were judged again against it.
    Ran {
        experiments: Vec<String>,
        dir: PathBuf,
    },
    /// A failing experiment has no spec to rerun (`spec`): its failures
    /// stand.
    NoSpec { spec: PathBuf },
    /// The runner did not finish the rerun (`code`: its exit status, `None`
    /// if a signal ended it): the gate cannot judge.
    RunnerFailed { code: Option<i32> },
}

/// The gate's judgement.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// The comparison, with the rerun's judgement if it ran.
    pub comparison: Comparison,
    pub rerun: Rerun,
}

impl GateOutcome {
    /// The exit status: 0 pass, 1 a cell fails the gate, the runner's own
    /// status (2 if a signal ended it) when the rerun did not finish.
    pub fn exit_code(&self) -> u8 {
        match self.rerun {
            Rerun::RunnerFailed { code } => code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|&c| c != 0)
                .unwrap_or(2),
            _ if self.comparison.failing().is_empty() => 0,
            _ => 1,
        }
    }
}

/// Runs the gate on `run_dir` against `base` at `pct` percent, rerunning
/// through `rerunner` what fails on a ratio; `log` hears what the gate
/// does before it does it (the rerun takes minutes).
pub fn gate(
    base: &Analysis,
    run_dir: &Path,
    pct: f64,
    rerunner: &Rerunner,
    log: &mut dyn FnMut(&str),
) -> Result<GateOutcome, GateError> {
    let mut comparison = compare(base, &load_analysis(run_dir)?, Some(pct));
    let experiments: Vec<String> = comparison
        .failing_experiments()
        .iter()
        .map(|e| e.to_string())
        .collect();
    if experiments.is_empty() {
        return Ok(GateOutcome {
            comparison,
            rerun: Rerun::NotNeeded,
        });
    }
    let specs: Vec<PathBuf> = experiments
        .iter()
        .map(|e| rerunner.specs_dir.join(format!("{e}.toml")))
        .collect();
    if let Some(spec) = specs.iter().find(|s| !s.is_file()) {
        log(&format!("gate: no spec {} to rerun", spec.display()));
        return Ok(GateOutcome {
            comparison,
            rerun: Rerun::NoSpec { spec: spec.clone() },
        });
    }
    let dir = run_dir.join(RERUN_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|source| GateError::ClearRerun {
            path: dir.clone(),
            source,
        })?;
    }
    log(&format!(
        "gate: {} experiment(s) failed once; rerunning {} ({RERUN_REPETITIONS} repetitions per cell)",
        experiments.len(),
        specs
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    // The runner's stdout joins stderr: stdout is the gate's table.
    let status = Command::new(&rerunner.runner)
        .args(Rerunner::args(&specs, &dir))
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .map_err(|source| GateError::StartRunner {
            runner: rerunner.runner.clone(),
            source,
        })?;
    if !status.success() {
        return Ok(GateOutcome {
            comparison,
            rerun: Rerun::RunnerFailed {
                code: status.code(),
            },
        });
    }
    comparison.recheck(&compare(base, &load_analysis(&dir)?, Some(pct)));
    Ok(GateOutcome {
        comparison,
        rerun: Rerun::Ran { experiments, dir },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rerun_is_the_quick_profile_three_times_into_the_run() {
        let args = Rerunner::args(
            &[PathBuf::from("experiments/h1-pool.toml")],
            Path::new("data/runs/r/recheck"),
        );
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "run",
                "experiments/h1-pool.toml",
                "--profile",
                "quick",
                "--repetitions",
                "3",
                "--out",
                "data/runs/r/recheck"
            ]
        );
    }

    #[test]
    fn the_runner_is_found_beside_the_report_binary() {
        let runner = Rerunner::runner_beside(Path::new("/x/target/release/report"));
        assert_eq!(
            runner,
            Path::new("/x/target/release").join(format!("runner{}", std::env::consts::EXE_SUFFIX))
        );
    }
}
