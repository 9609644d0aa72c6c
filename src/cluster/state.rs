//! The cluster state of this node (sans-IO): identity, epochs, nodes and slot ownership.
//! Commands and (later) bus messages change it; it builds `SlotMap` snapshots.

use crate::cluster::slot_map::SlotMap;
use crate::config::Config;

/// Placeholder until the cluster state lands: a node that serves nothing.
pub struct ClusterState {
    pub version: u64,
}

impl ClusterState {
    /// Loads `cluster-config-file` from `dir`, or creates a fresh node and saves it.
    pub fn load_or_create(_cfg: &Config) -> Result<ClusterState, String> {
        Ok(ClusterState { version: 1 })
    }

    /// A snapshot for the shards.
    pub fn slot_map(&self) -> SlotMap {
        let mut m = SlotMap::standalone();
        m.cluster_enabled = true;
        m.state_ok = false;
        m.owner
            .iter_mut()
            .for_each(|o| *o = crate::cluster::slot_map::NO_NODE);
        m.version = self.version;
        m
    }
}
