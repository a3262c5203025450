//! Reading a run directory: `results.parquet` and `latency.parquet` through
//! polars lazy scans, `manifest.json` through serde (extra fields tolerated).

use crate::error::{ReportError, Result};
use polars::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use threadloop_vocab::manifest::{MergeInput, RunInfo};
use threadloop_vocab::remedy::Remedy;
use threadloop_vocab::rule::Rule;
use threadloop_vocab::schema::{cols, spectrum_cols};

mod row;
pub use row::{fmt_compact, Row, Value, DERIVED_METRICS};

/// One point of a cell × repetition's latency percentile spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumPoint {
    pub experiment: String,
    pub cell: String,
    pub repetition: i64,
    pub model: String,
    pub percentile: f64,
    pub latency_ms: f64,
}

/// What a run was, as the report reads it from `manifest.json`: the shared
/// part ([`RunInfo`], declared in the vocabulary), the experiments with
/// their rules, and anything else the runner records (limits, the command,
/// PostgreSQL's image and settings), kept for the environment table. Every
/// field has a default, so older or newer runners' manifests still load;
/// unknown fields are ignored. (The runner's own `Manifest` is the whole
/// file, for `--resume`.)
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunDescription {
    #[serde(flatten)]
    pub run: RunInfo,
    pub experiments: Vec<ExperimentDescription>,
    /// `runner merge`: the inputs the run was merged from, each with the
    /// machine and the cells it measured (see [`RunDescription::cell_origins`]).
    pub merged_from: Vec<MergeInput>,
    /// Anything else the runner records (e.g. Postgres image and settings).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl RunDescription {
    /// Where each cell was measured, for a merged run that recorded it:
    /// `experiment/cell_id` → the indices into [`RunDescription::merged_from`] of
    /// the inputs holding its records (more than one when its repetitions
    /// came from several). Empty for any other run.
    pub fn cell_origins(&self) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, input) in self.merged_from.iter().enumerate() {
            for cell in &input.cells {
                let v = out.entry(cell.clone()).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        out
    }
}

/// One experiment (spec file) of the run, with its `[[verdict]]` rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "ExperimentRepr")]
pub struct ExperimentDescription {
    pub file: Option<String>,
    pub name: String,
    pub claim: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The spec's rules, in its order, each read once here: a malformed
    /// one is kept as such, so the report says why instead of failing.
    pub rules: Vec<std::result::Result<Rule, MalformedRule>>,
    pub cells: Vec<serde_json::Value>,
    /// A remedy experiment: the experiment it remedies, and the cause.
    pub remedies: Option<Remedy>,
    /// The most repetitions the adaptive budget may give one of its cells
    /// (the spec's `max_repetitions`, at least its `repetitions`), when
    /// the manifest has its spec.
    pub max_repetitions: Option<u32>,
}

/// A rule of the manifest that does not read as a [`Rule`].
#[derive(Debug, Clone, PartialEq)]
pub struct MalformedRule {
    /// Its `text`, or `(rule without text)`.
    pub text: String,
    /// The rule as written (JSON).
    pub written: String,
    /// Why it does not read.
    pub why: String,
}

/// An experiment as `manifest.json` writes it: the rules in `spec.verdict`
/// (the one copy since the runner stopped writing two), or, in a manifest
/// from before or one without its spec, in `verdict`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ExperimentRepr {
    file: Option<String>,
    name: String,
    claim: Option<String>,
    title: Option<String>,
    description: Option<String>,
    verdict: Vec<serde_json::Value>,
    spec: Option<SpecRules>,
    cells: Vec<serde_json::Value>,
}

/// The part of a spec the report reads: its rules, the remedy link and the
/// repetitions the adaptive budget may give.
#[derive(Deserialize)]
struct SpecRules {
    verdict: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    remedies: Option<Remedy>,
    #[serde(default)]
    repetitions: Option<u32>,
    #[serde(default)]
    max_repetitions: Option<u32>,
}

impl From<ExperimentRepr> for ExperimentDescription {
    fn from(r: ExperimentRepr) -> Self {
        let (written, remedies, max_repetitions) = match r.spec {
            Some(s) => (
                s.verdict.unwrap_or(r.verdict),
                s.remedies,
                s.max_repetitions.max(s.repetitions),
            ),
            None => (r.verdict, None, None),
        };
        ExperimentDescription {
            file: r.file,
            name: r.name,
            claim: r.claim,
            title: r.title,
            description: r.description,
            rules: written.into_iter().map(read_rule).collect(),
            cells: r.cells,
            remedies,
            max_repetitions,
        }
    }
}

/// A written rule, typed.
fn read_rule(written: serde_json::Value) -> std::result::Result<Rule, MalformedRule> {
    serde_json::from_value::<Rule>(written.clone()).map_err(|e| MalformedRule {
        text: written
            .get("text")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("(rule without text)")
            .to_string(),
        written: written.to_string(),
        why: e.to_string(),
    })
}

/// Everything read from a run directory.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub run_id: String,
    /// From `manifest.json` (empty without one).
    pub manifest: RunDescription,
    pub rows: Vec<Row>,
    pub spectrum: Vec<SpectrumPoint>,
}

/// Reads `dir/results.parquet`, `dir/latency.parquet` (optional) and
/// `dir/manifest.json` (optional).
/// Runs a Parquet read, turning a panic inside the reader into an error
/// that names the file: a corrupt file is bad input, and bad input gets an
/// error, never a crash.
fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("the reader panicked")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        Err(ReportError::Corrupt {
            path: path.to_path_buf(),
            why,
        })
    })
}

pub fn load_run(dir: &Path) -> Result<Run> {
    let manifest_path = dir.join("manifest.json");
    let manifest: RunDescription = if manifest_path.exists() {
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| ReportError::io(&manifest_path, e))?;
        serde_json::from_str(&text).map_err(|source| ReportError::Json {
            path: manifest_path.clone(),
            source,
        })?
    } else {
        RunDescription::default()
    };
    let results = dir.join("results.parquet");
    if !results.exists() {
        return Err(ReportError::io(
            &results,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let rows = guarded(&results, || read_results(&results))?;
    let latency = dir.join("latency.parquet");
    let spectrum = if latency.exists() {
        guarded(&latency, || read_spectrum(&latency))?
    } else {
        Vec::new()
    };
    let run_id = Some(manifest.run.run_id.clone())
        .filter(|id| !id.is_empty())
        .or_else(|| {
            rows.iter()
                .find_map(|r| r.str(cols::run_id).map(str::to_string))
        })
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    Ok(Run {
        dir: dir.to_path_buf(),
        run_id,
        manifest,
        rows,
        spectrum,
    })
}

fn scan(path: &Path) -> Result<LazyFrame> {
    let perr = |source| ReportError::Polars {
        path: path.to_path_buf(),
        source,
    };
    LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        // A run directory's name is a path, never a glob pattern.
        ScanArgsParquet {
            glob: false,
            ..ScanArgsParquet::default()
        },
    )
    .map_err(perr)
}

#[derive(Clone, Copy)]
enum Kind {
    Num,
    Str,
    Bool,
}

/// Reads `results.parquet` into normalised rows (the `histogram` column is
/// skipped: the report does not need it).
pub fn read_results(path: &Path) -> Result<Vec<Row>> {
    let perr = |source| ReportError::Polars {
        path: path.to_path_buf(),
        source,
    };
    check_version(path)?;
    let mut lf = scan(path)?;
    let schema = lf.collect_schema().map_err(perr)?;
    let mut exprs = Vec::new();
    let mut columns = Vec::new();
    for (name, dtype) in schema.iter() {
        if name.as_str() == cols::histogram {
            continue;
        }
        let kind = if dtype.is_bool() {
            Kind::Bool
        } else if dtype.is_primitive_numeric() {
            Kind::Num
        } else {
            Kind::Str
        };
        exprs.push(match kind {
            Kind::Num => col(name.clone()).cast(DataType::Float64),
            Kind::Str => col(name.clone()).cast(DataType::String),
            Kind::Bool => col(name.clone()),
        });
        columns.push((name.to_string(), kind));
    }
    let df = lf.select(exprs).collect().map_err(perr)?;
    let mut rows = vec![Row::default(); df.height()];
    for (name, kind) in &columns {
        let column = df.column(name).map_err(perr)?;
        match kind {
            Kind::Num => {
                for (row, v) in rows.iter_mut().zip(column.f64().map_err(perr)?.iter()) {
                    row.values
                        .insert(name.clone(), v.map(Value::Num).unwrap_or(Value::Null));
                }
            }
            Kind::Str => {
                for (row, v) in rows.iter_mut().zip(column.str().map_err(perr)?.iter()) {
                    row.values.insert(
                        name.clone(),
                        v.map(|s| Value::Str(s.to_string())).unwrap_or(Value::Null),
                    );
                }
            }
            Kind::Bool => {
                for (row, v) in rows.iter_mut().zip(column.bool().map_err(perr)?.iter()) {
                    row.values
                        .insert(name.clone(), v.map(Value::Bool).unwrap_or(Value::Null));
                }
            }
        }
    }
    for required in [cols::experiment, cols::cell] {
        if !columns.iter().any(|(n, _)| n == required) {
            return Err(ReportError::MissingColumn {
                path: path.to_path_buf(),
                column: required.into(),
            });
        }
    }
    for row in &mut rows {
        row.add_derived();
    }
    Ok(rows)
}

/// Refuses a `results.parquet` written with a newer major schema version
/// than this build's (`threadloop_vocab::schema`). A file without the key
/// predates versioning (1.0) and reads as before.
fn check_version(path: &Path) -> Result<()> {
    use threadloop_vocab::schema::{readable, VERSION_KEY};
    let perr = |source| ReportError::Polars {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| ReportError::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader.get_metadata().map_err(perr)?;
    let found = metadata
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == VERSION_KEY)
        .and_then(|kv| kv.value.clone());
    match found {
        Some(v) => readable(&v).map_err(|why| ReportError::Schema {
            path: path.to_path_buf(),
            why,
        }),
        None => Ok(()),
    }
}

/// Reads `latency.parquet` (percentile spectrum per cell × repetition).
pub fn read_spectrum(path: &Path) -> Result<Vec<SpectrumPoint>> {
    let perr = |source| ReportError::Polars {
        path: path.to_path_buf(),
        source,
    };
    let df = scan(path)?
        .select([
            col(spectrum_cols::experiment).cast(DataType::String),
            col(spectrum_cols::cell).cast(DataType::String),
            col(spectrum_cols::repetition).cast(DataType::Int64),
            col(spectrum_cols::model).cast(DataType::String),
            col(spectrum_cols::percentile).cast(DataType::Float64),
            col(spectrum_cols::latency_ms).cast(DataType::Float64),
        ])
        .filter(col(spectrum_cols::latency_ms).is_not_null())
        .collect()
        .map_err(perr)?;
    let c = |n: &str| df.column(n).map_err(perr);
    let experiment = c(spectrum_cols::experiment)?.str().map_err(perr)?;
    let cell = c(spectrum_cols::cell)?.str().map_err(perr)?;
    let repetition = c(spectrum_cols::repetition)?.i64().map_err(perr)?;
    let model = c(spectrum_cols::model)?.str().map_err(perr)?;
    let percentile = c(spectrum_cols::percentile)?.f64().map_err(perr)?;
    let latency = c(spectrum_cols::latency_ms)?.f64().map_err(perr)?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (Some(p), Some(l)) = (percentile.get(i), latency.get(i)) else {
            continue;
        };
        out.push(SpectrumPoint {
            experiment: experiment.get(i).unwrap_or_default().to_string(),
            cell: cell.get(i).unwrap_or_default().to_string(),
            repetition: repetition.get(i).unwrap_or_default(),
            model: model.get(i).unwrap_or_default().to_string(),
            percentile: p,
            latency_ms: l,
        });
    }
    Ok(out)
}

/// The newest run directory (by modification time, then name) under `root`
/// that holds a `results.parquet`.
pub fn newest_run(root: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(root).map_err(|e| ReportError::io(root, e))?;
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.join("results.parquet").is_file() {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let better = match &best {
            None => true,
            Some((t, p)) => (modified, &path) > (*t, p),
        };
        if better {
            best = Some((modified, path));
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| ReportError::NoRun(root.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merged_from_reads_old_and_new_entries() {
        let m: RunDescription = serde_json::from_value(json!({
            "merged_from": [
                "shards/old",
                {"dir": "shards/1", "shard": {"index": 1, "count": 2},
                 "cpu_model": "CPU A", "cores": 4, "cells": ["e/a", "e/b"]},
                {"dir": "shards/2", "shard": {"index": 2, "count": 2},
                 "cpu_model": "CPU B", "hostname": "h2", "cells": ["e/b", "e/c"]},
                42
            ]
        }))
        .unwrap();
        assert_eq!(m.merged_from.len(), 4);
        assert_eq!(m.merged_from[0].dir, "shards/old");
        assert!(m.merged_from[0].cells.is_empty());
        assert_eq!(m.merged_from[1].label(), "shard 1/2 (CPU A)");
        assert_eq!(m.merged_from[2].label(), "shard 2/2 (CPU B, h2)");
        assert_eq!(m.merged_from[0].label(), "shards/old");
        let o = m.cell_origins();
        assert_eq!(o["e/a"], vec![1]);
        assert_eq!(o["e/b"], vec![1, 2]);
        assert_eq!(o["e/c"], vec![2]);
        // A manifest without it (every unmerged run): no origins.
        let m: RunDescription = serde_json::from_value(json!({"run_id": "r"})).unwrap();
        assert!(m.merged_from.is_empty() && m.cell_origins().is_empty());
    }

    fn rule(text: &str, threshold: f64) -> serde_json::Value {
        json!({"text": text, "metric": "throughput_rps", "filter": {"model": "tokio"},
               "baseline": {"model": "threads"}, "compare": ">=", "threshold": threshold})
    }

    /// A rule is read from the spec, where the runner writes it once; a
    /// manifest from before (rules also, or only, beside the spec) reads the
    /// same rules; a malformed one is kept, with why.
    #[test]
    fn rules_read_typed_from_the_spec_or_an_older_manifest() {
        let new: RunDescription = serde_json::from_value(json!({"experiments": [
            {"name": "e", "spec": {"name": "e", "verdict": [rule("a", 2.0)]}, "cells": []}
        ]}))
        .unwrap();
        let old: RunDescription = serde_json::from_value(json!({"experiments": [
            {"name": "e", "verdict": [rule("a", 2.0)], "cells": []}
        ]}))
        .unwrap();
        let both: RunDescription = serde_json::from_value(json!({"experiments": [
            {"name": "e", "verdict": [rule("a", 2.0)],
             "spec": {"name": "e", "verdict": [rule("a", 2.0)]}, "cells": []}
        ]}))
        .unwrap();
        for m in [&new, &old, &both] {
            let rules = &m.experiments[0].rules;
            assert_eq!(rules.len(), 1);
            let r = rules[0].as_ref().unwrap();
            assert_eq!(
                r.formal(),
                "throughput_rps[model=tokio] / throughput_rps[model=threads] >= 2"
            );
        }
        let bad: RunDescription = serde_json::from_value(json!({"experiments": [
            {"name": "e", "spec": {"verdict": [{"text": "x", "metric": "m"}, rule("b", 3.0)]}}
        ]}))
        .unwrap();
        let rules = &bad.experiments[0].rules;
        let malformed = rules[0].as_ref().unwrap_err();
        assert_eq!(malformed.text, "x");
        assert!(malformed.why.contains("missing field"), "{}", malformed.why);
        assert_eq!(rules[1].as_ref().unwrap().threshold, 3.0);
    }

    /// The CI gate's baseline, written before the rules were stored once,
    /// reads every rule it holds.
    #[test]
    fn the_smoke_baseline_manifest_reads_its_rules() {
        let text = include_str!("../../data/baselines/smoke/manifest.json");
        let m: RunDescription = serde_json::from_str(text).unwrap();
        let raw: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(!m.experiments.is_empty());
        for (e, written) in m
            .experiments
            .iter()
            .zip(raw["experiments"].as_array().unwrap())
        {
            let n = written["verdict"].as_array().map_or(0, Vec::len);
            assert_eq!(e.rules.len(), n, "{}", e.name);
            assert!(e.rules.iter().all(|r| r.is_ok()), "{}", e.name);
        }
        assert!(m.experiments.iter().any(|e| !e.rules.is_empty()));
    }
}
