//! What a command is, as data: `CommandSpec` (name, arity with Redis' sign convention, flags,
//! key positions, docs, handler), `KeySpec`, `ArgDoc`, the flag bits, and the one set of
//! `const fn` builders every family table declares its docs and key positions with
//! (`arg`, `opt`, `multi`, `tok`, `pure`, `oneof`, `block`, `K1`, `K_ALL`, ...).

use super::{ConnFn, KeyFn};
use crate::resp::{Args, ReplyError};

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
        match self.keys {
            KeySpec::None => Ok(Vec::new()),
            KeySpec::Range { first, last, step } => {
                let n = args.len() as i32;
                let last = if last < 0 { n + last } else { last.min(n - 1) };
                let mut v = Vec::new();
                let mut i = first;
                while i <= last && i < n {
                    v.push(i as usize);
                    i += step.max(1);
                }
                Ok(v)
            }
            KeySpec::Custom(f) => f(args),
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
