//! Appending the pieces of an RDB file to a buffer, byte for byte as Redis 7.0's `rdbSave`
//! writes them. The caller streams the buffer out and keeps the running CRC-64 of every byte
//! it wrote (`crc64::crc64(crc, chunk)`), which `put_footer` closes the file with.

use super::opcode;
use crate::keyspace::value::ValueRef;
use crate::rdb::dump::{dump_keyed, DumpOpts};
use crate::rdb::{put_len, put_string};

/// The aux fields Redis 7.0 writes after the magic, in its order.
#[derive(Clone, Debug, Default)]
pub struct Aux {
    /// `redis-ver` (the version slotd reports as).
    pub redis_ver: String,
    /// `ctime`: seconds since the epoch when the snapshot started.
    pub ctime_s: u64,
    /// `used-mem`: bytes in use when the snapshot started.
    pub used_mem_bytes: u64,
    /// `repl-stream-db`, `repl-id`, `repl-offset`: written for a replication payload (and by a
    /// master's BGSAVE, as Redis does when it has replication info).
    pub repl: Option<ReplAux>,
    /// `aof-base`: 1 in the RDB base of an AOF.
    pub aof_base: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ReplAux {
    pub stream_db: u32,
    pub replid: String,
    pub offset: u64,
}

/// The magic and the aux fields.
pub fn put_header(out: &mut Vec<u8>, aux: &Aux) {
    out.extend_from_slice(super::MAGIC);
    put_aux(out, b"redis-ver", aux.redis_ver.as_bytes());
    put_aux(out, b"redis-bits", b"64");
    put_aux(out, b"ctime", aux.ctime_s.to_string().as_bytes());
    put_aux(out, b"used-mem", aux.used_mem_bytes.to_string().as_bytes());
    if let Some(r) = &aux.repl {
        put_aux(out, b"repl-stream-db", r.stream_db.to_string().as_bytes());
        put_aux(out, b"repl-id", r.replid.as_bytes());
        put_aux(out, b"repl-offset", r.offset.to_string().as_bytes());
    }
    put_aux(out, b"aof-base", if aux.aof_base { b"1" } else { b"0" });
}

/// One aux field (integers are written as strings, which the string encoding may store as
/// integers, as Redis' `rdbSaveAuxFieldStrInt` does).
pub fn put_aux(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.push(opcode::AUX);
    put_string(out, key, false);
    put_string(out, value, false);
}

/// One FUNCTION2 record per library, in name order (Redis writes its dictionary's order;
/// loaders take any order).
pub fn put_functions(out: &mut Vec<u8>, libs: &crate::lua::store::Libraries) {
    let mut all: Vec<_> = libs.values().collect();
    all.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for lib in all {
        out.push(opcode::FUNCTION2);
        put_string(out, &lib.code, false);
    }
}

/// Selects database `dbi` for the keys that follow.
pub fn put_select_db(out: &mut Vec<u8>, dbi: u32) {
    out.push(opcode::SELECTDB);
    put_len(out, dbi as u64);
}

/// The size hint of the selected database (keys, keys with an expiry).
pub fn put_resize_db(out: &mut Vec<u8>, keys: u64, expires: u64) {
    out.push(opcode::RESIZEDB);
    put_len(out, keys);
    put_len(out, expires);
}

/// One key: its absolute expiry in ms (0: none), then type, key and value.
pub fn put_entry(
    out: &mut Vec<u8>,
    key: &[u8],
    v: ValueRef<'_>,
    expire_at_ms: u64,
    opts: DumpOpts,
) {
    if expire_at_ms != 0 {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&expire_at_ms.to_le_bytes());
    }
    dump_keyed(out, Some(key), v, opts);
}

/// The EOF opcode and the checksum: `crc_before` is the CRC-64 of every byte written before
/// this call; `checksum` false writes 0 (`rdbchecksum no`), which readers skip checking.
pub fn put_footer(out: &mut Vec<u8>, crc_before: u64, checksum: bool) {
    out.push(opcode::EOF);
    let crc = if checksum {
        crate::rdb::crc64::crc64(crc_before, &[opcode::EOF])
    } else {
        0
    };
    out.extend_from_slice(&crc.to_le_bytes());
}
