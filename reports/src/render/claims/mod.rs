//! Sections a claim adds to its experiments' part of the report, one file
//! per claim. The generic renderer looks a claim up in [`SECTIONS`] rather
//! than branching on its id, so a claim's own table touches this list and
//! its file, nothing else.

pub mod h10;

use crate::stats::MeasuredCell;
use serde::Serialize;

/// One row of a claim's comparison table: an aspect, what two designs do
/// about it (from the essay), and what this run measured.
#[derive(Debug, Serialize)]
pub struct ComparisonRow {
    pub aspect: &'static str,
    pub stackless: &'static str,
    pub stackful: &'static str,
    pub measured: String,
}

/// A claim's comparison table, built from its experiment's cells.
type Section = fn(&[&MeasuredCell]) -> Vec<ComparisonRow>;

/// Claims with a section of their own.
const SECTIONS: &[(&str, Section)] = &[("H10", h10::comparison)];

/// The comparison rows `claim` adds (none for a claim without a section).
pub fn comparison(claim: Option<&str>, cells: &[&MeasuredCell]) -> Vec<ComparisonRow> {
    SECTIONS
        .iter()
        .find(|(id, _)| Some(*id) == claim)
        .map_or_else(Vec::new, |(_, section)| section(cells))
}
