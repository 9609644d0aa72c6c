//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Commands between MULTI and EXEC are
//! checked and queued; EXEC runs them back to back with every shard they touch parked, so the
//! transaction is atomic and isolated even when its keys live on several cores. WATCH marks
//! keys on their own shard; any write to them, from any connection, dooms the EXEC.

use super::spec::{arg, multi as many, K_ALL};
use super::{flags::*, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec, QueuedTx};
use crate::cluster::hash_slot::key_hash_slot;
use crate::commands::spec::keyflag;
use crate::resp::{Args, Out, ReplyError};
use crate::route::{self, ClientFlags, CmdFlags, Decision};
use crate::shard::{MultiState, Shard, WatchState};
use crate::topology::shard_of;
use std::sync::Arc;

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::ConnFn,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, keys, Handler::Conn(f))
        .group("transactions", crate::commands::spec::acl::TRANSACTION)
}

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::None,
        multi,
    )
    .since("1.2.0")
    .complexity("O(1)")
    .summary("Starts queueing commands for an atomic EXEC"),
    spec(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        KeySpec::None,
        exec,
    )
    .since("1.2.0")
    .complexity("Depends on the queued commands")
    .summary("Runs the queued commands atomically"),
    spec(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::None,
        discard,
    )
    .since("2.0.0")
    .complexity("O(N) where N is the number of queued commands")
    .summary("Drops the queued commands and the watched keys"),
    spec(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        K_ALL,
        watch,
    )
    .since("2.2.0")
    .doc(
        "O(1) for every key",
        "Makes the next EXEC fail if any of these keys is modified meanwhile",
        &[many(arg("key", "key"))],
    )
    .access(keyflag::RO),
    spec(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::None,
        unwatch,
    )
    .since("2.2.0")
    .complexity("O(1)")
    .summary("Forgets every watched key"),
];

/// Commands that act at once even inside MULTI (everything else is queued).
pub fn runs_now(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Checks a command issued inside MULTI and queues it, or returns why it is refused (the
/// dispatcher answers the error and dooms the EXEC).
pub fn queue(
    sh: &mut Shard,
    client_idx: usize,
    spec: &'static CommandSpec,
    args: Args<'_>,
    out: &mut Out<'_>,
    cflags: ClientFlags,
) -> Result<(), ReplyError> {
    if spec.flags & NO_MULTI != 0 {
        return Err(ReplyError::other(
            "ERR Command not allowed inside a transaction",
        ));
    }
    let mut slot = None;
    if sh.slot_map.cluster_enabled && matches!(spec.handler, Handler::Key(_) | Handler::Script(_)) {
        let keys = spec.key_idx(args)?;
        let cmd = CmdFlags {
            write: spec.is_write(),
            asking: false,
            migrate: false,
        };
        match route::decide(args, &keys, &sh.slot_map, sh.shards, cflags, cmd) {
            Decision::Reply(e) => return Err(e),
            Decision::Shard { slot: s, .. } | Decision::OwnerDecides { slot: s, .. } => {
                slot = Some(s)
            }
            _ => {}
        }
        if let Some(text) = super::guards::write_refusal(sh).filter(|_| spec.is_write()) {
            return Err(ReplyError::Other(text.into()));
        }
    }
    let m = sh
        .clients
        .get_mut(client_idx)
        .multi
        .get_or_insert_with(MultiState::default);
    if let Some(s) = slot {
        match m.slot {
            Some(first) if first != s => {
                return Err(ReplyError::CrossSlot);
            }
            _ => m.slot = Some(s),
        }
    }
    m.queued.push((spec.id, args.to_owned()));
    out.simple("QUEUED");
    Ok(())
}

fn multi(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let c = ctx.client();
    if c.multi.is_some() {
        return Err(ReplyError::other("ERR MULTI calls can not be nested"));
    }
    c.multi = Some(MultiState::default());
    ctx.out.ok();
    Ok(())
}

fn discard(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let c = ctx.client();
    if c.multi.take().is_none() {
        return Err(ReplyError::other("ERR DISCARD without MULTI"));
    }
    c.watch = None;
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.client().watch = None;
    ctx.out.ok();
    Ok(())
}

fn watch(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if ctx.client().multi.is_some() {
        return Err(ReplyError::other("ERR WATCH inside MULTI is not allowed"));
    }
    if ctx.shard.slot_map.cluster_enabled {
        let keys: Vec<usize> = (1..args.len()).collect();
        let c = ctx.client();
        let cflags = ClientFlags {
            asking: c.asking,
            readonly: c.readonly,
        };
        let cmd = CmdFlags::default();
        if let Decision::Reply(e) = route::decide(
            args,
            &keys,
            &ctx.shard.slot_map,
            ctx.shard.shards,
            cflags,
            cmd,
        ) {
            return Err(e);
        }
    }
    let flag = ctx
        .client()
        .watch
        .get_or_insert_with(WatchState::default)
        .touched
        .clone();
    let (n, now) = (ctx.shard.shards, ctx.now_ms);
    let db = ctx.client().db;
    for key in args.iter().skip(1) {
        let weak = Arc::downgrade(&flag);
        let existed = ctx.shard.call_on(shard_of(key_hash_slot(key), n), |sh| {
            let mut tag = Vec::new();
            let list = sh
                .watchers
                .entry(crate::shard::dbs::tagged(&mut tag, db, key).into())
                .or_default();
            list.retain(|w| w.strong_count() > 0);
            list.push(weak.clone());
            sh.db_at(db).contains(key, now)
        });
        if let Some(w) = ctx.client().watch.as_mut() {
            w.keys.push((key.to_vec(), existed, db));
        }
    }
    ctx.out.ok();
    Ok(())
}

fn exec(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let c = ctx.client();
    let Some(m) = c.multi.take() else {
        return Err(ReplyError::other("ERR EXEC without MULTI"));
    };
    let watch = c.watch.take();
    if m.queued
        .iter()
        .any(|(id, _)| super::spec_of(*id).is_write())
    {
        // Checked before the queued errors, as Redis does when it refuses EXEC itself.
        let sh = &*ctx.shard;
        if let Some(text) = super::guards::write_refusal(sh) {
            return Err(ReplyError::Other(format!(
                "EXECABORT Transaction discarded because of: {text}"
            )));
        }
    }
    if m.error {
        return Err(ReplyError::other(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    // Blocking commands inside EXEC answer at once (as in Redis): the dispatcher runs the
    // queue once this handler returns (`ConnCtx::run_queue`).
    ctx.run_queue = Some(QueuedTx { multi: m, watch });
    Ok(())
}
