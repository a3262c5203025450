//! Plotting primitives: a [`ChartSpec`] (series, axes, legend styles) drawn
//! into an SVG string by [`render`] through plotters' SVG backend (no fonts
//! needed). The legend sits right of the plot so it never hides data.

use super::axis::{Scale, TickAxis};
use crate::error::{ReportError, Result};
use plotters::prelude::*;

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (760, 400);
const LEGEND_W: u32 = 210;

/// Point marker of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    None,
    Circle,
    Triangle,
    Cross,
    Ring,
}

pub(crate) const MARKERS: [Marker; 4] = [
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::charts::palette::model_color;

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
