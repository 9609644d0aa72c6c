//! ZRANDMEMBER and ZSCAN.

use super::*;
use crate::commands::kit::number::format_double_g17;
use crate::commands::kit::random::check_pair_count;
use crate::commands::kit::scan::{empty_scan, write_cursor, ScanArgs};
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
    let count = i64_arg(args.get(2))?;
    let mut cur = ArgCursor::new(args, 3);
    let withscores = cur.flag("WITHSCORES");
    cur.finish()?;
    if count == i64::MIN {
        return Err(ReplyError::CountNotAbsolute);
    }
    if withscores {
        check_pair_count(count)?;
    }
    if count.unsigned_abs() > RANDMEMBER_REPEAT_MAX && count < 0 {
        return Err(ReplyError::ValueOutOfRange);
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
    let (key, now_ms) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        // As Redis: an absent key answers the empty scan and another type WRONGTYPE before
        // the options are read.
        let Some(z) = zread(db, key, now_ms)? else {
            empty_scan(out);
            return Ok(());
        };
        let o = ScanArgs::parse(ArgCursor::new(args, 3), ZSCAN_VISIT_MAX, false)?;
        let (next, picked): (u64, Vec<&Entry>) = match z {
            z if z.encoding() == "listpack" => (0, z.iter().collect()),
            z => {
                let from = cursor.min(z.len() as u64) as usize;
                let v: Vec<&Entry> = z.iter_from(from).take(o.count).collect();
                let end = from + v.len();
                (if end >= z.len() { 0 } else { end as u64 }, v)
            }
        };
        let keep = |e: &&Entry| o.keeps(&e.member);
        let kept: Vec<&Entry> = picked.into_iter().filter(keep).collect();
        out.array(2);
        write_cursor(out, next);
        out.array(2 * kept.len());
        for e in kept {
            out.bulk(&e.member);
            out.bulk(format_double_g17(e.score).as_bytes());
        }
        Ok(())
    })
}
