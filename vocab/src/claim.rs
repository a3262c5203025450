//! The claims threadloop reproduces (CLAIMS.md has each one's source and
//! theory), declared once: a spec names one by id, the report heads its
//! verdict table with the summary.

/// One claim: its id and a one-line summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: &'static str,
    pub summary: &'static str,
}

const fn claim(id: &'static str, summary: &'static str) -> Claim {
    Claim { id, summary }
}

/// H1 to H10, in CLAIMS.md's order.
pub const CLAIMS: &[Claim] = &[
    claim("H1", "A bounded thread pool saturates under long I/O: requests queue, latency grows, timeouts follow."),
    claim("H2", "A bigger pool relieves the queue but costs memory and context switches."),
    claim("H3", "Handing I/O to a non-blocking client frees the request thread; the pool no longer caps throughput."),
    claim("H4", "C10K: one event loop serves 10,000 waiting requests without 10,000 threads."),
    claim("H5", "CPU-heavy work on the event loop delays every request; offloading it restores responsiveness."),
    claim("H6", "A blocking DB driver inside async code blocks the loop; an async driver fixes it."),
    claim("H7", "A blocking HTTP call inside async code blocks the loop; an async client hands control back."),
    claim("H8", "For CPU-bound work async brings no benefit; threads run CPU work in parallel."),
    claim("H9", "The hybrid model (event loop for I/O, pool for CPU) beats either pure model on mixed work."),
    claim("H10", "Coroutines give scale (throughput), not speed (latency); blocking inside them removes the benefit."),
];

/// What a spec that checks the harness itself names instead of a claim.
pub const CALIBRATION: &str = "calibration";

/// Whether a spec may name `id` as its claim.
pub fn known(id: &str) -> bool {
    id == CALIBRATION || CLAIMS.iter().any(|c| c.id == id)
}

/// Every id a spec may name, for an error message.
pub fn ids() -> Vec<&'static str> {
    CLAIMS.iter().map(|c| c.id).chain([CALIBRATION]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_is_in_claims_md_with_its_id() {
        let md = include_str!("../../CLAIMS.md");
        for c in CLAIMS {
            assert!(
                md.contains(&format!("| {} |", c.id)),
                "{} not in CLAIMS.md",
                c.id
            );
        }
        assert!(known("H10") && known(CALIBRATION) && !known("H11"));
    }
}
