//! Adaptive repetitions: an undecided rule gets more repetitions of the
//! cells it reads (up to `max_repetitions`, within `budget_s`); a decided
//! one costs nothing extra; every added repetition is in the manifest.

mod common;
use common::*;

fn manifest(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn reps_of(df: &polars::prelude::DataFrame) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for c in strings(df, "cell").into_iter().flatten() {
        *m.entry(c).or_insert(0) += 1;
    }
    m
}

const BASE: &str = r#"claim = "calibration"
title = "adaptive"
repetitions = 3
max_repetitions = 4
duration_s = 0.3
warmup_s = 0.05
[load]
timeout_ms = 1000
[matrix]
model = ["tokio"]
concurrency = [4, 40]
io_latency_ms = [5]
"#;

#[test]
fn an_undecided_rule_gets_more_repetitions_of_its_cells_only() {
    // One planned repetition gives no interval, so the rule is undecided
    // whatever was measured: its two cells (not the third) get one more,
    // and max_repetitions = 2 stops there.
    let body = format!(
        "name = \"adaptive-undecided\"\n{}\n[[verdict]]\ntext = \"needs two\"\nmetric = \"throughput_rps\"\nfilter = {{ concurrency = 40 }}\nbaseline = {{ concurrency = 4 }}\ncompare = \">=\"\nthreshold = 2.0\n",
        BASE.replace("repetitions = 3\nmax_repetitions = 4", "repetitions = 1\nmax_repetitions = 2")
            .replace("concurrency = [4, 40]", "concurrency = [4, 40, 400]")
    );
    let (out, df) = run_spec("adaptive-undecided", &body, &["--seed", "5"]);
    let m = manifest(&out);
    let extras = m["extra_repetitions"].as_array().unwrap();
    let reps = reps_of(&df);
    assert_eq!(extras.len(), 2, "{extras:?}");
    for e in extras {
        assert!(e["why"].as_str().unwrap().contains("needs two"), "{e}");
        assert!(e["why"].as_str().unwrap().contains("no interval"), "{e}");
        assert_eq!(e["repetition"], 1);
        assert!(!e["cell"].as_str().unwrap().contains("c400"), "{e}");
    }
    assert_eq!(
        reps.values()
            .copied()
            .collect::<Vec<_>>()
            .iter()
            .sum::<usize>(),
        5
    );
    assert!(reps.values().all(|&n| n <= 2), "{reps:?}");
}

#[test]
fn a_decided_rule_adds_nothing_and_fixed_specs_never_add() {
    // 10x the clients serve far more than 2x: decided at n = 3.
    let body = format!(
        "name = \"adaptive-decided\"\n{BASE}\n[[verdict]]\ntext = \"clear\"\nmetric = \"throughput_rps\"\nfilter = {{ concurrency = 40 }}\nbaseline = {{ concurrency = 4 }}\ncompare = \">=\"\nthreshold = 2.0\n"
    );
    let (out, df) = run_spec("adaptive-decided", &body, &["--seed", "5"]);
    assert_eq!(manifest(&out)["extra_repetitions"], serde_json::json!([]));
    assert_eq!(df.height(), 6);

    // Without max_repetitions the plan is fixed, even for an undecided rule.
    let body = format!(
        "name = \"adaptive-fixed\"\n{}\n[[verdict]]\ntext = \"borderline\"\nmetric = \"throughput_rps\"\nfilter = {{ concurrency = 40 }}\nbaseline = {{ concurrency = 4 }}\ncompare = \">=\"\nthreshold = 10.0\n",
        BASE.replace("max_repetitions = 4\n", "")
    );
    let (out, df) = run_spec("adaptive-fixed", &body, &["--seed", "5"]);
    assert_eq!(manifest(&out)["extra_repetitions"], serde_json::json!([]));
    assert_eq!(df.height(), 6);
}

#[test]
fn a_spent_run_budget_adds_nothing_and_is_recorded() {
    // The same undecided rule as above, but the run's budget (1 s) is spent
    // by its planned executions (3 x 0.35 s windows): no round is started.
    let body = format!(
        "name = \"adaptive-budget\"\n{}\n[[verdict]]\ntext = \"needs two\"\nmetric = \"throughput_rps\"\nfilter = {{ concurrency = 40 }}\nbaseline = {{ concurrency = 4 }}\ncompare = \">=\"\nthreshold = 2.0\n",
        BASE.replace("repetitions = 3\nmax_repetitions = 4", "repetitions = 1\nmax_repetitions = 2")
            .replace("concurrency = [4, 40]", "concurrency = [4, 40, 400]")
    );
    let (out, df) = run_spec("adaptive-budget", &body, &["--seed", "5", "--budget", "1s"]);
    let m = manifest(&out);
    assert_eq!(m["extra_repetitions"], serde_json::json!([]));
    assert_eq!(m["budget_s"], serde_json::json!(1.0));
    assert_eq!(df.height(), 3);
}

#[test]
fn a_rule_on_a_request_class_gets_more_repetitions_of_its_cells() {
    // The rule reads the light class's rows (`<cell>~light`); the cells that
    // run again are the planned cells those rows come from.
    let body = format!(
        "name = \"adaptive-class\"\n{}\n[[class]]\nname = \"light\"\nweight = 9\n[[class]]\nname = \"heavy\"\nweight = 1\n[[verdict]]\ntext = \"needs two\"\nmetric = \"throughput_rps\"\nfilter = {{ class = \"light\", concurrency = 40 }}\nbaseline = {{ concurrency = 4 }}\ncompare = \">=\"\nthreshold = 2.0\n",
        BASE.replace("repetitions = 3\nmax_repetitions = 4", "repetitions = 1\nmax_repetitions = 2")
            .replace("concurrency = [4, 40]", "concurrency = [4, 40, 400]")
    );
    let (out, _) = run_spec("adaptive-class", &body, &["--seed", "5"]);
    let m = manifest(&out);
    let extras = m["extra_repetitions"].as_array().unwrap();
    assert_eq!(extras.len(), 2, "{extras:?}");
    for e in extras {
        let cell = e["cell"].as_str().unwrap();
        assert!(!cell.contains('~'), "{e}");
        assert_eq!(e["repetition"], 1);
    }
}

/// A stall of the machine is simulated by stopping the runner (whose
/// hiccup monitor then sees the same gap a stopped VM gives it) for 600 ms
/// while its one cell runs: the execution is kept with status `disturbed`
/// and its stall, and a replacement repetition runs and is `ok`.
#[test]
fn an_execution_during_a_machine_stall_is_set_aside_and_repeated() {
    cell_bin();
    let dir = tempdir("stall");
    let body = BASE
        .replace("repetitions = 3\nmax_repetitions = 4", "repetitions = 1")
        .replace("duration_s = 0.3", "duration_s = 2")
        .replace("concurrency = [4, 40]", "concurrency = [4]");
    let spec = write_spec(&dir, "stall", &format!("name = \"stall\"\n{body}"));
    let out = dir.join("run");
    let mut runner = std::process::Command::new(runner())
        .args(["run", "--quiet", "--seed", "3", "--out"])
        .arg(&out)
        .arg(&spec)
        .spawn()
        .unwrap();
    let pid = runner.id() as i32;
    // Wait (bounded) for the cell's process: a child other than the
    // calibration, which runs first.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(std::time::Instant::now() < deadline, "no cell process seen");
        let cell_running = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            ppid == Some(&pid.to_string())
                && String::from_utf8_lossy(&cmd).contains("threadloop-cell")
                && !String::from_utf8_lossy(&cmd).contains("--calibrate")
        });
        if cell_running {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(std::time::Duration::from_millis(600));
    unsafe { libc::kill(pid, libc::SIGCONT) };
    assert!(runner.wait().unwrap().success());
    let df = read_parquet(&out.join("results.parquet"));
    let status = strings(&df, "status");
    let stall = floats(&df, "stall_ms");
    assert_eq!(
        status,
        vec![Some("disturbed".to_string()), Some("ok".to_string())]
    );
    assert!(stall[0].unwrap() >= 500.0, "{stall:?}");
    assert!(stall[1].unwrap() < 100.0, "{stall:?}");
    let m = manifest(&out);
    let extras = m["extra_repetitions"].as_array().unwrap();
    assert_eq!(extras.len(), 1, "{extras:?}");
    assert!(
        extras[0]["why"]
            .as_str()
            .unwrap()
            .starts_with("replaces r0: the machine stalled"),
        "{extras:?}"
    );
}
