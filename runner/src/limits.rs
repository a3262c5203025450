//! The machine's limits on OS threads, checked before a cell runs: a cell
//! that would need more threads than the machine allows is recorded as
//! `skipped` with the reason, never started (and so never crashes).

use std::collections::BTreeMap;
use threadloop_engine::{Cell, Load, ModelKind};

/// Threads a cell's model will ask the OS for at its peak, or `None` when
/// it uses a fixed handful (event loops, carriers).
pub fn threads_needed(cell: &Cell) -> Option<u64> {
    let service_s = (cell.cpu_ms + cell.io_latency_ms) / 1e3;
    match (cell.model, cell.load) {
        (ModelKind::Threads | ModelKind::ThreadsAsyncIo, _) => cell.threads.map(u64::from),
        (ModelKind::ThreadPerRequest, Load::Closed { concurrency }) => Some(concurrency as u64),
        // Little's law: requests in flight = rate × time in system.
        (ModelKind::ThreadPerRequest, Load::Open { rate_rps, .. }) => {
            Some(((rate_rps * service_s).ceil() as u64).min(cell.max_in_flight as u64))
        }
        _ => None,
    }
}

/// How many threads one process may have, from `manifest.limits` values:
/// the least of threads-max, pid_max, `ulimit -u`, and max_map_count / 2
/// (each thread's stack and guard page are two mappings). A tenth is held
/// back for the rest of the machine.
pub fn thread_budget(limits: &BTreeMap<String, String>) -> Option<u64> {
    let get = |k: &str| limits.get(k).and_then(|v| v.parse::<u64>().ok());
    let candidates = [
        get("threads-max"),
        get("pid_max"),
        get("ulimit -u"),
        get("max_map_count").map(|m| m / 2),
    ];
    candidates.into_iter().flatten().min().map(|b| b - b / 10)
}

/// `Some(reason)` when the cell would exceed the budget.
pub fn check(cell: &Cell, limits: &BTreeMap<String, String>) -> Option<String> {
    let needed = threads_needed(cell)?;
    let budget = thread_budget(limits)?;
    (needed > budget).then(|| {
        let shown: Vec<String> = limits.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "skipped: needs ~{needed} OS threads, more than this machine allows one process (~{budget}: {})",
            shown.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BTreeMap<String, String> {
        [
            ("threads-max", "192730"),
            ("pid_max", "32768"),
            ("max_map_count", "65530"),
            ("ulimit -u", "unlimited"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn cell(model: ModelKind, concurrency: u32) -> Cell {
        serde_json::from_value(serde_json::json!({
            "model": model, "threads": null, "queue": null, "workers": null, "pool_threads": null,
            "load": {"mode": "closed", "concurrency": concurrency}, "io": "timer", "io_latency_ms": 100.0,
            "cpu_ms": 0.0, "offload": null, "timeout_ms": 1000, "retry_after_ms": 10, "max_in_flight": 1000000,
            "warmup_s": 1.0, "duration_s": 1.0, "seed": 1, "cpu_iters_per_ms": 1.0, "cores": 2
        }))
        .unwrap()
    }

    #[test]
    fn the_budget_is_the_tightest_limit_less_a_margin() {
        // pid_max 32768 and max_map_count / 2 = 32765: the latter wins.
        assert_eq!(thread_budget(&limits()), Some(32765 - 3276));
    }

    #[test]
    fn a_thread_per_request_cell_beyond_the_budget_is_skipped() {
        assert!(check(&cell(ModelKind::ThreadPerRequest, 10_000), &limits()).is_none());
        let reason = check(&cell(ModelKind::ThreadPerRequest, 100_000), &limits()).unwrap();
        assert!(
            reason.contains("100000 OS threads") && reason.contains("pid_max 32768"),
            "{reason}"
        );
        assert!(
            check(&cell(ModelKind::Tokio, 100_000), &limits()).is_none(),
            "tasks are not threads"
        );
    }
}
