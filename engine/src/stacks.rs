//! The essay's own stacks as servers under test: Tomcat (a blocking servlet
//! on a pool, an async servlet, virtual threads; Java 21 or 25) and FastAPI
//! on uvicorn. Each lives in `stacks/<name>/` with a `setup.sh` and a `serve`
//! launcher (`stacks/CONTRACT.md`, "Foreign stacks"); a cell starts one as a
//! process of its own, reads where it listens, measures that process, and
//! stops it when the cell ends. It dies with the cell however the cell ends
//! (`PR_SET_PDEATHSIG`).

use crate::cell::{Cell, Client, DbQuery, Factor as _, ModelKind, Offload, Pinning, Stack};
use crate::measure::LagRecorder;
use crate::outcome::StackReport;
use crate::server::Model;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the stacks are: `THREADLOOP_STACKS`, else this repository's `stacks/`.
pub const DIR_ENV: &str = "THREADLOOP_STACKS";
/// How long a stack may take to print `LISTENING` (a JVM starts in ~2 s here).
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long a stack gets to stop after SIGTERM before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(5);
/// The launchers' exit status for "not installed".
const NOT_INSTALLED: i32 = 3;
/// Lines of a stack's stderr kept for the reason of a failure.
const STDERR_LINES: usize = 20;

/// A stack that could not serve its cell.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{message} (the cell is skipped: install it with `just setup`)")]
    NotInstalled { message: String },
    #[error("the {stack} stack cannot run this cell: {why}")]
    Unsupported { stack: Stack, why: String },
    #[error("{model} is a Rust model, not a stack: it runs in threadloop's own process")]
    NotAStack { model: ModelKind },
    #[error("the {stack} stack did not start: {why}")]
    Start { stack: Stack, why: String },
}

/// The directory of one stack: under `THREADLOOP_STACKS`, else the working
/// directory's `stacks/` (runs start at the repository's root), else the
/// `stacks/` of the repository this was built from.
pub fn dir(stack: Stack) -> PathBuf {
    let root = std::env::var_os(DIR_ENV)
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("stacks")).filter(|p| p.join("CONTRACT.md").is_file()))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../stacks")));
    root.join(<&str>::from(stack))
}

/// `Some(reason)` when the cell's stack is not installed (its launcher's
/// `--check`): the runner then records the cell as skipped, with how to
/// install it, and never starts it. `None` for Rust models.
pub fn missing(cell: &Cell) -> Option<String> {
    let stack = cell.model.stack()?;
    let launcher = dir(stack).join("serve");
    let mut command = Command::new(&launcher);
    if let Some(j) = cell.java {
        command.args(["--java", &j.to_string()]);
    }
    match command.arg("--check").stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr);
            let last = said.lines().rev().find(|l| !l.trim().is_empty());
            Some(format!(
                "{} (install with `just setup`)",
                last.unwrap_or("the stack's launcher refused --check")
                    .trim()
            ))
        }
        Err(e) => Some(format!(
            "the {stack} stack's launcher {}: {e}",
            launcher.display()
        )),
    }
}

/// The launcher's flags for `cell` (names and values are the spec's factors).
pub fn args(cell: &Cell) -> Result<(Stack, Vec<String>), StackError> {
    let stack = cell
        .model
        .stack()
        .ok_or(StackError::NotAStack { model: cell.model })?;
    let unsupported = |why: String| StackError::Unsupported { stack, why };
    let mut a: Vec<String> = vec!["--port".into(), "0".into()];
    let mut flag = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    match cell.model {
        ModelKind::TomcatPool | ModelKind::TomcatAsync | ModelKind::TomcatVirtual => {
            flag("--java", cell.java.unwrap_or(21).to_string());
            let mode = match cell.model {
                ModelKind::TomcatPool => "pool",
                ModelKind::TomcatAsync => "async",
                _ => "virtual",
            };
            flag("--mode", mode.into());
            if let Some(t) = cell.threads {
                flag("--max-threads", t.to_string());
                // The essay's remedy raises the spare threads with the pool
                // (500 threads, 50 spare); Tomcat's default is 10.
                flag("--min-spare", (t / 10).clamp(1, 50).min(t).to_string());
            }
            flag("--accept-count", crate::models::ACCEPT_COUNT.to_string());
            match (cell.model, cell.queue) {
                (_, Some(q)) => {
                    let max = q.saturating_sub(crate::models::ACCEPT_COUNT).max(1);
                    flag("--max-connections", max.to_string());
                }
                // Virtual threads have no pool to protect: Tomcat's default
                // of 8,192 connections would leave the rest of a 10,000-client
                // cell in the accept queue, so no limit (-1), as a
                // deployment chosen for its scale would set it.
                (ModelKind::TomcatVirtual, None) => flag("--max-connections", "-1".into()),
                _ => {}
            }
            match cell.pinning {
                None => {}
                Some(p @ (Pinning::None | Pinning::Synchronized | Pinning::Jdbc)) => {
                    flag("--pinning", p.name().into())
                }
                Some(p) => return Err(unsupported(format!("pinning = {p} is the coroutines'"))),
            }
        }
        ModelKind::Fastapi => {
            flag(
                "--client",
                cell.client.unwrap_or(Client::Async).name().into(),
            );
            match cell.offload.unwrap_or(Offload::Inline) {
                Offload::Inline => flag("--offload", "inline".into()),
                Offload::WorkerPool => {
                    flag("--offload", "worker-pool".into());
                    if let Some(n) = cell.pool_threads {
                        flag("--pool-threads", n.to_string());
                    }
                }
                Offload::SpawnBlocking => {
                    return Err(unsupported(
                        "offload = spawn-blocking is a Rust runtime's pool; FastAPI offloads to a worker-pool (run_in_executor)".into(),
                    ))
                }
            }
        }
        m => return Err(StackError::NotAStack { model: m }),
    }
    if cell.uses_postgres() {
        flag(
            "--db-pool",
            cell.db_pool.unwrap_or(crate::db::DEFAULT_POOL).to_string(),
        );
        flag(
            "--db-query",
            cell.db_query.unwrap_or(DbQuery::Sleep).name().into(),
        );
    }
    if let (true, Some(d)) = (cell.uses_http(), &cell.downstream) {
        flag("--downstream", d.clone());
    }
    if cell.loop_debug == Some(true) {
        a.push("--debug".into());
    }
    Ok((stack, a))
}

/// A stack serving one cell: its process, killed when this is dropped.
pub struct StackServer {
    stack: Stack,
    child: Mutex<Child>,
    addr: SocketAddr,
    /// From the launch to the `LISTENING` line (the JVM's or Python's start,
    /// the stack's calibration, its pools opened).
    pub startup: Duration,
    /// The cell has a counter only the stack keeps (JFR's pinned events on
    /// virtual threads, asyncio debug mode's slow callbacks), so `/stats` is
    /// read after the window. Only then: a request to a pinned or blocked
    /// server waits behind every request already queued (100 clients of a
    /// loop blocked 50 ms each: 5 s), time the run-all does not have.
    counters: bool,
}

impl StackServer {
    /// Starts the cell's stack; returns once it listens.
    pub fn start(cell: &Cell) -> Result<StackServer, StackError> {
        let (stack, args) = args(cell)?;
        let launcher = dir(stack).join("serve");
        let start_err = |why: String| StackError::Start { stack, why };
        let mut command = Command::new(&launcher);
        command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The stack dies with the cell, however the cell ends.
        crate::child::dies_with_parent(&mut command);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| start_err(format!("{}: {e}", launcher.display())))?;
        let tail = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let t = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() == STDERR_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        let (tx, rx) = crossbeam_channel::bounded(1);
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Drain the rest so the stack never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx.recv_timeout(START_LIMIT).ok().flatten();
        let port = line
            .as_deref()
            .and_then(|l| l.trim().strip_prefix("LISTENING "))
            .and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait().ok();
            // Let the stderr reader take the last lines.
            std::thread::sleep(Duration::from_millis(50));
            let log: Vec<String> = tail
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned()
                .collect();
            let last = log.last().cloned().unwrap_or_else(|| "no message".into());
            if status.and_then(|s| s.code()) == Some(NOT_INSTALLED) {
                return Err(StackError::NotInstalled { message: last });
            }
            return Err(start_err(match line {
                Some(l) => format!(
                    "said {l:?} instead of `LISTENING <port>`; stderr: {}",
                    log.join(" | ")
                ),
                None => format!(
                    "no `LISTENING <port>` within {START_LIMIT:?} ({}); stderr: {}",
                    status.map_or("still running".into(), |s| s.to_string()),
                    log.join(" | ")
                ),
            }));
        };
        Ok(StackServer {
            stack,
            child: Mutex::new(child),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            startup: started.elapsed(),
            counters: cell.model == ModelKind::TomcatVirtual || cell.loop_debug == Some(true),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The stack's own counters (`GET /stats`: JFR pinned events, asyncio's
    /// slow callbacks), read once after the window.
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let mut s = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        write!(
            s,
            "GET /stats HTTP/1.1\r\nhost: stack\r\nconnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut text = String::new();
        s.read_to_string(&mut text).map_err(|e| e.to_string())?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .ok_or("no answer")?;
        serde_json::from_str(body.trim()).map_err(|e| format!("{e}: {body:?}"))
    }
}

impl Model for StackServer {
    /// No loop-lag probe: the loop is in another process (the JVM's, Python's).
    fn start_probe(&self, _lag: Arc<LagRecorder>) {}

    fn process(&self) -> Option<u32> {
        Some(self.child.lock().unwrap_or_else(|p| p.into_inner()).id())
    }

    fn stack_report(&self) -> (Option<StackReport>, Vec<String>) {
        let mut report = StackReport {
            startup_s: self.startup.as_secs_f64(),
            ..StackReport::default()
        };
        let mut notes = Vec::new();
        if !self.counters {
            return (Some(report), notes);
        }
        match self.stats() {
            Ok(stats) => {
                let count = |k: &str| stats.get(k).and_then(serde_json::Value::as_u64);
                // Tomcat counts pinning only where it can happen (virtual threads).
                let counted = stats
                    .get("pinned_counted")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(true);
                report.pinned = count("pinned").filter(|_| counted);
                report.slow_callbacks = count("slow_callbacks");
            }
            Err(e) => notes.push(format!(
                "the {} stack's /stats did not answer: {e}",
                self.stack
            )),
        }
        (Some(report), notes)
    }
}

impl Drop for StackServer {
    /// SIGTERM, then SIGKILL if it has not stopped within [`STOP_LIMIT`].
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        // SAFETY: signalling our own child, which has not been reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{Load, Transport};

    fn cell(model: ModelKind) -> Cell {
        Cell {
            transport: Transport::Http,
            ..Cell::timer(model, Load::Closed { concurrency: 10 }, 100.0)
        }
    }

    #[test]
    fn tomcat_flags_carry_the_pool_the_java_and_the_pinning() {
        let c = Cell {
            threads: Some(200),
            queue: Some(8292),
            java: Some(25),
            ..cell(ModelKind::TomcatPool)
        };
        let (stack, a) = args(&c).unwrap();
        assert_eq!(stack, Stack::Tomcat);
        assert_eq!(
            a.join(" "),
            "--port 0 --java 25 --mode pool --max-threads 200 --min-spare 20 \
             --accept-count 100 --max-connections 8192"
        );
        let v = Cell {
            pinning: Some(Pinning::Synchronized),
            ..cell(ModelKind::TomcatVirtual)
        };
        assert!(args(&v).unwrap().1.join(" ").ends_with(
            "--mode virtual --accept-count 100 --max-connections -1 --pinning synchronized"
        ));
        let wrong = Cell {
            pinning: Some(Pinning::Mutex),
            ..cell(ModelKind::TomcatVirtual)
        };
        assert!(args(&wrong).unwrap_err().to_string().contains("coroutines"));
    }

    #[test]
    fn fastapi_flags_carry_the_client_and_the_offload() {
        let c = Cell {
            client: Some(Client::BlockingOffload),
            offload: Some(Offload::WorkerPool),
            pool_threads: Some(10),
            ..cell(ModelKind::Fastapi)
        };
        let (_, a) = args(&c).unwrap();
        assert_eq!(
            a.join(" "),
            "--port 0 --client blocking-offload --offload worker-pool --pool-threads 10"
        );
        let debug = Cell {
            loop_debug: Some(true),
            ..cell(ModelKind::Fastapi)
        };
        assert_eq!(
            args(&debug).unwrap().1.join(" "),
            "--port 0 --client async --offload inline --debug"
        );
        let rust = cell(ModelKind::Tokio);
        assert!(matches!(
            args(&rust),
            Err(StackError::NotAStack {
                model: ModelKind::Tokio
            })
        ));
    }

    #[test]
    fn a_missing_stack_says_how_to_install_it() {
        // A stacks directory whose launcher exits 3, as an uninstalled one does.
        let root = std::env::temp_dir().join(format!("threadloop-stacks-{}", std::process::id()));
        let fastapi = root.join("fastapi");
        std::fs::create_dir_all(&fastapi).unwrap();
        let serve = fastapi.join("serve");
        std::fs::write(
            &serve,
            "#!/bin/sh\necho 'FastAPI stack not installed: run stacks/fastapi/setup.sh' >&2\nexit 3\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&serve, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::env::set_var(DIR_ENV, &root);
        let skipped = missing(&cell(ModelKind::Fastapi)).expect("not installed");
        assert!(
            skipped.contains("setup.sh") && skipped.contains("just setup"),
            "{skipped}"
        );
        assert_eq!(missing(&cell(ModelKind::Tokio)), None);
        let e = StackServer::start(&cell(ModelKind::Fastapi))
            .err()
            .expect("not installed");
        std::env::remove_var(DIR_ENV);
        std::fs::remove_dir_all(&root).unwrap();
        let msg = e.to_string();
        assert!(matches!(e, StackError::NotInstalled { .. }), "{msg}");
        assert!(
            msg.contains("stacks/fastapi/setup.sh") && msg.contains("just setup"),
            "{msg}"
        );
    }
}
