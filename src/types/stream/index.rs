//! A stream's node index: its nodes (listpacks) in ascending master-ID order, kept in one
//! double-ended array. Entries only ever arrive above the last ID, so a new node always goes at
//! the tail and trimming takes nodes from the head, both O(1); a lookup is a binary search, and
//! removing a node from the middle (its last live entry deleted) moves the shorter side. Packed
//! slots cost 40 bytes per node where an ordered map's half-full leaves cost about twice that;
//! the array grows by a share of its length rather than doubling, so few slots sit unused.

use super::StreamId;
use crate::constants::{
    STREAM_INDEX_GROWTH_DIVISOR, STREAM_INDEX_MIN_GROWTH, STREAM_INDEX_SHRINK_FACTOR,
};
use std::collections::VecDeque;

/// Nodes by master ID, ascending.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeIndex {
    slots: VecDeque<(StreamId, Vec<u8>)>,
}

impl NodeIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Appends a node; the caller guarantees `mid` is above every master ID held.
    pub fn push_back(&mut self, mid: StreamId, buf: Vec<u8>) {
        debug_assert!(self.slots.back().is_none_or(|(k, _)| *k < mid));
        if self.slots.len() == self.slots.capacity() {
            let more =
                (self.slots.len() / STREAM_INDEX_GROWTH_DIVISOR).max(STREAM_INDEX_MIN_GROWTH);
            self.slots.reserve_exact(more);
        }
        self.slots.push_back((mid, buf));
    }

    /// The position of the last node whose master ID is <= `id` (the node that would hold it).
    pub fn floor(&self, id: StreamId) -> Option<usize> {
        self.slots.partition_point(|(k, _)| *k <= id).checked_sub(1)
    }

    /// The number of nodes whose master ID is <= `id`.
    pub fn count_upto(&self, id: StreamId) -> usize {
        self.slots.partition_point(|(k, _)| *k <= id)
    }

    pub fn get(&self, pos: usize) -> Option<(StreamId, &Vec<u8>)> {
        self.slots.get(pos).map(|(k, b)| (*k, b))
    }

    pub fn get_mut(&mut self, pos: usize) -> Option<(StreamId, &mut Vec<u8>)> {
        self.slots.get_mut(pos).map(|(k, b)| (*k, b))
    }

    pub fn first(&self) -> Option<(StreamId, &Vec<u8>)> {
        self.get(0)
    }

    pub fn last_mut(&mut self) -> Option<(StreamId, &mut Vec<u8>)> {
        self.slots.back_mut().map(|(k, b)| (*k, b))
    }

    pub fn last(&self) -> Option<(StreamId, &Vec<u8>)> {
        self.slots.back().map(|(k, b)| (*k, b))
    }

    /// Removes the node at `pos` (a middle one moves its shorter side by one slot).
    pub fn remove(&mut self, pos: usize) {
        self.slots.remove(pos);
        self.give_back();
    }

    pub fn pop_front(&mut self) {
        self.slots.pop_front();
        self.give_back();
    }

    /// Frees spare slots once most of the capacity is unused (a stream trimmed or deleted
    /// down), keeping a growth step of room.
    fn give_back(&mut self) {
        let len = self.slots.len();
        if self.slots.capacity() > STREAM_INDEX_MIN_GROWTH
            && self.slots.capacity() / STREAM_INDEX_SHRINK_FACTOR > len
        {
            self.slots
                .shrink_to(len + (len / STREAM_INDEX_GROWTH_DIVISOR).max(STREAM_INDEX_MIN_GROWTH));
        }
    }

    /// Nodes from position `pos` on, ascending.
    pub fn iter_from(&self, pos: usize) -> impl DoubleEndedIterator<Item = (StreamId, &Vec<u8>)> {
        self.slots
            .range(pos.min(self.slots.len())..)
            .map(|(k, b)| (*k, b))
    }

    /// The first `n` nodes (ascending; `.rev()` walks them back from the last).
    pub fn iter_to(&self, n: usize) -> impl DoubleEndedIterator<Item = (StreamId, &Vec<u8>)> {
        self.slots
            .range(..n.min(self.slots.len()))
            .map(|(k, b)| (*k, b))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (StreamId, &Vec<u8>)> {
        self.slots.iter().map(|(k, b)| (*k, b))
    }

    /// The index's own heap bytes: every slot it has room for, used or not (nodes excluded).
    pub fn own_heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(StreamId, Vec<u8>)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    #[test]
    fn lookups_walks_and_removals_keep_the_order() {
        let mut x = NodeIndex::new();
        assert_eq!(x.floor(id(5)), None);
        for ms in (10..=100).step_by(10) {
            x.push_back(id(ms), vec![ms as u8]);
        }
        assert_eq!(x.floor(id(9)), None);
        assert_eq!(x.floor(id(10)), Some(0));
        assert_eq!(x.floor(id(55)), Some(4));
        assert_eq!(x.floor(StreamId::MAX), Some(9));
        assert_eq!(x.count_upto(id(55)), 5);
        let back: Vec<u64> = x
            .iter_to(x.count_upto(id(35)))
            .rev()
            .map(|(k, _)| k.ms)
            .collect();
        assert_eq!(back, [30, 20, 10]);
        let fwd: Vec<u64> = x.iter_from(7).map(|(k, _)| k.ms).collect();
        assert_eq!(fwd, [80, 90, 100]);
        assert_eq!(x.iter_from(20).count(), 0);
        x.remove(4);
        x.pop_front();
        let all: Vec<u64> = x.iter().map(|(k, _)| k.ms).collect();
        assert_eq!(all, [20, 30, 40, 60, 70, 80, 90, 100]);
        assert_eq!(x.first().map(|(k, _)| k.ms), Some(20));
        assert_eq!(x.last().map(|(k, b)| (k.ms, b[0])), Some((100, 100)));
        if let Some((_, b)) = x.last_mut() {
            b.push(1);
        }
        assert_eq!(x.get(x.len() - 1).map(|(_, b)| b.len()), Some(2));
    }

    #[test]
    fn spare_slots_stay_a_small_share_and_are_given_back() {
        let slot = std::mem::size_of::<(StreamId, Vec<u8>)>();
        let mut x = NodeIndex::new();
        for ms in 1..=10_000 {
            x.push_back(id(ms), Vec::new());
            let spare = x.own_heap_bytes() / slot - x.len();
            assert!(spare <= (x.len() / STREAM_INDEX_GROWTH_DIVISOR).max(STREAM_INDEX_MIN_GROWTH));
        }
        while x.len() > 10 {
            x.pop_front();
        }
        assert!(x.own_heap_bytes() / slot < STREAM_INDEX_SHRINK_FACTOR * (10 + 1));
    }
}
