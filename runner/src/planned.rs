//! What the plan hands to the run, the shards, the rows and the manifest:
//! plain data, so none of them needs the planner to name it.

use serde::{Deserialize, Serialize};
use threadloop_engine::cell::Cell;

/// One cell of one experiment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedCell {
    pub experiment: String,
    pub claim: String,
    pub title: String,
    pub id: String,
    pub repetitions: u32,
    pub cell: Cell,
}

/// One execution: a cell and a repetition number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub cell: usize,
    pub repetition: u32,
}
