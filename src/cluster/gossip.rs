//! The receive path of the cluster bus (sans-IO): one decoded message in, state changes and
//! actions out, following Redis 7.0's packet processing step by step (cluster-spec 5.9):
//! sender identification, epochs, MEET and the handshake rename, address updates, PONG
//! bookkeeping, roles, slot ownership by configEpoch (with UPDATE for stale claims), epoch
//! collisions, gossip sections with failure reports, FAIL, PUBLISH and UPDATE.

use crate::cluster::links::BusOut;
use crate::cluster::message::{self, mtype, Body, Gossip, Header, Message};
use crate::cluster::node::{flag, LinkId, Node, SlotBits};
use crate::cluster::slot_map::NO_NODE;
use crate::cluster::state::ClusterState;
use crate::config::announce::{check_hostname, valid_bus_ip};
use crate::constants::CLUSTER_NODES_MAX;

/// Where a message came from, as the driver saw the socket.
pub struct Origin<'a> {
    pub link: LinkId,
    /// The peer's address (used when the sender announces no ip).
    pub peer_ip: &'a str,
    /// Our address on this connection (how the peer reaches us: our ip, learned from a MEET).
    pub local_ip: &'a str,
}

impl ClusterState {
    /// Processes one whole message received on `from.link`.
    pub fn on_message(&mut self, now_ms: u64, from: &Origin<'_>, raw: &[u8]) {
        self.now_ms = now_ms;
        let msg = match message::decode(raw) {
            Ok(m) => m,
            Err(e) => {
                crate::log::debug(&format!("Cluster bus: dropped a message ({e})"));
                return;
            }
        };
        let t = msg.hdr.mtype;
        self.stats_received[t as usize] += 1;
        if self.drop_packet_filter == i64::from(t) {
            // DEBUG DROP-CLUSTER-PACKET-FILTER: counted as received, then dropped (as Redis).
            crate::log::warning("Dropping packet that matches debug drop filter");
            return;
        }
        if !msg.hdr.myip.is_empty() && !valid_bus_ip(&msg.hdr.myip) {
            // Verbose, not warning: a misconfigured peer sends this several times a second.
            crate::log::verbose(&format!(
                "Cluster bus: ignored a message from {} announcing an invalid address",
                from.peer_ip
            ));
            return;
        }
        let Some(link) = self.links.get(&from.link).cloned() else {
            return;
        };
        let hdr = &msg.hdr;
        let mut sender = match link.node {
            Some(n) if !self.node(n).has(flag::HANDSHAKE) => Some(n),
            _ => self.lookup(&hdr.sender),
        };
        if let Some(s) = sender {
            if link.inbound && link.node.is_none() {
                self.bind_inbound(from.link, s);
            }
            if link.inbound {
                // It connected to us, so it knows us: no more MEETs needed.
                self.node_mut(s).flags &= !flag::MEET;
            }
            self.node_mut(s).data_received_ms = now_ms;
            if !self.node(s).has(flag::HANDSHAKE) {
                self.note_epochs(s, hdr);
            }
        }
        if t == mtype::PING || t == mtype::MEET {
            self.on_ping_or_meet(now_ms, from, &msg, sender);
        }
        if matches!(t, mtype::PING | mtype::PONG | mtype::MEET) {
            if !link.inbound {
                match self.outbound_identity(from.link, &link, hdr) {
                    Some(s) => sender = Some(s),
                    None => return,
                }
            }
            let Some(s) = sender else {
                return;
            };
            self.on_ping_family(now_ms, from, &link, s, &msg);
            return;
        }
        let Some(s) = sender else {
            crate::log::debug("Cluster bus: message from an unknown node ignored");
            return;
        };
        match msg.body {
            Body::Fail { id } => self.on_fail(now_ms, s, &id),
            Body::Publish { channel, message } => self.outbox.push(BusOut::Publish {
                sharded: t == mtype::PUBLISHSHARD,
                channel,
                message,
            }),
            Body::Update {
                config_epoch,
                id,
                slots,
            } => self.on_update(config_epoch, &id, &slots),
            _ => self.on_failover_message(now_ms, s, &msg),
        }
    }

    /// Step 3: currentEpoch is a Lamport clock; a higher configEpoch of the sender is adopted.
    fn note_epochs(&mut self, s: u16, hdr: &Header) {
        if hdr.current_epoch > self.current_epoch {
            self.current_epoch = hdr.current_epoch;
            self.save_later(true);
        }
        self.note_paused_master(s, hdr.mflags, hdr.offset);
        let n = self.node_mut(s);
        n.repl_offset = hdr.offset;
        // A replica's header carries its master's epoch: only a master's is its own. (Redis
        // adopts both; found by the simulator, that lets a demoted master hold its old slots
        // at the winner's epoch.)
        if hdr.slaveof.is_none() && hdr.config_epoch > n.config_epoch {
            n.config_epoch = hdr.config_epoch;
            self.save_later(true);
        }
    }

    /// Step 4: learn our own ip, add the sender of a MEET, and always answer with a PONG.
    fn on_ping_or_meet(&mut self, now_ms: u64, from: &Origin<'_>, m: &Message, s: Option<u16>) {
        let hdr = &m.hdr;
        let me = self.myself;
        if !self.announced_ip
            && (hdr.mtype == mtype::MEET || self.node(me).ip.is_empty())
            && !from.local_ip.is_empty()
            && self.node(me).ip != from.local_ip
        {
            self.node_mut(me).ip = from.local_ip.to_string();
            crate::log::notice(&format!(
                "IP address for this node updated to {}",
                from.local_ip
            ));
            self.save_later(false);
            self.touch();
        }
        if s.is_none() && hdr.mtype == mtype::MEET && self.nodes().count() < CLUSTER_NODES_MAX {
            let id = self.random_id();
            let ip = if hdr.myip.is_empty() {
                from.peer_ip.to_string()
            } else {
                hdr.myip.clone()
            };
            self.add_node(Node {
                id,
                ip,
                port: hdr.port,
                cport: hdr.cport,
                flags: flag::HANDSHAKE,
                ctime_ms: now_ms,
                ..Default::default()
            });
            self.save_later(false);
        }
        self.send_ping(from.link, mtype::PONG, now_ms);
    }

    /// Step 5: on our own outbound link, complete a handshake (rename) or detect that the
    /// address now belongs to another node. Returns the sender's index when processing goes on.
    fn outbound_identity(
        &mut self,
        link_id: LinkId,
        link: &crate::cluster::links::Link,
        hdr: &Header,
    ) -> Option<u16> {
        let n = link.node?;
        if self.node(n).has(flag::HANDSHAKE) {
            if let Some(want) = self.node(n).handshake_expects.as_deref() {
                if want != hdr.sender {
                    crate::log::verbose(&format!(
                        "Handshake with {}:{} answered by node {} instead of the gossiped \
                         node {want}; dropped",
                        self.node(n).ip,
                        self.node(n).cport,
                        hdr.sender
                    ));
                    self.del_node(n);
                    return None;
                }
            }
            if let Some(known) = self.lookup(&hdr.sender) {
                // We already know this node under its real id: drop the handshake entry.
                let (ip, port, cport) = {
                    let h = self.node(n);
                    (h.ip.clone(), hdr.port, hdr.cport)
                };
                self.update_address(known, &ip, port, cport);
                self.del_node(n);
                return None;
            }
            self.rename_node(n, &hdr.sender);
            let node = self.node_mut(n);
            node.handshake_expects = None;
            node.flags &= !flag::HANDSHAKE;
            node.flags |= hdr.flags & (flag::MASTER | flag::SLAVE);
            crate::log::verbose(&format!("Handshake with node {} completed.", hdr.sender));
            self.save_later(false);
            self.touch();
            return Some(n);
        }
        if self.node(n).id != hdr.sender {
            crate::log::verbose(&format!(
                "PONG contains mismatching sender ID. About node {} added {} ms ago, having \
                 flags {}",
                self.node(n).id,
                0,
                self.node(n).flags
            ));
            let node = self.node_mut(n);
            node.flags |= flag::NOADDR;
            node.ip.clear();
            node.port = 0;
            node.cport = 0;
            self.drop_link(link_id);
            self.save_later(false);
            self.touch();
            return None;
        }
        Some(n)
    }

    /// Steps 6 to 12 for a PING, PONG or MEET from a known node `s`.
    fn on_ping_family(
        &mut self,
        now_ms: u64,
        from: &Origin<'_>,
        link: &crate::cluster::links::Link,
        s: u16,
        m: &Message,
    ) {
        let hdr = &m.hdr;
        if self.node(s).has(flag::HANDSHAKE) {
            return;
        }
        let nf = hdr.flags & flag::NOFAILOVER;
        let node = self.node_mut(s);
        node.flags = (node.flags & !flag::NOFAILOVER) | nf;
        if link.inbound && hdr.mtype == mtype::PING {
            let ip = if hdr.myip.is_empty() {
                from.peer_ip
            } else {
                &hdr.myip
            };
            self.update_address(s, ip, hdr.port, hdr.cport);
        }
        if !link.inbound && hdr.mtype == mtype::PONG {
            self.on_pong(now_ms, s);
        }
        self.note_role(s, hdr);
        self.note_slots(s, hdr, from.link);
        self.check_collision(s, hdr);
        if let Body::Ping { gossip, hostname } = &m.body {
            self.process_gossip(now_ms, s, gossip);
            self.note_hostname(s, hostname);
        }
    }

    /// The sender's hostname extension (or its absence, which clears the name, as Redis).
    /// Redis 7.0 stores whatever bytes arrive; slotd refuses a name that breaks the rules of
    /// `cluster-announce-hostname` (a space or newline would corrupt nodes.conf) and keeps the
    /// node without a hostname.
    fn note_hostname(&mut self, s: u16, hostname: &str) {
        let n = self.node_mut(s);
        let valid = match check_hostname(hostname) {
            Ok(()) => {
                n.bad_hostname_logged = false;
                hostname
            }
            Err(why) => {
                if !n.bad_hostname_logged {
                    n.bad_hostname_logged = true;
                    let shown: String = hostname.escape_debug().take(80).collect();
                    crate::log::warning(&format!(
                        "Ignoring the hostname \"{shown}\" announced by node {}: {why}",
                        n.id
                    ));
                }
                ""
            }
        };
        if n.hostname != valid {
            n.hostname = valid.to_string();
            self.save_later(false);
        }
    }

    /// Step 8: the node answered our ping.
    fn on_pong(&mut self, now_ms: u64, s: u16) {
        let timeout = self.node_timeout_ms;
        let n = self.node_mut(s);
        n.pong_received_ms = now_ms;
        n.ping_sent_ms = 0;
        let mut changed = false;
        if n.has(flag::PFAIL) {
            n.flags &= !flag::PFAIL;
            changed = true;
        } else if n.has(flag::FAIL) {
            let serving = n.is_master() && n.slots.count() > 0;
            if !serving || now_ms.saturating_sub(n.fail_time_ms) > 2 * timeout {
                crate::log::notice(&format!(
                    "Clear FAIL state for node {}: {} is reachable again.",
                    n.id,
                    if n.is_replica() { "replica" } else { "master" }
                ));
                n.flags &= !flag::FAIL;
                changed = true;
            }
        }
        if changed {
            self.save_later(false);
            self.touch();
        }
    }

    /// Moves the node's address if it changed; the outbound link reconnects to the new one.
    pub(super) fn update_address(&mut self, s: u16, ip: &str, port: u16, cport: u16) {
        if s == self.myself {
            return;
        }
        let n = self.node(s);
        if n.ip == ip && n.port == port && n.cport == cport {
            return;
        }
        let out = n.out_link;
        let n = self.node_mut(s);
        n.ip = ip.to_string();
        n.port = port;
        n.cport = cport;
        n.flags &= !flag::NOADDR;
        crate::log::notice(&format!(
            "Address updated for node {}, now {ip}:{port}",
            n.id
        ));
        if let Some(l) = out {
            self.drop_link(l);
        }
        if self.is_my_master(s) {
            self.outbox
                .push(BusOut::ReplicateFrom(Some((ip.to_string(), port))));
        }
        self.save_later(false);
        self.touch();
    }

    pub(super) fn is_my_master(&self, s: u16) -> bool {
        let me = self.myself_node();
        me.is_replica() && me.master_id.as_deref() == Some(self.node(s).id.as_str())
    }

    /// Step 9: the sender's role as its header states it.
    fn note_role(&mut self, s: u16, hdr: &Header) {
        match &hdr.slaveof {
            None => {
                if self.node(s).is_replica() {
                    self.set_node_as_master(s);
                }
            }
            Some(master_id) => {
                if self.node(s).is_master() {
                    for slot in self.node(s).slots.iter().collect::<Vec<_>>() {
                        self.unbind_slot(slot);
                    }
                    let n = self.node_mut(s);
                    n.flags = (n.flags & !(flag::MASTER | flag::MIGRATE_TO)) | flag::SLAVE;
                    self.save_later(false);
                    self.touch();
                }
                let master = self.lookup(master_id);
                if let Some(m) = master {
                    // A master that ever had a replica is a replica-migration target.
                    self.node_mut(m).flags |= flag::MIGRATE_TO;
                }
                if master.is_some() && self.node(s).master_id.as_deref() != Some(master_id.as_str())
                {
                    self.node_mut(s).master_id = Some(master_id.clone());
                    self.save_later(false);
                    self.touch();
                }
            }
        }
    }

    /// Turns a node we knew as a replica into a master.
    pub(super) fn set_node_as_master(&mut self, s: u16) {
        let n = self.node_mut(s);
        if n.is_master() {
            return;
        }
        n.master_id = None;
        n.flags = (n.flags & !flag::SLAVE) | flag::MASTER | flag::MIGRATE_TO;
        self.save_later(false);
        self.touch();
    }

    /// Step 10: the slots the sender (or its master) claims.
    fn note_slots(&mut self, s: u16, hdr: &Header, link: LinkId) {
        let sender_master = if self.node(s).is_master() {
            Some(s)
        } else {
            self.node(s)
                .master_id
                .as_deref()
                .and_then(|m| self.lookup(m))
        };
        let Some(sm) = sender_master else {
            return;
        };
        if self.node(sm).slots == hdr.myslots {
            return;
        }
        if self.node(s).is_master() {
            self.update_slots_config_with(s, hdr.config_epoch, &hdr.myslots);
        }
        // A stale claim: tell the sender who serves the slot now (one UPDATE is enough).
        for slot in hdr.myslots.iter() {
            let owner = self.owner_of(slot);
            if owner == s || owner == NO_NODE {
                continue;
            }
            if self.node(owner).config_epoch > hdr.config_epoch {
                crate::log::verbose(&format!(
                    "Node {} has old slots configuration, sending an UPDATE message about {}",
                    self.node(s).id,
                    self.node(owner).id
                ));
                let m = self.update_message(owner);
                self.send(link, &m);
                break;
            }
        }
    }

    /// Adopts `n`'s claim on the slots in `bits` where its epoch wins (cluster-spec 7.4).
    pub(super) fn update_slots_config_with(&mut self, n: u16, epoch: u64, bits: &SlotBits) {
        if n == self.myself {
            return;
        }
        let me = self.myself;
        let curmaster = if self.myself_node().is_master() {
            Some(me)
        } else {
            self.my_master()
        };
        let mut lost_mine: Vec<u16> = Vec::new();
        let mut took_ours = false;
        // Slots moved from our shard to `n`: when that is every slot `n` claims, `n` took our
        // shard over (a failover) rather than receiving slots by resharding.
        let mut migrated_ours = 0usize;
        let mut changed = false;
        for slot in bits.iter() {
            let owner = self.owner_of(slot);
            if owner == n || self.importing_from.contains_key(&slot) {
                continue;
            }
            if owner == NO_NODE || self.node(owner).config_epoch < epoch {
                if owner == me {
                    lost_mine.push(slot);
                }
                if Some(owner) == curmaster && owner != NO_NODE {
                    took_ours = true;
                    migrated_ours += 1;
                }
                self.bind_slot(slot, n);
                self.migrating_to.remove(&slot);
                changed = true;
            }
        }
        if !changed {
            return;
        }
        self.save_later(true);
        let cur_empty = curmaster.is_none_or(|c| self.node(c).slots.count() == 0);
        // Redis: with cluster-allow-replica-migration no, a shard emptied by resharding keeps
        // its replicas (and its master stays a master); one taken over still follows.
        let follow = self.allow_replica_migration || migrated_ours == bits.count();
        if took_ours && cur_empty && follow {
            crate::log::warning(&format!(
                "Configuration change detected. Reconfiguring myself as a replica of {}",
                self.node(n).id
            ));
            self.set_my_master(n);
        } else if !lost_mine.is_empty() {
            crate::log::warning(&format!(
                "{} slots lost to node {} (newer config epoch); deleting their keys",
                lost_mine.len(),
                self.node(n).id
            ));
            self.drop_slots.extend(lost_mine);
        }
        self.touch();
    }

    /// Step 11: two masters with the same configEpoch; the one with the smaller id moves on.
    fn check_collision(&mut self, s: u16, hdr: &Header) {
        let me = self.myself_node();
        if !self.node(s).is_master() || !me.is_master() || hdr.config_epoch != me.config_epoch {
            return;
        }
        if self.node(s).id.as_str() <= me.id.as_str() {
            return;
        }
        self.current_epoch += 1;
        let epoch = self.current_epoch;
        let id = self.node(s).id.clone();
        self.myself_mut_pub().config_epoch = epoch;
        self.save_later(true);
        crate::log::verbose(&format!(
            "WARNING: configEpoch collision with node {id}. configEpoch set to {epoch}"
        ));
        self.touch();
    }

    /// Gossip entries from known node `s` (cluster-spec 6.3).
    fn process_gossip(&mut self, now_ms: u64, s: u16, gossip: &[Gossip]) {
        let sender_is_master = self.node(s).is_master();
        for g in gossip {
            if !g.ip.is_empty() && !valid_bus_ip(&g.ip) {
                crate::log::verbose(&format!(
                    "Cluster bus: ignored gossip about {} with an invalid address",
                    g.id
                ));
                continue;
            }
            match self.lookup(&g.id) {
                Some(n) => self.gossip_about_known(now_ms, s, sender_is_master, n, g),
                None => self.gossip_about_unknown(now_ms, g),
            }
        }
    }

    fn gossip_about_known(&mut self, now_ms: u64, s: u16, from_master: bool, n: u16, g: &Gossip) {
        let failing = g.flags & (flag::FAIL | flag::PFAIL) != 0;
        if from_master && n != self.myself {
            let reporter = self.node(s).id.clone();
            if failing {
                let node = self.node_mut(n);
                match node.fail_reports.iter_mut().find(|r| r.0 == reporter) {
                    Some(r) => r.1 = now_ms,
                    None => node.fail_reports.push((reporter, now_ms)),
                }
                self.mark_failing_if_needed(now_ms, n);
            } else {
                self.node_mut(n).fail_reports.retain(|r| r.0 != reporter);
            }
        }
        // Myself included: Redis shows the pong time others gossip about us.
        let node = self.node_mut(n);
        if !failing && node.ping_sent_ms == 0 && node.fail_reports.is_empty() {
            let pong_ms = g.pong_received_s as u64 * 1000;
            if pong_ms <= now_ms + 500 && pong_ms > node.pong_received_ms {
                node.pong_received_ms = pong_ms;
            }
        }
        let moved = node.ip != g.ip || node.port != g.port || node.cport != g.cport;
        if node.has(flag::FAIL | flag::PFAIL) && g.flags & flag::NOADDR == 0 && !failing && moved {
            self.update_address(n, &g.ip, g.port, g.cport);
        }
    }

    /// An unknown node in the gossip of a known sender. Redis 7.0 adds it at once with the
    /// id and flags the sender claims; slotd trusts it only once it answers: a handshake
    /// entry (random id, PING not MEET, so a stranger at a reused address is never asked to
    /// join us) that becomes the node when a PONG arrives from that address with the gossiped
    /// id, and is dropped otherwise or after the handshake timeout.
    fn gossip_about_unknown(&mut self, now_ms: u64, g: &Gossip) {
        if g.flags & flag::NOADDR != 0
            || g.ip.is_empty()
            || g.cport == 0
            || self.blacklisted(now_ms, &g.id)
            || self.nodes().count() >= CLUSTER_NODES_MAX
        {
            return;
        }
        let pending = self.nodes().any(|(_, n)| {
            n.has(flag::HANDSHAKE)
                && (n.handshake_expects.as_deref() == Some(g.id.as_str())
                    || (n.ip == g.ip && n.port == g.port && n.cport == g.cport))
        });
        if pending {
            return;
        }
        crate::log::verbose(&format!(
            "Gossip names unknown node {} at {}:{}@{}: starting a handshake",
            g.id, g.ip, g.port, g.cport
        ));
        let id = self.random_id();
        self.add_node(Node {
            id,
            ip: g.ip.clone(),
            port: g.port,
            cport: g.cport,
            flags: flag::HANDSHAKE,
            ctime_ms: now_ms,
            handshake_expects: Some(g.id.clone()),
            ..Default::default()
        });
        self.touch();
    }

    /// PFAIL becomes FAIL when enough masters agree within the validity window (6.4).
    pub(super) fn mark_failing_if_needed(&mut self, now_ms: u64, n: u16) {
        let quorum = self.size / 2 + 1;
        let node = self.node(n);
        if !node.has(flag::PFAIL) || node.has(flag::FAIL) {
            return;
        }
        let mut failures = self.valid_failure_reports(now_ms, n);
        if self.myself_node().is_master() {
            failures += 1;
        }
        if failures < quorum {
            return;
        }
        crate::log::notice(&format!(
            "Marking node {} as failing (quorum reached).",
            self.node(n).id
        ));
        let node = self.node_mut(n);
        node.flags = (node.flags & !flag::PFAIL) | flag::FAIL;
        node.fail_time_ms = now_ms;
        let id = node.id.clone();
        let m = Message {
            hdr: self.header(mtype::FAIL),
            body: Body::Fail { id },
        };
        self.broadcast(&m);
        self.save_later(false);
        self.touch();
    }

    /// Reports younger than twice the node timeout, after purging older ones.
    pub fn valid_failure_reports(&mut self, now_ms: u64, n: u16) -> usize {
        let max_age = 2 * self.node_timeout_ms;
        let node = self.node_mut(n);
        node.fail_reports
            .retain(|r| now_ms.saturating_sub(r.1) <= max_age);
        node.fail_reports.len()
    }

    fn on_fail(&mut self, now_ms: u64, s: u16, id: &str) {
        let Some(n) = self.lookup(id) else {
            return;
        };
        if n == self.myself || self.node(n).has(flag::FAIL) {
            return;
        }
        crate::log::notice(&format!(
            "FAIL message received from {} about {id}",
            self.node(s).id
        ));
        let node = self.node_mut(n);
        node.flags = (node.flags & !flag::PFAIL) | flag::FAIL;
        node.fail_time_ms = now_ms;
        self.save_later(false);
        self.touch();
    }

    fn on_update(&mut self, epoch: u64, id: &str, slots: &SlotBits) {
        let Some(n) = self.lookup(id) else {
            return;
        };
        if self.node(n).config_epoch >= epoch {
            return;
        }
        if self.node(n).is_replica() {
            self.set_node_as_master(n);
        }
        self.node_mut(n).config_epoch = epoch;
        self.save_later(true);
        self.update_slots_config_with(n, epoch, slots);
    }

    /// Schedules a nodes.conf write before the bus waits again.
    pub(super) fn save_later(&mut self, fsync: bool) {
        self.todo_save = true;
        self.todo_fsync |= fsync;
    }
}
