//! The `local` backend: a throwaway cluster from the machine's own
//! PostgreSQL binaries, in a temporary directory, on a free loopback port.
//! PostgreSQL refuses to run as root, so as root the cluster belongs to
//! `nobody`.

use super::{DB, SETTINGS};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    pub port: u16,
    /// The directory of the binaries used.
    pub bin: PathBuf,
    dir: PathBuf,
    child: Child,
}

/// `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin.
fn bindir() -> anyhow::Result<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Ok(o) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        if has(&d) {
            return Ok(d);
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| has(d))
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
        .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server binaries (initdb, postgres) found"))
}

/// uid and gid of `nobody` when running as root (PostgreSQL refuses root).
fn unprivileged() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("nobody").expect("no NUL");
    // SAFETY: valid C string; the entry is read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    // SAFETY: non-null entries point to a valid passwd struct.
    (!pw.is_null()).then(|| unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Cluster {
    pub fn start(password: &str) -> anyhow::Result<Cluster> {
        let bin = bindir()?;
        let dir = std::env::temp_dir().join(format!(
            "threadloop-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir)?;
        // Whose it is: a later run removes it if this runner dies hard.
        std::fs::write(dir.join(crate::reap::OWNER_FILE), crate::reap::owner())?;
        let user = unprivileged();
        let as_user = |c: &mut Command| {
            if let Some((uid, gid)) = user {
                c.uid(uid).gid(gid);
            }
        };
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, password)?;
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid))?;
        }
        let data = dir.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", DB, "--auth-host=scram-sha-256", "--auth-local=trust"])
            .args(["-E", "UTF8", "--locale=C", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null());
        as_user(&mut initdb);
        let out = initdb.output()?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&dir);
            anyhow::bail!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let port = free_port()?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.display()));
        for (k, v) in SETTINGS {
            server.arg("-c").arg(format!("{k}={v}"));
        }
        server.stdout(Stdio::null()).stderr(log).process_group(0);
        as_user(&mut server);
        crate::reap::die_with_runner(&mut server);
        let child = server.spawn()?;
        let mut cluster = Cluster {
            port,
            bin,
            dir,
            child,
        };
        cluster.create_db(password)?;
        Ok(cluster)
    }

    /// initdb made the user; the benchmark database is made here.
    fn create_db(&mut self, password: &str) -> anyhow::Result<()> {
        let url = super::keywords("127.0.0.1", self.port, DB, password, "postgres");
        let t0 = Instant::now();
        let mut admin = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                anyhow::bail!("postgres exited ({status}): {}", log.trim());
            }
            match threadloop_engine::db::admin::Admin::connect(&url) {
                Ok(a) => break a,
                Err(e) if t0.elapsed() > Duration::from_secs(30) => {
                    anyhow::bail!("local cluster did not answer in 30 s: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        admin.exec(&format!("CREATE DATABASE {DB}"))?;
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown; SIGKILL if it takes too long.
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
