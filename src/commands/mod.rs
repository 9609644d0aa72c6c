//! The command table: every command slotd knows, as data (name, arity with Redis' sign
//! convention, flags, key positions, docs, handler). Routing reads key positions from here only.
//! Family files (`string`, `keys`, `server`, `cluster`, ...) each export `COMMANDS`.

pub mod client;
pub mod cluster;
pub mod cluster_admin;
pub mod command_docs;
mod context;
pub mod hash;
pub mod info;
pub mod keys;
pub mod list;
pub mod longdouble;
pub mod migrate;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod string;
pub mod transaction;
pub mod zset;

pub use context::{AfterReply, ConnCtx, Exec};

use crate::resp::{Args, KeyIdx, ReplyError};
use hashbrown::HashMap;
use std::sync::OnceLock;

pub type CmdResult = Result<(), ReplyError>;

/// Runs on the shard that owns the command's keys (possibly not the connection's shard).
pub type KeyFn = fn(&mut Exec<'_>, Args<'_>) -> CmdResult;
/// Runs on the connection's shard with access to the client; may fan out to all shards.
pub type ConnFn = fn(&mut ConnCtx<'_>, Args<'_>) -> CmdResult;

#[derive(Clone, Copy)]
pub enum Handler {
    Key(KeyFn),
    Conn(ConnFn),
    /// A container whose handler is chosen by the subcommand (CONFIG, CLIENT, CLUSTER...).
    Container,
}

/// Where the keys of a command are, in Redis' (first, last, step) form; `last` < 0 counts
/// from the end. `Custom` returns the argument indexes of the keys or a syntax error.
#[derive(Clone, Copy)]
pub enum KeySpec {
    None,
    Range { first: i32, last: i32, step: i32 },
    Custom(fn(Args<'_>) -> Result<Vec<usize>, ReplyError>),
}

/// One argument of a command, as `COMMAND DOCS` describes it to clients (redis-cli hints).
#[derive(Clone, Copy, Debug)]
pub struct ArgDoc {
    pub name: &'static str,
    /// key, string, integer, double, pattern, unix-time, pure-token, oneof, block
    pub kind: &'static str,
    /// The literal token for pure-token/oneof alternatives ("" when none).
    pub token: &'static str,
    pub optional: bool,
    pub multiple: bool,
    /// Children of a oneof/block argument.
    pub args: &'static [ArgDoc],
}

impl ArgDoc {
    /// A required argument with no token: the base every family's doc helpers build on.
    pub const fn new(name: &'static str, kind: &'static str) -> ArgDoc {
        ArgDoc {
            name,
            kind,
            token: "",
            optional: false,
            multiple: false,
            args: &[],
        }
    }
}

/// Command flags (COMMAND INFO names in `FLAG_NAMES`).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const LOADING: u32 = 1 << 6;
    pub const STALE: u32 = 1 << 7;
    pub const SKIP_MONITOR: u32 = 1 << 8;
    pub const SKIP_SLOWLOG: u32 = 1 << 9;
    pub const ASKING: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const SENTINEL: u32 = 1 << 14;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const NO_MULTI: u32 = 1 << 17;
    pub const MOVABLE_KEYS: u32 = 1 << 18;
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;
    /// In standalone mode with several shards, keys may span shards: run the handler in an
    /// exclusive section over every involved shard (MSET, MSETNX, DEL, MGET, RENAME, ...).
    pub const MULTI_KEY: u32 = 1 << 24;
    /// Allowed only as `enable-debug-command` says (DEBUG); not shown by COMMAND INFO, as in
    /// Redis 7.0.
    pub const PROTECTED: u32 = 1 << 25;
}

pub const FLAG_NAMES: &[(u32, &str)] = &[
    (flags::WRITE, "write"),
    (flags::READONLY, "readonly"),
    (flags::DENYOOM, "denyoom"),
    (flags::ADMIN, "admin"),
    (flags::PUBSUB, "pubsub"),
    (flags::NOSCRIPT, "noscript"),
    (flags::LOADING, "loading"),
    (flags::STALE, "stale"),
    (flags::SKIP_MONITOR, "skip_monitor"),
    (flags::SKIP_SLOWLOG, "skip_slowlog"),
    (flags::ASKING, "asking"),
    (flags::FAST, "fast"),
    (flags::NO_AUTH, "no_auth"),
    (flags::MAY_REPLICATE, "may_replicate"),
    (flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (flags::ALLOW_BUSY, "allow_busy"),
    (flags::NO_MULTI, "no_multi"),
    (flags::MOVABLE_KEYS, "movablekeys"),
    (flags::NO_ASYNC_LOADING, "no_async_loading"),
];

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name; for subcommands just the subcommand ("get"), see `full_name`.
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub keys: KeySpec,
    pub handler: Handler,
    /// Redis' command group: string, generic, server, connection, cluster, ...
    pub group: &'static str,
    /// One line, in slotd's own words.
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub args: &'static [ArgDoc],
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A spec with empty docs; families fill the rest with struct update syntax.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: KeySpec,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            keys,
            handler,
            group: "generic",
            summary: "",
            since: "1.0.0",
            complexity: "",
            args: &[],
            subcommands: &[],
        }
    }
    pub fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }
    /// True when `n` arguments (command name included) satisfy the arity.
    pub fn arity_ok(&self, n: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            n as i32 == a
        } else {
            n as i32 >= -a
        }
    }
    /// The argument indexes of this command's keys.
    pub fn key_positions(&self, args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
        self.key_idx(args).map(|k| k.to_vec())
    }
    /// The argument indexes of this command's keys, without allocating for a few keys.
    pub fn key_idx(&self, args: Args<'_>) -> Result<KeyIdx, ReplyError> {
        match self.keys {
            KeySpec::None => Ok(KeyIdx::new()),
            KeySpec::Range { first, last, step } => {
                let n = args.len() as i32;
                let last = if last < 0 { n + last } else { last.min(n - 1) };
                let mut v = KeyIdx::new();
                let mut i = first;
                while i <= last && i < n {
                    v.push(i as usize);
                    i += step.max(1);
                }
                Ok(v)
            }
            KeySpec::Custom(f) => f(args).map(KeyIdx::from),
        }
    }
}

/// All top-level commands.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    string::COMMANDS
        .iter()
        .chain(keys::COMMANDS.iter())
        .chain(server::COMMANDS.iter())
        .chain(cluster::COMMANDS.iter())
        .chain(hash::COMMANDS.iter())
        .chain(list::COMMANDS.iter())
        .chain(list::BLOCKING_COMMANDS.iter())
        .chain(set::COMMANDS.iter())
        .chain(zset::COMMANDS.iter())
        .chain(zset::BLOCKING_COMMANDS.iter())
        .chain(persistence::COMMANDS.iter())
        .chain(transaction::COMMANDS.iter())
        .chain(pubsub::COMMANDS.iter())
        .chain(migrate::COMMANDS.iter())
        .chain(replication::COMMANDS.iter())
}

fn table() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static TABLE: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = HashMap::new();
        for c in all_commands() {
            let dup = m.insert(c.name, c);
            assert!(dup.is_none(), "command {} defined twice", c.name);
        }
        m
    })
}

/// Reads a SCAN-family cursor as Redis' `strtoul` check does: empty is 0, an optional sign,
/// digits only, negative values wrap, values beyond 64 bits are "ERR invalid cursor".
pub fn parse_cursor(raw: &[u8]) -> Result<u64, ReplyError> {
    let invalid = || ReplyError::other("ERR invalid cursor");
    if raw.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match raw[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The full name of a command for stats and errors: "get", or "config|get" for a subcommand.
pub fn full_name(spec: &'static CommandSpec) -> &'static str {
    static NAMES: OnceLock<HashMap<usize, &'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut m = HashMap::new();
        for c in all_commands() {
            m.insert(c as *const CommandSpec as usize, c.name);
            for sub in c.subcommands {
                let full: &'static str = Box::leak(format!("{}|{}", c.name, sub.name).into());
                m.insert(sub as *const CommandSpec as usize, full);
            }
        }
        m
    });
    names
        .get(&(spec as *const CommandSpec as usize))
        .copied()
        .unwrap_or(spec.name)
}

/// The table clients see after `rename-command`, when the configuration renamed anything.
static RENAMED: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();

/// Whether `name` (lower case) is a built-in command: checks `rename-command` lines.
pub fn exists(name: &str) -> bool {
    table().contains_key(name)
}

/// Applies `rename-command` (original, new name or "" to remove) once at start: the old names
/// become unknown commands and the new ones find the same specs. The config loader already
/// checked every line against the table, in order.
pub fn install_renames(renames: &[(String, String)]) {
    if renames.is_empty() {
        return;
    }
    let mut m = table().clone();
    for (from, to) in renames {
        if let Some(spec) = m.remove(from.as_str()) {
            if !to.is_empty() {
                m.insert(Box::leak(to.clone().into_boxed_str()), spec);
            }
        }
    }
    let _ = RENAMED.set(m);
}

/// Lowercases into `scratch` when needed and looks the name up.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        // Only a renamed command can be this long.
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        return RENAMED.get()?.get(lower.as_str()).copied();
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
    RENAMED.get().unwrap_or_else(|| table()).get(lower).copied()
}

/// Looks a subcommand up in `parent` (case-insensitive).
pub fn lookup_sub(parent: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    parent
        .subcommands
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(sub))
}
