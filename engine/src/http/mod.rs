//! The `http` I/O kind: a slow downstream API on loopback (its own process,
//! [`server`]), a non-blocking client per runtime ([`pool`]) and a blocking
//! client ([`blocking`]) for threads and for the "sync call inside async code"
//! mistake.

pub mod blocking;
pub mod pool;
pub mod server;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Header that tags every request with its cell execution, so the downstream
/// can count per execution and the counts can be checked against the cell's.
pub const TAG_HEADER: &str = "x-threadloop-tag";

/// The tag this execution's HTTP requests carry (unique per execution: the seed).
pub fn tag(cell: &crate::cell::Cell) -> String {
    format!("{:016x}", cell.seed)
}

/// The request path for a delay: microseconds, so sub-millisecond delays work.
pub fn delay_path(delay: Duration) -> String {
    format!("/delay/{}", delay.as_micros())
}

/// Where the downstream is and how this execution tags its requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `host:port` on loopback.
    pub addr: String,
    pub tag: String,
}

/// The downstream's count for one tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub received: u64,
    pub answered: u64,
}

/// A failed call: refused, reset, closed mid-response, timed out, or not 200.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);
