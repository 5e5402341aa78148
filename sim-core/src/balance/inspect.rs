//! Consistent-hash tables a user can look at (`ksim hash`): build Envoy's
//! ring or Maglev table from named hosts and report which host a key
//! picks, the whole table, or each host's share of it.
//!
//! Owns the host list syntax (`HOST[=WEIGHT]`) and the key hash; the
//! tables themselves are [`RingHash`] and [`Maglev`], the very code the
//! simulated clients use. Does not print: the caller renders what [`HashTable`] reports.
//!
//! Sources (Envoy):
//! * the key's hash: `source/common/http/hash_policy.cc` — a header,
//!   cookie, query parameter or source IP is hashed with
//!   `HashUtil::xxHash64(value)` (XXH64, seed 0), whatever the ring's own
//!   `hash_function`;
//! * the host's hash key: `hashKey()` in
//!   `source/extensions/load_balancing_policies/common/thread_aware_lb_impl.h`:
//!   `address()->asString()` (`127.0.0.1:90`, `[::1]:90`), or the hostname
//!   with `use_hostname_for_hashing`;
//! * weights: EDS `load_balancing_weight` is at least 1, and a locality's
//!   weights may sum to at most 4294967295 (`endpoint_components.proto`).

use std::net::SocketAddr;

use serde::Serialize;
use xxhash_rust::xxh64::xxh64;

use super::{ConfigError, HashFunction, Host, Maglev, Policy, RingHash};
use crate::rng::Stream;

/// The most hosts one table is built from (a bound on work, not Envoy's).
pub const MAX_HOSTS: usize = 100_000;

/// Which table to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashPolicy {
    /// Envoy MAGLEV with `table_size` (a prime ≤ 5000011).
    Maglev { table_size: u64 },
    /// Envoy RING_HASH.
    RingHash {
        min_ring_size: u64,
        max_ring_size: u64,
        hash_function: HashFunction,
    },
}

/// One host as given: its hash key and weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostSpec {
    /// The string hashed: the canonical `address:port` or the hostname.
    pub host: String,
    pub weight: u32,
}

/// Why a host list is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("`{0}` is not an address with a port (e.g. `10.0.0.5:8080`, `[fd00::5]:8080`)")]
    NotAnAddress(String),
    #[error("the hostname is empty or holds a space or control character: `{0}`")]
    BadHostname(String),
    #[error("`{0}`: the weight must be a whole number from 1 to 4294967295")]
    BadWeight(String),
    #[error("host `{0}` is given twice")]
    Duplicate(String),
    #[error("no hosts given")]
    Empty,
    #[error("{0} hosts given; at most {MAX_HOSTS}")]
    TooMany(usize),
    #[error("the weights sum to {0}, more than 4294967295 (Envoy's limit per locality)")]
    WeightSum(u64),
}

/// `HOST[=WEIGHT]`: an address with a port, or with `hostnames` any
/// hostname (Envoy `use_hostname_for_hashing`). Addresses are put in the
/// form Envoy hashes (`[::1]:80` for `[0:0::1]:80`).
pub fn parse_host(arg: &str, hostnames: bool) -> Result<HostSpec, HostError> {
    let (name, weight) = match arg.rsplit_once('=') {
        Some((n, w)) => match w.parse::<u32>() {
            Ok(w) if w >= 1 => (n, w),
            _ => return Err(HostError::BadWeight(arg.to_string())),
        },
        None => (arg, 1),
    };
    let host = if hostnames {
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(HostError::BadHostname(name.to_string()));
        }
        name.to_string()
    } else {
        match name.parse::<SocketAddr>() {
            Ok(a) => a.to_string(),
            Err(_) => return Err(HostError::NotAnAddress(name.to_string())),
        }
    };
    Ok(HostSpec { host, weight })
}

/// Check a whole host list: not empty, bounded, no host twice, weights
/// within Envoy's sum.
pub fn check_hosts(hosts: &[HostSpec]) -> Result<(), HostError> {
    if hosts.is_empty() {
        return Err(HostError::Empty);
    }
    if hosts.len() > MAX_HOSTS {
        return Err(HostError::TooMany(hosts.len()));
    }
    let mut keys: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(HostError::Duplicate(w[0].to_string()));
    }
    let sum: u64 = hosts.iter().map(|h| u64::from(h.weight)).sum();
    if sum > u64::from(u32::MAX) {
        return Err(HostError::WeightSum(sum));
    }
    Ok(())
}

/// The hash Envoy computes for a request key (a header, cookie, query
/// parameter value, or a source IP): XXH64 with seed 0.
pub fn key_hash(key: &str) -> u64 {
    xxh64(key.as_bytes(), 0)
}

/// A built table over named hosts.
pub struct HashTable {
    hosts: Vec<HostSpec>,
    kind: Kind,
}

enum Kind {
    Ring(RingHash),
    Maglev(Maglev),
}

/// One host's part of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub host: String,
    pub weight: u32,
    /// Ring entries or Maglev slots the host holds.
    pub entries: u64,
    /// `entries` / table size: the share of uniformly spread keys it gets.
    pub share: f64,
}

/// One entry of the table: a Maglev slot (`at` = slot index) or a ring
/// entry (`at` = its position on the ring), in lookup order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: u64,
    pub host: u32,
}

impl HashTable {
    /// Build the table Envoy builds for these hosts (in the order given,
    /// which ring hash walks and Maglev sorts away).
    pub fn build(policy: HashPolicy, hosts: Vec<HostSpec>) -> Result<HashTable, ConfigError> {
        let lb_hosts: Vec<Host> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| Host::weighted(i as u64, h.host.clone(), h.weight))
            .collect();
        // Neither construction draws from the stream.
        let mut unused = Stream::derive(0, "balance/inspect/unused", 0);
        let kind = match policy {
            HashPolicy::Maglev { table_size } => {
                let mut m = Maglev::with_table_size(table_size)?;
                m.set_hosts(&lb_hosts, &mut unused);
                Kind::Maglev(m)
            }
            HashPolicy::RingHash {
                min_ring_size,
                max_ring_size,
                hash_function,
            } => {
                let mut r = RingHash::with_config(min_ring_size, max_ring_size, hash_function)?;
                r.set_hosts(&lb_hosts, &mut unused);
                Kind::Ring(r)
            }
        };
        Ok(HashTable { hosts, kind })
    }

    pub fn hosts(&self) -> &[HostSpec] {
        &self.hosts
    }

    /// Ring entries or Maglev slots.
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::Ring(r) => r.ring().count() as u64,
            Kind::Maglev(m) => m.table().count() as u64,
        }
    }

    /// The host index a request hash picks (Envoy `chooseHost(hash, 0)`).
    pub fn lookup(&self, hash: u64) -> usize {
        match &self.kind {
            Kind::Ring(r) => r.lookup(hash),
            Kind::Maglev(m) => m.lookup(hash),
        }
        .expect("a table over at least one host")
    }

    /// Every entry in lookup order.
    pub fn entries(&self) -> Vec<Entry> {
        match &self.kind {
            Kind::Ring(r) => r
                .ring()
                .map(|(p, h)| Entry {
                    at: p,
                    host: h as u32,
                })
                .collect(),
            Kind::Maglev(m) => m
                .table()
                .enumerate()
                .map(|(i, h)| Entry {
                    at: i as u64,
                    host: h as u32,
                })
                .collect(),
        }
    }

    /// Each host's entries and share, in the order the hosts were given.
    pub fn shares(&self) -> Vec<Share> {
        let mut count = vec![0u64; self.hosts.len()];
        let held: Box<dyn Iterator<Item = usize>> = match &self.kind {
            Kind::Ring(r) => Box::new(r.ring().map(|(_, h)| h)),
            Kind::Maglev(m) => Box::new(m.table()),
        };
        for h in held {
            count[h] += 1;
        }
        let total = count.iter().sum::<u64>().max(1) as f64;
        self.hosts
            .iter()
            .zip(count)
            .map(|(h, entries)| Share {
                host: h.host.clone(),
                weight: h.weight,
                entries,
                share: entries as f64 / total,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_arguments_parse_as_envoy_hashes_them() {
        let ok = |a: &str, hn: bool, host: &str, weight: u32| {
            assert_eq!(
                parse_host(a, hn),
                Ok(HostSpec {
                    host: host.into(),
                    weight
                }),
                "{a}"
            );
        };
        ok("127.0.0.1:90", false, "127.0.0.1:90", 1);
        ok("127.0.0.1:91=2", false, "127.0.0.1:91", 2);
        ok("[0:0::1]:80", false, "[::1]:80", 1);
        ok("web-0", true, "web-0", 1);
        ok("90=3", true, "90", 3);
        let err = |a: &str, hn: bool, e: HostError| assert_eq!(parse_host(a, hn), Err(e), "{a}");
        err(
            "127.0.0.1",
            false,
            HostError::NotAnAddress("127.0.0.1".into()),
        );
        err("web-0", false, HostError::NotAnAddress("web-0".into()));
        err("web-0=0", true, HostError::BadWeight("web-0=0".into()));
        err("web-0=x", true, HostError::BadWeight("web-0=x".into()));
        err("=2", true, HostError::BadHostname("".into()));
        err("a b", true, HostError::BadHostname("a b".into()));
    }

    #[test]
    fn host_lists_are_checked_whole() {
        let h = |n: &str, w| HostSpec {
            host: n.into(),
            weight: w,
        };
        assert_eq!(check_hosts(&[]), Err(HostError::Empty));
        assert_eq!(
            check_hosts(&[h("a", 1), h("b", 1), h("a", 2)]),
            Err(HostError::Duplicate("a".into()))
        );
        assert_eq!(
            check_hosts(&[h("a", u32::MAX), h("b", 1)]),
            Err(HostError::WeightSum(u64::from(u32::MAX) + 1))
        );
        assert_eq!(check_hosts(&[h("a", u32::MAX)]), Ok(()));
    }

    /// The table here is the one the balancer builds: Envoy's `Weighted`
    /// Maglev case, and shares that add up to the table.
    #[test]
    fn tables_and_shares_come_from_the_balancers() {
        let hosts = vec![
            parse_host("127.0.0.1:90=1", false).unwrap(),
            parse_host("127.0.0.1:91=2", false).unwrap(),
        ];
        let t = HashTable::build(HashPolicy::Maglev { table_size: 17 }, hosts).unwrap();
        let want = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1];
        let got: Vec<u32> = t.entries().iter().map(|e| e.host).collect();
        assert_eq!(got, want);
        let s = t.shares();
        assert_eq!((s[0].entries, s[1].entries), (6, 11));
        assert_eq!(t.size(), 17);
        assert_eq!(t.lookup(18), 0);
    }
}
