//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. Handlers read their arguments in Redis' order (so the first error is Redis'
//! first error), reach the string through `Exec::with_db` and leave the bit work to
//! `types::bits`. A string that lives inline in its key's block is edited there while it fits
//! (`edit_str`), as APPEND does; a longer one is edited in its boxed buffer. Every write marks
//! the string modified, so OBJECT ENCODING says "raw" as Redis does after a bit command.

use super::kit::number::parse_i64;
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::constants::{PROTO_MAX_BULK_LEN_MIN, STRING_MAX_BYTES};
use crate::keyspace::entry::{Entry, INLINE_STR_MAX_BYTES};
use crate::resp::{Args, ReplyError};
use crate::shard::value::{StrValue, Value, ValueRef};
use crate::types::bits;

mod bitfield;
mod bitop;
mod count;
mod single;
mod table;

pub use table::COMMANDS;

/// Redis' text for a bad or too large bit offset.
const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// The bytes of a string value, or WRONGTYPE for every other family.
fn as_str(v: ValueRef<'_>) -> Result<&[u8], ReplyError> {
    match v {
        ValueRef::Str(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

/// Highest byte count a bit command may grow a string to: proto-max-bulk-len, capped by the
/// compile-time ceiling on strings.
fn max_bytes(ex: &Exec<'_>) -> u64 {
    ex.shard
        .global
        .cfg(|c| c.proto_max_bulk_len)
        .min(STRING_MAX_BYTES)
}

/// A bit offset as Redis' `getBitOffsetFromArgument` reads it: an integer, or with `hash_bits`
/// (BITFIELD) `#N` meaning N fields of that width; negative offsets and offsets whose byte is
/// at or past proto-max-bulk-len are refused. The configuration is read only for offsets past
/// its smallest possible value.
fn bit_offset(ex: &Exec<'_>, raw: &[u8], hash_bits: Option<u32>) -> Result<u64, ReplyError> {
    let err = || ReplyError::other(OFFSET_ERR);
    let (digits, times) = match (raw.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&raw[1..], bits as i64),
        _ => (raw, 1),
    };
    let v = parse_i64(digits).ok_or_else(err)?.wrapping_mul(times);
    if v < 0 {
        return Err(err());
    }
    let byte = v as u64 >> 3;
    if byte >= PROTO_MAX_BULK_LEN_MIN && byte >= max_bytes(ex) {
        return Err(err());
    }
    Ok(v as u64)
}

/// Runs `f` over the string of `e` (the caller checked the type) grown with zero bytes to at
/// least `len` bytes, and marks it modified. A short string stays inside the key's block.
fn edit_str<R>(e: &mut Entry, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if let Some(cur) = e.str_bytes().filter(|_| e.is_inline()) {
        let n = cur.len().max(len);
        if n <= INLINE_STR_MAX_BYTES {
            let mut buf = [0u8; INLINE_STR_MAX_BYTES];
            buf[..cur.len()].copy_from_slice(cur);
            let r = f(&mut buf[..n]);
            e.set_str_modified(&buf[..n]);
            return r;
        }
    }
    match e.value_mut() {
        Value::Str(s) => {
            if s.bytes.len() < len {
                s.bytes.resize(len, 0);
            }
            s.modified = true;
            f(&mut s.bytes)
        }
        other => unreachable!("edit_str on a {}", other.type_name()),
    }
}

/// A new string value of `len` zero bytes after `f` ran over it, marked modified ("raw").
fn new_str(len: usize, f: impl FnOnce(&mut [u8])) -> Value {
    let mut bytes = vec![0u8; len];
    f(&mut bytes);
    Value::Str(StrValue {
        bytes,
        modified: true,
    })
}
