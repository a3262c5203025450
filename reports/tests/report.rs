//! End-to-end: a fixture run written with polars → report → snapshots;
//! escaping; the compare gate through the real binary.

mod common;
use common::{fixture, tmp};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::Command;
use threadloop_reports::{analysis, compare, load, render};
use threadloop_test_support::HOSTILE_TITLE;

/// Rounds every float to 6 significant digits so snapshots do not churn on
/// the last bits of a bootstrap.
fn round(v: Json) -> Json {
    match v {
        Json::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            let r: f64 = format!("{:.6e}", x).parse().unwrap();
            serde_json::Number::from_f64(r)
                .map(Json::Number)
                .unwrap_or(Json::Null)
        }
        Json::Array(a) => Json::Array(a.into_iter().map(round).collect()),
        Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, round(v))).collect()),
        other => other,
    }
}

/// Tags, ids and headings of the page, one per line, without the SVG
/// contents or numbers.
fn structure(html: &str) -> String {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        let end = rest.find('>').unwrap_or(rest.len() - 1);
        let tag = &rest[1..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("");
        match name.as_str() {
            "section" | "figure" | "header" | "table" => out.push(format!("<{name} id={id}>")),
            "h1" | "h2" | "h3" => {
                let close = format!("</{name}>");
                let text_end = rest.find(&close).unwrap_or(end);
                let inner = &rest[end + 1..text_end];
                let text = strip_tags(inner);
                out.push(format!("<{name}> {text}"));
            }
            "svg" => out.push("  <svg>".into()),
            _ => {}
        }
        rest = &rest[end + 1..];
    }
    out.join("\n")
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn fixture_report_snapshots_and_escaping() {
    let root = tmp("render");
    let run_dir = fixture(&root, "fixture-run", 1.0);
    let out = root.join("out");
    let analysis = analysis::analyse(load::load_run(&run_dir).unwrap());
    let written = render::write_report(&analysis, &out).unwrap();
    assert_eq!(written.dir, out.join("fixture-run"));
    assert_eq!(
        std::fs::read_link(out.join("latest")).unwrap(),
        PathBuf::from("fixture-run")
    );

    let mut summary: Json =
        serde_json::from_str(&std::fs::read_to_string(&written.summary_json).unwrap()).unwrap();
    // Every field name stays in the snapshot; per cell only two metrics
    // keep their numbers, so the snapshot stays reviewable.
    for cell in summary["cells"].as_array_mut().unwrap() {
        let metrics = cell["metrics"].as_object_mut().unwrap();
        for (name, value) in metrics.iter_mut() {
            if name != "throughput_rps" && name != "latency_p99_ms" {
                *value = Json::String("[redacted]".into());
            }
        }
    }
    insta::assert_snapshot!(
        "summary_json",
        serde_json::to_string_pretty(&round(summary)).unwrap()
    );

    let html = std::fs::read_to_string(&written.index).unwrap();
    insta::assert_snapshot!("html_structure", structure(&html));

    // The hostile title is text, never markup; nothing runs scripts.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains(HOSTILE_TITLE));
    assert!(html.contains("&lt;b&gt;not bold&lt;&#x2F;b&gt;"));
    // Self-contained: no external resources.
    for needle in ["http://", "https://", "<link", "@import", "src="] {
        let hits: Vec<_> = html.match_indices(needle).collect();
        assert!(
            hits.iter().all(|(i, _)| html[..*i].ends_with("xmlns=\"")),
            "external reference {needle}"
        );
    }
    // Every chart has a non-zero size: the generic ones 760 × 400, a
    // rule's headline chart its own.
    let svgs: Vec<&str> = html.split("<svg").skip(1).collect();
    assert!(svgs.len() >= 5, "{} charts", svgs.len());
    for s in &svgs {
        let head = &s[..s.find('>').unwrap()];
        let size = |attr: &str| -> f64 {
            head.split(&format!(" {attr}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        if head.contains("class=\"headline\"") {
            assert!(size("width") >= 560.0 && size("height") > 200.0, "{head}");
        } else {
            assert!(size("width") == 760.0 && size("height") == 400.0, "{head}");
        }
    }
    // Each rule with checks opens its section with a headline chart: the
    // threshold, one error bar per check with an interval.
    for e in &analysis.experiments {
        for (k, r) in e.rules.iter().enumerate() {
            let id = format!("id=\"{}-rule-{}\"", render::slug(&e.name), k + 1);
            if r.checks.is_empty() {
                assert!(!html.contains(&id), "{id}: no checks, no chart");
                continue;
            }
            let start = html.find(&id).unwrap_or_else(|| panic!("no {id}"));
            let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
            assert_eq!(figure.matches("class=\"threshold\"").count(), 1, "{id}");
            let with_ci = r.checks.iter().filter(|c| c.ci_lo.is_some()).count();
            assert_eq!(
                figure.matches("class=\"errorbar\"").count(),
                with_ci,
                "{id}"
            );
            assert_eq!(
                figure.matches("class=\"point\"").count(),
                r.checks.len(),
                "{id}"
            );
            // Before the section's generic charts.
            let section = html.find(&format!("id=\"{}\"", render::anchor(e))).unwrap();
            let generic = html[section..]
                .find("<figure class=\"chart\"")
                .map(|p| p + section);
            assert!(generic.is_none_or(|g| g > start), "{id} comes first");
        }
    }
    // The ratio's baseline is named under its check; the fixture's H1 ratio
    // checks have 3 repetitions, so their intervals show.
    assert!(html.contains("÷ threads</text>"));
    assert!(html.contains("n = 3 vs 3, Welch t on logs"));
    // Wide tables scroll inside their own box, not the page.
    let tables = html.matches("<table class=\"cells wide\">").count();
    assert!(tables > 0);
    assert_eq!(
        html.matches("<div class=\"scroll\"").count(),
        tables
            + usize::from(html.contains("id=\"failed-cells\""))
            // The environment's tables and the rules left undecided.
            + html.matches("class=\"env-table\"").count()
            + usize::from(html.contains("id=\"undecided\"")),
        "every aggregated-numbers table sits in a scroll container"
    );
    let md = std::fs::read_to_string(&written.summary_md).unwrap();
    assert!(md.contains("| H1 | supported |"), "{md}");
    assert!(md.contains("| H5 | not supported |"), "{md}");
    assert!(md.contains("| H4 | inconclusive |"), "{md}");
    assert!(md.contains("| H2 | not run |"), "{md}");
    assert!(!md.contains("<script"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_run_without_manifest_or_spectrum_still_renders() {
    let root = tmp("bare");
    let run_dir = fixture(&root, "fixture-bare", 1.0);
    std::fs::remove_file(run_dir.join("manifest.json")).unwrap();
    std::fs::remove_file(run_dir.join("latency.parquet")).unwrap();
    assert_eq!(load::newest_run(&root.join("runs")).unwrap(), run_dir);
    let analysis = analysis::analyse(load::load_run(&run_dir).unwrap());
    assert_eq!(analysis.run.run_id, "fixture-bare", "run id from the rows");
    assert_eq!(analysis.experiments.len(), 3, "experiments from the rows");
    let h1 = analysis.claims.iter().find(|c| c.id == "H1").unwrap();
    assert_eq!(h1.verdict.as_str(), "inconclusive");
    assert_eq!(
        h1.reason.as_deref(),
        Some("its experiments define no verdict rule")
    );
    let written = render::write_report(&analysis, &root.join("out")).unwrap();
    let html = std::fs::read_to_string(written.index).unwrap();
    assert!(
        !html.contains("-spectrum\""),
        "no spectrum chart without latency.parquet"
    );
    assert!(
        html.contains("&lt;script&gt;"),
        "title from the rows is escaped too"
    );
    assert!(!html.to_ascii_lowercase().contains("<script"));
    let _ = std::fs::remove_dir_all(&root);
}

fn report_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_report"))
}

#[test]
fn cli_renders_and_prints_the_index_path() {
    let root = tmp("cli");
    let run_dir = fixture(&root, "fixture-cli", 1.0);
    let out = root.join("out");
    let o = report_bin()
        .arg(&run_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        printed.trim(),
        out.join("fixture-cli/index.html").display().to_string()
    );
    assert!(out.join("latest/summary.json").is_file());
    let missing = report_bin()
        .arg(root.join("nope"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("error: loading"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn compare_with_itself_has_no_significant_change() {
    let root = tmp("self");
    let run_dir = fixture(&root, "fixture-self", 1.0);
    let out = root.join("out");
    let o = report_bin()
        .args(["compare"])
        .arg(&run_dir)
        .arg(&run_dir)
        .args(["--fail-on-regression", "20", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("0 failing"), "{stdout}");
    assert!(out.join("fixture-self/compare.html").is_file());
    assert!(out.join("fixture-self/compare.md").is_file());

    let a = analysis::analyse(load::load_run(&run_dir).unwrap());
    let cmp = compare::compare(&a, &a, Some(20.0));
    assert_eq!(cmp.rows.len(), a.cells.len());
    assert!(cmp.regressions().is_empty());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_uniformly_slower_machine_passes_the_gate() {
    // Every absolute throughput halved (another machine): the gate reads
    // same-run, dimensionless quantities, so nothing regresses. The
    // doctored sets that must fail are in tests/compare.rs.
    let root = tmp("halved");
    let base = fixture(&root, "fixture-base", 1.0);
    let new = fixture(&root, "fixture-halved", 0.5);
    let out = root.join("out");
    let o = report_bin()
        .arg("compare")
        .arg(&base)
        .arg(&new)
        .args(["--fail-on-regression", "20", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(out.join("fixture-halved/compare.md").is_file());
    let _ = std::fs::remove_dir_all(&root);
}

/// The fixture with its `smol` cells relabelled as a stack's (`fastapi`),
/// rows and rules alike: H1 then has a Rust model and a stack.
#[test]
fn a_claim_with_a_stack_shows_each_side_and_the_side_by_side_table() {
    let root = tmp("sides");
    let run_dir = fixture(&root, "fixture-sides", 1.0);
    let mut run = load::load_run(&run_dir).unwrap();
    let smol = load::Value::Str("smol".into());
    for row in &mut run.rows {
        if row.get("model") == &smol {
            row.values
                .insert("model".into(), load::Value::Str("fastapi".into()));
        }
    }
    fn relabel(v: &mut Json) {
        match v {
            Json::String(s) if s == "smol" => *s = "fastapi".into(),
            Json::Array(items) => items.iter_mut().for_each(relabel),
            Json::Object(map) => map.values_mut().for_each(relabel),
            _ => {}
        }
    }
    for e in &mut run.manifest.experiments {
        for rule in e.rules.iter_mut().flatten() {
            rule.filter.values_mut().for_each(relabel);
            rule.baseline
                .iter_mut()
                .flat_map(|b| b.values_mut())
                .for_each(relabel);
        }
    }
    let analysis = analysis::analyse(run);
    let sides = threadloop_reports::sides::claim_sides(&analysis);
    assert_eq!(
        sides.iter().map(|s| s.claim.as_str()).collect::<Vec<_>>(),
        ["H1"],
        "only H1 has a stack's cells"
    );
    let h1 = &sides[0];
    assert!(h1.models.contains(&"fastapi".to_string()) && h1.models.contains(&"tokio".into()));
    let written = render::write_report(&analysis, &root.join("out")).unwrap();
    let text = strip_tags(&std::fs::read_to_string(written.index).unwrap());
    let expected = format!(
        "Rust models {} · stacks {} (side by side)",
        h1.rust.as_str(),
        h1.stacks.as_str()
    );
    assert!(
        text.contains(&expected),
        "{expected} not in the claims table"
    );
    assert!(text.contains("The Rust models beside the essay's own stacks"));
    let _ = std::fs::remove_dir_all(&root);
}
