//! Bit operations over byte strings, as Redis' bitmap commands see them: bit 0 is the most
//! significant bit of byte 0. Counting and searching run over 64-bit words; bit fields read and
//! write up to 64 bits at any bit offset (a read past the end sees zeros), with Redis' overflow
//! rules (WRAP, SAT, FAIL). Pure functions: no commands, no keyspace, no allocation except
//! BITOP's result.

/// A big-endian word of up to 8 bytes (a shorter slice is zero-padded on the right).
#[inline]
fn be_word(c: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..c.len()].copy_from_slice(c);
    u64::from_be_bytes(a)
}

/// Set bits in `bytes`, a word at a time (with the CPU's POPCNT instruction when it has one:
/// the x86-64 baseline lacks it, and the portable count is several times slower).
pub fn popcount(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports POPCNT (checked just above), the one feature the function
        // is compiled with beyond the baseline; it reads `bytes` like any safe code.
        return unsafe { popcount_popcnt(bytes) };
    }
    popcount_words(bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn popcount_popcnt(bytes: &[u8]) -> u64 {
    popcount_words(bytes)
}

#[inline(always)]
fn popcount_words(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        // Bit order does not matter for a count: native order saves the byte swap.
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// Set bits between bit positions `start` and `end` (inclusive; `end` inside `bytes`).
pub fn count_range(bytes: &[u8], start: u64, end: u64) -> u64 {
    if start > end {
        return 0;
    }
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    let whole = popcount(&bytes[sb..=eb]);
    let head = (bytes[sb] & !(0xffu8 >> (start & 7))).count_ones() as u64;
    let tail = (bytes[eb] & (0x7fu8 >> (end & 7))).count_ones() as u64;
    whole - head - tail
}

/// Position of the first bit equal to `want` between bit positions `start` and `end`
/// (inclusive; `end` inside `bytes`), skipping whole words that cannot hold it.
pub fn first_bit(bytes: &[u8], want: bool, start: u64, end: u64) -> Option<u64> {
    if start > end {
        return None;
    }
    // Searching for a 0 is searching for a 1 in the complement.
    let flip = if want { 0u8 } else { 0xff };
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    let masked = |i: usize| {
        let mut b = bytes[i] ^ flip;
        if i == sb {
            b &= 0xff >> (start & 7);
        }
        if i == eb {
            b &= 0xff << (7 - (end & 7));
        }
        b
    };
    let at = |i: usize, b: u8| i as u64 * 8 + b.leading_zeros() as u64;
    let b = masked(sb);
    if b != 0 {
        return Some(at(sb, b));
    }
    if sb == eb {
        return None;
    }
    if let Some(p) = scan(&bytes[sb + 1..eb], flip) {
        return Some((sb as u64 + 1) * 8 + p);
    }
    let b = masked(eb);
    (b != 0).then(|| at(eb, b))
}

/// First set bit of `bytes ^ flip` (each byte), by words.
fn scan(bytes: &[u8], flip: u8) -> Option<u64> {
    let flip_word = u64::from_ne_bytes([flip; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0u64;
    for c in &mut chunks {
        let w = be_word(c) ^ flip_word;
        if w != 0 {
            return Some(base + w.leading_zeros() as u64);
        }
        base += 64;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        let b = b ^ flip;
        if b != 0 {
            return Some(base + i as u64 * 8 + b.leading_zeros() as u64);
        }
    }
    None
}

/// The bit at `offset` (0 past the end).
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    byte < bytes.len() && bytes[byte] & (0x80 >> (offset & 7)) != 0
}

/// Sets the bit at `offset` (inside `bytes`) to `on`; returns its old value.
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) -> bool {
    let (byte, mask) = ((offset >> 3) as usize, 0x80u8 >> (offset & 7));
    let old = bytes[byte] & mask != 0;
    if on {
        bytes[byte] |= mask;
    } else {
        bytes[byte] &= !mask;
    }
    old
}

/// The 9 bytes from byte `at` as a 72-bit big-endian number in a u128 (zeros past the end).
fn window(bytes: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    if at < bytes.len() {
        let n = (bytes.len() - at).min(9);
        a[7..7 + n].copy_from_slice(&bytes[at..at + n]);
    }
    u128::from_be_bytes(a)
}

/// The unsigned `bits`-wide field (1..=64) at bit `offset`; bits past the end read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let w = window(bytes, (offset >> 3) as usize);
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    (w >> shift) as u64 & mask
}

/// The signed `bits`-wide field (1..=64) at bit `offset`, sign-extended.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(bytes, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset`; the field must lie inside `bytes`.
pub fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let at = (offset >> 3) as usize;
    let n = ((offset & 7) as usize + bits as usize).div_ceil(8);
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask: u128 = (if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    } as u128)
        << shift;
    let w = (window(bytes, at) & !mask) | (((value as u128) << shift) & mask);
    let out = w.to_be_bytes();
    bytes[at..at + n].copy_from_slice(&out[7..7 + n]);
}

/// What BITFIELD does when a SET or INCRBY leaves the field's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Redis' `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves a `bits`-wide
/// unsigned field, and the value to store then under WRAP or SAT (None under FAIL).
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, Option<u64>) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    let high = value > max || (incr > 0 && incr > max_incr);
    let low = !high && incr < 0 && incr < min_incr;
    if !high && !low {
        return (false, None);
    }
    let limit = match ow {
        Overflow::Wrap => Some(wrap()),
        Overflow::Sat => Some(if high { max } else { 0 }),
        Overflow::Fail => None,
    };
    (true, limit)
}

/// Redis' `checkSignedBitfieldOverflow`, as `unsigned_overflow` for a signed field.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, Option<i64>) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let high = value > max
        || (bits != 64 && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr);
    let low = !high
        && (value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr));
    if !high && !low {
        return (false, None);
    }
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            return c as i64;
        }
        let mask = u64::MAX << bits;
        if c & (1 << (bits - 1)) != 0 {
            (c | mask) as i64
        } else {
            (c & !mask) as i64
        }
    };
    let limit = match ow {
        Overflow::Wrap => Some(wrap()),
        Overflow::Sat => Some(if high { max } else { min }),
        Overflow::Fail => None,
    };
    (true, limit)
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP's result buffer: `len` bytes (the longest source's length) starting as the first
/// source (NOT: its complement), zero-padded. Fold the other sources in with `bitop_next`.
pub fn bitop_first(op: BitOp, first: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    out[..first.len()].copy_from_slice(first);
    if op == BitOp::Not {
        out.iter_mut().for_each(|b| *b = !*b);
    }
    out
}

/// Folds one more source into BITOP's result; a source shorter than the result reads as zero
/// bytes past its end.
pub fn bitop_next(op: BitOp, out: &mut [u8], src: &[u8]) {
    let n = src.len().min(out.len());
    match op {
        BitOp::And => {
            combine(out, &src[..n], |a, b| a & b);
            out[n..].fill(0);
        }
        BitOp::Or => combine(out, &src[..n], |a, b| a | b),
        BitOp::Xor => combine(out, &src[..n], |a, b| a ^ b),
        BitOp::Not => unreachable!("NOT has one source"),
    }
}

/// `out[i] = f(out[i], src[i])` over `src`'s length, eight bytes at a time.
#[inline]
fn combine(out: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    let out = &mut out[..src.len()];
    let mut o = out.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (a, b) in (&mut o).zip(&mut s) {
        let v = f(be_word(a), be_word(b));
        a.copy_from_slice(&v.to_be_bytes());
    }
    for (a, b) in o.into_remainder().iter_mut().zip(s.remainder()) {
        *a = f(*a as u64, *b as u64) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_bit(b: &[u8], i: u64) -> bool {
        b[(i / 8) as usize] >> (7 - i % 8) & 1 == 1
    }

    fn sample() -> Vec<u8> {
        (0..37u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect()
    }

    #[test]
    fn counts_and_searches_agree_with_bit_by_bit() {
        // Word-at-a-time counting and searching give the bit-by-bit answers on every range.
        let mut b = sample();
        b[20..30].fill(0);
        b[5..15].fill(0xff);
        let n = b.len() as u64 * 8;
        assert_eq!(
            popcount(&b),
            (0..n).filter(|&i| naive_bit(&b, i)).count() as u64
        );
        for s in (0..n).step_by(7) {
            for e in (s..n).step_by(11) {
                let c = (s..=e).filter(|&i| naive_bit(&b, i)).count() as u64;
                assert_eq!(count_range(&b, s, e), c, "{s}..{e}");
                for want in [false, true] {
                    let f = (s..=e).find(|&i| naive_bit(&b, i) == want);
                    assert_eq!(first_bit(&b, want, s, e), f, "{want} {s}..{e}");
                }
            }
        }
    }

    #[test]
    fn fields_read_back_what_was_written() {
        // Any width at any offset, including the last bits of the string and past its end.
        let mut b = vec![0u8; 20];
        for bits in 1..=64u32 {
            for off in [0u64, 1, 7, 9, 63, 95] {
                let v = 0xdead_beef_cafe_f00du64 >> (64 - bits);
                b.fill(0xa5);
                set_field(&mut b, off, bits, v);
                assert_eq!(get_unsigned(&b, off, bits), v, "{bits}@{off}");
                let naive =
                    (0..bits as u64).fold(0u64, |a, i| a << 1 | naive_bit(&b, off + i) as u64);
                assert_eq!(naive, v);
                // Neighbours untouched.
                if off > 0 {
                    assert!(naive_bit(&b, off - 1) == naive_bit(&[0xa5], (off - 1) % 8));
                }
            }
        }
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_signed(&[0xff], 0, 8), -1);
        assert_eq!(get_signed(&[0x80], 0, 4), -8);
        assert_eq!(get_unsigned(&[], 100, 64), 0);
    }

    #[test]
    fn overflow_rules_match_redis() {
        // Values from Redis' own BITFIELD tests.
        assert_eq!(
            unsigned_overflow(255, 1, 8, Overflow::Wrap),
            (true, Some(0))
        );
        assert_eq!(
            unsigned_overflow(255, 1, 8, Overflow::Sat),
            (true, Some(255))
        );
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), (true, Some(0)));
        assert_eq!(
            unsigned_overflow(0, -1, 8, Overflow::Wrap),
            (true, Some(255))
        );
        assert_eq!(
            unsigned_overflow(u64::MAX, 0, 8, Overflow::Sat),
            (true, Some(255))
        );
        assert_eq!(unsigned_overflow(10, 5, 8, Overflow::Fail), (false, None));
        assert_eq!(
            signed_overflow(127, 1, 8, Overflow::Wrap),
            (true, Some(-128))
        );
        assert_eq!(
            signed_overflow(-128, -1, 8, Overflow::Sat),
            (true, Some(-128))
        );
        assert_eq!(
            signed_overflow(200, 0, 8, Overflow::Wrap),
            (true, Some(-56))
        );
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            (true, Some(i64::MIN))
        );
        assert_eq!(
            signed_overflow(i64::MIN, -1, 64, Overflow::Sat),
            (true, Some(i64::MIN))
        );
        assert_eq!(signed_overflow(5, -10, 64, Overflow::Fail), (false, None));
        assert_eq!(signed_overflow(-2, 1, 2, Overflow::Fail), (false, None));
        assert_eq!(signed_overflow(1, 1, 2, Overflow::Fail), (true, None));
    }

    fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
        let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut out = bitop_first(op, srcs[0], len);
        for s in &srcs[1..] {
            bitop_next(op, &mut out, s);
        }
        out
    }

    #[test]
    fn bitop_pads_shorter_sources_with_zeros() {
        // Missing bytes of a shorter source are zeros, for AND as for OR and XOR.
        let (a, b) = (
            &b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x0f"[..],
            &b"\x0f"[..],
        );
        assert_eq!(bitop(BitOp::And, &[a, b]), b"\x0f\0\0\0\0\0\0\0\0\0");
        assert_eq!(bitop(BitOp::Or, &[b, a]), a);
        assert_eq!(bitop(BitOp::Xor, &[a, b])[..2], *b"\xf0\xff");
        assert_eq!(bitop(BitOp::Not, &[b]), b"\xf0");
        assert_eq!(bitop(BitOp::And, &[b"", b""]), b"");
    }
}
