//! One memory cgroup per cell, `threadloop/cell-<pid>-<start>` under the
//! machine's memory hierarchy (cgroup v1's `memory` controller, or cgroup
//! v2's unified tree with `memory` enabled), named after the cell process
//! that made it (its pid and start time, so the runner can tell a stale
//! one from a live one and reap it when a killed cell left it behind).
//!
//! The process under test is placed in it before it allocates what the
//! cell measures (cgroups charge memory to the group a task was in when it
//! allocated; charges do not move with a task), and [`CellCgroup`]'s `Drop`
//! takes this process back home and removes the group, however the cell
//! ends.
//!
//! What it reads: v1 `memory.kmem.usage_in_bytes` (kernel stacks, slab,
//! page tables and the rest of the kernel memory charged to the group) plus
//! `memory.kmem.tcp.usage_in_bytes` (socket buffers, a counter of its own
//! that starts only once a TCP limit is written: the group gets an
//! unlimited one); v2 `memory.stat`'s `kernel` (or, on kernels before it,
//! `kernel_stack + slab + pagetables + percpu`) plus `sock`.

use super::{KernelMemory, MemorySource};
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The folder under each hierarchy's root that holds the cells' groups.
pub const PARENT: &str = "threadloop";
/// A cell group's name: `cell-<pid>-<start time in clock ticks>`.
const PREFIX: &str = "cell-";

/// Why no cgroup could be made for the cell.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("the machine mounts no memory cgroup (neither v1's memory controller nor v2's with memory enabled)")]
    NoMemoryCgroup,
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CgroupError {
    let path = path.to_path_buf();
    move |source| CgroupError::Io { what, path, source }
}

/// Whose memory the cell measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// This process (a Rust model's cell).
    ThisProcess,
    /// A child started later (a foreign stack), joined between fork and exec.
    AChild,
}

/// A memory hierarchy the machine mounts.
#[derive(Debug, Clone)]
struct Hierarchy {
    version: MemorySource,
    root: PathBuf,
}

/// The memory hierarchies this machine mounts, v1 first.
fn hierarchies() -> Vec<Hierarchy> {
    let mut found = Vec::new();
    let v1 = Path::new("/sys/fs/cgroup/memory");
    if v1.join("memory.kmem.usage_in_bytes").is_file() {
        found.push(Hierarchy {
            version: MemorySource::CgroupV1,
            root: v1.to_path_buf(),
        });
    }
    let v2 = Path::new("/sys/fs/cgroup");
    let controllers = std::fs::read_to_string(v2.join("cgroup.controllers")).unwrap_or_default();
    if controllers.split_whitespace().any(|c| c == "memory") {
        found.push(Hierarchy {
            version: MemorySource::CgroupV2,
            root: v2.to_path_buf(),
        });
    }
    found
}

/// The `threadloop` folders that exist (what the runner's reaper looks in).
pub fn parents() -> Vec<PathBuf> {
    hierarchies()
        .into_iter()
        .map(|h| h.root.join(PARENT))
        .filter(|p| p.is_dir())
        .collect()
}

/// The `pid:start` owner tag of a cell group's folder name, if it is one.
pub fn owner(name: &str) -> Option<String> {
    let (pid, start) = name.strip_prefix(PREFIX)?.split_once('-')?;
    let (pid, start) = (pid.parse::<u32>().ok()?, start.parse::<u64>().ok()?);
    Some(format!("{pid}:{start}"))
}

/// This process's group name.
fn own_name() -> String {
    let start = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.get(s.rfind(')')? + 2..)?.to_string();
            after.split_whitespace().nth(19)?.parse::<u64>().ok()
        })
        .unwrap_or(0);
    format!("{PREFIX}{}-{start}", std::process::id())
}

/// Where a child joins or leaves, while a cell's group exists: the
/// `cgroup.procs` files written between fork and exec. One per process,
/// as a process is in one memory cgroup at a time.
struct Placement {
    /// The cell's group (a child under test joins it).
    join: CString,
    /// This process's group before it moved in (a harness child goes back).
    leave: Option<CString>,
}

static PLACEMENT: Mutex<Option<Placement>> = Mutex::new(None);

fn procs_of(dir: &Path) -> CString {
    CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
        .expect("a cgroup path has no NUL byte")
}

/// Writes `0` (the writing process itself) to a `cgroup.procs`. Only
/// async-signal-safe calls: it runs between fork and exec.
fn move_self(procs: &CString) -> io::Result<()> {
    // SAFETY: open/write/close on a path owned by the caller.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let rc = libc::write(fd, b"0".as_ptr().cast(), 1);
        let err = io::Error::last_os_error();
        libc::close(fd);
        if rc != 1 {
            return Err(err);
        }
    }
    Ok(())
}

/// The child joins the cell's group, if the cell measures a child.
pub(crate) fn join_in_child(command: &mut std::process::Command) {
    let placement = PLACEMENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(Placement { join, leave: None }) = placement.as_ref() {
        let join = join.clone();
        // SAFETY: `move_self` is async-signal-safe and allocates nothing.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(command, move || move_self(&join));
        }
    }
}

/// The child leaves the cell's group, if this process is in it.
pub(crate) fn leave_in_child(command: &mut std::process::Command) {
    let placement = PLACEMENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(Placement {
        leave: Some(home), ..
    }) = placement.as_ref()
    {
        let home = home.clone();
        // SAFETY: as in `join_in_child`.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(command, move || move_self(&home));
        }
    }
}

/// A cell's memory cgroup; removed on drop.
pub struct CellCgroup {
    version: MemorySource,
    dir: PathBuf,
    /// The group this process came from, when it moved in.
    home: Option<PathBuf>,
}

/// This process's group in a hierarchy, from `/proc/self/cgroup`.
fn current_group(h: &Hierarchy) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let ours = match h.version {
            MemorySource::CgroupV1 => controllers.split(',').any(|c| c == "memory"),
            _ => controllers.is_empty(),
        };
        ours.then(|| path.to_string())
    })?;
    Some(h.root.join(path.trim_start_matches('/')))
}

fn write(path: &Path, what: &'static str, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(io_err(what, path))
}

fn mkdir(dir: &Path) -> Result<(), CgroupError> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            Err(io_err("make the memory cgroup", dir)(e))
        }
        _ => Ok(()),
    }
}

/// Enables the memory controller for a v2 group's children.
fn enable_memory(dir: &Path) -> Result<(), CgroupError> {
    let control = dir.join("cgroup.subtree_control");
    let on = std::fs::read_to_string(&control).unwrap_or_default();
    if on.split_whitespace().any(|c| c == "memory") {
        return Ok(());
    }
    write(&control, "enable the memory controller in", "+memory")
}

impl CellCgroup {
    /// Makes the cell's group in the first hierarchy that lets it, and
    /// moves this process in (`Who::ThisProcess`) or leaves it for the
    /// child to join.
    pub fn create(who: Who) -> Result<CellCgroup, CgroupError> {
        let mut last = CgroupError::NoMemoryCgroup;
        for h in hierarchies() {
            match Self::create_in(&h, who) {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn create_in(h: &Hierarchy, who: Who) -> Result<CellCgroup, CgroupError> {
        let parent = h.root.join(PARENT);
        if h.version == MemorySource::CgroupV2 {
            enable_memory(&h.root)?;
        }
        mkdir(&parent)?;
        if h.version == MemorySource::CgroupV2 {
            enable_memory(&parent)?;
        }
        let dir = parent.join(own_name());
        if dir.is_dir() {
            // Made earlier by this very process (a test, the runner's probe).
            let _ = remove(&dir);
        }
        mkdir(&dir)?;
        let mut group = CellCgroup {
            version: h.version,
            dir,
            home: None,
        };
        if h.version == MemorySource::CgroupV1 {
            // Socket buffers are counted only once a TCP limit is set.
            let limit = group.dir.join("memory.kmem.tcp.limit_in_bytes");
            write(&limit, "start socket accounting in", "-1")?;
        }
        if who == Who::ThisProcess {
            let home = current_group(h).ok_or_else(|| CgroupError::Io {
                what: "find this process's memory cgroup in",
                path: PathBuf::from("/proc/self/cgroup"),
                source: io::Error::from(io::ErrorKind::NotFound),
            })?;
            let procs = group.dir.join("cgroup.procs");
            write(
                &procs,
                "move the cell process into",
                &std::process::id().to_string(),
            )?;
            group.home = Some(home);
        }
        *PLACEMENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(Placement {
            join: procs_of(&group.dir),
            leave: group.home.as_deref().map(procs_of),
        });
        Ok(group)
    }

    pub fn version(&self) -> MemorySource {
        self.version
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The group's kernel memory now (zero where a file cannot be read).
    pub fn read(&self) -> KernelMemory {
        let text = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        match self.version {
            MemorySource::CgroupV1 => parse_v1(
                &text("memory.kmem.usage_in_bytes"),
                &text("memory.kmem.tcp.usage_in_bytes"),
            ),
            _ => parse_v2(&text("memory.stat")),
        }
    }
}

impl Drop for CellCgroup {
    fn drop(&mut self) {
        let mut placement = PLACEMENT.lock().unwrap_or_else(|p| p.into_inner());
        if placement
            .as_ref()
            .is_some_and(|p| p.join == procs_of(&self.dir))
        {
            *placement = None;
        }
        drop(placement);
        if let Some(home) = &self.home {
            let _ = std::fs::write(home.join("cgroup.procs"), std::process::id().to_string());
        }
        let _ = remove(&self.dir);
    }
}

/// Removes a cell's group: what is still in it (a stack's leftover child,
/// the processes of a cell that was killed) is killed first. This process
/// is never killed (it must have left already).
pub fn remove(dir: &Path) -> io::Result<()> {
    let me = std::process::id();
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if tries >= 50 => return Err(e),
            Err(_) => {}
        }
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
            if pid != me {
                // SAFETY: a signal to a process in a cell's own group.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
        tries += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn number(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

/// cgroup v1: the kernel memory counter and the TCP one (separate, not in it).
pub fn parse_v1(kmem: &str, tcp: &str) -> KernelMemory {
    let (kmem, tcp) = (number(kmem), number(tcp));
    KernelMemory {
        total_bytes: kmem + tcp,
        sock_bytes: Some(tcp),
        ..KernelMemory::default()
    }
}

/// cgroup v2: `memory.stat`'s kernel fields. `kernel` (Linux 5.18+) holds
/// all kernel memory but sockets, which are charged apart (`sock`).
pub fn parse_v2(stat: &str) -> KernelMemory {
    let field = |key: &str| {
        stat.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| number(v))
        })
    };
    let slab = field("slab").or_else(|| {
        let (r, u) = (field("slab_reclaimable"), field("slab_unreclaimable"));
        (r.is_some() || u.is_some()).then(|| r.unwrap_or(0) + u.unwrap_or(0))
    });
    let (stack, tables, sock) = (field("kernel_stack"), field("pagetables"), field("sock"));
    let kernel = field("kernel").unwrap_or_else(|| {
        [stack, slab, tables, field("percpu")]
            .into_iter()
            .flatten()
            .sum()
    });
    KernelMemory {
        total_bytes: kernel + sock.unwrap_or(0),
        sock_bytes: sock,
        stack_bytes: stack,
        slab_bytes: slab,
        pagetables_bytes: tables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_adds_the_tcp_counter_to_the_kernel_one() {
        let k = parse_v1("81920\n", "4096\n");
        assert_eq!(k.total_bytes, 86016);
        assert_eq!(k.sock_bytes, Some(4096));
        assert_eq!(k.stack_bytes, None);
        assert_eq!(parse_v1("", "").total_bytes, 0);
    }

    #[test]
    fn v2_reads_kernel_and_sock_from_memory_stat() {
        let stat = "anon 100\nfile 200\nkernel 50000\nkernel_stack 32768\npagetables 4096\n\
                    percpu 100\nsock 8192\nslab_reclaimable 1000\nslab_unreclaimable 2000\nslab 3000\n";
        let k = parse_v2(stat);
        assert_eq!(k.total_bytes, 50000 + 8192);
        assert_eq!(k.stack_bytes, Some(32768));
        assert_eq!(k.slab_bytes, Some(3000));
        assert_eq!(k.pagetables_bytes, Some(4096));
        assert_eq!(k.sock_bytes, Some(8192));
    }

    #[test]
    fn v2_before_the_kernel_field_sums_its_parts() {
        let stat = "kernel_stack 16384\npagetables 4096\nslab_reclaimable 1000\nslab_unreclaimable 2000\nsock 0\n";
        let k = parse_v2(stat);
        assert_eq!(k.slab_bytes, Some(3000));
        assert_eq!(k.total_bytes, 16384 + 4096 + 3000);
    }

    #[test]
    fn a_cell_groups_name_carries_its_owner() {
        assert_eq!(owner("cell-123-456").as_deref(), Some("123:456"));
        assert_eq!(
            owner(&own_name()).map(|o| o.starts_with(&format!("{}:", std::process::id()))),
            Some(true)
        );
        assert_eq!(owner("cell-x-1"), None);
        assert_eq!(owner("docker"), None);
    }
}
