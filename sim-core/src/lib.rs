//! # ksim: a deterministic simulator of Kubernetes service networking
//!
//! Teams behind Kubernetes Services lose requests to stale pod IPs, refused
//! connections and lopsided load whenever pods churn. ksim replays a scenario
//! (pods, Services, DNS and its caches, clients) under a seed and counts what
//! each request met, so those losses are found before production finds them.
//!
//! ## Why it is built this way
//!
//! * **Determinism is the product.** Time is integer nanoseconds
//!   ([`time`]); events run in `(time, insertion order)` ([`engine`]); every
//!   random draw comes from a named stream derived from the seed by a fixed
//!   function ([`rng`]); nothing iterates a randomly-seeded hash map. The
//!   same scenario, seed and version give byte-identical reports everywhere.
//! * **The model is the real systems' rules, cited.** Each module says which
//!   Kubernetes/CoreDNS/kernel behaviour it reproduces and where that is
//!   written down (`shared/reference/` in the project).
//! * **The request path is cheap.** One event per request; small `Copy`
//!   events; DNS answers shared by reference; per-entity state in flat
//!   vectors; no allocation per request. Memory grows with pods and clients,
//!   never with requests.
//!
//! Data flows top to bottom: [`scenario`] → [`cluster`] (ground truth) →
//! [`dns`] (what the server has seen and cached) → [`client`] (what each
//! client cached and picked) → [`net`] (what answered at that address) →
//! [`metrics`] → [`report`]. [`world`] wires them to the event queue.
//!
//! ## Example
//!
//! ```
//! let yaml = r#"
//! name: tiny
//! duration: 30s
//! services:
//!   - {name: nginx, clusterIP: None, selector: {app: web}, ports: [80]}
//! statefulsets:
//!   - {name: web, service: nginx, replicas: 3, start_ready: true}
//! clients:
//!   - {name: app, count: 2, target: "nginx:80", rate: 10}
//! events:
//!   - {at: 10s, delete_pod: web-1}
//! "#;
//! let scenario = sim_core::scenario::parse(yaml).unwrap();
//! let report = sim_core::run(&scenario, &sim_core::RunOptions::default()).unwrap();
//! assert_eq!(report.totals.requests, report.totals.attempts);
//! assert!(report.totals.outcomes.ok > 0);
//! ```

pub mod balance;
pub mod capacity;
pub mod check;
pub mod client;
pub mod cluster;
pub mod determinism;
pub mod diagnose;
pub mod dns;
pub mod engine;
pub mod lb;
pub mod mesh;
pub mod metrics;
pub mod net;
pub mod netpol;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sweep;
pub mod time;
pub mod timeline;
pub mod world;

pub use report::Report;
pub use scenario::Scenario;
pub use world::{Attempt, Lifecycle, NoObserver, Observer, RunError};

/// How to run a scenario (what the command line can override).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Replaces the scenario's `seed`.
    pub seed: Option<u64>,
    /// Report window width; [`scenario::defaults::WINDOW`] when `None`.
    pub window: Option<time::SimDuration>,
}

/// Run a validated scenario and build its report.
pub fn run(sc: &Scenario, opts: &RunOptions) -> Result<Report, RunError> {
    run_observed(sc, opts, &mut NoObserver)
}

/// [`run`], telling `observer` about every attempt as it happens (for
/// per-attempt checks and traces; an observer that stores what it sees
/// makes memory grow with the number of requests).
pub fn run_observed<O: Observer>(
    sc: &Scenario,
    opts: &RunOptions,
    observer: &mut O,
) -> Result<Report, RunError> {
    let seed = opts.seed.unwrap_or(sc.seed);
    let window = opts.window.unwrap_or(scenario::defaults::WINDOW);
    check_windows(sc, window)?;
    run_reported(sc, seed, window, observer, None)
}

/// One run and its report with the run's findings: the one place a report
/// is made (`perturb`: the determinism checker's hook, see
/// [`world::run_perturbed`]).
pub(crate) fn run_reported<O: Observer>(
    sc: &Scenario,
    seed: u64,
    window: time::SimDuration,
    observer: &mut O,
    perturb: Option<u64>,
) -> Result<Report, RunError> {
    let mut recorder = diagnose::Recorder::new(observer);
    let out = world::run_perturbed(sc, seed, window, &mut recorder, perturb)?;
    let mut report = Report::build(sc, seed, &out);
    report.findings = diagnose::findings(sc, &out, &recorder.tally);
    Ok(report)
}

/// A run of `sc` reported in windows of `window` stays within
/// [`scenario::limits::MAX_WINDOWS`].
pub(crate) fn check_windows(sc: &Scenario, window: time::SimDuration) -> Result<(), RunError> {
    let windows = scenario::limits::windows(sc.duration, window);
    if windows > scenario::limits::MAX_WINDOWS {
        return Err(RunError {
            path: "window".into(),
            message: format!(
                "a {window} window splits the {} run into {windows} windows; at most {} are reported (use {} or longer)",
                sc.duration,
                scenario::limits::MAX_WINDOWS,
                scenario::limits::min_window(sc.duration)
            ),
        });
    }
    Ok(())
}
