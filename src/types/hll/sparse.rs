//! The sparse encoding: run-length opcodes over the 16384 registers, edited in place exactly as
//! Redis 7.0 edits them (same splits, same merges of equal neighbours, same promotion to dense),
//! so the bytes match redis-server's after the same additions.
//!
//! Opcodes: ZERO `00xxxxxx` (1..64 zero registers), XZERO `01xxxxxx yyyyyyyy` (1..16384 zero
//! registers), VAL `1vvvvvxx` (1..4 registers of value 1..32).

use super::{dense_set, Corrupt, DENSE_BYTES, ENC_DENSE, HDR_BYTES, REGISTERS};

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// Redis grows a sparse value by at least this many bytes at a time (its greedy resize).
const GROW_MIN_BYTES: usize = 300;

#[inline]
fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
#[inline]
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
#[inline]
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
#[inline]
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
#[inline]
fn xzero_len(b0: u8, b1: u8) -> usize {
    ((((b0 & 0x3f) as usize) << 8) | b1 as usize) + 1
}
#[inline]
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
#[inline]
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}
#[inline]
fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len as u8 - 1) | 0x80
}

/// The byte after an XZERO's first; when a (corrupt) value ends inside the opcode Redis reads
/// the byte past its string's end, which is the terminating zero unless an earlier edit of
/// that value left a byte there: slotd always reads zero, the one known difference.
#[inline]
fn byte_at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// One decoded opcode: registers covered, opcode bytes, and the value (0 for zero runs).
#[derive(Clone, Copy)]
struct Op {
    span: usize,
    bytes: usize,
    value: u8,
}

#[inline]
fn op_at(b: &[u8], p: usize) -> Op {
    let c = b[p];
    if is_zero(c) {
        Op {
            span: zero_len(c),
            bytes: 1,
            value: 0,
        }
    } else if is_val(c) {
        Op {
            span: val_len(c),
            bytes: 1,
            value: val_value(c),
        }
    } else {
        Op {
            span: xzero_len(c, byte_at(b, p + 1)),
            bytes: 2,
            value: 0,
        }
    }
}

/// Appends zero runs covering `n` registers as XZERO opcodes (the empty value's body).
pub(super) fn push_xzero(v: &mut Vec<u8>, mut n: usize) {
    while n > 0 {
        let len = n.min(XZERO_MAX_LEN);
        let l = len - 1;
        v.push((l >> 8) as u8 | 0x40);
        v.push((l & 0xff) as u8);
        n -= len;
    }
}

/// Writes the zero-run opcode(s) for `len` registers into `seq`; returns the bytes written.
fn put_zeros(seq: &mut [u8], len: usize) -> usize {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq[0] = (l >> 8) as u8 | 0x40;
        seq[1] = (l & 0xff) as u8;
        2
    } else {
        seq[0] = (len - 1) as u8;
        1
    }
}

/// Redis' greedy growth of a sparse value that is about to gain up to 3 bytes: capacity only,
/// never the bytes.
fn reserve(v: &mut Vec<u8>, sparse_max_bytes: u64) {
    let (len, cap) = (v.len(), v.capacity());
    if (cap as u64) < sparse_max_bytes && cap - len < 3 {
        let want = (len + 3).max(GROW_MIN_BYTES) as u64;
        let want = want.min(sparse_max_bytes) as usize;
        v.reserve_exact(want.saturating_sub(len));
    }
}

/// Raises register `index` to `val` in a sparse value, as Redis' `hllSparseSet`: true when it
/// changed. Promotes to dense when `val` > 32 or the value would pass `sparse_max_bytes`.
pub fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    val: u8,
    sparse_max_bytes: u64,
) -> Result<bool, Corrupt> {
    if val > VAL_MAX_VALUE {
        return promote(v, index, val);
    }
    reserve(v, sparse_max_bytes);
    // Step 1: find the opcode that covers the register.
    let end = v.len();
    let (mut p, mut first, mut prev) = (HDR_BYTES, 0usize, None);
    let mut op = Op {
        span: 0,
        bytes: 1,
        value: 0,
    };
    while p < end {
        op = op_at(v, p);
        if index < first + op.span {
            break;
        }
        prev = Some(p);
        p += op.bytes;
        first += op.span;
    }
    if op.span == 0 || p >= end {
        return Err(Corrupt);
    }
    // Step 2: the cases that need no split.
    let c = v[p];
    if is_val(c) {
        if op.value >= val {
            return Ok(false);
        }
        if op.span == 1 {
            v[p] = val_op(val, 1);
            merge_neighbours(v, prev);
            return Ok(true);
        }
    }
    if is_zero(c) && op.span == 1 {
        v[p] = val_op(val, 1);
        merge_neighbours(v, prev);
        return Ok(true);
    }
    // Step 3: split the run into (before, our register, after).
    let mut seq = [0u8; 5];
    let mut n = 0;
    let last = first + op.span - 1;
    if is_val(c) {
        if index != first {
            seq[n] = val_op(op.value, index - first);
            n += 1;
        }
        seq[n] = val_op(val, 1);
        n += 1;
        if index != last {
            seq[n] = val_op(op.value, last - index);
            n += 1;
        }
    } else {
        if index != first {
            n += put_zeros(&mut seq[n..], index - first);
        }
        seq[n] = val_op(val, 1);
        n += 1;
        if index != last {
            n += put_zeros(&mut seq[n..], last - index);
        }
    }
    let delta = n as isize - op.bytes as isize;
    if delta > 0 && (end as u64).saturating_add(delta as u64) > sparse_max_bytes {
        return promote(v, index, val);
    }
    replace(v, p, op.bytes, &seq[..n]);
    merge_neighbours(v, prev);
    Ok(true)
}

/// Replaces the `old` opcode bytes at `p` with `seq`, moving the rest; the length changes by
/// exactly `seq.len() - old` (also when the old opcode was cut short by the value's end).
fn replace(v: &mut Vec<u8>, p: usize, old: usize, seq: &[u8]) {
    let len = v.len();
    let new_len = (len + seq.len()).saturating_sub(old);
    let next = p + old;
    if next < len {
        if seq.len() > old {
            v.resize(new_len, 0);
            v.copy_within(next..len, p + seq.len());
        } else {
            v.copy_within(next..len, p + seq.len());
            v.truncate(new_len);
        }
        v[p..p + seq.len()].copy_from_slice(seq);
    } else {
        v.truncate(p);
        v.extend_from_slice(seq);
        v.truncate(new_len);
    }
}

/// Step 4 of Redis' update: from the opcode before the changed one, up to 5 opcodes, merges
/// adjacent VAL opcodes of equal value while their run fits one opcode.
fn merge_neighbours(v: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR_BYTES);
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let c = v[p];
        if is_xzero(c) {
            p += 2;
            continue;
        }
        if is_zero(c) {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && is_val(v[p + 1]) {
            let (v1, v2) = (val_value(c), val_value(v[p + 1]));
            let len = val_len(c) + val_len(v[p + 1]);
            if v1 == v2 && len <= VAL_MAX_LEN {
                v[p + 1] = val_op(v1, len);
                v.remove(p);
                continue;
            }
        }
        p += 1;
    }
    super::invalidate_cache(v);
}

/// Promotes to dense, then sets the register (which must change, as Redis asserts).
fn promote(v: &mut Vec<u8>, index: usize, val: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    let changed = dense_set(&mut v[HDR_BYTES..], index, val);
    assert!(changed, "a promoted HyperLogLog register must change");
    Ok(true)
}

/// Walks a sparse body (after the header) run by run, calling `f(first_register, run, value)`
/// for each non-zero run: `Corrupt` unless the runs cover exactly every register, as Redis 7.0
/// decides in its merge and conversion. (A run reaching past the last register makes the value
/// corrupt; Redis writes it past its register array first, slotd skips it.)
fn walk(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = 0;
    while p < body.len() {
        let op = op_at(body, p);
        p += op.bytes;
        if op.value != 0 && idx + op.span <= REGISTERS {
            f(idx, op.span, op.value);
        }
        idx += op.span;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse value to dense in place (header kept: magic, cached cardinality);
/// `Corrupt` when its runs do not cover exactly every register. Dense values are left alone.
pub fn to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[super::ENCODING_AT] == ENC_DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..HDR_BYTES].copy_from_slice(&v[..HDR_BYTES]);
    dense[super::ENCODING_AT] = ENC_DENSE;
    let regs = &mut dense[HDR_BYTES..];
    walk(&v[HDR_BYTES..], |first, run, value| {
        for i in first..first + run {
            super::dense_put(regs, i, value);
        }
    })?;
    *v = dense;
    Ok(())
}

/// Raises `max`'s registers to those of a sparse body (after the header).
pub(super) fn merge_into(max: &mut [u8; REGISTERS], body: &[u8]) -> Result<(), Corrupt> {
    walk(body, |first, run, value| {
        for m in &mut max[first..first + run] {
            *m = (*m).max(value);
        }
    })
}

/// The histogram of register values of a sparse body; `Corrupt` when the runs do not cover
/// exactly every register (a run past the last register makes it corrupt, as in Redis).
pub(super) fn histogram(body: &[u8], histo: &mut [u32; 64]) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = 0;
    while p < body.len() {
        let op = op_at(body, p);
        p += op.bytes;
        idx += op.span;
        let h = &mut histo[op.value as usize];
        *h = h.wrapping_add(op.span as u32);
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// PFDEBUG DECODE's text of a sparse value: `z:len`, `Z:len`, `v:value,len`, space-separated.
pub fn decode(v: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let mut p = HDR_BYTES;
    while p < v.len() {
        let c = v[p];
        let op = op_at(v, p);
        p += op.bytes;
        let _ = if is_zero(c) {
            write!(s, "z:{} ", op.span)
        } else if is_xzero(c) {
            write!(s, "Z:{} ", op.span)
        } else {
            write!(s, "v:{},{} ", op.value, op.span)
        };
    }
    s.trim_matches(' ').to_string()
}
