//! Pub/Sub state. Each shard keeps the subscriptions of its own clients (delivery is local to
//! the connection's core); the process-wide index (in `Global`) counts subscribers per channel,
//! pattern and shard channel per shard, so PUBLISH/SPUBLISH know their receiver count and which
//! shards to wake. Also the two edges this state has with the cluster: shard channels dropped
//! when a slot is lost, and messages arriving from other nodes over the bus.

use crate::cluster::hash_slot::key_hash_slot;
use crate::cluster::slot_map::SlotMap;
use crate::global::Global;
use crate::shard::Shard;
use hashbrown::{HashMap, HashSet};
use std::sync::Arc;

// The kinds and the process-wide index live with the process-wide state (`Global.pubsub`).
pub use crate::global::pubsub::SubKind;

/// One message published by a client of this shard, waiting for the end of the turn.
pub struct Outgoing {
    /// SPUBLISH (shard channel subscribers only) rather than PUBLISH.
    pub sharded: bool,
    /// A keyspace notification: for this node's subscribers only, never the cluster bus.
    pub node_local: bool,
    pub channel: Vec<u8>,
    pub message: Vec<u8>,
}

/// Subscriptions of one shard's clients, by client index.
#[derive(Default)]
pub struct ShardSubs {
    pub channels: HashMap<Vec<u8>, HashSet<usize>>,
    pub patterns: HashMap<Vec<u8>, HashSet<usize>>,
    pub shard_channels: HashMap<Vec<u8>, HashSet<usize>>,
    /// Messages published by this shard's clients this turn, in order.
    pub outgoing: Vec<Outgoing>,
}

impl ShardSubs {
    pub fn map_mut(&mut self, kind: SubKind) -> &mut HashMap<Vec<u8>, HashSet<usize>> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard_channels,
        }
    }
}

/// True when `slot` is served by this node in `map`: owned here, or owned by our master (a
/// replica keeps shard channel subscribers of its master's slots).
fn served_here(map: &SlotMap, slot: u16) -> bool {
    if !map.cluster_enabled {
        return true;
    }
    let owner = map.owner_of(slot);
    owner != crate::cluster::slot_map::NO_NODE
        && (owner == map.myself || (map.myself_is_replica && owner == map.master))
}

/// A new slot map is being installed: every client of this shard subscribed to a shard
/// channel whose slot `new` does not serve here must be unsubscribed. Returns that work, as
/// (client index, channel) pairs in the order Redis sends the `sunsubscribe` frames (channels
/// sorted, then clients); the caller drops each subscription and tells the client.
/// It compares with the subscriptions, not with the previous map, because the shard that ran
/// a CLUSTER command may have installed `new` already before the mesh delivers it.
pub fn lost_on_slot_map(sh: &Shard, new: &SlotMap) -> Vec<(usize, Vec<u8>)> {
    if !new.cluster_enabled || sh.subs.shard_channels.is_empty() {
        return Vec::new();
    }
    let mut lost: Vec<Vec<u8>> = sh
        .subs
        .shard_channels
        .keys()
        .filter(|c| !served_here(new, key_hash_slot(c)))
        .cloned()
        .collect();
    lost.sort_unstable();
    let mut work = Vec::new();
    for channel in lost {
        let mut clients: Vec<usize> = sh
            .subs
            .shard_channels
            .get(&channel)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        clients.sort_unstable();
        work.extend(clients.into_iter().map(|client| (client, channel.clone())));
    }
    work
}

/// Shards of this process with receivers for a message, and how many receivers in all.
pub fn receiving_shards(global: &Global, sharded: bool, channel: &[u8]) -> (Vec<usize>, u64) {
    let per = {
        let idx = global.pubsub.read().unwrap_or_else(|e| e.into_inner());
        idx.receivers_of(sharded, channel, global.shards)
    };
    let total = per.iter().map(|&n| n as u64).sum();
    let ids = per
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(i, _)| i)
        .collect();
    (ids, total)
}

/// Called by the cluster bus (not a shard thread) for a PUBLISH (`sharded` false) or
/// PUBLISHSHARD message from another node: hands the message to every core of this process
/// that has receivers, through the sink the server installed. Returns the local receiver count.
/// Nothing is sent back to the bus: the message came from it.
pub fn deliver_from_bus(global: &Global, sharded: bool, channel: &[u8], message: &[u8]) -> u64 {
    let (ids, total) = receiving_shards(global, sharded, channel);
    if ids.is_empty() {
        return 0;
    }
    let Some(sink) = global.publish_sink.get() else {
        return 0;
    };
    let shared = Arc::new((channel.to_vec(), message.to_vec()));
    for id in ids {
        sink(id, sharded, shared.clone());
    }
    total
}
