//! The process-wide Pub/Sub index (`Global.pubsub`): subscriber counts per channel, pattern
//! and shard channel, per shard, so PUBLISH/SPUBLISH know their receiver count and which shards
//! to wake. The subscriptions themselves live on each shard (`shard::pubsub`).

use hashbrown::HashMap;

/// The three kinds of subscription: SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubKind {
    Channel,
    Pattern,
    Shard,
}

/// Process-wide subscriber counts: channel, pattern or shard channel -> count per shard.
#[derive(Default)]
pub struct PubSubIndex {
    pub channels: HashMap<Vec<u8>, Vec<u32>>,
    pub patterns: HashMap<Vec<u8>, Vec<u32>>,
    pub shard_channels: HashMap<Vec<u8>, Vec<u32>>,
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

    /// Counts one subscription of `kind` more (`up`) or less on `shard`.
    pub fn update(&mut self, kind: SubKind, name: &[u8], shard: usize, shards: usize, up: bool) {
        let map = match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard_channels,
        };
        Self::bump(map, name, shard, shards, up);
    }

    pub fn channel(&mut self, name: &[u8], shard: usize, shards: usize, up: bool) {
        self.update(SubKind::Channel, name, shard, shards, up);
    }

    pub fn pattern(&mut self, name: &[u8], shard: usize, shards: usize, up: bool) {
        self.update(SubKind::Pattern, name, shard, shards, up);
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

    /// Receivers of a message on shard channel `channel`, per shard (no patterns apply).
    pub fn shard_receivers(&self, channel: &[u8], shards: usize) -> Vec<u32> {
        self.shard_channels
            .get(channel)
            .cloned()
            .unwrap_or_else(|| vec![0; shards])
    }

    /// Receivers per shard of a PUBLISH (`sharded` false) or SPUBLISH.
    pub fn receivers_of(&self, sharded: bool, channel: &[u8], shards: usize) -> Vec<u32> {
        if sharded {
            self.shard_receivers(channel, shards)
        } else {
            self.receivers(channel, shards)
        }
    }
}
