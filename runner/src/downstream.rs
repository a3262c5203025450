//! The downstream API process for `http` cells: one per run, loopback only,
//! on a free port; stopped (killed) when the run ends, on error or Ctrl-C,
//! because dropping [`Downstream`] kills it.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Downstream {
    child: Child,
    /// `host:port` the cells call.
    pub addr: String,
}

impl Downstream {
    /// Starts `threadloop-downstream` from the directory of `cell_binary`.
    pub fn start(cell_binary: &Path) -> anyhow::Result<Self> {
        let bin = cell_binary.with_file_name("threadloop-downstream");
        let mut child = crate::reap::die_with_runner(&mut Command::new(&bin))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                anyhow::bail!("{} did not report its address within 10 s", bin.display());
            }
        };
        let Some(addr) = line
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_string)
        else {
            let _ = child.kill();
            anyhow::bail!("{} did not start: {line:?}", bin.display());
        };
        Ok(Downstream { child, addr })
    }

    /// What the downstream counted over the whole run (`GET /stats`).
    pub fn stats(&self) -> Option<serde_json::Value> {
        let mut resp = ureq::get(&format!("http://{}/stats", self.addr))
            .call()
            .ok()?;
        serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()
    }
}

impl Drop for Downstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
