//! The clients connected to one shard: their identity and protocol state (what CLIENT LIST
//! shows and what commands like HELLO, SELECT, READONLY change). The socket side is in `net`.

use crate::command_id::CommandId;
use crate::resp::{OwnedArgs, Proto};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A transaction being queued (between MULTI and EXEC).
#[derive(Clone, Default)]
pub struct MultiState {
    pub queued: Vec<(CommandId, OwnedArgs)>,
    /// A queued command was refused: EXEC answers EXECABORT.
    pub error: bool,
    /// Cluster mode: the slot of the first keyed command (all must share it).
    pub slot: Option<u16>,
}

impl std::fmt::Debug for MultiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MultiState({} queued, error {})",
            self.queued.len(),
            self.error
        )
    }
}

/// Keys under WATCH: any write to them (from any connection, on any shard) sets `touched`.
#[derive(Clone, Debug, Default)]
pub struct WatchState {
    pub touched: Arc<AtomicBool>,
    /// (key, existed when watched, database): a watched key that expired counts as touched
    /// too.
    pub keys: Vec<(Vec<u8>, bool, u32)>,
}

/// A connection's buffer sizes, copied by the event loop whenever it reads into, parses from,
/// appends to or sends from them (a few stores; never a walk), so CLIENT LIST can show them
/// from any shard.
#[derive(Debug, Clone, Copy, Default)]
pub struct BufStats {
    /// Unparsed input carried between reads, and the room left in that buffer.
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Unsent reply bytes are split as Redis splits them between its fixed reply buffer and
    /// its reply list: the first `OBUF_UNCOUNTED_BYTES` (obl), then the rest (omem, what the
    /// output limits count) in as many 16 KiB nodes (oll). rbs: the output buffer's capacity.
    pub obl: usize,
    pub rbs: usize,
    pub oll: usize,
    pub omem: usize,
    /// Bytes allocated for the input and output buffers.
    pub alloc: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Client {
    pub id: u64,
    pub fd: i32,
    /// "ip:port" of the peer and of our side.
    pub addr: String,
    pub laddr: String,
    /// Connected through the `unixsocket` listener (CLIENT LIST flag `U`).
    pub unix_socket: bool,
    pub name: Option<Vec<u8>>,
    pub proto: Proto,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    pub authenticated: bool,
    /// READONLY was sent (cluster replicas serve reads).
    pub readonly: bool,
    /// ASKING was sent; cleared after the next command.
    pub asking: bool,
    pub no_evict: bool,
    /// Set by CLIENT KILL; the event loop closes the connection after the current turn.
    pub kill: bool,
    /// Name of the last command run ("get", "config|get").
    pub last_cmd: &'static str,
    /// The connection's buffers as CLIENT LIST shows them (kept by the event loop).
    pub mem: BufStats,
    pub db: u32,
    pub multi: Option<MultiState>,
    pub watch: Option<WatchState>,
    /// Pub/Sub channels and patterns this client subscribed to.
    pub channels: hashbrown::HashSet<Vec<u8>>,
    pub patterns: hashbrown::HashSet<Vec<u8>>,
    /// Shard channels (SSUBSCRIBE), counted apart from the others in replies.
    pub shard_channels: hashbrown::HashSet<Vec<u8>>,
    /// The event loop's connection slot and generation (for pushes to this client).
    pub conn_slot: u32,
    pub conn_gen: u32,
    /// Started SYNC/PSYNC: a replica (flag `S`, type and output class `replica`). Its stream
    /// is written by a sender thread; this connection only carries its `REPLCONF ACK`s.
    pub replica: bool,
    /// Sent MONITOR (flag `O`): receives every core's command lines (`shard::monitors`).
    pub monitor: bool,
    /// Sent a write command at some point: WAIT waits for the stream up to now (a client that
    /// never wrote has nothing to wait for, as in Redis).
    pub wrote: bool,
    /// CLIENT TRACKING on (client-side caching): its options (`shard::tracking`).
    pub tracking: Option<Box<crate::shard::tracking::ClientTracking>>,
}

impl Client {
    /// Every subscription in force: while it is not zero a RESP2 client is in the subscribed
    /// context (shard channels count too).
    pub fn sub_count(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// The count SUBSCRIBE, PSUBSCRIBE and their opposites report: channels plus patterns.
    pub fn channel_pattern_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}

/// A slab of clients: stable indexes, reused after close.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Client>>,
    free: Vec<usize>,
    live: usize,
}

impl Clients {
    pub fn insert(&mut self, c: Client) -> usize {
        self.live += 1;
        if let Some(i) = self.free.pop() {
            self.slots[i] = Some(c);
            i
        } else {
            self.slots.push(Some(c));
            self.slots.len() - 1
        }
    }
    pub fn remove(&mut self, idx: usize) -> Option<Client> {
        let c = self.slots.get_mut(idx)?.take();
        if c.is_some() {
            self.live -= 1;
            self.free.push(idx);
        }
        c
    }
    /// The client at `idx`; panics on a stale index (a bug in the event loop).
    pub fn get_mut(&mut self, idx: usize) -> &mut Client {
        self.slots[idx].as_mut().expect("live client index")
    }
    pub fn get(&self, idx: usize) -> Option<&Client> {
        self.slots.get(idx)?.as_ref()
    }
    /// The client at `idx` if it is still there (the event loop's checks).
    pub fn get_live_mut(&mut self, idx: usize) -> Option<&mut Client> {
        self.slots.get_mut(idx)?.as_mut()
    }
    pub fn len(&self) -> usize {
        self.live
    }
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Client)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Client)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, c)| c.as_mut().map(|c| (i, c)))
    }
}
