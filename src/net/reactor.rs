//! The event loop of one shard: a raw io_uring ring with multishot accept and receive into a
//! provided-buffer ring, one send per connection at a time, an eventfd doorbell for the mesh
//! and a cron timer. Each turn: drain the mesh, parse and run every complete command, send
//! cross-shard batches, start sends, then wait once. Never blocks anywhere else.
//!
//! Its duties live beside it, one section per file: the ring operations (`ring_ops.rs`),
//! accepting (`accept_loop.rs`), client input and the command loop (`input_loop.rs`), output
//! limits, blocking commands, Pub/Sub, replication and the AOF (`*_loop.rs`).

use crate::clock::unix_ms;
use crate::commands::AfterReply;
use crate::config::AppendFsync;
use crate::constants::*;
use crate::dispatch::{self as exec, Plan};
use crate::mesh::{ConnRef, Mesh, MeshMsg, RemoteCmd, Replies, Requests};
use crate::net::bufring::BufRing;
use crate::net::conn::Conn;
use crate::net::protected;
use crate::net::socket;
use crate::resp::parse::{decode_inline, QUOTED_FLAG};
use crate::resp::{Args, Out, OwnedArgs, ParseOutcome, Parser};
use crate::shard::blocking::Waiter;
use crate::shard::peers::ShardPeers;
use crate::shard::{Client, Shard};
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use std::cell::RefCell;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "accept_loop.rs"]
mod accept_loop;
#[path = "aof_loop.rs"]
mod aof_loop;
#[path = "blocked_loop.rs"]
mod blocked_loop;
#[path = "input_loop.rs"]
mod input_loop;
#[path = "monitor_loop.rs"]
mod monitor_loop;
#[path = "obuf_loop.rs"]
mod obuf_loop;
#[path = "pubsub_loop.rs"]
mod pubsub_loop;
#[path = "repl_loop.rs"]
mod repl_loop;
#[path = "ring_ops.rs"]
mod ring_ops;
#[path = "script_loop.rs"]
mod script_loop;
#[path = "tracking_loop.rs"]
mod tracking_loop;

use ring_ops::{Op, ENTER_GETEVENTS};

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
    /// An empty buffer for the work list being refilled while it is worked through
    /// (`take_list`): listing connections allocates nothing once the buffers have grown.
    spare_list: Vec<usize>,
    rearm_queue: Vec<usize>,
    close_queue: Vec<usize>,
    cqes: Vec<(u64, i32, u32)>,
    scratch: OwnedArgs,
    /// The look-ahead parser of the batch prefetch (`net::prefetch`).
    ahead: Parser,
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
    /// A script past busy-reply-threshold, continued a slice per turn (`script_loop`).
    script: Option<script_loop::ScriptWait>,
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
            spare_list: Vec::new(),
            rearm_queue: Vec::new(),
            close_queue: Vec::new(),
            cqes: Vec::with_capacity(RING_ENTRIES as usize),
            scratch: OwnedArgs::default(),
            ahead: Parser::new(),
            now_ms: unix_ms(),
            stopping: false,
            bufs_dirty: false,
            expire_behind: false,
            aof: AofLoop::default(),
            obuf: crate::net::obuf::Limits::default(),
            obuf_floor: usize::MAX,
            script: None,
        })
    }

    /// Runs the loop until a Shutdown message arrives.
    pub fn run(mut self) {
        for i in 0..self.listeners.len() {
            self.submit(Op::Accept { listener: i });
        }
        self.submit(Op::Wake);
        self.submit(Op::Timer);
        self.now_ms = unix_ms();
        loop {
            self.refresh_obuf_limits();
            self.drain_inbox();
            // A lent shard stops once the run holding it lets go (it parks for it until then).
            if self.stopping && self.script.as_ref().is_none_or(|w| !w.is_lent()) {
                break;
            }
            self.turn_work();
            self.enter_ring();
            // After the wait, not before it: the commands `reap` runs (and the inbox next
            // turn) must not see the time the shard went to sleep, or a key would outlive its
            // TTL by the length of the sleep.
            self.now_ms = unix_ms();
            self.reap();
        }
        // A run suspended here ends with the loop (its park and token go back), and the shard
        // stays parkable until every loop ended (a lent core's WATCH may still park it).
        self.script = None;
        crate::shard::peers::linger(&self.mesh, &mut self.shard);
        self.shutdown_conns();
    }

    /// Work is left for the next turn, which must then come at once instead of waiting.
    fn work_left(&self) -> bool {
        self.inbox_behind
            || !self.parse_queue.is_empty()
            || self.outbox.iter().any(|o| !o.is_empty())
            || self.reply_box.iter().any(|r| !r.items.is_empty())
            || !self.stash.borrow().is_empty()
            || self.expire_behind
            || self.shard.evict.behind
            || self.script.as_ref().is_some_and(|w| !w.is_lent())
            || self.shard.repl.snaps.iter().any(|s| s.wants_turns())
            || self
                .shard
                .aof
                .rewrite
                .as_ref()
                .is_some_and(|r| !r.finishing)
    }

    /// Submits everything queued and, when no work is left, sleeps until a completion. The
    /// shard announces its sleep first so that peers ring its doorbell.
    fn enter_ring(&mut self) {
        let id = self.shard.id;
        let want = if self.work_left() {
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
            self.ring
                .submitter()
                .enter::<libc::sigset_t>(to_submit, want, ENTER_GETEVENTS, None)
        };
        self.mesh.inboxes[id]
            .sleeping
            .store(false, Ordering::SeqCst);
        if let Err(e) = r {
            if e.raw_os_error() != Some(libc::EINTR) && e.raw_os_error() != Some(libc::EBUSY) {
                crate::log::warning(&format!("shard {id}: io_uring_enter failed: {e}"));
            }
        }
    }

    /// Work done once per turn after the mesh is drained.
    fn turn_work(&mut self) {
        crate::replication::turn_start(&mut self.shard);
        self.parse_listed();
        self.script_turn();
        // Nothing may change or wake on the keyspace under a suspended script.
        if self.script.is_none() {
            if self.expire_behind {
                self.expire_cycle(Duration::from_micros(EXPIRE_FAST_BUDGET_US));
            }
            if self.shard.evict.behind {
                crate::shard::evict::catch_up(&mut self.shard, self.now_ms);
            }
            self.serve_blocked();
        }
        self.publish_outgoing();
        self.monitor_outgoing();
        self.repl_turn();
        self.aof_turn();
        self.flush_outboxes();
        // After the replies: an invalidation follows the reply of the command that caused it.
        self.deliver_invalidations();
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

    /// Runs the held-back input of every connection listed for parsing.
    fn parse_listed(&mut self) {
        let queue = take_list(&mut self.parse_queue, &mut self.spare_list);
        let limits = self.limits();
        for &idx in &queue {
            if let Some(c) = self.conns[idx].as_mut() {
                c.in_parse_queue = false;
            }
            self.process_input(idx, None, &limits);
        }
        self.spare_list = queue;
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
        let msg = match self.script {
            None => msg,
            Some(_) => match self.defer_while_busy(msg) {
                Some(m) => m,
                None => return,
            },
        };
        match msg {
            MeshMsg::Requests { from, batch } => self.serve_requests(from, batch),
            MeshMsg::Replies(r) => self.take_replies(r),
            MeshMsg::Park(slot) => {
                crate::shard::peers::park_here(&slot, &mut self.shard);
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
                self.finish_inline();
                b.done.fetch_add(1, Ordering::Release);
            }
            // Written at once: ahead of the replies of commands read after it.
            MeshMsg::Invalidate(list) => {
                self.shard.tracking.outbox.extend(*list);
                self.deliver_invalidations();
            }
            MeshMsg::DropConn { home, conn } => self.shard.blocked.drop_conn(home, conn),
            MeshMsg::Publish(m) => self.deliver_message(&m.0, &m.1),
            MeshMsg::ShardPublish(m) => self.deliver_shard_message(&m.0, &m.1),
            MeshMsg::Monitor(lines) => self.deliver_monitor_lines(&lines),
            MeshMsg::Conn(nc) => self.register(nc.fd),
            MeshMsg::Shutdown => self.stopping = true,
        }
    }

    /// Another shard may have changed our clients (CLIENT KILL) while we were parked.
    fn after_park(&mut self) {
        self.reap_killed();
        self.lent_check();
    }

    pub(super) fn reap_killed(&mut self) {
        for idx in 0..self.conns.len() {
            let Some(c) = self.conns[idx].as_mut() else {
                continue;
            };
            let killed = self.shard.clients.get(c.client).is_some_and(|cl| cl.kill);
            if killed && !c.is_dead() {
                c.kill();
                self.close_queue.push(idx);
            }
        }
    }

    fn serve_requests(&mut self, from: usize, batch: Requests) {
        let now = self.now_ms;
        for c in &batch.cmds {
            if self.script.is_some() && self.hold_request(from, &batch, c) {
                continue;
            }
            let replies = &mut self.reply_box[from];
            let args = batch.args(c);
            let mut out = Out::new(&mut replies.data, c.proto);
            let keys = exec::Keys::given(&c.keys);
            let spec = crate::commands::spec_of(c.cmd);
            self.shard.sel = c.db;
            // Whose command this is, for the slow log (issue 17 part A; a plain store).
            self.shard.running_for = crate::shard::latency::RunningFor::Remote {
                home: from,
                idx: c.conn.idx,
                gen: c.conn.gen,
            };
            self.shard.tracking.current = c.client;
            self.shard.tracking.current_home = from;
            exec::run_client_key(
                &mut self.shard,
                spec,
                args,
                keys,
                &mut out,
                now,
                c.owner_checks,
            );
            self.shard.tracking.current = 0;
            if let Some(req) = self.shard.block_request.take() {
                // Nothing to pop yet: the command waits here; its reply comes later.
                self.shard.blocked.add(Waiter {
                    home: from,
                    conn: c.conn,
                    seq: c.seq,
                    cmd: c.cmd,
                    args: req.args.unwrap_or_else(|| args.to_owned()),
                    proto: c.proto,
                    keys: req.keys,
                    db: c.db,
                    deadline_ms: req.deadline_ms,
                    poll_shards: None,
                });
                continue;
            }
            if self.shard.suspended.is_some() {
                // Past the threshold: the reply comes when the script ends.
                let w = script_loop::ScriptWait::take(&mut self.shard, from, c.conn, c.seq);
                self.script = Some(w);
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
            if self.fill_reply(cref, seq, data) {
                self.check_appended(cref.idx as usize);
            }
        }
    }

    /// Puts a reply computed elsewhere (another shard, a woken waiter, WAIT) into its chunk of
    /// connection `cref`, lists the connection for sending, and for parsing when input waits
    /// behind that reply. False when the connection is gone.
    fn fill_reply(&mut self, cref: ConnRef, seq: u64, data: &[u8]) -> bool {
        let idx = cref.idx as usize;
        let Some(c) = conn_at(&mut self.conns, cref) else {
            return false;
        };
        c.fill_remote(seq, data);
        if !c.rbuf.is_empty() {
            c.enlist_parse(&mut self.parse_queue, idx);
        }
        c.enlist_send(&mut self.send_queue, idx);
        true
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
        let queue = take_list(&mut self.send_queue, &mut self.spare_list);
        for &idx in &queue {
            let Some(c) = self.conns[idx].as_mut() else {
                continue;
            };
            c.in_send_queue = false;
            if c.is_dead() {
                continue;
            }
            self.after_buffers_moved(idx);
            let Some(c) = self.conns[idx].as_mut().filter(|c| !c.is_dead()) else {
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
                let gen = c.gen;
                self.submit(Op::Send { conn: idx, gen });
            } else if c.is_closing() && !c.send_inflight && c.out.is_empty() && c.pending.is_empty()
            {
                self.close_queue.push(idx);
            }
        }
        self.spare_list = queue;
    }

    fn on_send(&mut self, idx: usize, gen: u32, res: i32) {
        let cref = ConnRef {
            idx: idx as u32,
            gen,
        };
        let Some(c) = conn_at(&mut self.conns, cref) else {
            return;
        };
        c.send_inflight = false;
        if res < 0 {
            c.kill();
            self.close_queue.push(idx);
            return;
        }
        self.shard.stats.net_output_bytes += res as u64;
        self.shard.stats.writes_processed += 1;
        c.send_off += res as usize;
        self.after_buffers_moved(idx);
        let Some(c) = self.conns[idx].as_mut() else {
            return;
        };
        if c.is_dead() {
            // Closed for its output limits, now or while this send was in flight (when its
            // close attempt had to wait for this completion): close it now.
            self.close_queue.push(idx);
            return;
        }
        if c.send_off < c.sending.len() {
            let gen = c.gen;
            self.submit(Op::Send { conn: idx, gen });
            return;
        }
        c.sending.clear();
        if c.sending.capacity() > CONN_OUT_PAUSE_BYTES {
            c.sending = Vec::new();
        }
        c.send_off = 0;
        if !c.out.is_empty() || c.is_closing() {
            c.enlist_send(&mut self.send_queue, idx);
        }
        // Output drained: resume parsing what was held back.
        if !c.rbuf.is_empty() && !c.is_closing() {
            c.enlist_parse(&mut self.parse_queue, idx);
        }
    }

    /// Closes connection `idx` once no operation on it is in flight.
    fn try_close(&mut self, idx: usize) {
        let Some(c) = self.conns.get_mut(idx).and_then(|c| c.as_mut()) else {
            return;
        };
        if !c.is_dead() && (!c.out.is_empty() || !c.pending.is_empty() || c.send_inflight) {
            return; // still flushing; the send completion brings us back
        }
        if c.send_inflight {
            return;
        }
        if c.recv_armed {
            c.kill();
            let gen = c.gen;
            self.submit(Op::CancelRecv { conn: idx, gen });
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
        crate::shard::tracking::disable(&mut self.shard, client);
        crate::shard::monitors::stop(&mut self.shard, client);
        self.conns[idx] = None;
        self.free.push(idx);
        // SAFETY: our own socket; its Conn is gone and no operation references it any more.
        let _ = unsafe { crate::sys::close(fd) };
        self.shard.clients.remove(client);
        self.shard
            .global
            .connected_clients
            .fetch_sub(1, Ordering::SeqCst);
    }

    fn cron(&mut self) {
        self.now_ms = unix_ms();
        let s = &mut self.shard.stats;
        let totals = [s.commands_processed, s.net_input_bytes, s.net_output_bytes];
        s.instant.sample(self.now_ms, totals);
        let paused_until = crate::shard::pause::until_ms(&self.shard.global);
        if !self.write_paused.is_empty() && paused_until <= self.now_ms {
            // Still flagged in_parse_queue: they go straight back to parsing.
            let held = std::mem::take(&mut self.write_paused);
            self.parse_queue.extend(held);
        }
        self.resume_accepts();
        self.blocked_cron();
        self.repl_cron();
        self.aof_cron();
        crate::rdb_save::background::cron(&mut self.shard, self.now_ms);
        if self.script.is_none() {
            self.expire_cycle(Duration::from_micros(EXPIRE_CYCLE_BUDGET_US));
            crate::shard::evict::cron(&mut self.shard, self.now_ms);
        }
        self.reap_killed();
        crate::shard::tracking::cron(&mut self.shard);
        if self.shard.id == 0 {
            // used_memory_peak, sampled like Redis' cron (one shard suffices: it is global).
            crate::sys::alloc::sample_peak();
        }
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
                        c.kill();
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
        // DEBUG SET-ACTIVE-EXPIRE 0 (issue 17 part A): keys expire only when accessed.
        if !self.shard.global.active_expire.load(Ordering::Relaxed) {
            return;
        }
        let started = Instant::now();
        let deadline = started + budget;
        let shard = &mut self.shard;
        let mut run =
            shard
                .db
                .active_expire(&mut shard.rng, self.now_ms, EXPIRE_SAMPLE_KEYS, deadline);
        // The other databases in use get the same cycle (Redis walks every database).
        let rng = &mut shard.rng;
        for (_, db) in shard.dbs.each_mut() {
            if db.volatile_len() > 0 {
                let r = db.active_expire(rng, self.now_ms, EXPIRE_SAMPLE_KEYS, deadline);
                run.expired += r.expired;
                run.sampled += r.sampled;
            }
        }
        crate::replication::journal_expired(&mut self.shard);
        self.expire_behind = Instant::now() >= deadline && run.expired > 0;
        // The latency monitor's `expire-cycle` event (issue 17 part A), as Redis records it.
        let ms = started.elapsed().as_millis() as u64;
        self.shard.global.observe.latency_sample("expire-cycle", ms);
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
            let _ = crate::sys::shutdown(fd);
            // SAFETY: the shard's own listening socket, closed once as the loop ends.
            let _ = unsafe { crate::sys::close(fd) };
        }
        for slot in self.conns.iter_mut() {
            if let Some(c) = slot.take() {
                if !c.out.is_empty() && !c.send_inflight {
                    socket::write_best_effort(c.fd, &c.out);
                }
                // SAFETY: the connection's own socket, closed once as the loop ends; the ring
                // is dropped right after.
                let _ = unsafe { crate::sys::close(c.fd) };
            }
        }
    }
}

/// Takes the entries of work list `list`, which gets the `spare` buffer (emptied) in their
/// place; the caller gives the taken buffer back as the next spare once done with it.
fn take_list(list: &mut Vec<usize>, spare: &mut Vec<usize>) -> Vec<usize> {
    spare.clear();
    std::mem::replace(list, std::mem::take(spare))
}

/// Connection `cref` of `conns`, unless its slot was freed or reused since.
fn conn_at(conns: &mut [Option<Conn>], cref: ConnRef) -> Option<&mut Conn> {
    let c = conns.get_mut(cref.idx as usize)?.as_mut()?;
    (c.gen == cref.gen).then_some(c)
}

/// A write command (held while a master is paused for a manual failover).
/// Runs one parsed command for connection `conn`: here, or queued for its owner shard.
/// True when the command is a script that yielded past busy-reply-threshold (now in
/// `script`): the connection runs nothing more until it ends.
fn run_command(
    shard: &mut Shard,
    conn: &mut Conn,
    idx: usize,
    args: Args<'_>,
    outbox: &mut [Requests],
    script: &mut Option<script_loop::ScriptWait>,
    now_ms: u64,
) -> bool {
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
        Plan::Suspended => {
            let seq = conn.reserve_remote();
            let cref = ConnRef {
                idx: idx as u32,
                gen: conn.gen,
            };
            let home = shard.id;
            *script = Some(script_loop::ScriptWait::take(shard, home, cref, seq));
            conn.script_held = true;
            return true;
        }
        Plan::Done(AfterReply::Close) | Plan::Done(AfterReply::Shutdown) => {
            conn.close_after_reply()
        }
        Plan::Remote {
            shard: to,
            spec,
            keys,
            owner_checks,
            client: tracked,
        } => {
            let seq = conn.reserve_remote();
            let cref = ConnRef {
                idx: idx as u32,
                gen: conn.gen,
            };
            let db = shard.sel;
            let b = &mut outbox[to];
            b.push(
                cref,
                seq,
                spec.id,
                keys,
                proto,
                owner_checks,
                db,
                tracked,
                args,
            );
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
                return false;
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
                cmd: spec.id,
                args: req.args.unwrap_or_else(|| args.to_owned()),
                proto,
                keys: req.keys,
                db: shard.sel,
                deadline_ms: req.deadline_ms,
                poll_shards,
            });
        }
    }
    false
}
