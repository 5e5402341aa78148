//! Subsetting: which backends one client connects to at all.
//!
//! Pure functions returning backend indices; a caller then balances over the
//! subset with any [`super::Policy`].

use crate::rng::Stream;

/// Random subsetting: `k` distinct backends of `backends`, uniformly, in
/// draw order (a partial Fisher–Yates shuffle with the caller's stream). `k`
/// larger than `backends` gives all of them.
///
/// Source: Google SRE book, ch. 20 "Load Balancing in the Datacenter",
/// "A Subset Selection Algorithm: Random Subsetting" (the naive approach the
/// chapter shows to be badly unbalanced for small subsets).
pub fn random_subset(backends: usize, k: usize, rng: &mut Stream) -> Vec<usize> {
    let k = k.min(backends);
    let mut all: Vec<usize> = (0..backends).collect();
    for i in 0..k {
        let j = i + rng.below(backends - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all
}

/// Deterministic subsetting: the subset of `subset_size` backends for client
/// `client_id`.
///
/// Source: Google SRE book, ch. 20, "A Subset Selection Algorithm:
/// Deterministic Subsetting" (`def Subset(backends, client_id, subset_size)`):
///
/// ```text
/// subset_count = len(backends) / subset_size
/// round = client_id / subset_count
/// random.seed(round); random.shuffle(backends)
/// subset_id = client_id % subset_count
/// return backends[subset_id * subset_size : (subset_id + 1) * subset_size]
/// ```
///
/// The per-round shuffle is the stream `balance/subset/<round>` of `seed`
/// (Python's `random` is not reproduced; any fixed shuffle per round keeps
/// the property). Clients of one round get disjoint subsets, so when
/// `subset_size` divides `backends` every round spreads its `subset_count`
/// clients over all backends exactly once; otherwise the
/// `backends % subset_size` backends shuffled last get no client in that
/// round. A `subset_size` of 0 or above `backends` is clamped to `1..=backends`.
pub fn deterministic_subset(
    backends: usize,
    client_id: u64,
    subset_size: usize,
    seed: u64,
) -> Vec<usize> {
    if backends == 0 {
        return Vec::new();
    }
    let subset_size = subset_size.clamp(1, backends);
    let subset_count = (backends / subset_size) as u64;
    let round = client_id / subset_count;
    let mut order: Vec<usize> = (0..backends).collect();
    Stream::derive(seed, "balance/subset", round).shuffle(&mut order);
    let subset_id = (client_id % subset_count) as usize;
    let start = subset_id * subset_size;
    order[start..start + subset_size].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (backends, subset size, clients): with the size dividing the backends
    /// and whole rounds of clients, every backend serves exactly
    /// `clients · size / backends` clients.
    #[test]
    fn deterministic_subsets_load_every_backend_equally_over_whole_rounds() {
        let cases = [(12, 3, 40u64), (100, 10, 1000), (6, 6, 7), (9, 1, 27)];
        for (backends, size, clients) in cases {
            let mut per_backend = vec![0u64; backends];
            for c in 0..clients {
                let s = deterministic_subset(backends, c, size, 42);
                assert_eq!(s.len(), size);
                for b in s {
                    per_backend[b] += 1;
                }
            }
            let want = clients * size as u64 / backends as u64;
            assert!(
                per_backend.iter().all(|&n| n == want),
                "{backends} backends, subsets of {size}, {clients} clients: {per_backend:?}"
            );
        }
    }

    /// Within a round, subsets are disjoint; rounds use different shuffles.
    #[test]
    fn clients_of_one_round_get_disjoint_subsets_and_rounds_differ() {
        let (backends, size) = (10, 3); // 3 clients a round, one backend idle
        let round = |r: u64| -> Vec<Vec<usize>> {
            (0..3)
                .map(|k| deterministic_subset(backends, 3 * r + k, size, 7))
                .collect()
        };
        for r in 0..5 {
            let mut all: Vec<usize> = round(r).concat();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), 9, "round {r}: subsets overlap");
        }
        assert_ne!(round(0), round(1));
        assert_eq!(round(3), round(3), "same round, same subsets");
    }

    #[test]
    fn random_subsets_are_distinct_in_range_and_reproducible() {
        for (backends, k) in [(10, 3), (5, 5), (4, 9), (0, 2), (50, 1)] {
            let mut a = Stream::derive(5, "test/balance/subset", backends as u64);
            let mut b = a.clone();
            let s = random_subset(backends, k, &mut a);
            assert_eq!(s, random_subset(backends, k, &mut b));
            assert_eq!(s.len(), k.min(backends));
            let mut d = s.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), s.len());
            assert!(s.iter().all(|&i| i < backends));
        }
    }

    /// Every backend is equally likely to be in a random subset.
    #[test]
    fn random_subset_membership_is_uniform() {
        let mut rng = Stream::derive(5, "test/balance/subset", 99);
        let mut hits = [0u32; 8];
        for _ in 0..4000 {
            for i in random_subset(8, 2, &mut rng) {
                hits[i] += 1;
            }
        }
        // 1000 expected each; sd ≈ 29.
        assert!(hits.iter().all(|&h| (880..1120).contains(&h)), "{hits:?}");
    }
}
