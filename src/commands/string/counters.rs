//! Counters: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT.

use super::*;

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// Adds `delta` to the integer at `key` (absent counts as 0), keeping any TTL.
fn incr_by(ex: &mut Exec<'_>, key: &[u8], delta: i64) -> CmdResult {
    let now = ex.now_ms;
    ex.with_db(key, |db, out| {
        let new = match db.lookup_write(key, now) {
            Some(e) => {
                let cur = parse_i64(as_str(e.value())?).ok_or(ReplyError::NotInteger)?;
                let new = cur.checked_add(delta).ok_or(ReplyError::Overflow)?;
                // Rewritten in the key's own block: a counter stays one allocation.
                e.set_str(new.to_string().as_bytes());
                new
            }
            None => {
                db.set(key, str_value(delta.to_string().as_bytes()), 0, now);
                delta
            }
        };
        out.int(new);
        Ok(())
    })?;
    ex.notify(notify::STRING, "incrby", key);
    ex.dirty(key, 1);
    Ok(())
}

pub(super) fn incr(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ex, args.get(1), 1)
}

pub(super) fn decr(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    incr_by(ex, args.get(1), -1)
}

pub(super) fn incrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let delta = i64_arg(args.get(2))?;
    incr_by(ex, args.get(1), delta)
}

pub(super) fn decrby(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let v = i64_arg(args.get(2))?;
    let delta = v
        .checked_neg()
        .ok_or_else(|| ReplyError::other("ERR decrement would overflow"))?;
    incr_by(ex, args.get(1), delta)
}

/// INCRBYFLOAT computes in x87 extended precision, as Redis does (see `ld`), so the stored
/// text matches redis-server digit for digit.
pub(super) fn incrbyfloat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let incr_raw = args.get(2);
    let text = ex.with_db(key, |db, out| {
        let entry = db.lookup_write(key, now);
        let cur = match &entry {
            Some(e) => ld::parse(as_str(e.value())?),
            None => Some(ld::Parsed::Finite(ld::F80::ZERO)),
        };
        let cur = cur.ok_or(ReplyError::NotFloat)?;
        let incr = ld::parse(incr_raw).ok_or(ReplyError::NotFloat)?;
        let (ld::Parsed::Finite(a), ld::Parsed::Finite(b)) = (cur, incr) else {
            return Err(ReplyError::IncrNanOrInfinity);
        };
        let text = ld::format_human(ld::add(a, b).ok_or(ReplyError::IncrNanOrInfinity)?);
        match entry {
            Some(e) => e.set_value(str_value(text.as_bytes())),
            None => db.set(key, str_value(text.as_bytes()), 0, now),
        }
        out.bulk(text.as_bytes());
        Ok(text)
    })?;
    ex.notify(notify::STRING, "incrbyfloat", key);
    ex.dirty(key, 1);
    // Journaled as the SET of its result, so replay never redoes float arithmetic.
    ex.journal(key, &[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    Ok(())
}
