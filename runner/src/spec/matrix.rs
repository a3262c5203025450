//! The validated factor lists of a spec. The settings (`vocab::factors`)
//! are one list each, indexed by [`Setting`], so a new setting needs no
//! field here; the manifest still records every list under its own key, in
//! column order, as the struct with a field per factor did.

use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use threadloop_engine::cell::{IoKind, ModelKind, Transport};
use threadloop_vocab::factors::{settings_placed, Setting, Value, SETTINGS};

/// How the CPU part of a request is given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuSize {
    /// Milliseconds of CPU.
    Ms(f64),
    /// Fraction of the unloaded service time (cpu / (cpu + io)).
    Ratio(f64),
}

/// The validated factor lists; their cartesian product is the set of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub model: Vec<ModelKind>,
    /// How requests reach the model: in-process, or over HTTP.
    pub transport: Vec<Transport>,
    pub concurrency: Vec<u32>,
    pub rate_rps: Vec<f64>,
    pub io: Vec<IoKind>,
    pub io_latency_ms: Vec<f64>,
    pub cpu: Vec<CpuSize>,
    /// Each setting's values, indexed by [`Setting`]; a null is the
    /// setting's default, which each cell resolves (`SpecDefault`).
    pub settings: Vec<Vec<Option<Value>>>,
}

impl Matrix {
    /// The values listed for `s`.
    pub fn setting(&self, s: Setting) -> &[Option<Value>] {
        &self.settings[s as usize]
    }
}

impl Serialize for Matrix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Matrix", 7 + SETTINGS.len())?;
        m.serialize_field("model", &self.model)?;
        m.serialize_field("transport", &self.transport)?;
        for st in settings_placed(true) {
            m.serialize_field(st.def().name, self.setting(st))?;
        }
        m.serialize_field("concurrency", &self.concurrency)?;
        m.serialize_field("rate_rps", &self.rate_rps)?;
        m.serialize_field("io", &self.io)?;
        m.serialize_field("io_latency_ms", &self.io_latency_ms)?;
        m.serialize_field("cpu", &self.cpu)?;
        for st in settings_placed(false) {
            m.serialize_field(st.def().name, self.setting(st))?;
        }
        m.end()
    }
}

/// Read back from a manifest (`--resume`): a setting it lacks takes its
/// default.
impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Matrix, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        fn take<T: DeserializeOwned, E: Error>(
            map: &mut serde_json::Map<String, serde_json::Value>,
            key: &'static str,
        ) -> Result<T, E> {
            let v = map.remove(key).ok_or_else(|| E::missing_field(key))?;
            serde_json::from_value(v).map_err(E::custom)
        }
        let mut settings = Vec::new();
        for def in SETTINGS {
            settings.push(match map.remove(def.name) {
                None => vec![def.default.listed()],
                Some(list) => Vec::<serde_json::Value>::deserialize(list)
                    .map_err(D::Error::custom)?
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::Null => Ok(None),
                        serde_json::Value::Bool(b) => Ok(Some(Value::Bool(b))),
                        serde_json::Value::String(s) => {
                            (def.parse_name)(&s).map(Some).map_err(D::Error::custom)
                        }
                        n => n
                            .as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .map(|n| Some(Value::Int(n)))
                            .ok_or_else(|| D::Error::custom(format!("{}: {n}", def.name))),
                    })
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(Matrix {
            model: take(&mut map, "model")?,
            transport: take(&mut map, "transport")?,
            concurrency: take(&mut map, "concurrency")?,
            rate_rps: take(&mut map, "rate_rps")?,
            io: take(&mut map, "io")?,
            io_latency_ms: take(&mut map, "io_latency_ms")?,
            cpu: take(&mut map, "cpu")?,
            settings,
        })
    }
}
