//! Errors of the report pipeline.

use std::path::PathBuf;

/// Everything that can go wrong while reading a run or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Polars {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("parsing {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The Parquet reader gave up with a panic (found by the fuzzer: a
    /// flipped bit in a page trips an assertion inside polars).
    #[error("reading {path}: the file is corrupt ({why})")]
    Corrupt { path: PathBuf, why: String },
    /// Written with a results schema this build cannot read.
    #[error("{path}: {why}")]
    Schema { path: PathBuf, why: String },
    #[error("{path}: column `{column}` is missing")]
    MissingColumn { path: PathBuf, column: String },
    #[error("no run directory (with results.parquet) under {0}")]
    NoRun(PathBuf),
    #[error("rendering template: {0:?}")]
    Template(#[from] tera::Error),
    #[error("drawing chart: {0}")]
    Chart(String),
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;
