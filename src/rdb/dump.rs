//! Serializing one value the way Redis 7.0's DUMP does, with the same encoding choices, so the
//! bytes are identical for the same value: strings (int/raw/LZF), lists as quicklist nodes of
//! listpacks split where Redis would split them, listpack or hashtable hashes, intset or
//! hashtable sets, listpack or skiplist sorted sets, streams as their nodes (listpacks copied
//! as stored) followed by the stream's metadata and consumer groups (RDB type 19).

use super::listpack::{intset_write, LpWriter};
use super::{put_len, put_string, types};
use crate::keyspace::value::ValueRef;
use crate::types::stream::StreamValue;
use crate::types::{hash::HashValue, list::ListValue, set::SetValue, zset::ZSetValue};

/// The configuration that changes the bytes: `rdbcompression` and `list-max-listpack-size`.
#[derive(Clone, Copy, Debug)]
pub struct DumpOpts {
    pub compress: bool,
    pub list_fill: i64,
}

impl Default for DumpOpts {
    fn default() -> Self {
        DumpOpts {
            compress: true,
            list_fill: -2,
        }
    }
}

/// The DUMP payload of `v`.
pub fn dump(v: ValueRef<'_>, opts: DumpOpts) -> Vec<u8> {
    let mut b = Vec::new();
    dump_body(&mut b, v, opts);
    super::seal(&mut b);
    b
}

/// Appends `v`'s RDB type byte and value encoding to `b` (a DUMP payload without its footer).
pub fn dump_body(b: &mut Vec<u8>, v: ValueRef<'_>, opts: DumpOpts) {
    dump_keyed(b, None, v, opts)
}

/// Appends the type byte, then `key` as an RDB string when given (an RDB file's key entry puts
/// the key between the two), then the value encoding.
pub fn dump_keyed(b: &mut Vec<u8>, key: Option<&[u8]>, v: ValueRef<'_>, opts: DumpOpts) {
    let k = Head {
        key,
        compress: opts.compress,
    };
    match v {
        ValueRef::Str(s) => {
            k.put(b, types::STRING);
            put_string(b, s, opts.compress);
        }
        ValueRef::List(l) => dump_list(b, k, l, opts),
        ValueRef::Hash(h) => dump_hash(b, k, h, opts.compress),
        ValueRef::Set(s) => dump_set(b, k, s, opts.compress),
        ValueRef::ZSet(z) => dump_zset(b, k, z, opts.compress),
        ValueRef::Stream(st) => dump_stream(b, k, st, opts.compress),
    }
}

/// What precedes a value's encoding: its type byte and, in an RDB file, its key.
#[derive(Clone, Copy)]
struct Head<'a> {
    key: Option<&'a [u8]>,
    compress: bool,
}

impl Head<'_> {
    fn put(self, b: &mut Vec<u8>, t: u8) {
        b.push(t);
        if let Some(key) = self.key {
            put_string(b, key, self.compress);
        }
    }
}

/// Node byte limits for negative `list-max-listpack-size` values -1..-5.
const NODE_BYTES_BY_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Hard cap on a node when the fill is an element count.
const NODE_SAFETY_BYTES: usize = 8192;

/// Bytes Redis adds to its estimate of a node's growth per element.
const ELEMENT_OVERHEAD_ESTIMATE_BYTES: usize = 8;

/// Whether Redis 7.0 would append an element of `sz` bytes to a node of `bytes`/`count`:
/// a negative fill caps the (over)estimated node bytes, a positive one the element count.
fn node_allows(bytes: usize, count: usize, sz: usize, fill: i64) -> bool {
    let grown = bytes + sz + ELEMENT_OVERHEAD_ESTIMATE_BYTES;
    if fill < 0 {
        let level = ((-fill - 1) as usize).min(NODE_BYTES_BY_LEVEL.len() - 1);
        return grown <= NODE_BYTES_BY_LEVEL[level];
    }
    let count_max = fill.clamp(1, i16::MAX as i64) as usize;
    grown <= NODE_SAFETY_BYTES && count < count_max
}

fn dump_list(b: &mut Vec<u8>, k: Head<'_>, l: &ListValue, opts: DumpOpts) {
    let mut nodes: Vec<LpWriter> = Vec::new();
    let items = if l.is_empty() {
        None
    } else {
        Some(l.range(0, l.len() - 1))
    };
    for e in items.into_iter().flatten() {
        match nodes.last_mut() {
            Some(n) if node_allows(n.bytes(), n.count(), e.len(), opts.list_fill) => n.push(e),
            _ => {
                let mut n = LpWriter::new();
                n.push(e);
                nodes.push(n);
            }
        }
    }
    k.put(b, types::LIST_QUICKLIST_2);
    put_len(b, nodes.len() as u64);
    const PACKED: u64 = 2;
    for n in nodes {
        put_len(b, PACKED);
        put_string(b, &n.finish(), opts.compress);
    }
}

fn dump_hash(b: &mut Vec<u8>, k: Head<'_>, h: &HashValue, compress: bool) {
    if h.encoding() == "listpack" {
        let mut w = LpWriter::new();
        h.for_each(&mut |f, v| {
            w.push(f);
            w.push(v);
        });
        k.put(b, types::HASH_LISTPACK);
        put_string(b, &w.finish(), compress);
        return;
    }
    k.put(b, types::HASH);
    put_len(b, h.len() as u64);
    h.for_each(&mut |f, v| {
        put_string(b, f, compress);
        put_string(b, v, compress);
    });
}

fn dump_set(b: &mut Vec<u8>, k: Head<'_>, s: &SetValue, compress: bool) {
    use crate::types::set::MemberRef;
    if s.encoding() == "intset" {
        let ints: Vec<i64> = s
            .iter()
            .filter_map(|m| match m {
                MemberRef::Int(i) => Some(i),
                MemberRef::Bytes(_) => None,
            })
            .collect();
        k.put(b, types::SET_INTSET);
        put_string(b, &intset_write(&ints), compress);
        return;
    }
    k.put(b, types::SET);
    put_len(b, s.len() as u64);
    s.for_each(&mut |m| put_string(b, m, compress));
}

/// A score as Redis stores it in a listpack: integral values in ±2^52 as integers, else %.17g.
pub fn score_text(v: f64) -> String {
    const INT_EXACT: f64 = 4_503_599_627_370_496.0;
    if v.is_finite() && v != 0.0 && v > -INT_EXACT && v < INT_EXACT && v == (v as i64) as f64 {
        return (v as i64).to_string();
    }
    crate::resp::write::format_double_g17(v)
}

fn dump_zset(b: &mut Vec<u8>, k: Head<'_>, z: &ZSetValue, compress: bool) {
    if z.encoding() == "listpack" {
        let mut w = LpWriter::new();
        for e in z.iter() {
            w.push(&e.member);
            w.push(score_text(e.score).as_bytes());
        }
        k.put(b, types::ZSET_LISTPACK);
        put_string(b, &w.finish(), compress);
        return;
    }
    k.put(b, types::ZSET_2);
    put_len(b, z.len() as u64);
    // Highest score first, as Redis walks its skiplist from the tail.
    for e in z.iter().rev() {
        put_string(b, &e.member, compress);
        b.extend_from_slice(&e.score.to_le_bytes());
    }
}

/// A stream as Redis 7.0 saves it (RDB_TYPE_STREAM_LISTPACKS_2): the nodes (master ID as a
/// 16-byte big-endian string, then the listpack), length, last ID, first ID, max deleted ID,
/// entries added, then each group with its PEL (raw IDs, delivery time, count) and consumers
/// (name, seen time, raw IDs of their pending entries).
fn dump_stream(b: &mut Vec<u8>, k: Head<'_>, s: &StreamValue, compress: bool) {
    k.put(b, types::STREAM_LISTPACKS_2);
    put_len(b, s.node_count() as u64);
    for (master_id, lp) in s.nodes() {
        put_string(b, &master_id.to_be_bytes(), compress);
        put_string(b, lp, compress);
    }
    let first = s.first_id_raw();
    let (last, maxdel) = (s.last_id(), s.max_deleted_id());
    for n in [
        s.len(),
        last.ms,
        last.seq,
        first.ms,
        first.seq,
        maxdel.ms,
        maxdel.seq,
    ] {
        put_len(b, n);
    }
    put_len(b, s.entries_added());
    put_len(b, s.groups_len() as u64);
    for (name, g) in s.groups() {
        put_string(b, name, compress);
        put_len(b, g.last_id.ms);
        put_len(b, g.last_id.seq);
        put_len(b, g.entries_read as u64);
        put_len(b, g.pending_len() as u64);
        for (id, p) in g.pending() {
            b.extend_from_slice(&id.to_be_bytes());
            b.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            put_len(b, p.delivery_count);
        }
        put_len(b, g.consumers_len() as u64);
        for (cname, c) in g.consumers() {
            put_string(b, cname, compress);
            b.extend_from_slice(&c.seen_time_ms.to_le_bytes());
            put_len(b, c.pending_len() as u64);
            for id in c.pending() {
                b.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}
