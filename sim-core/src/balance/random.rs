//! Envoy RANDOM: a uniformly random host per request.

use super::{Ctx, Host, Policy, random_index};
use crate::rng::Stream;

/// `hosts[random() % n]`, one 64-bit draw per pick, weights ignored.
///
/// Source: Envoy `source/extensions/load_balancing_policies/random/random_lb.cc`,
/// `RandomLoadBalancer::peekOrChoose` (`hosts_to_use[random_hash % hosts_to_use.size()]`).
#[derive(Clone, Debug, Default)]
pub struct Random {
    n: usize,
}

impl Random {
    /// A random balancer with no hosts yet.
    pub fn new() -> Random {
        Random::default()
    }
}

impl Policy for Random {
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.n = hosts.len();
    }

    fn pick(&mut self, _ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize> {
        (self.n > 0).then(|| random_index(rng, self.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_is_the_draw_modulo_the_host_count() {
        let hosts: Vec<Host> = (0..7).map(|i| Host::new(i, format!("h{i}"))).collect();
        let mut rng = Stream::derive(1, "test/balance/random", 0);
        let mut lb = Random::new();
        lb.set_hosts(&hosts, &mut rng);
        for _ in 0..100 {
            let want = (rng.clone().next_u64() % 7) as usize;
            assert_eq!(lb.pick(Ctx::default(), &mut rng), Some(want));
        }
    }

    #[test]
    fn empty_set_picks_nothing_and_draws_nothing() {
        let mut rng = Stream::derive(1, "test/balance/random", 1);
        let before = rng.clone().next_u64();
        let mut lb = Random::new();
        lb.set_hosts(&[], &mut rng);
        assert_eq!(lb.pick(Ctx::default(), &mut rng), None);
        assert_eq!(rng.next_u64(), before);
    }
}
