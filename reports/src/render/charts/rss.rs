//! Resident memory per in-flight request against the concurrency (C10K).

use super::plot::ChartSpec;
use super::series::against_concurrency;
use crate::stats::MeasuredCell;

/// The chart's id within its experiment.
pub(super) const ID: &str = "rss";

/// In KiB; `None` with fewer than two concurrencies.
pub(super) fn spec(cells: &[&MeasuredCell]) -> Option<ChartSpec> {
    against_concurrency(
        cells,
        "rss_per_inflight_bytes",
        1.0 / 1024.0,
        "RSS per in-flight request vs concurrency",
        "RSS per in-flight request (KiB)",
    )
}
