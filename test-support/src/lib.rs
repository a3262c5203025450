//! A small synthetic run directory in the runner's format, for the reports'
//! tests (and a worked example of writing Parquet with polars 0.55).
//!
//! Its `results.parquet` is built from the schema (`threadloop_vocab::schema`):
//! every declared column is written, in the runner's order, with the values
//! below where the fixture has an opinion and nulls of the column's type
//! elsewhere; a value for a column the schema does not declare is an error.
//! A new column therefore reaches every test without touching this file.
//!
//! Three experiments: `h1-pool` (threads / tokio / smol × concurrency 10,
//! 100, 1000 × 3 repetitions, one failed repetition, a title with markup),
//! `h5-cpu` (tokio-current, CPU ratio × offload) and `h4-single` (one cell).

use polars::prelude::*;
use serde_json::json;
use std::fs::File;
use std::path::Path;
use threadloop_vocab::schema::{self, cols, spectrum_cols, Kind};
use threadloop_vocab::Status;

/// Knobs of the fixture.
#[derive(Debug, Clone)]
pub struct FixtureOptions {
    pub run_id: String,
    /// Multiplies every throughput (0.5 fakes a regression).
    pub throughput_scale: f64,
}

impl Default for FixtureOptions {
    fn default() -> Self {
        FixtureOptions {
            run_id: "fixture-run".into(),
            throughput_scale: 1.0,
        }
    }
}

/// Changes to the fixture's measured numbers, for the regression gate's
/// tests: another machine, repetition noise, more repetitions, a doctored
/// model. The default changes nothing. Theory columns (`theory_*`) never
/// change: they come from the spec, not from the machine.
#[derive(Debug, Clone)]
pub struct Variation {
    /// Every throughput × this, every latency (percentiles, mean, queue
    /// wait, loop lag) ÷ this: a uniformly faster (> 1) or slower machine.
    /// Fidelity follows the throughput.
    pub machine_speed: f64,
    /// A factor per repetition round, drawn uniformly from
    /// [1 − round_noise, 1 + round_noise] and shared by every cell of the
    /// round (a round that ran on a busier machine): throughput × it,
    /// latencies ÷ it.
    pub round_noise: f64,
    /// Independent factors per cell × repetition, uniform in
    /// [1 − cell_noise, 1 + cell_noise], one for the throughput and one for
    /// the latencies.
    pub cell_noise: f64,
    /// Seed of the noise draws.
    pub seed: u64,
    /// Repetitions per cell (the fixture's default is 3).
    pub repetitions: i64,
    /// `(model, factor)`: that model's throughput × factor.
    pub model_throughput: Vec<(String, f64)>,
    /// `(model, ms)`: every latency of that model (each percentile, the
    /// mean and max, the latency spectrum) + ms.
    pub model_latency_add_ms: Vec<(String, f64)>,
}

impl Default for Variation {
    fn default() -> Self {
        Variation {
            machine_speed: 1.0,
            round_noise: 0.0,
            cell_noise: 0.0,
            seed: 1,
            repetitions: 3,
            model_throughput: Vec::new(),
            model_latency_add_ms: Vec::new(),
        }
    }
}

impl Variation {
    /// A uniform draw in [1 − amplitude, 1 + amplitude] for `(key,
    /// repetition, what)`, deterministic in the seed.
    fn draw(&self, amplitude: f64, key: &str, repetition: i64, what: u64) -> f64 {
        if amplitude == 0.0 {
            return 1.0;
        }
        // FNV-1a over the key, then splitmix64.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        let mut z = h
            ^ self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (repetition as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
            ^ what.wrapping_mul(0x94D0_49BB_1331_11EB);
        for _ in 0..2 {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
        }
        let u = (z >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        1.0 + amplitude * (2.0 * u - 1.0)
    }

    fn apply(&self, r: &mut R) {
        let model = |v: &Vec<(String, f64)>| {
            v.iter()
                .filter(|(m, _)| m.as_str() == r.model)
                .map(|p| p.1)
                .collect::<Vec<_>>()
        };
        let tput: f64 = model(&self.model_throughput).iter().product();
        let add: f64 = model(&self.model_latency_add_ms).iter().sum();
        let round = self.draw(self.round_noise, "round", r.repetition, 0);
        let speed = self.machine_speed * round;
        let lat = self.draw(self.cell_noise, &r.cell, r.repetition, 2) / speed;
        r.throughput *= tput * speed * self.draw(self.cell_noise, &r.cell, r.repetition, 1);
        r.p50 *= lat;
        r.p99 *= lat;
        r.lag_p99 *= lat;
        r.latency_add_ms = add;
    }
}

/// Title of `h1-pool`: escaping must keep it text.
pub const HOSTILE_TITLE: &str = "Pool saturation <script>alert(1)</script> under long I/O";

#[derive(Debug, Clone, Default)]
struct R {
    experiment: &'static str,
    claim: &'static str,
    title: &'static str,
    cell: String,
    repetition: i64,
    model: &'static str,
    threads: Option<i64>,
    workers: Option<i64>,
    concurrency: i64,
    io_latency_ms: f64,
    cpu_ms: f64,
    offload: &'static str,
    throughput: f64,
    p50: f64,
    p99: f64,
    lag_p99: f64,
    theory: f64,
    failed: bool,
    notes: &'static str,
    /// Added to every latency column (see [`Variation`]).
    latency_add_ms: f64,
}

fn rows(opts: &FixtureOptions, var: &Variation) -> Vec<R> {
    let mut out = Vec::new();
    for (model, threads, workers) in [
        ("threads", Some(100), None),
        ("tokio", None, Some(2)),
        ("smol", None, Some(2)),
    ] {
        for c in [10i64, 100, 1000] {
            for rep in 1..=var.repetitions {
                let jitter = 1.0 + 0.01 * (rep - 2) as f64;
                let cap = match model {
                    "threads" => c.min(100),
                    _ => c,
                } as f64;
                let theory = cap / 0.05;
                let queueing = c as f64 / cap;
                out.push(R {
                    experiment: "h1-pool",
                    claim: "H1",
                    title: HOSTILE_TITLE,
                    cell: format!("{model}-c{c}-timer50ms-cpu0ms-inline"),
                    repetition: rep,
                    model,
                    threads,
                    workers,
                    concurrency: c,
                    io_latency_ms: 50.0,
                    cpu_ms: 0.0,
                    offload: "inline",
                    throughput: theory * 0.97 * jitter * opts.throughput_scale,
                    p50: 50.5 * queueing * jitter,
                    p99: 53.0 * queueing * jitter * if model == "tokio" { 1.2 } else { 1.0 },
                    lag_p99: 0.2 * jitter,
                    theory,
                    failed: model == "smol" && c == 1000 && rep == 2,
                    notes: if model == "threads" && c == 1000 {
                        "queue grew beyond the pool; 900 requests waited"
                    } else {
                        ""
                    },
                    latency_add_ms: 0.0,
                });
            }
        }
    }
    for cpu in [5.0, 25.0] {
        for offload in ["inline", "pool"] {
            for rep in 1..=var.repetitions {
                let jitter = 1.0 + 0.02 * (rep - 2) as f64;
                let inline = offload == "inline";
                let p99 = if inline { 20.0 * cpu } else { 55.0 + cpu } * jitter;
                out.push(R {
                    experiment: "h5-cpu",
                    claim: "H5",
                    title: "CPU work on the event loop",
                    cell: format!("tokio-current-c100-timer50ms-cpu{cpu}ms-{offload}"),
                    repetition: rep,
                    model: "tokio-current",
                    threads: None,
                    workers: Some(1),
                    concurrency: 100,
                    io_latency_ms: 50.0,
                    cpu_ms: cpu,
                    offload,
                    throughput: if inline {
                        1000.0 / cpu
                    } else {
                        100.0 / (0.05 + cpu / 1000.0)
                    } * jitter
                        * opts.throughput_scale,
                    p50: p99 * 0.6,
                    p99,
                    lag_p99: if inline { cpu * 3.0 } else { 0.3 } * jitter,
                    theory: if inline {
                        1000.0 / cpu
                    } else {
                        100.0 / (0.05 + cpu / 1000.0)
                    },
                    failed: false,
                    notes: if inline && cpu > 10.0 {
                        "loop blocked by CPU work"
                    } else {
                        ""
                    },
                    latency_add_ms: 0.0,
                });
            }
        }
    }
    for rep in 1..=var.repetitions {
        out.push(R {
            experiment: "h4-single",
            claim: "H4",
            title: "Ten thousand waiting requests",
            cell: "tokio-c10000-timer1000ms-cpu0ms-inline".into(),
            repetition: rep,
            model: "tokio",
            threads: None,
            workers: Some(2),
            concurrency: 10000,
            io_latency_ms: 1000.0,
            cpu_ms: 0.0,
            offload: "inline",
            throughput: 9800.0 * (1.0 + 0.005 * rep as f64) * opts.throughput_scale,
            p50: 1001.0,
            p99: 1010.0 + rep as f64,
            lag_p99: 0.5,
            theory: 10000.0,
            failed: false,
            notes: "",
            latency_add_ms: 0.0,
        });
    }
    for r in &mut out {
        var.apply(r);
    }
    out
}

fn int(name: &str, v: Vec<Option<i64>>) -> Column {
    Column::new(name.into(), v)
}
fn float(name: &str, v: Vec<Option<f64>>) -> Column {
    Column::new(name.into(), v)
}
fn string(name: &str, v: Vec<Option<String>>) -> Column {
    Column::new(name.into(), v)
}

/// Writes `results.parquet`, `latency.parquet` and `manifest.json` into
/// `dir` (created if needed).
pub fn write_fixture(dir: &Path, opts: &FixtureOptions) -> anyhow::Result<()> {
    write_fixture_varied(dir, opts, &Variation::default())
}

/// `latency.parquet`'s columns as they are filled: experiment, cell,
/// repetition, model, percentile, latency_ms, count.
type SpectrumColumns = (
    Vec<String>,
    Vec<String>,
    Vec<i64>,
    Vec<String>,
    Vec<f64>,
    Vec<f64>,
    Vec<i64>,
);

/// [`write_fixture`] with the measured numbers changed by `var`.
pub fn write_fixture_varied(
    dir: &Path,
    opts: &FixtureOptions,
    var: &Variation,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let rs = rows(opts, var);
    let n = rs.len();
    let ok = |r: &R, v: f64| (!r.failed).then_some(v);
    let okf = |f: &dyn Fn(&R) -> f64| rs.iter().map(|r| ok(r, f(r))).collect::<Vec<_>>();
    let s = |f: &dyn Fn(&R) -> String| rs.iter().map(|r| Some(f(r))).collect::<Vec<_>>();
    let i = |f: &dyn Fn(&R) -> Option<i64>| rs.iter().map(f).collect::<Vec<_>>();
    let fl = |f: &dyn Fn(&R) -> Option<f64>| rs.iter().map(f).collect::<Vec<_>>();
    let ctx = |r: &R| r.throughput * 10.0 * if r.model == "threads" { 2.0 } else { 0.1 };
    let columns = vec![
        string(cols::run_id, s(&|_| opts.run_id.clone())),
        string(cols::experiment, s(&|r| r.experiment.to_string())),
        string(cols::claim, s(&|r| r.claim.to_string())),
        string(cols::title, s(&|r| r.title.to_string())),
        string(cols::cell, s(&|r| r.cell.clone())),
        int(cols::repetition, i(&|r| Some(r.repetition))),
        string(cols::model, s(&|r| r.model.to_string())),
        int(cols::threads, i(&|r| r.threads)),
        int(cols::queue, i(&|r| r.threads.map(|_| 10_000))),
        int(cols::workers, i(&|r| r.workers)),
        int(
            cols::pool_threads,
            i(&|r| (r.offload == "pool").then_some(4)),
        ),
        int(cols::concurrency, i(&|r| Some(r.concurrency))),
        float(cols::rate_rps, fl(&|_| None)),
        string(cols::arrival, vec![None; n]),
        string(cols::io, s(&|_| "timer".into())),
        float(cols::io_latency_ms, fl(&|r| Some(r.io_latency_ms))),
        float(cols::cpu_ms, fl(&|r| Some(r.cpu_ms))),
        float(
            cols::cpu_ratio,
            fl(&|r| Some(r.cpu_ms / (r.cpu_ms + r.io_latency_ms))),
        ),
        string(cols::offload, s(&|r| r.offload.to_string())),
        string(cols::load_mode, s(&|_| "closed".into())),
        float(cols::duration_s, fl(&|_| Some(5.0))),
        float(cols::warmup_s, fl(&|_| Some(1.0))),
        int(cols::timeout_ms, i(&|_| Some(10_000))),
        int(
            cols::completed,
            i(&|r| {
                Some(if r.failed {
                    0
                } else {
                    (r.throughput * 5.0) as i64
                })
            }),
        ),
        int(cols::errors, i(&|_| Some(0))),
        int(cols::rejected, i(&|_| Some(0))),
        int(cols::timeouts, i(&|_| Some(0))),
        int(cols::late, i(&|_| Some(0))),
        int(cols::overflow, i(&|_| Some(0))),
        float(cols::throughput_rps, okf(&|r| r.throughput)),
        float(
            cols::latency_mean_ms,
            okf(&|r| r.p50 * 1.02 + r.latency_add_ms),
        ),
        float(cols::latency_p50_ms, okf(&|r| r.p50 + r.latency_add_ms)),
        float(
            cols::latency_p90_ms,
            okf(&|r| (r.p50 + r.p99) / 2.0 + r.latency_add_ms),
        ),
        float(cols::latency_p99_ms, okf(&|r| r.p99 + r.latency_add_ms)),
        float(
            cols::latency_p999_ms,
            okf(&|r| r.p99 * 1.1 + r.latency_add_ms),
        ),
        float(
            cols::latency_max_ms,
            okf(&|r| r.p99 * 1.3 + r.latency_add_ms),
        ),
        float(
            cols::queue_wait_mean_ms,
            okf(&|r| (r.p50 + r.latency_add_ms - r.io_latency_ms).max(0.0)),
        ),
        float(
            cols::queue_wait_p99_ms,
            okf(&|r| (r.p99 + r.latency_add_ms - r.io_latency_ms).max(0.0)),
        ),
        float(cols::loop_lag_p50_ms, okf(&|r| r.lag_p99 / 3.0)),
        float(cols::loop_lag_p99_ms, okf(&|r| r.lag_p99)),
        float(cols::loop_lag_max_ms, okf(&|r| r.lag_p99 * 2.0)),
        float(cols::cpu_work_mean_ms, okf(&|r| r.cpu_ms)),
        float(
            cols::cpu_cost_ratio,
            fl(&|r| (r.cpu_ms > 0.0).then_some(1.0)),
        ),
        int(cols::rss_idle_bytes, i(&|_| Some(4 << 20))),
        int(
            cols::rss_peak_bytes,
            i(&|r| Some((4 << 20) + r.concurrency * per_request_bytes(r) + (1 << 20))),
        ),
        int(
            cols::rss_window_peak_bytes,
            i(&|r| Some((4 << 20) + r.concurrency * per_request_bytes(r))),
        ),
        float(
            cols::cpu_user_s,
            okf(&|r| r.throughput * 5.0 * (r.cpu_ms + 0.02) / 1000.0),
        ),
        float(
            cols::cpu_sys_s,
            okf(&|r| r.throughput * 5.0 * 0.01 / 1000.0),
        ),
        int(cols::ctx_voluntary, i(&|r| Some(ctx(r) as i64))),
        int(cols::ctx_involuntary, i(&|r| Some((ctx(r) / 10.0) as i64))),
        int(cols::threads_idle, i(&|r| Some(r.threads.unwrap_or(2) + 3))),
        int(cols::threads_peak, i(&|r| Some(r.threads.unwrap_or(2) + 3))),
        int(cols::harness_threads, i(&|_| Some(3))),
        float(cols::harness_cpu_s, fl(&|_| Some(0.05))),
        float(cols::theory_throughput_rps, fl(&|r| Some(r.theory))),
        float(
            cols::theory_latency_ms,
            fl(&|r| Some(r.io_latency_ms + r.cpu_ms)),
        ),
        float(cols::theory_capacity_rps, fl(&|r| Some(r.theory))),
        float(cols::utilisation, fl(&|_| None)),
        float(cols::theory_queue_wait_ms, fl(&|_| None)),
        float(cols::fidelity, okf(&|r| r.throughput / r.theory)),
        float(
            cols::littles_law_rps,
            okf(&|r| r.concurrency as f64 / (r.p50 * 1.02 / 1000.0)),
        ),
        Column::new(
            cols::transient.into(),
            rs.iter().map(|_| Some(false)).collect::<Vec<_>>(),
        ),
        string(cols::notes, s(&|r| r.notes.to_string())),
        string(
            cols::status,
            s(&|r| {
                let status = if r.failed { Status::Failed } else { Status::Ok };
                status.name().into()
            }),
        ),
        string(
            cols::error,
            rs.iter()
                .map(|r| {
                    r.failed
                        .then(|| "cell process exited with signal 9 (out of memory?)".to_string())
                })
                .collect(),
        ),
        string(cols::histogram, s(&|_| String::new())),
        string(
            cols::started_at,
            s(&|r| format!("2026-01-01T00:{:02}:00Z", r.repetition)),
        ),
        float(cols::wall_s, fl(&|_| Some(6.2))),
    ];
    let mut df = DataFrame::new(n, in_schema_order(columns, n)?)?;
    let version = polars::io::parquet::write::KeyValueMetadata::from_static(vec![(
        schema::VERSION_KEY.to_string(),
        schema::VERSION.to_string(),
    )]);
    ParquetWriter::new(File::create(dir.join("results.parquet"))?)
        .with_key_value_metadata(Some(version))
        .finish(&mut df)?;

    // Percentile spectrum per cell × repetition.
    let mut sp: SpectrumColumns = Default::default();
    for r in rs.iter().filter(|r| !r.failed) {
        for (p, lat) in [
            (0.0, r.p50 * 0.9),
            (50.0, r.p50),
            (90.0, (r.p50 + r.p99) / 2.0),
            (99.0, r.p99),
            (99.9, r.p99 * 1.1),
            (99.99, r.p99 * 1.2),
            (100.0, r.p99 * 1.3),
        ] {
            sp.0.push(r.experiment.into());
            sp.1.push(r.cell.clone());
            sp.2.push(r.repetition);
            sp.3.push(r.model.into());
            sp.4.push(p);
            sp.5.push(lat + r.latency_add_ms);
            sp.6.push(((100.0 - p) * 10.0) as i64);
        }
    }
    let m = sp.0.len();
    let mut lat = DataFrame::new(
        m,
        vec![
            Column::new(spectrum_cols::run_id.into(), vec![opts.run_id.clone(); m]),
            Column::new(spectrum_cols::experiment.into(), sp.0),
            Column::new(spectrum_cols::cell.into(), sp.1),
            Column::new(spectrum_cols::repetition.into(), sp.2),
            Column::new(spectrum_cols::model.into(), sp.3),
            Column::new(spectrum_cols::percentile.into(), sp.4),
            Column::new(spectrum_cols::latency_ms.into(), sp.5),
            Column::new(spectrum_cols::count.into(), sp.6),
        ],
    )?;
    ParquetWriter::new(File::create(dir.join("latency.parquet"))?).finish(&mut lat)?;

    let manifest = json!({
        "run_id": opts.run_id,
        "started_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:10:00Z",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "git_dirty": false,
        "rustc": "rustc 1.90.0 (fixture)",
        "crates": {"tokio": "1.54.1", "smol": "2.0.2", "async-std": "1.13.2"},
        "cpu_model": "Fixture CPU @ 3.0GHz",
        "cores": 2,
        "memory_bytes": 8u64 << 30,
        "kernel": "6.1.0-fixture",
        "profile": null,
        "seed": 42,
        "calibration": {"iters_per_ms": 123456.0, "rounds": [123000.0, 123456.0, 124000.0]},
        "cells_total": 16,
        "cells_failed": 1,
        "postgres": {"image": "none"},
        "experiments": [
            {
                "file": "experiments/h1-pool.toml",
                "name": "h1-pool",
                "claim": "H1",
                "title": HOSTILE_TITLE,
                "description": "A pool of 100 threads, 50 ms of blocking I/O per request: <b>not bold</b>.",
                "verdict": [
                    {"text": "threads throughput stays at pool/latency (≤ 2200 req/s) once concurrency ≥ 400",
                     "metric": "throughput_rps", "filter": {"model": "threads", "concurrency": ">=400"},
                     "baseline": null, "compare": "<=", "threshold": 2200},
                    {"text": "every async model exceeds threads by ≥ 3× at concurrency 1000",
                     "metric": "throughput_rps", "filter": {"model": ["tokio", "smol"], "concurrency": 1000},
                     "baseline": {"model": "threads"}, "compare": ">=", "threshold": 3}
                ],
                "cells": []
            },
            {
                "file": "experiments/h5-cpu.toml",
                "name": "h5-cpu",
                "claim": "H5",
                "title": "CPU work on the event loop",
                "description": null,
                "verdict": [
                    {"text": "p99 with inline CPU ≥ 5× the offloaded p99",
                     "metric": "latency_p99_ms", "filter": {"offload": "inline"},
                     "baseline": {"offload": "pool"}, "compare": ">=", "threshold": 5}
                ],
                "cells": []
            },
            {
                "file": "experiments/h4-single.toml",
                "name": "h4-single",
                "claim": "H4",
                "title": "Ten thousand waiting requests",
                "description": "One cell only: the page shows just its table.",
                "verdict": [
                    {"text": "threads keep up at 10k", "metric": "throughput_rps",
                     "filter": {"model": "threads"}, "compare": ">=", "threshold": 9000}
                ],
                "cells": []
            }
        ]
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    Ok(())
}

/// Every column of the schema in its order: the fixture's own where it has
/// one, a null column of the declared type elsewhere. A fixture column the
/// schema does not declare is an error, so the two cannot drift.
fn in_schema_order(mut given: Vec<Column>, n: usize) -> anyhow::Result<Vec<Column>> {
    let out = schema::RESULTS
        .iter()
        .map(
            |def| match given.iter().position(|c| c.name().as_str() == def.name) {
                Some(i) => given.swap_remove(i),
                None => Column::full_null(def.name.into(), n, &dtype(def.kind)),
            },
        )
        .collect();
    if let Some(extra) = given.first() {
        anyhow::bail!(
            "the fixture writes `{}`, which the results schema does not declare",
            extra.name()
        );
    }
    Ok(out)
}

/// The Parquet type of a schema column (as the runner's writer stores it).
pub fn dtype(kind: Kind) -> DataType {
    match kind {
        Kind::Str => DataType::String,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Bool => DataType::Boolean,
    }
}

fn per_request_bytes(r: &R) -> i64 {
    if r.model == "threads" {
        64 * 1024
    } else {
        2 * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_writes_every_schema_column_in_order() {
        let dir = std::env::temp_dir().join(format!("threadloop-fixture-{}", std::process::id()));
        write_fixture(&dir, &FixtureOptions::default()).unwrap();
        let df = ParquetReader::new(File::open(dir.join("results.parquet")).unwrap())
            .finish()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let written: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        let declared: Vec<&str> = schema::RESULTS.iter().map(|c| c.name).collect();
        assert_eq!(written, declared);
    }

    #[test]
    fn a_column_the_schema_does_not_declare_is_refused() {
        let e =
            in_schema_order(vec![Column::new("thruput_rps".into(), vec![1.0f64])], 1).unwrap_err();
        assert!(e.to_string().contains("`thruput_rps`"), "{e}");
    }
}
