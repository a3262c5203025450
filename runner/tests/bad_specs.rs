//! A corpus of malformed specs (tests/bad-specs/*.toml), each rejected with
//! the line and key its header names (`# expect-line:`, `# expect-key:`),
//! through `runner validate` as a user would meet it (exit status 1).

mod common;
use common::*;
use std::path::PathBuf;

fn corpus() -> Vec<PathBuf> {
    toml_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-specs"))
}

fn header<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
        .unwrap_or_else(|| panic!("no `# {key}:` header"))
        .trim()
}

#[test]
fn every_bad_spec_is_rejected_at_its_line_and_key() {
    let files = corpus();
    assert!(files.len() >= 20, "{} bad specs", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let line: usize = header(&text, "expect-line").parse().unwrap();
        let key = header(&text, "expect-key");
        let out = std::process::Command::new(runner())
            .arg("validate")
            .arg(&f)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = f.file_name().unwrap().to_string_lossy();
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name}:{line}:")),
            "{name}: expected line {line}: {stderr}"
        );
        if !key.is_empty() {
            assert!(
                stderr.contains(&format!("key `{key}")) || stderr.contains(&format!(".{key}`")),
                "{name}: expected key {key}: {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}
