//! The closed sets of the stacks' own options: what FastAPI's CPU work is
//! made of, which uvicorn serves it, and Tomcat's processor cache. Each is
//! a factor (`vocab::factors`) that applies to one stack's models only: the
//! remedies a reader of a failed claim wants measured beside the stock
//! deployment. Re-exported from [`crate::factor`] with the other sets.

use crate::factor::Factor;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr, VariantNames};

/// What FastAPI's CPU part is made of, each calibrated at the stack's
/// start-up in its own unit (the `cpu_work` factor).
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
pub enum CpuWork {
    /// Splitmix64 steps in pure Python: the GIL is held throughout, on
    /// whichever thread runs it (pdfminer.six, PyMuPDF's extraction).
    Python,
    /// SHA-256 (`hashlib`) over a buffer, in C: the GIL is released for each
    /// call over more than 2 KiB, so another thread runs Python meanwhile
    /// (zlib and numpy's vectorised operations do the same).
    Hashlib,
}

impl Factor for CpuWork {
    const WHAT: &'static str = "cpu work";
}

/// Which uvicorn serves FastAPI (the `uvicorn` factor): the plain install's
/// asyncio loop and pure-Python h11 parser, or what `uvicorn[standard]` and
/// `fastapi[standard]` bring, the libuv loop and the C parser.
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
pub enum Uvicorn {
    AsyncioH11,
    UvloopHttptools,
}

impl Factor for Uvicorn {
    const WHAT: &'static str = "uvicorn";
}

/// How many request processors Tomcat's connector keeps for reuse (its
/// `processorCache`; the `processor_cache` factor). A request beyond the
/// cache allocates a new processor and its buffers, and drops it after.
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
pub enum ProcessorCache {
    /// Tomcat's default, 200: what a stock deployment (and the essay's) runs.
    Stock,
    /// -1, no limit: a deployment made for many virtual threads.
    Unbounded,
}

impl Factor for ProcessorCache {
    const WHAT: &'static str = "processor cache";
}
