//! Throughput against the load, each model's theory bound dashed beside it.

use super::axis::Scale;
use super::plot::ChartSpec;
use super::series::{auto_scale, groups, metric_series, LoadAxis};
use threadloop_vocab::schema::cols;

/// The chart's id within its experiment.
pub(super) const ID: &str = "throughput";

/// `None` with fewer than two load points.
pub(super) fn spec(load: &LoadAxis) -> Option<ChartSpec> {
    if load.values.len() < 2 {
        return None;
    }
    let x = load.x;
    let gs = groups(&load.cells, x, &[]);
    let mut series = Vec::new();
    for g in &gs {
        series.push(metric_series(
            g,
            x,
            cols::throughput_rps,
            1.0,
            g.label.clone(),
            false,
            true,
        ));
    }
    for g in &gs {
        let s = metric_series(
            g,
            x,
            cols::theory_throughput_rps,
            1.0,
            format!("{} bound", g.label),
            true,
            false,
        );
        if !s.points.is_empty() {
            series.push(s);
        }
    }
    // A pool at 400 req/s next to event loops at 200,000 req/s: on a
    // linear axis the pool is a line on the floor, so log when the
    // values span decades (bounds included).
    let y_scale = auto_scale(&series);
    Some(ChartSpec {
        title: format!("Throughput vs {} (dashed: theory bound)", load.name),
        x_label: load.label.into(),
        y_label: if y_scale == Scale::Log10 {
            "throughput (req/s, log)"
        } else {
            "throughput (req/s)"
        }
        .into(),
        x_scale: load.scale,
        y_scale,
        series,
        styles: vec![(false, "measured".into()), (true, "theory bound".into())],
    })
}
