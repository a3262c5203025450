//! Bad input and broken cells: clear errors, nothing half-written, the run goes on.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

const GOOD: &str = r#"name = "faults"
claim = "calibration"
title = "three cells"
repetitions = 1
duration_s = 1.5
warmup_s = 0.1
[matrix]
model = ["tokio", "smol", "threads"]
threads = [4]
concurrency = [4]
io_latency_ms = [5]
"#;

#[test]
fn validate_names_file_line_and_key() {
    let dir = tempdir("validate");
    let unknown = write_spec(
        &dir,
        "unknown",
        &GOOD.replace("threads = [4]", "threads = [4]\nthreds = [8]"),
    );
    let o = Command::new(runner())
        .arg("validate")
        .arg(&unknown)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{}:10:", unknown.display())), "{err}");
    assert!(err.contains("`matrix.threds`"), "{err}");

    let negative = write_spec(
        &dir,
        "negative",
        &GOOD.replace("io_latency_ms = [5]", "io_latency_ms = [-1]"),
    );
    let o = Command::new(runner())
        .arg("validate")
        .arg(&negative)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}:11:", negative.display())),
        "{err}"
    );
    assert!(err.contains("`matrix.io_latency_ms`"), "{err}");
}

#[test]
fn a_bad_spec_runs_nothing() {
    let dir = tempdir("badrun");
    let good = write_spec(&dir, "good", GOOD);
    let bad = write_spec(
        &dir,
        "bad",
        &GOOD
            .replace("name = \"faults\"", "name = \"bad\"")
            .replace("concurrency = [4]", "concurrency = [0]"),
    );
    let out = dir.join("run");
    let o = Command::new(runner())
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists(), "no run directory for a rejected spec");
}

#[test]
fn killing_a_cell_leaves_a_failed_row_and_the_rest_of_the_run() {
    cell_bin();
    let dir = tempdir("kill");
    let spec = write_spec(&dir, "faults", GOOD);
    let out = dir.join("run");
    let mut runner = Command::new(runner())
        .args(["run", "--quiet", "--seed", "1", "--out"])
        .arg(&out)
        .arg(&spec)
        .spawn()
        .unwrap();
    // Wait (bounded) for the first cell process, then kill it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let victim = loop {
        let kids: Vec<u32> = children_of(runner.id())
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                    .unwrap_or_default()
                    .contains("threadloop-cell")
            })
            .filter(|p| {
                !std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                    .unwrap_or_default()
                    .contains("--calibrate")
            })
            .collect();
        if let Some(&k) = kids.first() {
            break k;
        }
        assert!(Instant::now() < deadline, "no cell process appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    assert!(
        runner.wait().unwrap().success(),
        "the run goes on after a cell dies"
    );
    let df = read_parquet(&out.join("results.parquet"));
    assert_eq!(df.height(), 3);
    let status: Vec<String> = strings(&df, "status").into_iter().flatten().collect();
    assert_eq!(
        status.iter().filter(|s| *s == "failed").count(),
        1,
        "{status:?}"
    );
    assert_eq!(
        status.iter().filter(|s| *s == "ok").count(),
        2,
        "{status:?}"
    );
    let errors: Vec<String> = strings(&df, "error").into_iter().flatten().collect();
    assert!(errors[0].contains("signal 9"), "{errors:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["cells_failed"], 1);
}

#[test]
fn an_interrupted_run_resumes_to_completion() {
    cell_bin();
    let dir = tempdir("resume");
    let spec = write_spec(&dir, "faults", GOOD);
    let out = dir.join("run");
    let mut runner_p = Command::new(runner())
        .args(["run", "--quiet", "--seed", "5", "--out"])
        .arg(&out)
        .arg(&spec)
        .spawn()
        .unwrap();
    // Interrupt once the first record is saved.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(out.join("cells")).map_or(0, |d| d.count()) == 0 {
        assert!(Instant::now() < deadline, "no cell finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(unsafe { libc::kill(runner_p.id() as i32, libc::SIGINT) }, 0);
    let st = runner_p.wait().unwrap();
    assert_eq!(st.code(), Some(130), "interrupted runs exit 130");
    let partial = read_parquet(&out.join("results.parquet")).height();
    assert!(
        (1..3).contains(&partial),
        "finished cells are kept: {partial}"
    );
    let st = Command::new(runner())
        .args(["run", "--quiet", "--resume"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let df = read_parquet(&out.join("results.parquet"));
    assert_eq!(df.height(), 3);
    assert!(strings(&df, "status")
        .iter()
        .all(|s| s.as_deref() == Some("ok")));
}

/// `--except` leaves a catalogue experiment out of the plan, and a name
/// the catalogue does not have is refused before anything runs.
#[test]
fn except_leaves_an_experiment_out_and_refuses_an_unknown_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let list = |args: &[&str]| {
        Command::new(runner())
            .current_dir(&root)
            .arg("list")
            .args(args)
            .output()
            .unwrap()
    };
    let listed = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let all = list(&[]);
    assert!(all.status.success());
    assert!(listed(&all).contains(&"fidelity".to_string()));
    let without = list(&["--except", "fidelity"]);
    assert!(without.status.success());
    assert!(!listed(&without).contains(&"fidelity".to_string()));
    assert_eq!(listed(&without).len() + 1, listed(&all).len());
    let unknown = list(&["--except", "no-such-experiment"]);
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("no experiments/no-such-experiment.toml"),
        "{err}"
    );
}
