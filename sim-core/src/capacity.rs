//! Pod capacity: `workers` serve requests first come, first served; up to
//! `queue` more wait; one more is turned away (`overloaded`, the 503 a
//! server or its accept backlog gives).
//!
//! The queue is simulated without completion events. Service times are drawn
//! when a request arrives, and in a FIFO multi-server queue a request starts
//! on whichever worker frees first. So one vector of "worker free at" times
//! decides the start and end of every request when it arrives (the
//! Kiefer–Wolfowitz workload recursion). The requests still waiting are the
//! admitted ones whose start lies in the future; their start times are
//! non-decreasing, so they form a deque that drains from the front. Memory is
//! `workers + queue` per pod, whatever the number of requests.
//!
//! A client that gives up (request timeout) does not free the worker: the
//! pod does not know, and finishes the work, as real servers do.
//!
//! Owns the admission verdict and service-time draws; not the outcome
//! taxonomy (see `metrics`) nor which pod is reached (see `net`).

use std::collections::VecDeque;

use crate::rng::Stream;
use crate::scenario::{Capacity, ServiceTime};
use crate::time::{SimDuration, SimTime};

/// One pod's workers and waiting line.
#[derive(Clone, Debug)]
pub struct PodQueue {
    /// When each worker finishes the work it has been given.
    free_at: Vec<SimTime>,
    /// Start times of admitted requests that have not started yet (ascending).
    waiting: VecDeque<SimTime>,
    queue: u32,
}

/// What the pod does with a request that reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Served: the response leaves the pod at `done`.
    Served { done: SimTime },
    /// Every worker busy and the queue full.
    Overloaded,
}

impl PodQueue {
    pub fn new(c: &Capacity) -> PodQueue {
        PodQueue {
            free_at: vec![SimTime::ZERO; c.workers as usize],
            waiting: VecDeque::new(),
            queue: c.queue,
        }
    }

    /// Requests the pod holds at `now` (in service or waiting).
    pub fn active(&self, now: SimTime) -> u32 {
        let busy = self.free_at.iter().filter(|&&t| t > now).count() as u32;
        let waiting = self.waiting.iter().filter(|&&t| t > now).count() as u32;
        busy + waiting
    }

    /// Admit a request arriving at `now` that needs `service` of a worker.
    pub fn admit(&mut self, now: SimTime, service: SimDuration) -> Admission {
        while self.waiting.front().is_some_and(|&t| t <= now) {
            self.waiting.pop_front();
        }
        // The worker that frees first (the lowest index among equals).
        let (w, &free) = self
            .free_at
            .iter()
            .enumerate()
            .min_by_key(|&(i, t)| (*t, i))
            .expect("a pod has at least one worker");
        let start = free.max(now);
        if start > now {
            if self.waiting.len() >= self.queue as usize {
                return Admission::Overloaded;
            }
            self.waiting.push_back(start);
        }
        let done = start.plus(service);
        self.free_at[w] = done;
        Admission::Served { done }
    }
}

/// Draw one service time.
pub fn draw(t: &ServiceTime, s: &mut Stream) -> SimDuration {
    let ns = match t {
        ServiceTime::Constant(d) => return *d,
        ServiceTime::Exponential(mean) => return s.exponential(*mean),
        ServiceTime::LogNormal { median, sigma } => {
            median.as_ns() as f64 * libm::exp(sigma * s.normal())
        }
        ServiceTime::Empirical(v) => return v[s.below(v.len())],
    };
    // `as` saturates: an absurd tail draw becomes "never", not a wrap.
    SimDuration(ns.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(workers: u32, queue: u32) -> Capacity {
        Capacity {
            workers,
            queue,
            service_time: ServiceTime::Constant(SimDuration(10)),
        }
    }

    #[test]
    fn one_worker_serves_in_arrival_order_and_queues_the_rest() {
        let mut q = PodQueue::new(&cap(1, 2));
        let t = SimTime;
        let d = SimDuration(10);
        assert_eq!(q.admit(t(0), d), Admission::Served { done: t(10) });
        // Arrives while the first is served: waits until 10.
        assert_eq!(q.admit(t(1), d), Admission::Served { done: t(20) });
        assert_eq!(q.admit(t(2), d), Admission::Served { done: t(30) });
        // Two waiting, the queue holds two: turned away.
        assert_eq!(q.admit(t(3), d), Admission::Overloaded);
        assert_eq!(q.active(t(3)), 3);
        // At 10 the second started: one waits, there is room again.
        assert_eq!(q.admit(t(10), d), Admission::Served { done: t(40) });
        assert_eq!(q.active(t(40)), 0);
    }

    #[test]
    fn several_workers_take_requests_in_parallel() {
        let mut q = PodQueue::new(&cap(2, 0));
        let t = SimTime;
        assert_eq!(
            q.admit(t(0), SimDuration(100)),
            Admission::Served { done: t(100) }
        );
        assert_eq!(
            q.admit(t(5), SimDuration(10)),
            Admission::Served { done: t(15) }
        );
        // Both busy and no queue.
        assert_eq!(q.admit(t(6), SimDuration(10)), Admission::Overloaded);
        // The second worker frees at 15; the first is still busy.
        assert_eq!(
            q.admit(t(15), SimDuration(10)),
            Admission::Served { done: t(25) }
        );
    }

    #[test]
    fn empirical_draws_only_listed_values_and_lognormal_has_its_median() {
        let mut s = Stream::derive(1, "test", 0);
        let v = vec![SimDuration(1), SimDuration(5), SimDuration(9)];
        let e = ServiceTime::Empirical(v.clone());
        for _ in 0..100 {
            assert!(v.contains(&draw(&e, &mut s)));
        }
        let l = ServiceTime::LogNormal {
            median: SimDuration(1_000_000),
            sigma: 0.5,
        };
        let n = 20_000;
        let below = (0..n)
            .filter(|_| draw(&l, &mut s) < SimDuration(1_000_000))
            .count();
        // Binomial(n, 1/2): 5 standard deviations is ±354.
        assert!((below as i64 - n as i64 / 2).abs() < 354, "{below}");
    }
}
