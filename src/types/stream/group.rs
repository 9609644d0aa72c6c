//! Consumer groups of a stream: the group's read position, its pending entries list (PEL,
//! ordered by ID) and its consumers (ordered by name), each consumer with its own ordered set
//! of pending IDs. Pure data structure: no commands, no keyspace, no I/O.

use super::StreamId;
use std::collections::{BTreeMap, BTreeSet};

/// One consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Last ID delivered to the group.
    pub last_id: StreamId,
    /// Logical read counter; -1 when unknown (Redis' SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Pending>,
    consumers: BTreeMap<Box<[u8]>, Consumer>,
}

/// One entry of a group's PEL: who holds it, since when, how often it was delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub consumer: Box<[u8]>,
    pub delivery_time_ms: u64,
    pub delivery_count: u64,
}

/// One consumer of a group.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Last time the consumer was seen (Redis 7.0's seen-time).
    pub seen_time_ms: u64,
    pending: BTreeSet<StreamId>,
}

impl Consumer {
    /// Its pending IDs, ascending.
    pub fn pending(&self) -> impl DoubleEndedIterator<Item = StreamId> + '_ {
        self.pending.iter().copied()
    }
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

/// Approximate bytes of one BTreeMap/BTreeSet slot (keys, values, node overhead amortized).
const BTREE_SLOT_OVERHEAD_BYTES: usize = 16;

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Self {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The PEL, ascending ID.
    pub fn pending(&self) -> impl DoubleEndedIterator<Item = (StreamId, &Pending)> {
        self.pel.iter().map(|(id, p)| (*id, p))
    }

    /// PEL entries with start <= id <= end, ascending (empty when start > end).
    pub fn pending_range(
        &self,
        start: StreamId,
        end: StreamId,
    ) -> impl DoubleEndedIterator<Item = (StreamId, &Pending)> {
        let range = if start <= end {
            Some(self.pel.range(start..=end))
        } else {
            None
        };
        range.into_iter().flatten().map(|(id, p)| (*id, p))
    }

    pub fn pending_len(&self) -> usize {
        self.pel.len()
    }

    pub fn pending_get(&self, id: StreamId) -> Option<&Pending> {
        self.pel.get(&id)
    }

    /// Adds `id` to the PEL of `consumer` (creating the consumer), or moves it there, setting
    /// its delivery time and count. Creating the consumer sets its seen time to the delivery
    /// time.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time_ms: u64,
        delivery_count: u64,
    ) {
        if let Some(old) = self.pel.get(&id) {
            if &*old.consumer != consumer {
                if let Some(c) = self.consumers.get_mut(&old.consumer) {
                    c.pending.remove(&id);
                }
            }
        }
        if !self.consumers.contains_key(consumer) {
            self.consumers.insert(
                consumer.into(),
                Consumer {
                    seen_time_ms: delivery_time_ms,
                    pending: BTreeSet::new(),
                },
            );
        }
        let c = self.consumers.get_mut(consumer).expect("inserted above");
        c.pending.insert(id);
        self.pel.insert(
            id,
            Pending {
                consumer: consumer.into(),
                delivery_time_ms,
                delivery_count,
            },
        );
    }

    /// Removes `id` from the PEL and its consumer; false when it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(p) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&p.consumer) {
            c.pending.remove(&id);
        }
        true
    }

    /// Consumers by name (byte order).
    pub fn consumers(&self) -> impl Iterator<Item = (&[u8], &Consumer)> {
        self.consumers.iter().map(|(n, c)| (&**n, c))
    }

    pub fn consumers_len(&self) -> usize {
        self.consumers.len()
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// The pending IDs of `name`, ascending (empty when there is no such consumer).
    pub fn consumer_pending(&self, name: &[u8]) -> impl Iterator<Item = StreamId> + '_ {
        self.consumers
            .get(name)
            .into_iter()
            .flat_map(|c| c.pending.iter().copied())
    }

    pub fn consumer_pending_len(&self, name: &[u8]) -> usize {
        self.consumers.get(name).map_or(0, |c| c.pending.len())
    }

    /// Creates a consumer seen at `now_ms`; false when it exists.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.into(),
            Consumer {
                seen_time_ms: now_ms,
                pending: BTreeSet::new(),
            },
        );
        true
    }

    /// Marks `name` as seen at `now_ms`, creating it if missing.
    pub fn touch_consumer(&mut self, name: &[u8], now_ms: u64) {
        match self.consumers.get_mut(name) {
            Some(c) => c.seen_time_ms = now_ms,
            None => {
                self.create_consumer(name, now_ms);
            }
        }
    }

    /// Deletes a consumer and its pending entries; the number of pending entries dropped, or
    /// None when there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pending {
            self.pel.remove(id);
        }
        Some(c.pending.len())
    }

    /// Sets a consumer's seen time as loaded from a snapshot (creating it if missing).
    pub fn set_consumer_seen(&mut self, name: &[u8], seen_time_ms: u64) {
        self.touch_consumer(name, seen_time_ms);
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        let pel = self.pel.len()
            * (std::mem::size_of::<StreamId>()
                + std::mem::size_of::<Pending>()
                + BTREE_SLOT_OVERHEAD_BYTES);
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(n, c)| {
                n.len()
                    + std::mem::size_of::<Consumer>()
                    + BTREE_SLOT_OVERHEAD_BYTES
                    + c.pending.len()
                        * (std::mem::size_of::<StreamId>() + BTREE_SLOT_OVERHEAD_BYTES)
            })
            .sum();
        let names: usize = self.pel.values().map(|p| p.consumer.len()).sum();
        pel + consumers + names
    }
}
