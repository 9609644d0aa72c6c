//! The hash value type: field-value pairs. Data structure and its pure operations only; the
//! commands live in `commands::hash`.
//!
//! A small hash (at most `LISTPACK_MAX_ENTRIES` pairs, no field or value longer than
//! `LISTPACK_MAX_VALUE_BYTES`) is one flat byte buffer of length-prefixed strings in insertion
//! order (Redis' "listpack": about two bytes of overhead per pair). Beyond that it is a
//! `ScanTable` of pairs, each pair one allocation (Redis' "hashtable"). Like Redis 7.0, a hash
//! never goes back to the small encoding.

use crate::types::set::{alloc_bytes, Keyed, ScanTable};

/// Redis 7.0's compiled-in `hash-max-listpack-entries` and `hash-max-listpack-value`.
pub const LISTPACK_MAX_ENTRIES: usize = 512;
pub const LISTPACK_MAX_VALUE_BYTES: usize = 64;

/// A field and its value in one allocation: a LEB128 field length, the field, the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair(Box<[u8]>);

impl Pair {
    fn new(field: &[u8], value: &[u8]) -> Self {
        let mut b = Vec::with_capacity(5 + field.len() + value.len());
        let mut n = field.len();
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                b.push(low);
                break;
            }
            b.push(low | 0x80);
        }
        b.extend_from_slice(field);
        b.extend_from_slice(value);
        Pair(b.into_boxed_slice())
    }
    /// (header bytes, field length).
    fn split(&self) -> (usize, usize) {
        let (mut n, mut shift, mut i) = (0usize, 0, 0);
        while let Some(&c) = self.0.get(i) {
            n |= ((c & 0x7f) as usize) << shift;
            i += 1;
            shift += 7;
            if c & 0x80 == 0 {
                break;
            }
        }
        (i, n)
    }
    pub fn field(&self) -> &[u8] {
        let (h, n) = self.split();
        &self.0[h..h + n]
    }
    pub fn value(&self) -> &[u8] {
        let (h, n) = self.split();
        &self.0[h + n..]
    }
}

impl Keyed for Pair {
    fn key(&self) -> &[u8] {
        self.field()
    }
    fn owned_bytes(&self) -> usize {
        alloc_bytes(self.0.len())
    }
}

#[derive(Clone, Debug)]
enum Repr {
    /// `count` pairs as [len u8][field][len u8][value]...
    Flat {
        buf: Vec<u8>,
        count: usize,
    },
    Table(ScanTable<Pair>),
}

/// A hash value.
#[derive(Clone, Debug)]
pub struct HashValue {
    repr: Repr,
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue {
            repr: Repr::Flat {
                buf: Vec::new(),
                count: 0,
            },
        }
    }
}

impl PartialEq for HashValue {
    fn eq(&self, other: &Self) -> bool {
        let mut same = self.len() == other.len();
        self.for_each(&mut |f, v| same &= other.get(f) == Some(v));
        same
    }
}

/// Walks a flat buffer: yields (start offset of the pair, field, value).
fn flat_pairs(buf: &[u8]) -> impl Iterator<Item = (usize, &[u8], &[u8])> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let start = pos;
        let flen = buf[pos] as usize;
        let field = &buf[pos + 1..pos + 1 + flen];
        pos += 1 + flen;
        let vlen = buf[pos] as usize;
        let value = &buf[pos + 1..pos + 1 + vlen];
        pos += 1 + vlen;
        Some((start, field, value))
    })
}

fn fits_flat(field: &[u8], value: &[u8]) -> bool {
    field.len() <= LISTPACK_MAX_VALUE_BYTES && value.len() <= LISTPACK_MAX_VALUE_BYTES
}

impl HashValue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Flat { count, .. } => *count,
            Repr::Table(t) => t.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Flat { .. } => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Flat { buf, .. } => alloc_bytes(buf.capacity()),
            Repr::Table(t) => t.table_bytes() + t.iter().map(|p| p.owned_bytes()).sum::<usize>(),
        }
    }
    /// As `heap_bytes`, but a table averages its first `samples` fields and scales by the
    /// count (MEMORY USAGE's SAMPLES); exact when `samples` covers every field.
    pub fn heap_bytes_sampled(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Table(t) if samples < t.len() => {
                let sum: usize = t.iter().take(samples).map(|p| p.owned_bytes()).sum();
                t.table_bytes() + super::scale(sum, samples, t.len())
            }
            _ => self.heap_bytes(),
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Flat { buf, .. } => flat_pairs(buf).find(|p| p.1 == field).map(|p| p.2),
            Repr::Table(t) => t.get(field).map(|p| p.value()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    fn convert_to_table(&mut self) {
        if let Repr::Flat { buf, .. } = &self.repr {
            let mut t = ScanTable::new();
            for (_, f, v) in flat_pairs(buf) {
                t.insert_new(Pair::new(f, v));
            }
            self.repr = Repr::Table(t);
        }
    }

    /// Sets a field; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Repr::Flat { buf, count } = &mut self.repr {
            if fits_flat(field, value) {
                let found = flat_pairs(buf).find(|p| p.1 == field).map(|p| p.0);
                if let Some(start) = found {
                    // Replace the value in place: [len][field][len][value].
                    let vpos = start + 1 + field.len();
                    let old_end = vpos + 1 + buf[vpos] as usize;
                    let mut new = Vec::with_capacity(1 + value.len());
                    new.push(value.len() as u8);
                    new.extend_from_slice(value);
                    buf.splice(vpos..old_end, new);
                    return false;
                }
                if *count < LISTPACK_MAX_ENTRIES {
                    buf.push(field.len() as u8);
                    buf.extend_from_slice(field);
                    buf.push(value.len() as u8);
                    buf.extend_from_slice(value);
                    *count += 1;
                    return true;
                }
            }
            self.convert_to_table();
        }
        let Repr::Table(t) = &mut self.repr else {
            unreachable!("converted above")
        };
        match t.get_mut(field) {
            Some(p) => {
                *p = Pair::new(field, value);
                false
            }
            None => {
                t.insert_new(Pair::new(field, value));
                true
            }
        }
    }

    /// Removes a field; true when it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Flat { buf, count } => {
                let found = flat_pairs(buf)
                    .find(|p| p.1 == field)
                    .map(|(s, f, v)| (s, s + 2 + f.len() + v.len()));
                let Some((start, end)) = found else {
                    return false;
                };
                buf.drain(start..end);
                *count -= 1;
                true
            }
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Calls `f` with every pair, in encoding order (insertion order when small).
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        match &self.repr {
            Repr::Flat { buf, .. } => flat_pairs(buf).for_each(|(_, k, v)| f(k, v)),
            Repr::Table(t) => t.iter().for_each(|p| f(p.field(), p.value())),
        }
    }

    /// Every pair, borrowed.
    pub fn pairs(&self) -> Vec<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Flat { buf, .. } => flat_pairs(buf).map(|(_, k, v)| (k, v)).collect(),
            Repr::Table(t) => t.iter().map(|p| (p.field(), p.value())).collect(),
        }
    }

    /// A uniformly random pair.
    pub fn random(&self, rand: &mut impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Flat { buf, count } => {
                if *count == 0 {
                    return None;
                }
                let i = (rand() % *count as u64) as usize;
                flat_pairs(buf).nth(i).map(|(_, k, v)| (k, v))
            }
            Repr::Table(t) => t.random(rand).map(|p| (p.field(), p.value())),
        }
    }

    /// One HSCAN step: the small encoding returns everything with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, f: &mut dyn FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Flat { .. } => {
                self.for_each(f);
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |p| f(p.field(), p.value())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_set_replace_remove_keep_order() {
        // Guards in-place value replacement and removal inside the flat buffer.
        let mut h = HashValue::new();
        assert!(h.set(b"a", b"1"));
        assert!(h.set(b"b", b"22"));
        assert!(h.set(b"c", b""));
        assert!(!h.set(b"b", b"333"));
        assert_eq!(h.get(b"b"), Some(&b"333"[..]));
        assert!(h.remove(b"a") && !h.remove(b"a"));
        let pairs: Vec<_> = h
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(
            pairs,
            vec![(b"b".to_vec(), b"333".to_vec()), (b"c".to_vec(), vec![])]
        );
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_on_long_value_or_many_fields() {
        // Guards the switch points to the table encoding and that nothing is lost.
        let mut h = HashValue::new();
        h.set(b"f", &[b'x'; 64]);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"g", &[b'x'; 65]);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f"), Some(&[b'x'; 64][..]));
        let mut h = HashValue::new();
        for i in 0..LISTPACK_MAX_ENTRIES {
            h.set(format!("f{i}").as_bytes(), b"v");
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"one-more", b"v");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), LISTPACK_MAX_ENTRIES + 1);
        assert_eq!(h.get(b"f7"), Some(&b"v"[..]));
        let long_field = vec![b'k'; 300];
        h.set(&long_field, b"w");
        assert_eq!(h.get(&long_field), Some(&b"w"[..]));
    }
}
