//! `report [RUN_DIR]` renders a run's report; `report compare BASE NEW`
//! compares two runs; `report gate [RUN]` is the CI regression gate (the
//! comparison with the baseline, and a rerun of what fails).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use threadloop_reports::{analysis, compare, load, render};

/// Renders threadloop run directories into HTML reports.
#[derive(Debug, Parser)]
#[command(name = "report", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Run directory (default: the newest directory under data/runs/).
    run_dir: Option<PathBuf>,
    /// Output root; the report goes to OUT/<run-id>/ and OUT/latest.
    #[arg(long, global = true, default_value = "reports")]
    out: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The regression gate: compare two runs cell by cell on same-run
    /// ratios (each cell's fidelity and p50 against the other models at its
    /// load point), which a faster or slower machine leaves unchanged.
    Compare(CompareArgs),
    /// The CI regression gate, whole: RUN against the baseline at PCT; the
    /// experiments of cells failing on a ratio are rerun (`runner run
    /// <specs> --profile quick --repetitions 3 --out RUN/recheck`) and
    /// those cells fail only if they fail there too. Exit 0 pass, 1 fail,
    /// 2 a run could not be read (or the runner's status if the rerun
    /// did not finish).
    Gate(GateArgs),
}

/// `report gate`'s arguments.
#[derive(Debug, clap::Args)]
struct GateArgs {
    /// The run to check (default: the newest directory under data/runs/).
    run: Option<PathBuf>,
    /// The baseline run.
    #[arg(long, value_name = "DIR", default_value = "data/baselines/smoke")]
    baseline: PathBuf,
    /// Fail when a gated ratio moves the bad way by more than PCT percent.
    #[arg(long, value_name = "PCT", value_parser = parse_pct, default_value_t = compare::DEFAULT_PCT)]
    threshold: f64,
    /// The runner binary for the rerun (default: `runner` next to this
    /// binary, in the same target directory).
    #[arg(long, value_name = "PATH")]
    runner: Option<PathBuf>,
    /// Where the specs of the experiments to rerun are (`DIR/NAME.toml`).
    #[arg(long, value_name = "DIR", default_value = "experiments")]
    experiments: PathBuf,
}

/// `report compare`'s arguments.
#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The baseline run (e.g. data/baselines/smoke); record it with ≥ 2
    /// repetitions per cell so the gate knows each ratio's spread.
    base: PathBuf,
    /// The run to check.
    new: PathBuf,
    /// Exit with code 1 when a gated ratio moves the bad way by more than
    /// PCT percent (ratios whose repetitions spread more than PCT / 2 are
    /// reported, not gated), or a cell ok in BASE fails in NEW.
    #[arg(long, value_name = "PCT", value_parser = parse_pct)]
    fail_on_regression: Option<f64>,
    /// A rerun of the failing cells' experiments (`runner run
    /// --repetitions 3 ...`): a cell failing on a ratio fails only if it
    /// fails against BASE in RERUN too; `report gate` runs it.
    #[arg(long, value_name = "RERUN")]
    recheck: Option<PathBuf>,
    /// Write the experiments with a cell failing on a ratio to FILE, one
    /// name a line (empty when none): what `--recheck` may clear. A cell
    /// that newly fails is never cleared.
    #[arg(long, value_name = "FILE")]
    failing_to: Option<PathBuf>,
}

/// A gate threshold: a finite percentage above 0.
fn parse_pct(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 => Ok(p),
        _ => Err(format!("{s:?} is not a percentage above 0")),
    }
}

fn render(run_dir: Option<PathBuf>, out: PathBuf) -> Result<ExitCode> {
    let dir = match run_dir {
        Some(d) => d,
        None => load::newest_run(&PathBuf::from("data/runs"))
            .context("no RUN_DIR given and none found under data/runs/")?,
    };
    let run = load::load_run(&dir).with_context(|| format!("loading {}", dir.display()))?;
    let analysis = analysis::analyse(run);
    let written = render::write_report(&analysis, &out)?;
    println!("{}", written.index.display());
    Ok(ExitCode::SUCCESS)
}

fn load(dir: &Path) -> Result<analysis::Analysis> {
    Ok(compare::load_analysis(dir)?)
}

fn run_compare(a: CompareArgs, out: PathBuf) -> Result<ExitCode> {
    let (b, n) = (load(&a.base)?, load(&a.new)?);
    let mut cmp = compare::compare(&b, &n, a.fail_on_regression);
    if let Some(rerun) = &a.recheck {
        cmp.recheck(&compare::compare(&b, &load(rerun)?, a.fail_on_regression));
    }
    if let Some(file) = &a.failing_to {
        let names: String = cmp
            .failing_experiments()
            .iter()
            .map(|e| format!("{e}\n"))
            .collect();
        std::fs::write(file, names).with_context(|| format!("writing {}", file.display()))?;
    }
    publish(&cmp, &out)?;
    Ok(ExitCode::from(if cmp.failing().is_empty() { 0 } else { 1 }))
}

fn run_gate(a: GateArgs, out: PathBuf) -> Result<ExitCode> {
    let run = match a.run {
        Some(d) => d,
        None => load::newest_run(Path::new("data/runs"))
            .context("no RUN given and none found under data/runs/")?,
    };
    let runner = match a.runner {
        Some(r) => r,
        None => compare::Rerunner::runner_beside(
            &std::env::current_exe().context("locating the report binary")?,
        ),
    };
    let rerunner = compare::Rerunner {
        runner,
        specs_dir: a.experiments,
    };
    let base = load(&a.baseline)?;
    let outcome = compare::gate(&base, &run, a.threshold, &rerunner, &mut |m: &str| {
        eprintln!("{m}")
    })?;
    publish(&outcome.comparison, &out)?;
    if let compare::Rerun::RunnerFailed { code } = outcome.rerun {
        eprintln!(
            "error: the rerun did not finish ({}): the gate cannot judge",
            code.map_or("the runner was killed by a signal".into(), |c| format!(
                "the runner exited with {c}"
            ))
        );
    }
    Ok(ExitCode::from(outcome.exit_code()))
}

/// Writes `compare.html` and `compare.md`, prints the table, and says on
/// stderr what the reader must know: nothing compared, nothing gated, the
/// cells that fail.
fn publish(cmp: &compare::Comparison, out: &Path) -> Result<()> {
    let (html, md) = compare::write_comparison(cmp, out)?;
    println!("{}", cmp.markdown());
    eprintln!("wrote {} and {}", html.display(), md.display());
    if cmp.rows.is_empty() {
        eprintln!("warning: the two runs have no cell (experiment + cell id) in common");
    } else if cmp.gated().is_empty() {
        eprintln!(
            "warning: no ratio is gated (see the gate column); only cells that newly fail can \
             fail the gate. Record the baseline with >= 2 repetitions per cell."
        );
    }
    let failing = cmp.failing();
    if !failing.is_empty() {
        eprintln!(
            "error: {} cell(s) failed the {}% regression gate: {}",
            failing.len(),
            cmp.thresholds.fail_pct,
            failing
                .iter()
                .map(|r| format!("{}/{}", r.experiment, r.cell))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Compare(args)) => run_compare(args, cli.out),
        Some(Command::Gate(args)) => run_gate(args, cli.out),
        None => render(cli.run_dir, cli.out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            // 2: the report could not be made (1 is the regression gate).
            ExitCode::from(2)
        }
    }
}
