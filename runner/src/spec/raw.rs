//! A spec as written, before it is checked: each value keeps its place in
//! the file (`Spanned`), so an error can name its line and key.
//!
//! `[matrix]` is read by hand ([`RawMatrix`]'s `Deserialize`): its keys
//! are the factor table's (`vocab::factors`), so a setting declared there
//! is a key here without a field of its own. It refuses an unknown key as
//! the derive did, with the same message, listing the keys in the same
//! order.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use threadloop_vocab::factors::{Setting, FACTORS};
use threadloop_vocab::schema::{cols, Kind};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) name: Spanned<String>,
    pub(super) claim: Spanned<String>,
    pub(super) title: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) repetitions: Option<Spanned<i64>>,
    pub(super) max_repetitions: Option<Spanned<i64>>,
    pub(super) context_repetitions: Option<Spanned<i64>>,
    pub(super) budget_s: Option<Spanned<f64>>,
    pub(super) duration_s: Option<Spanned<f64>>,
    pub(super) warmup_s: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) load: RawLoad,
    pub(super) matrix: RawMatrix,
    #[serde(default)]
    pub(super) verdict: Vec<RawVerdict>,
    #[serde(default)]
    pub(super) class: Vec<RawClass>,
    #[serde(default)]
    pub(super) remedies: Option<threadloop_vocab::remedy::Remedy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClass {
    pub(super) name: Spanned<String>,
    pub(super) weight: Spanned<f64>,
    pub(super) cpu_ms: Option<Spanned<f64>>,
    pub(super) io: Option<Spanned<String>>,
    pub(super) io_latency_ms: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLoad {
    pub(super) mode: Option<Spanned<String>>,
    pub(super) timeout_ms: Option<Spanned<i64>>,
    pub(super) arrival: Option<Spanned<String>>,
    pub(super) retry_after_ms: Option<Spanned<i64>>,
    pub(super) max_in_flight: Option<Spanned<i64>>,
}

/// A list of values as written; `None`: the key is absent.
pub(super) type List<T> = Option<Spanned<Vec<Spanned<T>>>>;

/// `[matrix]` as written.
#[derive(Debug)]
pub(super) struct RawMatrix {
    pub(super) model: Spanned<Vec<Spanned<String>>>,
    pub(super) transport: List<String>,
    pub(super) concurrency: List<i64>,
    pub(super) rate_rps: List<f64>,
    pub(super) io: List<String>,
    pub(super) io_latency_ms: List<f64>,
    pub(super) cpu_ms: List<f64>,
    pub(super) cpu_ratio: List<f64>,
    /// Each setting's list, indexed by [`Setting`].
    pub(super) settings: Vec<RawSetting>,
}

/// A setting's list as written, typed by the setting's kind.
#[derive(Debug)]
pub(super) enum RawSetting {
    Int(List<i64>),
    Bool(List<bool>),
    Name(List<String>),
}

impl RawSetting {
    fn absent(s: Setting) -> RawSetting {
        match s.def().kind {
            Kind::Int => RawSetting::Int(None),
            Kind::Bool => RawSetting::Bool(None),
            Kind::Str | Kind::Float => RawSetting::Name(None),
        }
    }
}

/// The keys `[matrix]` has besides the settings.
const OWN_KEYS: &[&str] = &[
    cols::model,
    cols::transport,
    cols::concurrency,
    cols::rate_rps,
    cols::io,
    cols::io_latency_ms,
    cols::cpu_ms,
    cols::cpu_ratio,
];

/// Every key of `[matrix]`, in column order, a setting's aliases beside it
/// (sorted with its name, as serde's derive lists them).
fn matrix_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut out = Vec::new();
        for f in FACTORS {
            let name = f.column.name;
            if OWN_KEYS.contains(&name) {
                out.push(name);
            } else if let Some(s) = Setting::from_key(name) {
                let mut names = vec![name];
                names.extend(s.def().aliases);
                names.sort();
                out.extend(names);
            }
        }
        out
    });
    &KEYS
}

/// A key of `[matrix]`.
enum Key {
    Own(&'static str),
    Setting(Setting),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        if let Some(own) = OWN_KEYS.iter().find(|k| **k == v) {
            return Ok(Key::Own(own));
        }
        Setting::from_key(v)
            .map(Key::Setting)
            .ok_or_else(|| E::unknown_field(v, matrix_keys()))
    }
}

impl<'de> Deserialize<'de> for RawMatrix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawMatrix, D::Error> {
        d.deserialize_struct("RawMatrix", matrix_keys(), MatrixVisitor)
    }
}

struct MatrixVisitor;

/// The next value of a table (by key) or of an array (by position), as
/// the derive reads a struct from either.
trait Next<'de> {
    type Error: de::Error;
    fn next<T: Deserialize<'de>>(&mut self) -> Result<T, Self::Error>;
}

struct ByKey<A>(A);

impl<'de, A: MapAccess<'de>> Next<'de> for ByKey<A> {
    type Error = A::Error;
    fn next<T: Deserialize<'de>>(&mut self) -> Result<T, A::Error> {
        self.0.next_value()
    }
}

/// An array's elements in field order; a short one is refused as the
/// derive does.
struct ByPosition<A> {
    seq: A,
    at: usize,
    fields: usize,
}

impl<'de, A: SeqAccess<'de>> Next<'de> for ByPosition<A> {
    type Error = A::Error;
    fn next<T: Deserialize<'de>>(&mut self) -> Result<T, A::Error> {
        let at = self.at;
        self.at += 1;
        self.seq.next_element()?.ok_or_else(|| {
            let expected = format!("struct RawMatrix with {} elements", self.fields);
            de::Error::invalid_length(at, &expected.as_str())
        })
    }
}

impl RawMatrix {
    fn empty() -> RawMatrix {
        RawMatrix {
            model: Spanned::new(0..0, Vec::new()),
            transport: None,
            concurrency: None,
            rate_rps: None,
            io: None,
            io_latency_ms: None,
            cpu_ms: None,
            cpu_ratio: None,
            settings: Setting::all().map(RawSetting::absent).collect(),
        }
    }

    /// Reads `key`'s value; `model` is read into `model` (it has no default).
    fn fill<'de, N: Next<'de>>(
        &mut self,
        key: Key,
        model: &mut Option<Spanned<Vec<Spanned<String>>>>,
        next: &mut N,
    ) -> Result<(), N::Error> {
        match key {
            Key::Own(cols::model) => *model = Some(next.next()?),
            Key::Own(cols::transport) => self.transport = next.next()?,
            Key::Own(cols::concurrency) => self.concurrency = next.next()?,
            Key::Own(cols::rate_rps) => self.rate_rps = next.next()?,
            Key::Own(cols::io) => self.io = next.next()?,
            Key::Own(cols::io_latency_ms) => self.io_latency_ms = next.next()?,
            Key::Own(cols::cpu_ms) => self.cpu_ms = next.next()?,
            Key::Own(cols::cpu_ratio) => self.cpu_ratio = next.next()?,
            Key::Own(other) => unreachable!("`{other}` is in OWN_KEYS without a field"),
            Key::Setting(s) => {
                self.settings[s as usize] = match RawSetting::absent(s) {
                    RawSetting::Int(_) => RawSetting::Int(next.next()?),
                    RawSetting::Bool(_) => RawSetting::Bool(next.next()?),
                    RawSetting::Name(_) => RawSetting::Name(next.next()?),
                }
            }
        }
        Ok(())
    }
}

/// The keys in field order, without aliases.
fn fields() -> Vec<Key> {
    FACTORS
        .iter()
        .filter_map(|f| {
            let name = f.column.name;
            match OWN_KEYS.iter().find(|k| **k == name) {
                Some(own) => Some(Key::Own(own)),
                None => Setting::from_key(name).map(Key::Setting),
            }
        })
        .collect()
}

impl<'de> Visitor<'de> for MatrixVisitor {
    type Value = RawMatrix;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct RawMatrix")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawMatrix, A::Error> {
        let (mut m, mut model) = (RawMatrix::empty(), None);
        let mut next = ByKey(map);
        while let Some(key) = next.0.next_key_seed(KeySeed)? {
            m.fill(key, &mut model, &mut next)?;
        }
        m.model = model.ok_or_else(|| de::Error::missing_field(cols::model))?;
        Ok(m)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawMatrix, A::Error> {
        let (mut m, mut model) = (RawMatrix::empty(), None);
        let fields = fields();
        let mut next = ByPosition {
            seq,
            at: 0,
            fields: fields.len(),
        };
        for key in fields {
            m.fill(key, &mut model, &mut next)?;
        }
        m.model = model.expect("model is the first field");
        Ok(m)
    }
}

/// A `[[verdict]]` table as written: the fields an error points at keep
/// their place in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVerdict {
    pub(super) text: String,
    pub(super) metric: Spanned<String>,
    #[serde(default)]
    pub(super) filter: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
    #[serde(default)]
    pub(super) baseline: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
    pub(super) compare: Spanned<String>,
    pub(super) threshold: f64,
    #[serde(default)]
    pub(super) headline: Option<String>,
}

impl RawSpec {
    pub(super) fn matrix_span(&self) -> std::ops::Range<usize> {
        self.matrix.model.span()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys, as the derive of the struct with a field per key listed
    /// them, still in that order; a setting declared later may sit among them.
    #[test]
    fn the_matrix_keys_are_listed_as_before() {
        let before = "model transport threads queue workers pool_threads concurrency rate_rps io \
             io_latency_ms cpu_ms cpu_ratio offload pinning stack_kib java loop_debug client \
             driver db_query db_pool";
        let keys = matrix_keys();
        let mut now = keys.iter();
        for old in before.split_whitespace() {
            assert!(now.any(|k| *k == old), "{old} is missing or out of order");
        }
    }
}
