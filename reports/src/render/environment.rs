//! The environment block of `index.html`: the run and its machine as a
//! list of key and value, then each structured manifest field as a table
//! of its own (`extra_repetitions`: experiment, cell, repetition, why;
//! `limits`, `downstream`, `postgres`: key and value), never a paragraph of
//! JSON.

use crate::analysis::Analysis;
use crate::load::fmt_compact;
use serde::Serialize;
use serde_json::Value as Json;
use threadloop_vocab::schema::cols;

#[derive(Debug, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

pub fn kv(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

/// A manifest field shown as a table.
#[derive(Debug, Serialize)]
pub struct EnvTable {
    /// The manifest's key, and its anchor.
    pub title: String,
    pub anchor: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The environment: the list, and the tables below it.
#[derive(Debug, Serialize)]
pub struct Environment {
    pub list: Vec<KeyValue>,
    pub tables: Vec<EnvTable>,
}

/// Columns shown first in a table of records, in this order.
const FIRST: &[&str] = &["experiment", "cell", "repetition"];

/// Column headers that read better than the manifest's keys.
fn header(key: &str) -> String {
    match key {
        "repetition" => "repetition (0-based)".into(),
        k => k.replace('_', " "),
    }
}

/// A value as plain text: strings bare, `k = v` for pairs, nested objects
/// as `k: v, k: v`, arrays joined.
pub fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "–".into(),
        Json::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_compact),
        Json::Array(items) => match items.as_slice() {
            [Json::String(k), v] if !v.is_array() && !v.is_object() => {
                format!("{k} = {}", json_text(v))
            }
            _ => items.iter().map(json_text).collect::<Vec<_>>().join(
                if items.iter().all(|i| i.is_string() || i.is_number()) {
                    " "
                } else {
                    ", "
                },
            ),
        },
        Json::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", json_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// One manifest field: a scalar or a list of scalars is a line of the
/// list; an object a key / value table; a list of objects a table with a
/// column per key (in the order they first appear); an empty one nothing.
fn field(key: &str, v: &Json, env: &mut Environment) {
    let anchor = format!("env-{}", crate::render::slug(key));
    match v {
        Json::Object(map) if map.is_empty() => {}
        Json::Array(items) if items.is_empty() => {}
        Json::Object(map) => env.tables.push(EnvTable {
            title: key.into(),
            anchor,
            headers: vec!["key".into(), "value".into()],
            rows: map
                .iter()
                .map(|(k, v)| vec![k.replace('_', " "), json_text(v)])
                .collect(),
        }),
        Json::Array(items) if items.iter().all(Json::is_object) => {
            // The manifest's objects come back with sorted keys: who and
            // what first, then the rest.
            let mut keys: Vec<String> = Vec::new();
            for item in items {
                for k in item.as_object().expect("all objects").keys() {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
            keys.sort_by_key(|k| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()));
            env.tables.push(EnvTable {
                title: key.into(),
                anchor,
                headers: keys.iter().map(|k| header(k)).collect(),
                rows: items
                    .iter()
                    .map(|item| {
                        keys.iter()
                            .map(|k| item.get(k).map_or_else(|| "–".into(), json_text))
                            .collect()
                    })
                    .collect(),
            });
        }
        Json::Null => env.list.push(kv(key, "–")),
        other => env.list.push(kv(key, json_text(other))),
    }
}

/// The environment block of a run.
pub fn environment(analysis: &Analysis) -> Environment {
    let m = &analysis.manifest().run;
    let dash = || "–".to_string();
    let text = |v: &str| if v.is_empty() { dash() } else { v.to_string() };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(dash);
    let count = |n: u64| if n == 0 { dash() } else { n.to_string() };
    let list = vec![
        kv("run", analysis.run.run_id.clone()),
        kv("started", text(&m.started_at)),
        kv("ended", opt(&m.ended_at)),
        kv(
            "cell time",
            format!(
                "{} s (sum of wall_s)",
                fmt_compact(
                    analysis
                        .run
                        .rows
                        .iter()
                        .filter_map(|r| r.num(cols::wall_s))
                        .sum::<f64>()
                )
            ),
        ),
        kv("CPU", text(&m.cpu_model)),
        kv("cores", count(m.cores.into())),
        kv(
            "memory",
            match m.memory_bytes {
                0 => dash(),
                b => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
            },
        ),
        kv("kernel", text(&m.kernel)),
        kv("rustc", text(&m.rustc)),
        kv("profile", opt(&m.profile)),
        kv(
            "git commit",
            match (&m.git_commit, m.git_dirty) {
                (Some(c), Some(true)) => format!("{c} (dirty)"),
                (Some(c), _) => c.clone(),
                _ => dash(),
            },
        ),
        kv("seed", m.seed.to_string()),
        kv(
            "calibration",
            match m.calibration.iters_per_ms {
                i if i > 0.0 => format!("{} iterations/ms", fmt_compact(i)),
                _ => dash(),
            },
        ),
        kv(
            "cells",
            format!(
                "{} total, {} failed",
                match m.cells_total {
                    0 => analysis.cells.len(),
                    n => n,
                },
                // A manifest records its failures; an older one may not.
                if m.cells_total > 0 {
                    m.cells_failed
                } else {
                    analysis
                        .cells
                        .iter()
                        .filter(|c| !c.failures.is_empty())
                        .count()
                }
            ),
        ),
    ];
    let mut env = Environment {
        list,
        tables: Vec::new(),
    };
    for (k, v) in &analysis.manifest().extra {
        field(k, v, &mut env);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(key: &str, v: Json) -> Environment {
        let mut env = Environment {
            list: Vec::new(),
            tables: Vec::new(),
        };
        field(key, &v, &mut env);
        env
    }

    #[test]
    fn a_list_of_records_is_a_table_with_a_column_per_key() {
        let env = of(
            "extra_repetitions",
            json!([
                {"experiment": "hybrid", "cell": "a", "repetition": 2, "why": "replaces r0"},
                {"experiment": "fidelity", "cell": "b", "repetition": 1, "why": "\"x\" is undecided"}
            ]),
        );
        assert!(env.list.is_empty());
        let t = &env.tables[0];
        assert_eq!(
            t.headers,
            ["experiment", "cell", "repetition (0-based)", "why"]
        );
        assert_eq!(t.rows[1], ["fidelity", "b", "1", "\"x\" is undecided"]);
    }

    #[test]
    fn objects_are_key_value_tables_and_scalars_stay_in_the_list() {
        let env = of(
            "postgres",
            json!({"backend": "container", "settings": [["fsync", "on"], ["jit", "on"]], "startup_s": 11.36485}),
        );
        let t = &env.tables[0];
        assert_eq!(t.rows[1], ["settings", "fsync = on, jit = on"]);
        assert_eq!(t.rows[2], ["startup s", "11.4"]);
        let env = of("command", json!(["runner", "run", "--budget", "19m30s"]));
        assert_eq!(env.list[0].value, "runner run --budget 19m30s");
        assert!(of("extra_repetitions", json!([])).tables.is_empty());
        assert_eq!(of("shard", Json::Null).list[0].value, "–");
    }
}
