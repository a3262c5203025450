//! The HTTP generator against servers it can check: a model's own server
//! answers the contract; a server that answers wrongly is never timed.

#[path = "support/contract.rs"]
mod contract;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use threadloop_engine::cell::{Cell, Factor as _, Load, ModelKind, Transport};
use threadloop_engine::counters::CellCounters;
use threadloop_engine::io::Io;
use threadloop_engine::server::{Job, Work};
use threadloop_engine::wire::loadgen::{run, HttpPlan};
use threadloop_engine::work::CpuWork;

fn cell(model: ModelKind) -> Cell {
    Cell {
        transport: Transport::Http,
        threads: Some(4),
        queue: Some(8292),
        workers: Some(2),
        warmup_s: 0.2,
        duration_s: 0.3,
        ..Cell::timer(model, Load::Closed { concurrency: 8 }, 5.0)
    }
}

fn job() -> Job {
    Job::single(Work {
        cpu: CpuWork::new(0.0, 1.0),
        io: Io::new(threadloop_engine::IoKind::Timer, 5.0, Default::default()),
    })
}

/// The cell's model as an HTTP server on loopback, and its address.
fn serve(
    c: &Cell,
) -> (
    Box<dyn threadloop_engine::server::Model>,
    std::net::SocketAddr,
) {
    let counters = std::sync::Arc::new(CellCounters::new());
    threadloop_engine::models::start_http(c, job(), &counters, threadloop_engine::wire::LOOPBACK)
        .unwrap()
}

#[test]
fn each_model_answers_the_contract_under_load() {
    // async-std reads its thread count once, from the environment (the cell
    // process sets it from the cell); this process is the cell here.
    std::env::set_var("ASYNC_STD_THREAD_COUNT", "2");
    // The Rust models; the foreign stacks have a test of their own (stacks.rs).
    for model in ModelKind::all().into_iter().filter(|m| m.stack().is_none()) {
        let c = cell(model);
        let (_server, addr) = serve(&c);
        let plan = HttpPlan::of(&c, addr).unwrap();
        let mut announced = Vec::new();
        let report = run(&plan, &mut announced).unwrap();
        let line = String::from_utf8(announced).unwrap();
        assert!(line.starts_with("window "), "{line}");
        let t = &report.tallies;
        assert!(t.completed > 0, "{model}: {t:?}");
        assert_eq!(
            (t.errors, t.rejected, t.timeouts),
            (0, 0, 0),
            "{model}: {report:?}"
        );
        assert!(report.first_error.is_none(), "{model}: {report:?}");
        // The server reports its own time (Server-Timing): at least the
        // 5 ms wait each request asks for, which no timer cuts short.
        let service = threadloop_engine::run::decode_histogram(&report.service).unwrap();
        assert_eq!(service.len(), t.completed, "{model}");
        assert!(service.min() >= 5_000, "{model}: {} µs", service.min());
        // The contract's other answers, on one keep-alive connection.
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        for (target, status, body) in contract::FIXED {
            assert_eq!(
                contract::get(&mut conn, target),
                (status, body.to_string()),
                "{model} {target}"
            );
        }
    }
}

#[test]
fn a_server_that_answers_wrongly_is_not_timed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let req = String::from_utf8_lossy(&buf[..n]);
                    // Healthy, but every order is answered as class 9.
                    let body = if req.starts_with("GET /health") {
                        "ok\n"
                    } else {
                        "ok class=9\n"
                    };
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    if s.write_all(head.as_bytes())
                        .and_then(|_| s.write_all(body.as_bytes()))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    let plan = HttpPlan::of(&cell(ModelKind::Tokio), addr).unwrap();
    let mut announced = Vec::new();
    let e = run(&plan, &mut announced).unwrap_err().to_string();
    assert!(e.contains("verification") && e.contains("class=9"), "{e}");
    assert!(
        announced.is_empty(),
        "no window is announced for a wrong server"
    );
}

#[test]
fn the_open_loop_sends_the_cells_own_arrivals_and_counts_overflow() {
    use threadloop_engine::cell::Arrival;
    let open = |max_in_flight: u32| Cell {
        max_in_flight,
        load: Load::Open {
            rate_rps: 400.0,
            arrival: Arrival::Constant,
        },
        ..cell(ModelKind::Tokio)
    };
    let c = open(1_000);
    let (_server, addr) = serve(&c);
    // Room for every arrival: each is sent once, none overflows.
    let report = run(&HttpPlan::of(&c, addr).unwrap(), &mut Vec::new()).unwrap();
    let arrivals = threadloop_engine::theory::arrival_times(400.0, Arrival::Constant, c.seed, 0.5);
    let t = &report.tallies;
    assert!(
        t.sent <= arrivals.len() as u64 && t.sent + 2 >= arrivals.len() as u64,
        "{} sent of {} arrivals",
        t.sent,
        arrivals.len()
    );
    assert_eq!((t.overflow, t.errors, t.timeouts), (0, 0, 0), "{t:?}");
    assert!(t.completed > 0, "{t:?}");
    // One connection for arrivals every 2.5 ms of 5 ms requests: about
    // every other arrival finds it busy and is counted, not sent.
    let report = run(&HttpPlan::of(&open(1), addr).unwrap(), &mut Vec::new()).unwrap();
    let t = &report.tallies;
    assert!(t.overflow > 0 && t.completed > 0, "{t:?}");
}
