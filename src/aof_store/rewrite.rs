//! Serializing keys for an AOF base: each live key becomes the RESP commands that recreate it
//! exactly (value and absolute expiry). Pure: no files here.

use crate::aof_store::journal::encode;
use crate::keyspace::db::Db;
use crate::keyspace::db::Entry;
use crate::keyspace::value::ValueRef;
use crate::resp::write::format_double_g17;
use crate::types::stream::{StreamId, StreamValue};

/// Appends the commands that recreate `e` to `out`; expired keys produce nothing.
pub fn serialize_entry(e: &Entry, now_ms: u64, out: &mut Vec<u8>) {
    let at = e.expire_at_ms();
    if at != 0 && at < now_ms {
        return;
    }
    let key: &[u8] = e.key();
    match e.value() {
        ValueRef::Str(s) => {
            if at == 0 {
                encode(out, &[b"SET", key, s]);
            } else {
                let t = at.to_string();
                encode(out, &[b"SET", key, s, b"PXAT", t.as_bytes()]);
            }
            return;
        }
        other => serialize_collection(key, other, out),
    }
    if at != 0 {
        let t = at.to_string();
        encode(out, &[b"PEXPIREAT", key, t.as_bytes()]);
    }
}

/// Appends one `FUNCTION LOAD <code>` per library (in name order) to `out`: how a rewritten
/// base and a full sync's snapshot carry the function libraries (shard 0's only).
pub fn serialize_libraries(libs: &crate::lua::store::Libraries, out: &mut Vec<u8>) {
    let mut all: Vec<_> = libs.values().collect();
    all.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for lib in all {
        encode(out, &[b"FUNCTION", b"LOAD", &lib.code]);
    }
}

/// Serializes table `idx` of database `dbi` into `out`; `cur` is the database a reader of
/// `out` is in, and a `SELECT dbi` goes first when the table has keys and that differs.
pub fn serialize_table(
    db: &Db,
    dbi: u32,
    idx: usize,
    now_ms: u64,
    cur: &mut u32,
    out: &mut Vec<u8>,
) {
    serialize_table_keeping(db, dbi, idx, now_ms, cur, out, None, |_| true);
}

/// A snapshot's table (see `serialize_one` for `rdb`): every live key for which `keep` says
/// yes (a snapshot skips the keys a write already captured on their own).
#[allow(clippy::too_many_arguments)]
pub fn serialize_table_keeping(
    db: &Db,
    dbi: u32,
    idx: usize,
    now_ms: u64,
    cur: &mut u32,
    out: &mut Vec<u8>,
    rdb: Option<crate::rdb::DumpOpts>,
    keep: impl Fn(&[u8]) -> bool,
) {
    db.for_each_in_table(idx, now_ms, |e| {
        if keep(e.key()) {
            serialize_one(e, dbi, now_ms, cur, out, rdb);
        }
    });
}

/// One key of database `dbi` as RESP commands (`rdb` None) or as an RDB entry, after a
/// SELECT / SELECTDB when `cur` (the database a reader of `out` is in) differs. An expired key
/// produces nothing.
pub fn serialize_one(
    e: &Entry,
    dbi: u32,
    now_ms: u64,
    cur: &mut u32,
    out: &mut Vec<u8>,
    rdb: Option<crate::rdb::DumpOpts>,
) {
    if e.expired(now_ms) {
        return;
    }
    let select = match rdb {
        None => crate::aof_store::journal::encode_select,
        Some(_) => crate::rdb::file::write::put_select_db,
    };
    if *cur != dbi {
        select(out, dbi);
        *cur = dbi;
    }
    match rdb {
        None => serialize_entry(e, now_ms, out),
        Some(opts) => {
            crate::rdb::file::write::put_entry(out, e.key(), e.value(), e.expire_at_ms(), opts)
        }
    }
}

/// How a new base is written: RESP commands, or an RDB file (`aof-use-rdb-preamble yes`,
/// Redis' default) with its `aof-base` aux field, which `redis-check-rdb` reads too.
#[derive(Clone, Copy, Debug)]
pub enum BaseFormat {
    Resp,
    Rdb {
        opts: crate::rdb::DumpOpts,
        /// `rdbchecksum`: false writes a zero checksum, which readers skip.
        checksum: bool,
    },
}

/// An RDB base's table: like `serialize_table`, each live key as an RDB entry (with its
/// absolute expiry), a SELECTDB first when `cur` differs (u32::MAX before the first key).
pub fn serialize_table_rdb(
    db: &Db,
    dbi: u32,
    idx: usize,
    now_ms: u64,
    cur: &mut u32,
    out: &mut Vec<u8>,
    opts: crate::rdb::DumpOpts,
) {
    serialize_table_keeping(db, dbi, idx, now_ms, cur, out, Some(opts), |_| true);
}

/// The start of an RDB base: the header (aux fields, `aof-base` 1) and, on shard 0, the
/// function libraries.
pub fn rdb_base_head(libs: Option<&crate::lua::store::Libraries>, out: &mut Vec<u8>) {
    use crate::rdb::file::write::{put_functions, put_header, Aux};
    let aux = Aux {
        redis_ver: crate::constants::REDIS_VERSION.to_string(),
        ctime_s: crate::clock::unix_ms() / 1000,
        used_mem_bytes: crate::sys::alloc::used_bytes(),
        repl: None,
        aof_base: true,
    };
    put_header(out, &aux);
    if let Some(libs) = libs {
        put_functions(out, libs);
    }
}

/// The databases a rewrite or snapshot walks: database `i` at `[i]`, `None` if never used.
/// Its tables are numbered `dbi * tables_per_db + idx` (`split_table`).
pub type DbList<'a> = [Option<&'a Db>];

/// A walk's table number as (database, table of that database).
pub fn split_table(v: usize, tables_per_db: usize) -> (u32, usize) {
    ((v / tables_per_db.max(1)) as u32, v % tables_per_db.max(1))
}

/// Collections are written in chunks of this many elements per command, so a huge key never
/// becomes one huge record.
pub const ELEMENTS_PER_COMMAND: usize = 64;

fn serialize_collection(key: &[u8], v: ValueRef<'_>, out: &mut Vec<u8>) {
    match v {
        ValueRef::Str(_) => unreachable!("strings are handled by the caller"),
        ValueRef::List(l) => {
            let n = l.len();
            let items: Vec<&[u8]> = if n == 0 {
                Vec::new()
            } else {
                l.range(0, n - 1).collect()
            };
            chunked(out, b"RPUSH", key, &items);
        }
        ValueRef::ZSet(z) => {
            let scores: Vec<String> = z.iter().map(|e| format_double_g17(e.score)).collect();
            let mut flat: Vec<&[u8]> = Vec::with_capacity(2 * scores.len());
            for (e, s) in z.iter().zip(&scores) {
                flat.push(s.as_bytes());
                flat.push(&e.member);
            }
            chunked_pairs(out, b"ZADD", key, &flat);
        }
        ValueRef::Hash(_) | ValueRef::Set(_) => serialize_hash_or_set(key, v, out),
        ValueRef::Stream(s) => serialize_stream(key, s, out),
    }
}

/// A stream as Redis 7.0's rewrite writes it: one XADD per entry (an empty stream as
/// `XADD key MAXLEN 0 0-1 x y`), XSETID with ENTRIESADDED and MAXDELETEDID, then per group
/// XGROUP CREATE ... ENTRIESREAD, and per consumer either XGROUP CREATECONSUMER (nothing
/// pending) or one `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n JUSTID FORCE` per
/// pending entry.
fn serialize_stream(key: &[u8], s: &StreamValue, out: &mut Vec<u8>) {
    let text = |id: StreamId| {
        let mut b = Vec::with_capacity(41);
        id.write(&mut b);
        b
    };
    if s.is_empty() {
        encode(out, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    } else {
        s.range(StreamId::MIN, StreamId::MAX, false, |e| {
            let id = text(e.id);
            let mut args: Vec<&[u8]> = Vec::with_capacity(3 + 2 * e.field_count());
            args.extend_from_slice(&[b"XADD", key, &id]);
            for (f, v) in e.fields() {
                args.push(f);
                args.push(v);
            }
            encode(out, &args);
            true
        });
    }
    let (last, maxdel) = (text(s.last_id()), text(s.max_deleted_id()));
    let added = s.entries_added().to_string();
    encode(
        out,
        &[
            b"XSETID",
            key,
            &last,
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &maxdel,
        ],
    );
    for (name, g) in s.groups() {
        let (gid, read) = (text(g.last_id), g.entries_read.to_string());
        encode(
            out,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &gid,
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for (cname, c) in g.consumers() {
            if c.pending_len() == 0 {
                encode(out, &[b"XGROUP", b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in c.pending() {
                let Some(p) = g.pending_get(id) else { continue };
                let (t, n) = (p.delivery_time_ms.to_string(), p.delivery_count.to_string());
                encode(
                    out,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &text(id),
                        b"TIME",
                        t.as_bytes(),
                        b"RETRYCOUNT",
                        n.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// Writes `cmd key item...` with at most ELEMENTS_PER_COMMAND items per command.
fn chunked(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]]) {
    for part in items.chunks(ELEMENTS_PER_COMMAND) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend_from_slice(part);
        encode(out, &args);
    }
}

/// Like `chunked` for flat (a, b) pairs.
fn chunked_pairs(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], flat: &[&[u8]]) {
    for part in flat.chunks(2 * ELEMENTS_PER_COMMAND) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend_from_slice(part);
        encode(out, &args);
    }
}

fn serialize_hash_or_set(key: &[u8], v: ValueRef<'_>, out: &mut Vec<u8>) {
    match v {
        ValueRef::Hash(h) => {
            let pairs = h.pairs();
            let flat: Vec<&[u8]> = pairs.iter().flat_map(|(f, v)| [*f, *v]).collect();
            chunked_pairs(out, b"HSET", key, &flat);
        }
        ValueRef::Set(s) => {
            let members = s.members();
            let refs: Vec<&[u8]> = members.iter().map(|m| m.as_slice()).collect();
            chunked(out, b"SADD", key, &refs);
        }
        _ => unreachable!("only hashes and sets come here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{StrValue, Value};

    #[test]
    fn strings_with_and_without_ttl() {
        // Guards the base form of strings: absolute expiry, expired keys dropped.
        let mut db = Db::new(0, 1);
        db.set(b"a", Value::Str(StrValue::from_slice(b"1")), 0, 0);
        db.set(b"b", Value::Str(StrValue::from_slice(b"2")), 5000, 0);
        db.set(b"c", Value::Str(StrValue::from_slice(b"3")), 50, 0);
        let mut out = Vec::new();
        for idx in 0..db.table_count() {
            db.for_each_in_table(idx, 0, |e| serialize_entry(e, 100, &mut out));
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"));
        assert!(text.contains("$1\r\nb\r\n$1\r\n2\r\n$4\r\nPXAT\r\n$4\r\n5000\r\n"));
        assert!(!text.contains("$1\r\nc\r\n"));
    }
}
