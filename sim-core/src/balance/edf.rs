//! Envoy's earliest-deadline-first scheduler, the engine of weighted round
//! robin and weighted least request.
//!
//! Follows `source/common/upstream/edf_scheduler.h` (`EdfScheduler`):
//! an entry picked at time `t` is due again at `t + 1/weight`; the scheduler's
//! clock jumps to each picked deadline.
//!
//! **Tie rule.** Entries with equal deadlines leave in insertion order: each
//! `add` takes the next value of a counter (`order_offset_`), and the heap
//! orders by `(deadline, order)`. This is Envoy's rule (`EdfEntry::operator<`,
//! "Tie breaker for entries with the same deadline. This is used to provide
//! FIFO behavior"), kept because it makes equal-weight hosts alternate in
//! the order they were (re)inserted, which is what a real Envoy does; any
//! other rule would give a different pick sequence for the same seed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Envoy's `EdfScheduler<Host>` over host indices.
///
/// Source: Envoy `source/common/upstream/edf_scheduler.h`, `EdfScheduler`
/// (`add`, `pickAndAdd`, `createWithPicks`). Host removal is by rebuilding
/// (Envoy rebuilds on every host-set change too, `EdfLoadBalancerBase::refresh`).
#[derive(Clone, Debug, Default)]
pub struct EdfScheduler {
    now: f64,
    order: u64,
    queue: BinaryHeap<Entry>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    deadline: f64,
    order: u64,
    host: usize,
}

// `BinaryHeap` is a max-heap: the "greatest" entry is the earliest deadline,
// then the lowest order (Envoy flips `<` the same way).
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .deadline
            .total_cmp(&self.deadline)
            .then_with(|| other.order.cmp(&self.order))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// Envoy limits the emulated initial picks to `UINT_MAX / 10`.
const MAX_INITIAL_PICKS: u32 = 429_496_729;

impl EdfScheduler {
    /// An empty scheduler at time 0.
    pub fn new() -> EdfScheduler {
        EdfScheduler::default()
    }

    /// Envoy `EdfScheduler::add`: schedule `host` at `now + 1/weight`
    /// (`weight > 0`).
    pub fn add(&mut self, weight: f64, host: usize) {
        debug_assert!(weight > 0.0, "EDF weight must be positive: {weight}");
        let deadline = self.now + 1.0 / weight;
        self.queue.push(Entry {
            deadline,
            order: self.order,
            host,
        });
        self.order += 1;
    }

    /// Envoy `EdfScheduler::pickAndAdd`: take the entry with the earliest
    /// deadline, advance the clock to it, and put the host back with the
    /// weight `weight(host)` has now. No allocation: the heap keeps its size.
    pub fn pick_and_add(&mut self, weight: impl Fn(usize) -> f64) -> Option<usize> {
        let top = self.queue.pop()?;
        debug_assert!(top.deadline >= self.now);
        self.now = top.deadline;
        self.add(weight(top.host), top.host);
        Some(top.host)
    }

    /// Envoy `EdfScheduler::createWithPicks`: hosts `0..n` added in order,
    /// then `picks` picks emulated without re-weighting, so differently
    /// seeded balancers start at different points of the rotation.
    ///
    /// Reproduces Envoy's arithmetic: `picks` is reduced modulo 429496729,
    /// every weight is augmented by 1e-13 for the bulk step ("to avoid cases
    /// where weights are multiples of each other"), each host gets
    /// `floor(P·w_i/W)` emulated picks (one fewer where floating point
    /// overshoots), the clock is set to the latest emulated pick time, and the
    /// remaining `< n` picks are made one by one with the plain weights.
    pub fn with_picks(n: usize, weight: impl Fn(usize) -> f64, picks: u32) -> EdfScheduler {
        let picks = picks % MAX_INITIAL_PICKS;
        if n == 0 {
            return EdfScheduler::new();
        }
        let aug = |i: usize| weight(i) + 1e-13;
        let weights_sum = (0..n).fold(0.0f64, |s, i| s + aug(i));
        let mut queue = BinaryHeap::with_capacity(n);
        let mut picks_so_far: u32 = 0;
        let mut max_pick_time = 0.0f64;
        for i in 0..n {
            let w = aug(i);
            // `static_cast<uint32_t>(w * picks / weights_sum)`: truncation.
            let mut floor = (w * f64::from(picks) / weights_sum) as u32;
            if floor > 0 && f64::from(floor) / w >= f64::from(picks) / weights_sum {
                floor -= 1;
            }
            let pick_time = f64::from(floor) / w;
            let deadline = f64::from(floor + 1) / w;
            queue.push(Entry {
                deadline,
                order: i as u64,
                host: i,
            });
            max_pick_time = max_pick_time.max(pick_time);
            picks_so_far += floor;
        }
        let mut s = EdfScheduler {
            now: max_pick_time,
            order: n as u64,
            queue,
        };
        while picks_so_far < picks {
            s.pick_and_add(&weight);
            picks_so_far += 1;
        }
        s
    }

    /// Number of scheduled hosts.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no host is scheduled.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(s: &mut EdfScheduler, w: &[f64], n: usize) -> Vec<usize> {
        (0..n).map(|_| s.pick_and_add(|i| w[i]).unwrap()).collect()
    }

    /// Envoy `edf_scheduler_test.cc` "Validate we get regular RR behavior
    /// when all weights are the same": equal deadlines leave in insertion
    /// order, and re-inserted entries queue behind the others.
    #[test]
    fn equal_weights_leave_in_insertion_order() {
        let mut s = EdfScheduler::new();
        let w = [1.0; 4];
        for i in [2, 0, 3, 1] {
            s.add(w[i], i);
        }
        assert_eq!(picks(&mut s, &w, 8), [2, 0, 3, 1, 2, 0, 3, 1]);
    }

    /// Weights 1:2:3 over whole periods give exactly 1:2:3 picks.
    #[test]
    fn picks_follow_weights_over_a_period() {
        let w = [1.0, 2.0, 3.0];
        let mut s = EdfScheduler::new();
        for (i, &wi) in w.iter().enumerate() {
            s.add(wi, i);
        }
        let mut count = [0u32; 3];
        for h in picks(&mut s, &w, 600) {
            count[h] += 1;
        }
        for (i, &c) in count.iter().enumerate() {
            let want = 100 * (i as i64 + 1);
            assert!((c as i64 - want).abs() <= 1, "host {i}: {c} picks");
        }
    }

    /// The queue as `(deadline, host)` in pick order (Envoy's
    /// `compareEdfSchedulers` helper).
    fn contents(s: &EdfScheduler) -> Vec<(f64, usize)> {
        let mut v = s.queue.clone().into_sorted_vec();
        v.reverse();
        v.iter().map(|e| (e.deadline, e.host)).collect()
    }

    fn assert_same_queue(a: &EdfScheduler, b: &EdfScheduler, what: &str) {
        let (a, b) = (contents(a), contents(b));
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, ((da, ha), (db, hb))) in a.iter().zip(&b).enumerate() {
            assert_eq!(ha, hb, "{what}: entry {k}");
            assert!((da - db).abs() < 1e-5, "{what}: deadline {k}: {da} vs {db}");
        }
    }

    /// Envoy `edf_scheduler_test.cc`,
    /// `SchedulerWithZeroPicksEqualToEmptyWithAddedEntries` and
    /// `SchedulerWithSomePicksEqualToEmptyWithAddedEntries`: 128 distinct
    /// weights in [0.01, 100.5]; a scheduler created with P emulated picks
    /// holds the same queue (same order, deadlines within 1e-5) as one
    /// filled by `add` and picked P times.
    #[test]
    fn with_picks_matches_adding_then_picking() {
        let n = 128;
        let w: Vec<f64> = (0..n)
            .map(|i| (100.5 - 0.01) / n as f64 * i as f64 + 0.01)
            .collect();
        for picks in [0u32, 5, 140, 501, 123_456, 894_571] {
            let mut one_by_one = EdfScheduler::new();
            for (i, &wi) in w.iter().enumerate() {
                one_by_one.add(wi, i);
            }
            for _ in 0..picks {
                one_by_one.pick_and_add(|i| w[i]);
            }
            let created = EdfScheduler::with_picks(n, |i| w[i], picks);
            assert_same_queue(&one_by_one, &created, &format!("{picks} picks"));
        }
    }

    /// Envoy `SchedulerWithRandomPicksFirstPickDistribution`: the first pick
    /// after `with_picks(random)` follows the weights (within 1 point).
    #[test]
    fn first_pick_after_random_pre_picks_follows_the_weights() {
        let cases: [&[f64]; 4] = [
            &[25.0, 75.0],
            &[1.0, 99.0],
            &[50.0, 50.0],
            &[1.0, 20.0, 79.0],
        ];
        let mut rng = crate::rng::Stream::derive(1, "test/balance/edf", 0);
        let iterations = 100_000;
        for w in cases {
            let mut count = vec![0u32; w.len()];
            for _ in 0..iterations {
                let mut s = EdfScheduler::with_picks(w.len(), |i| w[i], rng.next_u64() as u32);
                count[s.pick_and_add(|i| w[i]).unwrap()] += 1;
            }
            for (c, want) in count.iter().zip(w) {
                let pct = 100.0 * f64::from(*c) / f64::from(iterations);
                assert!((pct - want).abs() < 1.0, "weights {w:?}: {count:?}");
            }
        }
    }
}
