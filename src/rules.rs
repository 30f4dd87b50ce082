//! Anatomical plausibility rules: a TOML rules file ([`spec`]) with small region expressions
//! ([`expr`]), evaluated on every case for the ground truth and every run ([`eval`]), one
//! function per rule kind ([`kinds`]). A flag carries the measured value against the bound, a
//! sentence for people, and the geometry to highlight.

pub mod eval;
pub mod expr;
pub mod kinds;
pub mod spec;

pub use eval::{Flag, evaluate};
pub use spec::{RuleError, RuleSet, Severity};
