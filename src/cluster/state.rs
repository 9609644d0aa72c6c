//! The cluster state of this node (sans-IO): identity, epochs, the node table, slot ownership
//! and open (migrating/importing) slots. Commands and, later, bus messages change it through
//! methods; it renders CLUSTER NODES / INFO text and builds `SlotMap` snapshots for the shards.
//! The only I/O is `save`, which hands the rendered nodes.conf to `nodes_conf`.

use crate::cluster::links::{BusOut, Link};
use crate::cluster::node::{flag, flags_text, push_runs, LinkId, Node};
use crate::cluster::nodes_conf::{self, ConfFile, ParsedConf};
use crate::cluster::slot_map::{SlotMap, NO_NODE};
use crate::config::Config;
use crate::constants::SLOT_COUNT;
use std::collections::{BTreeMap, HashMap};

/// Bus message types, in type-number order (CLUSTER INFO stats names).
pub const MSG_TYPE_NAMES: [&str; 11] = [
    "ping",
    "pong",
    "meet",
    "fail",
    "publish",
    "publishshard",
    "auth-req",
    "auth-ack",
    "update",
    "mfstart",
    "module",
];

/// How clients are told to reach a node (`cluster-preferred-endpoint-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointType {
    Ip,
    /// The announced hostname, `?` for a node without one.
    Hostname,
    /// An empty endpoint: clients reuse the address they already used.
    Unknown,
}

/// Seed for the state's generator: OS randomness (ids must differ between processes).
fn os_seed() -> u64 {
    let hex = crate::clock::random_hex40();
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0x9e37_79b9_7f4a_7c15) | 1
}

/// Bus port offset when `cluster-port` is not set.
pub const CLUSTER_PORT_INCR: u16 = 10000;

/// What this node announces about itself (ports and hostname), read outside the cluster lock.
pub fn announced(cfg: &Config) -> (u16, u16, String) {
    let (port, cport) = announced_ports(cfg);
    (port, cport, cfg.stored("cluster-announce-hostname", ""))
}

/// (client port, bus port) this node announces: `cluster-announce-port` /
/// `cluster-announce-bus-port` when set, else the ports it listens on.
fn announced_ports(cfg: &Config) -> (u16, u16) {
    let port = match cfg.cluster_announce_port {
        0 => cfg.port,
        p => p,
    };
    let cport = match (cfg.cluster_announce_bus_port, cfg.cluster_port) {
        (0, 0) => cfg.port.wrapping_add(CLUSTER_PORT_INCR),
        (0, p) => p,
        (p, _) => p,
    };
    (port, cport)
}

pub struct ClusterState {
    /// The last nodes.conf save failed; the bus core's cron retries it.
    pub save_failed: bool,
    /// Index of myself in `nodes`.
    pub myself: u16,
    /// Node table; indexes are stable (a removed node leaves `None`) because slot owners and
    /// the shards' slot maps refer to nodes by index.
    pub(super) nodes: Vec<Option<Node>>,
    pub(super) by_id: HashMap<String, u16>,
    /// Owner node index per slot, or NO_NODE.
    pub(super) owner: Vec<u16>,
    pub migrating_to: BTreeMap<u16, u16>,
    pub importing_from: BTreeMap<u16, u16>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub state_ok: bool,
    /// Masters serving at least one slot (as of the last state evaluation).
    pub size: usize,
    /// Grows with every change published to the shards.
    pub version: u64,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub stats_sent: [u64; 11],
    pub stats_received: [u64; 11],
    pub links_buffer_limit_exceeded: u64,
    /// DEBUG DROP-CLUSTER-PACKET-FILTER: bus messages of this type are dropped on arrival;
    /// -1 (the default) drops none.
    pub drop_packet_filter: i64,
    /// The locked nodes.conf; None for a state that is never saved (tests of pure logic).
    conf: Option<ConfFile>,
    /// Live bus links and the node each is bound to.
    pub(crate) links: HashMap<LinkId, Link>,
    pub(super) next_link: LinkId,
    /// What the bus driver must do; drained after every call into the state.
    pub outbox: Vec<BusOut>,
    /// nodes.conf must be written (with fsync when `todo_fsync`) before the bus waits again.
    pub todo_save: bool,
    pub todo_fsync: bool,
    /// Keys of these slots must be deleted (slots lost to a newer owner); shipped with the next
    /// slot map.
    pub drop_slots: Vec<u16>,
    /// xorshift state for node ids and gossip picks (seeded from the OS; fixed in tests).
    pub(super) rng: u64,
    /// Forgotten node ids and the unix ms until which gossip about them is ignored.
    pub(super) blacklist: HashMap<String, u64>,
    pub node_timeout_ms: u64,
    /// This node's replication offset, refreshed by the bus before building headers.
    pub my_repl_offset: u64,
    /// `cluster-announce-hostname` (sent in the HOSTNAME ping extension).
    pub my_hostname: String,
    /// `cluster-preferred-endpoint-type`: what MOVED/ASK and CLUSTER SLOTS/SHARDS name a node by.
    pub endpoint_type: EndpointType,
    pub allow_replica_migration: bool,
    /// An announced ip is configured: never learn our ip from peers.
    pub(super) announced_ip: bool,
    pub(super) cron_runs: u64,
    /// PFAIL nodes counted by the last cron run (sizes the gossip section).
    pub(super) pfail_nodes: usize,
    /// The election or manual failover in progress.
    pub election: crate::cluster::failover::Election,
    /// The replication link as the bus driver last saw it.
    pub repl_view: crate::cluster::failover::ReplView,
    pub replica_no_failover: bool,
    pub replica_validity_factor: u64,
    /// `cluster-migration-barrier`: replicas a master keeps before one may migrate away.
    pub migration_barrier: usize,
    pub repl_ping_period_ms: u64,
    /// The latest time the state was told (cron or message); drives the rejoin delay.
    pub(super) now_ms: u64,
    /// When a state evaluation last found us in a minority partition.
    pub(super) among_minority_ms: u64,
}

impl ClusterState {
    /// A node that knows only itself: master, no slots, epochs 0.
    pub fn new(id: String) -> Self {
        let me = Node {
            id: id.clone(),
            flags: flag::MYSELF | flag::MASTER | flag::MIGRATE_TO,
            link_connected: true,
            ..Default::default()
        };
        let mut st = ClusterState {
            save_failed: false,
            myself: 0,
            nodes: vec![Some(me)],
            by_id: HashMap::from([(id, 0)]),
            owner: vec![NO_NODE; SLOT_COUNT],
            migrating_to: BTreeMap::new(),
            importing_from: BTreeMap::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            state_ok: false,
            size: 0,
            version: 1,
            require_full_coverage: true,
            allow_reads_when_down: false,
            stats_sent: [0; 11],
            stats_received: [0; 11],
            links_buffer_limit_exceeded: 0,
            drop_packet_filter: -1,
            conf: None,
            links: HashMap::new(),
            next_link: 1,
            outbox: Vec::new(),
            todo_save: false,
            todo_fsync: false,
            drop_slots: Vec::new(),
            rng: os_seed(),
            blacklist: HashMap::new(),
            node_timeout_ms: 15_000,
            my_repl_offset: 0,
            my_hostname: String::new(),
            endpoint_type: EndpointType::Ip,
            allow_replica_migration: true,
            announced_ip: false,
            cron_runs: 0,
            pfail_nodes: 0,
            election: Default::default(),
            repl_view: Default::default(),
            replica_no_failover: false,
            replica_validity_factor: 10,
            migration_barrier: 1,
            repl_ping_period_ms: 10_000,
            now_ms: 0,
            among_minority_ms: 0,
        };
        st.refresh_state();
        st
    }

    /// Loads `cluster-config-file` from `dir`, or creates a fresh node and saves it.
    pub fn load_or_create(cfg: &Config) -> Result<ClusterState, String> {
        if cfg.cluster_port == 0 && cfg.port > u16::MAX - CLUSTER_PORT_INCR {
            return Err(
                "Redis port number too high. Cluster communication port is 10,000 port \
                        numbers higher than your Redis port. Your Redis port number must be \
                        55535 or less."
                    .into(),
            );
        }
        let path = cfg.dir.join(&cfg.cluster_config_file);
        let (conf, text) = ConfFile::open_locked(path, &cfg.cluster_config_file)?;
        let fresh = text.trim().is_empty();
        let mut st = if fresh {
            ClusterState::new(crate::clock::random_hex40())
        } else {
            let parsed = nodes_conf::parse(&text, conf.shown(), crate::clock::mono_unix_ms())?;
            ClusterState::from_parsed(parsed)
        };
        st.conf = Some(conf);
        st.apply_config(cfg);
        if fresh {
            st.save().map_err(|e| {
                format!("Unrecoverable error: can't save the cluster config file: {e}")
            })?;
        }
        Ok(st)
    }

    /// Builds the state from a parsed nodes.conf (placeholders for ids only referenced).
    pub fn from_parsed(p: ParsedConf) -> Self {
        let me = p.nodes.iter().find(|n| n.flags & flag::MYSELF != 0);
        let me_id = me.map(|n| n.id.clone()).unwrap_or_default();
        let mut st = ClusterState::new(me_id);
        st.current_epoch = p.current_epoch;
        st.last_vote_epoch = p.last_vote_epoch;
        for pn in &p.nodes {
            let idx = st.ensure_node(&pn.id);
            let n = st.node_mut(idx);
            n.ip = pn.ip.clone();
            n.port = pn.port;
            n.cport = pn.cport;
            n.hostname = pn.hostname.clone();
            n.flags = pn.flags;
            n.master_id = pn.master_id.clone();
            n.ping_sent_ms = pn.ping_sent_ms;
            n.pong_received_ms = pn.pong_received_ms;
            n.config_epoch = pn.config_epoch;
            n.link_connected = pn.flags & flag::MYSELF != 0;
            if let Some(m) = &pn.master_id {
                st.ensure_node(m);
            }
            for &(a, b) in &pn.slots {
                (a..=b).for_each(|s| st.bind_slot(s, idx));
            }
            for (s, id) in &pn.migrating {
                let to = st.ensure_node(id);
                st.migrating_to.insert(*s, to);
            }
            for (s, id) in &pn.importing {
                let from = st.ensure_node(id);
                st.importing_from.insert(*s, from);
            }
        }
        st.refresh_state();
        st
    }

    /// Takes address and policy settings from the configuration (at start, like Redis).
    pub fn apply_config(&mut self, cfg: &Config) {
        let (port, cport) = announced_ports(cfg);
        let me = self.myself_mut();
        me.port = port;
        me.cport = cport;
        // Without an announced ip the node keeps what it knew (empty until a peer tells it).
        if !cfg.cluster_announce_ip.is_empty() {
            me.ip = cfg.cluster_announce_ip.clone();
        }
        self.announced_ip = !cfg.cluster_announce_ip.is_empty();
        self.my_hostname = cfg.stored("cluster-announce-hostname", "");
        let hostname = self.my_hostname.clone();
        self.myself_mut_pub().hostname = hostname;
        self.apply_policy(crate::cluster::policy::read(cfg));
        self.touch();
    }

    /// Takes the announced ports and hostname from the configuration again: CONFIG SET
    /// changes them at run time, and Redis shows and sends the new values at once. Called by
    /// the bus cron; does nothing while they are unchanged.
    pub fn refresh_announced(&mut self, (port, cport, hostname): (u16, u16, String)) {
        let me = self.myself_node();
        if me.port == port && me.cport == cport && me.hostname == hostname {
            return;
        }
        let me = self.myself_mut();
        me.port = port;
        me.cport = cport;
        me.hostname = hostname.clone();
        self.my_hostname = hostname;
        self.save_later(false);
        self.touch();
    }

    /// A placeholder node (no address, no flags) for an id seen only as a reference.
    fn ensure_node(&mut self, id: &str) -> u16 {
        if let Some(&i) = self.by_id.get(id) {
            return i;
        }
        self.add_node(Node {
            id: id.to_string(),
            ..Default::default()
        })
    }

    /// Adds a node and returns its index.
    pub fn add_node(&mut self, n: Node) -> u16 {
        let idx = match self.nodes.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None => {
                assert!(self.nodes.len() < NO_NODE as usize, "node table full");
                self.nodes.push(None);
                self.nodes.len() - 1
            }
        } as u16;
        self.by_id.insert(n.id.clone(), idx);
        self.nodes[idx as usize] = Some(n);
        idx
    }

    pub fn lookup(&self, id: &str) -> Option<u16> {
        self.by_id.get(id).copied()
    }

    /// The node at `idx`; panics on a stale index (a bug).
    pub fn node(&self, idx: u16) -> &Node {
        self.nodes[idx as usize].as_ref().expect("live node index")
    }

    pub fn node_mut(&mut self, idx: u16) -> &mut Node {
        self.nodes[idx as usize].as_mut().expect("live node index")
    }

    pub fn myself_node(&self) -> &Node {
        self.node(self.myself)
    }

    fn myself_mut(&mut self) -> &mut Node {
        let me = self.myself;
        self.node_mut(me)
    }

    /// The preferred endpoint of `n` (None: unknown-endpoint, shown as an empty string in
    /// redirects and as a null in CLUSTER SLOTS).
    pub fn endpoint<'a>(&self, n: &'a Node) -> Option<&'a str> {
        match self.endpoint_type {
            EndpointType::Ip => Some(n.ip.as_str()),
            EndpointType::Hostname if n.hostname.is_empty() => Some("?"),
            EndpointType::Hostname => Some(n.hostname.as_str()),
            EndpointType::Unknown => None,
        }
    }

    /// Our master's index when we are a replica of a known node.
    pub fn my_master(&self) -> Option<u16> {
        let me = self.myself_node();
        me.master_id
            .as_deref()
            .and_then(|m| self.lookup(m))
            .filter(|_| me.is_replica())
    }

    pub fn my_id(&self) -> &str {
        &self.myself_node().id
    }

    /// Live nodes with their indexes, in table order.
    pub fn nodes(&self) -> impl Iterator<Item = (u16, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (i as u16, n)))
    }

    pub fn owner_of(&self, slot: u16) -> u16 {
        self.owner[slot as usize]
    }

    /// Binds `slot` to node `idx` (clearing the previous owner's bit).
    pub fn bind_slot(&mut self, slot: u16, idx: u16) {
        self.unbind_slot(slot);
        self.owner[slot as usize] = idx;
        self.node_mut(idx).slots.set(slot, true);
    }

    pub fn unbind_slot(&mut self, slot: u16) {
        let old = self.owner[slot as usize];
        if old != NO_NODE {
            self.node_mut(old).slots.set(slot, false);
        }
        self.owner[slot as usize] = NO_NODE;
    }

    /// ADDSLOTS: binds the (validated) slots to myself; any import mark on them is dropped.
    pub fn add_slots(&mut self, slots: &[u16]) {
        for &s in slots {
            self.importing_from.remove(&s);
            self.bind_slot(s, self.myself);
        }
        self.touch();
    }

    /// DELSLOTS: unbinds the (validated) slots, whoever owns them.
    pub fn del_slots(&mut self, slots: &[u16]) {
        for &s in slots {
            self.importing_from.remove(&s);
            self.unbind_slot(s);
        }
        self.touch();
    }

    /// FLUSHSLOTS: unbinds every slot myself serves.
    pub fn flush_own_slots(&mut self) {
        for s in 0..SLOT_COUNT as u16 {
            if self.owner[s as usize] == self.myself {
                self.unbind_slot(s);
            }
        }
        self.touch();
    }

    /// CLUSTER RESET: forget everything but myself; HARD also takes `new_id` and zeroes the
    /// epochs. Returns true when myself was a replica (the caller must then flush the data).
    pub fn reset(&mut self, hard: Option<String>) -> bool {
        let was_replica = self.myself_node().is_replica();
        let mut me = self.myself_node().clone();
        me.flags = (me.flags & !flag::SLAVE) | flag::MASTER | flag::MYSELF | flag::MIGRATE_TO;
        me.master_id = None;
        me.slots.clear();
        me.out_link = None;
        me.in_link = None;
        me.fail_reports.clear();
        // Every bus connection belonged to a node we forget now.
        for (&link, _) in self.links.iter() {
            self.outbox.push(BusOut::Close { link });
        }
        self.links.clear();
        self.election = Default::default();
        if was_replica {
            self.outbox.push(BusOut::ReplicateFrom(None));
        }
        if let Some(id) = hard {
            me.id = id;
            me.config_epoch = 0;
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
        }
        self.nodes = vec![Some(me.clone())];
        self.by_id = HashMap::from([(me.id, 0)]);
        self.myself = 0;
        self.owner.fill(NO_NODE);
        self.migrating_to.clear();
        self.importing_from.clear();
        self.touch();
        was_replica
    }

    /// Records a change: re-evaluates the cluster state and bumps the map version.
    pub fn touch(&mut self) {
        self.refresh_state();
        self.version += 1;
    }

    /// Cluster state per cluster-spec 2.7 (minus the timed delays, which need the cron).
    pub(super) fn refresh_state(&mut self) {
        let mut ok = true;
        if self.require_full_coverage {
            // Every bound slot is in exactly its owner's bitmap, so counting per node is the
            // same as walking the 16384 owners, and much cheaper (it runs on every change).
            let (mut bound, mut failed) = (0usize, false);
            for (_, n) in self.nodes() {
                let count = n.slots.count();
                bound += count;
                failed |= count > 0 && n.failed();
            }
            ok = bound == SLOT_COUNT && !failed;
        }
        let masters: Vec<&Node> = self
            .nodes()
            .map(|(_, n)| n)
            .filter(|n| n.is_master() && n.slots.count() > 0)
            .collect();
        let size = masters.len();
        let reachable = masters
            .iter()
            .filter(|n| !n.has(flag::FAIL | flag::PFAIL))
            .count();
        if reachable < size / 2 + 1 {
            ok = false;
            // An unconfigured node (no master serves anything) is not in a minority
            // partition: it serves as soon as slots are assigned.
            if size > 0 {
                self.among_minority_ms = self.now_ms;
            }
        }
        // A master back from a minority partition waits before serving again, so the UPDATE
        // that takes its slots away can arrive first (Redis' rejoin delay).
        let rejoin_delay_ms = self.node_timeout_ms.clamp(500, 5000);
        let waiting = self.now_ms.saturating_sub(self.among_minority_ms) < rejoin_delay_ms
            && self.among_minority_ms != 0;
        if ok && !self.state_ok && self.myself_node().is_master() && waiting {
            ok = false;
        }
        self.size = size;
        if ok != self.state_ok && self.now_ms != 0 {
            crate::log::warning(&format!(
                "Cluster state changed: {}",
                if ok { "ok" } else { "fail" }
            ));
        }
        self.state_ok = ok;
    }

    /// Writes nodes.conf (durably). A state without a file has nothing to do.
    pub fn save(&mut self) -> Result<(), String> {
        let text = nodes_conf::render(&self.conf_lines(), self.current_epoch, self.last_vote_epoch);
        let r = match self.conf.as_mut() {
            Some(c) => c
                .write_atomic(text.as_bytes())
                .map_err(|e| nodes_conf::io_text(&e)),
            None => Ok(()),
        };
        self.save_failed = r.is_err();
        r
    }

    /// Maximal runs of consecutive slots per owner: (start, end, owner), in slot order.
    pub fn slot_runs(&self) -> Vec<(u16, u16, u16)> {
        let mut runs: Vec<(u16, u16, u16)> = Vec::new();
        for (s, &o) in self.owner.iter().enumerate() {
            let s = s as u16;
            match runs.last_mut() {
                Some(r) if r.2 == o && r.1 + 1 == s => r.1 = s,
                _ => runs.push((s, s, o)),
            }
        }
        runs.retain(|r| r.2 != NO_NODE);
        runs
    }

    /// Slot ranges owned by `idx` (from the owner table, as Redis prints them).
    pub fn runs_of(&self, idx: u16) -> Vec<(u16, u16)> {
        self.slot_runs()
            .into_iter()
            .filter(|r| r.2 == idx)
            .map(|r| (r.0, r.1))
            .collect()
    }

    /// The config epoch shown for a node: its master's for a replica with a known master.
    pub fn shown_epoch(&self, n: &Node) -> u64 {
        match n.master_id.as_deref().and_then(|m| self.lookup(m)) {
            Some(m) if n.is_replica() => self.node(m).config_epoch,
            _ => n.config_epoch,
        }
    }

    /// One CLUSTER NODES line (with its `\n`).
    pub fn node_line(&self, idx: u16) -> String {
        let n = self.node(idx);
        let master = match &n.master_id {
            Some(m) if n.is_replica() && self.lookup(m).is_some() => m.as_str(),
            _ => "-",
        };
        let link = if idx == self.myself || n.link_connected {
            "connected"
        } else {
            "disconnected"
        };
        let mut line = format!(
            "{} {} {} {} {} {} {} {}",
            n.id,
            n.addr_text(),
            flags_text(n.flags),
            master,
            n.ping_sent_ms,
            n.pong_received_ms,
            self.shown_epoch(n),
            link
        );
        push_runs(&mut line, &self.runs_of(idx));
        if idx == self.myself {
            self.push_open_slots(&mut line);
        }
        line.push('\n');
        line
    }

    fn push_open_slots(&self, line: &mut String) {
        let mut open: BTreeMap<u16, String> = BTreeMap::new();
        for (&s, &from) in &self.importing_from {
            open.insert(s, format!(" [{s}-<-{}]", self.node(from).id));
        }
        // A slot both migrating and importing shows only the migration.
        for (&s, &to) in &self.migrating_to {
            open.insert(s, format!(" [{s}->-{}]", self.node(to).id));
        }
        open.values().for_each(|t| line.push_str(t));
    }

    /// CLUSTER NODES text: every known node.
    pub fn nodes_text(&self) -> String {
        self.nodes().map(|(i, _)| self.node_line(i)).collect()
    }

    /// The node lines of nodes.conf: nodes in handshake are not persisted.
    pub fn conf_lines(&self) -> String {
        self.nodes()
            .filter(|(_, n)| !n.has(flag::HANDSHAKE))
            .map(|(i, _)| self.node_line(i))
            .collect()
    }

    /// CLUSTER INFO text.
    pub fn info_text(&self) -> String {
        let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
        for &o in &self.owner {
            if o == NO_NODE {
                continue;
            }
            assigned += 1;
            let n = self.node(o);
            if n.failed() {
                fail += 1;
            } else if n.has(flag::PFAIL) {
                pfail += 1;
            } else {
                ok += 1;
            }
        }
        let me = self.myself_node();
        let mut s = format!(
            "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\n\
             cluster_slots_pfail:{pfail}\r\ncluster_slots_fail:{fail}\r\n\
             cluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\n\
             cluster_my_epoch:{}\r\n",
            if self.state_ok { "ok" } else { "fail" },
            self.nodes().count(),
            self.size,
            self.current_epoch,
            self.shown_epoch(me),
        );
        push_msg_stats(&mut s, &self.stats_sent, "sent");
        push_msg_stats(&mut s, &self.stats_received, "received");
        s.push_str(&format!(
            "total_cluster_links_buffer_limit_exceeded:{}\r\n",
            self.links_buffer_limit_exceeded
        ));
        s
    }

    /// Replicas of master `idx`, in table order.
    pub fn replicas_of(&self, idx: u16) -> Vec<u16> {
        let id = &self.node(idx).id;
        self.nodes()
            .filter(|(_, n)| n.is_replica() && n.master_id.as_ref() == Some(id))
            .map(|(i, _)| i)
            .collect()
    }

    /// A snapshot for the shards.
    pub fn slot_map(&self) -> SlotMap {
        let len = self.nodes.len();
        let mut addrs = vec![String::new(); len];
        for (i, n) in self.nodes() {
            addrs[i as usize] = format!("{}:{}", self.endpoint(n).unwrap_or(""), n.port);
        }
        let me = self.myself_node();
        let master = self.my_master();
        SlotMap {
            version: self.version,
            cluster_enabled: true,
            state_ok: self.state_ok,
            myself: self.myself,
            owner: self.owner.clone(),
            addrs,
            migrating: self.migrating_to.iter().map(|(&s, &n)| (s, n)).collect(),
            importing: self.importing_from.iter().map(|(&s, &n)| (s, n)).collect(),
            allow_reads_when_down: self.allow_reads_when_down,
            myself_is_replica: me.is_replica(),
            master: master.unwrap_or(NO_NODE),
            drop_slots: Vec::new(),
        }
    }
}

fn push_msg_stats(s: &mut String, counts: &[u64; 11], dir: &str) {
    for (name, &c) in MSG_TYPE_NAMES.iter().zip(counts) {
        if c != 0 {
            s.push_str(&format!("cluster_stats_messages_{name}_{dir}:{c}\r\n"));
        }
    }
    let total: u64 = counts.iter().sum();
    s.push_str(&format!("cluster_stats_messages_{dir}:{total}\r\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::nodes_conf::temp_dir;

    fn cfg_in(dir: &std::path::Path) -> Config {
        Config {
            cluster_enabled: true,
            dir: dir.to_path_buf(),
            port: 6440,
            ..Default::default()
        }
    }

    #[test]
    fn fresh_node_line_and_info() {
        // Guards the fresh-node texts Redis 7.0.15 shows (empty ip, epochs 0, state fail).
        let mut st = ClusterState::new("a".repeat(40));
        st.apply_config(&cfg_in(std::path::Path::new("/tmp")));
        assert_eq!(
            st.nodes_text(),
            format!(
                "{} :6440@16440 myself,master - 0 0 0 connected\n",
                "a".repeat(40)
            )
        );
        let info = st.info_text();
        assert!(info.starts_with("cluster_state:fail\r\ncluster_slots_assigned:0\r\n"));
        assert!(info.contains("cluster_size:0\r\n"));
        assert!(info.ends_with(
            "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
             total_cluster_links_buffer_limit_exceeded:0\r\n"
        ));
        let m = st.slot_map();
        assert!(!m.state_ok && m.owner.iter().all(|&o| o == NO_NODE));
        assert_eq!(m.addrs, vec![":6440".to_string()]);
    }

    #[test]
    fn full_coverage_makes_state_ok_and_bumps_version() {
        // Guards cluster_state and the slot map version on every change.
        let mut st = ClusterState::new("b".repeat(40));
        let v0 = st.version;
        st.add_slots(&(0..16384).collect::<Vec<u16>>());
        assert!(st.state_ok);
        assert_eq!(st.size, 1);
        assert!(st.version > v0);
        st.del_slots(&[7]);
        assert!(!st.state_ok);
        st.require_full_coverage = false;
        st.touch();
        assert!(st.state_ok, "partial coverage serves when not required");
        assert_eq!(st.slot_map().owner[8], st.myself);
    }

    #[test]
    fn open_slots_only_on_myself_line() {
        // Guards the [slot->-id] / [slot-<-id] tokens and their order.
        let mut st = ClusterState::new("c".repeat(40));
        let other = st.add_node(Node {
            id: "d".repeat(40),
            flags: flag::MASTER,
            ..Default::default()
        });
        st.add_slots(&[1, 2, 3]);
        st.migrating_to.insert(3, other);
        st.importing_from.insert(9, other);
        st.importing_from.insert(3, other);
        let line = st.node_line(st.myself);
        let d = "d".repeat(40);
        assert!(
            line.ends_with(&format!(" 1-3 [3->-{d}] [9-<-{d}]\n")),
            "{line}"
        );
        assert!(st.node_line(other).ends_with("disconnected\n"));
    }

    #[test]
    fn restart_keeps_identity_epochs_and_slots() {
        // Guards persistence: id, epochs, slots and open slots survive load_or_create.
        let dir = temp_dir("state");
        let cfg = cfg_in(&dir);
        let (id, text) = {
            let mut st = ClusterState::load_or_create(&cfg).expect("create");
            st.add_slots(&[0, 1, 2, 100]);
            st.current_epoch = 5;
            st.last_vote_epoch = 3;
            st.save().expect("save");
            (st.my_id().to_string(), st.nodes_text())
        };
        let st = ClusterState::load_or_create(&cfg).expect("reload");
        assert_eq!(st.my_id(), id);
        assert_eq!(st.nodes_text(), text);
        assert_eq!((st.current_epoch, st.last_vote_epoch), (5, 3));
        assert_eq!(st.owner_of(100), st.myself);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn second_node_on_same_file_refuses() {
        // Guards the flock: one nodes.conf, one node.
        let dir = temp_dir("lock");
        let cfg = cfg_in(&dir);
        let _first = ClusterState::load_or_create(&cfg).expect("create");
        let e = ClusterState::load_or_create(&cfg).err().expect("locked");
        assert!(
            e.contains("is already used by a different Redis Cluster node"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn corrupt_file_stops_start() {
        // Guards that a damaged nodes.conf is reported with file and line, not ignored.
        let dir = temp_dir("corrupt");
        std::fs::write(
            dir.join("nodes.conf"),
            "vars currentEpoch 0 lastVoteEpoch 0\nx y\n",
        )
        .expect("write");
        let e = ClusterState::load_or_create(&cfg_in(&dir))
            .err()
            .expect("corrupt");
        assert!(e.contains("nodes.conf") && e.contains("line 2"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn port_too_high_for_default_bus_port() {
        // Guards Redis' refusal when port + 10000 does not fit.
        let mut cfg = cfg_in(std::path::Path::new("/nonexistent"));
        cfg.port = 55536;
        let e = ClusterState::load_or_create(&cfg).err().expect("refused");
        assert!(
            e.ends_with("Your Redis port number must be 55535 or less."),
            "{e}"
        );
    }

    #[test]
    fn hard_reset_changes_id_and_epochs() {
        // Guards RESET HARD vs SOFT semantics.
        let mut st = ClusterState::new("e".repeat(40));
        st.add_slots(&[5]);
        st.current_epoch = 4;
        assert!(!st.reset(None));
        assert_eq!(st.my_id(), "e".repeat(40));
        assert_eq!((st.current_epoch, st.owner_of(5)), (4, NO_NODE));
        st.reset(Some("f".repeat(40)));
        assert_eq!((st.my_id(), st.current_epoch), ("f".repeat(40).as_str(), 0));
        assert_eq!(st.lookup(&"f".repeat(40)), Some(0));
    }
}
