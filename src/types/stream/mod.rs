//! The stream value type: entries (an ID and field/value pairs) in ID order, the stream's
//! metadata (last ID, entries added, max deleted ID, first ID) and its consumer groups.
//! Pure: no commands, no keyspace, no I/O; the commands live in `commands::stream`.

pub mod entry;
pub mod group;
pub mod index;
pub mod node;
pub mod rax;

pub use entry::Entry;
// The commands (commands::stream) name these through this module.
#[allow(unused_imports)]
pub use group::{Consumer, Group, Pending};

use crate::resp::write::push_u64;
use entry::{entry, int_texts, IntTexts};
use index::NodeIndex;
use node::{Master, Raw};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID (sequence +1, carrying into ms); None at MAX.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => Some(StreamId {
                ms: self.ms.checked_add(1)?,
                seq: 0,
            }),
        }
    }

    /// The previous ID; None at MIN.
    pub fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => Some(StreamId {
                ms: self.ms.checked_sub(1)?,
                seq: u64::MAX,
            }),
        }
    }

    /// Appends "ms-seq".
    pub fn write(self, out: &mut Vec<u8>) {
        push_u64(out, self.ms);
        out.push(b'-');
        push_u64(out, self.seq);
    }

    /// The 16-byte big-endian form Redis uses as the radix-tree key (and in RDB files).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    pub fn from_be_bytes(k: [u8; 16]) -> Self {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&k[..8]);
        seq.copy_from_slice(&k[8..]);
        StreamId {
            ms: u64::from_be_bytes(ms),
            seq: u64::from_be_bytes(seq),
        }
    }
}

/// How XADD/XTRIM trim: keep at most N entries, or drop entries below an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// Approximate bytes a BTreeMap spends per element beyond key and value.
const BTREE_SLOT_OVERHEAD_BYTES: usize = 16;

/// A stream.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamValue {
    /// Nodes by master ID, each a listpack in Redis' stream node layout.
    nodes: NodeIndex,
    length: u64,
    last_id: StreamId,
    /// First live entry, 0-0 when empty (kept as Redis keeps it).
    first_id: StreamId,
    max_deleted_id: StreamId,
    entries_added: u64,
    groups: BTreeMap<Box<[u8]>, Group>,
}

impl StreamValue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last ID ever generated (XADD/XSETID).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The first live entry's ID.
    pub fn first_id(&self) -> Option<StreamId> {
        (self.length > 0).then_some(self.first_id)
    }

    /// The last live entry's ID.
    pub fn last_entry_id(&self) -> Option<StreamId> {
        let mut found = None;
        self.range(StreamId::MIN, StreamId::MAX, true, |e| {
            found = Some(e.id);
            false
        });
        found
    }

    pub fn max_deleted_id(&self) -> StreamId {
        self.max_deleted_id
    }

    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// Number of nodes (radix tree keys in Redis).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// XINFO STREAM's `radix-tree-nodes`: the node count of Redis' radix tree over the same
    /// master IDs.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.iter().map(|(k, _)| k.to_be_bytes()).collect();
        rax::node_count(&keys)
    }

    /// XSETID and snapshot loading.
    pub fn set_meta(&mut self, last_id: StreamId, entries_added: u64, max_deleted_id: StreamId) {
        self.last_id = last_id;
        self.entries_added = entries_added;
        self.max_deleted_id = max_deleted_id;
    }

    /// Appends one entry; the caller guarantees `id > last_id`. Updates last ID and entries
    /// added. `node_max_bytes` / `node_max_entries`: stream-node-max-bytes / -entries (0 = no
    /// limit), deciding when a new node starts exactly as Redis 7.0 decides it.
    pub fn append(
        &mut self,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
        node_max_bytes: usize,
        node_max_entries: usize,
    ) {
        let max_bytes = if node_max_bytes == 0 || node_max_bytes > node::NODE_MAX_BYTES_CAP {
            node::NODE_MAX_BYTES_CAP
        } else {
            node_max_bytes
        };
        let total = node::fields_bytes(fields);
        let mut appended = false;
        if let Some((master_id, buf)) = self.nodes.last_mut() {
            match node::master(buf) {
                Some(m)
                    if buf.len() + total < max_bytes
                        && (node_max_entries == 0
                            || m.live + m.deleted < node_max_entries as u64) =>
                {
                    node::push(buf, &m, master_id, id, fields);
                    appended = true;
                }
                // Full: it keeps exactly its bytes from now on, as Redis shrinks it.
                _ => buf.shrink_to_fit(),
            }
        }
        if !appended {
            self.nodes
                .push_back(id, node::create(id, fields, node_max_bytes));
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Entries with start <= id <= end, ascending (descending when `rev`), until `f` says
    /// false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(Entry<'_>) -> bool,
    ) {
        if start > end || self.length == 0 {
            return;
        }
        let mut scratch = IntTexts::new();
        if !rev {
            let from = self.nodes.floor(start).unwrap_or(0);
            for (mid, buf) in self.nodes.iter_from(from) {
                if mid > end {
                    return;
                }
                let Some(m) = node::master(buf) else { continue };
                let mut p = m.first_entry_pos;
                while let Some(r) = node::entry_at(buf, &m, mid, p) {
                    p = r.next;
                    if r.id > end {
                        return;
                    }
                    if r.deleted() || r.id < start {
                        continue;
                    }
                    int_texts(buf, &m, &r, &mut scratch);
                    if !f(entry(buf, &m, &r, Cow::Borrowed(scratch.as_slice()))) {
                        return;
                    }
                }
            }
        } else {
            for (mid, buf) in self.nodes.iter_to(self.nodes.count_upto(end)).rev() {
                let Some(m) = node::master(buf) else { continue };
                let mut p = node::end_pos(buf);
                while let Some(r) = node::entry_before(buf, &m, mid, p) {
                    p = r.start;
                    if r.id < start {
                        return;
                    }
                    if r.deleted() || r.id > end {
                        continue;
                    }
                    int_texts(buf, &m, &r, &mut scratch);
                    if !f(entry(buf, &m, &r, Cow::Borrowed(scratch.as_slice()))) {
                        return;
                    }
                }
            }
        }
    }

    /// The position of the node holding `id` (if any), the node and the entry's layout,
    /// deleted or not.
    fn locate(&self, id: StreamId) -> Option<(usize, &Vec<u8>, Master, Raw)> {
        let pos = self.nodes.floor(id)?;
        let (mid, buf) = self.nodes.get(pos)?;
        let m = node::master(buf)?;
        let mut p = m.first_entry_pos;
        while let Some(r) = node::entry_at(buf, &m, mid, p) {
            if r.id == id {
                return Some((pos, buf, m, r));
            }
            if r.id > id {
                return None;
            }
            p = r.next;
        }
        None
    }

    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        let (_, buf, m, r) = self.locate(id)?;
        if r.deleted() {
            return None;
        }
        let mut ints = IntTexts::new();
        int_texts(buf, &m, &r, &mut ints);
        let ints = match ints.as_slice() {
            [] => Cow::Borrowed(&[][..]),
            t => Cow::Owned(t.to_vec()),
        };
        Some(entry(buf, &m, &r, ints))
    }

    /// Deletes one entry (XDEL): true when it was live. Marks it deleted inside its node (the
    /// node goes when its last live entry does), raises the max deleted ID and moves the first
    /// ID as Redis does.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((pos, _, m, r)) = self.locate(id) else {
            return false;
        };
        if r.deleted() {
            return false;
        }
        if m.live == 1 {
            self.nodes.remove(pos);
        } else if let Some((_, buf)) = self.nodes.get_mut(pos) {
            node::mark_deleted(buf, &r);
            node::set_counts(buf, m.live - 1, m.deleted + 1);
        }
        self.length -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.first_live().unwrap_or(StreamId::MIN);
        }
        true
    }

    fn first_live(&self) -> Option<StreamId> {
        let mut found = None;
        self.range(StreamId::MIN, StreamId::MAX, false, |e| {
            found = Some(e.id);
            false
        });
        found
    }

    /// XTRIM / XADD trimming, Redis 7.0's streamTrim step for step: whole nodes go from the
    /// head while they fit the target (and `limit`, None or 0 = none, allows); then `approx`
    /// stops, and otherwise entries of the next node are marked deleted up to the target.
    /// Returns the entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: Option<u64>) -> u64 {
        let limit = limit.unwrap_or(0);
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(n) = how {
                if self.length <= n {
                    break;
                }
            }
            let Some((mid, first)) = self.nodes.first() else {
                break;
            };
            let Some(m) = node::master(first) else {
                break;
            };
            let entries = m.live;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove = match how {
                Trim::MaxLen(n) => self.length.saturating_sub(entries) >= n,
                Trim::MinId(min) => node::last_entry(first, mid).is_some_and(|r| r.id < min),
            };
            if remove {
                self.nodes.pop_front();
                self.length = self.length.saturating_sub(entries);
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let Some((_, buf)) = self.nodes.get_mut(0) else {
                break;
            };
            let mut from_node = 0u64;
            let mut p = m.first_entry_pos;
            while let Some(r) = node::entry_at(buf, &m, mid, p) {
                let stop = match how {
                    Trim::MaxLen(n) => self.length <= n,
                    Trim::MinId(min) => r.id >= min,
                };
                if stop {
                    break;
                }
                if !r.deleted() {
                    node::mark_deleted(buf, &r);
                    from_node += 1;
                    self.length -= 1;
                }
                p = r.next;
            }
            node::set_counts(buf, entries - from_node, m.deleted + from_node);
            deleted += from_node;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else {
            self.first_id = self.first_live().unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// Groups by name (byte order).
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &Group)> {
        self.groups.iter().map(|(n, g)| (&**n, g))
    }

    pub fn groups_len(&self) -> usize {
        self.groups.len()
    }

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// Creates a group; false when it exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Heap bytes: every node's allocation (a full node's is exact once shrunk), the index's
    /// slots (its whole capacity), the groups.
    pub fn heap_bytes(&self) -> usize {
        let nodes: usize = self.nodes.iter().map(|(_, b)| b.capacity()).sum();
        nodes + self.nodes.own_heap_bytes() + self.groups_bytes()
    }

    /// MEMORY USAGE's estimate: the first `samples` nodes averaged over all but the tail node,
    /// plus the tail node's real size, plus the groups (as Redis' objectComputeSize).
    pub fn heap_bytes_sampled(&self, samples: usize) -> usize {
        let n = self.nodes.len();
        let seen: Vec<usize> = self
            .nodes
            .iter()
            .take(samples.max(1))
            .map(|(_, b)| b.capacity())
            .collect();
        let nodes = if n <= seen.len() {
            seen.iter().sum::<usize>()
        } else {
            let avg = seen.iter().sum::<usize>() / seen.len().max(1);
            avg * (n - 1) + self.nodes.last().map_or(0, |(_, b)| b.capacity())
        };
        nodes + self.nodes.own_heap_bytes() + self.groups_bytes()
    }

    fn groups_bytes(&self) -> usize {
        self.groups
            .iter()
            .map(|(n, g)| {
                n.len() + std::mem::size_of::<Group>() + BTREE_SLOT_OVERHEAD_BYTES + g.heap_bytes()
            })
            .sum()
    }

    /// Redis' free effort: its radix tree's node count plus the groups times (1 + the first
    /// group's PEL). Past `LAZYFREE_THRESHOLD` keys the tree has more nodes than that anyway, so
    /// the key count stands in for it there (the answer "more than the threshold" is the same).
    pub fn free_effort(&self) -> usize {
        let pel = self.groups.values().next().map_or(0, |g| g.pending_len());
        let tree = if self.nodes.len() > crate::constants::LAZYFREE_THRESHOLD {
            self.nodes.len()
        } else {
            self.radix_tree_nodes()
        };
        tree + self.groups.len() * (1 + pel)
    }

    /// Whether the range (start, or 0-0, to end, or MAX) may contain a deleted entry, as
    /// Redis' streamRangeHasTombstones judges it from the max deleted ID.
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id` (Redis' streamEstimateDistanceFromFirstEverEntry);
    /// None when it cannot be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added.saturating_sub(self.length));
            }
            if id == self.first_id {
                return Some(self.entries_added.saturating_sub(self.length) + 1);
            }
        }
        None
    }

    /// A group's lag (XINFO), None when it cannot be known (Redis' streamReplyWithCGLag).
    pub fn group_lag(&self, g: &Group) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read >= 0 && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added.saturating_sub(g.entries_read as u64));
        }
        self.estimate_entries_read(g.last_id)
            .map(|read| self.entries_added.saturating_sub(read))
    }

    // --- Snapshot access (DUMP/RESTORE) ---------------------------------------------------

    /// The nodes as (master ID, listpack bytes), ascending: what an RDB payload carries.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter().map(|(k, v)| (k, v.as_slice()))
    }

    /// The first ID as Redis stores it (0-0 when empty).
    pub fn first_id_raw(&self) -> StreamId {
        self.first_id
    }

    /// Rebuilds a stream from snapshot parts, checking every node; None when anything is
    /// inconsistent (bad node, IDs out of order, counts that disagree, entries above the last
    /// ID). `first_id` None: compute it (older payloads do not carry it).
    pub fn from_parts(
        nodes: Vec<(StreamId, Vec<u8>)>,
        length: u64,
        last_id: StreamId,
        first_id: Option<StreamId>,
        max_deleted_id: StreamId,
        entries_added: u64,
    ) -> Option<Self> {
        let mut map = NodeIndex::new();
        let mut live = 0u64;
        let mut prev_last: Option<StreamId> = None;
        for (mid, buf) in nodes {
            if prev_last.is_some_and(|p| mid <= p) {
                return None;
            }
            let (n, last) = node::validate(&buf, mid)?;
            live = live.checked_add(n)?;
            prev_last = Some(last);
            map.push_back(mid, buf);
        }
        if live != length || prev_last.is_some_and(|l| l > last_id) {
            return None;
        }
        let mut s = StreamValue {
            nodes: map,
            length,
            last_id,
            first_id: StreamId::MIN,
            max_deleted_id,
            entries_added,
            groups: BTreeMap::new(),
        };
        s.first_id = match first_id {
            Some(f) => f,
            None => s.first_live().unwrap_or(StreamId::MIN),
        };
        Some(s)
    }

    /// Adds a loaded group; false when the name is taken.
    pub fn insert_group(&mut self, name: &[u8], g: Group) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups.insert(name.into(), g);
        true
    }
}

#[cfg(test)]
mod tests;
