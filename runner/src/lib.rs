//! The runner: spec → plan (cells) → execute (one child process per cell) →
//! store (Parquet + manifest). Each stage is a module with plain data types
//! between them; the measurement itself lives in `threadloop-engine`.

pub mod adaptive;
pub mod downstream;
pub mod exec;
pub mod hiccup;
pub mod limits;
pub mod manifest;
pub mod merge;
pub mod plan;
pub mod planned;
pub mod postgres;
pub mod progress;
pub mod reap;
pub mod rows;
pub mod run;
pub mod shard;
pub mod spec;
pub mod store;
