//! `results.parquet`'s columns, each declared once: name, type, unit, role
//! and one line of doc. The runner's writer is tested against this list (a
//! column written but not declared, or declared but not written, fails), so
//! is the README's schema table, and the file carries [`VERSION`] in its
//! Parquet metadata under [`VERSION_KEY`]: a reader refuses a newer major.

/// The schema's version, `major.minor` (1.0: files from before it was
/// written; they read as 1.x). A new column is a minor step; a
/// removed or retyped one, or a changed meaning, is a major one.
pub const VERSION: &str = "1.1";
/// The Parquet key-value metadata key that holds [`VERSION`].
pub const VERSION_KEY: &str = "threadloop.schema_version";

/// A column's type in Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
}

/// What a column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Names the row: run, experiment, cell, repetition, class.
    Id,
    /// A factor of the cell (what was varied or fixed).
    Factor,
    /// A measurement (what a verdict rule may read).
    Metric,
    /// About the execution: status, notes, timing.
    Meta,
}

/// One column of `results.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// `ms`, `rps`, `bytes`, `s`, `count`, `ratio`, or empty.
    pub unit: &'static str,
    pub role: Role,
    pub doc: &'static str,
}

const fn col(
    name: &'static str,
    kind: Kind,
    unit: &'static str,
    role: Role,
    doc: &'static str,
) -> Column {
    Column {
        name,
        kind,
        unit,
        role,
        doc,
    }
}

use Kind::{Bool, Float, Int, Str};
use Role::{Factor, Id, Meta, Metric};

/// Every column, in the order the runner writes them.
pub const RESULTS: &[Column] = &[
    col("class", Str, "", Id, "null without a request mix; `all` on the cell's own row, the class on its class rows (`<cell>~<class>`)"),
    col("run_id", Str, "", Id, "the run"),
    col("experiment", Str, "", Id, "the spec's name"),
    col("claim", Str, "", Id, "the claim it tests (H1-H10, calibration)"),
    col("title", Str, "", Id, "the spec's title"),
    col("cell", Str, "", Id, "a readable id of the cell's factors"),
    col("repetition", Int, "", Id, "0-based"),
    col("model", Str, "", Factor, "the execution model"),
    col("threads", Int, "count", Factor, "pool size (pool models)"),
    col("queue", Int, "count", Factor, "accept-queue bound (pool models)"),
    col("workers", Int, "count", Factor, "runtime or carrier threads"),
    col("pool_threads", Int, "count", Factor, "the offload worker pool's threads"),
    col("concurrency", Int, "count", Factor, "closed loop: clients"),
    col("rate_rps", Float, "rps", Factor, "open loop: offered rate"),
    col("arrival", Str, "", Factor, "open loop: inter-arrival distribution"),
    col("io", Str, "", Factor, "where a request's I/O goes"),
    col("io_latency_ms", Float, "ms", Factor, "the I/O's latency"),
    col("cpu_ms", Float, "ms", Factor, "the CPU part of a request"),
    col("cpu_ratio", Float, "ratio", Factor, "cpu_ms / (cpu_ms + io_latency_ms)"),
    col("offload", Str, "", Factor, "where an async model runs the CPU part"),
    col("pinning", Str, "", Factor, "coroutines: what the I/O does to the carrier"),
    col("stack_kib", Int, "KiB", Factor, "coroutines: stack size"),
    col("client", Str, "", Factor, "the HTTP client or DB driver"),
    col("db_query", Str, "", Factor, "postgres cells: the query"),
    col("db_pool", Int, "count", Factor, "postgres cells: connections per cell"),
    col("load_mode", Str, "", Factor, "closed or open loop"),
    col("duration_s", Float, "s", Factor, "the measurement window"),
    col("warmup_s", Float, "s", Factor, "the warm-up before it"),
    col("timeout_ms", Int, "ms", Factor, "a client gives up after this"),
    col("completed", Int, "count", Metric, "answered in time inside the window"),
    col("errors", Int, "count", Metric, "failed requests inside the window"),
    col("rejected", Int, "count", Metric, "refused by a full accept queue"),
    col("timeouts", Int, "count", Metric, "given up by their client"),
    col("late", Int, "count", Metric, "answers after their client gave up"),
    col("overflow", Int, "count", Metric, "open loop: arrivals not sent (max in flight)"),
    col("throughput_rps", Float, "rps", Metric, "completed / duration_s"),
    col("latency_mean_ms", Float, "ms", Metric, "intended send to end, answered in time"),
    col("latency_p50_ms", Float, "ms", Metric, "latency, 50th percentile"),
    col("latency_p90_ms", Float, "ms", Metric, "latency, 90th percentile"),
    col("latency_p99_ms", Float, "ms", Metric, "latency, 99th percentile"),
    col("latency_p999_ms", Float, "ms", Metric, "latency, 99.9th percentile"),
    col("latency_max_ms", Float, "ms", Metric, "latency, maximum"),
    col("queue_wait_mean_ms", Float, "ms", Metric, "intended send to the model starting the request"),
    col("queue_wait_p99_ms", Float, "ms", Metric, "queue wait, 99th percentile"),
    col("service_mean_ms", Float, "ms", Metric, "the model starting a request to its end"),
    col("loop_lag_p50_ms", Float, "ms", Metric, "a 1 ms probe's lateness on the model"),
    col("loop_lag_p99_ms", Float, "ms", Metric, "probe lateness, 99th percentile"),
    col("loop_lag_max_ms", Float, "ms", Metric, "probe lateness, maximum"),
    col("loop_lag_samples", Int, "count", Metric, "probes answered"),
    col("loop_lag_refused", Int, "count", Metric, "probes a full queue refused"),
    col("cpu_work_mean_ms", Float, "ms", Metric, "measured thread CPU time of the CPU part"),
    col("cpu_cost_ratio", Float, "ratio", Metric, "CPU time used / asked by the calibration; the theory prices CPU with it"),
    col("rss_idle_bytes", Int, "bytes", Metric, "RSS before load"),
    col("rss_peak_bytes", Int, "bytes", Metric, "the process's peak RSS (VmHWM)"),
    col("rss_window_peak_bytes", Int, "bytes", Metric, "peak RSS in the window (sampled every 20 ms)"),
    col("cpu_user_s", Float, "s", Metric, "user CPU over the window"),
    col("cpu_sys_s", Float, "s", Metric, "system CPU over the window"),
    col("ctx_voluntary", Int, "count", Metric, "voluntary context switches over the window"),
    col("ctx_involuntary", Int, "count", Metric, "involuntary context switches over the window"),
    col("threads_idle", Int, "count", Metric, "OS threads before load"),
    col("threads_peak", Int, "count", Metric, "OS threads, peak"),
    col("harness_threads", Int, "count", Metric, "the harness's own threads"),
    col("harness_cpu_s", Float, "s", Metric, "the harness's own CPU"),
    col("theory_throughput_rps", Float, "rps", Metric, "Little's-law bound"),
    col("theory_latency_ms", Float, "ms", Metric, "R = C / X"),
    col("theory_capacity_rps", Float, "rps", Metric, "the model's capacity"),
    col("utilisation", Float, "ratio", Metric, "offered load over capacity"),
    col("theory_queue_wait_ms", Float, "ms", Metric, "M/D/c mean wait in steady state (simulated)"),
    col("theory_queue_wait_path_ms", Float, "ms", Metric, "the same queue replaying the cell's own arrivals"),
    col("theory_turnover_s", Float, "s", Metric, "C / T x S: how long the queue takes to turn over"),
    col("fidelity", Float, "ratio", Metric, "throughput_rps / theory_throughput_rps"),
    col("littles_law_rps", Float, "rps", Metric, "closed loop: C / measured mean latency"),
    col("io_calls_ok", Int, "count", Metric, "http cells: responses read"),
    col("downstream_received", Int, "count", Metric, "http cells: requests the downstream received"),
    col("downstream_answered", Int, "count", Metric, "http cells: requests the downstream answered"),
    col("db_verified", Int, "count", Metric, "postgres cells: requests verified before timing"),
    col("db_queries_ok", Int, "count", Metric, "postgres cells: correct answers counted by the drivers"),
    col("db_server_statements", Int, "count", Metric, "postgres cells: statements the server executed"),
    col("db_server_connections", Int, "count", Metric, "postgres cells: the server's connections"),
    col("db_pool_wait_p50_ms", Float, "ms", Metric, "wait for a pooled connection, median"),
    col("db_pool_wait_p99_ms", Float, "ms", Metric, "wait for a pooled connection, 99th percentile"),
    col("transient", Bool, "", Meta, "the queue turns over slower than the warm-up: not a steady state"),
    col("notes", Str, "", Meta, "caveats, `; `-joined"),
    col("status", Str, "", Meta, "ok, disturbed, failed or skipped"),
    col("error", Str, "", Meta, "why not ok"),
    col("stall_ms", Float, "ms", Meta, "the longest machine stall during the execution"),
    col("histogram", Str, "", Meta, "the latency histogram (HdrHistogram V2, base64)"),
    col("started_at", Str, "", Meta, "when the execution started"),
    col("wall_s", Float, "s", Meta, "how long the execution took"),
];

/// The column called `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    RESULTS.iter().find(|c| c.name == name)
}

/// Whether a reader built for [`VERSION`] can read a file written with
/// `found`: the same major version (a newer minor only adds columns).
pub fn readable(found: &str) -> Result<(), String> {
    let major = |v: &str| v.split('.').next().and_then(|m| m.parse::<u32>().ok());
    match (major(found), major(VERSION)) {
        (Some(f), Some(ours)) if f == ours => Ok(()),
        (Some(f), Some(ours)) if f > ours => Err(format!(
            "written with results schema {found}, newer than this build's {VERSION}: update threadloop to read it"
        )),
        (Some(_), Some(_)) => Err(format!(
            "written with results schema {found}, older than this build's {VERSION}: rerun it, or read it with the threadloop that wrote it"
        )),
        _ => Err(format!("unreadable results schema version `{found}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        for (i, c) in RESULTS.iter().enumerate() {
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}",
                c.name
            );
            assert!(!c.doc.is_empty(), "{} has no doc", c.name);
            assert!(
                RESULTS[..i].iter().all(|d| d.name != c.name),
                "{} twice",
                c.name
            );
        }
    }

    #[test]
    fn a_newer_major_is_refused_with_a_reason() {
        assert!(readable(VERSION).is_ok());
        let major: u32 = VERSION.split('.').next().unwrap().parse().unwrap();
        assert!(readable(&format!("{major}.99")).is_ok());
        let e = readable(&format!("{}.0", major + 1)).unwrap_err();
        assert!(e.contains("newer than this build"), "{e}");
        assert!(readable("x").is_err());
    }

    /// The README's schema table names every column, and only columns
    /// (`latency_{mean,p50}_ms` stands for both).
    #[test]
    fn the_readme_table_matches_the_schema() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("### `results.parquet` schema")
            .expect("schema section");
        let table: Vec<&str> = readme[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .collect();
        let mut named = Vec::new();
        for row in table {
            let first = row.split('|').nth(1).unwrap_or("");
            for quoted in first.split('`').skip(1).step_by(2) {
                named.extend(expand(quoted));
            }
        }
        for c in RESULTS {
            assert!(
                named.iter().any(|n| n == c.name),
                "README lacks `{}`",
                c.name
            );
        }
        for n in &named {
            assert!(column(n).is_some(), "README names `{n}`, not a column");
        }
    }

    /// `a_{x,y}_b` → `a_x_b`, `a_y_b`.
    fn expand(s: &str) -> Vec<String> {
        match (s.find('{'), s.find('}')) {
            (Some(i), Some(j)) if i < j => s[i + 1..j]
                .split(',')
                .map(|alt| format!("{}{}{}", &s[..i], alt, &s[j + 1..]))
                .collect(),
            _ => vec![s.to_string()],
        }
    }
}
