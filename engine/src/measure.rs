//! Measurement primitives: latency histograms, the loop-lag recorder, and the
//! process's own resource counters (rusage, `/proc/self/status`).

use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Highest value a histogram tracks: one hour in microseconds. Larger values
/// are clamped (saturating), never a panic.
pub const MAX_US: u64 = 3_600_000_000;

/// A histogram of durations in microseconds, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record((d.as_micros() as u64).min(MAX_US));
}

/// User and system CPU seconds from a `/proc/PID/stat` or
/// `/proc/PID/task/TID/stat` line: after the command name in parentheses
/// (which may hold any byte), state is field 3, utime 14, stime 15, in
/// clock ticks. None when the line has no such fields.
pub fn stat_cpu_s(stat: &str) -> Option<(f64, f64)> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? / tick, ticks(12)? / tick))
}

/// The measured window: warm-up excluded.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// Collects loop-lag samples from a model's probe, inside the window only.
pub struct LagRecorder {
    window: Window,
    hist: Mutex<Histogram<u64>>,
    refused: AtomicU64,
    /// When the probe that has not come back yet was started, and the wait it
    /// asked for: a loop blocked past the window end still leaves a sample.
    pending: Mutex<Option<(Instant, Duration)>>,
}

impl LagRecorder {
    pub fn new(window: Window) -> Self {
        LagRecorder {
            window,
            hist: Mutex::new(new_histogram()),
            refused: AtomicU64::new(0),
            pending: Mutex::new(None),
        }
    }

    /// A probe starts waiting `asked` at `t0`.
    pub fn begin(&self, t0: Instant, asked: Duration) {
        *self.pending.lock().unwrap() = Some((t0, asked));
    }

    /// The pending probe never started (e.g. refused): nothing to censor.
    pub fn cancel(&self) {
        *self.pending.lock().unwrap() = None;
    }

    pub fn record(&self, lag: Duration) {
        self.cancel();
        if self.window.contains(Instant::now()) {
            record(&mut self.hist.lock().unwrap(), lag);
        }
    }

    /// The probe could not even be queued (queue full, spawn failed).
    pub fn record_refused(&self) {
        if self.window.contains(Instant::now()) {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn is_over(&self) -> bool {
        Instant::now() >= self.window.end
    }

    pub fn remaining(&self) -> Duration {
        self.window.end.saturating_duration_since(Instant::now())
    }

    /// The samples, with a probe still out at the window's end counted as
    /// lagging at least until then (a censored sample, not a missing one).
    pub fn snapshot(&self) -> (Histogram<u64>, u64) {
        let mut h = self.hist.lock().unwrap().clone();
        if let Some((t0, asked)) = *self.pending.lock().unwrap() {
            let lag = self
                .window
                .end
                .saturating_duration_since(t0)
                .saturating_sub(asked);
            if !lag.is_zero() && t0 < self.window.end {
                record(&mut h, lag);
            }
        }
        (h, self.refused.load(Ordering::Relaxed))
    }
}

/// Resource counters of the process or of one thread, from `getrusage`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub user_s: f64,
    pub sys_s: f64,
    pub voluntary: i64,
    pub involuntary: i64,
    pub maxrss_bytes: u64,
}

impl Usage {
    pub fn process() -> Self {
        Self::of(libc::RUSAGE_SELF)
    }

    /// The calling thread only (the load generator measures itself with this).
    pub fn thread() -> Self {
        Self::of(libc::RUSAGE_THREAD)
    }

    fn of(who: libc::c_int) -> Self {
        // SAFETY: `ru` is a plain C struct that getrusage fills in.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(who, &mut ru) };
        assert_eq!(rc, 0, "getrusage failed");
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        Usage {
            user_s: secs(ru.ru_utime),
            sys_s: secs(ru.ru_stime),
            voluntary: ru.ru_nvcsw,
            involuntary: ru.ru_nivcsw,
            maxrss_bytes: ru.ru_maxrss as u64 * 1024,
        }
    }

    /// Another process (a foreign stack's), from `/proc`: CPU time of all
    /// its threads (`stat`), context switches summed over its live threads
    /// (`task/*/status`; those of threads that ended are lost), peak RSS.
    /// Zero when the process is gone.
    pub fn of_pid(pid: u32) -> Self {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let (user_s, sys_s) = stat_cpu_s(&stat).unwrap_or((0.0, 0.0));
        let (mut voluntary, mut involuntary) = (0, 0);
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let text = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
                for line in text.lines() {
                    let n = |v: &str| v.trim().parse::<i64>().unwrap_or(0);
                    if let Some(v) = line.strip_prefix("voluntary_ctxt_switches:") {
                        voluntary += n(v);
                    } else if let Some(v) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                        involuntary += n(v);
                    }
                }
            }
        }
        Usage {
            user_s,
            sys_s,
            voluntary,
            involuntary,
            maxrss_bytes: ProcStatus::of_pid(pid).rss_peak_bytes,
        }
    }

    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user_s: self.user_s - earlier.user_s,
            sys_s: self.sys_s - earlier.sys_s,
            voluntary: self.voluntary - earlier.voluntary,
            involuntary: self.involuntary - earlier.involuntary,
            maxrss_bytes: self.maxrss_bytes,
        }
    }
}

/// One reading of `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStatus {
    pub threads: u32,
    pub rss_bytes: u64,
    pub rss_peak_bytes: u64,
    /// The address space reserved (`VmSize`): every thread's whole stack
    /// and every mapping, touched or not; what "1 MiB per thread" counts.
    pub vm_bytes: u64,
}

impl ProcStatus {
    pub fn read() -> Self {
        let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Self::parse(&text)
    }

    /// Another process's (a foreign stack's); zero when it is gone.
    pub fn of_pid(pid: u32) -> Self {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        Self::parse(&text)
    }

    /// The larger of each count: the peak over several readings.
    pub fn peak(self, other: Self) -> Self {
        ProcStatus {
            threads: self.threads.max(other.threads),
            rss_bytes: self.rss_bytes.max(other.rss_bytes),
            rss_peak_bytes: self.rss_peak_bytes.max(other.rss_peak_bytes),
            vm_bytes: self.vm_bytes.max(other.vm_bytes),
        }
    }

    pub fn parse(text: &str) -> Self {
        let mut s = ProcStatus::default();
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(key), Some(val)) = (it.next(), it.next()) else {
                continue;
            };
            let n: u64 = val.parse().unwrap_or(0);
            match key {
                "Threads:" => s.threads = n as u32,
                "VmRSS:" => s.rss_bytes = n * 1024,
                "VmHWM:" => s.rss_peak_bytes = n * 1024,
                "VmSize:" => s.vm_bytes = n * 1024,
                _ => {}
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_process_is_read_from_proc() {
        // This process, read as another would be, against getrusage.
        let spin_until = std::time::Instant::now() + Duration::from_millis(50);
        while std::time::Instant::now() < spin_until {}
        let own = Usage::process();
        let by_pid = Usage::of_pid(std::process::id());
        assert!(by_pid.user_s + by_pid.sys_s > 0.0, "{by_pid:?}");
        // /proc counts in clock ticks (10 ms); getrusage to the microsecond.
        let cpu = |u: &Usage| u.user_s + u.sys_s;
        assert!(
            (cpu(&by_pid) - cpu(&own)).abs() < 0.1,
            "{by_pid:?} vs {own:?}"
        );
        assert!(by_pid.voluntary + by_pid.involuntary > 0, "{by_pid:?}");
        assert!(ProcStatus::of_pid(std::process::id()).threads >= 1);
        assert_eq!(ProcStatus::of_pid(u32::MAX).threads, 0);
    }

    #[test]
    fn cpu_is_read_after_the_name_whatever_it_holds() {
        // SAFETY: sysconf has no preconditions.
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let stat = "4242 (C2 CompilerThre) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(stat_cpu_s(stat), Some((250.0 / tick, 50.0 / tick)));
        let odd = "7 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 100 0 0 0";
        assert_eq!(stat_cpu_s(odd), Some((100.0 / tick, 0.0)));
        assert_eq!(stat_cpu_s("garbage"), None);
    }

    #[test]
    fn parses_proc_status() {
        let s = ProcStatus::parse(
            "Name:\tx\nVmSize:\t  9000 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t7\n",
        );
        assert_eq!(s.vm_bytes, 9000 * 1024);
        assert_eq!(s.threads, 7);
        assert_eq!(s.rss_bytes, 1024 * 1024);
        assert_eq!(s.rss_peak_bytes, 2048 * 1024);
    }

    #[test]
    fn histograms_merge_to_the_union_of_their_samples() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..=1000u64 {
            record(&mut a, Duration::from_micros(v));
            record(&mut b, Duration::from_micros(v + 1000));
        }
        a.add(&b).unwrap();
        assert_eq!(a.len(), 2000);
        let p50 = a.value_at_quantile(0.5);
        assert!((995..=1005).contains(&p50), "p50 {p50}");
        assert!(a.max() >= 1998 && a.max() <= 2001);
    }

    #[test]
    fn out_of_range_values_saturate_instead_of_panicking() {
        let mut h = new_histogram();
        record(&mut h, Duration::from_secs(10 * 3600));
        assert_eq!(h.len(), 1);
        assert!(h.max() >= MAX_US - MAX_US / 1000);
    }
}
