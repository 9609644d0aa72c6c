//! Moving keys between nodes: DUMP, RESTORE, RESTORE-ASKING, MIGRATE, and the digest behind
//! DEBUG DIGEST-VALUE (redis-cli compares it between nodes on BUSYKEY). The payload format is
//! `crate::rdb`'s; this file holds the commands, their options and MIGRATE's blocking client.
//! MIGRATE blocks its shard for at most a few timeouts, as Redis blocks its event loop.

use super::kit::ArgCursor;
use super::spec::{acl, arg, block, multi, oneof, opt, pure, since, tok, K1};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, ConnCtx, Exec, KeySpec};
use crate::commands::spec::keyflag;
use crate::commands::spec::{key_range, BeginSearch, FindKeys, KeySpecDoc};
use crate::rdb::{self, DumpOpts};
use crate::resp::{Args, ReplyError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const ARGS_DUMP: &[ArgDoc] = &[arg("key", "key")];
const ARGS_RESTORE: &[ArgDoc] = &[
    arg("key", "key"),
    arg("ttl", "integer"),
    arg("serialized-value", "string"),
    since("3.0.0", opt(pure("replace", "REPLACE"))),
    since("5.0.0", opt(pure("absttl", "ABSTTL"))),
    since("5.0.0", opt(tok("IDLETIME", arg("seconds", "integer")))),
    since("5.0.0", opt(tok("FREQ", arg("frequency", "integer")))),
];
const ARGS_MIGRATE: &[ArgDoc] = &[
    arg("host", "string"),
    arg("port", "integer"),
    oneof(
        "key_or_empty_string",
        &[arg("key", "key"), pure("empty_string", "\"\"")],
    ),
    arg("destination-db", "integer"),
    arg("timeout", "integer"),
    opt(pure("copy", "COPY")),
    opt(pure("replace", "REPLACE")),
    opt(oneof(
        "authentication",
        &[
            tok("AUTH", arg("password", "string")),
            tok(
                "AUTH2",
                block(
                    "username_password",
                    &[arg("username", "string"), arg("password", "string")],
                ),
            ),
        ],
    )),
    opt(multi(tok("KEYS", arg("keys", "key")))),
];

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: super::KeyFn,
    doc: (&'static str, &'static str, &'static [ArgDoc]),
) -> CommandSpec {
    let (summary, complexity, args) = doc;
    CommandSpec {
        summary,
        since: "2.6.0",
        complexity,
        args,
        group: "generic",
        acl: acl::KEYSPACE,
        ..CommandSpec::keyed(name, arity, flags, keys, f)
    }
}

const RESTORE_DOC: (&str, &str, &[ArgDoc]) = (
    "Creates a key from a serialized value produced by DUMP.",
    "O(1) to create the key plus O(N*M) to rebuild a value of N elements of average size M \
     (O(N*M*log(N)) for sorted sets).",
    ARGS_RESTORE,
);

/// RESTORE; RESTORE-ASKING is the same command allowed on an importing slot.
const RESTORE: CommandSpec = spec("restore", -4, WRITE | DENYOOM, K1, restore, RESTORE_DOC)
    .acl(acl::KEYSPACE | acl::DANGEROUS)
    .access(keyflag::OW | keyflag::UPDATE)
    .history(&[
        ("3.0.0", "Added the `REPLACE` modifier."),
        ("5.0.0", "Added the `ABSTTL` modifier."),
        ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
    ]);

pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "dump",
        2,
        READONLY,
        K1,
        dump,
        (
            "Returns the serialized form of the value at a key.",
            "O(1) to find the key plus O(N*M) to serialize a value of N elements of average \
             size M.",
            ARGS_DUMP,
        ),
    )
    .tips(&["nondeterministic_output"]),
    RESTORE,
    CommandSpec {
        name: "restore-asking",
        flags: WRITE | DENYOOM | ASKING,
        doc_flags: crate::commands::spec::docflag::SYSCMD,
        group: "server",
        since: "3.0.0",
        ..RESTORE
    },
    spec(
        "migrate",
        -6,
        WRITE | MOVABLE_KEYS,
        KeySpec::Custom(migrate_keys),
        migrate,
        (
            "Moves or copies keys to another node through DUMP and RESTORE.",
            "Like DUMP plus DEL here and RESTORE on the target, plus an O(N) transfer.",
            ARGS_MIGRATE,
        ),
    )
    .key_specs(&[
        key_range(3, 0, keyflag::RW_ACCESS_DELETE),
        KeySpecDoc {
            notes: "",
            flags: keyflag::RW_ACCESS_DELETE | keyflag::INCOMPLETE,
            begin: BeginSearch::Keyword {
                keyword: "KEYS",
                start_from: -2,
            },
            find: FindKeys::Range {
                last: -1,
                step: 1,
                limit: 0,
            },
        },
    ])
    .acl(acl::KEYSPACE | acl::DANGEROUS)
    .tips(&["nondeterministic_output"])
    .history(&[
        ("3.0.0", "Added the `COPY` and `REPLACE` options."),
        ("3.0.6", "Added the `KEYS` option."),
        ("4.0.7", "Added the `AUTH` option."),
        ("6.0.0", "Added the `AUTH2` option."),
    ]),
];

// ---------------------------------------------------------------------------------------------
// DUMP and RESTORE
// ---------------------------------------------------------------------------------------------

/// The configuration that shapes payload bytes (`rdbcompression`, `list-max-listpack-size`).
fn dump_opts(ex: &Exec<'_>) -> DumpOpts {
    ex.shard.global.cfg(|c| {
        let get = |name: &str| c.unimplemented.get(name).cloned();
        let d = DumpOpts::default();
        DumpOpts {
            compress: get("rdbcompression").map_or(d.compress, |v| v != "no"),
            list_fill: get("list-max-listpack-size")
                .and_then(|v| v.parse().ok())
                .unwrap_or(d.list_fill),
        }
    })
}

fn dump(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ex.now_ms;
    let opts = dump_opts(ex);
    match ex.db(key).lookup_read(key, now) {
        Some(e) => {
            let payload = rdb::dump(e.value(), opts);
            ex.out.bulk(&payload);
        }
        None => ex.out.null(),
    }
    Ok(())
}

#[derive(Default)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    idle_s: Option<i64>,
}

/// RESTORE's options, checked in Redis' order (IDLETIME and FREQ exclude each other).
fn parse_restore_opts(args: Args<'_>) -> Result<RestoreOpts, ReplyError> {
    let mut o = RestoreOpts::default();
    let mut freq = false;
    let mut cur = ArgCursor::new(args, 4);
    while !cur.is_done() {
        let more = cur.remaining() >= 2;
        if cur.flag("REPLACE") {
            o.replace = true;
        } else if cur.flag("ABSTTL") {
            o.absttl = true;
        } else if more && !freq && cur.flag("IDLETIME") {
            let v = cur.next_i64()?;
            if v < 0 {
                return Err(ReplyError::other(
                    "ERR Invalid IDLETIME value, must be >= 0",
                ));
            }
            o.idle_s = Some(v);
        } else if more && o.idle_s.is_none() && cur.flag("FREQ") {
            let v = cur.next_i64()?;
            if !(0..=255).contains(&v) {
                return Err(ReplyError::other(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            // slotd keeps no LFU counters: the value is validated and then has no effect.
            freq = true;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(o)
}

fn restore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let o = parse_restore_opts(args)?;
    let now = ex.now_ms;
    if !o.replace && ex.db(key).contains(key, now) {
        return Err(ReplyError::other("BUSYKEY Target key name already exists."));
    }
    let ttl = ArgCursor::new(args, 2).next_i64()?;
    if ttl < 0 {
        return Err(ReplyError::other("ERR Invalid TTL value, must be >= 0"));
    }
    let zlim = super::zset::limits(ex);
    let value = rdb::restore(args.get(3), zlim).map_err(|e| ReplyError::other(e.text()))?;
    let replaced = o.replace.then(|| ex.db(key).remove(key, now)).flatten();
    let deleted = replaced.is_some();
    if let Some(e) = replaced {
        crate::lazyfree::free(e, crate::lazyfree::Cause::ServerDel);
    }
    let at_ms = match (ttl, o.absttl) {
        (0, _) => 0,
        (t, true) => t as u64,
        (t, false) => now.saturating_add(t as u64),
    };
    if at_ms != 0 && at_ms <= now {
        // Already expired: the key is not created, but a replaced one is gone.
        if deleted {
            ex.notify(crate::shard::notify::GENERIC, "del", key);
            ex.dirty(key, 1);
            ex.journal(key, &[b"DEL", key]);
        }
        ex.out.ok();
        return Ok(());
    }
    ex.db(key).set(key, value, at_ms, now);
    if let (Some(idle), Some(e)) = (o.idle_s, ex.db(key).lookup_write(key, now)) {
        e.set_idle_s(now, idle.max(0) as u64);
    }
    ex.notify(crate::shard::notify::GENERIC, "restore", key);
    ex.dirty(key, 1);
    ex.journal_state(key);
    ex.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// MIGRATE
// ---------------------------------------------------------------------------------------------

/// MIGRATE's keys: argument 3, or everything after KEYS (then argument 3 must be empty, else
/// there are no keys and the handler reports the misuse). AUTH/AUTH2 values are skipped so a
/// password spelled "keys" is not taken for the keyword.
fn migrate_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    let n = args.len();
    let mut i = 6;
    while i < n {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"keys") {
            if !args.get(3).is_empty() {
                return Ok(Vec::new());
            }
            return Ok((i + 1..n).collect());
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    Ok(vec![3.min(n.saturating_sub(1))])
}

struct MigrateReq {
    copy: bool,
    replace: bool,
    user: Option<Vec<u8>>,
    password: Option<Vec<u8>>,
    first_key: usize,
    key_count: usize,
    db: i64,
    timeout_ms: u64,
}

fn parse_migrate(args: Args<'_>) -> Result<MigrateReq, ReplyError> {
    let mut r = MigrateReq {
        copy: false,
        replace: false,
        user: None,
        password: None,
        first_key: 3,
        key_count: 1,
        db: 0,
        timeout_ms: 0,
    };
    let mut cur = ArgCursor::new(args, 6);
    while !cur.is_done() {
        let left = cur.remaining();
        if cur.flag("COPY") {
            r.copy = true;
        } else if cur.flag("REPLACE") {
            r.replace = true;
        } else if left >= 2 && cur.flag("AUTH") {
            r.password = Some(cur.next()?.to_vec());
        } else if left >= 3 && cur.flag("AUTH2") {
            r.user = Some(cur.next()?.to_vec());
            r.password = Some(cur.next()?.to_vec());
        } else if cur.flag("KEYS") {
            if !args.get(3).is_empty() {
                return Err(ReplyError::other(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the \
                     empty string",
                ));
            }
            r.first_key = cur.pos();
            r.key_count = cur.remaining();
            break;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    let mut cur = ArgCursor::new(args, 4);
    r.db = cur.next_i64()?;
    let timeout = cur.next_i64()?;
    r.timeout_ms = if timeout <= 0 { 1000 } else { timeout as u64 };
    Ok(r)
}

fn migrate(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let req = parse_migrate(args)?;
    let now = ex.now_ms;
    let keys: Vec<&[u8]> = (req.first_key..req.first_key + req.key_count)
        .map(|i| args.get(i))
        .filter(|k| ex.db(k).lookup_read(k, now).is_some())
        .collect();
    if keys.is_empty() {
        ex.out.simple("NOKEY");
        return Ok(());
    }
    let target = format!(
        "{}:{}",
        String::from_utf8_lossy(args.get(1)),
        String::from_utf8_lossy(args.get(2))
    );
    let mut may_retry = true;
    loop {
        match migrate_once(ex, &req, &keys, &target, args) {
            Ok(()) => return Ok(()),
            Err(Failure::Reply(e)) => return Err(e),
            Err(Failure::Io { writing, timed_out }) => {
                conn_cache::close(&target);
                if may_retry && !timed_out {
                    may_retry = false;
                    continue;
                }
                let what = if writing { "writing" } else { "reading" };
                return Err(ReplyError::MigrateIo(what));
            }
        }
    }
}

enum Failure {
    /// A final error reply (connect failure, the target's error).
    Reply(ReplyError),
    /// A socket error before any key was acknowledged; may be retried once on a new link.
    Io { writing: bool, timed_out: bool },
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// One attempt: send AUTH/SELECT/RESTOREs pipelined, then read one reply line each.
fn migrate_once(
    ex: &mut Exec<'_>,
    req: &MigrateReq,
    keys: &[&[u8]],
    target: &str,
    args: Args<'_>,
) -> Result<(), Failure> {
    let timeout = Duration::from_millis(req.timeout_ms);
    let now_ms = ex.now_ms;
    // Redis connects without blocking, so a refused connection shows up as a failed write
    // (retried once); only a connect that cannot even start reports "connecting".
    let (stream, last_db) = match conn_cache::get(target, timeout, now_ms) {
        Ok(link) => link,
        Err(Some(std::io::ErrorKind::ConnectionRefused)) => {
            return Err(Failure::Io {
                writing: true,
                timed_out: false,
            })
        }
        Err(_) => {
            return Err(Failure::Reply(ReplyError::other(
                "IOERR error or timeout connecting to the client",
            )))
        }
    };
    let select = last_db != Some(req.db);
    let (cmd, sent) = build_pipeline(ex, req, keys, select);
    if let Err(e) = (&stream).write_all(&cmd) {
        return Err(Failure::Io {
            writing: true,
            timed_out: timed_out(&e),
        });
    }
    let mut rd = BufReader::new(&stream);
    let mut read = |first: bool| read_reply_line(&mut rd).map_err(|e| (first, timed_out(&e)));
    let auth_reply = match &req.password {
        Some(_) => Some(read(true).map_err(io_fail)?),
        None => None,
    };
    let select_reply = if select {
        Some(read(true).map_err(io_fail)?)
    } else {
        None
    };
    let mut target_error: Option<String> = None;
    for (j, key) in sent.iter().enumerate() {
        let line = match read(j == 0) {
            Ok(l) => l,
            Err((true, t)) => {
                return Err(Failure::Io {
                    writing: false,
                    timed_out: t,
                })
            }
            Err((false, _)) => {
                // Some keys already moved: no retry, report the read error.
                conn_cache::close(target);
                return Err(Failure::Reply(ReplyError::MigrateIo("reading")));
            }
        };
        let failed = [&auth_reply, &select_reply]
            .into_iter()
            .flatten()
            .chain(std::iter::once(&line))
            .find(|l| l.starts_with('-'));
        if let Some(err) = failed {
            target_error.get_or_insert_with(|| err[1..].to_string());
        } else if !req.copy {
            delete_moved(ex, key, args);
        }
    }
    if let Some(err) = target_error {
        conn_cache::put(target, stream, None, now_ms);
        return Err(Failure::Reply(ReplyError::other(format!(
            "ERR Target instance replied with error: {err}"
        ))));
    }
    conn_cache::put(target, stream, Some(req.db), now_ms);
    ex.out.ok();
    Ok(())
}

fn io_fail((_, t): (bool, bool)) -> Failure {
    Failure::Io {
        writing: false,
        timed_out: t,
    }
}

/// Removes a key the target acknowledged, journaled as a DEL.
fn delete_moved(ex: &mut Exec<'_>, key: &[u8], _args: Args<'_>) {
    let now = ex.now_ms;
    if let Some(e) = ex.db(key).remove(key, now) {
        crate::lazyfree::free(e, crate::lazyfree::Cause::ServerDel);
        ex.notify(crate::shard::notify::GENERIC, "del", key);
        ex.dirty(key, 1);
        ex.journal(key, &[b"DEL", key]);
    }
}

/// The request bytes, and the keys it carries (keys that expired meanwhile are left out).
fn build_pipeline<'k>(
    ex: &mut Exec<'_>,
    req: &MigrateReq,
    keys: &[&'k [u8]],
    select: bool,
) -> (Vec<u8>, Vec<&'k [u8]>) {
    let mut cmd = Vec::new();
    if let Some(pw) = &req.password {
        match &req.user {
            Some(u) => push_command(&mut cmd, &[b"AUTH", u, pw]),
            None => push_command(&mut cmd, &[b"AUTH", pw]),
        }
    }
    if select {
        push_command(&mut cmd, &[b"SELECT", req.db.to_string().as_bytes()]);
    }
    let name: &[u8] = if ex.shard.slot_map.cluster_enabled {
        b"RESTORE-ASKING"
    } else {
        b"RESTORE"
    };
    let opts = dump_opts(ex);
    let now = ex.now_ms;
    let mut sent = Vec::with_capacity(keys.len());
    for &k in keys {
        let Some(e) = ex.db(k).lookup_read(k, now) else {
            continue;
        };
        let at = e.expire_at_ms();
        let ttl = if at == 0 {
            0
        } else {
            at.saturating_sub(now).max(1)
        };
        let payload = rdb::dump(e.value(), opts);
        let ttl = ttl.to_string();
        let mut parts: Vec<&[u8]> = vec![name, k, ttl.as_bytes(), &payload];
        if req.replace {
            parts.push(b"REPLACE");
        }
        push_command(&mut cmd, &parts);
        sent.push(k);
    }
    (cmd, sent)
}

fn push_command(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for p in parts {
        buf.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Longest reply line kept, as Redis reads replies into 1 KiB buffers.
const REPLY_LINE_MAX_BYTES: usize = 1024;
/// Longest reply line accepted at all; anything longer is a protocol error.
const REPLY_LINE_LIMIT_BYTES: u64 = 64 * 1024;

/// One reply line without its CRLF, truncated to `REPLY_LINE_MAX_BYTES`. Multi-line replies
/// never answer AUTH/SELECT/RESTORE, so a line is a whole reply.
fn read_reply_line(rd: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = Vec::new();
    let n = rd
        .take(REPLY_LINE_LIMIT_BYTES)
        .read_until(b'\n', &mut line)?;
    if n == 0 || line.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "target closed the link or sent an overlong line",
        ));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    line.truncate(REPLY_LINE_MAX_BYTES - 1);
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Links to MIGRATE targets kept per shard thread for `IDLE_MS`, as Redis caches them, so
/// slot moves of many small batches do not reconnect each time.
mod conn_cache {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// Idle links are closed after this long.
    const IDLE_MS: u64 = 10_000;
    /// Most cached links per shard.
    const LINKS_MAX: usize = 64;

    struct Link {
        stream: TcpStream,
        /// The database selected on the link; None forces a SELECT.
        db: Option<i64>,
        last_use_ms: u64,
    }

    thread_local! {
        static LINKS: RefCell<HashMap<String, Link>> = RefCell::new(HashMap::new());
    }

    /// A link to `target` with `timeout` on every operation (cached or new), and the database
    /// it has selected.
    /// Err carries the connect error's kind when the connect itself failed.
    pub fn get(
        target: &str,
        timeout: Duration,
        now_ms: u64,
    ) -> Result<(TcpStream, Option<i64>), Option<std::io::ErrorKind>> {
        let cached = LINKS.with(|l| {
            let mut l = l.borrow_mut();
            l.retain(|_, link| now_ms.saturating_sub(link.last_use_ms) <= IDLE_MS);
            l.remove(target)
        });
        let (stream, db) = match cached {
            Some(link) => (link.stream, link.db),
            None => (connect(target, timeout)?, None),
        };
        stream.set_read_timeout(Some(timeout)).map_err(|_| None)?;
        stream.set_write_timeout(Some(timeout)).map_err(|_| None)?;
        Ok((stream, db))
    }

    fn connect(target: &str, timeout: Duration) -> Result<TcpStream, Option<std::io::ErrorKind>> {
        let (host, port) = target.rsplit_once(':').ok_or(None)?;
        let port: u16 = port.parse().map_err(|_| None)?;
        let addr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or(None)?;
        let s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| Some(e.kind()))?;
        s.set_nodelay(true).map_err(|_| None)?;
        Ok(s)
    }

    /// Keeps a healthy link for reuse.
    pub fn put(target: &str, stream: TcpStream, db: Option<i64>, now_ms: u64) {
        LINKS.with(|l| {
            let mut l = l.borrow_mut();
            if l.len() >= LINKS_MAX {
                if let Some(k) = l.keys().next().cloned() {
                    l.remove(&k);
                }
            }
            let link = Link {
                stream,
                db,
                last_use_ms: now_ms,
            };
            l.insert(target.to_string(), link);
        });
    }

    /// Forgets (and so closes) the link to `target`.
    pub fn close(target: &str) {
        LINKS.with(|l| l.borrow_mut().remove(target));
    }
}

// ---------------------------------------------------------------------------------------------
// DEBUG DIGEST-VALUE
// ---------------------------------------------------------------------------------------------

/// `DEBUG DIGEST-VALUE key ...`: one 40-hex digest per key (zeros when missing), read on the
/// shard that owns each key. Logically expired keys still count, as in Redis.
pub fn debug_digest_value(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = args.len().saturating_sub(2);
    let dbi = ctx.client().db;
    let mut digests = Vec::with_capacity(n);
    for i in 2..args.len() {
        let key = args.get(i).to_vec();
        let slot = crate::cluster::hash_slot::key_hash_slot(&key);
        let id = crate::topology::shard_of(slot, ctx.shard.shards);
        let d = ctx.shard.call_on(id, |sh| {
            // Time 0 sees every stored key, expired or not, without deleting it.
            if sh.db_get(dbi).is_none() {
                return [0; 20];
            }
            sh.db_at(dbi)
                .lookup_no_touch(&key, 0)
                .map(|e| rdb::digest::digest_value(e.value(), e.expire_at_ms() != 0))
                .unwrap_or([0; 20])
        });
        digests.push(rdb::digest::hex(&d));
    }
    ctx.out.array(n);
    for d in digests {
        ctx.out.simple(&d);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
