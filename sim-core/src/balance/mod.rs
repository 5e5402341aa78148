//! Client-side load balancers: which host of a set one request goes to.
//!
//! Each policy reproduces one real implementation, rule for rule, and names
//! the file and function it follows (Envoy `source/extensions/load_balancing_policies/`,
//! Envoy `source/common/upstream/edf_scheduler.h`, grpc-go `balancer/`;
//! summarised in `shared/reference/balancing.md` §6 and §8):
//!
//! | policy | type | real system |
//! |---|---|---|
//! | random | [`Random`] | Envoy `random_lb.cc` |
//! | first | [`First`] | the first address of a DNS answer |
//! | round robin (and weighted: EDF) | [`RoundRobin`] | Envoy `round_robin_lb.h` |
//! | least request (P2C / N choices / full scan / weighted EDF) | [`LeastRequest`] | Envoy `least_request_lb.cc` |
//! | ring hash (Ketama) | [`RingHash`] | Envoy `ring_hash_lb.cc` |
//! | Maglev | [`Maglev`] | Envoy `maglev_lb.cc` |
//! | pick_first | [`PickFirst`] | grpc-go `balancer/pickfirst` |
//! | gRPC round_robin | [`GrpcRoundRobin`] | grpc-go `balancer/endpointsharding` |
//! | prefer an ordinal | [`PreferOrdinal`] | a "smart" client pinned to e.g. `web-0` |
//! | subsetting | [`random_subset`], [`deterministic_subset`] | SRE book ch. 20 |
//!
//! ## Contract
//!
//! * The caller owns the host list. [`Policy::set_hosts`] hands a policy the
//!   current set (after a DNS answer or an endpoints change);
//!   [`Policy::pick`] returns an **index into that slice**. State lives where
//!   the real system keeps it: Envoy's round-robin cursor survives host-set
//!   changes, a ring or Maglev table is rebuilt, a gRPC picker restarts at a
//!   random index.
//! * `pick` never allocates; `set_hosts` may (tables are rebuilt there).
//! * The only randomness is the caller's [`Stream`], passed to every call
//!   that draws. Nothing here reads a clock, OS entropy or iterates a hash
//!   map, so the same stream gives the same picks everywhere. Floating-point
//!   use is IEEE-754 basic arithmetic (plus `libm`'s pure-Rust `pow` for a
//!   non-unit least-request bias), so results are platform-independent.
//! * Ring hash and Maglev hash [`Host::key`] with XXH64, exactly as Envoy
//!   hashes `address()->asString()` (e.g. `10.0.0.5:8080`) or, with
//!   `use_hostname_for_hashing`, the hostname (`web-0`). The caller chooses
//!   which string to give; the tables are then reproducible bit for bit.
//!
//! Not modelled: Envoy priorities, panic threshold, locality/zone routing,
//! slow start, `hash_balance_factor` (bounded load) and retry host
//! predicates; grpc-go's Happy Eyeballs and connection backoff (those belong
//! to the caller's connection model).

mod edf;
mod first;
mod grpc_round_robin;
pub mod inspect;
mod least_request;
mod maglev;
mod pick_first;
mod prefer;
mod random;
mod ring_hash;
mod round_robin;
mod subset;

pub use edf::EdfScheduler;
pub use first::First;
pub use grpc_round_robin::GrpcRoundRobin;
pub use least_request::{LeastRequest, Selection};
pub use maglev::{DEFAULT_TABLE_SIZE as MAGLEV_DEFAULT_TABLE_SIZE, Maglev};
pub use pick_first::{ConnectivityState, PickFirst};
pub use prefer::PreferOrdinal;
pub use random::Random;
pub use ring_hash::{
    DEFAULT_MAX_RING_SIZE, DEFAULT_MIN_RING_SIZE, HashFunction, RingHash, murmur_hash2,
};
pub use round_robin::RoundRobin;
pub use subset::{deterministic_subset, random_subset};

use crate::rng::Stream;

/// The caller's small, copyable name for a host (a pod index, an address id).
///
/// Policies return indices into the slice given to [`Policy::set_hosts`];
/// the id is what lets state follow a host across host-set changes (gRPC's
/// connected address, [`PreferOrdinal`]'s preferred host), the way grpc-go
/// compares `resolver.Address` values (`clientconn.go`,
/// `equalAddressIgnoringBalAttributes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub u64);

/// One upstream host as a balancer sees it.
///
/// Mirrors the parts of Envoy's `Upstream::Host` that balancing reads
/// (`envoy/upstream/upstream.h`: `weight()`, and `hashKey()` in
/// `thread_aware_lb_impl.h`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The caller's id for this host.
    pub id: HostId,
    /// The string consistent-hashing policies hash: Envoy's
    /// `address()->asString()` (`"10.0.0.5:8080"`) or the hostname when
    /// `use_hostname_for_hashing` is set (`"web-0"`). Must not be empty.
    pub key: String,
    /// Envoy `load_balancing_weight` (EDS), 1 by default. Envoy rejects 0;
    /// here 0 is read as 1.
    pub weight: u32,
}

impl Host {
    /// A host of weight 1.
    pub fn new(id: u64, key: impl Into<String>) -> Host {
        Host::weighted(id, key, 1)
    }

    /// A host with an explicit `load_balancing_weight`.
    pub fn weighted(id: u64, key: impl Into<String>, weight: u32) -> Host {
        Host {
            id: HostId(id),
            key: key.into(),
            weight,
        }
    }

    /// The weight balancing uses (0 read as 1).
    pub fn lb_weight(&self) -> u32 {
        self.weight.max(1)
    }
}

/// What one request offers a policy to decide with. Cheap to build: two
/// words and a slice borrow.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx<'a> {
    /// The request's hash for ring hash and Maglev (Envoy
    /// `LoadBalancerContext::computeHashKey`). `None`: the policy draws a
    /// random one, as Envoy's `ThreadAwareLoadBalancerBase::LoadBalancerImpl::chooseHost`
    /// does when the context has no hash.
    pub hash: Option<u64>,
    /// Active requests per host, parallel to the host slice (Envoy
    /// `rq_active`). Empty means every host has none.
    pub active: &'a [u32],
}

impl<'a> Ctx<'a> {
    /// A context carrying only a request hash.
    pub fn hashed(hash: u64) -> Ctx<'static> {
        Ctx {
            hash: Some(hash),
            active: &[],
        }
    }

    /// A context carrying only active-request counts.
    pub fn with_active(active: &'a [u32]) -> Ctx<'a> {
        Ctx { hash: None, active }
    }

    /// Active requests on host `i` (0 when no counts were given).
    pub fn active_of(&self, i: usize) -> u32 {
        self.active.get(i).copied().unwrap_or(0)
    }
}

/// A client-side load-balancing policy.
///
/// The shape of Envoy's `Upstream::LoadBalancer` (`chooseHost`) plus its
/// host-set callback (`PrioritySet::addPriorityUpdateCb` → `refresh`),
/// reduced to one priority and one locality.
pub trait Policy {
    /// The host set changed (or is given for the first time). `hosts` must
    /// be the slice later picks index into.
    fn set_hosts(&mut self, hosts: &[Host], rng: &mut Stream);

    /// The index of the host for this request, or `None` when the set is
    /// empty (or, for gRPC policies, no connection is usable yet).
    fn pick(&mut self, ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize>;
}

/// A policy's configuration is outside what the real system accepts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Envoy `RingHashLoadBalancer` constructor check.
    #[error("ring hash: minimum_ring_size ({min}) > maximum_ring_size ({max})")]
    RingBounds { min: u64, max: u64 },
    /// Envoy `ring_hash.proto`: both sizes are `lte: 8388608`.
    #[error("ring hash: ring size {0} exceeds 8388608")]
    RingTooLarge(u64),
    /// Envoy `MaglevLoadBalancer` constructor check.
    #[error("maglev: the table size must be a prime number, got {0}")]
    MaglevNotPrime(u64),
    /// Envoy `maglev.proto`: `table_size` is `lte: 5000011`.
    #[error("maglev: table size {0} exceeds 5000011")]
    MaglevTooLarge(u64),
    /// Envoy `least_request.proto`: `choice_count` is `gte: 2`.
    #[error("least request: choice_count must be at least 2, got {0}")]
    ChoiceCount(u32),
    /// Envoy reads a negative or NaN bias as an error (runtime value check).
    #[error("least request: active_request_bias must be finite and >= 0, got {0}")]
    Bias(f64),
}

/// Envoy's `hostWeightsAreEqual` (`load_balancer_impl.cc`): true for 0 or 1
/// hosts or when every weight matches the first.
fn weights_are_equal(hosts: &[Host]) -> bool {
    hosts
        .split_first()
        .is_none_or(|(h0, rest)| rest.iter().all(|h| h.lb_weight() == h0.lb_weight()))
}

/// Envoy's `normalizeHostWeights` (`thread_aware_lb_impl.cc`) without
/// localities: `w_i / Σw` with the locality weight 1.0, plus the minimum and
/// maximum normalised weight.
fn normalized_weights(hosts: &[Host]) -> (Vec<f64>, f64, f64) {
    let sum: u64 = hosts.iter().map(|h| u64::from(h.lb_weight())).sum();
    let mut min = 1.0f64;
    let mut max = 0.0f64;
    let w = hosts
        .iter()
        .map(|h| {
            let w = f64::from(h.lb_weight()) * 1.0 / sum as f64;
            min = min.min(w);
            max = max.max(w);
            w
        })
        .collect();
    (w, min, max)
}

/// Envoy's `random() % n`: a full 64-bit draw reduced modulo `n` (the tiny
/// modulo bias included, as Envoy has it).
fn random_index(rng: &mut Stream, n: usize) -> usize {
    debug_assert!(n > 0);
    (rng.next_u64() % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XXH64 reference values, as the C reference library (libxxhash 0.8.1)
    /// computes them; the last input is longer than 32 bytes, so the
    /// four-lane path is covered too. Every ring and Maglev position depends
    /// on this function.
    #[test]
    fn xxh64_matches_reference_vectors() {
        use xxhash_rust::xxh64::xxh64;
        let cases: [(&[u8], u64, u64); 5] = [
            (b"", 0, 0xEF46_DB37_51D8_E999),
            (b"", 1, 0xD5AF_BA13_36A3_BE4B),
            (b"a", 0, 0xD24E_C4F1_A98C_6E5B),
            (b"abc", 0, 0x44BC_2CF5_AD77_0999),
            (
                b"Nobody inspects the spammish repetition",
                0,
                0xFBCE_A83C_8A37_8BF1,
            ),
        ];
        for (input, seed, want) in cases {
            assert_eq!(xxh64(input, seed), want, "xxh64({input:?}, {seed})");
        }
    }

    #[test]
    fn weights_are_equal_follows_envoy() {
        let h = |w| Host::weighted(0, "a", w);
        let cases: [(&[Host], bool); 5] = [
            (&[], true),
            (&[h(7)], true),
            (&[h(2), h(2), h(2)], true),
            (&[h(1), h(2)], false),
            (&[h(0), h(1)], true), // 0 is read as 1
        ];
        for (hosts, want) in cases {
            assert_eq!(weights_are_equal(hosts), want, "{hosts:?}");
        }
    }
}
