//! A cell execution's notes (caveats that belong next to its numbers) are a
//! list; the `notes` column of `results.parquet` stores it as one string,
//! the notes joined with [`SEPARATOR`]. [`join`] is the one place that
//! writes that string and [`split`] the one place that reads it back.

/// Between two notes in the `notes` column.
pub const SEPARATOR: &str = "; ";

/// The `notes` column's value for a list of notes.
pub fn join<S: AsRef<str>>(notes: &[S]) -> String {
    notes
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join(SEPARATOR)
}

/// The notes a `notes` column value holds, trimmed, empty ones dropped.
pub fn split(column: &str) -> impl Iterator<Item = &str> {
    column
        .split(SEPARATOR)
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_survives_the_column() {
        let notes = [
            "closed loop: latency counts from the send",
            "transient: 3.0 s",
        ];
        assert_eq!(split(&join(&notes)).collect::<Vec<_>>(), notes);
        assert_eq!(split("").count(), 0);
        assert_eq!(join::<&str>(&[]), "");
        assert_eq!(split(" a ;  b").collect::<Vec<_>>(), ["a", "b"]);
    }
}
