//! The set value type (unique byte-string members) and `ScanTable`, the scannable hash table
//! that backs big sets and big hashes. Data structures and their pure operations only; the
//! commands live in `commands::set` and `commands::hash`.
//!
//! A small set of integers is a sorted `Vec<i64>` (Redis' "intset"); anything else is a
//! `ScanTable` of boxed members (Redis' "hashtable"). Like Redis 7.0, a set never goes back to
//! the small encoding once converted.

use hashbrown::hash_table::HashTable;
use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;

/// Most members an all-integer set keeps in the sorted-vector encoding
/// (Redis' `set-max-intset-entries` default).
pub const INTSET_MAX_ENTRIES: usize = 512;

/// An element of a `ScanTable`: anything with a byte-string key.
pub trait Keyed {
    fn key(&self) -> &[u8];
    /// Heap bytes the element itself owns.
    fn owned_bytes(&self) -> usize;
}

/// Bytes glibc malloc really hands out for a request of `n` bytes (16-byte granules with an
/// 8-byte header, 32 bytes at least); used only for memory estimates.
pub fn alloc_bytes(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (n + 8).div_ceil(16).max(2) * 16
}

/// Average part size above which the table doubles its parts, and below which it halves them.
const PART_SPLIT_AVG: usize = 64;
const PART_MERGE_AVG: usize = 8;
/// Rejection-sampling rounds before a random pick falls back to an indexed walk.
const RANDOM_TRIES: usize = 64;

/// A hash table split into 2^depth parts by the top bits of a seeded 64-bit hash.
///
/// Why parts: they give SCAN a cursor with Redis' guarantee that survives resizing. The
/// cursor is a position in hash space: "every element whose hash is below it was returned".
/// A call returns whole parts, in hash order, from the cursor on, until COUNT elements were
/// visited, and answers with the start of the next part (0 after the last). Splitting or
/// merging parts never moves an element across a hash-space boundary, so any element present
/// during the whole scan is returned exactly once; elements added or removed meanwhile may or
/// may not be. A call visits at most COUNT elements plus one part (about 64 on average).
/// Growth is also spread: each part rehashes alone when it fills.
#[derive(Clone)]
pub struct ScanTable<E> {
    hasher: DefaultHashBuilder,
    depth: u32,
    parts: Vec<HashTable<E>>,
    len: usize,
    /// An upper bound on the largest part's length, for fair random picks.
    max_part: usize,
}

impl<E: std::fmt::Debug> std::fmt::Debug for ScanTable<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanTable").field("len", &self.len).finish()
    }
}

impl<E: Keyed> Default for ScanTable<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Keyed> ScanTable<E> {
    pub fn new() -> Self {
        ScanTable {
            hasher: DefaultHashBuilder::default(),
            depth: 0,
            parts: vec![HashTable::new()],
            len: 0,
            max_part: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn part_of(&self, h: u64) -> usize {
        if self.depth == 0 {
            0
        } else {
            (h >> (64 - self.depth)) as usize
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        let h = self.hash(key);
        self.parts[self.part_of(h)].find(h, |e| e.key() == key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        let h = self.hash(key);
        let p = self.part_of(h);
        self.parts[p].find_mut(h, |e| e.key() == key)
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts an element whose key the caller knows is absent.
    pub fn insert_new(&mut self, e: E) {
        let h = self.hash(e.key());
        let p = self.part_of(h);
        let hasher = &self.hasher;
        self.parts[p].insert_unique(h, e, |x| hasher.hash_one(x.key()));
        self.len += 1;
        self.max_part = self.max_part.max(self.parts[p].len());
        if self.len > self.parts.len() * PART_SPLIT_AVG {
            self.resize(self.depth + 1);
        }
    }

    /// Removes and returns the element with `key`.
    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        let h = self.hash(key);
        let p = self.part_of(h);
        let (e, _) = self.parts[p]
            .find_entry(h, |e| e.key() == key)
            .ok()?
            .remove();
        self.len -= 1;
        let part = &mut self.parts[p];
        // Give memory back when a part is mostly empty, as Redis shrinks sparse tables.
        if part.capacity() > 16 && part.len() * 8 < part.capacity() {
            let hasher = &self.hasher;
            part.shrink_to(part.len() * 2, |x| hasher.hash_one(x.key()));
        }
        if self.depth > 0 && self.len < self.parts.len() * PART_MERGE_AVG {
            self.resize(self.depth - 1);
        }
        Some(e)
    }

    /// Rebuilds the parts at a new depth; elements keep their hashes.
    fn resize(&mut self, depth: u32) {
        let old = std::mem::take(&mut self.parts);
        self.depth = depth;
        self.parts = (0..1usize << depth).map(|_| HashTable::new()).collect();
        for part in old {
            for e in part {
                let h = self.hash(e.key());
                let p = self.part_of(h);
                let hasher = &self.hasher;
                self.parts[p].insert_unique(h, e, |x| hasher.hash_one(x.key()));
            }
        }
        self.max_part = self.parts.iter().map(|p| p.len()).max().unwrap_or(0);
    }

    pub fn iter(&self) -> impl Iterator<Item = &E> + '_ {
        self.parts.iter().flat_map(|p| p.iter())
    }

    /// A uniformly random element, `rand` giving fresh 64-bit random numbers.
    pub fn random(&self, rand: &mut impl FnMut() -> u64) -> Option<&E> {
        if self.len == 0 {
            return None;
        }
        // Pick a part uniformly and keep it with probability len/max_part: every element
        // then has the same chance, whatever the part sizes.
        let bound = self.max_part.max(1) as u64;
        for _ in 0..RANDOM_TRIES {
            let p = &self.parts[(rand() % self.parts.len() as u64) as usize];
            let r = rand() % bound;
            if (r as usize) < p.len() {
                return p.iter().nth(r as usize);
            }
        }
        // Unlucky streak: walk to a uniformly chosen index instead.
        let mut i = (rand() % self.len as u64) as usize;
        for p in &self.parts {
            if i < p.len() {
                return p.iter().nth(i);
            }
            i -= p.len();
        }
        None
    }

    /// One SCAN step from `cursor` (see the type's docs); calls `f` for each element visited
    /// and returns the next cursor, 0 when the walk is complete.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&E)) -> u64 {
        let mut p = self.part_of(cursor);
        let mut visited = 0usize;
        // The first part may start below the cursor (a cursor from before a merge, or forged):
        // skip what the cursor says was already returned.
        for e in self.parts[p].iter() {
            if self.hash(e.key()) >= cursor {
                f(e);
                visited += 1;
            }
        }
        loop {
            p += 1;
            if p >= self.parts.len() {
                return 0;
            }
            if visited >= count {
                return (p as u64) << (64 - self.depth);
            }
            for e in self.parts[p].iter() {
                f(e);
                visited += 1;
            }
        }
    }

    /// Approximate heap bytes: bucket arrays (element plus control byte) and the parts vector.
    pub fn table_bytes(&self) -> usize {
        let slot = std::mem::size_of::<E>() + 1;
        let buckets: usize = self
            .parts
            .iter()
            .map(|p| {
                alloc_bytes(if p.capacity() == 0 {
                    0
                } else {
                    (p.capacity() * 8 / 7).next_power_of_two() * slot
                })
            })
            .sum();
        buckets + self.parts.capacity() * std::mem::size_of::<HashTable<E>>()
    }
}

/// A member of a big set: its bytes in one allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member(pub Box<[u8]>);

impl Keyed for Member {
    fn key(&self) -> &[u8] {
        &self.0
    }
    fn owned_bytes(&self) -> usize {
        alloc_bytes(self.0.len())
    }
}

#[derive(Clone, Debug)]
enum Repr {
    /// Sorted, distinct integers.
    Ints(Vec<i64>),
    Table(ScanTable<Member>),
}

/// A set value.
#[derive(Clone, Debug)]
pub struct SetValue {
    repr: Repr,
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue {
            repr: Repr::Ints(Vec::new()),
        }
    }
}

impl PartialEq for SetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(&m.to_vec()))
    }
}

/// The integer a member stands for, when its text is exactly the canonical decimal form
/// (so that printing the integer gives the member back byte for byte).
pub fn canonical_int(m: &[u8]) -> Option<i64> {
    let v = crate::resp::parse::parse_i64(m)?;
    let mut b = Vec::with_capacity(20);
    crate::resp::write::push_int(&mut b, v);
    (b == m).then_some(v)
}

fn int_bytes(v: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(20);
    crate::resp::write::push_int(&mut b, v);
    b
}

/// A member as handed out by iteration: borrowed bytes, or an integer printed on the fly.
pub enum MemberRef<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl MemberRef<'_> {
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            MemberRef::Bytes(b) => b.to_vec(),
            MemberRef::Int(v) => int_bytes(*v),
        }
    }
}

impl SetValue {
    /// An empty set (small encoding until a member needs the table).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => alloc_bytes(v.capacity() * 8),
            Repr::Table(t) => t.table_bytes() + t.iter().map(|m| m.owned_bytes()).sum::<usize>(),
        }
    }
    /// As `heap_bytes`, sampling the first `samples` members of a table (MEMORY USAGE).
    pub fn heap_bytes_sampled(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Table(t) if samples < t.len() => {
                let sum: usize = t.iter().take(samples).map(|m| m.owned_bytes()).sum();
                t.table_bytes() + super::scale(sum, samples, t.len())
            }
            _ => self.heap_bytes(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => canonical_int(m).is_some_and(|i| v.binary_search(&i).is_ok()),
            Repr::Table(t) => t.contains(m),
        }
    }

    fn convert_to_table(&mut self) {
        if let Repr::Ints(v) = &self.repr {
            let mut t = ScanTable::new();
            for &i in v {
                t.insert_new(Member(int_bytes(i).into()));
            }
            self.repr = Repr::Table(t);
        }
    }

    /// Adds a member; true when it was new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            if let Some(i) = canonical_int(m) {
                match v.binary_search(&i) {
                    Ok(_) => return false,
                    Err(pos) if v.len() < INTSET_MAX_ENTRIES => {
                        v.insert(pos, i);
                        return true;
                    }
                    Err(_) => {}
                }
            }
            self.convert_to_table();
        }
        let Repr::Table(t) = &mut self.repr else {
            unreachable!("converted above")
        };
        if t.contains(m) {
            return false;
        }
        t.insert_new(Member(m.into()));
        true
    }

    /// Removes a member; true when it was present.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match canonical_int(m).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            Repr::Table(t) => t.remove(m).is_some(),
        }
    }

    /// Every member, in encoding order (ascending for integers).
    pub fn iter(&self) -> Box<dyn Iterator<Item = MemberRef<'_>> + '_> {
        match &self.repr {
            Repr::Ints(v) => Box::new(v.iter().map(|&i| MemberRef::Int(i))),
            Repr::Table(t) => Box::new(t.iter().map(|m| MemberRef::Bytes(&m.0))),
        }
    }

    /// Calls `f` with every member's bytes, in encoding order.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8])) {
        match &self.repr {
            Repr::Ints(v) => v.iter().for_each(|&i| f(&int_bytes(i))),
            Repr::Table(t) => t.iter().for_each(|m| f(&m.0)),
        }
    }

    /// Every member as owned bytes.
    pub fn members(&self) -> Vec<Vec<u8>> {
        self.iter().map(|m| m.to_vec()).collect()
    }

    /// A uniformly random member.
    pub fn random(&self, rand: &mut impl FnMut() -> u64) -> Option<Vec<u8>> {
        match &self.repr {
            Repr::Ints(v) if v.is_empty() => None,
            Repr::Ints(v) => Some(int_bytes(v[(rand() % v.len() as u64) as usize])),
            Repr::Table(t) => t.random(rand).map(|m| m.0.to_vec()),
        }
    }

    /// One SSCAN step: small encodings return everything with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, f: &mut dyn FnMut(&[u8])) -> u64 {
        match &self.repr {
            Repr::Ints(v) => {
                for &i in v {
                    f(&int_bytes(i));
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |m| f(&m.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> impl FnMut() -> u64 {
        let mut x = 0x1234_5678_9abc_def1u64;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn intset_converts_on_text_or_size() {
        // Guards the encoding switch points and canonical-integer detection.
        let mut s = SetValue::new();
        assert!(s.insert(b"3") && s.insert(b"-1") && !s.insert(b"3"));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.members(), vec![b"-1".to_vec(), b"3".to_vec()]);
        assert!(!s.contains(b"+3") && !s.contains(b"03") && s.contains(b"3"));
        s.insert(b"03");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"03") && s.contains(b"3") && s.len() == 3);
        let mut big = SetValue::new();
        for i in 0..INTSET_MAX_ENTRIES {
            big.insert(i.to_string().as_bytes());
        }
        assert_eq!(big.encoding(), "intset");
        big.insert(b"100000");
        assert_eq!(big.encoding(), "hashtable");
        assert_eq!(big.len(), INTSET_MAX_ENTRIES + 1);
    }

    #[test]
    fn scan_table_keeps_guarantee_across_resizes() {
        // Guards the hash-space cursor: survivors are seen exactly once while the table
        // grows and shrinks between calls.
        let mut t: ScanTable<Member> = ScanTable::new();
        for i in 0..5000 {
            t.insert_new(Member(format!("keep{i}").into_bytes().into()));
        }
        let mut seen = std::collections::HashMap::new();
        let mut cursor = 0u64;
        let mut round = 0;
        loop {
            cursor = t.scan(cursor, 10, |m| *seen.entry(m.0.to_vec()).or_insert(0) += 1);
            round += 1;
            // Churn: grow a lot, then shrink, to force splits and merges mid-scan.
            for j in 0..200 {
                let k = format!("tmp{round}_{j}");
                t.insert_new(Member(k.into_bytes().into()));
            }
            if round % 3 == 0 {
                let tmp: Vec<Vec<u8>> = t
                    .iter()
                    .filter(|m| m.0.starts_with(b"tmp"))
                    .map(|m| m.0.to_vec())
                    .collect();
                for k in tmp {
                    t.remove(&k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            let k = format!("keep{i}").into_bytes();
            assert_eq!(seen.get(&k), Some(&1), "{i}");
        }
    }

    #[test]
    fn random_pick_is_roughly_uniform() {
        // Guards the rejection sampling over parts of different sizes.
        let mut t: ScanTable<Member> = ScanTable::new();
        for i in 0..1000 {
            t.insert_new(Member(format!("{i}").into_bytes().into()));
        }
        let mut r = rng();
        let mut hits = std::collections::HashMap::new();
        for _ in 0..100_000 {
            let m = t.random(&mut r).unwrap();
            *hits.entry(m.0.to_vec()).or_insert(0u32) += 1;
        }
        assert_eq!(hits.len(), 1000);
        assert!(hits.values().all(|&n| (40..=170).contains(&n)));
    }
}
