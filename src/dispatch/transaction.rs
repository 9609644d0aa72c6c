//! EXEC's second half: running a transaction's queue back to back once the EXEC command
//! accepted it (`ConnCtx::run_queue`), with every shard its keys (and watched keys) live on
//! parked, so it is atomic and isolated like Redis' single thread. A script of the queue
//! past busy-reply-threshold suspends the whole EXEC at that command (`ExecRun`): the park is
//! held until the EXEC ends, so nothing sees it half-run.

use super::{reply_error, run_key, run_parked, script};
use crate::aof_store::journal::BlockMark;
use crate::cluster::hash_slot::key_hash_slot;
use crate::command_id::CommandId;
use crate::commands::{spec_of, AfterReply, CommandSpec, ConnCtx, Handler, QueuedTx};
use crate::resp::{Args, Out, OwnedArgs, Proto, ReplyError};
use crate::shard::peers::Held;
use crate::shard::suspended::Suspended;
use crate::shard::{Shard, WatchState};
use crate::topology::shard_of;
use std::sync::atomic::Ordering;

/// Runs the queue of an accepted EXEC for client `client_idx`: the reply array (or the null
/// reply when a watched key changed) goes to `buf`, or, when a script of the queue left the
/// core past busy-reply-threshold, the rest of the EXEC is left in `sh.suspended` (the
/// dispatcher answers `Plan::Suspended`) and its reply comes when it ends.
pub(super) fn run_queue(
    sh: &mut Shard,
    client_idx: usize,
    tx: QueuedTx,
    buf: &mut Vec<u8>,
    proto: Proto,
    now: u64,
) {
    // A script may leave the core unless the caller cannot continue it (the AOF loader,
    // whose setting is put back at the end).
    let outer_no_block = sh.no_block;
    let may_yield = !outer_no_block;
    // Blocking commands inside EXEC answer at once (as in Redis).
    sh.no_block = true;
    let ids = exec_shards(sh, &tx.multi.queued, tx.watch.as_ref());
    let run = if ids.len() == 1 {
        let watch = tx.watch.as_ref();
        if watch_broken(watch, now, &mut |key, db| sh.db_at(db).contains(key, now)) {
            Out::new(buf, proto).null_array();
            None
        } else {
            Some(ExecRun::new(sh, client_idx, tx, None, proto, may_yield))
        }
    } else if let Some(e) = crate::commands::busy::refusal_among(&sh.global, &ids) {
        // Parking a shard whose script is past busy-reply-threshold would show it half-run:
        // refused as Redis refuses EXEC while busy.
        execabort(sh, &e, buf, proto);
        None
    } else {
        park_for(sh, client_idx, tx, &ids, buf, proto, now, may_yield)
    };
    if let Some(mut run) = run {
        let start = buf.len();
        Out::new(buf, proto).array(run.queued.len());
        if run.advance(sh, buf, now) {
            run.finish(sh);
        } else {
            // What the queue answered so far waits in the run with the rest of its reply.
            run.reply = buf.split_off(start);
            run.since = Some(std::time::Instant::now());
            run.leave(sh);
            sh.suspended = Some(Box::new(Suspended {
                resume: Box::new(move |sh, out, _now_ms| run.slice(sh, out, now)),
                proto,
            }));
        }
    }
    sh.no_block = outer_no_block;
}

/// EXECABORT naming the busy shard that refused the transaction's park.
fn execabort(sh: &mut Shard, busy: &ReplyError, buf: &mut Vec<u8>, proto: Proto) {
    let text = format!(
        "EXECABORT Transaction discarded because of: {}",
        busy.text()
    );
    reply_error(sh, &mut Out::new(buf, proto), &ReplyError::Other(text));
}

/// Parks the shards `ids` for an EXEC whose keys span them: the run to start, or none when
/// the reply is written already (a busy shard refused, or a watched key changed).
#[allow(clippy::too_many_arguments)]
fn park_for(
    sh: &mut Shard,
    client_idx: usize,
    tx: QueuedTx,
    ids: &[usize],
    buf: &mut Vec<u8>,
    proto: Proto,
    now: u64,
    may_yield: bool,
) -> Option<ExecRun> {
    let mut held = match sh.hold(ids) {
        Ok(h) => h,
        Err(busy) => {
            // A shard became busy after `run_queue` checked: nothing ran.
            execabort(sh, &busy, buf, proto);
            return None;
        }
    };
    let (n, me) = (sh.shards, sh.id);
    let mut peers = held.view();
    let mut exists = |key: &[u8], db: u32| {
        let id = shard_of(key_hash_slot(key), n);
        let s = if id == me {
            &mut *sh
        } else {
            // `ids` covers the watched keys' shards.
            peers.get(id).expect("a watched key's shard is parked")
        };
        s.db_at(db).contains(key, now)
    };
    if watch_broken(tx.watch.as_ref(), now, &mut exists) {
        Out::new(buf, proto).null_array();
        sh.set_parked(None);
        return None;
    }
    Some(ExecRun::new(
        sh,
        client_idx,
        tx,
        Some(held),
        proto,
        may_yield,
    ))
}

/// An accepted EXEC, run a command at a time so that a script of its queue can leave the
/// core past busy-reply-threshold: the run then waits in `Shard::suspended` (the event loop
/// continues it a slice per turn, as a suspended script), holding its park, its journal
/// blocks and the reply array so far, and goes on with the next command once the script ends.
struct ExecRun {
    /// The script of the queue that left the core, if any. Declared before `held`: it uses
    /// the parked peers, so it must be dropped first.
    script: Option<Box<Suspended>>,
    queued: Vec<(CommandId, OwnedArgs)>,
    /// The next command of `queued` to run.
    next: usize,
    client_idx: usize,
    /// The client's id: its slot may be reused by another client if it left meanwhile.
    client_id: u64,
    /// The database in effect (a queued SELECT changes it).
    db: u32,
    proto: Proto,
    may_yield: bool,
    /// The reply array so far, once the run was suspended.
    reply: Vec<u8>,
    /// This shard's journal block: the EXEC's writes are one MULTI/EXEC block.
    mark: Option<BlockMark>,
    /// Over several shards: the others, parked until the EXEC ends, and their blocks.
    held: Option<Held>,
    peer_marks: Vec<(usize, BlockMark)>,
    /// When it left the core: EXEC's time in INFO commandstats covers the wait, as Redis'.
    since: Option<std::time::Instant>,
}

impl ExecRun {
    fn new(
        sh: &mut Shard,
        client_idx: usize,
        tx: QueuedTx,
        mut held: Option<Held>,
        proto: Proto,
        may_yield: bool,
    ) -> ExecRun {
        let (client_id, db) = sh.clients.get(client_idx).map_or((0, 0), |c| (c.id, c.db));
        // Each shard's writes are one block; parked peers write their journals once the
        // blocks are closed (before the reply, under `always`).
        let mark = Some(sh.journal.begin_block());
        let peer_marks = held.as_mut().map_or_else(Vec::new, |h| {
            h.view()
                .iter_mut()
                .map(|p| (p.id, p.journal.begin_block()))
                .collect()
        });
        ExecRun {
            script: None,
            queued: tx.multi.queued,
            next: 0,
            client_idx,
            client_id,
            db,
            proto,
            may_yield,
            reply: Vec::new(),
            mark,
            held,
            peer_marks,
            since: None,
        }
    }

    /// The EXEC's client, unless it left.
    fn client_here(&self, sh: &Shard) -> bool {
        sh.clients
            .get(self.client_idx)
            .is_some_and(|c| c.id == self.client_id)
    }

    /// Runs the queue on from `next`, replies into `buf`: true at its end, false when a
    /// script left the core (it is in `script` then).
    fn advance(&mut self, sh: &mut Shard, buf: &mut Vec<u8>, now: u64) -> bool {
        while let Some((id, args)) = self.queued.get(self.next) {
            self.next += 1;
            let spec = spec_of(*id);
            let here = self.client_here(sh);
            if here {
                // A SELECT queued earlier in the transaction changed the client's database.
                self.db = sh.clients.get(self.client_idx).map_or(self.db, |c| c.db);
            }
            sh.sel = self.db;
            let (args, proto) = (args.args(), self.proto);
            let mut view = self.held.as_mut().map(Held::view);
            match (spec.handler, view.as_mut()) {
                (Handler::Script(cmd), peers) => {
                    let y = self.may_yield;
                    script::run_in_exec(sh, peers, y, cmd, spec, args, buf, proto, now);
                }
                (Handler::Key(_), Some(peers)) => {
                    let r = run_parked(sh, peers, spec, args, buf, proto, now, None);
                    if let Err(e) = r {
                        reply_error(sh, &mut Out::new(buf, proto), &e);
                    }
                    sh.count_call(spec.id, 0, false, false);
                }
                // A connection command of a client that left has no one to act on.
                (Handler::Conn(_), _) if !here => Out::new(buf, proto).null(),
                _ => run_local(sh, self.client_idx, spec, args, buf, proto, now),
            }
            if let Some(s) = sh.suspended.take() {
                self.script = Some(s);
                return false;
            }
        }
        true
    }

    /// Between two slices: the shards it holds show busy, as a suspended multi-shard run's,
    /// and serve their own clients meanwhile (`Held::lend`).
    fn leave(&mut self, sh: &mut Shard) {
        if let Some(h) = self.held.as_mut() {
            let ctl = &sh.global.script_runs[sh.id];
            script::lend_busy(&sh.global, ctl, h);
            script::lend(sh, h);
        }
    }

    /// One turn of a suspended EXEC: a slice of its script, and the rest of the queue once
    /// the script ended. True when the EXEC ended (its reply array is then in `out`).
    fn slice(&mut self, sh: &mut Shard, out: &mut Out<'_>, now: u64) -> bool {
        if let Some(h) = self.held.as_mut() {
            script::recall(sh, h);
        }
        let no_block = std::mem::replace(&mut sh.no_block, true);
        let mut reply = std::mem::take(&mut self.reply);
        let ended = self.go_on(sh, &mut reply, now);
        if ended {
            out.buf.extend_from_slice(&reply);
            self.finish(sh);
            if let (Some(t), Some(exec)) = (self.since, crate::commands::lookup(b"exec")) {
                sh.stats.cmd.entry(exec.id).nsec += t.elapsed().as_nanos() as u64;
            }
        } else {
            self.reply = reply;
            self.leave(sh);
        }
        sh.no_block = no_block;
        ended
    }

    fn go_on(&mut self, sh: &mut Shard, reply: &mut Vec<u8>, now: u64) -> bool {
        if let Some(s) = self.script.as_mut() {
            if !(s.resume)(sh, &mut Out::new(reply, self.proto), now) {
                return false;
            }
            self.script = None;
        }
        self.advance(sh, reply, now)
    }

    /// Closes the journal blocks and releases the parked shards.
    fn finish(&mut self, sh: &mut Shard) {
        if let Some(mark) = self.mark.take() {
            sh.journal.end_block(mark);
        }
        let Some(mut held) = self.held.take() else {
            return;
        };
        let always = sh
            .global
            .cfg(|c| c.appendfsync == crate::config::AppendFsync::Always);
        let mut view = held.view();
        for (id, m) in self.peer_marks.drain(..) {
            if let Some(p) = view.get(id) {
                p.journal.end_block(m);
            }
        }
        super::flush_parked(&mut view, always);
        // Before they resume: their own clients must not see -BUSY for this EXEC.
        for p in view.iter() {
            sh.global.script_runs[p.id]
                .busy
                .store(false, Ordering::Release);
        }
        sh.set_parked(None);
        // Dropping `held` releases the parked shards and the token.
    }
}

/// Shards an EXEC must hold: those of the queued keys and of the watched keys, this one, and
/// every shard when a queued command may fan out.
fn exec_shards(
    sh: &Shard,
    queued: &[(CommandId, OwnedArgs)],
    watch: Option<&WatchState>,
) -> Vec<usize> {
    let n = sh.shards;
    // A script may reach keys it did not declare: it holds every shard too.
    // So does a command whose keys are named by data (SORT's BY/GET patterns).
    let reaches_any = |id: CommandId, args: &OwnedArgs| {
        spec_of(id)
            .line_reaches_any_key
            .is_some_and(|f| f(args.args()))
    };
    if queued.iter().any(|(id, args)| {
        matches!(spec_of(*id).handler, Handler::Conn(_) | Handler::Script(_))
            || reaches_any(*id, args)
    }) {
        return (0..n).collect();
    }
    let mut ids = vec![sh.id];
    let mut add = |key: &[u8]| {
        let id = shard_of(key_hash_slot(key), n);
        if !ids.contains(&id) {
            ids.push(id);
        }
    };
    for &(id, ref args) in queued {
        for &k in spec_of(id).key_idx(args.args()).unwrap_or_default().iter() {
            add(args.args().get(k));
        }
    }
    for (key, _, _) in watch.map(|w| w.keys.as_slice()).unwrap_or_default() {
        add(key);
    }
    ids.sort_unstable();
    ids
}

/// True when a watched key was written, or existed when watched and is gone now (expired).
fn watch_broken(
    watch: Option<&WatchState>,
    _now: u64,
    exists: &mut dyn FnMut(&[u8], u32) -> bool,
) -> bool {
    let Some(w) = watch else { return false };
    if w.touched.load(Ordering::SeqCst) {
        return true;
    }
    w.keys
        .iter()
        .any(|(k, existed, db)| *existed && !exists(k, *db))
}

/// One queued command on this shard: keyed ones through the normal path, others as a
/// connection command.
fn run_local(
    sh: &mut Shard,
    client_idx: usize,
    spec: &'static CommandSpec,
    args: Args<'_>,
    buf: &mut Vec<u8>,
    proto: Proto,
    now: u64,
) {
    match spec.handler {
        Handler::Key(_) | Handler::Script(_) => {
            run_key(sh, spec, args, &mut Out::new(buf, proto), now, None)
        }
        Handler::Conn(f) => {
            let mut cx = ConnCtx {
                now_ms: now,
                out: Out::new(buf, proto),
                shard: sh,
                client_idx,
                after: AfterReply::Nothing,
                run_queue: None,
            };
            let r = f(&mut cx, args);
            if let Err(e) = r {
                reply_error(sh, &mut Out::new(buf, proto), &e);
            }
        }
        Handler::Container => unreachable!("queued commands are resolved"),
    }
}
