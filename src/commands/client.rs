//! CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, NO-EVICT, PAUSE, UNPAUSE and
//! HELP. Lists, kills and pauses reach the clients of every shard; the line format is Redis
//! 7.0's CLIENT LIST.

use super::kit::number::parse_i64;
use super::kit::ArgCursor;
use super::server::{validate_client_name, write_help};
use super::spec::{arg, block, deprecated, multi, multi_token, oneof, opt, pure, since, tok};
use super::{flags::*, AfterReply, ArgDoc, CmdResult, CommandSpec, ConnCtx};
use crate::resp::{Args, Proto, ReplyError};
use crate::shard::Client;
use std::sync::atomic::{AtomicUsize, Ordering};

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    f: super::ConnFn,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: "connection",
        acl: crate::commands::spec::acl::CONNECTION,
        since,
        summary,
        complexity: "O(1)",
        ..CommandSpec::conn(name, arity, flags, f)
    }
}

const NLS: u32 = NOSCRIPT | LOADING | STALE;
const ADMIN_NLS: u32 = ADMIN | NLS;

pub const SUBCOMMANDS: &[CommandSpec] = &[
    sub("id", 2, NLS, client_id, "5.0.0", "This connection's id"),
    sub("setname", 3, NLS, setname, "2.6.9", "Name this connection")
        .args(&[arg("connection-name", "string")]),
    sub(
        "getname",
        2,
        NLS,
        getname,
        "2.6.9",
        "This connection's name",
    ),
    sub(
        "list",
        -2,
        ADMIN_NLS,
        list,
        "2.4.0",
        "Describe the open connections",
    )
    .complexity("O(N) where N is the number of client connections")
    .args(LIST_ARGS)
    .tips(&["nondeterministic_output"])
    .history(&[
        ("2.8.12", "Added unique client `id` field."),
        ("5.0.0", "Added optional `TYPE` filter."),
        ("6.0.0", "Added `user` field."),
        (
            "6.2.0",
            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional \
                 `ID` filter.",
        ),
        (
            "7.0.0",
            "Added `resp`, `multi-mem`, `rbs` and `rbp` fields.",
        ),
        ("7.0.3", "Added `ssub` field."),
    ]),
    sub("info", 2, NLS, info, "6.2.0", "Describe this connection")
        .tips(&["nondeterministic_output"]),
    sub(
        "kill",
        -3,
        ADMIN_NLS,
        kill,
        "2.4.0",
        "Close connections matching filters",
    )
    .complexity("O(N) where N is the number of client connections")
    .args(KILL_ARGS)
    .history(&[
        ("2.8.12", "Added new filter format."),
        ("2.8.12", "`ID` option."),
        ("3.2.0", "Added `master` type in for `TYPE` option."),
        (
            "5.0.0",
            "Replaced `slave` `TYPE` with `replica`. `slave` still supported for \
                 backward compatibility.",
        ),
        ("6.2.0", "`LADDR` option."),
    ]),
    sub(
        "no-evict",
        3,
        ADMIN_NLS,
        no_evict,
        "7.0.0",
        "Exempt this connection from eviction",
    )
    .args(&[oneof("enabled", &[pure("on", "ON"), pure("off", "OFF")])]),
    // Client-side caching (commands::tracking).
    sub(
        "tracking",
        -3,
        NLS,
        super::tracking::client_tracking,
        "6.0.0",
        "Turn client-side caching invalidations on or off",
    )
    .complexity("O(1). Some options may introduce additional complexity.")
    .args(&[
        oneof("status", &[pure("on", "ON"), pure("off", "OFF")]),
        opt(tok("REDIRECT", arg("client-id", "integer"))),
        opt(multi_token(tok("PREFIX", arg("prefix", "string")))),
        opt(pure("bcast", "BCAST")),
        opt(pure("optin", "OPTIN")),
        opt(pure("optout", "OPTOUT")),
        opt(pure("noloop", "NOLOOP")),
    ]),
    sub(
        "caching",
        3,
        NLS,
        super::tracking::client_caching,
        "6.0.0",
        "Track (OPTIN) or skip (OPTOUT) the keys of the next command",
    )
    .args(&[oneof("mode", &[pure("yes", "YES"), pure("no", "NO")])]),
    sub(
        "getredir",
        2,
        NLS,
        super::tracking::client_getredir,
        "6.0.0",
        "The client invalidations are redirected to",
    ),
    sub(
        "trackinginfo",
        2,
        NLS,
        super::tracking::client_trackinginfo,
        "6.2.0",
        "This connection's client-side caching state",
    ),
    sub(
        "pause",
        -3,
        ADMIN_NLS,
        pause,
        "2.9.50",
        "Stop processing commands from clients for some time",
    )
    .args(&[
        arg("timeout", "integer"),
        since(
            "6.2.0",
            opt(oneof("mode", &[pure("write", "WRITE"), pure("all", "ALL")])),
        ),
    ])
    .history(&[(
        "6.2.0",
        "`CLIENT PAUSE WRITE` mode added along with the `mode` option.",
    )]),
    sub(
        "unpause",
        2,
        ADMIN_NLS,
        unpause,
        "6.2.0",
        "Resume processing of clients that were paused",
    )
    .complexity("O(N) Where N is the number of paused clients"),
    sub(
        "help",
        2,
        LOADING | STALE,
        help,
        "5.0.0",
        "List the CLIENT subcommands",
    ),
];

const CLIENT_TYPES: &[ArgDoc] = &[
    pure("normal", "NORMAL"),
    pure("master", "MASTER"),
    pure("replica", "REPLICA"),
    pure("pubsub", "PUBSUB"),
];

const LIST_ARGS: &[ArgDoc] = &[
    since(
        "5.0.0",
        opt(tok(
            "TYPE",
            oneof("normal_master_replica_pubsub", CLIENT_TYPES),
        )),
    ),
    since(
        "6.2.0",
        opt(tok(
            "ID",
            block("id", &[multi(arg("client-id", "integer"))]),
        )),
    ),
];

const KILL_ARGS: &[ArgDoc] = &[oneof(
    "filter",
    &[
        deprecated("2.8.12", arg("ip:port", "string")),
        multi(oneof(
            "new-format",
            &[
                since("2.8.12", opt(tok("ID", arg("client-id", "integer")))),
                since(
                    "2.8.12",
                    opt(tok(
                        "TYPE",
                        oneof(
                            "normal_master_slave_pubsub",
                            &[
                                pure("normal", "NORMAL"),
                                since("3.2.0", pure("master", "MASTER")),
                                pure("slave", "SLAVE"),
                                since("5.0.0", pure("replica", "REPLICA")),
                                pure("pubsub", "PUBSUB"),
                            ],
                        ),
                    )),
                ),
                opt(tok("USER", arg("username", "string"))),
                opt(tok("ADDR", arg("ip:port", "string"))),
                since("6.2.0", opt(tok("LADDR", arg("ip:port", "string")))),
                opt(tok("SKIPME", arg("yes/no", "string"))),
            ],
        )),
    ],
)];

fn client_id(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let id = ctx.client().id;
    ctx.out.int(id as i64);
    Ok(())
}

fn setname(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let name = args.get(2);
    validate_client_name(name)?;
    ctx.client().name = (!name.is_empty()).then(|| name.to_vec());
    ctx.out.ok();
    Ok(())
}

fn getname(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    match ctx.client().name.clone() {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// One CLIENT LIST line (with its trailing newline), fields in Redis 7.0's order, for a
/// client that is not the one asking.
pub fn client_line(c: &Client, now_ms: u64) -> String {
    client_line_with(c, now_ms, 0)
}

/// The memory fields mean what they mean in Redis 7.0 where slotd has the same thing, and
/// the nearest equivalent where its buffers differ:
/// - qbuf / qbuf-free: unparsed input carried between reads and the room left in that buffer
///   (a command parsed straight from the kernel's receive buffer is never copied, so the
///   command being run is not in qbuf as it is in Redis; it is in argv-mem).
/// - argv-mem: the arguments of the command running now (only the asking client runs one;
///   a blocked command's arguments live on the shard that owns its keys and are not shown).
/// - multi-mem: arguments of commands queued by MULTI plus their per-command overhead.
/// - obl / oll / omem: every reply byte not yet accepted by the kernel (output buffer, the
///   send in flight, chunks queued behind a reply another shard computes), split as Redis
///   splits its fixed reply buffer and its reply list: the first 16 KiB are obl, the rest is
///   omem (the number `client-output-buffer-limit` checks, as in Redis), in oll 16 KiB nodes.
/// - rbs / rbp: slotd has no fixed reply buffer; rbs is its output buffer's capacity and rbp
///   shows obl (no peak is tracked).
/// - tot-mem: the client and connection records, the buffers' allocations, argv and multi.
pub fn client_line_with(c: &Client, now_ms: u64, argv_mem: usize) -> String {
    let mut flags = String::new();
    if c.monitor {
        flags.push('O');
    } else if c.replica {
        flags.push('S');
    }
    if c.sub_count() > 0 {
        flags.push('P');
    }
    if c.multi.is_some() {
        flags.push('x');
    }
    // Client-side caching: tracking on, broken redirect, BCAST (`commands::tracking`).
    flags.push_str(&super::tracking::list_flags(c));
    if c.kill {
        flags.push('A');
    }
    if c.unix_socket {
        flags.push('U');
    }
    if c.readonly {
        flags.push('r');
    }
    if c.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let name = c.name.as_deref().map(String::from_utf8_lossy);
    let age_s = now_ms.saturating_sub(c.created_ms) / 1000;
    let idle_s = now_ms.saturating_sub(c.last_interaction_ms) / 1000;
    let resp = if c.proto == Proto::Resp3 { 3 } else { 2 };
    let cmd = if c.last_cmd.is_empty() {
        "NULL"
    } else {
        c.last_cmd
    };
    let m = &c.mem;
    let multi = c.multi.as_ref().map_or(-1, |q| q.queued.len() as i64);
    let multi_mem = multi_mem(c);
    let tot_mem = client_mem_bytes(c) + argv_mem;
    let events = if m.omem > 0 { "rw" } else { "r" };
    let redir = c.tracking.as_ref().map_or(-1, |t| t.redirect as i64);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={age_s} idle={idle_s} flags={flags} db={} \
         sub={} psub={} ssub={} multi={multi} qbuf={} qbuf-free={} argv-mem={argv_mem} \
         multi-mem={multi_mem} rbs={} rbp={} obl={} oll={} omem={} tot-mem={tot_mem} \
         events={events} cmd={cmd} user=default redir={redir} resp={resp}\n",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name.unwrap_or_default(),
        c.db,
        c.channels.len(),
        c.patterns.len(),
        c.shard_channels.len(),
        m.qbuf,
        m.qbuf_free,
        m.rbs,
        m.obl,
        m.obl,
        m.oll,
        m.omem,
    )
}

/// A client's memory as CLIENT LIST's tot-mem counts it, less the running command's
/// arguments: its records, its buffers' allocations, MULTI's queue and WATCH's keys (INFO
/// memory's mem_clients_normal / mem_clients_slaves sum it).
pub fn client_mem_bytes(c: &Client) -> usize {
    let record = std::mem::size_of::<Client>() + CONN_RECORD_BYTES.load(Ordering::Relaxed);
    record + c.mem.alloc + multi_mem(c)
}

/// The size of the event loop's record of a connection, counted in CLIENT LIST's tot-mem
/// next to the `Client`; the event loop stores it when it starts (commands do not name its
/// types).
pub static CONN_RECORD_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Redis' multiStateMemOverhead: queued arguments, a record per queued command, and one per
/// watched key.
fn multi_mem(c: &Client) -> usize {
    let queued = c.multi.as_ref().map_or(0, |q| {
        let per_cmd = std::mem::size_of::<(&CommandSpec, crate::resp::OwnedArgs)>();
        q.queued
            .iter()
            .map(|(_, a)| a.args().iter().map(<[u8]>::len).sum::<usize>() + per_cmd)
            .sum()
    });
    let watched = c.watch.as_ref().map_or(0, |w| {
        w.keys
            .iter()
            .map(|(k, _, _)| k.len() + std::mem::size_of::<(Vec<u8>, bool, u32)>())
            .sum()
    });
    queued + watched
}

/// Which clients CLIENT LIST shows.
enum ListFilter {
    All,
    Type(&'static str),
    Ids(Vec<i64>),
}

/// A client's type as CLIENT LIST/KILL TYPE sees it, in Redis 7.0's order: "replica" once it
/// started SYNC/PSYNC, "pubsub" while it has any subscription (RESP2 or RESP3), else
/// "normal". (A replica's link to its master runs on its own thread, not as a client here, so
/// no client is of type "master".)
pub fn client_type(c: &Client) -> &'static str {
    if c.replica {
        "replica"
    } else if c.sub_count() > 0 {
        "pubsub"
    } else {
        "normal"
    }
}

/// A type name Redis knows (`slave` is `replica`), or Redis' error.
fn parse_type(t: &[u8]) -> Result<&'static str, ReplyError> {
    let known = ["normal", "master", "replica", "slave", "pubsub"];
    match known.iter().find(|k| k.as_bytes().eq_ignore_ascii_case(t)) {
        Some(&"slave") => Ok("replica"),
        Some(k) => Ok(k),
        None => {
            let shown = crate::resp::error::sanitize_for_error(t);
            Err(ReplyError::other(format!(
                "ERR Unknown client type '{shown}'"
            )))
        }
    }
}

fn parse_list_filter(args: Args<'_>) -> Result<ListFilter, ReplyError> {
    let mut cur = ArgCursor::new(args, 2);
    if cur.is_done() {
        return Ok(ListFilter::All);
    }
    if cur.remaining() == 2 && cur.flag("type") {
        return Ok(ListFilter::Type(parse_type(cur.next()?)?));
    }
    if cur.remaining() > 1 && cur.flag("id") {
        let ids = cur
            .rest()
            .map(|a| parse_i64(a).ok_or_else(|| ReplyError::other("ERR Invalid client ID")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(ListFilter::Ids(ids));
    }
    Err(ReplyError::Syntax)
}

fn list(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let filter = parse_list_filter(args)?;
    ctx.client().last_cmd = "client|list";
    let now = ctx.now_ms;
    let (me, my_argv) = (ctx.client().id, argv_bytes(args));
    let wanted = |c: &Client| match &filter {
        ListFilter::All => true,
        ListFilter::Type(t) => client_type(c) == *t,
        ListFilter::Ids(ids) => ids.contains(&(c.id as i64)),
    };
    let mut lines: Vec<(u64, String)> = ctx
        .shard
        .try_call_all(|sh| {
            sh.clients
                .iter()
                .filter(|(_, c)| wanted(c))
                .map(|(_, c)| {
                    let argv = if c.id == me { my_argv } else { 0 };
                    (c.id, client_line_with(c, now, argv))
                })
                .collect::<Vec<_>>()
        })?
        .into_iter()
        .flatten()
        .collect();
    lines.sort_by_key(|(id, _)| *id);
    let text: String = lines.into_iter().map(|(_, l)| l).collect();
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// argv-mem of the command running now.
fn argv_bytes(args: Args<'_>) -> usize {
    args.iter().map(<[u8]>::len).sum()
}

fn info(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    ctx.client().last_cmd = "client|info";
    let now = ctx.now_ms;
    let line = client_line_with(ctx.client(), now, argv_bytes(args));
    ctx.out.verbatim(line.as_bytes());
    Ok(())
}

/// The filters of CLIENT KILL; every given filter must match.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<Vec<u8>>,
    laddr: Option<Vec<u8>>,
    client_type: Option<&'static str>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &Client) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.addr.as_ref().is_none_or(|a| c.addr.as_bytes() == a)
            && self.laddr.as_ref().is_none_or(|a| c.laddr.as_bytes() == a)
            && self.client_type.is_none_or(|t| client_type(c) == t)
    }
}

fn parse_kill_filter(args: Args<'_>) -> Result<KillFilter, ReplyError> {
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    let mut cur = ArgCursor::new(args, 2);
    while !cur.is_done() {
        // Every option takes a value; a dangling one is a syntax error.
        let (opt, val) = (cur.next()?, cur.next()?);
        if opt.eq_ignore_ascii_case(b"id") {
            let id = parse_i64(val)
                .filter(|v| *v >= 1)
                .ok_or_else(|| ReplyError::other("ERR client-id should be greater than 0"))?;
            f.id = Some(id as u64);
        } else if opt.eq_ignore_ascii_case(b"type") {
            f.client_type = Some(parse_type(val)?);
        } else if opt.eq_ignore_ascii_case(b"addr") {
            f.addr = Some(val.to_vec());
        } else if opt.eq_ignore_ascii_case(b"laddr") {
            f.laddr = Some(val.to_vec());
        } else if opt.eq_ignore_ascii_case(b"user") {
            if val != b"default" {
                let shown = crate::resp::error::sanitize_for_error(val);
                return Err(ReplyError::other(format!("ERR No such user '{shown}'")));
            }
        } else if opt.eq_ignore_ascii_case(b"skipme") {
            f.skipme = match val {
                v if v.eq_ignore_ascii_case(b"yes") => true,
                v if v.eq_ignore_ascii_case(b"no") => false,
                _ => return Err(ReplyError::Syntax),
            };
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(f)
}

/// Marks matching clients on every shard; returns (count, whether this client matched).
fn kill_matching(ctx: &mut ConnCtx<'_>, f: &KillFilter) -> Result<(usize, bool), ReplyError> {
    let me = ctx.client().id;
    let mut self_hit = false;
    let counts = ctx.shard.try_call_all(|sh| {
        let mut n = 0;
        for (_, c) in sh.clients.iter_mut() {
            if !f.matches(c) || (f.skipme && c.id == me) {
                continue;
            }
            n += 1;
            if c.id == me {
                self_hit = true;
            } else {
                c.kill = true;
            }
        }
        n
    })?;
    Ok((counts.into_iter().sum(), self_hit))
}

fn kill(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 3 {
        // The old form: one address, OK or an error; the caller itself may be the target.
        let f = KillFilter {
            addr: Some(args.get(2).to_vec()),
            skipme: false,
            ..Default::default()
        };
        let (n, self_hit) = kill_matching(ctx, &f)?;
        if n == 0 {
            return Err(ReplyError::other("ERR No such client"));
        }
        if self_hit {
            ctx.after = AfterReply::Close;
        }
        ctx.out.ok();
        return Ok(());
    }
    let f = parse_kill_filter(args)?;
    let (n, self_hit) = kill_matching(ctx, &f)?;
    if self_hit {
        ctx.after = AfterReply::Close;
    }
    ctx.out.int(n as i64);
    Ok(())
}

fn no_evict(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut cur = ArgCursor::new(args, 2);
    let on = if cur.flag("ON") {
        true
    } else if cur.flag("OFF") {
        false
    } else {
        return Err(ReplyError::Syntax);
    };
    ctx.client().no_evict = on;
    ctx.out.ok();
    Ok(())
}

/// CLIENT PAUSE timeout-ms [WRITE|ALL]: commands of every core's clients wait (they are not
/// refused) until the timeout or CLIENT UNPAUSE (`shard::pause`).
fn pause(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        // Redis names the subcommand as it was typed.
        let typed = crate::resp::error::sanitize_for_error(args.get(1));
        return Err(ReplyError::other(format!(
            "ERR unknown subcommand or wrong number of arguments for '{typed}'. Try CLIENT HELP."
        )));
    }
    let timeout_ms = parse_i64(args.get(2))
        .ok_or_else(|| ReplyError::other("ERR timeout is not an integer or out of range"))?;
    if timeout_ms < 0 {
        return Err(ReplyError::other("ERR timeout is negative"));
    }
    let all = match args.len() {
        4 if args.get(3).eq_ignore_ascii_case(b"write") => false,
        4 if args.get(3).eq_ignore_ascii_case(b"all") => true,
        4 => {
            return Err(ReplyError::other(
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ))
        }
        _ => true,
    };
    let until = crate::clock::unix_ms().saturating_add(timeout_ms as u64);
    crate::shard::pause::pause_clients(&ctx.shard.global, until, all);
    ctx.out.ok();
    Ok(())
}

fn unpause(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    crate::shard::pause::unpause_clients(&ctx.shard.global);
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    write_help(
        ctx,
        "CLIENT",
        &[
            ("ID", "Show this connection's id."),
            ("SETNAME <name>", "Give this connection a name (no spaces)."),
            ("GETNAME", "Show this connection's name."),
            (
                "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
                "Describe the open connections, one line each.",
            ),
            ("INFO", "Describe this connection."),
            (
                "KILL <ip:port> | <option> <value> [<option> <value> ...]",
                "Close connections. Options: ID, TYPE, USER, ADDR, LADDR, SKIPME (yes|no).",
            ),
            (
                "NO-EVICT (ON|OFF)",
                "Exempt this connection from client eviction.",
            ),
            (
                "PAUSE <timeout> [WRITE|ALL]",
                "Hold clients' commands (all, or those that write) for <timeout> ms.",
            ),
            ("UNPAUSE", "End CLIENT PAUSE."),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::AfterReply;
    use crate::resp::Proto;
    use crate::shard::Client;
    use crate::testkit::{Harness, Reply};

    fn text(r: Reply) -> String {
        match r {
            Reply::Bulk(b) => String::from_utf8(b).unwrap(),
            Reply::Verbatim(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn add_client(h: &mut Harness, id: u64, addr: &str) -> usize {
        h.shard.clients.insert(Client {
            id,
            addr: addr.into(),
            laddr: "127.0.0.1:6379".into(),
            authenticated: true,
            ..Default::default()
        })
    }

    /// Runs a command and returns what the connection must do afterwards.
    fn after(h: &mut Harness, argv: &[&str]) -> AfterReply {
        h.after(argv)
    }

    #[test]
    fn id_setname_getname() {
        // Name validation and clearing, as Redis.
        let mut h = Harness::new();
        assert_eq!(h.run(&["CLIENT", "ID"]), Reply::Int(1));
        assert_eq!(h.run(&["CLIENT", "GETNAME"]), Reply::Nil);
        assert_eq!(h.run(&["CLIENT", "SETNAME", "x"]), Reply::ok());
        assert_eq!(h.run(&["client", "getname"]), Reply::bulk("x"));
        let bad =
            Reply::err("ERR Client names cannot contain spaces, newlines or special characters.");
        assert_eq!(h.run(&["CLIENT", "SETNAME", "a b"]), bad);
        assert_eq!(h.run(&["CLIENT", "SETNAME", "a\nb"]), bad);
        assert_eq!(h.run(&["CLIENT", "SETNAME", "é"]), bad);
        assert_eq!(h.run(&["CLIENT", "GETNAME"]), Reply::bulk("x"));
        assert_eq!(h.run(&["CLIENT", "SETNAME", ""]), Reply::ok());
        assert_eq!(h.run(&["CLIENT", "GETNAME"]), Reply::Nil);
        let e = "ERR wrong number of arguments for 'client|id' command";
        assert_eq!(h.run(&["CLIENT", "ID", "x"]), Reply::err(e));
        let e = "ERR unknown subcommand 'FOO'. Try CLIENT HELP.";
        assert_eq!(h.run(&["CLIENT", "FOO"]), Reply::err(e));
        let e = "ERR wrong number of arguments for 'client' command";
        assert_eq!(h.run(&["CLIENT"]), Reply::err(e));
    }

    #[test]
    fn list_and_info_lines() {
        // Field order of CLIENT LIST/INFO lines, verbatim in RESP3, filters by TYPE and ID.
        let mut h = Harness::new();
        h.run(&["CLIENT", "SETNAME", "me"]);
        let line = text(h.run(&["CLIENT", "INFO"]));
        let keys: Vec<&str> = line
            .trim_end()
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap())
            .collect();
        let want = "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free \
                    argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp";
        assert_eq!(keys.join(" "), want);
        assert!(line.starts_with("id=1 addr=127.0.0.1:40000 laddr=127.0.0.1:6379 fd=0 name=me"));
        assert!(line.contains(" flags=N db=0 ") && line.contains(" cmd=client|info "));
        assert!(line.ends_with(" resp=2\n"));
        add_client(&mut h, 7, "10.0.0.1:5");
        let all = text(h.run(&["CLIENT", "LIST"]));
        assert_eq!(all.lines().count(), 2);
        assert!(all.starts_with("id=1 ") && all.contains("\nid=7 "));
        let one = text(h.run(&["CLIENT", "LIST", "ID", "7", "99"]));
        assert!(one.starts_with("id=7 ") && one.lines().count() == 1);
        assert_eq!(text(h.run(&["CLIENT", "LIST", "ID", "-1"])), "");
        assert_eq!(text(h.run(&["CLIENT", "LIST", "TYPE", "pubsub"])), "");
        assert_eq!(
            text(h.run(&["CLIENT", "LIST", "TYPE", "Normal"]))
                .lines()
                .count(),
            2
        );
        let e = "ERR Unknown client type 'foo'";
        assert_eq!(h.run(&["CLIENT", "LIST", "TYPE", "foo"]), Reply::err(e));
        let e = "ERR Invalid client ID";
        assert_eq!(h.run(&["CLIENT", "LIST", "ID", "1", "x"]), Reply::err(e));
        let syn = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["CLIENT", "LIST", "ID"]), syn);
        assert_eq!(h.run(&["CLIENT", "LIST", "FOO"]), syn);
        assert_eq!(h.run(&["CLIENT", "LIST", "TYPE"]), syn);
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        assert!(
            matches!(h.run(&["CLIENT", "INFO"]), Reply::Verbatim(s) if s.ends_with("resp=3\n"))
        );
        assert!(matches!(h.run(&["CLIENT", "LIST"]), Reply::Verbatim(_)));
    }

    #[test]
    fn kill_forms() {
        // Old and new KILL forms, their errors, and killing oneself closes after the reply.
        let mut h = Harness::new();
        let other = add_client(&mut h, 7, "10.0.0.1:5");
        assert_eq!(
            h.run(&["CLIENT", "KILL", "1.2.3.4:5"]),
            Reply::err("ERR No such client")
        );
        assert_eq!(
            h.run(&["CLIENT", "KILL", "ID"]),
            Reply::err("ERR No such client")
        );
        let e = Reply::err("ERR client-id should be greater than 0");
        assert_eq!(h.run(&["CLIENT", "KILL", "ID", "x"]), e);
        assert_eq!(h.run(&["CLIENT", "KILL", "ID", "0"]), e);
        let syn = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["CLIENT", "KILL", "FOO", "x"]), syn);
        assert_eq!(h.run(&["CLIENT", "KILL", "ID", "7", "SKIPME"]), syn);
        assert_eq!(h.run(&["CLIENT", "KILL", "SKIPME", "maybe"]), syn);
        let e = "ERR Unknown client type 'foo'";
        assert_eq!(h.run(&["CLIENT", "KILL", "TYPE", "foo"]), Reply::err(e));
        let e = "ERR No such user 'nobody'";
        assert_eq!(h.run(&["CLIENT", "KILL", "USER", "nobody"]), Reply::err(e));
        assert_eq!(h.run(&["CLIENT", "KILL", "ID", "99"]), Reply::Int(0));
        assert_eq!(h.run(&["CLIENT", "KILL", "TYPE", "master"]), Reply::Int(0));
        assert!(!h.shard.clients.get_mut(other).kill);
        assert_eq!(h.run(&["CLIENT", "KILL", "ID", "7"]), Reply::Int(1));
        assert!(h.shard.clients.get_mut(other).kill);
        h.shard.clients.get_mut(other).kill = false;
        assert_eq!(h.run(&["CLIENT", "KILL", "10.0.0.1:5"]), Reply::ok());
        assert!(h.shard.clients.get_mut(other).kill);
        // SKIPME yes (the default) protects the caller.
        assert_eq!(h.run(&["CLIENT", "KILL", "USER", "default"]), Reply::Int(1));
        assert_eq!(
            after(&mut h, &["CLIENT", "KILL", "ID", "1"]),
            AfterReply::Nothing
        );
        assert_eq!(
            after(&mut h, &["CLIENT", "KILL", "ID", "1", "SKIPME", "no"]),
            AfterReply::Close
        );
        assert_eq!(
            after(&mut h, &["CLIENT", "KILL", "127.0.0.1:40000"]),
            AfterReply::Close
        );
        assert!(!h.shard.clients.get_mut(h.client).kill);
    }

    #[test]
    fn replicas_are_their_own_type() {
        // A replica shows flag S and type replica (alias slave); KILL TYPE normal spares it.
        let mut h = Harness::new();
        let r = add_client(&mut h, 7, "10.0.0.1:5");
        h.shard.clients.get_mut(r).replica = true;
        let list = text(h.run(&["CLIENT", "LIST", "TYPE", "replica"]));
        assert!(
            list.starts_with("id=7 ") && list.contains(" flags=S db=0 "),
            "{list}"
        );
        assert_eq!(list.lines().count(), 1);
        assert_eq!(text(h.run(&["CLIENT", "LIST", "TYPE", "slave"])), list);
        let normal = text(h.run(&["CLIENT", "LIST", "TYPE", "normal"]));
        assert!(normal.starts_with("id=1 ") && normal.lines().count() == 1);
        let skip_no = ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"];
        assert_eq!(after(&mut h, &skip_no), AfterReply::Close);
        assert!(!h.shard.clients.get_mut(r).kill);
        assert_eq!(h.run(&["CLIENT", "KILL", "TYPE", "pubsub"]), Reply::Int(0));
        assert_eq!(h.run(&["CLIENT", "KILL", "TYPE", "Slave"]), Reply::Int(1));
        assert!(h.shard.clients.get_mut(r).kill);
    }

    #[test]
    fn no_evict_and_help() {
        // NO-EVICT takes on/off only and shows as flag e; HELP is an array of lines.
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["CLIENT", "NO-EVICT", "x"]),
            Reply::err("ERR syntax error")
        );
        assert_eq!(h.run(&["CLIENT", "NO-EVICT", "ON"]), Reply::ok());
        assert!(text(h.run(&["CLIENT", "INFO"])).contains(" flags=e "));
        assert_eq!(h.run(&["CLIENT", "no-evict", "off"]), Reply::ok());
        assert!(text(h.run(&["CLIENT", "INFO"])).contains(" flags=N "));
        let Reply::Array(v) = h.run(&["CLIENT", "HELP"]) else {
            panic!()
        };
        assert_eq!(v.len(), 2 + 9 * 2 + 1);
        assert_eq!(
            v[0],
            Reply::Simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
        );
    }
}
