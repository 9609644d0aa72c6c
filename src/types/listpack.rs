//! Listpack element codec and in-place edits: encode an element, append, read the element at
//! a position, step forward or back, replace an integer. The bytes are Redis 7.0's listpack
//! format: stream nodes live in it (and go to RDB payloads as they are), and the RDB writer
//! builds the listpacks of hashes, sorted sets and list nodes with it.
//! Reads never index out of bounds: a malformed buffer reads as `Lp::Bad` / `None`.

use crate::resp::parse::parse_i64;

/// Header: total bytes (u32 LE) and element count (u16 LE, 65535 = unknown).
pub const HEADER_BYTES: usize = 6;
pub const END: u8 = 0xFF;
const COUNT_UNKNOWN: u16 = 65535;

/// One decoded element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lp<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Lp<'_> {
    /// The element as an integer (a string that is a canonical integer counts too).
    pub fn int(self) -> Option<i64> {
        match self {
            Lp::Int(v) => Some(v),
            Lp::Str(s) => parse_i64(s),
        }
    }
}

/// An empty listpack.
pub fn new_empty(capacity: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(capacity.max(HEADER_BYTES + 1));
    b.extend_from_slice(&((HEADER_BYTES + 1) as u32).to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.push(END);
    b
}

/// Encodes an integer element (encoding and data, no back-length): the bytes and their count.
fn int_enc(v: i64) -> ([u8; 9], usize) {
    let mut b = [0u8; 9];
    let n = if (0..=127).contains(&v) {
        b[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        let u = if v < 0 { v + 8192 } else { v } as u16;
        b[0] = 0xC0 | (u >> 8) as u8;
        b[1] = u as u8;
        2
    } else if i16::try_from(v).is_ok() {
        b[0] = 0xF1;
        b[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        b[0] = 0xF2;
        b[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
        4
    } else if i32::try_from(v).is_ok() {
        b[0] = 0xF3;
        b[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        5
    } else {
        b[0] = 0xF4;
        b[1..9].copy_from_slice(&v.to_le_bytes());
        9
    };
    (b, n)
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
}

/// Bytes the back-length of an element of `len` bytes takes.
pub fn backlen_bytes(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// The element length in 7-bit groups, most significant first, bit 7 set on all but the first.
fn put_backlen(out: &mut Vec<u8>, len: usize) {
    let n = backlen_bytes(len);
    for i in (0..n).rev() {
        let group = ((len >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { group } else { group | 128 });
    }
}

/// Encodes a whole element (encoding, data, back-length) of `v` into `out`; a string that is
/// a canonical integer is stored as an integer, as Redis does.
pub fn put_elem(out: &mut Vec<u8>, v: Lp<'_>) {
    let start = out.len();
    let int = match v {
        Lp::Int(i) => Some(i),
        Lp::Str(s) => parse_i64(s),
    };
    match (int, v) {
        (Some(i), _) => {
            let (b, n) = int_enc(i);
            out.extend_from_slice(&b[..n]);
        }
        (None, Lp::Str(s)) => put_str(out, s),
        (None, Lp::Int(_)) => unreachable!("an integer element always has its value"),
    }
    let len = out.len() - start;
    put_backlen(out, len);
}

fn set_total(lp: &mut [u8]) {
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
}

/// The header's element count (None when it says "unknown").
pub fn header_count(lp: &[u8]) -> Option<u16> {
    let c = u16::from_le_bytes([*lp.get(4)?, *lp.get(5)?]);
    (c != COUNT_UNKNOWN).then_some(c)
}

fn add_count(lp: &mut [u8], delta: u16) {
    if let Some(c) = header_count(lp) {
        let n = c.saturating_add(delta);
        lp[4..6].copy_from_slice(&n.to_le_bytes());
    }
}

/// Appends elements one at a time (no list of them built first); `finish` closes the
/// listpack again and updates its header.
pub struct Appender<'a> {
    lp: &'a mut Vec<u8>,
    added: usize,
}

impl<'a> Appender<'a> {
    pub fn new(lp: &'a mut Vec<u8>) -> Self {
        if lp.last() == Some(&END) {
            lp.pop();
        }
        Appender { lp, added: 0 }
    }

    pub fn push(&mut self, v: Lp<'_>) {
        put_elem(self.lp, v);
        self.added += 1;
    }

    pub fn finish(self) {
        self.lp.push(END);
        set_total(self.lp);
        add_count(self.lp, self.added.min(COUNT_UNKNOWN as usize) as u16);
    }
}

/// Decodes the element at `pos`: its value and the position of the next element. None at the
/// terminator or on malformed bytes.
pub fn read(lp: &[u8], pos: usize) -> Option<(Lp<'_>, usize)> {
    let b = *lp.get(pos)?;
    let e = &lp[pos..];
    let take = |from: usize, n: usize| e.get(from..from.checked_add(n)?);
    let (v, len) = if b & 0x80 == 0 {
        (Lp::Int(b as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        (Lp::Str(take(1, n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as i64) << 8) | *e.get(1)? as i64;
        (Lp::Int(if u >= 4096 { u - 8192 } else { u }), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | *e.get(1)? as usize;
        (Lp::Str(take(2, n)?), 2 + n)
    } else {
        match b {
            0xF0 => {
                let n = u32::from_le_bytes(take(1, 4)?.try_into().ok()?) as usize;
                (Lp::Str(take(5, n)?), 5 + n)
            }
            0xF1 => (Lp::Int(le_int(take(1, 2)?)), 3),
            0xF2 => (Lp::Int(le_int(take(1, 3)?)), 4),
            0xF3 => (Lp::Int(le_int(take(1, 4)?)), 5),
            0xF4 => (Lp::Int(le_int(take(1, 8)?)), 9),
            _ => return None,
        }
    };
    let next = pos.checked_add(len)?.checked_add(backlen_bytes(len))?;
    (next < lp.len()).then_some((v, next))
}

/// A little-endian signed integer of 1 to 8 bytes, sign-extended.
pub fn le_int(bytes: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a[..bytes.len()].copy_from_slice(bytes);
    let v = i64::from_le_bytes(a);
    let shift = 64 - 8 * bytes.len() as u32;
    if shift == 0 {
        v
    } else {
        (v << shift) >> shift
    }
}

/// The start of the element before `pos` (`pos` being an element start or the terminator);
/// None before the first element or on malformed bytes.
pub fn prev(lp: &[u8], pos: usize) -> Option<usize> {
    if pos <= HEADER_BYTES || pos > lp.len() {
        return None;
    }
    let mut p = pos - 1;
    let mut val: usize = 0;
    let mut shift = 0;
    loop {
        let b = *lp.get(p)?;
        val |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 || p <= HEADER_BYTES {
            return None;
        }
        p -= 1;
    }
    let start = pos.checked_sub(backlen_bytes(val))?.checked_sub(val)?;
    (start >= HEADER_BYTES).then_some(start)
}

/// Replaces the integer element at `pos` with `v` (the buffer may grow or shrink); returns the
/// position after the new element.
pub fn replace_int(lp: &mut Vec<u8>, pos: usize, v: i64) -> usize {
    let Some((_, next)) = read(lp, pos) else {
        return pos;
    };
    // Encoding (at most 9 bytes) and back-length (1 byte below 128): no allocation.
    let (b, len) = int_enc(v);
    let mut e = [0u8; 10];
    e[..len].copy_from_slice(&b[..len]);
    e[len] = len as u8;
    let e = &e[..len + 1];
    if e.len() == next - pos {
        lp[pos..next].copy_from_slice(e);
    } else {
        lp.splice(pos..next, e.iter().copied());
        set_total(lp);
    }
    pos + e.len()
}

/// Length of the decimal text of `v`.
pub fn int_text_len(v: i64) -> usize {
    let mut n = if v < 0 { 2 } else { 1 };
    let mut u = v.unsigned_abs();
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_prev_replace() {
        // Guards the codec on every width, backward steps and resizing replaces.
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"128",
            b"-4096",
            b"40000",
            b"8388608",
            b"-2147483649",
            b"abc",
            b"",
            b"007",
            &long,
            &mid,
        ];
        let mut lp = new_empty(0);
        let mut a = Appender::new(&mut lp);
        items.iter().for_each(|s| a.push(Lp::Str(s)));
        a.finish();
        assert_eq!(
            lp.len() as u32,
            u32::from_le_bytes(lp[..4].try_into().unwrap())
        );
        assert_eq!(header_count(&lp), Some(items.len() as u16));
        let mut pos = HEADER_BYTES;
        let mut starts = Vec::new();
        for s in &items {
            let (v, next) = read(&lp, pos).expect("element");
            match v {
                Lp::Int(i) => assert_eq!(i.to_string().as_bytes(), *s),
                Lp::Str(b) => assert_eq!(b, *s),
            }
            starts.push(pos);
            pos = next;
        }
        assert_eq!(lp[pos], END);
        for &st in starts.iter().rev() {
            let p = prev(&lp, pos).expect("prev");
            assert_eq!(p, st);
            pos = p;
        }
        assert_eq!(prev(&lp, pos), None);
        let after = replace_int(&mut lp, starts[0], 100000);
        assert_eq!(read(&lp, starts[0]).unwrap().0, Lp::Int(100000));
        assert_eq!(read(&lp, after).unwrap().0, Lp::Int(127));
        assert_eq!(
            lp.len() as u32,
            u32::from_le_bytes(lp[..4].try_into().unwrap())
        );
        assert_eq!(int_text_len(-120), 4);
        assert_eq!(int_text_len(i64::MIN), 20);
    }
}
