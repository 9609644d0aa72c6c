//! CLUSTER subcommands that change the node table, roles, epochs and slot states: MEET,
//! FORGET, REPLICATE, SETSLOT, SET-CONFIG-EPOCH, BUMPEPOCH, and the views of links, replicas
//! and failure reports. Replies and error texts are Redis 7.0's. Key counts are taken from the
//! shards before the cluster state is locked (a shard hop must never wait under that lock).

use super::cluster::{cluster_global, commit, keys_total, lock};
use super::kit::number::parse_i64;
use super::kit::ArgCursor;
use super::{CmdResult, ConnCtx};
use crate::clock::mono_unix_ms;
use crate::cluster::state::ClusterState;
use crate::resp::error::sanitize_for_error;
use crate::resp::{Args, ReplyError};

fn text(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

/// The node a node-id argument names, or "ERR Unknown node <id>".
fn node_arg(st: &ClusterState, a: &[u8]) -> Result<u16, ReplyError> {
    st.lookup(&text(a))
        .ok_or_else(|| ReplyError::UnknownNode(sanitize_for_error(a)))
}

/// CLUSTER MEET ip port [cport].
pub fn meet(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut cur = ArgCursor::new(args, 2);
    if cur.remaining() > 3 {
        // Past the table's arity Redis answers with its subcommand text, as RESET does.
        return Err(ReplyError::SubcommandOrArity {
            cmd: "CLUSTER",
            sub: sanitize_for_error(args.get(1)),
        });
    }
    let (ip_arg, port_arg) = (cur.next()?, cur.next()?);
    let bad_port = |which: &str, a: &[u8]| {
        ReplyError::Other(format!(
            "ERR Invalid TCP {which} port specified: {}",
            sanitize_for_error(a)
        ))
    };
    let port = parse_i64(port_arg).ok_or_else(|| bad_port("base", port_arg))?;
    let cport = match cur.peek() {
        Some(a) => parse_i64(a).ok_or_else(|| bad_port("bus", a))?,
        None => port + i64::from(crate::cluster::state::CLUSTER_PORT_INCR),
    };
    let valid = |p: i64| (1..=65535).contains(&p);
    let addr = text(ip_arg)
        .parse::<std::net::IpAddr>()
        .ok()
        .filter(|_| valid(port) && valid(cport));
    let Some(addr) = addr else {
        return Err(ReplyError::Other(format!(
            "ERR Invalid node address specified: {}:{}",
            sanitize_for_error(ip_arg),
            sanitize_for_error(port_arg)
        )));
    };
    let mut st = lock(&g);
    st.meet(mono_unix_ms(), &addr.to_string(), port as u16, cport as u16);
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// CLUSTER FORGET id.
pub fn forget(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut st = lock(&g);
    let n = node_arg(&st, args.get(2))?;
    if n == st.myself {
        return Err(ReplyError::other(
            "ERR I tried hard but I can't forget myself...",
        ));
    }
    let me = st.myself_node();
    if me.is_replica() && me.master_id.as_deref() == Some(st.node(n).id.as_str()) {
        return Err(ReplyError::other("ERR Can't forget my master!"));
    }
    st.forget(mono_unix_ms(), n);
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// CLUSTER REPLICATE id.
pub fn replicate(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let keys = keys_total(ctx);
    let mut st = lock(&g);
    let n = node_arg(&st, args.get(2))?;
    if n == st.myself {
        return Err(ReplyError::other("ERR Can't replicate myself"));
    }
    if st.node(n).is_replica() {
        return Err(ReplyError::other(
            "ERR I can only replicate a master, not a replica.",
        ));
    }
    let me = st.myself_node();
    if me.is_master() && (me.slots.count() != 0 || keys != 0) {
        return Err(ReplyError::other(
            "ERR To set a master the node must be empty and without assigned slots.",
        ));
    }
    st.set_my_master(n);
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// CLUSTER REPLICAS id / CLUSTER SLAVES id.
pub fn replicas(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let st = lock(&g);
    let n = node_arg(&st, args.get(2))?;
    if !st.node(n).is_master() {
        return Err(ReplyError::other("ERR The specified node is not a master"));
    }
    let lines: Vec<String> = st
        .replicas_of(n)
        .into_iter()
        .map(|r| st.node_line(r).trim_end_matches('\n').to_string())
        .collect();
    drop(st);
    ctx.out.array(lines.len());
    lines.iter().for_each(|l| ctx.out.bulk(l.as_bytes()));
    Ok(())
}

/// CLUSTER COUNT-FAILURE-REPORTS id.
pub fn count_failure_reports(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut st = lock(&g);
    let n = node_arg(&st, args.get(2))?;
    let count = st.valid_failure_reports(mono_unix_ms(), n);
    drop(st);
    ctx.out.int(count as i64);
    Ok(())
}

/// CLUSTER SET-CONFIG-EPOCH epoch.
pub fn set_config_epoch(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let epoch = ArgCursor::new(args, 2).next_i64()?;
    if epoch < 0 {
        return Err(ReplyError::Other(format!(
            "ERR Invalid config epoch specified: {epoch}"
        )));
    }
    let mut st = lock(&g);
    if st.nodes().count() > 1 {
        return Err(ReplyError::other(
            "ERR The user can assign a config epoch only when the node does not know any other \
             node.",
        ));
    }
    if st.myself_node().config_epoch != 0 {
        return Err(ReplyError::other(
            "ERR Node config epoch is already non-zero",
        ));
    }
    st.myself_mut_pub().config_epoch = epoch as u64;
    st.current_epoch = st.current_epoch.max(epoch as u64);
    crate::log::warning(&format!(
        "configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH"
    ));
    st.touch();
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// CLUSTER BUMPEPOCH.
pub fn bumpepoch(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut st = lock(&g);
    let bumped = st.bump_epoch_without_consensus();
    let epoch = st.myself_node().config_epoch;
    st.touch();
    commit(ctx, &g, st);
    let word = if bumped { "BUMPED" } else { "STILL" };
    ctx.out.simple(&format!("{word} {epoch}"));
    Ok(())
}

/// CLUSTER LINKS: one map per bus connection.
pub fn links(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let st = lock(&g);
    let mut rows: Vec<(&'static str, String, u64, usize)> = st
        .links
        .values()
        .filter_map(|l| {
            let n = l.node?;
            let dir = if l.inbound { "from" } else { "to" };
            let queued = l.queued_bytes.load(std::sync::atomic::Ordering::Relaxed);
            Some((dir, st.node(n).id.clone(), l.created_ms, queued))
        })
        .collect();
    drop(st);
    rows.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    ctx.out.array(rows.len());
    for (dir, id, created, queued) in rows {
        ctx.out.map(6);
        ctx.out.bulk(b"direction");
        ctx.out.bulk(dir.as_bytes());
        ctx.out.bulk(b"node");
        ctx.out.bulk(id.as_bytes());
        ctx.out.bulk(b"create-time");
        ctx.out.int(created as i64);
        // Reading always; writing while output waits (Redis' registered handlers).
        ctx.out.bulk(b"events");
        ctx.out.bulk(if queued > 0 { b"rw" } else { b"r" });
        ctx.out.bulk(b"send-buffer-allocated");
        ctx.out.int(queued as i64);
        ctx.out.bulk(b"send-buffer-used");
        ctx.out.int(queued as i64);
    }
    Ok(())
}

/// CLUSTER SETSLOT slot IMPORTING id | MIGRATING id | STABLE | NODE id.
pub fn setslot(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    if lock(&g).myself_node().is_replica() {
        return Err(ReplyError::other(
            "ERR Please use SETSLOT only with masters.",
        ));
    }
    let slot = ArgCursor::new(args, 2).next_slot()?;
    let action = args.get(3).to_ascii_lowercase();
    let invalid = || {
        ReplyError::other(
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
        )
    };
    let shard = crate::topology::shard_of(slot, ctx.shard.shards);
    // Keys of every database: a slot holding any is not empty.
    let keys = ctx.shard.call_on(shard, |sh| sh.count_in_slot_all(slot));
    let mut st = lock(&g);
    let me = st.myself;
    match (action.as_slice(), args.len()) {
        (b"migrating" | b"importing", 5) => {
            let migrating = action == b"migrating";
            if migrating && st.owner_of(slot) != me {
                return Err(ReplyError::Other(format!(
                    "ERR I'm not the owner of hash slot {slot}"
                )));
            }
            if !migrating && st.owner_of(slot) == me {
                return Err(ReplyError::Other(format!(
                    "ERR I'm already the owner of hash slot {slot}"
                )));
            }
            let n = st.lookup(&text(args.get(4))).ok_or_else(|| {
                ReplyError::Other(format!(
                    "ERR I don't know about node {}",
                    sanitize_for_error(args.get(4))
                ))
            })?;
            if st.node(n).is_replica() {
                return Err(ReplyError::TargetNotMaster);
            }
            if migrating {
                st.migrating_to.insert(slot, n);
            } else {
                st.importing_from.insert(slot, n);
            }
        }
        (b"stable", 4) => {
            st.migrating_to.remove(&slot);
            st.importing_from.remove(&slot);
        }
        (b"node", 5) => {
            let n = node_arg(&st, args.get(4))?;
            if st.node(n).is_replica() {
                return Err(ReplyError::TargetNotMaster);
            }
            setslot_node(&mut st, slot, n, keys)?;
        }
        _ => return Err(invalid()),
    }
    st.touch();
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// SETSLOT NODE: rebinds `slot` to `n`, closing open states as Redis does.
fn setslot_node(st: &mut ClusterState, slot: u16, n: u16, keys: usize) -> Result<(), ReplyError> {
    let me = st.myself;
    let was_mine = st.owner_of(slot) == me;
    if was_mine && n != me && keys != 0 {
        return Err(ReplyError::Other(format!(
            "ERR Can't assign hashslot {slot} to a different node while I still hold keys for \
             this hash slot."
        )));
    }
    if keys == 0 {
        st.migrating_to.remove(&slot);
    }
    st.unbind_slot(slot);
    st.bind_slot(slot, n);
    if was_mine && n != me && st.myself_node().slots.count() == 0 && st.allow_replica_migration {
        crate::log::notice(&format!(
            "Lost my last slot to {}: becoming its replica",
            st.node(n).id
        ));
        st.set_my_master(n);
    }
    if n == me && st.importing_from.remove(&slot).is_some() {
        if st.bump_epoch_without_consensus() {
            crate::log::notice(&format!("configEpoch updated after importing slot {slot}"));
        }
        st.broadcast_pong();
    }
    Ok(())
}

/// CLUSTER FAILOVER [FORCE|TAKEOVER], on a replica.
pub fn failover(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let g = cluster_global(ctx)?;
    let mut cur = ArgCursor::new(args, 2);
    if cur.remaining() > 1 {
        return Err(ReplyError::SubcommandOrArity {
            cmd: "CLUSTER",
            sub: "failover".into(),
        });
    }
    let (force, takeover) = if cur.is_done() {
        (false, false)
    } else if cur.flag("FORCE") {
        (true, false)
    } else if cur.flag("TAKEOVER") {
        (true, true)
    } else {
        return Err(ReplyError::Syntax);
    };
    let mut st = lock(&g);
    let me = st.myself_node();
    if me.is_master() {
        return Err(ReplyError::other(
            "ERR You should send CLUSTER FAILOVER to a replica",
        ));
    }
    let master = me.master_id.as_deref().and_then(|m| st.lookup(m));
    let Some(master) = master else {
        return Err(ReplyError::other(
            "ERR I'm a replica but my master is unknown to me",
        ));
    };
    let m = st.node(master);
    if !force && (m.failed() || !m.link_connected) {
        return Err(ReplyError::other(
            "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE",
        ));
    }
    st.start_manual_failover(mono_unix_ms(), force, takeover);
    commit(ctx, &g, st);
    ctx.out.ok();
    Ok(())
}

/// DEBUG DROP-CLUSTER-PACKET-FILTER <type>: bus messages of that type are dropped on arrival
/// (Redis' test hook); -1 lets every type through again. A standalone node takes the value and
/// has nothing to filter, as Redis.
pub fn debug_drop_packet_filter(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let t = parse_i64(args.get(2)).ok_or(ReplyError::NotInteger)?;
    let g = ctx.shard.global.clone();
    if g.cluster.is_some() {
        lock(&g).drop_packet_filter = t;
    }
    ctx.out.ok();
    Ok(())
}
