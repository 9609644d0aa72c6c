//! Byte-range string commands: APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE.

use super::*;

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE
// ---------------------------------------------------------------------------------------------

pub(super) fn append(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, tail, now) = (args.get(1), args.get(2), ex.now_ms);
    let max_bytes = max_string_bytes(ex);
    ex.with_db(key, |db, out| {
        let total = match db.lookup_write(key, now) {
            Some(e) => {
                let len = as_str(e.value())?.len();
                check_len(len as u64, tail.len() as u64, max_bytes)?;
                // Grows a short string inside the key's block (see Entry::append_str).
                e.append_str(tail)
            }
            None => {
                db.set(key, str_value(tail), 0, now);
                tail.len()
            }
        };
        out.int(total as i64);
        Ok(())
    })?;
    ex.notify(notify::STRING, "append", key);
    ex.dirty(key, 1);
    Ok(())
}

pub(super) fn strlen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let n = match db.lookup_read(key, now) {
            Some(e) => as_str(e.value())?.len(),
            None => 0,
        };
        out.int(n as i64);
        Ok(())
    })
}

/// The byte range GETRANGE returns for `start..=end` over `len` bytes: negative indexes count
/// from the end, both ends are clamped, and an inverted range is empty.
fn byte_range(start: i64, end: i64, len: usize) -> Option<std::ops::RangeInclusive<usize>> {
    let len = len as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.clamp(0, len - 1);
    (start <= end).then_some(start as usize..=end as usize)
}

pub(super) fn getrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let start = i64_arg(args.get(2))?;
    let end = i64_arg(args.get(3))?;
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.bulk(b"");
            return Ok(());
        };
        let s = as_str(e.value())?;
        match byte_range(start, end, s.len()) {
            Some(r) => out.bulk(&s[r]),
            None => out.bulk(b""),
        }
        Ok(())
    })
}

/// Writes `value` at `offset` of `bytes`, zero-filling any gap.
fn overwrite_at(bytes: &mut Vec<u8>, offset: usize, value: &[u8]) {
    let end = offset + value.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(value);
}

pub(super) fn setrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let offset = i64_arg(args.get(2))?;
    if offset < 0 {
        return Err(ReplyError::other("ERR offset is out of range"));
    }
    let (key, value, now) = (args.get(1), args.get(3), ex.now_ms);
    let max_bytes = max_string_bytes(ex);
    let written = ex.with_db(key, |db, out| {
        let entry = db.lookup_write(key, now);
        let cur_len = match &entry {
            Some(e) => as_str(e.value())?.len(),
            None => 0,
        };
        // Writing nothing changes nothing (and creates no key).
        if value.is_empty() {
            out.int(cur_len as i64);
            return Ok(false);
        }
        check_len(offset as u64, value.len() as u64, max_bytes)?;
        let total = match entry {
            Some(e) => {
                let s = as_str_mut(e.value_mut())?;
                overwrite_at(&mut s.bytes, offset as usize, value);
                s.modified = true;
                s.bytes.len()
            }
            None => {
                let mut s = StrValue::new(Vec::new());
                overwrite_at(&mut s.bytes, offset as usize, value);
                s.modified = true;
                let n = s.bytes.len();
                db.set(key, Value::Str(s), 0, now);
                n
            }
        };
        out.int(total as i64);
        Ok(true)
    })?;
    if written {
        ex.notify(notify::STRING, "setrange", key);
        ex.dirty(key, 1);
    }
    Ok(())
}
