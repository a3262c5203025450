//! `threadloop-cell`: runs one cell and prints its outcome as JSON.
//!
//! Protocol with the runner: the cell (JSON) on stdin, the outcome (JSON) on
//! stdout, diagnostics on stderr, exit status 0 on success. `--calibrate`
//! prints the CPU-work calibration instead.

use std::io::Read;
use threadloop_engine::{calibrate::calibrate, run::run_cell, Cell};

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--calibrate") {
        println!("{}", serde_json::to_string(&calibrate(7, 50.0))?);
        return Ok(());
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let cell: Cell = serde_json::from_str(&input)?;
    let outcome = run_cell(&cell)?;
    println!("{}", serde_json::to_string(&outcome)?);
    // Exit without tearing the model down: in-flight requests and runtime
    // threads end with the process.
    std::process::exit(0);
}
