//! The peer check: `wrk` (Debian's package) and threadloop's HTTP generator
//! drive the same server, one after the other, and must measure it alike
//! where the server, not the generator, sets the pace (16 connections, each
//! request a 20 ms timer: 800 req/s and 20 ms by construction). How fast
//! each generator is on a trivial endpoint is a benchmark (`just peer`),
//! not a test.

#[path = "support/peer.rs"]
mod peer;
use threadloop_engine::cell::ModelKind;

#[test]
fn wrk_and_the_generator_measure_a_server_alike() {
    let cell = peer::cell(ModelKind::TokioCurrent, 16, 20.0, 2.0);
    let server = peer::serve(&cell);
    let wrk = peer::wrk(&cell, &server);
    let ours = peer::loadgen(&cell, &server);
    eprintln!("threadloop-loadgen {ours:?}, wrk {wrk:?}");
    let within = |a: f64, b: f64, tol: f64| (a / b - 1.0).abs() <= tol;
    assert!(
        within(ours.rps, wrk.rps, 0.1),
        "req/s: threadloop {ours:?}, wrk {wrk:?}"
    );
    assert!(
        within(ours.mean_ms, wrk.mean_ms, 0.1),
        "mean latency: threadloop {ours:?}, wrk {wrk:?}"
    );
}
