//! The dispatcher, between the drivers (the event loop, replication links, AOF loading) and
//! the command handlers: name lookup, subcommands, arity, auth, routing, and running the
//! handler with one `now_ms`. The event loop calls `plan` for each parsed command on the
//! connection's shard and `run_key` on the owner shard (locally or after a hop).

pub mod apply;
pub mod apply_block;
#[cfg(test)]
mod busy_tests;
mod keys;
mod observe;
pub mod replay;
mod script;
#[cfg(test)]
mod tests;
mod transaction;

use crate::commands::busy;
use crate::commands::guards::write_refusal;
pub use keys::Keys;

use crate::commands::{self, AfterReply, CommandSpec, ConnCtx, Exec, Handler};
use crate::constants::ERROR_ARG_ECHO_BYTES;
use crate::resp::error::sanitize_for_error;
use crate::resp::{Args, KeyIdx, Out, Proto, ReplyError};
use crate::route::{self, ClientFlags, CmdFlags, Decision};
use crate::shard::{Parked, Shard};
use crate::topology::ShardId;
use std::time::Instant;

/// What the connection must do with one command.
pub enum Plan {
    /// The reply is written; `after` says what happens to the connection next.
    Done(AfterReply),
    /// Run `spec` on shard `shard` (owner of its keys); `owner_checks` asks the owner to
    /// re-run the slot decision with key presence (slot being migrated).
    Remote {
        shard: ShardId,
        spec: &'static CommandSpec,
        /// Its keys, found here once; they travel with the command.
        keys: KeyIdx,
        owner_checks: Option<ClientFlags>,
        /// The client's id, with `shard::tracking::TRACK_READ` when the owner remembers the
        /// keys of this read for the client's cache.
        client: u64,
    },
    /// A blocking command found nothing: nothing was written; the caller parks it (the
    /// request is in `shard.block_request`). `poll_shards` when its keys span shards.
    Blocked {
        spec: &'static CommandSpec,
        poll_shards: Option<Vec<ShardId>>,
    },
    /// A script ran past `busy-reply-threshold` and yielded: nothing was written; the caller
    /// takes `shard.suspended`, continues it between its other work and replies when it ends.
    Suspended,
    /// WAIT found too few acknowledgements: nothing was written; the caller parks it until
    /// enough replicas acknowledge or the deadline passes.
    Wait(crate::replication::master::WaitReq),
}

fn cmd_flags(spec: &CommandSpec) -> CmdFlags {
    CmdFlags {
        write: spec.is_write(),
        asking: spec.flags & commands::flags::ASKING != 0,
        migrate: spec.name == "migrate",
    }
}

/// Writes an error reply and counts it for INFO errorstats.
pub fn reply_error(sh: &mut Shard, out: &mut Out<'_>, e: &ReplyError) {
    out.error(e);
    count_error(sh, &e.text());
}

/// Counts an error reply (INFO stats `total_error_replies` and errorstats by its code).
pub(crate) fn count_error(sh: &mut Shard, text: &str) {
    sh.stats.error_replies += 1;
    let code = text.split(' ').next().unwrap_or("ERR").to_string();
    *sh.stats.errors.entry(code).or_default() += 1;
}

/// Finds the spec for a command line, resolving containers to their subcommand.
pub fn resolve(args: Args<'_>) -> Result<&'static CommandSpec, ReplyError> {
    let name = args.get(0);
    let Some(spec) = commands::lookup(name) else {
        let shown: Vec<String> = (1..args.len())
            .take(ERROR_ARG_ECHO_BYTES)
            .map(|i| sanitize_for_error(args.get(i)))
            .take_while({
                let mut total = 0usize;
                move |s| {
                    total += s.len();
                    total <= ERROR_ARG_ECHO_BYTES
                }
            })
            .collect();
        return Err(ReplyError::UnknownCommand {
            name: sanitize_for_error(name),
            args: shown,
        });
    };
    if !matches!(spec.handler, Handler::Container) {
        if !spec.arity_ok(args.len()) {
            return Err(ReplyError::Arity(spec.name.to_string()));
        }
        return Ok(spec);
    }
    if args.len() < 2 {
        return Err(ReplyError::Arity(spec.name.to_string()));
    }
    let sub_name = args.get(1);
    let Some(sub) = commands::lookup_sub(spec, sub_name) else {
        return Err(ReplyError::UnknownSubcommand {
            cmd: spec.name.to_uppercase(),
            sub: sanitize_for_error(sub_name),
        });
    };
    if !sub.arity_ok(args.len()) {
        return Err(ReplyError::Arity(commands::full_name(sub).to_string()));
    }
    Ok(sub)
}

/// Plans one command on the connection's shard; writes the reply when it can be done here.
pub fn plan(
    sh: &mut Shard,
    client_idx: usize,
    args: Args<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
) -> Plan {
    let plan = plan_command(sh, client_idx, args, out, now_ms);
    // Client-side caching: what the command caused for its own client follows its reply.
    if !sh.tracking.outbox.is_empty() {
        for f in crate::shard::tracking::take_for_current(sh, client_idx) {
            out.raw(&f);
        }
    }
    // Nothing run outside a client's command (blocked reruns, the replication stream,
    // expiry) is taken for this client's read or write.
    sh.tracking.current = 0;
    plan
}

fn plan_command(
    sh: &mut Shard,
    client_idx: usize,
    args: Args<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
) -> Plan {
    if args.is_empty() {
        return Plan::Done(AfterReply::Nothing);
    }
    let spec = match resolve(args) {
        Ok(s) => s,
        Err(e) => {
            reply_error(sh, out, &e);
            // A refused command inside MULTI dooms the transaction (EXECABORT).
            if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
                m.error = true;
            }
            return Plan::Done(AfterReply::Nothing);
        }
    };
    sh.running_for = crate::shard::latency::RunningFor::Local(client_idx);
    let client = sh.clients.get_mut(client_idx);
    sh.tracking.current = match client.tracking.as_mut() {
        None => client.id,
        Some(t) => client.id | commands::tracking::command_tracks(t, spec, client.multi.is_some()),
    };
    sh.tracking.current_home = sh.id;
    let db = client.db;
    client.last_interaction_ms = now_ms;
    client.last_cmd = commands::full_name(spec);
    // A script may write (WAIT then waits for the stream up to it).
    client.wrote |= spec.is_write() | matches!(spec.handler, Handler::Script(_));
    let needs_auth = !client.authenticated && spec.flags & commands::flags::NO_AUTH == 0;
    let cflags = ClientFlags {
        asking: client.asking,
        readonly: client.readonly,
    };
    if spec.name != "asking" {
        client.asking = false;
    }
    // Rare states read once here: subscribed (RESP2) and inside MULTI.
    let subscribed = client.proto == Proto::Resp2 && client.sub_count() > 0;
    let in_multi = client.multi.is_some();
    sh.sel = db;
    if needs_auth && sh.global.cfg(|c| c.requirepass.is_some()) {
        reply_error(sh, out, &ReplyError::NoAuth);
        count_rejected(sh, spec);
        return Plan::Done(AfterReply::Nothing);
    }
    if spec.flags & commands::flags::PROTECTED != 0 && !protected_allowed(sh, client_idx) {
        reply_error(sh, out, &ReplyError::DebugNotAllowed);
        if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
            m.error = true;
        }
        count_rejected(sh, spec);
        return Plan::Done(AfterReply::Nothing);
    }
    // maxmemory, in Redis' place (after auth, before the write guards). Keyed commands are
    // checked on the shard that owns their keys (`run_client_key`), except inside MULTI.
    let conn_cmd = matches!(spec.handler, Handler::Conn(_));
    if (conn_cmd || in_multi) && sh.global.maxmemory.maxmemory_bytes() != 0 {
        if let Some(e) = oom_refusal(sh, spec, Some(client_idx), now_ms) {
            reply_error(sh, out, &e);
            if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
                m.error = true;
            }
            count_rejected(sh, spec);
            return Plan::Done(AfterReply::Nothing);
        }
    }
    if subscribed && !commands::pubsub::allowed_while_subscribed(spec.name) {
        let name = commands::full_name(spec);
        let e = ReplyError::Other(format!(
            "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
             RESET are allowed in this context"
        ));
        reply_error(sh, out, &e);
        return Plan::Done(AfterReply::Nothing);
    }
    // MONITOR (issue 17 B): a monitor is kept off the keyspace; nothing while none exists.
    if crate::shard::monitors::active(&sh.global) && sh.clients.get_mut(client_idx).monitor {
        if let Some(e) = commands::monitor::monitor_refusal(spec) {
            reply_error(sh, out, &e);
            return Plan::Done(AfterReply::Nothing);
        }
    }
    if spec.is_write() {
        // In cluster mode a keyed command is redirected first (Redis' order); the shard that
        // owns its keys refuses it (`run_client_key`, or `transaction::queue` inside MULTI).
        let redirect_first = sh.slot_map.cluster_enabled && matches!(spec.handler, Handler::Key(_));
        if let Some(text) = write_refusal(sh).filter(|_| !redirect_first) {
            reply_error(sh, out, &ReplyError::Other(text.into()));
            if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
                m.error = true;
            }
            count_rejected(sh, spec);
            return Plan::Done(AfterReply::Nothing);
        }
    }
    // -MASTERDOWN after the write guards, as in Redis (keyed commands in cluster mode are
    // redirected first and meet it where they run).
    let keyed_in_cluster = sh.slot_map.cluster_enabled && matches!(spec.handler, Handler::Key(_));
    if !keyed_in_cluster && stale_refused(sh, spec) {
        let e = ReplyError::Other(crate::replication::MASTERDOWN_TEXT.into());
        reply_error(sh, out, &e);
        if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
            m.error = true;
        }
        count_rejected(sh, spec);
        return Plan::Done(AfterReply::Nothing);
    }
    // -BUSY comes after the checks above, as in Redis; a keyed command is checked where it
    // runs (`run_client_key`) or is sent (`plan_keyed`), after its slot decision.
    if (in_multi || !matches!(spec.handler, Handler::Key(_))) && busy_here(sh, spec) {
        let e = busy::refusal(&sh.global, sh.id);
        let client = sh.clients.get_mut(client_idx);
        let e = match client.multi.as_mut() {
            // EXEC refused discards the transaction, saying why (Redis' execCommandAbort),
            // with or without MULTI.
            _ if spec.name == "exec" => {
                client.multi = None;
                client.watch = None;
                ReplyError::Other(format!(
                    "EXECABORT Transaction discarded because of: {}",
                    e.text()
                ))
            }
            Some(m) => {
                m.error = true;
                e
            }
            None => e,
        };
        reply_error(sh, out, &e);
        count_rejected(sh, spec);
        return Plan::Done(AfterReply::Nothing);
    }
    if in_multi && !commands::transaction::runs_now(spec) {
        if let Err(e) = commands::transaction::queue(sh, client_idx, spec, args, out, cflags) {
            reply_error(sh, out, &e);
            if let Some(m) = sh.clients.get_mut(client_idx).multi.as_mut() {
                m.error = true;
            }
        }
        return Plan::Done(AfterReply::Nothing);
    }
    match spec.handler {
        Handler::Conn(f) => {
            let t0 = Instant::now();
            let mut ctx = ConnCtx {
                now_ms,
                out: Out::new(out.buf, out.proto),
                shard: sh,
                client_idx,
                after: AfterReply::Nothing,
                run_queue: None,
            };
            let r = f(&mut ctx, args);
            let after = ctx.after;
            if let Some(tx) = ctx.run_queue.take() {
                if crate::shard::monitors::active(&sh.global) {
                    commands::monitor::feed_queued(sh, client_idx, &tx.multi.queued);
                }
                transaction::run_queue(sh, client_idx, tx, out.buf, out.proto, now_ms);
            }
            let failed = r.is_err();
            // A fan-out a busy shard refused (`Shard::try_call_all`): rejected, as Redis
            // rejects the command before running it.
            let rejected = r.as_ref().is_err_and(|e| e.text().starts_with("BUSY "));
            if let Err(e) = r {
                reply_error(sh, out, &e);
            }
            if rejected {
                count_rejected(sh, spec);
            } else {
                if crate::shard::monitors::active(&sh.global) {
                    commands::monitor::feed_command(sh, client_idx, spec, args);
                }
                sh.stats.commands_processed += 1;
                let nsec = t0.elapsed().as_nanos() as u64;
                observe::count_run(sh, spec, args, nsec, failed);
            }
            if sh.repl.wait_request.is_some() {
                if let Some(w) = sh.repl.wait_request.take() {
                    return Plan::Wait(w);
                }
            }
            // EXEC whose script left the core past the threshold: its reply comes later.
            if sh.suspended.is_some() {
                return Plan::Suspended;
            }
            Plan::Done(after)
        }
        Handler::Key(_) | Handler::Script(_) => {
            plan_keyed(sh, client_idx, spec, args, out, now_ms, cflags)
        }
        Handler::Container => unreachable!("resolve returns leaf commands"),
    }
}

/// `enable-debug-command`: `yes`, or `local` for a client on a loopback address.
fn protected_allowed(sh: &Shard, client_idx: usize) -> bool {
    match sh
        .global
        .cfg(|c| c.stored("enable-debug-command", "no"))
        .as_str()
    {
        "yes" => true,
        "local" => sh
            .clients
            .get(client_idx)
            .is_some_and(|c| is_loopback_addr(&c.addr)),
        _ => false,
    }
}

/// "ip:port" (IPv6 without brackets, as CLIENT LIST shows it) from exactly 127.0.0.1 or ::1,
/// Redis' test for a local connection (the rest of 127.0.0.0/8 is not "local" there).
fn is_loopback_addr(addr: &str) -> bool {
    let ip = addr.rsplit_once(':').map_or(addr, |(ip, _)| ip);
    ip == "127.0.0.1" || ip == "::1"
}

fn blocked_or_done(sh: &Shard, spec: &'static CommandSpec, ids: Option<Vec<usize>>) -> Plan {
    if sh.block_request.is_some() {
        return Plan::Blocked {
            spec,
            poll_shards: ids,
        };
    }
    if sh.suspended.is_some() {
        return Plan::Suspended;
    }
    Plan::Done(AfterReply::Nothing)
}

/// `replica-serve-stale-data no` with the master link down refuses a command without the
/// `stale` flag: one relaxed load (`replication::refresh_stale` keeps the flag).
#[inline]
fn stale_refused(sh: &Shard, spec: &CommandSpec) -> bool {
    spec.flags & commands::flags::STALE == 0
        && sh
            .global
            .repl
            .stale_refused
            .load(std::sync::atomic::Ordering::Relaxed)
}

fn count_rejected(sh: &mut Shard, spec: &'static CommandSpec) {
    sh.count_call(spec.id, 0, false, true);
}

/// MONITOR: a client's keyed command is shown when it is routed, on the connection's shard
/// (so one connection's lines keep their order wherever the command runs).
#[inline]
fn feed_monitors(sh: &mut Shard, idx: usize, spec: &'static CommandSpec, args: Args<'_>) {
    if crate::shard::monitors::active(&sh.global) {
        commands::monitor::feed_command(sh, idx, spec, args);
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_keyed(
    sh: &mut Shard,
    client_idx: usize,
    spec: &'static CommandSpec,
    args: Args<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
    cflags: ClientFlags,
) -> Plan {
    // One shard and no cluster: every key is here and there is nothing to decide.
    if sh.shards == 1 && !sh.slot_map.cluster_enabled {
        feed_monitors(sh, client_idx, spec, args);
        run_client_key(sh, spec, args, Keys::unknown(), out, now_ms, None);
        return blocked_or_done(sh, spec, None);
    }
    let keys = match spec.key_idx(args) {
        Ok(k) => k,
        Err(e) => {
            reply_error(sh, out, &e);
            count_rejected(sh, spec);
            return Plan::Done(AfterReply::Nothing);
        }
    };
    let mut decision = route::decide(
        args,
        &keys,
        &sh.slot_map,
        sh.shards,
        cflags,
        cmd_flags(spec),
    );
    // Keys named by data (SORT's BY/GET patterns) may live on any shard: hold them all.
    if let Some(reaches_any) = spec.line_reaches_any_key {
        if !sh.slot_map.cluster_enabled && reaches_any(args) {
            decision = Decision::Shards((0..sh.shards).collect());
        }
    }
    if !matches!(decision, Decision::Reply(_)) {
        feed_monitors(sh, client_idx, spec, args);
    }
    match decision {
        Decision::Keyless => {
            run_client_key(sh, spec, args, Keys::given(&keys), out, now_ms, None);
            // A keyless script on a one-shard node may yield past the busy threshold.
            return blocked_or_done(sh, spec, None);
        }
        Decision::Shard { shard, .. } if shard == sh.id => {
            run_client_key(sh, spec, args, Keys::given(&keys), out, now_ms, None);
            return blocked_or_done(sh, spec, None);
        }
        Decision::Shard { shard, .. } => {
            if busy_there(sh, spec, shard, out) {
                return Plan::Done(AfterReply::Nothing);
            }
            return Plan::Remote {
                shard,
                spec,
                keys,
                owner_checks: None,
                client: sh.tracking.current,
            };
        }
        Decision::OwnerDecides { shard, .. } if shard == sh.id => {
            let keys = Keys::given(&keys);
            run_client_key(sh, spec, args, keys, out, now_ms, Some(cflags));
            return blocked_or_done(sh, spec, None);
        }
        Decision::OwnerDecides { shard, .. } => {
            if busy_there(sh, spec, shard, out) {
                return Plan::Done(AfterReply::Nothing);
            }
            return Plan::Remote {
                shard,
                spec,
                keys,
                owner_checks: Some(cflags),
                client: sh.tracking.current,
            };
        }
        Decision::Shards(ids) => {
            // Parking a busy shard would show its half-run script: refuse instead.
            if let Some(e) = busy::refusal_among(&sh.global, &ids) {
                reply_error(sh, out, &e);
                count_rejected(sh, spec);
                return Plan::Done(AfterReply::Nothing);
            }
            run_multi(sh, spec, args, &keys, out, now_ms, &ids);
            return blocked_or_done(sh, spec, Some(ids));
        }
        Decision::Reply(e) => {
            reply_error(sh, out, &e);
            count_rejected(sh, spec);
        }
    }
    Plan::Done(AfterReply::Nothing)
}

/// Runs a client's keyed command on the shard that owns its keys (here, or a request another
/// shard sent for its client). In cluster mode the write guards apply here, after the slot
/// decision, in Redis' order: redirect, then MISCONF (`run_key`), then READONLY/NOREPLICAS.
/// (Standalone, `plan` refused already.) `keys` are the command's keys when the caller found
/// them already (routing, or carried over the mesh).
pub fn run_client_key(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    mut keys: Keys<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
    owner_checks: Option<ClientFlags>,
) {
    if let Some(cflags) = owner_checks {
        if !owner_allows(sh, spec, args, keys.get(spec, args), out, now_ms, cflags) {
            return;
        }
    }
    if sh.global.maxmemory.maxmemory_bytes() != 0 {
        if let Some(e) = oom_refusal(sh, spec, None, now_ms) {
            reply_error(sh, out, &e);
            count_rejected(sh, spec);
            return;
        }
    }
    if spec.is_write() && sh.slot_map.cluster_enabled && sh.aof.write_error.is_none() {
        if let Some(text) = write_refusal(sh) {
            reply_error(sh, out, &ReplyError::Other(text.into()));
            count_rejected(sh, spec);
            return;
        }
    }
    if sh.slot_map.cluster_enabled && stale_refused(sh, spec) {
        let e = ReplyError::Other(crate::replication::MASTERDOWN_TEXT.into());
        reply_error(sh, out, &e);
        count_rejected(sh, spec);
        return;
    }
    if busy_here(sh, spec) {
        reply_error(sh, out, &busy::refusal(&sh.global, sh.id));
        count_rejected(sh, spec);
        return;
    }
    run_key_with(sh, spec, args, &mut keys, out, now_ms, None);
}

/// This shard runs a script past `busy-reply-threshold` (suspended between slices, `net`'s
/// script loop) and `spec` is not one of the commands Redis still runs then.
#[inline]
fn busy_here(sh: &Shard, spec: &CommandSpec) -> bool {
    busy::is_busy(&sh.global, sh.id) && !busy::allowed(spec)
}

/// A command for shard `to` while a script there is past the threshold: answered -BUSY here
/// at once, so this shard's client waits for nothing. Not when the connection has replies
/// pending (it may be the script's own client, whose later commands wait for the script):
/// the owner then decides.
#[inline]
fn busy_there(sh: &mut Shard, spec: &CommandSpec, to: usize, out: &mut Out<'_>) -> bool {
    if !busy::is_busy(&sh.global, to) || sh.replies_ahead || busy::allowed(spec) {
        return false;
    }
    let e = busy::refusal(&sh.global, to);
    reply_error(sh, out, &e);
    sh.count_call(spec.id, 0, false, true);
    true
}

/// Redis' reply when memory is over maxmemory and nothing could be evicted.
pub(crate) const OOM_TEXT: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Evicts if memory is over maxmemory (`shard::evict`); when nothing could be evicted, the
/// error for a command Redis refuses then: deny-oom commands, anything queued inside MULTI
/// but EXEC/DISCARD/QUIT/RESET, and EXEC of a queue holding a deny-oom command (which also
/// discards the transaction). `client_idx` is given on the connection's shard.
fn oom_refusal(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    client_idx: Option<usize>,
    now_ms: u64,
) -> Option<ReplyError> {
    if crate::shard::evict::before_command(sh, now_ms) != crate::shard::evict::Outcome::Fail {
        return None;
    }
    let denyoom = spec.flags & commands::flags::DENYOOM != 0;
    let Some(idx) = client_idx else {
        return denyoom.then(|| ReplyError::other(OOM_TEXT));
    };
    let client = sh.clients.get_mut(idx);
    let Some(m) = client.multi.as_ref() else {
        return denyoom.then(|| ReplyError::other(OOM_TEXT));
    };
    match spec.name {
        "exec" => {
            let queued_denyoom = m
                .queued
                .iter()
                .any(|(id, _)| commands::spec_of(*id).flags & commands::flags::DENYOOM != 0);
            if !queued_denyoom {
                return None;
            }
            client.multi = None;
            client.watch = None;
            Some(ReplyError::Other(format!(
                "EXECABORT Transaction discarded because of: {OOM_TEXT}"
            )))
        }
        "discard" | "quit" | "reset" => None,
        _ => Some(ReplyError::other(OOM_TEXT)),
    }
}

/// Completes the slot decision on the owner (migrating/importing slots); false when the
/// command was answered with a redirect or an error.
fn owner_allows(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    cflags: ClientFlags,
) -> bool {
    let map = sh.slot_map.clone();
    let db = sh.sel_db();
    let r = route::decide_on_owner(args, keys, &map, cflags, cmd_flags(spec), &mut |k| {
        db.contains(k, now_ms)
    });
    if let Err(e) = r {
        reply_error(sh, out, &e);
        count_rejected(sh, spec);
        return false;
    }
    true
}

/// Runs a keyed command on the shard that owns its keys. `owner_checks` carries the client
/// flags when the slot decision must be completed here (migrating/importing slots).
///
/// No client-facing write refusal (READONLY, NOREPLICAS) here: this is also how a replica
/// applies its master's stream, how a blocked command resumes and how EXEC runs its queue
/// (checked once at EXEC), none of which Redis refuses. Clients go through `run_client_key`.
pub fn run_key(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
    owner_checks: Option<ClientFlags>,
) {
    run_key_with(
        sh,
        spec,
        args,
        &mut Keys::unknown(),
        out,
        now_ms,
        owner_checks,
    );
}

/// `run_key` with the command's keys, found at most once by whichever step needs them first.
fn run_key_with(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
    owner_checks: Option<ClientFlags>,
) {
    if let Some(cflags) = owner_checks {
        if !owner_allows(sh, spec, args, keys.get(spec, args), out, now_ms, cflags) {
            return;
        }
    }
    let f = match spec.handler {
        Handler::Key(f) => f,
        Handler::Script(cmd) => return script::run(sh, cmd, spec, args, keys, out, now_ms),
        _ => unreachable!("keyed command"),
    };
    let write = spec.is_write();
    if write {
        if let Some(e) = misconf(sh) {
            reply_error(sh, out, &e);
            count_rejected(sh, spec);
            return;
        }
        if sh.aof.rewrite.is_some() || !sh.repl.snaps.is_empty() {
            rewrite_barrier(sh, keys.get(spec, args), args, now_ms);
        }
    }
    if sh.db.expired_log.is_some() {
        expire_first(sh, keys.get(spec, args), args, now_ms, write);
    }
    let t0 = Instant::now();
    let dirty_before = sh.dirty;
    let misses_before = crate::shard::notify::misses_before(sh);
    sh.journal.explicit = false;
    sh.journal.select(sh.sel);
    let mut ex = Exec::new(sh, Out::new(out.buf, out.proto), now_ms);
    let r = f(&mut ex, args);
    if let Some(reader) = crate::shard::tracking::current_reader(sh).filter(|_| tracked(spec)) {
        crate::shard::tracking::remember_keys(sh, reader, args, keys.get(spec, args));
    }
    if write {
        if sh.dirty != dirty_before
            && (!sh.watchers.is_empty()
                || !sh.blocked.is_empty()
                || sh.tracking.watching(&sh.global.tracking))
        {
            let db = sh.sel;
            for &k in keys.get(spec, args) {
                sh.touch_watched(db, args.get(k));
                sh.blocked.touch(db, args.get(k));
            }
        }
        journal_verbatim(sh, args, dirty_before);
    }
    if sh.db.expired_log.is_some() {
        crate::replication::journal_expired(sh);
    }
    if let Some(before) = misses_before {
        crate::shard::notify::key_misses(sh, before, args, keys.get(spec, args), now_ms);
    }
    let failed = r.is_err();
    if let Err(e) = r {
        reply_error(sh, out, &e);
    }
    sh.stats.commands_processed += 1;
    observe::count_run(sh, spec, args, t0.elapsed().as_nanos() as u64, failed);
}

/// A read whose keys a tracking client's cache may keep (Redis: read-only, not Pub/Sub).
fn tracked(spec: &CommandSpec) -> bool {
    spec.flags & commands::flags::READONLY != 0 && spec.flags & commands::flags::PUBSUB == 0
}

/// Master with replicas: expiry deletions so far are journaled, then (for a write) its keys
/// that expired are deleted with a DEL record ahead of the write's own.
fn expire_first(sh: &mut Shard, keys: &[usize], args: Args<'_>, now_ms: u64, write: bool) {
    crate::replication::journal_expired(sh);
    if write {
        let keys: Vec<&[u8]> = keys.iter().map(|&k| args.get(k)).collect();
        crate::replication::expire_before_write(sh, &keys, now_ms);
    }
}

/// `-MISCONF` while the shard's AOF cannot be written: nothing may be acknowledged that would
/// not survive a restart.
pub(crate) fn misconf(sh: &Shard) -> Option<ReplyError> {
    let e = sh.aof.write_error.as_ref()?;
    Some(ReplyError::Other(format!(
        "MISCONF Errors writing to the AOF file: {e}"
    )))
}

/// During an AOF rewrite or a replication snapshot, the slots of a write's keys are serialized
/// (into the new base, into the snapshot) before the write runs, so each holds every slot as it
/// was before any write logged after it started.
fn rewrite_barrier(sh: &mut Shard, keys: &[usize], args: Args<'_>, now_ms: u64) {
    let db = sh.sel;
    for &k in keys {
        sh.cover_for_write(db, args.get(k), now_ms);
    }
}

/// Journals a write as it came unless its handler journaled an explicit form, and only when it
/// changed something.
fn journal_verbatim(sh: &mut Shard, args: Args<'_>, dirty_before: u64) {
    if sh.journal.explicit {
        sh.journal.explicit = false;
        return;
    }
    if sh.dirty != dirty_before {
        sh.journal.record_args(args);
    }
}

/// Standalone mode, keys on several shards: park the other shards and run the handler here
/// with access to all their keyspaces, so the command is atomic and isolated.
fn run_multi(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    ids: &[usize],
) {
    if let Handler::Script(cmd) = spec.handler {
        return script::run_multi(sh, cmd, spec, args, keys, out, now_ms, ids);
    }
    if sh.global.maxmemory.maxmemory_bytes() != 0 {
        if let Some(e) = oom_refusal(sh, spec, None, now_ms) {
            reply_error(sh, out, &e);
            count_rejected(sh, spec);
            return;
        }
    }
    let t0 = Instant::now();
    let proto = out.proto;
    let mut result = Ok(());
    let always = sh
        .global
        .cfg(|c| c.appendfsync == crate::config::AppendFsync::Always);
    let parked = sh.try_with_parked(ids, &mut |this, mut peers| {
        let keys = &mut Keys::given(keys);
        result = run_parked_with(
            this,
            &mut peers,
            spec,
            args,
            keys,
            out.buf,
            proto,
            now_ms,
            Some(always),
        );
    });
    if let Err(busy) = parked {
        // A shard became busy after the check in `plan_keyed`: nothing ran.
        reply_error(sh, out, &busy);
        count_rejected(sh, spec);
        return;
    }
    let failed = result.is_err();
    if let Err(e) = result {
        reply_error(sh, out, &e);
    }
    sh.stats.commands_processed += 1;
    observe::count_run(sh, spec, args, t0.elapsed().as_nanos() as u64, failed);
}

/// Runs one keyed command with `this` and the parked `peers`: the checks, the AOF barrier, the
/// handler, per-shard journaling and the peers' journal writes (fsynced when `flush` is
/// `Some(true)`, under `always`; `None`: the caller writes them later).
#[allow(clippy::too_many_arguments)]
pub fn run_parked(
    this: &mut Shard,
    peers: &mut Parked<'_>,
    spec: &'static CommandSpec,
    args: Args<'_>,
    buf: &mut Vec<u8>,
    proto: Proto,
    now_ms: u64,
    flush: Option<bool>,
) -> commands::CmdResult {
    let keys = &mut Keys::unknown();
    run_parked_with(this, peers, spec, args, keys, buf, proto, now_ms, flush)
}

/// `run_parked` with the command's keys, found at most once.
#[allow(clippy::too_many_arguments)]
fn run_parked_with(
    this: &mut Shard,
    peers: &mut Parked<'_>,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &mut Keys<'_>,
    buf: &mut Vec<u8>,
    proto: Proto,
    now_ms: u64,
    flush: Option<bool>,
) -> commands::CmdResult {
    let Handler::Key(f) = spec.handler else {
        unreachable!("keyed command")
    };
    let write = spec.is_write();
    // The parked peers run this command in the caller's database.
    this.journal.select(this.sel);
    for p in peers.iter_mut() {
        p.sel = this.sel;
        p.journal.select(this.sel);
    }
    if write {
        let refused = std::iter::once(&*this)
            .chain(peers.iter())
            .find_map(misconf);
        if let Some(e) = refused {
            return Err(e);
        }
        for p in peers.iter_mut() {
            if p.aof.rewrite.is_some() || !p.repl.snaps.is_empty() {
                rewrite_barrier(p, keys.get(spec, args), args, now_ms);
            }
        }
        if this.aof.rewrite.is_some() || !this.repl.snaps.is_empty() {
            rewrite_barrier(this, keys.get(spec, args), args, now_ms);
        }
        if this.db.expired_log.is_some() {
            let keys: Vec<&[u8]> = keys.get(spec, args).iter().map(|&k| args.get(k)).collect();
            for peer in peers.iter_mut() {
                crate::replication::journal_expired(peer);
                crate::replication::expire_before_write(peer, &keys, now_ms);
            }
            crate::replication::journal_expired(this);
            crate::replication::expire_before_write(this, &keys, now_ms);
        }
    }
    let dirty_sum =
        |this: &Shard, peers: &Parked<'_>| this.dirty + peers.iter().map(|p| p.dirty).sum::<u64>();
    let dirty_before = dirty_sum(this, peers);
    this.journal.explicit = false;
    let result = f(
        &mut Exec::with_frozen(this, Out::new(buf, proto), now_ms, peers.reborrow()),
        args,
    );
    let changed = dirty_sum(this, peers) != dirty_before;
    if let Some(reader) = crate::shard::tracking::current_reader(this).filter(|_| tracked(spec)) {
        let mut ex = Exec::with_frozen(this, Out::new(buf, proto), now_ms, peers.reborrow());
        for &k in keys.get(spec, args) {
            crate::shard::tracking::remember(ex.shard_for(args.get(k)), reader, args.get(k));
        }
    }
    if write && changed {
        let mut ex = Exec::with_frozen(this, Out::new(buf, proto), now_ms, peers.reborrow());
        // A write over several shards without explicit per-shard records is journaled as the
        // resulting state of each key, in the journal of the shard that holds it.
        let explicit = ex.shard.journal.explicit;
        for &k in keys.get(spec, args) {
            if !explicit {
                ex.journal_state(args.get(k));
            }
            let owner = ex.shard_for(args.get(k));
            let db = owner.sel;
            owner.touch_watched(db, args.get(k));
            owner.blocked.touch(db, args.get(k));
        }
    }
    if this.db.expired_log.is_some() {
        for peer in peers.iter_mut() {
            crate::replication::journal_expired(peer);
        }
        crate::replication::journal_expired(this);
    }
    if write {
        this.journal.explicit = false;
        // Parked peers cannot fsync before we reply: under `always` do it for them now
        // (unless the caller does it after closing a MULTI/EXEC block).
        if let Some(always) = flush {
            flush_parked(peers, always);
        }
    }
    result
}

/// Writes the parked peers' journals (their AOF, fsynced under `always`): they cannot do it
/// themselves before the reply of the section goes out.
pub(crate) fn flush_parked(peers: &mut Parked<'_>, always: bool) {
    for peer in peers.iter_mut() {
        if !peer.journal.is_empty() {
            if let Err(e) = crate::aof::flush_now(peer, always) {
                crate::log::warning(&format!("AOF write of shard {}: {e}", peer.id));
            }
        }
    }
}

/// Convenience for tests and tools: run one command line on a one-shard context and return the
/// raw reply bytes.
pub fn run_line(
    sh: &mut Shard,
    client_idx: usize,
    argv: &[&[u8]],
    proto: Proto,
    now_ms: u64,
) -> Vec<u8> {
    let owned = crate::resp::OwnedArgs::from_slices(argv);
    let mut buf = Vec::new();
    let mut out = Out::new(&mut buf, proto);
    match plan(sh, client_idx, owned.args(), &mut out, now_ms) {
        Plan::Done(_) => {}
        Plan::Remote {
            spec,
            keys,
            owner_checks,
            ..
        } => {
            let keys = Keys::given(&keys);
            run_client_key(sh, spec, owned.args(), keys, &mut out, now_ms, owner_checks)
        }
        // The harness cannot wait: a suspended script runs to its end here.
        Plan::Suspended => {
            if let Some(mut s) = sh.suspended.take() {
                while !(s.resume)(sh, &mut out, now_ms) {}
            }
        }
        // The harness cannot wait: a blocked command answers like a timeout.
        Plan::Blocked { .. } => {
            sh.block_request = None;
            out.null_array();
        }
        Plan::Wait(w) => {
            let n = crate::replication::master::acked_count(&sh.global, w.target);
            out.int(n);
        }
    }
    buf
}
