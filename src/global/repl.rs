//! Replication state shared by every thread: the history id and offset, the backlog, the
//! connected replicas and their feeds, the link to our master, and the flags shards read once
//! per turn or per write. Data and its small invariants only; the operations (feeding the
//! stream, the links, PSYNC) are in `replication`.

use super::backlog::Backlog;
use crate::mesh::Mesh;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

/// The replid2 of a node with no previous history.
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// Process-wide replication state.
pub struct ReplGlobal {
    state: Mutex<ReplState>,
    /// Held by the replica link while it hands records to the shards and counts them, so a
    /// shutdown can stop the link between two such steps (`resume::freeze_for_shutdown`).
    pub apply_lock: Mutex<()>,
    /// Master with a backlog: shard journals feed the stream (checked once per turn).
    pub feeding: AtomicBool,
    /// This node replicates another one (writes of normal clients are refused).
    pub is_replica: AtomicBool,
    /// Bumped on every role change; a shard that sees a new value drops journal bytes it did
    /// not feed yet (records applied from the old master are already in the stream).
    pub epoch: AtomicU64,
    /// Bumped on every REPLCONF ACK: WAIT waiters re-check.
    pub ack_gen: AtomicU64,
    /// WAIT commands parked on any shard (an ACK wakes the shards only when some exist).
    pub waits_pending: std::sync::atomic::AtomicUsize,
    /// Mirror of the stream offset for lock-free readers (INFO, the bus).
    pub offset: AtomicU64,
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
    /// `min-replicas-to-write` is on and too few good replicas: writes answer NOREPLICAS
    /// (kept by `min_replicas::refresh`, read by shards once per write command).
    pub writes_refused: AtomicBool,
    /// A replica with `replica-serve-stale-data no` whose link is not up: commands without
    /// the `stale` flag answer -MASTERDOWN (kept by `replication::refresh_stale`, read by
    /// shards once per command).
    pub stale_refused: AtomicBool,
    /// Good replicas at the last refresh (INFO's `min_slaves_good_slaves`).
    pub good_replicas: AtomicU64,
    /// Serializes `min_replicas::refresh` (cron, ACKs, CONFIG SET and role changes run it from
    /// different threads): each one reads its inputs and stores the flag inside it, so the
    /// last store always comes from a refresh that saw every earlier change.
    pub refresh_lock: Mutex<()>,
    /// Set at boot: the link thread hands records to shards through it.
    pub mesh: OnceLock<Arc<Mesh>>,
}

/// One replica connected to this node.
pub struct ReplicaInfo {
    pub client_id: u64,
    pub ip: String,
    pub listening_port: u16,
    pub feed: Arc<Feed>,
    pub ack_offset: u64,
    pub ack_time_ms: u64,
    /// False while the snapshot is still being sent.
    pub online: bool,
}

/// Replica side: the link to our master.
#[derive(Clone)]
pub struct LinkInfo {
    pub host: String,
    pub port: u16,
    /// Bumped by every REPLICAOF: a link thread with an older value stops.
    pub gen: u64,
    pub state: LinkState,
    pub last_io_ms: u64,
    /// When the link was last up (or since when it is down).
    pub down_since_ms: u64,
    pub last_up_ms: u64,
    /// Stream bytes received and bytes applied (handed to the owning shards).
    pub read_offset: u64,
    pub processed_offset: u64,
    /// During a full sync: snapshot bytes received so far.
    pub sync_read_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Sync,
    Connected,
}

impl LinkState {
    /// The name ROLE shows.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

pub struct ReplState {
    pub replid: String,
    pub replid2: String,
    pub second_offset: i64,
    /// The stream offset (`master_repl_offset`): bytes ever appended under this history.
    pub offset: u64,
    pub backlog: Option<Backlog>,
    pub replicas: Vec<ReplicaInfo>,
    /// Replica side (None on a master).
    pub link: Option<LinkInfo>,
    /// The `gen` the next replica link gets.
    pub next_link_gen: u64,
    /// REPLCONF listening-port values of clients that did not send PSYNC yet.
    pub pending_ports: Vec<(u64, u16)>,
    /// REPLCONF ip-address values (`replica-announce-ip`) of clients that did not sync yet.
    pub pending_ips: Vec<(u64, String)>,
    /// REPLCONF capa/rdb-only/rdb-filter-only flags of clients that did not sync yet
    /// (`replication::master::req`).
    pub pending_reqs: Vec<(u64, u8)>,
    pub last_ping_ms: u64,
    /// Replica side: a REPLCONF GETACK arrived; the link sends an ACK at once.
    pub ack_requested: bool,
    /// The replica class of `client-output-buffer-limit` (CONFIG SET keeps it, `commands::server`).
    pub replica_obuf: crate::config::obuf::ClassLimit,
    /// Master: the database a reader of the stream is in after its last byte (`NO_DB`:
    /// unknown, the next records start with SELECT).
    pub stream_db: u32,
    /// Replica: the database the master's stream is in where we stopped reading (kept for a
    /// partial resynchronization).
    pub link_db: u32,
}

/// `ReplState::stream_db` when a reader's database is not known.
pub const NO_DB: u32 = u32::MAX;

/// Bytes of the stream waiting to be written to one replica (its output buffer).
///
/// The replica class of `client-output-buffer-limit` applies to what the replica is behind:
/// the stream bytes buffered here plus the bytes its sender took and has not finished writing
/// (a stream chunk, or the snapshot chunks it holds during a full sync). The snapshot queue
/// between the shards and the sender is bounded on its own (`SNAP_QUEUE_BYTES_MAX`) and not
/// counted. As in Redis the check runs when the stream grows.
#[derive(Default)]
pub struct Feed {
    pub buf: Mutex<FeedBuf>,
    pub cv: Condvar,
}

#[derive(Default)]
pub struct FeedBuf {
    pub data: Vec<u8>,
    /// Too far behind, or gone: the sender stops.
    pub dead: bool,
    /// Bytes the sender took out and is still writing.
    pub writing: usize,
    /// The sender's socket while it runs (-1 before and after): shut down to stop a sender
    /// blocked on a replica that does not read.
    pub fd: Option<std::os::fd::RawFd>,
    /// Start of the current stretch over the soft limit (0 = under it).
    pub soft_since_ms: u64,
    /// The replica as the log line shows it.
    pub who: String,
}

impl Feed {
    pub fn push(&self, data: &[u8], limit: crate::config::obuf::ClassLimit) {
        let mut b = lock(&self.buf);
        if b.dead {
            return;
        }
        b.data.extend_from_slice(data);
        let pending = (b.data.len() + b.writing) as u64;
        let now = crate::clock::unix_ms();
        if crate::config::obuf::over_limit(limit, pending, &mut b.soft_since_ms, now) {
            crate::config::obuf::log_closing(&format!("{} omem={pending}", b.who));
            b.dead = true;
            b.data = Vec::new();
            if let Some(fd) = b.fd {
                // The sender's socket, still open: `detach` clears it under this lock before
                // the sender closes it.
                let _ = crate::sys::shutdown(fd);
            }
        }
        self.cv.notify_all();
    }
    pub fn kill(&self) {
        lock(&self.buf).dead = true;
        self.cv.notify_all();
    }
    /// The sender starts on socket `fd`.
    pub fn attach(&self, fd: std::os::fd::RawFd, who: String) {
        let mut b = lock(&self.buf);
        b.fd = Some(fd);
        b.who = who;
    }
    /// The sender is about to close its socket.
    pub fn detach(&self) {
        lock(&self.buf).fd = None;
    }
    /// How many taken bytes the sender is writing now (0 when done).
    pub fn set_writing(&self, bytes: usize) {
        lock(&self.buf).writing = bytes;
    }
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for ReplGlobal {
    fn default() -> Self {
        ReplGlobal {
            state: Mutex::new(ReplState {
                replid: crate::clock::random_hex40(),
                replid2: NO_REPLID.into(),
                second_offset: -1,
                offset: 0,
                backlog: None,
                replicas: Vec::new(),
                link: None,
                next_link_gen: 1,
                pending_ports: Vec::new(),
                pending_ips: Vec::new(),
                pending_reqs: Vec::new(),
                last_ping_ms: 0,
                ack_requested: false,
                replica_obuf: crate::config::obuf::Limits::default_limits()
                    .get(crate::config::obuf::Class::Replica),
                stream_db: 0,
                link_db: 0,
            }),
            apply_lock: Mutex::new(()),
            feeding: AtomicBool::new(false),
            is_replica: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            ack_gen: AtomicU64::new(0),
            waits_pending: Default::default(),
            offset: AtomicU64::new(0),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            writes_refused: AtomicBool::new(false),
            stale_refused: AtomicBool::new(false),
            good_replicas: AtomicU64::new(0),
            refresh_lock: Mutex::new(()),
            mesh: OnceLock::new(),
        }
    }
}

impl ReplGlobal {
    pub fn with_replica_limit(limit: crate::config::obuf::ClassLimit) -> ReplGlobal {
        let g = ReplGlobal::default();
        g.state().replica_obuf = limit;
        g
    }

    /// Bytes buffered for replicas beyond the backlog (their feeds), part of Redis'
    /// freeMemoryGetNotCountedMemory.
    pub fn replica_feed_bytes(&self) -> u64 {
        self.state()
            .replicas
            .iter()
            .map(|r| {
                let b = lock(&r.feed.buf);
                (b.data.capacity() + b.writing) as u64
            })
            .sum()
    }

    pub fn state(&self) -> MutexGuard<'_, ReplState> {
        lock(&self.state)
    }
}

impl ReplState {
    /// Appends stream bytes: the offset grows, the backlog and every replica's feed get them.
    pub fn append(&mut self, data: &[u8], mirror: &AtomicU64) {
        self.offset += data.len() as u64;
        if let Some(b) = self.backlog.as_mut() {
            b.append(data);
        }
        for r in &self.replicas {
            r.feed.push(data, self.replica_obuf);
        }
        mirror.store(self.offset, Ordering::Release);
    }

    /// Creates the backlog if there is none (a master's first replica gets a new history, as
    /// in Redis, so stale replicas cannot continue from an old one).
    pub fn ensure_backlog(&mut self, size_bytes: usize, new_history: bool) {
        if self.backlog.is_some() {
            return;
        }
        if new_history {
            self.replid = crate::clock::random_hex40();
            self.replid2 = NO_REPLID.into();
            self.second_offset = -1;
        }
        self.backlog = Some(Backlog::new(size_bytes, self.offset));
    }

    /// PSYNC acceptance: same history (or the previous one up to where it ended) and the
    /// requested byte still in the backlog.
    pub fn can_continue(&self, replid: &str, from: u64) -> bool {
        let same =
            replid == self.replid || (replid == self.replid2 && from as i64 <= self.second_offset);
        same && self.backlog.as_ref().is_some_and(|b| b.can_serve(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psync_acceptance() {
        // Guards the partial resync rule: same id (or replid2 up to its end) and bytes held.
        let g = ReplGlobal::default();
        let mut st = g.state();
        st.ensure_backlog(100, true);
        let id = st.replid.clone();
        st.append(b"0123456789", &g.offset);
        assert!(st.can_continue(&id, 1));
        assert!(st.can_continue(&id, 11));
        assert!(!st.can_continue(&id, 12));
        assert!(!st.can_continue("x", 5));
        st.replid2 = "old".into();
        st.second_offset = 6;
        assert!(st.can_continue("old", 6));
        assert!(!st.can_continue("old", 7));
    }
}
