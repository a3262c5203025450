//! `runner merge DIR... --out DIR`: joins run directories (the shards of one
//! catalogue, `runner run --shard I/N`) into one run directory that `report`
//! reads like any other.
//!
//! The inputs must be the same experiment: the same expanded specs and
//! profile, built from the same commit with the same rustc and crate
//! versions (`--force` waives the commit only). No cell × repetition may
//! appear in two inputs. The records (`cells/*.json`) are copied, the Parquet
//! files rebuilt from them, and a manifest written with the union of the
//! planned cells, `shard` unset and `merged_from` naming the inputs.
//!
//! `merged_from` also says where each cell was measured: every input with
//! its shard, CPU model, cores (and hostname, when its manifest has one) and
//! the cells whose records it holds. The report reads it to refuse a ratio
//! between cells measured on different machines; a merged input passes its
//! own `merged_from` entries on, so merging merges keeps the origins.

use crate::manifest::{Manifest, ManifestExperiment, MergeInput};
use crate::shard::Shard;
use crate::store::{CellRecord, RunDir};
use anyhow::{bail, Context};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub struct MergeOptions {
    pub dirs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Merge runs built from different git commits.
    pub force: bool,
}

pub struct MergeSummary {
    pub dir: PathBuf,
    pub records: usize,
    pub failed: usize,
    /// Things that do not stop the merge but deserve a look (a missing
    /// shard, executions not run, a waived commit check).
    pub warnings: Vec<String>,
}

/// A JSON rendering of a field's value for error messages.
fn show(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "?".into())
}

fn check_same<T: PartialEq + Serialize>(
    field: &str,
    a: (&Path, &T),
    b: (&Path, &T),
) -> anyhow::Result<()> {
    if a.1 != b.1 {
        bail!(
            "cannot merge: `{field}` differs: {} has {}, {} has {}",
            a.0.display(),
            show(a.1),
            b.0.display(),
            show(b.1)
        );
    }
    Ok(())
}

/// The same experiments with the same expanded specs, in any order.
fn check_specs(a: (&Path, &Manifest), b: (&Path, &Manifest)) -> anyhow::Result<()> {
    let names = |m: &Manifest| -> BTreeSet<String> {
        m.experiments.iter().map(|e| e.name.clone()).collect()
    };
    check_same(
        "experiments[*].name",
        (a.0, &names(a.1)),
        (b.0, &names(b.1)),
    )?;
    for ea in &a.1.experiments {
        let eb =
            b.1.experiments
                .iter()
                .find(|e| e.name == ea.name)
                .expect("same names");
        if ea.spec != eb.spec {
            // Name the keys that differ (`file` too: the same spec under another path).
            let (va, vb) = (
                serde_json::to_value(&ea.spec)?,
                serde_json::to_value(&eb.spec)?,
            );
            let keys: Vec<&str> = va
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| vb.get(k.as_str()) != Some(*v))
                .map(|(k, _)| k.as_str())
                .collect();
            bail!(
                "cannot merge: `experiments[*].spec` differs for experiment `{}` between {} and {} \
                 (in: {}); the shards must run the same spec files with the same --profile",
                ea.name,
                a.0.display(),
                b.0.display(),
                keys.join(", ")
            );
        }
    }
    Ok(())
}

/// The input manifest's `hostname`, if it records one (the runner does not
/// yet; a manifest that does is read all the same).
fn hostname(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("hostname")?.as_str().map(str::to_string)
}

/// Where each cell of the merge was measured: one entry per input, or an
/// input's own entries when it is itself a merge that recorded them.
fn origins(
    runs: &[(&Path, Manifest, Vec<CellRecord>)],
    hostnames: &[Option<String>],
) -> Vec<MergeInput> {
    let mut out = Vec::new();
    for ((dir, m, records), host) in runs.iter().zip(hostnames) {
        let nested = !m.merged_from.is_empty() && m.merged_from.iter().all(|o| !o.cells.is_empty());
        if nested {
            out.extend(m.merged_from.iter().cloned());
            continue;
        }
        let cells: BTreeSet<String> = records
            .iter()
            .map(|r| format!("{}/{}", r.experiment, r.cell_id))
            .collect();
        out.push(MergeInput {
            dir: dir.display().to_string(),
            shard: m.shard,
            cpu_model: Some(m.run.cpu_model.clone()),
            cores: Some(m.run.cores),
            hostname: host.clone(),
            cells: cells.into_iter().collect(),
        });
    }
    out
}

pub fn merge(opts: MergeOptions) -> anyhow::Result<MergeSummary> {
    if opts.dirs.is_empty() {
        bail!("nothing to merge: name the run directories");
    }
    // The same directory twice (by any path) would duplicate every cell.
    let mut canon: Vec<PathBuf> = Vec::new();
    for d in &opts.dirs {
        let c = d
            .canonicalize()
            .with_context(|| format!("cannot merge: {} does not exist", d.display()))?;
        if let Some(i) = canon.iter().position(|x| *x == c) {
            bail!(
                "cannot merge: {} and {} are the same run directory",
                opts.dirs[i].display(),
                d.display()
            );
        }
        canon.push(c);
    }
    if opts.out.exists() {
        let out = opts.out.canonicalize()?;
        if canon.contains(&out) {
            bail!(
                "cannot merge: --out {} is one of the inputs; name a new directory",
                opts.out.display()
            );
        }
        let empty = opts.out.is_dir() && std::fs::read_dir(&opts.out)?.next().is_none();
        if !empty {
            bail!(
                "cannot merge: --out {} exists and is not empty; name a new directory",
                opts.out.display()
            );
        }
    }

    let mut runs: Vec<(&Path, Manifest, Vec<CellRecord>)> = Vec::new();
    let mut hostnames: Vec<Option<String>> = Vec::new();
    for d in &opts.dirs {
        let dir = RunDir::open(d)?;
        let m = dir
            .manifest()
            .with_context(|| format!("reading {}/manifest.json", d.display()))?;
        let records = dir
            .records()
            .with_context(|| format!("reading {}/cells", d.display()))?;
        runs.push((d.as_path(), m, records));
        hostnames.push(hostname(d));
    }

    let mut warnings = Vec::new();
    let (first_dir, first) = (runs[0].0, &runs[0].1);
    for (dir, m, _) in &runs[1..] {
        let (a, b) = ((first_dir, first), (*dir, m));
        check_specs(a, b)?;
        check_same("profile", (a.0, &a.1.run.profile), (b.0, &b.1.run.profile))?;
        if let Err(e) = check_same(
            "git_commit",
            (a.0, &a.1.run.git_commit),
            (b.0, &b.1.run.git_commit),
        ) {
            if !opts.force {
                bail!("{e} (--force merges runs of different commits)");
            }
            let e = e.to_string();
            let e = e.trim_start_matches("cannot merge: ");
            warnings.push(format!("{e} (merged anyway: --force)"));
        }
        check_same("rustc", (a.0, &a.1.run.rustc), (b.0, &b.1.run.rustc))?;
        check_same("crates", (a.0, &a.1.run.crates), (b.0, &b.1.run.crates))?;
        if let (Some(sa), Some(sb)) = (a.1.shard, b.1.shard) {
            check_same("shard count", (a.0, &sa.count), (b.0, &sb.count))?;
        }
        if (a.1.run.cores, &a.1.run.cpu_model) != (b.1.run.cores, &b.1.run.cpu_model) {
            warnings.push(format!(
                "{} ran on {} ({} cores), {} on {} ({} cores): cells whose `workers` or \
                 `pool_threads` default to the cores differ between machines",
                a.0.display(),
                a.1.run.cpu_model,
                a.1.run.cores,
                b.0.display(),
                b.1.run.cpu_model,
                b.1.run.cores
            ));
        }
    }
    // Two inputs of the same shard: a clear message before the duplicates.
    let mut by_shard: HashMap<Shard, &Path> = HashMap::new();
    for (dir, m, _) in &runs {
        if let Some(s) = m.shard {
            if let Some(other) = by_shard.insert(s, dir) {
                bail!(
                    "cannot merge: {} and {} are both shard {s}",
                    other.display(),
                    dir.display()
                );
            }
        }
    }
    if let Some(n) = first.shard.map(|s| s.count) {
        let missing: Vec<String> = (1..=n)
            .map(|index| Shard { index, count: n })
            .filter(|s| !by_shard.contains_key(s))
            .map(|s| s.to_string())
            .collect();
        if !missing.is_empty() && runs.iter().all(|(_, m, _)| m.shard.is_some()) {
            warnings.push(format!(
                "shard(s) {} not among the inputs",
                missing.join(", ")
            ));
        }
    }

    // Every cell × repetition once.
    let mut owner: HashMap<(String, String, u32), &Path> = HashMap::new();
    for (dir, _, records) in &runs {
        for r in records {
            let k = (r.experiment.clone(), r.cell_id.clone(), r.repetition);
            if let Some(other) = owner.insert(k, dir) {
                bail!(
                    "cannot merge: {}/{} repetition {} appears in both {} and {}",
                    r.experiment,
                    r.cell_id,
                    r.repetition,
                    other.display(),
                    dir.display()
                );
            }
        }
    }

    let origins = origins(&runs, &hostnames);
    // A cell whose repetitions were measured in two inputs.
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for o in &origins {
        for c in &o.cells {
            if let Some(other) = seen.insert(c, &o.dir) {
                warnings.push(format!(
                    "{c} has repetitions from both {other} and {}: its spread mixes machines",
                    o.dir
                ));
            }
        }
    }

    // The union of the planned cells, experiment by experiment, in the first
    // input's experiment order.
    let mut experiments: Vec<ManifestExperiment> = first.experiments.clone();
    for e in &mut experiments {
        let mut ids: HashSet<String> = e.cells.iter().map(|c| c.id.clone()).collect();
        for (_, m, _) in &runs[1..] {
            let other = m.experiments.iter().find(|o| o.name == e.name);
            for c in other.into_iter().flat_map(|o| &o.cells) {
                if ids.insert(c.id.clone()) {
                    e.cells.push(c.clone());
                }
            }
        }
    }
    let manifests: Vec<&Manifest> = runs.iter().map(|(_, m, _)| m).collect();
    let mut merged = first.clone();
    merged.run.run_id = format!(
        "{}-{:04x}-merged",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        first.run.seed & 0xffff
    );
    merged.run.started_at = manifests
        .iter()
        .map(|m| m.run.started_at.clone())
        .min()
        .unwrap_or_default();
    merged.run.ended_at = manifests
        .iter()
        .map(|m| m.run.ended_at.clone())
        .collect::<Option<Vec<String>>>()
        .and_then(|v| v.into_iter().max());
    merged.run.git_dirty = manifests
        .iter()
        .map(|m| m.run.git_dirty)
        .reduce(|a, b| match (a, b) {
            (Some(a), Some(b)) => Some(a || b),
            (Some(true), None) | (None, Some(true)) => Some(true),
            _ => None,
        })
        .flatten();
    merged.command = std::env::args().collect();
    merged.shard = None;
    merged.merged_from = origins;
    merged.run.cells_total = experiments.iter().map(|e| e.cells.len()).sum();
    merged.experiments = experiments;
    drop(manifests);

    let mut records: Vec<CellRecord> = runs.into_iter().flat_map(|(_, _, r)| r).collect();
    records.sort_by(|a, b| {
        (&a.experiment, &a.cell_id, a.repetition).cmp(&(&b.experiment, &b.cell_id, b.repetition))
    });
    merged.run.cells_failed = records.iter().filter(|r| r.outcome.is_none()).count();
    let planned: usize = merged
        .experiments
        .iter()
        .flat_map(|e| &e.cells)
        .map(|c| c.repetitions as usize)
        .sum();
    if records.len() < planned {
        warnings.push(format!(
            "{} of {planned} planned executions have no record (an unfinished input? \
             finish it with `runner run --resume DIR`, then merge again)",
            planned - records.len()
        ));
    }

    let dir = RunDir::create(&opts.out)?;
    for r in &records {
        dir.save(r)?;
    }
    dir.write_parquet(&merged.run.run_id, &records)?;
    // Last: a directory without a manifest is not a run, so an interrupted
    // merge never looks finished.
    dir.write_manifest(&merged)?;
    Ok(MergeSummary {
        dir: dir.path.clone(),
        records: records.len(),
        failed: merged.run.cells_failed,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use crate::manifest::MergeInput;
    use serde_json::json;

    #[test]
    fn merged_from_reads_directories_and_entries() {
        let v = json!([
            "shards/old",
            {"dir": "shards/2", "shard": {"index": 2, "count": 3},
             "cpu_model": "CPU", "cores": 4, "cells": ["e/a", "e/b"]}
        ]);
        let inputs: Vec<MergeInput> = serde_json::from_value(v).unwrap();
        assert_eq!(inputs[0], MergeInput::dir_only("shards/old".into()));
        assert_eq!(
            inputs[1].shard.map(|s| s.to_string()).as_deref(),
            Some("2/3")
        );
        assert_eq!(inputs[1].cells, ["e/a", "e/b"]);
        assert_eq!(inputs[1].hostname, None);
        let back = serde_json::to_value(&inputs[1]).unwrap();
        assert!(back.get("hostname").is_none(), "unset fields are left out");
        assert_eq!(
            serde_json::from_value::<MergeInput>(back).unwrap(),
            inputs[1]
        );
    }
}
