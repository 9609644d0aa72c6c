//! Generic key commands (Redis' "generic" group plus DBSIZE/FLUSHALL/FLUSHDB): delete, test,
//! expire, rename and copy keys; walk the keyspace (KEYS, SCAN, RANDOMKEY); inspect values
//! (OBJECT). Keyed commands reach keyspaces only through `Exec::db`; keyspace-wide commands fan
//! out over shards. Never knows a value's internals beyond `Value`'s own methods.

use super::kit::number::{i64_arg, parse_i64};
use super::kit::scan::ScanArgs;
use super::kit::ArgCursor;
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Exec, Handler, KeySpec};
use crate::constants::{SCAN_MAX_KEYS_PER_CALL, SLOT_COUNT};
use crate::lazyfree::{self, Cause};
use crate::resp::{Args, ReplyError};
use crate::shard::db::Entry;
use crate::shard::notify;
use crate::shard::value::ValueRef;
use crate::shard::Shard;

mod dbs;
mod expire;
mod keyspace;
mod object;
mod rename;
mod table;
#[cfg(test)]
mod tests;

pub(crate) use dbs::db_index_arg;
use dbs::*;
use expire::*;
use keyspace::*;
pub(crate) use keyspace::{flush_shard_all, flush_shard_db};
use object::*;
use rename::*;
pub use table::COMMANDS;

// ---------------------------------------------------------------------------------------------
// Existence, deletion, type
// ---------------------------------------------------------------------------------------------

/// Looks a key up without refreshing its access time, counting a keyspace hit or miss (Redis'
/// "no touch" read lookups, used by EXISTS, TYPE, TTL, OBJECT and MEMORY USAGE).
pub(crate) fn peek<'e>(ex: &'e mut Exec<'_>, key: &[u8]) -> Option<&'e mut Entry> {
    let now = ex.now_ms;
    let db = ex.db(key);
    if db.contains(key, now) {
        db.stats.hits += 1;
        db.lookup_no_touch(key, now)
    } else {
        db.stats.misses += 1;
        None
    }
}

/// DEL: frees values in place, unless `lazyfree-lazy-user-del` makes it UNLINK.
fn del(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ex, args, Cause::UserDel)
}

/// UNLINK: big values go to the lazy-free worker, the reply does not wait for their memory.
fn unlink(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    del_generic(ex, args, Cause::Unlink)
}

/// Deletes each key; `cause` decides whether a big value may be freed lazily. Both are
/// journaled as DEL: the data is the same, and a replica or an AOF load frees as its own
/// settings say.
fn del_generic(ex: &mut Exec<'_>, args: Args<'_>, cause: Cause) -> CmdResult {
    let now = ex.now_ms;
    let mut removed = 0;
    for key in args.iter().skip(1) {
        if let Some(e) = ex.db(key).remove(key, now) {
            lazyfree::free(e, cause);
            ex.notify(notify::GENERIC, "del", key);
            ex.dirty(key, 1);
            ex.journal(key, &[b"DEL", key]);
            removed += 1;
        }
    }
    ex.out.int(removed);
    Ok(())
}

fn exists(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let mut found = 0;
    for key in args.iter().skip(1) {
        if peek(ex, key).is_some() {
            found += 1;
        }
    }
    ex.out.int(found);
    Ok(())
}

fn touch(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    let mut found = 0;
    for key in args.iter().skip(1) {
        if ex.db(key).lookup_read(key, now).is_some() {
            found += 1;
        }
    }
    ex.out.int(found);
    Ok(())
}

fn type_cmd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let name = peek(ex, args.get(1)).map_or("none", |e| e.value().type_name());
    ex.out.simple(name);
    Ok(())
}
