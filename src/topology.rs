//! The only slot -> shard mapping: a shard owns the slots where `slot % shards == id`.

pub type ShardId = usize;

/// The shard (core) that owns `slot` when the node runs `shards` shard executors.
#[inline]
pub fn shard_of(slot: u16, shards: usize) -> ShardId {
    slot as usize % shards
}

/// Index of `slot` inside its shard's per-slot tables.
#[inline]
pub fn local_index(slot: u16, shards: usize) -> usize {
    slot as usize / shards
}

/// How many slots shard `id` owns out of 16384.
pub fn local_slot_count(id: ShardId, shards: usize) -> usize {
    (crate::constants::SLOT_COUNT - id).div_ceil(shards)
}

/// The slot at local index `idx` of shard `id`.
#[inline]
pub fn slot_at(id: ShardId, shards: usize, idx: usize) -> u16 {
    (idx * shards + id) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_one_shard_and_index() {
        for shards in 1..6 {
            let total: usize = (0..shards).map(|id| local_slot_count(id, shards)).sum();
            assert_eq!(total, 16384);
            for slot in 0..16384u16 {
                let id = shard_of(slot, shards);
                let idx = local_index(slot, shards);
                assert!(idx < local_slot_count(id, shards));
                assert_eq!(slot_at(id, shards, idx), slot);
            }
        }
    }
}
