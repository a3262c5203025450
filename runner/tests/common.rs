//! Helpers for the end-to-end tests: the built binaries and small specs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn runner() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_runner"))
}

/// The cell binary next to the runner; `just test` builds the workspace first.
pub fn cell_bin() -> PathBuf {
    let p = runner().parent().unwrap().join("threadloop-cell");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build --release --workspace` (or `just test`)",
        p.display()
    );
    p
}

pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "threadloop-{tag}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub fn write_spec(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, body).unwrap();
    p
}

pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

pub fn strings(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

pub fn floats(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

pub fn ints(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name).unwrap().i64().unwrap().iter().collect()
}

/// Writes `body` as a spec, runs it with `runner run --quiet --out DIR
/// [extra...]`, asserts success, and returns the run directory and its
/// results.
pub fn run_spec(tag: &str, body: &str, extra: &[&str]) -> (PathBuf, polars::prelude::DataFrame) {
    cell_bin();
    let dir = tempdir(tag);
    let spec = write_spec(&dir, tag, body);
    let out = dir.join("run");
    let st = std::process::Command::new(runner())
        .args(["run", "--quiet"])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg(&spec)
        .status()
        .unwrap();
    assert!(st.success(), "runner run failed for {tag}");
    (
        out.clone(),
        kept_rows(read_parquet(&out.join("results.parquet"))),
    )
}

/// The rows a run keeps for its statistics: an execution that overlapped a
/// stall of the machine (status `disturbed`, src/hiccup.rs) is recorded and
/// repeated, so on a busy machine a cell can have one row more. Tests of
/// what a run measures read the others; `adaptive.rs` tests the stall itself.
pub fn kept_rows(df: polars::prelude::DataFrame) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    df.lazy()
        .filter(col("status").neq(lit("disturbed")))
        .collect()
        .unwrap()
}

/// The `*.toml` files of a directory, sorted.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// The processes whose parent is `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // Fields after the command name: state, ppid, ...
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        if after
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok())
            == Some(pid)
        {
            out.push(p);
        }
    }
    out
}
