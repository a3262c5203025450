//! `runner run --shard I/N` and `runner merge`: three shards merged hold the
//! same cells as one unsharded run; bad merges are refused with the reason.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const SPEC: &str = r#"name = "sharded"
claim = "calibration"
title = "3 models × 2 concurrencies"
repetitions = 1
duration_s = 0.3
warmup_s = 0.1
[matrix]
model = ["tokio", "smol", "threads"]
threads = [4]
concurrency = [2, 4]
io_latency_ms = [5]
"#;

fn runner_cmd(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(runner());
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Refused with exit status 2 and a message containing `needle`.
fn refused(o: Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
}

fn rows(dir: &Path) -> BTreeSet<(String, String, i64)> {
    let df = read_parquet(&dir.join("results.parquet"));
    let (e, c, r) = (
        strings(&df, "experiment"),
        strings(&df, "cell"),
        ints(&df, "repetition"),
    );
    let set: BTreeSet<_> = (0..df.height())
        .map(|i| (e[i].clone().unwrap(), c[i].clone().unwrap(), r[i].unwrap()))
        .collect();
    assert_eq!(set.len(), df.height(), "no row twice in {}", dir.display());
    set
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("cells")).unwrap();
    for f in ["manifest.json", "results.parquet", "latency.parquet"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    for e in std::fs::read_dir(from.join("cells")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join("cells").join(p.file_name().unwrap())).unwrap();
    }
}

/// A copy of `from` with one manifest field replaced.
fn edited(from: &Path, to: &Path, field: &str, value: serde_json::Value) {
    copy_run(from, to);
    let mut m = manifest(to);
    m[field] = value;
    std::fs::write(
        to.join("manifest.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
}

#[test]
fn three_shards_merged_equal_one_run() {
    cell_bin();
    let dir = tempdir("shard");
    let spec = write_spec(&dir, "sharded", SPEC);
    let full = dir.join("full");
    ok(runner_cmd(
        &["run", "--quiet", "--seed", "11", "--out"],
        &[&full, &spec],
    ));
    let all = rows(&full);
    assert_eq!(all.len(), 6, "3 models × 2 concurrencies × 1 repetition");

    let shards: Vec<_> = (1..=3).map(|i| dir.join(format!("shard{i}"))).collect();
    let mut union = BTreeSet::new();
    for (i, out) in shards.iter().enumerate() {
        let s = format!("{}/3", i + 1);
        ok(runner_cmd(
            &["run", "--quiet", "--seed", "11", "--shard", &s, "--out"],
            &[out, &spec],
        ));
        let m = manifest(out);
        assert_eq!(m["shard"]["index"], i + 1);
        assert_eq!(m["shard"]["count"], 3);
        let part = rows(out);
        assert_eq!(part.len(), 2, "6 cells split evenly over 3 shards");
        assert_eq!(
            m["cells_total"], 2,
            "a shard's manifest plans its cells only"
        );
        assert!(union.is_disjoint(&part), "no cell in two shards");
        union.extend(part);
    }
    assert_eq!(union, all, "the shards together run every cell once");

    // A resumed shard finishes its own cells, not the whole catalogue.
    let before = rows(&shards[1]);
    let record = std::fs::read_dir(shards[1].join("cells"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(record).unwrap();
    ok(runner_cmd(&["run", "--quiet", "--resume"], &[&shards[1]]));
    assert_eq!(rows(&shards[1]), before);
    assert_eq!(manifest(&shards[1])["shard"]["index"], 2);

    let merged = dir.join("merged");
    let o = ok(runner_cmd(
        &["merge", "--out"],
        &[&merged, &shards[0], &shards[1], &shards[2]],
    ));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        merged.display().to_string()
    );
    assert_eq!(rows(&merged), all, "merged shards = the unsharded run");
    let lat = read_parquet(&merged.join("latency.parquet"));
    assert!(lat.height() > 6, "a latency spectrum per execution");
    let m = manifest(&merged);
    assert!(m["shard"].is_null());
    assert_eq!(m["cells_total"], 6);
    assert_eq!(m["seed"], 11);
    assert_eq!(m["merged_from"].as_array().unwrap().len(), 3);
    assert_eq!(
        m["experiments"][0]["cells"].as_array().unwrap().len(),
        6,
        "the union of the shards' cells"
    );
    assert_eq!(m["cells_failed"], 0);
    assert_eq!(std::fs::read_dir(merged.join("cells")).unwrap().count(), 6);

    // A directory with itself, or a copy of it: every cell twice.
    let again = dir.join("again");
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &shards[0]]),
        "same run directory",
    );
    let copy = dir.join("copy");
    copy_run(&shards[0], &copy);
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &copy]),
        "are both shard 1/3",
    );
    let unlabelled = dir.join("unlabelled");
    edited(&shards[0], &unlabelled, "shard", serde_json::Value::Null);
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &unlabelled]),
        "repetition 0 appears in both",
    );
    assert!(!again.exists(), "nothing written for a refused merge");

    // Different profile or commit: refused, naming the field; --force waives
    // the commit only.
    let profile = dir.join("profile");
    edited(&shards[1], &profile, "profile", "quick".into());
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &profile]),
        "`profile` differs",
    );
    let commit = dir.join("commit");
    edited(&shards[1], &commit, "git_commit", "0000000".into());
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &commit]),
        "`git_commit` differs",
    );
    let forced = dir.join("forced");
    let o = ok(runner_cmd(
        &["merge", "--force", "--out"],
        &[&forced, &shards[0], &commit],
    ));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard(s) 3/3 not among the inputs"));
    assert_eq!(rows(&forced).len(), 4);
    let rustc = dir.join("rustc");
    edited(&shards[2], &rustc, "rustc", "rustc 0.0.0".into());
    refused(
        runner_cmd(
            &["merge", "--force", "--out"],
            &[&again, &shards[0], &rustc],
        ),
        "`rustc` differs",
    );
    // Another spec: refused.
    let other = dir.join("other");
    let mut m = manifest(&shards[2]);
    m["experiments"][0]["spec"]["duration_s"] = 0.4.into();
    copy_run(&shards[2], &other);
    std::fs::write(other.join("manifest.json"), m.to_string()).unwrap();
    refused(
        runner_cmd(&["merge", "--out"], &[&again, &shards[0], &other]),
        "`experiments[*].spec` differs for experiment `sharded`",
    );
}

#[test]
fn a_bad_shard_is_refused_before_anything_runs() {
    let dir = tempdir("badshard");
    let spec = write_spec(&dir, "sharded", SPEC);
    let out = dir.join("run");
    for bad in ["0/3", "4/3", "2", "x/3", "1/0"] {
        let o = runner_cmd(&["run", "--quiet", "--shard", bad, "--out"], &[&out, &spec]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("expected I/N"), "{bad}: {err}");
        assert!(!out.exists());
    }
}
