//! One stream node: a listpack in Redis 7.0's stream layout, keyed (by the caller) by its
//! master ID. The master entry holds the live and deleted counts and the field names of the
//! node's first entry; every entry is stored as flags, ID deltas against the master ID, its
//! fields (only values when they equal the master's, the SAMEFIELDS flag) and a count of its
//! elements so the node can be walked backwards:
//!
//! ```text
//! master: live | deleted | n | field_1 .. field_n | 0
//! entry:  flags | ms-delta | seq-delta | [n | field_1 value_1 ..] or [value_1 ..] | lp-count
//! ```
//!
//! XDEL sets the DELETED flag inside the node; a node goes away when its last live entry does.
//! Every walk here works on a validated node (`validate`) and never indexes out of bounds.

use super::StreamId;
use crate::types::listpack::{self as lp, Lp};

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;
/// The largest node Redis builds whatever stream-node-max-bytes says (STREAM_LISTPACK_MAX_SIZE).
pub const NODE_MAX_BYTES_CAP: usize = 1 << 30;
/// Bytes reserved for a new tail node (Redis' STREAM_LISTPACK_MAX_PRE_ALLOCATE).
const PREALLOC_BYTES: usize = 4096;

/// The master entry's counters and where things are.
#[derive(Clone, Copy, Debug)]
pub struct Master {
    pub live: u64,
    pub deleted: u64,
    pub nfields: usize,
    /// Position of the deleted counter (the live counter is the first element).
    deleted_pos: usize,
    /// Position of the first master field.
    pub fields_pos: usize,
    /// Position of the first entry (or the terminator).
    pub first_entry_pos: usize,
}

/// One entry's layout inside a node.
#[derive(Clone, Copy, Debug)]
pub struct Raw {
    pub flags: i64,
    pub id: StreamId,
    pub nfields: usize,
    /// Position of the flags element.
    pub start: usize,
    /// Position of the first field (or value, for SAMEFIELDS entries).
    pub body: usize,
    /// Position after the entry's lp-count element.
    pub next: usize,
}

impl Raw {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
    pub fn same(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }
}

fn int_at(buf: &[u8], pos: usize) -> Option<(i64, usize)> {
    let (v, next) = lp::read(buf, pos)?;
    Some((v.int()?, next))
}

fn skip(buf: &[u8], mut pos: usize, n: usize) -> Option<usize> {
    for _ in 0..n {
        pos = lp::read(buf, pos)?.1;
    }
    Some(pos)
}

/// Reads the master entry.
pub fn master(buf: &[u8]) -> Option<Master> {
    let (live, p) = int_at(buf, lp::HEADER_BYTES)?;
    let deleted_pos = p;
    let (deleted, p) = int_at(buf, p)?;
    let (n, fields_pos) = int_at(buf, p)?;
    let n = usize::try_from(n).ok()?;
    let p = skip(buf, fields_pos, n)?;
    let (zero, first_entry_pos) = int_at(buf, p)?;
    if zero != 0 || live < 0 || deleted < 0 {
        return None;
    }
    Some(Master {
        live: live as u64,
        deleted: deleted as u64,
        nfields: n,
        deleted_pos,
        fields_pos,
        first_entry_pos,
    })
}

/// The entry whose flags element is at `pos` (None at the terminator).
pub fn entry_at(buf: &[u8], m: &Master, master_id: StreamId, pos: usize) -> Option<Raw> {
    let (flags, p) = int_at(buf, pos)?;
    let (dms, p) = int_at(buf, p)?;
    let (dseq, p) = int_at(buf, p)?;
    let id = StreamId {
        ms: master_id.ms.wrapping_add(dms as u64),
        seq: master_id.seq.wrapping_add(dseq as u64),
    };
    let (nfields, body) = if flags & FLAG_SAMEFIELDS != 0 {
        (m.nfields, p)
    } else {
        let (n, p) = int_at(buf, p)?;
        (usize::try_from(n).ok()?, p)
    };
    let per = if flags & FLAG_SAMEFIELDS != 0 { 1 } else { 2 };
    let end = skip(buf, body, nfields.checked_mul(per)?)?;
    let (_count, next) = int_at(buf, end)?;
    Some(Raw {
        flags,
        id,
        nfields,
        start: pos,
        body,
        next,
    })
}

/// The entry before the one at `pos` (a flags position or the terminator); None when `pos`
/// is the first entry.
pub fn entry_before(buf: &[u8], m: &Master, master_id: StreamId, pos: usize) -> Option<Raw> {
    let cpos = lp::prev(buf, pos)?;
    let (count, _) = int_at(buf, cpos)?;
    if count <= 0 {
        return None;
    }
    let mut p = cpos;
    for _ in 0..count {
        p = lp::prev(buf, p)?;
    }
    entry_at(buf, m, master_id, p)
}

/// Position of the terminator.
pub fn end_pos(buf: &[u8]) -> usize {
    buf.len().saturating_sub(1)
}

/// The last entry's ID (deleted or not), Redis' lpGetEdgeStreamID(last).
pub fn last_entry(buf: &[u8], master_id: StreamId) -> Option<Raw> {
    let m = master(buf)?;
    entry_before(buf, &m, master_id, end_pos(buf))
}

/// Bytes the fields and values of an entry add up to (Redis' totelelen).
pub fn fields_bytes(fields: &[(&[u8], &[u8])]) -> usize {
    fields.iter().map(|(f, v)| f.len() + v.len()).sum()
}

/// A new node whose master entry takes `fields`' names, holding that one entry.
pub fn create(id: StreamId, fields: &[(&[u8], &[u8])], node_max_bytes: usize) -> Vec<u8> {
    let prealloc = if node_max_bytes == 0 || node_max_bytes > PREALLOC_BYTES {
        PREALLOC_BYTES
    } else {
        node_max_bytes
    };
    let mut buf = lp::new_empty(prealloc);
    let mut a = lp::Appender::new(&mut buf);
    for n in [0, 0, fields.len() as i64] {
        a.push(Lp::Int(n));
    }
    fields.iter().for_each(|(f, _)| a.push(Lp::Str(f)));
    a.push(Lp::Int(0));
    a.finish();
    if let Some(m) = master(&buf) {
        push(&mut buf, &m, id, id, fields);
    }
    buf
}

/// Appends an entry to the node whose master ID is `master_id` and whose master entry is
/// `m` (as `master` read it), raising the live count.
pub fn push(
    buf: &mut Vec<u8>,
    m: &Master,
    master_id: StreamId,
    id: StreamId,
    fields: &[(&[u8], &[u8])],
) {
    let same = fields.len() == m.nfields && {
        let mut p = m.fields_pos;
        fields.iter().all(|(f, _)| match lp::read(buf, p) {
            Some((v, next)) => {
                p = next;
                lp_eq(v, f)
            }
            None => false,
        })
    };
    lp::replace_int(buf, lp::HEADER_BYTES, m.live as i64 + 1);
    let mut a = lp::Appender::new(buf);
    a.push(Lp::Int(if same { FLAG_SAMEFIELDS } else { 0 }));
    a.push(Lp::Int(id.ms.wrapping_sub(master_id.ms) as i64));
    a.push(Lp::Int(id.seq.wrapping_sub(master_id.seq) as i64));
    if !same {
        a.push(Lp::Int(fields.len() as i64));
    }
    for (f, v) in fields {
        if !same {
            a.push(Lp::Str(f));
        }
        a.push(Lp::Str(v));
    }
    let lp_count = 3 + fields.len() + if same { 0 } else { fields.len() + 1 };
    a.push(Lp::Int(lp_count as i64));
    a.finish();
}

/// Whether an element equals the bytes `s` as Redis compares them (integers by their text).
pub fn lp_eq(v: Lp<'_>, s: &[u8]) -> bool {
    match v {
        Lp::Str(b) => b == s,
        Lp::Int(i) => crate::resp::parse::parse_i64(s) == Some(i),
    }
}

/// Sets the live and deleted counters.
pub fn set_counts(buf: &mut Vec<u8>, live: u64, deleted: u64) {
    let Some(m) = master(buf) else { return };
    if m.deleted != deleted {
        lp::replace_int(buf, m.deleted_pos, deleted as i64);
    }
    if m.live != live {
        lp::replace_int(buf, lp::HEADER_BYTES, live as i64);
    }
}

/// Marks the entry at `pos` deleted (the counters are the caller's).
pub fn mark_deleted(buf: &mut Vec<u8>, raw: &Raw) {
    // Flags are 0..=3: a one-byte element whatever the value, so this never moves bytes.
    lp::replace_int(buf, raw.start, raw.flags | FLAG_DELETED);
}

/// Full structural check of a node loaded from outside: listpack framing (forward and back),
/// master entry, every entry's shape and lp-count, counters, IDs strictly ascending from the
/// master ID. Returns (live entries, last entry ID) or None.
pub fn validate(buf: &[u8], master_id: StreamId) -> Option<(u64, StreamId)> {
    let total = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    if total != buf.len() || buf.last() != Some(&lp::END) || buf.len() < lp::HEADER_BYTES + 1 {
        return None;
    }
    let mut pos = lp::HEADER_BYTES;
    let mut count = 0usize;
    while pos < end_pos(buf) {
        let (_, next) = lp::read(buf, pos)?;
        if lp::prev(buf, next) != Some(pos) {
            return None;
        }
        pos = next;
        count += 1;
    }
    if pos != end_pos(buf) || lp::header_count(buf).is_some_and(|c| c as usize != count) {
        return None;
    }
    let m = master(buf)?;
    let mut p = m.first_entry_pos;
    let (mut live, mut deleted) = (0u64, 0u64);
    let mut last: Option<StreamId> = None;
    while p < end_pos(buf) {
        let r = entry_at(buf, &m, master_id, p)?;
        if !(0..=3).contains(&r.flags) || r.nfields == 0 {
            return None;
        }
        let lp_count = 3 + r.nfields + if r.same() { 0 } else { r.nfields + 1 };
        let (stored, _) = int_at(buf, lp::prev(buf, r.next)?)?;
        if stored != lp_count as i64 || r.id < master_id || last.is_some_and(|l| r.id <= l) {
            return None;
        }
        if r.deleted() {
            deleted += 1;
        } else {
            live += 1;
        }
        last = Some(r.id);
        p = r.next;
    }
    if live != m.live || deleted != m.deleted {
        return None;
    }
    Some((live, last?))
}
