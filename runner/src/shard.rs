//! `runner run --shard I/N`: a deterministic 1/N of the cells, so that N
//! machines (a CI matrix, a Kubernetes Indexed Job) run one catalogue between
//! them and `runner merge` joins the shard directories into one run.
//!
//! Whole cells are assigned (every repetition of a cell runs in the same
//! shard, so its repetitions share a machine). Within an experiment, cell `k`
//! of the expanded matrix order goes to shard `(k + offset) mod N`, where
//! `offset` is an FNV-1a hash of the experiment's name: each experiment is
//! split as evenly as its cell count allows (its cells share warm-up and
//! window, so count is time), and the rotating offset spreads the remainders
//! of different experiments over different shards. The assignment depends on
//! the spec alone (not on the machine, the seed or the other specs of the
//! run), so it is the same on every machine that runs the same specs.

use crate::plan::PlannedCell;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Shard `index` (1-based) of `count`.
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
pub fn parse(s: &str) -> Result<Shard, String> {
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

/// FNV-1a, 64-bit: stable across Rust versions and machines.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The shard (1-based) of the cell at `position` in its experiment's
/// expanded order.
pub fn shard_of(experiment: &str, position: usize, count: u32) -> u32 {
    let offset = fnv1a(experiment.as_bytes()) % count as u64;
    ((position as u64 + offset) % count as u64) as u32 + 1
}

/// The cells of `shard`, in their order; `None` keeps every cell. `cells` is
/// the full expansion of one or more experiments (`plan::expand`): positions
/// are counted per experiment, so one spec's list or the concatenation of
/// several give the same selection. Not idempotent: select from the full
/// expansion, never from an already selected list.
pub fn select(cells: Vec<PlannedCell>, shard: Option<Shard>) -> Vec<PlannedCell> {
    let Some(shard) = shard else {
        return cells;
    };
    let mut position: HashMap<String, usize> = HashMap::new();
    cells
        .into_iter()
        .filter(|c| {
            let p = position.entry(c.experiment.clone()).or_default();
            let k = *p;
            *p += 1;
            shard_of(&c.experiment, k, shard.count) == shard.index
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{expand, Machine};
    use crate::spec::parse as parse_spec;

    const MACHINE: Machine = Machine {
        cores: 2,
        cpu_iters_per_ms: 1000.0,
    };

    fn cells(name: &str, matrix: &str) -> Vec<PlannedCell> {
        let text =
            format!("name = \"{name}\"\nclaim = \"H1\"\ntitle = \"t\"\n[matrix]\n{matrix}\n");
        expand(&parse_spec("t.toml", &text, None, false).unwrap(), MACHINE)
    }

    /// Three experiments of 6, 35 and 8 cells.
    fn catalogue() -> Vec<PlannedCell> {
        let mut all = cells(
            "small",
            "model = [\"tokio\", \"smol\", \"threads\"]\nconcurrency = [2, 4]",
        );
        all.extend(cells(
            "large",
            "model = [\"tokio\", \"smol\", \"threads\", \"async-std\", \"tokio-current\"]\nconcurrency = [1, 2, 4, 8, 16, 32, 64]",
        ));
        all.extend(cells(
            "pool",
            "model = [\"threads\"]\nthreads = [1, 2, 4, 8, 16, 32, 64, 128]\nconcurrency = [100]",
        ));
        all
    }

    fn key(c: &PlannedCell) -> (String, String) {
        (c.experiment.clone(), c.id.clone())
    }

    #[test]
    fn parses_i_of_n_and_explains_bad_input() {
        assert_eq!(parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(parse("1/1"), Ok(Shard { index: 1, count: 1 }));
        assert_eq!(parse("2/3").unwrap().to_string(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", "-1/3", "", "1/2/3"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected I/N"), "{bad}: {e}");
        }
        assert!(parse("4/3").unwrap_err().contains("between 1 and 3"));
        assert!(parse("1/0").unwrap_err().contains("at least 1"));
    }

    #[test]
    fn every_cell_is_in_exactly_one_shard() {
        let all = catalogue();
        assert_eq!(all.len(), 6 + 35 + 8);
        for n in 1..=7 {
            let mut seen: HashMap<(String, String), u32> = HashMap::new();
            for i in 1..=n {
                for c in select(all.clone(), Some(Shard { index: i, count: n })) {
                    assert!(
                        seen.insert(key(&c), i).is_none(),
                        "{:?} in two shards of {n}",
                        key(&c)
                    );
                }
            }
            assert_eq!(seen.len(), all.len(), "every cell in some shard of {n}");
        }
        assert_eq!(select(all.clone(), None), all);
    }

    #[test]
    fn shards_are_balanced_per_experiment_and_overall() {
        let all = catalogue();
        for n in 2..=5u32 {
            let shards: Vec<Vec<PlannedCell>> = (1..=n)
                .map(|i| select(all.clone(), Some(Shard { index: i, count: n })))
                .collect();
            for exp in ["small", "large", "pool"] {
                let sizes: Vec<usize> = shards
                    .iter()
                    .map(|s| s.iter().filter(|c| c.experiment == exp).count())
                    .collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{exp} over {n} shards: {sizes:?}");
            }
            let sizes: Vec<usize> = shards.iter().map(Vec::len).collect();
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 3, "{n} shards: {sizes:?}");
        }
    }

    #[test]
    fn selection_depends_on_the_spec_only() {
        let all = catalogue();
        let s = Some(Shard { index: 2, count: 3 });
        // One experiment alone or among others: the same cells.
        let alone = select(
            all.iter()
                .filter(|c| c.experiment == "large")
                .cloned()
                .collect(),
            s,
        );
        let among: Vec<PlannedCell> = select(all.clone(), s)
            .into_iter()
            .filter(|c| c.experiment == "large")
            .collect();
        assert_eq!(alone, among);
        // Fixed values: a change here reshuffles every sharded catalogue.
        assert_eq!(
            shard_of("pool-saturation", 0, 3),
            1 + (fnv1a(b"pool-saturation") % 3) as u32
        );
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
