//! The event loop's side of blocking commands: serve waiters whose keys became ready, time
//! them out, retry the ones whose keys span shards, forget those of closed connections, and
//! redirect them when their slot moves. Replies go to the waiter's connection, on this shard
//! or through the mesh.

use super::*;

impl Reactor {
    /// Runs waiters on keys written this turn, keys in the order they became ready and each
    /// key's waiters oldest first, until each key runs dry. A waiter learns which key woke it.
    pub(super) fn serve_blocked(&mut self) {
        let now = self.now_ms;
        while !self.shard.blocked.ready.is_empty() {
            // Keys made ready while serving these wait for the next pass, as Redis' ready list.
            let keys = std::mem::take(&mut self.shard.blocked.ready);
            for key in keys {
                self.serve_key(&key, now);
            }
        }
    }

    /// Serves the waiters of one ready key (`dbs::tagged`).
    fn serve_key(&mut self, key: &[u8], now: u64) {
        while let Some(w) = self.shard.blocked.pop_first(key) {
            let mut buf = Vec::new();
            self.shard.sel = w.db;
            self.shard.blocked.rerun = true;
            // Past the database tag (`dbs::tagged`): the key as the command names it.
            self.shard.blocked.woken = Some(key[std::mem::size_of::<u32>()..].to_vec());
            exec::run_key(
                &mut self.shard,
                crate::commands::spec_of(w.cmd),
                w.args.args(),
                &mut Out::new(&mut buf, w.proto),
                now,
                None,
            );
            self.shard.blocked.rerun = false;
            self.shard.blocked.woken = None;
            if let Some(req) = self.shard.block_request.take() {
                // Someone was faster: back to the head of the line.
                self.shard.blocked.push_front(Waiter {
                    keys: req.keys,
                    ..w
                });
                break;
            }
            self.deliver(w.home, w.conn, w.seq, &buf);
        }
    }

    /// Sends a waiter's reply to its connection.
    pub(super) fn deliver(&mut self, home: usize, conn: ConnRef, seq: u64, data: &[u8]) {
        if home != self.shard.id {
            let r = &mut self.reply_box[home];
            r.data.extend_from_slice(data);
            r.items.push((conn, seq, r.data.len() as u32));
            return;
        }
        self.fill_reply(conn, seq, data);
    }

    /// Every cron tick: timeouts (a null reply) and the retry of waiters polling other shards.
    pub(super) fn blocked_cron(&mut self) {
        if self.shard.blocked.is_empty() {
            return;
        }
        let now = self.now_ms;
        for w in self.shard.blocked.take_expired(now) {
            let mut buf = Vec::new();
            crate::commands::list::write_timeout_reply(&mut Out::new(&mut buf, w.proto));
            self.deliver(w.home, w.conn, w.seq, &buf);
        }
        for w in self.shard.blocked.take_polling() {
            let Some(ids) = w.poll_shards.clone() else {
                continue;
            };
            let mut buf = Vec::new();
            let client = self
                .conns
                .get(w.conn.idx as usize)
                .and_then(|c| c.as_ref())
                .map(|c| c.client);
            let Some(client) = client else { continue };
            let mut out = Out::new(&mut buf, w.proto);
            self.shard.blocked.rerun = true;
            let plan = exec::plan(&mut self.shard, client, w.args.args(), &mut out, now);
            self.shard.blocked.rerun = false;
            if let Plan::Blocked { .. } = plan {
                self.shard.block_request = None;
                self.shard.blocked.add(Waiter {
                    poll_shards: Some(ids),
                    ..w
                });
                continue;
            }
            self.deliver(w.home, w.conn, w.seq, &buf);
        }
    }

    /// A connection closed: its waiters here go, and other shards are told (only when it had
    /// commands out there).
    pub(super) fn forget_blocked(&mut self, conn: ConnRef, had_remote: bool) {
        let me = self.shard.id;
        self.shard.blocked.drop_conn(me, conn);
        if !had_remote {
            return;
        }
        for to in 0..self.shard.shards {
            if to != me {
                self.mesh
                    .send_blocking(to, MeshMsg::DropConn { home: me, conn });
            }
        }
    }

    /// After a slot map change, a waiter whose slot is no longer served here gets the redirect
    /// (or CLUSTERDOWN) instead of waiting forever.
    pub(super) fn recheck_blocked_slots(&mut self) {
        if self.shard.blocked.is_empty() || !self.shard.slot_map.cluster_enabled {
            return;
        }
        let map = self.shard.slot_map.clone();
        for w in self.shard.blocked.take_all() {
            let args = w.args.args();
            let keys = crate::commands::spec_of(w.cmd)
                .key_positions(args)
                .unwrap_or_default();
            let flags = crate::route::CmdFlags {
                write: true,
                asking: false,
                migrate: false,
            };
            // A failed cluster unblocks everyone with CLUSTERDOWN, even when reads are allowed
            // while down (Redis does the same for blocked clients).
            let d = if map.state_ok {
                crate::route::decide(
                    args,
                    &keys,
                    &map,
                    self.shard.shards,
                    Default::default(),
                    flags,
                )
            } else {
                crate::route::Decision::Reply(crate::resp::ReplyError::ClusterDownState)
            };
            if let crate::route::Decision::Reply(e) = d {
                let mut buf = Vec::new();
                Out::new(&mut buf, w.proto).error(&e);
                self.deliver(w.home, w.conn, w.seq, &buf);
            } else {
                self.shard.blocked.add(w);
            }
        }
    }
}
