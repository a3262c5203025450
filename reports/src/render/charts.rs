//! Charts as inline SVG strings (plotters' SVG backend, no fonts needed).
//!
//! Every chart goes through [`render`]: axes are drawn in a transformed
//! linear space (log10, or "nines" for percentiles) with explicit tick
//! positions, so one coordinate type serves linear, log and percentile
//! axes. Each model keeps one colour (Okabe-Ito, colour-blind safe) across
//! the whole report; the legend sits right of the plot so it never hides
//! data.

use crate::analysis::{Analysis, Experiment};
use crate::error::{ReportError, Result};
use crate::load::fmt_compact;
use crate::render::slug;
use crate::stats::{in_model_order, median, model_rank, varying_factors, MeasuredCell};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use std::collections::BTreeMap;
use threadloop_vocab::schema::cols;
use threadloop_vocab::{Factor, ModelKind};

pub mod headline;

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (760, 400);
const LEGEND_W: u32 = 210;

/// Each model's colour in every chart and legend: the vocabulary declares
/// it beside the model (`ModelKind::colour`, an exhaustive match), so a new
/// model without its own colour does not compile.
pub fn palette(model: ModelKind) -> RGBColor {
    let (r, g, b) = model.colour();
    RGBColor(r, g, b)
}

const OTHER: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// The colour of a model (grey for a name the vocabulary does not know).
pub fn model_color(model: &str) -> RGBColor {
    ModelKind::parse_name(model).map_or(OTHER, palette)
}

/// `#rrggbb` of a model's colour (for HTML swatches).
pub fn model_hex(model: &str) -> String {
    let RGBColor(r, g, b) = model_color(model);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Axis scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    Log10,
    /// Percentile 0..100 on a "nines" axis: x = -log10(1 - p/100).
    Nines,
}

impl Scale {
    fn forward(self, v: f64) -> Option<f64> {
        let t = match self {
            Scale::Linear => v,
            Scale::Log10 if v > 0.0 => v.log10(),
            Scale::Log10 => return None,
            Scale::Nines if (0.0..100.0).contains(&v) => -(1.0 - v / 100.0).log10(),
            Scale::Nines => return None,
        };
        t.is_finite().then_some(t)
    }

    fn label(self, t: f64) -> String {
        match self {
            Scale::Linear => fmt_tick(t),
            Scale::Log10 => fmt_tick(10f64.powf(t)),
            Scale::Nines => {
                let p = 100.0 * (1.0 - 10f64.powf(-t));
                let s = format!("{:.6}", p);
                let s = s.trim_end_matches('0').trim_end_matches('.');
                format!("{s}%")
            }
        }
    }

    /// Axis range (in transformed space) and tick positions.
    fn axis(self, lo: f64, hi: f64, from_zero: bool) -> (f64, f64, Vec<f64>) {
        match self {
            Scale::Linear => {
                let lo = if from_zero { lo.min(0.0) } else { lo };
                let (lo, hi) = if hi > lo {
                    let pad = (hi - lo) * 0.04;
                    (if lo == 0.0 { lo } else { lo - pad }, hi + pad)
                } else {
                    (lo - 1.0, hi + 1.0)
                };
                let step = nice_step((hi - lo) / 6.0);
                let mut ticks = Vec::new();
                let mut t = (lo / step).ceil() * step;
                while t <= hi + step * 1e-9 {
                    ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
                    t += step;
                }
                (lo, hi, ticks)
            }
            Scale::Log10 => {
                let pad = ((hi - lo) * 0.04).max(0.02);
                let (a, b) = (lo - pad, hi + pad);
                let decades = (b.ceil() - a.floor()).round() as i64;
                let mut ticks = Vec::new();
                for k in a.floor() as i64..=b.ceil() as i64 {
                    // Fewer decades, more ticks per decade.
                    let span = b - a;
                    let mults: &[f64] = if span < 1.2 {
                        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
                    } else if decades <= 3 {
                        &[1.0, 2.0, 5.0]
                    } else {
                        &[1.0]
                    };
                    for &m in mults {
                        let t = k as f64 + m.log10();
                        if t >= a && t <= b {
                            ticks.push(t);
                        }
                    }
                }
                (a, b, ticks)
            }
            Scale::Nines => {
                let b = hi.ceil().max(1.0);
                let ticks = (0..=b as i64).map(|k| k as f64).collect();
                (0.0, b, ticks)
            }
        }
    }
}

/// Tick label: four significant digits, no trailing zeros (`0.15`, `20`,
/// `1e6` stays `1000000`).
fn fmt_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let digits = 4 - 1 - v.abs().log10().floor() as i32;
    let f = 10f64.powi(digits.max(0));
    let r = (v * f).round() / f;
    if digits < 0 {
        let g = 10f64.powi(-digits);
        return format!("{}", ((v / g).round() * g) as i64);
    }
    format!("{r}")
}

fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A linear f64 axis with explicit tick positions (the ticks of log and
/// nines axes are computed in transformed space by [`Scale::axis`]).
#[derive(Debug, Clone)]
pub struct TickAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl TickAxis {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        TickAxis { lo, hi, ticks }
    }
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Point marker of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    None,
    Circle,
    Triangle,
    Cross,
    Ring,
}

const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Cross,
    Marker::Ring,
];

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Shaded CI band: `(x, lo, hi)`.
    pub band: Vec<(f64, f64, f64)>,
    pub dashed: bool,
    pub marker: Marker,
    /// The model the series belongs to: with a key on every series the
    /// legend lists each model once (its colour), each variant once (its
    /// marker) and each line style once, instead of every series.
    pub key: Option<String>,
    /// What tells the model's series apart (`workers=2`), marked by
    /// `marker`; empty when nothing does.
    pub variant: String,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct ChartSpec {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub series: Vec<Series>,
    /// Legend entries for the line styles of a compact legend: `(dashed,
    /// meaning)`, e.g. `(true, "theory bound")`.
    pub styles: Vec<(bool, String)>,
}

/// One line of a legend.
struct LegendEntry {
    color: RGBColor,
    /// `None`: no line, only the marker.
    dashed: Option<bool>,
    marker: Marker,
    label: String,
}

const LEGEND_GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// The legend of a chart: compact (one entry per model, per variant and
/// per line style) when every series names its model and the variants
/// have a marker each, else one entry per series.
fn legend(spec: &ChartSpec) -> Vec<LegendEntry> {
    let per_series = || {
        spec.series
            .iter()
            .map(|s| LegendEntry {
                color: s.color,
                dashed: Some(s.dashed),
                marker: s.marker,
                label: s.label.clone(),
            })
            .collect::<Vec<_>>()
    };
    if spec.series.iter().any(|s| s.key.is_none()) {
        return per_series();
    }
    let mut out: Vec<LegendEntry> = Vec::new();
    for s in &spec.series {
        let key = s.key.as_deref().unwrap_or_default();
        if !out.iter().any(|e| e.label == key) {
            out.push(LegendEntry {
                color: s.color,
                dashed: Some(false),
                marker: Marker::None,
                label: key.to_string(),
            });
        }
    }
    let mut variants: Vec<(&str, Marker)> = Vec::new();
    for s in spec.series.iter().filter(|s| !s.dashed) {
        if !variants.iter().any(|(v, _)| *v == s.variant) {
            variants.push((&s.variant, s.marker));
        }
    }
    if variants.len() > 1 {
        // One marker per variant, or the compact legend would be ambiguous.
        if variants.len() > MARKERS.len()
            || variants
                .iter()
                .enumerate()
                .any(|(i, a)| variants[..i].iter().any(|b| b.1 == a.1))
        {
            return per_series();
        }
        // Plain circles (a model's only series) need no entry.
        for (v, m) in variants.into_iter().filter(|(v, _)| !v.is_empty()) {
            out.push(LegendEntry {
                color: LEGEND_GREY,
                dashed: None,
                marker: m,
                label: v.to_string(),
            });
        }
    }
    for (dashed, meaning) in &spec.styles {
        if spec.series.iter().any(|s| s.dashed == *dashed) {
            out.push(LegendEntry {
                color: LEGEND_GREY,
                dashed: Some(*dashed),
                marker: Marker::None,
                label: meaning.clone(),
            });
        }
    }
    if out.len() < spec.series.len() {
        out
    } else {
        per_series()
    }
}

fn chart_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Chart(e.to_string())
}

/// Draws a chart into an SVG string. Points a scale cannot show (e.g.
/// non-positive values on a log axis) are left out.
pub fn render(spec: &ChartSpec) -> Result<String> {
    let tx = |x: f64| spec.x_scale.forward(x);
    let ty = |y: f64| spec.y_scale.forward(y);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &spec.series {
        for &(x, y) in &s.points {
            if let (Some(x), Some(y)) = (tx(x), ty(y)) {
                xs.push(x);
                ys.push(y);
            }
        }
        for &(x, lo, hi) in &s.band {
            if let Some(x) = tx(x) {
                xs.push(x);
                ys.extend(ty(lo));
                ys.extend(ty(hi));
            }
        }
    }
    let range = |v: &[f64]| {
        v.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            })
    };
    let (x0, x1) = if xs.is_empty() {
        (0.0, 1.0)
    } else {
        range(&xs)
    };
    let (y0, y1) = if ys.is_empty() {
        (0.0, 1.0)
    } else {
        range(&ys)
    };
    let (x0, x1, xticks) = spec.x_scale.axis(x0, x1, false);
    let (y0, y1, yticks) = spec.y_scale.axis(y0, y1, true);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_W);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(&spec.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(TickAxis::new(x0, x1, xticks), TickAxis::new(y0, y1, yticks))
            .map_err(chart_err)?;
        let xs = spec.x_scale;
        let ys = spec.y_scale;
        let xfmt = move |v: &f64| xs.label(*v);
        let yfmt = move |v: &f64| ys.label(*v);
        chart
            .configure_mesh()
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .draw()
            .map_err(chart_err)?;

        for s in &spec.series {
            let band: Vec<(f64, f64, f64)> = s
                .band
                .iter()
                .filter_map(|&(x, lo, hi)| Some((tx(x)?, ty(lo)?, ty(hi)?)))
                .collect();
            if band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        s.color.mix(0.15).filled(),
                    )))
                    .map_err(chart_err)?;
            }
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|&(x, y)| Some((tx(x)?, ty(y)?)))
                .collect();
            if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        pts.clone(),
                        6,
                        4,
                        s.color.stroke_width(2),
                    ))
                    .map_err(chart_err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), s.color.stroke_width(2)))
                    .map_err(chart_err)?;
            }
            draw_markers(&mut chart, &pts, s.marker, s.color)?;
        }

        // Legend, right of the plot.
        let font = ("sans-serif", 12).into_font();
        for (i, s) in legend(spec).iter().enumerate() {
            let y = 40 + 20 * i as i32;
            let x = 8;
            if s.dashed == Some(true) {
                for (a, b) in [(0, 6), (10, 16), (20, 26)] {
                    legend_area
                        .draw(&PathElement::new(
                            vec![(x + a, y), (x + b, y)],
                            s.color.stroke_width(2),
                        ))
                        .map_err(chart_err)?;
                }
            } else if s.dashed == Some(false) {
                legend_area
                    .draw(&PathElement::new(
                        vec![(x, y), (x + 26, y)],
                        s.color.stroke_width(2),
                    ))
                    .map_err(chart_err)?;
            }
            draw_marker_px(&legend_area, (x + 13, y), s.marker, s.color)?;
            let label: String = if s.label.chars().count() > 30 {
                s.label.chars().take(29).collect::<String>() + "…"
            } else {
                s.label.clone()
            };
            legend_area
                .draw(&Text::new(label, (x + 32, y - 7), font.clone()))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn draw_markers<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    pts: &[(f64, f64)],
    marker: Marker,
    color: RGBColor,
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = color.filled();
    match marker {
        Marker::None => {}
        Marker::Circle => {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, style)))
                .map_err(chart_err)?;
        }
        Marker::Ring => {
            chart
                .draw_series(
                    pts.iter()
                        .map(|&p| Circle::new(p, 4, color.stroke_width(2))),
                )
                .map_err(chart_err)?;
        }
        Marker::Triangle => {
            chart
                .draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 5, style)))
                .map_err(chart_err)?;
        }
        Marker::Cross => {
            chart
                .draw_series(pts.iter().map(|&p| Cross::new(p, 4, color.stroke_width(2))))
                .map_err(chart_err)?;
        }
    }
    Ok(())
}

fn draw_marker_px(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    p: (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> Result<()> {
    let style = color.filled();
    match marker {
        Marker::None => Ok(()),
        Marker::Circle => area.draw(&Circle::new(p, 3, style)),
        Marker::Ring => area.draw(&Circle::new(p, 4, color.stroke_width(2))),
        Marker::Triangle => area.draw(&TriangleMarker::new(p, 5, style)),
        Marker::Cross => area.draw(&Cross::new(p, 4, color.stroke_width(2))),
    }
    .map_err(chart_err)
}

/// A chart of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChartOut {
    pub id: String,
    pub title: String,
    pub svg: String,
}

/// The x factor of an experiment's load charts.
fn load_axis(cells: &[&MeasuredCell]) -> (&'static str, &'static str) {
    let open = cells
        .iter()
        .all(|c| c.factor(cols::load_mode).as_str() == Some("open"));
    if open {
        (cols::rate_rps, "offered rate (req/s)")
    } else {
        (cols::concurrency, "concurrency (requests in flight)")
    }
}

fn distinct(cells: &[&MeasuredCell], factor: &str) -> Vec<f64> {
    let mut v: Vec<f64> = cells.iter().filter_map(|c| c.factor_num(factor)).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v.dedup();
    v
}

fn spans_decades(values: &[f64]) -> bool {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lo > 0.0 && hi / lo >= 50.0
}

/// Factors with at least two distinct non-null values among `cells`.
fn label_factors(cells: &[&MeasuredCell], skip: &[&str]) -> Vec<&'static str> {
    varying_factors(cells)
        .into_iter()
        .filter(|f| *f != cols::model && !skip.contains(f))
        .collect()
}

/// A series group: cells of one model that differ only in the x factor.
struct Group<'a> {
    label: String,
    model: String,
    /// The label without the model (`workers=2`).
    variant: String,
    marker: Marker,
    cells: Vec<&'a MeasuredCell>,
}

fn groups<'a>(cells: &[&'a MeasuredCell], x: &str, skip: &[&str]) -> Vec<Group<'a>> {
    let mut skip_all = vec![x];
    skip_all.extend_from_slice(skip);
    if skip_all.contains(&cols::cpu_ms) || label_factors(cells, &skip_all).contains(&cols::cpu_ms) {
        skip_all.push(cols::cpu_ratio);
    }
    let mut out: Vec<Group<'a>> = Vec::new();
    for &c in cells {
        // Factors that tell this model's series apart (a factor that only
        // applies to some models, like `threads`, does not).
        let same_model: Vec<&MeasuredCell> = cells
            .iter()
            .copied()
            .filter(|o| o.model == c.model)
            .collect();
        let vary = label_factors(&same_model, &skip_all);
        let variant = vary
            .iter()
            .filter(|f| !c.factor(f).is_null())
            .map(|f| format!("{}={}", f, c.factor(f).display()))
            .collect::<Vec<_>>()
            .join(" ");
        let label = if variant.is_empty() {
            c.model.clone()
        } else {
            format!("{} {variant}", c.model)
        };
        match out.iter_mut().find(|g| g.label == label) {
            Some(g) => g.cells.push(c),
            None => out.push(Group {
                label,
                model: c.model.clone(),
                variant,
                marker: Marker::Circle,
                cells: vec![c],
            }),
        }
    }
    let order = model_rank;
    out.sort_by(|a, b| (order(&a.model), &a.label).cmp(&(order(&b.model), &b.label)));
    // One marker per variant across the chart (`workers=2` is a triangle
    // for every model), so the legend names each variant once.
    // A model with a single series (no variant) keeps the circle.
    let mut variants: Vec<String> = Vec::new();
    if out.iter().any(|g| g.variant.is_empty()) {
        variants.push(String::new());
    }
    for g in &mut out {
        let n = match variants.iter().position(|v| *v == g.variant) {
            Some(n) => n,
            None => {
                variants.push(g.variant.clone());
                variants.len() - 1
            }
        };
        g.marker = MARKERS[n % MARKERS.len()];
        g.cells.sort_by(|a, b| {
            a.factor_num(x)
                .unwrap_or(f64::NAN)
                .total_cmp(&b.factor_num(x).unwrap_or(f64::NAN))
        });
    }
    out
}

/// Median line and CI band of `metric` against factor `x` for one group.
fn metric_series(
    g: &Group,
    x: &str,
    metric: &str,
    scale: f64,
    label: String,
    dashed: bool,
    band: bool,
) -> Series {
    let mut points = Vec::new();
    let mut bands = Vec::new();
    for c in &g.cells {
        let (Some(xv), Some(e)) = (c.factor_num(x), c.estimate(metric)) else {
            continue;
        };
        points.push((xv, e.mean * scale));
        if let (true, Some(lo), Some(hi)) = (band, e.ci_lo, e.ci_hi) {
            bands.push((xv, lo * scale, hi * scale));
        }
    }
    Series {
        label,
        color: model_color(&g.model),
        points,
        band: bands,
        dashed,
        marker: if dashed { Marker::None } else { g.marker },
        key: Some(g.model.clone()),
        variant: g.variant.clone(),
    }
}

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

/// Log10 when `values` span decades (all positive, max / min ≥ 50),
/// linear otherwise (a zero or negative value would vanish on a log axis).
fn scale_for(values: &[f64]) -> Scale {
    if spans_decades(values) {
        Scale::Log10
    } else {
        Scale::Linear
    }
}

/// The y scale for a chart's medians.
fn auto_scale(series: &[Series]) -> Scale {
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    scale_for(&ys)
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
    let (x, x_label) = load_axis(&cells);
    let x_name = if x == cols::rate_rps {
        "offered rate"
    } else {
        cols::concurrency
    };
    let load_cells: Vec<&MeasuredCell> = cells
        .iter()
        .copied()
        .filter(|c| c.factor_num(x).is_some())
        .collect();
    let xs = distinct(&load_cells, x);
    let x_scale = scale_for(&xs);

    if xs.len() >= 2 {
        let gs = groups(&load_cells, x, &[]);
        // Throughput with the theory bound.
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
        out.extend(chart(
            exp,
            "throughput",
            ChartSpec {
                title: format!("Throughput vs {x_name} (dashed: theory bound)"),
                x_label: x_label.into(),
                y_label: if y_scale == Scale::Log10 {
                    "throughput (req/s, log)"
                } else {
                    "throughput (req/s)"
                }
                .into(),
                x_scale,
                y_scale,
                series,
                styles: vec![(false, "measured".into()), (true, "theory bound".into())],
            },
        )?);
        // Latency p50 / p99.
        let mut series = Vec::new();
        for g in &gs {
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
        out.extend(chart(
            exp,
            "latency",
            ChartSpec {
                title: format!("Latency p99 (solid) and p50 (dashed) vs {x_name}"),
                x_label: x_label.into(),
                y_label: "latency (ms, log)".into(),
                x_scale,
                y_scale: Scale::Log10,
                series,
                styles: vec![(false, "p99".into()), (true, "p50".into())],
            },
        )?);
    }

    // HDR spectrum of each model's highest-load cell.
    let mut series = Vec::new();
    for m in in_model_order(cells.iter().map(|c| c.model.as_str())) {
        let Some(top) = cells.iter().filter(|c| c.model == m).max_by(|a, b| {
            a.factor_num(x)
                .unwrap_or(0.0)
                .total_cmp(&b.factor_num(x).unwrap_or(0.0))
        }) else {
            continue;
        };
        let mut by_p: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
        let mut reps: Vec<i64> = Vec::new();
        for p in analysis
            .run
            .spectrum
            .iter()
            .filter(|p| p.experiment == top.experiment && p.cell == top.cell)
        {
            reps.push(p.repetition);
            by_p.entry(p.percentile.to_bits())
                .or_insert((p.percentile, Vec::new()))
                .1
                .push(p.latency_ms);
        }
        reps.sort_unstable();
        reps.dedup();
        // Only percentiles every repetition reached: the pointwise median
        // of monotone curves is monotone, but a tail point only the
        // fastest repetition recorded would make the curve drop at the end.
        let mut points: Vec<(f64, f64)> = by_p
            .values()
            .filter(|(_, v)| v.len() >= reps.len())
            .map(|(p, v)| (*p, median(v)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
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
    if !series.is_empty() {
        out.extend(chart(
            exp,
            "spectrum",
            ChartSpec {
                title: "Latency by percentile (highest-load cell per model)".into(),
                x_label: "percentile".into(),
                y_label: "latency (ms, log)".into(),
                x_scale: Scale::Nines,
                y_scale: Scale::Log10,
                series,
                styles: Vec::new(),
            },
        )?);
    }

    // Loop lag vs CPU ratio (or CPU per request when no ratio is recorded).
    let (lag_x, lag_label) = if distinct(&cells, cols::cpu_ratio).len() >= 2 {
        (cols::cpu_ratio, "CPU ratio (CPU time / service time)")
    } else {
        (cols::cpu_ms, "CPU work per request (ms)")
    };
    if distinct(&cells, lag_x).len() >= 2 {
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
        let lag_x_scale = scale_for(&distinct(&lag_cells, lag_x));
        out.extend(chart(
            exp,
            "looplag",
            ChartSpec {
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
                x_scale: lag_x_scale,
                y_scale,
                series,
                styles: Vec::new(),
            },
        )?);
    }

    // C10K: memory and context switches per request.
    let conc_cells: Vec<&MeasuredCell> = cells
        .iter()
        .copied()
        .filter(|c| c.factor_num(cols::concurrency).is_some())
        .collect();
    let concs = distinct(&conc_cells, cols::concurrency);
    if concs.len() >= 2 {
        let cx = scale_for(&concs);
        let gs = groups(&conc_cells, cols::concurrency, &[]);
        for (kind, metric, scale, title, unit) in [
            (
                "rss",
                "rss_per_inflight_bytes",
                1.0 / 1024.0,
                "RSS per in-flight request vs concurrency",
                "RSS per in-flight request (KiB)",
            ),
            (
                "ctx",
                "ctx_per_request",
                1.0,
                "Context switches per request vs concurrency",
                "context switches per request",
            ),
        ] {
            let series: Vec<Series> = gs
                .iter()
                .map(|g| {
                    metric_series(
                        g,
                        cols::concurrency,
                        metric,
                        scale,
                        g.label.clone(),
                        false,
                        true,
                    )
                })
                .collect();
            let y_scale = auto_scale(&series);
            let y_label = if y_scale == Scale::Log10 {
                format!("{unit}, log")
            } else {
                unit.to_string()
            };
            out.extend(chart(
                exp,
                kind,
                ChartSpec {
                    title: title.into(),
                    x_label: "concurrency (requests in flight)".into(),
                    y_label,
                    x_scale: cx,
                    y_scale,
                    series,
                    styles: Vec::new(),
                },
            )?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_has_its_own_colour_and_place() {
        let all = ModelKind::all();
        let mut colours: Vec<_> = all.iter().map(|m| palette(*m)).collect();
        assert!(!colours.contains(&OTHER));
        colours.sort_by_key(|RGBColor(r, g, b)| (*r, *g, *b));
        colours.dedup();
        assert_eq!(colours.len(), all.len(), "two models share a colour");
        let mut ranks: Vec<_> = all.iter().map(|m| m.display_rank()).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), all.len());
        let names: Vec<&str> = all.iter().map(|m| m.name()).collect();
        assert_eq!(in_model_order(names.iter().copied()).len(), all.len());
        assert_eq!(model_color("no-such-model"), OTHER);
    }

    #[test]
    fn nines_axis_labels() {
        assert_eq!(Scale::Nines.label(0.0), "0%");
        assert_eq!(Scale::Nines.label(1.0), "90%");
        assert_eq!(Scale::Nines.label(3.0), "99.9%");
        assert_eq!(Scale::Nines.forward(100.0), None);
        assert!((Scale::Nines.forward(99.0).unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(fmt_tick(0.15), "0.15");
        assert_eq!(fmt_tick(10f64.powf(20f64.log10())), "20");
        assert_eq!(fmt_tick(1234567.0), "1235000");
        assert_eq!(fmt_tick(0.0), "0");
    }

    #[test]
    fn log_ticks_are_decades() {
        let (lo, hi, ticks) = Scale::Log10.axis(0.0, 4.0, false);
        assert_eq!(ticks, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!(lo < 0.0 && hi > 4.0, "data off the frame");
        assert_eq!(Scale::Log10.label(3.0), "1000");
    }

    #[test]
    fn log_scale_when_values_span_decades() {
        // A pool at 400 req/s beside event loops at 200,000 req/s.
        assert_eq!(scale_for(&[400.0, 2_000.0, 200_000.0]), Scale::Log10);
        assert_eq!(scale_for(&[640.0, 3_200.0]), Scale::Linear);
        // A zero would vanish from a log axis: stay linear.
        assert_eq!(scale_for(&[0.0, 10.0, 10_000.0]), Scale::Linear);
        let series = |ys: &[f64]| Series {
            label: "m".into(),
            color: model_color("tokio"),
            points: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
            band: Vec::new(),
            dashed: false,
            marker: Marker::None,
            key: None,
            variant: String::new(),
        };
        assert_eq!(
            auto_scale(&[series(&[400.0, 400.0]), series(&[2_000.0, 200_000.0])]),
            Scale::Log10
        );
    }

    #[test]
    fn renders_svg_with_labels() {
        let svg = render(&ChartSpec {
            title: "t <x>".into(),
            x_label: "concurrency".into(),
            y_label: "throughput (req/s)".into(),
            x_scale: Scale::Log10,
            y_scale: Scale::Linear,
            series: vec![Series {
                label: "tokio".into(),
                color: model_color("tokio"),
                points: vec![(1.0, 10.0), (10.0, 100.0), (1000.0, 900.0)],
                band: vec![
                    (1.0, 9.0, 11.0),
                    (10.0, 90.0, 110.0),
                    (1000.0, 850.0, 950.0),
                ],
                dashed: false,
                marker: Marker::Circle,
                key: None,
                variant: String::new(),
            }],
            styles: Vec::new(),
        })
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("throughput (req/s)"));
        assert!(svg.contains("t &lt;x&gt;"), "plotters escapes text");
    }

    #[test]
    fn compact_legend_names_each_model_variant_and_style_once() {
        let line = |model: &str, variant: &str, marker: Marker, dashed: bool| Series {
            label: format!("{model} {variant}"),
            color: model_color(model),
            points: vec![(1.0, 1.0), (2.0, 2.0)],
            band: Vec::new(),
            dashed,
            marker: if dashed { Marker::None } else { marker },
            key: Some(model.into()),
            variant: variant.into(),
        };
        let mut series = Vec::new();
        for model in ["tokio", "smol"] {
            for (variant, marker) in [
                ("workers=1", Marker::Circle),
                ("workers=2", Marker::Triangle),
            ] {
                series.push(line(model, variant, marker, false));
                series.push(line(model, variant, marker, true));
            }
        }
        let spec = ChartSpec {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            series,
            styles: vec![(false, "measured".into()), (true, "theory bound".into())],
        };
        let labels: Vec<String> = legend(&spec).into_iter().map(|e| e.label).collect();
        assert_eq!(
            labels,
            [
                "tokio",
                "smol",
                "workers=1",
                "workers=2",
                "measured",
                "theory bound"
            ]
        );
        // A marker shared by two variants would be ambiguous: every series.
        let mut spec = spec;
        for s in &mut spec.series {
            s.marker = Marker::Circle;
        }
        assert_eq!(legend(&spec).len(), 8);
    }
}
