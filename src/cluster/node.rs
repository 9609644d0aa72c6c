//! One entry of the cluster node table: address, flags, role, epochs, liveness times and the
//! slot bitmap, plus the flag words and slot-run text shared by CLUSTER NODES and nodes.conf.

use crate::constants::SLOT_COUNT;

/// Node flags, with Redis' bit values (they travel on the cluster bus as they are).
pub mod flag {
    pub const MASTER: u16 = 1;
    pub const SLAVE: u16 = 2;
    pub const PFAIL: u16 = 4;
    pub const FAIL: u16 = 8;
    pub const MYSELF: u16 = 16;
    pub const HANDSHAKE: u16 = 32;
    pub const NOADDR: u16 = 64;
    pub const MEET: u16 = 128;
    pub const MIGRATE_TO: u16 = 256;
    pub const NOFAILOVER: u16 = 512;
}

/// Flag words in the fixed order CLUSTER NODES prints them (MEET and MIGRATE_TO are never
/// printed).
pub const FLAG_WORDS: &[(u16, &str)] = &[
    (flag::MYSELF, "myself"),
    (flag::MASTER, "master"),
    (flag::SLAVE, "slave"),
    (flag::PFAIL, "fail?"),
    (flag::FAIL, "fail"),
    (flag::HANDSHAKE, "handshake"),
    (flag::NOADDR, "noaddr"),
    (flag::NOFAILOVER, "nofailover"),
];

/// The comma list of `flags`, or `noflags`.
pub fn flags_text(flags: u16) -> String {
    let words: Vec<&str> = FLAG_WORDS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, w)| *w)
        .collect();
    if words.is_empty() {
        "noflags".into()
    } else {
        words.join(",")
    }
}

/// One bit per slot, in the bus convention: slot i is bit (i & 7) of byte i >> 3.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotBits {
    bits: Box<[u8; SLOT_COUNT / 8]>,
    /// Slots set, kept with every change (counted on every state evaluation).
    count: u16,
}

impl Default for SlotBits {
    fn default() -> Self {
        SlotBits {
            bits: Box::new([0; SLOT_COUNT / 8]),
            count: 0,
        }
    }
}

impl std::fmt::Debug for SlotBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotBits({} slots)", self.count())
    }
}

impl SlotBits {
    pub fn get(&self, slot: u16) -> bool {
        self.bits[slot as usize >> 3] & (1 << (slot & 7)) != 0
    }
    pub fn set(&mut self, slot: u16, on: bool) {
        if self.get(slot) == on {
            return;
        }
        let byte = &mut self.bits[slot as usize >> 3];
        if on {
            *byte |= 1 << (slot & 7);
            self.count += 1;
        } else {
            *byte &= !(1 << (slot & 7));
            self.count -= 1;
        }
    }
    pub fn count(&self) -> usize {
        self.count as usize
    }
    pub fn clear(&mut self) {
        self.bits.fill(0);
        self.count = 0;
    }
    /// The raw 2048 bytes (bus `myslots`).
    pub fn bytes(&self) -> &[u8; SLOT_COUNT / 8] {
        &self.bits
    }
    /// From the 2048 bytes of a bus bitmap (`raw` must be exactly that long).
    pub fn from_bytes(raw: &[u8]) -> Self {
        let mut bits = Box::new([0u8; SLOT_COUNT / 8]);
        bits.copy_from_slice(raw);
        let count = bits.iter().map(|b| b.count_ones()).sum::<u32>() as u16;
        SlotBits { bits, count }
    }
    /// Slots set, ascending (skipping empty bytes, so a sparse map is cheap to walk).
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.bits
            .iter()
            .enumerate()
            .filter(|(_, &b)| b != 0)
            .flat_map(|(i, &b)| {
                (0..8u16)
                    .filter(move |bit| b & (1 << bit) != 0)
                    .map(move |bit| (i as u16) * 8 + bit)
            })
    }
}

/// A known node (myself included).
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// 40 characters `[0-9a-z]`.
    pub id: String,
    /// Empty while the node does not know its address (a fresh node about itself).
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    /// Announced hostname; empty when none.
    pub hostname: String,
    /// The node sent an invalid hostname and we logged it (logged again only after a valid one).
    pub bad_hostname_logged: bool,
    pub flags: u16,
    /// Id of this node's master when it is a replica and the master is known.
    pub master_id: Option<String>,
    /// Unix ms of the outstanding PING, 0 if none.
    pub ping_sent_ms: u64,
    /// Unix ms of the last PONG received.
    pub pong_received_ms: u64,
    pub config_epoch: u64,
    /// True when we hold an outbound bus link to the node (always true for myself).
    pub link_connected: bool,
    /// Replication offset last seen (CLUSTER SHARDS / SLOTS replica filtering).
    pub repl_offset: u64,
    pub slots: SlotBits,
    /// Bus links: the one we opened (we PING on it) and the one the node opened to us.
    pub out_link: Option<LinkId>,
    pub in_link: Option<LinkId>,
    /// Unix ms the outbound link was created (link recycling).
    pub link_created_ms: u64,
    /// Unix ms anything was last received from the node (liveness, not only PONGs).
    pub data_received_ms: u64,
    /// Unix ms the entry was created (handshake timeout).
    pub ctime_ms: u64,
    /// A handshake started by gossip: the id the gossip named. The node at that address
    /// must answer with exactly this id, or the entry is dropped.
    pub handshake_expects: Option<String>,
    /// Unix ms FAIL was set.
    pub fail_time_ms: u64,
    /// Unix ms we last voted for a replica of this master.
    pub voted_time_ms: u64,
    /// Unix ms since when this master has had no working replica (replica migration).
    pub orphaned_time_ms: u64,
    /// Masters that reported this node as failing: (reporter id, unix ms of the report).
    pub fail_reports: Vec<(String, u64)>,
}

/// Identifies one bus connection; allocated by the cluster state, used by the bus driver.
pub type LinkId = u64;

impl Node {
    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
    pub fn is_master(&self) -> bool {
        self.has(flag::MASTER)
    }
    pub fn is_replica(&self) -> bool {
        self.has(flag::SLAVE)
    }
    pub fn failed(&self) -> bool {
        self.has(flag::FAIL)
    }

    /// `ip:port@cport[,hostname]`.
    pub fn addr_text(&self) -> String {
        let mut s = format!("{}:{}@{}", self.ip, self.port, self.cport);
        if !self.hostname.is_empty() {
            s.push(',');
            s.push_str(&self.hostname);
        }
        s
    }
}

/// Appends ` a-b` / ` a` for each run in `runs`, as CLUSTER NODES shows slots.
pub fn push_runs(line: &mut String, runs: &[(u16, u16)]) {
    for &(a, b) in runs {
        if a == b {
            line.push_str(&format!(" {a}"));
        } else {
            line.push_str(&format!(" {a}-{b}"));
        }
    }
}

/// True for a well-formed node id: 40 characters from `0-9a-z`.
pub fn valid_id(id: &str) -> bool {
    id.len() == 40
        && id
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_redis_order() {
        // Guards the fixed flag order redis-cli parses.
        assert_eq!(flags_text(flag::MASTER | flag::MYSELF), "myself,master");
        assert_eq!(
            flags_text(flag::SLAVE | flag::FAIL | flag::PFAIL),
            "slave,fail?,fail"
        );
        assert_eq!(flags_text(flag::MEET), "noflags");
    }

    #[test]
    fn slot_bits_use_bus_bit_order() {
        // Guards the bitmap layout the bus expects (slot 0 = LSB of byte 0).
        let mut b = SlotBits::default();
        b.set(0, true);
        b.set(9, true);
        assert_eq!(b.bytes()[0], 1);
        assert_eq!(b.bytes()[1], 2);
        assert_eq!(b.count(), 2);
        b.set(9, false);
        assert!(!b.get(9) && b.get(0));
    }

    #[test]
    fn runs_and_ids() {
        // Guards slot-run text and id validation.
        let mut s = String::new();
        push_runs(&mut s, &[(0, 0), (2, 3), (16383, 16383)]);
        assert_eq!(s, " 0 2-3 16383");
        assert!(valid_id(&"a1".repeat(20)));
        assert!(!valid_id(&"A1".repeat(20)));
        assert!(!valid_id("abc"));
    }
}
