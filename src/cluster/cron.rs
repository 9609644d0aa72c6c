//! The timed side of the cluster state (sans-IO): the 100 ms cron (links, pings, handshake
//! timeouts, PFAIL), link events reported by the driver, and the node-table operations that
//! commands and gossip share (MEET, FORGET, delete, rename, becoming a replica).

use crate::cluster::links::BusOut;
use crate::cluster::message::mtype;
use crate::cluster::node::{flag, LinkId, Node};
use crate::cluster::state::ClusterState;
use crate::constants::SLOT_COUNT;

/// How long a forgotten node stays out of gossip (CLUSTER FORGET).
pub const FORGET_BLACKLIST_MS: u64 = 60_000;
/// A random ping goes out every this many cron runs (about once a second).
const RANDOM_PING_EVERY_RUNS: u64 = 10;
/// Candidates sampled for the random ping.
const RANDOM_PING_SAMPLES: usize = 5;

impl ClusterState {
    /// One cron run (every 100 ms).
    pub fn on_tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.cron_runs += 1;
        let timeout = self.node_timeout_ms;
        let handshake_timeout = timeout.max(1000);
        self.blacklist.retain(|_, until| *until > now_ms);
        let ids: Vec<u16> = self.nodes().map(|(i, _)| i).collect();
        self.pfail_nodes = 0;
        for &i in &ids {
            let n = self.node(i);
            if i == self.myself || n.has(flag::NOADDR) {
                continue;
            }
            let pfail = n.has(flag::PFAIL);
            if pfail {
                self.pfail_nodes += 1;
            }
            let n = self.node(i);
            if n.has(flag::HANDSHAKE) && now_ms.saturating_sub(n.ctime_ms) > handshake_timeout {
                crate::log::verbose(&format!("Handshake with {}:{} timed out", n.ip, n.cport));
                self.del_node(i);
                continue;
            }
            if n.out_link.is_none() && !n.ip.is_empty() && n.cport != 0 {
                let (ip, cport) = (n.ip.clone(), n.cport);
                let link = self.new_link(Some(i), false, now_ms);
                let node = self.node_mut(i);
                node.out_link = Some(link);
                node.link_created_ms = now_ms;
                self.outbox.push(BusOut::Connect { link, ip, cport });
            }
        }
        if self.cron_runs.is_multiple_of(RANDOM_PING_EVERY_RUNS) {
            self.ping_random_node(now_ms);
        }
        for &i in &ids {
            if self.nodes[i as usize].is_some() {
                self.check_node(now_ms, i);
            }
        }
        self.on_failover_tick(now_ms);
        if !self.state_ok {
            self.touch_state_only();
        }
    }

    /// The oldest-pong node among a few random ones gets a PING.
    fn ping_random_node(&mut self, now_ms: u64) {
        let live: Vec<u16> = self.nodes().map(|(i, _)| i).collect();
        let mut best: Option<u16> = None;
        for _ in 0..RANDOM_PING_SAMPLES {
            let i = live[(self.next_random() % live.len() as u64) as usize];
            let n = self.node(i);
            if i == self.myself
                || !n.link_connected
                || n.ping_sent_ms != 0
                || n.has(flag::HANDSHAKE)
            {
                continue;
            }
            if best.is_none_or(|b| n.pong_received_ms < self.node(b).pong_received_ms) {
                best = Some(i);
            }
        }
        if let Some(link) = best.and_then(|b| self.node(b).out_link) {
            self.send_ping(link, mtype::PING, now_ms);
        }
    }

    /// Link recycling, freshness pings and PFAIL for one node.
    fn check_node(&mut self, now_ms: u64, i: u16) {
        let timeout = self.node_timeout_ms;
        let n = self.node(i);
        if i == self.myself || n.has(flag::NOADDR | flag::HANDSHAKE) {
            return;
        }
        let ping_age = now_ms.saturating_sub(n.ping_sent_ms);
        let data_age = now_ms.saturating_sub(n.data_received_ms);
        if let Some(link) = n.out_link.filter(|_| n.link_connected) {
            let stale = now_ms.saturating_sub(n.link_created_ms) > timeout
                && n.ping_sent_ms != 0
                && ping_age > timeout / 2
                && data_age > timeout / 2;
            if stale {
                self.drop_link(link);
            } else if n.ping_sent_ms == 0 && now_ms.saturating_sub(n.pong_received_ms) > timeout / 2
            {
                self.send_ping(link, mtype::PING, now_ms);
            }
        }
        let n = self.node(i);
        if n.ping_sent_ms != 0
            && ping_age.min(data_age) > timeout
            && !n.has(flag::PFAIL | flag::FAIL)
        {
            crate::log::debug(&format!("*** NODE {} possibly failing", n.id));
            self.node_mut(i).flags |= flag::PFAIL;
            self.touch();
        }
    }

    /// The driver connected outbound link `link`: greet with MEET or PING.
    pub fn link_up(&mut self, now_ms: u64, link: LinkId) {
        let Some(n) = self.links.get_mut(&link).and_then(|l| {
            l.connected = true;
            l.node
        }) else {
            return;
        };
        let node = self.node_mut(n);
        node.link_connected = true;
        let old_ping = node.ping_sent_ms;
        let t = if node.has(flag::MEET) {
            mtype::MEET
        } else {
            mtype::PING
        };
        // MEET stays set until the node contacts us (gossip.rs): a MEET lost with its link is
        // sent again on the next connection instead of leaving a one-sided handshake.
        self.send_ping(link, t, now_ms);
        if old_ping != 0 {
            self.node_mut(n).ping_sent_ms = old_ping;
        }
    }

    /// The driver lost (or could not open) `link`.
    pub fn link_down(&mut self, now_ms: u64, link: LinkId) {
        let Some(l) = self.links.get(&link).cloned() else {
            return;
        };
        if let Some(n) = l.node.filter(|&n| self.is_live(n)) {
            let node = self.node_mut(n);
            if node.out_link == Some(link) && node.ping_sent_ms == 0 {
                // A dead address must still time out into PFAIL.
                node.ping_sent_ms = now_ms;
            }
        }
        self.drop_link(link);
    }

    /// CLUSTER MEET: a handshake entry the cron connects to (cluster-spec 3.7).
    pub fn meet(&mut self, now_ms: u64, ip: &str, port: u16, cport: u16) {
        let pending = self.nodes().any(|(_, n)| {
            n.has(flag::HANDSHAKE) && n.ip == ip && n.port == port && n.cport == cport
        });
        if pending {
            return;
        }
        let id = self.random_id();
        self.add_node(Node {
            id,
            ip: ip.to_string(),
            port,
            cport,
            flags: flag::HANDSHAKE | flag::MEET,
            ctime_ms: now_ms,
            ..Default::default()
        });
        self.touch();
    }

    /// CLUSTER FORGET (checked by the caller): remove the node and keep it out for a minute.
    pub fn forget(&mut self, now_ms: u64, idx: u16) {
        let id = self.node(idx).id.clone();
        self.blacklist.insert(id, now_ms + FORGET_BLACKLIST_MS);
        self.del_node(idx);
        self.touch();
    }

    pub(super) fn blacklisted(&self, now_ms: u64, id: &str) -> bool {
        self.blacklist.get(id).is_some_and(|&until| until > now_ms)
    }

    /// Removes a node: its links, slots, open-slot marks and the failure reports it made.
    pub fn del_node(&mut self, idx: u16) {
        let n = self.node(idx);
        let links: Vec<LinkId> = n.out_link.into_iter().chain(n.in_link).collect();
        let id = n.id.clone();
        for l in links {
            self.drop_link(l);
        }
        for s in 0..SLOT_COUNT as u16 {
            if self.owner_of(s) == idx {
                self.unbind_slot(s);
            }
        }
        self.migrating_to.retain(|_, &mut t| t != idx);
        self.importing_from.retain(|_, &mut f| f != idx);
        if self.election.mf_replica == Some(idx) {
            // The replica we paused for is gone: resume writes at once.
            self.election = Default::default();
            self.outbox.push(BusOut::PauseWrites { until_ms: 0 });
        }
        let stale: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.node == Some(idx))
            .map(|(&k, _)| k)
            .collect();
        for l in stale {
            self.drop_link(l);
        }
        for n in self.nodes.iter_mut().flatten() {
            n.fail_reports.retain(|r| r.0 != id);
        }
        self.by_id.remove(&id);
        self.nodes[idx as usize] = None;
        self.save_later(false);
        self.touch();
    }

    /// Gives handshake entry `idx` the id its owner announced.
    pub(super) fn rename_node(&mut self, idx: u16, id: &str) {
        let old = std::mem::replace(&mut self.node_mut(idx).id, id.to_string());
        self.by_id.remove(&old);
        self.by_id.insert(id.to_string(), idx);
    }

    /// Makes myself a replica of master `m` (CLUSTER REPLICATE, or slots taken over).
    pub fn set_my_master(&mut self, m: u16) {
        let me = self.myself;
        assert_ne!(m, me, "a node cannot replicate itself");
        let master_id = self.node(m).id.clone();
        let (ip, port) = (self.node(m).ip.clone(), self.node(m).port);
        let node = self.node_mut(me);
        if node.is_master() {
            node.flags = (node.flags & !(flag::MASTER | flag::MIGRATE_TO)) | flag::SLAVE;
            self.migrating_to.clear();
            self.importing_from.clear();
        }
        for s in 0..SLOT_COUNT as u16 {
            if self.owner_of(s) == me {
                self.unbind_slot(s);
            }
        }
        self.node_mut(me).master_id = Some(master_id);
        self.node_mut(m).flags |= flag::MIGRATE_TO;
        if self.election.mf_replica.is_some() {
            // A paused master that just lost its slots: held writes now get redirected.
            self.election = Default::default();
            self.outbox.push(BusOut::PauseWrites { until_ms: 0 });
        }
        self.outbox.push(BusOut::ReplicateFrom(Some((ip, port))));
        self.save_later(true);
        self.touch();
    }

    /// BUMPEPOCH (and SETSLOT NODE after an import, FAILOVER TAKEOVER): a new configEpoch
    /// without an election, unless ours is already the strict maximum. True when bumped.
    pub fn bump_epoch_without_consensus(&mut self) -> bool {
        let max = self
            .nodes()
            .map(|(_, n)| n.config_epoch)
            .max()
            .unwrap_or(0)
            .max(self.current_epoch);
        let mine = self.myself_node().config_epoch;
        if mine != 0 && mine == max {
            return false;
        }
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        self.myself_mut_pub().config_epoch = epoch;
        self.save_later(true);
        true
    }

    /// Our master's client address when we are a replica of a known, addressed master.
    pub fn my_master_addr(&self) -> Option<(String, u16)> {
        let me = self.myself_node();
        if !me.is_replica() {
            return None;
        }
        let m = self.node(self.lookup(me.master_id.as_deref()?)?);
        (!m.ip.is_empty() && m.port != 0).then(|| (m.ip.clone(), m.port))
    }

    pub(crate) fn myself_mut_pub(&mut self) -> &mut Node {
        let me = self.myself;
        self.node_mut(me)
    }

    /// Re-evaluates the cluster state without bumping the map version unless it changed.
    fn touch_state_only(&mut self) {
        let before = (self.state_ok, self.size);
        self.refresh_state();
        if before != (self.state_ok, self.size) {
            self.version += 1;
        }
    }
}
