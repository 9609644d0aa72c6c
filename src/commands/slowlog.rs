//! SLOWLOG GET/LEN/RESET/HELP: the commands slower than `slowlog-log-slower-than`, node-wide
//! (`global::slowlog`; the dispatcher logs them, `dispatch::observe`).

use super::kit::number::parse_i64;
use super::spec::{acl, arg, opt};
use super::{flags::*, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::constants::SLOWLOG_GET_DEFAULT_COUNT;
use crate::global::slowlog::Caller;
use crate::resp::{Args, ReplyError};

/// The help lines are part of the reply format clients may show, so they match Redis'.
const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// A HELP reply of Redis' fixed lines (SLOWLOG's, LATENCY's), as status strings.
pub(super) fn reply_help(ctx: &mut ConnCtx<'_>, lines: &[&str]) -> CmdResult {
    ctx.out.array(lines.len());
    for line in lines {
        ctx.out.simple(line);
    }
    Ok(())
}

fn slowlog_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    reply_help(ctx, SLOWLOG_HELP)
}

fn slowlog_len(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.shard.global.observe.slowlog.len();
    ctx.out.int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.shard.global.observe.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

fn slowlog_get(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let count = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                return Err(ReplyError::other(
                    "ERR count should be greater than or equal to -1",
                ))
            }
        }
    } else {
        Some(SLOWLOG_GET_DEFAULT_COUNT)
    };
    resolve_remote_callers(ctx)?;
    let entries = ctx.shard.global.observe.slowlog.newest(count);
    ctx.out.array(entries.len());
    for e in &entries {
        ctx.out.array(6);
        ctx.out.int(e.id as i64);
        ctx.out.int(e.unix_s as i64);
        ctx.out.int(e.duration_us as i64);
        ctx.out.array(e.args.len());
        for a in &e.args {
            ctx.out.bulk(a);
        }
        match &e.caller {
            Caller::Known { addr, name } => {
                ctx.out.bulk(addr.as_bytes());
                ctx.out.bulk(name);
            }
            Caller::Remote { .. } => {
                ctx.out.bulk(b"");
                ctx.out.bulk(b"");
            }
        }
    }
    Ok(())
}

/// Entries of commands another shard sent get their client's address and name from the
/// shard that holds the connection (once; a client gone since shows as empty).
fn resolve_remote_callers(ctx: &mut ConnCtx<'_>) -> Result<(), ReplyError> {
    let log = &ctx.shard.global.observe.slowlog;
    let unresolved = log.unresolved();
    if unresolved.is_empty() {
        return Ok(());
    }
    let clients = ctx.shard.try_call_all(|sh| {
        sh.clients
            .iter()
            .map(|(_, c)| {
                let name = c.name.clone().unwrap_or_default();
                (sh.id, c.conn_slot, c.conn_gen, c.addr.clone(), name)
            })
            .collect::<Vec<_>>()
    })?;
    let log = &ctx.shard.global.observe.slowlog;
    for remote in &unresolved {
        let Caller::Remote { home, idx, gen } = *remote else {
            continue;
        };
        let found = clients
            .iter()
            .flatten()
            .find(|c| c.0 == home && c.1 == idx && c.2 == gen);
        let known = match found {
            Some((_, _, _, addr, name)) => Caller::Known {
                addr: addr.clone(),
                name: name.clone(),
            },
            None => Caller::Known {
                addr: String::new(),
                name: Vec::new(),
            },
        };
        log.resolve(remote, &known);
    }
    Ok(())
}

const ADMIN_LS: u32 = ADMIN | LOADING | STALE;

/// A SLOWLOG subcommand (group server, @slow).
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    f: super::ConnFn,
    complexity: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: "server",
        acl: acl::SLOW,
        since: "2.2.12",
        complexity,
        summary,
        ..CommandSpec::conn(name, arity, flags, f)
    }
}

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "get",
        -2,
        ADMIN_LS,
        slowlog_get,
        "O(N) where N is the number of entries returned",
        "Get the slow log's entries",
    )
    .args(&[opt(arg("count", "integer"))])
    .history(&[(
        "4.0.0",
        "Added client IP address, port and name to the reply.",
    )])
    .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    sub(
        "len",
        2,
        ADMIN_LS,
        slowlog_len,
        "O(1)",
        "Get the slow log's length",
    )
    .tips(&[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ]),
    sub(
        "reset",
        2,
        ADMIN_LS,
        slowlog_reset,
        "O(N) where N is the number of entries in the slowlog",
        "Clear all entries from the slow log",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    sub(
        "help",
        2,
        LOADING | STALE,
        slowlog_help,
        "O(1)",
        "Show helpful text about the different subcommands",
    )
    .since("6.2.0"),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    group: "server",
    since: "2.2.12",
    complexity: "Depends on subcommand.",
    summary: "A container for slow log commands",
    subcommands: SLOWLOG_SUBCOMMANDS,
    ..CommandSpec::new("slowlog", -2, 0, KeySpec::None, Handler::Container)
}];
