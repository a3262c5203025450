//! What the harness itself costs per request.
//!
//! `bare_tokio_spawn_join`: N empty tasks spawned on a 2-worker tokio runtime
//! from outside and joined: the floor any tokio server pays.
//! `harness_tokio_noop`: N no-op requests (cpu 0, io 0) through the same path
//! a cell uses: `Server::submit` from the generator's thread, a `Done` back
//! through the channel, the latency recorded in an HdrHistogram.
//! The difference per request is the bookkeeping the harness adds;
//! `bookkeeping_only` isolates the generator's side of it (timestamp, map,
//! histogram record) without any runtime.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use threadloop_engine::cell::{Cell, IoKind, Load, ModelKind, Offload};
use threadloop_engine::counters::CellCounters;
use threadloop_engine::io::Io;
use threadloop_engine::measure::{new_histogram, record};
use threadloop_engine::server::{Job, Request, Work};
use threadloop_engine::work::CpuWork;

const N: usize = 10_000;

fn main() {
    divan::main();
}

fn noop_cell() -> Cell {
    Cell {
        workers: Some(2),
        offload: Some(Offload::Inline),
        ..Cell::timer(ModelKind::Tokio, Load::Closed { concurrency: 1 }, 0.0)
    }
}

#[divan::bench(items_count = N, sample_count = 30)]
fn bare_tokio_spawn_join(b: divan::Bencher) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    b.bench_local(|| {
        let handles: Vec<_> = (0..N).map(|_| rt.spawn(async {})).collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
    });
}

#[divan::bench(items_count = N, sample_count = 30)]
fn harness_tokio_noop(b: divan::Bencher) {
    let job = Job::single(Work {
        cpu: CpuWork::new(0.0, 1.0),
        io: Io::new(IoKind::Timer, 0.0, Default::default()),
    });
    let counters = Arc::new(CellCounters::new());
    let server = threadloop_engine::models::start(&noop_cell(), job, &counters).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    b.bench_local(|| {
        let mut hist = new_histogram();
        let t0 = Instant::now();
        for id in 0..N as u64 {
            server.submit(Request::new(id, 0, t0, tx.clone()));
        }
        for _ in 0..N {
            let d = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("request answered");
            record(&mut hist, d.ended.saturating_duration_since(d.intended));
        }
        hist
    });
}

#[divan::bench(items_count = N, sample_count = 30)]
fn bookkeeping_only(b: divan::Bencher) {
    b.bench_local(|| {
        let mut hist = new_histogram();
        let mut in_flight = HashMap::with_capacity(N);
        let t0 = Instant::now();
        for id in 0..N as u64 {
            in_flight.insert(id, t0);
        }
        for id in 0..N as u64 {
            let sent = in_flight.remove(&id).unwrap();
            record(&mut hist, Instant::now().saturating_duration_since(sent));
        }
        hist
    });
}
