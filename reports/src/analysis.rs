//! The analysis stage: a loaded run becomes cells, evaluated rules and
//! claim verdicts. It knows nothing of HTML or Markdown; [`crate::render`]
//! turns an [`Analysis`] into files.

use crate::load::{Run, RunDescription};
use crate::stats::{cells, Failure, MeasuredCell};
use crate::verdict::{combine, evaluate, malformed, RuleOutcome, Verdict};
use threadloop_vocab::claim::CLAIMS;
use threadloop_vocab::remedy::Remedy;
use threadloop_vocab::schema::cols;

/// One experiment of the run with its evaluated rules.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub claim: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub file: Option<String>,
    pub rules: Vec<RuleOutcome>,
    /// Indices into [`Analysis::cells`].
    pub cells: Vec<usize>,
    /// A remedy experiment: what it remedies, and the measured cause.
    pub remedies: Option<Remedy>,
    /// Its spec's `max_repetitions` (at least `repetitions`), if known.
    pub max_repetitions: Option<u32>,
}

/// A claim's verdict over all its experiments' rules.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub summary: String,
    pub verdict: Verdict,
    pub experiments: Vec<String>,
    /// The rule that decides the verdict (first not supported, else first
    /// inconclusive, else first rule).
    pub deciding: Option<RuleOutcome>,
    pub reason: Option<String>,
}

/// Everything the outputs need.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub run: Run,
    pub cells: Vec<MeasuredCell>,
    pub experiments: Vec<Experiment>,
    pub claims: Vec<Claim>,
    pub failures: Vec<Failure>,
}

impl Analysis {
    pub fn manifest(&self) -> &RunDescription {
        &self.run.manifest
    }
    pub fn experiment_cells(&self, e: &Experiment) -> Vec<&MeasuredCell> {
        e.cells.iter().map(|&i| &self.cells[i]).collect()
    }
}

/// Aggregates cells, evaluates every experiment's rules and every claim.
pub fn analyse(run: Run) -> Analysis {
    let cells = cells(&run.rows);
    let mut experiments: Vec<Experiment> = run
        .manifest
        .experiments
        .iter()
        .map(|m| Experiment {
            name: m.name.clone(),
            claim: m.claim.clone(),
            title: m.title.clone().unwrap_or_else(|| m.name.clone()),
            description: m.description.clone(),
            file: m.file.clone(),
            rules: Vec::new(),
            cells: Vec::new(),
            remedies: m.remedies.clone(),
            max_repetitions: m.max_repetitions,
        })
        .collect();
    for (i, cell) in cells.iter().enumerate() {
        let pos = match experiments.iter().position(|e| e.name == cell.experiment) {
            Some(p) => p,
            None => {
                // An experiment in the results but not in the manifest.
                let row = &cell.first_row;
                experiments.push(Experiment {
                    name: cell.experiment.clone(),
                    claim: row.str(cols::claim).map(str::to_string),
                    title: row
                        .str(cols::title)
                        .map(str::to_string)
                        .unwrap_or_else(|| cell.experiment.clone()),
                    description: None,
                    file: None,
                    rules: Vec::new(),
                    cells: Vec::new(),
                    remedies: None,
                    max_repetitions: None,
                });
                experiments.len() - 1
            }
        };
        experiments[pos].cells.push(i);
    }
    for e in &mut experiments {
        e.cells.sort_by(|&a, &b| cell_order(&cells[a], &cells[b]));
    }
    for (e, m) in experiments.iter_mut().zip(run.manifest.experiments.iter()) {
        let own: Vec<&MeasuredCell> = e.cells.iter().map(|&i| &cells[i]).collect();
        e.rules = m
            .rules
            .iter()
            .map(|rule| match rule {
                Ok(rule) => evaluate(&e.name, rule, &own),
                Err(bad) => malformed(&e.name, bad),
            })
            .collect();
    }
    across_machines(&mut experiments, &cells, &run.manifest);
    let mut claim_ids: Vec<(String, String)> = CLAIMS
        .iter()
        .map(|c| (c.id.to_string(), c.summary.to_string()))
        .collect();
    for e in &experiments {
        if let Some(c) = &e.claim {
            // A claim outside H1..H10 (e.g. "calibration") is described by
            // its experiments' titles.
            match claim_ids.iter_mut().find(|(id, _)| id == c) {
                Some((_, summary)) if summary.is_empty() || !CLAIMS.iter().any(|h| h.id == c) => {
                    if !summary.is_empty() {
                        summary.push_str("; ");
                    }
                    summary.push_str(&e.title);
                }
                Some(_) => {}
                None => claim_ids.push((c.clone(), e.title.clone())),
            }
        }
    }
    let claims = claim_ids
        .into_iter()
        .map(|(id, summary)| claim(&id, summary, &experiments))
        .collect();
    let failures = cells.iter().flat_map(|c| c.failures.clone()).collect();
    Analysis {
        run,
        cells,
        experiments,
        claims,
        failures,
    }
}

/// A merged run's cells come from several machines (`runner merge` records
/// which input measured each): a ratio between a cell and a baseline cell
/// from different inputs measures the machines as much as the models, so a
/// rule with such a check is inconclusive, whatever its interval says.
/// `runner run --shard` keeps the cells a rule compares in one shard; this
/// catches merges of shards that were not split that way.
fn across_machines(
    experiments: &mut [Experiment],
    cells: &[MeasuredCell],
    manifest: &RunDescription,
) {
    let origins = manifest.cell_origins();
    if origins.is_empty() {
        return;
    }
    let label = |inputs: &Vec<usize>| -> String {
        inputs
            .iter()
            .map(|&i| manifest.merged_from[i].label())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    for e in experiments {
        // A class row was measured with its cell.
        let origin = |cell: &str| {
            let measured = e.cells.iter().map(|&i| &cells[i]).find(|c| c.cell == cell);
            let id = measured.map_or(cell, MeasuredCell::planned_cell);
            origins.get(&format!("{}/{id}", e.name))
        };
        for rule in &mut e.rules {
            let split = rule.checks.iter().find_map(|c| {
                let base = c.baseline_cell.as_deref()?;
                let (a, b) = (origin(&c.cell)?, origin(base)?);
                (a != b).then(|| (c.cell.clone(), a, base.to_string(), b))
            });
            if let Some((cell, a, base, b)) = split {
                rule.verdict = Verdict::Inconclusive;
                rule.reason = Some(format!(
                    "compares cells measured on different machines: {cell} ({}) vs {base} ({})",
                    label(a),
                    label(b)
                ));
            }
        }
    }
}

/// Table order: model (in the report's model order), then each factor
/// (numbers numerically), then cell id.
fn cell_order(a: &MeasuredCell, b: &MeasuredCell) -> std::cmp::Ordering {
    use crate::load::Value;
    let rank = crate::stats::model_rank;
    let mut ord = rank(&a.model)
        .cmp(&rank(&b.model))
        .then(a.model.cmp(&b.model));
    for f in crate::stats::FACTORS.iter() {
        ord = ord.then_with(|| match (a.factor(f), b.factor(f)) {
            (Value::Num(x), Value::Num(y)) => x.total_cmp(y),
            (x, y) => x.display().cmp(&y.display()),
        });
    }
    ord.then_with(|| a.cell.cmp(&b.cell))
}

fn claim(id: &str, summary: String, experiments: &[Experiment]) -> Claim {
    let mine: Vec<&Experiment> = experiments
        .iter()
        .filter(|e| e.claim.as_deref() == Some(id))
        .collect();
    let names = mine.iter().map(|e| e.name.clone()).collect();
    if mine.is_empty() {
        return Claim {
            id: id.into(),
            summary,
            verdict: Verdict::NotRun,
            experiments: names,
            deciding: None,
            reason: Some("no experiment of this run tests it".into()),
        };
    }
    let rules: Vec<&RuleOutcome> = mine.iter().flat_map(|e| e.rules.iter()).collect();
    if rules.is_empty() {
        return Claim {
            id: id.into(),
            summary,
            verdict: Verdict::Inconclusive,
            experiments: names,
            deciding: None,
            reason: Some("its experiments define no verdict rule".into()),
        };
    }
    let verdict = combine(&rules.iter().map(|r| r.verdict).collect::<Vec<_>>());
    let deciding = rules
        .iter()
        .find(|r| r.verdict == Verdict::NotSupported)
        .or_else(|| rules.iter().find(|r| r.verdict == Verdict::Inconclusive))
        .or_else(|| rules.first())
        .map(|r| (*r).clone());
    Claim {
        id: id.into(),
        summary,
        verdict,
        experiments: names,
        reason: deciding.as_ref().and_then(|r| r.reason.clone()),
        deciding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_run;
    use threadloop_test_support::{write_fixture, FixtureOptions};
    use threadloop_vocab::manifest::{MergeInput, Shard};

    fn fixture_run(tag: &str) -> Run {
        let dir =
            std::env::temp_dir().join(format!("threadloop-report-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_fixture(&dir, &FixtureOptions::default()).unwrap();
        let run = load_run(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        run
    }

    fn shard(index: u32, cpu: &str, cells: Vec<String>) -> MergeInput {
        MergeInput {
            dir: format!("shards/{index}"),
            shard: Some(Shard { index, count: 2 }),
            cpu_model: Some(cpu.into()),
            cells,
            ..Default::default()
        }
    }

    fn rule<'a>(a: &'a Analysis, experiment: &str, text: &str) -> &'a RuleOutcome {
        a.experiments
            .iter()
            .find(|e| e.name == experiment)
            .unwrap()
            .rules
            .iter()
            .find(|r| r.text.starts_with(text))
            .unwrap()
    }

    /// Every cell of the fixture, `experiment/cell`, split by `on_two`.
    fn split(run: &Run, on_two: impl Fn(&str, &str) -> bool) -> (Vec<String>, Vec<String>) {
        let mut keys: Vec<(String, String)> = run
            .rows
            .iter()
            .map(|r| (r.text("experiment"), r.text("cell")))
            .collect();
        keys.sort();
        keys.dedup();
        let (two, one): (Vec<_>, Vec<_>) = keys.into_iter().partition(|(e, c)| on_two(e, c));
        let key =
            |v: Vec<(String, String)>| v.into_iter().map(|(e, c)| format!("{e}/{c}")).collect();
        (key(one), key(two))
    }

    #[test]
    fn a_ratio_across_machines_is_inconclusive() {
        let plain = analyse(fixture_run("plain"));
        let async_rule = "every async model exceeds threads";
        let before = rule(&plain, "h1-pool", async_rule).clone();
        assert!(before.checks.iter().any(|c| c.baseline_cell.is_some()));
        assert!(!before
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("different machines"));

        // The threads cells on another machine than tokio and smol.
        let mut run = fixture_run("split");
        let (one, two) = split(&run, |e, c| e == "h1-pool" && c.starts_with("threads"));
        run.manifest.merged_from = vec![shard(1, "CPU A", one), shard(2, "CPU B", two)];
        let a = analyse(run);
        let r = rule(&a, "h1-pool", async_rule);
        assert_eq!(r.verdict, Verdict::Inconclusive);
        let reason = r.reason.as_deref().unwrap();
        assert!(
            reason.starts_with("compares cells measured on different machines: "),
            "{reason}"
        );
        assert!(
            reason.contains("(shard 1/2 (CPU A)) vs threads-")
                && reason.ends_with("(shard 2/2 (CPU B))"),
            "{reason}"
        );
        // The checks are kept: the numbers are still shown.
        assert_eq!(r.checks, before.checks);
        // A rule without a baseline, and a ratio within one machine: as before.
        for (exp, text) in [
            ("h1-pool", "threads throughput"),
            ("h5-cpu", "p99 with inline"),
        ] {
            assert_eq!(rule(&a, exp, text), rule(&plain, exp, text), "{exp}");
        }
        // The claim inherits the reason.
        let h1 = a.claims.iter().find(|c| c.id == "H1").unwrap();
        assert_eq!(h1.verdict, Verdict::Inconclusive);

        // Every cell on one machine: nothing changes.
        let mut run = fixture_run("together");
        let (one, two) = split(&run, |_, _| false);
        assert!(two.is_empty());
        run.manifest.merged_from = vec![shard(1, "CPU A", one), shard(2, "CPU A", vec![])];
        let a = analyse(run);
        assert_eq!(rule(&a, "h1-pool", async_rule), &before);
    }
}
