//! Calibration of an HTTP server's own cost: CPU seconds of the server's
//! process per request, and its ceiling, at saturation, on the cell's own
//! kind of request with no wait and no CPU work: the trivial endpoint (a
//! 0 ms timer) for a timer cell, the same database call or downstream call
//! at 0 ms for the others. A trivial endpoint does not see what a driver or
//! a client costs per call: FastAPI's asyncpg cells reached about half the
//! bound it priced, with the one Python thread busy in asyncpg. A request
//! mix is priced class by class ([`parts`]). The runner runs one such cell
//! per server configuration and kind of request of a run, before the
//! run's HTTP cells, and records the figures in the manifest
//! ([`ServerCalibration`]); the theory prices
//! the bound of that server's cells with them ([`crate::theory::priced`]).
//! Like [`crate::calibrate`], it runs through the same binary and the same
//! path (the cell process, the load generator) as the cells it prices.

use crate::cell::{
    Cell, Client, Factor as _, IoKind, Load, ModelKind, Offload, Pinning, Transport,
};
use crate::outcome::CellOutcome;
pub use threadloop_vocab::{ServerCalibration, ServerCost};

/// Clients of the calibration's closed loop: enough to saturate every
/// server here on two cores (the issue's own wrk figures used 64), few
/// enough that the generator's share stays what it is in the cells.
pub const CONCURRENCY: u32 = 64;
/// Its warm-up and window, seconds: short (it runs once per server and
/// run), long enough for a few thousand requests on the slowest server.
/// A JVM's warm-up settles by throughput (`crate::wire::settle`).
pub const WARMUP_S: f64 = 1.0;
pub const DURATION_S: f64 = 2.0;

/// The server configuration a cell of one kind of request runs on, as the
/// manifest names it: the model, the JVM's version, FastAPI's debug mode
/// (which slows every callback), the call. None for an in-process cell: it
/// has no server. A mix of classes: [`parts`].
pub fn key(cell: &Cell) -> Option<String> {
    if cell.transport != Transport::Http {
        return None;
    }
    let mut key = ServerCalibration::key(cell.model.name(), cell.java);
    if cell.loop_debug == Some(true) {
        key.push_str("-loop-debug");
    }
    // The server's own code path: another loop and parser, or another
    // processor cache, is another server with another cost.
    if let Some(u) = cell.uvicorn {
        key.push('-');
        key.push_str(u.name());
    }
    if let Some(p) = cell.processor_cache {
        key.push_str("-processor-cache-");
        key.push_str(p.name());
    }
    // Another kind of request is another cost: the driver's or the
    // client's part of it.
    if calls(cell) {
        for part in [Some(cell.io.name()), cell.client.map(|c| c.name())]
            .into_iter()
            .chain([cell
                .db_query
                .filter(|_| cell.io == IoKind::Postgres)
                .map(|q| q.name())])
            .flatten()
        {
            key.push('-');
            key.push_str(part);
        }
    }
    Some(key)
}

/// The cell's requests are a kind of call (a database query, a downstream
/// call), which its server is calibrated on.
fn calls(cell: &Cell) -> bool {
    cell.io != IoKind::Timer
}

/// One server configuration a cell's requests run on, with its share of
/// them: a cell of one kind of request has one; a mix, one per class, so
/// that each kind is priced on its own call (an httpx call costs FastAPI
/// 3.2 ms of CPU here, the light requests beside it a tenth of that).
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The server configuration ([`key`]).
    pub key: String,
    /// Its share of the cell's requests, 0 to 1.
    pub share: f64,
    /// Its calibration cell ([`trivial_cell`]).
    pub trivial: Cell,
}

/// The parts of `cell`'s server cost (empty: in-process, no server).
pub fn parts(cell: &Cell) -> Vec<Part> {
    // The mix's weights as `Cell::mean_parts_ms` reads them (the spec
    // checker asks each to be > 0).
    let total: f64 = cell.classes.iter().map(|c| c.weight).sum();
    let kinds: Vec<(f64, Cell)> = if cell.classes.is_empty() || total <= 0.0 {
        vec![(1.0, cell.clone())]
    } else {
        cell.classes
            .iter()
            .map(|c| {
                let one = Cell {
                    io: c.io,
                    io_latency_ms: c.io_latency_ms,
                    cpu_ms: c.cpu_ms,
                    classes: Vec::new(),
                    ..cell.clone()
                };
                (c.weight / total, one)
            })
            .collect()
    };
    kinds
        .into_iter()
        .filter_map(|(share, one)| {
            Some(Part {
                key: key(&one)?,
                share,
                trivial: trivial_cell(&one),
            })
        })
        .collect()
}

/// `cell`'s server cost from the run's calibrations: each part's CPU per
/// request by its share, and the ceiling of the mix (its mean time per
/// request is the parts' by their shares). None: in-process, or a part
/// without a figure.
pub fn cost(cell: &Cell, servers: &[ServerCalibration]) -> Option<ServerCost> {
    let parts = parts(cell);
    if parts.is_empty() {
        return None;
    }
    let (mut cpu_ms, mut time_s) = (0.0, 0.0);
    for part in &parts {
        let c = servers
            .iter()
            .find(|s| s.server == part.key)
            .and_then(ServerCalibration::cost)?;
        cpu_ms += part.share * c.cpu_ms;
        time_s += part.share / c.ceiling_rps;
    }
    (time_s > 0.0).then(|| ServerCost {
        cpu_ms,
        ceiling_rps: 1.0 / time_s,
    })
}

/// The calibration cell of `of`'s server: the same model and settings (the
/// pool, the workers, the JVM), on the same kind of request at 0 ms (a
/// timer cell: the trivial endpoint; a database or downstream cell: the
/// same driver, query and pool, or client, with no wait), no CPU work, no
/// mix, no pinning, [`CONCURRENCY`] clients (a pool's threads at most, so
/// that no client waits on a held connection).
pub fn trivial_cell(of: &Cell) -> Cell {
    let calls = calls(of);
    let concurrency = match of.threads {
        Some(t) if of.model.has_pool() => CONCURRENCY.min(t.max(1)),
        _ => CONCURRENCY,
    };
    // A call costs what it costs at the cell's own concurrency: more calls
    // in flight than the cell makes measure another client (httpx beyond
    // its 20 kept-alive connections opens one per call: 312 req/s at 64
    // where the cell of 20 served 962).
    let concurrency = match of.concurrency() {
        Some(c) if calls => concurrency.min(c.max(1)),
        _ => concurrency,
    };
    Cell {
        load: Load::Closed { concurrency },
        io: if calls { of.io } else { IoKind::Timer },
        io_latency_ms: 0.0,
        cpu_ms: 0.0,
        offload: of.offload.map(|_| Offload::Inline),
        pool_threads: None,
        pinning: of.pinning.map(|_| Pinning::None),
        // FastAPI's client also picks how its timer waits: `asyncio.sleep`.
        client: if calls {
            of.client
        } else {
            (of.model == ModelKind::Fastapi).then_some(Client::Async)
        },
        db_query: of.db_query.filter(|_| calls),
        db_pool: of.db_pool.filter(|_| calls),
        // The run's downstream, pointed at by the runner's services.
        downstream: None,
        server: None,
        classes: Vec::new(),
        timeout_ms: 5000,
        warmup_s: WARMUP_S,
        duration_s: DURATION_S,
        ..of.clone()
    }
}

/// Fills in `cal`'s figures from `completed` requests and `cpu_s` of the
/// server's CPU over a window of `window_s`.
fn measured(cal: &mut ServerCalibration, completed: u64, window_s: f64, cpu_s: f64) {
    if completed == 0 || window_s <= 0.0 {
        cal.error = Some("no request completed in the window".into());
        return;
    }
    cal.completed = completed;
    cal.cpu_s = cpu_s;
    cal.ceiling_rps = Some(completed as f64 / window_s);
    cal.cpu_per_request_ms = Some(cpu_s * 1e3 / completed as f64);
}

/// The calibration of server `key` from its trivial cell's outcome (or why
/// there is none).
pub fn summarise(
    key: &str,
    cell: &Cell,
    outcome: Result<&CellOutcome, String>,
) -> ServerCalibration {
    let mut cal = ServerCalibration {
        server: key.to_string(),
        cell: cell.id(),
        concurrency: cell.concurrency().unwrap_or(0),
        warmup_s: cell.warmup_s,
        duration_s: cell.duration_s,
        ..ServerCalibration::default()
    };
    match outcome {
        Err(e) => cal.error = Some(e),
        Ok(o) => {
            if let Some(w) = o.warmup {
                cal.warmup_s = w.taken_s;
            }
            measured(
                &mut cal,
                o.completed,
                o.window_s,
                o.cpu_user_s + o.cpu_sys_s,
            );
        }
    }
    cal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trivial_cell_keeps_the_server_and_drops_the_work() {
        let of = Cell {
            transport: Transport::Http,
            threads: Some(20),
            queue: Some(100),
            java: Some(21),
            cpu_ms: 0.2,
            ..Cell::timer(
                ModelKind::TomcatPool,
                Load::Closed { concurrency: 200 },
                200.0,
            )
        };
        let t = trivial_cell(&of);
        assert_eq!((t.model, t.threads, t.java), (of.model, Some(20), Some(21)));
        assert_eq!((t.cpu_ms, t.io_latency_ms), (0.0, 0.0));
        assert_eq!(t.concurrency(), Some(20), "no more clients than threads");
        assert_eq!(key(&of).as_deref(), Some("tomcat-pool-java21"));
        let inproc = Cell::timer(ModelKind::Tokio, Load::Closed { concurrency: 1 }, 1.0);
        assert_eq!(key(&inproc), None, "in-process: no server");
        // Another loop and parser is another server.
        let fastapi = |u| Cell {
            transport: Transport::Http,
            uvicorn: Some(u),
            ..Cell::timer(ModelKind::Fastapi, Load::Closed { concurrency: 1 }, 5.0)
        };
        let (h11, uvloop) = (
            key(&fastapi(crate::cell::Uvicorn::AsyncioH11)),
            key(&fastapi(crate::cell::Uvicorn::UvloopHttptools)),
        );
        assert!(
            h11.is_some() && uvloop.is_some() && h11 != uvloop,
            "{h11:?} {uvloop:?}"
        );
    }

    #[test]
    fn a_database_or_downstream_cell_calibrates_on_its_own_call_at_0_ms() {
        use crate::cell::DbQuery;
        let asyncpg = Cell {
            transport: Transport::Http,
            io: IoKind::Postgres,
            client: Some(Client::Async),
            db_query: Some(DbQuery::Sleep),
            db_pool: Some(100),
            ..Cell::timer(ModelKind::Fastapi, Load::Closed { concurrency: 100 }, 50.0)
        };
        let t = trivial_cell(&asyncpg);
        assert_eq!(
            (t.io, t.client, t.db_query, t.db_pool, t.io_latency_ms),
            (
                IoKind::Postgres,
                Some(Client::Async),
                Some(DbQuery::Sleep),
                Some(100),
                0.0
            ),
            "the same driver, query and pool, no wait"
        );
        let few = Cell {
            load: Load::Closed { concurrency: 20 },
            ..asyncpg.clone()
        };
        assert_eq!(
            trivial_cell(&few).concurrency(),
            Some(20),
            "no more calls than the cell's"
        );
        let timer = Cell {
            io: IoKind::Timer,
            client: Some(Client::Async),
            db_query: None,
            db_pool: None,
            ..asyncpg.clone()
        };
        let psycopg2 = Cell {
            client: Some(Client::Blocking),
            ..asyncpg.clone()
        };
        let httpx = Cell {
            io: IoKind::Http,
            db_query: None,
            db_pool: None,
            ..asyncpg.clone()
        };
        let keys = [&timer, &asyncpg, &psycopg2, &httpx].map(|c| key(c).unwrap());
        assert_eq!(keys[0], "fastapi", "a timer cell: the trivial endpoint");
        assert_eq!(keys[1], "fastapi-postgres-async-sleep");
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(
            distinct.len(),
            4,
            "each kind of request its own server: {keys:?}"
        );
        let t = trivial_cell(&timer);
        assert_eq!((t.io, t.db_query, t.db_pool), (IoKind::Timer, None, None));
        // A mix of classes: each priced on its own kind of request.
        let mixed = Cell {
            classes: ["light", "llm"]
                .into_iter()
                .zip([(3.0, IoKind::Timer), (1.0, IoKind::Http)])
                .map(|(name, (weight, io))| crate::cell::RequestClass {
                    name: name.into(),
                    weight,
                    cpu_ms: 0.0,
                    io,
                    io_latency_ms: 50.0,
                })
                .collect(),
            ..httpx.clone()
        };
        let mix = parts(&mixed);
        let shares: Vec<_> = mix.iter().map(|p| (p.key.clone(), p.share)).collect();
        assert_eq!(
            shares,
            vec![(keys[0].clone(), 0.75), (keys[3].clone(), 0.25)],
            "the light class on the trivial endpoint, the call on its own"
        );
        assert_eq!(mix[0].trivial.io, IoKind::Timer);
        assert_eq!(mix[1].trivial.io, IoKind::Http);
        let cal = |server: &str, cpu: f64, ceiling: f64| ServerCalibration {
            server: server.into(),
            cpu_per_request_ms: Some(cpu),
            ceiling_rps: Some(ceiling),
            ..ServerCalibration::default()
        };
        let servers = [cal(&keys[0], 0.2, 4000.0), cal(&keys[3], 3.2, 250.0)];
        let c = cost(&mixed, &servers).unwrap();
        // 0.75 x 0.2 + 0.25 x 3.2 ms; 1 / (0.75 / 4000 + 0.25 / 250) s.
        assert!((c.cpu_ms - 0.95).abs() < 1e-9, "{c:?}");
        assert!((c.ceiling_rps - 1.0 / 0.0011875).abs() < 1e-6, "{c:?}");
        assert_eq!(
            cost(&mixed, &servers[..1]),
            None,
            "a part without a figure: no price"
        );
        assert_eq!(parts(&timer).len(), 1);
    }

    #[test]
    fn cpu_per_request_is_the_servers_cpu_over_its_requests() {
        let cell = trivial_cell(&Cell {
            transport: Transport::Http,
            ..Cell::timer(ModelKind::Fastapi, Load::Closed { concurrency: 1 }, 5.0)
        });
        let mut cal = summarise("fastapi", &cell, Err(String::new()));
        cal.error = None;
        measured(&mut cal, 8000, 2.0, 2.0);
        assert_eq!(cal.ceiling_rps, Some(4000.0));
        assert_eq!(cal.cpu_per_request_ms, Some(0.25));
        assert_eq!(
            cal.cost(),
            Some(ServerCost {
                cpu_ms: 0.25,
                ceiling_rps: 4000.0
            })
        );
        let failed = summarise("fastapi", &cell, Err("no python".into()));
        assert_eq!(
            (failed.cost(), failed.error.as_deref()),
            (None, Some("no python"))
        );
        let mut idle = summarise("fastapi", &cell, Err(String::new()));
        measured(&mut idle, 0, 2.0, 0.1);
        assert_eq!(idle.cost(), None, "nothing completed: no figure");
    }
}
