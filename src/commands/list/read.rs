//! List reads: LLEN, LRANGE, LINDEX, LPOS.

use super::*;

// ---------------------------------------------------------------------------------------------
// Reads: LLEN, LRANGE, LINDEX, LPOS
// ---------------------------------------------------------------------------------------------

pub(super) fn llen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        match db.lookup_read(key, now) {
            None => out.int(0),
            Some(e) => out.int(as_list(e.value())?.len() as i64),
        }
        Ok(())
    })
}

/// Indexes are checked before the key is looked up, as in Redis.
pub(super) fn lrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (start, stop) = (i64_arg(args.get(2))?, i64_arg(args.get(3))?);
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.array(0);
            return Ok(());
        };
        let list = as_list(e.value())?;
        match list.clamp_range(start, stop) {
            None => out.array(0),
            Some((first, last)) => {
                out.array(last - first + 1);
                for b in list.range(first, last) {
                    out.bulk(b);
                }
            }
        }
        Ok(())
    })
}

/// The key is looked up before the index is parsed: a missing key answers null whatever
/// the index says, as in Redis.
pub(super) fn lindex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(());
        };
        let list = as_list(e.value())?;
        let index = i64_arg(args.get(2))?;
        match list.resolve(index).and_then(|p| list.get(p)) {
            Some(b) => out.bulk(b),
            None => out.null(),
        }
        Ok(())
    })
}

/// LPOS options; errors in the order Redis reports them while reading the arguments.
fn parse_lpos_opts(args: Args<'_>) -> Result<(PosQuery, bool), ReplyError> {
    let mut q = PosQuery {
        rank: 1,
        count: 0,
        maxlen: 0,
    };
    let mut with_count = false;
    let non_negative = |b: &[u8], what: &str| match parse_i64(b) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(ReplyError::other(format!("ERR {what} can't be negative"))),
    };
    let mut cur = ArgCursor::new(args, 3);
    while !cur.is_done() {
        let (opt, v) = (cur.next()?, cur.next()?);
        if opt.eq_ignore_ascii_case(b"rank") {
            q.rank = i64_arg(v)?;
            if q.rank == 0 {
                return Err(ReplyError::other(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if opt.eq_ignore_ascii_case(b"count") {
            q.count = non_negative(v, "COUNT")?;
            with_count = true;
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            q.maxlen = non_negative(v, "MAXLEN")?;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok((q, with_count))
}

pub(super) fn lpos(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (q, with_count) = parse_lpos_opts(args)?;
    let (key, elem, now) = (args.get(1), args.get(2), ex.now_ms);
    ex.with_db(key, |db, out| {
        let found = match db.lookup_read(key, now) {
            None => Vec::new(),
            Some(e) => as_list(e.value())?.positions(elem, q),
        };
        if with_count {
            out.array(found.len());
            for p in found {
                out.int(p as i64);
            }
        } else {
            match found.first() {
                Some(&p) => out.int(p as i64),
                None => out.null(),
            }
        }
        Ok(())
    })
}
