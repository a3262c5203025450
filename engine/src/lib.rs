//! The engine runs one experiment cell inside its own process.
//!
//! Stages, one module each, with plain data flowing between them:
//! [`cell`] (what to run) → [`models`] (the execution model under test, behind
//! [`server::Server`]) → [`load`] (the load generator, on its own OS thread) →
//! [`measure`] (histograms, rusage, `/proc`) → [`outcome`] (what the cell
//! reports back to the runner). [`theory`] holds the bounds every measurement
//! is checked against. The crate deliberately has no polars: the cell process
//! stays small so its RSS and start-up say something about the model.

pub mod calibrate;
pub mod cell;
pub mod db;
pub mod failure;
pub mod http;
pub mod io;
pub mod load;
pub mod measure;
pub mod models;
pub mod outcome;
pub mod run;
pub mod server;
pub mod theory;
pub mod work;

pub use cell::{
    Arrival, Cell, Client, DbQuery, Factor, IoKind, Load, ModelKind, Offload, Pinning, RequestClass,
};
pub use outcome::CellOutcome;
