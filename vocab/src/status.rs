//! What became of one execution of a cell: the `status` column of
//! `results.parquet`, spelled once. The runner writes it; the report and the
//! gate read it back as this type, never as a string literal.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr, VariantNames};

/// The `status` of one cell × repetition.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    /// Measured; its numbers count.
    Ok,
    /// Measured while the machine itself stalled: kept and shown, never
    /// counted (the runner repeats it).
    Disturbed,
    /// No measurement: the execution failed (see the `error` column).
    Failed,
    /// Not run: it would have exceeded the machine's limits.
    Skipped,
}

impl Status {
    /// The name as the `status` column spells it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The status a column value names, if it names one.
    pub fn parse(s: &str) -> Option<Status> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    /// The spelling the column has always had, read back.
    #[test]
    fn the_column_spelling_reads_back() {
        let names: Vec<&str> = Status::iter().map(Status::name).collect();
        assert_eq!(names, ["ok", "disturbed", "failed", "skipped"]);
        for s in Status::iter() {
            assert_eq!(Status::parse(s.name()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        assert_eq!(Status::parse("FAILED"), None);
    }
}
