//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB. Subscriptions
//! live on the subscriber's own core; PUBLISH counts receivers from the process-wide index and
//! the event loop delivers on every core that has some (see `net::reactor`).

use super::{flags::*, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::resp::{Args, Out, Proto, ReplyError};
use crate::shard::Shard;

const fn spec(name: &'static str, arity: i32, flags: u32, f: super::ConnFn) -> CommandSpec {
    CommandSpec {
        group: "pubsub",
        ..CommandSpec::new(name, arity, flags, KeySpec::None, Handler::Conn(f))
    }
}

const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { summary: "Listens for messages on channels", since: "2.0.0", complexity: "O(N) where N is the number of channels to subscribe to.", ..spec("subscribe", -2, SUB, subscribe) },
    CommandSpec { summary: "Stops listening on channels (all when none given)", since: "2.0.0", complexity: "O(N) where N is the number of clients already subscribed to a channel.", ..spec("unsubscribe", -1, SUB, unsubscribe) },
    CommandSpec { summary: "Listens for messages on channels matching glob patterns", since: "2.0.0", complexity: "O(N) where N is the number of patterns the client is already subscribed to.", ..spec("psubscribe", -2, SUB, psubscribe) },
    CommandSpec { summary: "Stops listening on patterns (all when none given)", since: "2.0.0", complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", ..spec("punsubscribe", -1, SUB, punsubscribe) },
    CommandSpec { summary: "Sends a message to a channel's subscribers, on every core", since: "2.0.0", complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", ..spec("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, publish) },
    CommandSpec { summary: "Inspects the Pub/Sub state", since: "2.8.0", subcommands: PUBSUB_SUBCOMMANDS, ..CommandSpec::new("pubsub", -2, 0, KeySpec::None, Handler::Container) },
];

const INSPECT: u32 = PUBSUB | LOADING | STALE;

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Active channels, optionally matching a pattern",
        since: "2.8.0",
        ..spec("channels", -2, INSPECT, channels)
    },
    CommandSpec {
        summary: "Subscriber counts of channels",
        since: "2.8.0",
        ..spec("numsub", -2, INSPECT, numsub)
    },
    CommandSpec {
        summary: "Number of subscribed patterns",
        since: "2.8.0",
        ..spec("numpat", 2, INSPECT, numpat)
    },
    CommandSpec {
        summary: "Active shard channels, optionally matching a pattern",
        since: "7.0.0",
        ..spec("shardchannels", -2, INSPECT, shardchannels)
    },
    CommandSpec {
        summary: "Subscriber counts of shard channels",
        since: "7.0.0",
        ..spec("shardnumsub", -2, INSPECT, shardnumsub)
    },
    CommandSpec {
        summary: "Shows the PUBSUB subcommands",
        since: "6.2.0",
        ..spec("help", 2, LOADING | STALE, help)
    },
];

/// Commands a RESP2 client may run while subscribed.
pub fn allowed_while_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// A push frame header: `>n` in RESP3, an array in RESP2.
pub fn push_header(out: &mut Out<'_>, n: usize) {
    match out.proto {
        Proto::Resp3 => out.raw(format!(">{n}\r\n").as_bytes()),
        Proto::Resp2 => out.array(n),
    }
}

fn confirm(out: &mut Out<'_>, kind: &str, name: Option<&[u8]>, count: usize) {
    push_header(out, 3);
    out.bulk(kind.as_bytes());
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn index_update(sh: &Shard, name: &[u8], pattern: bool, up: bool) {
    let mut idx = sh.global.pubsub.write().unwrap_or_else(|e| e.into_inner());
    if pattern {
        idx.pattern(name, sh.id, sh.shards, up);
    } else {
        idx.channel(name, sh.id, sh.shards, up);
    }
}

fn add(ctx: &mut ConnCtx<'_>, args: Args<'_>, pattern: bool) -> CmdResult {
    let me = ctx.client_idx;
    for name in args.iter().skip(1) {
        let c = ctx.client();
        let new = if pattern {
            c.patterns.insert(name.to_vec())
        } else {
            c.channels.insert(name.to_vec())
        };
        let count = c.sub_count();
        if new {
            let map = if pattern {
                &mut ctx.shard.subs.patterns
            } else {
                &mut ctx.shard.subs.channels
            };
            map.entry(name.to_vec()).or_default().insert(me);
            index_update(ctx.shard, name, pattern, true);
        }
        confirm(
            &mut ctx.out,
            if pattern { "psubscribe" } else { "subscribe" },
            Some(name),
            count,
        );
    }
    Ok(())
}

/// Drops one subscription of client `client_idx`; returns whether it existed.
fn drop_one(sh: &mut Shard, client_idx: usize, name: &[u8], pattern: bool) -> bool {
    let c = sh.clients.get_mut(client_idx);
    let had = if pattern {
        c.patterns.remove(name)
    } else {
        c.channels.remove(name)
    };
    if had {
        let map = if pattern {
            &mut sh.subs.patterns
        } else {
            &mut sh.subs.channels
        };
        if let Some(set) = map.get_mut(name) {
            set.remove(&client_idx);
            if set.is_empty() {
                map.remove(name);
            }
        }
        index_update(sh, name, pattern, false);
    }
    had
}

fn remove(ctx: &mut ConnCtx<'_>, args: Args<'_>, pattern: bool) -> CmdResult {
    let kind = if pattern {
        "punsubscribe"
    } else {
        "unsubscribe"
    };
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter().skip(1).map(|a| a.to_vec()).collect()
    } else {
        let c = ctx.client();
        let set = if pattern { &c.patterns } else { &c.channels };
        set.iter().cloned().collect()
    };
    if names.is_empty() {
        let count = ctx.client().sub_count();
        confirm(&mut ctx.out, kind, None, count);
        return Ok(());
    }
    for name in names {
        drop_one(ctx.shard, ctx.client_idx, &name, pattern);
        let count = ctx.client().sub_count();
        confirm(&mut ctx.out, kind, Some(&name), count);
    }
    Ok(())
}

/// Drops every subscription of a client that goes away.
pub fn forget_client(sh: &mut Shard, client_idx: usize) {
    let Some(c) = sh.clients.get(client_idx) else {
        return;
    };
    let channels: Vec<Vec<u8>> = c.channels.iter().cloned().collect();
    let patterns: Vec<Vec<u8>> = c.patterns.iter().cloned().collect();
    for ch in channels {
        drop_one(sh, client_idx, &ch, false);
    }
    for p in patterns {
        drop_one(sh, client_idx, &p, true);
    }
}

fn subscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    add(ctx, args, false)
}
fn psubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    add(ctx, args, true)
}
fn unsubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    remove(ctx, args, false)
}
fn punsubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    remove(ctx, args, true)
}

fn publish(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let (channel, message) = (args.get(1), args.get(2));
    let receivers: u32 = {
        let idx = ctx
            .shard
            .global
            .pubsub
            .read()
            .unwrap_or_else(|e| e.into_inner());
        idx.receivers(channel, ctx.shard.shards).iter().sum()
    };
    if receivers > 0 {
        ctx.shard
            .subs
            .outgoing
            .push((channel.to_vec(), message.to_vec()));
    }
    ctx.out.int(receivers as i64);
    Ok(())
}

fn channels(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Arity("pubsub|channels".into()));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names: Vec<Vec<u8>> = {
        let idx = ctx
            .shard
            .global
            .pubsub
            .read()
            .unwrap_or_else(|e| e.into_inner());
        idx.channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    };
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn numsub(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let counts: Vec<(Vec<u8>, u32)> = {
        let idx = ctx
            .shard
            .global
            .pubsub
            .read()
            .unwrap_or_else(|e| e.into_inner());
        args.iter()
            .skip(2)
            .map(|c| {
                (
                    c.to_vec(),
                    idx.channels.get(c).map_or(0, |v| v.iter().sum()),
                )
            })
            .collect()
    };
    ctx.out.map(counts.len());
    for (c, n) in counts {
        ctx.out.bulk(&c);
        ctx.out.int(n as i64);
    }
    Ok(())
}

fn numpat(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx
        .shard
        .global
        .pubsub
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .patterns
        .len();
    ctx.out.int(n as i64);
    Ok(())
}

/// Sharded Pub/Sub (SSUBSCRIBE) is not offered yet, so no shard channel is active.
fn shardchannels(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Arity("pubsub|shardchannels".into()));
    }
    ctx.out.array(0);
    Ok(())
}

fn shardnumsub(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.map(args.len() - 2);
    for c in args.iter().skip(2) {
        ctx.out.bulk(c);
        ctx.out.int(0);
    }
    Ok(())
}

fn help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let lines = [
        "PUBSUB <subcommand> [<arg> ...]. Subcommands:",
        "CHANNELS [<pattern>]",
        "    Channels with at least one subscriber, filtered by a glob <pattern>.",
        "NUMPAT",
        "    How many distinct patterns are subscribed to.",
        "NUMSUB [<channel> ...]",
        "    Subscriber count of each channel (pattern subscriptions not included).",
        "SHARDCHANNELS [<pattern>]",
        "    Shard channels with at least one subscriber, filtered by a glob <pattern>.",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Subscriber count of each shard channel.",
        "HELP",
        "    Shows this text.",
    ];
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
    Ok(())
}

/// Writes the message pushes for one published message to the local subscribers; returns the
/// client indexes that got something, each with its frame bytes.
pub fn frames_for(sh: &Shard, channel: &[u8], message: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(set) = sh.subs.channels.get(channel) {
        for &c in set {
            let Some(cl) = sh.clients.get(c) else {
                continue;
            };
            let mut buf = Vec::new();
            let mut o = Out::new(&mut buf, cl.proto);
            push_header(&mut o, 3);
            o.bulk(b"message");
            o.bulk(channel);
            o.bulk(message);
            out.push((c, buf));
        }
    }
    for (pat, set) in &sh.subs.patterns {
        if !crate::glob::matches(pat, channel, false) {
            continue;
        }
        for &c in set {
            let Some(cl) = sh.clients.get(c) else {
                continue;
            };
            let mut buf = Vec::new();
            let mut o = Out::new(&mut buf, cl.proto);
            push_header(&mut o, 4);
            o.bulk(b"pmessage");
            o.bulk(pat);
            o.bulk(channel);
            o.bulk(message);
            out.push((c, buf));
        }
    }
    out
}
