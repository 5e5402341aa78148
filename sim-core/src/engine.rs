//! The event queue: the one place that decides what happens next.
//!
//! # Ordering contract
//!
//! Events are delivered in increasing `(time, seq)` order, where `seq` is a
//! global counter incremented by every [`Queue::schedule`] call. So:
//!
//! * an event never runs before an event with an earlier time;
//! * two events at the same instant run in the order they were scheduled
//!   (first scheduled, first run), whatever their kind;
//! * nothing can be scheduled in the past: `schedule` asserts `at >= now`.
//!
//! Because `(time, seq)` is a total order over all events of a run, any correct
//! priority queue yields the same sequence; the run is a pure function of the
//! scenario and the seed. The payload `E` is a small `Copy` value (indices, not
//! owned data) so the hot path moves 24 bytes and never allocates.
//!
//! The queue is a binary min-heap keyed by `(time, seq)`; see `benches/engine.rs`
//! for the hold-model throughput it reaches.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so std's max-heap pops the smallest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A deterministic future-event list.
pub struct Queue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: SimTime,
}

impl<E: Copy> Default for Queue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Queue<E> {
    pub fn new() -> Self {
        Queue {
            heap: BinaryHeap::new(),
            seq: 0,
            now: SimTime::ZERO,
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        Queue {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the last event popped (zero before the first).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedule `event` at `at` (which must not be in the past).
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: {at:?} < {:?}",
            self.now
        );
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Entry {
            time: at,
            seq,
            event,
        });
    }

    /// Remove and return the next event, advancing `now` to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        self.now = e.time;
        Some((e.time, e.event))
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Total number of events ever scheduled.
    pub fn scheduled(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_events_run_first_scheduled_first() {
        let mut q = Queue::new();
        q.schedule(SimTime(5), 'b');
        q.schedule(SimTime(1), 'a');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(5), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['a', 'b', 'c', 'd']);
    }

    #[test]
    fn events_come_out_in_time_order_and_now_follows() {
        let mut q = Queue::new();
        for t in [9u64, 3, 7, 3, 0, 12] {
            q.schedule(SimTime(t), t);
        }
        let mut last = 0;
        while let Some((t, e)) = q.pop() {
            assert_eq!(t.0, e);
            assert!(t.0 >= last);
            assert_eq!(q.now(), t);
            last = t.0;
        }
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_in_the_past_is_a_bug() {
        let mut q = Queue::new();
        q.schedule(SimTime(10), ());
        q.pop();
        q.schedule(SimTime(9), ());
    }
}
