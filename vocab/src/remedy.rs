//! A remedy experiment's link to the failure it remedies, declared once:
//! the runner reads it from a spec's `remedies` table and records it in the
//! manifest; the report prints, under the claim whose rule fails, the
//! measured cause and the remedy's own verdict and effect.

use serde::{Deserialize, Serialize};

/// `remedies = { experiment = "fastapi-cpu", model = "fastapi", cause =
/// "the offloaded CPU work still holds the GIL", name = "ProcessPoolExecutor" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remedy {
    /// The experiment (its `name`) whose rules fail and this one remedies.
    pub experiment: String,
    /// The side of that experiment that fails: one model (a stack such as
    /// `fastapi`, or a Rust model). Without it, every model whose checks do
    /// not bear the rule out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The measured cause of the failure, one clause: "the offloaded CPU
    /// work still holds the GIL".
    pub cause: String,
    /// The remedy in a word or two (`ProcessPoolExecutor`); default: the
    /// remedy experiment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
