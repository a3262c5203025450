//! The Parquet reader under a fuzzer: the committed baseline's
//! `results.parquet` and `latency.parquet`, corrupted by proptest (bytes
//! flipped, ranges overwritten, the file cut short or grown), are either read
//! or refused with an error naming the file; never a panic.
//!
//! In `just test` the run is fixed (seeded, 300 cases) so CI is
//! deterministic; `just fuzz` runs it for `THREADLOOP_FUZZ_SECS` seconds with
//! fresh seeds.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Corruption {
    Flip {
        at: usize,
        bit: u8,
    },
    Overwrite {
        at: usize,
        bytes: Vec<u8>,
    },
    Truncate {
        at: usize,
    },
    Grow {
        bytes: Vec<u8>,
    },
    /// A little-endian u32 (a length or an offset in the footer) set wild.
    Word {
        at: usize,
        value: u32,
    },
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Corruption::Flip { at, bit }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Corruption::Overwrite { at, bytes }),
        any::<usize>().prop_map(|at| Corruption::Truncate { at }),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(|bytes| Corruption::Grow { bytes }),
        (any::<usize>(), any::<u32>()).prop_map(|(at, value)| Corruption::Word { at, value }),
    ]
}

/// Corruptions land in the footer (the schema and the offsets) half of the
/// time: `near_end` counts back from the end there.
fn apply(data: &mut Vec<u8>, c: &Corruption, near_end: bool) {
    let pos = |at: usize, len: usize| {
        if len == 0 {
            0
        } else if near_end {
            len - 1 - at % len.min(4096)
        } else {
            at % len
        }
    };
    match c {
        Corruption::Flip { at, bit } => {
            let i = pos(*at, data.len());
            if let Some(b) = data.get_mut(i) {
                *b ^= 1 << bit;
            }
        }
        Corruption::Overwrite { at, bytes } => {
            let i = pos(*at, data.len());
            for (k, b) in bytes.iter().enumerate() {
                if let Some(d) = data.get_mut(i + k) {
                    *d = *b;
                }
            }
        }
        Corruption::Truncate { at } => {
            let i = pos(*at, data.len());
            data.truncate(i);
        }
        Corruption::Grow { bytes } => data.extend_from_slice(bytes),
        Corruption::Word { at, value } => {
            let i = pos(*at, data.len().saturating_sub(4));
            if i + 4 <= data.len() {
                data[i..i + 4].copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}

fn baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/baselines/smoke")
}

fn check(dir: &Path) -> Result<(), TestCaseError> {
    let r = catch_unwind(AssertUnwindSafe(|| {
        threadloop_reports::load::load_run(dir).map(threadloop_reports::analysis::analyse)
    }));
    match r {
        Err(_) => Err(TestCaseError::fail("the reader panicked")),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let m = e.to_string();
            prop_assert!(m.contains(".parquet"), "the error names no file: {m}");
            Ok(())
        }
    }
}

#[test]
fn corrupted_parquet_never_panics_the_reader() {
    let base = baseline();
    let results = std::fs::read(base.join("results.parquet")).unwrap();
    let latency = std::fs::read(base.join("latency.parquet")).unwrap();
    let dir = std::env::temp_dir().join(format!("threadloop-fuzz-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let strategy = (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(corruption(), 1..4),
    );
    let secs: Option<u64> = std::env::var("THREADLOOP_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));
    let mut cases = 0u64;
    loop {
        let config = Config {
            cases: 300,
            failure_persistence: None,
            rng_seed: match deadline {
                None => RngSeed::Fixed(0xBA5E_11E0),
                Some(_) => RngSeed::Random,
            },
            ..Config::default()
        };
        let result = TestRunner::new(config).run(&strategy, |(which, near_end, cs)| {
            // One file corrupted, the other intact.
            let (mut bad, good, bad_name, good_name) = if which {
                (
                    results.clone(),
                    &latency,
                    "results.parquet",
                    "latency.parquet",
                )
            } else {
                (
                    latency.clone(),
                    &results,
                    "latency.parquet",
                    "results.parquet",
                )
            };
            for c in &cs {
                apply(&mut bad, c, near_end);
            }
            std::fs::write(dir.join(bad_name), &bad).unwrap();
            std::fs::write(dir.join(good_name), good).unwrap();
            check(&dir)
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        cases += 300;
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{cases} corrupted Parquet files: no panic");
}

/// What the fuzzer found first: one flipped bit (byte 473, bit 2) in a
/// latency.parquet trips an assertion inside polars' page decoder. The
/// report refuses the file with an error naming it instead of crashing.
#[test]
fn a_corrupt_page_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("threadloop-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corrupt");
    std::fs::copy(here.join("latency.parquet"), dir.join("latency.parquet")).unwrap();
    std::fs::copy(
        baseline().join("results.parquet"),
        dir.join("results.parquet"),
    )
    .unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        threadloop_reports::load::load_run(&dir)
    }));
    let _ = std::fs::remove_dir_all(&dir);
    let e = match r {
        Err(_) => panic!("the reader panicked"),
        Ok(Ok(_)) => panic!("a corrupt latency.parquet was read as if whole"),
        Ok(Err(e)) => e.to_string(),
    };
    assert!(e.contains("latency.parquet"), "{e}");
}
