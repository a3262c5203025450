//! `threadloop-serve`: one model as an HTTP server, on its own, until it is
//! killed. The cell (JSON) on stdin says which model and how it is sized;
//! `listening on ADDR` on stdout says where. This is the server half of an
//! HTTP cell, for driving it with another generator (`wrk`, the peer check)
//! or from another machine (`threadloop-loadgen --target`).

use std::io::{Read as _, Write as _};
use threadloop_engine::counters::CellCounters;
use threadloop_engine::io::{BlockingClients, Io};
use threadloop_engine::server::{Job, Work};
use threadloop_engine::work::CpuWork;
use threadloop_engine::{failure, Cell};

/// One model as an HTTP server until killed; the cell as JSON on stdin.
#[derive(clap::Parser)]
#[command(name = "threadloop-serve", version)]
struct Args {
    /// Address to listen on; port 0 takes a free one. Serving another host
    /// (or a network namespace) needs an address it can reach.
    #[arg(long, default_value_t = threadloop_engine::wire::LOOPBACK)]
    bind: std::net::SocketAddr,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    if let Err(e) = serve(&args) {
        failure::report(&e);
        std::process::exit(1);
    }
}

fn serve(args: &Args) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("read the cell from stdin")?;
    let cell: Cell = serde_json::from_str(&input).context("parse the cell (JSON on stdin)")?;
    anyhow::ensure!(
        !cell.uses_http() && !cell.uses_postgres(),
        "threadloop-serve serves timer I/O only (a cell drives postgres and http I/O with its clients)"
    );
    let job = Job::single(Work {
        cpu: CpuWork::new(cell.cpu_ms, cell.cpu_iters_per_ms),
        io: Io::new(cell.io, cell.io_latency_ms, BlockingClients::default()),
    });
    let counters = std::sync::Arc::new(CellCounters::new());
    let (_model, addr) = threadloop_engine::models::start_http(&cell, job, &counters, args.bind)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
