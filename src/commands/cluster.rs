//! Cluster commands: the CLUSTER container with its read-only and slot-claiming subcommands
//! (the node-table ones live in `cluster_admin`) and the connection flags ASKING, READONLY
//! and READWRITE. Handlers lock the cluster state briefly,
//! and after a change save nodes.conf and publish the new slot map to every shard.

use super::kit::ArgCursor;
use super::spec::{acl, arg, block, multi, oneof, opt, pure, since, tok};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::cluster::hash_slot::key_hash_slot;
use crate::cluster::state::ClusterState;
use crate::constants::SLOT_COUNT;
use crate::global::Global;
use crate::resp::error::sanitize_for_error;
use crate::resp::{Args, Out, ReplyError};
use std::sync::{Arc, MutexGuard};

const SLOTS_ARG: &[ArgDoc] = &[multi(arg("slot", "integer"))];
const RANGE_ARG: &[ArgDoc] = &[multi(block(
    "start-slot_end-slot",
    &[arg("start-slot", "integer"), arg("end-slot", "integer")],
))];
const RESET_ARG: &[ArgDoc] = &[opt(oneof(
    "hard_soft",
    &[pure("hard", "HARD"), pure("soft", "SOFT")],
))];

/// A CLUSTER subcommand spec.
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    f: super::ConnFn,
    summary: &'static str,
    complexity: &'static str,
    args: &'static [ArgDoc],
) -> CommandSpec {
    CommandSpec {
        group: "cluster",
        acl: 0,
        summary,
        since: "3.0.0",
        complexity,
        args,
        ..CommandSpec::conn(name, arity, flags, f)
    }
}

const ON: &str = "O(N) where N is the total number of hash slot arguments";
const ON_RANGE: &str = "O(N) where N is the total number of the slots between the start slot \
                        and end slot arguments.";
const ON_NODES: &str = "O(N) where N is the total number of Cluster nodes";

use super::cluster_admin as admin;

const ID_ARG: &[ArgDoc] = &[arg("node-id", "string")];

const SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "bumpepoch",
        2,
        ADMIN | STALE,
        admin::bumpepoch,
        "Advances this node's config epoch without an election",
        "O(1)",
        &[],
    )
    .tips(&["nondeterministic_output"])
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "count-failure-reports",
        3,
        ADMIN | STALE,
        admin::count_failure_reports,
        "Counts the live reports that a node is failing",
        "O(N) where N is the number of failure reports",
        ID_ARG,
    )
    .tips(&["nondeterministic_output"]),
    sub(
        "failover",
        -2,
        ADMIN | STALE,
        admin::failover,
        "Makes this replica take over its master (FORCE: without the master's agreement; \
         TAKEOVER: without an election)",
        "O(1)",
        &[opt(oneof(
            "options",
            &[pure("force", "FORCE"), pure("takeover", "TAKEOVER")],
        ))],
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "forget",
        3,
        ADMIN | STALE,
        admin::forget,
        "Removes a node from this node's table (and keeps it out for a minute)",
        "O(1)",
        ID_ARG,
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "links",
        2,
        STALE,
        admin::links,
        "Describes each cluster bus connection of this node",
        ON_NODES,
        &[],
    )
    .since("7.0.0")
    .tips(&["nondeterministic_output"]),
    sub(
        "meet",
        -4,
        ADMIN | STALE,
        admin::meet,
        "Starts a handshake with another node, joining it to this cluster",
        "O(1)",
        &[
            arg("ip", "string"),
            arg("port", "integer"),
            since("4.0.0", opt(arg("cluster_bus_port", "integer"))),
        ],
    )
    .info_flags(NO_ASYNC_LOADING)
    .history(&[("4.0.0", "Added the optional `cluster_bus_port` argument.")]),
    sub(
        "replicas",
        3,
        ADMIN | STALE,
        admin::replicas,
        "Lists the replicas of a master",
        "O(1)",
        ID_ARG,
    )
    .since("5.0.0")
    .tips(&["nondeterministic_output"]),
    sub(
        "replicate",
        3,
        ADMIN | STALE,
        admin::replicate,
        "Makes this node a replica of a master",
        "O(1)",
        ID_ARG,
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "set-config-epoch",
        3,
        ADMIN | STALE,
        admin::set_config_epoch,
        "Sets the config epoch of a node that knows no other node",
        "O(1)",
        &[arg("config-epoch", "integer")],
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "setslot",
        -4,
        ADMIN | STALE,
        admin::setslot,
        "Changes the state of a hash slot: importing, migrating, stable or its owner",
        "O(1)",
        &[
            arg("slot", "integer"),
            oneof(
                "subcommand",
                &[
                    tok("IMPORTING", arg("node-id", "string")),
                    tok("MIGRATING", arg("node-id", "string")),
                    tok("NODE", arg("node-id", "string")),
                    pure("stable", "STABLE"),
                ],
            ),
        ],
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "slaves",
        3,
        ADMIN | STALE,
        admin::replicas,
        "Lists the replicas of a master (old name of CLUSTER REPLICAS)",
        "O(1)",
        ID_ARG,
    )
    .tips(&["nondeterministic_output"])
    .deprecated("5.0.0", "`CLUSTER REPLICAS`"),
    sub(
        "addslots",
        -3,
        ADMIN | STALE,
        addslots,
        "Claims hash slots for this node",
        ON,
        SLOTS_ARG,
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "addslotsrange",
        -4,
        ADMIN | STALE,
        addslotsrange,
        "Claims ranges of hash slots for this node",
        ON_RANGE,
        RANGE_ARG,
    )
    .since("7.0.0")
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "countkeysinslot",
        3,
        STALE,
        countkeysinslot,
        "Counts the keys this node holds in a hash slot",
        "O(1)",
        &[arg("slot", "integer")],
    ),
    sub(
        "delslots",
        -3,
        ADMIN | STALE,
        delslots,
        "Unbinds hash slots locally",
        ON,
        SLOTS_ARG,
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "delslotsrange",
        -4,
        ADMIN | STALE,
        delslotsrange,
        "Unbinds ranges of hash slots locally",
        ON_RANGE,
        RANGE_ARG,
    )
    .since("7.0.0")
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "flushslots",
        2,
        ADMIN | STALE,
        flushslots,
        "Drops every hash slot this node serves (its keyspace must be empty)",
        "O(1)",
        &[],
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "getkeysinslot",
        4,
        STALE,
        getkeysinslot,
        "Lists up to count keys this node holds in a hash slot",
        "O(log(N)) where N is the number of requested keys",
        &[arg("slot", "integer"), arg("count", "integer")],
    )
    .tips(&["nondeterministic_output"]),
    sub(
        "help",
        2,
        LOADING | STALE,
        help,
        "Lists the CLUSTER subcommands",
        "O(1)",
        &[],
    )
    .since("5.0.0"),
    sub(
        "info",
        2,
        STALE,
        info,
        "Reports this node's view of the cluster",
        "O(1)",
        &[],
    )
    .tips(&["nondeterministic_output"]),
    sub(
        "keyslot",
        3,
        STALE,
        keyslot,
        "Computes the hash slot of a key",
        "O(N) where N is the number of bytes in the key",
        &[arg("key", "string")],
    ),
    sub(
        "myid",
        2,
        STALE,
        myid,
        "Returns this node's id",
        "O(1)",
        &[],
    ),
    sub(
        "nodes",
        2,
        STALE,
        nodes,
        "Describes every known node, one per line",
        ON_NODES,
        &[],
    )
    .tips(&["nondeterministic_output"]),
    sub(
        "reset",
        -2,
        ADMIN | NOSCRIPT | STALE,
        reset,
        "Makes this node forget the cluster (HARD also renews its id and epochs)",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a \
         side effect.",
        RESET_ARG,
    ),
    sub(
        "saveconfig",
        2,
        ADMIN | STALE,
        saveconfig,
        "Writes nodes.conf to disk now",
        "O(1)",
        &[],
    )
    .info_flags(NO_ASYNC_LOADING),
    sub(
        "shards",
        2,
        STALE,
        shards,
        "Describes each shard: slots and nodes",
        ON_NODES,
        &[],
    )
    .since("7.0.0")
    .tips(&["nondeterministic_output"]),
    sub(
        "slots",
        2,
        STALE,
        slots,
        "Maps slot ranges to the nodes serving them",
        ON_NODES,
        &[],
    )
    .tips(&["nondeterministic_output"])
    .history(&[
        ("4.0.0", "Added node IDs."),
        ("7.0.0", "Added additional networking metadata field."),
    ])
    .deprecated("7.0.0", "`CLUSTER SHARDS`"),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cluster", -2, 0, KeySpec::None, Handler::Container)
        .group("cluster", 0)
        .since("3.0.0")
        .complexity("Depends on subcommand.")
        .summary("Container for the cluster subcommands")
        .subcommands(SUBCOMMANDS),
    CommandSpec::conn("asking", 1, FAST, asking)
        .group("cluster", acl::CONNECTION)
        .since("3.0.0")
        .complexity("O(1)")
        .summary("Lets the next command reach a slot being imported (after -ASK)"),
    CommandSpec::conn("readonly", 1, LOADING | STALE | FAST, readonly)
        .group("cluster", acl::CONNECTION)
        .since("3.0.0")
        .complexity("O(1)")
        .summary("Allows reads from a replica on this connection"),
    CommandSpec::conn("readwrite", 1, LOADING | STALE | FAST, readwrite)
        .group("cluster", acl::CONNECTION)
        .since("3.0.0")
        .complexity("O(1)")
        .summary("Stops allowing reads from a replica on this connection"),
];

/// The process handle, or the "cluster disabled" error in standalone mode.
pub(super) fn cluster_global(ctx: &ConnCtx<'_>) -> Result<Arc<Global>, ReplyError> {
    let g = ctx.shard.global.clone();
    if g.cluster.is_none() {
        return Err(ReplyError::ClusterDisabled);
    }
    Ok(g)
}

pub(super) fn lock(g: &Global) -> MutexGuard<'_, ClusterState> {
    g.cluster
        .as_ref()
        .expect("cluster_global checked cluster mode")
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// After a change: persist, then publish. The map is built under the lock but sent after it
/// is released: sending may wait for a shard's inbox, and that shard may be waiting for this
/// lock. Versions order the maps (shards keep the newest).
pub(super) fn commit(ctx: &mut ConnCtx<'_>, g: &Global, mut st: MutexGuard<'_, ClusterState>) {
    if let Err(e) = st.save() {
        log::warn!("Could not update the cluster config file: {e}");
    }
    let map = st.slot_map();
    drop(st);
    let map = g.publish_slot_map(map);
    if map.version >= ctx.shard.slot_map.version {
        ctx.shard.slot_map = map;
    }
}

pub(super) fn keys_total(ctx: &mut ConnCtx<'_>) -> usize {
    ctx.shard.call_all(|sh| sh.keys_all_dbs()).iter().sum()
}

fn asking(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    ctx.client().asking = true;
    ctx.out.ok();
    Ok(())
}

fn readonly(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    ctx.client().readonly = true;
    ctx.out.ok();
    Ok(())
}

fn readwrite(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    ctx.client().readonly = false;
    ctx.out.ok();
    Ok(())
}

fn myid(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let id = lock(&g).my_id().to_string();
    ctx.out.bulk(id.as_bytes());
    Ok(())
}

fn keyslot(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    ctx.out.int(key_hash_slot(args.get(2)) as i64);
    Ok(())
}

fn info(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let text = lock(&g).info_text();
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

fn nodes(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let text = lock(&g).nodes_text();
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// Checks slots `a..=b` for ADD (must be free) or DEL (must be bound), and that none was
/// named before in this call; `seen` accumulates them.
fn check_slots(
    st: &ClusterState,
    seen: &mut [bool],
    del: bool,
    a: u16,
    b: u16,
) -> Result<(), ReplyError> {
    for s in a..=b {
        let bound = st.owner_of(s) != crate::cluster::slot_map::NO_NODE;
        if del && !bound {
            return Err(ReplyError::Other(format!(
                "ERR Slot {s} is already unassigned"
            )));
        }
        if !del && bound {
            return Err(ReplyError::Other(format!("ERR Slot {s} is already busy")));
        }
        if std::mem::replace(&mut seen[s as usize], true) {
            return Err(ReplyError::Other(format!(
                "ERR Slot {s} specified multiple times"
            )));
        }
    }
    Ok(())
}

/// ADDSLOTS / DELSLOTS: every argument is parsed before any is checked.
fn slots_cmd(ctx: &mut ConnCtx<'_>, args: Args<'_>, del: bool) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut cur = ArgCursor::new(args, 2);
    let list = (0..cur.remaining())
        .map(|_| cur.next_slot())
        .collect::<Result<Vec<u16>, _>>()?;
    let mut st = lock(&g);
    let mut seen = vec![false; SLOT_COUNT];
    for &s in &list {
        check_slots(&st, &mut seen, del, s, s)?;
    }
    if del {
        st.del_slots(&list);
    } else {
        st.add_slots(&list);
    }
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// ADDSLOTSRANGE / DELSLOTSRANGE: each pair is parsed and checked in turn.
fn ranges_cmd(ctx: &mut ConnCtx<'_>, args: Args<'_>, del: bool) -> CmdResult {
    let g = cluster_global(ctx)?;
    if args.len() % 2 == 1 {
        let name = if del {
            "delslotsrange"
        } else {
            "addslotsrange"
        };
        return Err(ReplyError::Arity(format!("cluster|{name}")));
    }
    let mut st = lock(&g);
    let mut seen = vec![false; SLOT_COUNT];
    let mut cur = ArgCursor::new(args, 2);
    while !cur.is_done() {
        let (a, b) = (cur.next_slot()?, cur.next_slot()?);
        if a > b {
            return Err(ReplyError::Other(format!(
                "ERR start slot number {a} is greater than end slot number {b}"
            )));
        }
        check_slots(&st, &mut seen, del, a, b)?;
    }
    let list: Vec<u16> = (0..SLOT_COUNT as u16)
        .filter(|&s| seen[s as usize])
        .collect();
    if del {
        st.del_slots(&list);
    } else {
        st.add_slots(&list);
    }
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

fn addslots(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, false)
}

fn delslots(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    slots_cmd(ctx, args, true)
}

fn addslotsrange(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    ranges_cmd(ctx, args, false)
}

fn delslotsrange(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    ranges_cmd(ctx, args, true)
}

fn flushslots(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    if keys_total(ctx) != 0 {
        return Err(ReplyError::other(
            "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.",
        ));
    }
    let mut st = lock(&g);
    st.flush_own_slots();
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

fn countkeysinslot(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    let slot = ArgCursor::new(args, 2).next_i64()?;
    if !(0..SLOT_COUNT as i64).contains(&slot) {
        return Err(ReplyError::other("ERR Invalid slot"));
    }
    let slot = slot as u16;
    let shard = crate::topology::shard_of(slot, ctx.shard.shards);
    // In the selected database (several exist in cluster mode, as in Valkey 9).
    let dbi = ctx.client().db;
    let n = ctx.shard.try_call_on(shard, |sh| {
        sh.db_get(dbi).map_or(0, |d| d.count_in_slot(slot))
    })?;
    ctx.out.int(n as i64);
    Ok(())
}

fn getkeysinslot(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    let mut cur = ArgCursor::new(args, 2);
    let (slot, count) = (cur.next_i64()?, cur.next_i64()?);
    if !(0..SLOT_COUNT as i64).contains(&slot) || count < 0 {
        return Err(ReplyError::other("ERR Invalid slot or number of keys"));
    }
    let slot = slot as u16;
    // The slot's table bounds the result; the count only caps it.
    let max = usize::try_from(count).unwrap_or(usize::MAX);
    let shard = crate::topology::shard_of(slot, ctx.shard.shards);
    let dbi = ctx.client().db;
    let keys = ctx.shard.try_call_on(shard, |sh| {
        sh.db_get(dbi)
            .map_or_else(Vec::new, |d| d.keys_in_slot(slot, max))
    })?;
    ctx.out.array(keys.len());
    keys.iter().for_each(|k| ctx.out.bulk(k));
    Ok(())
}

fn reset(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut cur = ArgCursor::new(args, 2);
    if cur.remaining() > 1 {
        return Err(ReplyError::SubcommandOrArity {
            cmd: "CLUSTER",
            sub: sanitize_for_error(args.get(1)),
        });
    }
    let hard = if cur.is_done() || cur.flag("SOFT") {
        false
    } else if cur.flag("HARD") {
        true
    } else {
        return Err(ReplyError::Syntax);
    };
    let is_master = lock(&g).myself_node().is_master();
    if is_master && keys_total(ctx) != 0 {
        return Err(ReplyError::other(
            "ERR CLUSTER RESET can't be called with master nodes containing keys",
        ));
    }
    let mut st = lock(&g);
    let was_replica = st.reset(hard.then(crate::clock::random_hex40));
    commit(ctx, &g, st);
    if was_replica {
        // A replica's data belonged to its old master: a reset node starts empty.
        ctx.shard.call_all(|sh| sh.flush_all_dbs(false));
    }
    ctx.out.ok();
    Ok(())
}

fn saveconfig(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let r = lock(&g).save();
    match r {
        Ok(()) => ctx.out.ok(),
        Err(e) => {
            return Err(ReplyError::Other(format!(
                "ERR error saving the cluster node config: {e}"
            )))
        }
    }
    Ok(())
}

const HELP_LINES: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Claim the given hash slots for this node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Claim every hash slot in the given inclusive ranges for this node.",
    "BUMPEPOCH",
    "    Give this node a new config epoch without an election.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Count the live reports that <node-id> is failing.",
    "COUNTKEYSINSLOT <slot>",
    "    Count the keys this node holds in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Unbind the given hash slots in this node's view.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Unbind every hash slot in the given inclusive ranges in this node's view.",
    "GETKEYSINSLOT <slot> <count>",
    "    List up to <count> keys this node holds in <slot>.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Make this replica take over its master.",
    "FORGET <node-id>",
    "    Drop <node-id> from this node's table for a while.",
    "FLUSHSLOTS",
    "    Drop all hash slots served by this node (its keyspace must be empty).",
    "INFO",
    "    Show this node's view of the cluster state.",
    "KEYSLOT <key>",
    "    Compute the hash slot of <key>.",
    "LINKS",
    "    Describe each cluster bus connection of this node.",
    "MEET <ip> <port> [<bus-port>]",
    "    Start a handshake that joins that node to this cluster.",
    "MYID",
    "    Show this node's id.",
    "NODES",
    "    Describe every known node, one per line. Line format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Make this node a replica of master <node-id>.",
    "REPLICAS <node-id>",
    "    List the replicas of master <node-id>.",
    "RESET [HARD|SOFT]",
    "    Forget the cluster and all slots (default: soft; hard also renews id and epochs).",
    "SAVECONFIG",
    "    Write the cluster configuration file to disk now.",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set the config epoch of a node that knows no other node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Change the migration state or the owner of <slot>.",
    "SLAVES <node-id>",
    "    List the replicas of master <node-id>.",
    "SLOTS",
    "    Map slot ranges to their master and replica addresses, ports and ids.",
    "SHARDS",
    "    Describe each shard: its slot ranges and its nodes.",
    "HELP",
    "    Print this help.",
];

fn help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    cluster_global(ctx)?;
    ctx.out.array(HELP_LINES.len());
    for l in HELP_LINES {
        ctx.out.simple(l);
    }
    Ok(())
}

fn slots(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let st = lock(&g);
    let runs = st.slot_runs();
    ctx.out.array(runs.len());
    for (a, b, owner) in runs {
        // Replicas still syncing (offset 0) or failed cannot serve reads: not listed.
        let reps: Vec<u16> = replicas_by_id(&st, owner)
            .into_iter()
            .filter(|&r| !st.node(r).failed() && offset_of(&st, r) != 0)
            .collect();
        ctx.out.array(3 + reps.len());
        ctx.out.int(a as i64);
        ctx.out.int(b as i64);
        for idx in std::iter::once(owner).chain(reps) {
            slots_node(&mut ctx.out, &st, idx);
        }
    }
    Ok(())
}

/// The replicas of master `m`, ordered by node id: every node lists them in the same order
/// (Redis uses the order each node learned them in).
fn replicas_by_id(st: &ClusterState, m: u16) -> Vec<u16> {
    let mut reps = st.replicas_of(m);
    reps.sort_by(|a, b| st.node(*a).id.cmp(&st.node(*b).id));
    reps
}

/// Node `idx`'s replication offset: ours is live, the others' is what their last bus header
/// said (Redis' CLUSTER SLOTS and SHARDS read theirs the same way).
fn offset_of(st: &ClusterState, idx: u16) -> u64 {
    if idx == st.myself {
        st.my_repl_offset
    } else {
        st.node(idx).repl_offset
    }
}

fn slots_node(out: &mut Out<'_>, st: &ClusterState, idx: u16) {
    use crate::cluster::state::EndpointType;
    let n = st.node(idx);
    out.array(4);
    match st.endpoint(n) {
        Some(e) => out.bulk(e.as_bytes()),
        None => out.null(),
    }
    out.int(n.port as i64);
    out.bulk(n.id.as_bytes());
    // The metadata map holds what the endpoint did not already say.
    let mut extra: Vec<(&[u8], &str)> = Vec::new();
    if st.endpoint_type != EndpointType::Ip {
        extra.push((b"ip", &n.ip));
    }
    if st.endpoint_type != EndpointType::Hostname && !n.hostname.is_empty() {
        extra.push((b"hostname", &n.hostname));
    }
    out.map(extra.len());
    for (k, v) in extra {
        out.bulk(k);
        out.bulk(v.as_bytes());
    }
}

enum Field {
    Str(String),
    Int(i64),
}

fn shards(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let st = lock(&g);
    let runs = st.slot_runs();
    // Shards in the order of their first slot (slotless ones last, by id): the same on every
    // node, whatever order each learned the nodes in.
    let mut masters: Vec<(u16, &str, u16)> = st
        .nodes()
        .filter(|(_, n)| n.is_master())
        .map(|(i, n)| {
            (
                runs.iter().find(|r| r.2 == i).map_or(u16::MAX, |r| r.0),
                n.id.as_str(),
                i,
            )
        })
        .collect();
    masters.sort_unstable();
    let masters: Vec<u16> = masters.into_iter().map(|m| m.2).collect();
    ctx.out.array(masters.len());
    for m in masters {
        ctx.out.map(2);
        ctx.out.bulk(b"slots");
        let mine: Vec<_> = runs.iter().filter(|r| r.2 == m).collect();
        ctx.out.array(mine.len() * 2);
        for r in mine {
            ctx.out.int(r.0 as i64);
            ctx.out.int(r.1 as i64);
        }
        ctx.out.bulk(b"nodes");
        let members: Vec<u16> = std::iter::once(m).chain(replicas_by_id(&st, m)).collect();
        ctx.out.array(members.len());
        for idx in members {
            shard_node(&mut ctx.out, &st, idx);
        }
    }
    Ok(())
}

fn shard_node(out: &mut Out<'_>, st: &ClusterState, idx: u16) {
    let n = st.node(idx);
    let mut f: Vec<(&str, Field)> = vec![("id", Field::Str(n.id.clone()))];
    if n.port != 0 {
        f.push(("port", Field::Int(n.port as i64)));
    }
    f.push(("ip", Field::Str(n.ip.clone())));
    let endpoint = st.endpoint(n).unwrap_or("").to_string();
    f.push(("endpoint", Field::Str(endpoint)));
    if !n.hostname.is_empty() {
        f.push(("hostname", Field::Str(n.hostname.clone())));
    }
    let role = if n.is_replica() { "replica" } else { "master" };
    f.push(("role", Field::Str(role.into())));
    let offset = offset_of(st, idx);
    f.push(("replication-offset", Field::Int(offset as i64)));
    let health = if n.failed() {
        "fail"
    } else if n.is_replica() && offset == 0 {
        "loading"
    } else {
        "online"
    };
    f.push(("health", Field::Str(health.into())));
    out.map(f.len());
    for (k, v) in f {
        out.bulk(k.as_bytes());
        match v {
            Field::Str(s) => out.bulk(s.as_bytes()),
            Field::Int(i) => out.int(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cluster::node::{flag, Node};
    use crate::cluster::nodes_conf::temp_dir;
    use crate::cluster::state::ClusterState;
    use crate::config::Config;
    use crate::global::Global;
    use crate::resp::Proto;
    use crate::shard::{Client, Shard};
    use crate::testkit::{Harness, Reply};
    use std::path::Path;

    fn cfg(dir: &Path) -> Config {
        Config {
            cluster_enabled: true,
            dir: dir.to_path_buf(),
            port: 6440,
            ..Default::default()
        }
    }

    /// A one-shard cluster-mode server whose nodes.conf lives in `dir`.
    fn cluster_harness(dir: &Path) -> Harness {
        let cfg = cfg(dir);
        let st = ClusterState::load_or_create(&cfg).expect("cluster state");
        let global = Global::new(cfg, 1, Some(st));
        let mut shard = Shard::new(0, 1, global);
        let client = shard.clients.insert(Client {
            id: 1,
            addr: "127.0.0.1:40000".into(),
            laddr: "127.0.0.1:6440".into(),
            authenticated: true,
            ..Default::default()
        });
        Harness {
            shard,
            client,
            now_ms: 1_700_000_000_000,
            proto: Proto::Resp2,
        }
    }

    fn err(s: &str) -> Reply {
        Reply::err(s)
    }

    fn text(r: Reply) -> String {
        match r {
            Reply::Bulk(b) => String::from_utf8(b).expect("utf8"),
            Reply::Verbatim(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }

    fn myid(h: &mut Harness) -> String {
        text(h.run(&["CLUSTER", "MYID"]))
    }

    #[test]
    fn fresh_node_replies_like_redis() {
        // Guards MYID/NODES/INFO/SLOTS/SHARDS bytes of a brand-new 7.0.15 node.
        let dir = temp_dir("fresh");
        let mut h = cluster_harness(&dir);
        let id = myid(&mut h);
        assert_eq!(id.len(), 40);
        let line = format!("{id} :6440@16440 myself,master - 0 0 0 connected\n");
        assert_eq!(text(h.run(&["cluster", "nodes"])), line);
        assert_eq!(h.raw(&["cluster", "slots"]), b"*0\r\n");
        let shards = format!(
            "*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\n\
             {id}\r\n$4\r\nport\r\n:6440\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n\
             $4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n\
             $6\r\nonline\r\n"
        );
        assert_eq!(
            String::from_utf8(h.raw(&["cluster", "shards"])).unwrap(),
            shards
        );
        let info = "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\n\
                    cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\n\
                    cluster_size:0\r\ncluster_current_epoch:0\r\ncluster_my_epoch:0\r\n\
                    cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
                    total_cluster_links_buffer_limit_exceeded:0\r\n";
        assert_eq!(text(h.run(&["CLUSTER", "INFO"])), info);
        assert_eq!(h.run(&["cluster", "keyslot", "foo"]), Reply::Int(12182));
        assert_eq!(h.run(&["cluster", "keyslot", ""]), Reply::Int(0));
        assert_eq!(h.run(&["cluster", "countkeysinslot", "0"]), Reply::Int(0));
        assert_eq!(
            h.run(&["cluster", "getkeysinslot", "0", "0"]),
            Reply::Array(vec![])
        );
        let Reply::Array(help) = h.run(&["cluster", "help"]) else {
            panic!("help is an array")
        };
        assert_eq!(help.len(), 56);
        assert_eq!(
            help.last(),
            Some(&Reply::Simple("    Print this help.".into()))
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn resp3_uses_verbatim_and_maps() {
        // Guards the RESP3 shapes: verbatim text and %0 extra maps.
        let dir = temp_dir("resp3");
        let mut h = cluster_harness(&dir);
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        assert_eq!(h.run(&["cluster", "addslots", "7"]), Reply::ok());
        let raw = String::from_utf8(h.raw(&["cluster", "slots"])).unwrap();
        assert!(raw.starts_with("*1\r\n*3\r\n:7\r\n:7\r\n*4\r\n$0\r\n\r\n:6440\r\n"));
        assert!(raw.ends_with("\r\n%0\r\n"));
        let id = myid(&mut h);
        let line = format!("{id} :6440@16440 myself,master - 0 0 0 connected 7\n");
        let want = format!("={}\r\ntxt:{line}\r\n", line.len() + 4);
        assert_eq!(
            String::from_utf8(h.raw(&["cluster", "nodes"])).unwrap(),
            want
        );
        let shards = String::from_utf8(h.raw(&["cluster", "shards"])).unwrap();
        assert!(shards.starts_with("*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:7\r\n:7\r\n"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn full_coverage_turns_state_ok_and_routes_locally() {
        // Guards ADDSLOTSRANGE, cluster_state:ok and the published slot map.
        let dir = temp_dir("ok");
        let mut h = cluster_harness(&dir);
        assert_eq!(
            h.run(&["GET", "foo"]),
            err("CLUSTERDOWN Hash slot not served")
        );
        assert_eq!(
            h.run(&["cluster", "addslotsrange", "0", "16383"]),
            Reply::ok()
        );
        let info = text(h.run(&["cluster", "info"]));
        assert!(info.starts_with("cluster_state:ok\r\ncluster_slots_assigned:16384\r\n"));
        assert!(info.contains("cluster_slots_ok:16384\r\n"));
        assert!(info.contains("cluster_size:1\r\n"));
        assert_eq!(h.run(&["SET", "foo", "1"]), Reply::ok());
        assert_eq!(h.run(&["GET", "foo"]), Reply::bulk("1"));
        assert_eq!(
            h.shard.global.initial_slot_map().version,
            h.shard.slot_map.version
        );
        let id = myid(&mut h);
        let raw = String::from_utf8(h.raw(&["cluster", "slots"])).unwrap();
        let want =
            format!("*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:6440\r\n$40\r\n{id}\r\n*0\r\n");
        assert_eq!(raw, want);
        assert!(text(h.run(&["cluster", "nodes"])).ends_with(" connected 0-16383\n"));
        assert_eq!(h.run(&["cluster", "delslots", "12182"]), Reply::ok());
        assert_eq!(
            h.run(&["GET", "foo"]),
            err("CLUSTERDOWN Hash slot not served")
        );
        assert_eq!(
            h.run(&["GET", "bar"]),
            err("CLUSTERDOWN The cluster is down")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn slots_owned_elsewhere_are_moved() {
        // Guards MOVED through the published map when another node owns the slot.
        let dir = temp_dir("moved");
        let mut h = cluster_harness(&dir);
        assert_eq!(
            h.run(&["cluster", "addslotsrange", "0", "16383"]),
            Reply::ok()
        );
        let g = h.shard.global.clone();
        let map = {
            let mut st = g.cluster.as_ref().unwrap().lock().unwrap();
            let other = st.add_node(Node {
                id: "0".repeat(40),
                ip: "127.0.0.1".into(),
                port: 7000,
                cport: 17000,
                flags: flag::MASTER,
                ..Default::default()
            });
            st.bind_slot(12182, other);
            st.touch();
            g.publish_slot_map(st.slot_map())
        };
        h.shard.slot_map = map;
        assert_eq!(h.run(&["GET", "foo"]), err("MOVED 12182 127.0.0.1:7000"));
        assert_eq!(h.run(&["GET", "bar"]), Reply::Nil);
        let nodes = text(h.run(&["cluster", "nodes"]));
        let zeros = "0".repeat(40);
        let other = format!("{zeros} 127.0.0.1:7000@17000 master - 0 0 0 disconnected 12182\n");
        assert!(nodes.contains(&other), "{nodes}");
        assert!(
            nodes.contains(" connected 0-12181 12183-16383\n"),
            "{nodes}"
        );
        let Reply::Array(slots) = h.run(&["cluster", "slots"]) else {
            panic!("array")
        };
        assert_eq!(slots.len(), 3);
        let Reply::Array(shards) = h.run(&["cluster", "shards"]) else {
            panic!("array")
        };
        assert_eq!(shards.len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn slot_argument_errors_match_redis() {
        // Guards every ADDSLOTS/DELSLOTS(RANGE) validation text and that errors change nothing.
        let dir = temp_dir("errs");
        let mut h = cluster_harness(&dir);
        let bad = "ERR Invalid or out of range slot";
        assert_eq!(h.run(&["cluster", "addslots", "5"]), Reply::ok());
        let cases: &[(&[&str], &str)] = &[
            (&["addslots", "5"], "ERR Slot 5 is already busy"),
            (
                &["addslots", "6", "6"],
                "ERR Slot 6 specified multiple times",
            ),
            (&["addslots", "16384"], bad),
            (&["addslots", "-1"], bad),
            (&["addslots", "abc"], bad),
            (&["addslots", "01"], bad),
            (&["addslots", "7", "16384"], bad),
            (&["addslots", "8", "5"], "ERR Slot 5 is already busy"),
            (
                &["addslotsrange", "10", "9"],
                "ERR start slot number 10 is greater than end slot number 9",
            ),
            (
                &["addslotsrange", "10", "20", "15", "30"],
                "ERR Slot 15 specified multiple times",
            ),
            (&["addslotsrange", "1", "x"], bad),
            (&["delslots", "100"], "ERR Slot 100 is already unassigned"),
            (
                &["delslots", "5", "5"],
                "ERR Slot 5 specified multiple times",
            ),
            (
                &["delslotsrange", "3", "2"],
                "ERR start slot number 3 is greater than end slot number 2",
            ),
            (
                &["delslotsrange", "5", "7"],
                "ERR Slot 6 is already unassigned",
            ),
        ];
        for (args, want) in cases {
            let mut v = vec!["cluster"];
            v.extend_from_slice(args);
            assert_eq!(h.run(&v), err(want), "{v:?}");
        }
        let id = myid(&mut h);
        let line = format!("{id} :6440@16440 myself,master - 0 0 0 connected 5\n");
        assert_eq!(text(h.run(&["cluster", "nodes"])), line);
        assert_eq!(
            h.run(&["cluster", "addslots", "0", "2", "3", "16383"]),
            Reply::ok()
        );
        assert!(text(h.run(&["cluster", "nodes"])).ends_with(" 0 2-3 5 16383\n"));
        assert_eq!(
            h.run(&["cluster", "delslotsrange", "0", "5"]),
            err("ERR Slot 1 is already unassigned")
        );
        assert_eq!(
            h.run(&["cluster", "delslotsrange", "2", "3", "5", "5"]),
            Reply::ok()
        );
        assert!(text(h.run(&["cluster", "nodes"])).ends_with(" connected 0 16383\n"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn arity_and_unknown_subcommands() {
        // Guards dispatcher errors built from this table, and the unimplemented subcommands.
        let dir = temp_dir("arity");
        let mut h = cluster_harness(&dir);
        let arity = |s: &str| err(&format!("ERR wrong number of arguments for '{s}' command"));
        assert_eq!(h.run(&["cluster", "addslots"]), arity("cluster|addslots"));
        assert_eq!(
            h.run(&["cluster", "ADDSLOTSRANGE", "1"]),
            arity("cluster|addslotsrange")
        );
        assert_eq!(
            h.run(&["cluster", "addslotsrange", "1", "2", "3"]),
            arity("cluster|addslotsrange")
        );
        assert_eq!(
            h.run(&["cluster", "delslotsrange", "1", "2", "3"]),
            arity("cluster|delslotsrange")
        );
        assert_eq!(h.run(&["cluster", "keyslot"]), arity("cluster|keyslot"));
        assert_eq!(h.run(&["cluster", "myid", "x"]), arity("cluster|myid"));
        assert_eq!(h.run(&["cluster", "help", "x"]), arity("cluster|help"));
        assert_eq!(
            h.run(&["cluster", "flushslots", "x"]),
            arity("cluster|flushslots")
        );
        assert_eq!(h.run(&["cluster"]), arity("cluster"));
        assert_eq!(h.run(&["asking", "x"]), arity("asking"));
        assert_eq!(
            h.run(&["cluster", "foo", "a", "b", "c"]),
            err("ERR unknown subcommand 'foo'. Try CLUSTER HELP.")
        );
        assert_eq!(h.run(&["cluster", "MEET"]), arity("cluster|meet"));
        assert_eq!(
            h.run(&["cluster", "meet", "1.2.3.4", "5", "6", "7"]),
            err(
                "ERR unknown subcommand or wrong number of arguments for 'meet'. Try CLUSTER HELP."
            )
        );
        assert_eq!(
            h.run(&["cluster", "forget", "a", "b"]),
            arity("cluster|forget")
        );
        assert_eq!(h.run(&["cluster", "links", "x"]), arity("cluster|links"));
        assert_eq!(
            h.run(&["cluster", "meet", "1.2.3.4", "b"]),
            err("ERR Invalid TCP base port specified: b")
        );
        assert_eq!(
            h.run(&["cluster", "forget", &"f".repeat(40)]),
            err(&format!("ERR Unknown node {}", "f".repeat(40)))
        );
        assert_eq!(
            h.run(&["cluster", "failover"]),
            err("ERR You should send CLUSTER FAILOVER to a replica")
        );
        assert_eq!(
            h.run(&["cluster", "setslot", "1", "stable", "x"]),
            err("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
        );
        assert_eq!(h.run(&["cluster", "reset", "foo"]), err("ERR syntax error"));
        assert_eq!(
            h.run(&["cluster", "RESET", "soft", "x"]),
            err(
                "ERR unknown subcommand or wrong number of arguments for 'RESET'. \
                 Try CLUSTER HELP."
            )
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn key_slot_commands() {
        // Guards COUNTKEYSINSLOT/GETKEYSINSLOT results and their integer/range errors.
        let dir = temp_dir("keys");
        let mut h = cluster_harness(&dir);
        h.run(&["cluster", "addslotsrange", "0", "16383"]);
        for k in ["foo", "{foo}a", "{foo}b", "bar"] {
            assert_eq!(h.run(&["SET", k, "v"]), Reply::ok());
        }
        assert_eq!(
            h.run(&["cluster", "countkeysinslot", "12182"]),
            Reply::Int(3)
        );
        let Reply::Array(two) = h.run(&["cluster", "getkeysinslot", "12182", "2"]) else {
            panic!("array")
        };
        assert_eq!(two.len(), 2);
        let Reply::Array(all) =
            h.run(&["cluster", "getkeysinslot", "12182", "9223372036854775807"])
        else {
            panic!("array")
        };
        assert_eq!(all.len(), 3);
        let not_int = err("ERR value is not an integer or out of range");
        assert_eq!(h.run(&["cluster", "countkeysinslot", "x"]), not_int);
        assert_eq!(
            h.run(&["cluster", "countkeysinslot", "16384"]),
            err("ERR Invalid slot")
        );
        assert_eq!(
            h.run(&["cluster", "countkeysinslot", "-1"]),
            err("ERR Invalid slot")
        );
        let bad = err("ERR Invalid slot or number of keys");
        assert_eq!(h.run(&["cluster", "getkeysinslot", "0", "-1"]), bad);
        assert_eq!(h.run(&["cluster", "getkeysinslot", "16384", "1"]), bad);
        assert_eq!(h.run(&["cluster", "getkeysinslot", "x", "1"]), not_int);
        assert_eq!(h.run(&["cluster", "getkeysinslot", "1", "x"]), not_int);
        assert_eq!(h.run(&["cluster", "getkeysinslot", "16384", "x"]), not_int);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn flushslots_and_reset_need_an_empty_keyspace() {
        // Guards FLUSHSLOTS/RESET preconditions and RESET SOFT vs HARD effects.
        let dir = temp_dir("reset");
        let mut h = cluster_harness(&dir);
        h.run(&["cluster", "addslotsrange", "0", "16383"]);
        h.run(&["SET", "foo", "1"]);
        let nonempty = err("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
        assert_eq!(h.run(&["cluster", "flushslots"]), nonempty);
        let keys = err("ERR CLUSTER RESET can't be called with master nodes containing keys");
        assert_eq!(h.run(&["cluster", "reset"]), keys);
        assert_eq!(h.run(&["cluster", "reset", "hard"]), keys);
        assert_eq!(
            h.run(&["GET", "foo"]),
            Reply::bulk("1"),
            "no flush on a refused reset"
        );
        h.shard.db.flush();
        let id = myid(&mut h);
        assert_eq!(h.run(&["cluster", "flushslots"]), Reply::ok());
        assert!(text(h.run(&["cluster", "info"])).contains("cluster_slots_assigned:0\r\n"));
        h.run(&["cluster", "addslots", "1"]);
        assert_eq!(h.run(&["cluster", "reset", "SOFT"]), Reply::ok());
        assert_eq!(myid(&mut h), id);
        assert_eq!(h.raw(&["cluster", "slots"]), b"*0\r\n");
        assert_eq!(h.run(&["cluster", "reset", "hard"]), Reply::ok());
        assert_ne!(myid(&mut h), id);
        let conf = std::fs::read_to_string(dir.join("nodes.conf")).unwrap();
        assert!(conf.starts_with(&myid(&mut h)), "reset is saved");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn restart_keeps_id_and_slots() {
        // Guards nodes.conf being saved on change and loaded at start.
        let dir = temp_dir("restart");
        let (id, nodes) = {
            let mut h = cluster_harness(&dir);
            assert_eq!(
                h.run(&["cluster", "addslotsrange", "0", "99", "15000", "16000"]),
                Reply::ok()
            );
            assert_eq!(h.run(&["cluster", "saveconfig"]), Reply::ok());
            (myid(&mut h), text(h.run(&["cluster", "nodes"])))
        };
        let conf = std::fs::read_to_string(dir.join("nodes.conf")).unwrap();
        assert_eq!(
            conf,
            format!("{nodes}vars currentEpoch 0 lastVoteEpoch 0\n")
        );
        let mut h = cluster_harness(&dir);
        assert_eq!(myid(&mut h), id);
        assert_eq!(text(h.run(&["cluster", "nodes"])), nodes);
        assert_eq!(
            h.run(&["GET", "x"]),
            err("CLUSTERDOWN Hash slot not served")
        );
        assert_eq!(h.run(&["GET", "a"]), err("CLUSTERDOWN The cluster is down"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn connection_flags() {
        // Guards ASKING (one-shot), READONLY and READWRITE.
        let dir = temp_dir("flags");
        let mut h = cluster_harness(&dir);
        assert_eq!(h.run(&["ASKING"]), Reply::ok());
        assert!(h.shard.clients.get_mut(h.client).asking);
        h.run(&["cluster", "myid"]);
        assert!(
            !h.shard.clients.get_mut(h.client).asking,
            "cleared by the next command"
        );
        assert_eq!(h.run(&["READONLY"]), Reply::ok());
        assert!(h.shard.clients.get_mut(h.client).readonly);
        assert_eq!(h.run(&["readwrite"]), Reply::ok());
        assert!(!h.shard.clients.get_mut(h.client).readonly);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn standalone_mode_refuses_everything() {
        // Guards "cluster support disabled" for every command of this family.
        let mut h = Harness::new();
        let off = err("ERR This instance has cluster support disabled");
        for sub in [
            "myid",
            "info",
            "nodes",
            "slots",
            "shards",
            "help",
            "flushslots",
            "saveconfig",
        ] {
            assert_eq!(h.run(&["cluster", sub]), off, "{sub}");
        }
        assert_eq!(h.run(&["cluster", "keyslot", "a"]), off);
        assert_eq!(h.run(&["cluster", "addslots", "1"]), off);
        assert_eq!(h.run(&["cluster", "countkeysinslot", "1"]), off);
        assert_eq!(h.run(&["cluster", "getkeysinslot", "1", "1"]), off);
        assert_eq!(h.run(&["cluster", "reset", "a", "b"]), off);
        for c in ["asking", "readonly", "readwrite"] {
            assert_eq!(h.run(&[c]), off);
        }
        assert_eq!(
            h.run(&["cluster", "nodes", "x"]),
            err("ERR wrong number of arguments for 'cluster|nodes' command")
        );
    }

    #[test]
    fn announced_ip_shows_everywhere() {
        // Guards cluster-announce-ip in NODES, SLOTS and MOVED addresses.
        let dir = temp_dir("announce");
        let mut c = cfg(&dir);
        c.cluster_announce_ip = "127.0.0.1".into();
        let st = ClusterState::load_or_create(&c).expect("state");
        assert!(st
            .nodes_text()
            .contains(" 127.0.0.1:6440@16440 myself,master "));
        assert_eq!(st.slot_map().addrs[0], "127.0.0.1:6440");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn preferred_endpoint_type_names_nodes() {
        // Guards cluster-preferred-endpoint-type in redirects (hostname, `?`, empty endpoint).
        let dir = temp_dir("endpoint");
        let mut c = cfg(&dir);
        c.cluster_announce_ip = "127.0.0.1".into();
        for (t, host, want) in [
            ("hostname", "host-a", "host-a:6440"),
            ("hostname", "", "?:6440"),
            ("unknown-endpoint", "host-a", ":6440"),
            ("ip", "host-a", "127.0.0.1:6440"),
        ] {
            let mut c = c.clone();
            let set = |c: &mut Config, k: &str, v: &str| {
                c.unimplemented.insert(k.into(), v.into());
            };
            set(&mut c, "cluster-preferred-endpoint-type", t);
            set(&mut c, "cluster-announce-hostname", host);
            let mut st = ClusterState::new("a".repeat(40));
            st.apply_config(&c);
            assert_eq!(st.slot_map().addrs[0], want, "{t} {host}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
