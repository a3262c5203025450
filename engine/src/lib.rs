//! The engine runs one experiment cell inside its own process.
//!
//! Stages, one module each, with plain data flowing between them:
//! [`cell`] (what to run) → [`models`] (the execution model under test, behind
//! [`server::Server`]) → [`load`] (the load generator, on its own OS thread) →
//! [`measure`] (histograms, rusage, `/proc`; [`memory`], the kernel's side
//! of memory, from a cgroup per cell) → [`outcome`] (what the cell
//! reports back to the runner). [`theory`] holds the bounds every measurement
//! is checked against. Below the models sit what they share: [`runtime`]
//! (the async runtime trait), [`io`] with its drivers [`http`] and [`db`],
//! and [`work`]; nothing below imports a model. [`counters`] holds the counts
//! a cell keeps about itself, handed explicitly to what updates them rather
//! than kept in process-wide statics. The crate deliberately has no polars:
//! the cell process stays small so its RSS and start-up say something about
//! the model.

pub mod async_io;
pub mod calibrate;
pub mod calibrate_server;
pub mod cell;
pub mod child;
pub mod counters;
pub mod db;
pub mod failure;
pub mod http;
pub mod io;
pub mod load;
pub mod measure;
pub mod memory;
pub mod models;
pub mod outcome;
pub mod run;
pub mod runtime;
pub mod server;
pub mod stacks;
pub mod theory;
pub mod wire;
pub mod work;

pub use cell::{
    Arrival, Cell, Client, DbQuery, Factor, IoKind, Load, ModelKind, Offload, Pinning,
    RequestClass, Stack, Transport,
};
pub use outcome::CellOutcome;
