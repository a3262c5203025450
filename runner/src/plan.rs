//! From validated specs to the cells that run: the cartesian product of each
//! matrix, with factors that do not apply to a model dropped (each
//! setting's applicability is its declaration's, in `vocab::factors`) and
//! the duplicates this creates removed, then an execution order.

use crate::spec::{CpuSize, ExperimentSpec, LoadMode};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use threadloop_engine::cell::{Cell, IoKind, Load, ModelKind, Offload, Pinning, SettingType};
use threadloop_vocab::factors::{settings_placed, Context, Setting, Value, SETTINGS};

pub use crate::planned::{PlannedCell, Slot};

/// Machine facts the plan needs to resolve defaults.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Machine {
    pub cores: u32,
    pub cpu_iters_per_ms: f64,
}

/// One point of the matrix, before factors that do not apply are dropped.
#[derive(Clone)]
struct Factors {
    model: ModelKind,
    transport: threadloop_engine::Transport,
    load: Load,
    io: IoKind,
    io_ms: f64,
    cpu: CpuSize,
    /// Each setting's value at this point, indexed by [`Setting`].
    settings: Vec<Option<Value>>,
}

/// Crosses every point so far with one factor's values (earlier factors
/// vary slowest, so the product comes out in matrix order).
fn vary<T: Copy>(
    points: Vec<Factors>,
    values: &[T],
    set: impl Fn(&mut Factors, T),
) -> Vec<Factors> {
    let set = &set;
    points
        .into_iter()
        .flat_map(|p| {
            values.iter().map(move |&v| {
                let mut p = p.clone();
                set(&mut p, v);
                p
            })
        })
        .collect()
}

/// Crosses every point so far with each of `settings`, in turn.
fn vary_settings(
    mut points: Vec<Factors>,
    m: &crate::spec::Matrix,
    settings: impl Iterator<Item = Setting>,
) -> Vec<Factors> {
    for s in settings {
        points = vary(points, m.setting(s), |f, v| f.settings[s as usize] = v);
    }
    points
}

/// The point's value of a closed-set setting (every point has one).
fn value_of<T: SettingType>(f: &Factors, s: Setting) -> T {
    f.settings[s as usize]
        .and_then(T::from_value)
        .unwrap_or_else(|| panic!("every point has a {s:?}"))
}

/// Expands one spec into its distinct cells, in matrix order.
pub fn expand(spec: &ExperimentSpec, machine: Machine) -> Vec<PlannedCell> {
    let m = &spec.matrix;
    let loads: Vec<Load> = match spec.load.mode {
        LoadMode::Closed => m
            .concurrency
            .iter()
            .map(|&c| Load::Closed { concurrency: c })
            .collect(),
        LoadMode::Open => m
            .rate_rps
            .iter()
            .map(|&r| Load::Open {
                rate_rps: r,
                arrival: spec.load.arrival,
            })
            .collect(),
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    // The cartesian product, in matrix order (model outermost).
    let mut cells: Vec<Factors> = m
        .model
        .iter()
        .map(|&model| Factors {
            model,
            transport: threadloop_engine::Transport::InProcess,
            load: Load::Closed { concurrency: 1 },
            io: IoKind::Timer,
            io_ms: 0.0,
            cpu: CpuSize::Ms(0.0),
            settings: vec![None; SETTINGS.len()],
        })
        .collect();
    cells = vary(cells, &m.transport, |f, v| f.transport = v);
    cells = vary_settings(cells, m, settings_placed(true));
    cells = vary(cells, &loads, |f, v| f.load = v);
    cells = vary(cells, &m.io, |f, v| f.io = v);
    cells = vary(cells, &m.io_latency_ms, |f, v| f.io_ms = v);
    cells = vary(cells, &m.cpu, |f, v| f.cpu = v);
    cells = vary_settings(cells, m, settings_placed(false));
    // The cell's I/O, or any class's, is of this kind.
    let uses =
        |io: IoKind, kind: IoKind| io == kind || spec.classes.iter().any(|c| c.io == Some(kind));
    // A pinning kind belongs to the models that have it (the coroutines'
    // analogs, Tomcat's virtual threads): one matrix can list both kinds.
    let cells = cells.into_iter().filter(|f| {
        !f.model.pins() || value_of::<Pinning>(f, Setting::pinning).applies_to(f.model)
    });
    for f in cells {
        let cpu_ms = match f.cpu {
            CpuSize::Ms(ms) => ms,
            CpuSize::Ratio(r) => r / (1.0 - r) * f.io_ms,
        };
        // Every field but the settings; those are resolved below.
        let mut cell = Cell {
            model: f.model,
            transport: f.transport,
            load: f.load,
            io: f.io,
            io_latency_ms: f.io_ms,
            cpu_ms,
            downstream: None,
            server: None,
            classes: spec
                .classes
                .iter()
                .map(|c| threadloop_engine::RequestClass {
                    name: c.name.clone(),
                    weight: c.weight,
                    cpu_ms: c.cpu_ms.unwrap_or(cpu_ms),
                    io: c.io.unwrap_or(f.io),
                    io_latency_ms: c.io_latency_ms.unwrap_or(f.io_ms),
                })
                .collect(),
            timeout_ms: spec.load.timeout_ms,
            retry_after_ms: spec.load.retry_after_ms,
            max_in_flight: spec.load.max_in_flight,
            warmup_s: spec.warmup_s,
            duration_s: spec.duration_s,
            seed: 0,
            cpu_iters_per_ms: machine.cpu_iters_per_ms,
            cores: machine.cores,
            ..Cell::timer(f.model, f.load, f.io_ms)
        };
        // A setting applies to the point as its declaration says; where it
        // does, a null takes the declared default.
        let context = Context {
            model: f.model,
            offload: value_of::<Offload>(&f, Setting::offload),
            http: uses(f.io, IoKind::Http),
            postgres: uses(f.io, IoKind::Postgres),
        };
        for s in Setting::all() {
            let d = s.def();
            let value = (d.applies)(&context)
                .then(|| f.settings[s as usize].unwrap_or(d.default.resolve(machine.cores)));
            cell.set_setting(s, value);
        }
        let key = serde_json::to_string(&cell).expect("cells serialise");
        if seen.insert(key) {
            out.push(PlannedCell {
                experiment: spec.name.clone(),
                claim: spec.claim.clone(),
                title: spec.title.clone(),
                id: cell.id(),
                repetitions: spec.repetitions,
                cell,
            });
        }
    }
    // Evidence where verdicts need it: a cell no rule could read (a point of
    // a chart's sweep) runs `context_repetitions` times.
    let context = spec.context_repetitions.unwrap_or(
        if !spec.verdict.is_empty() && spec.max_repetitions > spec.repetitions {
            1
        } else {
            spec.repetitions
        },
    );
    for c in &mut out {
        if !read_by_a_rule(c, &spec.verdict) {
            c.repetitions = context;
        }
    }
    out
}

/// Whether a rule's filter or baseline could select one of the cell's rows.
pub fn read_by_a_rule(c: &PlannedCell, rules: &[crate::spec::Rule]) -> bool {
    rules.iter().any(|r| {
        crate::rows::could_match(c, &r.filter)
            || r.baseline
                .as_ref()
                .is_some_and(|b| crate::rows::could_match(c, b))
    })
}

/// The execution order: each repetition round is a fresh shuffle of every
/// cell that still has that repetition, so repetitions interleave and no
/// cell always runs in the same system state. Deterministic for a seed.
pub fn order(cells: &[PlannedCell], seed: u64) -> Vec<Slot> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let rounds = cells.iter().map(|c| c.repetitions).max().unwrap_or(0);
    let mut slots = Vec::new();
    for repetition in 0..rounds {
        let mut round: Vec<Slot> = (0..cells.len())
            .filter(|&i| repetition < cells[i].repetitions)
            .map(|cell| Slot { cell, repetition })
            .collect();
        round.shuffle(&mut rng);
        slots.extend(round);
    }
    slots
}

/// Estimated wall time of one execution: warm-up, window, and the child's
/// start-up and idle settling (measured: ~0.1 s). Cells with a client also
/// drain what is in flight after the window (about one latency of the
/// theory, at most the timeout); `postgres` cells first open their pool
/// (SCRAM authentication: ~8 ms a connection on the 2-core reference) and
/// send three verification requests. A foreign stack starts and stops a
/// process of its own (measured here, start to listening: Tomcat 1.4 to
/// 2.3 s, FastAPI 0.9 to 1.6 s; a whole Tomcat execution ran 2.4 s past
/// its warm-up and window).
pub fn estimate_s(cell: &Cell) -> f64 {
    let mut s = cell.warmup_s + cell.duration_s + 0.15;
    s += cell.model.stack().map_or(0.0, |stack| stack.decl().start_s);
    if cell.uses_http() || cell.uses_postgres() {
        let latency_ms = threadloop_engine::theory::theory(cell)
            .latency_ms
            .unwrap_or(cell.io_latency_ms);
        s += (latency_ms / 1e3).min(cell.timeout_ms as f64 / 1e3 + 1.0);
    }
    if cell.uses_postgres() {
        let pool = cell.db_pool.unwrap_or(threadloop_engine::db::DEFAULT_POOL) as f64;
        s += pool * 0.008 + 3.0 * cell.io_latency_ms / 1e3;
    }
    s
}

/// Estimated wall time of the stage that calibrates each server before the
/// HTTP cells (`run/calibrate_servers.rs`): one execution per distinct
/// server and kind of request of `cells`, start-up included. Returns the
/// number of calibrations and the seconds.
pub fn servers_estimate_s<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> (usize, f64) {
    let mut seen = std::collections::BTreeSet::new();
    let mut s = 0.0;
    for part in cells
        .into_iter()
        .flat_map(threadloop_engine::calibrate_server::parts)
    {
        if seen.insert(part.key) {
            s += estimate_s(&part.trivial);
        }
    }
    (seen.len(), s)
}

/// A per-execution seed: the run seed mixed with the cell and repetition.
pub fn slot_seed(run_seed: u64, cell_id: &str, experiment: &str, repetition: u32) -> u64 {
    // FNV-1a: stable across Rust versions (unlike DefaultHasher).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ run_seed;
    for b in experiment
        .bytes()
        .chain([0u8])
        .chain(cell_id.bytes())
        .chain(repetition.to_le_bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Which models a cell list uses (for manifest and display).
pub fn models(cells: &[PlannedCell]) -> Vec<ModelKind> {
    let mut m: Vec<ModelKind> = cells.iter().map(|c| c.cell.model).collect();
    m.sort();
    m.dedup();
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse;

    const MACHINE: Machine = Machine {
        cores: 2,
        cpu_iters_per_ms: 1000.0,
    };

    fn spec(matrix: &str) -> ExperimentSpec {
        let text = format!("name = \"t\"\nclaim = \"H1\"\ntitle = \"t\"\n[matrix]\n{matrix}\n");
        parse("t.toml", &text, None, false).unwrap()
    }

    #[test]
    fn factors_that_do_not_apply_are_dropped_and_deduplicated() {
        let s = spec("model = [\"threads\", \"tokio\", \"tokio-current\"]\nthreads = [20, 200]\nworkers = [1, 2]\nconcurrency = [10, 100]\nio_latency_ms = [50]");
        let cells = expand(&s, MACHINE);
        // threads: 2 pool sizes × 2 concurrencies; tokio: 2 worker counts × 2;
        // tokio-current: neither factor applies → 2.
        assert_eq!(cells.len(), 4 + 4 + 2);
        let ids: HashSet<_> = cells.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids.len(), cells.len(), "ids are unique");
        let tc: Vec<_> = cells
            .iter()
            .filter(|c| c.cell.model == ModelKind::TokioCurrent)
            .collect();
        assert!(tc
            .iter()
            .all(|c| c.cell.threads.is_none() && c.cell.workers.is_none()));
        assert!(cells
            .iter()
            .filter(|c| c.cell.model == ModelKind::Threads)
            .all(|c| c.cell.offload.is_none()));
    }

    #[test]
    fn pinning_and_stack_apply_to_coroutines_only() {
        let s = spec("model = [\"coroutines\", \"tokio\"]\nconcurrency = [10]\npinning = [\"none\", \"mutex\"]\nstack_kib = [16, 64]");
        let cells = expand(&s, MACHINE);
        assert_eq!(
            cells.len(),
            4 + 1,
            "coroutines: 2 pinnings × 2 stacks; tokio: one cell"
        );
        assert!(cells
            .iter()
            .filter(|c| c.cell.model == ModelKind::Tokio)
            .all(|c| c.cell.pinning.is_none() && c.cell.stack_kib.is_none()));
        assert!(cells.iter().any(|c| c.id.contains("pin-mutex-stack64k")));
    }

    #[test]
    fn loop_debug_applies_to_fastapi_only() {
        let s = spec("model = [\"fastapi\", \"tokio-current\"]\ntransport = [\"http\"]\nconcurrency = [4]\nloop_debug = [false, true]");
        let cells = expand(&s, MACHINE);
        let debug: Vec<(ModelKind, Option<bool>)> = cells
            .iter()
            .map(|c| (c.cell.model, c.cell.loop_debug))
            .collect();
        assert_eq!(
            debug,
            [
                (ModelKind::Fastapi, Some(false)),
                (ModelKind::Fastapi, Some(true)),
                (ModelKind::TokioCurrent, None)
            ]
        );
        assert!(
            cells[1].id.contains("loop-debug") && !cells[0].id.contains("debug"),
            "{}",
            cells[1].id
        );
    }

    /// The declared default pool is the engine's.
    #[test]
    fn the_declared_db_pool_is_the_engines_default() {
        assert_eq!(
            Setting::db_pool.def().default.listed(),
            Some(Value::Int(threadloop_engine::db::DEFAULT_POOL))
        );
    }

    #[test]
    fn classes_take_unset_fields_from_the_cell() {
        let text = "name = \"t\"\nclaim = \"H5\"\ntitle = \"t\"\n[matrix]\nmodel = [\"tokio\"]\nconcurrency = [10]\nio_latency_ms = [5]\ncpu_ms = [1, 10]\n[[class]]\nname = \"light\"\nweight = 9\ncpu_ms = 0\n[[class]]\nname = \"heavy\"\nweight = 1\n";
        let s = parse("t.toml", text, None, false).unwrap();
        let cells = expand(&s, MACHINE);
        assert_eq!(cells.len(), 2);
        let heavy_cpu: Vec<f64> = cells.iter().map(|c| c.cell.classes[1].cpu_ms).collect();
        assert_eq!(
            heavy_cpu,
            vec![1.0, 10.0],
            "heavy inherits the matrix's cpu_ms"
        );
        assert!(cells
            .iter()
            .all(|c| c.cell.classes[0].cpu_ms == 0.0 && c.cell.classes[0].io_latency_ms == 5.0));
        let (cpu, io) = cells[1].cell.mean_parts_ms();
        assert!(
            (cpu - 1.0).abs() < 1e-9 && (io - 5.0).abs() < 1e-9,
            "mean over the mix: 0.1 × 10 ms"
        );
    }

    #[test]
    fn example_spec_expands_to_its_cells() {
        let s = parse("p.toml", crate::spec::tests::EXAMPLE, None, false).unwrap();
        assert_eq!(expand(&s, MACHINE).len(), 5 * 3);
        let q = parse("p.toml", crate::spec::tests::EXAMPLE, Some("quick"), false).unwrap();
        assert_eq!(expand(&q, MACHINE).len(), 5 * 2);
    }

    #[test]
    fn workers_default_to_cores_and_cpu_ratio_becomes_ms() {
        let s = spec("model = [\"tokio\"]\nconcurrency = [10]\nio_latency_ms = [30]\ncpu_ratio = [0.25]\noffload = [\"worker-pool\"]");
        let c = &expand(&s, MACHINE)[0].cell;
        assert_eq!(c.workers, Some(2));
        assert_eq!(c.pool_threads, Some(2));
        assert!((c.cpu_ms - 10.0).abs() < 1e-9, "0.25 = 10 / (10 + 30)");
        assert!((c.cpu_ratio() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn cells_no_rule_reads_run_once_in_an_adaptive_spec() {
        let rule = "[[verdict]]\ntext = \"r\"\nmetric = \"throughput_rps\"\nfilter = { concurrency = 40 }\nbaseline = { concurrency = 4 }\ncompare = \">=\"\nthreshold = 2\n";
        let head = |extra: &str| {
            format!("name = \"t\"\nclaim = \"H1\"\ntitle = \"t\"\nrepetitions = 3\n{extra}[matrix]\nmodel = [\"tokio\"]\nconcurrency = [4, 40, 400]\n{rule}")
        };
        let reps = |text: &str| -> Vec<(String, u32)> {
            let s = parse("t.toml", text, None, false).unwrap();
            expand(&s, MACHINE)
                .into_iter()
                .map(|c| (c.id.split('-').nth(2).unwrap().to_string(), c.repetitions))
                .collect()
        };
        // Adaptive: the c400 point no rule reads runs once.
        let adaptive = reps(&head("max_repetitions = 5\n"));
        assert_eq!(
            adaptive,
            vec![("c4".into(), 3), ("c40".into(), 3), ("c400".into(), 1)]
        );
        // Said otherwise in the spec; and a fixed plan keeps every cell's.
        let kept = reps(&head("max_repetitions = 5\ncontext_repetitions = 2\n"));
        assert_eq!(kept[2], ("c400".into(), 2));
        let fixed = reps(&head(""));
        assert!(fixed.iter().all(|(_, n)| *n == 3), "{fixed:?}");
        let too_many = parse("t.toml", &head("context_repetitions = 4\n"), None, false);
        assert!(too_many
            .unwrap_err()
            .to_string()
            .contains("must be <= repetitions (3)"));
    }

    #[test]
    fn a_repetitions_override_runs_every_cell_that_many_times() {
        let text = "name = \"t\"\nclaim = \"H1\"\ntitle = \"t\"\nrepetitions = 1\nmax_repetitions = 5\n[matrix]\nmodel = [\"tokio\"]\nconcurrency = [4, 40]\n[[verdict]]\ntext = \"r\"\nmetric = \"throughput_rps\"\nfilter = { concurrency = 40 }\ncompare = \">=\"\nthreshold = 2\n";
        let s = parse("t.toml", text, None, false)
            .unwrap()
            .with_repetitions(3);
        // The cell no rule reads too, and nothing adaptive on top.
        let reps: Vec<u32> = expand(&s, MACHINE).iter().map(|c| c.repetitions).collect();
        assert_eq!(reps, vec![3, 3]);
        assert_eq!(s.max_repetitions, 3);
    }

    #[test]
    fn order_interleaves_repetitions_and_is_deterministic() {
        let s = spec("model = [\"tokio\", \"smol\", \"threads\"]\nconcurrency = [1, 2]");
        let cells = expand(&s, MACHINE);
        let a = order(&cells, 7);
        assert_eq!(a, order(&cells, 7));
        assert_ne!(a, order(&cells, 8));
        assert_eq!(a.len(), cells.len() * 3);
        for (i, slot) in a.iter().enumerate() {
            assert_eq!(slot.repetition as usize, i / cells.len(), "round by round");
        }
    }
}
