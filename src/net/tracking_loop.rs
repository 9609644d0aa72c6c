//! The event loop's side of client-side caching: at the end of a turn, the invalidations this
//! shard produced (or received) are written to the connections of this shard's clients, and
//! those for clients of other shards go to their shards in one mesh message per shard.

use super::*;
use crate::shard::tracking;

impl Reactor {
    pub(super) fn deliver_invalidations(&mut self) {
        tracking::broadcast_pending(&mut self.shard);
        if self.shard.tracking.outbox.is_empty() {
            return;
        }
        let me = self.shard.id;
        let mut frames = Vec::new();
        let mut remote: Vec<Vec<tracking::Invalidation>> = Vec::new();
        // Resolving may forward (to a REDIRECT client elsewhere) or answer (a broken
        // redirect): repeat until only messages for other shards are left.
        while !self.shard.tracking.outbox.is_empty() {
            let batch = std::mem::take(&mut self.shard.tracking.outbox);
            for inv in batch {
                if inv.home == me {
                    tracking::resolve(&mut self.shard, inv, &mut frames);
                } else {
                    if remote.len() <= inv.home {
                        remote.resize_with(inv.home + 1, Vec::new);
                    }
                    remote[inv.home].push(inv);
                }
            }
        }
        for (to, list) in remote.into_iter().enumerate() {
            if !list.is_empty() {
                self.mesh
                    .send_blocking(to, MeshMsg::Invalidate(Box::new(list)));
            }
        }
        self.push_frames(frames);
    }
}
