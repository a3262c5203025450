//! `results.parquet`'s columns, each declared once: name, type, unit, role
//! and one line of doc. The runner's writer is tested against this list (a
//! column written but not declared, or declared but not written, fails), so
//! is the schema table in docs/outputs.md, and the file carries [`VERSION`] in its
//! Parquet metadata under [`VERSION_KEY`]: a reader refuses a newer major.

/// The schema's version, `major.minor` (1.0: files from before it was
/// written; they read as 1.x). A new column is a minor step; a
/// removed or retyped one, or a changed meaning, is a major one.
pub const VERSION: &str = "1.7";
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

const fn def(
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

/// Declares a file's columns once, each a line `name: Kind, "unit", Role,
/// "doc";`, and makes of them both the list (`RESULTS`) and a module with a
/// constant per column (`cols`), named after the column. A line `..factors;`
/// splices in the factor columns, which `factors.rs` declares (their
/// constants too).
macro_rules! table {
    ($(#[$list_doc:meta])* $list:ident, $(#[$mod_doc:meta])* $module:ident {
        $($name:ident: $kind:ident, $unit:literal, $role:ident, $doc:literal;)*
    }) => {
        $(#[$list_doc])*
        pub const $list: &[Column] = &[
            $(def(stringify!($name), $kind, $unit, $role, $doc),)*
        ];

        $(#[$mod_doc])*
        #[allow(non_upper_case_globals)]
        pub mod $module {
            $(#[doc = $doc] pub const $name: &str = stringify!($name);)*
        }
    };
    ($(#[$list_doc:meta])* $list:ident, $(#[$mod_doc:meta])* $module:ident {
        $($name:ident: $kind:ident, $unit:literal, $role:ident, $doc:literal;)*
        ..factors;
        $($after:ident: $akind:ident, $aunit:literal, $arole:ident, $adoc:literal;)*
    }) => {
        $(#[$list_doc])*
        pub const $list: &[Column] = &concat::<
            {
                const BEFORE: &[&str] = &[$(stringify!($name)),*];
                const AFTER: &[&str] = &[$(stringify!($after)),*];
                BEFORE.len() + crate::factors::FACTOR_COLUMNS.len() + AFTER.len()
            },
        >(&[
            &[$(def(stringify!($name), $kind, $unit, $role, $doc)),*],
            &crate::factors::FACTOR_COLUMNS,
            &[$(def(stringify!($after), $akind, $aunit, $arole, $adoc)),*],
        ]);

        $(#[$mod_doc])*
        #[allow(non_upper_case_globals)]
        pub mod $module {
            $(#[doc = $doc] pub const $name: &str = stringify!($name);)*
            pub use crate::factors::cols::*;
            $(#[doc = $adoc] pub const $after: &str = stringify!($after);)*
        }
    };
}

/// The parts, one after the other.
const fn concat<const N: usize>(parts: &[&[Column]]) -> [Column; N] {
    let mut out = [def("", Str, "", Id, ""); N];
    let (mut n, mut i) = (0, 0);
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[n] = parts[i][j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(n == N);
    out
}

table! {
    /// Every column of `results.parquet`, in the order the runner writes them.
    RESULTS,
    /// Each column's name as a constant named after it: code names a column
    /// as `cols::throughput_rps`, never as a string literal, so a column
    /// renamed or removed here fails to compile where it is read.
    cols {
        class: Str, "", Id, "null without a request mix; `all` on the cell's own row, the class on its class rows (`<cell>~<class>`, see `class_row`)";
        run_id: Str, "", Id, "the run";
        experiment: Str, "", Id, "the spec's name";
        claim: Str, "", Id, "the claim it tests (H1-H10, calibration)";
        title: Str, "", Id, "the spec's title";
        cell: Str, "", Id, "a readable id of the cell's factors";
        repetition: Int, "", Id, "0-based";
        ..factors;
        completed: Int, "count", Metric, "answered in time inside the window";
        errors: Int, "count", Metric, "failed requests inside the window";
        rejected: Int, "count", Metric, "refused by a full accept queue";
        timeouts: Int, "count", Metric, "given up by their client";
        late: Int, "count", Metric, "answers after their client gave up";
        overflow: Int, "count", Metric, "open loop: arrivals not sent (max in flight)";
        throughput_rps: Float, "rps", Metric, "completed / duration_s";
        latency_mean_ms: Float, "ms", Metric, "intended send to end, answered in time";
        latency_p50_ms: Float, "ms", Metric, "latency, 50th percentile";
        latency_p90_ms: Float, "ms", Metric, "latency, 90th percentile";
        latency_p99_ms: Float, "ms", Metric, "latency, 99th percentile";
        latency_p999_ms: Float, "ms", Metric, "latency, 99.9th percentile";
        latency_max_ms: Float, "ms", Metric, "latency, maximum";
        queue_wait_mean_ms: Float, "ms", Metric, "intended send to the model starting the request";
        queue_wait_p99_ms: Float, "ms", Metric, "queue wait, 99th percentile";
        service_mean_ms: Float, "ms", Metric, "the model starting a request to its end";
        loop_lag_p50_ms: Float, "ms", Metric, "a 1 ms probe's lateness on the model";
        loop_lag_p99_ms: Float, "ms", Metric, "probe lateness, 99th percentile";
        loop_lag_max_ms: Float, "ms", Metric, "probe lateness, maximum";
        loop_lag_samples: Int, "count", Metric, "probes answered";
        loop_lag_refused: Int, "count", Metric, "probes a full queue refused";
        cpu_work_mean_ms: Float, "ms", Metric, "measured thread CPU time of the CPU part";
        cpu_cost_ratio: Float, "ratio", Metric, "CPU time used / asked by the calibration; the theory prices CPU with it";
        rss_idle_bytes: Int, "bytes", Metric, "RSS before load";
        rss_peak_bytes: Int, "bytes", Metric, "the process's peak RSS (VmHWM)";
        rss_window_peak_bytes: Int, "bytes", Metric, "peak RSS in the window (sampled every 20 ms)";
        vm_idle_bytes: Int, "bytes", Metric, "address space reserved (VmSize) before load: every thread's whole stack, touched or not";
        vm_window_peak_bytes: Int, "bytes", Metric, "peak address space reserved in the window (sampled with RSS)";
        kernel_idle_bytes: Int, "bytes", Metric, "kernel memory of the process under test before load: kernel stacks, slab, page tables, socket buffers (not in RSS)";
        kernel_window_peak_bytes: Int, "bytes", Metric, "peak kernel memory in the window (sampled with RSS)";
        sock_idle_bytes: Int, "bytes", Metric, "the socket buffers in kernel_idle_bytes";
        sock_window_peak_bytes: Int, "bytes", Metric, "the socket buffers in kernel_window_peak_bytes";
        memory_source: Str, "", Meta, "where kernel memory was read: cgroup-v1 or cgroup-v2 (the process under test alone), machine-wide (every process's)";
        cpu_user_s: Float, "s", Metric, "user CPU over the window";
        cpu_sys_s: Float, "s", Metric, "system CPU over the window";
        ctx_voluntary: Int, "count", Metric, "voluntary context switches over the window";
        ctx_involuntary: Int, "count", Metric, "involuntary context switches over the window";
        threads_idle: Int, "count", Metric, "OS threads before load";
        threads_peak: Int, "count", Metric, "OS threads, peak";
        harness_threads: Int, "count", Metric, "the harness's own threads";
        harness_cpu_s: Float, "s", Metric, "the harness's own CPU";
        stack_startup_s: Float, "s", Metric, "foreign stacks: from launch to listening";
        stack_pinned: Int, "count", Metric, "Tomcat's virtual threads: JFR's jdk.VirtualThreadPinned events over the stack's run";
        stack_slow_callbacks: Int, "count", Metric, "FastAPI in asyncio debug mode: slow-callback warnings over the stack's run";
        theory_throughput_rps: Float, "rps", Metric, "Little's-law bound";
        theory_latency_ms: Float, "ms", Metric, "R = C / X";
        theory_capacity_rps: Float, "rps", Metric, "the model's capacity";
        utilisation: Float, "ratio", Metric, "offered load over capacity";
        theory_queue_wait_ms: Float, "ms", Metric, "M/D/c mean wait in steady state (simulated)";
        theory_queue_wait_path_ms: Float, "ms", Metric, "the same queue replaying the cell's own arrivals";
        theory_turnover_s: Float, "s", Metric, "C / T x S: how long the queue takes to turn over";
        fidelity: Float, "ratio", Metric, "throughput_rps / theory_throughput_rps";
        theory_priced_rps: Float, "rps", Metric, "http: the bound priced with the server's own calibrated cost per request";
        fidelity_priced: Float, "ratio", Metric, "http: throughput_rps / theory_priced_rps";
        warmup_taken_s: Float, "s", Metric, "JVM stacks: the warm-up the cell took, to settled throughput or its bound";
        warmup_settled: Bool, "", Meta, "JVM stacks: throughput settled before the warm-up's bound";
        littles_law_rps: Float, "rps", Metric, "closed loop: C / measured mean latency";
        io_calls_ok: Int, "count", Metric, "http cells: responses read";
        downstream_received: Int, "count", Metric, "http cells: requests the downstream received";
        downstream_answered: Int, "count", Metric, "http cells: requests the downstream answered";
        db_verified: Int, "count", Metric, "postgres cells: requests verified before timing";
        db_queries_ok: Int, "count", Metric, "postgres cells: correct answers counted by the drivers";
        db_server_statements: Int, "count", Metric, "postgres cells: statements the server executed";
        db_server_connections: Int, "count", Metric, "postgres cells: the server's connections";
        db_pool_wait_p50_ms: Float, "ms", Metric, "wait for a pooled connection, median";
        db_pool_wait_p99_ms: Float, "ms", Metric, "wait for a pooled connection, 99th percentile";
        transient: Bool, "", Meta, "the queue turns over slower than the warm-up: not a steady state";
        notes: Str, "", Meta, "caveats, `; `-joined (`notes::join`)";
        status: Str, "", Meta, "ok, disturbed, failed or skipped (`Status`)";
        error: Str, "", Meta, "why not ok";
        stall_ms: Float, "ms", Meta, "the longest machine stall during the execution";
        histogram: Str, "", Meta, "the latency histogram (HdrHistogram V2, base64)";
        started_at: Str, "", Meta, "when the execution started";
        wall_s: Float, "s", Meta, "how long the execution took";
    }
}

table! {
    /// Every column of `latency.parquet`: each cell execution's latency at
    /// fixed percentiles (the spectrum charts).
    LATENCY,
    /// The names of [`LATENCY`]'s columns.
    spectrum_cols {
        run_id: Str, "", Id, "the run";
        experiment: Str, "", Id, "the spec's name";
        cell: Str, "", Id, "a readable id of the cell's factors";
        repetition: Int, "", Id, "0-based";
        model: Str, "", Factor, "the execution model";
        percentile: Float, "%", Id, "the percentile, 0 to 100";
        latency_ms: Float, "ms", Metric, "the latency at that percentile";
        count: Int, "count", Metric, "requests between the previous percentile and this one";
    }
}

/// A metric derived per row from the stored columns (the report computes
/// it; a rule names it as it names a column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    pub name: &'static str,
    /// As [`Column::unit`].
    pub unit: &'static str,
    /// How it is computed from the columns.
    pub formula: &'static str,
}

/// Declares the derived metrics once, as `table!` the columns: the list
/// [`DERIVED`] and a constant per name in [`derived`].
macro_rules! derived {
    ($($name:ident: $unit:literal, $formula:literal;)*) => {
        /// Every derived metric, with its unit and formula.
        pub const DERIVED: &[Derived] = &[
            $(Derived { name: stringify!($name), unit: $unit, formula: $formula },)*
        ];

        /// Each derived metric's name as a constant named after it.
        #[allow(non_upper_case_globals)]
        pub mod derived {
            $(#[doc = $formula] pub const $name: &str = stringify!($name);)*
        }
    };
}

derived! {
    rss_per_inflight_bytes: "bytes", "(rss_window_peak_bytes - rss_idle_bytes) / concurrency";
    kernel_per_inflight_bytes: "bytes", "(kernel_window_peak_bytes - kernel_idle_bytes) / concurrency";
    memory_per_inflight_bytes: "bytes", "rss_per_inflight_bytes + kernel_per_inflight_bytes: what a request in flight costs the machine";
    ctx_per_request: "count", "(ctx_voluntary + ctx_involuntary) / completed";
    vm_per_thread_bytes: "bytes", "(vm_window_peak_bytes - vm_idle_bytes) / (threads_peak - threads_idle): the address space a new thread reserves";
    memory_per_thread_bytes: "bytes", "(rss_window_peak_bytes - rss_idle_bytes + kernel_window_peak_bytes - kernel_idle_bytes) / (threads_peak - threads_idle): what a new thread costs the machine";
}

/// The column called `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    RESULTS.iter().find(|c| c.name == name)
}

/// The factor columns, in writing order: what was varied or fixed in a cell
/// (declared in `factors.rs`).
pub fn factors() -> impl Iterator<Item = &'static str> {
    crate::factors::FACTORS.iter().map(|f| f.column.name)
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

    /// The factor columns spliced in from `factors.rs` sit where they
    /// always were: after the ids, before the measurements.
    #[test]
    fn the_factor_columns_keep_their_place() {
        let names: Vec<&str> = RESULTS.iter().map(|c| c.name).collect();
        let at = names.iter().position(|n| *n == "model").unwrap();
        let n = crate::factors::FACTOR_COLUMNS.len();
        assert_eq!(names[at - 1], "repetition");
        assert_eq!(names[at + n], "completed");
        assert!(RESULTS[at..at + n].iter().all(|c| c.role == Role::Factor));
        // The 25 factors of the first Parquet files keep their order; a
        // factor added later may sit anywhere among them.
        let before = "model transport threads queue workers pool_threads concurrency rate_rps \
             arrival io io_latency_ms cpu_ms cpu_ratio offload pinning stack_kib java loop_debug \
             client db_query db_pool load_mode duration_s warmup_s timeout_ms";
        let mut now = names[at..at + n].iter();
        for old in before.split_whitespace() {
            assert!(now.any(|c| *c == old), "{old} is missing or out of order");
        }
        assert_eq!(cols::loop_debug, "loop_debug");
        assert_eq!(column("db_pool").unwrap().unit, "count");
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

    /// The schema table (docs/outputs.md) names every column, and only
    /// columns (`latency_{mean,p50}_ms` stands for both).
    #[test]
    fn the_readme_table_matches_the_schema() {
        let readme = include_str!("../../docs/outputs.md");
        let start = readme
            .find("## `results.parquet` schema")
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
                "docs/outputs.md lacks `{}`",
                c.name
            );
        }
        for n in &named {
            assert!(
                column(n).is_some(),
                "docs/outputs.md names `{n}`, not a column"
            );
        }
    }

    /// The derived metrics' table (docs/outputs.md) names each of them,
    /// with its unit, and no other.
    #[test]
    fn the_derived_table_matches_the_declarations() {
        let doc = include_str!("../../docs/outputs.md");
        let start = doc.find("## Derived metrics").expect("derived section");
        let rows: Vec<Vec<&str>> = doc[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|r| r.split('|').map(str::trim).collect())
            .collect();
        assert_eq!(rows.len(), DERIVED.len(), "{rows:?}");
        for (row, d) in rows.iter().zip(DERIVED) {
            assert_eq!(row[1], format!("`{}`", d.name));
            assert_eq!(row[2], d.unit, "{}", d.name);
            assert!(column(d.name).is_none(), "{} is a column too", d.name);
        }
        assert_eq!(derived::ctx_per_request, "ctx_per_request");
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
