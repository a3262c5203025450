//! The declared stacks (`Stack::all()`: Tomcat, FastAPI, Spring) as servers of the
//! contract, every model of each: each starts as a process of its own, answers every fixed request and a
//! load from the generator, reports its own figures, and is gone when its
//! server is dropped. `just setup` installs them (CI too); without them
//! this test fails and says how to install them.

#[path = "support/contract.rs"]
mod contract;
use threadloop_engine::cell::{
    Cell, Client, Factor as _, Load, ModelKind, Pinning, Stack, Transport,
};
use threadloop_engine::counters::CellCounters;
use threadloop_engine::io::Io;
use threadloop_engine::server::{Job, Work};
use threadloop_engine::stacks::StackFlag;
use threadloop_engine::wire::loadgen::{run, HttpPlan};
use threadloop_engine::work::CpuWork;

fn cell(stack: Stack, model: ModelKind) -> Cell {
    Cell {
        transport: Transport::Http,
        threads: model.has_pool().then_some(20),
        queue: model.has_pool().then_some(8292),
        pinning: model.pins().then_some(Pinning::None),
        java: stack.decl().java.first().copied(),
        client: stack.takes(StackFlag::Client).then_some(Client::Async),
        offload: model
            .is_async()
            .then_some(threadloop_engine::Offload::Inline),
        warmup_s: 0.5,
        duration_s: 0.5,
        ..Cell::timer(model, Load::Closed { concurrency: 8 }, 5.0)
    }
}

fn job() -> Job {
    Job::single(Work {
        cpu: CpuWork::new(0.0, 1.0),
        io: Io::new(threadloop_engine::IoKind::Timer, 5.0, Default::default()),
    })
}

#[test]
fn each_stack_serves_the_contract_and_leaves_nothing_behind() {
    let models = Stack::all().into_iter().flat_map(|stack| {
        ModelKind::all()
            .into_iter()
            .filter(move |m| m.stack() == Some(stack))
            .map(move |m| (stack, m))
    });
    for (stack, model) in models {
        let c = cell(stack, model);
        if let Some(why) = threadloop_engine::stacks::missing(&c) {
            panic!("{model}: {why}");
        }
        let counters = std::sync::Arc::new(CellCounters::new());
        let (server, addr) = threadloop_engine::models::start_http(
            &c,
            job(),
            &counters,
            threadloop_engine::wire::LOOPBACK,
        )
        .unwrap_or_else(|e| panic!("{model}: {e:#}"));
        let pid = server.process().expect("a stack is a process of its own");
        // A fresh connection each: Tomcat closes one after a 400.
        for (target, status, body) in contract::FIXED {
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            assert_eq!(
                contract::get(&mut conn, target),
                (status, body.to_string()),
                "{model} {target}"
            );
        }
        let report = run(&HttpPlan::of(&c, addr).unwrap(), &mut Vec::new()).unwrap();
        let t = &report.tallies;
        assert!(t.completed > 0, "{model}: {t:?}");
        assert_eq!((t.errors, t.timeouts), (0, 0), "{model}: {report:?}");
        let (stack, notes) = server.stack_report();
        let stack = stack.expect("a stack reports itself");
        assert!(stack.startup_s > 0.0, "{model}: {stack:?}");
        assert!(notes.is_empty(), "{model}: {notes:?}");
        if model.pins() {
            // JFR counts pinning on virtual threads (whatever pinned or not).
            assert!(stack.pinned.is_some(), "{model}: {stack:?}");
        }
        drop(server);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{model}: the stack's process {pid} outlived its server"
        );
    }
}
