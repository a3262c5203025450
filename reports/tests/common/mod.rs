//! Helpers shared by the reports crate's integration tests.

use std::path::{Path, PathBuf};
use threadloop_test_support::{write_fixture, FixtureOptions};

/// A fresh, empty temporary directory for one test.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "threadloop-reports-{}-{}",
        name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixture run `run_id` under `root/runs/`, throughput × `scale`.
#[allow(dead_code)]
pub fn fixture(root: &Path, run_id: &str, scale: f64) -> PathBuf {
    let dir = root.join("runs").join(run_id);
    write_fixture(
        &dir,
        &FixtureOptions {
            run_id: run_id.into(),
            throughput_scale: scale,
        },
    )
    .unwrap();
    dir
}
