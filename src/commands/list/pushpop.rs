//! Pushes and pops: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP.

use super::*;

// ---------------------------------------------------------------------------------------------
// Pushes and pops
// ---------------------------------------------------------------------------------------------

/// LPUSH/RPUSH (`only_existing` false) and LPUSHX/RPUSHX.
fn push_generic(ex: &mut Exec<'_>, args: Args<'_>, end: End, only_existing: bool) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let pushed = ex.with_db(key, |db, out| {
        match list_mut(db, key, now)? {
            Some(list) => {
                push_all(list, args, end);
                out.int(list.len() as i64);
            }
            None if only_existing => {
                out.int(0);
                return Ok(0);
            }
            None => {
                let mut list = ListValue::new();
                push_all(&mut list, args, end);
                out.int(list.len() as i64);
                db.set(key, Value::List(list), 0, now);
            }
        }
        Ok(args.len() as u64 - 2)
    })?;
    if pushed > 0 {
        ex.notify(notify::LIST, push_event(end), key);
        ex.dirty(key, pushed);
    }
    Ok(())
}

/// Pushes `args[2..]` one by one (so LPUSH a b c leaves c at the head).
fn push_all(list: &mut ListValue, args: Args<'_>, end: End) {
    for i in 2..args.len() {
        list.push(end, args.get(i));
    }
}

pub(super) fn lpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Head, false)
}

pub(super) fn rpush(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Tail, false)
}

pub(super) fn lpushx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Head, true)
}

pub(super) fn rpushx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    push_generic(ex, args, End::Tail, true)
}

/// LPOP/RPOP. With a count the reply is an array (null array for a missing key), without
/// one a single bulk string.
fn pop_generic(ex: &mut Exec<'_>, args: Args<'_>, end: End, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Arity(name.into()));
    }
    let count = if args.len() == 3 {
        Some(ArgCursor::new(args, 2).next_u64()?)
    } else {
        None
    };
    let (key, now) = (args.get(1), ex.now_ms);
    let popped = ex.with_db(key, |db, out| {
        let Some(list) = list_mut(db, key, now)? else {
            match count {
                Some(_) => out.null_array(),
                None => out.null(),
            }
            return Ok(0);
        };
        let Some(n) = count else {
            return Ok(match list.pop(end) {
                Some(e) => {
                    out.bulk(e.as_bytes());
                    if list.is_empty() {
                        db.remove(key, now);
                    }
                    1
                }
                None => {
                    out.null();
                    0
                }
            });
        };
        Ok(pop_into_reply(db, out, key, end, n, now))
    })?;
    if popped > 0 {
        ex.notify(notify::LIST, pop_event(end), key);
        ex.notify_if_gone(key);
        ex.dirty(key, popped as u64);
    }
    Ok(())
}

pub(super) fn lpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, End::Head, "lpop")
}

pub(super) fn rpop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    pop_generic(ex, args, End::Tail, "rpop")
}
