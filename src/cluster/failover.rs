//! Replica elections and manual failover (sans-IO): FAILOVER_AUTH_REQUEST / ACK, votes,
//! MFSTART, and the replica's cron duties. The election logic lands with replication (issue
//! #5); until then the messages are counted and ignored, as a node without replicas would.

use crate::cluster::message::Message;
use crate::cluster::state::ClusterState;

impl ClusterState {
    /// AUTH_REQUEST, AUTH_ACK and MFSTART from known node `s`.
    pub(super) fn on_failover_message(&mut self, _now_ms: u64, _s: u16, m: &Message) {
        crate::log::debug(&format!(
            "Cluster bus: failover message type {} ignored",
            m.hdr.mtype
        ));
    }

    /// The replica's part of the cron.
    pub(super) fn on_failover_tick(&mut self, _now_ms: u64) {}
}
