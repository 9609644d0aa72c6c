//! Moves between lists and multi-key pops: LMOVE, RPOPLPUSH, LMPOP (and the key positions of
//! LMPOP/BLMPOP).

use super::*;

// ---------------------------------------------------------------------------------------------
// Moves: LMOVE, RPOPLPUSH, LMPOP
// ---------------------------------------------------------------------------------------------

/// What a move or multi-pop found at its source.
pub(super) enum Found {
    /// No list to take from (missing key).
    Nothing,
    /// The reply is written.
    Done,
}

/// Moves one element from `src`'s `from` end to `dst`'s `to` end and replies with it, or
/// writes nothing and returns `Found::Nothing` when `src` is absent. The two keys may live
/// on different shards (each reached through `ex.db`) or be the same key.
pub(super) fn move_one(
    ex: &mut Exec<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Found, ReplyError> {
    let now = ex.now_ms;
    if list_mut(ex.db(src), src, now)?.is_none() {
        return Ok(Found::Nothing);
    }
    // Check the destination's type before anything changes.
    list_mut(ex.db(dst), dst, now)?;
    let Some(elem) = list_mut(ex.db(src), src, now)?.and_then(|l| l.pop(from)) else {
        return Ok(Found::Nothing);
    };
    // Push before deleting an emptied source: with src == dst the list must survive.
    let db = ex.db(dst);
    match list_mut(db, dst, now)? {
        Some(l) => l.push(to, elem.as_bytes()),
        None => {
            let mut l = ListValue::new();
            l.push(to, elem.as_bytes());
            db.set(dst, Value::List(l), 0, now);
        }
    }
    drop_if_empty(ex.db(src), src, now);
    ex.notify(notify::LIST, push_event(to), dst);
    ex.notify(notify::LIST, pop_event(from), src);
    ex.notify_if_gone(src);
    ex.out.bulk(elem.as_bytes());
    ex.dirty(dst, 1);
    Ok(Found::Done)
}

pub(super) fn lmove(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (from, to) = (end_arg(args.get(3))?, end_arg(args.get(4))?);
    if let Found::Nothing = move_one(ex, args.get(1), args.get(2), from, to)? {
        ex.out.null();
    }
    Ok(())
}

pub(super) fn rpoplpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if let Found::Nothing = move_one(ex, args.get(1), args.get(2), End::Tail, End::Head)? {
        ex.out.null();
    }
    Ok(())
}

/// Parses LMPOP's `numkeys key.. LEFT|RIGHT [COUNT n]` with numkeys at `numkeys_idx`.
pub(super) fn parse_mpop(args: Args<'_>, numkeys_idx: usize) -> Result<Mpop<End>, ReplyError> {
    kit::numkeys::parse_mpop(args, numkeys_idx, |w| end_arg(w).ok())
}

/// Pops from the first existing list among the keys, replying `[key, [elements]]`; a key of
/// another type met first is WRONGTYPE.
pub(super) fn mpop_first(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    m: &Mpop<End>,
) -> Result<Found, ReplyError> {
    let now = ex.now_ms;
    for i in m.keys.clone() {
        let key = args.get(i);
        if list_mut(ex.db(key), key, now)?.is_none() {
            continue;
        }
        let popped = ex.with_db(key, |db, out| {
            out.array(2);
            out.bulk(key);
            pop_into_reply(db, out, key, m.side, m.count, now)
        });
        ex.notify(notify::LIST, pop_event(m.side), key);
        ex.notify_if_gone(key);
        ex.dirty(key, popped as u64);
        return Ok(Found::Done);
    }
    Ok(Found::Nothing)
}

pub(super) fn lmpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    if let Found::Nothing = mpop_first(ex, args, &m)? {
        ex.out.null_array();
    }
    Ok(())
}

/// Key positions of `numkeys key..` with numkeys at `numkeys_idx`. Invalid counts give no
/// keys (the handler then reports the precise error), as do counts past the end.
fn mpop_key_positions(args: Args<'_>, numkeys_idx: usize) -> Vec<usize> {
    let n = match parse_i64(args.get(numkeys_idx)) {
        Some(n) if n > 0 => n as u64,
        _ => return Vec::new(),
    };
    let first = numkeys_idx + 1;
    if (first as u64).saturating_add(n) > args.len() as u64 {
        return Vec::new();
    }
    (first..first + n as usize).collect()
}

pub(super) fn lmpop_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(mpop_key_positions(args, 1))
}

pub(super) fn blmpop_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(mpop_key_positions(args, 2))
}
