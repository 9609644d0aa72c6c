//! The event loop's AOF duties: write the journal once per turn, run fsyncs in the ring
//! (group commit under `appendfsync always`, once a second under `everysec`), hold replies
//! until their writes are durable, advance a running rewrite a little every turn, and react
//! to BGREWRITEAOF, CONFIG SET appendonly and the automatic rewrite thresholds.

use super::*;

/// Time a shard spends serializing slots for a rewrite per loop turn.
const REWRITE_STEP_US: u64 = 1000;
/// `everysec`: the interval between fsyncs.
const EVERYSEC_MS: u64 = 1000;

impl Reactor {
    fn policy(&self) -> AppendFsync {
        self.aof.policy.unwrap_or(AppendFsync::Everysec)
    }

    /// Once per turn, before sends: journal to file, rewrite progress, holds and fsyncs.
    pub(super) fn aof_turn(&mut self) {
        if self.aof.policy.is_none() {
            self.aof.policy = Some(self.shard.global.cfg(|c| c.appendfsync));
        }
        // A suspended script's writes stay in the journal until it ends (one block); nothing
        // else writes on this shard meanwhile, so no reply waits for them.
        let suspended = self.script.is_some();
        if !suspended {
            self.write_journal();
        }
        self.rewrite_progress();
        if self.policy() == AppendFsync::Always && self.shard.aof.active() {
            self.hold_this_turn(suspended);
            let written = suspended || self.shard.journal.is_empty();
            if self.shard.aof.unsynced && written && self.aof.epoch_inflight.is_none() {
                self.submit_fsync();
            }
        } else if !self.aof.held.is_empty() || !self.aof.held_replies.is_empty() {
            self.release_up_to(u64::MAX);
        }
        self.resend_replies();
    }

    fn write_journal(&mut self) {
        let sh = &mut self.shard;
        if sh.journal.is_empty() {
            return;
        }
        let data = sh.journal.take();
        if !sh.aof.active() && sh.aof.rewrite.is_none() {
            return; // nothing consumes the journal (AOF being switched off)
        }
        let was_failing = sh.aof.write_error.is_some();
        match sh.aof.write(&data) {
            Ok(()) => {
                sh.journal.give_back(data);
                if was_failing {
                    crate::log::warning("AOF write error looks solved, slotd can write again.");
                }
            }
            Err(e) => {
                if self.aof.policy == Some(AppendFsync::Always) {
                    // The replies of these writes are held and can never be released honestly;
                    // like Redis, stop rather than acknowledge or serve unpersisted data.
                    crate::log::warning(&format!(
                        "Can't recover from AOF write error when the AOF fsync policy is \
                         'always' ({e}). Exiting..."
                    ));
                    std::process::exit(1);
                }
                // Kept in memory and retried every turn (the cron makes one at least every
                // 100 ms); logged once per failure period.
                if !was_failing {
                    crate::log::warning(&format!(
                        "Error writing to the AOF file of shard {}: {e}; writes are refused \
                         until it succeeds",
                        sh.id
                    ));
                }
                sh.journal.unwrite(data);
            }
        }
    }

    /// Under `always`, output produced this turn waits for the fsync that covers this turn's
    /// writes (or the one running, which covers everything written before).
    fn hold_this_turn(&mut self, suspended: bool) {
        // Unwritten journal bytes (a failing disk) count as unsynced: their replies wait
        // (not a suspended script's: its reply is not out yet, and the others' refusals wrote
        // nothing).
        let pending = self.shard.aof.unsynced || (!suspended && !self.shard.journal.is_empty());
        let epoch = if pending {
            Some(self.aof.epoch_next)
        } else {
            self.aof.epoch_inflight
        };
        let Some(epoch) = epoch else {
            // Nothing unsynced and no fsync running: every earlier hold was released.
            for &idx in &self.send_queue {
                if let Some(c) = self.conns[idx].as_mut() {
                    c.safe_total = u64::MAX;
                    c.tagged_end = c.sent_total + c.out.len() as u64;
                }
            }
            return;
        };
        for &idx in &self.send_queue {
            let Some(c) = self.conns[idx].as_mut() else {
                continue;
            };
            let end = c.sent_total + c.out.len() as u64;
            if end <= c.tagged_end {
                continue; // nothing new (e.g. queued again by a release)
            }
            if c.safe_total == u64::MAX {
                c.safe_total = c.tagged_end.max(c.sent_total);
            }
            c.tagged_end = end;
            self.aof.held.push((idx, c.gen, epoch, end));
        }
        for to in 0..self.reply_box.len() {
            if !self.reply_box[to].items.is_empty() {
                let r = std::mem::take(&mut self.reply_box[to]);
                self.aof.held_replies.push((epoch, to, r));
            }
        }
    }

    fn submit_fsync(&mut self) {
        let Some(fd) = self.shard.aof.incr_fd() else {
            return;
        };
        let id = self.aof.epoch_next;
        self.aof.epoch_next += 1;
        self.aof.epoch_inflight = Some(id);
        self.shard.aof.unsynced = false;
        self.shard.aof.fsync_inflight = true;
        self.submit(Op::Fsync { fd });
    }

    pub(super) fn on_fsync(&mut self, res: i32) {
        let done = self.aof.epoch_inflight.take();
        self.shard.aof.fsync_inflight = false;
        self.shard.aof.last_fsync_ms = self.now_ms;
        // An fsync of a file the shard no longer writes (the AOF switched off, or a rewrite
        // committed: the new files were fsynced themselves) cannot fail a later write.
        let retired = self.shard.aof.retired.take().is_some();
        if res < 0 && !retired {
            let e = std::io::Error::from_raw_os_error(-res);
            if self.policy() == AppendFsync::Always {
                // Replies were promised durability; Redis exits here too.
                crate::log::warning(&format!(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': \
                     {e}. Exiting..."
                ));
                std::process::exit(1);
            }
            crate::log::warning(&format!("Error syncing the AOF file: {e}"));
            self.shard.aof.write_error = Some(e.to_string());
            self.shard.aof.unsynced = true;
            return;
        }
        if let Some(epoch) = done {
            self.release_up_to(epoch);
        }
        if self.shard.aof.unsynced
            && self.shard.journal.is_empty()
            && self.policy() == AppendFsync::Always
        {
            self.submit_fsync();
        }
    }

    fn release_up_to(&mut self, epoch: u64) {
        let held = std::mem::take(&mut self.aof.held);
        for (idx, gen, e, end) in held {
            if e > epoch {
                self.aof.held.push((idx, gen, e, end));
                continue;
            }
            let Some(c) = self.conns.get_mut(idx).and_then(|c| c.as_mut()) else {
                continue;
            };
            if c.gen != gen {
                continue;
            }
            c.safe_total = if epoch == u64::MAX {
                u64::MAX
            } else {
                c.safe_total.max(end)
            };
            c.enlist_send(&mut self.send_queue, idx);
        }
        let replies = std::mem::take(&mut self.aof.held_replies);
        for (e, to, r) in replies {
            if e > epoch {
                self.aof.held_replies.push((e, to, r));
            } else {
                self.aof.unsent_replies.push((to, r));
            }
        }
        // Sends start in the next turn, after that turn's new output is tagged.
        self.resend_replies();
    }

    fn resend_replies(&mut self) {
        let pending = std::mem::take(&mut self.aof.unsent_replies);
        for (to, r) in pending {
            match self.mesh.push(to, MeshMsg::Replies(r)) {
                Ok(()) => self.mesh.wake(to),
                Err(MeshMsg::Replies(r)) => self.aof.unsent_replies.push((to, r)),
                Err(_) => unreachable!("push returns the message it was given"),
            }
        }
    }

    fn rewrite_progress(&mut self) {
        let sh = &mut self.shard;
        let Some(rw) = sh.aof.rewrite.as_ref() else {
            return;
        };
        if let Some(why) = rw.failed.clone() {
            let global = sh.global.clone();
            sh.aof.abort_rewrite(&why, &global.aof);
            return;
        }
        if rw.finishing {
            return;
        }
        let deadline = Instant::now() + Duration::from_micros(REWRITE_STEP_US);
        let dbs = sh.dbs.list(&sh.db, sh.databases);
        if !sh.aof.rewrite_step(&dbs, self.now_ms, deadline) {
            return;
        }
        sh.aof.finish_rewrite_files();
        let (base, incr) = match sh.aof.rewrite.as_ref() {
            Some(rw) => (rw.base_fd(), rw.new_incr_fd()),
            None => return,
        };
        self.aof.rewrite_syncs = 2;
        self.aof.rewrite_sync_failed = None;
        for fd in [base, incr] {
            self.submit(Op::RewriteSync { fd });
        }
    }

    pub(super) fn on_rewrite_sync(&mut self, res: i32) {
        if res < 0 {
            let e = std::io::Error::from_raw_os_error(-res);
            self.aof.rewrite_sync_failed = Some(format!("fsync of the new files: {e}"));
        }
        self.aof.rewrite_syncs = self.aof.rewrite_syncs.saturating_sub(1);
        if self.aof.rewrite_syncs > 0 {
            return;
        }
        let id = self.shard.id;
        let global = self.shard.global.clone();
        if let Some(why) = self.aof.rewrite_sync_failed.take() {
            self.shard.aof.abort_rewrite(&why, &global.aof);
            return;
        }
        if self
            .shard
            .aof
            .rewrite
            .as_ref()
            .is_some_and(|r| r.round.is_some())
        {
            // Switching the AOF on: the manifest changes once every shard is ready.
            let done = self.shard.aof.round_ready(&global.aof);
            self.after_round(done);
            return;
        }
        let enabling = self.shard.aof.rewrite.as_ref().is_some_and(|r| r.enabling);
        match self.shard.aof.commit_rewrite(&global.aof) {
            Ok(()) => {
                let now_s = crate::clock::unix_ms() / 1000;
                global.lastsave_unix.store(now_s, Ordering::Relaxed);
                crate::log::notice(&format!(
                    "Background AOF rewrite of shard {id} finished successfully"
                ))
            }
            Err(e) => {
                crate::log::warning(&format!("Background AOF rewrite of shard {id} failed: {e}"))
            }
        }
        if enabling && !global.cfg(|c| c.appendonly) {
            // BGREWRITEAOF with the AOF off: the files are written, journaling stops.
            self.shard.aof.close();
            self.shard.journal.enabled = crate::replication::journal_needed(&global);
        }
    }

    /// A round of switching the AOF on, after this shard reported ready or polled it:
    /// Ok(true) the shard switched to its new files, Ok(false) still waiting.
    fn after_round(&mut self, done: Result<bool, String>) {
        let id = self.shard.id;
        let global = self.shard.global.clone();
        match done {
            Ok(false) => return,
            Ok(true) => {
                let now_s = crate::clock::unix_ms() / 1000;
                global.lastsave_unix.store(now_s, Ordering::Relaxed);
                crate::log::notice(&format!(
                    "Background AOF rewrite of shard {id} finished successfully"
                ));
            }
            Err(e) => {
                crate::log::warning(&format!("Background AOF rewrite of shard {id} failed: {e}"));
                return;
            }
        }
        if !global.cfg(|c| c.appendonly) {
            // BGREWRITEAOF with the AOF off: the files are written, journaling stops.
            self.shard.aof.close();
            self.shard.journal.enabled = crate::replication::journal_needed(&global);
        }
    }

    /// Every cron tick: fsync policy changes, everysec fsync, switching the AOF on or off,
    /// BGREWRITEAOF requests and the automatic rewrite.
    pub(super) fn aof_cron(&mut self) {
        let global = self.shard.global.clone();
        let (on, policy, pct, min) = global.cfg(|c| {
            let pct = c
                .unimplemented
                .get("auto-aof-rewrite-percentage")
                .and_then(|v| v.parse().ok());
            let min = c
                .unimplemented
                .get("auto-aof-rewrite-min-size")
                .and_then(|v| v.parse().ok());
            (
                c.appendonly,
                c.appendfsync,
                pct.unwrap_or(100u64),
                min.unwrap_or(64u64 << 20),
            )
        });
        self.aof.policy = Some(policy);
        let sh = &mut self.shard;
        if policy == AppendFsync::Everysec
            && sh.aof.unsynced
            && self.aof.epoch_inflight.is_none()
            && self.now_ms.saturating_sub(sh.aof.last_fsync_ms) >= EVERYSEC_MS
        {
            self.submit_fsync();
        }
        if self.shard.aof.rewrite.as_ref().is_some_and(|rw| rw.waiting) {
            let done = self.shard.aof.poll_round(&global.aof);
            self.after_round(done);
        }
        let sh = &mut self.shard;
        if on && sh.aof.active() && sh.aof.rewrite.is_none() && global.aof.round_open_without(sh.id)
        {
            // The AOF was switched off and on again before this shard saw it off, while the
            // others are writing their first files: join them, or their round never commits.
            // What is journaled goes to the old files first; later writes reach the keyspace
            // the new base serializes, or its new incr.
            if let Err(e) = crate::aof::flush_now(sh, false) {
                crate::log::warning(&format!("AOF of shard {}: {e}", sh.id));
            }
            sh.aof.close();
        }
        let sh = &mut self.shard;
        let tables = sh.db.table_count();
        if on && !sh.aof.active() && sh.aof.rewrite.is_none() {
            self.start_rewrite(true);
        } else if !on && sh.aof.active() {
            crate::log::notice(&format!("AOF of shard {} switched off", sh.id));
            sh.aof.close();
            sh.journal.enabled = crate::replication::journal_needed(&global);
        }
        let sh = &mut self.shard;
        let request = global.aof.rewrite_requests.load(Ordering::SeqCst);
        if request > sh.aof.seen_request {
            sh.aof.seen_request = request;
            if sh.aof.rewrite.is_none() {
                let enabling = !sh.aof.active();
                self.start_rewrite(enabling);
            }
        }
        let sh = &mut self.shard;
        let total = sh.aof.base_bytes + sh.aof.incr_bytes;
        let base = sh.aof.base_bytes.max(1);
        if sh.aof.active()
            && sh.aof.rewrite.is_none()
            && pct > 0
            && total > min
            && (total * 100 / base).saturating_sub(100) >= pct
        {
            crate::log::notice(&format!(
                "Starting automatic rewriting of AOF on {}% growth",
                (total * 100 / base).saturating_sub(100)
            ));
            self.start_rewrite(false);
        }
        let _ = tables;
    }

    fn start_rewrite(&mut self, enabling: bool) {
        if let Err(e) = crate::aof::start_rewrite(&mut self.shard, enabling) {
            crate::log::warning(&e);
        }
    }
}
