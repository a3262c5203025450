//! Latency p99 (solid) and p50 (dashed) against the load.

use super::axis::Scale;
use super::plot::ChartSpec;
use super::series::{groups, metric_series, LoadAxis};
use threadloop_vocab::schema::cols;

/// The chart's id within its experiment.
pub(super) const ID: &str = "latency";

/// `None` with fewer than two load points.
pub(super) fn spec(load: &LoadAxis) -> Option<ChartSpec> {
    if load.values.len() < 2 {
        return None;
    }
    let x = load.x;
    let mut series = Vec::new();
    for g in &groups(&load.cells, x, &[]) {
        series.push(metric_series(
            g,
            x,
            cols::latency_p99_ms,
            1.0,
            format!("{} p99", g.label),
            false,
            true,
        ));
        series.push(metric_series(
            g,
            x,
            cols::latency_p50_ms,
            1.0,
            format!("{} p50", g.label),
            true,
            false,
        ));
    }
    Some(ChartSpec {
        title: format!("Latency p99 (solid) and p50 (dashed) vs {}", load.name),
        x_label: load.label.into(),
        y_label: "latency (ms, log)".into(),
        x_scale: load.scale,
        y_scale: Scale::Log10,
        series,
        styles: vec![(false, "p99".into()), (true, "p50".into())],
    })
}
