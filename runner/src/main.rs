//! `runner`: runs threadloop's experiments.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use threadloop_runner::{merge, plan, run, shard, spec};

#[derive(Parser)]
#[command(
    name = "runner",
    version,
    about = "Threads vs. event loops, measured: runs experiment specs into Parquet results"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run experiments; results go to data/runs/<run-id>/ (or --out).
    Run(run::RunOptions),
    /// Show each spec's cells and estimated time.
    List {
        specs: Vec<PathBuf>,
        /// Leave experiment NAME out of the default catalogue (as `runner run --except`).
        #[arg(long, value_name = "NAME")]
        except: Vec<String>,
        #[arg(long)]
        profile: Option<String>,
        /// Print every cell, not just the totals.
        #[arg(long)]
        cells: bool,
        /// Only the cells of shard I of N (what `runner run --shard I/N` runs).
        #[arg(long, value_name = "I/N", value_parser = shard::parse)]
        shard: Option<shard::Shard>,
        /// The run's budget (as `runner run --budget`): caps "at most".
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        budget: Option<std::time::Duration>,
    },
    /// Check specs (defaults and every profile) without running anything.
    Validate { specs: Vec<PathBuf> },
    /// Merge run directories (the shards of one run) into one run directory.
    Merge {
        /// Run directories, e.g. the outputs of `runner run --shard I/N`.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The merged run directory (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Merge runs built from different git commits.
        #[arg(long)]
        force: bool,
    },
}

/// The spec files to run: those given, or the catalogue (experiments/*.toml)
/// without the experiments named in `except`, each of which must be in it.
fn spec_files(given: Vec<PathBuf>, except: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        anyhow::ensure!(
            except.is_empty(),
            "--except leaves experiments out of the catalogue; with spec files named, name only those to run"
        );
        return Ok(given);
    }
    let all = spec::catalogue(Path::new("experiments"))
        .context("reading experiments/ (run from the repository root or name spec files)")?;
    let name = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned());
    for e in except {
        anyhow::ensure!(
            all.iter().any(|p| name(p).as_deref() == Some(e.as_str())),
            "--except {e}: no experiments/{e}.toml in the catalogue"
        );
    }
    Ok(all
        .into_iter()
        .filter(|p| !name(p).is_some_and(|n| except.contains(&n)))
        .collect())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn real_main() -> anyhow::Result<i32> {
    match Cli::parse().command {
        Command::Run(mut opts) => {
            if opts.resume.is_none() {
                opts.specs = spec_files(std::mem::take(&mut opts.specs), &opts.except)?;
            }
            let s = run::run(opts)?;
            println!("{}", s.dir.display());
            eprintln!(
                "{} executions, {} failed{}",
                s.executed,
                s.failed,
                if s.interrupted {
                    format!(
                        "; interrupted: finish with `runner run --resume {}`",
                        s.dir.display()
                    )
                } else {
                    String::new()
                }
            );
            Ok(if s.interrupted { 130 } else { 0 })
        }
        Command::List {
            specs,
            except,
            profile,
            cells,
            shard,
            budget,
        } => {
            let files = spec_files(specs, &except)?;
            let loaded = run::load_specs(&files, profile.as_deref(), None)?;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
            let machine = plan::Machine {
                cores,
                cpu_iters_per_ms: 0.0,
            };
            let (mut total, mut total_max) = (0.0, 0.0);
            let mut all_cells = Vec::new();
            println!(
                "{:<28} {:<12} {:>6} {:>6} {:>10} {:>10}",
                "experiment", "claim", "cells", "runs", "estimate", "at most"
            );
            for s in &loaded {
                let planned = shard::select_spec(s, plan::expand(s, machine), shard);
                let runs: u32 = planned.iter().map(|c| c.repetitions).sum();
                let est: f64 = planned
                    .iter()
                    .map(|c| plan::estimate_s(&c.cell) * c.repetitions as f64)
                    .sum();
                // With adaptive repetitions the experiment may take up to
                // its budget (README: Statistics).
                let most = if s.max_repetitions > s.repetitions {
                    s.budget_s
                        .unwrap_or(threadloop_runner::adaptive::DEFAULT_BUDGET_FACTOR * est)
                        .max(est)
                } else {
                    est
                };
                total += est;
                total_max += most;
                all_cells.extend(planned.iter().map(|c| c.cell.clone()));
                println!(
                    "{:<28} {:<12} {:>6} {:>6} {:>10} {:>10}",
                    s.name,
                    s.claim,
                    planned.len(),
                    runs,
                    fmt_secs(est),
                    fmt_secs(most)
                );
                if cells {
                    for c in &planned {
                        println!("    {} ×{}", c.id, c.repetitions);
                    }
                }
            }
            // Each server's calibration runs before the cells, and its time
            // counts against the run's budget.
            let (servers, servers_s) = plan::servers_estimate_s(&all_cells);
            let (total, mut total_max) = (total + servers_s, total_max + servers_s);
            let why = match budget {
                Some(b) if b.as_secs_f64() < total_max => {
                    total_max = b.as_secs_f64().max(total);
                    "the run's --budget"
                }
                _ => "every rule asks for its whole budget of extra repetitions",
            };
            println!(
                "total estimate: {} (with {} calibrating {servers} servers, and ~1 s of CPU calibration); at most {} ({why})",
                fmt_secs(total),
                fmt_secs(servers_s),
                fmt_secs(total_max)
            );
            Ok(0)
        }
        Command::Merge { dirs, out, force } => {
            let s = merge::merge(merge::MergeOptions { dirs, out, force })?;
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            println!("{}", s.dir.display());
            eprintln!("{} executions merged, {} failed", s.records, s.failed);
            Ok(0)
        }
        Command::Validate { specs } => {
            let files = spec_files(specs, &[])?;
            let mut bad = 0;
            for f in &files {
                match spec::validate_all(f) {
                    Ok(v) => println!("{}: ok ({} profile(s))", f.display(), v.len() - 1),
                    Err(e) => {
                        eprintln!("{e}");
                        bad += 1;
                    }
                }
            }
            Ok(if bad > 0 { 1 } else { 0 })
        }
    }
}

fn fmt_secs(s: f64) -> String {
    let s = s.round() as u64;
    format!("{}m{:02}s", s / 60, s % 60)
}
