//! The HDR latency spectrum (latency by percentile) of each model's
//! highest-load cell, the pointwise median over its repetitions.

use super::axis::Scale;
use super::palette::model_color;
use super::plot::{ChartSpec, Marker, Series};
use crate::load::{fmt_compact, SpectrumPoint};
use crate::stats::{in_model_order, median_spectrum, MeasuredCell};
use threadloop_vocab::schema::cols;

/// The chart's id within its experiment.
pub(super) const ID: &str = "spectrum";

/// `None` when no model's highest-load cell has a spectrum. `x` is the
/// load factor that says which cell is a model's highest.
pub(super) fn spec(
    spectrum: &[SpectrumPoint],
    cells: &[&MeasuredCell],
    x: &str,
) -> Option<ChartSpec> {
    let mut series = Vec::new();
    for m in in_model_order(cells.iter().map(|c| c.model.as_str())) {
        let Some(top) = cells.iter().filter(|c| c.model == m).max_by(|a, b| {
            a.factor_num(x)
                .unwrap_or(0.0)
                .total_cmp(&b.factor_num(x).unwrap_or(0.0))
        }) else {
            continue;
        };
        let points = median_spectrum(
            spectrum
                .iter()
                .filter(|p| p.experiment == top.experiment && p.cell == top.cell),
        );
        if points.is_empty() {
            continue;
        }
        let at = top
            .factor_num(x)
            .map(|v| {
                format!(
                    " @ {}={}",
                    if x == cols::rate_rps { "rate" } else { "c" },
                    fmt_compact(v)
                )
            })
            .unwrap_or_default();
        series.push(Series {
            label: format!("{m}{at}"),
            color: model_color(m),
            points,
            band: Vec::new(),
            dashed: false,
            marker: Marker::None,
            key: None,
            variant: String::new(),
        });
    }
    if series.is_empty() {
        return None;
    }
    Some(ChartSpec {
        title: "Latency by percentile (highest-load cell per model)".into(),
        x_label: "percentile".into(),
        y_label: "latency (ms, log)".into(),
        x_scale: Scale::Nines,
        y_scale: Scale::Log10,
        series,
        styles: Vec::new(),
    })
}
