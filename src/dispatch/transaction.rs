//! EXEC's second half: running a transaction's queue back to back once the EXEC command
//! accepted it (`ConnCtx::run_queue`), with every shard its keys (and watched keys) live on
//! parked, so it is atomic and isolated like Redis' single thread.

use super::{reply_error, run_key, run_parked, script};
use crate::cluster::hash_slot::key_hash_slot;
use crate::command_id::CommandId;
use crate::commands::{spec_of, AfterReply, CommandSpec, ConnCtx, Handler, QueuedTx};
use crate::resp::{Args, Out, Proto, ReplyError};
use crate::shard::{MultiState, Shard, WatchState};
use crate::topology::shard_of;
use std::sync::atomic::Ordering;

/// Runs the queue of an accepted EXEC for client `client_idx`: the reply array (or the null
/// reply when a watched key changed) goes to `buf`.
pub(super) fn run_queue(
    sh: &mut Shard,
    client_idx: usize,
    tx: &QueuedTx,
    buf: &mut Vec<u8>,
    proto: Proto,
    now: u64,
) {
    // Blocking commands inside EXEC answer at once (as in Redis).
    sh.no_block = true;
    let (m, watch) = (&tx.multi, tx.watch.as_ref());
    let ids = exec_shards(sh, &m.queued, watch);
    if ids.len() == 1 {
        if watch_broken(watch, now, &mut |key, db| sh.db_at(db).contains(key, now)) {
            Out::new(buf, proto).null_array();
        } else {
            // Two or more writes are journaled as one MULTI/EXEC block, as Redis propagates.
            let mark = sh.journal.begin_block();
            Out::new(buf, proto).array(m.queued.len());
            for &(id, ref args) in &m.queued {
                let spec = spec_of(id);
                // A SELECT queued earlier in the transaction changed the client's database.
                sh.sel = sh.clients.get(client_idx).map_or(0, |c| c.db);
                run_local(sh, client_idx, spec, args.args(), buf, proto, now);
            }
            sh.journal.end_block(mark);
        }
    } else if let Some(e) = crate::commands::busy::refusal_among(&sh.global, &ids) {
        // Parking a shard whose script is past busy-reply-threshold would show it half-run:
        // refused as Redis refuses EXEC while busy.
        let text = format!("EXECABORT Transaction discarded because of: {}", e.text());
        reply_error(sh, &mut Out::new(buf, proto), &ReplyError::Other(text));
    } else {
        run_parked_queue(sh, client_idx, m, watch, &ids, buf, proto, now);
    }
    sh.no_block = false;
}

/// The queue of an EXEC whose keys span shards, with those shards parked.
#[allow(clippy::too_many_arguments)]
fn run_parked_queue(
    sh: &mut Shard,
    client_idx: usize,
    m: &MultiState,
    watch: Option<&WatchState>,
    ids: &[usize],
    buf: &mut Vec<u8>,
    proto: Proto,
    now: u64,
) {
    let always = sh
        .global
        .cfg(|c| c.appendfsync == crate::config::AppendFsync::Always);
    let parked = sh.try_with_parked(ids, &mut |this, mut peers| {
        let n = this.shards;
        let me = this.id;
        let mut exists = |key: &[u8], db: u32| {
            let id = shard_of(key_hash_slot(key), n);
            let sh = if id == me {
                &mut *this
            } else {
                // `ids` covers the watched keys' shards.
                peers.get(id).expect("a watched key's shard is parked")
            };
            sh.db_at(db).contains(key, now)
        };
        if watch_broken(watch, now, &mut exists) {
            Out::new(buf, proto).null_array();
            return;
        }
        // Each shard's writes are one block; parked peers write their journals once the
        // blocks are closed (before the reply, under `always`).
        let mark = this.journal.begin_block();
        let peer_marks: Vec<_> = peers
            .iter_mut()
            .map(|p| (p.id, p.journal.begin_block()))
            .collect();
        Out::new(buf, proto).array(m.queued.len());
        for &(id, ref args) in &m.queued {
            let spec = spec_of(id);
            this.sel = this.clients.get(client_idx).map_or(0, |c| c.db);
            match spec.handler {
                Handler::Script(cmd) => {
                    let args = args.args();
                    script::run_in_section(this, &mut peers, cmd, spec, args, buf, proto, now);
                }
                Handler::Key(_) => {
                    let r = run_parked(this, &mut peers, spec, args.args(), buf, proto, now, None);
                    if let Err(e) = r {
                        reply_error(this, &mut Out::new(buf, proto), &e);
                    }
                    this.count_call(spec.id, 0, false, false);
                }
                _ => run_local(this, client_idx, spec, args.args(), buf, proto, now),
            }
        }
        this.journal.end_block(mark);
        for (id, m) in peer_marks {
            if let Some(p) = peers.get(id) {
                p.journal.end_block(m);
            }
        }
        super::flush_parked(&mut peers, always);
    });
    if let Err(busy) = parked {
        // A shard became busy after `run_queue` checked: nothing ran.
        let text = format!(
            "EXECABORT Transaction discarded because of: {}",
            busy.text()
        );
        reply_error(sh, &mut Out::new(buf, proto), &ReplyError::Other(text));
    }
}

/// Shards an EXEC must hold: those of the queued keys and of the watched keys, this one, and
/// every shard when a queued command may fan out.
fn exec_shards(
    sh: &Shard,
    queued: &[(CommandId, crate::resp::OwnedArgs)],
    watch: Option<&WatchState>,
) -> Vec<usize> {
    let n = sh.shards;
    // A script may reach keys it did not declare: it holds every shard too.
    // So does a command whose keys are named by data (SORT's BY/GET patterns).
    let reaches_any = |id: CommandId, args: &crate::resp::OwnedArgs| {
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
