//! A check's state relative to its rule's threshold, and the colour, class
//! and words the report shows it with.

use crate::verdict::RuleCheck;

/// The page's verdict colours (`.verdict.*` in base.html).
pub const CLEAR_HEX: &str = "#009E73";
pub const WRONG_HEX: &str = "#D55E00";
pub const UNDECIDED_HEX: &str = "#E69F00";

/// Where a check's interval lies relative to the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// The whole interval satisfies the comparison.
    Clear,
    /// The whole interval violates it.
    Wrong,
    /// Neither: the interval straddles the threshold, or there is none.
    Undecided,
}

impl CheckState {
    pub fn of(c: &RuleCheck) -> Self {
        if c.clear {
            CheckState::Clear
        } else if c.wrong {
            CheckState::Wrong
        } else {
            CheckState::Undecided
        }
    }
    pub fn hex(self) -> &'static str {
        match self {
            CheckState::Clear => CLEAR_HEX,
            CheckState::Wrong => WRONG_HEX,
            CheckState::Undecided => UNDECIDED_HEX,
        }
    }
    /// CSS class.
    pub fn slug(self) -> &'static str {
        match self {
            CheckState::Clear => "clear",
            CheckState::Wrong => "wrong",
            CheckState::Undecided => "undecided",
        }
    }
    /// The chart legend's short form.
    pub fn legend(self) -> &'static str {
        match self {
            CheckState::Clear => "clear of threshold",
            CheckState::Wrong => "on the wrong side",
            CheckState::Undecided => "undecided",
        }
    }
    /// What the state means, for tables and hover text.
    pub fn describe(self) -> &'static str {
        match self {
            CheckState::Clear => "interval clear of the threshold",
            CheckState::Wrong => "interval on the wrong side",
            CheckState::Undecided => "undecided",
        }
    }
}
