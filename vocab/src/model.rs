//! The execution models under test and what each is: [`ModelKind`], and its
//! [`ModelTraits`] (which factors it uses, what a request holds, where its CPU
//! runs), from which the plan, the theory and the report read it. One place
//! per model: a variant here, its traits beside it.

use crate::factor::Factor;
use crate::stack::Stack;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr, VariantNames};

/// An execution model under test. Adding a Rust model means a variant here
/// with its traits, colour and rank, and a file in the engine's `models/`
/// (its one dispatch, `models::build`, will not compile without it). Adding
/// a stack's model means a variant here whose traits name the [`Stack`].
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
pub enum ModelKind {
    /// Thread-per-request with a bounded pool fed by a bounded accept queue (Tomcat).
    Threads,
    /// The same pool, with the I/O handed to a non-blocking client and the
    /// continuation back on the pool (CompletableFuture + WebClient).
    ThreadsAsyncIo,
    /// A fresh OS thread per request, no pool.
    ThreadPerRequest,
    /// tokio multi-thread runtime on `workers` threads.
    Tokio,
    /// tokio current_thread runtime: one event loop.
    TokioCurrent,
    /// async-std on `workers` threads (discontinued upstream: the legacy column).
    AsyncStd,
    /// smol `Executor` driven by `workers` threads.
    Smol,
    /// smol `LocalExecutor`: one event loop.
    SmolLocal,
    /// Stackful coroutines (`may`) on `workers` carrier threads: synchronous
    /// request code that yields on I/O, the Rust analog of virtual threads.
    Coroutines,
    /// The essay's own stack: a blocking servlet on embedded Tomcat 10.1
    /// (Spring MVC's threading model), `threads` = maxThreads, acceptCount 100.
    TomcatPool,
    /// An async servlet on Tomcat handing its I/O to a non-blocking client
    /// (`HttpClient.sendAsync`; JDBC on an executor of `db_pool` threads).
    TomcatAsync,
    /// The blocking servlet on Tomcat's virtual threads (`useVirtualThreads`).
    TomcatVirtual,
    /// FastAPI on one uvicorn worker: one asyncio event loop.
    Fastapi,
    /// Spring Boot's Spring MVC: a blocking `@RestController` on its Tomcat
    /// with Boot's defaults (`threads` = server.tomcat.threads.max 200),
    /// JDBC on Boot's HikariCP, a blocking RestClient.
    SpringMvc,
    /// The essay's `processOrder()`: the controller returns a
    /// CompletableFuture composed from WebClient, so Tomcat's thread is freed.
    SpringMvcAsync,
    /// The blocking controller with `spring.threads.virtual.enabled=true`.
    SpringMvcVirtual,
    /// Spring WebFlux on Reactor Netty's event loops: R2DBC and WebClient
    /// (`client = async`), or JDBC and RestClient inside the handler (`blocking`).
    SpringWebflux,
}

impl Factor for ModelKind {
    const WHAT: &'static str = "model";
}

impl ModelKind {
    /// Its colour in the report's charts and legends, RGB: Okabe-Ito's eight
    /// (colour-blind safe; yellow darkened for white paper) and a brown.
    /// Beside the variant, so a model is added in one place.
    pub fn colour(self) -> (u8, u8, u8) {
        match self {
            ModelKind::Threads => (0x00, 0x72, 0xB2),          // blue
            ModelKind::ThreadPerRequest => (0x56, 0xB4, 0xE9), // sky blue
            ModelKind::Tokio => (0xD5, 0x5E, 0x00),            // vermillion
            ModelKind::TokioCurrent => (0xE6, 0x9F, 0x00),     // orange
            ModelKind::AsyncStd => (0xCC, 0x79, 0xA7),         // reddish purple
            ModelKind::Smol => (0x00, 0x9E, 0x73),             // bluish green
            ModelKind::SmolLocal => (0x00, 0x00, 0x00),        // black
            ModelKind::Coroutines => (0xB8, 0xA2, 0x00),       // dark yellow
            ModelKind::ThreadsAsyncIo => (0x8C, 0x56, 0x4B),   // brown
            // The real stacks: darker shades of their Rust stand-ins' hues.
            ModelKind::TomcatPool => (0x00, 0x3F, 0x66), // dark blue
            ModelKind::TomcatAsync => (0x55, 0x33, 0x2B), // dark brown
            ModelKind::TomcatVirtual => (0x6B, 0x5E, 0x00), // olive
            ModelKind::Fastapi => (0x73, 0x35, 0x00),    // dark vermillion
            // Spring: lighter shades of the same hues as their Tomcat twins.
            ModelKind::SpringMvc => (0x33, 0x8F, 0xC8), // light blue
            ModelKind::SpringMvcAsync => (0xA8, 0x7B, 0x6F), // light brown
            ModelKind::SpringMvcVirtual => (0x9C, 0x8C, 0x2E), // light olive
            ModelKind::SpringWebflux => (0xA6, 0x4B, 0x00), // burnt orange
        }
    }

    /// A model's place in legends and tables: threads first, then the async
    /// runtimes, then the hybrids. Exhaustive, like the colour.
    pub fn display_rank(self) -> usize {
        match self {
            ModelKind::Threads => 0,
            ModelKind::ThreadPerRequest => 1,
            ModelKind::Tokio => 2,
            ModelKind::TokioCurrent => 3,
            ModelKind::AsyncStd => 4,
            ModelKind::Smol => 5,
            ModelKind::SmolLocal => 6,
            ModelKind::Coroutines => 7,
            ModelKind::ThreadsAsyncIo => 8,
            ModelKind::TomcatPool => 9,
            ModelKind::TomcatAsync => 10,
            ModelKind::TomcatVirtual => 11,
            ModelKind::Fastapi => 12,
            ModelKind::SpringMvc => 13,
            ModelKind::SpringMvcAsync => 14,
            ModelKind::SpringMvcVirtual => 15,
            ModelKind::SpringWebflux => 16,
        }
    }

    /// What the model is made of, declared once per variant (exhaustive:
    /// a new model does not build until it says); the predicates below and
    /// the engine's theory read it.
    pub fn traits(self) -> ModelTraits {
        // A thread per request, nothing shared: the base the others amend.
        const THREAD: ModelTraits = ModelTraits {
            pool: false,
            tasks: false,
            workers: false,
            pins: false,
            stackful: false,
            stack: None,
            holds: Holds::Nothing,
            cpu: CpuOn::EveryCore,
            blocking_pool: None,
            client_sleeps: false,
            loop_floor: None,
        };
        // A bounded pool whose thread a request holds throughout (Tomcat's).
        const POOL: ModelTraits = ModelTraits {
            pool: true,
            holds: Holds::PoolThread,
            cpu: CpuOn::PoolThreads,
            ..THREAD
        };
        // The same pool, its threads freed while the I/O is away.
        const POOL_ASYNC_IO: ModelTraits = ModelTraits {
            holds: Holds::Nothing,
            ..POOL
        };
        // An async runtime on `workers` threads; its blocking pool is
        // async-std's and smol's (`blocking`): 500 threads.
        const RUNTIME: ModelTraits = ModelTraits {
            tasks: true,
            workers: true,
            holds: Holds::LoopThread,
            cpu: CpuOn::Offload,
            blocking_pool: Some(500),
            ..THREAD
        };
        // tokio's `spawn_blocking` pool: 512 threads.
        const TOKIO: ModelTraits = ModelTraits {
            blocking_pool: Some(512),
            ..RUNTIME
        };
        match self {
            ModelKind::Threads => POOL,
            ModelKind::ThreadsAsyncIo => POOL_ASYNC_IO,
            ModelKind::ThreadPerRequest => THREAD,
            ModelKind::Tokio => TOKIO,
            ModelKind::TokioCurrent => ModelTraits {
                workers: false,
                ..TOKIO
            },
            ModelKind::AsyncStd | ModelKind::Smol => RUNTIME,
            ModelKind::SmolLocal => ModelTraits {
                workers: false,
                ..RUNTIME
            },
            ModelKind::Coroutines => ModelTraits {
                workers: true,
                pins: true,
                stackful: true,
                holds: Holds::Carrier,
                cpu: CpuOn::Carriers,
                ..THREAD
            },
            ModelKind::TomcatPool => ModelTraits {
                stack: Some(Stack::Tomcat),
                ..POOL
            },
            ModelKind::TomcatAsync => ModelTraits {
                stack: Some(Stack::Tomcat),
                ..POOL_ASYNC_IO
            },
            ModelKind::TomcatVirtual => ModelTraits {
                pins: true,
                stack: Some(Stack::Tomcat),
                holds: Holds::VirtualThreadCarrier,
                ..THREAD
            },
            // One asyncio loop; a `def` endpoint runs in Starlette's (AnyIO's)
            // pool of 40 threads; pure-Python CPU work holds the GIL.
            ModelKind::Fastapi => ModelTraits {
                tasks: true,
                stack: Some(Stack::Fastapi),
                holds: Holds::LoopThread,
                cpu: CpuOn::OneThread,
                blocking_pool: Some(40),
                client_sleeps: true,
                ..THREAD
            },
            ModelKind::SpringMvc => ModelTraits {
                stack: Some(Stack::Spring),
                ..POOL
            },
            ModelKind::SpringMvcAsync => ModelTraits {
                stack: Some(Stack::Spring),
                ..POOL_ASYNC_IO
            },
            ModelKind::SpringMvcVirtual => ModelTraits {
                pins: true,
                stack: Some(Stack::Spring),
                holds: Holds::VirtualThreadCarrier,
                ..THREAD
            },
            // Reactor Netty's event loops (ioWorkerCount: one per core, at
            // least 4), the CPU inline on them; a blocking client holds one.
            ModelKind::SpringWebflux => ModelTraits {
                tasks: true,
                stack: Some(Stack::Spring),
                holds: Holds::LoopThread,
                loop_floor: Some(4),
                ..THREAD
            },
        }
    }

    /// Uses the `threads` and `queue` factors (a bounded pool).
    pub fn has_pool(self) -> bool {
        self.traits().pool
    }

    /// Runs requests as async tasks (and so has `offload`).
    pub fn is_async(self) -> bool {
        self.traits().tasks
    }

    /// Uses the `workers` factor (a multi-thread runtime or carrier pool).
    pub fn has_workers(self) -> bool {
        self.traits().workers
    }

    /// Uses the `stack_kib` factor (stackful coroutines).
    pub fn is_stackful(self) -> bool {
        self.traits().stackful
    }

    /// Uses the `pinning` factor (coroutines, virtual threads).
    pub fn pins(self) -> bool {
        self.traits().pins
    }

    /// A foreign stack (its own process, HTTP only), or `None` for a Rust model.
    pub fn stack(self) -> Option<Stack> {
        self.traits().stack
    }
}

/// Which factors a model uses, and what bounds it: [`ModelKind::traits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelTraits {
    /// A bounded pool of threads: `threads` and `queue`.
    pub pool: bool,
    /// Requests run as async tasks: `offload`.
    pub tasks: bool,
    /// Several worker or carrier threads: `workers` (else one event loop).
    pub workers: bool,
    /// What the I/O does to the carrier: `pinning`.
    pub pins: bool,
    /// Stackful coroutines: `stack_kib`.
    pub stackful: bool,
    /// A foreign stack, served over HTTP only ([`Stack::decl`] says which
    /// factors its launcher takes).
    pub stack: Option<Stack>,
    /// The scarce thread a request can hold, which caps how many are in
    /// service at once (the theory's concurrency cap).
    pub holds: Holds,
    /// How many cores the CPU part of requests can use at once.
    pub cpu: CpuOn,
    /// Threads of the pool a blocking client is offloaded to (`spawn_blocking`,
    /// `unblock`, `run_in_executor`'s default); `None`: no such pool.
    pub blocking_pool: Option<u32>,
    /// Its blocking client waits on the timer too (FastAPI's `time.sleep`),
    /// so a blocking client holds its thread for a timer's I/O as well.
    pub client_sleeps: bool,
    /// Event loops one per core but at least this many (Reactor Netty's
    /// ioWorkerCount, max(cores, 4)), not `workers`; `None`: one loop, or
    /// `workers` of them.
    pub loop_floor: Option<u32>,
}

/// What a request holds that there are few of: the theory caps the requests
/// in service at the number of them, each held for the time it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Nothing scarce: the I/O frees the thread (a pool handing it to an
    /// async client), or every request gets a thread of its own.
    Nothing,
    /// A pool thread for the whole request (`threads` of them); the pool
    /// is an M/D/T queue.
    PoolThread,
    /// A loop thread while a blocking client runs on it (`workers`, or the
    /// one loop), or a thread of the [`ModelTraits::blocking_pool`] when
    /// that client is offloaded.
    LoopThread,
    /// A coroutine's carrier (`workers`) when the I/O pins it (`pinning`,
    /// or libpq's native call).
    Carrier,
    /// A virtual thread's carrier (one per core) when it pins before JEP 491
    /// (Java 24): `synchronized` around the I/O, or pgjdbc's `execute`.
    VirtualThreadCarrier,
}

/// Where the CPU part of a request runs, and so how many cores it can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuOn {
    /// Its pool's threads: at most `threads` cores.
    PoolThreads,
    /// A thread of its own: every core.
    EveryCore,
    /// One thread at a time (Python's GIL).
    OneThread,
    /// The carriers: at most `workers` cores.
    Carriers,
    /// Where `offload` puts it: the loop's threads, the runtime's blocking
    /// pool, or a worker pool of `pool_threads`.
    Offload,
}
