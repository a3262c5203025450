//! Drives one `threadloop-serve` server with `wrk` and with
//! `threadloop-loadgen`, one after the other, and reads what each measured.
//! Shared by the peer test and the peer benchmark.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use threadloop_engine::cell::{Cell, Load, ModelKind, Offload, Transport};
use threadloop_engine::wire::loadgen::WireReport;

/// What one generator measured: requests per second and mean latency.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub rps: f64,
    pub mean_ms: f64,
}

/// A cell of `model` over HTTP: `connections` clients, `io_ms` of timer.
pub fn cell(model: ModelKind, connections: u32, io_ms: f64, secs: f64) -> Cell {
    Cell {
        transport: Transport::Http,
        workers: model.has_workers().then_some(2),
        threads: model.has_pool().then_some(200),
        queue: model.has_pool().then_some(8292),
        offload: model.is_async().then_some(Offload::Inline),
        warmup_s: 0.5,
        duration_s: secs,
        timeout_ms: 5000,
        ..Cell::timer(
            model,
            Load::Closed {
                concurrency: connections,
            },
            io_ms,
        )
    }
}

/// The server, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` with the cell as JSON on its stdin (closed after).
fn with_cell(command: &mut Command, cell: &Cell) -> Child {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a threadloop binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cell).unwrap().as_bytes())
        .unwrap();
    child
}

/// A threadloop binary, run in the network namespace `netns` if one is given.
fn binary(netns: Option<&str>, exe: &str) -> Command {
    match netns {
        None => Command::new(exe),
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, exe]);
            c
        }
    }
}

/// `threadloop-serve` on a free loopback port.
pub fn serve(cell: &Cell) -> Server {
    serve_in(None, "127.0.0.1:0", cell)
}

/// `threadloop-serve --bind BIND`, in `netns` if given.
pub fn serve_in(netns: Option<&str>, bind: &str, cell: &Cell) -> Server {
    let mut child = with_cell(
        binary(netns, env!("CARGO_BIN_EXE_threadloop-serve")).args(["--bind", bind]),
        cell,
    );
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("threadloop-serve said {line:?}"))
        .to_string();
    Server { child, addr }
}

/// `wrk -t1 -cC -dS --latency` on the cell's one order. Panics with how to
/// install it when wrk is missing (`just setup` and CI install it).
pub fn wrk(cell: &Cell, server: &Server) -> Measured {
    let Load::Closed { concurrency } = cell.load else {
        panic!("closed loop only")
    };
    let order = threadloop_engine::wire::contract::Order {
        class: 0,
        cpu_ms: cell.cpu_ms,
        io: cell.io,
        io_ms: cell.io_latency_ms,
    };
    let url = format!("http://{}{}", server.addr, order.target());
    let out = Command::new("wrk")
        .args(["-t1", &format!("-c{concurrency}")])
        .arg(format!(
            "-d{}s",
            (cell.warmup_s + cell.duration_s).ceil() as u64
        ))
        .args(["--timeout", "5s", "--latency", &url])
        .output()
        .expect("wrk is not installed: `apt-get install wrk` (just setup does)");
    assert!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let mean_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Latency"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(wrk_ms)
        .unwrap_or_else(|| panic!("no Latency line in wrk's output:\n{text}"));
    assert!(
        !text.contains("Non-2xx"),
        "wrk saw answers other than 200:\n{text}"
    );
    Measured { rps, mean_ms }
}

/// wrk's durations: `812.00us`, `20.15ms`, `1.02s`.
fn wrk_ms(v: &str) -> f64 {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else {
        panic!("a wrk duration without a unit: {v}")
    };
    num.parse::<f64>().expect("a number") * scale
}

/// `threadloop-loadgen --target` with the cell on stdin: its window's rate
/// and mean latency.
pub fn loadgen(cell: &Cell, server: &Server) -> Measured {
    measured(cell, &loadgen_in(None, cell, server))
}

/// `threadloop-loadgen --target` in `netns` if given: its report.
pub fn loadgen_in(netns: Option<&str>, cell: &Cell, server: &Server) -> WireReport {
    let child = with_cell(
        binary(netns, env!("CARGO_BIN_EXE_threadloop-loadgen"))
            .args(["--target", &format!("http://{}", server.addr)]),
        cell,
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "threadloop-loadgen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let report: WireReport = serde_json::from_str(
        text.lines()
            .last()
            .unwrap_or_else(|| panic!("no report:\n{text}")),
    )
    .unwrap();
    report
}

/// A report's window rate and mean latency.
fn measured(cell: &Cell, report: &WireReport) -> Measured {
    let latency = threadloop_engine::run::decode_histogram(&report.latency).unwrap();
    Measured {
        rps: report.tallies.completed as f64 / cell.duration_s,
        mean_ms: latency.mean() / 1e3,
    }
}
