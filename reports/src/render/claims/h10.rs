//! The essay's coroutines-vs-virtual-threads table (H10), with a measured
//! column from the run beside each row where a number fits.

use super::ComparisonRow;
use crate::load::fmt_compact;
use crate::stats::MeasuredCell;
use threadloop_vocab::schema::cols;

/// The median of `metric` in the cell of `model` (and `pinning`, when given)
/// at concurrency `c`.
fn median(
    cells: &[&MeasuredCell],
    model: &str,
    c: f64,
    pinning: Option<&str>,
    metric: &str,
) -> Option<f64> {
    cells
        .iter()
        .filter(|x| x.first_row.str(cols::class).is_none_or(|k| k == "all"))
        .find(|x| {
            x.model == model
                && x.factor_num(cols::concurrency) == Some(c)
                && pinning.is_none_or(|p| x.first_row.str(cols::pinning) == Some(p))
        })
        .and_then(|x| x.estimate(metric))
        .map(|e| e.median)
}

/// `model value` pairs, skipping models the run does not have.
fn list(
    cells: &[&MeasuredCell],
    models: &[(&str, Option<&str>)],
    c: f64,
    metric: &str,
    scale: f64,
    unit: &str,
) -> String {
    let parts: Vec<String> = models
        .iter()
        .filter_map(|(m, p)| {
            median(cells, m, c, *p, metric).map(|v| format!("{m} {}{unit}", fmt_compact(v * scale)))
        })
        .collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(", ")
    }
}

/// The table, or nothing when the experiment has no coroutine cells.
pub fn comparison(cells: &[&MeasuredCell]) -> Vec<ComparisonRow> {
    if !cells.iter().any(|c| c.model == "coroutines") {
        return Vec::new();
    }
    let concurrencies: Vec<f64> = cells
        .iter()
        .filter_map(|c| c.factor_num(cols::concurrency))
        .collect();
    let (lo, hi) = concurrencies
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &c| {
            (lo.min(c), hi.max(c))
        });
    let yielding = [
        ("coroutines", Some("none")),
        ("tokio", None),
        ("smol", None),
        (cols::threads, None),
    ];
    let stack = cells
        .iter()
        .find_map(|c| c.factor_num(cols::stack_kib))
        .map_or("–".to_string(), |k| format!("{} KiB", fmt_compact(k)));
    vec![
        ComparisonRow {
            aspect: "unit",
            stackless: "a suspendable function, compiled to a state machine (a task)",
            stackful: "a thread the runtime schedules onto a few carrier threads",
            measured: format!(
                "{} concurrent requests, one task / coroutine / pooled thread each",
                fmt_compact(hi)
            ),
        },
        ComparisonRow {
            aspect: "stack",
            stackless: "none: only the state that lives across an await",
            stackful: "its own stack (Java: growable, moved to the heap on unmount)",
            measured: format!(
                "RSS per in-flight request at {}: {} (coroutine stack {stack})",
                fmt_compact(hi),
                list(
                    cells,
                    &yielding[..3],
                    hi,
                    "rss_per_inflight_bytes",
                    1.0 / 1024.0,
                    " KiB"
                )
            ),
        },
        ComparisonRow {
            aspect: "keywords",
            stackless: "async / await (suspend in Kotlin)",
            stackful: "none: plain blocking code",
            measured: "models/async_server.rs awaits; models/coroutines.rs calls plainly".into(),
        },
        ComparisonRow {
            aspect: "I/O handling",
            stackless: "explicit await on non-blocking I/O hands the thread back",
            stackful: "a blocking call parks the virtual thread and frees its carrier",
            measured: format!(
                "throughput at {} waits: {}",
                fmt_compact(hi),
                list(cells, &yielding, hi, cols::throughput_rps, 1.0, " req/s")
            ),
        },
        ComparisonRow {
            aspect: "strengths",
            stackless: "little memory per request; control over every suspension point",
            stackful: "synchronous code scales unchanged: scale, not speed",
            measured: format!(
                "unloaded latency ({} client): {}",
                fmt_compact(lo),
                list(cells, &yielding, lo, cols::latency_mean_ms, 1.0, " ms")
            ),
        },
        ComparisonRow {
            aspect: "weaknesses",
            stackless: "function colouring; one blocking call blocks the loop",
            stackful: "pinning: synchronized blocks and native calls hold the carrier",
            measured: format!(
                "at {} clients: {}",
                fmt_compact(hi),
                list(
                    cells,
                    &[
                        ("coroutines", Some("none")),
                        ("coroutines", Some("blocking-syscall")),
                        ("coroutines", Some("mutex"))
                    ],
                    hi,
                    cols::throughput_rps,
                    1.0,
                    " req/s"
                )
                .replacen("coroutines", "yielding", 1)
                .replacen("coroutines", "pinned by a blocking syscall", 1)
                .replacen("coroutines", "pinned by a mutex", 1)
            ),
        },
    ]
}
