//! ZRANDMEMBER and ZSCAN.

use super::*;
use crate::commands::kit::Rng;

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

/// Most entries one ZRANDMEMBER with a negative count may return: bounds the reply buffer
/// (Redis has no limit and would try to build any size).
const RANDMEMBER_REPEAT_MAX: u64 = 16 * 1024 * 1024;

pub(super) fn zrandmember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now_ms) = (args.get(1), ex.now_ms);
    if args.len() == 2 {
        return ex.with_db_rng(key, |db, out, rng| {
            match zread(db, key, now_ms)? {
                Some(z) => match z.at(rng.below(z.len())) {
                    Some(e) => out.bulk(&e.member),
                    None => out.null(),
                },
                None => out.null(),
            }
            Ok(())
        });
    }
    let count = int_arg(args.get(2))?;
    let withscores = match args.len() {
        3 => false,
        4 if args.get(3).eq_ignore_ascii_case(b"withscores") => true,
        _ => return Err(ReplyError::Syntax),
    };
    if count == i64::MIN {
        return Err(ReplyError::other(
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    if withscores && count < -(i64::MAX / 2) {
        return Err(ReplyError::other("ERR value is out of range"));
    }
    if count.unsigned_abs() > RANDMEMBER_REPEAT_MAX && count < 0 {
        return Err(ReplyError::other("ERR value is out of range"));
    }
    ex.with_db_rng(key, |db, out, rng| {
        match zread(db, key, now_ms)? {
            None => out.array(0),
            Some(z) if count < 0 => {
                rand_repeat(out, z, count.unsigned_abs() as usize, withscores, rng)
            }
            Some(z) => rand_distinct(out, z, count as usize, withscores, rng),
        }
        Ok(())
    })
}

fn rand_repeat(out: &mut Out<'_>, z: &ZSetValue, n: usize, withscores: bool, rng: &mut Rng) {
    let len = z.len();
    let picks = (0..n).filter_map(|_| z.at(rng.below(len)));
    write_entries(out, n, picks, withscores);
}

/// `n` distinct random entries; the whole set (highest score first) when `n` covers it, as
/// Redis does.
fn rand_distinct(out: &mut Out<'_>, z: &ZSetValue, n: usize, withscores: bool, rng: &mut Rng) {
    let len = z.len();
    if n >= len {
        write_entries(out, len, z.iter().rev(), withscores);
        return;
    }
    // Partial Fisher-Yates over ranks, remembering only the swapped positions.
    let mut swapped: HashMap<usize, usize> = HashMap::with_capacity(n);
    let mut ranks = Vec::with_capacity(n);
    for i in 0..n {
        let j = i + rng.below(len - i);
        let vj = *swapped.get(&j).unwrap_or(&j);
        let vi = *swapped.get(&i).unwrap_or(&i);
        swapped.insert(j, vi);
        ranks.push(vj);
    }
    write_entries(out, n, ranks.iter().filter_map(|&r| z.at(r)), withscores);
}

/// Most entries one ZSCAN call visits on a big set, whatever COUNT says.
const ZSCAN_VISIT_MAX: usize = 100_000;

/// ZSCAN: a small set is returned whole with cursor 0 (as Redis does for listpacks); a big
/// one is walked by rank, COUNT entries per call. The cursor is the next rank, so entries
/// removed before the cursor between calls can make later ones shift past it.
pub(super) fn zscan(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let (mut count, mut pattern) = (10usize, None);
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(ReplyError::Syntax);
        }
        let (opt, value) = (args.get(i), args.get(i + 1));
        if opt.eq_ignore_ascii_case(b"count") {
            match int_arg(value)? {
                n if n < 1 => return Err(ReplyError::Syntax),
                n => count = (n as u64).min(ZSCAN_VISIT_MAX as u64) as usize,
            }
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = (value != b"*").then_some(value);
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 2;
    }
    let (key, now_ms) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let z = zread(db, key, now_ms)?;
        let (next, picked): (u64, Vec<&Entry>) = match z {
            None => (0, Vec::new()),
            Some(z) if z.encoding() == "listpack" => (0, z.iter().collect()),
            Some(z) => {
                let from = cursor.min(z.len() as u64) as usize;
                let v: Vec<&Entry> = z.iter_from(from).take(count).collect();
                let end = from + v.len();
                (if end >= z.len() { 0 } else { end as u64 }, v)
            }
        };
        let keep = |e: &&Entry| pattern.is_none_or(|p| crate::glob::matches(p, &e.member, false));
        let kept: Vec<&Entry> = picked.into_iter().filter(keep).collect();
        out.array(2);
        out.bulk(next.to_string().as_bytes());
        out.array(2 * kept.len());
        for e in kept {
            out.bulk(&e.member);
            out.bulk(crate::resp::write::format_double_g17(e.score).as_bytes());
        }
        Ok(())
    })
}
