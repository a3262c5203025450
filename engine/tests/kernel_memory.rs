//! The kernel memory reader sees what RSS does not: 2,000 sleeping OS
//! threads each hold a kernel stack (16 KiB on x86-64) and a task struct,
//! so the cell's reading must grow by at least 16 KiB a thread. And the
//! cell's memory cgroup holds the process under test only: a harness child
//! leaves it, a stack's child joins it.
//!
//! The tests share this process's memory cgroup (a process is in one at a
//! time), so they take turns.

use std::sync::{mpsc, Barrier, Mutex};
use threadloop_engine::memory::{MemorySource, Meter};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const THREADS: usize = 2_000;

#[test]
fn two_thousand_sleeping_threads_hold_at_least_16_kib_of_kernel_memory_each() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let meter = Meter::for_this_process();
    let before = meter.read();
    if before.total_bytes == 0 && meter.source() == MemorySource::MachineWide {
        eprintln!(
            "skipped: no kernel memory source on this machine (no memory cgroup, no /proc/meminfo)"
        );
        return;
    }
    let started = std::sync::Arc::new(Barrier::new(THREADS + 1));
    let (stop, wait) = mpsc::channel::<()>();
    let wait = std::sync::Arc::new(Mutex::new(wait));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (started, wait) = (started.clone(), wait.clone());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    started.wait();
                    // Sleep until the sender is dropped (one wakes at a time).
                    let _ = wait.lock().unwrap_or_else(|p| p.into_inner()).recv();
                })
                .expect("spawn a sleeping thread")
        })
        .collect();
    started.wait();
    let during = meter.read();
    drop(stop);
    for t in threads {
        t.join().unwrap();
    }
    let per_thread = during.total_bytes.saturating_sub(before.total_bytes) as f64 / THREADS as f64;
    assert!(
        per_thread >= 16.0 * 1024.0,
        "{:.1} KiB of kernel memory per sleeping thread ({}), expected at least 16: {before:?} -> {during:?}",
        per_thread / 1024.0,
        meter.source(),
    );
}

/// The cgroup path of a process in the memory hierarchy (v1's `memory`
/// line, v2's `0::` line).
fn memory_cgroup(pid: u32) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let v1 = text.lines().find(|l| {
        l.split(':')
            .nth(1)
            .is_some_and(|c| c.split(',').any(|c| c == "memory"))
    });
    let line = v1.or_else(|| text.lines().find(|l| l.starts_with("0::")));
    line.and_then(|l| l.splitn(3, ':').nth(2))
        .unwrap_or_default()
        .to_string()
}

fn sleeper() -> std::process::Command {
    let mut c = std::process::Command::new("sleep");
    c.arg("5");
    c
}

#[test]
fn the_harness_child_leaves_the_cells_group_and_a_stacks_child_joins_it() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let me = std::process::id();
    let home = memory_cgroup(me);
    {
        let meter = Meter::for_this_process();
        if meter.source() == MemorySource::MachineWide {
            eprintln!(
                "skipped: no memory cgroup can be made here ({:?})",
                meter.note
            );
            return;
        }
        let cell = memory_cgroup(me);
        assert!(cell.contains("/threadloop/cell-"), "{cell}");
        let mut generator = threadloop_engine::child::unmeasured(&mut sleeper())
            .spawn()
            .unwrap();
        assert_eq!(memory_cgroup(generator.id()), home);
        let _ = generator.kill();
        let _ = generator.wait();
    }
    assert_eq!(memory_cgroup(me), home, "the cell's Drop takes it home");
    let left = {
        let meter = Meter::for_a_child();
        assert_eq!(memory_cgroup(me), home, "the cell process stays out");
        let mut stack = threadloop_engine::child::measured(&mut sleeper())
            .spawn()
            .unwrap();
        let group = memory_cgroup(stack.id());
        assert!(group.contains("/threadloop/cell-"), "{group}");
        let _ = stack.kill();
        let _ = stack.wait();
        drop(meter);
        group
    };
    for root in ["/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
        let path = format!("{root}{left}");
        assert!(!std::path::Path::new(&path).exists(), "{path} is removed");
    }
}
