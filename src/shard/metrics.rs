//! Redis' instantaneous metrics (INFO `instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
//! `instantaneous_output_kbps`): every cron tick (100 ms) the rate since the previous tick is
//! recorded per second in a ring of `INSTANT_METRIC_SAMPLES`; the metric is the ring's mean.
//! Each shard keeps its own ring from its own counters; the node's figure is the sum over
//! shards (a sum of means is the mean of the sums).

use crate::constants::INSTANT_METRIC_SAMPLES;

/// The metrics Redis tracks for INFO stats (replication's kbps stay 0: no separate counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Commands = 0,
    NetInputBytes = 1,
    NetOutputBytes = 2,
}

const METRICS: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct InstantMetrics {
    last_ms: u64,
    last: [u64; METRICS],
    samples: [[u64; INSTANT_METRIC_SAMPLES]; METRICS],
    idx: usize,
}

impl InstantMetrics {
    /// Records one sample of each metric from the current totals (in `Metric` order).
    pub fn sample(&mut self, now_ms: u64, totals: [u64; METRICS]) {
        let dt_ms = now_ms.saturating_sub(self.last_ms);
        let rings = self.samples.iter_mut().zip(self.last.iter_mut());
        for ((ring, last), total) in rings.zip(totals) {
            let delta = total.saturating_sub(*last);
            ring[self.idx] = if self.last_ms > 0 && dt_ms > 0 {
                delta * 1000 / dt_ms
            } else {
                0
            };
            *last = total;
        }
        self.last_ms = now_ms;
        self.idx = (self.idx + 1) % INSTANT_METRIC_SAMPLES;
    }

    /// The mean of the ring: per second (bytes per second for the network metrics).
    pub fn per_sec(&self, m: Metric) -> u64 {
        self.samples[m as usize].iter().sum::<u64>() / INSTANT_METRIC_SAMPLES as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_the_ring_mean() {
        // Guards Redis' arithmetic: rate per tick scaled to a second, mean over the ring, the
        // first tick (no previous reading) counting as 0.
        let mut m = InstantMetrics::default();
        m.sample(1_000, [0, 0, 0]);
        assert_eq!(m.per_sec(Metric::Commands), 0);
        m.sample(1_100, [100, 2048, 0]);
        // 1000 ops/s in one of 16 samples.
        assert_eq!(m.per_sec(Metric::Commands), 1000 / 16);
        assert_eq!(m.per_sec(Metric::NetInputBytes), 20480 / 16);
        for i in 2..=20u64 {
            m.sample(1_000 + i * 100, [i * 100, 0, 0]);
        }
        assert_eq!(m.per_sec(Metric::Commands), 1000);
    }
}
