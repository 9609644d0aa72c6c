//! `math.random`'s generator as Redis 7.0 replaces it: the 48-bit linear congruential generator
//! of `lrand48` (Redis' rand.c), so a script sees the same sequence on every platform. One
//! state per thread (Redis has one per process; a slotd shard is a core's share of it), starting
//! from lrand48's default seed and moved only by `math.randomseed`.

use std::cell::Cell;

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const MASK_48: u64 = (1 << 48) - 1;
/// The state before any seeding (rand.c's X0, X1, X2).
const DEFAULT_STATE: u64 = 0x1234_ABCD_330E;
/// REDIS_LRAND48_MAX.
const LRAND48_MAX: i64 = i32::MAX as i64;

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(DEFAULT_STATE) };
}

/// The next 31-bit value (`redisLrand48`).
pub(super) fn next() -> i64 {
    STATE.with(|s| {
        let x = (s.get().wrapping_mul(MULTIPLIER).wrapping_add(INCREMENT)) & MASK_48;
        s.set(x);
        (x >> 17) as i64
    })
}

/// A number in [0, 1) as `redis_math_random` computes it before scaling.
pub(super) fn next_unit() -> f64 {
    (next() % LRAND48_MAX) as f64 / LRAND48_MAX as f64
}

/// `math.randomseed(seed)` (`redisSrand48`).
pub(super) fn seed(seed: i32) {
    let s = seed as u32 as u64;
    STATE.with(|st| st.set((s << 16) | 0x330E));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_values_match_a_fresh_redis() {
        // A fresh redis-server 7.0.15: EVAL "return math.random(100)" 0 answers 40, then
        // EVAL "return {math.random(), math.random(1,10)}" 0 answers 0 (a float) and 4.
        seed_default();
        assert_eq!((next_unit() * 100.0).floor() as i64 + 1, 40);
        let _ = next_unit();
        assert_eq!((next_unit() * 10.0).floor() as i64 + 1, 4);
    }

    fn seed_default() {
        STATE.with(|s| s.set(DEFAULT_STATE));
    }
}
