//! The event loop of one shard: a raw io_uring ring with multishot accept and receive into a
//! provided-buffer ring, one send per connection at a time, an eventfd doorbell for the mesh
//! and a cron timer. Each turn: drain the mesh, parse and run every complete command, send
//! cross-shard batches, start sends, then wait once. Never blocks anywhere else.

use crate::commands::AfterReply;
use crate::config::AppendFsync;
use crate::constants::*;
use crate::dispatch::{self as exec, Plan};
use crate::global::unix_ms;
use crate::mesh::{ConnRef, Mesh, MeshMsg, Replies, Requests, ShardPeers};
use crate::net::bufring::BufRing;
use crate::net::conn::Conn;
use crate::net::protected;
use crate::net::socket;
use crate::resp::parse::{decode_inline, QUOTED_FLAG};
use crate::resp::{Args, Out, OwnedArgs, ParseOutcome};
use crate::shard::blocking::Waiter;
use crate::shard::{Client, Shard};
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "aof_loop.rs"]
mod aof_loop;
#[path = "blocked_loop.rs"]
mod blocked_loop;
#[path = "obuf_loop.rs"]
mod obuf_loop;
#[path = "pubsub_loop.rs"]
mod pubsub_loop;
#[path = "repl_loop.rs"]
mod repl_loop;

const UD_ACCEPT: u64 = 1;
const UD_RECV: u64 = 2;
const UD_SEND: u64 = 3;
const UD_WAKE: u64 = 4;
const UD_TIMER: u64 = 5;
const UD_CANCEL: u64 = 6;
const UD_FSYNC: u64 = 7;
const UD_RWSYNC: u64 = 8;
/// IORING_ENTER_GETEVENTS (not re-exported by the io-uring crate).
const ENTER_GETEVENTS: u32 = 1;

fn ud(kind: u64, idx: usize, gen: u32) -> u64 {
    (kind << 56) | (((gen & 0xFF_FFFF) as u64) << 32) | idx as u64
}

fn ud_parts(ud: u64) -> (u64, usize, u32) {
    (
        ud >> 56,
        (ud & 0xFFFF_FFFF) as usize,
        ((ud >> 32) & 0xFF_FFFF) as u32,
    )
}

/// Everything a shard thread needs to start its loop.
pub struct ShardSetup {
    pub shard: Shard,
    pub mesh: Arc<Mesh>,
    /// The listening sockets (accepting shard only).
    pub listeners: Vec<RawFd>,
}

pub struct Reactor {
    ring: IoUring,
    bufs: BufRing,
    conns: Vec<Option<Conn>>,
    gens: Vec<u32>,
    free: Vec<usize>,
    shard: Shard,
    mesh: Arc<Mesh>,
    stash: Rc<RefCell<Vec<MeshMsg>>>,
    /// Commands waiting to go to each shard, and replies owed to each shard.
    outbox: Vec<Requests>,
    reply_box: Vec<Replies>,
    listeners: Vec<RawFd>,
    /// Per listener: a multishot accept is armed; accepting is paused until the next cron
    /// tick (out of descriptors: retrying at once would spin).
    accept_armed: Vec<bool>,
    accept_paused: Vec<bool>,
    /// Accept errors are logged at most once per period; the others are counted.
    accept_log_after_ms: u64,
    accept_errors_unlogged: u64,
    next_target: usize,
    wake_buf: Box<u64>,
    timer_ts: Box<types::Timespec>,
    parse_queue: Vec<usize>,
    /// Connections holding a write while writes are paused (manual failover); re-parsed
    /// once the pause ends.
    write_paused: Vec<usize>,
    /// The last drain stopped at its time budget with messages left.
    inbox_behind: bool,
    send_queue: Vec<usize>,
    rearm_queue: Vec<usize>,
    close_queue: Vec<usize>,
    cqes: Vec<(u64, i32, u32)>,
    scratch: OwnedArgs,
    now_ms: u64,
    stopping: bool,
    bufs_dirty: bool,
    /// Active expiry ran out of budget last time: keep expiring in later turns.
    expire_behind: bool,
    aof: AofLoop,
    /// `client-output-buffer-limit` read this turn, and the smallest non-zero limit of the
    /// classes checked here (below it no check runs).
    obuf: crate::net::obuf::Limits,
    obuf_floor: usize,
}

/// The event loop's side of the AOF: fsync epochs and the replies they hold back.
#[derive(Default)]
struct AofLoop {
    /// Id the next fsync will get, and the one in flight.
    epoch_next: u64,
    epoch_inflight: Option<u64>,
    /// (connection, generation, epoch, output position) under `appendfsync always`.
    held: Vec<(usize, u32, u64, u64)>,
    /// Reply batches for other shards waiting for an epoch.
    held_replies: Vec<(u64, usize, Replies)>,
    /// Replies released but not yet accepted by a full inbox.
    unsent_replies: Vec<(usize, Replies)>,
    /// Fsyncs of a finishing rewrite still running.
    rewrite_syncs: u8,
    rewrite_sync_failed: Option<String>,
    policy: Option<AppendFsync>,
}

/// Cached configuration values read once per turn (they can change with CONFIG SET).
struct Limits {
    max_bulk: u64,
    qbuf_max: u64,
    obuf: crate::net::obuf::Limits,
    obuf_floor: usize,
    /// `requirepass` is set: clients not yet authenticated get the pre-auth request limits.
    password_set: bool,
}

impl Reactor {
    pub fn new(setup: ShardSetup) -> std::io::Result<Reactor> {
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_coop_taskrun()
            .setup_cqsize(RING_ENTRIES * 4)
            .build(RING_ENTRIES)?;
        let bufs = BufRing::new(&ring, 0, RECV_BUF_COUNT, RECV_BUF_BYTES)?;
        let stash = Rc::new(RefCell::new(Vec::new()));
        let mut shard = setup.shard;
        shard.peers = Some(Box::new(ShardPeers {
            mesh: setup.mesh.clone(),
            stash: stash.clone(),
        }));
        let n = shard.shards;
        Ok(Reactor {
            ring,
            bufs,
            conns: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            next_target: shard.id,
            shard,
            mesh: setup.mesh,
            stash,
            outbox: (0..n).map(|_| Requests::default()).collect(),
            reply_box: (0..n).map(|_| Replies::default()).collect(),
            accept_armed: vec![false; setup.listeners.len()],
            accept_paused: vec![false; setup.listeners.len()],
            accept_log_after_ms: 0,
            accept_errors_unlogged: 0,
            listeners: setup.listeners,
            wake_buf: Box::new(0),
            timer_ts: Box::new(types::Timespec::from(Duration::from_millis(CRON_PERIOD_MS))),
            parse_queue: Vec::new(),
            write_paused: Vec::new(),
            inbox_behind: false,
            send_queue: Vec::new(),
            rearm_queue: Vec::new(),
            close_queue: Vec::new(),
            cqes: Vec::with_capacity(RING_ENTRIES as usize),
            scratch: OwnedArgs::default(),
            now_ms: unix_ms(),
            stopping: false,
            bufs_dirty: false,
            expire_behind: false,
            aof: AofLoop::default(),
            obuf: crate::net::obuf::Limits::default(),
            obuf_floor: usize::MAX,
        })
    }

    /// Queues one submission, flushing the submission queue when it is full.
    fn push_sqe(&mut self, e: squeue::Entry) {
        // SAFETY: every buffer an entry points at lives in `self` (boxed or in a Conn that is
        // only freed after its operations completed) until the completion arrives.
        while unsafe { self.ring.submission().push(&e) }.is_err() {
            let _ = self.ring.submit();
        }
    }

    fn arm_accept(&mut self, which: usize) {
        if let Some(&fd) = self.listeners.get(which) {
            self.accept_armed[which] = true;
            let e = opcode::AcceptMulti::new(types::Fd(fd))
                .build()
                .user_data(ud(UD_ACCEPT, which, 0));
            self.push_sqe(e);
        }
    }

    fn arm_wake(&mut self) {
        let fd = self.mesh.inboxes[self.shard.id].eventfd;
        let p = &mut *self.wake_buf as *mut u64 as *mut u8;
        let e = opcode::Read::new(types::Fd(fd), p, 8)
            .build()
            .user_data(ud(UD_WAKE, 0, 0));
        self.push_sqe(e);
    }

    fn arm_timer(&mut self) {
        let e = opcode::Timeout::new(&*self.timer_ts as *const types::Timespec)
            .build()
            .user_data(ud(UD_TIMER, 0, 0));
        self.push_sqe(e);
    }

    fn arm_recv(&mut self, idx: usize) {
        let Some(c) = self.conns[idx].as_mut() else {
            return;
        };
        if c.recv_armed || c.dead || c.closing {
            return;
        }
        c.recv_armed = true;
        c.recv_paused = false;
        let e = opcode::RecvMulti::new(types::Fd(c.fd), self.bufs.group_id)
            .build()
            .user_data(ud(UD_RECV, idx, c.gen));
        self.push_sqe(e);
    }

    /// Runs the loop until a Shutdown message arrives.
    pub fn run(mut self) {
        for i in 0..self.listeners.len() {
            self.arm_accept(i);
        }
        self.arm_wake();
        self.arm_timer();
        let id = self.shard.id;
        loop {
            self.now_ms = unix_ms();
            self.refresh_obuf_limits();
            self.drain_inbox();
            if self.stopping {
                break;
            }
            self.turn_work();
            let busy = self.inbox_behind
                || !self.parse_queue.is_empty()
                || self.outbox.iter().any(|o| !o.is_empty())
                || self.reply_box.iter().any(|r| !r.items.is_empty())
                || !self.stash.borrow().is_empty()
                || self.expire_behind
                || self.shard.repl.snaps.iter().any(|s| s.wants_turns())
                || self
                    .shard
                    .aof
                    .rewrite
                    .as_ref()
                    .is_some_and(|r| !r.finishing);
            let want = if busy {
                0
            } else {
                self.mesh.inboxes[id].sleeping.store(true, Ordering::SeqCst);
                if self.mesh.inbox_empty(id) {
                    1
                } else {
                    self.mesh.inboxes[id]
                        .sleeping
                        .store(false, Ordering::SeqCst);
                    0
                }
            };
            // GETEVENTS even when not waiting: with DEFER_TASKRUN completions are only
            // produced inside io_uring_enter with that flag.
            let to_submit = self.ring.submission().len() as u32;
            // SAFETY: no extra argument is passed; the ring outlives the call.
            let r = unsafe {
                self.ring.submitter().enter::<libc::sigset_t>(
                    to_submit,
                    want,
                    ENTER_GETEVENTS,
                    None,
                )
            };
            self.mesh.inboxes[id]
                .sleeping
                .store(false, Ordering::SeqCst);
            if let Err(e) = r {
                if e.raw_os_error() != Some(libc::EINTR) && e.raw_os_error() != Some(libc::EBUSY) {
                    crate::log::warning(&format!("shard {id}: io_uring_enter failed: {e}"));
                }
            }
            self.reap();
        }
        self.shutdown_conns();
    }

    /// Work done once per turn after the mesh is drained.
    fn turn_work(&mut self) {
        crate::replication::turn_start(&mut self.shard);
        let queue = std::mem::take(&mut self.parse_queue);
        let limits = self.limits();
        for idx in queue {
            if let Some(c) = self.conns[idx].as_mut() {
                c.in_parse_queue = false;
            }
            self.process_input(idx, None, &limits);
        }
        if self.expire_behind {
            self.expire_cycle(Duration::from_micros(EXPIRE_FAST_BUDGET_US));
        }
        self.serve_blocked();
        self.publish_outgoing();
        self.repl_turn();
        self.aof_turn();
        self.flush_outboxes();
        self.start_sends();
        let rearm = std::mem::take(&mut self.rearm_queue);
        for idx in rearm {
            self.arm_recv(idx);
        }
        let closes = std::mem::take(&mut self.close_queue);
        for idx in closes {
            self.try_close(idx);
        }
        if self.bufs_dirty {
            self.bufs.publish();
            self.bufs_dirty = false;
        }
    }

    fn limits(&self) -> Limits {
        self.shard.global.cfg(|c| Limits {
            max_bulk: c.proto_max_bulk_len,
            qbuf_max: c.client_query_buffer_limit,
            obuf: self.obuf,
            obuf_floor: self.obuf_floor,
            password_set: c.requirepass.is_some(),
        })
    }

    fn drain_inbox(&mut self) {
        let stashed = std::mem::take(&mut *self.stash.borrow_mut());
        for m in stashed {
            self.on_message(m);
        }
        let id = self.shard.id;
        // A replica's stream (and any other flood) must not starve the clients: past the
        // budget the rest waits for the next turn, which comes at once (`inbox_behind`).
        let start = std::time::Instant::now();
        self.inbox_behind = false;
        while let Some(m) = self.mesh.pop(id) {
            self.on_message(m);
            if start.elapsed() > Duration::from_micros(INBOX_TURN_BUDGET_US) {
                self.inbox_behind = true;
                break;
            }
        }
    }

    fn on_message(&mut self, msg: MeshMsg) {
        match msg {
            MeshMsg::Requests { from, batch } => self.serve_requests(from, batch),
            MeshMsg::Replies(r) => self.take_replies(r),
            MeshMsg::Park(slot) => {
                slot.park_here(&mut self.shard);
                self.after_park();
            }
            MeshMsg::SlotMap(map) => {
                for &slot in &map.drop_slots {
                    self.shard.drop_slot_keys(slot);
                }
                if map.version >= self.shard.slot_map.version {
                    self.unsubscribe_lost_slots(&map);
                    self.shard.slot_map = map;
                    self.recheck_blocked_slots();
                }
            }
            MeshMsg::ReplApply(b) => {
                crate::dispatch::apply::apply_batch(&mut self.shard, &b.data, self.now_ms);
                b.done.fetch_add(1, Ordering::Release);
            }
            MeshMsg::DropConn { home, conn } => self.shard.blocked.drop_conn(home, conn),
            MeshMsg::Publish(m) => self.deliver_message(&m.0, &m.1),
            MeshMsg::ShardPublish(m) => self.deliver_shard_message(&m.0, &m.1),
            MeshMsg::Conn(nc) => self.register(nc.fd),
            MeshMsg::Shutdown => self.stopping = true,
        }
    }

    /// Another shard may have changed our clients (CLIENT KILL) while we were parked.
    fn after_park(&mut self) {
        self.reap_killed();
    }

    fn reap_killed(&mut self) {
        for idx in 0..self.conns.len() {
            let Some(c) = self.conns[idx].as_mut() else {
                continue;
            };
            let killed = self.shard.clients.get(c.client).is_some_and(|cl| cl.kill);
            if killed && !c.dead {
                c.dead = true;
                self.close_queue.push(idx);
            }
        }
    }

    fn serve_requests(&mut self, from: usize, batch: Requests) {
        let now = self.now_ms;
        let replies = &mut self.reply_box[from];
        for c in &batch.cmds {
            let args = batch.args(c);
            let mut out = Out::new(&mut replies.data, c.proto);
            let keys = exec::Keys::given(&c.keys);
            exec::run_client_key(
                &mut self.shard,
                c.spec,
                args,
                keys,
                &mut out,
                now,
                c.owner_checks,
            );
            if let Some(req) = self.shard.block_request.take() {
                // Nothing to pop yet: the command waits here; its reply comes later.
                self.shard.blocked.add(Waiter {
                    home: from,
                    conn: c.conn,
                    seq: c.seq,
                    spec: c.spec,
                    args: args.to_owned(),
                    proto: c.proto,
                    keys: req.keys,
                    deadline_ms: req.deadline_ms,
                    poll_shards: None,
                });
                continue;
            }
            replies
                .items
                .push((c.conn, c.seq, replies.data.len() as u32));
        }
    }

    fn take_replies(&mut self, r: Replies) {
        let mut start = 0usize;
        for &(cref, seq, end) in &r.items {
            let data = &r.data[start..end as usize];
            start = end as usize;
            let Some(c) = self.conn_mut(cref) else {
                continue;
            };
            c.fill_remote(seq, data);
            if c.unsent_bytes() >= self.obuf_floor {
                self.check_appended(cref.idx as usize);
            }
            let Some(c) = self.conn_mut(cref) else {
                continue;
            };
            let wake_parse = !c.rbuf.is_empty() && !c.in_parse_queue;
            if wake_parse {
                c.in_parse_queue = true;
            }
            let need_send = !c.in_send_queue;
            c.in_send_queue = true;
            if wake_parse {
                self.parse_queue.push(cref.idx as usize);
            }
            if need_send {
                self.send_queue.push(cref.idx as usize);
            }
        }
    }

    fn conn_mut(&mut self, cref: ConnRef) -> Option<&mut Conn> {
        let c = self.conns.get_mut(cref.idx as usize)?.as_mut()?;
        (c.gen == cref.gen).then_some(c)
    }

    fn flush_outboxes(&mut self) {
        let me = self.shard.id;
        for to in 0..self.outbox.len() {
            if !self.outbox[to].is_empty() {
                let batch = std::mem::take(&mut self.outbox[to]);
                if let Err(MeshMsg::Requests { batch, .. }) =
                    self.mesh.push(to, MeshMsg::Requests { from: me, batch })
                {
                    self.outbox[to] = batch; // inbox full: retry next turn
                }
                self.mesh.wake(to);
            }
            if !self.reply_box[to].items.is_empty() {
                let r = std::mem::take(&mut self.reply_box[to]);
                if let Err(MeshMsg::Replies(r)) = self.mesh.push(to, MeshMsg::Replies(r)) {
                    self.reply_box[to] = r;
                }
                self.mesh.wake(to);
            }
        }
    }

    fn start_sends(&mut self) {
        let queue = std::mem::take(&mut self.send_queue);
        for idx in queue {
            let Some(c) = self.conns[idx].as_mut() else {
                continue;
            };
            c.in_send_queue = false;
            if c.dead {
                continue;
            }
            self.after_buffers_moved(idx);
            let Some(c) = self.conns[idx].as_mut().filter(|c| !c.dead) else {
                continue;
            };
            let allowed = c
                .safe_total
                .saturating_sub(c.sent_total)
                .min(c.out.len() as u64) as usize;
            if !c.send_inflight && allowed > 0 {
                if allowed == c.out.len() {
                    std::mem::swap(&mut c.out, &mut c.sending);
                } else {
                    c.sending.clear();
                    c.sending.extend(c.out.drain(..allowed));
                }
                c.sent_total += allowed as u64;
                c.send_off = 0;
                c.send_inflight = true;
                let e =
                    opcode::Send::new(types::Fd(c.fd), c.sending.as_ptr(), c.sending.len() as u32)
                        .flags(libc::MSG_NOSIGNAL)
                        .build()
                        .user_data(ud(UD_SEND, idx, c.gen));
                self.push_sqe(e);
            } else if c.closing && !c.send_inflight && c.out.is_empty() && c.pending.is_empty() {
                self.close_queue.push(idx);
            }
        }
    }

    /// Moves every completion out of the ring, then handles them.
    fn reap(&mut self) {
        self.cqes.clear();
        for cqe in self.ring.completion() {
            self.cqes.push((cqe.user_data(), cqe.result(), cqe.flags()));
        }
        let cqes = std::mem::take(&mut self.cqes);
        let limits = self.limits();
        for &(u, res, flags) in &cqes {
            let (kind, idx, gen) = ud_parts(u);
            match kind {
                UD_ACCEPT => self.on_accept(idx, res, flags),
                UD_RECV => self.on_recv(idx, gen, res, flags, &limits),
                UD_SEND => self.on_send(idx, gen, res),
                UD_WAKE => self.arm_wake(),
                UD_TIMER => {
                    self.cron();
                    self.arm_timer();
                }
                UD_FSYNC => self.on_fsync(res),
                UD_RWSYNC => self.on_rewrite_sync(res),
                _ => {}
            }
        }
        self.cqes = cqes;
    }

    fn on_accept(&mut self, which: usize, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        if !more {
            self.accept_armed[which] = false;
        }
        if res < 0 && res != -libc::ECANCELED {
            self.accept_failed(which, -res, more);
        }
        if !more && !self.stopping && !self.accept_paused[which] {
            self.arm_accept(which);
        }
        if res < 0 {
            return;
        }
        let n = self.shard.shards;
        let target = self.next_target % n;
        self.next_target = (self.next_target + 1) % n;
        if target == self.shard.id {
            self.register(res);
        } else {
            let msg = MeshMsg::Conn(crate::mesh::NewConn { fd: res });
            match self.mesh.push(target, msg) {
                Ok(()) => self.mesh.wake(target),
                Err(_) => self.register(res),
            }
        }
    }

    /// An accept failed. Running out of descriptors (or kernel memory) pauses this listener
    /// until the next cron tick instead of re-arming at once, which would fail at once again
    /// and spin; waiting clients stay in the backlog. The log line is rate-limited.
    fn accept_failed(&mut self, which: usize, errno: i32, more: bool) {
        if self.now_ms >= self.accept_log_after_ms {
            let e = std::io::Error::from_raw_os_error(errno).to_string();
            // Redis' text: "accept: " and strerror, without std's " (os error N)".
            let e = e.split(" (os error").next().unwrap_or(&e);
            let also = match self.accept_errors_unlogged {
                0 => String::new(),
                n => format!(" ({n} more accept errors since the last report)"),
            };
            crate::log::warning(&format!("Accepting client connection: accept: {e}{also}"));
            self.accept_log_after_ms = self.now_ms + ACCEPT_ERROR_LOG_PERIOD_MS;
            self.accept_errors_unlogged = 0;
        } else {
            self.accept_errors_unlogged += 1;
        }
        // Failures of one incoming connection (aborted, interrupted) do not pause the rest.
        let transient = matches!(
            errno,
            libc::ECONNABORTED | libc::EINTR | libc::EAGAIN | libc::EPROTO
        );
        if transient {
            return;
        }
        self.accept_paused[which] = true;
        if more {
            // Still armed: cancel it; its final completion arrives without F_MORE.
            let e = opcode::AsyncCancel::new(ud(UD_ACCEPT, which, 0))
                .build()
                .user_data(ud(UD_CANCEL, which, 0));
            self.push_sqe(e);
        }
    }

    /// Re-arms the listeners paused by `accept_failed` (once per cron tick).
    fn resume_accepts(&mut self) {
        for which in 0..self.listeners.len() {
            if self.accept_paused[which] && !self.accept_armed[which] && !self.stopping {
                self.accept_paused[which] = false;
                self.arm_accept(which);
            }
        }
    }

    /// Takes a new client socket: limits, socket options, client record, first receive.
    fn register(&mut self, fd: RawFd) {
        let global = self.shard.global.clone();
        let (maxclients, keepalive_s, protected, password_set) = global.cfg(|c| {
            (
                c.maxclients,
                c.tcp_keepalive_s,
                c.stored_bool("protected-mode", true),
                c.requirepass.is_some(),
            )
        });
        self.shard.stats.connections_received += 1;
        let (links, full_reply) = cluster_links(&self.shard.slot_map);
        if (global.connected_clients.load(Ordering::SeqCst) + links) as u64 >= maxclients {
            socket::refuse(fd, full_reply);
            self.shard.stats.rejected_connections += 1;
            return;
        }
        // Once per connection; the address is only looked at when protected mode applies.
        if protected::in_force(protected, password_set) && !protected::peer_is_loopback(fd) {
            socket::refuse(fd, protected::DENIED_REPLY);
            self.shard.stats.rejected_connections += 1;
            return;
        }
        global.connected_clients.fetch_add(1, Ordering::SeqCst);
        socket::tune_client(fd, keepalive_s);
        let (addr, laddr) = socket::addrs(fd);
        let client = Client {
            id: global.new_client_id(),
            fd,
            addr,
            laddr,
            created_ms: self.now_ms,
            last_interaction_ms: self.now_ms,
            authenticated: global.cfg(|c| c.requirepass.is_none()),
            last_cmd: "NULL",
            ..Default::default()
        };
        let client_idx = self.shard.clients.insert(client);
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                self.conns.len() - 1
            }
        };
        self.gens[idx] = self.gens[idx].wrapping_add(1) & 0xFF_FFFF;
        self.conns[idx] = Some(Conn::new(fd, self.gens[idx], client_idx));
        let c = self.shard.clients.get_mut(client_idx);
        c.conn_slot = idx as u32;
        c.conn_gen = self.gens[idx];
        self.arm_recv(idx);
    }

    fn on_recv(&mut self, idx: usize, gen: u32, res: i32, flags: u32, limits: &Limits) {
        let bid = cqueue::buffer_select(flags);
        let more = cqueue::more(flags);
        let Some(c) = self
            .conns
            .get_mut(idx)
            .and_then(|c| c.as_mut())
            .filter(|c| c.gen == gen)
        else {
            if let Some(b) = bid {
                self.give_back(b);
            }
            return;
        };
        if !more {
            c.recv_armed = false;
        }
        if res <= 0 {
            match -res {
                libc::ENOBUFS => self.rearm_queue.push(idx),
                libc::ECANCELED => {
                    if c.closing || c.dead {
                        self.close_queue.push(idx);
                    }
                }
                _ => {
                    // 0 is EOF; anything else is a reset or error: the client is gone.
                    c.dead = true;
                    self.close_queue.push(idx);
                }
            }
            if let Some(b) = bid {
                self.give_back(b);
            }
            return;
        }
        let Some(b) = bid else { return };
        self.shard.stats.net_input_bytes += res as u64;
        let closing = c.closing || c.dead;
        if !closing {
            self.process_input(idx, Some((b, res as usize)), limits);
        }
        self.give_back(b);
        if !more {
            self.rearm_queue.push(idx);
        }
    }

    fn give_back(&mut self, bid: u16) {
        self.bufs.push(bid);
        self.bufs_dirty = true;
    }

    /// Parses and runs every complete command of connection `idx`: the bytes already carried in
    /// its read buffer plus `fresh` (a provided buffer), without copying when nothing is carried.
    fn process_input(&mut self, idx: usize, fresh: Option<(u16, usize)>, limits: &Limits) {
        let Reactor {
            conns,
            bufs,
            shard,
            outbox,
            scratch,
            now_ms,
            parse_queue,
            send_queue,
            close_queue,
            write_paused,
            ..
        } = self;
        let paused = shard.global.writes_paused_until_ms.load(Ordering::Relaxed) > *now_ms;
        let mut held = false;
        let Some(conn) = conns[idx].as_mut() else {
            return;
        };
        let fresh: &[u8] = match fresh {
            Some((b, len)) => bufs.data(b, len),
            None => &[],
        };
        let mut carried = std::mem::take(&mut conn.rbuf);
        let src: &[u8] = if carried.is_empty() {
            fresh
        } else {
            carried.extend_from_slice(fresh);
            &carried
        };
        let mut parser = std::mem::take(&mut conn.parser);
        // Redis' authRequired(): decided per read, and again after each command while it
        // holds (an AUTH in the same read lifts the limits for the commands behind it).
        let mut unauth = limits.password_set
            && shard
                .clients
                .get(conn.client)
                .is_some_and(|c| !c.authenticated);
        let mut off = 0usize;
        let mut cmds = 0usize;
        let mut more_later = false;
        let mut want_bytes = 0usize;
        loop {
            if conn.closing || conn.dead {
                break;
            }
            // `unsent_bytes` is a few loads: checked before every command, so a pipeline of
            // large replies stops at the pause threshold plus one reply.
            if conn.unsent_bytes() >= CONN_OUT_PAUSE_BYTES {
                // What is held back arrived while replies were unsent: Redis, which never
                // holds input, would run it with that output pending (SYNC/PSYNC refuse).
                conn.input_behind_output = true;
                more_later = true;
                break;
            }
            if cmds >= CONN_CMDS_PER_TURN || conn.remote_inflight >= CONN_REMOTE_INFLIGHT_MAX {
                more_later = true;
                break;
            }
            match parser.parse_as(&src[off..], limits.max_bulk, unauth) {
                ParseOutcome::Command { consumed } => {
                    let base = &src[off..];
                    let ranges = parser.ranges();
                    let args = if ranges.iter().any(|r| r.1 & QUOTED_FLAG != 0) {
                        decode_inline(base, ranges, scratch);
                        scratch.args()
                    } else {
                        Args::new(base, ranges)
                    };
                    if paused && is_write(args) {
                        held = true;
                        break;
                    }
                    run_command(shard, conn, idx, args, outbox, *now_ms);
                    off += consumed;
                    cmds += 1;
                    // Output limits are checked as each reply is added, as in Redis, so a
                    // pipeline cannot pile up many large replies before the check.
                    if conn.unsent_bytes() >= limits.obuf_floor {
                        if let Some(cl) = shard.clients.get_live_mut(conn.client) {
                            obuf_loop::enforce(conn, idx, cl, &limits.obuf, *now_ms, close_queue);
                        }
                        if conn.dead {
                            break;
                        }
                    }
                    if unauth {
                        unauth = shard
                            .clients
                            .get(conn.client)
                            .is_some_and(|c| !c.authenticated);
                    }
                }
                ParseOutcome::Incomplete { want_total } => {
                    want_bytes = want_total;
                    break;
                }
                ParseOutcome::Error(e) => {
                    let target = conn.reply_target();
                    target.extend_from_slice(b"-ERR ");
                    target.extend_from_slice(e.as_bytes());
                    target.extend_from_slice(b"\r\n");
                    let sample = &src[(off + parser.error_offset()).min(src.len())..];
                    log_protocol_error(shard, conn.client, &e, sample);
                    conn.closing = true;
                    break;
                }
            }
        }
        conn.parser = parser;
        let rest_len = src.len() - off;
        if rest_len as u64 > limits.qbuf_max {
            crate::log::warning("Closing client that reached max query buffer length");
            conn.dead = true;
            close_queue.push(idx);
            return;
        }
        if off == src.len() {
            conn.input_behind_output = false;
        }
        if carried.is_empty() {
            conn.rbuf = src[off..].to_vec();
        } else {
            carried.drain(..off);
            conn.rbuf = carried;
        }
        // A large bulk is arriving: grow once to its full size instead of doubling repeatedly.
        if want_bytes > conn.rbuf.capacity() && want_bytes as u64 <= limits.qbuf_max {
            let extra = want_bytes - conn.rbuf.len();
            conn.rbuf.reserve(extra);
        }
        if held && !conn.in_parse_queue {
            conn.in_parse_queue = true;
            write_paused.push(idx);
        }
        if more_later
            && !conn.rbuf.is_empty()
            && conn.remote_inflight < CONN_REMOTE_INFLIGHT_MAX
            && conn.unsent_bytes() < CONN_OUT_PAUSE_BYTES
            && !conn.in_parse_queue
        {
            conn.in_parse_queue = true;
            parse_queue.push(idx);
        }
        if (!conn.out.is_empty() || conn.closing) && !conn.in_send_queue {
            conn.in_send_queue = true;
            send_queue.push(idx);
        }
        if let Some(cl) = shard.clients.get_live_mut(conn.client) {
            if cl.kill {
                conn.closing = true;
            }
            obuf_loop::note_mem(conn, cl);
            if conn.unsent_bytes() >= limits.obuf_floor {
                obuf_loop::enforce(conn, idx, cl, &limits.obuf, *now_ms, close_queue);
            }
        }
    }

    fn on_send(&mut self, idx: usize, gen: u32, res: i32) {
        let Some(c) = self
            .conns
            .get_mut(idx)
            .and_then(|c| c.as_mut())
            .filter(|c| c.gen == gen)
        else {
            return;
        };
        c.send_inflight = false;
        if res < 0 {
            c.dead = true;
            self.close_queue.push(idx);
            return;
        }
        self.shard.stats.net_output_bytes += res as u64;
        c.send_off += res as usize;
        self.after_buffers_moved(idx);
        let Some(c) = self.conns[idx].as_mut() else {
            return;
        };
        if c.dead {
            // Closed for its output limits, now or while this send was in flight (when its
            // close attempt had to wait for this completion): close it now.
            self.close_queue.push(idx);
            return;
        }
        if c.send_off < c.sending.len() {
            let rest = &c.sending[c.send_off..];
            c.send_inflight = true;
            let e = opcode::Send::new(types::Fd(c.fd), rest.as_ptr(), rest.len() as u32)
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(ud(UD_SEND, idx, c.gen));
            self.push_sqe(e);
            return;
        }
        c.sending.clear();
        if c.sending.capacity() > CONN_OUT_PAUSE_BYTES {
            c.sending = Vec::new();
        }
        c.send_off = 0;
        if (!c.out.is_empty() || c.closing) && !c.in_send_queue {
            c.in_send_queue = true;
            self.send_queue.push(idx);
        }
        // Output drained: resume parsing what was held back.
        if !c.rbuf.is_empty() && !c.in_parse_queue && !c.closing {
            c.in_parse_queue = true;
            self.parse_queue.push(idx);
        }
    }

    /// Closes connection `idx` once no operation on it is in flight.
    fn try_close(&mut self, idx: usize) {
        let Some(c) = self.conns.get_mut(idx).and_then(|c| c.as_mut()) else {
            return;
        };
        if !c.dead && (!c.out.is_empty() || !c.pending.is_empty() || c.send_inflight) {
            return; // still flushing; the send completion brings us back
        }
        if c.send_inflight {
            return;
        }
        if c.recv_armed {
            let target = ud(UD_RECV, idx, c.gen);
            let e = opcode::AsyncCancel::new(target)
                .build()
                .user_data(ud(UD_CANCEL, idx, c.gen));
            c.dead = true;
            self.push_sqe(e);
            return; // the receive completes with ECANCELED and brings us back
        }
        let fd = c.fd;
        let client = c.client;
        let cref = ConnRef {
            idx: idx as u32,
            gen: c.gen,
        };
        let had_remote = c.remote_inflight > 0;
        self.forget_blocked(cref, had_remote);
        self.forget_waits(cref);
        if let Some(cl) = self.shard.clients.get(client) {
            crate::replication::master::client_closed(&self.shard.global, cl.id);
        }
        crate::commands::pubsub::forget_client(&mut self.shard, client);
        self.conns[idx] = None;
        self.free.push(idx);
        // SAFETY: closing our own socket; no operation references it any more.
        unsafe { libc::close(fd) };
        self.shard.clients.remove(client);
        self.shard
            .global
            .connected_clients
            .fetch_sub(1, Ordering::SeqCst);
    }

    fn cron(&mut self) {
        self.now_ms = unix_ms();
        let paused_until = self
            .shard
            .global
            .writes_paused_until_ms
            .load(Ordering::Relaxed);
        if !self.write_paused.is_empty() && paused_until <= self.now_ms {
            // Still flagged in_parse_queue: they go straight back to parsing.
            let held = std::mem::take(&mut self.write_paused);
            self.parse_queue.extend(held);
        }
        self.resume_accepts();
        self.blocked_cron();
        self.repl_cron();
        self.aof_cron();
        self.expire_cycle(Duration::from_micros(EXPIRE_CYCLE_BUDGET_US));
        self.reap_killed();
        let timeout_s = self.shard.global.cfg(|c| c.timeout_s);
        if timeout_s > 0 {
            let limit_ms = timeout_s * 1000;
            for idx in 0..self.conns.len() {
                let Some(c) = self.conns[idx].as_ref() else {
                    continue;
                };
                let Some(cl) = self.shard.clients.get(c.client) else {
                    continue;
                };
                if self.now_ms.saturating_sub(cl.last_interaction_ms) > limit_ms {
                    crate::log::verbose("Closing idle client");
                    if let Some(c) = self.conns[idx].as_mut() {
                        c.dead = true;
                    }
                    self.close_queue.push(idx);
                }
            }
        }
        let closes = std::mem::take(&mut self.close_queue);
        for idx in closes {
            self.try_close(idx);
        }
    }

    fn expire_cycle(&mut self, budget: Duration) {
        let deadline = Instant::now() + budget;
        let shard = &mut self.shard;
        let run = shard
            .db
            .active_expire(&mut shard.rng, self.now_ms, EXPIRE_SAMPLE_KEYS, deadline);
        crate::replication::journal_expired(&mut self.shard);
        self.expire_behind = Instant::now() >= deadline && run.expired > 0;
    }

    /// Best-effort flush of pending replies, then close every socket. The journal is written
    /// and fsynced first, whatever the fsync policy, as Redis does on a clean shutdown.
    fn shutdown_conns(&mut self) {
        if self.shard.aof.rewrite.is_some() {
            let global = self.shard.global.clone();
            self.shard
                .aof
                .abort_rewrite("the server is shutting down", &global.aof);
        }
        if self.shard.aof.active() {
            if let Err(e) = crate::aof::flush_now(&mut self.shard, true) {
                crate::log::warning(&format!("Writing the AOF at shutdown failed: {e}"));
            }
        }
        for fd in self.listeners.drain(..) {
            // A pending multishot accept keeps a reference to the socket until the ring's
            // asynchronous teardown, which would keep the port bound after exit and make an
            // immediate restart fail. shutdown() stops listening at once.
            // SAFETY: our listening socket.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
                libc::close(fd);
            }
        }
        for slot in self.conns.iter_mut() {
            if let Some(c) = slot.take() {
                if !c.out.is_empty() && !c.send_inflight {
                    socket::write_best_effort(c.fd, &c.out);
                }
                // SAFETY: our socket; the ring is dropped right after.
                unsafe { libc::close(c.fd) };
            }
        }
    }
}

/// In cluster mode Redis counts two bus links per other known node against maxclients and
/// says so in its refusal; standalone, only clients count.
fn cluster_links(map: &crate::cluster::slot_map::SlotMap) -> (usize, &'static [u8]) {
    if !map.cluster_enabled {
        return (0, b"-ERR max number of clients reached\r\n");
    }
    // Node table slots of forgotten nodes are left empty.
    let nodes = map.addrs.iter().filter(|a| !a.is_empty()).count();
    (
        2 * nodes.saturating_sub(1),
        b"-ERR max number of clients + cluster connections reached\r\n",
    )
}

/// Redis' verbose log line for a protocol error: the reason, who sent it, and a sample of
/// the query buffer from the failing header (non-printable bytes shown as '.').
fn log_protocol_error(shard: &Shard, client: usize, text: &str, sample: &[u8]) {
    let (id, addr, laddr) = match shard.clients.get(client) {
        Some(c) => (c.id, c.addr.as_str(), c.laddr.as_str()),
        None => (0, "?", "?"),
    };
    let printable = |part: &[u8]| -> String {
        part.iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect()
    };
    // As Redis: all of it when short, else both ends around the count of what is left out.
    let shown = if sample.len() < PROTO_DUMP_BYTES {
        format!("'{}'", printable(sample))
    } else {
        let half = PROTO_DUMP_BYTES / 2;
        format!(
            "'{}' (... more {} bytes ...) '{}'",
            printable(&sample[..half]),
            sample.len() - PROTO_DUMP_BYTES,
            printable(&sample[sample.len() - half..])
        )
    };
    crate::log::verbose(&format!(
        "Protocol error ({}) from client: id={id} addr={addr} laddr={laddr}. Query buffer \
         during protocol error: {shown}",
        crate::resp::parse::error_log_tag(text)
    ));
}

/// A write command (held while a master is paused for a manual failover).
fn is_write(args: Args<'_>) -> bool {
    crate::commands::lookup(args.get(0))
        .is_some_and(|s| s.flags & crate::commands::flags::WRITE != 0)
}

/// Runs one parsed command for connection `conn`: here, or queued for its owner shard.
fn run_command(
    shard: &mut Shard,
    conn: &mut Conn,
    idx: usize,
    args: Args<'_>,
    outbox: &mut [Requests],
    now_ms: u64,
) {
    let client = conn.client;
    let proto = shard.clients.get_mut(client).proto;
    // Any reply byte not taken by the kernel yet counts: a remote reply waiting, a send in
    // flight, or input held back behind unsent output (the handler checks its own buffer).
    shard.replies_ahead =
        !conn.pending.is_empty() || conn.send_inflight || conn.input_behind_output;
    let plan = {
        let target = conn.reply_target();
        let mut out = Out::new(target, proto);
        exec::plan(shard, client, args, &mut out, now_ms)
    };
    match plan {
        Plan::Done(AfterReply::Nothing) => {}
        Plan::Done(AfterReply::Close) | Plan::Done(AfterReply::Shutdown) => conn.closing = true,
        Plan::Remote {
            shard: to,
            spec,
            keys,
            owner_checks,
        } => {
            let seq = conn.reserve_remote();
            let cref = ConnRef {
                idx: idx as u32,
                gen: conn.gen,
            };
            outbox[to].push(cref, seq, spec, keys, proto, owner_checks, args);
        }
        Plan::Wait(w) => {
            let seq = conn.reserve_remote();
            let cref = ConnRef {
                idx: idx as u32,
                gen: conn.gen,
            };
            shard.repl.waits.push((cref, seq, w));
            shard
                .global
                .repl
                .waits_pending
                .fetch_add(1, Ordering::AcqRel);
        }
        Plan::Blocked { spec, poll_shards } => {
            let Some(req) = shard.block_request.take() else {
                return;
            };
            let seq = conn.reserve_remote();
            let cref = ConnRef {
                idx: idx as u32,
                gen: conn.gen,
            };
            shard.blocked.add(Waiter {
                home: shard.id,
                conn: cref,
                seq,
                spec,
                args: args.to_owned(),
                proto,
                keys: req.keys,
                deadline_ms: req.deadline_ms,
                poll_shards,
            });
        }
    }
}
