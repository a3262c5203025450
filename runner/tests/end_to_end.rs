//! Short real runs of every model through the `runner` binary.

mod common;
use common::*;
use polars::prelude::*;

const COLUMNS: &[&str] = &[
    "run_id",
    "experiment",
    "claim",
    "cell",
    "repetition",
    "model",
    "threads",
    "workers",
    "concurrency",
    "rate_rps",
    "io",
    "io_latency_ms",
    "cpu_ms",
    "cpu_ratio",
    "offload",
    "load_mode",
    "duration_s",
    "completed",
    "errors",
    "rejected",
    "timeouts",
    "throughput_rps",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "loop_lag_p99_ms",
    "loop_lag_max_ms",
    "rss_peak_bytes",
    "cpu_user_s",
    "cpu_sys_s",
    "ctx_voluntary",
    "ctx_involuntary",
    "threads_peak",
    "theory_throughput_rps",
    "fidelity",
    "status",
    "error",
];

#[test]
fn every_model_runs_and_writes_rows_and_columns() {
    let (out, df) = run_spec(
        "all-models",
        r#"name = "all-models"
claim = "calibration"
title = "every model, briefly"
repetitions = 2
duration_s = 0.4
warmup_s = 0.1
[load]
timeout_ms = 1000
[matrix]
model = ["threads", "threads-async-io", "thread-per-request", "tokio", "tokio-current", "async-std", "smol", "smol-local", "coroutines"]
threads = [4]
concurrency = [8]
io_latency_ms = [5]
cpu_ms = [0.2]
"#,
        &["--seed", "3"],
    );
    assert_eq!(df.height(), 9 * 2, "9 models × 2 repetitions");
    for c in COLUMNS {
        assert!(df.column(c).is_ok(), "column {c} missing");
    }
    assert!(
        strings(&df, "status")
            .iter()
            .all(|s| s.as_deref() == Some("ok")),
        "{df}"
    );
    assert!(
        ints(&df, "completed").iter().all(|c| c.unwrap() > 0),
        "every cell completed requests"
    );
    // The pool of 4 with 5.2 ms requests cannot exceed 4 / 5.2 ms; a small
    // tolerance covers rounding of the window.
    let threads = df
        .clone()
        .lazy()
        .filter(col("model").eq(lit("threads")))
        .select([
            col("throughput_rps"),
            col("theory_throughput_rps"),
            col("cpu_work_mean_ms"),
        ])
        .collect()
        .unwrap();
    let x = floats(&threads, "throughput_rps");
    let bound = floats(&threads, "theory_throughput_rps");
    let cpu = floats(&threads, "cpu_work_mean_ms");
    for i in 0..threads.height() {
        let (x, bound, cpu) = (x[i].unwrap(), bound[i].unwrap(), cpu[i].unwrap());
        assert!(
            x <= bound * 1.05,
            "pool throughput {x} above its bound {bound}"
        );
        assert!(
            cpu > 0.05 && cpu < 1.0,
            "0.2 ms of calibrated work measured as {cpu} ms"
        );
    }
    let lat = read_parquet(&out.join("latency.parquet"));
    assert!(lat.height() > 18, "a spectrum per cell × repetition");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["cells_total"], 9);
    assert_eq!(manifest["seed"], 3);
    assert!(manifest["crates"]["tokio"].is_string());
    assert!(manifest["ended_at"].is_string());
    // One file per execution, a disturbed one's and its repeat's too.
    let executions = read_parquet(&out.join("results.parquet")).height();
    assert!(executions >= 18);
    assert_eq!(
        std::fs::read_dir(out.join("cells")).unwrap().count(),
        executions
    );
}

#[test]
fn pinned_coroutines_hold_their_carriers() {
    // 2 carriers, 20 ms of I/O, 40 clients: yielding serves ~40 / 20 ms;
    // pinned, at most 2 requests are in service at once (2 / 20 ms = 100/s).
    let (_, df) = run_spec(
        "pin",
        r#"name = "pin"
claim = "H10"
title = "pinning"
repetitions = 1
duration_s = 1
warmup_s = 0.3
[load]
timeout_ms = 10000
[matrix]
model = ["coroutines"]
workers = [2]
concurrency = [40]
io_latency_ms = [20]
pinning = ["none", "blocking-syscall", "mutex"]
"#,
        &[],
    );
    let pinning = strings(&df, "pinning");
    let x = floats(&df, "throughput_rps");
    let of = |p: &str| {
        x[pinning
            .iter()
            .position(|q| q.as_deref() == Some(p))
            .unwrap()]
        .unwrap()
    };
    assert!(
        of("blocking-syscall") <= 110.0,
        "pinned: {}",
        of("blocking-syscall")
    );
    assert!(of("mutex") <= 110.0, "pinned by a lock: {}", of("mutex"));
    assert!(
        of("none") > 5.0 * of("blocking-syscall"),
        "yielding {} vs pinned {}",
        of("none"),
        of("blocking-syscall")
    );
}

#[test]
fn open_loop_counts_from_the_intended_send_time() {
    // 200 req/s into one thread that takes 10 ms each: rho = 2, the queue
    // grows, and CO-corrected latency must grow far beyond the service time.
    let (_, df) = run_spec(
        "open",
        r#"name = "open"
claim = "calibration"
title = "overload"
repetitions = 1
duration_s = 1
warmup_s = 0
[load]
mode = "open"
arrival = "constant"
timeout_ms = 10000
[matrix]
model = ["threads"]
threads = [1]
rate_rps = [200]
io_latency_ms = [10]
"#,
        &[],
    );
    let p99 = floats(&df, "latency_p99_ms")[0].unwrap();
    let x = floats(&df, "throughput_rps")[0].unwrap();
    let rho = floats(&df, "utilisation")[0].unwrap();
    assert!((rho - 2.0).abs() < 0.05, "rho {rho}");
    assert!(
        x < 110.0,
        "one thread of 10 ms serves at most ~100/s, got {x}"
    );
    assert!(
        p99 > 300.0,
        "queueing must show in CO-corrected latency, p99 {p99} ms"
    );
}

#[test]
fn a_request_mix_gets_a_row_per_class() {
    let (_, df) = run_spec(
        "mix",
        r#"name = "mix"
claim = "H5"
title = "light and heavy"
repetitions = 1
duration_s = 0.6
warmup_s = 0.2
[matrix]
model = ["tokio-current", "threads"]
threads = [4]
concurrency = [8]
io_latency_ms = [2]
cpu_ms = [3]
[[class]]
name = "light"
weight = 3
cpu_ms = 0
[[class]]
name = "heavy"
weight = 1
"#,
        &[],
    );
    assert_eq!(
        df.height(),
        2 * 3,
        "per cell: the whole-cell row and one per class"
    );
    let class = strings(&df, "class");
    let cells = strings(&df, "cell");
    let completed = ints(&df, "completed");
    let cpu = floats(&df, "cpu_work_mean_ms");
    for (i, c) in class.iter().enumerate() {
        if c.as_deref() == Some("all") {
            let base = cells[i].clone().unwrap();
            let light = cells
                .iter()
                .position(|x| x.as_deref() == Some(&format!("{base}~light")))
                .unwrap();
            let heavy = cells
                .iter()
                .position(|x| x.as_deref() == Some(&format!("{base}~heavy")))
                .unwrap();
            assert_eq!(class[light].as_deref(), Some("light"));
            let (all, l, h) = (
                completed[i].unwrap(),
                completed[light].unwrap(),
                completed[heavy].unwrap(),
            );
            assert_eq!(
                l + h,
                all,
                "{base}: the classes partition the completed requests"
            );
            assert!(
                l > h,
                "{base}: weights 3:1 give more light requests ({l} vs {h})"
            );
            // Only heavy requests do CPU work: its measured mean over the cell
            // is the heavy requests' 3 ms (light ones record none).
            assert!(cpu[i].unwrap() > 1.5, "{base}: cpu {:?}", cpu[i]);
        }
    }
}
