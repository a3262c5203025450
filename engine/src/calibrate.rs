//! Calibration of [`crate::work::spin`]: iterations per millisecond of thread
//! CPU time on this machine. Done once per run by the runner and recorded in
//! the manifest, so every cell of a run does the same work per `cpu_ms`.

use crate::work::{spin, thread_cpu_time};
pub use threadloop_vocab::Calibration;

/// Measures `rounds` times, each spinning for about `round_ms` of CPU.
pub fn calibrate(rounds: usize, round_ms: f64) -> Calibration {
    // A first guess from a short probe, then rounds of the target size.
    let probe = 200_000u64;
    let t0 = thread_cpu_time();
    spin(probe);
    let probe_ms = (thread_cpu_time() - t0).as_secs_f64() * 1e3;
    let guess = probe as f64 / probe_ms.max(1e-3);
    let iters = (guess * round_ms).max(1.0) as u64;
    let mut estimates: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let t0 = thread_cpu_time();
            spin(iters);
            let ms = (thread_cpu_time() - t0).as_secs_f64() * 1e3;
            iters as f64 / ms.max(1e-6)
        })
        .collect();
    let rounds_out = estimates.clone();
    estimates.sort_by(|a, b| a.total_cmp(b));
    Calibration {
        iters_per_ms: estimates[estimates.len() / 2],
        rounds: rounds_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::CpuWork;

    #[test]
    fn calibrated_work_takes_about_the_asked_cpu_time() {
        let cal = calibrate(5, 20.0);
        assert!(cal.iters_per_ms > 0.0);
        let work = CpuWork::new(10.0, cal.iters_per_ms);
        // Thread CPU time is immune to preemption; allow for cache/frequency noise.
        let mut took: Vec<f64> = (0..5).map(|_| work.run().as_secs_f64() * 1e3).collect();
        took.sort_by(|a, b| a.total_cmp(b));
        let median = took[2];
        assert!(
            (5.0..20.0).contains(&median),
            "10 ms of work took {median} ms of CPU"
        );
    }

    #[test]
    fn empty_work_is_free() {
        assert_eq!(CpuWork::new(0.0, 1e6).run(), std::time::Duration::ZERO);
    }
}
