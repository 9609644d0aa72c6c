//! A deterministic simulator for the sans-IO cluster state machine (tests only): N nodes, a
//! fake clock, and an in-memory network that plays the bus driver's part (connects, per-link
//! FIFO delivery after seeded random delays, closes, cuts, partitions, node death and restart
//! from the rendered nodes.conf, SIGSTOP-like pauses). One seed drives everything, so a failing
//! scenario replays exactly. The scenario tests at the bottom form clusters the way redis-cli
//! does and check convergence, failure detection and the slot-ownership invariant.
//!
//! Soaks and replays: `SIM_SEEDS=n` runs seeds 0..n in every scenario, `SIM_SEED_FROM=k`
//! starts at k (one seed: `SIM_SEED_FROM=k SIM_SEEDS=k+1`), `SIM_FUZZ_ROUNDS=r` makes the
//! fuzz scenario inject r faults, `SIM_TRACE=1` prints each node's role/epochs/slots whenever
//! they change during the fuzz scenario (with `--nocapture`).

use crate::cluster::gossip::Origin;
use crate::cluster::links::BusOut;
use crate::cluster::node::{flag, LinkId, SlotBits};
use crate::cluster::nodes_conf;
use crate::cluster::state::ClusterState;
use crate::constants::SLOT_COUNT;
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

/// Fake unix time at the start of every run (gossip carries seconds, so it must look real).
const START_MS: u64 = 1_764_000_000_000;
/// Cron period, as the real driver runs it.
const TICK_MS: u64 = 100;
/// The driver's connect timeout: a connect into a silent partition fails after this.
const CONNECT_TIMEOUT_MS: u64 = 1000;
/// How long formation waits before repeating the MEETs that were lost.
const REMEET_MS: u64 = 5000;
/// One call into the state must never queue more actions than this.
const OUTBOX_MAX: usize = 2000;
/// Bytes queued in one direction of one link before we call it runaway traffic.
const QUEUE_MAX: usize = 20_000;

/// xorshift64: the one generator behind a run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// One simulated process.
pub struct SimNode {
    pub id: String,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    /// None while the process is dead.
    pub st: Option<ClusterState>,
    /// nodes.conf as rendered at death (the driver saves after every event, so this is the
    /// last save up to ping/pong times).
    pub conf: String,
    pub paused: bool,
    /// Grows at every death, so events meant for an earlier life are ignored.
    life: u32,
    /// Partition group; nodes reach each other only within one group.
    group: u8,
    /// The last replication target the state asked for.
    pub replicate_from: Option<(String, u16)>,
    /// A manual failover holds this master's writes until this ms.
    pub writes_paused_until_ms: u64,
    /// Taken out of the cluster (FORGET everywhere): convergence no longer expects it.
    pub removed: bool,
}

/// One TCP connection: side 0 connected (outbound link), side 1 accepted (inbound link).
struct Conn {
    node: [usize; 2],
    life: [u32; 2],
    /// Link ids on each side; side 1's is None until accepted.
    link: [Option<LinkId>; 2],
    open: [bool; 2],
    up: bool,
    /// q[d]: items travelling from side d to side 1-d, with their delivery times.
    q: [VecDeque<(u64, Item)>; 2],
    last_at: [u64; 2],
}

enum Item {
    Data(Bytes),
    /// The sender closed: after the data before it, the reader sees EOF.
    Fin,
}

/// Events, ordered by time and then by content (never by insertion order, so HashMap
/// iteration inside the state cannot change a run).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum What {
    ConnectDone {
        conn: u64,
    },
    Deliver {
        conn: u64,
        dir: usize,
    },
    LinkDown {
        node: usize,
        life: u32,
        link: LinkId,
    },
    Tick {
        node: usize,
    },
}

pub struct Sim {
    pub now_ms: u64,
    pub rng: Rng,
    pub nodes: Vec<SimNode>,
    conns: BTreeMap<u64, Conn>,
    ends: HashMap<(usize, LinkId), u64>,
    next_conn: u64,
    events: BinaryHeap<Reverse<(u64, What)>>,
    /// Each message waits 0..=max_delay_ms (per-link order is kept).
    pub max_delay_ms: u64,
    /// Chance per mille, per 100 ms step, that one random live connection is cut.
    pub cut_per_mille: u64,
    /// Partitions hold messages (true) instead of cutting links (false, set by `partition`).
    silent: bool,
    pub node_timeout_ms: u64,
    pub delivered: u64,
    /// Off only for scenarios that break the invariant on purpose (unsafe admin commands).
    pub check_invariants: bool,
    /// Per configEpoch, the nodes that served slots under it (own view) and those slots.
    epoch_owner: BTreeMap<u64, Vec<(String, SlotBits)>>,
    /// Off for scenarios with epochs taken without consensus.
    pub unique_epochs: bool,
    /// One node per epoch, whatever the slots (elections only, see `epochs_unique`).
    pub strict_epochs: bool,
    /// The seed, named by every panic.
    pub seed: u64,
    /// Debugging: print each node's role/epochs/slots whenever they change (None = off).
    pub trace: Option<Vec<String>>,
}

impl Sim {
    /// `n` fresh nodes at 127.0.0.(i+1), ports 30001.., bus ports 40001...
    pub fn new(seed: u64, n: usize, node_timeout_ms: u64) -> Sim {
        crate::log::set_level(crate::log::LogLevel::Nothing);
        let mut sim = Sim {
            now_ms: START_MS,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            conns: BTreeMap::new(),
            ends: HashMap::new(),
            next_conn: 1,
            events: BinaryHeap::new(),
            max_delay_ms: 5,
            cut_per_mille: 0,
            silent: false,
            node_timeout_ms,
            delivered: 0,
            check_invariants: true,
            epoch_owner: BTreeMap::new(),
            unique_epochs: true,
            strict_epochs: false,
            seed,
            trace: None,
        };
        for i in 0..n {
            let id = format!("{:016x}{:016x}{:08x}", sim.rng.next(), sim.rng.next(), i);
            let mut st = ClusterState::new(id.clone());
            st.node_timeout_ms = node_timeout_ms;
            st.seed(sim.rng.next());
            let (port, cport) = (30001 + i as u16, 40001 + i as u16);
            let me = st.myself_mut_pub();
            me.port = port;
            me.cport = cport;
            sim.nodes.push(SimNode {
                id,
                ip: format!("127.0.0.{}", i + 1),
                port,
                cport,
                st: Some(st),
                conf: String::new(),
                paused: false,
                life: 0,
                group: 0,
                replicate_from: None,
                removed: false,
                writes_paused_until_ms: 0,
            });
            // Crons of different processes are not in phase.
            let phase = sim.rng.below(TICK_MS);
            sim.at(START_MS + phase, What::Tick { node: i });
        }
        sim
    }

    fn at(&mut self, at_ms: u64, w: What) {
        self.events.push(Reverse((at_ms, w)));
    }

    pub fn st(&self, i: usize) -> &ClusterState {
        self.nodes[i].st.as_ref().expect("live node")
    }

    pub fn st_mut(&mut self, i: usize) -> &mut ClusterState {
        self.nodes[i].st.as_mut().expect("live node")
    }

    pub fn alive(&self, i: usize) -> bool {
        self.nodes[i].st.is_some()
    }

    fn runnable(&self, i: usize) -> bool {
        self.alive(i) && !self.nodes[i].paused
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        self.nodes[a].group == self.nodes[b].group
    }

    /// Performs what the state of node `i` queued (the driver's job after every call).
    fn drain(&mut self, i: usize) {
        let Some(st) = self.nodes[i].st.as_mut() else {
            return;
        };
        st.todo_save = false;
        st.todo_fsync = false;
        st.drop_slots.clear();
        let outs = std::mem::take(&mut st.outbox);
        assert!(
            outs.len() <= OUTBOX_MAX,
            "node {i} queued {} actions in one call",
            outs.len()
        );
        for o in outs {
            self.perform(i, o);
        }
    }

    fn perform(&mut self, i: usize, o: BusOut) {
        match o {
            BusOut::Connect { link, ip, cport } => self.connect(i, link, &ip, cport),
            BusOut::Send { link, bytes } => self.send(i, link, bytes),
            BusOut::Close { link } => self.close(i, link),
            BusOut::Publish { .. } => {}
            BusOut::PauseWrites { until_ms } => self.nodes[i].writes_paused_until_ms = until_ms,
            BusOut::ReplicateFrom(t) => self.nodes[i].replicate_from = t,
        }
    }

    fn connect(&mut self, i: usize, link: LinkId, ip: &str, cport: u16) {
        let target = self
            .nodes
            .iter()
            .position(|n| n.ip == ip && n.cport == cport);
        let cid = self.next_conn;
        self.next_conn += 1;
        let life = self.nodes[i].life;
        self.conns.insert(
            cid,
            Conn {
                node: [i, target.unwrap_or(usize::MAX)],
                life: [life, 0],
                link: [Some(link), None],
                open: [true, true],
                up: false,
                q: [VecDeque::new(), VecDeque::new()],
                last_at: [0, 0],
            },
        );
        self.ends.insert((i, link), cid);
        let delay = 1 + self.rng.below(3);
        self.at(self.now_ms + delay, What::ConnectDone { conn: cid });
    }

    fn connect_done(&mut self, cid: u64) {
        let Some(c) = self.conns.get(&cid) else {
            return;
        };
        let (from, to, link) = (c.node[0], c.node[1], c.link[0].expect("outbound link"));
        if self.nodes[from].paused {
            // The connecting process learns the result once it runs again.
            self.at(self.now_ms + TICK_MS, What::ConnectDone { conn: cid });
            return;
        }
        let dead = to == usize::MAX || !self.alive(to);
        if dead || !self.reachable(from, to) {
            self.conns.remove(&cid);
            self.ends.remove(&(from, link));
            let delay = if dead { 0 } else { CONNECT_TIMEOUT_MS };
            let life = self.nodes[from].life;
            self.at(
                self.now_ms + delay,
                What::LinkDown {
                    node: from,
                    life,
                    link,
                },
            );
            return;
        }
        let c = self.conns.get_mut(&cid).expect("conn");
        c.up = true;
        c.life[1] = self.nodes[to].life;
        if !self.nodes[to].paused {
            self.accept(cid);
        }
        let now = self.now_ms;
        self.st_mut(from).link_up(now, link);
        self.drain(from);
    }

    /// The accepting process takes the connection off its listen queue.
    fn accept(&mut self, cid: u64) {
        let to = self.conns[&cid].node[1];
        let now = self.now_ms;
        let l = self.st_mut(to).accept_link(now);
        self.conns.get_mut(&cid).expect("conn").link[1] = Some(l);
        self.ends.insert((to, l), cid);
        self.drain(to);
    }

    fn side_of(c: &Conn, i: usize, link: LinkId) -> usize {
        if c.node[0] == i && c.link[0] == Some(link) {
            0
        } else {
            1
        }
    }

    fn send(&mut self, i: usize, link: LinkId, bytes: Bytes) {
        let Some(&cid) = self.ends.get(&(i, link)) else {
            return;
        };
        let delay = self.rng.below(self.max_delay_ms + 1);
        let now = self.now_ms;
        let c = self.conns.get_mut(&cid).expect("conn of a live end");
        if !c.up {
            return;
        }
        let d = Self::side_of(c, i, link);
        let at = (now + delay).max(c.last_at[d]);
        c.last_at[d] = at;
        c.q[d].push_back((at, Item::Data(bytes)));
        assert!(
            c.q[d].len() <= QUEUE_MAX,
            "runaway queue on a link of node {i}"
        );
        self.at(at, What::Deliver { conn: cid, dir: d });
    }

    fn close(&mut self, i: usize, link: LinkId) {
        let Some(cid) = self.ends.remove(&(i, link)) else {
            return;
        };
        let now = self.now_ms;
        let c = self.conns.get_mut(&cid).expect("conn of a live end");
        let s = Self::side_of(c, i, link);
        c.open[s] = false;
        c.q[1 - s].clear();
        if !c.up || !c.open[1 - s] || c.link[1 - s].is_none() {
            self.remove_conn(cid);
            return;
        }
        let at = (now + 1).max(c.last_at[s]);
        c.last_at[s] = at;
        c.q[s].push_back((at, Item::Fin));
        self.at(at, What::Deliver { conn: cid, dir: s });
    }

    fn remove_conn(&mut self, cid: u64) {
        if let Some(c) = self.conns.remove(&cid) {
            for s in 0..2 {
                if let Some(l) = c.link[s] {
                    self.ends.remove(&(c.node[s], l));
                }
            }
        }
    }

    /// Cuts a connection abruptly: both live ends see it fail shortly after.
    fn cut(&mut self, cid: u64) {
        let Some(c) = self.conns.remove(&cid) else {
            return;
        };
        for s in 0..2 {
            let Some(l) = c.link[s] else { continue };
            self.ends.remove(&(c.node[s], l));
            if c.open[s] && self.alive(c.node[s]) && self.nodes[c.node[s]].life == c.life[s] {
                let w = What::LinkDown {
                    node: c.node[s],
                    life: c.life[s],
                    link: l,
                };
                self.at(self.now_ms + 1, w);
            }
        }
    }

    fn deliver(&mut self, cid: u64, d: usize) {
        loop {
            let Some(c) = self.conns.get_mut(&cid) else {
                return;
            };
            let (from, to) = (c.node[d], c.node[1 - d]);
            let Some(link) = c.link[1 - d].filter(|_| c.open[1 - d]) else {
                return;
            };
            if !matches!(c.q[d].front(), Some(&(at, _)) if at <= self.now_ms) {
                return;
            }
            if !self.runnable(to) || !self.reachable(from, to) {
                return;
            }
            let c = self.conns.get_mut(&cid).expect("conn");
            let (_, item) = c.q[d].pop_front().expect("front");
            match item {
                Item::Data(b) => {
                    self.delivered += 1;
                    let (peer_ip, local_ip) =
                        (self.nodes[from].ip.clone(), self.nodes[to].ip.clone());
                    let origin = Origin {
                        link,
                        peer_ip: &peer_ip,
                        local_ip: &local_ip,
                    };
                    let now = self.now_ms;
                    self.st_mut(to).on_message(now, &origin, &b);
                    self.drain(to);
                }
                Item::Fin => {
                    self.remove_conn(cid);
                    let now = self.now_ms;
                    self.st_mut(to).link_down(now, link);
                    self.drain(to);
                    return;
                }
            }
        }
    }

    fn link_down_event(&mut self, i: usize, life: u32, link: LinkId) {
        if !self.alive(i) || self.nodes[i].life != life {
            return;
        }
        if self.nodes[i].paused {
            self.at(
                self.now_ms + TICK_MS,
                What::LinkDown {
                    node: i,
                    life,
                    link,
                },
            );
            return;
        }
        let now = self.now_ms;
        self.st_mut(i).link_down(now, link);
        self.drain(i);
    }

    /// Plays the replication layer before a cron run: a master's offset grows with writes; a
    /// replica whose master is reachable is linked and nearly caught up, else its link is
    /// down since the last contact (the data-age check of elections reads that).
    fn feed_replication(&mut self, i: usize) {
        let now = self.now_ms;
        let mut writes = self.rng.below(100);
        if now < self.nodes[i].writes_paused_until_ms {
            writes = 0;
        }
        let lag = self.rng.below(50);
        let me = self.st(i).myself_node();
        let master = me
            .master_id
            .as_deref()
            .filter(|_| me.is_replica())
            .and_then(|m| self.st(i).lookup(m))
            .map(|m| self.st(i).node(m))
            .and_then(|m| {
                self.nodes
                    .iter()
                    .position(|n| n.ip == m.ip && n.port == m.port)
            });
        let Some(m) = master else {
            self.st_mut(i).my_repl_offset += writes;
            return;
        };
        let linked = m != i && self.runnable(m) && self.reachable(i, m);
        // A replica trails a master that takes writes, and catches up with a paused one.
        let lag = if now < self.nodes[m].writes_paused_until_ms {
            0
        } else {
            lag
        };
        let offset = if linked {
            Some(self.st(m).my_repl_offset.saturating_sub(lag))
        } else {
            None
        };
        let st = self.st_mut(i);
        st.repl_view.link_up = linked;
        if let Some(off) = offset {
            st.repl_view.last_io_ms = now;
            st.my_repl_offset = st.my_repl_offset.max(off);
        }
    }

    fn handle(&mut self, w: What) {
        match w {
            What::Tick { node } => {
                self.at(self.now_ms + TICK_MS, What::Tick { node });
                if self.runnable(node) {
                    let now = self.now_ms;
                    self.feed_replication(node);
                    self.st_mut(node).on_tick(now);
                    self.drain(node);
                }
            }
            What::ConnectDone { conn } => self.connect_done(conn),
            What::Deliver { conn, dir } => self.deliver(conn, dir),
            What::LinkDown { node, life, link } => self.link_down_event(node, life, link),
        }
    }

    fn summary(&self, i: usize) -> String {
        let Some(st) = &self.nodes[i].st else {
            return "dead".into();
        };
        let me = st.myself_node();
        let role = match me.master_id.as_deref().and_then(|m| st.lookup(m)) {
            Some(m) if me.is_replica() => format!("replica of {}", &st.node(m).id[38..]),
            _ => "master".into(),
        };
        let views: Vec<String> = st
            .nodes()
            .filter(|(_, n)| n.is_master() && n.slots.count() > 0)
            .map(|(_, n)| format!("{}@{}:{}", &n.id[38..], n.config_epoch, n.slots.count()))
            .collect();
        format!(
            "{role} cfg {} cur {} vote {} ok {} sees [{}]",
            me.config_epoch,
            st.current_epoch,
            st.last_vote_epoch,
            st.state_ok,
            views.join(" ")
        )
    }

    /// Prints the nodes whose summary changed since the last call.
    pub fn trace_changes(&mut self, why: &str) {
        let now: Vec<String> = (0..self.nodes.len()).map(|i| self.summary(i)).collect();
        let old = self.trace.take().unwrap_or_default();
        for (i, s) in now.iter().enumerate() {
            if old.get(i) != Some(s) {
                eprintln!("+{} {why} node {i:02}: {s}", self.now_ms - START_MS);
            }
        }
        self.trace = Some(now);
    }

    /// Runs every event up to `until_ms`.
    fn run_until(&mut self, until_ms: u64) {
        while let Some(&Reverse((at, w))) = self.events.peek() {
            if at > until_ms {
                break;
            }
            self.events.pop();
            self.now_ms = self.now_ms.max(at);
            self.handle(w);
            if self.trace.is_some() {
                self.trace_changes(&format!("{w:?}"));
            }
        }
        self.now_ms = until_ms;
    }

    /// One 100 ms step: events, random link cuts, then the invariants.
    pub fn step(&mut self) {
        self.run_until(self.now_ms + TICK_MS);
        if self.cut_per_mille > 0 && !self.conns.is_empty() && self.rng.chance(self.cut_per_mille) {
            let k = self.rng.below(self.conns.len() as u64) as usize;
            let cid = *self.conns.keys().nth(k).expect("k < len");
            self.cut(cid);
        }
        let checks = self.invariants().and_then(|_| self.bounded());
        if let Err(e) = checks.and_then(|_| self.epochs_unique()) {
            panic!(
                "seed {}: invariant broken at +{} ms: {e}",
                self.seed,
                self.now_ms - START_MS
            );
        }
    }

    pub fn run_ms(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.step();
        }
    }

    /// Runs for a random time below `max_ms`.
    pub fn run_random_ms(&mut self, max_ms: u64) {
        let ms = self.rng.below(max_ms);
        self.run_ms(ms);
    }

    /// Steps until `pred` holds; the elapsed ms, or the last reason after `max_ms`.
    pub fn run_until_ok(
        &mut self,
        max_ms: u64,
        mut pred: impl FnMut(&Sim) -> Result<(), String>,
    ) -> Result<u64, String> {
        let start = self.now_ms;
        loop {
            match pred(self) {
                Ok(()) => return Ok(self.now_ms - start),
                Err(e) if self.now_ms - start >= max_ms => return Err(e),
                Err(_) => self.step(),
            }
        }
    }

    // ---- faults ----

    /// Kills node `i`: its connections die (peers see them fail), its cron stops.
    pub fn kill(&mut self, i: usize) {
        let cids: Vec<u64> = self.conns_of(i);
        for cid in cids {
            self.cut(cid);
        }
        let st = self.nodes[i].st.take().expect("kill a live node");
        self.nodes[i].conf =
            nodes_conf::render(&st.conf_lines(), st.current_epoch, st.last_vote_epoch);
        self.nodes[i].life += 1;
        self.nodes[i].paused = false;
    }

    /// Restarts node `i` from the nodes.conf it left.
    pub fn restart(&mut self, i: usize) {
        assert!(!self.alive(i), "restart a dead node");
        let parsed =
            nodes_conf::parse(&self.nodes[i].conf, "nodes.conf", self.now_ms).expect("own conf");
        let mut st = ClusterState::from_parsed(parsed);
        st.node_timeout_ms = self.node_timeout_ms;
        st.seed(self.rng.next());
        let me = st.myself_mut_pub();
        me.port = self.nodes[i].port;
        me.cport = self.nodes[i].cport;
        self.nodes[i].st = Some(st);
        self.drain(i);
    }

    /// SIGSTOP: no cron, no reading; links stay open and messages queue.
    pub fn pause(&mut self, i: usize) {
        self.nodes[i].paused = true;
    }

    /// SIGCONT: takes pending connections and reads what queued.
    pub fn resume(&mut self, i: usize) {
        self.nodes[i].paused = false;
        let pending: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.up && c.node[1] == i && c.link[1].is_none() && c.open[1])
            .map(|(&k, _)| k)
            .collect();
        for cid in pending {
            self.accept(cid);
        }
        self.redeliver_all();
    }

    fn redeliver_all(&mut self) {
        let all: Vec<u64> = self.conns.keys().copied().collect();
        for cid in all {
            self.at(self.now_ms, What::Deliver { conn: cid, dir: 0 });
            self.at(self.now_ms, What::Deliver { conn: cid, dir: 1 });
        }
    }

    fn conns_of(&self, i: usize) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, c)| c.node.contains(&i))
            .map(|(&k, _)| k)
            .collect()
    }

    /// Splits the nodes into groups (`groups[i]` per node). `silent`: links stay open but
    /// nothing crosses (TCP retransmits until the heal); otherwise crossing links are cut.
    pub fn partition(&mut self, groups: &[u8], silent: bool) {
        for (n, &g) in self.nodes.iter_mut().zip(groups) {
            n.group = g;
        }
        self.silent = silent;
        if !silent {
            let crossing: Vec<u64> = self
                .conns
                .iter()
                .filter(|(_, c)| c.node[1] != usize::MAX)
                .filter(|(_, c)| self.nodes[c.node[0]].group != self.nodes[c.node[1]].group)
                .map(|(&k, _)| k)
                .collect();
            for cid in crossing {
                self.cut(cid);
            }
        }
    }

    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.group = 0;
        }
        self.redeliver_all();
    }

    /// Cuts every connection (a flapping network).
    pub fn cut_all(&mut self) {
        let all: Vec<u64> = self.conns.keys().copied().collect();
        for cid in all {
            self.cut(cid);
        }
    }

    // ---- commands, as an administrator or redis-cli sends them ----

    pub fn cmd_meet(&mut self, i: usize, j: usize) {
        let (ip, port, cport) = (
            self.nodes[j].ip.clone(),
            self.nodes[j].port,
            self.nodes[j].cport,
        );
        let now = self.now_ms;
        self.st_mut(i).meet(now, &ip, port, cport);
        self.drain(i);
    }

    pub fn cmd_addslots(&mut self, i: usize, first: u16, last: u16) {
        let slots: Vec<u16> = (first..=last).collect();
        self.st_mut(i).add_slots(&slots);
        self.drain(i);
    }

    /// CLUSTER SET-CONFIG-EPOCH (on a node that knows nobody yet).
    pub fn cmd_set_config_epoch(&mut self, i: usize, epoch: u64) {
        let st = self.st_mut(i);
        st.myself_mut_pub().config_epoch = epoch;
        st.current_epoch = st.current_epoch.max(epoch);
        st.touch();
        self.drain(i);
    }

    /// CLUSTER REPLICATE: false while `i` does not know `m` as a master.
    pub fn cmd_replicate(&mut self, i: usize, m: usize) -> bool {
        let id = self.nodes[m].id.clone();
        let st = self.st_mut(i);
        let Some(idx) = st.lookup(&id) else {
            return false;
        };
        if !st.node(idx).is_master() || st.node(idx).has(flag::HANDSHAKE) {
            return false;
        }
        st.set_my_master(idx);
        self.drain(i);
        true
    }

    /// CLUSTER FORGET `j` on node `i`.
    pub fn cmd_forget(&mut self, i: usize, j: usize) {
        let now = self.now_ms;
        let id = self.nodes[j].id.clone();
        let st = self.st_mut(i);
        if let Some(idx) = st.lookup(&id) {
            st.forget(now, idx);
        }
        self.drain(i);
    }

    /// Gives dead node `i` a new ip (a container restarted elsewhere).
    pub fn move_node(&mut self, i: usize, ip: &str) {
        assert!(!self.alive(i), "move a dead node");
        self.nodes[i].ip = ip.to_string();
    }

    /// CLUSTER FAILOVER [FORCE|TAKEOVER] on replica `i`, with the command's checks; false
    /// when the command would refuse.
    pub fn cmd_failover(&mut self, i: usize, force: bool, takeover: bool) -> bool {
        let now = self.now_ms;
        let st = self.st_mut(i);
        let me = st.myself_node();
        let Some(m) = me.master_id.as_deref().and_then(|m| st.lookup(m)) else {
            return false;
        };
        let master = st.node(m);
        if me.is_master() || (!force && (master.failed() || !master.link_connected)) {
            return false;
        }
        st.start_manual_failover(now, force, takeover);
        self.drain(i);
        true
    }

    pub fn cmd_bumpepoch(&mut self, i: usize) {
        self.st_mut(i).bump_epoch_without_consensus();
        self.st_mut(i).touch();
        self.drain(i);
    }
}

/// True when two slot bitmaps share a slot.
fn overlap(a: &SlotBits, b: &SlotBits) -> bool {
    let (a, b) = (a.bytes(), b.bytes());
    a.chunks_exact(8).zip(b.chunks_exact(8)).any(|(x, y)| {
        let x = u64::from_ne_bytes(x.try_into().expect("8 bytes"));
        x & u64::from_ne_bytes(y.try_into().expect("8 bytes")) != 0
    })
}

/// Slot ranges redis-cli gives `masters` masters (its rounding, e.g. 0-5460/5461-10922/...).
pub fn cli_ranges(masters: usize) -> Vec<(u16, u16)> {
    let per = SLOT_COUNT as f64 / masters as f64;
    let (mut first, mut cursor) = (0i64, 0f64);
    let mut out = Vec::new();
    for i in 0..masters {
        let mut last = (cursor + per - 1.0).round() as i64;
        if last > SLOT_COUNT as i64 - 1 || i == masters - 1 {
            last = SLOT_COUNT as i64 - 1;
        }
        last = last.max(first);
        out.push((first as u16, last as u16));
        first = last + 1;
        cursor += per;
    }
    out
}

impl Sim {
    /// Checked after every step. Across all live views, two different masters that claim a
    /// common slot must not do so with the same configEpoch (that is the tie the protocol
    /// cannot break); each view's currentEpoch bounds every configEpoch it knows; the state's
    /// link table and the network stay bounded.
    pub fn invariants(&self) -> Result<(), String> {
        if !self.check_invariants {
            return Ok(());
        }
        let mut claims = Vec::new();
        for (v, sn) in self.nodes.iter().enumerate() {
            let Some(st) = &sn.st else { continue };
            let mut max_epoch = 0;
            for (_, n) in st.nodes() {
                max_epoch = max_epoch.max(n.config_epoch);
                // Slot-less masters are filtered when a pair shares an epoch (rare and cheap).
                if n.is_master() {
                    claims.push((n.config_epoch, n.id.as_str(), &n.slots, v));
                }
            }
            if st.current_epoch < max_epoch {
                return Err(format!(
                    "node {v}: currentEpoch {} below a known configEpoch {max_epoch}",
                    st.current_epoch
                ));
            }
            if st.myself_node().has(flag::PFAIL | flag::FAIL) {
                return Err(format!("node {v} flags itself failing"));
            }
        }
        claims.sort_by_key(|c| c.0);
        for (k, a) in claims.iter().enumerate() {
            for b in claims[k + 1..].iter().take_while(|b| b.0 == a.0) {
                if a.1 != b.1 && overlap(a.2, b.2) {
                    return Err(format!(
                        "configEpoch {} claimed for common slots by {} (view of node {}) and \
                         {} (view of node {})",
                        a.0, a.1, a.3, b.1, b.3
                    ));
                }
            }
        }
        Ok(())
    }

    /// Records who served which slots under which epoch: two nodes must never serve common
    /// slots under one epoch, even at different times (`strict_epochs`: nor any slots).
    fn epochs_unique(&mut self) -> Result<(), String> {
        if !self.unique_epochs {
            return Ok(());
        }
        for (v, sn) in self.nodes.iter().enumerate() {
            let Some(me) = sn.st.as_ref().map(|st| st.myself_node()) else {
                continue;
            };
            if !me.is_master() || me.slots.count() == 0 {
                continue;
            }
            let seen = self.epoch_owner.entry(me.config_epoch).or_default();
            for (id, slots) in seen.iter() {
                if *id != me.id && (self.strict_epochs || overlap(slots, &me.slots)) {
                    return Err(format!(
                        "node {v} serves under configEpoch {} that {id} served under",
                        me.config_epoch
                    ));
                }
            }
            match seen.iter_mut().find(|(id, _)| *id == me.id) {
                Some((_, slots)) if *slots != me.slots => {
                    let both: Vec<u8> = slots
                        .bytes()
                        .iter()
                        .zip(me.slots.bytes())
                        .map(|(a, b)| a | b)
                        .collect();
                    *slots = SlotBits::from_bytes(&both);
                }
                Some(_) => {}
                None => seen.push((me.id.clone(), me.slots.clone())),
            }
        }
        Ok(())
    }

    /// The state's link table and the network stay bounded (checked even when the slot
    /// invariant is off).
    fn bounded(&self) -> Result<(), String> {
        for (v, sn) in self.nodes.iter().enumerate() {
            let Some(st) = &sn.st else { continue };
            if st.links.len() > 4 * st.nodes().count() + 8 {
                return Err(format!("node {v}: {} links", st.links.len()));
            }
        }
        if self.conns.len() > 4 * self.nodes.len() * self.nodes.len() + 16 {
            return Err(format!("{} connections", self.conns.len()));
        }
        Ok(())
    }

    /// Every live node knows every node, healthy, with the roles, epochs and slots each node
    /// states for itself; state ok and one currentEpoch everywhere.
    pub fn converged(&self) -> Result<(), String> {
        let members: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].removed)
            .collect();
        if let Some(&d) = members.iter().find(|&&i| !self.alive(i)) {
            return Err(format!("node {d} is down"));
        }
        let epoch = self.st(members[0]).current_epoch;
        for &v in &members {
            let st = self.st(v);
            if !st.state_ok {
                return Err(format!("node {v}: state fail"));
            }
            if st.current_epoch != epoch {
                return Err(format!(
                    "node {v}: currentEpoch {} != {epoch}",
                    st.current_epoch
                ));
            }
            if st.nodes().count() != members.len() {
                return Err(format!("node {v} knows {} nodes", st.nodes().count()));
            }
            for &j in &members {
                self.view_matches(v, j)?;
            }
        }
        Ok(())
    }

    /// Node `v`'s entry for node `j` matches what `j` says of itself.
    fn view_matches(&self, v: usize, j: usize) -> Result<(), String> {
        let truth = self.st(j).myself_node();
        let st = self.st(v);
        let idx = st
            .lookup(&truth.id)
            .ok_or_else(|| format!("node {v} does not know node {j}"))?;
        let n = st.node(idx);
        let bad = flag::HANDSHAKE | flag::NOADDR | flag::PFAIL | flag::FAIL;
        if n.has(bad) {
            return Err(format!("node {v} sees node {j} as {}", n.flags));
        }
        let addr = (&self.nodes[j].ip, self.nodes[j].port, self.nodes[j].cport);
        if v != j && (&n.ip, n.port, n.cport) != addr {
            return Err(format!("node {v} has node {j} at {}", n.addr_text()));
        }
        if n.is_master() != truth.is_master() || n.master_id != truth.master_id {
            return Err(format!("node {v} has node {j}'s role wrong"));
        }
        if truth.is_master() && (n.config_epoch != truth.config_epoch || n.slots != truth.slots) {
            return Err(format!(
                "node {v} sees node {j} with epoch {} and {} slots (truth {} / {})",
                n.config_epoch,
                n.slots.count(),
                truth.config_epoch,
                truth.slots.count()
            ));
        }
        Ok(())
    }

    /// Waits until every node knows every node. A MEET lost with its link leaves the meeting
    /// node known to nobody (Redis 7.0 sends MEET once), so, as an operator would, nodes node 0
    /// still does not know are told to MEET it again every few seconds.
    fn wait_for_join(&mut self, max_ms: u64) -> Result<u64, String> {
        let n = self.nodes.len();
        let start = self.now_ms;
        loop {
            let r = self.run_until_ok(REMEET_MS, |s| match (0..n).find(|&v| s.known_by(v) != n) {
                Some(v) => Err(format!("join: node {v} knows {}", s.known_by(v))),
                None => Ok(()),
            });
            match r {
                Ok(_) => return Ok(self.now_ms - start),
                Err(e) if self.now_ms - start >= max_ms => return Err(e),
                Err(_) => {}
            }
            for i in 1..n {
                let id = self.nodes[i].id.clone();
                let known = self.st(0).lookup(&id).is_some();
                if !known {
                    self.cmd_meet(i, 0);
                }
            }
        }
    }

    /// How many live nodes `v` knows fully (handshake done).
    pub fn known_by(&self, v: usize) -> usize {
        self.st(v)
            .nodes()
            .filter(|(_, n)| !n.has(flag::HANDSHAKE | flag::NOADDR))
            .count()
    }

    /// A fingerprint of every node's view (determinism checks).
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for n in &self.nodes {
            if let Some(st) = &n.st {
                st.nodes_text().hash(&mut h);
                st.current_epoch.hash(&mut h);
            }
        }
        self.delivered.hash(&mut h);
        self.now_ms.hash(&mut h);
        h.finish()
    }

    /// Forms a cluster the way `redis-cli --cluster create` does: ADDSLOTS on the masters,
    /// SET-CONFIG-EPOCH 1..N on every node, MEET everyone to node 0, wait for the join, then
    /// REPLICATE (replica k follows master k % masters). Returns the ms until convergence.
    pub fn form(&mut self, masters: usize, max_ms: u64) -> Result<u64, String> {
        let start = self.now_ms;
        for (i, (a, b)) in cli_ranges(masters).into_iter().enumerate() {
            self.cmd_addslots(i, a, b);
        }
        for i in 0..self.nodes.len() {
            self.cmd_set_config_epoch(i, i as u64 + 1);
        }
        for i in 1..self.nodes.len() {
            self.cmd_meet(i, 0);
        }
        self.wait_for_join(max_ms)?;
        for r in masters..self.nodes.len() {
            let deadline = self.now_ms + max_ms;
            while !self.cmd_replicate(r, (r - masters) % masters) {
                if self.now_ms > deadline {
                    return Err(format!("node {r} never learned its master"));
                }
                self.step();
            }
        }
        self.run_until_ok(max_ms, |s| s.converged())?;
        Ok(self.now_ms - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node timeout of the scenarios: short, so runs stay small.
    const TIMEOUT_MS: u64 = 2000;

    /// Seeds per scenario: `SIM_SEEDS=<n>` scales every scenario for a long soak, and
    /// `SIM_SEED_FROM=<k>` starts there (replaying one seed: FROM=k, SEEDS=k+1).
    /// Seeds of one scenario: `default` x SIM_SCALE (10 unless set; the whole module then
    /// runs over a thousand seeded scenarios), or exactly SIM_SEED_FROM..SIM_SEEDS.
    fn seeds(default: u64) -> std::ops::Range<u64> {
        let var = |name: &str| std::env::var(name).ok().and_then(|s| s.parse().ok());
        let scale = var("SIM_SCALE").unwrap_or(10);
        var("SIM_SEED_FROM").unwrap_or(0)..var("SIM_SEEDS").unwrap_or(default * scale)
    }

    fn formed(seed: u64, masters: usize, total: usize) -> Sim {
        let mut sim = Sim::new(seed, total, TIMEOUT_MS);
        if let Err(e) = sim.form(masters, 60_000) {
            panic!("seed {seed}: cluster did not form: {e}");
        }
        sim
    }

    /// Asserts convergence within `max_ms`, naming the seed.
    fn must_converge(sim: &mut Sim, seed: u64, max_ms: u64, what: &str) -> u64 {
        match sim.run_until_ok(max_ms, |s| s.converged()) {
            Ok(ms) => ms,
            Err(e) => panic!("seed {seed}: {what}: no convergence in {max_ms} ms: {e}"),
        }
    }

    #[test]
    fn cli_ranges_match_redis_cli() {
        // Guards the slot split redis-cli uses, which the formation scenarios copy.
        assert_eq!(
            cli_ranges(3),
            vec![(0, 5460), (5461, 10922), (10923, 16383)]
        );
        assert_eq!(cli_ranges(1), vec![(0, 16383)]);
        let r = cli_ranges(7);
        assert_eq!((r[0].0, r[6].1), (0, 16383));
        assert!(r.windows(2).all(|w| w[0].1 + 1 == w[1].0));
    }

    #[test]
    fn same_seed_same_run() {
        // Guards determinism: a seed replays exactly (HashMap order inside the state included).
        let run = |seed| {
            let mut sim = formed(seed, 3, 6);
            sim.max_delay_ms = 40;
            sim.cut_per_mille = 100;
            sim.run_ms(5000);
            sim.fingerprint()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn three_masters_form() {
        // Guards (a): redis-cli's create flow converges for 3 masters.
        for seed in seeds(15) {
            let mut sim = Sim::new(seed, 3, TIMEOUT_MS);
            sim.max_delay_ms = seed % 20;
            sim.form(3, 60_000)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }

    #[test]
    fn three_plus_three_form() {
        // Guards (a): 3 masters + 3 replicas converge, replicas under the right masters.
        for seed in seeds(6) {
            let sim = formed(seed, 3, 6);
            for r in 3..6 {
                let st = sim.st(r);
                assert!(st.myself_node().is_replica(), "seed {seed}");
                assert_eq!(
                    st.myself_node().master_id.as_deref(),
                    Some(sim.nodes[r - 3].id.as_str())
                );
                assert_eq!(
                    sim.nodes[r].replicate_from,
                    Some((sim.nodes[r - 3].ip.clone(), sim.nodes[r - 3].port))
                );
            }
        }
    }

    /// How node `v` currently flags node `j` (0 when unknown).
    fn flags_of(sim: &Sim, v: usize, j: usize) -> u16 {
        let st = sim.st(v);
        st.lookup(&sim.nodes[j].id).map_or(0, |i| st.node(i).flags)
    }

    /// Steps until every live node but `j` flags `j` with `f`; the elapsed ms.
    fn until_all_flag(sim: &mut Sim, j: usize, f: u16, max_ms: u64) -> Result<u64, String> {
        let n = sim.nodes.len();
        sim.run_until_ok(max_ms, |s| {
            let missing = (0..n).filter(|&v| v != j && s.alive(v));
            match missing.into_iter().find(|&v| flags_of(s, v, j) & f == 0) {
                Some(v) => Err(format!("node {v} does not flag node {j} with {f}")),
                None => Ok(()),
            }
        })
    }

    /// Every live node's owner id for each slot, and that all agree (per-slot owner check).
    fn owners_everywhere(sim: &Sim) -> Vec<String> {
        let live: Vec<usize> = (0..sim.nodes.len()).filter(|&i| sim.alive(i)).collect();
        let view = |v: usize| -> Vec<String> {
            let st = sim.st(v);
            (0..SLOT_COUNT as u16)
                .map(|s| match st.owner_of(s) {
                    crate::cluster::slot_map::NO_NODE => String::new(),
                    o => st.node(o).id.clone(),
                })
                .collect()
        };
        let first = view(live[0]);
        for &v in &live[1..] {
            assert!(view(v) == first, "node {v} disagrees on slot owners");
        }
        first
    }

    #[test]
    fn dead_master_fails_everywhere_then_clears() {
        // Guards (b): PFAIL then FAIL within bounds on every node; FAIL clears on return.
        for seed in seeds(8) {
            let mut sim = formed(seed, 3, 3);
            let before = owners_everywhere(&sim);
            let k = sim.rng.below(3) as usize;
            sim.kill(k);
            let pfail = until_all_flag(&mut sim, k, flag::PFAIL | flag::FAIL, 2 * TIMEOUT_MS)
                .unwrap_or_else(|e| panic!("seed {seed}: PFAIL: {e}"));
            assert!(
                pfail >= TIMEOUT_MS,
                "seed {seed}: PFAIL after only {pfail} ms"
            );
            until_all_flag(&mut sim, k, flag::FAIL, 3 * TIMEOUT_MS)
                .unwrap_or_else(|e| panic!("seed {seed}: FAIL: {e}"));
            let live = [0, 1, 2].into_iter().filter(|&v| v != k);
            assert!(
                live.clone().all(|v| !sim.st(v).state_ok),
                "seed {seed}: no coverage"
            );
            sim.run_random_ms(3 * TIMEOUT_MS);
            sim.restart(k);
            // A master with slots keeps FAIL for 2 x node timeout after it was set.
            let ms = must_converge(&mut sim, seed, 6 * TIMEOUT_MS, "after restart");
            assert!(ms <= 4 * TIMEOUT_MS + 2000, "seed {seed}: {ms} ms");
            assert_eq!(owners_everywhere(&sim), before, "seed {seed}");
        }
    }

    #[test]
    fn dead_replica_fails_and_clears_at_once() {
        // Guards (b) for a replica: FAIL everywhere, cleared by the first PONG after return.
        for seed in seeds(4) {
            let mut sim = formed(seed, 3, 6);
            let k = 3 + sim.rng.below(3) as usize;
            sim.kill(k);
            until_all_flag(&mut sim, k, flag::FAIL, 4 * TIMEOUT_MS)
                .unwrap_or_else(|e| panic!("seed {seed}: FAIL: {e}"));
            sim.restart(k);
            must_converge(&mut sim, seed, 3 * TIMEOUT_MS, "replica back");
        }
    }

    #[test]
    fn partitions_heal() {
        // Guards (c): cut or silent partitions of a masters-only cluster heal and converge.
        for seed in seeds(5) {
            let n = 3 + 2 * (seed % 2) as usize;
            let mut sim = formed(seed, n, n);
            let before = owners_everywhere(&sim);
            for round in 0..3 {
                let groups: Vec<u8> = (0..n).map(|_| sim.rng.below(2) as u8).collect();
                let silent = sim.rng.chance(500);
                sim.partition(&groups, silent);
                sim.run_random_ms(4 * TIMEOUT_MS);
                sim.heal();
                let what = format!("round {round} {groups:?} silent {silent}");
                must_converge(&mut sim, seed, 8 * TIMEOUT_MS, &what);
            }
            assert_eq!(owners_everywhere(&sim), before, "seed {seed}");
        }
    }

    #[test]
    fn delays_and_cuts_do_not_break_convergence() {
        // Guards (d): formation and steady state under random delays and link cuts.
        for seed in seeds(5) {
            let mut sim = Sim::new(seed, 6, TIMEOUT_MS);
            sim.max_delay_ms = sim.rng.below(300);
            sim.cut_per_mille = sim.rng.below(400);
            if let Err(e) = sim.form(3, 120_000) {
                panic!("seed {seed}: formation under chaos: {e}");
            }
            sim.run_ms(10_000);
            sim.cut_per_mille = 0;
            must_converge(&mut sim, seed, 10 * TIMEOUT_MS, "chaos stopped");
        }
    }

    #[test]
    fn paused_master_recovers() {
        // Guards a SIGSTOP-like pause: queued traffic is read on resume and all converge.
        for seed in seeds(8) {
            let mut sim = formed(seed, 3, 3);
            let k = sim.rng.below(3) as usize;
            sim.pause(k);
            sim.run_random_ms(4 * TIMEOUT_MS);
            sim.resume(k);
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "resumed");
        }
    }

    #[test]
    fn whole_cluster_restarts_from_nodes_conf() {
        // Guards persistence: every node restarted from its nodes.conf rejoins the same cluster.
        for seed in seeds(4) {
            let mut sim = formed(seed, 3, 6);
            let before = owners_everywhere(&sim);
            for i in 0..6 {
                sim.kill(i);
            }
            sim.run_random_ms(2000);
            for i in 0..6 {
                sim.restart(i);
            }
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "restarted");
            assert_eq!(owners_everywhere(&sim), before, "seed {seed}");
        }
    }

    #[test]
    fn concurrent_bumps_resolve_collisions() {
        // Guards epoch collisions: masters bumping at once end with distinct configEpochs.
        for seed in seeds(8) {
            let mut sim = formed(seed, 4, 4);
            sim.unique_epochs = false;
            sim.max_delay_ms = 30;
            for i in 0..4 {
                sim.cmd_bumpepoch(i);
            }
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "bumped");
            let mut epochs: Vec<u64> = (0..4)
                .map(|i| sim.st(i).myself_node().config_epoch)
                .collect();
            epochs.sort_unstable();
            epochs.dedup();
            assert_eq!(epochs.len(), 4, "seed {seed}: colliding epochs {epochs:?}");
        }
    }

    #[test]
    fn moved_slots_reach_every_node() {
        // Guards a SETSLOT-like move (DELSLOTS on the source, ADDSLOTS + BUMPEPOCH on the
        // target): every node ends with the new owner, the invariant holds meanwhile.
        for seed in seeds(8) {
            let mut sim = formed(seed, 3, 3);
            let (a, b) = (seed as usize % 3, (seed as usize + 1) % 3);
            let (lo, _) = cli_ranges(3)[a];
            let first = lo + sim.rng.below(1000) as u16;
            let last = first + sim.rng.below(500) as u16;
            let slots: Vec<u16> = (first..=last).collect();
            sim.st_mut(a).del_slots(&slots);
            sim.drain(a);
            sim.cmd_addslots(b, first, last);
            sim.cmd_bumpepoch(b);
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "moved");
            let owners = owners_everywhere(&sim);
            assert!(owners[first as usize..=last as usize]
                .iter()
                .all(|o| *o == sim.nodes[b].id));
        }
    }

    #[test]
    fn lost_meet_is_recovered() {
        // Guards recovery from a MEET lost in flight (Redis 7.0 never resends it): the link
        // carrying it is cut; the meeting node keeps MEET until the other side contacts it,
        // so the next connection carries a MEET again and both sides learn each other.
        let seed = 3;
        let mut sim = Sim::new(seed, 2, TIMEOUT_MS);
        sim.cmd_meet(1, 0);
        sim.max_delay_ms = 1_000_000;
        sim.run_ms(2 * TICK_MS);
        assert_eq!(sim.st(0).nodes().count(), 1, "the MEET is still in flight");
        assert_eq!(sim.delivered, 0);
        sim.cut_all();
        sim.max_delay_ms = 5;
        sim.run_ms(5 * TIMEOUT_MS);
        assert_eq!(
            sim.known_by(1),
            2,
            "node 1 completed its handshake with node 0"
        );
        assert_eq!(
            sim.known_by(0),
            2,
            "node 0 learns node 1 from the resent MEET"
        );
    }

    #[test]
    fn deleted_node_stays_forgotten() {
        // Guards redis-cli del-node: FORGET on every other node, then shutdown; nobody re-adds
        // it, also after the one-minute blacklist expires.
        for seed in seeds(3) {
            let mut sim = formed(seed, 3, 5);
            let k = 3 + sim.rng.below(2) as usize;
            for i in (0..5).filter(|&i| i != k) {
                sim.cmd_forget(i, k);
            }
            sim.kill(k);
            sim.nodes[k].removed = true;
            sim.run_ms(crate::cluster::cron::FORGET_BLACKLIST_MS + 5000);
            must_converge(&mut sim, seed, 4 * TIMEOUT_MS, "forgotten");
        }
    }

    #[test]
    fn node_back_on_a_new_address() {
        // Guards address updates: a node restarted on another ip is found there by everyone.
        for seed in seeds(4) {
            let mut sim = formed(seed, 3, 6);
            let k = sim.rng.below(6) as usize;
            sim.kill(k);
            sim.run_random_ms(3 * TIMEOUT_MS);
            sim.move_node(k, &format!("127.0.0.{}", 100 + k));
            sim.restart(k);
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "moved node");
        }
    }

    /// Node `from`'s PING carrying one extra gossip entry `g`, handed to node `to` on a link
    /// it holds with `from`.
    fn gossip_to(sim: &mut Sim, from: usize, to: usize, g: crate::cluster::message::Gossip) {
        use crate::cluster::message::{encode, mtype, Body};
        let mut m = sim.st_mut(from).ping_message(mtype::PING);
        if let Body::Ping { gossip, .. } = &mut m.body {
            gossip.push(g);
        }
        let idx = sim.st(to).lookup(&sim.nodes[from].id).expect("known");
        let n = sim.st(to).node(idx);
        let link = n
            .in_link
            .or(n.out_link)
            .expect("a link between formed nodes");
        let (peer, local) = (sim.nodes[from].ip.clone(), sim.nodes[to].ip.clone());
        let origin = Origin {
            link,
            peer_ip: &peer,
            local_ip: &local,
        };
        let now = sim.now_ms;
        sim.st_mut(to).on_message(now, &origin, &encode(&m));
        sim.drain(to);
    }

    fn fake_entry(id: &str, ip: &str, port: u16, cport: u16) -> crate::cluster::message::Gossip {
        crate::cluster::message::Gossip {
            id: id.to_string(),
            ping_sent_s: 0,
            pong_received_s: 0,
            ip: ip.to_string(),
            port,
            cport,
            flags: flag::MASTER,
            pport: 0,
        }
    }

    /// Nodes of `v`'s table that are neither handshakes nor address-less, with `ip`.
    fn trusted_at(sim: &Sim, v: usize, ip: &str) -> usize {
        let bad = flag::HANDSHAKE | flag::NOADDR;
        let st = sim.st(v);
        st.nodes()
            .filter(|(_, n)| n.ip == ip && !n.has(bad))
            .count()
    }

    #[test]
    fn gossiped_node_nobody_answers_for_is_never_trusted() {
        // Guards gossip as a way in: an entry about an unknown node at an address where no
        // node listens only starts a handshake (Redis 7.0 would add the node with the claimed
        // id for good); it never shows as a normal node and goes after the handshake timeout.
        let mut sim = formed(1, 3, 3);
        let fake = "f00d".repeat(10);
        gossip_to(
            &mut sim,
            1,
            0,
            fake_entry(&fake, "127.0.0.99", 30099, 40099),
        );
        let st = sim.st(0);
        assert!(
            st.lookup(&fake).is_none(),
            "the gossiped id is not in the table"
        );
        let pending = st.nodes().filter(|(_, n)| n.has(flag::HANDSHAKE)).count();
        assert_eq!(pending, 1, "a handshake is pending");
        assert!(!st.nodes_text().contains(&fake));
        // The same entry again does not start a second handshake.
        gossip_to(
            &mut sim,
            2,
            0,
            fake_entry(&fake, "127.0.0.99", 30099, 40099),
        );
        let pending = sim
            .st(0)
            .nodes()
            .filter(|(_, n)| n.has(flag::HANDSHAKE))
            .count();
        assert_eq!(pending, 1);
        for _ in 0..(3 * TIMEOUT_MS / TICK_MS) {
            sim.step();
            assert_eq!(trusted_at(&sim, 0, "127.0.0.99"), 0, "never trusted");
            assert!(sim.st(0).lookup(&fake).is_none());
        }
        let left = sim.st(0).nodes().any(|(_, n)| n.ip == "127.0.0.99");
        assert!(!left, "the handshake timed out");
        must_converge(&mut sim, 1, 4 * TIMEOUT_MS, "after forged gossip");
    }

    #[test]
    fn gossiped_id_must_match_the_node_that_answers() {
        // Guards address reuse and forged ids: gossip naming an unknown id at the address of
        // a live node gets a PONG with that node's own id, so the entry is dropped instead of
        // becoming a second node on the same address.
        for seed in seeds(2) {
            let mut sim = formed(seed, 3, 4);
            let ghost = "9h05t".repeat(8);
            let (ip, port, cport) = (
                sim.nodes[2].ip.clone(),
                sim.nodes[2].port,
                sim.nodes[2].cport,
            );
            gossip_to(&mut sim, 1, 0, fake_entry(&ghost, &ip, port, cport));
            sim.run_ms(3 * TIMEOUT_MS);
            assert!(sim.st(0).lookup(&ghost).is_none(), "seed {seed}");
            assert_eq!(
                trusted_at(&sim, 0, &ip),
                1,
                "seed {seed}: one node at that address"
            );
            must_converge(&mut sim, seed, 4 * TIMEOUT_MS, "after a forged id");
        }
    }

    #[test]
    fn node_learned_from_gossip_enters_after_its_pong() {
        // Guards the positive path: a node met by one member is learned by the others through
        // gossip, first as a handshake, then under its real id once it answered.
        let mut sim = Sim::new(5, 3, TIMEOUT_MS);
        sim.cmd_meet(1, 0);
        sim.cmd_meet(2, 0);
        let (id2, ip2) = (sim.nodes[2].id.clone(), sim.nodes[2].ip.clone());
        let mut saw_handshake = false;
        let r = sim.run_until_ok(10 * TIMEOUT_MS, |s| {
            let st = s.st(1);
            let at_2 = |n: &crate::cluster::node::Node| n.ip == ip2 && n.has(flag::HANDSHAKE);
            saw_handshake |= st.nodes().any(|(_, n)| at_2(n));
            match st.lookup(&id2) {
                Some(i) if !st.node(i).has(flag::HANDSHAKE) => Ok(()),
                _ => Err("node 1 does not know node 2 yet".into()),
            }
        });
        r.unwrap_or_else(|e| panic!("{e}"));
        assert!(saw_handshake, "node 1 went through a handshake with node 2");
    }

    /// Every live node serves `slots` from one and the same node, which is not `old`, with
    /// state ok; that owner's id.
    fn taken_over(sim: &Sim, old: &str, slot: u16) -> Result<String, String> {
        let live: Vec<usize> = (0..sim.nodes.len()).filter(|&i| sim.alive(i)).collect();
        let mut owner: Option<String> = None;
        for &v in &live {
            let st = sim.st(v);
            if !st.state_ok {
                return Err(format!("node {v}: state fail"));
            }
            let o = st.owner_of(slot);
            let id = (o != crate::cluster::slot_map::NO_NODE).then(|| st.node(o).id.clone());
            let Some(id) = id.filter(|id| id != old) else {
                return Err(format!("node {v}: slot {slot} still with the old master"));
            };
            if owner.get_or_insert(id.clone()) != &id {
                return Err(format!("node {v}: slot {slot} owner differs"));
            }
        }
        owner.ok_or_else(|| "no live node".into())
    }

    #[test]
    fn replica_takes_over_a_dead_master() {
        // Guards (f): a dead master's replica wins the election, everybody follows it, and
        // the returning old master becomes the winner's replica.
        for seed in seeds(4) {
            let mut sim = formed(seed, 3, 6);
            let k = sim.rng.below(3) as usize;
            let (slot, _) = cli_ranges(3)[k];
            let old = sim.nodes[k].id.clone();
            sim.kill(k);
            let id =
                match sim.run_until_ok(8 * TIMEOUT_MS, |s| taken_over(s, &old, slot).map(|_| ())) {
                    Ok(_) => taken_over(&sim, &old, slot).expect("held"),
                    Err(e) => panic!("seed {seed}: no failover: {e}"),
                };
            let w = sim
                .nodes
                .iter()
                .position(|n| n.id == id)
                .expect("a sim node");
            assert_eq!(
                w,
                k + 3,
                "seed {seed}: the winner is the dead master's replica"
            );
            sim.run_random_ms(3 * TIMEOUT_MS);
            sim.restart(k);
            must_converge(&mut sim, seed, 8 * TIMEOUT_MS, "old master back");
            let me = sim.st(k).myself_node();
            assert!(
                me.is_replica(),
                "seed {seed}: old master is a replica again"
            );
            assert_eq!(me.master_id.as_deref(), Some(id.as_str()), "seed {seed}");
            let winner_epoch = sim.st(w).myself_node().config_epoch;
            assert!(
                winner_epoch > 6,
                "seed {seed}: election epoch {winner_epoch}"
            );
        }
    }

    #[test]
    fn no_failover_replica_waits_for_a_manual_failover() {
        // Guards cluster-replica-no-failover: the replica of a dead master never starts an
        // election on its own (the cluster stays down), but CLUSTER FAILOVER FORCE works.
        for seed in seeds(2) {
            let mut sim = formed(seed, 3, 6);
            let k = sim.rng.below(3) as usize;
            let (slot, _) = cli_ranges(3)[k];
            let old = sim.nodes[k].id.clone();
            sim.st_mut(k + 3).replica_no_failover = true;
            sim.kill(k);
            sim.run_ms(8 * TIMEOUT_MS);
            assert!(sim.st(k + 3).myself_node().is_replica(), "seed {seed}");
            assert!(
                taken_over(&sim, &old, slot).is_err(),
                "seed {seed}: nobody took over"
            );
            assert!(
                sim.cmd_failover(k + 3, true, false),
                "seed {seed}: FORCE accepted"
            );
            let done = sim.run_until_ok(8 * TIMEOUT_MS, |s| taken_over(s, &old, slot).map(|_| ()));
            done.unwrap_or_else(|e| panic!("seed {seed}: no manual failover: {e}"));
        }
    }

    #[test]
    fn replicas_follow_a_failover_without_replica_migration() {
        // Guards cluster-allow-replica-migration no: it keeps a shard emptied by resharding,
        // but a shard taken over by a failover still moves whole (Redis: the new owner claims
        // exactly the slots our shard lost), so the sibling replica follows the promoted one.
        for seed in seeds(1) {
            let mut sim = formed(seed, 3, 9);
            for i in 0..9 {
                sim.st_mut(i).allow_replica_migration = false;
            }
            let k = sim.rng.below(3) as usize;
            let (slot, _) = cli_ranges(3)[k];
            let old = sim.nodes[k].id.clone();
            sim.kill(k);
            let done = sim.run_until_ok(8 * TIMEOUT_MS, |s| taken_over(s, &old, slot).map(|_| ()));
            done.unwrap_or_else(|e| panic!("seed {seed}: no failover: {e}"));
            let new = taken_over(&sim, &old, slot).expect("owner");
            let followed = sim.run_until_ok(8 * TIMEOUT_MS, |s| {
                for r in [k + 3, k + 6] {
                    let st = s.st(r);
                    let me = st.myself_node();
                    if me.id != new && me.master_id.as_deref() != Some(new.as_str()) {
                        return Err(format!("node {r} still follows {:?}", me.master_id));
                    }
                }
                Ok(())
            });
            followed.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }

    #[test]
    fn stale_replica_does_not_fail_over_unless_validity_factor_is_zero() {
        // Guards cluster-replica-validity-factor: a replica whose data is older than
        // repl-ping-replica-period + node timeout x factor stays out of elections; factor 0
        // lets it fail over anyway.
        for seed in seeds(2) {
            for factor in [1u64, 0] {
                let mut sim = formed(seed, 3, 6);
                let k = sim.rng.below(3) as usize;
                let (slot, _) = cli_ranges(3)[k];
                let old = sim.nodes[k].id.clone();
                sim.kill(k);
                let now = sim.now_ms;
                let r = sim.st_mut(k + 3);
                r.replica_validity_factor = factor;
                // The link went down long ago (the stand-in leaves it while the master is dead).
                r.repl_view.last_io_ms = now.saturating_sub(60_000);
                sim.run_ms(8 * TIMEOUT_MS);
                let promoted = taken_over(&sim, &old, slot).is_ok();
                assert_eq!(promoted, factor == 0, "seed {seed}, factor {factor}");
            }
        }
    }

    #[test]
    fn two_replicas_elect_one_winner() {
        // Guards (f) with two replicas per master: exactly one wins, the other follows it.
        for seed in seeds(3) {
            let mut sim = formed(seed, 3, 9);
            let k = sim.rng.below(3) as usize;
            let (slot, _) = cli_ranges(3)[k];
            let old = sim.nodes[k].id.clone();
            sim.kill(k);
            if let Err(e) =
                sim.run_until_ok(10 * TIMEOUT_MS, |s| taken_over(s, &old, slot).map(|_| ()))
            {
                panic!("seed {seed}: no failover: {e}");
            }
            let id = taken_over(&sim, &old, slot).expect("held");
            for r in [k + 3, k + 6] {
                let me = sim.st(r).myself_node();
                if me.id != id {
                    must_converge_without(&mut sim, seed, k, 6 * TIMEOUT_MS);
                    let me = sim.st(r).myself_node();
                    assert_eq!(me.master_id.as_deref(), Some(id.as_str()), "seed {seed}");
                }
            }
        }
    }

    /// Convergence with node `k` down and forgotten by the check only.
    fn must_converge_without(sim: &mut Sim, seed: u64, k: usize, max_ms: u64) {
        let dead = sim.nodes[k].st.is_none();
        assert!(dead);
        let r = sim.run_until_ok(max_ms, |s| {
            let live: Vec<usize> = (0..s.nodes.len()).filter(|&i| s.alive(i)).collect();
            for &v in &live {
                for &j in &live {
                    s.view_matches(v, j)?;
                }
                if !s.st(v).state_ok {
                    return Err(format!("node {v}: state fail"));
                }
            }
            Ok(())
        });
        if let Err(e) = r {
            panic!("seed {seed}: no convergence without node {k}: {e}");
        }
    }

    #[test]
    fn partitions_during_elections() {
        // Guards (f): random partitions (cut or silent) of a 3+3 cluster, elections included,
        // never give one slot two owners of one epoch, and all converge once healed.
        for seed in seeds(2) {
            let mut sim = formed(seed, 3, 6);
            for round in 0..3 {
                let groups: Vec<u8> = (0..6).map(|_| sim.rng.below(2) as u8).collect();
                let silent = sim.rng.chance(500);
                sim.partition(&groups, silent);
                sim.run_random_ms(6 * TIMEOUT_MS);
                sim.heal();
                let what = format!("round {round} {groups:?} silent {silent}");
                must_converge(&mut sim, seed, 12 * TIMEOUT_MS, &what);
            }
        }
    }

    #[test]
    fn chaos_with_deaths_and_elections() {
        // Guards (e)/(f): delays, cuts, deaths, restarts and pauses in random order; the
        // invariant holds at every step and the cluster converges once all are back.
        for seed in seeds(2) {
            let mut sim = formed(seed, 3, 6);
            sim.max_delay_ms = sim.rng.below(200);
            sim.cut_per_mille = sim.rng.below(200);
            for _ in 0..6 {
                let k = sim.rng.below(6) as usize;
                match sim.rng.below(3) {
                    0 if sim.alive(k) => sim.kill(k),
                    1 if sim.alive(k) => sim.pause(k),
                    _ => {}
                }
                sim.run_random_ms(4 * TIMEOUT_MS);
                for i in 0..6 {
                    if !sim.alive(i) {
                        sim.restart(i);
                    } else if sim.nodes[i].paused {
                        sim.resume(i);
                    }
                }
                sim.run_random_ms(2 * TIMEOUT_MS);
            }
            sim.cut_per_mille = 0;
            must_converge(&mut sim, seed, 15 * TIMEOUT_MS, "after chaos");
        }
    }

    #[test]
    fn manual_failovers_swap_roles() {
        // Guards CLUSTER FAILOVER (default, FORCE, TAKEOVER): the replica takes the slots,
        // the old master follows it, everybody agrees.
        for seed in seeds(6) {
            let mut sim = formed(seed, 3, 6);
            let r = 3 + sim.rng.below(3) as usize;
            let (force, takeover) =
                [(false, false), (true, false), (true, true)][seed as usize % 3];
            assert!(sim.cmd_failover(r, force, takeover), "seed {seed}: refused");
            let m = r - 3;
            let r_id = sim.nodes[r].id.clone();
            let ms = sim.run_until_ok(8 * TIMEOUT_MS, |s| {
                s.converged()?;
                match s.st(m).myself_node().master_id.as_deref() {
                    Some(id) if id == r_id => Ok(()),
                    _ => Err("old master not yet a replica of the new".into()),
                }
            });
            if let Err(e) = ms {
                panic!("seed {seed}: failover ({force}, {takeover}): {e}");
            }
            assert!(sim.st(r).myself_node().is_master(), "seed {seed}");
            assert!(
                sim.nodes[r].writes_paused_until_ms <= sim.now_ms,
                "seed {seed}: paused"
            );
        }
    }

    #[test]
    fn racing_takeovers_end_with_one_owner() {
        // Guards TAKEOVER on two replicas of one master at once (no consensus: both may pick
        // the same epoch): the collision rule still leaves one owner everywhere.
        for seed in seeds(3) {
            let mut sim = formed(seed, 3, 9);
            sim.check_invariants = false;
            sim.unique_epochs = false;
            let k = sim.rng.below(3) as usize;
            assert!(sim.cmd_failover(k + 3, true, true));
            assert!(sim.cmd_failover(k + 6, true, true));
            must_converge(&mut sim, seed, 10 * TIMEOUT_MS, "racing takeovers");
            let owners: Vec<bool> = [k, k + 3, k + 6]
                .iter()
                .map(|&i| sim.st(i).myself_node().slots.count() > 0)
                .collect();
            assert_eq!(owners.iter().filter(|&&o| o).count(), 1, "seed {seed}");
        }
    }

    /// Two live masters that both serve (state ok) a slot each believes its own.
    fn split_brain(sim: &Sim) -> Option<(usize, usize)> {
        let serving: Vec<usize> = (0..sim.nodes.len())
            .filter(|&i| sim.alive(i) && sim.st(i).state_ok)
            .filter(|&i| sim.st(i).myself_node().is_master())
            .collect();
        for (x, &a) in serving.iter().enumerate() {
            for &b in &serving[x + 1..] {
                let (sa, sb) = (
                    &sim.st(a).myself_node().slots,
                    &sim.st(b).myself_node().slots,
                );
                if overlap(sa, sb) {
                    return Some((a, b));
                }
            }
        }
        None
    }

    #[test]
    fn isolated_master_stops_and_rejoins_as_replica() {
        // Guards the minority side: an isolated master turns its state to fail within about
        // 1.5 x node timeout, its replica takes over, and after the heal the old master never
        // serves its lost slots again (rejoin delay, then UPDATE) and becomes a replica.
        for seed in seeds(4) {
            let mut sim = formed(seed, 3, 6);
            let k = sim.rng.below(3) as usize;
            let mut groups = vec![0u8; 6];
            groups[k] = 1;
            let silent = sim.rng.chance(500);
            sim.partition(&groups, silent);
            let r = sim.run_until_ok(2 * TIMEOUT_MS, |s| match s.st(k).state_ok {
                true => Err("isolated master still ok".into()),
                false => Ok(()),
            });
            let ms = r.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(ms >= TIMEOUT_MS, "seed {seed}: fail after only {ms} ms");
            sim.run_ms(6 * TIMEOUT_MS);
            assert!(
                sim.st(k + 3).myself_node().is_master(),
                "seed {seed}: no takeover"
            );
            sim.heal();
            let r = sim.run_until_ok(8 * TIMEOUT_MS, |s| {
                if let Some((a, b)) = split_brain(s) {
                    panic!("seed {seed}: nodes {a} and {b} both serve common slots");
                }
                s.converged()
            });
            r.unwrap_or_else(|e| panic!("seed {seed}: after heal: {e}"));
            assert!(sim.st(k).myself_node().is_replica(), "seed {seed}");
        }
    }

    /// One random fault or command of the fuzz scenario.
    pub(super) fn random_fault(sim: &mut Sim, n: usize) {
        let k = sim.rng.below(n as u64) as usize;
        let what = sim.rng.below(8);
        if sim.trace.is_some() {
            eprintln!("+{} FAULT {what} on node {k}", sim.now_ms - START_MS);
        }
        match what {
            0 if sim.alive(k) => sim.kill(k),
            1 if !sim.alive(k) => sim.restart(k),
            2 if sim.alive(k) => sim.pause(k),
            3 if sim.alive(k) && sim.nodes[k].paused => sim.resume(k),
            4 => {
                let groups: Vec<u8> = (0..n).map(|_| sim.rng.below(3) as u8).collect();
                let silent = sim.rng.chance(500);
                sim.partition(&groups, silent);
            }
            5 => sim.heal(),
            6 if sim.runnable(k) && sim.st(k).myself_node().is_replica() => {
                let force = sim.rng.chance(500);
                sim.cmd_failover(k, force, false);
            }
            // Not BUMPEPOCH: without consensus it may take an epoch an election also takes,
            // a collision the protocol only resolves afterwards (breaking the invariant).
            7 => sim.cut_all(),
            _ => {}
        }
    }

    /// Brings every node back and the network whole.
    fn repair(sim: &mut Sim) {
        sim.heal();
        sim.cut_per_mille = 0;
        for i in 0..sim.nodes.len() {
            if !sim.alive(i) {
                sim.restart(i);
            } else if sim.nodes[i].paused {
                sim.resume(i);
            }
        }
    }

    #[test]
    fn fuzz_faults_keep_the_invariant_and_converge() {
        // Guards (e) broadly: random sizes, delays up to most of the node timeout, cuts,
        // deaths, restarts, pauses, 3-way partitions, manual failovers and link flaps, with
        // the invariant after every step and convergence once everything is repaired.
        let rounds = std::env::var("SIM_FUZZ_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok());
        for seed in seeds(3) {
            fuzz_one(seed, rounds.unwrap_or(8), false);
        }
    }

    /// One fuzz run; `strict`: also one winner per election epoch, whatever its slots.
    fn fuzz_one(seed: u64, rounds: usize, strict: bool) {
        let mut rng = Rng::new(seed ^ 0xf022);
        let masters = 3 + rng.below(3) as usize;
        let n = masters * (1 + rng.below(3) as usize);
        let mut sim = formed(seed, masters, n);
        sim.strict_epochs = strict;
        sim.max_delay_ms = sim.rng.below(TIMEOUT_MS * 3 / 4);
        sim.cut_per_mille = sim.rng.below(300);
        if std::env::var("SIM_TRACE").is_ok() {
            sim.trace = Some(Vec::new());
        }
        for _ in 0..rounds {
            random_fault(&mut sim, n);
            sim.run_random_ms(3 * TIMEOUT_MS);
        }
        repair(&mut sim);
        sim.max_delay_ms = 5;
        let what = format!("{masters} masters, {n} nodes");
        must_converge(&mut sim, seed, 30 * TIMEOUT_MS, &what);
    }

    #[test]
    fn one_winner_per_election_epoch() {
        // Guards fuzz seed 715 with 16 faults (a hazard Redis 7.0 has: the winner of epoch E
        // later voting for a rival in E): node 6 wins epoch 12 with votes
        // of 2, 4, 3; node 8 then wins epoch 12 too with votes of 0, 1 and of node 6 itself.
        fuzz_one(715, 16, true);
    }

    /// Fuzz seeds 10 and 187 setup: observer 0 is cut off (silently) while replica 5 takes
    /// over from master 2 with a forced failover. Returns the sim, node 2's PONG from
    /// before the failover, and its index in the observer's table.
    fn failover_behind_observer() -> (Sim, Vec<u8>, u16) {
        use crate::cluster::message::{encode, mtype};
        let mut sim = formed(1, 3, 6);
        let stale = encode(&sim.st_mut(2).ping_message(mtype::PONG));
        sim.partition(&[1, 0, 0, 0, 0, 0], true);
        assert!(sim.cmd_failover(5, true, false));
        let done = sim.run_until_ok(8 * TIMEOUT_MS, |s| {
            match s.st(2).myself_node().is_replica() {
                true => Ok(()),
                false => Err("no failover".into()),
            }
        });
        done.unwrap_or_else(|e| panic!("{e}"));
        let idx = sim.st(0).lookup(&sim.nodes[2].id).expect("known");
        (sim, stale, idx)
    }

    /// Hands `bytes` from node 2 to the observer on one of its links to node 2.
    fn to_observer(sim: &mut Sim, outbound: bool, bytes: &[u8]) {
        let idx = sim.st(0).lookup(&sim.nodes[2].id).expect("known");
        let n = sim.st(0).node(idx);
        let link = if outbound { n.out_link } else { n.in_link };
        let (peer, local) = (sim.nodes[2].ip.clone(), sim.nodes[0].ip.clone());
        let origin = Origin {
            link: link.expect("links stay open in a silent partition"),
            peer_ip: &peer,
            local_ip: &local,
        };
        let now = sim.now_ms;
        sim.st_mut(0).on_message(now, &origin, bytes);
        sim.drain(0);
    }

    #[test]
    fn replica_header_epoch_lands_on_stale_master() {
        // Guards fuzz seed 187 (SIM_FUZZ_ROUNDS=20, before 61f4379): the epoch in a replica's
        // header (its master's) must not become the replica's own configEpoch, or a demoted
        // master whose non-PING message (AUTH_REQUEST) arrives first holds its old slots at
        // the winner's epoch.
        use crate::cluster::message::{encode, mtype, Body, Message};
        let (mut sim, _, idx) = failover_behind_observer();
        let req = Message {
            hdr: sim.st(2).header(mtype::AUTH_REQUEST),
            body: Body::Empty,
        };
        to_observer(&mut sim, false, &encode(&req));
        let n = sim.st(0).node(idx);
        let (count, epoch) = (n.slots.count(), n.config_epoch);
        if let Err(e) = sim.invariants() {
            panic!("observer holds {count} slots of the old master at epoch {epoch}: {e}");
        }
    }

    #[test]
    fn stale_pong_after_demotion_rebinds_with_winner_epoch() {
        // Guards fuzz seed 10 (before 61f4379): the old master's new PING (as a replica, with
        // the winner's configEpoch) on one link, then its older PONG (as a master, epoch 3) on
        // the other must not bind its old slots to it at the winner's epoch.
        use crate::cluster::message::{encode, mtype};
        let (mut sim, stale, idx) = failover_behind_observer();
        let fresh = encode(&sim.st_mut(2).ping_message(mtype::PING));
        to_observer(&mut sim, false, &fresh);
        to_observer(&mut sim, true, &stale);
        let n = sim.st(0).node(idx);
        let (count, epoch) = (n.slots.count(), n.config_epoch);
        if let Err(e) = sim.invariants() {
            panic!("observer rebinds {count} slots to the old master at epoch {epoch}: {e}");
        }
    }
}
