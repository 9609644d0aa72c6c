//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, the sharded SSUBSCRIBE,
//! SUNSUBSCRIBE and SPUBLISH, and PUBSUB. Subscriptions live on the subscriber's own core;
//! PUBLISH counts receivers from the process-wide index and the event loop delivers on every
//! core that has some (see `net::pubsub_loop`). Shard channels are routed like keys in cluster
//! mode: the handlers check their slot themselves, since they run on the connection's core.

use super::spec::{arg, block, keys, multi, opt};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::cluster::hash_slot::key_hash_slot;
use crate::cluster::slot_map::{SlotMap, NO_NODE};
use crate::resp::{Args, Out, Proto, ReplyError};
use crate::shard::pubsub::{Outgoing, SubKind};
use crate::shard::{Client, Shard};

const fn spec(name: &'static str, arity: i32, flags: u32, f: super::ConnFn) -> CommandSpec {
    CommandSpec::conn(name, arity, flags, f).group("pubsub", 0)
}

/// A shard channel command: its channels (from argument 1 to `last`) are routed like keys.
const fn keyed(
    name: &'static str,
    arity: i32,
    flags: u32,
    last: i32,
    f: super::ConnFn,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, keys(1, last, 1), Handler::Conn(f)).group("pubsub", 0)
}

const DOC_CHANNELS: &[ArgDoc] = &[multi(arg("channel", "string"))];
const DOC_OPT_CHANNELS: &[ArgDoc] = &[opt(multi(arg("channel", "string")))];
const DOC_PATTERNS: &[ArgDoc] = &[multi(block("pattern", &[arg("pattern", "pattern")]))];
const DOC_OPT_PATTERNS: &[ArgDoc] = &[opt(multi(arg("pattern", "pattern")))];
const DOC_SHARD: &[ArgDoc] = &[multi(arg("shardchannel", "string"))];
const DOC_OPT_SHARD: &[ArgDoc] = &[opt(multi(arg("shardchannel", "string")))];
const DOC_PUBLISH: &[ArgDoc] = &[arg("channel", "string"), arg("message", "string")];
const DOC_SPUBLISH: &[ArgDoc] = &[arg("shardchannel", "string"), arg("message", "string")];
const DOC_OPT_PATTERN: &[ArgDoc] = &[opt(arg("pattern", "pattern"))];

const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
const SEND: u32 = PUBSUB | LOADING | STALE | FAST;

pub static COMMANDS: &[CommandSpec] = &[
    spec("subscribe", -2, SUB, subscribe).since("2.0.0").doc("O(N) where N is the number of channels to subscribe to.", "Listens for messages on channels", DOC_CHANNELS),
    spec("unsubscribe", -1, SUB, unsubscribe).since("2.0.0").doc("O(N) where N is the number of clients already subscribed to a channel.", "Stops listening on channels (all when none given)", DOC_OPT_CHANNELS),
    spec("psubscribe", -2, SUB, psubscribe).since("2.0.0").doc("O(N) where N is the number of patterns the client is already subscribed to.", "Listens for messages on channels matching glob patterns", DOC_PATTERNS),
    spec("punsubscribe", -1, SUB, punsubscribe).since("2.0.0").doc("O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", "Stops listening on patterns (all when none given)", DOC_OPT_PATTERNS),
    spec("publish", 3, SEND, publish).since("2.0.0").doc("O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "Sends a message to a channel's subscribers, on every core", DOC_PUBLISH),
    keyed("ssubscribe", -2, SUB, -1, ssubscribe).since("7.0.0").doc("O(N) where N is the number of shard channels to subscribe to.", "Listens for messages on shard channels", DOC_SHARD),
    keyed("sunsubscribe", -1, SUB, -1, sunsubscribe).since("7.0.0").doc("O(N) where N is the number of clients already subscribed to a shard channel.", "Stops listening on shard channels (all when none given)", DOC_OPT_SHARD),
    keyed("spublish", 3, SEND, 1, spublish).since("7.0.0").doc("O(N) where N is the number of clients subscribed to the receiving shard channel.", "Sends a message to a shard channel's subscribers", DOC_SPUBLISH),
    CommandSpec::new("pubsub", -2, 0, KeySpec::None, Handler::Container).group("pubsub", 0).since("2.8.0").complexity("Depends on subcommand.").summary("Inspects the Pub/Sub state").subcommands(PUBSUB_SUBCOMMANDS),
];

const INSPECT: u32 = PUBSUB | LOADING | STALE;

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    spec("channels", -2, INSPECT, channels).since("2.8.0").doc("O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "Active channels, optionally matching a pattern", DOC_OPT_PATTERN),
    spec("numsub", -2, INSPECT, numsub).since("2.8.0").doc("O(N) for the NUMSUB subcommand, where N is the number of requested channels", "Subscriber counts of channels", DOC_OPT_CHANNELS),
    spec("numpat", 2, INSPECT, numpat).since("2.8.0").complexity("O(1)").summary("Number of subscribed patterns"),
    spec("shardchannels", -2, INSPECT, shardchannels).since("7.0.0").doc("O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", "Active shard channels, optionally matching a pattern", DOC_OPT_PATTERN),
    spec("shardnumsub", -2, INSPECT, shardnumsub).since("7.0.0").doc("O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", "Subscriber counts of shard channels", DOC_OPT_SHARD),
    spec("help", 2, LOADING | STALE, help).since("6.2.0").complexity("O(1)").summary("Shows the PUBSUB subcommands"),
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

/// The confirmation names of a kind: (subscribe, unsubscribe).
fn kind_names(kind: SubKind) -> (&'static str, &'static str) {
    match kind {
        SubKind::Channel => ("subscribe", "unsubscribe"),
        SubKind::Pattern => ("psubscribe", "punsubscribe"),
        SubKind::Shard => ("ssubscribe", "sunsubscribe"),
    }
}

fn client_set(c: &mut Client, kind: SubKind) -> &mut hashbrown::HashSet<Vec<u8>> {
    match kind {
        SubKind::Channel => &mut c.channels,
        SubKind::Pattern => &mut c.patterns,
        SubKind::Shard => &mut c.shard_channels,
    }
}

/// The count a confirmation of `kind` reports: shard channels are counted on their own.
fn reply_count(c: &Client, kind: SubKind) -> usize {
    match kind {
        SubKind::Shard => c.shard_channels.len(),
        _ => c.channel_pattern_count(),
    }
}

fn index_update(sh: &Shard, name: &[u8], kind: SubKind, up: bool) {
    let mut idx = sh.global.pubsub.write().unwrap_or_else(|e| e.into_inner());
    idx.update(kind, name, sh.id, sh.shards, up);
}

/// Whether shard channel commands may run while the cluster is down (a config directive).
fn pubsubshard_allowed_when_down(sh: &Shard) -> bool {
    sh.global.cfg(|c| {
        crate::config::get_params(c, &[b"cluster-allow-pubsubshard-when-down"])
            .first()
            .is_none_or(|(_, v)| v == "yes")
    })
}

/// Cluster mode: the shard channels of one command (arguments 1 to `last`, inclusive) must
/// share a slot served here, as keys must (CLUSTERDOWN when unbound, CROSSSLOT, MOVED). A
/// replica serves its master's slots.
fn check_shard_route(sh: &Shard, args: Args<'_>, last: usize) -> CmdResult {
    let map = &sh.slot_map;
    if !map.cluster_enabled || args.len() < 2 {
        return Ok(());
    }
    let first = args.get(1);
    let slot = key_hash_slot(first);
    let owner = map.owner_of(slot);
    if owner == NO_NODE {
        return Err(ReplyError::ClusterDownUnbound);
    }
    for name in args.iter().take(last + 1).skip(2) {
        if name != first && key_hash_slot(name) != slot {
            return Err(ReplyError::CrossSlot);
        }
    }
    if !map.state_ok && !pubsubshard_allowed_when_down(sh) {
        return Err(ReplyError::ClusterDownState);
    }
    if owner == map.myself || (map.myself_is_replica && map.master == owner) {
        return Ok(());
    }
    Err(ReplyError::Moved {
        slot,
        addr: map.addrs.get(owner as usize).cloned().unwrap_or_default(),
    })
}

fn add(ctx: &mut ConnCtx<'_>, args: Args<'_>, kind: SubKind) -> CmdResult {
    if kind == SubKind::Shard {
        check_shard_route(ctx.shard, args, args.len() - 1)?;
    }
    let me = ctx.client_idx;
    for name in args.iter().skip(1) {
        let c = ctx.client();
        let new = client_set(c, kind).insert(name.to_vec());
        let count = reply_count(c, kind);
        if new {
            let map = ctx.shard.subs.map_mut(kind);
            map.entry(name.to_vec()).or_default().insert(me);
            index_update(ctx.shard, name, kind, true);
        }
        confirm(&mut ctx.out, kind_names(kind).0, Some(name), count);
    }
    Ok(())
}

/// Drops one subscription of client `client_idx`; returns whether it existed.
fn drop_one(sh: &mut Shard, client_idx: usize, name: &[u8], kind: SubKind) -> bool {
    let c = sh.clients.get_mut(client_idx);
    if !client_set(c, kind).remove(name) {
        return false;
    }
    let map = sh.subs.map_mut(kind);
    if let Some(set) = map.get_mut(name) {
        set.remove(&client_idx);
        if set.is_empty() {
            map.remove(name);
        }
    }
    index_update(sh, name, kind, false);
    true
}

/// Unsubscribes a client from a shard channel whose slot went away; returns the
/// `sunsubscribe` push to send it, or None when it was not subscribed.
/// A new slot map is being installed: drops the subscriptions of this shard's clients to shard
/// channels whose slot `new` does not serve here, and returns the `sunsubscribe` push frames
/// to write, per client index, in the order Redis sends them (channels sorted).
pub fn unsubscribe_lost_slots(sh: &mut Shard, new: &SlotMap) -> Vec<(usize, Vec<u8>)> {
    let lost = crate::shard::pubsub::lost_on_slot_map(sh, new);
    lost.into_iter()
        .filter_map(|(client, channel)| {
            drop_and_confirm(sh, client, &channel).map(|frame| (client, frame))
        })
        .collect()
}

fn drop_and_confirm(sh: &mut Shard, client_idx: usize, channel: &[u8]) -> Option<Vec<u8>> {
    sh.clients.get(client_idx)?;
    if !drop_one(sh, client_idx, channel, SubKind::Shard) {
        return None;
    }
    let c = sh.clients.get(client_idx)?;
    let mut buf = Vec::new();
    let mut out = Out::new(&mut buf, c.proto);
    confirm(
        &mut out,
        "sunsubscribe",
        Some(channel),
        c.shard_channels.len(),
    );
    Some(buf)
}

fn remove(ctx: &mut ConnCtx<'_>, args: Args<'_>, kind: SubKind) -> CmdResult {
    if kind == SubKind::Shard {
        check_shard_route(ctx.shard, args, args.len() - 1)?;
    }
    let verb = kind_names(kind).1;
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter().skip(1).map(|a| a.to_vec()).collect()
    } else {
        client_set(ctx.client(), kind).iter().cloned().collect()
    };
    if names.is_empty() {
        let count = reply_count(ctx.client(), kind);
        confirm(&mut ctx.out, verb, None, count);
        return Ok(());
    }
    for name in names {
        drop_one(ctx.shard, ctx.client_idx, &name, kind);
        let count = reply_count(ctx.client(), kind);
        confirm(&mut ctx.out, verb, Some(&name), count);
    }
    Ok(())
}

/// Drops every subscription of a client that goes away.
pub fn forget_client(sh: &mut Shard, client_idx: usize) {
    let Some(c) = sh.clients.get(client_idx) else {
        return;
    };
    let mut all: Vec<(SubKind, Vec<u8>)> = Vec::new();
    all.extend(c.channels.iter().map(|n| (SubKind::Channel, n.clone())));
    all.extend(c.patterns.iter().map(|n| (SubKind::Pattern, n.clone())));
    all.extend(c.shard_channels.iter().map(|n| (SubKind::Shard, n.clone())));
    for (kind, name) in all {
        drop_one(sh, client_idx, &name, kind);
    }
}

fn subscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    add(ctx, args, SubKind::Channel)
}
fn psubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    add(ctx, args, SubKind::Pattern)
}
fn ssubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    add(ctx, args, SubKind::Shard)
}
fn unsubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    remove(ctx, args, SubKind::Channel)
}
fn punsubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    remove(ctx, args, SubKind::Pattern)
}
fn sunsubscribe(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    remove(ctx, args, SubKind::Shard)
}

/// Counts this node's receivers and queues the message for the end of the turn (delivery
/// on every core, then the other nodes in cluster mode). The reply is the local count only.
fn send(ctx: &mut ConnCtx<'_>, args: Args<'_>, sharded: bool) -> CmdResult {
    let (channel, message) = (args.get(1), args.get(2));
    let receivers: u64 = {
        let idx = ctx
            .shard
            .global
            .pubsub
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let per = idx.receivers_of(sharded, channel, ctx.shard.shards);
        per.iter().map(|&n| n as u64).sum()
    };
    if receivers > 0 || ctx.shard.slot_map.cluster_enabled {
        ctx.shard.subs.outgoing.push(Outgoing {
            sharded,
            node_local: false,
            channel: channel.to_vec(),
            message: message.to_vec(),
        });
    }
    ctx.out.int(receivers as i64);
    Ok(())
}

fn publish(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    send(ctx, args, false)
}

fn spublish(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    check_shard_route(ctx.shard, args, 1)?;
    send(ctx, args, true)
}

/// Runs `f` on the process-wide subscriber counts of channels or shard channels.
fn with_index<R>(
    ctx: &ConnCtx<'_>,
    kind: SubKind,
    f: impl FnOnce(&hashbrown::HashMap<Vec<u8>, Vec<u32>>) -> R,
) -> R {
    let idx = ctx
        .shard
        .global
        .pubsub
        .read()
        .unwrap_or_else(|e| e.into_inner());
    match kind {
        SubKind::Shard => f(&idx.shard_channels),
        _ => f(&idx.channels),
    }
}

/// Active names of one kind (channels or shard channels), filtered by an optional pattern.
fn list_active(ctx: &mut ConnCtx<'_>, args: Args<'_>, kind: SubKind, name: &str) -> CmdResult {
    if args.len() > 3 {
        return Err(ReplyError::Arity(name.into()));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names: Vec<Vec<u8>> = with_index(ctx, kind, |map| {
        map.keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    });
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

/// Subscriber counts of the named channels or shard channels (patterns not included).
fn count_subscribers(ctx: &mut ConnCtx<'_>, args: Args<'_>, kind: SubKind) -> CmdResult {
    let counts: Vec<(Vec<u8>, u32)> = with_index(ctx, kind, |map| {
        args.iter()
            .skip(2)
            .map(|c| (c.to_vec(), map.get(c).map_or(0, |v| v.iter().sum())))
            .collect()
    });
    ctx.out.map(counts.len());
    for (c, n) in counts {
        ctx.out.bulk(&c);
        ctx.out.int(n as i64);
    }
    Ok(())
}

fn channels(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    list_active(ctx, args, SubKind::Channel, "pubsub|channels")
}

fn shardchannels(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    list_active(ctx, args, SubKind::Shard, "pubsub|shardchannels")
}

fn numsub(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    count_subscribers(ctx, args, SubKind::Channel)
}

fn shardnumsub(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    count_subscribers(ctx, args, SubKind::Shard)
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

/// The `smessage` pushes of one SPUBLISH for this shard's subscribers of the shard channel.
pub fn shard_frames_for(sh: &Shard, channel: &[u8], message: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let Some(set) = sh.subs.shard_channels.get(channel) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(set.len());
    for &c in set {
        let Some(cl) = sh.clients.get(c) else {
            continue;
        };
        let mut buf = Vec::new();
        let mut o = Out::new(&mut buf, cl.proto);
        push_header(&mut o, 3);
        o.bulk(b"smessage");
        o.bulk(channel);
        o.bulk(message);
        out.push((c, buf));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::cluster::slot_map::{SlotMap, NO_NODE};
    use crate::shard::Client;
    use crate::testkit::{Harness, Reply};
    use std::sync::{Arc, Mutex};

    fn conf(kind: &str, name: Option<&str>, n: i64) -> String {
        let name = name.map_or("$-1\r\n".to_string(), |s| {
            format!("${}\r\n{s}\r\n", s.len())
        });
        format!("*3\r\n${}\r\n{kind}\r\n{name}:{n}\r\n", kind.len())
    }

    fn second_client(h: &mut Harness) -> usize {
        h.shard.clients.insert(Client {
            id: 2,
            authenticated: true,
            ..Default::default()
        })
    }

    fn run_as(h: &mut Harness, client: usize, argv: &[&str]) -> Vec<u8> {
        let v: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
        let proto = h.shard.clients.get_mut(client).proto;
        h.raw_line(client, &v, proto)
    }

    /// A cluster map: this node (0) serves everything except slot `elsewhere` (node 1) and
    /// slot `unbound` (nobody).
    fn cluster_map(elsewhere: u16, unbound: u16) -> SlotMap {
        let mut m = SlotMap::standalone();
        m.cluster_enabled = true;
        m.version = 1;
        m.addrs = vec!["127.0.0.1:7001".into(), "127.0.0.1:7002".into()];
        m.owner[elsewhere as usize] = 1;
        m.owner[unbound as usize] = NO_NODE;
        m
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn ssubscribe_counts_shard_channels_apart() {
        // Guards the separate counts: s* replies count shard channels, the others do not.
        let mut h = Harness::new();
        let want = conf("ssubscribe", Some("a"), 1) + &conf("ssubscribe", Some("b"), 2);
        assert_eq!(text(&h.raw(&["SSUBSCRIBE", "a", "b"])), want);
        assert_eq!(
            text(&h.raw(&["SSUBSCRIBE", "a"])),
            conf("ssubscribe", Some("a"), 2)
        );
        assert_eq!(
            text(&h.raw(&["SUBSCRIBE", "c"])),
            conf("subscribe", Some("c"), 1)
        );
        let r = h.raw(&["SUNSUBSCRIBE", "zz"]);
        assert_eq!(text(&r), conf("sunsubscribe", Some("zz"), 2));
        let r = h.raw(&["UNSUBSCRIBE"]);
        assert_eq!(text(&r), conf("unsubscribe", Some("c"), 0));
        let r = text(&h.raw(&["SUNSUBSCRIBE"]));
        assert!(r.contains("$1\r\na\r\n") && r.contains("$1\r\nb\r\n") && r.ends_with(":0\r\n"));
        assert_eq!(
            text(&h.raw(&["SUNSUBSCRIBE"])),
            conf("sunsubscribe", None, 0)
        );
    }

    #[test]
    fn shard_subscription_alone_keeps_the_subscribed_context() {
        // Guards RESP2's subscribed context: a shard channel alone keeps it, as in Redis.
        let mut h = Harness::new();
        h.raw(&["SSUBSCRIBE", "q"]);
        assert_eq!(text(&h.raw(&["UNSUBSCRIBE"])), conf("unsubscribe", None, 0));
        let r = h.run(&["GET", "x"]);
        assert!(matches!(r, Reply::Error(e) if e.starts_with("ERR Can't execute 'get'")));
        assert_eq!(text(&h.raw(&["PING"])), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(
            text(&h.raw(&["SUNSUBSCRIBE", "q"])),
            conf("sunsubscribe", Some("q"), 0)
        );
        assert_eq!(h.run(&["GET", "x"]), Reply::Nil);
    }

    #[test]
    fn arity_errors() {
        // Guards the arity of the new commands.
        let mut h = Harness::new();
        let e = |n: &str| Reply::err(&format!("ERR wrong number of arguments for '{n}' command"));
        assert_eq!(h.run(&["SSUBSCRIBE"]), e("ssubscribe"));
        assert_eq!(h.run(&["SPUBLISH"]), e("spublish"));
        assert_eq!(h.run(&["SPUBLISH", "a"]), e("spublish"));
        assert_eq!(h.run(&["SPUBLISH", "a", "b", "c"]), e("spublish"));
        assert_eq!(
            h.run(&["PUBSUB", "SHARDCHANNELS", "a", "b"]),
            e("pubsub|shardchannels")
        );
    }

    #[test]
    fn spublish_counts_only_shard_subscribers() {
        // Guards SPUBLISH's receiver count, its queued message, and PUBLISH not mixing in.
        let mut h = Harness::new();
        let other = second_client(&mut h);
        run_as(&mut h, other, &["SSUBSCRIBE", "news"]);
        run_as(&mut h, other, &["PSUBSCRIBE", "n*"]);
        assert_eq!(h.run(&["SPUBLISH", "news", "hi"]), Reply::Int(1));
        let m = h.shard.subs.outgoing.pop().expect("queued");
        assert!(m.sharded && m.channel == b"news" && m.message == b"hi");
        assert_eq!(
            h.run(&["PUBLISH", "news", "x"]),
            Reply::Int(1),
            "the pattern only"
        );
        assert_eq!(h.run(&["SPUBLISH", "nobody", "x"]), Reply::Int(0));
        let frames = super::shard_frames_for(&h.shard, b"news", b"hi");
        assert_eq!(frames.len(), 1);
        assert_eq!(
            text(&frames[0].1),
            "*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn pubsub_shard_introspection() {
        // Guards PUBSUB SHARDCHANNELS (with a pattern) and SHARDNUMSUB.
        let mut h = Harness::new();
        let other = second_client(&mut h);
        run_as(&mut h, other, &["SSUBSCRIBE", "a1", "b1"]);
        run_as(&mut h, other, &["SUBSCRIBE", "c1"]);
        assert_eq!(
            h.run(&["PUBSUB", "SHARDCHANNELS", "a*"]),
            Reply::Array(vec![Reply::bulk("a1")])
        );
        let Reply::Array(all) = h.run(&["PUBSUB", "SHARDCHANNELS"]) else {
            panic!("an array");
        };
        assert_eq!(all.len(), 2);
        assert_eq!(
            h.run(&["PUBSUB", "SHARDNUMSUB", "a1", "c1"]),
            Reply::Array(vec![
                Reply::bulk("a1"),
                Reply::Int(1),
                Reply::bulk("c1"),
                Reply::Int(0)
            ])
        );
        assert_eq!(h.run(&["PUBSUB", "SHARDNUMSUB"]), Reply::Array(vec![]));
        h.shard.clients.get(other).expect("live");
        crate::commands::pubsub::forget_client(&mut h.shard, other);
        assert_eq!(h.run(&["PUBSUB", "SHARDCHANNELS"]), Reply::Array(vec![]));
    }

    #[test]
    fn resp3_pushes() {
        // Guards the RESP3 push form and the null channel of an empty SUNSUBSCRIBE.
        let mut h = Harness::new();
        h.raw(&["HELLO", "3"]);
        let r = h.raw(&["SSUBSCRIBE", "a"]);
        assert_eq!(text(&r), ">3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(
            h.run(&["GET", "x"]),
            Reply::Nil,
            "RESP3 has no subscribed context"
        );
        h.raw(&["SUNSUBSCRIBE"]);
        assert_eq!(
            text(&h.raw(&["SUNSUBSCRIBE"])),
            ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n"
        );
    }

    #[test]
    fn cluster_routing_of_shard_channels() {
        // Guards MOVED, CLUSTERDOWN, CROSSSLOT for shard channels, and SPUBLISH's message
        // not being taken for a key.
        let mut h = Harness::new();
        // "foo" is slot 12182, "bar" 5061, "a" 15495.
        h.shard.slot_map = Arc::new(cluster_map(12182, 5061));
        let moved = Reply::err("MOVED 12182 127.0.0.1:7002");
        assert_eq!(h.run(&["SSUBSCRIBE", "foo"]), moved);
        assert_eq!(h.run(&["SPUBLISH", "foo", "m"]), moved);
        assert_eq!(h.run(&["SUNSUBSCRIBE", "foo"]), moved);
        let down = Reply::err("CLUSTERDOWN Hash slot not served");
        assert_eq!(h.run(&["SSUBSCRIBE", "bar"]), down);
        let cross = Reply::err("CROSSSLOT Keys in request don't hash to the same slot");
        assert_eq!(h.run(&["SSUBSCRIBE", "a", "b"]), cross);
        assert_eq!(h.run(&["SPUBLISH", "a", "b"]), Reply::Int(0));
        let m = h.shard.subs.outgoing.pop().expect("queued for the bus");
        assert!(m.sharded);
        let r = h.raw(&["SSUBSCRIBE", "a", "{a}x"]);
        let want = conf("ssubscribe", Some("a"), 1) + &conf("ssubscribe", Some("{a}x"), 2);
        assert_eq!(text(&r), want);
        assert_eq!(
            text(&h.raw(&["SUNSUBSCRIBE"]))
                .matches("sunsubscribe")
                .count(),
            2
        );
        // A replica serves the shard channels of its master's slots.
        let mut m = cluster_map(12182, 5061);
        m.myself_is_replica = true;
        m.master = 1;
        h.shard.slot_map = Arc::new(m);
        assert_eq!(h.run(&["SPUBLISH", "foo", "m"]), Reply::Int(0));
    }

    #[test]
    fn standalone_has_no_slot_rules() {
        // Guards standalone mode: channels in different slots together are fine.
        let mut h = Harness::new();
        let r = h.raw(&["SSUBSCRIBE", "a", "b"]);
        assert_eq!(text(&r).matches("ssubscribe").count(), 2);
    }

    #[test]
    fn lost_slot_unsubscribes_its_shard_channels() {
        // Guards the sunsubscribe pushes (sorted, with counts) when a slot stops being served.
        let mut h = Harness::new();
        let old = cluster_map(1, 2);
        h.shard.slot_map = Arc::new(old.clone());
        h.raw(&["SSUBSCRIBE", "{a}x", "a"]);
        h.raw(&["SSUBSCRIBE", "foo"]);
        let other = second_client(&mut h);
        run_as(&mut h, other, &["HELLO", "3"]);
        run_as(&mut h, other, &["SSUBSCRIBE", "a"]);
        let mut new = old.clone();
        new.version = 2;
        new.owner[15495] = NO_NODE;
        let frames = super::unsubscribe_lost_slots(&mut h.shard, &new);
        let got: Vec<(usize, String)> = frames.into_iter().map(|(c, f)| (c, text(&f))).collect();
        let me = h.client;
        assert_eq!(
            got,
            vec![
                (me, conf("sunsubscribe", Some("a"), 2)),
                (
                    other,
                    ">3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:0\r\n".into()
                ),
                (me, conf("sunsubscribe", Some("{a}x"), 1)),
            ]
        );
        let r = run_as(&mut h, other, &["PUBSUB", "SHARDCHANNELS"]);
        assert_eq!(text(&r), "*1\r\n$3\r\nfoo\r\n");
        // Moving to our master keeps them: a replica serves its master's slots.
        let mut replica = new.clone();
        replica.myself_is_replica = true;
        replica.master = 1;
        replica.owner[12182] = 1;
        assert!(super::unsubscribe_lost_slots(&mut h.shard, &replica).is_empty());
        // The same map again (already installed by a CLUSTER command) changes nothing.
        assert!(super::unsubscribe_lost_slots(&mut h.shard, &new).is_empty());
    }

    #[test]
    fn bus_messages_reach_the_cores_with_receivers() {
        // Guards deliver_from_bus: only cores with receivers get the message, through the sink.
        let mut h = Harness::new();
        h.raw(&["SSUBSCRIBE", "s"]);
        type Seen = Arc<Mutex<Vec<(usize, bool, Vec<u8>)>>>;
        let seen: Seen = Arc::default();
        let s2 = seen.clone();
        let sink: crate::global::PublishSink = Box::new(move |to, sharded, m| {
            s2.lock().unwrap().push((to, sharded, m.1.clone()));
        });
        assert!(h.shard.global.publish_sink.set(sink).is_ok());
        let g = h.shard.global.clone();
        assert_eq!(
            crate::shard::pubsub::deliver_from_bus(&g, true, b"s", b"m"),
            1
        );
        assert_eq!(
            crate::shard::pubsub::deliver_from_bus(&g, false, b"s", b"m"),
            0
        );
        assert_eq!(*seen.lock().unwrap(), vec![(0, true, b"m".to_vec())]);
    }

    #[test]
    fn command_table_entries() {
        // Guards the table data clients read: arity, flags, key positions.
        use crate::commands::flags::*;
        let s = crate::commands::lookup(b"ssubscribe").expect("ssubscribe");
        assert_eq!(
            (s.arity, s.flags),
            (-2, PUBSUB | NOSCRIPT | LOADING | STALE)
        );
        let p = crate::commands::lookup(b"spublish").expect("spublish");
        assert_eq!((p.arity, p.flags), (3, PUBSUB | LOADING | STALE | FAST));
        let a = crate::resp::OwnedArgs::from_slices(&[b"SPUBLISH", b"ch", b"msg"]);
        assert_eq!(p.key_positions(a.args()), Ok(vec![1]));
        let u = crate::commands::lookup(b"sunsubscribe").expect("sunsubscribe");
        let a = crate::resp::OwnedArgs::from_slices(&[b"SUNSUBSCRIBE", b"a", b"b"]);
        assert_eq!(u.key_positions(a.args()), Ok(vec![1, 2]));
    }
}
