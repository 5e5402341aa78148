//! Envoy MAGLEV: a prime-sized lookup table filled by per-host permutations.

use xxhash_rust::xxh64::xxh64;

use super::{ConfigError, Ctx, Host, Policy, normalized_weights};
use crate::rng::Stream;

/// Envoy's default `table_size` (`MaglevTable::DefaultTableSize`, the
/// Maglev paper's recommendation).
pub const DEFAULT_TABLE_SIZE: u64 = 65537;
/// The largest `table_size` Envoy accepts (`maglev.proto`).
pub const MAX_TABLE_SIZE: u64 = 5_000_011;

/// Envoy's Maglev balancer.
///
/// Source: Envoy `source/extensions/load_balancing_policies/maglev/maglev_lb.cc`,
/// `MaglevTable::constructMaglevTableInternal`,
/// `OriginalMaglevTable::constructImplementationInternals`,
/// `MaglevTable::permutation` and `OriginalMaglevTable::chooseHost`:
///
/// * hosts sorted by hash key (ties, i.e. duplicate keys, by position in the
///   given slice: Envoy would compare host pointers there);
/// * per host `offset = XXH64(key, 0) % M`, `skip = XXH64(key, 1) % (M−1) + 1`;
/// * rounds `r = 1, 2, …` over the sorted hosts: a host takes a slot in round
///   `r` iff `r·w_i ≥ target_i` (normalised weights), then
///   `target_i += w_max`; its slot is `(offset + skip·next) % M`, with `next`
///   advanced past occupied slots and once more after taking one; filling
///   stops the moment the table is full;
/// * lookup `table[hash % M]`.
#[derive(Clone, Debug)]
pub struct Maglev {
    table_size: u64,
    table: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

impl Maglev {
    /// Envoy's default table size, 65537.
    pub fn new() -> Maglev {
        Maglev::with_table_size(DEFAULT_TABLE_SIZE).expect("default is valid")
    }

    /// A table of `table_size` slots; Envoy requires a prime ≤ 5000011.
    pub fn with_table_size(table_size: u64) -> Result<Maglev, ConfigError> {
        if table_size > MAX_TABLE_SIZE {
            return Err(ConfigError::MaglevTooLarge(table_size));
        }
        if !is_prime(table_size) {
            return Err(ConfigError::MaglevNotPrime(table_size));
        }
        Ok(Maglev {
            table_size,
            table: Vec::new(),
        })
    }

    /// The table: slot → host index (empty when there are no hosts).
    pub fn table(&self) -> impl Iterator<Item = usize> + '_ {
        self.table.iter().map(|&h| h as usize)
    }

    /// `table[hash % M]`, `None` on an empty table.
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        Some(self.table[(hash % self.table_size) as usize] as usize)
    }
}

impl Default for Maglev {
    fn default() -> Maglev {
        Maglev::new()
    }
}

/// Trial division; table sizes are at most 5000011, so at most ~1100 steps,
/// once per configuration (Envoy `Primes::isPrime`).
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

struct BuildEntry {
    host: u32,
    offset: u64,
    skip: u64,
    weight: f64,
    target_weight: f64,
    next: u64,
}

impl Policy for Maglev {
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.table.clear();
        if hosts.is_empty() {
            return;
        }
        let m = self.table_size;
        let (weights, _, max_w) = normalized_weights(hosts);
        let mut order: Vec<usize> = (0..hosts.len()).collect();
        order.sort_by(|&a, &b| hosts[a].key.cmp(&hosts[b].key).then(a.cmp(&b)));
        let mut entries: Vec<BuildEntry> = order
            .iter()
            .map(|&i| {
                let key = hosts[i].key.as_bytes();
                debug_assert!(!key.is_empty(), "maglev needs a hash key");
                BuildEntry {
                    host: i as u32,
                    offset: xxh64(key, 0) % m,
                    skip: xxh64(key, 1) % (m - 1) + 1,
                    weight: weights[i],
                    target_weight: 0.0,
                    next: 0,
                }
            })
            .collect();
        let permutation = |e: &BuildEntry| (e.offset + e.skip * e.next) % m;
        self.table.resize(m as usize, EMPTY);
        let mut filled: u64 = 0;
        let mut iteration: u32 = 1;
        while filled < m {
            for e in entries.iter_mut() {
                if filled >= m {
                    break;
                }
                if f64::from(iteration) * e.weight < e.target_weight {
                    continue;
                }
                e.target_weight += max_w;
                let mut c = permutation(e);
                while self.table[c as usize] != EMPTY {
                    e.next += 1;
                    c = permutation(e);
                }
                self.table[c as usize] = e.host;
                e.next += 1;
                filled += 1;
            }
            iteration += 1;
        }
    }

    fn pick(&mut self, ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let hash = ctx.hash.unwrap_or_else(|| rng.next_u64());
        self.lookup(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_of(hosts: &[Host], size: u64) -> Vec<usize> {
        let mut rng = Stream::derive(1, "test/balance/maglev", 0);
        let mut lb = Maglev::with_table_size(size).unwrap();
        lb.set_hosts(hosts, &mut rng);
        lb.table().collect()
    }

    /// Envoy `test/extensions/load_balancing_policies/maglev/maglev_lb_test.cc`:
    /// the exact expected tables (`expected_assignments`) of `Basic` (hosts
    /// keyed by address `127.0.0.1:90`..`:95`, table size 7),
    /// `BasicWithHostName` (keyed `"90"`..`"95"`, size 7) and `Weighted`
    /// (`:90` weight 1, `:91` weight 2, size 17).
    #[test]
    fn reproduces_envoy_expected_tables() {
        let six = |key: &dyn Fn(u64) -> String| -> Vec<Host> {
            (0..6).map(|i| Host::new(i, key(90 + i))).collect()
        };
        let by_address = six(&|p| format!("127.0.0.1:{p}"));
        let by_hostname = six(&|p| p.to_string());
        let weighted = vec![
            Host::weighted(0, "127.0.0.1:90", 1),
            Host::weighted(1, "127.0.0.1:91", 2),
        ];
        type Case<'a> = (&'a str, &'a [Host], u64, &'a [usize]);
        let cases: [Case; 3] = [
            ("Basic", &by_address, 7, &[2, 4, 0, 1, 5, 0, 3]),
            ("BasicWithHostName", &by_hostname, 7, &[2, 5, 0, 3, 4, 1, 0]),
            (
                "Weighted",
                &weighted,
                17,
                &[1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1],
            ),
        ];
        for (name, hosts, size, want) in cases {
            assert_eq!(
                table_of(hosts, size),
                want,
                "Envoy MaglevLoadBalancerTest.{name}"
            );
        }
    }

    /// Envoy `BasicStability`: the table depends on the set, not the order
    /// the hosts are given in; lookups are `table[hash % M]`.
    #[test]
    fn table_is_independent_of_host_order_and_lookup_is_hash_mod_m() {
        let hosts: Vec<Host> = (0..6)
            .map(|i| Host::new(i, format!("127.0.0.1:{}", 90 + i)))
            .collect();
        let mut shuffled = hosts.clone();
        let mut rng = Stream::derive(1, "test/balance/maglev", 1);
        rng.shuffle(&mut shuffled);
        let ids =
            |hs: &[Host], t: Vec<usize>| -> Vec<u64> { t.iter().map(|&i| hs[i].id.0).collect() };
        assert_eq!(
            ids(&hosts, table_of(&hosts, 7)),
            ids(&shuffled, table_of(&shuffled, 7))
        );

        let mut lb = Maglev::with_table_size(7).unwrap();
        lb.set_hosts(&hosts, &mut rng);
        let want = [2, 4, 0, 1, 5, 0, 3];
        for h in 0..21u64 {
            assert_eq!(
                lb.pick(Ctx::hashed(h), &mut rng),
                Some(want[(h % 7) as usize])
            );
        }
    }

    /// (host count, table size): every slot is filled, and equal weights get
    /// ⌊M/n⌋ or ⌈M/n⌉ slots each.
    #[test]
    fn equal_weights_share_the_table_evenly() {
        for (n, m) in [(1u64, 7u64), (3, 17), (10, 65537), (7, 101)] {
            let hosts: Vec<Host> = (0..n)
                .map(|i| Host::new(i, format!("10.1.0.{i}:80")))
                .collect();
            let table = table_of(&hosts, m);
            assert_eq!(table.len() as u64, m);
            let mut count = vec![0u64; n as usize];
            for h in table {
                count[h] += 1;
            }
            for c in &count {
                assert!(
                    *c == m / n || *c == m / n + 1,
                    "{n} hosts, M {m}: {count:?}"
                );
            }
        }
    }

    #[test]
    fn table_size_must_be_a_small_enough_prime() {
        let cases = [
            (8, Err(ConfigError::MaglevNotPrime(8))),
            (1, Err(ConfigError::MaglevNotPrime(1))),
            (65536, Err(ConfigError::MaglevNotPrime(65536))),
            (5_000_012, Err(ConfigError::MaglevTooLarge(5_000_012))),
            (7, Ok(())),
            (65537, Ok(())),
            (5_000_011, Ok(())),
        ];
        for (size, want) in cases {
            assert_eq!(Maglev::with_table_size(size).map(|_| ()), want, "{size}");
        }
    }

    #[test]
    fn empty_table_picks_nothing() {
        let mut rng = Stream::derive(1, "test/balance/maglev", 2);
        let mut lb = Maglev::with_table_size(7).unwrap();
        lb.set_hosts(&[], &mut rng);
        assert_eq!(lb.pick(Ctx::hashed(3), &mut rng), None);
    }
}
