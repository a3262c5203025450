//! The HTTP transport end to end: a spec that runs the same cells in-process
//! and over HTTP, and the generator process dying with its cell.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BOTH: &str = r#"
name = "wire"
claim = "calibration"
title = "the same cells in-process and over HTTP"
repetitions = 1
duration_s = 0.5
warmup_s = 0.3

[load]
mode = "closed"
timeout_ms = 2000

[matrix]
model = ["threads", "tokio-current"]
transport = ["in-process", "http"]
threads = [4]
concurrency = [8]
io = ["timer"]
io_latency_ms = [10]
"#;

#[test]
fn one_spec_runs_each_cell_in_process_and_over_http() {
    let (_, df) = run_spec("wire", BOTH, &["--seed", "3"]);
    let text = |col: &str| -> Vec<String> {
        strings(&df, col)
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    };
    let count = |col: &str| -> Vec<i64> {
        ints(&df, col)
            .into_iter()
            .map(|v| v.unwrap_or(-1))
            .collect()
    };
    let (cells, transports, statuses) = (text("cell"), text("transport"), text("status"));
    assert_eq!(df.height(), 4, "{cells:?}");
    assert_eq!(statuses, vec!["ok"; 4], "{:?}", text("error"));
    for t in ["in-process", "http"] {
        assert_eq!(
            transports.iter().filter(|x| *x == t).count(),
            2,
            "{transports:?}"
        );
    }
    for (cell, t) in cells.iter().zip(&transports) {
        assert_eq!(cell.contains("-http-"), t == "http", "{cell} is {t}");
    }
    // Every cell answered requests, and none failed (a pool of 4 for 8
    // clients queues, but within the 2 s timeout).
    assert!(
        count("completed").iter().all(|&c| c > 0),
        "{:?}",
        count("completed")
    );
    assert!(
        count("errors").iter().all(|&e| e == 0),
        "{:?}",
        count("errors")
    );
}

#[test]
fn the_generator_dies_with_its_cell() {
    use threadloop_engine::cell::{Cell, Load, ModelKind, Offload, Transport};
    let cell = serde_json::to_string(&Cell {
        transport: Transport::Http,
        offload: Some(Offload::Inline),
        warmup_s: 0.2,
        duration_s: 20.0,
        ..Cell::timer(
            ModelKind::TokioCurrent,
            Load::Closed { concurrency: 4 },
            10.0,
        )
    })
    .unwrap();
    let mut child = Command::new(cell_bin())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(cell.as_bytes()).unwrap();
    }
    let is_loadgen = |p: &u32| {
        std::fs::read_to_string(format!("/proc/{p}/cmdline"))
            .unwrap_or_default()
            .contains("threadloop-loadgen")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let generator = loop {
        if let Some(g) = children_of(child.id()).into_iter().find(is_loadgen) {
            break g;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read as _;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the cell ended ({status}) before its generator appeared: {err}");
        }
        assert!(Instant::now() < deadline, "no generator process appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{generator}/cmdline")).exists()
        && is_loadgen(&generator)
    {
        // A zombie is gone in all but name: its parent (init) reaps it.
        let state = std::fs::read_to_string(format!("/proc/{generator}/stat")).unwrap_or_default();
        if state
            .rsplit_once(')')
            .map(|x| x.1.trim_start().starts_with('Z'))
            == Some(true)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the generator {generator} outlived its cell"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
