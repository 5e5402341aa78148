//! Hold-model benchmark of the raw event queue, [`sim_core::engine::Queue`].
//!
//! The classic *hold model* (Jones, CACM 1986; the shape of ns-3's
//! `utils/bench-scheduler`): fill the queue to `N` pending events, then each
//! iteration pops the earliest event and schedules one new event at
//! `now + increment`, so the queue stays at exactly `N` pending events and the
//! clock only moves forward, as in a real run.
//!
//! * **Payload**: the real one, [`sim_core::world::Event`] (8 bytes), so the
//!   queue moves exactly what it moves in `ksim run`.
//! * **Increments**: uniform integers drawn with [`sim_core::rng::splitmix64`]
//!   (about 1.7 ns per draw, included in the figures).
//!   - `u1-2000ns`: `1..=2000` ns, the distribution of the project's
//!     `ecosystem.md` §7.1 queue survey, so the figures compare directly.
//!     Pending events crowd a ~2 µs horizon, so many share an instant
//!     (about 5 per ns at 10 000 pending) and the FIFO tie-break is exercised.
//!   - `u1ns-100ms`: `1..=10^8` ns, the spread of real client inter-arrival
//!     gaps (20 req/s per client is 50 ms on average). Next to no ties; a
//!     check that the 10 000-pending figure does not rest on ties alone.
//! * **Sizes**: 256 pending (about what `canonical-churn` keeps pending: one
//!   arrival per client plus pod timers), 10 000 pending (the target:
//!   ≥ 10 M events/s) and 1 000 000 pending (far more than any shipped
//!   scenario needs; the queue no longer fits in L2).
//!
//! Each benchmark is reported as events/s (`Throughput::Elements(1)`: one
//! iteration = one pop + one schedule = one event processed).
//!
//! ```text
//! cargo bench -p sim-core --bench engine            # full run, ~25 s
//! cargo bench -p sim-core --bench engine -- --quick # smoke run, a few seconds
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::engine::Queue;
use sim_core::rng::splitmix64;
use sim_core::time::SimTime;
use sim_core::world::Event;

/// Uniform in `1..=max` (multiply-shift, no division on the hot path).
#[inline]
fn increment(state: &mut u64, max: u64) -> u64 {
    1 + ((u128::from(splitmix64(state)) * u128::from(max)) >> 64) as u64
}

/// One hold step: pop the next event, schedule it again `increment` later.
#[inline]
fn hold_step(q: &mut Queue<Event>, max: u64, rng: &mut u64) {
    let (now, ev) = q.pop().expect("the hold model never empties");
    q.schedule(SimTime(now.0 + increment(rng, max)), black_box(ev));
}

/// A queue holding `pending` events, in its steady state: filled, then run
/// for `pending` hold steps so that the freshly filled start (every event
/// within one increment of zero) does not leak into short (`--quick`) runs.
fn steady(pending: usize, max: u64, rng: &mut u64) -> Queue<Event> {
    let mut q = Queue::with_capacity(pending + 1);
    for i in 0..pending {
        q.schedule(SimTime(increment(rng, max)), Event::Arrival(i as u32));
    }
    for _ in 0..pending {
        hold_step(&mut q, max, rng);
    }
    q
}

fn hold(c: &mut Criterion) {
    assert_eq!(
        std::mem::size_of::<Event>(),
        8,
        "the bench assumes the real 8-byte payload"
    );
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.sample_size(50);

    let cases = [
        ("u1-2000ns", 2_000, 256usize),
        ("u1-2000ns", 2_000, 10_000),
        ("u1-2000ns", 2_000, 1_000_000),
        ("u1ns-100ms", 100_000_000, 10_000),
    ];
    for (name, max, pending) in cases {
        // One queue per case, shared by warm-up and all samples: criterion
        // calls the closure once per sample, and the queue just keeps holding.
        let mut rng = 0x6b73_696d_u64; // "ksim"
        let mut q = steady(pending, max, &mut rng);
        group.bench_function(BenchmarkId::new(name, pending), |b| {
            b.iter(|| hold_step(&mut q, max, &mut rng));
        });
        assert_eq!(q.len(), pending);
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
