//! An immutable snapshot of who serves each slot, built by the cluster state and shared with
//! every shard by `Arc`. Shards decide MOVED/ASK/CLUSTERDOWN from it without any hop.

use crate::constants::SLOT_COUNT;

/// Node index meaning "nobody serves this slot".
pub const NO_NODE: u16 = u16::MAX;

#[derive(Clone, Debug)]
pub struct SlotMap {
    /// Grows with every change; shards report the version they applied.
    pub version: u64,
    /// False in standalone mode: no redirects, no slot checks.
    pub cluster_enabled: bool,
    /// `cluster_state:ok`.
    pub state_ok: bool,
    /// Index of this node in `addrs`.
    pub myself: u16,
    /// Serving node index per slot, or NO_NODE.
    pub owner: Vec<u16>,
    /// "ip:port" of each node index, as used in MOVED/ASK.
    pub addrs: Vec<String>,
    /// Slots this node is migrating away (slot, target node index).
    pub migrating: Vec<(u16, u16)>,
    /// Slots this node is importing (slot, source node index).
    pub importing: Vec<(u16, u16)>,
    pub allow_reads_when_down: bool,
    /// This node is a replica (writes get -MOVED to the master unless READONLY reads).
    pub myself_is_replica: bool,
    /// Index of our master when we are a replica.
    pub master: u16,
    /// Slots whose keys the shards must delete when they install this map (slots this node
    /// lost to a newer owner).
    pub drop_slots: Vec<u16>,
}

impl SlotMap {
    /// The map of a standalone server: everything is local.
    pub fn standalone() -> Self {
        SlotMap {
            version: 0,
            cluster_enabled: false,
            state_ok: true,
            myself: 0,
            owner: vec![0; SLOT_COUNT],
            addrs: vec![String::new()],
            migrating: Vec::new(),
            importing: Vec::new(),
            allow_reads_when_down: false,
            myself_is_replica: false,
            master: NO_NODE,
            drop_slots: Vec::new(),
        }
    }

    pub fn owner_of(&self, slot: u16) -> u16 {
        self.owner[slot as usize]
    }
    pub fn migrating_to(&self, slot: u16) -> Option<u16> {
        self.migrating.iter().find(|m| m.0 == slot).map(|m| m.1)
    }
    pub fn importing_from(&self, slot: u16) -> Option<u16> {
        self.importing.iter().find(|m| m.0 == slot).map(|m| m.1)
    }
}
