//! ZADD, ZINCRBY, ZREM, and the single-member and counting reads (ZCARD, ZSCORE, ZMSCORE,
//! ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT).

use super::*;

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, and single-member reads
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Parses ZADD's options; returns them and the index of the first score.
fn zadd_flags(args: Args<'_>) -> (AddFlags, usize) {
    let mut f = AddFlags::default();
    let mut cur = ArgCursor::new(args, 2);
    loop {
        let slot = if cur.flag("NX") {
            &mut f.nx
        } else if cur.flag("XX") {
            &mut f.xx
        } else if cur.flag("GT") {
            &mut f.gt
        } else if cur.flag("LT") {
            &mut f.lt
        } else if cur.flag("CH") {
            &mut f.ch
        } else if cur.flag("INCR") {
            &mut f.incr
        } else {
            break;
        };
        *slot = true;
    }
    (f, cur.pos())
}

fn zadd_check(f: AddFlags, arg_count: usize) -> CmdResult {
    if !arg_count.is_multiple_of(2) || arg_count == 0 {
        return Err(ReplyError::Syntax);
    }
    if f.nx && f.xx {
        return Err(ReplyError::other(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(ReplyError::other(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && arg_count > 2 {
        return Err(ReplyError::other(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    Ok(())
}

/// Outcome of adding one member.
enum AddOut {
    Added,
    Updated,
    /// Present with the same score: processed, nothing changed.
    Same,
    /// Skipped by NX/XX/GT/LT.
    Nop,
}

/// Applies one (score, member) with ZADD's rules; returns the outcome and the final score.
fn add_one(
    z: &mut ZSetValue,
    f: AddFlags,
    score: f64,
    member: &[u8],
    lim: Limits,
) -> Result<(AddOut, f64), ReplyError> {
    let Some(cur) = z.score(member) else {
        if f.xx {
            return Ok((AddOut::Nop, score));
        }
        z.set(member, score, lim);
        return Ok((AddOut::Added, score));
    };
    if f.nx {
        return Ok((AddOut::Nop, cur));
    }
    let new = if f.incr { cur + score } else { score };
    if new.is_nan() {
        return Err(ReplyError::other(
            "ERR resulting score is not a number (NaN)",
        ));
    }
    if (f.gt && new <= cur) || (f.lt && new >= cur) {
        return Ok((AddOut::Nop, cur));
    }
    if new == cur {
        return Ok((AddOut::Same, cur));
    }
    z.set(member, new, lim);
    Ok((AddOut::Updated, new))
}

pub(super) fn zadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (f, first) = zadd_flags(args);
    zadd_check(f, args.len() - first)?;
    let mut scores = Vec::with_capacity((args.len() - first) / 2);
    let mut cur = ArgCursor::new(args, first);
    while !cur.is_done() {
        scores.push(cur.next_f64()?);
        cur.next()?; // the member
    }
    zadd_generic(ex, args, f, first, &scores)
}

fn zadd_generic(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    f: AddFlags,
    first: usize,
    scores: &[f64],
) -> CmdResult {
    let key = args.get(1);
    let (now_ms, lim) = (ex.now_ms, limits(ex));
    let (added, updated, last) = ex.with_db(key, |db, out| {
        let exists = zwrite(db, key, now_ms)?.is_some();
        if !exists && f.xx {
            reply_add(out, f, 0, 0, None);
            return Ok((0, 0, None));
        }
        if !exists {
            let longest = (first + 1..args.len())
                .step_by(2)
                .map(|i| args.get(i).len());
            let z = ZSetValue::with_hint(scores.len(), longest.max().unwrap_or(0), lim);
            db.set(key, Value::ZSet(z), 0, now_ms);
        }
        let Ok(Some(z)) = zwrite(db, key, now_ms) else {
            unreachable!("the sorted set was just found or created");
        };
        let r = add_all(z, f, args, first, scores, lim);
        drop_if_empty(db, key, now_ms);
        let (added, updated, last) = r?;
        reply_add(out, f, added, updated, last);
        Ok((added, updated, last))
    })?;
    let _ = last;
    if added + updated > 0 {
        ex.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
        ex.dirty(key, (added + updated) as u64);
    }
    Ok(())
}

/// Adds every pair; returns (added, updated, the score to reply for INCR when processed).
fn add_all(
    z: &mut ZSetValue,
    f: AddFlags,
    args: Args<'_>,
    first: usize,
    scores: &[f64],
    lim: Limits,
) -> Result<(usize, usize, Option<f64>), ReplyError> {
    let (mut added, mut updated, mut last) = (0, 0, None);
    for (k, &score) in scores.iter().enumerate() {
        let member = args.get(first + 2 * k + 1);
        let (o, s) = add_one(z, f, score, member, lim)?;
        match o {
            AddOut::Added => added += 1,
            AddOut::Updated => updated += 1,
            AddOut::Same => {}
            AddOut::Nop => continue,
        }
        last = Some(s);
    }
    Ok((added, updated, last))
}

fn reply_add(out: &mut Out<'_>, f: AddFlags, added: usize, updated: usize, last: Option<f64>) {
    if f.incr {
        match last {
            Some(s) => out.double(s),
            None => out.null(),
        }
    } else {
        out.int((if f.ch { added + updated } else { added }) as i64);
    }
}

pub(super) fn zincrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    let score = ArgCursor::new(args, 2).next_f64()?;
    // Same as "ZADD key INCR increment member": the member follows the increment.
    zadd_generic(ex, args, f, 2, &[score])
}

pub(super) fn zrem(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now_ms = ex.now_ms;
    let removed = ex.with_db(key, |db, out| {
        let mut n = 0;
        if let Some(z) = zwrite(db, key, now_ms)? {
            for i in 2..args.len() {
                n += z.remove(args.get(i)).is_some() as i64;
                if z.is_empty() {
                    break;
                }
            }
            drop_if_empty(db, key, now_ms);
        }
        out.int(n);
        Ok(n)
    })?;
    if removed > 0 {
        ex.notify(notify::ZSET, "zrem", key);
        ex.notify_if_gone(key);
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

pub(super) fn zcard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| z.len());
        out.int(n as i64);
        Ok(())
    })
}

pub(super) fn zscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        match zread(db, args.get(1), now_ms)?.and_then(|z| z.score(args.get(2))) {
            Some(s) => out.double(s),
            None => out.null(),
        }
        Ok(())
    })
}

pub(super) fn zmscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let z = zread(db, args.get(1), now_ms)?;
        out.array(args.len() - 2);
        for i in 2..args.len() {
            match z.and_then(|z| z.score(args.get(i))) {
                Some(s) => out.double(s),
                None => out.null(),
            }
        }
        Ok(())
    })
}

fn rank_generic(ex: &mut Exec<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let Some(z) = zread(db, args.get(1), now_ms)? else {
            out.null();
            return Ok(());
        };
        match z.rank(args.get(2)) {
            Some((r, _)) if rev => out.int((z.len() - 1 - r) as i64),
            Some((r, _)) => out.int(r as i64),
            None => out.null(),
        }
        Ok(())
    })
}

pub(super) fn zrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ex, args, false)
}

pub(super) fn zrevrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    rank_generic(ex, args, true)
}

pub(super) fn zcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let range = score_range(args.get(2), args.get(3))?;
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| {
            let (lo, hi) = range.ranks(z);
            hi - lo
        });
        out.int(n as i64);
        Ok(())
    })
}

pub(super) fn zlexcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let range = lex_range(args.get(2), args.get(3))?;
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let n = zread(db, args.get(1), now_ms)?.map_or(0, |z| {
            let (lo, hi) = range.ranks(z);
            hi - lo
        });
        out.int(n as i64);
        Ok(())
    })
}
