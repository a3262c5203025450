//! The essay's own stacks as servers under test: Tomcat (a blocking servlet
//! on a pool, an async servlet, virtual threads; Java 21 or 25) and FastAPI
//! on uvicorn. Each lives in `stacks/<name>/` with a `setup.sh` and a `serve`
//! launcher (`stacks/CONTRACT.md`, "Foreign stacks"); a cell starts one as a
//! process of its own, reads where it listens, measures that process, and
//! stops it when the cell ends. It dies with the cell however the cell ends
//! (`PR_SET_PDEATHSIG`).

use crate::cell::{Cell, Client, DbQuery, Factor as _, ModelKind, Offload, Stack};
use crate::measure::LagRecorder;
use crate::outcome::StackReport;
use crate::server::Model;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
pub use threadloop_vocab::stack::{StackDecl, StackFlag};

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
    root.join(stack.decl().dir)
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

/// The launcher's flags for `cell` (names and values are the spec's
/// factors): `--port 0`, the groups its declaration lists
/// ([`Stack::decl`]), then those every stack takes.
pub fn args(cell: &Cell) -> Result<(Stack, Vec<String>), StackError> {
    let stack = cell
        .model
        .stack()
        .ok_or(StackError::NotAStack { model: cell.model })?;
    let decl = stack.decl();
    let mut a: Vec<String> = vec!["--port".into(), "0".into()];
    for group in decl.flags {
        flags(cell, stack, *group, &mut a)?;
    }
    let mut flag = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
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
    // The stack options, as declared (`SettingDef::flag`): each set only
    // where it applies, so for its own stack's cells.
    for def in threadloop_vocab::factors::SETTINGS {
        if let Some(v) = cell.setting(def.setting) {
            a.extend(def.flag(v));
        }
    }
    Ok((stack, a))
}

/// One group of a stack's flags, from the cell's factors.
fn flags(
    cell: &Cell,
    stack: Stack,
    group: StackFlag,
    a: &mut Vec<String>,
) -> Result<(), StackError> {
    let unsupported = |why: String| StackError::Unsupported { stack, why };
    let mut flag = |k: &str, v: String| {
        a.push(k.into());
        a.push(v);
    };
    match group {
        StackFlag::Java => {
            let default = stack.decl().java.first().copied();
            match cell.java.or(default) {
                Some(j) => flag("--java", j.to_string()),
                None => return Err(unsupported("it declares no Java version".into())),
            }
        }
        StackFlag::Mode => {
            let prefix = format!("{}-", stack.decl().dir);
            let mode = cell.model.name().strip_prefix(&prefix).ok_or_else(|| {
                unsupported(format!("its model {} is not named {prefix}<mode>", cell.model))
            })?;
            flag("--mode", mode.into());
        }
        StackFlag::Pool => {
            if let Some(t) = cell.threads {
                flag("--max-threads", t.to_string());
                // The essay's remedy raises the spare threads with the pool
                // (500 threads, 50 spare); Tomcat's default is 10.
                flag("--min-spare", (t / 10).clamp(1, 50).min(t).to_string());
            }
            flag("--accept-count", crate::models::ACCEPT_COUNT.to_string());
            match cell.queue {
                Some(q) => {
                    let max = q.saturating_sub(crate::models::ACCEPT_COUNT).max(1);
                    flag("--max-connections", max.to_string());
                }
                // A model without a pool (virtual threads) has none to
                // protect: Tomcat's default of 8,192 connections would leave
                // the rest of a 10,000-client cell in the accept queue, so no
                // limit (-1), as a deployment chosen for its scale would set it.
                None if !cell.model.has_pool() => flag("--max-connections", "-1".into()),
                None => {}
            }
        }
        StackFlag::Pinning => match cell.pinning {
            None => {}
            Some(p) if p.applies_to(cell.model) => flag("--pinning", p.name().into()),
            Some(p) => {
                let owners: Vec<&str> = ModelKind::all()
                    .into_iter()
                    .filter(|m| p.applies_to(*m))
                    .map(|m| m.name())
                    .collect();
                return Err(unsupported(format!(
                    "pinning = {p} is not {}'s but the {}'",
                    cell.model,
                    owners.join(", ")
                )));
            }
        },
        StackFlag::Client => flag(
            "--client",
            cell.client.unwrap_or(Client::Async).name().into(),
        ),
        StackFlag::Offload => match cell.offload.unwrap_or(Offload::Inline) {
            Offload::Inline => flag("--offload", "inline".into()),
            o @ (Offload::WorkerPool | Offload::ProcessPool) => {
                flag("--offload", o.name().into());
                if let Some(n) = cell.pool_threads {
                    flag("--pool-threads", n.to_string());
                }
            }
            Offload::SpawnBlocking => {
                return Err(unsupported(format!(
                    "offload = spawn-blocking is a Rust runtime's pool; the {stack} stack offloads to a worker-pool"
                )))
            }
        },
    }
    Ok(())
}

/// The PostgreSQL server as a stack gets it: one environment variable a
/// field ([`PgEndpoint::env`]), so that no stack parses a connection string.
/// The engine reads the runner's (`THREADLOOP_PG_URL`: libpq keywords or a
/// URL) once, with the parser its own driver uses.
#[derive(Clone, PartialEq, Eq)]
pub struct PgEndpoint {
    /// A TCP host name or address, or a Unix socket's directory.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
}

/// Never the password, in any message.
impl std::fmt::Debug for PgEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

impl PgEndpoint {
    /// The environment variables a stack reads, in [`PgEndpoint::env`]'s order.
    pub const VARS: [&'static str; 5] = [
        "THREADLOOP_PG_HOST",
        "THREADLOOP_PG_PORT",
        "THREADLOOP_PG_USER",
        "THREADLOOP_PG_PASSWORD",
        "THREADLOOP_PG_DBNAME",
    ];

    /// libpq's defaults for what the string leaves out: `localhost`, 5432,
    /// the user running this, a database named as the user.
    pub fn parse(conninfo: &str) -> Result<PgEndpoint, String> {
        use tokio_postgres::config::Host;
        let c: tokio_postgres::Config = conninfo
            .parse()
            .map_err(|e| format!("the PostgreSQL connection string does not parse: {e}"))?;
        let host = match (c.get_hosts().first(), c.get_hostaddrs().first()) {
            (Some(Host::Tcp(h)), _) => h.clone(),
            (Some(Host::Unix(p)), _) => p.display().to_string(),
            (None, Some(a)) => a.to_string(),
            (None, None) => "localhost".into(),
        };
        let user = match c.get_user() {
            Some(u) => u.to_string(),
            None => std::env::var("USER")
                .map_err(|_| "the PostgreSQL connection string names no user".to_string())?,
        };
        let password = c
            .get_password()
            .map(|p| String::from_utf8(p.to_vec()))
            .transpose()
            .map_err(|_| "the PostgreSQL password is not UTF-8".to_string())?;
        Ok(PgEndpoint {
            host,
            port: c.get_ports().first().copied().unwrap_or(5432),
            dbname: c.get_dbname().map_or_else(|| user.clone(), str::to_string),
            user,
            password,
        })
    }

    /// `(variable, value)` for the stack's environment; no password variable
    /// when the server asks for none.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let [host, port, user, password, dbname] = Self::VARS;
        let mut env = vec![
            (host, self.host.clone()),
            (port, self.port.to_string()),
            (user, self.user.clone()),
        ];
        if let Some(p) = &self.password {
            env.push((password, p.clone()));
        }
        env.push((dbname, self.dbname.clone()));
        env
    }
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
        // The server, normalised, and only to a cell that queries it.
        command.env_remove(crate::db::URL_ENV);
        for var in PgEndpoint::VARS {
            command.env_remove(var);
        }
        if cell.uses_postgres() {
            let url = crate::db::url_from_env().map_err(|e| start_err(e.to_string()))?;
            command.envs(PgEndpoint::parse(&url).map_err(start_err)?.env());
        }
        // The stack dies with the cell, however the cell ends.
        crate::child::dies_with_parent(&mut command);
        crate::child::measured(&mut command);
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
            // A model that pins counts its pinning in the stack (JFR).
            counters: cell.model.pins() || cell.loop_debug == Some(true),
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
    use crate::cell::{CpuWork, Load, Pinning, ProcessorCache, Transport, Uvicorn};

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
        let unbounded = Cell {
            processor_cache: Some(ProcessorCache::Unbounded),
            ..cell(ModelKind::TomcatVirtual)
        };
        assert!(args(&unbounded)
            .unwrap()
            .1
            .join(" ")
            .ends_with("--max-connections -1 --processor-cache unbounded"));
        let wrong = Cell {
            pinning: Some(Pinning::Mutex),
            ..cell(ModelKind::TomcatVirtual)
        };
        assert!(args(&wrong).unwrap_err().to_string().contains("coroutines"));
    }

    #[test]
    fn spring_flags_carry_the_pool_the_pinning_and_the_client() {
        let c = Cell {
            threads: Some(500),
            java: Some(25),
            ..cell(ModelKind::SpringMvc)
        };
        let (stack, a) = args(&c).unwrap();
        assert_eq!(stack, Stack::Spring);
        assert_eq!(
            a.join(" "),
            "--port 0 --java 25 --mode mvc --max-threads 500 --min-spare 50 \
             --accept-count 100 --client async"
        );
        let v = Cell {
            pinning: Some(Pinning::Jdbc),
            ..cell(ModelKind::SpringMvcVirtual)
        };
        assert!(args(&v)
            .unwrap()
            .1
            .join(" ")
            .contains("--mode mvc-virtual --accept-count 100 --max-connections -1 --pinning jdbc"));
        let w = Cell {
            client: Some(Client::Blocking),
            ..cell(ModelKind::SpringWebflux)
        };
        assert!(args(&w)
            .unwrap()
            .1
            .join(" ")
            .ends_with("--mode webflux --accept-count 100 --max-connections -1 --client blocking"));
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
        let remedy = Cell {
            offload: Some(Offload::ProcessPool),
            pool_threads: Some(2),
            cpu_work: Some(CpuWork::Hashlib),
            uvicorn: Some(Uvicorn::UvloopHttptools),
            ..cell(ModelKind::Fastapi)
        };
        assert_eq!(
            args(&remedy).unwrap().1.join(" "),
            "--port 0 --client async --offload process-pool --pool-threads 2 \
             --cpu-work hashlib --uvicorn uvloop-httptools"
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
    fn a_stack_gets_the_server_as_one_variable_a_field_whatever_the_string() {
        let keywords = PgEndpoint::parse(
            "host=127.0.0.1 port=5433 user=bench password='p w\\'d' dbname=threadloop",
        )
        .unwrap();
        let url = PgEndpoint::parse("postgres://bench:p%20w'd@127.0.0.1:5433/threadloop").unwrap();
        assert_eq!(keywords, url);
        let env = keywords.env();
        assert_eq!(
            env.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            PgEndpoint::VARS
        );
        assert_eq!(env[3], ("THREADLOOP_PG_PASSWORD", "p w'd".to_string()));
        assert!(
            !format!("{keywords:?}").contains("p w"),
            "no password in messages"
        );
        let bare = PgEndpoint::parse("host=db user=u").unwrap();
        assert_eq!((bare.port, bare.dbname.as_str()), (5432, "u"));
        assert!(bare
            .env()
            .iter()
            .all(|(k, _)| *k != "THREADLOOP_PG_PASSWORD"));
    }

    #[test]
    fn every_declared_stack_is_a_folder_with_its_installer_and_launcher() {
        // This repository's stacks, whatever THREADLOOP_STACKS says.
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../stacks"));
        for stack in Stack::all() {
            let d = root.join(stack.decl().dir);
            for f in ["setup.sh", "serve"] {
                assert!(d.join(f).is_file(), "{stack}: {}", d.join(f).display());
            }
            let models: Vec<ModelKind> = ModelKind::all()
                .into_iter()
                .filter(|m| m.stack() == Some(stack))
                .collect();
            assert!(!models.is_empty(), "{stack} has no model");
            for m in models {
                let c = Cell {
                    java: stack.decl().java.first().copied(),
                    ..cell(m)
                };
                assert!(args(&c).is_ok(), "{m}: {:?}", args(&c).err());
            }
        }
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
