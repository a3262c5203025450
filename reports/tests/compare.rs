//! The compare gate (`report compare BASE NEW --fail-on-regression PCT`)
//! through the real binary, on fixture runs cut down to what CI compares:
//! one repetition per cell (the smoke run) against a baseline.

mod common;
use common::{fixture, tmp};
use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use threadloop_reports::compare::{self, Basis};
use threadloop_reports::{load, report};

/// A cell of the fixture's `h1-pool` experiment.
const CELL: &str = "tokio-c100-timer50ms-cpu0ms-inline";
/// Another one.
const OTHER: &str = "threads-c10-timer50ms-cpu0ms-inline";

/// Rewrites a Parquet file of a run directory through `edit`.
fn rewrite(path: &Path, edit: impl FnOnce(LazyFrame) -> LazyFrame) {
    let lf = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .unwrap();
    let mut df = edit(lf).collect().unwrap();
    let tmp = path.with_extension("parquet.tmp");
    ParquetWriter::new(File::create(&tmp).unwrap())
        .finish(&mut df)
        .unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The fixture run (throughput × `scale`), with `results.parquet` edited
/// by `edit`; `reps` keeps only repetitions `1..=reps` (the fixture has 3).
fn run(
    root: &Path,
    run_id: &str,
    scale: f64,
    reps: i64,
    edit: impl FnOnce(LazyFrame) -> LazyFrame,
) -> PathBuf {
    let dir = fixture(root, run_id, scale);
    let keep = || col("repetition").lt_eq(lit(reps));
    rewrite(&dir.join("results.parquet"), |lf| edit(lf.filter(keep())));
    rewrite(&dir.join("latency.parquet"), |lf| lf.filter(keep()));
    dir
}

fn unchanged(lf: LazyFrame) -> LazyFrame {
    lf
}

fn is_cell(cell: &str) -> Expr {
    col("experiment")
        .eq(lit("h1-pool"))
        .and(col("cell").eq(lit(cell)))
}

/// Marks `cell`'s rows (those matching `also`) with `status` and a reason.
fn mark(lf: LazyFrame, cell: &str, also: Expr, status: &str, error: &str) -> LazyFrame {
    let hit = is_cell(cell).and(also);
    lf.with_columns([
        when(hit.clone())
            .then(lit(status))
            .otherwise(col("status"))
            .alias("status"),
        when(hit)
            .then(lit(error))
            .otherwise(col("error"))
            .alias("error"),
    ])
}

fn gate(base: &Path, new: &Path, pct: Option<&str>, out: &Path) -> (Output, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_report"));
    cmd.arg("compare").arg(base).arg(new);
    if let Some(p) = pct {
        cmd.args(["--fail-on-regression", p]);
    }
    let o = cmd.arg("--out").arg(out).output().unwrap();
    let id = new.file_name().unwrap();
    let md = std::fs::read_to_string(out.join(id).join("compare.md")).unwrap();
    (o, md)
}

fn analyse(dir: &Path) -> report::Analysis {
    report::analyse(load::load_run(dir).unwrap())
}

#[test]
fn n1_throughput_down_60pct_fails_a_50pct_gate() {
    let root = tmp("n1-drop60");
    let base = run(&root, "base-n1", 1.0, 1, unchanged);
    let new = run(&root, "new-n1-drop60", 0.4, 1, unchanged);
    let out = root.join("out");
    let (o, md) = gate(&base, &new, Some("50"), &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}\n{md}");
    assert!(md.contains("| -60.0% |"), "{md}");
    assert!(md.contains("REGRESSION throughput (beyond 50%)"), "{md}");
    assert!(md.contains("point estimate (n=1)"), "{md}");
    assert!(!md.contains("% *"), "n = 1 is never significant:\n{md}");
    assert!(md.contains("0 with a significant regression"), "{md}");

    let cmp = compare::compare(&analyse(&base), &analyse(&new), Some(50.0));
    assert_eq!(cmp.rows.len(), 14);
    assert!(cmp
        .rows
        .iter()
        .all(|r| r.throughput.basis == Basis::PointEstimate && !r.throughput.significant));
    assert_eq!(cmp.failing().len(), 14, "every cell lost 60%");
    assert!(
        cmp.regressions().is_empty(),
        "nothing is significant at n = 1"
    );

    // No gate, no failure.
    let (o, _) = gate(&base, &new, None, &out);
    assert!(o.status.success());
    // A gate wider than the drop passes.
    let (o, _) = gate(&base, &new, Some("61"), &out);
    assert!(o.status.success());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn n1_throughput_down_20pct_passes_a_50pct_gate() {
    let root = tmp("n1-drop20");
    let base = run(&root, "base-n1", 1.0, 1, unchanged);
    let new = run(&root, "new-n1-drop20", 0.8, 1, unchanged);
    let out = root.join("out");
    let (o, md) = gate(&base, &new, Some("50"), &out);
    assert!(
        o.status.success(),
        "{}\n{md}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(md.contains("| -20.0% |"), "{md}");
    assert!(md.contains("point estimate (n=1)"), "{md}");
    assert!(!md.contains("REGRESSION"), "{md}");
    assert!(md.contains("0 failing the 50% gate"), "{md}");
    // The same drop fails a narrower gate.
    let (o, _) = gate(&base, &new, Some("10"), &out);
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn n3_still_needs_disjoint_cis_to_fail() {
    // Repetitions 1 and 2 drop to 30%, repetition 3 keeps its value: the
    // median drops ~70% but the CIs overlap, so the gate passes (the n = 1
    // rule would fail it); a uniform 60% drop is significant and fails.
    let root = tmp("n3");
    let base = run(&root, "base-n3", 1.0, 3, unchanged);
    let noisy = run(&root, "new-n3-noisy", 1.0, 3, |lf| {
        lf.with_column(
            when(col("repetition").lt(lit(3i64)))
                .then(col("throughput_rps") * lit(0.3))
                .otherwise(col("throughput_rps"))
                .alias("throughput_rps"),
        )
    });
    let out = root.join("out");
    let (o, md) = gate(&base, &noisy, Some("50"), &out);
    assert!(
        o.status.success(),
        "{}\n{md}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(md.contains("| -70.0% |"), "{md}");
    assert!(!md.contains("point estimate"), "{md}");
    assert!(!md.contains("REGRESSION"), "{md}");
    let cmp = compare::compare(&analyse(&base), &analyse(&noisy), Some(50.0));
    assert!(cmp
        .rows
        .iter()
        .all(|r| r.throughput.basis == Basis::ConfidenceIntervals));

    let dropped = run(&root, "new-n3-drop60", 0.4, 3, unchanged);
    let (o, md) = gate(&base, &dropped, Some("50"), &out);
    assert_eq!(o.status.code(), Some(1), "{md}");
    assert!(md.contains("-60.0% *"), "{md}");
    assert!(md.contains("REGRESSION throughput (beyond 50%)"), "{md}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_cell_failing_only_in_new_fails_any_gate() {
    let root = tmp("failed");
    let out = root.join("out");
    let why = "cell process exited with signal 11";
    let base = run(&root, "base-n1", 1.0, 1, unchanged);
    let new = run(&root, "new-n1-failed", 1.0, 1, |lf| {
        mark(lf, CELL, lit(true), "failed", why)
    });
    let (o, md) = gate(&base, &new, Some("1000"), &out);
    assert_eq!(o.status.code(), Some(1), "{md}");
    assert!(
        md.contains(&format!("FAILED in NEW (1 of 1 repetitions: {why})")),
        "{md}"
    );
    assert!(md.contains("1 failed in NEW only"), "{md}");
    let cmp = compare::compare(&analyse(&base), &analyse(&new), Some(1000.0));
    let failing: Vec<&str> = cmp.failing().iter().map(|r| r.cell.as_str()).collect();
    assert_eq!(failing, [CELL]);

    // The other way round (failed in BASE, ok in NEW) is no regression.
    let (o, md) = gate(&new, &base, Some("50"), &out);
    assert!(o.status.success(), "{md}");
    assert!(md.contains("failed in BASE"), "{md}");

    // With three repetitions, one new failed repetition fails the gate too.
    let base3 = run(&root, "base-n3", 1.0, 3, unchanged);
    let new3 = run(&root, "new-n3-one-failed", 1.0, 3, |lf| {
        mark(lf, CELL, col("repetition").eq(lit(3i64)), "failed", why)
    });
    let (o, md) = gate(&base3, &new3, Some("50"), &out);
    assert_eq!(o.status.code(), Some(1), "{md}");
    assert!(md.contains("FAILED in NEW (1 of 3 repetitions"), "{md}");
    // The fixture's own failure (smol, 1000 clients, repetition 2) is in
    // both runs: not new.
    let cmp = compare::compare(&analyse(&base3), &analyse(&new3), Some(50.0));
    assert_eq!(cmp.newly_failed().len(), 1);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_cell_skipped_in_new_is_reported_not_failed() {
    let root = tmp("skipped");
    let out = root.join("out");
    let why = "needs 10100 threads, the machine allows 4000";
    let base = run(&root, "base-n1", 1.0, 1, unchanged);
    let new = run(&root, "new-n1-skipped", 1.0, 1, |lf| {
        mark(lf, CELL, lit(true), "skipped", why)
    });
    let (o, md) = gate(&base, &new, Some("50"), &out);
    assert!(o.status.success(), "{md}");
    assert!(md.contains(&format!("skipped in NEW ({why})")), "{md}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn cells_in_only_one_run_are_listed_not_failed() {
    let root = tmp("unmatched");
    let out = root.join("out");
    let base = run(&root, "base-n1", 1.0, 1, |lf| {
        lf.filter(is_cell(OTHER).not())
    });
    let new = run(&root, "new-n1-fewer", 1.0, 1, |lf| {
        lf.filter(is_cell(CELL).not())
    });
    let (o, md) = gate(&base, &new, Some("50"), &out);
    assert!(
        o.status.success(),
        "{}\n{md}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        md.contains(&format!("Only in BASE (not compared): h1-pool/{CELL}")),
        "{md}"
    );
    assert!(
        md.contains(&format!("Only in NEW (not compared): h1-pool/{OTHER}")),
        "{md}"
    );
    assert!(md.contains("12 cells compared"), "{md}");
    assert!(md.contains("2 in only one run"), "{md}");
    let html = std::fs::read_to_string(out.join("new-n1-fewer").join("compare.html")).unwrap();
    assert!(html.contains("(only in BASE)") && html.contains("(only in NEW)"));
    let _ = std::fs::remove_dir_all(&root);
}
