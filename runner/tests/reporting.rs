//! What a run tells: a failed cell's recorded error names its cause on the
//! first line (no backtrace unless asked for), and a run whose stderr is not
//! a terminal prints one line per finished execution.

mod common;
use common::*;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use threadloop_runner::exec::{ExecError, Executor};
use threadloop_runner::plan::{self, Machine};

/// A stack frame as Rust prints it: `   12: crate::path::fn`.
fn has_frame(s: &str) -> bool {
    s.lines().any(|l| {
        let t = l.trim_start();
        l.len() > t.len()
            && t.split_once(": ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A cell whose PostgreSQL refuses the connection (port 1): the blocking
/// driver (libpq, `threads`) and the async one (tokio-postgres, `tokio`).
#[test]
fn an_unreachable_server_is_the_first_line_of_the_error() {
    let dir = tempdir("unreachable");
    let spec = write_spec(
        &dir,
        "unreachable",
        r#"name = "unreachable"
claim = "H6"
title = "the server refuses"
repetitions = 1
duration_s = 0.3
warmup_s = 0.1
[matrix]
model = ["threads", "tokio"]
threads = [2]
workers = [1]
concurrency = [2]
io = ["postgres"]
io_latency_ms = [1]
db_pool = [1]
"#,
    );
    let spec = threadloop_runner::spec::load(&spec, None, false).unwrap();
    let cells = plan::expand(
        &spec,
        Machine {
            cores: 2,
            cpu_iters_per_ms: 1000.0,
        },
    );
    assert_eq!(cells.len(), 2);
    let executor = Executor {
        binary: cell_bin(),
        pg_url: Some("postgres://nobody@127.0.0.1:1/bench".into()),
    };
    let error = |cell| match executor.run(cell, &AtomicBool::new(false)) {
        Err(ExecError::Failed(e)) => e,
        Err(ExecError::Interrupted) => panic!("interrupted"),
        Ok(_) => panic!("a cell without a server succeeded"),
    };
    // The cell process inherits the environment: one test changes it, in
    // its own process under nextest.
    for backtrace in [false, true] {
        if backtrace {
            std::env::set_var("RUST_BACKTRACE", "1");
        } else {
            std::env::remove_var("RUST_BACKTRACE");
            std::env::remove_var("RUST_LIB_BACKTRACE");
        }
        for planned in &cells {
            let e = error(&planned.cell);
            let first = e.lines().next().unwrap();
            let what = format!("{} (RUST_BACKTRACE {backtrace})", planned.id);
            assert!(
                first.starts_with(
                    "cell process exit status 1: postgres: connect to PostgreSQL at 127.0.0.1:1 ("
                ),
                "{what}: {e}"
            );
            assert!(first.contains("Connection refused"), "{what}: {e}");
            assert!(!has_frame(first), "{what}: {e}");
            if backtrace {
                assert!(e.contains("Stack backtrace:"), "{what}: asked for: {e}");
                assert!(has_frame(&e), "{what}: {e}");
            } else {
                assert_eq!(e.lines().count(), 1, "{what}: {e}");
                assert!(!e.contains("backtrace"), "{what}: {e}");
            }
        }
    }
}

const SPEC: &str = r#"name = "progress"
claim = "H6"
title = "two ok, one failed"
repetitions = 1
duration_s = 0.2
warmup_s = 0.1
[matrix]
model = ["tokio", "threads"]
threads = [2]
workers = [1]
concurrency = [2]
io = ["timer", "postgres"]
io_latency_ms = [5]
db_pool = [1]
"#;

/// `runner run` through a pipe: one line per execution, `--quiet`: none.
#[test]
fn a_run_through_a_pipe_prints_a_line_per_execution() {
    cell_bin();
    let dir = tempdir("progress-lines");
    let spec = write_spec(&dir, "progress", SPEC);
    let run = |quiet: bool, out: &str| {
        let mut c = Command::new(runner());
        c.arg("run");
        if quiet {
            c.arg("--quiet");
        }
        // No server there: the two postgres cells fail, the timer cells run.
        let o = c
            .args([
                "--seed",
                "3",
                "--pg-url",
                "host=127.0.0.1 port=1 user=x dbname=y",
            ])
            .arg("--out")
            .arg(dir.join(out))
            .arg(&spec)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let stderr = run(false, "loud");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  [")).collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    for (k, l) in lines.iter().enumerate() {
        assert!(l.starts_with(&format!("  [{}/4] progress/", k + 1)), "{l}");
        assert!(l.contains(" r0 "), "{l}");
        assert!(l.contains(" s · elapsed "), "{l}");
        assert!(l.contains(" · ETA "), "{l}");
    }
    let ok = lines.iter().filter(|l| l.contains(" r0 ok ")).count();
    let failed: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(" r0 FAILED: "))
        .collect();
    assert_eq!((ok, failed.len()), (2, 2), "{stderr}");
    assert!(failed.iter().all(|l| l.contains("-postgres")), "{stderr}");
    // The cause, not a backtrace: the server is named.
    assert!(
        failed
            .iter()
            .all(|l| l.contains("connect to PostgreSQL at 127.0.0.1:1")),
        "{stderr}"
    );
    let quiet = run(true, "quiet");
    assert!(!quiet.lines().any(|l| l.starts_with("  [")), "{quiet}");
}
