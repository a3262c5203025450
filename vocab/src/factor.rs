//! The factors: closed sets of choices. Each is one enum; `strum` derives its
//! kebab-case names, parsing and list of values, and serde uses the same
//! names, so a value's spelling exists once. [`Factor`] adds what every
//! factor offers on top: its name in messages, and parsing with an error that
//! lists what was expected.

use serde::{Deserialize, Serialize};
use std::str::FromStr;
use strum::{Display, EnumIter, EnumString, IntoEnumIterator, IntoStaticStr, VariantNames};

/// What every factor offers; implemented by naming the factor, nothing more.
pub trait Factor:
    Copy + FromStr + IntoEnumIterator + Into<&'static str> + VariantNames + 'static
{
    /// The factor's name in messages (`model`, `io kind`).
    const WHAT: &'static str;

    /// The value's name, as specs, results and reports spell it.
    fn name(self) -> &'static str {
        self.into()
    }

    /// Every value, in declaration order.
    fn all() -> Vec<Self> {
        Self::iter().collect()
    }

    /// Parses a name; the error lists the names it would have taken.
    fn parse_name(s: &str) -> Result<Self, UnknownName> {
        s.parse().map_err(|_| UnknownName {
            what: Self::WHAT,
            given: s.to_string(),
            expected: Self::VARIANTS.join(", "),
        })
    }
}

/// A name that is not one of a closed set of choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`, expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

pub use crate::model::{CpuOn, Holds, ModelKind, ModelTraits};
pub use crate::stack::Stack;
pub use crate::stack_option::{CpuWork, ProcessorCache, Uvicorn};

/// Where the I/O of a request goes. `http` and `postgres` go through a
/// client (async, blocking, or blocking offloaded: [`Client`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum IoKind {
    /// The model's own sleep: `thread::sleep` for threads, the runtime's timer for async.
    Timer,
    /// A call to the slow downstream API on loopback, `io_latency_ms` long.
    Http,
    /// A query to a real PostgreSQL server ([`DbQuery`] says which).
    Postgres,
}

impl Factor for IoKind {
    const WHAT: &'static str = "io kind";
}

impl IoKind {
    /// Goes through a client (HTTP client or DB driver) that can block.
    pub fn has_client(self) -> bool {
        matches!(self, IoKind::Http | IoKind::Postgres)
    }
}

/// What a `postgres` request asks the server.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum DbQuery {
    /// `SELECT pg_sleep(io_latency_ms)`: the server holds the connection.
    Sleep,
    /// A primary-key lookup in `products`.
    Point,
    /// Decrements one product's stock (a one-statement transaction).
    Update,
}

impl Factor for DbQuery {
    const WHAT: &'static str = "db query";
}

/// Where an async model runs the CPU part of a request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Offload {
    /// On the event loop itself (blocks it for `cpu_ms`).
    Inline,
    /// The runtime's own blocking pool (`spawn_blocking`, `smol::unblock`).
    SpawnBlocking,
    /// A fixed pool of `pool_threads` OS threads (Python's ThreadPoolExecutor).
    WorkerPool,
    /// A fixed pool of `pool_threads` processes (Python's ProcessPoolExecutor;
    /// the FastAPI stack's only: each has a GIL of its own).
    ProcessPool,
}

impl Factor for Offload {
    const WHAT: &'static str = "offload";
}

/// What a coroutine or a virtual thread does during its I/O: yield the
/// carrier (`none`), or pin it. The coroutines' analogs: a blocking syscall,
/// a lock held across a blocking call. Tomcat's and Spring's virtual
/// threads: the blocking call inside `synchronized` (pins on Java 21, not
/// since JEP 491 in Java 24), or JDBC through pgjdbc 42.5 (Tomcat's 42.5.5,
/// Spring's 42.5.6), whose `execute` is `synchronized`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Pinning {
    None,
    BlockingSyscall,
    Mutex,
    Synchronized,
    Jdbc,
}

impl Pinning {
    /// Whether `model` has this kind of pinning: the coroutines' analogs,
    /// or the Java stack's own.
    pub fn applies_to(self, model: ModelKind) -> bool {
        match self {
            Pinning::None => model.pins(),
            Pinning::BlockingSyscall | Pinning::Mutex => model == ModelKind::Coroutines,
            Pinning::Synchronized | Pinning::Jdbc => {
                matches!(
                    model,
                    ModelKind::TomcatVirtual | ModelKind::SpringMvcVirtual
                )
            }
        }
    }
}

impl Factor for Pinning {
    const WHAT: &'static str = "pinning";
}

/// Which client (HTTP client or DB driver) an async model uses for `http`
/// and `postgres` I/O. Spec files may call it `driver`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Client {
    /// Non-blocking, on the runtime under test (httpx / WebClient).
    Async,
    /// A synchronous client called on the loop (a sync `invoke` inside async code).
    Blocking,
    /// The synchronous client inside the runtime's blocking pool.
    BlockingOffload,
}

impl Factor for Client {
    const WHAT: &'static str = "client";
}

/// Inter-arrival distribution of the open loop.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Arrival {
    Poisson,
    Constant,
}

impl Factor for Arrival {
    const WHAT: &'static str = "arrival";
}

/// How a request reaches the model: handed over in the cell's own process
/// (a channel, no socket), or over HTTP on loopback from a load generator
/// in a process of its own, into the model's own server.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    VariantNames,
    Display,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Transport {
    #[default]
    InProcess,
    Http,
}

impl Factor for Transport {
    const WHAT: &'static str = "transport";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<
        F: Factor + std::fmt::Debug + PartialEq + Serialize + for<'a> Deserialize<'a>,
    >() {
        for v in F::all() {
            assert_eq!(F::parse_name(v.name()).unwrap(), v);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", v.name()),
                "serde and strum spell {v:?} alike"
            );
        }
        assert_eq!(F::all().len(), F::VARIANTS.len());
    }

    #[test]
    fn every_factor_spells_its_values_one_way() {
        round_trips::<ModelKind>();
        round_trips::<IoKind>();
        round_trips::<DbQuery>();
        round_trips::<Offload>();
        round_trips::<Pinning>();
        round_trips::<Client>();
        round_trips::<Arrival>();
        round_trips::<Transport>();
        round_trips::<CpuWork>();
        round_trips::<Uvicorn>();
        round_trips::<ProcessorCache>();
        assert_eq!(ModelKind::ThreadsAsyncIo.name(), "threads-async-io");
        assert_eq!(Offload::SpawnBlocking.to_string(), "spawn-blocking");
    }

    #[test]
    fn each_pinning_belongs_to_the_models_that_have_it() {
        assert!(Pinning::Mutex.applies_to(ModelKind::Coroutines));
        assert!(!Pinning::Mutex.applies_to(ModelKind::TomcatVirtual));
        assert!(Pinning::Synchronized.applies_to(ModelKind::TomcatVirtual));
        assert!(!Pinning::Jdbc.applies_to(ModelKind::Coroutines));
        assert!(Pinning::None.applies_to(ModelKind::TomcatVirtual));
        assert!(!Pinning::None.applies_to(ModelKind::Tokio));
        assert!(Pinning::Jdbc.applies_to(ModelKind::SpringMvcVirtual));
        assert!(!Pinning::Synchronized.applies_to(ModelKind::SpringMvc));
        // Every stack is HTTP-only and declares which one it is.
        for m in ModelKind::all() {
            let tomcat = m.name().starts_with("tomcat-");
            assert_eq!(m.stack() == Some(Stack::Tomcat), tomcat, "{m}");
            let spring = m.name().starts_with("spring-");
            assert_eq!(m.stack() == Some(Stack::Spring), spring, "{m}");
        }
        assert_eq!(ModelKind::Fastapi.stack(), Some(Stack::Fastapi));
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let e = ModelKind::parse_name("tokyo").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown model `tokyo`, expected one of: threads, threads-async-io, \
             thread-per-request, tokio, tokio-current, async-std, smol, smol-local, coroutines, \
             tomcat-pool, tomcat-async, tomcat-virtual, fastapi, spring-mvc, spring-mvc-async, \
             spring-mvc-virtual, spring-webflux"
        );
    }
}
