//! Envoy RING_HASH: Ketama consistent hashing over XXH64.

use xxhash_rust::xxh64::xxh64;

use super::{ConfigError, Ctx, Host, Policy, normalized_weights};
use crate::rng::Stream;

/// Envoy's default `minimum_ring_size`.
pub const DEFAULT_MIN_RING_SIZE: u64 = 1024;
/// Envoy's default (and largest allowed) `maximum_ring_size`: 8M.
pub const DEFAULT_MAX_RING_SIZE: u64 = 8 * 1024 * 1024;

/// The function that places ring entries (Envoy `RingHash.hash_function`,
/// `ring_hash.proto`): `XX_HASH` (the default) or `MURMUR_HASH_2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashFunction {
    /// XXH64 with seed 0 (Envoy `HashUtil::xxHash64`).
    #[default]
    XxHash,
    /// libstdc++'s 64-bit `std::hash<std::string>` (Envoy
    /// `MurmurHash::murmurHash2` with `STD_HASH_SEED`), for rings shared
    /// with clients that hash the same way.
    MurmurHash2,
}

impl HashFunction {
    /// Envoy's enum name, as written in a cluster's configuration.
    pub fn name(self) -> &'static str {
        match self {
            HashFunction::XxHash => "XX_HASH",
            HashFunction::MurmurHash2 => "MURMUR_HASH_2",
        }
    }

    /// The position of one ring entry key (`"<host>_<k>"`).
    pub fn hash(self, key: &[u8]) -> u64 {
        match self {
            HashFunction::XxHash => xxh64(key, 0),
            HashFunction::MurmurHash2 => murmur_hash2(key, MURMUR_STD_HASH_SEED),
        }
    }
}

/// Envoy `MurmurHash::STD_HASH_SEED` (`source/common/common/hash.h`), the
/// seed libstdc++'s `std::hash<std::string>` uses.
pub const MURMUR_STD_HASH_SEED: u64 = 0xc70f_6907;

/// Envoy `MurmurHash::murmurHash2` (`source/common/common/hash.cc`), itself
/// libstdc++'s `_Hash_bytes` for 64-bit platforms (`libsupc++/hash_bytes.cc`):
/// 8-byte little-endian words, then the 1..7 trailing bytes as one
/// little-endian word. Envoy's `BasicWithMurmur2` ring, built with it, is
/// checked in `tests/hash.rs`.
pub fn murmur_hash2(key: &[u8], seed: u64) -> u64 {
    const MUL: u64 = 0xc6a4_a793_5bd1_e995;
    let shift_mix = |v: u64| v ^ (v >> 47);
    let mut hash = seed ^ (key.len() as u64).wrapping_mul(MUL);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let word = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let data = shift_mix(word.wrapping_mul(MUL)).wrapping_mul(MUL);
        hash ^= data;
        hash = hash.wrapping_mul(MUL);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let data = tail
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) + u64::from(b));
        hash ^= data;
        hash = hash.wrapping_mul(MUL);
    }
    hash = shift_mix(hash).wrapping_mul(MUL);
    shift_mix(hash)
}

/// Envoy's ring-hash balancer.
///
/// Source: Envoy `source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc`,
/// `RingHashLoadBalancer::Ring::Ring` (build) and `Ring::chooseHost` (lookup):
///
/// * weights normalised to sum 1 (`normalizeHostWeights`);
/// * `scale = min(ceil(w_min·min_ring) / w_min, max_ring)`;
/// * walking the hosts **in the given order**, running sums
///   `target += scale·w_i` and, while `current < target`, an entry keyed
///   `"<key>_<k>"` (k = 0, 1, … per host) at position `XXH64(key, 0)`;
///   `current += 1`. So a host gets ⌊·⌋ or ⌈·⌉ of `scale·w_i` entries;
/// * entries sorted by position (stable, so equal positions keep build order;
///   Envoy's `std::sort` leaves that unspecified, and 64-bit collisions do
///   not occur in practice);
/// * lookup: the first entry at a position ≥ the request hash, wrapping to
///   the first entry (Ketama's `ketama_get_server` binary search).
///
/// Entry positions come from [`HashFunction`] (XX_HASH by default).
#[derive(Clone, Debug)]
pub struct RingHash {
    min_ring_size: u64,
    max_ring_size: u64,
    hash_function: HashFunction,
    positions: Vec<u64>,
    hosts: Vec<u32>,
}

impl RingHash {
    /// Envoy's defaults: rings of at least 1024 and at most 8M entries.
    pub fn new() -> RingHash {
        RingHash::with_ring_sizes(DEFAULT_MIN_RING_SIZE, DEFAULT_MAX_RING_SIZE)
            .expect("defaults are valid")
    }

    /// `minimum_ring_size` and `maximum_ring_size`, checked as Envoy checks them.
    pub fn with_ring_sizes(min: u64, max: u64) -> Result<RingHash, ConfigError> {
        RingHash::with_config(min, max, HashFunction::XxHash)
    }

    /// Ring sizes plus Envoy's `hash_function`.
    pub fn with_config(
        min: u64,
        max: u64,
        hash_function: HashFunction,
    ) -> Result<RingHash, ConfigError> {
        for size in [min, max] {
            if size > DEFAULT_MAX_RING_SIZE {
                return Err(ConfigError::RingTooLarge(size));
            }
        }
        if min > max {
            return Err(ConfigError::RingBounds { min, max });
        }
        Ok(RingHash {
            min_ring_size: min,
            max_ring_size: max,
            hash_function,
            positions: Vec::new(),
            hosts: Vec::new(),
        })
    }

    /// The ring as `(position, host index)`, in lookup order.
    pub fn ring(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.positions
            .iter()
            .zip(&self.hosts)
            .map(|(&p, &h)| (p, h as usize))
    }

    /// Ketama lookup of one hash, `None` on an empty ring.
    pub fn lookup(&self, hash: u64) -> Option<usize> {
        if self.positions.is_empty() {
            return None;
        }
        let i = self.positions.partition_point(|&p| p < hash);
        let i = if i == self.positions.len() { 0 } else { i };
        Some(self.hosts[i] as usize)
    }
}

impl Default for RingHash {
    fn default() -> RingHash {
        RingHash::new()
    }
}

impl Policy for RingHash {
    fn set_hosts(&mut self, hosts: &[Host], _rng: &mut Stream) {
        self.positions.clear();
        self.hosts.clear();
        if hosts.is_empty() {
            return;
        }
        let (weights, min_w, _) = normalized_weights(hosts);
        let scale =
            ((min_w * self.min_ring_size as f64).ceil() / min_w).min(self.max_ring_size as f64);
        let ring_size = scale.ceil() as usize;
        let mut entries: Vec<(u64, u32)> = Vec::with_capacity(ring_size);
        let mut key = String::new();
        let mut current = 0.0f64;
        let mut target = 0.0f64;
        for (i, (host, w)) in hosts.iter().zip(&weights).enumerate() {
            debug_assert!(!host.key.is_empty(), "ring hash needs a hash key");
            target += scale * w;
            let mut k: u64 = 0;
            while current < target {
                key.clear();
                key.push_str(&host.key);
                key.push('_');
                key.push_str(&k.to_string());
                entries.push((self.hash_function.hash(key.as_bytes()), i as u32));
                k += 1;
                current += 1.0;
            }
        }
        entries.sort_by_key(|&(p, _)| p);
        self.positions.extend(entries.iter().map(|&(p, _)| p));
        self.hosts.extend(entries.iter().map(|&(_, h)| h));
    }

    fn pick(&mut self, ctx: Ctx<'_>, rng: &mut Stream) -> Option<usize> {
        if self.positions.is_empty() {
            return None;
        }
        let hash = ctx.hash.unwrap_or_else(|| rng.next_u64());
        self.lookup(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envoy_hosts(key: impl Fn(u64) -> String) -> Vec<Host> {
        (0..6).map(|i| Host::new(i, key(90 + i))).collect()
    }

    /// Envoy `test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc`,
    /// `RingHashLoadBalancerTest.Basic`: six hosts `127.0.0.1:90`..`:95`,
    /// `minimum_ring_size` 12. The ring (port, position) and the lookups are
    /// Envoy's expected values, copied from the test.
    #[test]
    fn reproduces_envoy_basic_ring() {
        let hosts = envoy_hosts(|p| format!("127.0.0.1:{p}"));
        let mut rng = Stream::derive(1, "test/balance/ring", 0);
        let mut lb = RingHash::with_ring_sizes(12, DEFAULT_MAX_RING_SIZE).unwrap();
        lb.set_hosts(&hosts, &mut rng);
        let want: [(u64, u64); 12] = [
            (94, 833437586790550860),
            (92, 928266305478181108),
            (90, 1033482794131418490),
            (95, 3551244743356806947),
            (93, 3851675632748031481),
            (91, 5583722120771150861),
            (91, 6311230543546372928),
            (93, 7700377290971790572),
            (95, 13144177310400110813),
            (92, 13444792449719432967),
            (94, 15516499411664133160),
            (90, 16117243373044804889),
        ];
        let got: Vec<(u64, u64)> = lb.ring().map(|(p, h)| (90 + h as u64, p)).collect();
        assert_eq!(got, want);
        let lookups: [(u64, usize); 5] = [
            (0, 4),
            (u64::MAX, 4),
            (3551244743356806947, 5),
            (3551244743356806948, 3),
            (16117243373044804880, 0),
        ];
        for (hash, host) in lookups {
            assert_eq!(lb.pick(Ctx::hashed(hash), &mut rng), Some(host), "{hash}");
        }
    }

    /// Envoy `RingHashLoadBalancerTest.BasicWithDoundedLoad` ring (hashing by
    /// hostname `"90"`..`"95"`, minimum ring 12); the bounded-load part is not
    /// modelled, the ring itself is.
    #[test]
    fn reproduces_envoy_hostname_ring() {
        let hosts = envoy_hosts(|p| p.to_string());
        let mut rng = Stream::derive(1, "test/balance/ring", 1);
        let mut lb = RingHash::with_ring_sizes(12, DEFAULT_MAX_RING_SIZE).unwrap();
        lb.set_hosts(&hosts, &mut rng);
        let want: [(u64, u64); 12] = [
            (95, 1975508444536362413),
            (95, 2376063919839173711),
            (93, 2386806903309390596),
            (94, 6749904478991551885),
            (93, 6803900775736438537),
            (92, 7225015537174310577),
            (90, 8787465352164086522),
            (92, 11282020843382717940),
            (91, 13723418369486627818),
            (90, 13776502110861797421),
            (91, 14338313586354474791),
            (94, 15364271037087512980),
        ];
        let got: Vec<(u64, u64)> = lb.ring().map(|(p, h)| (90 + h as u64, p)).collect();
        assert_eq!(got, want);
    }

    /// (weights, min ring, max ring, entries per host): the scale rule and
    /// the running sums that hand out fractional shares.
    #[test]
    fn entries_per_host_follow_the_scale_rule() {
        type Case = (&'static [u32], u64, u64, &'static [usize]);
        let cases: [Case; 5] = [
            (&[1, 1, 1, 1, 1, 1], 12, 1000, &[2; 6]),
            (&[1; 4], 1024, 1024, &[256; 4]),
            // Envoy's comment: 4 equal hosts, scale capped at 6 → 1.5 each → 2,1,2,1.
            (&[1; 4], 6, 6, &[2, 1, 2, 1]),
            // w = 1/4, 3/4: scale = ceil(0.25·10)/0.25 = 12 → 3 and 9.
            (&[1, 3], 10, 1000, &[3, 9]),
            // three hosts: ceil(1024/3)=342 → scale 1026 → 342 each.
            (&[1, 1, 1], 1024, DEFAULT_MAX_RING_SIZE, &[342; 3]),
        ];
        let mut rng = Stream::derive(1, "test/balance/ring", 2);
        for (weights, min, max, want) in cases {
            let hosts: Vec<Host> = weights
                .iter()
                .enumerate()
                .map(|(i, &w)| Host::weighted(i as u64, format!("h{i}"), w))
                .collect();
            let mut lb = RingHash::with_ring_sizes(min, max).unwrap();
            lb.set_hosts(&hosts, &mut rng);
            let mut count = vec![0usize; hosts.len()];
            for (_, h) in lb.ring() {
                count[h] += 1;
            }
            assert_eq!(count, want, "weights {weights:?}, ring {min}..{max}");
        }
    }

    /// Removing one of N hosts: every key of the removed host moves; a key
    /// of a surviving host moves only to an entry that did not exist before
    /// (old entries keep their positions). Because each host's entry count
    /// `ceil(1024/N)` grows when N shrinks, those new entries take keys
    /// too, so Envoy moves about 1/N **plus** their share: 1.5–2 × 1/N at
    /// the default minimum ring, not the textbook 1/N.
    #[test]
    fn removing_one_of_n_hosts_moves_its_keys_and_those_of_new_entries() {
        let mut rng = Stream::derive(1, "test/balance/ring", 3);
        for n in [5u64, 10, 20] {
            let all: Vec<Host> = (0..n)
                .map(|i| Host::new(i, format!("10.0.0.{i}:8080")))
                .collect();
            let gone = n / 2;
            let kept: Vec<Host> = all.iter().filter(|h| h.id.0 != gone).cloned().collect();
            let mut before = RingHash::new();
            let mut after = RingHash::new();
            before.set_hosts(&all, &mut rng);
            after.set_hosts(&kept, &mut rng);
            let old_positions: Vec<u64> = before.ring().map(|(p, _)| p).collect();
            let new_ring: Vec<(u64, usize)> = after.ring().collect();
            let keys = 20_000;
            let mut moved = 0;
            for _ in 0..keys {
                let h = rng.next_u64();
                let a = all[before.lookup(h).unwrap()].id;
                let b = kept[after.lookup(h).unwrap()].id;
                if a.0 == gone {
                    assert_ne!(b, a);
                } else if b != a {
                    let i = new_ring.partition_point(|&(p, _)| p < h) % new_ring.len();
                    assert!(
                        old_positions.binary_search(&new_ring[i].0).is_err(),
                        "a surviving host's key moved to an old entry"
                    );
                }
                moved += u32::from(a != b);
            }
            let moved_per_nth = f64::from(moved) / f64::from(keys) * n as f64;
            assert!(
                (1.0..2.5).contains(&moved_per_nth),
                "{n} hosts: moved {moved_per_nth:.2} × 1/N"
            );
        }
    }

    #[test]
    fn empty_ring_picks_nothing_and_bad_bounds_are_refused() {
        let mut rng = Stream::derive(1, "test/balance/ring", 4);
        let mut lb = RingHash::new();
        lb.set_hosts(&[], &mut rng);
        assert_eq!(lb.pick(Ctx::hashed(1), &mut rng), None);
        assert_eq!(
            RingHash::with_ring_sizes(20, 10).unwrap_err(),
            ConfigError::RingBounds { min: 20, max: 10 }
        );
        assert_eq!(
            RingHash::with_ring_sizes(1, DEFAULT_MAX_RING_SIZE + 1).unwrap_err(),
            ConfigError::RingTooLarge(DEFAULT_MAX_RING_SIZE + 1)
        );
    }
}
