//! The JIT's own work, as the kernel counts it: the CPU time of a HotSpot
//! process's compiler threads (`C1 CompilerThread…`, `C2 CompilerThread…`,
//! named so in `/proc/PID/task/*/comm`). A settling warm-up reads it
//! beside the throughput: a JVM on two cores at saturation can hold a flat
//! throughput for seconds while its compiler threads, starved by the
//! request threads, are still compiling the hot path (Spring MVC's pool of
//! 500 at 100 ms: one repetition flat at 2,600 req/s from 1 to 2.5 s, the
//! others at 4,900 once their warm-up had taken 5 to 8.5 s). Flat
//! throughput alone cannot tell that plateau from the steady state; a
//! quiet compiler can.

use std::collections::HashMap;

/// A HotSpot compiler thread's name, as `comm` holds it (15 bytes at most:
/// "C2 CompilerThre").
pub fn is_compiler_thread(comm: &str) -> bool {
    comm.starts_with("C1 CompilerThre") || comm.starts_with("C2 CompilerThre")
}

/// Watches one process's compiler threads from slice to slice.
#[derive(Debug)]
pub struct CompilerWatch {
    pid: u32,
    /// Each compiler thread's CPU seconds at the last reading, by thread id
    /// (HotSpot starts and stops compiler threads as its queue needs).
    last: HashMap<u32, f64>,
    /// Threads already named as something else (a name, once set, stays):
    /// a JVM with 500 request threads is read in a few files, not a
    /// thousand, each slice.
    others: std::collections::HashSet<u32>,
}

impl CompilerWatch {
    /// A watch on `pid`; None when it has no compiler thread to watch (not
    /// a HotSpot JVM, or gone): the warm-up then reads throughput alone.
    pub fn of(pid: u32) -> Option<CompilerWatch> {
        let mut watch = CompilerWatch {
            pid,
            last: HashMap::new(),
            others: Default::default(),
        };
        watch.read();
        (!watch.last.is_empty()).then_some(watch)
    }

    /// CPU seconds the compiler threads have used since the last call (a
    /// thread started since counts from its start; one that ended since
    /// loses only its last slice).
    pub fn since_last(&mut self) -> f64 {
        let before = std::mem::take(&mut self.last);
        self.read();
        self.last
            .iter()
            .map(|(tid, now)| (now - before.get(tid).copied().unwrap_or(0.0)).max(0.0))
            .sum()
    }

    fn read(&mut self) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid)) else {
            return;
        };
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if self.others.contains(&tid) {
                continue;
            }
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !is_compiler_thread(&comm) {
                // "java": a thread not named yet (HotSpot names it once started).
                if comm.trim_end() != "java" {
                    self.others.insert(tid);
                }
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            if let Some((user, sys)) = crate::measure::stat_cpu_s(&stat) {
                self.last.insert(tid, user + sys);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotspots_compiler_threads_are_told_from_the_others() {
        for name in ["C2 CompilerThre\n", "C1 CompilerThre", "C2 CompilerThread0"] {
            assert!(is_compiler_thread(name), "{name:?}");
        }
        for name in [
            "http-nio-8080-e",
            "GC Thread#0",
            "VM Thread",
            "C2",
            "main",
            "",
        ] {
            assert!(!is_compiler_thread(name), "{name:?}");
        }
    }

    #[test]
    fn a_process_without_a_jit_is_not_watched() {
        // This test binary is Rust: no compiler thread.
        assert!(CompilerWatch::of(std::process::id()).is_none());
        assert!(CompilerWatch::of(u32::MAX).is_none(), "no such process");
    }
}
