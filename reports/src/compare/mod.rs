//! `report compare BASE NEW [--fail-on-regression PCT]`: the regression
//! gate CI runs between the committed smoke baseline and a fresh smoke run.
//!
//! The baseline is recorded on one machine and CI runs on another, so the
//! gate never compares absolute throughput or latency: it gates ratios
//! between cells of the *same* run (see [`gate`]), which a uniformly
//! faster or slower machine leaves unchanged:
//!
//! - **throughput**: a cell's fidelity (throughput / its theory bound)
//!   relative to the other models at the same load point;
//! - **p50**: its p50 latency relative to the same cells.
//!
//! A ratio fails the gate when it moves the bad way by more than PCT
//! percent and is *gated*: BASE shows the cell at its theory (fidelity
//! within PCT of 1; for p50 also p50 within PCT above the service time;
//! enough requests per window), another such cell shares its load point,
//! and its repetition rounds (in a run with ≥ 2 of them, normally the
//! baseline) show that unchanged code stays well inside PCT (see
//! [`gate::Noise`]). Other ratios are reported with the reason and never
//! fail. p99, fidelity and absolute throughput are printed for reading,
//! never gated.
//!
//! A cell ok in BASE that fails in NEW fails any gate. A cell skipped in
//! NEW (thread limits), or present in only one run, is listed and never
//! fails. Without `--fail-on-regression` nothing fails.
//!
//! [`gate`] holds the analysis, [`render`] the Markdown and HTML.

pub mod gate;
pub mod render;

pub use gate::{
    compare, load_point, sd_floor_pct, sd_upper_factor, structural, Check, CompareRow, Comparison,
    Info, Noise, NotGated, Quantity, Ratio, Recheck, Repetitions, Side, Thresholds, DEFAULT_PCT,
    MODEL_FACTORS, Z,
};
pub use render::write_comparison;
