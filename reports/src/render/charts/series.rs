//! Series grouping: an experiment's cells become lines of a chart. A
//! group is one model's cells that differ only in the x factor; each
//! group's line is a metric's mean per x value with its CI band.

use super::axis::{scale_for, Scale};
use super::palette::model_color;
use super::plot::{ChartSpec, Marker, Series, MARKERS};
use crate::stats::{model_rank, varying_factors, MeasuredCell};
use threadloop_vocab::schema::cols;

/// The load axis of an experiment's throughput, latency and spectrum
/// charts: the offered rate of an open-loop experiment, else the
/// concurrency.
pub(super) struct LoadAxis<'a> {
    /// The x factor.
    pub x: &'static str,
    /// The axis label (`offered rate (req/s)`).
    pub label: &'static str,
    /// The factor's name in a title (`offered rate`, `concurrency`).
    pub name: &'static str,
    /// The cells with a value of the x factor.
    pub cells: Vec<&'a MeasuredCell>,
    /// The x factor's distinct values among them.
    pub values: Vec<f64>,
    pub scale: Scale,
}

impl<'a> LoadAxis<'a> {
    pub fn of(cells: &[&'a MeasuredCell]) -> Self {
        let (x, label) = load_axis(cells);
        let name = if x == cols::rate_rps {
            "offered rate"
        } else {
            cols::concurrency
        };
        let cells: Vec<&MeasuredCell> = cells
            .iter()
            .copied()
            .filter(|c| c.factor_num(x).is_some())
            .collect();
        let values = distinct(&cells, x);
        let scale = scale_for(&values);
        LoadAxis {
            x,
            label,
            name,
            cells,
            values,
            scale,
        }
    }
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

/// The distinct values of `factor` among `cells`, ascending.
pub(super) fn distinct(cells: &[&MeasuredCell], factor: &str) -> Vec<f64> {
    let mut v: Vec<f64> = cells.iter().filter_map(|c| c.factor_num(factor)).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v.dedup();
    v
}

/// Factors with at least two distinct non-null values among `cells`.
fn label_factors(cells: &[&MeasuredCell], skip: &[&str]) -> Vec<&'static str> {
    varying_factors(cells)
        .into_iter()
        .filter(|f| *f != cols::model && !skip.contains(f))
        .collect()
}

/// A series group: cells of one model that differ only in the x factor.
pub(super) struct Group<'a> {
    /// The model and its variant (`tokio workers=2`).
    pub label: String,
    pub model: String,
    /// The label without the model (`workers=2`).
    pub variant: String,
    pub marker: Marker,
    /// In the order of the x factor.
    pub cells: Vec<&'a MeasuredCell>,
}

/// The series groups of `cells` against factor `x` (factors in `skip`
/// do not tell series apart), in model order, each with its marker.
pub(super) fn groups<'a>(cells: &[&'a MeasuredCell], x: &str, skip: &[&str]) -> Vec<Group<'a>> {
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
pub(super) fn metric_series(
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

/// The y scale for a chart's medians.
pub(super) fn auto_scale(series: &[Series]) -> Scale {
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .collect();
    scale_for(&ys)
}

/// A chart of `metric` (× `scale`, in `unit`) per group against the
/// concurrency, with CI bands: the C10K charts (memory and context switches
/// per request). `None` with fewer than two concurrencies.
pub(super) fn against_concurrency(
    cells: &[&MeasuredCell],
    metric: &str,
    scale: f64,
    title: &str,
    unit: &str,
) -> Option<ChartSpec> {
    let conc_cells: Vec<&MeasuredCell> = cells
        .iter()
        .copied()
        .filter(|c| c.factor_num(cols::concurrency).is_some())
        .collect();
    let concs = distinct(&conc_cells, cols::concurrency);
    if concs.len() < 2 {
        return None;
    }
    let gs = groups(&conc_cells, cols::concurrency, &[]);
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
    Some(ChartSpec {
        title: title.into(),
        x_label: "concurrency (requests in flight)".into(),
        y_label,
        x_scale: scale_for(&concs),
        y_scale,
        series,
        styles: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
