//! The Amazon States Language core.
//!
//! Owns everything about what a state machine *means*: the definition model and its validation
//! (with located diagnostics), AWS's JSONPath dialect, payload templates, intrinsic functions,
//! Choice rules, error matching for Retry/Catch, and the per-state semantics the engine calls.
//!
//! Must not do IO, spawn tasks or read the clock: time and randomness come in as arguments, so
//! every rule is a plain unit test and a replay gives the same decisions.

pub mod choice;
pub mod diagnostic;
pub mod error;
pub mod intrinsics;
pub mod json;
pub mod jsonata;
pub mod jsonpath;
pub mod locate;
pub mod model;
pub mod step;
pub mod template;
pub mod validate;

pub use model::StateMachine;
