//! threadloop-reports: turns a run directory (`results.parquet`,
//! `latency.parquet`, `manifest.json`) into a self-contained HTML report, a
//! Markdown verdict table and a JSON summary, and compares two runs.
//!
//! Stages, one module each, imports pointing one way: [`load`] (polars lazy
//! scans) → [`stats`] (median, mean and its t interval ([`interval`]), Tukey
//! flags, CV per cell) → [`verdict`] (the claims' rules) → [`analysis`] (a
//! run's cells, rules and claims: plain data; [`sides`]: per claim, the Rust
//! models beside the essay's stacks) → [`render`] (the outputs behind one
//! trait: HTML with plotters charts, Markdown, JSON).
//! [`compare`] diffs two analyses for the CI gate; [`outlook`] projects what
//! more repetitions would do to an undecided check (the runner's adaptive
//! budget and the report's "left undecided" share it).

pub mod analysis;
pub mod compare;
pub mod error;
pub mod interval;
pub mod load;
pub mod outlook;
pub mod render;
pub mod sides;
pub mod stats;
pub mod verdict;

pub use error::ReportError;
