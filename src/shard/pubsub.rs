//! Pub/Sub state. Each shard keeps the subscriptions of its own clients (delivery is local to
//! the connection's core); the process-wide index (in `Global`) counts subscribers per channel
//! and pattern per shard, so PUBLISH knows its receiver count and which shards to wake.

use hashbrown::{HashMap, HashSet};

/// Subscriptions of one shard's clients, by client index.
#[derive(Default)]
pub struct ShardSubs {
    pub channels: HashMap<Vec<u8>, HashSet<usize>>,
    pub patterns: HashMap<Vec<u8>, HashSet<usize>>,
    /// Messages published by this shard's clients this turn: (channel, message).
    pub outgoing: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Process-wide subscriber counts: channel or pattern -> count per shard.
#[derive(Default)]
pub struct PubSubIndex {
    pub channels: HashMap<Vec<u8>, Vec<u32>>,
    pub patterns: HashMap<Vec<u8>, Vec<u32>>,
}

impl PubSubIndex {
    fn bump(
        map: &mut HashMap<Vec<u8>, Vec<u32>>,
        name: &[u8],
        shard: usize,
        shards: usize,
        up: bool,
    ) {
        let counts = map.entry(name.to_vec()).or_insert_with(|| vec![0; shards]);
        if up {
            counts[shard] += 1;
        } else {
            counts[shard] = counts[shard].saturating_sub(1);
        }
        if counts.iter().all(|&c| c == 0) {
            map.remove(name);
        }
    }

    pub fn channel(&mut self, name: &[u8], shard: usize, shards: usize, up: bool) {
        Self::bump(&mut self.channels, name, shard, shards, up);
    }

    pub fn pattern(&mut self, name: &[u8], shard: usize, shards: usize, up: bool) {
        Self::bump(&mut self.patterns, name, shard, shards, up);
    }

    /// Receivers of a message on `channel`, per shard (subscribers plus matching patterns).
    pub fn receivers(&self, channel: &[u8], shards: usize) -> Vec<u32> {
        let mut per = vec![0u32; shards];
        if let Some(c) = self.channels.get(channel) {
            for (p, n) in per.iter_mut().zip(c) {
                *p += n;
            }
        }
        for (pat, counts) in &self.patterns {
            if crate::glob::matches(pat, channel, false) {
                for (p, n) in per.iter_mut().zip(counts) {
                    *p += n;
                }
            }
        }
        per
    }
}
