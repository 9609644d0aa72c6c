//! BITOP AND/OR/XOR/NOT destkey key...: the result is as long as the longest source and
//! replaces destkey (no TTL); an empty result deletes it. Sources on other shards are reached
//! through the parked section the dispatcher opened (standalone mode), so the command is atomic.

use super::*;
use bits::BitOp;

fn parse_op(raw: &[u8]) -> Option<BitOp> {
    [
        (&b"and"[..], BitOp::And),
        (b"or", BitOp::Or),
        (b"xor", BitOp::Xor),
        (b"not", BitOp::Not),
    ]
    .into_iter()
    .find(|(name, _)| raw.eq_ignore_ascii_case(name))
    .map(|(_, op)| op)
}

/// Length of the string at `key` (0 when missing); WRONGTYPE for another type.
fn str_len(ex: &mut Exec<'_>, key: &[u8]) -> Result<usize, ReplyError> {
    let now = ex.now_ms;
    match ex.db(key).lookup_read(key, now) {
        Some(e) => Ok(as_str(e.value())?.len()),
        None => Ok(0),
    }
}

pub(super) fn bitop(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let op = parse_op(args.get(1)).ok_or(ReplyError::Syntax)?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(ReplyError::other(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let (dest, now) = (args.get(2), ex.now_ms);
    // Every source is checked before anything is computed.
    let mut len = 0;
    for i in 3..args.len() {
        len = len.max(str_len(ex, args.get(i))?);
    }
    if len == 0 {
        if ex.db(dest).remove(dest, now).is_some() {
            ex.notify(crate::shard::notify::GENERIC, "del", dest);
            ex.dirty(dest, 1);
        }
        ex.out.int(0);
        return Ok(());
    }
    let mut out = Vec::new();
    for i in 3..args.len() {
        let key = args.get(i);
        let db = ex.db(key);
        // Read (and counted as a hit or miss) in the first pass already.
        let src = match db.lookup_no_touch(key, now) {
            Some(e) => as_str(e.value())?,
            None => &[][..],
        };
        if i == 3 {
            out = bits::bitop_first(op, src, len);
        } else {
            bits::bitop_next(op, &mut out, src);
        }
    }
    let value = Value::Str(StrValue {
        bytes: out,
        modified: true,
    });
    ex.db(dest).set(dest, value, 0, now);
    ex.notify(crate::shard::notify::STRING, "set", dest);
    ex.dirty(dest, 1);
    ex.out.int(len as i64);
    Ok(())
}
