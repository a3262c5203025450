//! The `http` I/O kind end to end: a real downstream process, every model ×
//! client, the downstream's counts against the cell's.

mod common;
use common::*;
use std::process::Command;

#[test]
fn every_model_and_client_calls_the_downstream_and_the_counts_agree() {
    let (out, df) = run_spec(
        "http",
        r#"name = "http"
claim = "H7"
title = "http, briefly"
repetitions = 1
duration_s = 0.5
warmup_s = 0.2
[load]
timeout_ms = 3000
[matrix]
model = ["threads", "threads-async-io", "thread-per-request", "tokio", "tokio-current", "async-std", "smol", "smol-local", "coroutines"]
threads = [4]
concurrency = [8]
io = ["http"]
io_latency_ms = [5]
client = ["async", "blocking", "blocking-offload"]
pinning = ["blocking-syscall"]
"#,
        &["--seed", "9"],
    );
    // threads, threads-async-io, thread-per-request, coroutines: one cell
    // each; 5 async models × 3 clients.
    assert_eq!(df.height(), 4 + 5 * 3);
    assert!(
        strings(&df, "status")
            .iter()
            .all(|s| s.as_deref() == Some("ok")),
        "{df}"
    );
    let completed = ints(&df, "completed");
    let errors = ints(&df, "errors");
    let ok = ints(&df, "io_calls_ok");
    let answered = ints(&df, "downstream_answered");
    let received = ints(&df, "downstream_received");
    let cells = strings(&df, "cell");
    for i in 0..df.height() {
        let cell = cells[i].as_deref().unwrap();
        assert!(completed[i].unwrap() > 0, "{cell}: no request completed");
        assert_eq!(errors[i], Some(0), "{cell}");
        // Every response the cell's clients read was answered by the
        // downstream for this execution's tag, and nothing else was.
        assert_eq!(ok[i], answered[i], "{cell}: read vs answered");
        assert_eq!(answered[i], received[i], "{cell}: answered vs received");
        assert!(
            ok[i].unwrap() >= completed[i].unwrap(),
            "{cell}: window counts are a subset"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let total = manifest["downstream"]["requests_answered"]
        .as_u64()
        .unwrap();
    // Every execution's, a disturbed one's too (run_spec leaves those out).
    let all = read_parquet(&out.join("results.parquet"));
    assert_eq!(
        total as i64,
        ints(&all, "io_calls_ok")
            .iter()
            .map(|v| v.unwrap())
            .sum::<i64>(),
        "the run's total matches the cells'"
    );
}

#[test]
fn a_refused_downstream_is_counted_as_errors_and_the_cell_goes_on() {
    let cell_bin = cell_bin();
    // Nothing listens on port 9 of loopback (discard); connections are refused.
    let cell = serde_json::json!({
        "model": "tokio", "threads": null, "queue": null, "workers": 2, "pool_threads": null,
        "load": {"mode": "closed", "concurrency": 4}, "io": "http", "io_latency_ms": 5.0, "cpu_ms": 0.0,
        "offload": "inline", "client": "async", "downstream": "127.0.0.1:9",
        "timeout_ms": 500, "retry_after_ms": 10, "max_in_flight": 1000, "warmup_s": 0.1, "duration_s": 0.5,
        "seed": 1, "cpu_iters_per_ms": 1000.0, "cores": 2
    });
    let mut child = Command::new(cell_bin)
        .env("ASYNC_STD_THREAD_COUNT", "2")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cell.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // The count query itself fails against a dead downstream: the cell says so clearly.
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        let o: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(o["completed"], 0);
        let errors = o["errors"].as_u64().unwrap();
        assert!(errors > 0);
        // Each client backs off 10 ms after an error: at most 4 x (0.5 s /
        // 10 ms + 1) attempts in the window, not an error storm.
        assert!(errors <= 4 * 51, "{errors} errors in 0.5 s: no back-off");
    } else {
        assert!(
            !stdout.contains("\"completed\""),
            "no outcome on a failed cell"
        );
    }
}
