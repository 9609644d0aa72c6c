//! BITCOUNT and BITPOS: counting and searching over a byte or bit range, with Redis' rules
//! for negative indexes, clamping and argument order (the key is looked up before the range is
//! read, so a missing key answers 0 whatever follows).

use super::*;

/// The range unit word (BYTE or BIT, any case): true for BIT; a syntax error otherwise.
fn unit_is_bit(raw: &[u8]) -> Result<bool, ReplyError> {
    if raw.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if raw.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(ReplyError::Syntax)
    }
}

/// Resolves `start..=end` (negative: from the end) over `total` units, clamped; `None` when
/// empty.
fn clamp(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let fix = |i: i64| if i < 0 { total.saturating_add(i) } else { i }.max(0);
    let (s, mut e) = (fix(start), fix(end));
    if e >= total {
        e = total - 1;
    }
    (s <= e).then_some((s as u64, e as u64))
}

/// A resolved range in bits: `start..=end` in `unit_bit` units scaled to bit positions.
fn in_bits(r: (u64, u64), unit_bit: bool) -> (u64, u64) {
    if unit_bit {
        r
    } else {
        (r.0 * 8, r.1 * 8 + 7)
    }
}

pub(super) fn bitcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.int(0);
            return Ok(());
        };
        let s = as_str(e.value())?;
        let n = match args.len() {
            2 => bits::popcount(s),
            4 | 5 => {
                let start = super::super::kit::number::i64_arg(args.get(2))?;
                let end = super::super::kit::number::i64_arg(args.get(3))?;
                if start < 0 && end < 0 && start > end {
                    out.int(0);
                    return Ok(());
                }
                let unit_bit = args.len() == 5 && unit_is_bit(args.get(4))?;
                let total = s.len() as i64 * if unit_bit { 8 } else { 1 };
                match clamp(start, end, total) {
                    Some(r) => {
                        let (bs, be) = in_bits(r, unit_bit);
                        bits::count_range(s, bs, be)
                    }
                    None => 0,
                }
            }
            _ => return Err(ReplyError::Syntax),
        };
        out.int(n as i64);
        Ok(())
    })
}

pub(super) fn bitpos(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let want = match parse_i64(args.get(2)) {
        None => return Err(ReplyError::NotInteger),
        Some(b @ (0 | 1)) => b == 1,
        Some(_) => return Err(ReplyError::other("ERR The bit argument must be 1 or 0.")),
    };
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            // A missing key is an endless run of zero bits.
            out.int(if want { -1 } else { 0 });
            return Ok(());
        };
        let s = as_str(e.value())?;
        let pos = bitpos_in(s, want, args)?;
        out.int(pos);
        Ok(())
    })
}

/// BITPOS over the string `s` with the range arguments of `args` (from index 3).
fn bitpos_in(s: &[u8], want: bool, args: Args<'_>) -> Result<i64, ReplyError> {
    let (range, end_given) = match args.len() {
        3 => (clamp(0, s.len() as i64 - 1, s.len() as i64), false),
        4..=6 => {
            let start = super::super::kit::number::i64_arg(args.get(3))?;
            let unit_bit = args.len() == 6 && unit_is_bit(args.get(5))?;
            let total = s.len() as i64 * if unit_bit { 8 } else { 1 };
            let end = match args.len() {
                4 => total - 1,
                _ => super::super::kit::number::i64_arg(args.get(4))?,
            };
            (clamp(start, end, total), args.len() >= 5)
        }
        _ => return Err(ReplyError::Syntax),
    };
    let unit_bit = args.len() == 6 && unit_is_bit(args.get(5))?;
    let Some(r) = range else {
        // An empty range holds neither a 0 nor a 1.
        return Ok(-1);
    };
    let (bs, be) = in_bits(r, unit_bit);
    Ok(match bits::first_bit(s, want, bs, be) {
        Some(p) => p as i64,
        // No clear bit: without an explicit end the string continues with zeros right after
        // its last byte; with one, the range has none.
        None if !want && !end_given => (be / 8 + 1) as i64 * 8,
        None => -1,
    })
}
