//! The spec checker under a fuzzer: the catalogue's own specs, mutated by
//! proptest (bytes deleted, TOML fragments and keys inserted, lines
//! duplicated or swapped), never panic the parser, and every rejection names
//! the file, a line, a column and a key.
//!
//! In `just test` the run is fixed (seeded, 1,500 cases) so CI is
//! deterministic; `just fuzz` runs it for `THREADLOOP_FUZZ_SECS` seconds with
//! fresh seeds.

mod common;
use common::toml_files;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use threadloop_runner::spec;

/// Fragments a mutation inserts: TOML syntax, bad values and the keys the
/// checker knows.
const DICT: &[&str] = &[
    "=",
    " = ",
    "[[",
    "]]",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\"\"\"",
    "'",
    ",",
    "\n",
    "#",
    ".",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999",
    "0.0",
    "true",
    "\"x\"",
    "[]",
    "{}",
    "[matrix]",
    "[load]",
    "[[verdict]]",
    "[[class]]",
    "[profiles.quick]",
    "name",
    "claim",
    "title",
    "repetitions",
    "max_repetitions",
    "budget_s",
    "duration_s",
    "warmup_s",
    "model",
    "threads",
    "workers",
    "concurrency",
    "rate_rps",
    "io",
    "io_latency_ms",
    "cpu_ms",
    "cpu_ratio",
    "offload",
    "pool_threads",
    "client",
    "db_pool",
    "db_query",
    "timeout_ms",
    "mode",
    "arrival",
    "metric",
    "filter",
    "baseline",
    "compare",
    "threshold",
    "weight",
    "\"open\"",
    "\"closed\"",
    "\">=\"",
    "\"~\"",
    "\">=400\"",
    "\"tokio\"",
    "\"postgres\"",
    "\"http\"",
    "\u{e9}",
    "\u{1F600}",
    "\0",
    "\t",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, what: usize },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..DICT.len()).prop_map(|(at, what)| Mutation::Insert { at, what }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// The nearest char boundary at or below `at % (len + 1)`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut s = text.to_string();
    match *m {
        Mutation::Delete { at, len } => {
            let a = boundary(&s, at);
            let b = boundary(&s, (a + len).min(s.len()));
            s.replace_range(a..b.max(a), "");
        }
        Mutation::Insert { at, what } => {
            let a = boundary(&s, at);
            s.insert_str(a, DICT[what]);
        }
        Mutation::DuplicateLine { line } => {
            let mut lines: Vec<&str> = s.lines().collect();
            if !lines.is_empty() {
                let i = line % lines.len();
                lines.insert(i, lines[i]);
            }
            s = lines.join("\n");
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = s.lines().collect();
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(a % n, b % n);
            }
            s = lines.join("\n");
        }
        Mutation::Truncate { at } => {
            let a = boundary(&s, at);
            s.truncate(a);
        }
    }
    s
}

/// Every catalogue spec: the seeds the mutations start from.
fn seeds() -> Vec<String> {
    toml_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// One input: no panic, and an error points at `fuzz.toml:LINE:COL` (a
/// key where there is one) or is one of the file-level errors.
fn check(text: &str) -> Result<(), TestCaseError> {
    for profile in [None, Some("quick")] {
        let r = catch_unwind(AssertUnwindSafe(|| {
            spec::parse("fuzz.toml", text, profile, true)
        }));
        let Ok(r) = r else {
            return Err(TestCaseError::fail(format!(
                "the parser panicked on:\n{text}"
            )));
        };
        if let Err(e) = r {
            let m = e.to_string();
            prop_assert!(m.starts_with("fuzz.toml"), "{m}");
            if let spec::SpecError::Invalid { line, column, .. } = e {
                let lines = text.split('\n').count().max(1);
                prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}: {m}");
                prop_assert!(column >= 1, "{m}");
            }
        }
    }
    Ok(())
}

#[test]
fn mutated_specs_never_panic_and_errors_name_a_place() {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..6));
    let secs: Option<u64> = std::env::var("THREADLOOP_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));
    let (mut cases, mut round) = (0u64, 0u64);
    loop {
        let config = Config {
            cases: 1500,
            failure_persistence: None,
            // Fixed in CI (the same inputs on every run); fresh when fuzzing.
            rng_seed: match deadline {
                None => RngSeed::Fixed(0x7EAD_100B),
                Some(_) => RngSeed::Random,
            },
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |(i, ms)| {
            let mut text = seeds[i].clone();
            for m in &ms {
                text = apply(&text, m);
            }
            check(&text)
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        cases += 1500;
        round += 1;
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    eprintln!("{cases} mutated specs in {round} rounds: no panic");
}
