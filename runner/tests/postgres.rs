//! PostgreSQL end to end: the server from the local image through
//! testcontainers (Docker must answer: `just setup` starts it), every model ×
//! driver, answers verified, the server's statement count against the
//! cells', no hidden runtime thread, a killed server, and the other backends.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const IMAGE: &str = "threadloop/postgres:15";

fn container_args() -> Vec<&'static str> {
    vec!["--pg", "container", "--pg-image", IMAGE]
}

fn manifest(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap()
}

/// Containers of a run still present (running or not).
fn containers_of(run_id: &str) -> Vec<String> {
    let o = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=threadloop.run={run_id}"),
        ])
        .output()
        .expect("docker CLI");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

const EVERY_MODEL: &str = r#"name = "pg-every-model"
claim = "H6"
title = "every model and driver against PostgreSQL"
repetitions = 1
duration_s = 0.5
warmup_s = 0.1
[load]
timeout_ms = 5000
[matrix]
model = ["threads", "threads-async-io", "thread-per-request", "coroutines", "tokio", "tokio-current", "async-std", "smol", "smol-local"]
threads = [4]
workers = [2]
concurrency = [8]
io = ["postgres"]
io_latency_ms = [0]
db_query = ["point", "update"]
driver = ["async", "blocking", "blocking-offload"]
db_pool = [3]
"#;

#[test]
fn every_model_and_driver_gets_verified_rows_and_the_server_counts_agree() {
    let (run, df) = run_spec("pg-every", EVERY_MODEL, &container_args());
    // 4 thread models + 5 async models × 3 drivers, × 2 queries.
    assert_eq!(df.height(), 2 * (4 + 5 * 3));
    let status = strings(&df, "status");
    let cells = strings(&df, "cell");
    let (verified, ok, server, conns, errors, completed) = (
        ints(&df, "db_verified"),
        ints(&df, "db_queries_ok"),
        ints(&df, "db_server_statements"),
        ints(&df, "db_server_connections"),
        ints(&df, "errors"),
        ints(&df, "completed"),
    );
    for i in 0..df.height() {
        let c = cells[i].as_deref().unwrap();
        assert_eq!(status[i].as_deref(), Some("ok"), "{c}");
        assert_eq!(verified[i], Some(3), "{c}: verification pass");
        assert_eq!(errors[i], Some(0), "{c}: a wrong row or a failed query");
        assert!(completed[i].unwrap() > 0, "{c}");
        // Every statement the server ran for the cell was answered right.
        assert_eq!(server[i], ok[i], "{c}: server statements vs driver count");
        assert!(ok[i].unwrap() >= completed[i].unwrap(), "{c}");
        assert_eq!(
            conns[i],
            Some(3),
            "{c}: the pool's connections as the server sees them"
        );
    }
    let m = manifest(&run);
    assert_eq!(m["postgres"]["backend"], "container");
    assert!(m["postgres"]["source"].as_str().unwrap().starts_with(IMAGE));
    assert!(m["postgres"]["settings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|kv| kv[0] == "fsync"));
    // Removed at the end of the run.
    let id = m["run_id"].as_str().unwrap();
    assert!(
        containers_of(id).is_empty(),
        "container of {id} left behind"
    );
}

#[test]
fn the_async_driver_adds_no_runtime_thread_on_smol_and_async_std() {
    let body = r#"name = "pg-threads"
claim = "H6"
title = "thread counts: timer vs async driver"
repetitions = 1
duration_s = 0.4
warmup_s = 0.1
[matrix]
model = ["smol", "async-std", "smol-local"]
workers = [2]
concurrency = [16]
io = ["timer", "postgres"]
io_latency_ms = [5]
driver = ["async"]
db_pool = [4]
"#;
    let (_, df) = run_spec("pg-threads", body, &container_args());
    let (models, io, peak, status) = (
        strings(&df, "model"),
        strings(&df, "io"),
        ints(&df, "threads_peak"),
        strings(&df, "status"),
    );
    assert!(status.iter().all(|s| s.as_deref() == Some("ok")));
    for m in ["smol", "async-std", "smol-local"] {
        let of = |kind: &str| {
            (0..df.height())
                .find(|&i| models[i].as_deref() == Some(m) && io[i].as_deref() == Some(kind))
                .map(|i| peak[i])
                .unwrap()
        };
        assert_eq!(
            of("postgres"),
            of("timer"),
            "{m}: the async driver must run on the runtime's own threads"
        );
    }
}

/// Waits (at most 120 s) for the run in `out` to write its manifest and start
/// its container: (run id, container id).
fn run_container(out: &Path) -> (String, String) {
    let t0 = Instant::now();
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no container appeared"
        );
        if let Ok(text) = std::fs::read_to_string(out.join("manifest.json")) {
            let m: serde_json::Value = serde_json::from_str(&text).unwrap();
            let run_id = m["run_id"].as_str().unwrap().to_string();
            if let Some(c) = containers_of(&run_id).first() {
                return (run_id, c.clone());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A cell's connections are open on the container's server.
fn cell_connected(container: &str) -> bool {
    let out = Command::new("docker")
        .args(["exec", container, "psql", "-U", "bench", "-tAc"])
        .arg("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'threadloop-cell'")
        .output();
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u32>()
                .ok()
        })
        .is_some_and(|n| n > 0)
}

#[test]
fn a_killed_server_fails_its_cell_and_the_run_goes_on() {
    cell_bin();
    let body = r#"name = "pg-kill"
claim = "H6"
title = "the server is killed mid-run"
repetitions = 3
duration_s = 1.0
warmup_s = 0.1
[load]
timeout_ms = 1000
[matrix]
model = ["tokio", "threads"]
threads = [4]
workers = [2]
concurrency = [4]
io = ["postgres", "timer"]
io_latency_ms = [20]
db_pool = [4]
"#;
    let dir = tempdir("pg-kill");
    let spec = write_spec(&dir, "pg-kill", body);
    let out = dir.join("run");
    let mut child = Command::new(runner())
        .args(["run", "--quiet", "--seed", "7"])
        .args(container_args())
        .arg("--out")
        .arg(&out)
        .arg(&spec)
        .spawn()
        .unwrap();
    // Wait for the run's container, let a cell start, then kill it.
    let id = run_container(&out);
    // Kill only once a cell is connected: the server's start-up (initdb and
    // the entrypoint's restart on a fresh image) takes a machine-dependent
    // time, and a kill during it tests start-up, not a cell.
    let t1 = Instant::now();
    while !cell_connected(&id.1) {
        assert!(
            t1.elapsed() < Duration::from_secs(120),
            "no cell connected to the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("docker")
        .args(["kill", &id.1])
        .status()
        .unwrap();
    assert!(killed.success());
    let st = child.wait().unwrap();
    assert!(st.success(), "the run must finish");
    let df = read_parquet(&out.join("results.parquet"));
    assert_eq!(df.height(), 12, "every execution recorded");
    let (status, io) = (strings(&df, "status"), strings(&df, "io"));
    let notes = strings(&df, "notes");
    let _ = notes;
    let failed: Vec<usize> = (0..df.height())
        .filter(|&i| status[i].as_deref() == Some("failed"))
        .collect();
    assert!(
        !failed.is_empty(),
        "the cell running at the kill is marked failed"
    );
    assert!(failed.iter().all(|&i| io[i].as_deref() == Some("postgres")));
    assert!(
        (0..df.height())
            .any(|i| io[i].as_deref() == Some("postgres") && status[i].as_deref() == Some("ok")),
        "later postgres cells run on the restarted server"
    );
    let m = manifest(&out);
    assert!(m["postgres"]["restarts"].as_u64().unwrap() >= 1);
    let records: Vec<String> = std::fs::read_dir(out.join("cells"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(records.iter().any(|r| r.contains("PostgreSQL went away")));
    // No error storm: each of the 4 clients backs off 10 ms (the default
    // retry_after_ms) after an error, so the 1.1 s run of the cell holds at
    // most 4 x (1100 / 10 + 1) failed requests; without the back-off it was
    // hundreds of thousands.
    for r in records
        .iter()
        .filter(|r| r.contains("PostgreSQL went away"))
    {
        let v: serde_json::Value = serde_json::from_str(r).unwrap();
        let e = v["error"].as_str().unwrap();
        if let Some(n) = e
            .split("went away during the cell (")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            assert!(n <= 4 * 111, "{n} failed requests: an error storm: {e}");
        }
    }
    assert!(containers_of(&id.0).is_empty(), "both containers removed");
}

#[test]
fn a_local_cluster_serves_when_there_is_no_docker() {
    let body = r#"name = "pg-local"
claim = "H6"
title = "local cluster"
repetitions = 1
duration_s = 0.3
warmup_s = 0.1
[matrix]
model = ["tokio-current", "threads"]
threads = [4]
concurrency = [4]
io = ["postgres"]
io_latency_ms = [10]
db_pool = [2]
"#;
    let (run, df) = run_spec("pg-local", body, &["--pg", "local"]);
    assert!(strings(&df, "status")
        .iter()
        .all(|s| s.as_deref() == Some("ok")));
    assert_eq!(
        ints(&df, "db_server_statements"),
        ints(&df, "db_queries_ok")
    );
    assert_eq!(manifest(&run)["postgres"]["backend"], "local");
}

#[test]
fn an_unreachable_server_fails_only_the_postgres_cells() {
    let body = r#"name = "pg-none"
claim = "H6"
title = "no server"
repetitions = 1
duration_s = 0.3
warmup_s = 0.1
[matrix]
model = ["tokio"]
concurrency = [4]
io = ["postgres", "timer"]
io_latency_ms = [10]
"#;
    let (_, df) = run_spec(
        "pg-none",
        body,
        &[
            "--pg-url",
            "host=127.0.0.1 port=1 user=x password=y dbname=z",
        ],
    );
    let (status, io) = (strings(&df, "status"), strings(&df, "io"));
    for i in 0..df.height() {
        let want = if io[i].as_deref() == Some("timer") {
            "ok"
        } else {
            "failed"
        };
        assert_eq!(status[i].as_deref(), Some(want));
    }
}

/// `--pg url` takes libpq keywords and a `postgres://` URL alike: the cells'
/// drivers (libpq for `threads`, tokio-postgres for `tokio-current`) and the
/// runner's admin client get their extra settings in the string's own form.
/// Before, a URL got keywords appended and the server was asked for a
/// database named "bench connect_timeout=10 ...".
#[test]
fn an_existing_server_is_reached_by_url_and_by_keywords() {
    use threadloop_runner::postgres::{Backend, PgOptions, PgServer};
    cell_bin();
    let server = PgServer::start(
        &PgOptions {
            backend: Backend::Local,
            url: None,
            image: None,
        },
        "test-url-forms",
    )
    .expect("a local cluster (PostgreSQL binaries: `just setup`)");
    let keywords = server.url.clone();
    let kw = |k: &str| {
        keywords
            .split_whitespace()
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} in {keywords}"))
            .to_string()
    };
    // The password is alphanumeric: nothing to percent-encode.
    let url = format!(
        "postgres://{}:{}@{}:{}/{}",
        kw("user"),
        kw("password"),
        kw("host"),
        kw("port"),
        kw("dbname")
    );
    let body = r#"name = "pg-forms"
claim = "H6"
title = "url and keyword connection strings"
repetitions = 1
duration_s = 0.3
warmup_s = 0.1
[matrix]
model = ["tokio-current", "threads"]
threads = [4]
concurrency = [4]
io = ["postgres"]
io_latency_ms = [10]
db_pool = [2]
"#;
    for (form, conninfo) in [("url", &url), ("keywords", &keywords)] {
        let (run, df) = run_spec(
            &format!("pg-forms-{form}"),
            body,
            &["--pg", "url", "--pg-url", conninfo],
        );
        let errors = std::fs::read_dir(run.join("cells"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            strings(&df, "status")
                .iter()
                .all(|s| s.as_deref() == Some("ok")),
            "{form}: {errors}"
        );
        assert_eq!(df.height(), 2, "{form}");
        assert_eq!(ints(&df, "db_verified"), vec![Some(3), Some(3)], "{form}");
        // The cells' application_name reached the server (it filters by it).
        assert_eq!(
            ints(&df, "db_server_connections"),
            vec![Some(2), Some(2)],
            "{form}"
        );
        // The admin client counted the server's statements in either form.
        assert_eq!(
            ints(&df, "db_server_statements"),
            ints(&df, "db_queries_ok"),
            "{form}"
        );
        assert_eq!(manifest(&run)["postgres"]["backend"], "url", "{form}");
    }
    drop(server);
}

/// Pids of the live processes named `name` whose parent is `parent`.
fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap() + 1..close];
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if comm == name && rest[0] != "Z" && rest[1].parse::<u32>().ok() == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// A process has exited (gone, or a zombie nobody has reaped yet).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
        .unwrap_or(true)
}

#[test]
fn a_hard_killed_runner_leaves_nothing_after_resume() {
    cell_bin();
    let body = r#"name = "pg-hard-kill"
claim = "H6"
title = "the runner is killed with SIGKILL mid-run"
repetitions = 3
duration_s = 1.0
warmup_s = 0.1
[load]
timeout_ms = 1000
[matrix]
model = ["tokio", "threads"]
threads = [4]
workers = [2]
concurrency = [4]
io = ["postgres"]
io_latency_ms = [20]
db_pool = [4]
"#;
    let dir = tempdir("hard-kill");
    let spec = write_spec(&dir, "pg-hard-kill", body);
    let out = dir.join("run");
    // Killed twice: the run, then its first resume; the second resume ends it.
    let first = Command::new(runner())
        .args(["run", "--quiet", "--seed", "11"]) // a run id of its own (seed 7 is pg-kill's)
        .args(container_args())
        .arg("--out")
        .arg(&out)
        .arg(&spec)
        .spawn()
        .unwrap();
    let (run_id, _) = run_container(&out);
    kill_mid_cell(first, &run_id);
    let again = Command::new(runner())
        .args(["run", "--quiet", "--resume"])
        .arg(&out)
        .args(container_args())
        .spawn()
        .unwrap();
    kill_mid_cell(again, &run_id);
    let resumed = Command::new(runner())
        .args(["run", "--quiet", "--resume"])
        .arg(&out)
        .args(container_args())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    // The resume removes the containers left behind (or a concurrent test's
    // runner did, which is the same code) and its own one at its end.
    assert!(containers_of(&run_id).is_empty(), "{stderr}");
    let df = read_parquet(&out.join("results.parquet"));
    assert_eq!(df.height(), 6, "every execution exactly once");
    let cells = strings(&df, "cell");
    let reps = df
        .column("repetition")
        .unwrap()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap();
    let reps = reps.i64().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (i, cell) in cells.iter().enumerate().take(df.height()) {
        assert!(seen.insert((cell.clone(), reps.get(i))), "a duplicate row");
    }
}

/// Kills `runner` with SIGKILL while one of its cells is connected to the
/// run's container, and checks that the cell process died with it and that
/// a container of the run was left behind (what the next run must remove).
fn kill_mid_cell(mut runner: std::process::Child, run_id: &str) {
    let t0 = Instant::now();
    let cells = loop {
        assert!(t0.elapsed() < Duration::from_secs(120), "no cell connected");
        let cells = children_named(runner.id(), "threadloop-cell");
        let connected = containers_of(run_id).iter().any(|c| cell_connected(c));
        if !cells.is_empty() && connected {
            break cells;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    runner.kill().unwrap(); // SIGKILL: no Drop, no handler runs
    runner.wait().unwrap();
    let t1 = Instant::now();
    while !cells.iter().all(|&p| exited(p)) {
        assert!(
            t1.elapsed() < Duration::from_secs(5),
            "the cell process outlived its runner"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !containers_of(run_id).is_empty(),
        "a container outlives a hard kill"
    );
}
