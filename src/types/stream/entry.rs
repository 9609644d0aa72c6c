//! One stream entry as ranges and lookups hand it out: a view into its node that walks the
//! field/value elements on demand. Integer-encoded elements are given back as their decimal
//! text, which the view keeps beside it (on the stack for ordinary entries).

use super::node::{Master, Raw};
use super::StreamId;
use crate::resp::write::digits_u64;
use crate::types::listpack::{self, Lp};
use std::borrow::Cow;

/// One entry as ranges and lookups hand it out: a view into its node.
pub struct Entry<'a> {
    pub id: StreamId,
    buf: &'a [u8],
    master_fields: usize,
    body: usize,
    nfields: usize,
    same: bool,
    /// Decimal texts of the entry's integer-encoded elements, in walking order.
    ints: Cow<'a, [u8]>,
}

impl<'a> Entry<'a> {
    /// Field/value pairs in insertion order.
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        Fields {
            walk: Walk {
                buf: self.buf,
                mpos: self.master_fields,
                pos: self.body,
                same: self.same,
            },
            ints: &self.ints,
            ioff: 0,
            left: self.nfields,
        }
    }

    pub fn field_count(&self) -> usize {
        self.nfields
    }
}

/// The iterator behind `Entry::fields`.
struct Fields<'e> {
    walk: Walk<'e>,
    ints: &'e [u8],
    ioff: usize,
    left: usize,
}

impl<'e> Fields<'e> {
    fn text(&mut self, v: Lp<'e>) -> &'e [u8] {
        match v {
            Lp::Str(s) => s,
            Lp::Int(i) => {
                let n = listpack::int_text_len(i);
                let t = self.ints.get(self.ioff..self.ioff + n).unwrap_or(b"");
                self.ioff += n;
                t
            }
        }
    }
}

impl<'e> Iterator for Fields<'e> {
    type Item = (&'e [u8], &'e [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (f, v) = self.walk.pair()?;
        let f = self.text(f);
        let v = self.text(v);
        Some((f, v))
    }
}

/// Steps through an entry's field/value elements.
struct Walk<'a> {
    buf: &'a [u8],
    mpos: usize,
    pos: usize,
    same: bool,
}

impl<'a> Walk<'a> {
    fn pair(&mut self) -> Option<(Lp<'a>, Lp<'a>)> {
        let f = if self.same {
            let (f, next) = listpack::read(self.buf, self.mpos)?;
            self.mpos = next;
            f
        } else {
            let (f, next) = listpack::read(self.buf, self.pos)?;
            self.pos = next;
            f
        };
        let (v, next) = listpack::read(self.buf, self.pos)?;
        self.pos = next;
        Some((f, v))
    }
}

/// Bytes of integer texts an entry view keeps on the stack before it needs the heap.
const INT_TEXT_STACK_BYTES: usize = 256;
/// Longest decimal text of an i64 ("-9223372036854775808").
const INT_TEXT_MAX_BYTES: usize = 20;

/// The decimal texts of one entry's integer elements, back to back: on the stack while they
/// fit (no allocation for ordinary entries), on the heap past that.
pub(super) struct IntTexts {
    stack: [u8; INT_TEXT_STACK_BYTES],
    len: usize,
    heap: Vec<u8>,
}

impl IntTexts {
    pub(super) fn new() -> Self {
        IntTexts {
            stack: [0; INT_TEXT_STACK_BYTES],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }

    fn push(&mut self, v: i64) {
        // Digits right-aligned after one spare byte for the sign.
        let mut tmp = [0u8; INT_TEXT_MAX_BYTES + 1];
        let mut digits = [0u8; INT_TEXT_MAX_BYTES];
        let start = digits_u64(&mut digits, v.unsigned_abs());
        tmp[start + 1..].copy_from_slice(&digits[start..]);
        let mut i = start + 1;
        if v < 0 {
            i -= 1;
            tmp[i] = b'-';
        }
        let t = &tmp[i..];
        if self.heap.is_empty() && self.len + t.len() <= INT_TEXT_STACK_BYTES {
            self.stack[self.len..self.len + t.len()].copy_from_slice(t);
            self.len += t.len();
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack[..self.len]);
            }
            self.heap.extend_from_slice(t);
        }
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Fills `out` with the texts of the integer elements of `raw`, in the order `fields` walks.
pub(super) fn int_texts(buf: &[u8], m: &Master, raw: &Raw, out: &mut IntTexts) {
    out.clear();
    let mut w = Walk {
        buf,
        mpos: m.fields_pos,
        pos: raw.body,
        same: raw.same(),
    };
    for _ in 0..raw.nfields {
        let Some((f, v)) = w.pair() else { return };
        for e in [f, v] {
            if let Lp::Int(i) = e {
                out.push(i);
            }
        }
    }
}

pub(super) fn entry<'a>(buf: &'a [u8], m: &Master, raw: &Raw, ints: Cow<'a, [u8]>) -> Entry<'a> {
    Entry {
        id: raw.id,
        buf,
        master_fields: m.fields_pos,
        body: raw.body,
        nfields: raw.nfields,
        same: raw.same(),
        ints,
    }
}
