//! Ranges by rank, score and lex: ZRANGE and its older forms, ZRANGESTORE, removal by range
//! (ZREMRANGEBY*), and the pops (ZPOPMIN, ZPOPMAX, ZMPOP).

use super::*;

// ---------------------------------------------------------------------------------------------
// ZRANGE and its older forms, ZRANGESTORE
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
struct RangeReq<'a> {
    by: By,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// -1: no limit.
    limit: i64,
    min: &'a [u8],
    max: &'a [u8],
}

/// Parses a range request whose key is at `key_at` (min and max follow it). `by`/`rev` are
/// fixed for the older commands, which then refuse BYSCORE/BYLEX/REV as syntax errors.
fn parse_range<'a>(
    args: Args<'a>,
    key_at: usize,
    by: Option<By>,
    rev: Option<bool>,
    store: bool,
) -> Result<RangeReq<'a>, ReplyError> {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut cur = ArgCursor::new(args, key_at + 3);
    while !cur.is_done() {
        if !store && cur.flag("WITHSCORES") {
            withscores = true;
        } else if cur.remaining() >= 3 && cur.flag("LIMIT") {
            offset = cur.next_i64()?;
            limit = cur.next_i64()?;
        } else if rev_opt.is_none() && cur.flag("REV") {
            rev_opt = Some(true);
        } else if by_opt.is_none() && cur.flag("BYLEX") {
            by_opt = Some(By::Lex);
        } else if by_opt.is_none() && cur.flag("BYSCORE") {
            by_opt = Some(By::Score);
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    let (by, rev) = (by_opt.unwrap_or(By::Rank), rev_opt.unwrap_or(false));
    if limit != -1 && by == By::Rank {
        return Err(ReplyError::other(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(ReplyError::other(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min, mut max) = (args.get(key_at + 1), args.get(key_at + 2));
    if rev && by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    Ok(RangeReq {
        by,
        rev,
        withscores,
        offset,
        limit,
        min,
        max,
    })
}

/// The range's bounds, parsed before the key is looked up (as Redis orders its errors).
enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

fn parse_bounds<'a>(r: &RangeReq<'a>) -> Result<Bounds<'a>, ReplyError> {
    Ok(match r.by {
        By::Rank => Bounds::Rank(i64_arg(r.min)?, i64_arg(r.max)?),
        By::Score => Bounds::Score(score_range(r.min, r.max)?),
        By::Lex => Bounds::Lex(lex_range(r.min, r.max)?),
    })
}

/// The selected entries as (first rank in walking order, count, walk downwards).
fn select(z: &ZSetValue, r: &RangeReq<'_>, b: &Bounds<'_>) -> (usize, usize, bool) {
    let len = z.len() as i64;
    let (lo, hi) = match b {
        Bounds::Rank(start, end) => {
            let (mut s, mut e) = (*start, *end);
            if s < 0 {
                s += len;
            }
            if e < 0 {
                e += len;
            }
            s = s.max(0);
            if s > e || s >= len {
                return (0, 0, false);
            }
            e = e.min(len - 1);
            let n = (e - s + 1) as usize;
            return if r.rev {
                ((len - 1 - s) as usize, n, true)
            } else {
                (s as usize, n, false)
            };
        }
        Bounds::Score(range) => range.ranks(z),
        Bounds::Lex(range) => range.ranks(z),
    };
    if r.offset < 0 {
        return (0, 0, false);
    }
    let inside = hi - lo;
    let skip = (r.offset as u64).min(inside as u64) as usize;
    let n = inside - skip;
    let n = if r.limit < 0 {
        n
    } else {
        n.min(r.limit as u64 as usize)
    };
    if n == 0 {
        return (0, 0, false);
    }
    if r.rev {
        (hi - 1 - skip, n, true)
    } else {
        (lo + skip, n, false)
    }
}

/// Entries of a selection, in walking order.
fn walk(z: &ZSetValue, at: usize, down: bool) -> Box<dyn Iterator<Item = &Entry> + '_> {
    if down {
        Box::new(z.iter_down_from(at))
    } else {
        Box::new(z.iter_from(at))
    }
}

fn range_generic(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let r = parse_range(args, 1, by, rev, false)?;
    let b = parse_bounds(&r)?;
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let Some(z) = zread(db, args.get(1), now_ms)? else {
            out.array(0);
            return Ok(());
        };
        let (at, n, down) = select(z, &r, &b);
        write_entries(out, n, walk(z, at, down), r.withscores);
        Ok(())
    })
}

pub(super) fn zrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, None, None)
}
pub(super) fn zrevrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Rank), Some(true))
}
pub(super) fn zrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Score), Some(false))
}
pub(super) fn zrevrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Score), Some(true))
}
pub(super) fn zrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Lex), Some(false))
}
pub(super) fn zrevrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range_generic(ex, args, Some(By::Lex), Some(true))
}

/// Stores `entries` (sorted ascending, distinct) at `dst`, or deletes `dst` when empty.
/// Returns the stored count.
pub(super) fn store_result(ex: &mut Exec<'_>, dst: &[u8], entries: Vec<Entry>) -> usize {
    let (now_ms, lim) = (ex.now_ms, limits(ex));
    let n = entries.len();
    let db = ex.db(dst);
    if n == 0 {
        if db.remove(dst, now_ms).is_some() {
            ex.dirty(dst, 1);
        }
        return 0;
    }
    db.set(
        dst,
        Value::ZSet(ZSetValue::from_sorted(entries, lim)),
        0,
        now_ms,
    );
    ex.dirty(dst, 1);
    n
}

pub(super) fn zrangestore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let r = parse_range(args, 2, None, None, true)?;
    let b = parse_bounds(&r)?;
    let (src, now_ms) = (args.get(2), ex.now_ms);
    let mut picked: Vec<Entry> = match zread(ex.db(src), src, now_ms)? {
        None => Vec::new(),
        Some(z) => {
            let (at, n, down) = select(z, &r, &b);
            walk(z, at, down).take(n).cloned().collect()
        }
    };
    if r.rev {
        picked.reverse();
    }
    let n = store_result(ex, args.get(1), picked);
    ex.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Removal by range, pops
// ---------------------------------------------------------------------------------------------

fn remrange_generic(ex: &mut Exec<'_>, args: Args<'_>, by: By) -> CmdResult {
    let (min, max) = (args.get(2), args.get(3));
    let b = match by {
        By::Rank => Bounds::Rank(i64_arg(min)?, i64_arg(max)?),
        By::Score => Bounds::Score(score_range(min, max)?),
        By::Lex => Bounds::Lex(lex_range(min, max)?),
    };
    let r = RangeReq {
        by,
        rev: false,
        withscores: false,
        offset: 0,
        limit: -1,
        min,
        max,
    };
    let (key, now_ms) = (args.get(1), ex.now_ms);
    let removed = ex.with_db(key, |db, out| {
        let Some(z) = zwrite(db, key, now_ms)? else {
            out.int(0);
            return Ok(0);
        };
        let (at, n, _) = select(z, &r, &b);
        let gone = z.remove_range(at, n).len();
        drop_if_empty(db, key, now_ms);
        out.int(gone as i64);
        Ok(gone)
    })?;
    if removed > 0 {
        let event = match by {
            By::Rank => "zremrangebyrank",
            By::Score => "zremrangebyscore",
            By::Lex => "zremrangebylex",
        };
        ex.notify(notify::ZSET, event, key);
        ex.notify_if_gone(key);
        ex.dirty(key, removed as u64);
    }
    Ok(())
}

pub(super) fn zremrangebyrank(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Rank)
}
pub(super) fn zremrangebyscore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Score)
}
pub(super) fn zremrangebylex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    remrange_generic(ex, args, By::Lex)
}

/// Pops up to `count` entries from the low (`max` false) or high end, in popping order, and
/// deletes the key when it empties. None when the key is absent.
pub(super) fn pop_entries(
    db: &mut Db,
    key: &[u8],
    now_ms: u64,
    max: bool,
    count: usize,
) -> Result<Option<Vec<Entry>>, ReplyError> {
    let Some(z) = zwrite(db, key, now_ms)? else {
        return Ok(None);
    };
    let n = count.min(z.len());
    let mut v = if max {
        z.remove_range(z.len() - n, n)
    } else {
        z.remove_range(0, n)
    };
    if max {
        v.reverse();
    }
    drop_if_empty(db, key, now_ms);
    Ok(Some(v))
}

fn pop_generic(ex: &mut Exec<'_>, args: Args<'_>, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Syntax);
    }
    let count = match args.len() {
        3 => Some(ArgCursor::new(args, 2).next_u64()? as usize),
        _ => None,
    };
    let (key, now_ms) = (args.get(1), ex.now_ms);
    let popped = ex.with_db(key, |db, out| {
        let v = pop_entries(db, key, now_ms, max, count.unwrap_or(1))?.unwrap_or_default();
        // With a count, RESP3 nests [member, score] pairs; without one the reply is flat.
        match count {
            Some(_) => write_entries(out, v.len(), v.iter(), true),
            None => {
                out.array(2 * v.len());
                for e in &v {
                    out.bulk(&e.member);
                    out.double(e.score);
                }
            }
        }
        Ok(v.len())
    })?;
    if popped > 0 {
        ex.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        ex.notify_if_gone(key);
        ex.dirty(key, popped as u64);
    }
    Ok(())
}

pub(super) fn zpopmin(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, false)
}
pub(super) fn zpopmax(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, true)
}

/// Parses "numkeys key... MIN|MAX [COUNT count]" with numkeys at `at`; the side is true for
/// MAX.
pub(super) fn parse_mpop(args: Args<'_>, at: usize) -> Result<Mpop<bool>, ReplyError> {
    kit::numkeys::parse_mpop(args, at, |w| {
        if w.eq_ignore_ascii_case(b"min") {
            Some(false)
        } else if w.eq_ignore_ascii_case(b"max") {
            Some(true)
        } else {
            None
        }
    })
}

/// Pops from the first non-empty key of `req`; writes [key, [[member, score]...]] and returns
/// true, or writes nothing and returns false when every key is empty.
pub(super) fn mpop_now(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    req: &Mpop<bool>,
) -> Result<bool, ReplyError> {
    let now_ms = ex.now_ms;
    for i in req.keys.clone() {
        let key = args.get(i);
        let Some(v) = pop_entries(ex.db(key), key, now_ms, req.side, req.count as usize)? else {
            continue;
        };
        ex.notify(
            notify::ZSET,
            if req.side { "zpopmax" } else { "zpopmin" },
            key,
        );
        ex.notify_if_gone(key);
        ex.dirty(key, v.len() as u64);
        let out = &mut ex.out;
        out.array(2);
        out.bulk(key);
        out.array(v.len());
        for e in &v {
            out.array(2);
            out.bulk(&e.member);
            out.double(e.score);
        }
        return Ok(true);
    }
    Ok(false)
}

pub(super) fn zmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let req = parse_mpop(args, 1)?;
    if !mpop_now(ex, args, &req)? {
        ex.out.null_array();
    }
    Ok(())
}
