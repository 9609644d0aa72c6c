//! Parsing RDB-encoded values back: a DUMP payload (`restore`, `function_codes`) and, through
//! `Cursor` and `value`, every value of an RDB file (`rdb::file::read` shares them). Every
//! length is checked against the bytes that remain before anything is allocated or looped
//! over, so no input can panic, loop long or make us allocate more than a small multiple of
//! its own size.

use super::listpack::{intset_read, lp_read, ziplist_read};
use super::{lzf, types, verify, PayloadError};
use crate::constants::STRING_MAX_BYTES;
use crate::keyspace::value::{StrValue, Value};
use crate::types::list::{End, ListValue};
use crate::types::stream::{Group, StreamId, StreamValue};
use crate::types::zset::{cmp_key, Entry, Limits, ZSetValue};
use crate::types::{hash::HashValue, set::SetValue};

const BAD: PayloadError = PayloadError::BadData;
/// Most bytes one LZF input byte can expand to (a 3-byte reference copying 264 bytes).
const LZF_EXPANSION_MAX: usize = 88;

/// Decodes a whole payload (footer checked first). `zlim` picks the sorted-set encoding.
/// An empty collection is bad data here (RESTORE never creates an empty key).
pub fn restore(payload: &[u8], zlim: Limits) -> Result<Value, PayloadError> {
    let body = verify(payload)?;
    let mut r = Cursor::new(body, 0);
    let t = r.byte()?;
    value(&mut r, t, super::RDB_VERSION as u32, zlim)?.ok_or(BAD)
}

/// Decodes the value of RDB type `t` at the cursor, as a file of `version` stores it: the one
/// decoder behind RESTORE and the file reader. `Ok(None)` is an empty collection, which Redis'
/// file loader skips (an old bug could save them) and RESTORE refuses. Types 20 and 21 (Redis
/// 7.2's listpack set and consumer active times) exist from version 11 on.
pub(in crate::rdb) fn value(
    r: &mut Cursor<'_>,
    t: u8,
    version: u32,
    zlim: Limits,
) -> Result<Option<Value>, PayloadError> {
    let v11 = version >= 11;
    let v = match t {
        types::STRING => Some(Value::Str(StrValue::new(r.string()?))),
        types::LIST => list_from(r.strings()?),
        types::LIST_ZIPLIST => list_from(ziplist_read(&r.string()?).ok_or(BAD)?),
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => quicklist(r, t)?,
        types::SET => set_from(r.strings()?)?,
        types::SET_INTSET => set_from(intset_strings(&r.string()?)?)?,
        types::SET_LISTPACK if v11 => set_from(lp_read(&r.string()?).ok_or(BAD)?)?,
        types::HASH => hash_from(r.strings_n(2)?, true)?,
        types::HASH_ZIPMAP => hash_from(zipmap_read(&r.string()?).ok_or(BAD)?, true)?,
        types::HASH_LISTPACK => hash_from(lp_read(&r.string()?).ok_or(BAD)?, false)?,
        types::HASH_ZIPLIST => hash_from(ziplist_read(&r.string()?).ok_or(BAD)?, false)?,
        types::ZSET | types::ZSET_2 => zset_from(r.scored(t == types::ZSET_2)?, zlim)?,
        types::ZSET_LISTPACK => zset_from(text_scores(lp_read(&r.string()?))?, zlim)?,
        types::ZSET_ZIPLIST => zset_from(text_scores(ziplist_read(&r.string()?))?, zlim)?,
        types::STREAM_LISTPACKS => Some(stream_value(r, StreamKind::V1)?),
        types::STREAM_LISTPACKS_2 => Some(stream_value(r, StreamKind::V2)?),
        types::STREAM_LISTPACKS_3 if v11 => Some(stream_value(r, StreamKind::V3)?),
        _ => return Err(BAD),
    };
    Ok(v)
}

fn stream_value(r: &mut Cursor<'_>, kind: StreamKind) -> Result<Value, PayloadError> {
    Ok(Value::Stream(Box::new(stream(r, kind)?)))
}

/// FUNCTION RESTORE's reading of a payload (footer checked first): the code of each library,
/// in order, or Redis' error text (without the "ERR " prefix).
pub fn function_codes(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let body = verify(payload).map_err(|_| "DUMP payload version or checksum are wrong")?;
    let mut r = Cursor::new(body, 0);
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        match r.byte().map_err(|_| "can not read data type")? {
            super::OPCODE_FUNCTION2 => {
                codes.push(r.string().map_err(|_| "Failed loading library payload")?)
            }
            // The release candidates' format starts with the library name; 7.0 reads it only to
            // fail, and so does slotd.
            super::OPCODE_FUNCTION_PRE_GA => {
                r.string().map_err(|_| "Failed loading library name")?;
                return Err("Pre-GA function format not supported");
            }
            _ => return Err("given type is not a function"),
        }
    }
    Ok(codes)
}

/// A position in a byte slice with RDB's primitive readers; every read checks what remains.
pub(in crate::rdb) struct Cursor<'a> {
    buf: &'a [u8],
    pub(in crate::rdb) pos: usize,
}

/// What a length field held: a length, or the selector of a specially encoded string.
enum Len {
    Plain(usize),
    Special(u8),
}

impl<'a> Cursor<'a> {
    pub(in crate::rdb) fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    /// Every byte before the position.
    pub(in crate::rdb) fn consumed(&self) -> &'a [u8] {
        &self.buf[..self.pos]
    }

    pub(in crate::rdb) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(in crate::rdb) fn byte(&mut self) -> Result<u8, PayloadError> {
        let b = *self.buf.get(self.pos).ok_or(BAD)?;
        self.pos += 1;
        Ok(b)
    }

    pub(in crate::rdb) fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if n > self.remaining() {
            return Err(BAD);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn len_or_special(&mut self) -> Result<Len, PayloadError> {
        let b = self.byte()?;
        let n = match b >> 6 {
            0 => (b & 0x3F) as u64,
            1 => (((b & 0x3F) as u64) << 8) | self.byte()? as u64,
            2 if b == 0x80 => u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| BAD)?) as u64,
            2 if b == 0x81 => u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| BAD)?),
            2 => return Err(BAD),
            _ => return Ok(Len::Special(b & 0x3F)),
        };
        Ok(Len::Plain(usize::try_from(n).map_err(|_| BAD)?))
    }

    pub(in crate::rdb) fn u64(&mut self) -> Result<u64, PayloadError> {
        Ok(self.len()? as u64)
    }

    fn id_pair(&mut self) -> Result<StreamId, PayloadError> {
        Ok(StreamId::new(self.u64()?, self.u64()?))
    }

    /// A stream ID stored raw: 16 bytes, big endian.
    fn raw_id(&mut self) -> Result<StreamId, PayloadError> {
        let b: [u8; 16] = self.take(16)?.try_into().map_err(|_| BAD)?;
        Ok(StreamId::from_be_bytes(b))
    }

    /// A millisecond time stored raw: 8 bytes, little endian.
    pub(in crate::rdb) fn ms_time(&mut self) -> Result<u64, PayloadError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| BAD)?,
        ))
    }

    pub(in crate::rdb) fn len(&mut self) -> Result<usize, PayloadError> {
        match self.len_or_special()? {
            Len::Plain(n) => Ok(n),
            Len::Special(_) => Err(BAD),
        }
    }

    /// A count of things that take at least `min_bytes` each: bounded by what remains.
    fn count(&mut self, min_bytes: usize) -> Result<usize, PayloadError> {
        let n = self.len()?;
        if n.checked_mul(min_bytes)
            .is_none_or(|b| b > self.remaining())
        {
            return Err(BAD);
        }
        Ok(n)
    }

    pub(in crate::rdb) fn string(&mut self) -> Result<Vec<u8>, PayloadError> {
        let n = match self.len_or_special()? {
            Len::Plain(n) => n,
            Len::Special(0) => return Ok((self.byte()? as i8).to_string().into_bytes()),
            Len::Special(1) => {
                let b = self.take(2)?;
                return Ok(i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes());
            }
            Len::Special(2) => {
                let b = self.take(4)?;
                return Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]])
                    .to_string()
                    .into_bytes());
            }
            Len::Special(3) => return self.lzf_string(),
            Len::Special(_) => return Err(BAD),
        };
        Ok(self.take(n)?.to_vec())
    }

    fn lzf_string(&mut self) -> Result<Vec<u8>, PayloadError> {
        let clen = self.len()?;
        let ulen = self.len()?;
        let data = self.take(clen)?;
        if ulen as u64 > STRING_MAX_BYTES || ulen > clen.saturating_mul(LZF_EXPANSION_MAX) {
            return Err(BAD);
        }
        lzf::decompress(data, ulen).ok_or(BAD)
    }

    /// A length, then that many strings.
    fn strings(&mut self) -> Result<Vec<Vec<u8>>, PayloadError> {
        self.strings_n(1)
    }

    /// A length of groups of `per` strings, then the strings.
    fn strings_n(&mut self, per: usize) -> Result<Vec<Vec<u8>>, PayloadError> {
        let n = self.count(per)? * per;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.string()?);
        }
        Ok(v)
    }

    /// Sorted-set pairs with binary (8-byte LE) or text scores.
    fn scored(&mut self, binary: bool) -> Result<Vec<(Vec<u8>, f64)>, PayloadError> {
        let n = self.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let m = self.string()?;
            let score = if binary {
                f64::from_le_bytes(self.take(8)?.try_into().map_err(|_| BAD)?)
            } else {
                self.text_double()?
            };
            v.push((m, score));
        }
        Ok(v)
    }

    /// The old text double: a length byte (253 nan, 254 +inf, 255 -inf) and ASCII.
    fn text_double(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_score(self.take(n as usize)?),
        }
    }
}

fn parse_score(b: &[u8]) -> Result<f64, PayloadError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(BAD)
}

fn intset_strings(blob: &[u8]) -> Result<Vec<Vec<u8>>, PayloadError> {
    let ints = intset_read(blob).ok_or(BAD)?;
    Ok(ints.iter().map(|i| i.to_string().into_bytes()).collect())
}

fn text_scores(items: Option<Vec<Vec<u8>>>) -> Result<Vec<(Vec<u8>, f64)>, PayloadError> {
    let items = items.ok_or(BAD)?;
    if !items.len().is_multiple_of(2) {
        return Err(BAD);
    }
    let mut v = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        v.push((m, parse_score(&s)?));
    }
    Ok(v)
}

fn list_from(items: Vec<Vec<u8>>) -> Option<Value> {
    if items.is_empty() {
        return None;
    }
    let mut l = ListValue::new();
    items.iter().for_each(|e| l.push(End::Tail, e));
    Some(Value::List(l))
}

/// Quicklist nodes: ziplists (type 14) or, for type 18, a container kind then a string.
fn quicklist(r: &mut Cursor<'_>, t: u8) -> Result<Option<Value>, PayloadError> {
    const PLAIN: usize = 1;
    const PACKED: usize = 2;
    let nodes = r.count(2)?;
    let mut l = ListValue::new();
    for _ in 0..nodes {
        let container = if t == types::LIST_QUICKLIST_2 {
            r.len()?
        } else {
            PACKED
        };
        let blob = r.string()?;
        let items = match container {
            PLAIN => vec![blob],
            PACKED if t == types::LIST_QUICKLIST => ziplist_read(&blob).ok_or(BAD)?,
            PACKED => lp_read(&blob).ok_or(BAD)?,
            _ => return Err(BAD),
        };
        items.iter().for_each(|e| l.push(End::Tail, e));
    }
    Ok((!l.is_empty()).then_some(Value::List(l)))
}

/// Set members; a duplicate is bad data in every encoding.
fn set_from(items: Vec<Vec<u8>>) -> Result<Option<Value>, PayloadError> {
    let mut s = SetValue::new();
    for m in &items {
        if !s.insert(m) {
            return Err(BAD);
        }
    }
    Ok((!s.is_empty()).then_some(Value::Set(s)))
}

/// Field/value pairs; `strict` refuses duplicate fields (the plain encoding's check).
fn hash_from(items: Vec<Vec<u8>>, strict: bool) -> Result<Option<Value>, PayloadError> {
    if !items.len().is_multiple_of(2) {
        return Err(BAD);
    }
    if items.is_empty() {
        return Ok(None);
    }
    let mut h = HashValue::new();
    for pair in items.chunks_exact(2) {
        if !h.set(&pair[0], &pair[1]) && strict {
            return Err(BAD);
        }
    }
    Ok(Some(Value::Hash(h)))
}

fn zset_from(pairs: Vec<(Vec<u8>, f64)>, lim: Limits) -> Result<Option<Value>, PayloadError> {
    if pairs.iter().any(|p| p.1.is_nan()) {
        return Err(BAD);
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut entries: Vec<Entry> = pairs
        .into_iter()
        .map(|(m, score)| Entry {
            score,
            member: m.into_boxed_slice(),
        })
        .collect();
    entries.sort_by(|a, b| cmp_key(a.score, &a.member, b));
    let distinct = {
        let mut seen = hashbrown::HashSet::with_capacity(entries.len());
        entries.iter().all(|e| seen.insert(&e.member))
    };
    if !distinct {
        return Err(BAD);
    }
    Ok(Some(Value::ZSet(ZSetValue::from_sorted(entries, lim))))
}

/// Bytes a stream PEL entry takes at least: raw ID, delivery time, a one-byte count.
const PEL_ENTRY_MIN_BYTES: usize = 16 + 8 + 1;

/// The three stream layouts: 15 (7.0's older one), 19 (7.0), 21 (7.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    V1,
    V2,
    V3,
}

/// A stream (type 19, or the older 15 without first ID, max deleted ID, entries added and
/// the groups' read counters, or 7.2's 21 which adds each consumer's active time, read and
/// dropped: 7.0 has no such field). Nodes are checked entry by entry, PEL entries must belong
/// to exactly one consumer, names must be distinct.
fn stream(r: &mut Cursor<'_>, kind: StreamKind) -> Result<StreamValue, PayloadError> {
    let v2 = kind != StreamKind::V1;
    let n = r.count(2)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let key: [u8; 16] = r.string()?.as_slice().try_into().map_err(|_| BAD)?;
        nodes.push((StreamId::from_be_bytes(key), r.string()?));
    }
    let length = r.u64()?;
    let last_id = r.id_pair()?;
    let (first_id, max_deleted, added) = if v2 {
        (Some(r.id_pair()?), r.id_pair()?, r.u64()?)
    } else {
        (None, StreamId::MIN, length)
    };
    let mut s =
        StreamValue::from_parts(nodes, length, last_id, first_id, max_deleted, added).ok_or(BAD)?;
    let groups = r.count(1)?;
    for _ in 0..groups {
        let name = r.string()?;
        let last = r.id_pair()?;
        let read = if v2 {
            r.u64()? as i64
        } else {
            s.estimate_entries_read(last).map_or(-1, |n| n as i64)
        };
        let mut g = Group::new(last, read);
        let mut pel = std::collections::BTreeMap::new();
        for _ in 0..r.count(PEL_ENTRY_MIN_BYTES)? {
            let id = r.raw_id()?;
            let time = r.ms_time()?;
            let count = r.u64()?;
            if pel.insert(id, (time, count, false)).is_some() {
                return Err(BAD);
            }
        }
        for _ in 0..r.count(1)? {
            let cname = r.string()?;
            let seen = r.ms_time()?;
            if kind == StreamKind::V3 {
                r.ms_time()?;
            }
            if !g.create_consumer(&cname, seen) {
                return Err(BAD);
            }
            for _ in 0..r.count(16)? {
                let id = r.raw_id()?;
                let e = pel.get_mut(&id).ok_or(BAD)?;
                if e.2 {
                    return Err(BAD);
                }
                e.2 = true;
                g.claim(id, &cname, e.0, e.1);
            }
        }
        if pel.values().any(|e| !e.2) || !s.insert_group(&name, g) {
            return Err(BAD);
        }
    }
    Ok(s)
}

/// A zipmap (hashes of Redis before 2.6): a count byte, then per pair the field length, field,
/// value length, a free-space byte, value and that many unused bytes; 0xFF ends it. Lengths
/// are one byte, or 254 and a 32-bit little-endian length.
fn zipmap_read(zm: &[u8]) -> Option<Vec<Vec<u8>>> {
    const END: u8 = 0xFF;
    const BIG_LEN: u8 = 254;
    let mut pos = 1;
    let mut items = Vec::new();
    let len_at = |pos: usize| -> Option<(usize, usize)> {
        match *zm.get(pos)? {
            BIG_LEN => {
                let b = zm.get(pos + 1..pos + 5)?;
                Some((u32::from_le_bytes(b.try_into().ok()?) as usize, pos + 5))
            }
            END => None,
            n => Some((n as usize, pos + 1)),
        }
    };
    let take = |from: usize, n: usize| zm.get(from..from.checked_add(n)?);
    while *zm.get(pos)? != END {
        let (flen, p) = len_at(pos)?;
        items.push(take(p, flen)?.to_vec());
        let (vlen, p) = len_at(p + flen)?;
        let free = *zm.get(p)? as usize;
        items.push(take(p + 1, vlen)?.to_vec());
        pos = p + 1 + vlen + free;
    }
    (pos == zm.len() - 1).then_some(items)
}
