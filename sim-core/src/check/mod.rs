//! The property-test harness: state a property of runs, let proptest search
//! scenarios for a counterexample, and get back the smallest one.
//!
//! * [`Check`]: what must hold of one run. Invariants over the attempt
//!   stream ([`Check::always`]), goals ([`Check::eventually`]), report keys
//!   ([`Check::report`], [`Check::parse`] for `KEY OP NUMBER && ...`),
//!   combined with [`Check::and`] / [`Check::or`]. [`run_checked`] runs a
//!   scenario and returns its report or the [`Violation`] (which check, when,
//!   which attempt, and [`Violation::explain`] for people).
//! * [`model::Model`]: a small scenario (pods, Service, clients, churn,
//!   timeline) that renders to a scenario file.
//! * `strategy` (cargo feature `proptest`, on by default): proptest
//!   strategies over models, shrinking toward fewer pods, fewer events,
//!   shorter runs and smaller numbers.
//! * `search` (feature `proptest`): the search behind `ksim check`, which
//!   varies values of a scenario file (`--vary PATH=RANGE`).
//! * [`shrink`]: structural shrinking of any scenario file that breaks a
//!   property: remove what the violation does not need, lower what is
//!   left, keep the file's comments (1-minimal, see the module).
//!
//! ```
//! use sim_core::check::{Check, model::{Model, Step, Action, Clients, ClientCache}};
//!
//! // A client that caches answers for 30 s, and one pod deleted at 10 s:
//! // some requests go to the dead pod's address.
//! let m = Model {
//!     clients: vec![Clients { count: 2, cache: ClientCache::Fixed(30), ..Clients::default() }],
//!     events: vec![Step { at_s: 10, action: Action::DeletePod(0) }],
//!     ..Model::default()
//! };
//! let check = Check::always("no stale-IP errors", |a| a.stale.is_none());
//! let v = check.run(&m.scenario()).unwrap_err();
//! assert!(v.attempt.unwrap().stale.is_some());
//! ```

mod checks;
pub mod expr;
pub mod model;
#[cfg(feature = "proptest")]
pub mod search;
pub mod shrink;

#[cfg(feature = "proptest")]
pub mod strategy;

pub use checks::{Check, Violation, describe_attempt, run_checked, secs};
pub use expr::{Clause, Comparison, Op, Quantifier, Scope};
