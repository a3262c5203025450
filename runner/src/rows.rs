//! The rows a planned cell will have in `results.parquet`, before it runs,
//! and whether a rule could read them: what the plan (cells no rule reads
//! run once) and the shards (cells a rule compares stay together) decide
//! from, with the report's own filter matching.

use crate::planned::PlannedCell;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use threadloop_engine::Factor as _;
use threadloop_reports::load::Value;
use threadloop_reports::verdict::value_matches;
use threadloop_vocab::class_row;
use threadloop_vocab::factors::{Setting, Value as SettingValue};
use threadloop_vocab::schema::cols;

/// The rows a planned cell will have in `results.parquet`: its own and, with
/// a request mix, one per class (cell id `<cell>~<class>`), each mapping
/// every column the plan fixes to its value as the report reads it (every
/// number an `f64`). Mirrors `store::results_frame` (a test keeps the two in
/// step); measured columns (`throughput_rps`, `fidelity`, ...) and the
/// per-execution ones (`run_id`, `repetition`) are absent. No such helper
/// existed: the store builds its columns from a `CellRecord`, column by
/// column.
pub fn planned_rows(c: &PlannedCell) -> Vec<BTreeMap<&'static str, Value>> {
    use Value::{Bool, Null, Num, Str};
    let cell = &c.cell;
    let int = |v: Option<u32>| v.map_or(Null, |v| Num(v as f64));
    let name = |v: Option<&'static str>| v.map_or(Null, |s| Str(s.to_string()));
    let mut row: BTreeMap<&'static str, Value> = BTreeMap::new();
    row.insert(cols::experiment, Str(c.experiment.clone()));
    row.insert(cols::claim, Str(c.claim.clone()));
    row.insert(cols::title, Str(c.title.clone()));
    row.insert(cols::cell, Str(c.id.clone()));
    row.insert(
        cols::class,
        if cell.classes.is_empty() {
            Null
        } else {
            Str(class_row::WHOLE_CELL.into())
        },
    );
    row.insert(cols::model, Str(cell.model.name().to_string()));
    row.insert(cols::concurrency, int(cell.concurrency()));
    row.insert(cols::rate_rps, cell.rate_rps().map_or(Null, Num));
    row.insert(
        cols::arrival,
        name(match cell.load {
            threadloop_engine::Load::Open { arrival, .. } => Some(arrival.name()),
            _ => None,
        }),
    );
    row.insert(cols::transport, Str(cell.transport.name().to_string()));
    row.insert(cols::io, Str(cell.io.name().to_string()));
    row.insert(cols::io_latency_ms, Num(cell.io_latency_ms));
    row.insert(cols::cpu_ms, Num(cell.cpu_ms));
    row.insert(cols::cpu_ratio, Num(cell.cpu_ratio()));
    // The settings, each as its declaration types it (`vocab::factors`).
    for s in Setting::all() {
        let value = match cell.setting(s) {
            None => Null,
            Some(SettingValue::Int(n)) => Num(f64::from(n)),
            Some(SettingValue::Bool(b)) => Bool(b),
            Some(SettingValue::Name(n)) => Str(n.to_string()),
        };
        row.insert(s.def().name, value);
    }
    row.insert(cols::load_mode, Str(cell.load.mode_name().to_string()));
    row.insert(cols::duration_s, Num(cell.duration_s));
    row.insert(cols::warmup_s, Num(cell.warmup_s));
    row.insert(cols::timeout_ms, Num(cell.timeout_ms as f64));
    let mut rows = vec![row.clone()];
    for class in &cell.classes {
        let mut r = row.clone();
        r.insert(cols::cell, Str(class_row::row_id(&c.id, &class.name)));
        r.insert(cols::class, Str(class.name.clone()));
        rows.push(r);
    }
    rows
}

/// Whether a rule's filter could select one of the cell's rows, with the
/// report's own `verdict::value_matches`. A column the plan does not fix (a
/// measurement) could hold anything: it matches.
pub fn could_match(c: &PlannedCell, filter: &BTreeMap<String, Json>) -> bool {
    planned_rows(c).iter().any(|row| {
        filter.iter().all(|(column, spec)| {
            row.get(column.as_str())
                .is_none_or(|v| value_matches(v, spec))
        })
    })
}
