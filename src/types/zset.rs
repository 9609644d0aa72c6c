//! The sorted-set value: members ordered by (score, member bytes). Data structure and its pure
//! operations only; the commands live in `commands::zset`.
//!
//! Two representations, as Redis has two encodings:
//! - small ("listpack"): one sorted `Vec<Entry>`; member lookups scan it. Up to
//!   `zset-max-listpack-entries` entries of at most `zset-max-listpack-value` bytes each.
//! - big ("skiplist"): the same entries cut into sorted chunks of at most `CHUNK_MAX` entries,
//!   a Fenwick tree over the chunk lengths (rank <-> position in O(log n)), and a hash index
//!   from member hash to score (member lookups in O(1) plus one O(log n) check that the
//!   (score, member) pair is really there). Entries are stored once: the index holds only the
//!   64-bit hash and the score, so a big set costs about 24 + 19 bytes per entry plus the
//!   member bytes. Range reads are O(log n + k); inserts and removals O(log n + CHUNK_MAX).

use hashbrown::{DefaultHashBuilder, HashTable};
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// Largest chunk of a big set; a full chunk splits in two halves.
const CHUNK_MAX: usize = 256;

/// One member and its score. Scores are never NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub score: f64,
    pub member: Box<[u8]>,
}

/// The encoding thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries_max: usize,
    pub value_max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries_max: 128,
            value_max_bytes: 64,
        }
    }
}

/// Total order of entries: score first (-0 equals 0), then member bytes.
pub fn cmp_key(score: f64, member: &[u8], e: &Entry) -> Ordering {
    match score.partial_cmp(&e.score) {
        Some(Ordering::Equal) | None => member.cmp(&e.member),
        Some(o) => o,
    }
}

#[derive(Clone, Debug)]
struct Big {
    /// Non-empty sorted chunks, ordered among themselves.
    chunks: Vec<Vec<Entry>>,
    /// Fenwick tree over `chunks[i].len()`.
    fen: Vec<u32>,
    /// member hash -> score, one slot per entry.
    index: HashTable<(u64, f64)>,
    hasher: DefaultHashBuilder,
    len: usize,
}

#[derive(Clone, Debug)]
enum Repr {
    Small(Vec<Entry>),
    Big(Box<Big>),
}

/// A sorted-set value.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    repr: Repr,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue {
            repr: Repr::Small(Vec::new()),
        }
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Big {
    fn new() -> Self {
        Big {
            chunks: Vec::new(),
            fen: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            len: 0,
        }
    }

    fn rebuild_fen(&mut self) {
        let n = self.chunks.len();
        self.fen.clear();
        self.fen.extend(self.chunks.iter().map(|c| c.len() as u32));
        for i in 0..n {
            let j = i | (i + 1);
            if j < n {
                self.fen[j] += self.fen[i];
            }
        }
    }

    fn fen_add(&mut self, chunk: usize, delta: i64) {
        let mut i = chunk;
        while i < self.fen.len() {
            self.fen[i] = (self.fen[i] as i64 + delta) as u32;
            i |= i + 1;
        }
    }

    /// Entries in chunks before `chunk`.
    fn prefix(&self, chunk: usize) -> usize {
        let mut sum = 0usize;
        let mut i = chunk;
        while i > 0 {
            sum += self.fen[i - 1] as usize;
            i &= i - 1;
        }
        sum
    }

    /// (chunk, offset) of rank `rank` (< len).
    fn locate(&self, rank: usize) -> (usize, usize) {
        let n = self.fen.len();
        let mut pos = 0usize;
        let mut rest = rank;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && (self.fen[next - 1] as usize) <= rest {
                pos = next;
                rest -= self.fen[next - 1] as usize;
            }
            step >>= 1;
        }
        (pos, rest)
    }

    /// Position of the first entry not ordered before `pred`'s boundary: (chunk, offset),
    /// chunk == chunks.len() when all entries are before it.
    fn lower_bound(&self, before: &impl Fn(&Entry) -> bool) -> (usize, usize) {
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(before));
        match self.chunks.get(ci) {
            Some(c) => (ci, c.partition_point(before)),
            None => (ci, 0),
        }
    }

    fn find(&self, score: f64, member: &[u8]) -> Option<(usize, usize)> {
        let (ci, off) = self.lower_bound(&|e| cmp_key(score, member, e) == Ordering::Greater);
        let e = self.chunks.get(ci)?.get(off)?;
        (cmp_key(score, member, e) == Ordering::Equal).then_some((ci, off))
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let h = self.hasher.hash_one(member);
        let chunks = &self.chunks;
        let probe = |&(eh, s): &(u64, f64)| eh == h && has(chunks, s, member);
        self.index.find(h, probe).map(|&(_, s)| s)
    }

    /// Places an absent member in the ordered chunks (the index is the caller's).
    fn place(&mut self, e: Entry) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![e]);
            self.len += 1;
            self.rebuild_fen();
            return;
        }
        let (s, m) = (e.score, &e.member);
        let mut ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|x| cmp_key(s, m, x).is_gt()));
        ci = ci.min(self.chunks.len() - 1);
        let off = self.chunks[ci].partition_point(|x| cmp_key(s, m, x).is_gt());
        self.chunks[ci].insert(off, e);
        self.len += 1;
        if self.chunks[ci].len() > CHUNK_MAX {
            let tail = self.chunks[ci].split_off(CHUNK_MAX / 2);
            self.chunks[ci].shrink_to(CHUNK_MAX);
            self.chunks.insert(ci + 1, tail);
            self.rebuild_fen();
        } else {
            self.fen_add(ci, 1);
        }
    }

    /// Removes the entry at (chunk, offset) from the chunks (the index is the caller's).
    fn take(&mut self, ci: usize, off: usize) -> Entry {
        let e = self.chunks[ci].remove(off);
        self.len -= 1;
        if self.chunks[ci].is_empty() {
            self.chunks.remove(ci);
            self.rebuild_fen();
        } else {
            self.fen_add(ci, -1);
        }
        e
    }

    fn unindex(&mut self, member: &[u8], score: f64) {
        let h = self.hasher.hash_one(member);
        // The entry has just left the chunks, so match on hash and score alone; two members
        // with equal 64-bit hashes and equal scores are interchangeable slots.
        if let Ok(occ) = self.index.find_entry(h, |&(eh, s)| eh == h && s == score) {
            occ.remove();
        }
    }

    fn index_insert(&mut self, member: &[u8], score: f64) {
        let h = self.hasher.hash_one(member);
        self.index.insert_unique(h, (h, score), |&(eh, _)| eh);
    }

    fn index_set(&mut self, member: &[u8], old: f64, new: f64) {
        let h = self.hasher.hash_one(member);
        if let Some(slot) = self.index.find_mut(h, |&(eh, s)| eh == h && s == old) {
            slot.1 = new;
        }
    }
}

fn has(chunks: &[Vec<Entry>], score: f64, member: &[u8]) -> bool {
    let ci =
        chunks.partition_point(|c| c.last().is_some_and(|e| cmp_key(score, member, e).is_gt()));
    let Some(c) = chunks.get(ci) else {
        return false;
    };
    c.binary_search_by(|e| cmp_key(score, member, e).reverse())
        .is_ok()
}

impl ZSetValue {
    pub fn new() -> Self {
        Self::default()
    }

    /// A set for about `count` members of at most `max_member_bytes`: big from the start when
    /// that would exceed the small encoding's limits (as Redis' `zsetTypeCreate`).
    pub fn with_hint(count: usize, max_member_bytes: usize, lim: Limits) -> Self {
        let mut z = Self::new();
        if count > lim.entries_max || max_member_bytes > lim.value_max_bytes {
            z.convert_to_big();
        }
        z
    }

    /// Builds a set from entries sorted by (score, member) without duplicates, in the encoding
    /// Redis would give a freshly stored result.
    pub fn from_sorted(entries: Vec<Entry>, lim: Limits) -> Self {
        let longest = entries.iter().map(|e| e.member.len()).max().unwrap_or(0);
        let mut z = ZSetValue {
            repr: Repr::Small(entries),
        };
        if z.len() > lim.entries_max || longest > lim.value_max_bytes {
            z.convert_to_big();
        } else if let Repr::Small(v) = &mut z.repr {
            v.iter_mut()
                .filter(|e| e.score == 0.0)
                .for_each(|e| e.score = 0.0);
        }
        z
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Big(b) => b.len,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Small(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.heap_bytes_sampled(usize::MAX)
    }

    /// As `heap_bytes`, the member bytes averaged over the first `samples` members and
    /// scaled to the count (MEMORY USAGE's SAMPLES); exact when `samples` covers them all.
    pub fn heap_bytes_sampled(&self, samples: usize) -> usize {
        let entry = std::mem::size_of::<Entry>();
        let seen = samples.min(self.len());
        let sampled: usize = self.iter().take(seen).map(|e| e.member.len()).sum();
        let members = super::scale(sampled, seen, self.len());
        match &self.repr {
            Repr::Small(v) => v.capacity() * entry + members,
            Repr::Big(b) => {
                let chunks: usize = b.chunks.iter().map(|c| c.capacity() * entry).sum();
                let index = b.index.capacity() * (std::mem::size_of::<(u64, f64)>() + 1);
                std::mem::size_of::<Big>() + chunks + b.fen.capacity() * 4 + index + members
            }
        }
    }

    fn chunks(&self) -> &[Vec<Entry>] {
        match &self.repr {
            Repr::Small(v) => std::slice::from_ref(v),
            Repr::Big(b) => &b.chunks,
        }
    }

    fn convert_to_big(&mut self) {
        let Repr::Small(v) = &mut self.repr else {
            return;
        };
        let entries = std::mem::take(v);
        let mut big = Big::new();
        big.index.reserve(entries.len(), |&(h, _)| h);
        for e in &entries {
            big.index_insert(&e.member, e.score);
        }
        big.len = entries.len();
        let mut it = entries.into_iter().peekable();
        while it.peek().is_some() {
            let chunk: Vec<Entry> = it.by_ref().take(CHUNK_MAX / 2).collect();
            big.chunks.push(chunk);
        }
        big.rebuild_fen();
        self.repr = Repr::Big(Box::new(big));
    }

    /// Every entry in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        self.chunks().iter().flatten()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(v) => v.iter().find(|e| &*e.member == member).map(|e| e.score),
            Repr::Big(b) => b.score(member),
        }
    }

    /// Sets `member`'s score, inserting it when absent; returns the old score.
    pub fn set(&mut self, member: &[u8], score: f64, lim: Limits) -> Option<f64> {
        let old = self.score(member);
        if old == Some(score) {
            return old;
        }
        if old.is_none() && self.needs_big_for(member, lim) {
            self.convert_to_big();
        }
        let e = match old {
            Some(o) => self.take_exact(o, member),
            None => None,
        };
        // The small encoding keeps scores as text, where -0 reads back as 0.
        let score = match self.repr {
            Repr::Small(_) if score == 0.0 => 0.0,
            _ => score,
        };
        let member_box = e.map(|e| e.member).unwrap_or_else(|| member.into());
        let entry = Entry {
            score,
            member: member_box,
        };
        match &mut self.repr {
            Repr::Small(v) => {
                let off = v.partition_point(|x| cmp_key(score, member, x).is_gt());
                v.insert(off, entry);
            }
            Repr::Big(b) => {
                match old {
                    Some(o) => b.index_set(member, o, score),
                    None => b.index_insert(member, score),
                }
                b.place(entry);
            }
        }
        old
    }

    fn needs_big_for(&self, member: &[u8], lim: Limits) -> bool {
        matches!(self.repr, Repr::Small(_))
            && (self.len() + 1 > lim.entries_max || member.len() > lim.value_max_bytes)
    }

    /// Takes (score, member) out of the order only (a big set's index keeps its slot).
    fn take_exact(&mut self, score: f64, member: &[u8]) -> Option<Entry> {
        match &mut self.repr {
            Repr::Small(v) => {
                let i = v.iter().position(|e| &*e.member == member)?;
                Some(v.remove(i))
            }
            Repr::Big(b) => {
                let (ci, off) = b.find(score, member)?;
                Some(b.take(ci, off))
            }
        }
    }

    /// Removes `member`; returns its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.score(member)?;
        self.take_exact(score, member)?;
        if let Repr::Big(b) = &mut self.repr {
            b.unindex(member, score);
        }
        Some(score)
    }

    /// 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Small(v) => v
                .iter()
                .position(|e| &*e.member == member)
                .map(|i| (i, v[i].score)),
            Repr::Big(b) => {
                let s = b.score(member)?;
                let (ci, off) = b.find(s, member)?;
                Some((b.prefix(ci) + off, s))
            }
        }
    }

    /// (chunk, offset) of `rank`, which must be < len.
    fn locate(&self, rank: usize) -> (usize, usize) {
        match &self.repr {
            Repr::Small(_) => (0, rank),
            Repr::Big(b) => b.locate(rank),
        }
    }

    /// The entry at ascending `rank`.
    pub fn at(&self, rank: usize) -> Option<&Entry> {
        if rank >= self.len() {
            return None;
        }
        let (ci, off) = self.locate(rank);
        self.chunks().get(ci)?.get(off)
    }

    /// Entries from ascending rank `rank` upwards (empty when out of range).
    pub fn iter_from(&self, rank: usize) -> impl Iterator<Item = &Entry> + '_ {
        let chunks = self.chunks();
        let (ci, off) = if rank < self.len() {
            self.locate(rank)
        } else {
            (chunks.len(), 0)
        };
        let head = chunks.get(ci).map(|c| &c[off..]).unwrap_or(&[]);
        let rest = chunks.get(ci + 1..).unwrap_or(&[]);
        head.iter().chain(rest.iter().flatten())
    }

    /// Entries from ascending rank `rank` downwards (empty when out of range).
    pub fn iter_down_from(&self, rank: usize) -> impl Iterator<Item = &Entry> + '_ {
        let chunks = self.chunks();
        let (ci, off, ok) = if rank < self.len() {
            let (c, o) = self.locate(rank);
            (c, o, true)
        } else {
            (0, 0, false)
        };
        let head = if ok { &chunks[ci][..=off] } else { &[][..] };
        let before = if ok { &chunks[..ci] } else { &[][..] };
        head.iter()
            .rev()
            .chain(before.iter().rev().flat_map(|c| c.iter().rev()))
    }

    /// Number of entries ordered before the boundary `before` describes (a monotone
    /// predicate: true for a prefix of the order).
    pub fn count_before(&self, before: impl Fn(&Entry) -> bool) -> usize {
        match &self.repr {
            Repr::Small(v) => v.partition_point(before),
            Repr::Big(b) => {
                let (ci, off) = b.lower_bound(&before);
                b.prefix(ci) + off
            }
        }
    }

    /// Removes ascending ranks `start..start + n` (clamped); returns the removed entries.
    pub fn remove_range(&mut self, start: usize, n: usize) -> Vec<Entry> {
        let n = n.min(self.len().saturating_sub(start));
        if n == 0 {
            return Vec::new();
        }
        match &mut self.repr {
            Repr::Small(v) => v.drain(start..start + n).collect(),
            Repr::Big(b) => {
                let mut out = Vec::with_capacity(n);
                while out.len() < n {
                    let (ci, off) = b.locate(start);
                    let k = (n - out.len()).min(b.chunks[ci].len() - off);
                    let removed: Vec<Entry> = b.chunks[ci].drain(off..off + k).collect();
                    b.len -= k;
                    if b.chunks[ci].is_empty() {
                        b.chunks.remove(ci);
                        b.rebuild_fen();
                    } else {
                        b.fen_add(ci, -(k as i64));
                    }
                    for e in &removed {
                        b.unindex(&e.member, e.score);
                    }
                    out.extend(removed);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    // Guards the big representation against drifting from a plain sorted model.
    #[test]
    fn big_matches_sorted_model() {
        let mut z = ZSetValue::new();
        let mut model: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut x: u64 = 12345;
        for step in 0..6000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("m{}", x % 900).into_bytes();
            let s = ((x >> 20) % 50) as i64;
            if step % 3 == 0 {
                let a = z.remove(&m).is_some();
                let pos = model.iter().position(|(_, mm)| *mm == m);
                assert_eq!(a, pos.is_some());
                if let Some(p) = pos {
                    model.remove(p);
                }
            } else {
                z.set(&m, s as f64, lim());
                model.retain(|(_, mm)| *mm != m);
                model.push((s, m));
            }
        }
        model.sort();
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), model.len());
        for (i, (s, m)) in model.iter().enumerate() {
            let e = z.at(i).expect("rank in range");
            assert_eq!((e.score as i64, &*e.member), (*s, &m[..]));
            assert_eq!(z.rank(m), Some((i, *s as f64)));
        }
        let down: Vec<_> = z.iter_down_from(model.len() - 1).map(|e| e.score).collect();
        assert_eq!(down.len(), model.len());
        assert!(down.windows(2).all(|w| w[0] >= w[1]));
        let up: Vec<_> = z.iter_from(5).take(3).map(|e| e.member.clone()).collect();
        assert_eq!(up.len(), 3);
        assert_eq!(&*up[0], &model[5].1[..]);
        let gone = z.remove_range(10, 700);
        assert_eq!(gone.len(), 700.min(model.len() - 10));
        assert_eq!(z.len(), model.len() - gone.len());
        assert!(z.score(&gone[0].member).is_none());
    }

    // Guards the switch to the big encoding on entry count and member length.
    #[test]
    fn converts_past_limits() {
        let mut z = ZSetValue::new();
        for i in 0..128 {
            z.set(format!("{i}").as_bytes(), i as f64, lim());
        }
        assert_eq!(z.encoding(), "listpack");
        z.set(b"x", 1.0, lim());
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSetValue::new();
        z.set(&[b'a'; 65], 1.0, lim());
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.count_before(|e| e.score < 1.0), 0);
    }
}
