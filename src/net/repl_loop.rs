//! The event loop's replication duties: feed the journal to the stream at the end of each turn,
//! advance snapshots being produced for full syncs, answer WAIT commands when enough replicas
//! acknowledged (or at their deadline), and shard 0's keepalive PING.

use super::*;

/// Time a shard spends serializing slots for snapshots per loop turn.
const SNAPSHOT_STEP_US: u64 = 1000;

impl Reactor {
    /// Once per turn, before the AOF takes the journal.
    pub(super) fn repl_turn(&mut self) {
        // Expiry deletions by keyless commands (RANDOMKEY, SCAN...) since the last command.
        crate::replication::journal_expired(&mut self.shard);
        if self.script.is_none() {
            crate::replication::feed_journal(&mut self.shard);
        }
        if !self.shard.repl.snaps.is_empty() {
            let deadline = Instant::now() + Duration::from_micros(SNAPSHOT_STEP_US);
            let sh = &mut self.shard;
            let now = self.now_ms;
            let dbs = sh.dbs.list(&sh.db, sh.databases);
            sh.repl.snaps.retain_mut(|s| !s.step(&dbs, now, deadline));
        }
        if !self.shard.repl.waits.is_empty() {
            let gen = self.shard.global.repl.ack_gen.load(Ordering::Acquire);
            if gen != self.shard.repl.seen_ack_gen {
                self.shard.repl.seen_ack_gen = gen;
                self.check_waits(false);
            }
        }
    }

    pub(super) fn repl_cron(&mut self) {
        if self.shard.id == 0 {
            crate::replication::master::cron(&self.shard.global, self.now_ms);
        }
        if !self.shard.repl.waits.is_empty() {
            self.check_waits(true);
        }
    }

    /// Answers WAIT commands that have enough acknowledgements (or, from the cron, whose
    /// deadline passed) with the number of replicas that acknowledged.
    fn check_waits(&mut self, timeouts: bool) {
        let global = self.shard.global.clone();
        let now = self.now_ms;
        let waits = std::mem::take(&mut self.shard.repl.waits);
        for (cref, seq, w) in waits {
            let n = crate::replication::master::acked_count(&global, w.target);
            let expired = timeouts && w.deadline_ms != 0 && w.deadline_ms <= now;
            if n >= w.numreplicas || expired {
                global.repl.waits_pending.fetch_sub(1, Ordering::AcqRel);
                let mut buf = Vec::new();
                Out::new(&mut buf, crate::resp::Proto::Resp2).int(n);
                self.fill_reply(cref, seq, &buf);
            } else {
                self.shard.repl.waits.push((cref, seq, w));
            }
        }
    }

    /// A connection closed: its WAIT commands go.
    pub(super) fn forget_waits(&mut self, cref: ConnRef) {
        if !self.shard.repl.waits.is_empty() {
            let before = self.shard.repl.waits.len();
            self.shard.repl.waits.retain(|(c, _, _)| *c != cref);
            let gone = before - self.shard.repl.waits.len();
            let pending = &self.shard.global.repl.waits_pending;
            pending.fetch_sub(gone, Ordering::AcqRel);
        }
    }
}
