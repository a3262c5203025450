//! `threadloop-loadgen`: the HTTP load generator, in a process of its own.
//!
//! `threadloop-loadgen --target [http://]HOST:PORT`, the cell (JSON) on
//! stdin. It verifies the server against the request contract, prints
//! `window START END` (CLOCK_MONOTONIC ns) when the measured window is
//! fixed, then one line of JSON with what it measured. The target may be any
//! host: the server and the load can sit on two machines (README: "Over the
//! wire").

use std::io::{Read as _, Write as _};
use std::net::ToSocketAddrs as _;
use threadloop_engine::wire::loadgen::{run, HttpPlan};
use threadloop_engine::{failure, Cell};

/// The HTTP load generator; the cell as JSON on stdin.
#[derive(clap::Parser)]
#[command(name = "threadloop-loadgen", version)]
struct Args {
    /// The server: `[http://]HOST:PORT`, on this machine or another.
    #[arg(long)]
    target: String,
    /// The server's process id, when it runs on this machine: a JVM's
    /// settling warm-up also waits for its JIT compiler threads to go quiet.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    if let Err(e) = main_inner(&args.target, args.server_pid) {
        failure::report(&e);
        std::process::exit(1);
    }
    // Connections still open end with the process.
    std::process::exit(0);
}

fn main_inner(target: &str, server_pid: Option<u32>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let hostport = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let addr = hostport
        .to_socket_addrs()
        .with_context(|| format!("resolve --target {target}"))?
        .next()
        .with_context(|| format!("--target {target} resolves to no address"))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("read the cell from stdin")?;
    let cell: Cell = serde_json::from_str(&input).context("parse the cell (JSON on stdin)")?;
    let plan = HttpPlan::of(&cell, addr)?.watching(server_pid);
    let mut out = std::io::stdout().lock();
    let report = run(&plan, &mut out)?;
    writeln!(out, "{}", serde_json::to_string(&report)?)?;
    out.flush()?;
    Ok(())
}
