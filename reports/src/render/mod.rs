//! The output stage: an [`Analysis`] becomes files. Each output is a
//! [`Renderer`] (HTML page, Markdown verdict table, JSON summary); adding a
//! format is one more implementation and one entry in [`RENDERERS`].

pub mod charts;
pub mod claims;
pub mod environment;
pub mod html;
pub mod reading;
pub mod remedies;
pub mod side_by_side;
pub mod summary;
pub mod undecided;

use crate::analysis::{Analysis, Experiment};
use crate::error::{ReportError, Result};
use std::path::{Path, PathBuf};

/// One output of a report.
pub trait Renderer: Sync {
    /// The file it writes in the run's report directory.
    fn file_name(&self) -> &'static str;
    /// The file's contents.
    fn render(&self, analysis: &Analysis) -> Result<String>;
}

/// `index.html`: the self-contained report with its charts.
pub struct Html;
/// `summary.md`: the claims' verdicts and the rules behind them.
pub struct Markdown;
/// `summary.json`: verdicts and per-cell estimates for tools.
pub struct Json;

impl Renderer for Html {
    fn file_name(&self) -> &'static str {
        "index.html"
    }
    fn render(&self, analysis: &Analysis) -> Result<String> {
        html::render_index(analysis)
    }
}

impl Renderer for Markdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }
    fn render(&self, analysis: &Analysis) -> Result<String> {
        Ok(summary::markdown(analysis))
    }
}

impl Renderer for Json {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }
    fn render(&self, analysis: &Analysis) -> Result<String> {
        let json = serde_json::to_string_pretty(&summary::summary(analysis))
            .expect("the summary is plain data and serialises");
        Ok(json + "\n")
    }
}

/// Every output of `report`, in the order they are written.
pub const RENDERERS: &[&dyn Renderer] = &[&Html, &Markdown, &Json];

/// Paths written by [`write_report`].
#[derive(Debug, Clone)]
pub struct Written {
    pub dir: PathBuf,
    pub index: PathBuf,
    pub summary_md: PathBuf,
    pub summary_json: PathBuf,
}

/// The report directory of a run under `out_root`.
pub fn report_dir(out_root: &Path, run_id: &str) -> PathBuf {
    out_root.join(slug_path(run_id))
}

fn slug_path(run_id: &str) -> String {
    run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) fn write(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| ReportError::io(path, e))
}

/// Renders every output into `out_root/<run-id>/` and points
/// `out_root/latest` at that directory. Every output is rendered before the
/// first is written, so a failing renderer leaves no half-written report.
pub fn write_report(analysis: &Analysis, out_root: &Path) -> Result<Written> {
    let dir = report_dir(out_root, &analysis.run.run_id);
    let rendered = RENDERERS
        .iter()
        .map(|r| Ok((dir.join(r.file_name()), r.render(analysis)?)))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(&dir).map_err(|e| ReportError::io(&dir, e))?;
    for (path, contents) in &rendered {
        write(path, contents)?;
    }
    link_latest(out_root, &dir)?;
    Ok(Written {
        index: dir.join(Html.file_name()),
        summary_md: dir.join(Markdown.file_name()),
        summary_json: dir.join(Json.file_name()),
        dir,
    })
}

/// Makes `out_root/latest` a relative symlink to `dir`.
fn link_latest(out_root: &Path, dir: &Path) -> Result<()> {
    let latest = out_root.join("latest");
    if latest.symlink_metadata().is_ok() {
        std::fs::remove_file(&latest).map_err(|e| ReportError::io(&latest, e))?;
    }
    let target = dir
        .file_name()
        .map(PathBuf::from)
        .unwrap_or(dir.to_path_buf());
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &latest).map_err(|e| ReportError::io(&latest, e))?;
    Ok(())
}

/// Lowercase ASCII slug for anchors and element ids.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The HTML anchor of an experiment's section.
pub fn anchor(e: &Experiment) -> String {
    format!("exp-{}", slug(&e.name))
}
