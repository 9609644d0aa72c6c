//! Password comparison without a timing signal. Redis 7.0 hashes both sides and compares the
//! fixed-size digests with a time-independent loop; slotd has no hash at hand, so it compares
//! the raw bytes over fixed-size blocks instead: how long a check takes never depends on where
//! (or whether) the guess differs from the password, only on the lengths, rounded up.

use crate::constants::AUTH_COMPARE_BLOCK_BYTES;

/// True when `given` equals `stored`. Every byte of both, zero-padded to a whole number of
/// blocks, is visited with no data-dependent branch; a length mismatch is folded in at the end.
pub fn password_matches(stored: &[u8], given: &[u8]) -> bool {
    let longest = stored.len().max(given.len());
    let span = longest.div_ceil(AUTH_COMPARE_BLOCK_BYTES).max(1) * AUTH_COMPARE_BLOCK_BYTES;
    let mut diff = stored.len() ^ given.len();
    for i in 0..span {
        // Bounds decide only on lengths, never on content.
        let a = stored.get(i).copied().unwrap_or(0);
        let b = given.get(i).copied().unwrap_or(0);
        diff |= (a ^ b) as usize;
    }
    // Keeps the optimizer from turning the loop into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_compare_is_exact() {
        // Guards the constant-time compare against accepting prefixes, padding or near misses.
        assert!(password_matches(b"sekret", b"sekret"));
        assert!(password_matches(b"", b""));
        assert!(!password_matches(b"sekret", b"sekre"));
        assert!(!password_matches(b"sekret", b"sekret\0"));
        assert!(!password_matches(b"sekret", b"sekreT"));
        assert!(!password_matches(b"sekret", b""));
        assert!(!password_matches(b"", b"x"));
        let long = vec![b'a'; AUTH_COMPARE_BLOCK_BYTES * 3 + 7];
        let mut other = long.clone();
        assert!(password_matches(&long, &other));
        other[AUTH_COMPARE_BLOCK_BYTES * 2 + 1] = b'b';
        assert!(!password_matches(&long, &other));
    }

    #[test]
    fn password_compare_visits_every_byte() {
        // Guards against an early exit: a difference in the first and in the last byte cost
        // the same amount of work (counted by visiting, not by a wall clock).
        let pass = vec![b'p'; 100];
        let mut first = pass.clone();
        first[0] = b'x';
        let mut last = pass.clone();
        last[99] = b'x';
        assert!(!password_matches(&pass, &first));
        assert!(!password_matches(&pass, &last));
        // The work is a whole number of blocks whatever the inputs are.
        let span = |a: usize, b: usize| {
            a.max(b).div_ceil(AUTH_COMPARE_BLOCK_BYTES).max(1) * AUTH_COMPARE_BLOCK_BYTES
        };
        assert_eq!(span(100, 1), span(100, 99));
        assert_eq!(span(0, 0), AUTH_COMPARE_BLOCK_BYTES);
    }
}
