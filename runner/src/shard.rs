//! `runner run --shard I/N`: a deterministic 1/N of the cells, so that N
//! machines (a CI matrix, a Kubernetes Indexed Job) run one catalogue between
//! them and `runner merge` joins the shard directories into one run.
//!
//! **Cells that a rule compares stay together.** A `[[verdict]]` rule with a
//! `baseline` divides a cell's metric by a baseline cell's (tokio over
//! threads): measured on two machines, that ratio compares the machines as
//! much as the models. So within an experiment the cells are first joined
//! into groups (a union-find): for each rule with a baseline, every cell its
//! `filter` could match and every cell its `baseline` could match form one
//! group. This is deliberately coarser than the report's pairing (which also
//! requires a baseline cell to agree with the cell on the unnamed factors):
//! it depends only on filter matching, so it cannot split a pair the report
//! compares, whatever refinements the pairing gets. A rule without a
//! baseline compares nothing and joins nothing. Filters are evaluated on the
//! columns the plan already fixes (the factors `results.parquet` will hold,
//! [`planned_rows`]); a filter on a measured column could match any cell, so
//! it is taken to match.
//!
//! **Whole groups are dealt by estimated time.** Every repetition of a cell
//! runs in the same shard, and so does every cell of a group. Groups are
//! weighed by [`plan::estimate_s`] × repetitions (in whole milliseconds, so
//! the sums are exact) and dealt largest first, each to the least loaded
//! shard; ties between groups go by their first cell's position in the
//! expanded order, ties between shards to the first one at or after an
//! offset taken from an FNV-1a hash of the experiment's name (which spreads
//! the remainders of different experiments over different shards). No shard
//! then holds more than the experiment's total / N plus its largest group.
//!
//! The assignment depends on the spec alone (not on the machine's speed, the
//! seed or the other specs of the run), so every machine given the same spec
//! files and `--profile` computes the same partition. (Cell ids carry
//! `workers` and `pool_threads`, which default to the machine's cores: run
//! the shards on identical machines.)

use crate::plan::{self, PlannedCell};
pub use crate::rows::{could_match, planned_rows};
use crate::spec::{ExperimentSpec, Rule};
use std::collections::HashMap;

pub use threadloop_vocab::manifest::Shard;

/// Parses `I/N` (1 ≤ I ≤ N); the clap value parser of `--shard`.
pub fn parse(s: &str) -> Result<Shard, String> {
    s.parse()
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

/// Union-find over cell indices.
struct Union(Vec<usize>);

impl Union {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut i = i;
        while self.0[i] != r {
            let next = self.0[i];
            self.0[i] = r;
            i = next;
        }
        r
    }
    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        // The smaller index is the root: groups come out in cell order.
        let (lo, hi) = (a.min(b), a.max(b));
        self.0[hi] = lo;
    }
}

/// The groups of one experiment's cells that must share a shard, as indices
/// into `cells`, each in cell order, ordered by their first cell: for every
/// rule with a baseline, the cells its filter could match and the cells its
/// baseline could match (when both exist) are one group; every other cell is
/// a group of its own.
pub fn groups(cells: &[PlannedCell], rules: &[Rule]) -> Vec<Vec<usize>> {
    let mut u = Union((0..cells.len()).collect());
    for rule in rules {
        let Some(baseline) = &rule.baseline else {
            continue;
        };
        let lhs: Vec<usize> = (0..cells.len())
            .filter(|&i| could_match(&cells[i], &rule.filter))
            .collect();
        let rhs: Vec<usize> = (0..cells.len())
            .filter(|&i| could_match(&cells[i], baseline))
            .collect();
        if lhs.is_empty() || rhs.is_empty() {
            continue;
        }
        for &i in lhs.iter().chain(&rhs) {
            u.join(lhs[0], i);
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for i in 0..cells.len() {
        let r = u.find(i);
        let k = *slot.entry(r).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i);
    }
    out
}

/// Estimated wall time of all a cell's repetitions, whole milliseconds.
pub fn weight_ms(c: &PlannedCell) -> u64 {
    (plan::estimate_s(&c.cell) * 1e3).round().max(0.0) as u64 * c.repetitions as u64
}

/// The shard (1-based) of each cell of one experiment, in `cells` order:
/// whole [`groups`], largest first, each to the least loaded shard (ties:
/// the first at or after the experiment's FNV-1a offset).
pub fn partition(cells: &[PlannedCell], rules: &[Rule], count: u32) -> Vec<u32> {
    let n = count.max(1) as usize;
    let mut out = vec![1; cells.len()];
    let Some(first) = cells.first() else {
        return out;
    };
    let offset = (fnv1a(first.experiment.as_bytes()) % n as u64) as usize;
    let mut groups: Vec<(u64, Vec<usize>)> = groups(cells, rules)
        .into_iter()
        .map(|g| (g.iter().map(|&i| weight_ms(&cells[i])).sum(), g))
        .collect();
    // Heaviest first; equal weights in cell order (sort_by is stable).
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let mut load = vec![0u64; n];
    for (w, g) in groups {
        let s = (0..n)
            .map(|k| (offset + k) % n)
            .min_by_key(|&s| load[s])
            .expect("at least one shard");
        load[s] += w;
        for i in g {
            out[i] = s as u32 + 1;
        }
    }
    out
}

/// The cells of `shard`, in their order; `None` keeps every cell. `cells` is
/// the full expansion of one or more experiments (`plan::expand`), each
/// partitioned on its own with `rules(experiment)`, so one spec's list or
/// the concatenation of several give the same selection. Not idempotent:
/// select from the full expansion, never from an already selected list.
pub fn select_by<'a>(
    cells: Vec<PlannedCell>,
    rules: impl Fn(&str) -> &'a [Rule],
    shard: Option<Shard>,
) -> Vec<PlannedCell> {
    let Some(shard) = shard else {
        return cells;
    };
    let mut by_experiment: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        match by_experiment.iter_mut().find(|(e, _)| *e == c.experiment) {
            Some((_, v)) => v.push(i),
            None => by_experiment.push((c.experiment.clone(), vec![i])),
        }
    }
    let mut keep = vec![false; cells.len()];
    for (experiment, idx) in &by_experiment {
        let own: Vec<PlannedCell> = idx.iter().map(|&i| cells[i].clone()).collect();
        for (&i, s) in idx
            .iter()
            .zip(partition(&own, rules(experiment), shard.count))
        {
            keep[i] = s == shard.index;
        }
    }
    cells
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

/// The cells of `shard` among `cells`, the expansion of `spec`: cells its
/// `[[verdict]]` rules compare stay in one shard. What `runner run --shard`
/// and `runner list --shard` should call.
pub fn select_spec(
    spec: &ExperimentSpec,
    cells: Vec<PlannedCell>,
    shard: Option<Shard>,
) -> Vec<PlannedCell> {
    select_by(
        cells,
        |e| {
            if e == spec.name {
                &spec.verdict[..]
            } else {
                &[]
            }
        },
        shard,
    )
}

/// [`select_spec`] without the rules: every cell is a group of its own, so
/// cells a baseline rule compares may land on different machines (the
/// report then calls such a rule inconclusive). Kept for callers that have
/// no spec at hand.
pub fn select(cells: Vec<PlannedCell>, shard: Option<Shard>) -> Vec<PlannedCell> {
    select_by(cells, |_| &[], shard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{expand, Machine};
    use crate::spec::parse as parse_spec;
    use serde_json::json;
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};
    use threadloop_reports::load::Value;

    const MACHINE: Machine = Machine {
        cores: 2,
        cpu_iters_per_ms: 1000.0,
    };

    fn spec(name: &str, body: &str) -> ExperimentSpec {
        let text = format!("name = \"{name}\"\nclaim = \"H1\"\ntitle = \"t\"\n{body}\n");
        parse_spec("t.toml", &text, None, false).unwrap()
    }

    fn cells(name: &str, matrix: &str) -> Vec<PlannedCell> {
        expand(&spec(name, &format!("[matrix]\n{matrix}")), MACHINE)
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

    /// Every spec of `experiments/`, as written and with `--profile quick`.
    fn catalogue_specs() -> Vec<(PathBuf, Option<&'static str>, ExperimentSpec)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        assert!(files.len() >= 10, "the catalogue: {files:?}");
        let mut out = Vec::new();
        for f in files {
            for profile in [None, Some("quick")] {
                let s = crate::spec::load(&f, profile, true)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                out.push((f.clone(), profile, s));
            }
        }
        out
    }

    /// Pairs of cells (indices) that a baseline rule of `spec` compares:
    /// a cell its filter matches and a cell its baseline matches.
    fn connected(spec: &ExperimentSpec, cells: &[PlannedCell]) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        for rule in &spec.verdict {
            let Some(b) = &rule.baseline else { continue };
            for i in (0..cells.len()).filter(|&i| could_match(&cells[i], &rule.filter)) {
                for j in (0..cells.len()).filter(|&j| could_match(&cells[j], b)) {
                    pairs.push((i, j));
                }
            }
        }
        pairs
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
        // Cells of equal estimate and no rules: dealt like cards.
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
        // One group: it goes to the experiment's offset shard.
        let one = cells(
            "pool-saturation",
            "model = [\"threads\"]\nconcurrency = [100]",
        );
        assert_eq!(
            partition(&one, &[], 3),
            vec![1 + (fnv1a(b"pool-saturation") % 3) as u32]
        );
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    /// (a) The same spec, read twice (and planned with another calibration):
    /// the same partition.
    #[test]
    fn partition_is_the_same_for_the_same_spec() {
        let faster = Machine {
            cpu_iters_per_ms: 12345.0,
            ..MACHINE
        };
        let (a, b) = (catalogue_specs(), catalogue_specs());
        for ((file, profile, sa), (_, _, sb)) in a.iter().zip(&b) {
            assert_eq!(sa, sb);
            let (ca, cb) = (expand(sa, MACHINE), expand(sb, faster));
            for n in 1..=4 {
                assert_eq!(
                    partition(&ca, &sa.verdict, n),
                    partition(&cb, &sb.verdict, n),
                    "{} {profile:?} over {n}",
                    file.display()
                );
            }
        }
    }

    /// (b) Every pair of cells a rule compares is in one shard, for every
    /// catalogue spec.
    #[test]
    fn catalogue_rule_pairs_share_a_shard() {
        let mut pairs_seen = 0;
        for (file, profile, s) in catalogue_specs() {
            let cells = expand(&s, MACHINE);
            let pairs = connected(&s, &cells);
            pairs_seen += pairs.len();
            for n in 2..=4 {
                let p = partition(&cells, &s.verdict, n);
                for &(i, j) in &pairs {
                    assert_eq!(
                        p[i],
                        p[j],
                        "{} {profile:?} over {n}: {} and {} are compared by a rule",
                        file.display(),
                        cells[i].id,
                        cells[j].id
                    );
                }
            }
        }
        assert!(pairs_seen > 100, "the catalogue has baseline rules");
    }

    /// (c) The shards together hold every cell exactly once, through
    /// `select_spec` (what `runner run --shard` selects).
    #[test]
    fn catalogue_shards_hold_every_cell_once() {
        for (file, profile, s) in catalogue_specs() {
            let all = expand(&s, MACHINE);
            for n in 2..=4 {
                let mut seen: HashMap<String, u32> = HashMap::new();
                for i in 1..=n {
                    let mine = select_spec(&s, all.clone(), Some(Shard { index: i, count: n }));
                    for c in mine {
                        assert!(
                            seen.insert(c.id.clone(), i).is_none(),
                            "{} {profile:?}: {} in two shards of {n}",
                            file.display(),
                            c.id
                        );
                    }
                }
                assert_eq!(seen.len(), all.len(), "{} {profile:?}", file.display());
            }
            assert_eq!(select_spec(&s, all.clone(), None), all);
        }
    }

    /// (d) No shard holds more than total / N plus the largest group.
    #[test]
    fn catalogue_shards_are_balanced_by_estimated_time() {
        for (file, profile, s) in catalogue_specs() {
            let cells = expand(&s, MACHINE);
            let g = groups(&cells, &s.verdict);
            let weight = |g: &Vec<usize>| -> u64 { g.iter().map(|&i| weight_ms(&cells[i])).sum() };
            let total: u64 = g.iter().map(weight).sum();
            let largest = g.iter().map(weight).max().unwrap_or(0);
            for n in 2..=4u32 {
                let p = partition(&cells, &s.verdict, n);
                let mut load = vec![0u64; n as usize];
                for (i, c) in cells.iter().enumerate() {
                    load[p[i] as usize - 1] += weight_ms(c);
                }
                let cap = total / n as u64 + largest;
                assert!(
                    load.iter().all(|&l| l <= cap),
                    "{} {profile:?} over {n}: {load:?} > {cap} ({} groups, largest {largest})",
                    file.display(),
                    g.len()
                );
                assert_eq!(load.iter().sum::<u64>(), total);
            }
        }
    }

    #[test]
    fn a_baseline_rule_joins_what_it_compares_and_nothing_else() {
        let s = spec(
            "h",
            "[matrix]\nmodel = [\"tokio\", \"threads\", \"smol\"]\nconcurrency = [10, 100, 1000]\n\
             [[verdict]]\ntext = \"t\"\nmetric = \"throughput_rps\"\n\
             filter = { model = \"tokio\", concurrency = \">=100\" }\nbaseline = { model = \"threads\" }\n\
             compare = \">=\"\nthreshold = 2\n\
             [[verdict]]\ntext = \"no baseline\"\nmetric = \"throughput_rps\"\nfilter = {}\n\
             compare = \">=\"\nthreshold = 1\n",
        );
        let cells = expand(&s, MACHINE);
        assert_eq!(cells.len(), 9);
        let g = groups(&cells, &s.verdict);
        let ids =
            |g: &Vec<usize>| -> Vec<&str> { g.iter().map(|&i| cells[i].id.as_str()).collect() };
        // tokio c100, c1000 with every threads cell; the rest alone.
        let big: Vec<&Vec<usize>> = g.iter().filter(|g| g.len() > 1).collect();
        assert_eq!(big.len(), 1, "{g:?}");
        let big = ids(big[0]);
        assert_eq!(big.len(), 2 + 3, "{big:?}");
        assert!(big
            .iter()
            .all(|id| id.starts_with("threads") || !id.contains("-c10-")));
        assert_eq!(g.len(), 1 + 4, "tokio c10 and the three smol cells alone");
        // Without the rules every cell is its own group.
        assert_eq!(groups(&cells, &[]).len(), 9);
        for n in 2..=4 {
            let p = partition(&cells, &s.verdict, n);
            let shards: HashSet<u32> = big_indices(&g).iter().map(|&i| p[i]).collect();
            assert_eq!(shards.len(), 1, "over {n}: {p:?}");
        }
    }

    fn big_indices(g: &[Vec<usize>]) -> Vec<usize> {
        g.iter()
            .filter(|g| g.len() > 1)
            .flatten()
            .copied()
            .collect()
    }

    #[test]
    fn filters_match_like_the_report() {
        let s = spec(
            "mix",
            "[matrix]\nmodel = [\"tokio\", \"threads\"]\nconcurrency = [100, 1000]\n\
             io_latency_ms = [50]\ncpu_ms = [1]\n\
             [[class]]\nname = \"light\"\nweight = 9\ncpu_ms = 0\n\
             [[class]]\nname = \"heavy\"\nweight = 1\n",
        );
        let cells = expand(&s, MACHINE);
        let f = |v: serde_json::Value| -> Vec<&str> {
            let filter: std::collections::BTreeMap<String, serde_json::Value> =
                serde_json::from_value(v).unwrap();
            cells
                .iter()
                .filter(|c| could_match(c, &filter))
                .map(|c| c.id.as_str())
                .collect()
        };
        let n = cells.len();
        assert_eq!(f(json!({})).len(), n);
        assert_eq!(f(json!({"model": "tokio"})).len(), n / 2);
        assert_eq!(f(json!({"model": ["tokio", "threads"]})).len(), n);
        assert_eq!(f(json!({"concurrency": ">=400"})).len(), n / 2);
        assert_eq!(f(json!({"concurrency": 1000})).len(), n / 2);
        assert_eq!(f(json!({"concurrency": "1000"})).len(), n / 2);
        assert_eq!(f(json!({"concurrency": "<100"})).len(), 0);
        assert_eq!(f(json!({"io_latency_ms": 50.0})).len(), n);
        // `threads` does not apply to tokio: null there.
        assert_eq!(f(json!({"threads": null})).len(), n / 2);
        assert_eq!(f(json!({"threads": ">=0"})).len(), n / 2);
        assert_eq!(f(json!({"offload": "inline"})).len(), n / 2);
        // A request mix: rows `all`, `light`, `heavy`; a cell matches when one row does.
        assert_eq!(f(json!({"class": "light"})).len(), n);
        assert_eq!(f(json!({"class": ["all"]})).len(), n);
        assert_eq!(f(json!({"class": "medium"})).len(), 0);
        let light = format!("{}~light", cells[0].id);
        assert_eq!(f(json!({ "cell": light })), vec![cells[0].id.as_str()]);
        assert_eq!(f(json!({"experiment": "mix", "claim": "H1"})).len(), n);
        // A measured column is unknown before the run: it could match.
        assert_eq!(
            f(json!({"fidelity": ">=0.9", "model": "tokio"})).len(),
            n / 2
        );
        assert_eq!(f(json!({"model": {"x": 1}})).len(), 0);
        assert_eq!(f(json!({"model": true})).len(), 0);
    }

    /// `planned_rows` gives what `results.parquet` will hold.
    #[test]
    fn planned_rows_agree_with_results_parquet() {
        use crate::store::{results_frame, CellRecord};
        use polars::prelude::*;
        let mut all = catalogue();
        for (_, _, s) in catalogue_specs() {
            all.extend(expand(&s, MACHINE));
        }
        let records: Vec<CellRecord> = all
            .iter()
            .map(|c| CellRecord {
                experiment: c.experiment.clone(),
                claim: c.claim.clone(),
                title: c.title.clone(),
                cell_id: c.id.clone(),
                repetition: 0,
                started_at: String::new(),
                wall_s: 0.0,
                cell: c.cell.clone(),
                outcome: None,
                error: None,
                skipped: false,
                stall_ms: None,
            })
            .collect();
        let df = results_frame("r", &records).unwrap();
        let mut checked = 0;
        for (i, c) in all.iter().enumerate() {
            let row = &planned_rows(c)[0];
            for (name, want) in row {
                let col = df
                    .column(name)
                    .unwrap_or_else(|_| panic!("`{name}` is not a column of results.parquet"));
                let got = match col.get(i).unwrap() {
                    AnyValue::Null => Value::Null,
                    AnyValue::String(s) => Value::Str(s.to_string()),
                    AnyValue::StringOwned(s) => Value::Str(s.to_string()),
                    AnyValue::Boolean(b) => Value::Bool(b),
                    v => Value::Num(v.extract::<f64>().unwrap()),
                };
                assert_eq!(&got, want, "{} `{name}`", c.id);
                checked += 1;
            }
        }
        assert!(checked > 1000);
    }
}
