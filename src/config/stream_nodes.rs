//! `stream-node-max-bytes` and `stream-node-max-entries` in force: stored at boot and by
//! CONFIG SET, read with two relaxed loads by every XADD (and the AOF and replica replay of
//! it), so the node layout follows the configuration as in Redis. Process-wide, as in Redis.

use super::Config;
use crate::constants::{STREAM_NODE_MAX_BYTES_DEFAULT, STREAM_NODE_MAX_ENTRIES_DEFAULT};
use std::sync::atomic::{AtomicU64, Ordering};

static MAX_BYTES: AtomicU64 = AtomicU64::new(STREAM_NODE_MAX_BYTES_DEFAULT);
static MAX_ENTRIES: AtomicU64 = AtomicU64::new(STREAM_NODE_MAX_ENTRIES_DEFAULT);

/// Takes the two settings from `cfg` (validated when they were set).
pub fn configure(cfg: &Config) {
    let get = |name: &str, d: u64| u64::try_from(cfg.stored_i64(name, d as i64)).unwrap_or(d);
    let bytes = get("stream-node-max-bytes", STREAM_NODE_MAX_BYTES_DEFAULT);
    let entries = get("stream-node-max-entries", STREAM_NODE_MAX_ENTRIES_DEFAULT);
    MAX_BYTES.store(bytes, Ordering::Relaxed);
    MAX_ENTRIES.store(entries, Ordering::Relaxed);
}

/// (stream-node-max-bytes, stream-node-max-entries); 0 means no limit. XADD (commands::stream)
/// passes them to `StreamValue::append`.
#[inline]
pub fn node_limits() -> (usize, usize) {
    let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    (
        clamp(MAX_BYTES.load(Ordering::Relaxed)),
        clamp(MAX_ENTRIES.load(Ordering::Relaxed)),
    )
}
