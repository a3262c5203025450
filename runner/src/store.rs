//! The run directory: complete, self-describing, written as cells finish.
//!
//! `cells/*.json` holds one record per finished cell × repetition and is the
//! source of truth (written atomically, so a crash or Ctrl-C keeps every
//! finished cell); `results.parquet` and `latency.parquet` are rebuilt from
//! it after every cell, each through a temporary file and a rename, so no
//! reader ever sees a half-written file.

use crate::manifest::Manifest;
use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use threadloop_engine::Factor as _;
use threadloop_engine::{Cell, CellOutcome};
use threadloop_vocab::factors::{settings_placed, Value};
use threadloop_vocab::schema::{self, cols, spectrum_cols};
use threadloop_vocab::{class_row, notes, Status};

/// One execution of a cell: its outcome, or why there is none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRecord {
    pub experiment: String,
    pub claim: String,
    pub title: String,
    pub cell_id: String,
    pub repetition: u32,
    pub started_at: String,
    pub wall_s: f64,
    pub cell: Cell,
    pub outcome: Option<CellOutcome>,
    pub error: Option<String>,
    /// Not run: it would have exceeded the machine's limits (see `error`).
    #[serde(default)]
    pub skipped: bool,
    /// The longest platform stall (src/hiccup.rs) during the execution, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<f64>,
}

impl CellRecord {
    /// Measured, but the machine stopped for [`crate::hiccup::DISTURBING`]
    /// or more meanwhile: kept and shown, never counted.
    pub fn disturbed(&self) -> bool {
        self.outcome.is_some()
            && self
                .stall_ms
                .is_some_and(|ms| ms >= crate::hiccup::DISTURBING.as_secs_f64() * 1e3)
    }

    /// What became of the execution: the `status` column.
    pub fn status(&self) -> Status {
        match (&self.outcome, self.skipped) {
            (Some(_), _) if self.disturbed() => Status::Disturbed,
            (Some(_), _) => Status::Ok,
            (None, true) => Status::Skipped,
            (None, false) => Status::Failed,
        }
    }
}

pub struct RunDir {
    pub path: PathBuf,
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    write(&mut f)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl RunDir {
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        if path.join("manifest.json").exists() {
            anyhow::bail!(
                "{} already holds a run; use --resume to finish it, or another --out",
                path.display()
            );
        }
        std::fs::create_dir_all(path.join("cells"))?;
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.join("manifest.json").is_file() {
            anyhow::bail!(
                "{} is not a run directory (no manifest.json)",
                path.display()
            );
        }
        std::fs::create_dir_all(path.join("cells"))?;
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    pub fn write_manifest(&self, m: &Manifest) -> anyhow::Result<()> {
        write_atomic(&self.path.join("manifest.json"), |f| {
            Ok(serde_json::to_writer_pretty(f, m)?)
        })
    }

    pub fn manifest(&self) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(self.path.join("manifest.json"))?;
        Ok(serde_json::from_str(&text)?)
    }

    fn record_path(&self, experiment: &str, cell_id: &str, repetition: u32) -> PathBuf {
        self.path
            .join("cells")
            .join(format!("{experiment}__{cell_id}__r{repetition}.json"))
    }

    pub fn save(&self, r: &CellRecord) -> anyhow::Result<()> {
        write_atomic(
            &self.record_path(&r.experiment, &r.cell_id, r.repetition),
            |f| Ok(serde_json::to_writer(f, r)?),
        )
    }

    /// Every finished record, sorted by experiment, cell and repetition.
    pub fn records(&self) -> anyhow::Result<Vec<CellRecord>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.path.join("cells"))? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p)?;
                out.push(
                    serde_json::from_str::<CellRecord>(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                );
            }
        }
        out.sort_by(|a, b| {
            (&a.experiment, &a.cell_id, a.repetition).cmp(&(
                &b.experiment,
                &b.cell_id,
                b.repetition,
            ))
        });
        Ok(out)
    }

    /// Rebuilds both Parquet files from the records.
    pub fn write_parquet(&self, run_id: &str, records: &[CellRecord]) -> anyhow::Result<()> {
        let records = &with_class_rows(records)[..];
        let mut results = results_frame(run_id, records)?;
        write_atomic(&self.path.join("results.parquet"), |f| {
            // The schema's version travels with the file (vocab/src/schema.rs).
            let version = KeyValueMetadata::from_static(vec![(
                schema::VERSION_KEY.to_string(),
                schema::VERSION.to_string(),
            )]);
            ParquetWriter::new(f)
                .with_key_value_metadata(Some(version))
                .finish(&mut results)?;
            Ok(())
        })?;
        let mut latency = latency_frame(run_id, records)?;
        write_atomic(&self.path.join("latency.parquet"), |f| {
            ParquetWriter::new(f).finish(&mut latency)?;
            Ok(())
        })
    }
}

/// Column builder: one closure per column keeps name and value side by side.
struct Frame<'a> {
    records: &'a [CellRecord],
    columns: Vec<Column>,
}

impl<'a> Frame<'a> {
    fn str(&mut self, name: &str, f: impl Fn(&CellRecord) -> String) -> &mut Self {
        let v: Vec<String> = self.records.iter().map(f).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }
    fn opt_str(&mut self, name: &str, f: impl Fn(&CellRecord) -> Option<String>) -> &mut Self {
        let v: Vec<Option<String>> = self.records.iter().map(f).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }
    fn opt_bool(&mut self, name: &str, f: impl Fn(&CellRecord) -> Option<bool>) -> &mut Self {
        let v: Vec<Option<bool>> = self.records.iter().map(f).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }
    fn int(&mut self, name: &str, f: impl Fn(&CellRecord) -> Option<i64>) -> &mut Self {
        let v: Vec<Option<i64>> = self.records.iter().map(f).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }
    fn float(&mut self, name: &str, f: impl Fn(&CellRecord) -> Option<f64>) -> &mut Self {
        let v: Vec<Option<f64>> = self.records.iter().map(f).collect();
        self.columns.push(Column::new(name.into(), v));
        self
    }
    /// The settings' columns (`vocab::factors`) placed before the load's,
    /// or after it, each typed as declared.
    fn settings(&mut self, before_load: bool) -> &mut Self {
        for s in settings_placed(before_load) {
            let name = s.def().name;
            let value = move |r: &CellRecord| r.cell.setting(s);
            match s.def().kind {
                schema::Kind::Int => self.int(name, |r| match value(r) {
                    Some(Value::Int(n)) => Some(i64::from(n)),
                    _ => None,
                }),
                schema::Kind::Bool => self.opt_bool(name, |r| match value(r) {
                    Some(Value::Bool(b)) => Some(b),
                    _ => None,
                }),
                schema::Kind::Str | schema::Kind::Float => self.opt_str(name, |r| match value(r) {
                    Some(Value::Name(n)) => Some(n.to_string()),
                    _ => None,
                }),
            };
        }
        self
    }
    /// A measured value: null for a failed record.
    fn m_int(&mut self, name: &str, f: impl Fn(&CellOutcome) -> i64) -> &mut Self {
        self.int(name, |r| r.outcome.as_ref().map(&f))
    }
    fn m_float(&mut self, name: &str, f: impl Fn(&CellOutcome) -> Option<f64>) -> &mut Self {
        self.float(name, |r| r.outcome.as_ref().and_then(&f))
    }
}

fn sampled(
    p: &threadloop_engine::outcome::Percentiles,
    f: impl Fn(&threadloop_engine::outcome::Percentiles) -> f64,
) -> Option<f64> {
    (p.count > 0).then(|| f(p))
}

/// Cells with a request mix get one more row per class after their own
/// (whose `class` is `all`): the class's counts, throughput and latency, under
/// the cell id `<cell>~<class>`. Cell-wide measurements (loop lag, RSS, CPU)
/// repeat; fidelity, which is a whole-cell figure, is left out.
pub fn with_class_rows(records: &[CellRecord]) -> Vec<CellRecord> {
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let mix = r
            .outcome
            .as_ref()
            .map(|o| o.classes.clone())
            .unwrap_or_default();
        rows.push(r.clone());
        for c in mix {
            let mut row = r.clone();
            row.cell_id = class_row::row_id(&r.cell_id, &c.name);
            if let Some(o) = row.outcome.as_mut() {
                o.completed = c.completed;
                o.errors = c.errors;
                o.rejected = c.rejected;
                o.timeouts = c.timeouts;
                o.throughput_rps = c.throughput_rps;
                o.latency = c.latency;
                o.spectrum = c.spectrum;
                o.histogram = c.histogram;
                o.fidelity = None;
                o.fidelity_priced = None;
                o.littles_law_rps = None;
                o.classes.clear();
            }
            rows.push(row);
        }
    }
    rows
}

/// `results.parquet`: one row per cell × repetition (schema in README.md).
pub fn results_frame(run_id: &str, records: &[CellRecord]) -> anyhow::Result<DataFrame> {
    let mut f = Frame {
        records,
        columns: Vec::new(),
    };
    // The class column is derived from the row's id, as `with_class_rows`
    // made it.
    f.opt_str(cols::class, |r| {
        class_row::class_of_row_id(&r.cell_id)
            .map(str::to_string)
            .or_else(|| (!r.cell.classes.is_empty()).then(|| class_row::WHOLE_CELL.to_string()))
    });
    f.str(cols::run_id, |_| run_id.to_string())
        .str(cols::experiment, |r| r.experiment.clone())
        .str(cols::claim, |r| r.claim.clone())
        .str(cols::title, |r| r.title.clone())
        .str(cols::cell, |r| r.cell_id.clone())
        .int(cols::repetition, |r| Some(r.repetition as i64))
        .str(cols::model, |r| r.cell.model.name().to_string())
        .str(cols::transport, |r| r.cell.transport.name().to_string())
        .settings(true)
        .int(cols::concurrency, |r| r.cell.concurrency().map(i64::from))
        .float(cols::rate_rps, |r| r.cell.rate_rps())
        .opt_str(cols::arrival, |r| match r.cell.load {
            threadloop_engine::Load::Open { arrival, .. } => Some(arrival.name().to_string()),
            _ => None,
        })
        .str(cols::io, |r| r.cell.io.name().to_string())
        .float(cols::io_latency_ms, |r| Some(r.cell.io_latency_ms))
        .float(cols::cpu_ms, |r| Some(r.cell.cpu_ms))
        .float(cols::cpu_ratio, |r| Some(r.cell.cpu_ratio()))
        .settings(false)
        .str(cols::load_mode, |r| r.cell.load.mode_name().to_string())
        .float(cols::duration_s, |r| Some(r.cell.duration_s))
        .float(cols::warmup_s, |r| Some(r.cell.warmup_s))
        .int(cols::timeout_ms, |r| Some(r.cell.timeout_ms as i64))
        .m_int(cols::completed, |o| o.completed as i64)
        .m_int(cols::errors, |o| o.errors as i64)
        .m_int(cols::rejected, |o| o.rejected as i64)
        .m_int(cols::timeouts, |o| o.timeouts as i64)
        .m_int(cols::late, |o| o.late as i64)
        .m_int(cols::overflow, |o| o.overflow as i64)
        .m_float(cols::throughput_rps, |o| Some(o.throughput_rps))
        .m_float(cols::latency_mean_ms, |o| {
            sampled(&o.latency, |p| p.mean_ms)
        })
        .m_float(cols::latency_p50_ms, |o| sampled(&o.latency, |p| p.p50_ms))
        .m_float(cols::latency_p90_ms, |o| sampled(&o.latency, |p| p.p90_ms))
        .m_float(cols::latency_p99_ms, |o| sampled(&o.latency, |p| p.p99_ms))
        .m_float(cols::latency_p999_ms, |o| {
            sampled(&o.latency, |p| p.p999_ms)
        })
        .m_float(cols::latency_max_ms, |o| sampled(&o.latency, |p| p.max_ms))
        // Null, not zero, when there was no sample (e.g. no request answered
        // in time, or a probe stuck in a queue longer than the window).
        .m_float(cols::queue_wait_mean_ms, |o| {
            sampled(&o.queue_wait, |p| p.mean_ms)
        })
        .m_float(cols::queue_wait_p99_ms, |o| {
            sampled(&o.queue_wait, |p| p.p99_ms)
        })
        .m_float(cols::service_mean_ms, |o| {
            sampled(&o.service, |p| p.mean_ms)
        })
        .m_float(cols::loop_lag_p50_ms, |o| {
            sampled(&o.loop_lag, |p| p.p50_ms)
        })
        .m_float(cols::loop_lag_p99_ms, |o| {
            sampled(&o.loop_lag, |p| p.p99_ms)
        })
        .m_float(cols::loop_lag_max_ms, |o| {
            sampled(&o.loop_lag, |p| p.max_ms)
        })
        .m_int(cols::loop_lag_samples, |o| o.loop_lag.count as i64)
        .m_int(cols::loop_lag_refused, |o| o.loop_lag_refused as i64)
        .m_float(cols::cpu_work_mean_ms, |o| Some(o.cpu_work_mean_ms))
        .m_float(cols::cpu_cost_ratio, |o| o.cpu_cost_ratio)
        .m_int(cols::rss_idle_bytes, |o| o.rss_idle_bytes as i64)
        .m_int(cols::rss_peak_bytes, |o| o.rss_peak_bytes as i64)
        .m_int(cols::rss_window_peak_bytes, |o| {
            o.rss_window_peak_bytes as i64
        })
        // Null for a cell record from before VmSize was read.
        .int(cols::vm_idle_bytes, |r| vm(r, |o| o.vm_idle_bytes))
        .int(cols::vm_window_peak_bytes, |r| {
            vm(r, |o| o.vm_window_peak_bytes)
        })
        // Null for a cell record from before kernel memory was read.
        .int(cols::kernel_idle_bytes, |r| {
            kernel(r, |o| Some(o.kernel_idle.total_bytes))
        })
        .int(cols::kernel_window_peak_bytes, |r| {
            kernel(r, |o| Some(o.kernel_window_peak.total_bytes))
        })
        .int(cols::sock_idle_bytes, |r| {
            kernel(r, |o| o.kernel_idle.sock_bytes)
        })
        .int(cols::sock_window_peak_bytes, |r| {
            kernel(r, |o| o.kernel_window_peak.sock_bytes)
        })
        .opt_str(cols::memory_source, |r| {
            r.outcome
                .as_ref()
                .and_then(|o| o.memory_source)
                .map(|m| m.to_string())
        })
        .m_float(cols::cpu_user_s, |o| Some(o.cpu_user_s))
        .m_float(cols::cpu_sys_s, |o| Some(o.cpu_sys_s))
        .m_int(cols::ctx_voluntary, |o| o.ctx_voluntary)
        .m_int(cols::ctx_involuntary, |o| o.ctx_involuntary)
        .m_int(cols::threads_idle, |o| o.threads_idle as i64)
        .m_int(cols::threads_peak, |o| o.threads_peak as i64)
        .m_int(cols::harness_threads, |o| o.harness_threads as i64)
        .m_float(cols::harness_cpu_s, |o| Some(o.harness_cpu_s))
        .m_float(cols::stack_startup_s, |o| {
            o.stack.as_ref().map(|s| s.startup_s)
        })
        .int(cols::stack_pinned, |r| {
            let s = r.outcome.as_ref()?.stack.as_ref()?;
            s.pinned.map(|v| v as i64)
        })
        .int(cols::stack_slow_callbacks, |r| {
            let s = r.outcome.as_ref()?.stack.as_ref()?;
            s.slow_callbacks.map(|v| v as i64)
        })
        .m_float(cols::theory_throughput_rps, |o| o.theory.throughput_rps)
        .m_float(cols::theory_latency_ms, |o| o.theory.latency_ms)
        .m_float(cols::theory_capacity_rps, |o| o.theory.capacity_rps)
        .m_float(cols::utilisation, |o| o.theory.utilisation)
        .m_float(cols::theory_queue_wait_ms, |o| o.theory.queue_wait_ms)
        .m_float(cols::theory_queue_wait_path_ms, |o| {
            o.theory.queue_wait_path_ms
        })
        .m_float(cols::theory_turnover_s, |o| o.theory.turnover_s)
        .m_float(cols::fidelity, |o| o.fidelity)
        .m_float(cols::theory_priced_rps, |o| o.theory.priced_rps)
        .m_float(cols::fidelity_priced, |o| o.fidelity_priced)
        .m_float(cols::warmup_taken_s, |o| o.warmup.map(|w| w.taken_s))
        .opt_bool(cols::warmup_settled, |r| {
            r.outcome.as_ref()?.warmup.map(|w| w.settled)
        })
        .m_float(cols::littles_law_rps, |o| o.littles_law_rps)
        .int(cols::io_calls_ok, |r| {
            r.outcome
                .as_ref()
                .and_then(|o| o.io_calls_ok)
                .map(|v| v as i64)
        })
        .int(cols::downstream_received, |r| {
            r.outcome
                .as_ref()
                .and_then(|o| o.downstream_received)
                .map(|v| v as i64)
        })
        .int(cols::downstream_answered, |r| {
            r.outcome
                .as_ref()
                .and_then(|o| o.downstream_answered)
                .map(|v| v as i64)
        })
        .int(cols::db_verified, |r| db(r).map(|d| d.verified as i64))
        .int(cols::db_queries_ok, |r| db(r).map(|d| d.queries_ok as i64))
        .int(cols::db_server_statements, |r| {
            db(r).and_then(|d| d.server_statements).map(|v| v as i64)
        })
        .int(cols::db_server_connections, |r| {
            db(r).and_then(|d| d.server_connections).map(|v| v as i64)
        })
        .float(cols::db_pool_wait_p50_ms, |r| {
            db(r).and_then(|d| sampled(&d.pool_wait, |p| p.p50_ms))
        })
        .float(cols::db_pool_wait_p99_ms, |r| {
            db(r).and_then(|d| sampled(&d.pool_wait, |p| p.p99_ms))
        });
    let transient: Vec<Option<bool>> = records
        .iter()
        .map(|r| r.outcome.as_ref().map(CellOutcome::transient))
        .collect();
    f.columns
        .push(Column::new(cols::transient.into(), transient));
    f.opt_str(cols::notes, |r| {
        r.outcome.as_ref().map(|o| notes::join(&o.notes))
    })
    .str(cols::status, |r| r.status().name().to_string())
    .opt_str(cols::error, |r| r.error.clone())
    .float(cols::stall_ms, |r| r.stall_ms)
    .opt_str(cols::histogram, |r| {
        r.outcome.as_ref().map(|o| o.histogram.clone())
    })
    .str(cols::started_at, |r| r.started_at.clone())
    .float(cols::wall_s, |r| Some(r.wall_s));
    Ok(DataFrame::new_infer_height(f.columns)?)
}

/// `latency.parquet`: the percentile spectrum of every cell × repetition.
pub fn latency_frame(run_id: &str, records: &[CellRecord]) -> anyhow::Result<DataFrame> {
    let rows: Vec<(&CellRecord, &threadloop_engine::outcome::SpectrumPoint)> = records
        .iter()
        .filter_map(|r| r.outcome.as_ref().map(|o| (r, o)))
        .flat_map(|(r, o)| o.spectrum.iter().map(move |p| (r, p)))
        .collect();
    let col_s = |name: &str, f: &dyn Fn(&CellRecord) -> String| {
        Column::new(
            name.into(),
            rows.iter().map(|(r, _)| f(r)).collect::<Vec<String>>(),
        )
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            spectrum_cols::run_id.into(),
            vec![run_id.to_string(); rows.len()],
        ),
        col_s(spectrum_cols::experiment, &|r| r.experiment.clone()),
        col_s(spectrum_cols::cell, &|r| r.cell_id.clone()),
        Column::new(
            spectrum_cols::repetition.into(),
            rows.iter()
                .map(|(r, _)| r.repetition as i64)
                .collect::<Vec<i64>>(),
        ),
        col_s(spectrum_cols::model, &|r| r.cell.model.name().to_string()),
        Column::new(
            spectrum_cols::percentile.into(),
            rows.iter().map(|(_, p)| p.percentile).collect::<Vec<f64>>(),
        ),
        Column::new(
            spectrum_cols::latency_ms.into(),
            rows.iter().map(|(_, p)| p.latency_ms).collect::<Vec<f64>>(),
        ),
        Column::new(
            spectrum_cols::count.into(),
            rows.iter()
                .map(|(_, p)| p.count as i64)
                .collect::<Vec<i64>>(),
        ),
    ])?)
}

/// The database side of a record's outcome, if it has one.
fn db(r: &CellRecord) -> Option<&threadloop_engine::outcome::DbOutcome> {
    r.outcome.as_ref().and_then(|o| o.db.as_ref())
}

/// An address-space figure, null in a record from before VmSize was read.
fn vm(r: &CellRecord, f: impl Fn(&threadloop_engine::CellOutcome) -> u64) -> Option<i64> {
    let o = r.outcome.as_ref().filter(|o| o.vm_idle_bytes > 0)?;
    Some(f(o) as i64)
}

/// A kernel-memory figure, null where the cell's kernel memory was not read.
fn kernel(
    r: &CellRecord,
    f: impl Fn(&threadloop_engine::CellOutcome) -> Option<u64>,
) -> Option<i64> {
    let o = r.outcome.as_ref().filter(|o| o.memory_source.is_some())?;
    f(o).map(|v| v as i64)
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// Each column as (name, Parquet type), as written or as declared.
    fn columns_of(df: &DataFrame) -> Vec<(String, String)> {
        df.columns()
            .iter()
            .map(|c| (c.name().to_string(), format!("{:?}", c.dtype())))
            .collect()
    }

    fn declared(table: &[schema::Column]) -> Vec<(String, String)> {
        table
            .iter()
            .map(|c| {
                let t = threadloop_test_support::dtype(c.kind);
                (c.name.to_string(), format!("{t:?}"))
            })
            .collect()
    }

    /// Every column written is declared in the schema, with its type, in
    /// the schema's order, and every declared column is written.
    #[test]
    fn the_writer_writes_the_schema_exactly() {
        let df = results_frame("r", &[]).unwrap();
        assert_eq!(columns_of(&df), declared(schema::RESULTS));
    }

    /// The same for `latency.parquet`.
    #[test]
    fn the_spectrum_writer_writes_its_schema_exactly() {
        let df = latency_frame("r", &[]).unwrap();
        assert_eq!(columns_of(&df), declared(schema::LATENCY));
    }
}
