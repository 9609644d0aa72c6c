//! The random generator each shard owns (`Shard.rng`): xorshift64*, a few instructions per
//! number and fair enough for sampling (RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
//! active expiry). Never for secrets: ids and replication ids use the OS generator. It lives
//! with the shard state so the keyspace's sampler and the command kit share one type.

use std::hash::BuildHasher;

/// xorshift64* state; never zero.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed (tests; zero is replaced by a fixed non-zero word).
    pub fn with_seed(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// A generator for shard `id`, seeded from std's per-process random hasher keys so two
    /// processes, and two shards of one process, draw different sequences.
    pub fn for_shard(id: usize) -> Rng {
        let seed = std::collections::hash_map::RandomState::new().hash_one(id as u64);
        Rng::with_seed(seed)
    }

    /// A fresh 64-bit random number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A random index below `n`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// `k` distinct positions out of `n` (k < n), in random order: a partial shuffle when `k`
    /// is a large share of `n`, rejection otherwise.
    pub fn distinct_positions(&mut self, n: usize, k: usize) -> Vec<usize> {
        if k * 3 > n {
            let mut all: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = i + self.below(n - i);
                all.swap(i, j);
            }
            all.truncate(k);
            return all;
        }
        let mut seen = hashbrown::HashSet::with_capacity(k);
        let mut v = Vec::with_capacity(k);
        while v.len() < k {
            let p = self.below(n);
            if seen.insert(p) {
                v.push(p);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_seed_still_moves() {
        // xorshift stays at zero forever from a zero state.
        let mut r = Rng::with_seed(0);
        assert_ne!(r.next_u64(), r.next_u64());
    }

    #[test]
    fn below_stays_below_and_covers() {
        // Every index of a small range shows up, none past the bound.
        let mut r = Rng::with_seed(7);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            seen[r.below(5)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn distinct_positions_are_distinct() {
        // Both strategies (shuffle and rejection) return k different in-range positions.
        let mut r = Rng::with_seed(3);
        for (n, k) in [(10, 9), (1000, 5)] {
            let mut v = r.distinct_positions(n, k);
            assert_eq!(v.len(), k);
            v.sort_unstable();
            v.dedup();
            assert_eq!(v.len(), k);
            assert!(v.iter().all(|&p| p < n));
        }
    }

    #[test]
    fn shards_draw_different_sequences() {
        // Two shards of one process must not pick the same "random" keys in lockstep.
        assert_ne!(Rng::for_shard(0).next_u64(), Rng::for_shard(1).next_u64());
    }
}
