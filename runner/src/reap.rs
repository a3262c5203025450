//! Nothing outlives a run, however it ended.
//!
//! Ctrl-C, a failed cell and an error all stop a run through `Drop`. A hard
//! kill (`kill -9`, the OOM killer, a lost terminal) runs no code, so two
//! more lines of defence:
//! - every child process (cell, downstream, local PostgreSQL) asks the
//!   kernel to kill it when the runner dies (`PR_SET_PDEATHSIG`);
//! - what no child can take with it (a Docker container, a local cluster's
//!   directory) carries its owner (`pid:start-time` of the runner, and the
//!   host), and the next `runner run` or `--resume` on this machine removes
//!   those whose owner is gone, and says so. A cell's memory cgroup
//!   (`threadloop/cell-<pid>-<start>`, engine's `memory::cgroup`) is named
//!   after the cell process that made it, and reaped the same way.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Docker label that names the runner owning a container.
pub const OWNER_LABEL: &str = "threadloop.owner";
/// Docker label with the host the owner runs on.
pub const HOST_LABEL: &str = "threadloop.host";
/// File in a local cluster's directory that names its owner.
pub const OWNER_FILE: &str = "owner";

/// This runner, as `pid:start-time` (clock ticks since boot, which tells a
/// reused pid apart).
pub fn owner() -> String {
    let pid = std::process::id();
    format!("{pid}:{}", start_time(pid).unwrap_or(0))
}

/// The host name the owner tag is valid on.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Field 22 of /proc/PID/stat: when the process started.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields count from its ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the runner named by an [`owner`] tag still runs.
pub fn alive(tag: &str) -> bool {
    let Some((pid, start)) = tag.split_once(':') else {
        return false;
    };
    match (pid.parse::<u32>(), start.parse::<u64>()) {
        (Ok(pid), Ok(start)) => start_time(pid) == Some(start),
        _ => false,
    }
}

/// The child dies with the runner (SIGKILL when the runner's spawning
/// thread ends, which for the runner is its main thread: the whole run).
pub fn die_with_runner(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl and getppid are async-signal-safe; no allocation here.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The runner died between fork and prctl: nobody will wait.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    }
}

/// Removes what earlier runners of this machine left behind and whose owner
/// is gone; returns one sentence per thing removed (or that could not be).
pub fn leftovers() -> Vec<String> {
    let mut said = containers();
    said.extend(clusters(&std::env::temp_dir()));
    for parent in threadloop_engine::memory::cgroup::parents() {
        said.extend(cgroups(&parent));
    }
    said
}

/// Cells' memory cgroups under `parent` whose cell process is gone (it was
/// killed before its `Drop` removed them): what is still in one is killed,
/// and the group removed.
fn cgroups(parent: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut said = Vec::new();
    for dir in entries.flatten().map(|e| e.path()) {
        let Some(owner) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(threadloop_engine::memory::cgroup::owner)
        else {
            continue;
        };
        if alive(&owner) {
            continue;
        }
        let pid = owner.split(':').next().unwrap_or(&owner);
        said.push(match threadloop_engine::memory::cgroup::remove(&dir) {
            Ok(()) => format!(
                "removed memory cgroup {}: its cell (pid {pid}) is gone",
                dir.display()
            ),
            Err(e) => format!(
                "could not remove memory cgroup {} (its cell, pid {pid}, is gone): {e}",
                dir.display()
            ),
        });
    }
    said
}

/// Containers labelled `threadloop` whose owner on this host is gone.
fn containers() -> Vec<String> {
    let Ok(out) = Command::new("docker")
        .args(["ps", "-a", "--filter", "label=threadloop", "--format"])
        .arg(format!(
            "{{{{.ID}}}}\t{{{{.Label \"{OWNER_LABEL}\"}}}}\t{{{{.Label \"{HOST_LABEL}\"}}}}\t{{{{.Label \"threadloop.run\"}}}}"
        ))
        .output()
    else {
        return Vec::new(); // no Docker CLI: nothing of ours can be there
    };
    let me = host();
    let mut said = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let [id, owner, on, run] = f[..] else {
            continue;
        };
        if owner.is_empty() || on != me || alive(owner) {
            continue;
        }
        let removed = Command::new("docker")
            .args(["rm", "-f", "-v", id])
            .output()
            .is_ok_and(|o| o.status.success());
        let pid = owner.split(':').next().unwrap_or(owner);
        said.push(if removed {
            format!("removed container {id} of run {run}: its runner (pid {pid}) is gone")
        } else {
            format!("could not remove container {id} of run {run} (its runner, pid {pid}, is gone): `docker rm -f {id}`")
        });
    }
    said
}

/// Local clusters (`threadloop-pg-*` under `tmp`) whose owner is gone: the
/// server, if it still runs, is killed and the directory removed.
fn clusters(tmp: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return Vec::new();
    };
    let mut said = Vec::new();
    for dir in entries.flatten().map(|e| e.path()) {
        let named = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("threadloop-pg-"));
        let Ok(owner) = std::fs::read_to_string(dir.join(OWNER_FILE)) else {
            continue; // not a cluster directory, or still being made
        };
        if !named || alive(owner.trim()) {
            continue;
        }
        // postmaster.pid's first line is the server's pid.
        if let Some(pid) = std::fs::read_to_string(dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse::<i32>().ok())
        {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "postgres" {
                // SAFETY: a signal to a postgres process found by its pid file.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => said.push(format!(
                "removed local cluster {}: its runner is gone",
                dir.display()
            )),
            Err(e) => said.push(format!(
                "could not remove local cluster {} (its runner is gone): {e}",
                dir.display()
            )),
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_runner_is_alive_and_a_made_up_one_is_not() {
        assert!(alive(&owner()));
        let pid = std::process::id();
        assert!(!alive(&format!("{pid}:1")), "same pid, another start");
        assert!(!alive("4194303:5"));
        assert!(!alive("garbage"));
    }

    #[test]
    fn a_dead_owners_cluster_directory_is_removed_and_a_live_ones_kept() {
        let tmp = std::env::temp_dir().join(format!("threadloop-reap-test-{}", std::process::id()));
        let dead = tmp.join("threadloop-pg-1-1");
        let live = tmp.join("threadloop-pg-2-2");
        let other = tmp.join("something-else");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("data")).unwrap();
        }
        std::fs::write(dead.join(OWNER_FILE), "4194303:5").unwrap();
        std::fs::write(live.join(OWNER_FILE), owner()).unwrap();
        std::fs::write(other.join(OWNER_FILE), "4194303:5").unwrap();
        let said = clusters(&tmp);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("removed local cluster"), "{said:?}");
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    /// A plain folder stands in for a cgroup (removing it is `rmdir` in
    /// both): a dead cell's group goes, a live one's and a foreign folder stay.
    #[test]
    fn a_dead_cells_memory_cgroup_is_removed_and_a_live_ones_kept() {
        let tmp = std::env::temp_dir().join(format!("threadloop-reap-cg-{}", std::process::id()));
        let (pid, start) = owner()
            .split_once(':')
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .unwrap();
        let dead = tmp.join("cell-4194303-5");
        let live = tmp.join(format!("cell-{pid}-{start}"));
        let other = tmp.join("docker");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        let said = cgroups(&tmp);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("removed memory cgroup"), "{said:?}");
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
