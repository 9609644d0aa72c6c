//! MONITOR, RESET and LOLWUT: the connection-level commands of operators' tools. The lines a
//! monitor receives are made and delivered by `shard::monitors` and the event loop; the
//! dispatcher decides which commands are shown (`feed_command`).

use super::spec::{arg, opt, tok, CommandSpec};
use super::{flags::*, CmdResult, ConnCtx};
use crate::resp::{Args, Proto, ReplyError};
use crate::shard::monitors::{self, Origin};
use crate::shard::Shard;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::conn("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, monitor)
        .group("server", super::spec::acl::ADMIN)
        .since("1.0.0")
        .summary("Listen for all requests received by the server in real time"),
    CommandSpec::conn(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        reset,
    )
    .group("connection", super::spec::acl::CONNECTION)
    .since("6.2.0")
    .complexity("O(1)")
    .summary("Reset the connection"),
    CommandSpec::conn("lolwut", -1, READONLY | FAST, lolwut)
        .group("server", super::spec::acl::READ)
        .since("5.0.0")
        .summary("Display some computer art and the Redis version")
        .args(&[opt(tok("VERSION", arg("version", "integer")))]),
];

fn monitor(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    // Inside EXEC (where blocking commands answer at once) a reply per command is expected.
    if ctx.shard.no_block {
        return Err(ReplyError::other(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    // A second MONITOR is answered by nothing at all, as in Redis.
    if ctx.client().monitor {
        return Ok(());
    }
    monitors::start(ctx.shard, ctx.client_idx);
    ctx.out.ok();
    Ok(())
}

/// Redis' clearClientConnectionState: leaves MONITOR, MULTI, WATCH and every subscription,
/// selects database 0, RESP2, no name, no READONLY/ASKING, and the default user's
/// authentication (so with `requirepass` the client must AUTH again). NO-EVICT stays.
fn reset(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let idx = ctx.client_idx;
    monitors::stop(ctx.shard, idx);
    super::pubsub::forget_client(ctx.shard, idx);
    let nopass = ctx.shard.global.cfg(|c| c.requirepass.is_none());
    let c = ctx.client();
    c.multi = None;
    c.watch = None;
    c.db = 0;
    c.proto = Proto::Resp2;
    c.name = None;
    c.readonly = false;
    c.asking = false;
    c.authenticated = nopass;
    ctx.shard.sel = 0;
    ctx.out.simple("RESET");
    Ok(())
}

/// LOLWUT answers Redis 7.0's version line. Versions 5 and 6 draw random art in Redis, which
/// slotd does not draw: refused rather than answered differently.
fn lolwut(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut version = (crate::constants::REDIS_VERSION_NUM >> 16) as i64;
    // Redis ignores arguments other than `VERSION n`.
    if args.len() == 3 && args.get(1).eq_ignore_ascii_case(b"version") {
        version = super::kit::number::parse_i64(args.get(2)).ok_or(ReplyError::NotInteger)?;
    }
    if version == 5 || version == 6 {
        return Err(ReplyError::other(format!(
            "ERR LOLWUT VERSION {version} draws computer art slotd does not draw"
        )));
    }
    let text = format!("Redis ver. {}\n", crate::constants::REDIS_VERSION);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// Feeds a client's command to the monitors, as Redis' call() does after running it: not
/// for administrative commands or those flagged `skip_monitor` (EVAL's family feeds itself
/// before its `redis.call`s, so the dispatcher calls this before running a keyed command).
/// Called only while `monitors::active`.
pub fn feed_command(sh: &mut Shard, client_idx: usize, spec: &CommandSpec, args: Args<'_>) {
    if spec.flags & (ADMIN | SKIP_MONITOR) != 0 && !is_script_run(spec) {
        return;
    }
    let Some(c) = sh.clients.get(client_idx) else {
        return;
    };
    let mut redact = Vec::new();
    monitors::redacted_positions(spec.name, args, &mut redact);
    let (db, addr) = (c.db, c.addr.clone());
    monitors::feed(sh, db, Origin::Client(&addr), args, &redact);
}

/// EVAL, EVALSHA, FCALL and their read-only forms are `skip_monitor` in Redis' table only
/// because they feed the monitors themselves, before the script's own commands.
fn is_script_run(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// Feeds the commands a transaction runs, before EXEC's own line (Redis' order).
pub fn feed_queued(
    sh: &mut Shard,
    client_idx: usize,
    queued: &[(crate::command_id::CommandId, crate::resp::OwnedArgs)],
) {
    for (id, a) in queued {
        let spec = super::registry::spec_of(*id);
        feed_command(sh, client_idx, spec, a.args());
    }
}

/// A monitor may not touch the keyspace (Redis treats it as a replica): the refusal for a
/// command that reads, writes or may replicate, if `spec` is one.
pub fn monitor_refusal(spec: &CommandSpec) -> Option<ReplyError> {
    (spec.flags & (WRITE | READONLY | MAY_REPLICATE) != 0)
        .then(|| ReplyError::other("ERR Replica can't interact with the keyspace"))
}

#[cfg(test)]
mod tests {
    use crate::testkit::{Harness, Reply};

    #[test]
    fn lolwut_and_reset() {
        // LOLWUT answers the version line; RESET clears the connection's state.
        let mut h = Harness::new();
        let text = |r: Reply| match r {
            Reply::Bulk(b) => String::from_utf8(b).unwrap(),
            Reply::Verbatim(s) => s,
            other => panic!("{other:?}"),
        };
        let v = "Redis ver. 7.0.15\n";
        assert_eq!(text(h.run(&["LOLWUT"])), v);
        assert_eq!(text(h.run(&["LOLWUT", "VERSION", "7"])), v);
        assert_eq!(text(h.run(&["LOLWUT", "foo"])), v);
        let e = Reply::err("ERR value is not an integer or out of range");
        assert_eq!(h.run(&["LOLWUT", "VERSION", "x"]), e);
        h.run(&["CLIENT", "SETNAME", "n"]);
        h.run(&["SELECT", "3"]);
        h.run(&["MULTI"]);
        assert_eq!(h.run(&["RESET"]), Reply::Simple("RESET".into()));
        let c = h.shard.clients.get_mut(h.client);
        assert!(c.name.is_none() && c.db == 0 && c.multi.is_none());
    }

    #[test]
    fn monitor_lines() {
        // MONITOR turns the client into a monitor; lines are fed in Redis' format.
        let mut h = Harness::new();
        assert_eq!(h.run(&["MONITOR"]), Reply::ok());
        assert!(h.shard.clients.get_mut(h.client).monitor);
        assert!(crate::shard::monitors::active(&h.shard.global));
        let e = Reply::err("ERR Replica can't interact with the keyspace");
        assert_eq!(h.run(&["GET", "k"]), e);
        h.shard.monitor.pending.clear();
        h.run(&["AUTH", "x"]);
        let line = String::from_utf8(std::mem::take(&mut h.shard.monitor.pending)).unwrap();
        assert!(line.starts_with('+') && line.ends_with("] \"AUTH\" \"(redacted)\"\r\n"));
        assert!(line.contains(" [0 127.0.0.1:40000] "), "{line}");
        assert_eq!(h.run(&["RESET"]), Reply::Simple("RESET".into()));
        assert!(!crate::shard::monitors::active(&h.shard.global));
    }
}
