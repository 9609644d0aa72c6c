//! The event loop's side of Pub/Sub: messages published by this core's clients go to local
//! subscribers and, through the mesh, to every other core that has subscribers.

use super::*;

impl Reactor {
    pub(super) fn publish_outgoing(&mut self) {
        let outgoing = std::mem::take(&mut self.shard.subs.outgoing);
        for (channel, message) in outgoing {
            let per = {
                let idx = self
                    .shard
                    .global
                    .pubsub
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                idx.receivers(&channel, self.shard.shards)
            };
            let me = self.shard.id;
            let shared = std::sync::Arc::new((channel, message));
            for (to, &n) in per.iter().enumerate() {
                if n == 0 || to == me {
                    continue;
                }
                self.mesh
                    .send_blocking(to, MeshMsg::Publish(shared.clone()));
            }
            if per.get(me).is_some_and(|&n| n > 0) {
                self.deliver_message(&shared.0, &shared.1);
            }
        }
    }

    /// Writes the message to every local subscriber's connection.
    pub(super) fn deliver_message(&mut self, channel: &[u8], message: &[u8]) {
        for (client, frame) in crate::commands::pubsub::frames_for(&self.shard, channel, message) {
            let Some(cl) = self.shard.clients.get(client) else {
                continue;
            };
            let cref = ConnRef {
                idx: cl.conn_slot,
                gen: cl.conn_gen,
            };
            let Some(c) = self.conn_mut(cref) else {
                continue;
            };
            if c.dead || c.closing {
                continue;
            }
            c.reply_target().extend_from_slice(&frame);
            let queue = !c.in_send_queue;
            c.in_send_queue = true;
            if queue {
                self.send_queue.push(cref.idx as usize);
            }
        }
    }
}
