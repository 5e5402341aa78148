//! A "smart" client that goes to one preferred StatefulSet member when it can.

use super::{Ctx, Host, HostId, Policy};
use crate::rng::Stream;

/// Wraps a policy and sends every request to a preferred host (for example
/// the pod `web-0`) while that host is in the set; otherwise the wrapped
/// policy picks.
///
/// Source: not Envoy or gRPC. It models application clients that address a
/// StatefulSet member by its stable identity (`web-0.nginx`; Kubernetes
/// StatefulSet identity, `shared/reference/balancing.md` §1.1), such as a
/// client that prefers a primary at ordinal 0 and falls back to any replica.
/// The inner policy is kept up to date on every host-set change, but is not
/// consulted (and draws nothing) while the preferred host is present.
#[derive(Clone, Debug)]
pub struct PreferOrdinal<P> {
    preferred: HostId,
    at: Option<usize>,
    inner: P,
}

impl<P: Policy> PreferOrdinal<P> {
    /// Prefer the host with id `preferred`, else ask `inner`.
    pub fn new(preferred: HostId, inner: P) -> PreferOrdinal<P> {
        PreferOrdinal {
            preferred,
            at: None,
            inner,
        }
    }

    /// The fallback policy.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The fallback policy, mutably (e.g. to report gRPC connection events).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
}

impl<P: Policy> Policy for PreferOrdinal<P> {
    fn set_hosts(&mut self, hosts: &[Host], rng: &mut Stream) {
        self.at = hosts.iter().position(|h| h.id == self.preferred);
        self.inner.set_hosts(hosts, rng);
    }

    fn pick(&mut self, ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize> {
        self.at.or_else(|| self.inner.pick(ctx, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::super::RoundRobin;
    use super::*;

    #[test]
    fn preferred_host_wins_while_present_and_the_inner_policy_covers_its_absence() {
        let web = |ids: &[u64]| -> Vec<Host> {
            ids.iter()
                .map(|&i| Host::new(i, format!("web-{i}")))
                .collect()
        };
        let mut rng = Stream::derive(1, "test/balance/prefer", 0);
        let mut lb = PreferOrdinal::new(HostId(0), RoundRobin::with_seed(0));
        // (host ids present, picks expected as ids)
        let cases: [(&[u64], &[u64]); 3] = [
            (&[2, 0, 1], &[0, 0, 0, 0]),
            (&[1, 2], &[1, 2, 1, 2]),
            (&[1, 2, 0], &[0, 0]),
        ];
        for (ids, want) in cases {
            let hs = web(ids);
            lb.set_hosts(&hs, &mut rng);
            let got: Vec<u64> = (0..want.len())
                .map(|_| hs[lb.pick(Ctx::default(), &mut rng).unwrap()].id.0)
                .collect();
            assert_eq!(got, want, "hosts {ids:?}");
        }
        // The round-robin cursor only moved while web-0 was absent.
        assert_eq!(lb.inner().cursor(), 4);
    }
}
