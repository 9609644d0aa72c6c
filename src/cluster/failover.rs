//! Replica elections and manual failover (sans-IO), as Redis 7.0 runs them (cluster-spec 7):
//! a replica of a FAIL master waits a delay ranked by replication offset, asks every master
//! for a vote in a new epoch (FAILOVER_AUTH_REQUEST), masters grant one vote per epoch
//! (FAILOVER_AUTH_ACK), and a quorum of slot-serving masters makes the replica take over its
//! master's slots with the election epoch as its configEpoch. Manual failover (CLUSTER
//! FAILOVER) pauses the master's writes (MFSTART, PAUSED flag) until the replica has caught up.

use crate::cluster::links::BusOut;
use crate::cluster::message::{mflag, mtype, Body, Message};
use crate::cluster::node::flag;
use crate::cluster::state::ClusterState;

/// How long a master must have been orphaned before a replica migrates to it.
const REPLICA_MIGRATION_DELAY_MS: u64 = 5000;
/// How long a manual failover may take before it is aborted (Redis' CLUSTER_MF_TIMEOUT).
pub const MF_TIMEOUT_MS: u64 = 5000;

/// A replica's election and a manual failover in progress, if any.
#[derive(Clone, Debug, Default)]
pub struct Election {
    /// When the vote request goes out (or went out); 0 = no attempt yet.
    pub auth_time_ms: u64,
    pub auth_count: usize,
    pub auth_sent: bool,
    pub auth_rank: usize,
    pub auth_epoch: u64,
    /// Manual failover deadline (0 = none in progress).
    pub mf_end_ms: u64,
    /// Replica side: the election may start (caught up, or FORCE).
    pub mf_can_start: bool,
    /// Replica side: the master's final offset, learned from a PAUSED header.
    pub mf_master_offset: Option<u64>,
    /// Master side: the replica doing the manual failover.
    pub mf_replica: Option<u16>,
    /// Last reason logged for not failing over (logged once per change).
    pub cant_reason: &'static str,
}

/// What the replication layer reports to the elections (set by the bus driver every tick).
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplView {
    /// The link to our master is up.
    pub link_up: bool,
    /// Unix ms of the last interaction with the master (link up) or of the link going down.
    pub last_io_ms: u64,
}

impl ClusterState {
    /// AUTH_REQUEST, AUTH_ACK and MFSTART from known node `s`.
    pub(super) fn on_failover_message(&mut self, now_ms: u64, s: u16, m: &Message) {
        match m.hdr.mtype {
            mtype::AUTH_REQUEST => self.maybe_vote(now_ms, s, m),
            mtype::AUTH_ACK => {
                let n = self.node(s);
                if n.is_master()
                    && n.slots.count() > 0
                    && m.hdr.current_epoch >= self.election.auth_epoch
                {
                    self.election.auth_count += 1;
                    self.handle_replica_failover(now_ms);
                }
            }
            mtype::MFSTART => self.on_mfstart(now_ms, s),
            _ => {}
        }
    }

    /// The replica's part of the cron: manual failover progress, the election, and replica
    /// migration to an orphaned master.
    pub(super) fn on_failover_tick(&mut self, now_ms: u64) {
        self.manual_failover_tick(now_ms);
        if self.myself_node().is_replica() {
            self.handle_replica_failover(now_ms);
            self.maybe_migrate_replica(now_ms);
        }
    }

    fn working_replicas(&self, master: u16) -> usize {
        self.replicas_of(master)
            .into_iter()
            .filter(|&r| !self.node(r).failed())
            .count()
    }

    /// Replica migration (cluster-migration-barrier): when a master serving slots has lost
    /// all its replicas for a while, one replica of the best-covered master moves over to it.
    /// Only the replica with the smallest id among the best-covered masters' replicas moves,
    /// so several do not move at once.
    fn maybe_migrate_replica(&mut self, now_ms: u64) {
        let Some(mine) = self.my_master() else {
            return;
        };
        let masters: Vec<u16> = self
            .nodes()
            .filter(|(_, n)| n.is_master() && !n.failed())
            .map(|(i, _)| i)
            .collect();
        let counts: Vec<(u16, usize)> = masters
            .iter()
            .map(|&m| (m, self.working_replicas(m)))
            .collect();
        let max = counts.iter().map(|c| c.1).max().unwrap_or(0);
        let mine_count = self.working_replicas(mine);
        let mut target = None;
        for &(m, ok) in &counts {
            let n = self.node(m);
            let orphaned = ok == 0 && n.has(flag::MIGRATE_TO);
            if orphaned {
                if target.is_none() && n.slots.count() > 0 {
                    target = Some(m);
                }
                if n.orphaned_time_ms == 0 {
                    self.node_mut(m).orphaned_time_ms = now_ms;
                }
            } else {
                self.node_mut(m).orphaned_time_ms = 0;
            }
        }
        let eligible = self.state_ok
            && self.allow_replica_migration
            && max >= 2
            && mine_count == max
            && mine_count > self.migration_barrier;
        let Some(t) = target.filter(|_| eligible) else {
            return;
        };
        let candidate = counts
            .iter()
            .filter(|c| c.1 == max)
            .flat_map(|c| self.replicas_of(c.0))
            .map(|r| self.node(r).id.as_str())
            .min();
        if candidate != Some(self.my_id()) {
            return;
        }
        if now_ms.saturating_sub(self.node(t).orphaned_time_ms) > REPLICA_MIGRATION_DELAY_MS {
            crate::log::notice(&format!("Migrating to orphaned master {}", self.node(t).id));
            self.set_my_master(t);
        }
    }

    /// Replicas of our master with a better offset (nofailover ones do not count).
    fn failover_rank(&self, master: u16) -> usize {
        let mine = self.my_repl_offset;
        self.replicas_of(master)
            .into_iter()
            .filter(|&r| r != self.myself)
            .map(|r| self.node(r))
            .filter(|n| !n.has(flag::NOFAILOVER) && n.repl_offset > mine)
            .count()
    }

    fn cant_failover(&mut self, reason: &'static str) {
        if self.election.cant_reason != reason {
            self.election.cant_reason = reason;
            crate::log::notice(&format!("Currently unable to failover: {reason}"));
        }
    }

    /// Runs the election state machine (cluster-spec 7.2).
    pub(super) fn handle_replica_failover(&mut self, now_ms: u64) {
        let timeout = self.node_timeout_ms;
        let auth_timeout = (timeout * 2).max(2000);
        let auth_retry = auth_timeout * 2;
        let manual = self.election.mf_end_ms != 0 && self.election.mf_can_start;
        let Some(master) = self.my_master() else {
            return;
        };
        let m = self.node(master);
        if m.slots.count() == 0 || !(m.failed() || manual) {
            self.election.cant_reason = "";
            return;
        }
        if self.replica_no_failover && !manual {
            self.cant_failover("Disabled by cluster-replica-no-failover.");
            return;
        }
        if !manual && !self.data_fresh_enough(now_ms) {
            self.cant_failover("Disconnected from master for longer than allowed.");
            return;
        }
        if now_ms.saturating_sub(self.election.auth_time_ms) > auth_retry {
            self.schedule_election(now_ms, master, manual);
            return;
        }
        if !self.election.auth_sent && !manual {
            let rank = self.failover_rank(master);
            if rank > self.election.auth_rank {
                let added = (rank - self.election.auth_rank) as u64 * 1000;
                self.election.auth_time_ms += added;
                self.election.auth_rank = rank;
                crate::log::notice(&format!(
                    "Replica rank updated to #{rank}, added {added} milliseconds of delay."
                ));
            }
        }
        if now_ms < self.election.auth_time_ms {
            self.cant_failover("Waiting the delay before I can start a new failover.");
            return;
        }
        if now_ms - self.election.auth_time_ms > auth_timeout {
            self.cant_failover("Failover attempt expired.");
            return;
        }
        if !self.election.auth_sent {
            self.current_epoch += 1;
            self.election.auth_epoch = self.current_epoch;
            // A candidate never votes for a rival in its own election epoch (Redis would, once
            // promoted; found by the simulator: two winners in one epoch).
            self.last_vote_epoch = self.current_epoch;
            crate::log::notice(&format!(
                "Starting a failover election for epoch {}.",
                self.current_epoch
            ));
            let mut msg = Message {
                hdr: self.header(mtype::AUTH_REQUEST),
                body: Body::Empty,
            };
            if manual {
                msg.hdr.mflags |= mflag::FORCEACK;
            }
            self.broadcast(&msg);
            self.election.auth_sent = true;
            self.save_later(true);
            return;
        }
        let quorum = self.size / 2 + 1;
        if self.election.auth_count < quorum {
            self.cant_failover("Waiting for votes, but majority still not reached.");
            return;
        }
        crate::log::notice("Failover election won: I'm the new master.");
        if self.myself_node().config_epoch < self.election.auth_epoch {
            let epoch = self.election.auth_epoch;
            self.myself_mut_pub().config_epoch = epoch;
            crate::log::notice(&format!(
                "configEpoch set to {epoch} after successful failover"
            ));
        }
        self.replace_my_master(master);
    }

    /// The data-age check that keeps a long-disconnected replica out of elections.
    fn data_fresh_enough(&self, now_ms: u64) -> bool {
        let timeout = self.node_timeout_ms;
        let mut age = now_ms.saturating_sub(self.repl_view.last_io_ms);
        if self.repl_view.last_io_ms == 0 {
            // Never linked: Redis counts from the link-down time, which is start-up.
            age = 0;
        }
        if age > timeout {
            age -= timeout;
        }
        let factor = self.replica_validity_factor;
        factor == 0 || age <= self.repl_ping_period_ms + timeout * factor
    }

    fn schedule_election(&mut self, now_ms: u64, master: u16, manual: bool) {
        let e = &mut self.election;
        e.auth_count = 0;
        e.auth_sent = false;
        if manual {
            e.auth_time_ms = now_ms;
            e.auth_rank = 0;
        } else {
            let jitter = self.next_random() % 500;
            let rank = self.failover_rank(master);
            let e = &mut self.election;
            e.auth_rank = rank;
            e.auth_time_ms = now_ms + 500 + jitter + rank as u64 * 1000;
        }
        crate::log::notice(&format!(
            "Start of election delayed for {} milliseconds (rank #{}, offset {}).",
            self.election.auth_time_ms.saturating_sub(now_ms),
            self.election.auth_rank,
            self.my_repl_offset
        ));
        // Let the other replicas of our master see our offset now, to rank themselves.
        let pong = self.ping_message(mtype::PONG);
        for r in self.replicas_of(master) {
            if r == self.myself {
                continue;
            }
            if let Some(link) = self
                .node(r)
                .out_link
                .filter(|_| self.node(r).link_connected)
            {
                self.stats_sent[mtype::PONG as usize] += 1;
                self.outbox.push(BusOut::Send {
                    link,
                    bytes: bytes::Bytes::from(crate::cluster::message::encode(&pong)),
                });
            }
        }
    }

    /// The winner takes its master's slots and tells everybody (cluster-spec 7.5).
    pub(super) fn replace_my_master(&mut self, old: u16) {
        let me = self.myself;
        let node = self.myself_mut_pub();
        node.flags = (node.flags & !flag::SLAVE) | flag::MASTER;
        node.master_id = None;
        for s in self.node(old).slots.iter().collect::<Vec<_>>() {
            self.bind_slot(s, me);
        }
        self.outbox.push(BusOut::ReplicateFrom(None));
        self.election = Election::default();
        self.save_later(true);
        self.touch();
        self.broadcast_pong();
    }

    /// Master side of the vote (cluster-spec 7.3).
    fn maybe_vote(&mut self, now_ms: u64, s: u16, m: &Message) {
        let me = self.myself_node();
        if !me.is_master() || me.slots.count() == 0 {
            return;
        }
        let hdr = &m.hdr;
        let force = hdr.mflags & mflag::FORCEACK != 0;
        let id = self.node(s).id.clone();
        if hdr.current_epoch < self.current_epoch {
            crate::log::notice(&format!(
                "Failover auth denied to {id}: reqEpoch ({}) < curEpoch({})",
                hdr.current_epoch, self.current_epoch
            ));
            return;
        }
        if self.last_vote_epoch == self.current_epoch {
            crate::log::notice(&format!(
                "Failover auth denied to {id}: already voted for epoch {}",
                self.current_epoch
            ));
            return;
        }
        let master = self
            .node(s)
            .master_id
            .as_deref()
            .and_then(|mid| self.lookup(mid));
        let Some(master) = master.filter(|_| self.node(s).is_replica()) else {
            crate::log::notice(&format!(
                "Failover auth denied to {id}: it is a master or its master is unknown"
            ));
            return;
        };
        if !self.node(master).failed() && !force {
            crate::log::notice(&format!("Failover auth denied to {id}: its master is up"));
            return;
        }
        if now_ms.saturating_sub(self.node(master).voted_time_ms) < 2 * self.node_timeout_ms {
            crate::log::notice(&format!(
                "Failover auth denied to {id}: can't vote about this master before {} ms",
                2 * self.node_timeout_ms
            ));
            return;
        }
        for slot in hdr.myslots.iter() {
            let owner = self.owner_of(slot);
            if owner == crate::cluster::slot_map::NO_NODE {
                continue;
            }
            if self.node(owner).config_epoch > hdr.config_epoch {
                crate::log::notice(&format!(
                    "Failover auth denied to {id}: slot {slot} epoch ({}) > reqEpoch ({})",
                    self.node(owner).config_epoch,
                    hdr.config_epoch
                ));
                return;
            }
        }
        self.last_vote_epoch = self.current_epoch;
        self.node_mut(master).voted_time_ms = now_ms;
        self.save_later(true);
        crate::log::notice(&format!(
            "Failover auth granted to {id} for epoch {}",
            self.current_epoch
        ));
        if let Some(link) = self
            .node(s)
            .out_link
            .filter(|_| self.node(s).link_connected)
        {
            let ack = Message {
                hdr: self.header(mtype::AUTH_ACK),
                body: Body::Empty,
            };
            self.send(link, &ack);
        }
    }

    /// CLUSTER FAILOVER on a replica (checked by the command): TAKEOVER at once, FORCE without
    /// waiting for the master, default with the master paused until we caught up.
    pub fn start_manual_failover(&mut self, now_ms: u64, force: bool, takeover: bool) {
        let Some(master) = self.my_master() else {
            return;
        };
        self.election = Election {
            mf_end_ms: now_ms + MF_TIMEOUT_MS,
            ..Election::default()
        };
        if takeover {
            crate::log::notice("Taking over the master (user request).");
            self.bump_epoch_without_consensus();
            self.replace_my_master(master);
            return;
        }
        if force {
            crate::log::notice("Forced failover user request accepted.");
            self.election.mf_can_start = true;
            return;
        }
        crate::log::notice("Manual failover user request accepted.");
        if let Some(link) = self.node(master).out_link {
            let m = Message {
                hdr: self.header(mtype::MFSTART),
                body: Body::Empty,
            };
            self.send(link, &m);
        }
    }

    /// Master side: a replica asks us to pause writes so it can take over without losses.
    fn on_mfstart(&mut self, now_ms: u64, s: u16) {
        let me_id = self.my_id().to_string();
        let n = self.node(s);
        if !n.is_replica() || n.master_id.as_deref() != Some(me_id.as_str()) {
            return;
        }
        crate::log::notice(&format!("Manual failover requested by replica {}.", n.id));
        self.election = Election {
            mf_end_ms: now_ms + MF_TIMEOUT_MS,
            mf_replica: Some(s),
            ..Election::default()
        };
        self.outbox.push(BusOut::PauseWrites {
            until_ms: now_ms + MF_TIMEOUT_MS * 2,
        });
        // Ping the replica at once so it learns our final offset.
        if let Some(link) = self.node(s).out_link {
            self.send_ping(link, mtype::PING, now_ms);
        }
    }

    /// A PAUSED header from our master: its offset is final for the manual failover.
    pub(super) fn note_paused_master(&mut self, s: u16, mflags: u8, offset: u64) {
        let e = &self.election;
        if e.mf_end_ms != 0
            && e.mf_master_offset.is_none()
            && mflags & mflag::PAUSED != 0
            && self.my_master() == Some(s)
        {
            self.election.mf_master_offset = Some(offset);
            crate::log::notice(&format!(
                "Received replication offset for paused master manual failover: {offset}"
            ));
        }
    }

    fn manual_failover_tick(&mut self, now_ms: u64) {
        let e = &self.election;
        if e.mf_end_ms == 0 {
            return;
        }
        if now_ms > e.mf_end_ms {
            crate::log::warning("Manual failover timed out.");
            if e.mf_replica.is_some() {
                self.outbox.push(BusOut::PauseWrites { until_ms: 0 });
            }
            self.election = Election::default();
            return;
        }
        if let Some(r) = e.mf_replica {
            // Master: keep the replica informed every cron run.
            if let Some(link) = self
                .node(r)
                .out_link
                .filter(|_| self.node(r).link_connected)
            {
                self.send_ping(link, mtype::PING, now_ms);
            }
            return;
        }
        if e.mf_can_start {
            return;
        }
        if let Some(off) = e.mf_master_offset {
            if self.my_repl_offset >= off {
                self.election.mf_can_start = true;
                crate::log::notice(
                    "All master replication stream processed, manual failover can start.",
                );
            }
        }
    }

    /// Our header flag while we are a master paused for a manual failover.
    pub(super) fn paused_flag(&self) -> u8 {
        if self.election.mf_replica.is_some() {
            mflag::PAUSED
        } else {
            0
        }
    }
}
