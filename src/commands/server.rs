//! Server and connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT, TIME, LASTSAVE,
//! DEBUG, SHUTDOWN and CONFIG, plus the one table (`COMMANDS`) that also lists INFO, CLIENT and
//! COMMAND, whose handlers live in `info`, `client` and `command_docs`.

use super::kit::number::{c_str, strtod};
use super::kit::ArgCursor;
use super::spec::{acl, arg, block, multi, oneof, opt, pure, since, tok};
use super::{
    client, command_docs, flags::*, info, AfterReply, ArgDoc, CmdResult, CommandSpec, ConnCtx,
    Handler, KeySpec,
};
use crate::resp::{Args, Proto, ReplyError};
use crate::shard::parked::Parked;
use std::sync::atomic::Ordering;

/// The version slotd reports as `redis_version` and in HELLO: the Redis release it mirrors.
pub const REDIS_VERSION: &str = crate::constants::REDIS_VERSION;

/// A command of the connection group (ACL category @connection).
const CONNECTION: (&str, u32) = ("connection", acl::CONNECTION);
/// A command of the server group (no ACL category of its own).
const SERVER: (&str, u32) = ("server", 0);

/// A connection-level command with docs; `group` is a group and its ACL category.
const fn conn(
    name: &'static str,
    arity: i32,
    flags: u32,
    f: super::ConnFn,
    group: (&'static str, u32),
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: group.0,
        acl: group.1,
        since,
        summary,
        complexity: "O(1)",
        ..CommandSpec::conn(name, arity, flags, f)
    }
}

const LS: u32 = LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[
    conn(
        "ping",
        -1,
        FAST,
        ping,
        CONNECTION,
        "1.0.0",
        "Check that the server answers",
    )
    .args(&[opt(arg("message", "string"))])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    conn(
        "echo",
        2,
        LS | FAST,
        echo,
        CONNECTION,
        "1.0.0",
        "Reply with the given string",
    )
    .args(&[arg("message", "string")]),
    conn(
        "quit",
        -1,
        NOSCRIPT | LS | FAST | NO_AUTH | ALLOW_BUSY,
        quit,
        CONNECTION,
        "1.0.0",
        "Close this connection after the reply",
    ),
    conn(
        "auth",
        -2,
        NOSCRIPT | LS | FAST | NO_AUTH | ALLOW_BUSY,
        auth,
        CONNECTION,
        "1.0.0",
        "Authenticate this connection",
    )
    .complexity("O(N) where N is the number of passwords defined for the user")
    .args(AUTH_ARGS)
    .history(&[("6.0.0", "Added ACL style (username and password).")]),
    conn(
        "hello",
        -1,
        NOSCRIPT | LS | FAST | NO_AUTH | ALLOW_BUSY,
        hello,
        CONNECTION,
        "6.0.0",
        "Negotiate the protocol version and describe the server",
    )
    .args(HELLO_ARGS)
    .history(&[(
        "6.2.0",
        "`protover` made optional; when called without arguments the command \
                 reports the current connection's context.",
    )]),
    conn(
        "select",
        2,
        LS | FAST,
        select,
        CONNECTION,
        "1.0.0",
        "Choose the database",
    )
    .args(&[arg("index", "integer")]),
    conn(
        "time",
        1,
        LS | FAST,
        time,
        SERVER,
        "2.6.0",
        "The server's clock",
    )
    .tips(&["nondeterministic_output"]),
    conn(
        "lastsave",
        1,
        LS | FAST,
        lastsave,
        SERVER,
        "1.0.0",
        "Unix time of the last successful save to disk",
    )
    .acl(crate::commands::spec::acl::ADMIN | crate::commands::spec::acl::DANGEROUS)
    .tips(&["nondeterministic_output"]),
    conn(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LS | PROTECTED,
        debug,
        SERVER,
        "1.0.0",
        "Helpers for testing the server",
    )
    .complexity("Depends on subcommand.")
    .doc_flags(crate::commands::spec::docflag::SYSCMD),
    conn(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LS | NO_MULTI | ALLOW_BUSY,
        shutdown,
        SERVER,
        "1.0.0",
        "Stop the server",
    )
    .complexity(
        "O(N) when saving, where N is the total number of keys in all databases \
                     when saving data, otherwise O(1)",
    )
    .args(SHUTDOWN_ARGS)
    .history(&[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")]),
    conn(
        "info",
        -1,
        LS,
        info::info,
        SERVER,
        "1.0.0",
        "Report server state and counters",
    )
    .acl(crate::commands::spec::acl::DANGEROUS)
    .args(&[opt(multi(arg("section", "string")))])
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])
    .history(&[(
        "7.0.0",
        "Added support for taking multiple section arguments.",
    )]),
    container(
        "config",
        "server",
        "2.0.0",
        "Read and change the configuration",
    )
    .complexity("Depends on subcommand.")
    .subcommands(CONFIG_SUBCOMMANDS),
    container(
        "client",
        "connection",
        "2.4.0",
        "Inspect and manage connections",
    )
    .complexity("Depends on subcommand.")
    .subcommands(client::SUBCOMMANDS),
    conn(
        "command",
        -1,
        LS,
        command_docs::command,
        SERVER,
        "2.8.13",
        "Describe the commands this server knows",
    )
    .acl(crate::commands::spec::acl::CONNECTION)
    .complexity("O(N) where N is the total number of Redis commands")
    .args(&[])
    .subcommands(command_docs::SUBCOMMANDS)
    .tips(&["nondeterministic_output_order"]),
];

/// A command whose handler is chosen by its subcommand.
const fn container(
    name: &'static str,
    group: &'static str,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group,
        since,
        summary,
        ..CommandSpec::new(name, -2, 0, KeySpec::None, Handler::Container)
    }
}

const AUTH_ARGS: &[ArgDoc] = &[
    since("6.0.0", opt(arg("username", "string"))),
    arg("password", "string"),
];

const HELLO_ARGS: &[ArgDoc] = &[opt(block(
    "arguments",
    &[
        arg("protover", "integer"),
        opt(tok(
            "AUTH",
            block(
                "username_password",
                &[arg("username", "string"), arg("password", "string")],
            ),
        )),
        opt(tok("SETNAME", arg("clientname", "string"))),
    ],
))];

const SHUTDOWN_ARGS: &[ArgDoc] = &[
    opt(oneof(
        "nosave_save",
        &[pure("nosave", "NOSAVE"), pure("save", "SAVE")],
    )),
    since("7.0.0", opt(pure("now", "NOW"))),
    since("7.0.0", opt(pure("force", "FORCE"))),
    since("7.0.0", opt(pure("abort", "ABORT"))),
];

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    conn(
        "get",
        -3,
        ADMIN | NOSCRIPT | LS,
        config_get,
        SERVER,
        "2.0.0",
        "Read configuration parameters matching glob patterns",
    )
    .complexity("O(N) when N is the number of configuration parameters provided")
    .args(&[multi(block("parameter", &[arg("parameter", "string")]))])
    .history(&[(
        "7.0.0",
        "Added the ability to pass multiple pattern parameters in one call",
    )]),
    conn(
        "set",
        -4,
        ADMIN | NOSCRIPT | LS,
        config_set,
        SERVER,
        "2.0.0",
        "Change configuration parameters at run time, all or none",
    )
    .complexity("O(N) when N is the number of configuration parameters provided")
    .args(&[multi(block(
        "parameter_value",
        &[arg("parameter", "string"), arg("value", "string")],
    ))])
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .history(&[(
        "7.0.0",
        "Added the ability to set multiple parameters in one call.",
    )]),
    conn(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LS,
        config_resetstat,
        SERVER,
        "2.0.0",
        "Zero the counters INFO reports",
    ),
    conn(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LS,
        super::failover::config_rewrite,
        SERVER,
        "2.8.0",
        "Write the running configuration back into the config file",
    ),
    conn(
        "help",
        2,
        LS,
        config_help,
        SERVER,
        "5.0.0",
        "List the CONFIG subcommands",
    ),
];

/// Writes a HELP reply: the usage line, then each (syntax, explanation) pair, then HELP.
pub fn write_help(ctx: &mut ConnCtx<'_>, cmd: &str, items: &[(&str, &str)]) {
    ctx.out.array(2 + items.len() * 2 + 1);
    let usage = format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    ctx.out.simple(&usage);
    for (syntax, what) in items {
        ctx.out.simple(syntax);
        ctx.out.simple(&format!("    {what}"));
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Print this help.");
}

fn ping(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    // As Redis: after a failed BGSAVE that stops writes, PING reports it too.
    if ctx.shard.global.rdb.writes_refused.load(Ordering::Relaxed) {
        return Err(ReplyError::other(super::persistence::MISCONF_RDB_TEXT));
    }
    // A subscribed RESP2 client gets PING's answer as a pong push-style array.
    let c = ctx.client();
    if c.proto == crate::resp::Proto::Resp2 && c.sub_count() > 0 && args.len() <= 2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out
            .bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(ReplyError::Arity("ping".into())),
    }
    Ok(())
}

fn echo(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.out.bulk(args.get(1));
    Ok(())
}

fn quit(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.ok();
    ctx.after = AfterReply::Close;
    Ok(())
}

/// Checks a user/password pair against the only user slotd has: "default", whose password is
/// `requirepass` (none means any password is accepted, as with Redis' `nopass`).
fn check_user(ctx: &ConnCtx<'_>, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match ctx.shard.global.cfg(|c| c.requirepass.clone()) {
        None => true,
        Some(p) => crate::auth::password_matches(&p, pass),
    }
}

fn auth(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let ok = match args.len() {
        2 => {
            let Some(p) = ctx.shard.global.cfg(|c| c.requirepass.clone()) else {
                return Err(ReplyError::other(
                    "ERR AUTH <password> called without any password configured for the \
                     default user. Are you sure your configuration is correct?",
                ));
            };
            crate::auth::password_matches(&p, args.get(1))
        }
        3 => check_user(ctx, args.get(1), args.get(2)),
        _ => return Err(ReplyError::Syntax),
    };
    if !ok {
        return Err(ReplyError::WrongPass);
    }
    ctx.client().authenticated = true;
    ctx.out.ok();
    Ok(())
}

/// Redis' rule for client names: printable ASCII without spaces.
pub fn validate_client_name(name: &[u8]) -> CmdResult {
    if name.iter().all(|&c| (b'!'..=b'~').contains(&c)) {
        return Ok(());
    }
    Err(ReplyError::other(
        "ERR Client names cannot contain spaces, newlines or special characters.",
    ))
}

/// Parsed HELLO options.
struct HelloOpts<'a> {
    proto: Option<Proto>,
    auth: Option<(&'a [u8], &'a [u8])>,
    name: Option<&'a [u8]>,
}

fn parse_hello(args: Args<'_>) -> Result<HelloOpts<'_>, ReplyError> {
    let mut o = HelloOpts {
        proto: None,
        auth: None,
        name: None,
    };
    let mut cur = ArgCursor::new(args, 1);
    if !cur.is_done() {
        let v = cur.next_i64().map_err(|_| {
            ReplyError::other("ERR Protocol version is not an integer or out of range")
        })?;
        o.proto = match v {
            2 => Some(Proto::Resp2),
            3 => Some(Proto::Resp3),
            _ => return Err(ReplyError::other("NOPROTO unsupported protocol version")),
        };
    }
    while !cur.is_done() {
        let opt = cur.next()?;
        let more = cur.remaining();
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            o.auth = Some((cur.next()?, cur.next()?));
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            let name = cur.next()?;
            validate_client_name(name)?;
            o.name = Some(name);
        } else {
            let shown = crate::resp::error::sanitize_for_error(opt);
            return Err(ReplyError::other(format!(
                "ERR Syntax error in HELLO option '{shown}'"
            )));
        }
    }
    Ok(o)
}

fn hello(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_hello(args)?;
    if let Some((user, pass)) = o.auth {
        if !check_user(ctx, user, pass) {
            return Err(ReplyError::WrongPass);
        }
        ctx.client().authenticated = true;
    }
    let needs_pass = ctx.shard.global.cfg(|c| c.requirepass.is_some());
    if needs_pass && !ctx.client().authenticated {
        return Err(ReplyError::other(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = o.name {
        ctx.client().name = (!name.is_empty()).then(|| name.to_vec());
    }
    if let Some(p) = o.proto {
        ctx.client().proto = p;
        ctx.out.proto = p;
    }
    write_hello_map(ctx);
    Ok(())
}

fn write_hello_map(ctx: &mut ConnCtx<'_>) {
    let id = ctx.client().id;
    let proto = if ctx.out.resp3() { 3 } else { 2 };
    let mode = if ctx.shard.slot_map.cluster_enabled {
        "cluster"
    } else {
        "standalone"
    };
    let standalone_replica = ctx
        .shard
        .global
        .repl
        .is_replica
        .load(std::sync::atomic::Ordering::Relaxed);
    let role = if ctx.shard.slot_map.myself_is_replica || standalone_replica {
        "replica"
    } else {
        "master"
    };
    let o = &mut ctx.out;
    o.map(7);
    o.bulk(b"server");
    o.bulk(b"redis");
    o.bulk(b"version");
    o.bulk(REDIS_VERSION.as_bytes());
    o.bulk(b"proto");
    o.int(proto);
    o.bulk(b"id");
    o.int(id as i64);
    o.bulk(b"mode");
    o.bulk(mode.as_bytes());
    o.bulk(b"role");
    o.bulk(role.as_bytes());
    o.bulk(b"modules");
    o.array(0);
}

fn select(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    // Cluster mode too: several databases there are Valkey 9's behaviour (Redis 7 allows 0).
    let id = ArgCursor::new(args, 1).next_c_int()?;
    if id < 0 || id as u32 >= ctx.shard.databases.max(1) {
        return Err(ReplyError::DbIndexOutOfRange);
    }
    ctx.client().db = id as u32;
    ctx.out.ok();
    Ok(())
}

fn time(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_int(now.as_secs() as i64);
    ctx.out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

fn lastsave(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let t = ctx.shard.global.lastsave_unix.load(Ordering::Relaxed);
    ctx.out.int(t as i64);
    Ok(())
}

fn debug(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let sub = args.get(1);
    if sub.eq_ignore_ascii_case(b"help") && args.len() == 2 {
        write_help(
            ctx,
            "DEBUG",
            &[
                (
                    "RELOAD",
                    "Write every shard's AOF base, drop the data set and load it back.",
                ),
                (
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "0 stops expiring keys in the background (they still expire when \
                     accessed); 1 turns it back on.",
                ),
                (
                    "SLEEP <seconds>",
                    "Block this shard for <seconds> (fractions allowed).",
                ),
            ],
        );
        return Ok(());
    }
    if sub.eq_ignore_ascii_case(b"digest-value") {
        return super::migrate::debug_digest_value(ctx, args);
    }
    if sub.eq_ignore_ascii_case(b"drop-cluster-packet-filter") && args.len() == 3 {
        return super::cluster_admin::debug_drop_packet_filter(ctx, args);
    }
    if sub.eq_ignore_ascii_case(b"reload") && args.len() == 2 {
        return debug_reload(ctx);
    }
    if sub.eq_ignore_ascii_case(b"set-active-expire") && args.len() == 3 {
        // As Redis: C's atoi of the argument, so anything not a non-zero number turns it off.
        let on = c_atoi(args.get(2)) != 0;
        ctx.shard.global.active_expire.store(on, Ordering::Relaxed);
        ctx.out.ok();
        return Ok(());
    }
    if sub.eq_ignore_ascii_case(b"sleep") && args.len() == 3 {
        // Seconds as C's `strtod` reads them (Redis' DEBUG SLEEP): garbage reads as 0.
        let (secs, _, _) = strtod(c_str(args.get(2)));
        // Negative, NaN and absurd values sleep not at all rather than panic.
        let d = std::time::Duration::try_from_secs_f64(secs).unwrap_or_default();
        std::thread::sleep(d);
        ctx.out.ok();
        return Ok(());
    }
    Err(ReplyError::SubcommandOrArity {
        cmd: "DEBUG",
        sub: crate::resp::error::sanitize_for_error(sub),
    })
}

/// C's `atoi`: leading blanks, a sign, then the digits up to the first other byte (0 when
/// there are none; wraps rather than overflows).
fn c_atoi(b: &[u8]) -> i64 {
    let s = c_str(b);
    let mut i = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut v: i64 = 0;
    for &c in s[i..].iter().take_while(|c| c.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add(i64::from(c - b'0'));
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// DEBUG RELOAD: as Redis, `dump.rdb` is saved, the data set dropped and the file loaded back
/// while all shards are parked, so the data set afterwards is exactly what the file holds.
fn debug_reload(ctx: &mut ConnCtx<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let ids: Vec<usize> = (0..ctx.shard.shards).collect();
    let mut result = Ok(());
    if ctx.shard.peers.is_none() {
        result = crate::aof::reload_parked(ctx.shard, &mut Parked::none(), now);
    } else {
        ctx.shard.with_parked(&ids, &mut |me, mut peers| {
            result = crate::aof::reload_parked(me, &mut peers, now);
        });
    }
    match result {
        Ok(()) => {}
        // Redis' replies: a bare -ERR when the save failed, its text when the load did.
        Err(crate::aof::ReloadError::Save(e)) => {
            crate::log::warning(&format!("DEBUG RELOAD could not save the RDB file: {e}"));
            return Err(ReplyError::other("ERR"));
        }
        Err(crate::aof::ReloadError::Load(e)) => {
            crate::log::warning(&format!("DEBUG RELOAD could not load the RDB file: {e}"));
            return Err(ReplyError::other(
                "ERR Error trying to load the RDB dump, check server logs.",
            ));
        }
    }
    ctx.out.ok();
    Ok(())
}

fn shutdown(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let (mut nosave, mut save, mut abort, mut others) = (false, false, false, false);
    let mut now = false;
    let mut cur = ArgCursor::new(args, 1);
    while !cur.is_done() {
        if cur.flag("NOSAVE") {
            nosave = true;
        } else if cur.flag("SAVE") {
            save = true;
        } else if cur.flag("NOW") {
            now = true;
            others = true;
        } else if cur.flag("FORCE") {
            others = true;
        } else if cur.flag("ABORT") {
            abort = true;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    if (nosave && save) || (abort && (nosave || save || others)) {
        return Err(ReplyError::Syntax);
    }
    let g = &ctx.shard.global;
    if abort {
        // Only the wait for lagging replicas (shutdown-timeout) can be cancelled.
        if !g.stop_requested.load(Ordering::SeqCst) || g.shutting_down.load(Ordering::SeqCst) {
            return Err(ReplyError::other("ERR No shutdown in progress."));
        }
        g.shutdown_abort.store(true, Ordering::SeqCst);
        ctx.out.ok();
        return Ok(());
    }
    // A script past busy-reply-threshold: only SHUTDOWN NOSAVE stops the server.
    if !nosave {
        if let Some(e) = crate::commands::busy::refusal_any(g) {
            return Err(e);
        }
    }
    if now {
        g.shutdown_now.store(true, Ordering::SeqCst);
    }
    if save || (!nosave && g.cfg(super::persistence::has_save_points)) {
        // As Redis: the final RDB snapshot, in the foreground; a failed save keeps us running.
        let g = g.clone();
        if super::persistence::kill_bgsave(&g) {
            crate::log::warning("There is a child saving an .rdb. Killing it!");
        }
        crate::log::notice("Saving the final RDB snapshot before exiting.");
        if let Err(e) = super::persistence::save_all(ctx.shard, ctx.now_ms) {
            crate::log::warning(&e);
            crate::log::warning("Error trying to save the DB, can't exit.");
            crate::log::warning(
                "Errors trying to shut down the server. Check the logs for more information.",
            );
            g.shutdown_now.store(false, Ordering::SeqCst);
            return Err(ReplyError::other(
                "ERR Errors trying to SHUTDOWN. Check logs.",
            ));
        }
    }
    let g = &ctx.shard.global;
    g.shutdown_nosave.store(nosave, Ordering::SeqCst);
    g.request_shutdown();
    ctx.after = AfterReply::Shutdown;
    Ok(())
}

fn config_get(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    let pairs = ctx
        .shard
        .global
        .cfg(|c| crate::config::get_params(c, &patterns));
    ctx.out.map(pairs.len());
    for (name, value) in &pairs {
        ctx.out.bulk(name.as_bytes());
        ctx.out.bulk(value.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut cur = ArgCursor::new(args, 2);
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(cur.remaining() / 2);
    while !cur.is_done() {
        pairs.push((cur.next()?, cur.next()?));
    }
    let shards = ctx.shard.shards;
    // One CONFIG SET at a time, until its values are published: two running on different
    // shards could otherwise leave the output limits in force differing from CONFIG GET.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let r = {
        let mut cfg = ctx
            .shard
            .global
            .config
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let mut staged = cfg.clone();
        let r = crate::config::set_params(&mut staged, &pairs)
            .and_then(|()| fit_maxclients(&staged, &cfg, &pairs, shards));
        if r.is_ok() {
            *cfg = staged;
        }
        // Settings read on every use need nothing more; the log level lives in the logger,
        // the lazy-free settings in `lazyfree`.
        crate::log::set_level(cfg.loglevel);
        if r.is_ok() {
            let evict = crate::keyspace::evict::Settings::from_config(&cfg);
            ctx.shard.global.maxmemory.store(evict);
            let busy_ms = crate::config::busy_reply_threshold_ms(&cfg);
            let g = &ctx.shard.global;
            g.busy_reply_threshold_ms.store(busy_ms, Ordering::Relaxed);
            let hll_max = crate::config::hll_sparse_max_bytes(&cfg);
            g.hll_sparse_max_bytes.store(hll_max, Ordering::Relaxed);
            let events = crate::config::keyspace_events::configured(&cfg);
            g.keyspace_events.store(events, Ordering::Relaxed);
            g.observe.configure(&cfg);
        }
        crate::lazyfree::configure(&cfg);
        crate::config::stream_nodes::configure(&cfg);
        apply_jemalloc_bg_thread(&cfg);
        r.map(|()| crate::config::obuf::configured(&cfg))
    };
    let obuf_limits = r?;
    publish_obuf(&ctx.shard.global, obuf_limits);
    crate::shard::evict::settings_changed(ctx.shard);
    // min-replicas-* take effect at once, as in Redis; so does replica-serve-stale-data.
    crate::replication::min_replicas::refresh(&ctx.shard.global);
    crate::replication::refresh_stale(&ctx.shard.global);
    // So do save and stop-writes-on-bgsave-error for MISCONF.
    super::persistence::refresh_misconf(&ctx.shard.global);
    ctx.out.ok();
    Ok(())
}

/// `jemalloc-bg-thread`: starts or stops jemalloc's purging thread (at boot and on CONFIG
/// SET, as Redis), logging a refusal.
pub fn apply_jemalloc_bg_thread(cfg: &crate::config::Config) {
    let on = cfg.stored_bool("jemalloc-bg-thread", true);
    if !crate::sys::alloc::set_background_thread(on) {
        crate::log::warning("jemalloc refused to change its background thread");
    }
}

/// Makes new output buffer limits visible to the shards (next turn) and to the replica senders.
fn publish_obuf(global: &crate::global::Global, limits: crate::config::obuf::Limits) {
    global.obuf.store(limits);
    global.repl.state().replica_obuf = limits.get(crate::config::obuf::Class::Replica);
}

/// A raised maxclients must fit the open-file limit (Redis' updateMaxclients).
fn fit_maxclients(
    staged: &crate::config::Config,
    current: &crate::config::Config,
    pairs: &[(&[u8], &[u8])],
    shards: usize,
) -> Result<(), ReplyError> {
    if staged.maxclients <= current.maxclients {
        return Ok(());
    }
    let reserve = crate::config::fdlimit::reserved_fds(shards, staged.cluster_enabled);
    crate::config::fdlimit::check_raise(staged.maxclients, current.maxclients, reserve).map_err(
        |why| {
            let typed = pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(b"maxclients"))
                .map_or("maxclients".into(), |(n, _)| String::from_utf8_lossy(n));
            ReplyError::ConfigSetFailed {
                arg: typed.into_owned(),
                why,
            }
        },
    )
}

fn config_resetstat(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.shard.try_call_all(|sh| {
        sh.stats = Default::default();
        sh.latency.clear();
        for (_, db) in sh.each_db_mut() {
            db.stats = Default::default();
        }
    })?;
    crate::lazyfree::reset_stats();
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    write_help(
        ctx,
        "CONFIG",
        &[
            (
                "GET <pattern>",
                "Show the parameters whose names match <pattern>, with values.",
            ),
            (
                "SET <directive> <value>",
                "Change <directive> to <value> at run time.",
            ),
            ("RESETSTAT", "Zero the counters that INFO shows."),
            (
                "REWRITE",
                "Write the running configuration back into the config file.",
            ),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::resp::Proto;
    use crate::testkit::{Harness, Reply};

    fn resp3(h: &mut Harness) {
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
    }

    #[test]
    fn ping_echo_quit() {
        // PING/ECHO replies and arity errors as Redis.
        let mut h = Harness::new();
        assert_eq!(h.run(&["PING"]), Reply::Simple("PONG".into()));
        assert_eq!(h.run(&["ping", "hi"]), Reply::bulk("hi"));
        let e = "ERR wrong number of arguments for 'ping' command";
        assert_eq!(h.run(&["PING", "a", "b"]), Reply::err(e));
        assert_eq!(h.run(&["ECHO", "x y"]), Reply::bulk("x y"));
        let e = "ERR wrong number of arguments for 'echo' command";
        assert_eq!(h.run(&["ECHO"]), Reply::err(e));
        assert_eq!(h.run(&["ECHO", "a", "b"]), Reply::err(e));
        assert_eq!(h.run(&["QUIT", "extra"]), Reply::ok());
        resp3(&mut h);
        assert_eq!(h.raw(&["PING"]), b"+PONG\r\n");
    }

    #[test]
    fn auth_without_requirepass() {
        // AUTH texts when no password is configured; "default" accepts anything.
        let mut h = Harness::new();
        let e = "ERR AUTH <password> called without any password configured for the default \
                 user. Are you sure your configuration is correct?";
        assert_eq!(h.run(&["AUTH", "x"]), Reply::err(e));
        assert_eq!(h.run(&["AUTH", "default", "x"]), Reply::ok());
        let wp = "WRONGPASS invalid username-password pair or user is disabled.";
        assert_eq!(h.run(&["AUTH", "bob", "x"]), Reply::err(wp));
        assert_eq!(
            h.run(&["AUTH", "a", "b", "c"]),
            Reply::err("ERR syntax error")
        );
    }

    fn with_pass() -> Harness {
        let mut h = Harness::with_config(Config {
            requirepass: Some(b"sekret".to_vec()),
            ..Config::default()
        });
        h.shard.clients.get_mut(h.client).authenticated = false;
        h
    }

    #[test]
    fn auth_with_requirepass() {
        // Wrong password is refused and keeps NOAUTH; the right one unlocks commands.
        let mut h = with_pass();
        assert_eq!(
            h.run(&["ECHO", "a"]),
            Reply::err("NOAUTH Authentication required.")
        );
        let wp = "WRONGPASS invalid username-password pair or user is disabled.";
        assert_eq!(h.run(&["AUTH", "nope"]), Reply::err(wp));
        assert_eq!(h.run(&["AUTH", "default", "nope"]), Reply::err(wp));
        assert_eq!(
            h.run(&["ECHO", "a"]),
            Reply::err("NOAUTH Authentication required.")
        );
        assert_eq!(h.run(&["AUTH", "sekret"]), Reply::ok());
        assert_eq!(h.run(&["ECHO", "a"]), Reply::bulk("a"));
    }

    fn hello_fields(r: Reply) -> Vec<(String, Reply)> {
        let pairs: Vec<(Reply, Reply)> = match r {
            Reply::Map(p) => p,
            Reply::Array(v) => v.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
            other => panic!("{other:?}"),
        };
        pairs
            .into_iter()
            .map(|(k, v)| match k {
                Reply::Bulk(b) => (String::from_utf8(b).unwrap(), v),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn hello_reply_and_proto_switch() {
        // HELLO's field order and values, RESP2 flat array then RESP3 map after HELLO 3.
        let mut h = Harness::new();
        let r = h.run(&["HELLO"]);
        assert!(matches!(r, Reply::Array(ref v) if v.len() == 14));
        let f = hello_fields(r);
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["server", "version", "proto", "id", "mode", "role", "modules"]
        );
        assert_eq!(f[0].1, Reply::bulk("redis"));
        assert_eq!(f[1].1, Reply::bulk("7.0.15"));
        assert_eq!(f[2].1, Reply::Int(2));
        assert_eq!(f[3].1, Reply::Int(1));
        assert_eq!(f[4].1, Reply::bulk("standalone"));
        assert_eq!(f[5].1, Reply::bulk("master"));
        assert_eq!(f[6].1, Reply::Array(vec![]));
        let r = h.run(&["HELLO", "3"]);
        assert!(matches!(r, Reply::Map(_)));
        assert_eq!(hello_fields(r)[2].1, Reply::Int(3));
        assert_eq!(h.shard.clients.get_mut(h.client).proto, Proto::Resp3);
        assert_eq!(h.raw(&["GET", "missing"]), b"_\r\n");
        assert!(matches!(h.run(&["HELLO", "2"]), Reply::Array(_)));
        assert_eq!(h.shard.clients.get_mut(h.client).proto, Proto::Resp2);
    }

    #[test]
    fn hello_errors() {
        // Bad versions and malformed options get Redis' texts and change nothing.
        let mut h = Harness::new();
        let np = Reply::err("NOPROTO unsupported protocol version");
        assert_eq!(h.run(&["HELLO", "4"]), np);
        assert_eq!(h.run(&["HELLO", "1"]), np);
        let ni = "ERR Protocol version is not an integer or out of range";
        assert_eq!(h.run(&["HELLO", "abc"]), Reply::err(ni));
        assert_eq!(h.run(&["HELLO", "99999999999999999999"]), Reply::err(ni));
        let se = |o: &str| Reply::err(&format!("ERR Syntax error in HELLO option '{o}'"));
        assert_eq!(h.run(&["HELLO", "3", "SETNAME"]), se("SETNAME"));
        assert_eq!(h.run(&["HELLO", "3", "AUTH", "a"]), se("AUTH"));
        assert_eq!(h.run(&["HELLO", "3", "SETNAME", "a", "b"]), se("b"));
        assert_eq!(h.run(&["HELLO", "3", "FOO"]), se("FOO"));
        let bad = "ERR Client names cannot contain spaces, newlines or special characters.";
        assert_eq!(h.run(&["HELLO", "3", "SETNAME", "a b"]), Reply::err(bad));
        assert_eq!(h.shard.clients.get_mut(h.client).proto, Proto::Resp2);
    }

    #[test]
    fn hello_auth_and_setname() {
        // HELLO AUTH authenticates, SETNAME names; without AUTH a locked client is refused.
        let mut h = with_pass();
        let r = h.run(&["HELLO", "3"]);
        let na = "NOAUTH HELLO must be called with the client already authenticated, otherwise \
                  the HELLO AUTH <user> <pass> option can be used to authenticate the client \
                  and select the RESP protocol version at the same time";
        assert_eq!(r, Reply::err(na));
        let wp = "WRONGPASS invalid username-password pair or user is disabled.";
        assert_eq!(
            h.run(&["HELLO", "3", "AUTH", "default", "x"]),
            Reply::err(wp)
        );
        let r = h.run(&["HELLO", "3", "AUTH", "default", "sekret", "SETNAME", "me"]);
        assert!(matches!(r, Reply::Map(_)));
        assert_eq!(h.run(&["CLIENT", "GETNAME"]), Reply::bulk("me"));
    }

    #[test]
    fn select_databases() {
        // SELECT takes 0..databases-1 (16 by default), in cluster mode too (as Valkey 9);
        // errors for other indexes and non-integers; keys are per database.
        let mut h = Harness::new();
        assert_eq!(h.run(&["SELECT", "0"]), Reply::ok());
        assert_eq!(h.run(&["SET", "k", "zero"]), Reply::ok());
        assert_eq!(h.run(&["SELECT", "15"]), Reply::ok());
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        assert_eq!(h.run(&["SET", "k", "fifteen"]), Reply::ok());
        assert_eq!(h.run(&["DBSIZE"]), Reply::Int(1));
        let oor = Reply::err("ERR DB index is out of range");
        assert_eq!(h.run(&["SELECT", "16"]), oor);
        assert_eq!(h.run(&["SELECT", "-1"]), oor);
        let ni = Reply::err("ERR value is not an integer or out of range");
        assert_eq!(h.run(&["SELECT", "x"]), ni);
        let not_int = "ERR value is out of range, value must between -2147483648 and 2147483647";
        assert_eq!(h.run(&["SELECT", "4294967296"]), Reply::err(not_int));
        assert_eq!(h.run(&["SELECT", "-2147483649"]), Reply::err(not_int));
        assert_eq!(h.run(&["SELECT", "99999999999999999999"]), ni);
        assert_eq!(h.run(&["GET", "k"]), Reply::bulk("fifteen"));
        let mut map = (*h.shard.slot_map).clone();
        map.cluster_enabled = true;
        h.shard.slot_map = std::sync::Arc::new(map);
        assert_eq!(h.run(&["SELECT", "0"]), Reply::ok());
        assert_eq!(h.run(&["SELECT", "1"]), Reply::ok());
        assert_eq!(h.run(&["SELECT", "16"]), oor);
    }

    #[test]
    fn time_and_lastsave() {
        // TIME is two bulk integers near now; LASTSAVE is the global save time.
        let mut h = Harness::new();
        let Reply::Array(v) = h.run(&["TIME"]) else {
            panic!()
        };
        let Reply::Bulk(s) = &v[0] else { panic!() };
        let secs: u64 = String::from_utf8_lossy(s).parse().unwrap();
        assert!(secs.abs_diff(crate::clock::unix_ms() / 1000) < 5);
        let Reply::Bulk(us) = &v[1] else { panic!() };
        assert!(String::from_utf8_lossy(us).parse::<u32>().unwrap() < 1_000_000);
        let t = h
            .shard
            .global
            .lastsave_unix
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(h.run(&["LASTSAVE"]), Reply::Int(t as i64));
        let e = "ERR wrong number of arguments for 'time' command";
        assert_eq!(h.run(&["TIME", "x"]), Reply::err(e));
    }

    #[test]
    fn debug_follows_enable_debug_command() {
        // Redis 7.0's default refuses DEBUG (after the arity check), also inside MULTI;
        // `local` admits loopback clients only.
        let refused = Reply::Error(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \
             \"local\", you can run it from a local connection, otherwise you need to set this \
             option in the configuration file, and then restart the server."
                .into(),
        );
        let mut h = Harness::new();
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), refused);
        assert_eq!(
            h.run(&["DEBUG"]),
            Reply::Error("ERR wrong number of arguments for 'debug' command".into())
        );
        assert_eq!(h.run(&["MULTI"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), refused);
        assert!(matches!(h.run(&["EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
        let mut cfg = Config::default();
        cfg.unimplemented
            .insert("enable-debug-command".into(), "local".into());
        let mut h = Harness::with_config(cfg);
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), Reply::ok());
        h.shard.clients.get_mut(h.client).addr = "192.0.2.7:4000".into();
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), refused);
        // Redis' "local" is exactly 127.0.0.1 or ::1.
        h.shard.clients.get_mut(h.client).addr = "127.0.0.2:4000".into();
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), refused);
        h.shard.clients.get_mut(h.client).addr = "::1:4000".into();
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), Reply::ok());
    }

    #[test]
    fn debug_sleep_and_errors() {
        // DEBUG SLEEP tolerates junk like strtod; unknown subcommands get Redis' text.
        let mut h = Harness::with_debug();
        assert_eq!(h.run(&["DEBUG", "sleep", "0"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "SLEEP", "0.001"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "sleep", "x"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "sleep", "-5"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "sleep", "nan"]), Reply::ok());
        assert_eq!(h.run(&["DEBUG", "sleep", "1e400"]), Reply::ok());
        let e = |s: &str| {
            Reply::err(&format!(
                "ERR unknown subcommand or wrong number of arguments for '{s}'. Try DEBUG HELP."
            ))
        };
        assert_eq!(h.run(&["DEBUG", "foo"]), e("foo"));
        assert_eq!(h.run(&["DEBUG", "sleep"]), e("sleep"));
        assert!(matches!(h.run(&["DEBUG", "help"]), Reply::Array(v) if v.len() == 9));
        let e = "ERR wrong number of arguments for 'debug' command";
        assert_eq!(h.run(&["DEBUG"]), Reply::err(e));
    }

    #[test]
    fn shutdown_flags() {
        // SHUTDOWN's syntax checks, ABORT's text, and the accepted path.
        let mut h = Harness::new();
        let syn = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["SHUTDOWN", "foo"]), syn);
        assert_eq!(h.run(&["SHUTDOWN", "NOSAVE", "SAVE"]), syn);
        assert_eq!(h.run(&["SHUTDOWN", "NOSAVE", "ABORT"]), syn);
        let na = Reply::err("ERR No shutdown in progress.");
        assert_eq!(h.run(&["SHUTDOWN", "ABORT"]), na);
        // SAVE without the AOF cannot be honoured (no RDB yet): refused, still running.
        let refused = Reply::err("ERR Errors trying to SHUTDOWN. Check logs.");
        assert_eq!(h.run(&["SHUTDOWN", "SAVE"]), refused);
        let g = h.shard.global.clone();
        assert!(!g.stop_requested.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(h.raw(&["SHUTDOWN", "nosave", "now", "force"]), b"");
        assert!(g.stop_requested.load(std::sync::atomic::Ordering::SeqCst));
        assert!(g.shutdown_now.load(std::sync::atomic::Ordering::SeqCst));
        // A stop requested but not under way (the replica wait) can be aborted.
        assert_eq!(h.run(&["SHUTDOWN", "ABORT"]), Reply::ok());
        assert!(g.shutdown_abort.load(std::sync::atomic::Ordering::SeqCst));
        assert!(g.shutdown_nosave.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn config_get_set_resetstat() {
        // CONFIG GET as flat array (RESP2) and map (RESP3); SET errors; RESETSTAT clears.
        let mut h = Harness::new();
        let r = h.run(&["CONFIG", "GET", "port"]);
        assert_eq!(
            r,
            Reply::Array(vec![Reply::bulk("port"), Reply::bulk("6379")])
        );
        assert_eq!(h.run(&["CONFIG", "GET", "nosuch*"]), Reply::Array(vec![]));
        resp3(&mut h);
        // An exact name is echoed in the caller's spelling, as Redis 7.0 does.
        let r = h.run(&["config", "get", "PORT"]);
        assert_eq!(
            r,
            Reply::Map(vec![(Reply::bulk("PORT"), Reply::bulk("6379"))])
        );
        let e = "ERR wrong number of arguments for 'config|get' command";
        assert_eq!(h.run(&["CONFIG", "GET"]), Reply::err(e));
        let e = "ERR wrong number of arguments for 'config|set' command";
        assert_eq!(h.run(&["CONFIG", "SET", "port"]), Reply::err(e));
        assert_eq!(
            h.run(&["CONFIG", "SET", "a", "b", "c"]),
            Reply::err("ERR syntax error")
        );
        let e = "ERR Unknown option or number of arguments for CONFIG SET - 'foo'";
        assert_eq!(h.run(&["CONFIG", "SET", "foo", "bar"]), Reply::err(e));
        h.run(&["GET", "k"]);
        assert!(!h.shard.stats.cmd.is_empty());
        assert_eq!(h.run(&["CONFIG", "RESETSTAT"]), Reply::ok());
        // Only the RESETSTAT call itself is counted afterwards, as in Redis.
        let counted = h.shard.stats.cmd.iter();
        let names: Vec<&str> = counted.map(|(id, _)| super::super::name_of(id)).collect();
        assert_eq!(names, ["config|resetstat"]);
        assert_eq!(h.shard.db.stats.misses, 0);
        let e = "ERR unknown subcommand 'FOO'. Try CONFIG HELP.";
        assert_eq!(h.run(&["CONFIG", "FOO"]), Reply::err(e));
        assert!(matches!(h.run(&["CONFIG", "HELP"]), Reply::Array(v) if v.len() == 11));
    }
}
