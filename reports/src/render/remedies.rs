//! Per claim, each failing side of an experiment with its measured cause
//! and the remedy's own result: "fastapi: not supported: the offloaded CPU
//! work still holds the GIL" and "ProcessPoolExecutor: light-request
//! latency p99, inline over process-pool: 12.3×, wanted ≥ 5×: supported".
//! A remedy experiment names what it remedies in its spec's `remedies`
//! (`threadloop_vocab::remedy::Remedy`); the link is made here, from the
//! analysis, and the remedy's verdict is its own rules' combined verdict.

use crate::analysis::{Analysis, Experiment};
use crate::render::anchor;
use crate::render::reading::headline;
use crate::verdict::{combine, RuleOutcome, Verdict};
use serde::Serialize;

/// One failing side and what remedies it.
#[derive(Debug, Clone, Serialize)]
pub struct RemedyLine {
    /// `fastapi: not supported: the offloaded CPU work still holds the GIL`.
    pub cause: String,
    /// `ProcessPoolExecutor: …: supported`; `None` when no experiment of
    /// the run remedies it.
    pub remedy: Option<String>,
    pub remedy_slug: Option<&'static str>,
    /// The remedy experiment's section.
    pub anchor: Option<String>,
}

/// An experiment's verdict on one model's checks (every rule's checks of
/// that model, judged as the rule judges them); `None` when no rule reads it.
fn side_verdict(e: &Experiment, model: &str) -> Option<Verdict> {
    let mine: Vec<Verdict> = e
        .rules
        .iter()
        .flat_map(|r| r.by_model())
        .filter(|m| m.model == model)
        .map(|m| m.verdict)
        .collect();
    (!mine.is_empty()).then(|| combine(&mine))
}

/// The rule an experiment's verdict rests on: the first not supported, else
/// the first inconclusive, else the first.
fn deciding(e: &Experiment) -> Option<&RuleOutcome> {
    e.rules
        .iter()
        .find(|r| r.verdict == Verdict::NotSupported)
        .or_else(|| e.rules.iter().find(|r| r.verdict == Verdict::Inconclusive))
        .or_else(|| e.rules.first())
}

/// The lines of claim `claim`: for each of its experiments that a remedy
/// experiment names, the named side (or every model whose checks are not
/// supported) with the cause, and the remedy's verdict and effect.
pub fn remedy_lines(analysis: &Analysis, claim: &str) -> Vec<RemedyLine> {
    let mut out = Vec::new();
    for remedied in analysis
        .experiments
        .iter()
        .filter(|e| e.claim.as_deref() == Some(claim))
    {
        for fix in analysis.experiments.iter().filter(|r| {
            r.remedies
                .as_ref()
                .is_some_and(|m| m.experiment == remedied.name)
        }) {
            let link = fix.remedies.as_ref().expect("filtered on it");
            let sides: Vec<(String, Verdict)> = match &link.model {
                Some(m) => vec![(
                    m.clone(),
                    side_verdict(remedied, m).unwrap_or(Verdict::NotRun),
                )],
                None => {
                    let mut failing: Vec<(String, Verdict)> = Vec::new();
                    for m in remedied.rules.iter().flat_map(|r| r.by_model()) {
                        if failing.iter().any(|(f, _)| *f == m.model) {
                            continue;
                        }
                        let v = side_verdict(remedied, &m.model).unwrap_or(Verdict::NotRun);
                        if v == Verdict::NotSupported {
                            failing.push((m.model.clone(), v));
                        }
                    }
                    if failing.is_empty() {
                        let all =
                            combine(&remedied.rules.iter().map(|r| r.verdict).collect::<Vec<_>>());
                        failing.push((remedied.name.clone(), all));
                    }
                    failing
                }
            };
            let own = combine(&fix.rules.iter().map(|r| r.verdict).collect::<Vec<_>>());
            let cells = analysis.experiment_cells(fix);
            let effect = deciding(fix).and_then(|r| headline(r, &cells));
            let name = link.name.clone().unwrap_or_else(|| fix.name.clone());
            let remedy = match effect {
                Some(effect) => format!("{name}: {effect}: {}", own.as_str()),
                None => format!("{name}: {}", own.as_str()),
            };
            for (side, verdict) in sides {
                out.push(RemedyLine {
                    cause: format!("{side}: {}: {}", verdict.as_str(), link.cause.trim()),
                    remedy: Some(remedy.clone()),
                    remedy_slug: Some(own.slug()),
                    anchor: Some(anchor(fix)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::load::load_run;
    use threadloop_test_support::{write_fixture, FixtureOptions};
    use threadloop_vocab::remedy::Remedy;

    fn fixture(tag: &str) -> crate::load::Run {
        let dir =
            std::env::temp_dir().join(format!("threadloop-remedy-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_fixture(&dir, &FixtureOptions::default()).unwrap();
        let run = load_run(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        run
    }

    #[test]
    fn a_remedy_names_the_cause_and_prints_its_own_verdict_and_effect() {
        let plain = analyse(fixture("plain"));
        // Without a remedy experiment, no line.
        for c in &plain.claims {
            assert!(remedy_lines(&plain, &c.id).is_empty(), "{}", c.id);
        }
        // The fixture's h1-pool experiment remedies h5-cpu (a stand-in: any
        // experiment of another claim can be named).
        let mut run = fixture("linked");
        let h5 = run
            .manifest
            .experiments
            .iter()
            .find(|e| e.name == "h5-cpu")
            .map(|e| e.claim.clone())
            .expect("the fixture has h5-cpu");
        let fix = run
            .manifest
            .experiments
            .iter_mut()
            .find(|e| e.name == "h1-pool")
            .unwrap();
        fix.remedies = Some(Remedy {
            experiment: "h5-cpu".into(),
            model: Some("tokio-current".into()),
            cause: "the CPU work runs on the loop".into(),
            name: Some("a bigger pool".into()),
        });
        let a = analyse(run);
        let lines = remedy_lines(&a, h5.as_deref().unwrap());
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert!(
            line.cause.starts_with("tokio-current: ")
                && line.cause.ends_with(": the CPU work runs on the loop"),
            "{line:?}"
        );
        let h1 = a.experiments.iter().find(|e| e.name == "h1-pool").unwrap();
        let own = combine(&h1.rules.iter().map(|r| r.verdict).collect::<Vec<_>>());
        let remedy = line.remedy.as_deref().unwrap();
        assert!(remedy.starts_with("a bigger pool: "), "{remedy}");
        assert!(remedy.ends_with(&format!(": {}", own.as_str())), "{remedy}");
        assert!(remedy.contains("wanted"), "{remedy}");
        assert_eq!(line.anchor.as_deref(), Some("exp-h1-pool"));
    }
}
