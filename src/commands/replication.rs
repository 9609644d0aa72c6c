//! Replication commands: REPLICAOF/SLAVEOF, ROLE, WAIT, and the internal REPLCONF, PSYNC and
//! SYNC a replica sends its master. The machinery is in `crate::replication`.

use super::kit::number::parse_i64;
use super::kit::ArgCursor;
use super::spec::{acl, arg, block, oneof, pure};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx};
use crate::replication::{self, master, LinkState};
use crate::resp::{Args, ReplyError};
use std::sync::atomic::Ordering;

const REPLICAOF_ARGS: &[ArgDoc] = &[oneof(
    "args",
    &[
        block(
            "host-port",
            &[arg("host", "string"), arg("port", "integer")],
        ),
        block("no-one", &[pure("no", "NO"), pure("one", "ONE")]),
    ],
)];

const fn replicaof_spec(name: &'static str, since: &'static str) -> CommandSpec {
    CommandSpec {
        group: "server",
        acl: 0,
        summary: "Replicates another server, or stops replicating and accepts writes",
        since,
        complexity: "O(1)",
        args: REPLICAOF_ARGS,
        ..CommandSpec::conn(
            name,
            3,
            ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
            replicaof,
        )
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    replicaof_spec("replicaof", "5.0.0"),
    replicaof_spec("slaveof", "1.0.0").deprecated("5.0.0", "`REPLICAOF`"),
    CommandSpec::conn("role", 1, NOSCRIPT | LOADING | STALE | FAST, role)
        .group("server", acl::ADMIN | acl::DANGEROUS)
        .since("2.8.12")
        .complexity("O(1)")
        .summary("Tells whether this server is a master or a replica, with its replication state"),
    CommandSpec::conn("wait", 3, NOSCRIPT, wait)
        .group("generic", acl::CONNECTION)
        .since("3.0.0")
        .doc(
            "O(1)",
            "Blocks until the connection's writes reached a number of replicas, or a timeout",
            &[arg("numreplicas", "integer"), arg("timeout", "integer")],
        )
        .tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    CommandSpec::conn(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        replconf,
    )
    .group("server", 0)
    .since("3.0.0")
    .complexity("O(1)")
    .summary("Internal: a replica configures its replication stream")
    .doc_flags(crate::commands::spec::docflag::SYSCMD),
    CommandSpec::conn(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        psync,
    )
    .group("server", acl::DANGEROUS)
    .since("2.8.0")
    .summary("Internal: a replica asks for the stream from an offset, or a full copy")
    .args(&[arg("replicationid", "string"), arg("offset", "integer")]),
    CommandSpec::conn(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        psync,
    )
    .group("server", acl::DANGEROUS)
    .since("1.0.0")
    .summary("Internal: a replica asks for a full copy"),
];

/// REPLCONF option/value pairs.
fn replconf(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ReplyError::Syntax);
    }
    let global = ctx.shard.global.clone();
    let client_id = ctx.client().id;
    let mut cur = ArgCursor::new(args, 1);
    while !cur.is_done() {
        let (name, val) = (cur.next()?, cur.next()?);
        match String::from_utf8_lossy(name).to_ascii_lowercase().as_str() {
            "listening-port" => {
                let port = parse_i64(val)
                    .filter(|p| (0..=65535).contains(p))
                    .ok_or(ReplyError::NotInteger)?;
                master::set_listening_port(&global, client_id, port as u16);
            }
            "capa" if val.eq_ignore_ascii_case(b"eof") => {
                master::set_req(&global, client_id, 0, master::req::CAPA_EOF);
            }
            "ip-address" => {
                if val.len() > crate::constants::REPLCONF_IP_BYTES_MAX {
                    return Err(ReplyError::Other(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} \
                         bytes",
                        val.len()
                    )));
                }
                let ip = String::from_utf8_lossy(val).into_owned();
                master::set_announced_ip(&global, client_id, ip);
            }
            "capa" => {}
            "rdb-only" => {
                let on = parse_i64(val).ok_or(ReplyError::NotInteger)?;
                if !(0..=1).contains(&on) {
                    return Err(ReplyError::other(
                        "ERR value is out of range, value must between 0 and 1",
                    ));
                }
                let bit = master::req::RDB_ONLY;
                let (clear, set) = if on == 1 { (0, bit) } else { (bit, 0) };
                master::set_req(&global, client_id, clear, set);
            }
            "rdb-filter-only" => {
                // Include filters, blank-separated: none leaves out keys and libraries,
                // `functions` keeps the libraries (the keys always go). Quoted words are not
                // taken apart as Redis' sdssplitargs would (no filter name needs quotes).
                let mut set = master::req::NO_DATA | master::req::NO_FUNCTIONS;
                let words = val.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty());
                for f in words {
                    if !f.eq_ignore_ascii_case(b"functions") {
                        return Err(ReplyError::Other(format!(
                            "ERR Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(f)
                        )));
                    }
                    set &= !master::req::NO_FUNCTIONS;
                }
                let all = master::req::NO_DATA | master::req::NO_FUNCTIONS;
                master::set_req(&global, client_id, all, set);
            }
            "ack" => {
                if let Some(off) = parse_i64(val).filter(|v| *v >= 0) {
                    master::on_ack(&global, client_id, off as u64);
                }
                return Ok(()); // ACK never gets a reply
            }
            "getack" => {
                replication::request_ack(&global);
                return Ok(());
            }
            _ => {
                return Err(ReplyError::Other(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(name)
                )))
            }
        }
    }
    ctx.out.ok();
    Ok(())
}

/// PSYNC <replid> <offset> and SYNC: checks the replica may be served here, then hands it to
/// the master side (`replication::master::begin_sync`).
fn psync(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    let (client_id, fd, addr) = {
        let c = ctx.client();
        (c.id, c.fd, c.addr.clone())
    };
    if global
        .repl
        .state()
        .replicas
        .iter()
        .any(|r| r.client_id == client_id)
    {
        return Ok(()); // already a replica: ignored, as Redis does
    }
    let is_replica = global.repl.is_replica.load(Ordering::Acquire);
    let link_up = replication::link_status(&global) == Some(LinkState::Connected);
    if is_replica && !link_up {
        return Err(ReplyError::Other(
            "NOMASTERLINK Can't SYNC while not connected with my master".into(),
        ));
    }
    // The stream must start after every earlier reply byte reached the kernel: the sender
    // thread writes to a duplicate of the socket, so a send still in flight on the shard's
    // ring would interleave with it. Refused like Redis' "pending output".
    if !ctx.out.buf.is_empty() || ctx.shard.replies_ahead {
        return Err(ReplyError::Other(
            "ERR SYNC and PSYNC are invalid with pending output".into(),
        ));
    }
    let (replid, from) = if args.len() == 3 {
        let from = parse_i64(args.get(2)).unwrap_or(-1);
        (String::from_utf8_lossy(args.get(1)).to_string(), from)
    } else {
        ("?".to_string(), -1)
    };
    let ask = master::SyncAsk {
        client_id,
        fd,
        addr,
        replid,
        from,
        is_replica,
        psync: args.len() == 3,
    };
    master::begin_sync(ctx.shard, ask)?;
    ctx.client().replica = true;
    Ok(())
}

fn replicaof(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    if ctx.shard.slot_map.cluster_enabled {
        return Err(ReplyError::other(
            "ERR REPLICAOF not allowed in cluster mode.",
        ));
    }
    let (host, port) = (args.get(1), args.get(2));
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        replication::become_master(&global);
        ctx.out.ok();
        return Ok(());
    }
    let port = parse_i64(port)
        .filter(|p| (0..=65535).contains(p))
        .ok_or(ReplyError::other("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(host).to_string();
    if replication::start_replica_of(&global, &host, port as u16) {
        ctx.out.ok();
    } else {
        ctx.out.simple("OK Already connected to specified master");
    }
    Ok(())
}

fn role(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    let st = global.repl.state();
    let o = &mut ctx.out;
    if let Some(l) = st.link.as_ref() {
        o.array(5);
        o.bulk(b"slave");
        o.bulk(l.host.as_bytes());
        o.int(l.port as i64);
        o.bulk(l.state.role_name().as_bytes());
        let off = if l.state == LinkState::Connected {
            l.processed_offset as i64
        } else {
            -1
        };
        o.int(off);
        return Ok(());
    }
    o.array(3);
    o.bulk(b"master");
    o.int(st.offset as i64);
    // Only replicas past their initial sync are listed, as in Redis.
    let online: Vec<_> = st.replicas.iter().filter(|r| r.online).collect();
    o.array(online.len());
    for r in online {
        o.array(3);
        o.bulk(r.ip.as_bytes());
        o.bulk(r.listening_port.to_string().as_bytes());
        o.bulk(r.ack_offset.to_string().as_bytes());
    }
    Ok(())
}

fn wait(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    if global.repl.is_replica.load(Ordering::Acquire) {
        return Err(ReplyError::other(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis \
             4.0 if a replica is configured to be writable (which is not the default) writes to \
             replicas are just local and are not propagated.",
        ));
    }
    let mut cur = ArgCursor::new(args, 1);
    let num = cur.next_i64()?;
    let timeout_ms = cur
        .next_i64()
        .map_err(|_| ReplyError::other("ERR timeout is not an integer or out of range"))?;
    if timeout_ms < 0 {
        return Err(ReplyError::TimeoutNegative);
    }
    // This shard's writes of this turn go to the stream first: the target covers them. The
    // target is the whole stream so far (a superset of this client's writes), or nothing for
    // a client that never wrote.
    replication::feed_journal(ctx.shard);
    let target = match ctx.client().wrote {
        true => global.repl.offset.load(Ordering::Acquire),
        false => 0,
    };
    let acked = master::acked_count(&global, target);
    // Inside MULTI/EXEC (the client's current command is then EXEC) WAIT never blocks.
    let top_level = ctx.client().last_cmd == "wait" && ctx.client().multi.is_none();
    if acked >= num || !top_level {
        ctx.out.int(acked);
        return Ok(());
    }
    master::ask_acks(&global);
    let deadline_ms = if timeout_ms == 0 {
        0
    } else {
        ctx.now_ms.saturating_add(timeout_ms as u64)
    };
    ctx.shard.repl.wait_request = Some(master::WaitReq {
        target,
        numreplicas: num,
        deadline_ms,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testkit::{Harness, Reply};

    #[test]
    fn role_and_wait_on_a_lone_master() {
        // Guards ROLE's master shape and WAIT's immediate answer with no replicas wanted.
        let mut h = Harness::new();
        let r = h.run(&["ROLE"]);
        let Reply::Array(items) = r else {
            panic!("ROLE is an array")
        };
        assert_eq!(items[0], Reply::bulk("master"));
        assert_eq!(items[2], Reply::Array(vec![]));
        assert_eq!(h.run(&["WAIT", "0", "0"]), Reply::Int(0));
        assert_eq!(
            h.run(&["WAIT", "x", "0"]),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["WAIT", "1", "-1"]),
            Reply::err("ERR timeout is negative")
        );
        assert_eq!(h.run(&["WAIT", "1", "10"]), Reply::Int(0));
        // Inside a transaction WAIT answers at once.
        assert_eq!(h.run(&["MULTI"]), Reply::ok());
        assert_eq!(h.run(&["WAIT", "1", "0"]), Reply::Simple("QUEUED".into()));
        assert_eq!(h.run(&["EXEC"]), Reply::Array(vec![Reply::Int(0)]));
    }

    #[test]
    fn replconf_options() {
        // Guards REPLCONF's pair check, known options and the unknown-option error.
        let mut h = Harness::new();
        assert_eq!(h.run(&["REPLCONF", "listening-port", "7000"]), Reply::ok());
        assert_eq!(
            h.run(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
            Reply::ok()
        );
        assert_eq!(h.run(&["REPLCONF", "capa"]), Reply::err("ERR syntax error"));
        assert_eq!(
            h.run(&["REPLCONF", "foo", "1"]),
            Reply::err("ERR Unrecognized REPLCONF option: foo")
        );
        assert_eq!(
            h.run(&["REPLICAOF", "h", "x"]),
            Reply::err("ERR Invalid master port")
        );
    }

    #[test]
    fn replconf_rdb_only_and_filters() {
        // Guards Redis 7.0's checks of rdb-only and rdb-filter-only, and the filtered-payload
        // rule (EOF capability required) SYNC applies.
        let mut h = Harness::new();
        assert_eq!(h.run(&["REPLCONF", "rdb-only", "1"]), Reply::ok());
        assert_eq!(
            h.run(&["REPLCONF", "rdb-only", "2"]),
            Reply::err("ERR value is out of range, value must between 0 and 1")
        );
        assert_eq!(
            h.run(&["REPLCONF", "rdb-only", "x"]),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["REPLCONF", "rdb-filter-only", "bogus"]),
            Reply::err("ERR Unsupported rdb-filter-only option: bogus")
        );
        assert_eq!(
            h.run(&["REPLCONF", "rdb-filter-only", "functions"]),
            Reply::ok()
        );
        assert_eq!(
            h.run(&["SYNC"]),
            Reply::err("ERR Filtered replica requires EOF capability")
        );
        assert_eq!(h.run(&["REPLCONF", "rdb-filter-only", ""]), Reply::ok());
    }
}
