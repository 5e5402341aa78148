//! grpc-go `round_robin`: a cycle over READY endpoints from a random start.

use super::{Ctx, Host, HostId, Policy};
use crate::rng::Stream;

/// grpc-go's `round_robin`: one `pick_first` child per endpoint, and a
/// picker over the READY children that starts at a random index.
///
/// Source: grpc-go `balancer/roundrobin/roundrobin.go` (built on
/// `balancer/endpointsharding/endpointsharding.go`):
/// `updatePickerLocked` builds a new picker on **every** child state change
/// with `next: uint32(rand.IntN(len(pickers)))`, and
/// `pickerWithChildStates.Pick` does `nextIndex := atomic.AddUint32(&p.next, 1)`
/// then `pickers[nextIndex % len]`, so the first pick after a rebuild is
/// `start + 1`.
///
/// The caller reports readiness with [`GrpcRoundRobin::set_ready`]. Children
/// for endpoints that stay in the resolver answer keep their state across
/// [`Policy::set_hosts`]; new ones start not ready (their `pick_first` child
/// is connecting). With no READY child, picks return `None` (grpc-go queues
/// the RPC). Ready children are cycled in host order; grpc-go's order is
/// its endpoint map's, which it does not specify.
#[derive(Clone, Debug, Default)]
pub struct GrpcRoundRobin {
    ids: Vec<HostId>,
    ready: Vec<bool>,
    ready_list: Vec<usize>,
    next: u32,
}

impl GrpcRoundRobin {
    /// A round_robin balancer with no endpoints yet.
    pub fn new() -> GrpcRoundRobin {
        GrpcRoundRobin::default()
    }

    /// Child `i` (an index into the current hosts) became READY or left
    /// READY. A change rebuilds the picker at a new random start; a repeat
    /// of the current state changes nothing, as no child update is sent.
    pub fn set_ready(&mut self, i: usize, ready: bool, rng: &mut Stream) {
        if self.ready[i] != ready {
            self.ready[i] = ready;
            self.rebuild_picker(rng);
        }
    }

    /// Whether child `i` is READY.
    pub fn is_ready(&self, i: usize) -> bool {
        self.ready[i]
    }

    fn rebuild_picker(&mut self, rng: &mut Stream) {
        self.ready_list.clear();
        self.ready_list
            .extend((0..self.ready.len()).filter(|&i| self.ready[i]));
        self.next = if self.ready_list.is_empty() {
            0
        } else {
            rng.below(self.ready_list.len()) as u32
        };
    }
}

impl Policy for GrpcRoundRobin {
    fn set_hosts(&mut self, hosts: &[Host], rng: &mut Stream) {
        let mut old: Vec<(HostId, bool)> = self
            .ids
            .iter()
            .copied()
            .zip(self.ready.iter().copied())
            .collect();
        old.sort_unstable();
        self.ids.clear();
        self.ids.extend(hosts.iter().map(|h| h.id));
        self.ready.clear();
        self.ready.extend(self.ids.iter().map(|id| {
            old.binary_search_by_key(id, |&(i, _)| i)
                .is_ok_and(|k| old[k].1)
        }));
        self.rebuild_picker(rng);
    }

    fn pick(&mut self, _ctx: Ctx<'_>, _rng: &mut Stream) -> Option<usize> {
        if self.ready_list.is_empty() {
            return None;
        }
        self.next = self.next.wrapping_add(1);
        Some(self.ready_list[(self.next % self.ready_list.len() as u32) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(ids: &[u64]) -> Vec<Host> {
        ids.iter()
            .map(|&i| Host::new(i, format!("10.0.0.{i}:50051")))
            .collect()
    }

    fn picks(lb: &mut GrpcRoundRobin, rng: &mut Stream, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| lb.pick(Ctx::default(), rng).unwrap())
            .collect()
    }

    /// Picks cycle the READY children in turn and never touch the others.
    #[test]
    fn cycles_ready_children_only() {
        let mut rng = Stream::derive(3, "test/balance/grpc_rr", 0);
        let hs = hosts(&[0, 1, 2, 3, 4]);
        let mut lb = GrpcRoundRobin::new();
        lb.set_hosts(&hs, &mut rng);
        assert_eq!(lb.pick(Ctx::default(), &mut rng), None, "nothing ready yet");
        for i in [0, 1, 3] {
            lb.set_ready(i, true, &mut rng);
        }
        let ready = [0usize, 1, 3];
        let got = picks(&mut lb, &mut rng, 6);
        let start = ready.iter().position(|&r| r == got[0]).unwrap();
        let want: Vec<usize> = (0..6).map(|k| ready[(start + k) % 3]).collect();
        assert_eq!(got, want);
        assert!(!got.contains(&2) && !got.contains(&4));
    }

    /// The start index is the stream's `below(ready)` draw, and the first
    /// pick is one past it.
    #[test]
    fn first_pick_after_a_rebuild_is_one_past_the_drawn_start() {
        let hs = hosts(&[0, 1, 2, 3, 4, 5, 6]);
        let mut rng = Stream::derive(3, "test/balance/grpc_rr", 1);
        let mut lb = GrpcRoundRobin::new();
        lb.set_hosts(&hs, &mut rng);
        for i in 0..6 {
            lb.set_ready(i, true, &mut rng);
        }
        for _ in 0..20 {
            let start = rng.clone().below(7);
            lb.set_ready(6, true, &mut rng);
            assert_eq!(lb.pick(Ctx::default(), &mut rng), Some((start + 1) % 7));
            lb.set_ready(6, false, &mut rng);
        }
    }

    #[test]
    fn readiness_follows_endpoints_across_resolver_updates() {
        let mut rng = Stream::derive(3, "test/balance/grpc_rr", 2);
        let mut lb = GrpcRoundRobin::new();
        lb.set_hosts(&hosts(&[7, 8, 9]), &mut rng);
        lb.set_ready(0, true, &mut rng); // id 7
        lb.set_ready(2, true, &mut rng); // id 9
        lb.set_hosts(&hosts(&[9, 10, 7]), &mut rng);
        assert_eq!(
            (0..3).map(|i| lb.is_ready(i)).collect::<Vec<_>>(),
            [true, false, true]
        );
        let mut got = picks(&mut lb, &mut rng, 4);
        got.sort_unstable();
        assert_eq!(got, [0, 0, 2, 2]);
    }

    #[test]
    fn repeating_a_state_does_not_restart_the_picker() {
        let mut rng = Stream::derive(3, "test/balance/grpc_rr", 3);
        let mut lb = GrpcRoundRobin::new();
        lb.set_hosts(&hosts(&[0, 1, 2, 3]), &mut rng);
        for i in 0..4 {
            lb.set_ready(i, true, &mut rng);
        }
        let a = lb.pick(Ctx::default(), &mut rng).unwrap();
        let before = rng.clone().next_u64();
        lb.set_ready(1, true, &mut rng);
        assert_eq!(rng.clone().next_u64(), before, "no draw");
        assert_eq!(lb.pick(Ctx::default(), &mut rng), Some((a + 1) % 4));
    }
}
