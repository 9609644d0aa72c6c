//! The event loop's side of Pub/Sub: messages published by this core's clients go to local
//! subscribers, through the mesh to every other core that has subscribers and, in cluster mode,
//! to the other nodes through the bus hook. Also writes the `sunsubscribe` pushes of shard
//! channels whose slot this node stopped serving.

use super::*;
use crate::cluster::slot_map::SlotMap;

impl Reactor {
    pub(super) fn publish_outgoing(&mut self) {
        let outgoing = std::mem::take(&mut self.shard.subs.outgoing);
        for m in outgoing {
            let per = {
                let idx = self
                    .shard
                    .global
                    .pubsub
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                idx.receivers_of(m.sharded, &m.channel, self.shard.shards)
            };
            let me = self.shard.id;
            let shared = std::sync::Arc::new((m.channel, m.message));
            for (to, &n) in per.iter().enumerate() {
                if n == 0 || to == me {
                    continue;
                }
                let msg = if m.sharded {
                    MeshMsg::ShardPublish(shared.clone())
                } else {
                    MeshMsg::Publish(shared.clone())
                };
                self.mesh.send_blocking(to, msg);
            }
            if per.get(me).is_some_and(|&n| n > 0) {
                if m.sharded {
                    self.deliver_shard_message(&shared.0, &shared.1);
                } else {
                    self.deliver_message(&shared.0, &shared.1);
                }
            }
            self.publish_to_bus(m.sharded, &shared.0, &shared.1);
        }
    }

    /// Cluster mode: the other nodes get the message too (the bus decides which ones).
    fn publish_to_bus(&self, sharded: bool, channel: &[u8], message: &[u8]) {
        if !self.shard.slot_map.cluster_enabled {
            return;
        }
        if let Some(hook) = self.shard.global.bus_publish.get() {
            hook(sharded, channel, message);
        }
    }

    /// Writes the message to every local subscriber's connection.
    pub(super) fn deliver_message(&mut self, channel: &[u8], message: &[u8]) {
        let frames = crate::commands::pubsub::frames_for(&self.shard, channel, message);
        self.push_frames(frames);
    }

    /// Writes an SPUBLISH message to every local subscriber of the shard channel.
    pub(super) fn deliver_shard_message(&mut self, channel: &[u8], message: &[u8]) {
        let frames = crate::commands::pubsub::shard_frames_for(&self.shard, channel, message);
        self.push_frames(frames);
    }

    /// Called when `new` is installed: clients of shard channels in slots not served here any
    /// more are unsubscribed and told so.
    pub(super) fn unsubscribe_lost_slots(&mut self, new: &SlotMap) {
        let frames = crate::commands::pubsub::unsubscribe_lost_slots(&mut self.shard, new);
        self.push_frames(frames);
    }

    /// Appends each frame to its client's output and queues the connection for sending.
    pub(super) fn push_frames(&mut self, frames: Vec<(usize, Vec<u8>)>) {
        for (client, frame) in frames {
            let Some(cl) = self.shard.clients.get(client) else {
                continue;
            };
            let cref = ConnRef {
                idx: cl.conn_slot,
                gen: cl.conn_gen,
            };
            let Some(c) = conn_at(&mut self.conns, cref) else {
                continue;
            };
            if !c.is_open() {
                continue;
            }
            c.reply_target().extend_from_slice(&frame);
            c.enlist_send(&mut self.send_queue, cref.idx as usize);
            if c.unsent_bytes() >= self.obuf_floor {
                self.check_appended(cref.idx as usize);
            }
        }
    }
}
