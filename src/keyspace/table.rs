//! One slot's hash table: open addressing with linear probing over one word per bucket (an
//! `Option<Entry>`, a tagged pointer to the key's block) and nothing else, so 128 buckets are
//! exactly 1 KiB. The tag is the low 16 bits of the key's hash: a probe compares tags before it
//! reads a block, and a key's home bucket follows from its tag alone while the table has at
//! most 2^16 buckets, so deletion (backward shift, no tombstones) reads no blocks either.
//! Safe code: the unsafe part is `entry`.

use super::entry::Entry;

/// Buckets of a table's first allocation.
const MIN_BUCKETS: usize = 4;
/// Most buckets for which the tag holds every index bit of the hash.
const TAG_BUCKETS_MAX: usize = 1 << 16;

#[derive(Default)]
pub struct SlotTable {
    /// Power-of-two length (or empty); at most 3/4 full, so every probe run ends.
    buckets: Box<[Option<Entry>]>,
    len: usize,
}

fn tag_of(h: u64) -> u16 {
    h as u16
}

impl SlotTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the bucket array as requested from the allocator (0 when none is allocated).
    pub fn allocation_size(&self) -> usize {
        std::mem::size_of_val(&*self.buckets)
    }

    /// Buckets allocated (each one word).
    #[cfg(test)]
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// Bucket index of the entry matching `h` and `eq`.
    fn find_index(&self, h: u64, mut eq: impl FnMut(&Entry) -> bool) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let (mask, tag) = (self.mask(), tag_of(h));
        let mut i = h as usize & mask;
        loop {
            let e = self.buckets[i].as_ref()?;
            if e.tag() == tag && eq(e) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Prefetch hint for `h`'s home bucket (`net::prefetch`).
    pub fn prefetch_home(&self, h: u64) {
        if !self.buckets.is_empty() {
            crate::keyspace::prefetch::hint(
                &self.buckets[h as usize & self.mask()] as *const _ as *const u8,
            );
        }
    }

    /// Prefetch hint for the block of the first entry in `h`'s probe run whose tag matches
    /// (reads buckets only, never blocks).
    pub fn prefetch_block(&self, h: u64) {
        if self.buckets.is_empty() {
            return;
        }
        let (mask, tag) = (self.mask(), tag_of(h));
        let mut i = h as usize & mask;
        while let Some(e) = self.buckets[i].as_ref() {
            if e.tag() == tag {
                crate::keyspace::prefetch::hint(e.block_addr());
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The first entry at or after bucket `i` (modulo the size, wrapping): eviction's random
    /// sample (at most 3/4 of the buckets are full, so the scan is short).
    pub fn entry_from(&self, i: usize) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        (0..self.buckets.len()).find_map(|k| self.buckets[(i + k) & mask].as_ref())
    }

    pub fn find(&self, h: u64, eq: impl FnMut(&Entry) -> bool) -> Option<&Entry> {
        let i = self.find_index(h, eq)?;
        self.buckets[i].as_ref()
    }

    pub fn find_mut(&mut self, h: u64, eq: impl FnMut(&Entry) -> bool) -> Option<&mut Entry> {
        let i = self.find_index(h, eq)?;
        self.buckets[i].as_mut()
    }

    /// Adds an entry whose key is not in the table. `rehash` gives any entry's full hash; it is
    /// called only when the table grows.
    pub fn insert_unique(&mut self, h: u64, mut e: Entry, rehash: impl Fn(&Entry) -> u64) {
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            self.grow(rehash);
        }
        e.set_tag(tag_of(h));
        self.place(h, e);
        self.len += 1;
    }

    fn place(&mut self, h: u64, e: Entry) {
        let mask = self.mask();
        let mut i = h as usize & mask;
        while self.buckets[i].is_some() {
            i = (i + 1) & mask;
        }
        self.buckets[i] = Some(e);
    }

    fn grow(&mut self, rehash: impl Fn(&Entry) -> u64) {
        let n = (self.buckets.len() * 2).max(MIN_BUCKETS);
        let old = std::mem::replace(&mut self.buckets, (0..n).map(|_| None).collect());
        for e in Vec::from(old).into_iter().flatten() {
            let h = rehash(&e);
            self.place(h, e);
        }
    }

    /// The home bucket of the entry in bucket `i`.
    fn home(&self, e: &Entry, rehash: &impl Fn(&Entry) -> u64) -> usize {
        if self.buckets.len() <= TAG_BUCKETS_MAX {
            e.tag() as usize & self.mask()
        } else {
            rehash(e) as usize & self.mask()
        }
    }

    /// Removes and returns the entry matching `h` and `eq`.
    pub fn remove(
        &mut self,
        h: u64,
        eq: impl FnMut(&Entry) -> bool,
        rehash: impl Fn(&Entry) -> u64,
    ) -> Option<Entry> {
        let i = self.find_index(h, eq)?;
        Some(self.remove_at(i, rehash))
    }

    /// Empties bucket `i` and moves later entries of its probe run back, so lookups never
    /// need tombstones.
    fn remove_at(&mut self, i: usize, rehash: impl Fn(&Entry) -> u64) -> Entry {
        let mask = self.mask();
        let Some(out) = self.buckets[i].take() else {
            panic!("remove_at on an empty bucket");
        };
        self.len -= 1;
        let (mut hole, mut j) = (i, (i + 1) & mask);
        while let Some(e) = self.buckets[j].as_ref() {
            let home = self.home(e, &rehash);
            // The entry may fill the hole unless its home lies cyclically in (hole, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.buckets[hole] = self.buckets[j].take();
                hole = j;
            }
            j = (j + 1) & mask;
        }
        out
    }

    /// Every entry, in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.buckets.iter().flatten()
    }

    /// Takes every entry out, leaving the table empty (and unallocated).
    pub fn drain(&mut self) -> impl Iterator<Item = Entry> {
        self.len = 0;
        Vec::from(std::mem::take(&mut self.buckets))
            .into_iter()
            .flatten()
    }
}

impl std::fmt::Debug for SlotTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotTable")
            .field("len", &self.len)
            .field("buckets", &self.buckets.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The keyspace's hash with one fixed seed (each builder instance picks its own).
    fn good(k: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        static SEED: std::sync::OnceLock<hashbrown::DefaultHashBuilder> =
            std::sync::OnceLock::new();
        SEED.get_or_init(Default::default).hash_one(k)
    }

    /// A deliberately weak hash, so probe runs collide and wrap around.
    fn weak(k: &[u8]) -> u64 {
        k.iter()
            .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(b as u64))
            & 0x3f
    }

    fn run(hash: fn(&[u8]) -> u64, n: u32) {
        let rehash = |e: &Entry| hash(e.key());
        let mut t = SlotTable::new();
        let mut model: HashMap<Vec<u8>, u32> = HashMap::new();
        for i in 0..n {
            let k = format!("k{}", (i * 7919) % (n / 2 + 1)).into_bytes();
            let h = hash(&k);
            if i % 3 == 2 {
                let got = t.remove(h, |e| e.key() == k, rehash).map(|e| e.lru());
                assert_eq!(got, model.remove(&k));
            } else if let Some(e) = t.find_mut(h, |e| e.key() == k) {
                e.set_lru(i);
                model.insert(k, i);
            } else {
                t.insert_unique(h, Entry::new_str(&k, b"v", 0, i), rehash);
                model.insert(k, i);
            }
            assert_eq!(t.len(), model.len());
        }
        for (k, &lru) in &model {
            assert_eq!(
                t.find(hash(k), |e| e.key() == k).map(|e| e.lru()),
                Some(lru)
            );
        }
        assert_eq!(t.iter().count(), model.len());
        assert!(t.len() * 4 <= t.bucket_count() * 3);
        let drained = t.drain().count();
        assert_eq!((drained, t.len(), t.bucket_count()), (model.len(), 0, 0));
    }

    #[test]
    fn matches_a_model_under_churn() {
        // Guards probing, growth and backward-shift deletion against a HashMap, with a good
        // hash and with one that piles every key into 64 homes (long, wrapping probe runs).
        run(good, 20_000);
        run(weak, 3_000);
    }

    #[test]
    fn big_tables_find_homes_by_rehashing() {
        // Guards deletion in tables past 2^16 buckets, where the tag no longer holds the home.
        let h = good;
        let mut t = SlotTable::new();
        let n = 70_000u32;
        for i in 0..n {
            let k = i.to_be_bytes();
            t.insert_unique(h(&k), Entry::new_str(&k, b"", 0, i), |e| h(e.key()));
        }
        assert!(t.bucket_count() > TAG_BUCKETS_MAX);
        for i in (0..n).step_by(2) {
            let k = i.to_be_bytes();
            assert!(t.remove(h(&k), |e| e.key() == k, |e| h(e.key())).is_some());
        }
        for i in 0..n {
            let k = i.to_be_bytes();
            assert_eq!(t.find(h(&k), |e| e.key() == k).is_some(), i % 2 == 1);
        }
    }

    #[test]
    fn empty_table_allocates_nothing_and_finds_nothing() {
        // Guards the 16384 empty tables of a shard: no buckets until the first key.
        let t = SlotTable::new();
        assert_eq!(t.bucket_count(), 0);
        assert!(t.find(1, |_| true).is_none());
        assert_eq!(std::mem::size_of::<SlotTable>(), 24);
    }
}
