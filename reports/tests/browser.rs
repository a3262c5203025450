//! Browser test: a real short run (the release `runner` and `threadloop-cell`
//! binaries) → the report → headless Chromium (`/usr/bin/chromium`, driven
//! by `playwright-core` from `tests/browser/`): no console errors, every
//! chart's SVG has a rendered size, and screenshots land in
//! `target/artifacts/` (`report.png`, `report-first-screen.png`, plus the
//! page itself as `report.html`).
//!
//! Needs: `cargo build --release --workspace` (the runner and the cell
//! binary), `node` ≥ 18 with `npm`, and Debian's `chromium` (or `CHROMIUM`
//! set to a Chromium binary). When `tests/browser/node_modules` is missing
//! the test runs `npm ci --prefix reports/tests/browser` itself (needs the
//! npm registry; bounded by a timeout).

mod common;
use common::tmp;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use threadloop_reports::{analysis, load, render};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// Runs `cmd` to completion or kills it after `limit`; stdout and stderr
/// are collected on threads so a chatty child cannot block on a full pipe.
fn run(mut cmd: Command, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
            panic!("{what} did not finish within {limit:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A small closed-loop experiment: 3 models × 2 concurrencies × 2
/// repetitions of 0.5 s. The title carries a script tag: it must reach the
/// browser as text (the check fails on any `<script>` element or console
/// error).
const SPEC: &str = r#"
name = "browser-check"
claim = "calibration"
title = 'Browser check <script>console.error("title not escaped")</script>'
description = "A short closed-loop run for the report's browser test: 5 ms timer I/O."
repetitions = 2
duration_s = 0.5
warmup_s = 0.1

[load]
mode = "closed"
timeout_ms = 5000

[matrix]
model = ["tokio", "smol", "threads"]
threads = [4]
concurrency = [4, 16]
io = ["timer"]
io_latency_ms = [5]

[[verdict]]
text = "every async model reaches 80% of the Little's-law bound"
metric = "fidelity"
filter = { model = ["tokio", "smol"] }
compare = ">="
threshold = 0.8
"#;

#[test]
fn real_run_report_renders_in_chromium() {
    let ws = workspace();
    let release = ws.join("target").join("release");
    for bin in ["runner", "threadloop-cell"] {
        assert!(
            release.join(bin).is_file(),
            "{} is missing: run `cargo build --release --workspace` first (the browser test \
             makes a real run with the release binaries)",
            release.join(bin).display()
        );
    }
    let browser_dir = ws.join("reports").join("tests").join("browser");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        node_ok,
        "`node` is not on PATH: the browser test needs Node.js >= 18 and npm \
         (Debian: apt-get install nodejs npm)"
    );
    if !browser_dir
        .join("node_modules")
        .join("playwright-core")
        .join("package.json")
        .is_file()
    {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&browser_dir)
            .current_dir(&ws);
        let o = run(npm, Duration::from_secs(300));
        assert!(
            o.status.success(),
            "`npm ci --prefix reports/tests/browser` failed (run it yourself from {}):\n{}{}",
            ws.display(),
            text(&o.stdout),
            text(&o.stderr)
        );
    }

    // (a) A real short run.
    let root = tmp("browser");
    let spec = root.join("browser-check.toml");
    std::fs::write(&spec, SPEC).unwrap();
    let run_dir = root.join("run");
    let mut runner = Command::new(release.join("runner"));
    runner
        .args(["run", "--quiet", "--seed", "1", "--out"])
        .arg(&run_dir)
        .arg(&spec)
        .current_dir(&root);
    let o = run(runner, Duration::from_secs(300));
    assert!(
        o.status.success(),
        "runner run failed ({}):\n{}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(
        run_dir.join("results.parquet").is_file(),
        "no results.parquet"
    );

    // (b) The report, rendered by this crate's library.
    let analysis = analysis::analyse(load::load_run(&run_dir).expect("load the run"));
    let written = render::write_report(&analysis, &root.join("reports")).expect("write report");
    let html = std::fs::read_to_string(&written.index).unwrap();
    assert!(html.contains("<svg"), "the report of a real run has charts");
    assert!(!html.to_ascii_lowercase().contains("<script"));

    // (c) Chromium.
    let artifacts = ws.join("target").join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    std::fs::copy(&written.index, artifacts.join("report.html")).unwrap();
    let mut node = Command::new("node");
    node.arg(browser_dir.join("check.mjs"))
        .arg(&written.index)
        .arg(&shot)
        .current_dir(&browser_dir);
    let o = run(node, Duration::from_secs(180));
    assert!(
        o.status.success(),
        "browser check failed ({}):\n{}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    println!("{}", text(&o.stdout));
    let _ = std::fs::remove_dir_all(&root);
}
