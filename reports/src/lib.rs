//! threadloop-reports: turns a run directory (`results.parquet`,
//! `latency.parquet`, `manifest.json`) into a self-contained HTML report, a
//! Markdown verdict table and a JSON summary, and compares two runs.
//!
//! Stages, one module each: [`load`] (polars lazy scans) → [`stats`]
//! (median, mean and its t interval ([`interval`]), Tukey flags, CV per cell) → [`verdict`] (the
//! claims' rules) → [`charts`] (plotters SVG) → [`html`] / [`summary`]
//! (outputs); [`compare`] diffs two runs for the CI gate; [`report`] wires
//! them together for the binary.

pub mod charts;
pub mod compare;
pub mod error;
pub mod fixture;
pub mod h10;
pub mod html;
pub mod interval;
pub mod load;
pub mod report;
pub mod stats;
pub mod summary;
pub mod verdict;

pub use error::ReportError;
