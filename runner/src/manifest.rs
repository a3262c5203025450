//! `manifest.json`: everything needed to know what a run was and to resume it.

use crate::planned::PlannedCell;
use crate::spec::ExperimentSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use threadloop_vocab::manifest::{MergeInput, RunInfo, Shard};

/// One experiment of the run: its spec and the cells planned from it. Its
/// `[[verdict]]` rules are written once, typed, in `spec.verdict`, where the
/// report reads them (a manifest from before also wrote a copy here, as
/// `verdict`: it is ignored on reading).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestExperiment {
    pub file: String,
    pub name: String,
    pub claim: String,
    pub title: String,
    pub description: Option<String>,
    pub spec: ExperimentSpec,
    pub cells: Vec<PlannedCell>,
}

/// `manifest.json` as the runner writes and `--resume` reads it: the shared
/// part ([`RunInfo`], which the report reads too) flattened beside what only
/// the runner needs (each experiment's spec and planned cells, the shard,
/// the budget).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub run: RunInfo,
    /// OS limits that bound how many threads a cell can start.
    pub limits: BTreeMap<String, String>,
    pub command: Vec<String>,
    /// `http` runs: what the downstream API counted (requests, delay accuracy, CPU).
    #[serde(default)]
    pub downstream: Option<serde_json::Value>,
    /// `postgres` runs: the server (backend, image and digest, version,
    /// settings such as fsync, start-up time, restarts).
    #[serde(default)]
    pub postgres: Option<crate::postgres::PgInfo>,
    pub experiments: Vec<ManifestExperiment>,
    /// `runner run --shard I/N`: this run holds only that shard's cells
    /// (`experiments[*].cells`); `--resume` finishes the same shard.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// `runner merge`: the inputs this run was merged from, each with the
    /// machine it ran on and the cells it measured (older manifests list
    /// the directories only; those still read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergeInput>,
    /// Repetitions added beyond the plan because a rule was undecided
    /// (`crate::adaptive`), each with the rule and interval that asked.
    #[serde(default)]
    pub extra_repetitions: Vec<ExtraRepetition>,
    /// The run's time budget in seconds (`runner run --budget`), if any:
    /// adaptive repetitions stop where the next one would overrun it.
    #[serde(default)]
    pub budget_s: Option<f64>,
}

/// One repetition added beyond the plan (`crate::adaptive`), and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraRepetition {
    pub experiment: String,
    pub cell: String,
    pub repetition: u32,
    /// The rule that asked, with its interval then:
    /// `"…" is undecided: 4.7× [3.1, 7.0] (n = 2 vs 2, Welch t on logs (df 1.6))`.
    pub why: String,
}

const CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "async-executor",
    "hdrhistogram",
    "polars",
    "crossbeam-channel",
];

pub fn crate_versions() -> BTreeMap<String, String> {
    let lock: toml::Table = toml::from_str(include_str!("../../Cargo.lock")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for p in lock
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        let name = p.get("name").and_then(|v| v.as_str()).unwrap_or("");
        if CRATES.contains(&name) {
            if let Some(v) = p.get("version").and_then(|v| v.as_str()) {
                out.insert(name.to_string(), v.to_string());
            }
        }
    }
    out
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn git(args: &[&str]) -> Option<String> {
    let o = std::process::Command::new("git").args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The machine and build this run executes on.
pub struct Environment {
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub cpu_model: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub kernel: String,
    pub limits: BTreeMap<String, String>,
}

pub fn environment() -> Environment {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    let mut limits = BTreeMap::new();
    for (k, p) in [
        ("threads-max", "/proc/sys/kernel/threads-max"),
        ("pid_max", "/proc/sys/kernel/pid_max"),
        ("max_map_count", "/proc/sys/vm/max_map_count"),
    ] {
        limits.insert(k.to_string(), read(p));
    }
    // SAFETY: getrlimit fills a plain struct.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut rl) } == 0 {
        let v = if rl.rlim_cur == libc::RLIM_INFINITY {
            "unlimited".into()
        } else {
            rl.rlim_cur.to_string()
        };
        limits.insert("ulimit -u".into(), v);
    }
    Environment {
        git_commit: git(&["rev-parse", "HEAD"]),
        git_dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        memory_bytes,
        kernel: read("/proc/sys/kernel/osrelease"),
        limits,
    }
}

/// The command line as recorded: a password in a `--pg-url` (URL
/// `user:PASSWORD@` or keyword `password=PASSWORD`) is replaced by `***`,
/// since the manifest travels with the results.
pub fn redacted_command(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter().map(|a| redact(&a)).collect()
}

fn redact(arg: &str) -> String {
    let mut out = arg.to_string();
    // URL form: scheme://user:password@host
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        if let Some(at) = rest.find('@') {
            if let Some(colon) = rest[..at].find(':') {
                let (a, b) = (scheme_end + 3 + colon + 1, scheme_end + 3 + at);
                out.replace_range(a..b, "***");
            }
        }
    }
    // Keyword form: password=VALUE (up to the next space), wherever it sits.
    let mut from = 0;
    while let Some(i) = out[from..].find("password=") {
        let start = from + i + "password=".len();
        let end = out[start..]
            .find([' ', '&'])
            .map_or(out.len(), |n| start + n);
        out.replace_range(start..end, "***");
        from = start + 3;
    }
    out
}

#[cfg(test)]
mod redact_tests {
    use super::redacted_command;

    #[test]
    fn passwords_never_reach_the_manifest() {
        let args = [
            "runner",
            "run",
            "--pg-url",
            "postgres://bench:s3cret@127.0.0.1:5432/bench",
            "--pg-url=host=h port=1 password=s3cret user=u",
            "postgres://bench@h/db?password=s3cret&x=1",
            "experiments/c10k.toml",
        ]
        .map(String::from);
        let out = redacted_command(args);
        assert!(out.iter().all(|a| !a.contains("s3cret")), "{out:?}");
        assert_eq!(out[3], "postgres://bench:***@127.0.0.1:5432/bench");
        assert_eq!(out[4], "--pg-url=host=h port=1 password=*** user=u");
        assert_eq!(out[5], "postgres://bench@h/db?password=***&x=1");
        assert_eq!(out[6], "experiments/c10k.toml");
    }
}
