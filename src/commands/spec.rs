//! What a command is, as data: `CommandSpec` (name, arity with Redis' sign convention, flags,
//! key positions, ACL categories, tips, key specs, docs, handler), `KeySpec`, `ArgDoc`, the
//! flag bits, and the one set of `const fn` builders every family table declares its commands
//! with. A table entry is one chain, for example:
//!
//! ```text
//! hash("hincrby", 4, WDF, hincrby)                    // family builder: group, ACL category
//!     .doc(O1, "Adds an integer to a hash field.", DOC_HINCRBY)
//!     .access(keyflag::RW_ACCESS_UPDATE)              // key-spec flags, when not the default
//!     .tips(&["nondeterministic_output"])             // only what Redis publishes
//! ```
//!
//! Everything COMMAND INFO / DOCS / LIST / GETKEYS say comes from these fields; nothing is
//! derived from a command's name at reply time. `registry` builds the table and its ids.

use super::{ConnFn, KeyFn};
use crate::command_id::CommandId;
use crate::resp::{Args, KeyIdx, ReplyError};

#[derive(Clone, Copy)]
pub enum Handler {
    Key(KeyFn),
    Conn(ConnFn),
    /// A container whose handler is chosen by the subcommand (CONFIG, CLIENT, CLUSTER...).
    Container,
    /// A script or function call (EVAL family, FCALL): routed like a keyed command by its
    /// declared keys, run on their owner by `dispatch::script`.
    Script(ScriptCmd),
}

/// Which script-running command a `Handler::Script` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptCmd {
    Eval,
    EvalSha,
    EvalRo,
    EvalShaRo,
    Fcall,
    FcallRo,
}

impl ScriptCmd {
    /// The `_RO` forms: a script that tries to write fails.
    pub fn read_only(self) -> bool {
        matches!(
            self,
            ScriptCmd::EvalRo | ScriptCmd::EvalShaRo | ScriptCmd::FcallRo
        )
    }
}

/// Where the keys of a command are, in Redis' (first, last, step) form; `last` < 0 counts
/// from the end. `Custom` returns the argument indexes of the keys or a syntax error.
#[derive(Clone, Copy)]
pub enum KeySpec {
    None,
    Range { first: i32, last: i32, step: i32 },
    Custom(fn(Args<'_>) -> Result<Vec<usize>, ReplyError>),
}

/// One key spec as COMMAND INFO describes it, for commands whose keys one `KeySpec` range
/// cannot describe the way Redis does (source and destination apart, numkeys, keywords).
/// Documentation only: routing reads `KeySpec`.
#[derive(Clone, Copy, Debug)]
pub struct KeySpecDoc {
    /// Redis' remark on the flags ("" when none).
    pub notes: &'static str,
    /// `keyflag` bits.
    pub flags: u16,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

/// Where the search for a key spec's keys starts.
#[derive(Clone, Copy, Debug)]
pub enum BeginSearch {
    /// At this argument.
    Index(i32),
    /// After the last (`start_from` < 0: searching backwards from the end) `keyword`.
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// Nowhere COMMAND INFO can say (SORT's BY/GET patterns, its STORE anywhere).
    Unknown,
}

/// Which arguments from the start are keys.
#[derive(Clone, Copy, Debug)]
pub enum FindKeys {
    /// Up to `last` (relative to the start; < 0 from the end), every `step`.
    Range { last: i32, step: i32, limit: i32 },
    /// The argument at `keynum_idx` (relative) counts the keys, which start at `first`.
    Keynum {
        keynum_idx: i32,
        first: i32,
        step: i32,
    },
    /// Not describable (paired with `BeginSearch::Unknown`).
    Unknown,
}

/// A key spec of the keys from argument `index` to `last` (relative to `index`, < 0 from the
/// end of the line), every one.
pub const fn key_range(index: i32, last: i32, flags: u16) -> KeySpecDoc {
    KeySpecDoc {
        notes: "",
        flags,
        begin: BeginSearch::Index(index),
        find: FindKeys::Range {
            last,
            step: 1,
            limit: 0,
        },
    }
}

/// A key spec whose keys COMMAND INFO cannot locate ("unknown" search and find), with Redis'
/// note on why.
pub const fn key_unknown(notes: &'static str, flags: u16) -> KeySpecDoc {
    KeySpecDoc {
        notes,
        flags,
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    }
}

/// A key spec of "numkeys key [key ...]" with numkeys at argument `index`.
pub const fn key_numkeys(index: i32, flags: u16) -> KeySpecDoc {
    KeySpecDoc {
        notes: "",
        flags,
        begin: BeginSearch::Index(index),
        find: FindKeys::Keynum {
            keynum_idx: 0,
            first: 1,
            step: 1,
        },
    }
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
    /// Repeated with its token each time (`GET a GET b`): COMMAND DOCS flag `multiple_token`.
    pub multiple_token: bool,
    /// The key spec that finds this argument's keys when it is not the next in order (SORT's
    /// patterns and STORE destination); -1: key arguments are numbered in order.
    pub key_spec_index: i8,
    /// The version that added the argument, when later than the command ("" otherwise).
    pub since: &'static str,
    /// The version that deprecated the argument ("" when it is not).
    pub deprecated_since: &'static str,
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
            multiple_token: false,
            key_spec_index: -1,
            since: "",
            deprecated_since: "",
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
    /// May block the client (BLPOP...): shown by COMMAND INFO; slotd's dispatch goes by the
    /// handler instead, so tables put it in `info_flags`.
    pub const BLOCKING: u32 = 1 << 20;
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
    /// dangerous, pubsub, blocking, fast or slow).
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
        if flags & f::BLOCKING != 0 {
            c |= BLOCKING;
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
    /// Reads and removes (pops).
    pub const RW_ACCESS_DELETE: u16 = RW | ACCESS | DELETE;
    /// Reads and changes in place (counters).
    pub const RW_ACCESS_UPDATE: u16 = RW | ACCESS | UPDATE;
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

/// COMMAND DOCS `doc_flags`.
pub mod docflag {
    /// Superseded: `deprecated_since` and `replaced_by` say since when and by what.
    pub const DEPRECATED: u8 = 1 << 0;
    /// Meant for servers talking to each other, not for users.
    pub const SYSCMD: u8 = 1 << 1;
    /// Bit `i` is `NAMES[i]`.
    pub const NAMES: &[&str] = &["deprecated", "syscmd"];
}

/// COMMAND INFO flag names, in the order Redis 7.0 lists them.
pub const FLAG_NAMES: &[(u32, &str)] = &[
    (flags::WRITE, "write"),
    (flags::READONLY, "readonly"),
    (flags::DENYOOM, "denyoom"),
    (flags::ADMIN, "admin"),
    (flags::PUBSUB, "pubsub"),
    (flags::NOSCRIPT, "noscript"),
    (flags::BLOCKING, "blocking"),
    (flags::LOADING, "loading"),
    (flags::STALE, "stale"),
    (flags::SKIP_MONITOR, "skip_monitor"),
    (flags::SKIP_SLOWLOG, "skip_slowlog"),
    (flags::ASKING, "asking"),
    (flags::FAST, "fast"),
    (flags::NO_AUTH, "no_auth"),
    // MAY_REPLICATE (PFCOUNT) is not listed: Redis 7.0 hides it on purpose.
    (flags::NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (flags::NO_ASYNC_LOADING, "no_async_loading"),
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
    /// Flags COMMAND INFO shows that slotd's dispatch does not act on (`BLOCKING`,
    /// `NO_ASYNC_LOADING` on CLUSTER subcommands): documentation only.
    pub info_flags: u32,
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
    /// COMMAND INFO's key specs when they are more than `keys` and `key_flags` say (empty:
    /// one spec made of those two).
    pub key_specs: &'static [KeySpecDoc],
    /// For a key spec with `keyflag::VARIABLE_FLAGS`: the flags this very command line gives
    /// its keys (COMMAND GETKEYSANDFLAGS), as Redis' per-command key procedures compute them.
    pub line_key_flags: Option<fn(Args<'_>) -> u16>,
    /// True for a line that reaches keys its key spec cannot name (SORT's BY/GET patterns):
    /// standalone with several shards, it runs with every shard parked.
    pub line_reaches_any_key: Option<fn(Args<'_>) -> bool>,
    /// One line, in slotd's own words.
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    /// `docflag` bits.
    pub doc_flags: u8,
    /// The version that deprecated the command ("" when it is not deprecated).
    pub deprecated_since: &'static str,
    /// What to use instead of a deprecated command.
    pub replaced_by: &'static str,
    /// (version, what changed), oldest first.
    pub history: &'static [(&'static str, &'static str)],
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
            info_flags: 0,
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
            key_specs: &[],
            line_key_flags: None,
            line_reaches_any_key: None,
            summary: "",
            since: "1.0.0",
            complexity: "",
            doc_flags: 0,
            deprecated_since: "",
            replaced_by: "",
            history: &[],
            args: &[],
            subcommands: &[],
        }
    }
    /// A command whose handler runs on the shard that owns its keys.
    pub const fn keyed(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: KeySpec,
        f: KeyFn,
    ) -> Self {
        Self::new(name, arity, flags, keys, Handler::Key(f))
    }
    /// A command whose handler runs on the connection's shard.
    pub const fn conn(name: &'static str, arity: i32, flags: u32, f: ConnFn) -> Self {
        Self::new(name, arity, flags, KeySpec::None, Handler::Conn(f))
    }

    // Table builders: each returns the spec with one part set, so that an entry reads as one
    // chain (`hash("hget", 3, RF, hget).doc(O1, "...", ARGS)`).

    /// Complexity, summary and argument docs.
    pub const fn doc(
        self,
        complexity: &'static str,
        summary: &'static str,
        args: &'static [ArgDoc],
    ) -> Self {
        CommandSpec {
            complexity,
            summary,
            args,
            ..self
        }
    }
    pub const fn since(self, since: &'static str) -> Self {
        CommandSpec { since, ..self }
    }
    pub const fn complexity(self, complexity: &'static str) -> Self {
        CommandSpec { complexity, ..self }
    }
    pub const fn summary(self, summary: &'static str) -> Self {
        CommandSpec { summary, ..self }
    }
    pub const fn args(self, args: &'static [ArgDoc]) -> Self {
        CommandSpec { args, ..self }
    }
    /// The command group and its ACL category.
    pub const fn group(self, group: &'static str, acl: u32) -> Self {
        CommandSpec { group, acl, ..self }
    }
    pub const fn acl(self, acl: u32) -> Self {
        CommandSpec { acl, ..self }
    }
    pub const fn tips(self, tips: &'static [&'static str]) -> Self {
        CommandSpec { tips, ..self }
    }
    /// How the command uses its keys (`keyflag`).
    pub const fn access(self, key_flags: u16) -> Self {
        CommandSpec { key_flags, ..self }
    }
    pub const fn key_specs(self, key_specs: &'static [KeySpecDoc]) -> Self {
        CommandSpec { key_specs, ..self }
    }
    pub const fn line_key_flags(self, f: fn(Args<'_>) -> u16) -> Self {
        CommandSpec {
            line_key_flags: Some(f),
            ..self
        }
    }
    pub const fn line_reaches_any_key(self, f: fn(Args<'_>) -> bool) -> Self {
        CommandSpec {
            line_reaches_any_key: Some(f),
            ..self
        }
    }
    pub const fn info_flags(self, info_flags: u32) -> Self {
        CommandSpec { info_flags, ..self }
    }
    /// May block the client (COMMAND INFO flag `blocking`, ACL category @blocking).
    pub const fn blocking(self) -> Self {
        self.info_flags(self.info_flags | flags::BLOCKING)
    }
    pub const fn history(self, history: &'static [(&'static str, &'static str)]) -> Self {
        CommandSpec { history, ..self }
    }
    pub const fn doc_flags(self, doc_flags: u8) -> Self {
        CommandSpec { doc_flags, ..self }
    }
    /// Deprecated since `version` in favour of `replaced_by`.
    pub const fn deprecated(self, version: &'static str, replaced_by: &'static str) -> Self {
        CommandSpec {
            doc_flags: self.doc_flags | docflag::DEPRECATED,
            deprecated_since: version,
            replaced_by,
            ..self
        }
    }
    pub const fn subcommands(self, subcommands: &'static [CommandSpec]) -> Self {
        CommandSpec {
            subcommands,
            ..self
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

/// History of the blocking pops that read their timeout as an integer before 6.0.
pub const TIMEOUT_AS_DOUBLE: &[(&str, &str)] = &[(
    "6.0.0",
    "`timeout` is interpreted as a double instead of an integer.",
)];

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
/// `a`, repeatable, each time with its token (`GET a GET b`).
pub const fn multi_token(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        multiple: true,
        multiple_token: true,
        ..a
    }
}
/// `a`, whose keys (or the keys its pattern names) key spec `index` finds.
pub const fn key_spec_at(index: i8, a: ArgDoc) -> ArgDoc {
    ArgDoc {
        key_spec_index: index,
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
/// `a`, added to the command in `version`.
pub const fn since(version: &'static str, a: ArgDoc) -> ArgDoc {
    ArgDoc {
        since: version,
        ..a
    }
}
/// `a`, deprecated since `version`.
pub const fn deprecated(version: &'static str, a: ArgDoc) -> ArgDoc {
    ArgDoc {
        deprecated_since: version,
        ..a
    }
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
