//! `threadloop-cell`: runs one cell and prints its outcome as JSON.
//!
//! Protocol with the runner: the cell (JSON) on stdin, the outcome (JSON) on
//! stdout, diagnostics on stderr, exit status 0 on success. A failure exits 1
//! with one line `threadloop-cell error: <cause chain>` on stderr
//! ([`threadloop_engine::failure`]), the backtrace after it only when
//! `RUST_BACKTRACE` asks for one. `--calibrate` prints the CPU-work
//! calibration instead.

use std::io::Read;
use threadloop_engine::{calibrate::calibrate, failure, run::run_cell, Cell};

fn main() {
    if let Err(e) = run() {
        failure::report(&e);
        std::process::exit(1);
    }
    // Exit without tearing the model down: in-flight requests and runtime
    // threads end with the process.
    std::process::exit(0);
}

fn run() -> anyhow::Result<()> {
    use anyhow::Context;
    if std::env::args().any(|a| a == "--calibrate") {
        println!("{}", serde_json::to_string(&calibrate(7, 50.0))?);
        return Ok(());
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("read the cell from stdin")?;
    let cell: Cell = serde_json::from_str(&input).context("parse the cell (JSON on stdin)")?;
    let outcome = run_cell(&cell)?;
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}
