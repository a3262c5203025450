//! Charts as inline SVG strings.
//!
//! The generic charts of an experiment, one file per kind (throughput,
//! latency, spectrum, loop lag, RSS and context switches per request), each
//! a [`ChartSpec`] drawn by the plotting primitives ([`plot`], [`axis`]);
//! [`series`] turns cells into a chart's lines. Each model keeps one colour
//! ([`palette`], Okabe-Ito, colour-blind safe) across the whole report. A
//! rule's headline chart is drawn by hand ([`headline`]).

use crate::analysis::{Analysis, Experiment};
use crate::error::Result;
use crate::render::slug;
use crate::stats::MeasuredCell;
use threadloop_vocab::schema::cols;

mod axis;
mod ctx;
pub mod headline;
mod latency;
mod looplag;
mod palette;
mod plot;
mod rss;
mod series;
mod spectrum;
mod throughput;

pub use axis::{Scale, TickAxis};
pub use palette::{model_color, model_hex, palette};
pub use plot::{render, ChartSpec, Marker, Series, SIZE};

/// A chart of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChartOut {
    pub id: String,
    pub title: String,
    pub svg: String,
}

/// The chart of `spec` with id `<experiment>-<kind>`; `None` when no
/// series has a point.
fn chart(exp: &Experiment, kind: &str, spec: ChartSpec) -> Result<Option<ChartOut>> {
    if spec.series.iter().all(|s| s.points.is_empty()) {
        return Ok(None);
    }
    Ok(Some(ChartOut {
        id: format!("{}-{}", slug(&exp.name), kind),
        title: spec.title.clone(),
        svg: render(&spec)?,
    }))
}

/// The charts of one experiment; empty for a single-cell experiment.
pub fn experiment_charts(analysis: &Analysis, exp: &Experiment) -> Result<Vec<ChartOut>> {
    // Rows of one class of a request mix (`class` other than `all`) are in
    // the tables and rules; the charts plot whole cells.
    let cells: Vec<&MeasuredCell> = analysis
        .experiment_cells(exp)
        .into_iter()
        .filter(|c| c.is_ok())
        .filter(|c| matches!(c.first_row.str(cols::class), None | Some("all")))
        .collect();
    let mut out = Vec::new();
    if cells.len() < 2 {
        return Ok(out);
    }
    let load = series::LoadAxis::of(&cells);
    let kinds = [
        (throughput::ID, throughput::spec(&load)),
        (latency::ID, latency::spec(&load)),
        (
            spectrum::ID,
            spectrum::spec(&analysis.run.spectrum, &cells, load.x),
        ),
        (looplag::ID, looplag::spec(&cells)),
        (rss::ID, rss::spec(&cells)),
        (ctx::ID, ctx::spec(&cells)),
    ];
    for (kind, spec) in kinds {
        if let Some(spec) = spec {
            out.extend(chart(exp, kind, spec)?);
        }
    }
    Ok(out)
}
