//! Draws a [`Headline`] as SVG, by hand rather than through plotters:
//! categorical x with multi-line labels, centred text, and a `<title>` per
//! check (the full cell ids and interval on hover, no script). The elements
//! carry classes (`threshold`, `errorbar`, `point`, `no-interval`) so tests
//! can find them.

use super::labels::{compare_sign, fmt_value, wrap};
use super::{chart_width, CheckState, Headline, CHAR_W, CLEAR_HEX, LEFT, PLOT_H, RIGHT};
use crate::render::charts::axis::{fmt_tick, Scale};
use crate::verdict::Compare;
use std::fmt::Write as _;

/// XML text escaping.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Log when every value, bound and the threshold is positive and they
/// span 20× or more.
pub fn headline_scale(h: &Headline) -> Scale {
    let mut vs: Vec<f64> = Vec::new();
    for p in &h.points {
        vs.push(p.value);
        if let Some((lo, hi)) = p.ci {
            vs.extend([lo, hi]);
        }
    }
    vs.extend(h.threshold.map(|t| t.1));
    vs.retain(|v| v.is_finite());
    let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo > 0.0 && hi / lo >= 20.0 {
        Scale::Log10
    } else {
        Scale::Linear
    }
}

/// Draws the headline chart as an SVG string.
pub fn render_headline(h: &Headline) -> String {
    let n = h.points.len().max(1);
    let width = chart_width(n) as f64;
    let title_lines = wrap(
        &h.title
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>(),
        ((width - 24.0) / 7.4) as usize,
        3,
    );
    let label_lines = h.points.iter().map(|p| p.label.len()).max().unwrap_or(1);
    let top_title = 20.0;
    let legend_y = top_title + 18.0 * title_lines.len() as f64 - 2.0;
    let plot_top = legend_y + 16.0;
    let plot_bottom = plot_top + PLOT_H;
    let height = plot_bottom + 10.0 + 13.0 * label_lines as f64 + 8.0;
    let (plot_left, plot_right) = (LEFT, width - RIGHT);
    let slot = (plot_right - plot_left) / n as f64;
    let x_of = |i: usize| plot_left + slot * (i as f64 + 0.5);

    // The y axis: every value, bound and the threshold in view, with room
    // above and below for the labels.
    let scale = headline_scale(h);
    let mut ts: Vec<f64> = Vec::new();
    for p in &h.points {
        ts.extend(scale.forward(p.value));
        if let Some((lo, hi)) = p.ci {
            ts.extend(scale.forward(lo));
            ts.extend(scale.forward(hi));
        }
    }
    if let Some((_, t)) = h.threshold {
        ts.extend(scale.forward(t));
    }
    let lo = ts.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if ts.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        let pad = (hi - lo) * 0.10;
        (lo - pad, hi + pad)
    } else {
        // One value: a band of ±10% (or ±1 around zero).
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - d, hi + d)
    };
    let (t0, t1, ticks) = scale.axis(lo, hi, false);
    let y_of = |t: f64| plot_bottom - (t - t0) / (t1 - t0) * PLOT_H;

    let x_suffix = if h.ratio { "×" } else { "" };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" class="headline">"#,
        w = width,
        h = height.round()
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{}" fill="#ffffff"/>"##,
        height.round()
    );
    // Title: the rule's sentence.
    for (i, line) in title_lines.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="12" y="{}" font-size="14" fill="#1b1b1b">{}</text>"##,
            top_title + 18.0 * i as f64,
            esc(line)
        );
    }
    // Legend: the states present, in the verdict colours.
    let mut lx = 12.0;
    for state in [CheckState::Clear, CheckState::Wrong, CheckState::Undecided] {
        if !h.points.iter().any(|p| p.state == state) {
            continue;
        }
        let _ = write!(s, "{}", marker(lx + 5.0, legend_y - 4.0, state, 4.0));
        let text = state.legend();
        let _ = write!(
            s,
            r##"<text x="{}" y="{legend_y}" font-size="11" fill="#5b5b5b">{}</text>"##,
            lx + 13.0,
            esc(text)
        );
        lx += 13.0 + CHAR_W * text.chars().count() as f64 + 16.0;
    }
    // The threshold's entry (in the legend, where no point can hide it).
    if let Some((cmp, t)) = h.threshold {
        let _ = write!(
            s,
            r##"<line x1="{lx}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{}" y="{legend_y}" font-size="11" fill="#5b5b5b">threshold {} {}{x_suffix}</text>"##,
            lx + 22.0,
            lx + 27.0,
            compare_sign(cmp),
            esc(&fmt_tick(t)),
            y = legend_y - 4.0
        );
    }
    // The side of the threshold where the rule holds, tinted.
    if let Some((cmp, t)) = h.threshold {
        if let Some(ty) = scale.forward(t).map(y_of) {
            let ty = ty.clamp(plot_top, plot_bottom);
            let (y0, y1) = match cmp {
                Compare::Ge | Compare::Gt => (plot_top, ty),
                Compare::Le | Compare::Lt => (ty, plot_bottom),
            };
            let _ = write!(
                s,
                r##"<rect class="holds" x="{plot_left}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{CLEAR_HEX}" fill-opacity="0.07"/>"##,
                plot_right - plot_left,
                y1 - y0
            );
        }
    }
    // Grid and y ticks.
    for &t in &ticks {
        let y = y_of(t);
        let _ = write!(
            s,
            r##"<line x1="{plot_left}" y1="{y:.1}" x2="{plot_right}" y2="{y:.1}" stroke="#e3e3e3" stroke-width="1"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#1b1b1b">{}{x_suffix}</text>"##,
            plot_left - 5.0,
            y + 4.0,
            esc(&scale_label(scale, t))
        );
    }
    let y_desc = if scale == Scale::Log10 {
        format!("{}, log", h.y_label)
    } else {
        h.y_label.clone()
    };
    let mid = (plot_top + plot_bottom) / 2.0;
    let _ = write!(
        s,
        r##"<text x="14" y="{mid:.1}" font-size="12" text-anchor="middle" fill="#1b1b1b" transform="rotate(-90 14 {mid:.1})">{}</text>"##,
        esc(&y_desc)
    );
    // Axes.
    let _ = write!(
        s,
        r##"<line x1="{plot_left}" y1="{plot_top:.1}" x2="{plot_left}" y2="{plot_bottom:.1}" stroke="#888888" stroke-width="1"/><line x1="{plot_left}" y1="{plot_bottom:.1}" x2="{plot_right}" y2="{plot_bottom:.1}" stroke="#888888" stroke-width="1"/>"##
    );
    // The threshold.
    if let Some((cmp, t)) = h.threshold {
        if let Some(ty) = scale.forward(t).map(y_of) {
            let _ = write!(
                s,
                r##"<line class="threshold" x1="{plot_left}" y1="{ty:.1}" x2="{plot_right}" y2="{ty:.1}" stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4"><title>threshold {} {}{x_suffix}</title></line>"##,
                compare_sign(cmp),
                esc(&fmt_tick(t))
            );
        }
    }
    // The checks.
    for (i, p) in h.points.iter().enumerate() {
        let x = x_of(i);
        let _ = write!(
            s,
            r#"<g class="check {}"><title>{}</title>"#,
            p.state.slug(),
            esc(&p.tooltip)
        );
        for (k, line) in p.label.iter().enumerate() {
            let _ = write!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#1b1b1b">{}</text>"##,
                plot_bottom + 16.0 + 13.0 * k as f64,
                esc(line)
            );
        }
        let Some(py) = scale.forward(p.value).map(y_of) else {
            s.push_str("</g>");
            continue;
        };
        let color = p.state.hex();
        match p
            .ci
            .and_then(|(lo, hi)| Some((y_of(scale.forward(lo)?), y_of(scale.forward(hi)?))))
        {
            Some((ylo, yhi)) => {
                let _ = write!(
                    s,
                    r#"<g class="errorbar" stroke="{color}" stroke-width="2"><line x1="{x:.1}" y1="{ylo:.1}" x2="{x:.1}" y2="{yhi:.1}"/><line x1="{:.1}" y1="{ylo:.1}" x2="{:.1}" y2="{ylo:.1}"/><line x1="{:.1}" y1="{yhi:.1}" x2="{:.1}" y2="{yhi:.1}"/></g>"#,
                    x - 6.0,
                    x + 6.0,
                    x - 6.0,
                    x + 6.0
                );
            }
            None => {
                // No bar: say why, above the point (below it when the
                // point is near the top).
                let (y1, y2) = if py - plot_top > 34.0 {
                    (py - 22.0, py - 10.0)
                } else {
                    (py + 18.0, py + 30.0)
                };
                let _ = write!(
                    s,
                    r##"<text class="no-interval" x="{x:.1}" font-size="10" text-anchor="middle" fill="#5b5b5b" {HALO}><tspan x="{x:.1}" y="{y1:.1}">no interval</tspan><tspan x="{x:.1}" y="{y2:.1}">({})</tspan></text>"##,
                    esc(&p.n.to_string())
                );
            }
        }
        let _ = write!(
            s,
            "{}",
            marker(x, py, p.state, 5.0).replacen("<circle", "<circle class=\"point\"", 1)
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#1b1b1b" {HALO}>{}</text>"##,
            x + 9.0,
            py + 4.0,
            esc(&fmt_value(p.value, h.ratio))
        );
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A white outline under text drawn over lines, so a value stays legible
/// on the threshold or a grid line.
const HALO: &str =
    r##"stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke""##;

/// A tick label of a scale (`2`, `0.95`, `1000`).
fn scale_label(scale: Scale, t: f64) -> String {
    match scale {
        Scale::Log10 => fmt_tick(10f64.powf(t)),
        _ => fmt_tick(t),
    }
}

/// A check's point: filled for a decided state, a ring for undecided.
fn marker(x: f64, y: f64, state: CheckState, r: f64) -> String {
    let c = state.hex();
    match state {
        CheckState::Undecided => format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="#ffffff" stroke="{c}" stroke-width="2.5"/>"##
        ),
        _ => format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{c}" stroke="#ffffff" stroke-width="1"/>"##
        ),
    }
}
