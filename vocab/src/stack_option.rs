//! The closed sets of the stacks' own options: what FastAPI's CPU work is
//! made of and which uvicorn serves it. Each is
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
