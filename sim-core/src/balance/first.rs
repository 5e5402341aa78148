//! Always the first host: what a client that takes `answer[0]` does.

use super::{Ctx, Host, Policy};
use crate::rng::Stream;

/// Always index 0 of the current host set.
///
/// Source: the behaviour of resolvers' first-address users (glibc
/// `getaddrinfo` callers that connect to the first result; grpc-go
/// `pick_first` before any failure, `balancer/pickfirst/pickfirst.go`).
#[derive(Clone, Debug, Default)]
pub struct First {
    n: usize,
}

impl First {
    /// A first-address balancer with no hosts yet.
    pub fn new() -> First {
        First::default()
    }
}

impl Policy for First {
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.n = hosts.len();
    }

    fn pick(&mut self, _ctx: Ctx<'_>, _rng: &mut Stream) -> Option<usize> {
        (self.n > 0).then_some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_index_zero_or_none_when_empty() {
        let mut rng = Stream::derive(1, "test/balance/first", 0);
        let mut lb = First::new();
        let cases: [(usize, Option<usize>); 3] = [(0, None), (1, Some(0)), (5, Some(0))];
        for (n, want) in cases {
            let hosts: Vec<Host> = (0..n as u64).map(|i| Host::new(i, "h")).collect();
            lb.set_hosts(&hosts, &mut rng);
            for _ in 0..3 {
                assert_eq!(lb.pick(Ctx::default(), &mut rng), want, "{n} hosts");
            }
        }
    }
}
