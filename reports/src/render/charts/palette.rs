//! Each model's colour in every chart, legend and swatch of the report.

use plotters::style::RGBColor;
use threadloop_vocab::{Factor, ModelKind};

/// Each model's colour in every chart and legend: the vocabulary declares
/// it beside the model (`ModelKind::colour`, an exhaustive match), so a new
/// model without its own colour does not compile.
pub fn palette(model: ModelKind) -> RGBColor {
    let (r, g, b) = model.colour();
    RGBColor(r, g, b)
}

/// The colour of a name the vocabulary does not know.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::in_model_order;

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
}
