//! `report compare BASE NEW [--fail-on-regression PCT]` compares two runs;
//! `report gate [RUN]` is the regression gate CI runs: the same comparison
//! between the committed smoke baseline and a fresh smoke run, with a rerun
//! of what failed ([`gate`]). Why each rule: docs/gate.md.
//!
//! The baseline is recorded on one machine and CI runs on another, so the
//! gate never compares absolute throughput or latency: it gates ratios
//! between cells of the *same* run, which a uniformly faster or slower
//! machine leaves unchanged:
//!
//! - **throughput**: a cell's fidelity (throughput / its theory bound)
//!   relative to the other models at the same load point
//!   ([`reference`]: the cells of the experiment with the same factors but
//!   the model configuration, [`MODEL_FACTORS`]);
//! - **p50**: its p50 latency relative to the same cells.
//!
//! Both are computed per repetition round (repetition `r` of the cell
//! against repetition `r` of the others), so a round that ran on a busy
//! machine moves the cell and its reference together. A run's value is the
//! median over its rounds; the change is `new / base − 1`.
//!
//! A ratio fails the gate when it moves the bad way by more than PCT
//! percent and is *gated* ([`judge`]): BASE shows the cell at its theory
//! (fidelity within PCT of 1; for p50 also p50 within PCT above the service
//! time; enough requests per window: [`structural`]), another such cell
//! shares its load point, and its repetition rounds (in a run with ≥ 2 of
//! them, normally the baseline) show that unchanged code stays well inside
//! PCT ([`noise`]). Other ratios are reported with the reason and never
//! fail. p99, fidelity and absolute throughput are printed for reading,
//! never gated.
//!
//! A cell ok in BASE that fails in NEW fails any gate. A cell skipped in
//! NEW (thread limits), or present in only one run, is listed and never
//! fails. Without `--fail-on-regression` nothing fails.
//!
//! Stages: [`pairing`] pairs the runs' cells and builds the [`rows`];
//! [`render`] writes the Markdown and HTML.

pub mod gate;
pub mod judge;
pub mod noise;
pub mod pairing;
pub mod reference;
pub mod render;
pub mod rows;

pub use gate::{gate, load_analysis, GateError, GateOutcome, Rerun, Rerunner};
pub use judge::{
    structural, Evidence, NotGated, Quantity, RatioCheck, Side, Thresholds, DEFAULT_PCT,
};
pub use noise::{sd_floor_pct, sd_upper_factor, Noise, Ratio, Z};
pub use pairing::compare;
pub use reference::{load_point, MODEL_FACTORS};
pub use render::write_comparison;
pub use rows::{CompareRow, Comparison, Info, Recheck, Repetitions};
