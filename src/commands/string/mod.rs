//! String commands: GET, SET and its variants, counters, ranges, MGET/MSET, LCS.
//! Handlers are plain synchronous keyed functions; they never touch another family's values
//! except to answer WRONGTYPE, and never reach a keyspace except through `Exec::db`.

use super::kit::number::longdouble as ld;
use super::kit::number::{i64_arg, parse_i64};
use super::kit::ArgCursor;
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::constants::{LCS_MAX_CELLS, STRING_MAX_BYTES};
use crate::resp::{Args, ReplyError};
use crate::shard::notify;
use crate::shard::value::{StrValue, Value, ValueRef};
mod bytes;
mod counters;
mod getset;
mod lcs;
mod multi;
mod table;
#[cfg(test)]
mod tests;

use bytes::*;
use counters::*;
use getset::*;
use lcs::*;
use multi::*;
pub use table::COMMANDS;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// The bytes of a string value, or WRONGTYPE for every other family.
fn as_str(v: ValueRef<'_>) -> Result<&[u8], ReplyError> {
    match v {
        ValueRef::Str(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn as_str_mut(v: &mut Value) -> Result<&mut StrValue, ReplyError> {
    #[allow(unreachable_patterns)] // other families will add variants
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(ReplyError::WrongType),
    }
}

fn str_value(b: &[u8]) -> Value {
    Value::Str(StrValue::from_slice(b))
}

/// Most bytes a string may grow to by APPEND/SETRANGE: proto-max-bulk-len, capped by the
/// compile-time ceiling.
fn max_string_bytes(ex: &Exec<'_>) -> u64 {
    ex.shard
        .global
        .cfg(|c| c.proto_max_bulk_len)
        .min(STRING_MAX_BYTES)
}

/// Errors when a string of `size` bytes growing by `extra` bytes would pass the limit.
fn check_len(size: u64, extra: u64, max_bytes: u64) -> CmdResult {
    match size.checked_add(extra) {
        Some(total) if total <= max_bytes => Ok(()),
        _ => Err(ReplyError::StringTooLong),
    }
}
