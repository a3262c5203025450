//! Event-loop lag p99 against the CPU ratio (or the CPU work per request
//! when no ratio is recorded).

use super::axis::{scale_for, Scale};
use super::plot::{ChartSpec, Series};
use super::series::{auto_scale, distinct, groups, metric_series};
use crate::stats::MeasuredCell;
use threadloop_vocab::schema::cols;

/// The chart's id within its experiment.
pub(super) const ID: &str = "looplag";

/// `None` unless the CPU ratio (or CPU time) takes two values or more.
pub(super) fn spec(cells: &[&MeasuredCell]) -> Option<ChartSpec> {
    let (lag_x, lag_label) = if distinct(cells, cols::cpu_ratio).len() >= 2 {
        (cols::cpu_ratio, "CPU ratio (CPU time / service time)")
    } else {
        (cols::cpu_ms, "CPU work per request (ms)")
    };
    if distinct(cells, lag_x).len() < 2 {
        return None;
    }
    let lag_cells: Vec<&MeasuredCell> = cells
        .iter()
        .copied()
        .filter(|c| c.factor_num(lag_x).is_some())
        .collect();
    let gs = groups(&lag_cells, lag_x, &[cols::cpu_ms, cols::cpu_ratio]);
    let series: Vec<Series> = gs
        .iter()
        .map(|g| {
            metric_series(
                g,
                lag_x,
                cols::loop_lag_p99_ms,
                1.0,
                g.label.clone(),
                false,
                true,
            )
        })
        .collect();
    let y_scale = auto_scale(&series);
    Some(ChartSpec {
        title: format!(
            "Loop lag p99 vs {}",
            if lag_x == cols::cpu_ratio {
                "CPU ratio"
            } else {
                "CPU per request"
            }
        ),
        x_label: lag_label.into(),
        y_label: if y_scale == Scale::Log10 {
            "loop lag p99 (ms, log)"
        } else {
            "loop lag p99 (ms)"
        }
        .into(),
        x_scale: scale_for(&distinct(&lag_cells, lag_x)),
        y_scale,
        series,
        styles: Vec::new(),
    })
}
