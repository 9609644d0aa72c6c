//! Client-side caching state that is node-wide: the counters INFO shows (tracking clients,
//! keys and items of every shard's tracking table, BCAST prefixes), the limit in force
//! (`tracking-table-max-keys`) and the BCAST prefix registry, which every shard reads when
//! one of its keys changes. A node where nobody tracks pays one relaxed load per write.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

/// A client that asked for invalidations: its id and the shard its connection lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reader {
    pub id: u64,
    pub home: usize,
}

/// A BCAST client of one prefix (NOLOOP is applied where the key changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BcastReader {
    pub reader: Reader,
    pub noloop: bool,
}

pub use crate::mesh::{Invalidation, What};

#[derive(Default)]
pub struct NodeTracking {
    /// Clients with tracking on (INFO clients `tracking_clients`).
    pub clients: AtomicUsize,
    /// Keys in every shard's table, and (key, client) pairs (INFO `tracking_total_keys`,
    /// `tracking_total_items`).
    pub total_keys: AtomicUsize,
    pub total_items: AtomicUsize,
    /// `tracking-table-max-keys` (0: no limit), stored at boot and refreshed by the cron.
    pub max_keys: AtomicUsize,
    /// Clients in BCAST mode: while 0, a changed key skips the prefix registry.
    pub bcast_clients: AtomicUsize,
    /// BCAST prefixes (the empty prefix for "every key") and their clients.
    pub prefixes: RwLock<BTreeMap<Vec<u8>, Vec<BcastReader>>>,
}

/// `tracking-table-max-keys` (0: no limit).
pub fn max_keys_of(c: &crate::config::Config) -> usize {
    c.stored_i64("tracking-table-max-keys", 1_000_000).max(0) as usize
}

impl NodeTracking {
    pub fn new(max_keys: usize) -> Self {
        NodeTracking {
            max_keys: AtomicUsize::new(max_keys),
            ..Default::default()
        }
    }

    /// True while some client tracks keys (table mode or BCAST).
    pub fn in_use(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    /// INFO `tracking_total_prefixes`.
    pub fn prefix_count(&self) -> usize {
        self.prefixes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Registers `r` for every prefix of `prefixes` (BCAST mode turned on).
    pub fn add_prefixes(&self, r: BcastReader, prefixes: &[Vec<u8>]) {
        let mut map = self.prefixes.write().unwrap_or_else(|e| e.into_inner());
        for p in prefixes {
            let list = map.entry(p.clone()).or_default();
            if !list.iter().any(|b| b.reader.id == r.reader.id) {
                list.push(r);
            }
        }
    }

    /// Forgets client `id` under `prefixes` (tracking turned off, or the client left); a
    /// prefix nobody uses any more is dropped, as Redis frees it.
    pub fn remove_prefixes(&self, id: u64, prefixes: &[Vec<u8>]) {
        let mut map = self.prefixes.write().unwrap_or_else(|e| e.into_inner());
        for p in prefixes {
            if let Some(list) = map.get_mut(p) {
                list.retain(|b| b.reader.id != id);
                if list.is_empty() {
                    map.remove(p);
                }
            }
        }
    }
}
