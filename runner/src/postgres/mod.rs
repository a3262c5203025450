//! The PostgreSQL server of a run: one per run (not per cell), loopback only,
//! a random password, removed when the run ends (on error and Ctrl-C too,
//! because dropping [`PgServer`] removes it). Three backends:
//! - `container`: testcontainers, the official image when it can be pulled,
//!   else the local `threadloop/postgres:15` (`just pg-image`);
//! - `local`: a throwaway cluster from the machine's own binaries;
//! - `url`: an existing server (`--pg-url` / `THREADLOOP_PG_URL`).

mod container;
mod local;

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use threadloop_engine::db::admin::Admin;
use threadloop_engine::db::schema;

/// Which server to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// `url` if one is given, else a container if a Docker engine answers,
    /// else a local cluster.
    Auto,
    Container,
    Local,
    Url,
}

/// `runner run`'s PostgreSQL options.
#[derive(Debug, Clone, clap::Args)]
pub struct PgOptions {
    /// Where the PostgreSQL of `postgres` cells comes from.
    #[arg(long = "pg", value_enum, default_value = "auto")]
    pub backend: Backend,
    /// An existing server (libpq keywords or postgres:// URL); implies `--pg url`.
    #[arg(long = "pg-url", env = "THREADLOOP_PG_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// The image for `container` (default: the official image when it can be
    /// pulled, else the locally built `threadloop/postgres:15`).
    #[arg(long = "pg-image")]
    pub image: Option<String>,
}

/// The database cells use, and its user.
pub const DB: &str = "bench";
/// Server settings every backend starts with (and the manifest records).
pub const SETTINGS: [(&str, &str); 2] = [
    ("max_connections", "500"),
    ("shared_preload_libraries", "pg_stat_statements"),
];

/// What the manifest records about the server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PgInfo {
    pub backend: String,
    /// Image name:tag and digest (container), binaries (local), or host (url).
    pub source: String,
    pub version: String,
    /// `SHOW` of the settings that change what is measured.
    pub settings: Vec<(String, String)>,
    /// Seconds from the start request to a seeded, answering server.
    pub startup_s: f64,
    /// Why the backend was chosen (e.g. "official image not pullable: …").
    pub chosen_because: String,
    /// Restarts after the server went away during a cell.
    pub restarts: u32,
}

/// What keeps the server alive: dropping it removes the container or cluster.
#[allow(dead_code)]
enum Handle {
    // Boxed: the container handle is large, the other variants small.
    Container(Box<container::Running>),
    Local(local::Cluster),
    External,
}

pub struct PgServer {
    /// libpq connection string to the benchmark database.
    pub url: String,
    pub info: PgInfo,
    opts: PgOptions,
    run_id: String,
    handle: Handle,
    /// `pg_stat_statements` is loaded (the per-cell statement count works).
    stats: bool,
}

/// A random password: the server is on loopback, but a fixed password in a
/// benchmark tool is the kind of default that ends up elsewhere.
fn password() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 24];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut bytes);
    }
    bytes
        .iter()
        .map(|b| {
            let i = b % 62;
            (match i {
                0..=9 => b'0' + i,
                10..=35 => b'a' + i - 10,
                _ => b'A' + i - 36,
            }) as char
        })
        .collect()
}

fn keywords(host: &str, port: u16, user: &str, password: &str, db: &str) -> String {
    format!("host={host} port={port} user={user} password={password} dbname={db}")
}

impl PgServer {
    /// Starts (or connects to) the server, seeds the schema, and checks it.
    /// `run_id` labels the container (`threadloop.run`), so a leak is findable.
    pub fn start(opts: &PgOptions, run_id: &str) -> anyhow::Result<PgServer> {
        let t0 = Instant::now();
        let backend = match (opts.backend, &opts.url) {
            (Backend::Auto, Some(_)) | (Backend::Url, _) => Backend::Url,
            (b, _) => b,
        };
        let pw = password();
        let mut tried = Vec::new();
        // Auto tries the container, then a local cluster; the first that
        // starts serves the run.
        let order: &[Backend] = match backend {
            Backend::Auto => &[Backend::Container, Backend::Local],
            _ => std::slice::from_ref(&backend),
        };
        let mut found = None;
        for b in order {
            match start_backend(*b, opts, &pw, run_id) {
                Ok(x) => {
                    found = Some(x);
                    break;
                }
                Err(e) => tried.push(format!("{b:?}: {e:#}")),
            }
        }
        let (url, handle, source, because) = match found {
            Some(x) => x,
            None => anyhow::bail!(
                "no PostgreSQL for the `postgres` cells. Tried:\n  {}\n\
                     Get one: `just pg-image` (Docker; builds threadloop/postgres:15 from \
                     Debian's PostgreSQL), or install postgresql (local cluster), or pass \
                     --pg-url. Experiments without DB I/O do not need it.",
                tried.join("\n  ")
            ),
        };
        let mut server = PgServer {
            url,
            info: PgInfo {
                backend: match handle {
                    Handle::Container(_) => "container",
                    Handle::Local(_) => "local",
                    Handle::External => "url",
                }
                .into(),
                source,
                chosen_because: if tried.is_empty() {
                    because
                } else {
                    format!("{because} (after: {})", tried.join("; "))
                },
                ..PgInfo::default()
            },
            opts: opts.clone(),
            run_id: run_id.to_string(),
            handle,
            stats: false,
        };
        server.prepare()?;
        server.info.startup_s = t0.elapsed().as_secs_f64();
        Ok(server)
    }

    /// Seeds the schema and reads what the manifest records.
    fn prepare(&mut self) -> anyhow::Result<()> {
        // A given server is either there or not; a started one may still be
        // finishing its start-up.
        let limit = match self.handle {
            Handle::External => Duration::from_secs(5),
            _ => Duration::from_secs(60),
        };
        let mut admin = wait_ready(&self.url, limit)?;
        admin.exec(&schema::seed_sql())?;
        self.stats = admin
            .exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .is_ok()
            && admin
                .scalar("SELECT count(*) FROM pg_stat_statements")
                .is_ok();
        self.info.version = admin.scalar("SHOW server_version")?.unwrap_or_default();
        self.info.settings = [
            "max_connections",
            "fsync",
            "synchronous_commit",
            "shared_buffers",
            "shared_preload_libraries",
            "jit",
        ]
        .iter()
        .map(|k| {
            let v = admin
                .scalar(&format!("SHOW {k}"))
                .ok()
                .flatten()
                .unwrap_or_default();
            (k.to_string(), v)
        })
        .collect();
        Ok(())
    }

    /// Before a cell: zero the server's statement counts.
    pub fn before_cell(&self) {
        if self.stats {
            if let Ok(mut a) = Admin::connect(&self.url) {
                let _ = a.exec("SELECT pg_stat_statements_reset()");
            }
        }
    }

    /// After a cell: statements the server executed in the benchmark
    /// database since [`before_cell`](Self::before_cell), leaving out the
    /// counting queries themselves.
    pub fn statements(&self) -> Option<u64> {
        if !self.stats {
            return None;
        }
        let mut a = Admin::connect(&self.url).ok()?;
        a.scalar(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND query NOT ILIKE '%pg_stat%'",
        )
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
    }

    /// The server answers a query.
    pub fn healthy(&self) -> bool {
        Admin::connect(&self.url)
            .and_then(|mut a| a.scalar("SELECT 1"))
            .is_ok()
    }

    /// After the server went away: a fresh one of the same backend, seeded.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let restarts = self.info.restarts + 1;
        let backend = match self.handle {
            Handle::Container(_) => Backend::Container,
            Handle::Local(_) => Backend::Local,
            Handle::External => Backend::Url,
        };
        self.handle = Handle::External; // drops (removes) the old server first
        let pw = password();
        let (url, handle, _, _) = start_backend(backend, &self.opts, &pw, &self.run_id)?;
        self.url = url;
        self.handle = handle;
        self.prepare()?;
        self.info.restarts = restarts;
        Ok(())
    }
}

/// Starts one backend: (url, handle, source, why this one).
fn start_backend(
    b: Backend,
    opts: &PgOptions,
    pw: &str,
    run_id: &str,
) -> anyhow::Result<(String, Handle, String, String)> {
    match b {
        Backend::Url => {
            let url = opts
                .url
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--pg url needs --pg-url or THREADLOOP_PG_URL"))?;
            Ok((url, Handle::External, "given URL".into(), "--pg-url".into()))
        }
        Backend::Container => {
            let (run, port, source, because) = container::start(opts.image.as_deref(), pw, run_id)?;
            Ok((
                keywords("127.0.0.1", port, DB, pw, DB),
                Handle::Container(Box::new(run)),
                source,
                because,
            ))
        }
        Backend::Local => {
            let cluster = local::Cluster::start(pw)?;
            let url = keywords("127.0.0.1", cluster.port, DB, pw, DB);
            let source = cluster.bin.display().to_string();
            Ok((
                url,
                Handle::Local(cluster),
                source,
                "the machine's PostgreSQL binaries".into(),
            ))
        }
        Backend::Auto => unreachable!("auto is resolved to concrete backends"),
    }
}

/// Connects, retrying while the server comes up.
fn wait_ready(url: &str, limit: Duration) -> anyhow::Result<Admin> {
    let t0 = Instant::now();
    loop {
        match Admin::connect(url) {
            Ok(a) => return Ok(a),
            Err(e) if t0.elapsed() > limit => {
                anyhow::bail!("PostgreSQL did not answer within {limit:?}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// After a `postgres` cell: the server's statement count goes into the
/// outcome; a server that went away fails the cell (with the reason, keeping
/// its counted errors in the message) and is replaced, so the run goes on.
pub fn after_cell(
    server: &mut PgServer,
    result: Result<threadloop_engine::CellOutcome, crate::exec::ExecError>,
    executor: &mut crate::exec::Executor,
) -> Result<threadloop_engine::CellOutcome, crate::exec::ExecError> {
    use crate::exec::ExecError;
    if matches!(result, Err(ExecError::Interrupted)) {
        return result;
    }
    // Counted first: the health check's own query would be counted too.
    let statements = server.statements();
    if !server.healthy() {
        let what = match &result {
            Ok(o) => format!("{} requests failed, {} completed", o.errors, o.completed),
            Err(e) => e.to_string(),
        };
        let restarted = match server.restart() {
            Ok(()) => {
                executor.pg_url = Some(server.url.clone());
                "a fresh server was started for the next cells".to_string()
            }
            Err(e) => format!("restarting it failed: {e:#}"),
        };
        tracing::warn!("PostgreSQL went away during a cell; {restarted}");
        return Err(ExecError::Failed(format!(
            "PostgreSQL went away during the cell ({what}); {restarted}"
        )));
    }
    result.map(|mut o| {
        if let Some(db) = o.db.as_mut() {
            db.server_statements = statements;
            if let Some(n) = statements.filter(|n| *n != db.queries_ok) {
                let ok = db.queries_ok;
                o.notes.push(format!(
                    "the server executed {n} statements for this cell; its drivers counted {ok} correct answers"
                ));
            }
        }
        o
    })
}
