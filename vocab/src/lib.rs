//! threadloop's vocabulary, declared once. The engine, the runner and the
//! reports all speak it; it depends on none of them (no polars, no runtime),
//! so each word has one definition and adding a value touches one place.
//!
//! - [`factor`]: the closed sets of choices a cell is made of (model, I/O
//!   kind, client, offload, pinning, query, arrival, transport), each one enum whose
//!   names, parsing and list of values come from one derive.
//! - [`factors`]: every factor of a cell, each declared once (its column,
//!   its part, and for a setting the models it applies to, its token in
//!   the cell id, its default): what the spec, the plan, the id, the store
//!   and the gate read.
//! - [`calibration`]: the run's calibrations (manifest): the CPU work's, and
//!   each HTTP server's own cost per request.
//! - [`class_row`]: how a request class's row of `results.parquet` names
//!   its cell.
//! - [`claim`]: the claims (H1-H10) a spec may name, with their summaries.
//! - [`manifest`]: `manifest.json`'s shared part (the run, its machine,
//!   the inputs of a merged run).
//! - [`notes`]: a cell's notes, a list, and the one join and split of the
//!   `notes` column.
//! - [`remedy`]: a remedy experiment's link to the experiment it remedies.
//! - [`rule`]: a `[[verdict]]` rule and its comparison.
//! - [`stack`]: the foreign stacks, each a folder and one declaration.
//! - [`stack_option`]: the closed sets of the stacks' own options (FastAPI's
//!   CPU work and server, Tomcat's processor cache).
//! - [`schema`]: every column of `results.parquet`, once: name, type, unit,
//!   role and a line of doc, and the schema's version.
//! - [`status`]: what became of an execution (the `status` column).

pub mod calibration;
pub mod claim;
pub mod class_row;
pub mod factor;
pub mod factors;
pub mod manifest;
pub mod model;
pub mod notes;
pub mod remedy;
pub mod rule;
pub mod schema;
pub mod stack;
pub mod stack_option;
pub mod status;

pub use calibration::{Calibration, ServerCalibration, ServerCost};
pub use factor::{
    Arrival, Client, DbQuery, Factor, IoKind, ModelKind, Offload, Pinning, Transport, UnknownName,
};
pub use status::Status;
