//! A shard's per-command latency histograms (`latency-tracking`, Redis 7's INFO latencystats
//! and LATENCY HISTOGRAM), and who runs the command at hand (for the slow log).
//!
//! A histogram is an HDR histogram of handler times in nanoseconds over 1 ns..1 s with two
//! significant digits, as Redis keeps it; created on a command's first call, so recording
//! allocates nothing and costs a few index computations and one add. Readers merge every
//! shard's histogram of a command (`Shard::call_all`).

use crate::command_id::CommandId;
use crate::constants::{
    LATENCY_HISTOGRAM_MAX_NS, LATENCY_HISTOGRAM_MIN_NS, LATENCY_HISTOGRAM_SIGFIGS,
};
use hdrhistogram::Histogram;

/// One command's histogram of handler times, in nanoseconds.
pub type Hist = Histogram<u64>;

/// An empty histogram with Redis' bounds and precision.
pub fn new_hist() -> Hist {
    Histogram::new_with_bounds(
        LATENCY_HISTOGRAM_MIN_NS,
        LATENCY_HISTOGRAM_MAX_NS,
        LATENCY_HISTOGRAM_SIGFIGS,
    )
    .expect("constant histogram bounds are valid")
}

/// The histograms of one shard, indexed by command id (None: never called since the last
/// reset).
#[derive(Default)]
pub struct Histograms(Vec<Option<Box<Hist>>>);

impl Histograms {
    /// Records one call of `id` that took `nsec` (clamped to the histogram's range as Redis
    /// clamps it).
    #[inline]
    pub fn record(&mut self, id: CommandId, nsec: u64) {
        let i = id.index();
        if let Some(Some(h)) = self.0.get_mut(i) {
            h.saturating_record(nsec.max(LATENCY_HISTOGRAM_MIN_NS));
            return;
        }
        self.record_first(i, nsec);
    }

    #[cold]
    #[inline(never)]
    fn record_first(&mut self, i: usize, nsec: u64) {
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        let h = self.0[i].get_or_insert_with(|| Box::new(new_hist()));
        h.saturating_record(nsec.max(LATENCY_HISTOGRAM_MIN_NS));
    }

    /// The commands with a histogram, by id.
    pub fn iter(&self) -> impl Iterator<Item = (CommandId, &Hist)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_deref().map(|h| (CommandId(i as u16), h)))
    }

    /// CONFIG RESETSTAT: every histogram goes.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Who the command being run belongs to, set by the dispatcher for a client's command (a
/// plain store) and by the event loop for a command another shard sent. Read only when a
/// command is slow enough for the slow log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunningFor {
    /// No client (AOF loading, the replication stream, a test).
    #[default]
    Nobody,
    /// A client of this shard, by its index in `Shard::clients`.
    Local(usize),
    /// A client of shard `home` at connection slot `idx`, generation `gen`.
    Remote { home: usize, idx: u32, gen: u32 },
}
