//! Upper bounds on what one run may ask for. They are far above any scenario
//! ksim is meant for, and exist so that a typo (`rate: 1e300`, `duration:
//! 5000000h`, `count: 4294967295`) gets a clear error instead of a run that
//! never finishes or exhausts memory.

use crate::time::{NS_PER_S, SimDuration};

/// Longest simulated run: one week.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(7 * 24 * 3600);

/// Most report windows (`duration / --window`); the default 10 s window over
/// [`MAX_DURATION`] gives 60 480.
pub const MAX_WINDOWS: u64 = 100_000;

/// Most clients, summed over all groups.
pub const MAX_CLIENTS: u64 = 1_000_000;

/// Most pods alive at once, summed over all StatefulSets at their largest.
pub const MAX_PODS: u64 = 100_000;

/// Most requests a run is expected to send (count × rate × duration, summed
/// over groups): about 400 times the canonical-churn scenario.
pub const MAX_REQUESTS: f64 = 1e9;

/// Highest request rate of one client: a mean gap of 1 ns between its
/// requests, the resolution of simulated time. Faster, the gaps would round
/// to zero and simulated time would stop advancing.
pub const MAX_RATE_PER_S: f64 = NS_PER_S as f64;

/// Report windows a run of `duration` with windows of `window` has.
pub fn windows(duration: SimDuration, window: SimDuration) -> u64 {
    duration.as_ns().div_ceil(window.as_ns().max(1)).max(1)
}

/// The shortest window that keeps a run of `duration` within [`MAX_WINDOWS`],
/// rounded up to whole seconds.
pub fn min_window(duration: SimDuration) -> SimDuration {
    let ns = duration.as_ns().div_ceil(MAX_WINDOWS);
    SimDuration::from_secs(ns.div_ceil(NS_PER_S).max(1))
}

/// Most YAML nodes `fleets` may stamp out, summed over all copies (the same
/// budget alias expansion has).
pub const MAX_FLEET_NODES: u64 = 1_000_000;
/// Largest file ksim reads as text: a scenario, a manifest, a pod trace, a
/// sweep plan (16 MiB; the largest example scenario is a few KB, and a
/// manifest of 10 000 Pods about 4 MB). Reading stops one byte past it, so a
/// device or a runaway file costs at most this much memory.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Largest sweep results or shard file ksim reads (`ksim report`, `ksim
/// sweep merge`): 256 MiB, some 200 000 runs' records.
pub const MAX_RESULTS_BYTES: u64 = 256 * 1024 * 1024;
