//! The state of RDB saving that every core shares: the BGSAVE in progress, how the last one
//! ended, the counters INFO persistence shows and the save points read, and the one flag the
//! write guard loads (MISCONF). Written by the saver (`rdb_save`) and the cron; never changed
//! per request.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What can stop a running snapshot (the shard tier's snapshot session; named through this
/// trait because that tier sits beside this one, not below it).
pub trait Abort: Send + Sync {
    fn abort(&self);
}

/// A BGSAVE being written.
pub struct Running {
    pub started: Instant,
    /// The snapshot the shards produce and the writer thread drains.
    pub session: Arc<dyn Abort>,
    /// Changes (sum of every shard's `dirty`) at the snapshot's instant.
    pub dirty_at_start: u64,
}

/// How the SIGTERM/SIGINT save asked of shard 0 stands.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum ExitSave {
    #[default]
    Idle,
    /// The main thread waits for shard 0's cron to save.
    Wanted,
    Done(Result<(), String>),
}

pub struct RdbGlobal {
    /// The BGSAVE in progress, if any.
    pub running: Mutex<Option<Running>>,
    /// BGSAVE SCHEDULE (or a save point) waits for the AOF rewrite to end.
    pub scheduled: AtomicBool,
    pub last_bgsave_ok: AtomicBool,
    /// Seconds the last BGSAVE took (-1: none yet).
    pub last_bgsave_time_s: AtomicI64,
    /// Unix seconds of the last BGSAVE attempt (failed ones are retried 5 s apart).
    pub last_bgsave_try_s: AtomicU64,
    /// SAVE and BGSAVE runs started (INFO rdb_saves).
    pub saves: AtomicU64,
    /// The peak bytes the last BGSAVE's queue held (INFO rdb_last_cow_size: the memory the
    /// snapshot cost beyond the data set, where Redis reports its fork's copy-on-write).
    pub last_peak_bytes: AtomicU64,
    /// Changes (sum of every shard's `dirty`) at the instant of the last good save.
    pub dirty_at_save: AtomicU64,
    /// Each shard's `dirty`, published by its cron for the save points.
    pub dirty_by_shard: Vec<AtomicU64>,
    /// Writes are refused with MISCONF (stop-writes-on-bgsave-error, save points, last
    /// BGSAVE failed); one relaxed load in the write guard.
    pub writes_refused: AtomicBool,
    /// The save at SIGTERM/SIGINT, run by shard 0 for the main thread.
    pub exit_save: Mutex<ExitSave>,
    /// Keys the last RDB load created and skipped as expired (INFO rdb_last_load_keys_*),
    /// set by `rdb_load`.
    pub last_load_keys_loaded: AtomicU64,
    pub last_load_keys_expired: AtomicU64,
}

impl RdbGlobal {
    pub fn new(shards: usize) -> RdbGlobal {
        RdbGlobal {
            running: Mutex::new(None),
            scheduled: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_time_s: AtomicI64::new(-1),
            last_bgsave_try_s: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            last_peak_bytes: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
            dirty_by_shard: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            writes_refused: AtomicBool::new(false),
            exit_save: Mutex::new(ExitSave::Idle),
            last_load_keys_loaded: AtomicU64::new(0),
            last_load_keys_expired: AtomicU64::new(0),
        }
    }

    pub fn running(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        crate::global::repl::lock(&self.running)
    }

    pub fn in_progress(&self) -> bool {
        self.running().is_some()
    }

    /// Changes since the last good save, from every shard's published `dirty`.
    pub fn published_changes(&self) -> u64 {
        let total: u64 = self
            .dirty_by_shard
            .iter()
            .map(|d| d.load(Ordering::Relaxed))
            .sum();
        total.saturating_sub(self.dirty_at_save.load(Ordering::Relaxed))
    }
}
