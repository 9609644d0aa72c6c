//! SETBIT and GETBIT: one bit at an offset.

use super::*;

pub(super) fn setbit(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let offset = bit_offset(ex, args.get(2), None)?;
    let on = match args.get(3) {
        b"0" => false,
        b"1" => true,
        _ => {
            return Err(ReplyError::other(
                "ERR bit is not an integer or out of range",
            ))
        }
    };
    let (key, now) = (args.get(1), ex.now_ms);
    let len = (offset >> 3) as usize + 1;
    let changed = ex.with_db(key, |db, out| {
        let (old, changed) = match db.lookup_write(key, now) {
            Some(e) => {
                let grows = as_str(e.value())?.len() < len;
                edit_str(e, len, |b| {
                    let old = bits::set_bit(b, offset, on);
                    (old, grows || old != on)
                })
            }
            None => {
                db.set(
                    key,
                    new_str(len, |b| _ = bits::set_bit(b, offset, on)),
                    0,
                    now,
                );
                (false, true)
            }
        };
        out.int(old as i64);
        Ok(changed)
    })?;
    // A bit set to what it was changes nothing: not counted, not propagated (as Redis 7.0).
    if changed {
        ex.notify(crate::shard::notify::STRING, "setbit", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

pub(super) fn getbit(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let offset = bit_offset(ex, args.get(2), None)?;
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let bit = match db.lookup_read(key, now) {
            Some(e) => bits::get_bit(as_str(e.value())?, offset),
            None => false,
        };
        out.int(bit as i64);
        Ok(())
    })
}
