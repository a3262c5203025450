//! A cell's reference: the other cells of its experiment at its load point
//! (the same factors but the model configuration), and the cell's ratio
//! to them in each repetition round.

use super::noise::median_or_none;
use crate::stats::{MeasuredCell, FACTORS};

/// Factors that make up a cell's model configuration. Every other factor
/// in [`FACTORS`] (clients, rate, I/O kind and latency, CPU per request,
/// request class, database query and pool, load mode, window, timeout) is
/// the *load point*: cells of one experiment with the same load point are
/// one another's reference.
pub const MODEL_FACTORS: &[&str] = &threadloop_vocab::factors::MODEL_FACTORS;

/// The load point of a cell: its experiment and every factor outside the
/// model configuration.
pub fn load_point(cell: &MeasuredCell) -> String {
    let mut key = cell.experiment.clone();
    for f in FACTORS.iter().filter(|f| !MODEL_FACTORS.contains(f)) {
        key.push('\u{1f}');
        key.push_str(f);
        key.push('=');
        key.push_str(&cell.factor(f).display());
    }
    key
}

/// `(repetition, value)` pairs of one cell in one run.
pub type Reps = Vec<(i64, f64)>;

/// Per-round ratios of `cell` against the load point's median in the same
/// round: with one other cell, that cell's value; with more, the median of
/// the cell's own value and the others' (so that one cell moving, either
/// way, leaves the others' reference in place while its own ratio takes
/// the whole move). A round that no other cell has uses the others'
/// medians.
pub fn rounds(cell: &[(i64, f64)], others: &[&[(i64, f64)]]) -> Vec<f64> {
    let medians: Vec<f64> = others
        .iter()
        .filter_map(|o| median_or_none(&o.iter().map(|p| p.1).collect::<Vec<_>>()))
        .collect();
    cell.iter()
        .filter_map(|&(rep, x)| {
            let mut same: Vec<f64> = others
                .iter()
                .filter_map(|o| o.iter().find(|p| p.0 == rep).map(|p| p.1))
                .collect();
            if same.is_empty() {
                same = medians.clone();
            }
            if others.len() > 1 {
                same.push(x);
            }
            let reference = median_or_none(&same)?;
            (reference > 0.0).then(|| x / reference)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_pair_repetitions_and_fall_back_to_medians() {
        // Round 1: 2 / median(2, 1, 3) = 1; round 2: 4 / median(4, 2, 2)
        // = 2; round 3: nobody else has it: 4.5 / median(4.5, medians 1.5
        // and 2.5) = 1.8.
        let r = rounds(
            &[(1, 2.0), (2, 4.0), (3, 4.5)],
            &[&[(1, 1.0), (2, 2.0)], &[(1, 3.0), (2, 2.0)]],
        );
        assert_eq!(r, vec![1.0, 2.0, 1.8]);
        // One other cell: the reference is that cell.
        assert_eq!(rounds(&[(1, 3.0)], &[&[(1, 1.5)]]), vec![2.0]);
    }
}
