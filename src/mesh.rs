//! Every message that crosses cores, and the channels that carry them: one bounded lock-free
//! inbox per shard plus an eventfd doorbell that is rung only when the shard is asleep.
//! Also the "park" protocol that lets one shard borrow others' state for rare multi-shard work.

use crate::cluster::slot_map::SlotMap;
use crate::command_id::CommandId;
use crate::constants::MESH_INBOX_MESSAGES;
use crate::resp::{Args, KeyIdx, Proto};
use crate::route::ClientFlags;
use crate::topology::ShardId;
use crossbeam_queue::ArrayQueue;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::Duration;

/// Identifies a connection on its shard: slab index plus generation (stale replies are dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub idx: u32,
    pub gen: u32,
}

/// One command sent to its owner shard. Arguments live in the batch's arena.
pub struct RemoteCmd {
    pub conn: ConnRef,
    /// Reply chunk sequence number on the sending connection.
    pub seq: u64,
    /// The command (its spec is `commands::spec_of(cmd)` on the receiving shard).
    pub cmd: CommandId,
    /// Its keys, found once on the sending shard.
    pub keys: KeyIdx,
    pub proto: Proto,
    pub owner_checks: Option<ClientFlags>,
    /// The sending client's id, with `shard::tracking::TRACK_READ` when the owner remembers
    /// the keys of this read for its client-side cache.
    pub client: u64,
    /// The client's selected database.
    pub db: u32,
    /// Range of this command's entries in `Requests::ranges`.
    pub first_arg: u32,
    pub argc: u32,
}

/// A batch of commands from one shard to another, with all argument bytes in one arena.
#[derive(Default)]
pub struct Requests {
    pub cmds: Vec<RemoteCmd>,
    pub data: Vec<u8>,
    pub ranges: Vec<(u32, u32)>,
}

impl Requests {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        conn: ConnRef,
        seq: u64,
        cmd: CommandId,
        keys: KeyIdx,
        proto: Proto,
        owner_checks: Option<ClientFlags>,
        db: u32,
        client: u64,
        args: Args<'_>,
    ) {
        let first_arg = self.ranges.len() as u32;
        for a in args.iter() {
            self.ranges.push((self.data.len() as u32, a.len() as u32));
            self.data.extend_from_slice(a);
        }
        self.cmds.push(RemoteCmd {
            conn,
            seq,
            cmd,
            keys,
            proto,
            owner_checks,
            client,
            db,
            first_arg,
            argc: args.len() as u32,
        });
    }
    pub fn args(&self, c: &RemoteCmd) -> Args<'_> {
        let r = &self.ranges[c.first_arg as usize..(c.first_arg + c.argc) as usize];
        Args::new(&self.data, r)
    }
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }
}

/// Replies for a batch of `Requests`, in the same order, bytes in one arena.
#[derive(Default)]
pub struct Replies {
    /// (connection, chunk seq, end offset of its bytes in `data`).
    pub items: Vec<(ConnRef, u64, u32)>,
    pub data: Vec<u8>,
}

/// A batch of whole RESP records for one shard; `done` counts applied batches.
pub struct ReplBatch {
    pub data: Vec<u8>,
    pub done: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A connection accepted on one shard and handed to another.
pub struct NewConn {
    pub fd: RawFd,
}

pub enum MeshMsg {
    Requests {
        from: ShardId,
        batch: Requests,
    },
    Replies(Replies),
    /// Park this shard's thread until the slot is released (see `with_parked`).
    Park(Arc<ParkSlot>),
    SlotMap(Arc<SlotMap>),
    Conn(NewConn),
    /// A message published on another core, for this core's subscribers.
    Publish(Arc<(Vec<u8>, Vec<u8>)>),
    /// A message published on a shard channel (SPUBLISH), for this core's shard subscribers.
    ShardPublish(Arc<(Vec<u8>, Vec<u8>)>),
    /// MONITOR lines fed on another core this turn, for this core's monitors.
    Monitor(Arc<Vec<u8>>),
    /// Records from our master for this shard to apply (replica side).
    ReplApply(Box<ReplBatch>),
    /// Client-side caching: invalidations for clients of this shard (or for their REDIRECT
    /// clients here).
    Invalidate(Box<Vec<Invalidation>>),
    /// A connection of shard `home` closed: forget its blocked commands.
    DropConn {
        home: ShardId,
        conn: ConnRef,
    },
    Shutdown,
}

/// One shard's inbox and doorbell.
pub struct Inbox {
    queue: ArrayQueue<MeshMsg>,
    /// True while the shard is (about to be) blocked in io_uring_enter.
    pub sleeping: AtomicBool,
    /// The shard's eventfd; writing it completes the shard's pending read.
    pub eventfd: RawFd,
}

/// The mesh: every shard's inbox, and the token that serializes multi-shard sections.
pub struct Mesh {
    pub inboxes: Vec<Inbox>,
    /// Shard id holding the park token, or usize::MAX when free.
    token: AtomicUsize,
    /// How many shards' loops ended at shutdown (`loop_ended`).
    loops_ended: AtomicUsize,
}

const TOKEN_FREE: usize = usize::MAX;

impl Mesh {
    pub fn new(shards: usize) -> std::io::Result<Arc<Mesh>> {
        let mut inboxes = Vec::with_capacity(shards);
        for _ in 0..shards {
            // Owned by the mesh for the process lifetime.
            let fd = crate::sys::eventfd(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)?;
            inboxes.push(Inbox {
                queue: ArrayQueue::new(MESH_INBOX_MESSAGES),
                sleeping: AtomicBool::new(false),
                eventfd: fd,
            });
        }
        Ok(Arc::new(Mesh {
            inboxes,
            token: AtomicUsize::new(TOKEN_FREE),
            loops_ended: AtomicUsize::new(0),
        }))
    }

    /// Queues `msg` for shard `to` without waking it. Returns the message when the inbox is full.
    pub fn push(&self, to: ShardId, msg: MeshMsg) -> Result<(), MeshMsg> {
        self.inboxes[to].queue.push(msg)
    }

    /// Wakes shard `to` if it sleeps (one eventfd write per sleep, not per message).
    pub fn wake(&self, to: ShardId) {
        let inbox = &self.inboxes[to];
        if inbox.sleeping.swap(false, Ordering::SeqCst) {
            // EAGAIN (counter full) means a wake-up is pending anyway.
            let _ = crate::sys::write(inbox.eventfd, &1u64.to_ne_bytes());
        }
    }

    /// Sends and wakes, spinning (and yielding) while the inbox is full. Only for control
    /// messages from non-shard threads (slot maps, shutdown, parking), never the data path.
    pub fn send_blocking(&self, to: ShardId, mut msg: MeshMsg) {
        loop {
            match self.push(to, msg) {
                Ok(()) => break,
                Err(m) => {
                    msg = m;
                    self.wake(to);
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
        self.wake(to);
    }

    pub fn pop(&self, me: ShardId) -> Option<MeshMsg> {
        self.inboxes[me].queue.pop()
    }

    pub fn inbox_empty(&self, me: ShardId) -> bool {
        self.inboxes[me].queue.is_empty()
    }

    /// Delivers a slot map to every shard.
    pub fn broadcast_slot_map(&self, map: Arc<SlotMap>) {
        for id in 0..self.inboxes.len() {
            self.send_blocking(id, MeshMsg::SlotMap(map.clone()));
        }
    }
}

/// How a section treats a shard whose script is past busy-reply-threshold (suspended between
/// slices): parking it would show the section a half-run script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusyPark {
    /// The busy shard parks once its script ended (the master's stream, internal work).
    Wait,
    /// The busy shard answers at once that it is busy (`ParkSlot::refuse`), and the section
    /// is abandoned: a client's command then gets -BUSY instead of waiting.
    Refuse,
}

/// Rendezvous for one multi-shard section: parked shards publish their state and wait for
/// `released`. The state is type-erased here (the shard module publishes its `Shard` and
/// reads it back in `shard::peers`), so the mesh carries it without naming the shard.
pub struct ParkSlot {
    ptrs: Vec<AtomicPtr<()>>,
    parked: AtomicUsize,
    released: AtomicBool,
    owner: Thread,
    waiters: Mutex<Vec<Thread>>,
    busy: BusyPark,
    /// A busy shard refused to park (`BusyPark::Refuse`).
    refused: AtomicBool,
}

impl ParkSlot {
    /// A slot for a section over `shards` shards, owned by the calling thread.
    pub fn new(shards: usize) -> Self {
        Self::with_busy(shards, BusyPark::Wait)
    }

    /// A slot whose section treats busy shards as `busy` says.
    pub fn with_busy(shards: usize, busy: BusyPark) -> Self {
        ParkSlot {
            ptrs: (0..shards)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
            parked: AtomicUsize::new(0),
            released: AtomicBool::new(false),
            owner: std::thread::current(),
            waiters: Mutex::new(Vec::new()),
            busy,
            refused: AtomicBool::new(false),
        }
    }

    /// What a busy shard does with this slot's park request.
    pub fn busy_mode(&self) -> BusyPark {
        self.busy
    }

    /// Called on a busy shard's thread instead of `park_here` (`BusyPark::Refuse` only).
    pub fn refuse(&self) {
        self.refused.store(true, Ordering::SeqCst);
        self.owner.unpark();
    }

    /// Some shard refused to park.
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }

    /// How many shards parked so far.
    pub fn parked_count(&self) -> usize {
        self.parked.load(Ordering::SeqCst)
    }

    /// Shard `id` parked for this slot.
    pub fn is_parked(&self, id: ShardId) -> bool {
        !self.ptrs[id].load(Ordering::SeqCst).is_null()
    }

    /// Called on the parked shard's thread: publish its state and block until released (at
    /// once when the section was abandoned already).
    ///
    /// # Safety
    /// `state` points at shard `id`'s state (a `Shard`: the section casts it back), which
    /// nothing on this thread touches until this returns, and which stays alive meanwhile.
    pub unsafe fn park_here(&self, id: ShardId, state: *mut ()) {
        self.ptrs[id].store(state, Ordering::SeqCst);
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(std::thread::current());
        self.parked.fetch_add(1, Ordering::SeqCst);
        self.owner.unpark();
        while !self.released.load(Ordering::SeqCst) {
            std::thread::park();
        }
    }

    /// Called by the owner: waits until `count` shards parked.
    pub fn wait_parked(&self, count: usize) {
        while self.parked.load(Ordering::SeqCst) < count {
            std::thread::park_timeout(Duration::from_millis(1));
        }
    }

    /// The published states, indexed by shard id (null for shards that did not park).
    pub fn published(&self) -> Vec<*mut ()> {
        self.ptrs.iter().map(|p| p.load(Ordering::SeqCst)).collect()
    }

    /// Called by the owner when the section is over: every parked shard resumes.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        for t in self
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            t.unpark();
        }
    }
}

impl Mesh {
    /// Takes the park token for shard `me`; false while another shard holds it.
    pub fn try_take_token(&self, me: ShardId) -> bool {
        self.token
            .compare_exchange(TOKEN_FREE, me, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The shard holding the park token, if any.
    pub fn token_holder(&self) -> Option<ShardId> {
        let t = self.token.load(Ordering::SeqCst);
        (t != TOKEN_FREE).then_some(t)
    }

    /// Gives the park token back.
    pub fn release_token(&self) {
        self.token.store(TOKEN_FREE, Ordering::SeqCst);
    }

    /// A shard's loop ended (shutdown): it starts no section anymore.
    pub fn loop_ended(&self) {
        self.loops_ended.fetch_add(1, Ordering::SeqCst);
    }

    /// Every shard's loop ended: no section can be waiting for a park anymore.
    pub fn all_loops_ended(&self) -> bool {
        self.loops_ended.load(Ordering::SeqCst) >= self.inboxes.len()
    }
}

// ---- client-side caching's message (its table lives in global::tracking) ----

/// What an invalidation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// These keys changed.
    Keys(Vec<Vec<u8>>),
    /// FLUSHALL/FLUSHDB: every key (a null in place of the array).
    Flush,
    /// The tracker's REDIRECT client (this id) is gone: `tracking-redir-broken`.
    RedirBroken(u64),
}

/// One message for client `to` (on shard `home`). `via`: the tracker (id, shard) when `to` is
/// its REDIRECT client. `bcast`: produced by a BCAST prefix, not by the table.
#[derive(Clone, Debug)]
pub struct Invalidation {
    pub to: u64,
    pub home: usize,
    pub writer: u64,
    pub bcast: bool,
    pub via: Option<(u64, usize)>,
    /// The tracker's protocol is RESP3 (a flush's null is written in the tracker's protocol,
    /// as Redis does, even to a RESP2 redirect client).
    pub tracker_resp3: bool,
    pub what: What,
}
