//! Context switches per request against the concurrency (C10K).

use super::plot::ChartSpec;
use super::series::against_concurrency;
use crate::stats::MeasuredCell;

/// The chart's id within its experiment.
pub(super) const ID: &str = "ctx";

/// `None` with fewer than two concurrencies.
pub(super) fn spec(cells: &[&MeasuredCell]) -> Option<ChartSpec> {
    against_concurrency(
        cells,
        "ctx_per_request",
        1.0,
        "Context switches per request vs concurrency",
        "context switches per request",
    )
}
