//! Bus links as the cluster state sees them (which node each connection belongs to) and the
//! actions the state asks of the bus driver: connect, send, close, deliver a Pub/Sub message.
//! Also builds the outgoing messages: the header every message carries and the gossip section
//! of PING/PONG/MEET. No sockets here; the driver in `bus` performs the actions.

use crate::cluster::message::{self, mtype, Body, Gossip, Header, Message};
use crate::cluster::node::{flag, LinkId};
use crate::cluster::state::ClusterState;
use bytes::Bytes;

/// One bus connection.
#[derive(Clone, Debug)]
pub struct Link {
    /// The node this link belongs to; an inbound link is unbound until its sender is known.
    pub node: Option<u16>,
    pub inbound: bool,
    /// Outbound links only: the TCP connect completed.
    pub connected: bool,
    pub created_ms: u64,
    /// Bytes queued for sending and not yet written (kept by the driver; CLUSTER LINKS).
    pub queued_bytes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// What the bus driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum BusOut {
    /// Open outbound link `link` to ip:cport; report `link_up` or `link_down`.
    Connect {
        link: LinkId,
        ip: String,
        cport: u16,
    },
    Send {
        link: LinkId,
        bytes: Bytes,
    },
    Close {
        link: LinkId,
    },
    /// A PUBLISH / PUBLISHSHARD from another node, for local subscribers.
    Publish {
        sharded: bool,
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    /// Replicate from this master (ip, port); `None` = stop replicating (became a master).
    ReplicateFrom(Option<(String, u16)>),
    /// Hold client writes until this unix ms (0 = resume now): manual failover on a master.
    PauseWrites {
        until_ms: u64,
    },
}

impl ClusterState {
    /// True when `n` indexes a node still in the table.
    pub(super) fn is_live(&self, n: u16) -> bool {
        self.nodes.get(n as usize).is_some_and(|x| x.is_some())
    }

    /// Registers a connection the driver accepted; its node is learned from its messages.
    pub fn accept_link(&mut self, now_ms: u64) -> LinkId {
        self.new_link(None, true, now_ms)
    }

    pub(super) fn new_link(&mut self, node: Option<u16>, inbound: bool, now_ms: u64) -> LinkId {
        let id = self.next_link;
        self.next_link += 1;
        self.links.insert(
            id,
            Link {
                node,
                inbound,
                connected: inbound,
                created_ms: now_ms,
                queued_bytes: Default::default(),
            },
        );
        id
    }

    /// Forgets a link (closed by either side) and asks the driver to close it.
    pub fn drop_link(&mut self, link: LinkId) {
        let Some(l) = self.links.remove(&link) else {
            return;
        };
        if let Some(n) = l.node.filter(|&n| self.is_live(n)) {
            let node = self.node_mut(n);
            if node.out_link == Some(link) {
                node.out_link = None;
                node.link_connected = false;
            }
            if node.in_link == Some(link) {
                node.in_link = None;
            }
        }
        self.outbox.push(BusOut::Close { link });
    }

    /// Binds an inbound link to its (now known) node, replacing an older inbound link.
    pub(super) fn bind_inbound(&mut self, link: LinkId, n: u16) {
        if let Some(l) = self.links.get_mut(&link) {
            l.node = Some(n);
        }
        let old = self.node_mut(n).in_link.replace(link);
        if let Some(old) = old.filter(|&o| o != link) {
            self.drop_link(old);
        }
    }

    pub(super) fn send(&mut self, link: LinkId, m: &Message) {
        self.stats_sent[m.hdr.mtype as usize] += 1;
        let bytes = Bytes::from(message::encode(m));
        self.outbox.push(BusOut::Send { link, bytes });
    }

    /// Sends `m` on every connected outbound link (Redis' broadcast).
    pub(super) fn broadcast(&mut self, m: &Message) {
        self.broadcast_to(m, |_, _| true);
    }

    /// Sends `m` on the connected outbound links of the nodes `pick` accepts.
    fn broadcast_to(&mut self, m: &Message, pick: impl Fn(&Self, u16) -> bool) {
        let bytes = Bytes::from(message::encode(m));
        let targets: Vec<LinkId> = self
            .nodes()
            .filter(|(i, n)| *i != self.myself && !n.has(flag::HANDSHAKE) && n.link_connected)
            .filter(|(i, _)| pick(self, *i))
            .filter_map(|(_, n)| n.out_link)
            .collect();
        for link in targets {
            self.stats_sent[m.hdr.mtype as usize] += 1;
            self.outbox.push(BusOut::Send {
                link,
                bytes: bytes.clone(),
            });
        }
    }

    /// The header this node puts on every message (cluster-spec 5.8).
    pub(super) fn header(&self, mtype: u16) -> Header {
        let me = self.myself_node();
        let master = self.my_master();
        let (slots, epoch, slaveof) = match master {
            Some(m) => {
                let mn = self.node(m);
                (mn.slots.clone(), mn.config_epoch, Some(mn.id.clone()))
            }
            None => (me.slots.clone(), me.config_epoch, None),
        };
        Header {
            mtype,
            port: me.port,
            current_epoch: self.current_epoch,
            config_epoch: epoch,
            offset: self.my_repl_offset,
            sender: me.id.clone(),
            myslots: slots,
            slaveof,
            myip: if self.announced_ip {
                me.ip.clone()
            } else {
                String::new()
            },
            pport: 0,
            cport: me.cport,
            flags: me.flags,
            state_fail: !self.state_ok,
            mflags: self.paused_flag(),
        }
    }

    fn gossip_entry(&self, idx: u16) -> Gossip {
        let n = self.node(idx);
        Gossip {
            id: n.id.clone(),
            ping_sent_s: (n.ping_sent_ms / 1000) as u32,
            pong_received_s: (n.pong_received_ms / 1000) as u32,
            ip: n.ip.clone(),
            port: n.port,
            cport: n.cport,
            flags: n.flags,
            pport: 0,
        }
    }

    /// A PING, PONG or MEET with its gossip section (cluster-spec 6.2).
    pub(super) fn ping_message(&mut self, mtype: u16) -> Message {
        let live: Vec<u16> = self.nodes().map(|(i, _)| i).collect();
        let fresh = live.len().saturating_sub(2);
        let wanted = (live.len() / 10).max(3).min(fresh);
        let mut picked: Vec<u16> = Vec::new();
        for _ in 0..wanted * 3 {
            if picked.len() >= wanted {
                break;
            }
            let i = live[(self.next_random() % live.len() as u64) as usize];
            let n = self.node(i);
            let skip = i == self.myself
                || n.has(flag::PFAIL | flag::HANDSHAKE | flag::NOADDR)
                || (n.out_link.is_none() && n.slots.count() == 0)
                || picked.contains(&i);
            if !skip {
                picked.push(i);
            }
        }
        let pfail: Vec<u16> = self
            .nodes()
            .filter(|(_, n)| n.has(flag::PFAIL) && !n.has(flag::HANDSHAKE | flag::NOADDR))
            .map(|(i, _)| i)
            .take(self.pfail_nodes)
            .collect();
        picked.extend(pfail);
        let gossip = picked.iter().map(|&i| self.gossip_entry(i)).collect();
        Message {
            hdr: self.header(mtype),
            body: Body::Ping {
                gossip,
                hostname: self.my_hostname.clone(),
            },
        }
    }

    /// Sends a PING (or MEET/PONG) on `link`; a PING marks the node's ping as outstanding.
    pub(super) fn send_ping(&mut self, link: LinkId, mtype: u16, now_ms: u64) {
        let node = self
            .links
            .get(&link)
            .and_then(|l| l.node)
            .filter(|&n| self.is_live(n));
        // A node that has not contacted us yet may have lost our MEET (its handshake with us
        // failed): keep meeting it instead of pinging until it does.
        let mtype = match node {
            Some(n) if mtype == mtype::PING && self.node(n).has(flag::MEET) => mtype::MEET,
            _ => mtype,
        };
        let m = self.ping_message(mtype);
        if mtype != mtype::PONG {
            if let Some(n) = node {
                self.node_mut(n).ping_sent_ms = now_ms;
            }
        }
        self.send(link, &m);
    }

    /// A PONG to every node we have a link to (announces a new configuration at once).
    pub fn broadcast_pong(&mut self) {
        let m = self.ping_message(mtype::PONG);
        self.broadcast(&m);
    }

    /// An UPDATE telling its receiver that `owner` serves its slots with its epoch.
    pub(super) fn update_message(&self, owner: u16) -> Message {
        let n = self.node(owner);
        Message {
            hdr: self.header(mtype::UPDATE),
            body: Body::Update {
                config_epoch: n.config_epoch,
                id: n.id.clone(),
                slots: n.slots.clone(),
            },
        }
    }

    /// PUBLISH (or PUBLISHSHARD) to every linked node.
    pub fn publish(&mut self, sharded: bool, channel: &[u8], message: &[u8]) {
        let t = if sharded {
            mtype::PUBLISHSHARD
        } else {
            mtype::PUBLISH
        };
        let m = Message {
            hdr: self.header(t),
            body: Body::Publish {
                channel: channel.to_vec(),
                message: message.to_vec(),
            },
        };
        if !sharded {
            self.broadcast(&m);
            return;
        }
        // PUBLISHSHARD stays within this node's shard: its master, replicas and siblings.
        let me = self.myself_node();
        let master_id = match &me.master_id {
            Some(m) if me.is_replica() => m.clone(),
            _ => me.id.clone(),
        };
        self.broadcast_to(&m, |st, i| {
            let n = st.node(i);
            n.id == master_id || (n.is_replica() && n.master_id.as_deref() == Some(&master_id))
        });
    }

    /// xorshift64: node ids and gossip picks.
    pub(super) fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// A fresh 40-character node id.
    pub(super) fn random_id(&mut self) -> String {
        let mut s = String::with_capacity(40);
        while s.len() < 40 {
            let r = self.next_random();
            s.push_str(&format!("{r:016x}"));
        }
        s.truncate(40);
        s
    }

    /// Fixes the generator (deterministic scenario tests).
    pub fn seed(&mut self, seed: u64) {
        self.rng = seed | 1;
    }
}
