//! What a command is, as data: `CommandSpec` (name, arity with Redis' sign convention, flags,
//! key positions, docs, handler), `KeySpec`, `ArgDoc`, the flag bits, and the one set of
//! `const fn` builders every family table declares its docs and key positions with
//! (`arg`, `opt`, `multi`, `tok`, `pure`, `oneof`, `block`, `K1`, `K_ALL`, ...).

use super::{ConnFn, KeyFn};
use crate::command_id::CommandId;
use crate::resp::{Args, KeyIdx, ReplyError};

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

/// Command flags (COMMAND INFO names in `FLAG_NAMES`; MULTI_KEY and PROTECTED are slotd's own).
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

/// ACL categories (COMMAND INFO names in `acl::NAMES`, in Redis' bit order). The list is
/// positional (bit `i` is `NAMES[i]`), so it names every category Redis 7.0 has, including
/// those of command groups slotd does not serve yet (bitmap, geo, stream, scripting...).
#[allow(dead_code)]
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;
    /// Bit `i` is `NAMES[i]`.
    pub const NAMES: &[&str] = &[
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];

    /// The categories Redis adds to every command from its flags (write, read, admin and
    /// dangerous, pubsub, fast or slow).
    pub const fn implied(flags: u32) -> u32 {
        use super::flags as f;
        let mut c = 0;
        if flags & f::WRITE != 0 {
            c |= WRITE;
        }
        if flags & f::READONLY != 0 {
            c |= READ;
        }
        if flags & f::ADMIN != 0 {
            c |= ADMIN | DANGEROUS;
        }
        if flags & f::PUBSUB != 0 {
            c |= PUBSUB;
        }
        c | if flags & f::FAST != 0 { FAST } else { SLOW }
    }
}

/// Key-spec flags: how a command uses its keys (COMMAND INFO key specs, GETKEYSANDFLAGS).
/// Positional like `acl`: every flag Redis 7.0 defines, whether or not a table uses it yet.
#[allow(dead_code)]
pub mod keyflag {
    pub const RW: u16 = 1 << 0;
    pub const RO: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    /// The "keys" are shard channels: routed like keys, but not keys.
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;
    /// Bit `i` is `NAMES[i]`, in the order Redis lists them.
    pub const NAMES: &[&str] = &[
        "RW",
        "RO",
        "OW",
        "RM",
        "access",
        "update",
        "insert",
        "delete",
        "not_key",
        "incomplete",
        "variable_flags",
    ];

    /// The flags a command gets unless its table entry says otherwise: shard channels are not
    /// keys, a write command reads and updates its keys, any other command reads them.
    pub const fn default_for(flags: u32) -> u16 {
        use super::flags as f;
        if flags & f::PUBSUB != 0 {
            NOT_KEY
        } else if flags & f::WRITE != 0 {
            RW | UPDATE
        } else {
            RO | ACCESS
        }
    }
}

/// COMMAND INFO flag names, in the order Redis 7.0 lists them.
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
    (flags::NO_MULTI, "no_multi"),
    (flags::MOVABLE_KEYS, "movablekeys"),
    (flags::ALLOW_BUSY, "allow_busy"),
];

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name; for subcommands just the subcommand ("get"), see `full_name`.
    pub name: &'static str,
    /// Its place in the built table (`registry`); `UNASSIGNED` in the family tables.
    pub id: CommandId,
    pub arity: i32,
    pub flags: u32,
    pub keys: KeySpec,
    pub handler: Handler,
    /// Redis' command group: string, generic, server, connection, cluster, ...
    pub group: &'static str,
    /// ACL categories beyond those Redis implies from the flags (`acl::implied`): the data
    /// type's category and any extra (`acl::DANGEROUS`, `acl::CONNECTION`...).
    pub acl: u32,
    /// Command tips (nondeterministic_output, request_policy:..., ...).
    pub tips: &'static [&'static str],
    /// How the command uses its keys (`keyflag`), for every key it has.
    pub key_flags: u16,
    /// One line, in slotd's own words.
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub args: &'static [ArgDoc],
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A spec with empty docs in the generic group (ACL category @keyspace, containers none);
    /// families fill the rest with struct update syntax.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: KeySpec,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            id: CommandId::UNASSIGNED,
            arity,
            flags,
            keys,
            handler,
            group: "generic",
            acl: if matches!(handler, Handler::Container) {
                0
            } else {
                acl::KEYSPACE
            },
            tips: &[],
            key_flags: keyflag::default_for(flags),
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

// ---------------------------------------------------------------------------------------------
// Builders for the family tables
// ---------------------------------------------------------------------------------------------

/// Keys from argument `first` to `last` (< 0: counted from the end) every `step` arguments.
pub const fn keys(first: i32, last: i32, step: i32) -> KeySpec {
    KeySpec::Range { first, last, step }
}
/// One key, at argument 1.
pub const K1: KeySpec = keys(1, 1, 1);
/// One key, at argument 2.
pub const K2: KeySpec = keys(2, 2, 1);
/// Two keys, at arguments 1 and 2.
pub const K12: KeySpec = keys(1, 2, 1);
/// Every argument is a key.
pub const K_ALL: KeySpec = keys(1, -1, 1);
/// Key/value pairs: every other argument from 1.
pub const K_PAIRS: KeySpec = keys(1, -1, 2);
/// Every argument but the last (a trailing timeout).
pub const K_BUT_LAST: KeySpec = keys(1, -2, 1);

/// A required argument with no token: `kind` is key, string, integer, double, pattern,
/// unix-time, pure-token, oneof or block.
pub const fn arg(name: &'static str, kind: &'static str) -> ArgDoc {
    ArgDoc::new(name, kind)
}
/// `a`, optional.
pub const fn opt(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        optional: true,
        ..a
    }
}
/// `a`, repeatable.
pub const fn multi(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        multiple: true,
        ..a
    }
}
/// `a`, introduced by the literal `token` (`MATCH pattern`).
pub const fn tok(token: &'static str, a: ArgDoc) -> ArgDoc {
    ArgDoc { token, ..a }
}
/// A bare literal (`NX`, `WITHSCORES`): a pure-token argument.
pub const fn pure(name: &'static str, token: &'static str) -> ArgDoc {
    tok(token, arg(name, "pure-token"))
}
/// Exactly one of `args`.
pub const fn oneof(name: &'static str, args: &'static [ArgDoc]) -> ArgDoc {
    ArgDoc {
        args,
        ..arg(name, "oneof")
    }
}
/// All of `args`, in order, as one unit (usually repeated or optional).
pub const fn block(name: &'static str, args: &'static [ArgDoc]) -> ArgDoc {
    ArgDoc {
        args,
        ..arg(name, "block")
    }
}
