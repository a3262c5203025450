//! Generator efficiency (`just peer`): `wrk -t1` and `threadloop-loadgen`
//! (one thread each) against the same server on a trivial endpoint (no CPU,
//! no wait), 64 keep-alive connections, one after the other. Nothing is
//! pinned: server and generator share the machine's cores, as in a cell.
//! Prints each one's rate and the ratio.

#[path = "../tests/support/peer.rs"]
mod peer;
use threadloop_engine::cell::ModelKind;

fn main() {
    for model in [ModelKind::Tokio, ModelKind::TokioCurrent] {
        let cell = peer::cell(model, 64, 0.0, 3.0);
        let server = peer::serve(&cell);
        let wrk = peer::wrk(&cell, &server);
        let ours = peer::loadgen(&cell, &server);
        println!(
            "{model} server, 64 connections, trivial endpoint: wrk {:.0} req/s (mean {:.3} ms), \
             threadloop-loadgen {:.0} req/s (mean {:.3} ms): ratio {:.2}",
            wrk.rps,
            wrk.mean_ms,
            ours.rps,
            ours.mean_ms,
            ours.rps / wrk.rps
        );
    }
}
