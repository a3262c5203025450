//! Where a spec problem is: the file, the line, the column and the dotted
//! key of a byte offset, and the context that gathers the problems while a
//! spec is built (every check records its error and the build goes on).

use super::{List, SpecError};
use threadloop_engine::cell::id_number;
use toml::Spanned;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    pub(super) errors: Vec<SpecError>,
}

impl Ctx<'_> {
    pub(super) fn at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> SpecError {
        let (line, column) = line_col(self.text, span.start);
        SpecError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            key: key_at(self.text, span.start),
            message: message.into(),
        }
    }

    pub(super) fn err(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let e = self.at(span, message);
        self.errors.push(e);
    }

    pub(super) fn int(&mut self, v: &Spanned<i64>, min: i64, max: i64) -> u32 {
        let x = *v.get_ref();
        if x < min || x > max {
            self.err(
                v.span(),
                format!("{x} is out of range: must be {min}..={max}"),
            );
        }
        x.clamp(min, max) as u32
    }

    pub(super) fn float(
        &mut self,
        v: &Spanned<f64>,
        min: f64,
        max: f64,
        max_inclusive: bool,
    ) -> f64 {
        let x = *v.get_ref();
        let above = if max_inclusive { x > max } else { x >= max };
        if !x.is_finite() || x < min || above {
            let upper = if max_inclusive { "<=" } else { "<" };
            self.err(
                v.span(),
                format!(
                    "{x} is out of range: must be >= {} and {upper} {}",
                    id_number(min),
                    id_number(max)
                ),
            );
        }
        x
    }

    pub(super) fn list<T, U>(
        &mut self,
        list: &List<T>,
        default: Vec<U>,
        mut each: impl FnMut(&mut Self, &Spanned<T>) -> U,
    ) -> Vec<U> {
        match list {
            None => default,
            Some(l) if l.get_ref().is_empty() => {
                self.err(l.span(), "the list is empty: give at least one value");
                default
            }
            Some(l) => l.get_ref().iter().map(|v| each(self, v)).collect(),
        }
    }

    pub(super) fn named<T: threadloop_engine::Factor>(
        &mut self,
        v: &Spanned<String>,
        fallback: T,
    ) -> T {
        match T::parse_name(v.get_ref()) {
            Ok(x) => x,
            Err(e) => {
                self.err(v.span(), e.to_string());
                fallback
            }
        }
    }
}

pub(super) fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> SpecError {
    let start = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, start);
    let message = e.message().trim().to_string();
    // For an unknown field the message names it; prefer that over the line's key.
    let key = match message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        Some(field) => qualify(text, start, field),
        None => key_at(text, start),
    };
    SpecError::Invalid {
        file: file.to_string(),
        line,
        column,
        key,
        message,
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The dotted key whose value contains `offset`: the nearest `key =` at or
/// above it, qualified by the table header it sits under.
pub(super) fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let lines: Vec<&str> = text[..line_end].lines().collect();
    for l in lines.iter().rev() {
        let t = l.trim();
        if t.starts_with('[') {
            break;
        }
        if let Some((k, _)) = t.split_once('=') {
            if !k.contains('"') && !k.contains('[') {
                return qualify(text, offset, k.trim());
            }
        }
    }
    qualify(text, offset, "")
}

/// Prefixes `key` with the `[table]` header in effect at `offset` (the
/// header on `offset`'s own line included: an error about a table points at
/// its header).
fn qualify(text: &str, offset: usize, key: &str) -> String {
    let offset = offset.min(text.len());
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let header = text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.split('#').next().unwrap_or("").contains('='))
        .map(|h| {
            h.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    match (header, key.is_empty()) {
        (Some(h), true) => h,
        (Some(h), false) => format!("{h}.{key}"),
        (None, _) => key.to_string(),
    }
}
