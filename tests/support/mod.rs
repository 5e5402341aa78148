//! Helpers shared by the library-level tests (`mod support;` in each file):
//! parse a scenario or fail with its rendered diagnostic, and run one
//! keeping every attempt.

#![allow(dead_code)] // not every test file uses every helper

use sim_core::report::Report;
use sim_core::scenario::{self, Scenario};
use sim_core::time::SimDuration;
use sim_core::world::{self, Attempt, Observer, RunOutput};

/// Parse `yaml`, panicking with the rendered diagnostic.
pub fn parse(yaml: &str) -> Scenario {
    scenario::parse(yaml).unwrap_or_else(|d| panic!("{}", d.render("test.yaml", yaml)))
}

/// An observer that keeps every attempt.
#[derive(Default)]
pub struct Keep(pub Vec<Attempt>);

impl Observer for Keep {
    fn attempt(&mut self, a: &Attempt) {
        self.0.push(*a);
    }
}

/// Run `sc` with its own seed and 10 s windows: what the run left, every
/// attempt, and the report.
pub fn run_full(sc: &Scenario) -> (RunOutput<'_>, Vec<Attempt>, Report) {
    let mut keep = Keep::default();
    let out = world::run_observed(sc, sc.seed, SimDuration::from_secs(10), &mut keep)
        .expect("run completes");
    let report = Report::build(sc, sc.seed, &out);
    (out, keep.0, report)
}

/// [`run_full`] without the run's state.
pub fn run(sc: &Scenario) -> (Vec<Attempt>, Report) {
    let (_, attempts, report) = run_full(sc);
    (attempts, report)
}
