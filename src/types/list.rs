//! The list value type: an ordered sequence of byte-string elements, a double-ended queue of
//! compact elements (short ones stored inline, no allocation), plus the pure operations the
//! list commands need (index resolution, ranges, search, removal, trimming). No I/O, no
//! keyspace; the commands live in `commands::list`.

use std::collections::VecDeque;
use std::fmt;

/// Longest element stored inside the slot itself; longer ones get their own allocation.
/// 22 keeps `Elem` at 24 bytes: the size of a boxed slice plus its tag.
pub const INLINE_MAX_BYTES: usize = 22;

/// One list element.
#[derive(Clone, PartialEq, Eq)]
pub enum Elem {
    Inline {
        len: u8,
        bytes: [u8; INLINE_MAX_BYTES],
    },
    Heap(Box<[u8]>),
}

impl Elem {
    pub fn new(b: &[u8]) -> Self {
        if b.len() <= INLINE_MAX_BYTES {
            let mut bytes = [0u8; INLINE_MAX_BYTES];
            bytes[..b.len()].copy_from_slice(b);
            Elem::Inline {
                len: b.len() as u8,
                bytes,
            }
        } else {
            Elem::Heap(b.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Elem::Inline { len, bytes } => &bytes[..*len as usize],
            Elem::Heap(b) => b,
        }
    }

    /// Bytes allocated outside the slot.
    fn heap_bytes(&self) -> usize {
        match self {
            Elem::Inline { .. } => 0,
            Elem::Heap(b) => b.len(),
        }
    }
}

impl fmt::Debug for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Which end of a list (Redis' LEFT/HEAD and RIGHT/TAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// Queues shrink once they use less than 1/`SHRINK_RATIO` of their capacity (and hold more
/// than `SHRINK_MIN_SLOTS` slots), so a drained list gives memory back like Redis' nodes do.
const SHRINK_RATIO: usize = 4;
const SHRINK_MIN_SLOTS: usize = 64;

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListValue {
    items: VecDeque<Elem>,
    /// Sum of the out-of-slot allocations of the elements, kept current by every change.
    elem_heap_bytes: usize,
}

/// Where a run of matches starts and how far a scan may go (LPOS).
#[derive(Clone, Copy, Debug)]
pub struct PosQuery {
    /// Scan from the tail when negative; |rank| - 1 matches are skipped (Redis' RANK).
    pub rank: i64,
    /// Most positions wanted; 0 means all.
    pub count: u64,
    /// Most elements compared; 0 means the whole list.
    pub maxlen: u64,
}

impl ListValue {
    pub fn new() -> Self {
        Self::default()
    }

    /// A list of `items`, head first.
    pub fn from_slices(items: &[&[u8]]) -> Self {
        let mut l = Self::new();
        for i in items {
            l.push(End::Tail, i);
        }
        l
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Elem>() + self.elem_heap_bytes
    }

    pub fn push(&mut self, end: End, b: &[u8]) {
        let e = Elem::new(b);
        self.elem_heap_bytes += e.heap_bytes();
        match end {
            End::Head => self.items.push_front(e),
            End::Tail => self.items.push_back(e),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Elem> {
        let e = match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }?;
        self.elem_heap_bytes -= e.heap_bytes();
        self.maybe_shrink();
        Some(e)
    }

    /// The position of a Redis index (negative counts from the tail), if inside the list.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { index + len } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    pub fn get(&self, pos: usize) -> Option<&[u8]> {
        self.items.get(pos).map(Elem::as_bytes)
    }

    /// Replaces the element at `pos` (which must be inside the list).
    pub fn set(&mut self, pos: usize, b: &[u8]) {
        let e = Elem::new(b);
        self.elem_heap_bytes += e.heap_bytes();
        let old = std::mem::replace(&mut self.items[pos], e);
        self.elem_heap_bytes -= old.heap_bytes();
    }

    /// Inserts so that the new element ends up at `pos` (0..=len).
    pub fn insert(&mut self, pos: usize, b: &[u8]) {
        let e = Elem::new(b);
        self.elem_heap_bytes += e.heap_bytes();
        self.items.insert(pos, e);
    }

    /// Position of the first element equal to `b`, from the head.
    pub fn find(&self, b: &[u8]) -> Option<usize> {
        self.items.iter().position(|e| e.as_bytes() == b)
    }

    /// The inclusive position range a Redis (start, stop) pair selects, None when empty.
    pub fn clamp_range(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = self.len() as i64;
        let start = if start < 0 { start + len } else { start }.max(0);
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        Some((start as usize, stop.min(len - 1) as usize))
    }

    /// Elements `first..=last` (positions from `clamp_range`).
    pub fn range(&self, first: usize, last: usize) -> impl Iterator<Item = &[u8]> + '_ {
        self.items.range(first..=last).map(Elem::as_bytes)
    }

    /// Removes up to |count| elements equal to `b` (all when 0), from the tail when count is
    /// negative. Returns how many were removed.
    pub fn remove_matching(&mut self, b: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        // From the tail: skip the matches that stay, counted in a first pass.
        let skip = if count < 0 {
            let total = self.items.iter().filter(|e| e.as_bytes() == b).count();
            total.saturating_sub(limit)
        } else {
            0
        };
        let (mut seen, mut removed, mut freed) = (0usize, 0usize, 0usize);
        self.items.retain(|e| {
            if removed == limit || e.as_bytes() != b {
                return true;
            }
            seen += 1;
            if seen <= skip {
                return true;
            }
            removed += 1;
            freed += e.heap_bytes();
            false
        });
        self.elem_heap_bytes -= freed;
        self.maybe_shrink();
        removed
    }

    /// Keeps only what LTRIM's (start, stop) selects; returns how many elements went.
    pub fn trim(&mut self, start: i64, stop: i64) -> usize {
        let len = self.len();
        let (head, tail) = match self.clamp_range(start, stop) {
            None => (len, 0),
            Some((first, last)) => (first, len - last - 1),
        };
        for _ in 0..tail {
            self.pop(End::Tail);
        }
        let gone: usize = self.items.drain(..head).map(|e| e.heap_bytes()).sum();
        self.elem_heap_bytes -= gone;
        self.maybe_shrink();
        head + tail
    }

    /// LPOS: positions (from the head) of the elements equal to `b`, as `q` asks. Holds at
    /// most one position per list element.
    pub fn positions(&self, b: &[u8], q: PosQuery) -> Vec<usize> {
        let len = self.len();
        let maxlen = usize::try_from(q.maxlen).unwrap_or(usize::MAX);
        let scan = if maxlen == 0 { len } else { maxlen.min(len) };
        // A rank of i64::MIN has no positive counterpart: Redis then keeps every match from
        // the first one on and never reaches COUNT (its arithmetic wraps); so do we.
        let (skip, wrap) = match q.rank {
            i64::MIN => (0, true),
            r => (r.unsigned_abs().saturating_sub(1) as usize, false),
        };
        let wanted = if q.count == 0 || wrap {
            usize::MAX
        } else {
            usize::try_from(q.count).unwrap_or(usize::MAX)
        };
        let mut found = Vec::new();
        let mut matches = 0usize;
        let mut visit = |pos: usize, e: &Elem| {
            if e.as_bytes() != b {
                return true;
            }
            matches += 1;
            if matches > skip {
                found.push(pos);
            }
            found.len() < wanted
        };
        if q.rank < 0 {
            for (i, e) in self.items.iter().rev().take(scan).enumerate() {
                if !visit(len - 1 - i, e) {
                    break;
                }
            }
        } else {
            for (i, e) in self.items.iter().take(scan).enumerate() {
                if !visit(i, e) {
                    break;
                }
            }
        }
        found
    }

    /// Gives memory back after large removals.
    fn maybe_shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > SHRINK_MIN_SLOTS && self.items.len() * SHRINK_RATIO < cap {
            self.items.shrink_to(self.items.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(l: &ListValue) -> Vec<String> {
        l.range(0, l.len().saturating_sub(1))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    fn list(v: &[&str]) -> ListValue {
        let v: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        ListValue::from_slices(&v)
    }

    #[test]
    fn elem_stays_compact() {
        // Guards the per-element footprint the memory benchmarks depend on.
        assert_eq!(std::mem::size_of::<Elem>(), 24);
        let short = Elem::new(b"0123456789012345678901");
        assert!(matches!(short, Elem::Inline { .. }));
        let long = Elem::new(b"01234567890123456789012");
        assert!(matches!(long, Elem::Heap(_)));
        assert_eq!(long.as_bytes(), b"01234567890123456789012");
        assert_eq!(Elem::new(b"").as_bytes(), b"");
    }

    #[test]
    fn heap_accounting_follows_changes() {
        // Guards the running count of element allocations through every mutation.
        let big = [b'x'; 100];
        let mut l = ListValue::new();
        l.push(End::Tail, &big);
        l.push(End::Head, b"a");
        l.insert(1, &big);
        assert_eq!(l.elem_heap_bytes, 200);
        l.set(1, b"b");
        assert_eq!(l.elem_heap_bytes, 100);
        assert_eq!(l.remove_matching(&big, 0), 1);
        assert_eq!(l.elem_heap_bytes, 0);
        l.push(End::Tail, &big);
        l.trim(0, 0);
        assert_eq!(l.elem_heap_bytes, 0);
        assert_eq!(items(&l), ["a"]);
    }

    #[test]
    fn ranges_clamp_like_redis() {
        // Guards LRANGE/LTRIM index arithmetic at the extremes.
        let l = list(&["a", "b", "c", "d", "e"]);
        assert_eq!(l.clamp_range(0, -1), Some((0, 4)));
        assert_eq!(l.clamp_range(-100, 100), Some((0, 4)));
        assert_eq!(l.clamp_range(3, 1), None);
        assert_eq!(l.clamp_range(5, 10), None);
        assert_eq!(l.clamp_range(i64::MIN, i64::MAX), Some((0, 4)));
        assert_eq!(l.clamp_range(i64::MIN, i64::MIN), None);
        assert_eq!(l.resolve(-1), Some(4));
        assert_eq!(l.resolve(-6), None);
        assert_eq!(l.resolve(i64::MIN), None);
        assert_eq!(ListValue::new().clamp_range(0, -1), None);
    }

    #[test]
    fn remove_matching_from_both_ends() {
        // Guards LREM's count semantics (head, tail, all).
        let mut l = list(&["a", "b", "a", "c", "a", "d", "a"]);
        assert_eq!(l.remove_matching(b"a", 2), 2);
        assert_eq!(items(&l), ["b", "c", "a", "d", "a"]);
        assert_eq!(l.remove_matching(b"a", -1), 1);
        assert_eq!(items(&l), ["b", "c", "a", "d"]);
        assert_eq!(l.remove_matching(b"a", i64::MIN), 1);
        assert_eq!(l.remove_matching(b"zz", 0), 0);
        assert_eq!(items(&l), ["b", "c", "d"]);
    }

    #[test]
    fn trim_counts_removed() {
        // Guards LTRIM's removal counts (its dirty increment).
        let mut l = list(&["a", "b", "c", "d", "e"]);
        assert_eq!(l.trim(1, -2), 2);
        assert_eq!(items(&l), ["b", "c", "d"]);
        assert_eq!(l.trim(5, 10), 3);
        assert!(l.is_empty());
    }

    #[test]
    fn positions_follow_rank_count_maxlen() {
        // Guards LPOS' scan order, skipping, limits and the i64::MIN rank quirk.
        let l = list(&["a", "b", "c", "a", "b", "c", "a"]);
        let q = |rank, count, maxlen| PosQuery {
            rank,
            count,
            maxlen,
        };
        assert_eq!(l.positions(b"a", q(1, 1, 0)), [0]);
        assert_eq!(l.positions(b"a", q(2, 1, 0)), [3]);
        assert_eq!(l.positions(b"a", q(-1, 0, 0)), [6, 3, 0]);
        assert_eq!(l.positions(b"a", q(1, 0, 3)), [0]);
        assert_eq!(l.positions(b"a", q(-1, 2, 2)), [6]);
        assert_eq!(l.positions(b"a", q(i64::MIN, 1, 0)), [6, 3, 0]);
        assert_eq!(l.positions(b"a", q(i64::MAX, 0, 0)), Vec::<usize>::new());
    }

    #[test]
    fn drained_list_shrinks() {
        // Guards memory release after a big list is popped down.
        let mut l = ListValue::new();
        for _ in 0..10_000 {
            l.push(End::Tail, b"x");
        }
        let full = l.heap_bytes();
        while l.len() > 10 {
            l.pop(End::Head);
        }
        assert!(l.heap_bytes() * 10 < full);
    }
}
