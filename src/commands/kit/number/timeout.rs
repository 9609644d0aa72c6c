//! Blocking timeouts as Redis 7.0 reads them (`getTimeoutFromObjectOrReply`, seconds): a C
//! `long double`, times 1000 in that precision, rounded up to a whole millisecond, converted
//! to a 64-bit integer the way x86 does. Every blocking command (lists, sorted sets) uses it.

use super::longdouble::{self as ld, Parsed};
use crate::resp::ReplyError;

/// Parses a blocking command's timeout (seconds) into milliseconds as Redis 7.0 does: the
/// text is read as a C `long double`, multiplied by 1000 in that precision, rounded up to
/// a whole millisecond and converted to a 64-bit integer (an out-of-range conversion gives
/// i64::MIN on x86-64, hence "negative" for huge or infinite values). So "-0.0001" waits
/// forever (rounds up to 0) and "0.0001" waits 1 ms.
pub fn timeout_ms(raw: &[u8]) -> Result<u64, ReplyError> {
    let ms = match ld::parse(raw) {
        None => return Err(ReplyError::TimeoutNotFloat),
        Some(Parsed::Inf) => i64::MIN,
        Some(Parsed::Finite(v)) => ceil_ms(v.parts()),
    };
    if ms < 0 {
        return Err(ReplyError::TimeoutNegative);
    }
    Ok(ms as u64)
}

/// ceil(round64(±mant * 2^exp * 1000)) as x86 converts it to i64 (i64::MIN when out of range).
fn ceil_ms((neg, mant, exp): (bool, u64, i64)) -> i64 {
    let (m, e) = round_to_64_bits(mant as u128 * 1000, exp);
    if m == 0 {
        return 0;
    }
    // floor(m * 2^e) and whether a fraction is left.
    let (floor, frac) = if e >= 0 {
        if e >= 64 {
            return i64::MIN;
        }
        (m << e, false)
    } else if e <= -128 {
        (0, true)
    } else {
        let sh = e.unsigned_abs() as u32;
        (m >> sh, m & ((1u128 << sh) - 1) != 0)
    };
    // Rounding up moves a positive value away from zero and a negative one toward it.
    let magnitude = if neg { floor } else { floor + frac as u128 };
    match i64::try_from(magnitude) {
        Ok(v) if neg => -v,
        Ok(v) => v,
        Err(_) => i64::MIN,
    }
}

/// Rounds `p * 2^exp` to a 64-bit mantissa, ties to even, as the FPU does after a multiply.
fn round_to_64_bits(p: u128, exp: i64) -> (u128, i64) {
    let bits = 128 - p.leading_zeros();
    if bits <= 64 {
        return (p, exp);
    }
    let s = bits - 64;
    let (mut m, rem, half) = (p >> s, p & ((1u128 << s) - 1), 1u128 << (s - 1));
    if rem > half || (rem == half && m & 1 == 1) {
        m += 1;
    }
    if m >> 64 != 0 {
        return (m >> 1, exp + s as i64 + 1);
    }
    (m, exp + s as i64)
}
