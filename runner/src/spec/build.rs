//! A spec as written, checked and resolved into an [`ExperimentSpec`],
//! stage by stage: the top-level keys, `[load]`, `[matrix]` (the settings
//! read from their declarations), the checks across the matrix, the
//! request classes, the rules. Each stage records its errors in the
//! context and goes on, so they come out in the file's order of checks.

use super::locate::Ctx;
use super::raw::{RawClass, RawLoad, RawMatrix, RawSetting, RawSpec, RawVerdict};
use super::{ClassSpec, CpuSize, ExperimentSpec, LoadMode, LoadSpec, Matrix, Rule};
use threadloop_engine::cell::{Arrival, IoKind, ModelKind, Pinning, Transport};
use threadloop_vocab::factors::{settings_placed, Setting, SettingType, Value, SETTINGS};
use threadloop_vocab::schema::Kind;
use toml::Spanned;

pub(super) fn build(cx: &mut Ctx, raw: RawSpec, profile: Option<String>) -> ExperimentSpec {
    let top = top(cx, &raw);
    let load = load(cx, &raw.load);
    let matrix = matrix(cx, &raw, load.mode);
    check_matrix(cx, &raw.matrix, &matrix);
    let classes = classes(cx, &raw.class);
    let verdict = verdicts(cx, raw.verdict);
    ExperimentSpec {
        file: cx.file.to_string(),
        name: top.name,
        claim: raw.claim.get_ref().clone(),
        title: raw.title.get_ref().clone(),
        description: raw.description,
        profile,
        repetitions: top.repetitions,
        max_repetitions: top.max_repetitions,
        context_repetitions: top.context_repetitions,
        budget_s: top.budget_s,
        duration_s: top.duration_s,
        warmup_s: top.warmup_s,
        load,
        matrix,
        verdict,
        classes,
        remedies: raw.remedies,
    }
}

/// The top-level keys, checked.
struct Top {
    name: String,
    repetitions: u32,
    max_repetitions: u32,
    context_repetitions: Option<u32>,
    budget_s: Option<f64>,
    duration_s: f64,
    warmup_s: f64,
}

fn top(cx: &mut Ctx, raw: &RawSpec) -> Top {
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

    Top {
        name,
        repetitions,
        max_repetitions,
        context_repetitions,
        budget_s,
        duration_s,
        warmup_s,
    }
}

fn load(cx: &mut Ctx, l: &RawLoad) -> LoadSpec {
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
    LoadSpec {
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
    }
}

fn matrix(cx: &mut Ctx, raw: &RawSpec, mode: LoadMode) -> Matrix {
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
    let transport = cx.list(&m.transport, vec![Transport::InProcess], |cx, v| {
        cx.named(v, Transport::InProcess)
    });
    let mut settings = vec![Vec::new(); SETTINGS.len()];
    for s in settings_placed(true) {
        settings[s as usize] = setting(cx, s, &m.settings[s as usize]);
    }
    let io = cx.list(&m.io, vec![IoKind::Timer], |cx, v| {
        cx.named(v, IoKind::Timer)
    });
    for s in settings_placed(false) {
        settings[s as usize] = setting(cx, s, &m.settings[s as usize]);
    }
    Matrix {
        model,
        transport,
        concurrency,
        rate_rps,
        io,
        io_latency_ms,
        cpu,
        settings,
    }
}

/// A setting's list, checked as its declaration says (an integer's
/// bounds and check, a name of its closed set); absent, its default.
fn setting(cx: &mut Ctx, s: Setting, raw: &RawSetting) -> Vec<Option<Value>> {
    let d = s.def();
    let default = vec![d.default.listed()];
    match raw {
        RawSetting::Int(list) => {
            let (min, max) = d.range.expect("an integer setting declares its bounds");
            cx.list(list, default, |cx, v| {
                let n = cx.int(v, min, max);
                if let Some(message) = d.check.and_then(|check| check(n)) {
                    cx.err(v.span(), message);
                }
                Some(Value::Int(n))
            })
        }
        RawSetting::Bool(list) => cx.list(list, default, |_, v| Some(Value::Bool(*v.get_ref()))),
        RawSetting::Name(list) => {
            cx.list(list, default, |cx, v| match (d.parse_name)(v.get_ref()) {
                Ok(x) => Some(x),
                Err(e) => {
                    cx.err(v.span(), e.to_string());
                    d.default.listed()
                }
            })
        }
    }
}

/// What the matrix's lists say together.
fn check_matrix(cx: &mut Ctx, raw: &RawMatrix, matrix: &Matrix) {
    let foreign: Vec<&str> = matrix
        .model
        .iter()
        .filter(|m| m.stack().is_some())
        .map(|m| threadloop_vocab::Factor::name(*m))
        .collect();
    if !foreign.is_empty() && matrix.transport.contains(&Transport::InProcess) {
        cx.err(
            raw.transport
                .as_ref()
                .map_or(raw.model.span(), |t| t.span()),
            format!(
                "{} serve over HTTP only (a process of their own): set transport = [\"http\"]",
                foreign.join(", ")
            ),
        );
    }
    if matrix.io.contains(&IoKind::Http)
        && matrix.model.contains(&ModelKind::Coroutines)
        && matrix
            .setting(Setting::pinning)
            .contains(&Some(Pinning::None.to_value()))
    {
        cx.err(
            raw.model.span(),
            "io = \"http\" with coroutines needs pinning = blocking-syscall or mutex: a yielding HTTP client on may is not written yet",
        );
    }
}

fn classes(cx: &mut Ctx, raw: &[RawClass]) -> Vec<ClassSpec> {
    let mut classes: Vec<ClassSpec> = Vec::new();
    for c in raw {
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
    classes
}

fn verdicts(cx: &mut Ctx, raw: Vec<RawVerdict>) -> Vec<Rule> {
    let mut verdict = Vec::new();
    for v in raw {
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
        verdict.push(Rule {
            text: v.text,
            headline: v.headline,
            metric: v.metric.into_inner(),
            filter: v.filter.map(Spanned::into_inner).unwrap_or_default(),
            baseline: v.baseline.map(Spanned::into_inner),
            compare,
            threshold: v.threshold,
        });
    }
    verdict
}

/// The columns a rule may name: those `results.parquet` declares
/// (`vocab::schema`, which the writer is tested against) and the report's
/// derived metrics.
struct Columns {
    all: std::collections::BTreeSet<String>,
    numeric: std::collections::BTreeSet<String>,
}

fn results_columns() -> &'static Columns {
    static COLUMNS: std::sync::OnceLock<Columns> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let mut all = std::collections::BTreeSet::new();
        let mut numeric = std::collections::BTreeSet::new();
        for c in threadloop_vocab::schema::RESULTS {
            all.insert(c.name.to_string());
            if matches!(c.kind, Kind::Int | Kind::Float) {
                numeric.insert(c.name.to_string());
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
