//! Multi-key string commands: MGET, MSET, MSETNX.

use super::*;

// ---------------------------------------------------------------------------------------------
// Multi-key: MGET, MSET, MSETNX
// ---------------------------------------------------------------------------------------------

pub(super) fn mget(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    ex.out.array(args.len() - 1);
    for i in 1..args.len() {
        let key = args.get(i);
        // A value of another type reads as null here, not WRONGTYPE.
        ex.with_db(key, |db, out| match db.lookup_read(key, now) {
            Some(e) => match as_str(e.value()) {
                Ok(s) => out.bulk(s),
                Err(_) => out.null(),
            },
            None => out.null(),
        });
    }
    Ok(())
}

fn mset_all(ex: &mut Exec<'_>, args: Args<'_>) {
    let now = ex.now_ms;
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        ex.db(key).set_str(key, args.get(i + 1), 0, now);
        ex.notify(notify::STRING, "set", key);
        ex.dirty(key, 1);
        // Per key, so keys on different shards land in their own shard's journal.
        ex.journal(key, &[b"SET", key, args.get(i + 1)]);
    }
}

pub(super) fn mset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ReplyError::Arity("mset".into()));
    }
    mset_all(ex, args);
    ex.out.ok();
    Ok(())
}

pub(super) fn msetnx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ReplyError::Arity("msetnx".into()));
    }
    let now = ex.now_ms;
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        if ex.db(key).contains(key, now) {
            ex.out.int(0);
            return Ok(());
        }
    }
    mset_all(ex, args);
    ex.out.int(1);
    Ok(())
}
