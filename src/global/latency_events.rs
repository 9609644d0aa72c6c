//! The latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR): per event name, the last
//! `LATENCY_TS_LEN` one-second samples of latencies at or above `latency-monitor-threshold`
//! and the all-time maximum, node-wide, as Redis' latency.c keeps them.
//!
//! Events are Redis' names (`command`, `fast-command`, `expire-cycle`, `eviction-cycle`,
//! `eviction-del`, `aof-fsync-always`, `aof-write`...) plus slotd's own, named for what they
//! time: `cross-core-hop` (a command's round trip to the shard that owns its keys, seen from
//! the client's shard) and `mesh-inbox-wait` (a shard's turn spent serving its mesh inbox).
//! Only a sample at or above the threshold reaches the lock.

use crate::constants::LATENCY_TS_LEN;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds; 0 for an unused slot.
    pub unix_s: u64,
    pub latency_ms: u64,
}

/// One event's ring of samples.
#[derive(Clone, Debug)]
pub struct Series {
    pub idx: usize,
    pub max_ms: u64,
    pub samples: [Sample; LATENCY_TS_LEN],
}

impl Default for Series {
    fn default() -> Self {
        Series {
            idx: 0,
            max_ms: 0,
            samples: [Sample::default(); LATENCY_TS_LEN],
        }
    }
}

impl Series {
    /// Redis' latencyAddSample: one sample per second (the highest), the all-time maximum.
    fn add(&mut self, unix_s: u64, latency_ms: u64) {
        self.max_ms = self.max_ms.max(latency_ms);
        let prev = (self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        if self.samples[prev].unix_s == unix_s {
            let p = &mut self.samples[prev];
            p.latency_ms = p.latency_ms.max(latency_ms);
            return;
        }
        self.samples[self.idx] = Sample { unix_s, latency_ms };
        self.idx = (self.idx + 1) % LATENCY_TS_LEN;
    }

    /// The most recent sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
    }

    /// The used samples, oldest first.
    pub fn history(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..LATENCY_TS_LEN)
            .map(move |j| self.samples[(self.idx + j) % LATENCY_TS_LEN])
            .filter(|s| s.unix_s != 0)
    }
}

#[derive(Default)]
pub struct LatencyEvents {
    series: Mutex<BTreeMap<&'static str, Series>>,
}

impl LatencyEvents {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Series>> {
        self.series.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `latency_ms` for `event` (the caller checked the threshold).
    pub fn add(&self, event: &'static str, unix_s: u64, latency_ms: u64) {
        self.lock()
            .entry(event)
            .or_default()
            .add(unix_s, latency_ms);
    }

    /// Every event's series, by name.
    pub fn snapshot(&self) -> Vec<(&'static str, Series)> {
        self.lock().iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// One event's series, if it has samples. Names compare as Redis' dict does (exactly).
    pub fn get(&self, event: &[u8]) -> Option<(&'static str, Series)> {
        self.lock()
            .iter()
            .find(|(k, _)| k.as_bytes() == event)
            .map(|(k, v)| (*k, v.clone()))
    }

    /// LATENCY RESET with no names: every event goes; answers how many there were.
    pub fn reset_all(&self) -> usize {
        let mut l = self.lock();
        let n = l.len();
        l.clear();
        n
    }

    /// LATENCY RESET name: true when the event existed.
    pub fn reset(&self, event: &[u8]) -> bool {
        let mut l = self.lock();
        let key = l.keys().find(|k| k.as_bytes() == event).copied();
        key.is_some_and(|k| l.remove(k).is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}
