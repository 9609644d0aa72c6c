//! The settings of the latency and slow logs in force (`slowlog-log-slower-than`,
//! `slowlog-max-len`, `latency-monitor-threshold`, `latency-tracking`) as atomics the shards
//! read with relaxed loads, and the node-wide logs they feed (`slowlog`, `latency_events`).
//!
//! Per command the dispatcher compares the handler's time with `floor_ns` (one relaxed load):
//! the lowest time either log wants; only a command at or above it takes the slow path.

use super::latency_events::LatencyEvents;
use super::slowlog::SlowLog;
use crate::config::Config;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

#[derive(Default)]
pub struct Observe {
    /// The shortest handler time, in nanoseconds, either log records (u64::MAX: both off).
    pub floor_ns: AtomicU64,
    /// `slowlog-log-slower-than` in microseconds (< 0: off).
    pub slowlog_slower_than_us: AtomicI64,
    pub slowlog_max_len: AtomicU64,
    /// `latency-monitor-threshold` in milliseconds (0: off).
    pub monitor_threshold_ms: AtomicU64,
    /// `latency-tracking`: per-command histograms are recorded.
    pub tracking: AtomicBool,
    pub slowlog: SlowLog,
    pub events: LatencyEvents,
}

/// The settings as the config holds them: (slower-than us, max-len, threshold ms, tracking).
fn settings(c: &Config) -> (i64, u64, u64, bool) {
    (
        c.stored_i64("slowlog-log-slower-than", 10_000),
        c.stored_i64("slowlog-max-len", 128).max(0) as u64,
        c.stored_i64("latency-monitor-threshold", 0).max(0) as u64,
        c.stored_bool("latency-tracking", true),
    )
}

impl Observe {
    pub fn new(c: &Config) -> Self {
        let o = Observe::default();
        o.configure(c);
        o
    }

    /// Publishes the settings of `c` (at boot and after CONFIG SET).
    pub fn configure(&self, c: &Config) {
        let (slower_us, max_len, threshold_ms, tracking) = settings(c);
        self.slowlog_slower_than_us
            .store(slower_us, Ordering::Relaxed);
        self.slowlog_max_len.store(max_len, Ordering::Relaxed);
        self.monitor_threshold_ms
            .store(threshold_ms, Ordering::Relaxed);
        self.tracking.store(tracking, Ordering::Relaxed);
        let slow_ns = if slower_us < 0 {
            u64::MAX
        } else {
            (slower_us as u64).saturating_mul(1000)
        };
        let monitor_ns = if threshold_ms == 0 {
            u64::MAX
        } else {
            threshold_ms.saturating_mul(1_000_000)
        };
        self.floor_ns
            .store(slow_ns.min(monitor_ns), Ordering::Relaxed);
    }

    /// Redis' latencyAddSampleIfNeeded: records `latency_ms` for `event` when the monitor is
    /// on and it reaches the threshold.
    pub fn latency_sample(&self, event: &'static str, latency_ms: u64) {
        let threshold = self.monitor_threshold_ms.load(Ordering::Relaxed);
        if threshold != 0 && latency_ms >= threshold {
            let now_s = crate::clock::unix_ms() / 1000;
            self.events.add(event, now_s, latency_ms);
        }
    }
}
