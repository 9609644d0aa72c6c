//! The event loop's side of MONITOR: once per turn, the lines this core's clients produced go
//! to this core's monitors and, through the mesh, to every other core that has monitors (one
//! message per core per turn, so one connection's lines keep their order).

use super::*;

impl Reactor {
    /// Sends this turn's monitor lines (nothing to do unless some were fed).
    pub(super) fn monitor_outgoing(&mut self) {
        if self.shard.monitor.pending.is_empty() {
            return;
        }
        let lines = Arc::new(std::mem::take(&mut self.shard.monitor.pending));
        let me = self.shard.id;
        for (to, n) in self.shard.global.monitors_per_shard.iter().enumerate() {
            if to != me && n.load(Ordering::Relaxed) > 0 {
                self.mesh.send_blocking(to, MeshMsg::Monitor(lines.clone()));
            }
        }
        self.deliver_monitor_lines(&lines);
    }

    /// Appends `lines` to the output of each of this core's monitors.
    pub(super) fn deliver_monitor_lines(&mut self, lines: &[u8]) {
        if self.shard.monitor.clients.is_empty() {
            return;
        }
        let frames = self
            .shard
            .monitor
            .clients
            .iter()
            .map(|&c| (c, lines.to_vec()))
            .collect();
        self.push_frames(frames);
    }
}
