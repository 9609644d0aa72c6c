//! The compact containers found inside RDB strings: listpack (Redis 7 hashes, small sorted
//! sets, list nodes), intset (integer sets) and, for reading older payloads only, ziplist.
//! Readers check every length against the bytes that remain and fail with None, never panic.

use crate::resp::write::push_int;
use crate::types::listpack::{le_int, put_elem, read, Lp};

/// Size of a listpack's header: total bytes (u32) and element count (u16).
pub const LP_HEADER_BYTES: usize = 6;
/// The element count a listpack header uses for "too many to say, walk to count".
const LP_COUNT_UNKNOWN: usize = 65535;
const LP_END: u8 = 0xFF;

/// Builds a listpack element by element, choosing the encodings Redis 7.0 chooses.
pub struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl LpWriter {
    pub fn new() -> Self {
        LpWriter {
            buf: vec![0; LP_HEADER_BYTES],
            count: 0,
        }
    }

    /// Bytes the listpack would have if finished now (terminator included).
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends one element; canonical decimal integers are stored as integers.
    pub fn push(&mut self, s: &[u8]) {
        put_elem(&mut self.buf, Lp::Str(s));
        self.count += 1;
    }

    /// Closes the listpack and fills in its header.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_END);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(LP_COUNT_UNKNOWN) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn int_text(v: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(20);
    push_int(&mut b, v);
    b
}

/// Every element of a listpack as bytes (integers as decimal text); None when malformed.
pub fn lp_read(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    let header = lp.get(..LP_HEADER_BYTES)?;
    let total = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let count = u16::from_le_bytes(header[4..6].try_into().ok()?) as usize;
    if total != lp.len() || lp.last() != Some(&LP_END) {
        return None;
    }
    let mut items = Vec::with_capacity(count.min(lp.len()));
    let mut pos = LP_HEADER_BYTES;
    loop {
        let b = *lp.get(pos)?;
        if b == LP_END {
            break;
        }
        let (v, next) = read(lp, pos)?;
        items.push(match v {
            Lp::Int(i) => int_text(i),
            Lp::Str(s) => s.to_vec(),
        });
        pos = next;
    }
    if pos != lp.len() - 1 || (count != LP_COUNT_UNKNOWN && count != items.len()) {
        return None;
    }
    Some(items)
}

/// An intset blob for sorted distinct integers, in the narrowest width that holds them all.
pub fn intset_write(values: &[i64]) -> Vec<u8> {
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + width * values.len());
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    b
}

/// The integers of an intset blob; None when the header and size disagree.
pub fn intset_read(blob: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || count.checked_mul(width)? != blob.len() - 8 {
        return None;
    }
    Some(blob[8..].chunks_exact(width).map(le_int).collect())
}

/// Every element of a ziplist (the pre-7.0 compact container) as bytes.
pub fn ziplist_read(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    const HEADER_BYTES: usize = 10;
    let total = u32::from_le_bytes(zl.get(0..4)?.try_into().ok()?) as usize;
    if total != zl.len() || zl.len() < HEADER_BYTES + 1 || zl.last() != Some(&LP_END) {
        return None;
    }
    let mut items = Vec::new();
    let mut pos = HEADER_BYTES;
    while *zl.get(pos)? != LP_END {
        pos += if zl[pos] < 254 { 1 } else { 5 };
        let (item, used) = zl_entry(zl.get(pos..)?)?;
        items.push(item);
        pos += used;
    }
    (pos == zl.len() - 1).then_some(items)
}

/// One ziplist entry body (after its prevlen): its value and the bytes it used.
fn zl_entry(e: &[u8]) -> Option<(Vec<u8>, usize)> {
    let b = *e.first()?;
    let take = |from: usize, n: usize| e.get(from..from.checked_add(n)?);
    let (n, hdr) = match b >> 6 {
        0 => ((b & 0x3F) as usize, 1),
        1 => ((((b & 0x3F) as usize) << 8) | *e.get(1)? as usize, 2),
        2 => (u32::from_be_bytes(take(1, 4)?.try_into().ok()?) as usize, 5),
        _ => {
            let width = match b {
                0xC0 => 2,
                0xD0 => 4,
                0xE0 => 8,
                0xF0 => 3,
                0xFE => 1,
                0xF1..=0xFD => return Some((int_text((b & 0x0F) as i64 - 1), 1)),
                _ => return None,
            };
            return Some((int_text(le_int(take(1, width)?)), 1 + width));
        }
    };
    Some((take(hdr, n)?.to_vec(), hdr + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_matches_redis_example() {
        // Guards the exact bytes Redis 7.0 writes for hash {f1:v1, f2:2} (cluster-spec 8.9).
        let mut w = LpWriter::new();
        for s in [&b"f1"[..], b"v1", b"f2", b"2"] {
            w.push(s);
        }
        let lp = w.finish();
        let want = [
            0x15, 0, 0, 0, 4, 0, 0x82, 0x66, 0x31, 3, 0x82, 0x76, 0x31, 3, 0x82, 0x66, 0x32, 3, 2,
            1, 0xFF,
        ];
        assert_eq!(lp, want);
        let back = lp_read(&lp).expect("valid");
        assert_eq!(
            back,
            vec![
                b"f1".to_vec(),
                b"v1".to_vec(),
                b"f2".to_vec(),
                b"2".to_vec()
            ]
        );
    }

    #[test]
    fn listpack_every_width_roundtrips() {
        // Guards each integer and string encoding, including long strings and back-lengths.
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let vals: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-32768",
            "32767",
            "40000",
            "-8388608",
            "8388607",
            "8388608",
            "2147483647",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "007",
            "-0",
            "abc",
            "",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([long, mid])
        .collect();
        let mut w = LpWriter::new();
        vals.iter().for_each(|v| w.push(v));
        assert_eq!(lp_read(&w.finish()).expect("valid"), vals);
    }

    #[test]
    fn malformed_containers_are_refused() {
        // Guards against panics on truncated or lying headers.
        assert!(lp_read(&[]).is_none());
        assert!(lp_read(&[7, 0, 0, 0, 1, 0, 0xFF]).is_none());
        assert!(lp_read(&[8, 0, 0, 0, 1, 0, 0xBF, 0xFF]).is_none());
        assert!(lp_read(&[9, 0, 0, 0, 1, 0, 0xF0, 0xFF, 0xFF]).is_none());
        assert!(intset_read(&[2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).is_none());
        assert!(intset_read(&[3, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert_eq!(
            intset_read(&intset_write(&[-5, 70000])),
            Some(vec![-5, 70000])
        );
        assert!(ziplist_read(&[12, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0x00, 0xFF]).is_none());
    }

    #[test]
    fn ziplist_entries_decode() {
        // Guards the legacy ziplist reader on strings and every integer form.
        let zl: Vec<u8> = {
            let body = [
                0x00, 0x02, b'h', b'i', // prevlen 0, 6-bit string "hi"
                0x04, 0xF3, // immediate 2
                0x02, 0xFE, 0xF6, // int8 -10
                0x03, 0xC0, 0x39, 0x30, // int16 12345
            ];
            let total = 10 + body.len() + 1;
            let mut z = (total as u32).to_le_bytes().to_vec();
            z.extend_from_slice(&[0, 0, 0, 0, 4, 0]);
            z.extend_from_slice(&body);
            z.push(0xFF);
            z
        };
        let items = ziplist_read(&zl).expect("valid");
        assert_eq!(
            items,
            vec![
                b"hi".to_vec(),
                b"2".to_vec(),
                b"-10".to_vec(),
                b"12345".to_vec()
            ]
        );
    }
}
