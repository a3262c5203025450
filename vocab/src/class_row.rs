//! A cell with a request mix has, in `results.parquet`, its own row (whose
//! `class` column is [`WHOLE_CELL`]) and one row per class (whose `class`
//! column names the class, and whose `cell` id is the cell's id with the
//! class appended, [`row_id`]). This is the one place that knows how the two
//! ids relate: a reader asks [`planned_cell`] with the row's `class` column,
//! and never takes the id apart itself.

/// The `class` column on a mixed cell's own row.
pub const WHOLE_CELL: &str = "all";

/// The `cell` id of `class`'s row of the cell `cell`: `<cell>~<class>`.
pub fn row_id(cell: &str, class: &str) -> String {
    format!("{cell}~{class}")
}

/// The id of the planned cell (what the runner executes) that a row
/// belongs to, from the row's `cell` and `class` columns: a class's row is
/// measured by its cell.
pub fn planned_cell<'a>(cell: &'a str, class: Option<&str>) -> &'a str {
    match class {
        Some(class) if class != WHOLE_CELL => cell
            .strip_suffix(class)
            .and_then(|c| c.strip_suffix('~'))
            .unwrap_or(cell),
        _ => cell,
    }
}

/// The class a row id written by [`row_id`] names, for the writer that
/// fills the `class` column from the ids it made (`None`: a cell's own row).
pub fn class_of_row_id(id: &str) -> Option<&str> {
    id.split_once('~').map(|(_, class)| class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_row_belongs_to_its_cell() {
        let id = row_id("tokio-c40", "light");
        assert_eq!(id, "tokio-c40~light");
        assert_eq!(planned_cell(&id, Some("light")), "tokio-c40");
        assert_eq!(class_of_row_id(&id), Some("light"));
        assert_eq!(planned_cell("tokio-c40", Some(WHOLE_CELL)), "tokio-c40");
        assert_eq!(planned_cell("tokio-c40", None), "tokio-c40");
        assert_eq!(class_of_row_id("tokio-c40"), None);
        // A class column that does not end the id leaves it whole.
        assert_eq!(planned_cell("a~b", Some("c")), "a~b");
    }
}
