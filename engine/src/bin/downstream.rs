//! `threadloop-downstream`: the slow downstream API for `http` cells.
//!
//! Binds a free loopback port (or `--addr`), prints `listening on ADDR` on
//! stdout, and serves until killed, on a smol executor driven by `--workers`
//! threads (default 1: it should cost the machine as little as possible).

use std::sync::Arc;
use threadloop_engine::http::server::{serve, Counters};

fn main() -> anyhow::Result<()> {
    let mut addr = "127.0.0.1:0".to_string();
    let mut workers = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| anyhow::anyhow!("--addr needs a value"))?,
            "--workers" => {
                workers = args.next().ok_or_else(|| anyhow::anyhow!("--workers needs a value"))?.parse()?
            }
            other => anyhow::bail!(
                "unknown argument {other} (usage: threadloop-downstream [--addr HOST:PORT] [--workers N])"
            ),
        }
    }
    let ip: std::net::SocketAddr = addr.parse()?;
    anyhow::ensure!(
        ip.ip().is_loopback(),
        "the downstream listens on loopback only, not {ip}"
    );
    let ex = Arc::new(smol::Executor::new());
    for _ in 1..workers.max(1) {
        let ex = ex.clone();
        std::thread::spawn(move || smol::block_on(ex.run(std::future::pending::<()>())));
    }
    smol::block_on(ex.run(async {
        let listener = smol::net::TcpListener::bind(ip).await?;
        println!("listening on {}", listener.local_addr()?);
        use std::io::Write;
        std::io::stdout().flush()?;
        serve(ex.clone(), listener, Arc::new(Counters::default())).await
    }))?;
    Ok(())
}
