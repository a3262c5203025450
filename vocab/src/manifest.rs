//! `manifest.json`'s shared part, declared once: what the run was (machine,
//! toolchain, seed, calibration) and where a merged run's cells came from.
//! The runner writes it (with its own plan and spec beside it, flattened into
//! the same object); the report reads it. Every field has a default, so an
//! older manifest that lacks one still reads.

use crate::{Calibration, ServerCalibration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The run, its machine and its toolchain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    pub run_id: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub rustc: String,
    /// Versions of the runtimes and measurement crates, from Cargo.lock.
    pub crates: BTreeMap<String, String>,
    pub cpu_model: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub kernel: String,
    pub profile: Option<String>,
    pub seed: u64,
    pub calibration: Calibration,
    /// Each HTTP server's own cost per request, calibrated before its cells
    /// (empty: the run has no HTTP cell, or predates it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerCalibration>,
    pub cells_total: usize,
    pub cells_failed: usize,
    /// Where the cells' kernel memory was read (`None`: a run from before
    /// it was measured).
    pub memory_source: Option<MemorySource>,
}

/// Where a cell's kernel memory (kernel stacks, slab, page tables, socket
/// buffers) is read: a memory cgroup of its own holding only the process
/// under test, or, where the machine has no memory cgroup to make, the
/// whole machine's counters (`/proc/meminfo`, `/proc/net/sockstat`), whose
/// deltas then include every other process's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemorySource {
    /// `memory.kmem.usage_in_bytes` + `memory.kmem.tcp.usage_in_bytes`.
    CgroupV1,
    /// `memory.stat`'s `kernel` (or `kernel_stack + slab + pagetables`) + `sock`.
    CgroupV2,
    /// `KernelStack + SUnreclaim + PageTables` of `/proc/meminfo` and the
    /// TCP pages of `/proc/net/sockstat`: every process's, not the cell's.
    MachineWide,
}

impl MemorySource {
    /// The name as written (`cgroup-v1`, `cgroup-v2`, `machine-wide`).
    pub fn as_str(self) -> &'static str {
        match self {
            MemorySource::CgroupV1 => "cgroup-v1",
            MemorySource::CgroupV2 => "cgroup-v2",
            MemorySource::MachineWide => "machine-wide",
        }
    }
}

impl std::fmt::Display for MemorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shard `index` (1-based) of `count` (`runner run --shard I/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse(s)
    }
}

/// Parses `I/N` (1 ≤ I ≤ N); the clap value parser of `--shard`.
fn parse(s: &str) -> Result<Shard, String> {
    let usage = "expected I/N with 1 <= I <= N, e.g. `--shard 2/3`";
    let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}`: {usage}"))?;
    let num = |v: &str, what: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{s}`: {what} `{v}` is not a whole number; {usage}"))
    };
    let (index, count) = (num(i, "I")?, num(n, "N")?);
    if count == 0 {
        return Err(format!("`{s}`: N must be at least 1; {usage}"));
    }
    if index == 0 || index > count {
        return Err(format!("`{s}`: I must be between 1 and {count}; {usage}"));
    }
    Ok(Shard { index, count })
}

/// One input of `runner merge`: where a merged run's cells were measured.
/// Cells from two inputs ran on two machines (or at two times), so the
/// report does not take a ratio between them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "MergeInputRepr")]
pub struct MergeInput {
    /// The input directory as given to `runner merge`.
    pub dir: String,
    /// The input's `--shard`, if it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// The input manifest's `hostname`, when it records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The cells whose records came from this input, `experiment/cell_id`.
    #[serde(default)]
    pub cells: Vec<String>,
}

impl MergeInput {
    /// An entry of an older manifest: the directory only.
    pub fn dir_only(dir: String) -> Self {
        MergeInput {
            dir,
            ..Default::default()
        }
    }

    /// `shard 2/3 (AMD EPYC 7763, host-a)`, or the directory when the input
    /// was not a shard.
    pub fn label(&self) -> String {
        let name = match self.shard {
            Some(s) => format!("shard {}/{}", s.index, s.count),
            None => self.dir.clone(),
        };
        let machine: Vec<&str> = [self.cpu_model.as_deref(), self.hostname.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if machine.is_empty() {
            name
        } else {
            format!("{name} ({})", machine.join(", "))
        }
    }
}

/// A `merged_from` entry as written: a directory (manifests from before cell
/// origins were recorded), a full entry, or anything else (read as empty).
#[derive(Deserialize)]
#[serde(untagged)]
enum MergeInputRepr {
    Dir(String),
    Full(MergeInputFull),
    Other(#[allow(dead_code)] serde::de::IgnoredAny),
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct MergeInputFull {
    dir: String,
    shard: Option<Shard>,
    cpu_model: Option<String>,
    cores: Option<u32>,
    hostname: Option<String>,
    cells: Vec<String>,
}

impl From<MergeInputRepr> for MergeInput {
    fn from(r: MergeInputRepr) -> Self {
        match r {
            MergeInputRepr::Dir(dir) => MergeInput::dir_only(dir),
            MergeInputRepr::Full(f) => MergeInput {
                dir: f.dir,
                shard: f.shard,
                cpu_model: f.cpu_model,
                cores: f.cores,
                hostname: f.hostname,
                cells: f.cells,
            },
            MergeInputRepr::Other(_) => MergeInput::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_manifest_without_the_newer_fields_reads() {
        let info: RunInfo = serde_json::from_str(r#"{"run_id": "r", "cores": 2}"#).unwrap();
        assert_eq!((info.run_id.as_str(), info.cores, info.seed), ("r", 2, 0));
        let inputs: Vec<MergeInput> = serde_json::from_str(
            r#"["shards/1", {"dir": "shards/2", "shard": {"index": 2, "count": 2}}, 7]"#,
        )
        .unwrap();
        assert_eq!(inputs[0], MergeInput::dir_only("shards/1".into()));
        assert_eq!(inputs[1].label(), "shard 2/2");
        assert_eq!(inputs[2], MergeInput::default());
        assert_eq!(info.memory_source, None);
    }

    #[test]
    fn the_memory_source_is_written_by_its_name() {
        for m in [
            MemorySource::CgroupV1,
            MemorySource::CgroupV2,
            MemorySource::MachineWide,
        ] {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{m}\""));
            assert_eq!(serde_json::from_str::<MemorySource>(&json).unwrap(), m);
        }
    }
}
