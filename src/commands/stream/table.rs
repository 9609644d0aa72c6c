//! The stream command table: flags, key specs, argument docs and the `CommandSpec` of every
//! X* command (XGROUP and XINFO as containers), matching what Redis 7.0's COMMAND INFO and
//! COMMAND DOCS say about them.

use super::*;
use crate::commands::spec::{acl, keyflag, BeginSearch, FindKeys, KeySpecDoc};
use crate::commands::spec::{arg, block, multi, oneof, opt, pure, since, tok, K1, K2};
use crate::commands::Handler;

/// A stream-group command run on the owner of its keys.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f).group("stream", acl::STREAM)
}

/// An XGROUP/XINFO subcommand whose key is argument 2.
const fn sub(name: &'static str, arity: i32, flags: u32, f: crate::commands::KeyFn) -> CommandSpec {
    spec(name, arity, flags, K2, f)
}

/// The HELP subcommand of XGROUP or XINFO.
const fn help(f: crate::commands::ConnFn) -> CommandSpec {
    CommandSpec::conn("help", 2, LOADING | STALE, f)
        .group("stream", acl::STREAM)
        .since("5.0.0")
        .doc(O1, "Lists the subcommands and what they do.", &[])
}

/// A container (XGROUP, XINFO): the subcommand picks the handler.
const fn container(name: &'static str, subs: &'static [CommandSpec]) -> CommandSpec {
    CommandSpec::new(name, -2, 0, KeySpec::None, Handler::Container)
        .group("stream", 0)
        .since("5.0.0")
        .subcommands(subs)
}

const O1: &str = "O(1)";
const RW_UPDATE: u16 = keyflag::RW | keyflag::UPDATE;
const RW_DELETE: u16 = keyflag::RW | keyflag::DELETE;
const RW_INSERT: u16 = keyflag::RW | keyflag::INSERT;
const RO_ACCESS: u16 = keyflag::RO | keyflag::ACCESS;
const NONDET: &[&str] = &["nondeterministic_output"];

const A_KEY: ArgDoc = arg("key", "key");
const A_GROUP: ArgDoc = arg("group", "string");
const A_GROUPNAME: ArgDoc = arg("groupname", "string");
const A_CONSUMERNAME: ArgDoc = arg("consumername", "string");
const A_COUNT_OPT: ArgDoc = opt(tok("COUNT", arg("count", "integer")));

const TRIM_ARGS: &[ArgDoc] = &[
    oneof(
        "strategy",
        &[
            pure("maxlen", "MAXLEN"),
            since("6.2.0", pure("minid", "MINID")),
        ],
    ),
    opt(oneof(
        "operator",
        &[pure("equal", "="), pure("approximately", "~")],
    )),
    arg("threshold", "string"),
    since("6.2.0", opt(tok("LIMIT", arg("count", "integer")))),
];

const DOC_XADD: &[ArgDoc] = &[
    A_KEY,
    since("6.2.0", opt(pure("nomkstream", "NOMKSTREAM"))),
    opt(block("trim", TRIM_ARGS)),
    oneof("id_or_auto", &[pure("auto_id", "*"), arg("id", "string")]),
    multi(block(
        "field_value",
        &[arg("field", "string"), arg("value", "string")],
    )),
];
const DOC_XTRIM: &[ArgDoc] = &[A_KEY, block("trim", TRIM_ARGS)];
const DOC_XRANGE: &[ArgDoc] = &[
    A_KEY,
    arg("start", "string"),
    arg("end", "string"),
    A_COUNT_OPT,
];
const DOC_XREVRANGE: &[ArgDoc] = &[
    A_KEY,
    arg("end", "string"),
    arg("start", "string"),
    A_COUNT_OPT,
];
const DOC_KEY: &[ArgDoc] = &[A_KEY];
const DOC_XDEL: &[ArgDoc] = &[A_KEY, multi(arg("id", "string"))];
const DOC_XSETID: &[ArgDoc] = &[
    A_KEY,
    arg("last-id", "string"),
    since(
        "7.0.0",
        opt(tok("ENTRIESADDED", arg("entries_added", "integer"))),
    ),
    since(
        "7.0.0",
        opt(tok("MAXDELETEDID", arg("max_deleted_entry_id", "string"))),
    ),
];
const STREAMS_BLOCK: ArgDoc = tok(
    "STREAMS",
    block("streams", &[multi(A_KEY), multi(arg("id", "string"))]),
);
const DOC_XREAD: &[ArgDoc] = &[
    A_COUNT_OPT,
    opt(tok("BLOCK", arg("milliseconds", "integer"))),
    STREAMS_BLOCK,
];
const DOC_XREADGROUP: &[ArgDoc] = &[
    tok(
        "GROUP",
        block("group_consumer", &[A_GROUP, arg("consumer", "string")]),
    ),
    A_COUNT_OPT,
    opt(tok("BLOCK", arg("milliseconds", "integer"))),
    opt(pure("noack", "NOACK")),
    STREAMS_BLOCK,
];
const DOC_XACK: &[ArgDoc] = &[A_KEY, A_GROUP, multi(arg("id", "string"))];
const DOC_XPENDING: &[ArgDoc] = &[
    A_KEY,
    A_GROUP,
    opt(block(
        "filters",
        &[
            since("6.2.0", opt(tok("IDLE", arg("min-idle-time", "integer")))),
            arg("start", "string"),
            arg("end", "string"),
            arg("count", "integer"),
            opt(arg("consumer", "string")),
        ],
    )),
];
const DOC_XCLAIM: &[ArgDoc] = &[
    A_KEY,
    A_GROUP,
    arg("consumer", "string"),
    arg("min-idle-time", "string"),
    multi(arg("id", "string")),
    opt(tok("IDLE", arg("ms", "integer"))),
    opt(tok("TIME", arg("unix-time-milliseconds", "unix-time"))),
    opt(tok("RETRYCOUNT", arg("count", "integer"))),
    opt(pure("force", "FORCE")),
    opt(pure("justid", "JUSTID")),
    opt(tok("LASTID", arg("id", "string"))),
];
const DOC_XAUTOCLAIM: &[ArgDoc] = &[
    A_KEY,
    A_GROUP,
    arg("consumer", "string"),
    arg("min-idle-time", "string"),
    arg("start", "string"),
    A_COUNT_OPT,
    opt(pure("justid", "JUSTID")),
];
const ID_OR_NEW: ArgDoc = oneof("id", &[arg("id", "string"), pure("new_id", "$")]);
const A_ENTRIES_READ_OPT: ArgDoc = opt(tok("ENTRIESREAD", arg("entries_read", "integer")));
const DOC_XGROUP_CREATE: &[ArgDoc] = &[
    A_KEY,
    A_GROUPNAME,
    ID_OR_NEW,
    opt(pure("mkstream", "MKSTREAM")),
    A_ENTRIES_READ_OPT,
];
const DOC_XGROUP_SETID: &[ArgDoc] = &[A_KEY, A_GROUPNAME, ID_OR_NEW, A_ENTRIES_READ_OPT];
const DOC_XGROUP_DESTROY: &[ArgDoc] = &[A_KEY, A_GROUPNAME];
const DOC_XGROUP_CONSUMER: &[ArgDoc] = &[A_KEY, A_GROUPNAME, A_CONSUMERNAME];
const DOC_XINFO_STREAM: &[ArgDoc] = &[A_KEY, opt(tok("FULL", block("full", &[A_COUNT_OPT])))];
const DOC_XINFO_GROUPS: &[ArgDoc] = &[A_KEY];
const DOC_XINFO_CONSUMERS: &[ArgDoc] = &[A_KEY, A_GROUPNAME];

/// XREAD and XREADGROUP: the keys are the first half of what follows STREAMS.
const fn streams_spec(start_from: i32) -> KeySpecDoc {
    KeySpecDoc {
        notes: "",
        flags: RO_ACCESS,
        begin: BeginSearch::Keyword {
            keyword: "STREAMS",
            start_from,
        },
        find: FindKeys::Range {
            last: -1,
            step: 1,
            limit: 2,
        },
    }
}

const XADD_SPEC: KeySpecDoc = KeySpecDoc {
    notes: "UPDATE instead of INSERT because of the optional trimming feature",
    ..crate::commands::spec::key_range(1, 0, RW_UPDATE)
};

const C_XRANGE: &str = "O(N) in the entries returned (O(1) with a small fixed COUNT), plus \
                        O(log N) to find the start.";

pub static COMMANDS: &[CommandSpec] = &[
    spec("xadd", -5, WRITE | DENYOOM | FAST, K1, xadd)
        .key_specs(&[XADD_SPEC])
        .tips(NONDET)
        .since("5.0.0")
        .doc(
            "O(1) to append; trimming costs O(N) in the entries removed.",
            "Appends an entry to a stream, creating it when absent, and may trim it.",
            DOC_XADD,
        )
        .history(&[
            (
                "6.2.0",
                "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
            ),
            ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
        ]),
    spec("xtrim", -4, WRITE, K1, xtrim)
        .access(RW_DELETE)
        .tips(NONDET)
        .since("5.0.0")
        .doc(
            "O(N) in the entries removed; whole nodes go at once.",
            "Removes the oldest entries of a stream, by length or by ID.",
            DOC_XTRIM,
        )
        .history(&[(
            "6.2.0",
            "Added the `MINID` trimming strategy and the `LIMIT` option.",
        )]),
    spec("xdel", -3, WRITE | FAST, K1, xdel)
        .access(RW_DELETE)
        .since("5.0.0")
        .doc(
            "O(1) per ID, whatever the stream's size.",
            "Deletes entries of a stream by ID and counts those that existed.",
            DOC_XDEL,
        ),
    spec("xsetid", -3, WRITE | DENYOOM | FAST, K1, xsetid)
        .since("5.0.0")
        .doc(
            O1,
            "Sets a stream's last generated ID and counters (used to replicate streams).",
            DOC_XSETID,
        )
        .history(&[(
            "7.0.0",
            "Added the `entries_added` and `max_deleted_entry_id` arguments.",
        )]),
    spec("xlen", 2, READONLY | FAST, K1, xlen)
        .access(keyflag::RO)
        .since("5.0.0")
        .doc(O1, "Counts the entries of a stream.", DOC_KEY),
    spec("xrange", -4, READONLY, K1, xrange)
        .since("5.0.0")
        .doc(
            C_XRANGE,
            "Returns the entries of a stream between two IDs, oldest first.",
            DOC_XRANGE,
        )
        .history(&[("6.2.0", "Added exclusive ranges.")]),
    spec("xrevrange", -4, READONLY, K1, xrevrange)
        .since("5.0.0")
        .doc(
            C_XRANGE,
            "Returns the entries of a stream between two IDs, newest first.",
            DOC_XREVRANGE,
        )
        .history(&[("6.2.0", "Added exclusive ranges.")]),
    spec("xack", -4, WRITE | FAST, K1, xack).since("5.0.0").doc(
        "O(1) per ID.",
        "Acknowledges entries of a consumer group, removing them from its pending list.",
        DOC_XACK,
    ),
    spec("xpending", -3, READONLY, K1, xpending)
        .tips(NONDET)
        .since("5.0.0")
        .doc(
            "O(N) in the entries returned (or scanned, with IDLE); the summary walks the \
             consumers.",
            "Reports the entries a consumer group delivered and nobody acknowledged yet.",
            DOC_XPENDING,
        )
        .history(&[(
            "6.2.0",
            "Added the `IDLE` option and exclusive range intervals.",
        )]),
    spec("xclaim", -6, WRITE | FAST, K1, xclaim)
        .tips(NONDET)
        .since("5.0.0")
        .doc(
            "O(log N) per ID in the size of the group's pending list.",
            "Moves pending entries of a consumer group to another consumer.",
            DOC_XCLAIM,
        ),
    spec("xautoclaim", -6, WRITE | FAST, K1, xautoclaim)
        .access(RW_DELETE)
        .tips(NONDET)
        .since("6.2.0")
        .doc(
            "O(1) for a small COUNT.",
            "Moves the pending entries idle long enough to another consumer, scanning from an ID.",
            DOC_XAUTOCLAIM,
        )
        .history(&[(
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command \
             cleared from the PEL",
        )]),
    container("xgroup", XGROUP_SUBCOMMANDS).doc(
        "Depends on subcommand.",
        "Manages consumer groups.",
        &[],
    ),
    container("xinfo", XINFO_SUBCOMMANDS).doc(
        "Depends on subcommand.",
        "Describes streams, their groups and consumers.",
        &[],
    ),
];

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    sub("create", -5, WRITE | DENYOOM, xgroup_create)
        .access(RW_INSERT)
        .since("5.0.0")
        .doc(
            O1,
            "Creates a consumer group on a stream.",
            DOC_XGROUP_CREATE,
        )
        .history(&[("7.0.0", "Added the `entries_read` named argument.")]),
    sub("setid", -5, WRITE, xgroup_setid)
        .since("5.0.0")
        .doc(
            O1,
            "Moves a consumer group's last delivered ID.",
            DOC_XGROUP_SETID,
        )
        .history(&[("7.0.0", "Added the optional `entries_read` argument.")]),
    sub("destroy", 4, WRITE, xgroup_destroy)
        .access(RW_DELETE)
        .since("5.0.0")
        .doc(
            "O(N) in the entries of the group's pending list.",
            "Deletes a consumer group.",
            DOC_XGROUP_DESTROY,
        ),
    sub("createconsumer", 5, WRITE | DENYOOM, xgroup_createconsumer)
        .access(RW_INSERT)
        .since("6.2.0")
        .doc(O1, "Adds a consumer to a group.", DOC_XGROUP_CONSUMER),
    sub("delconsumer", 5, WRITE, xgroup_delconsumer)
        .access(RW_DELETE)
        .since("5.0.0")
        .doc(
            O1,
            "Removes a consumer from a group, with its pending entries.",
            DOC_XGROUP_CONSUMER,
        ),
    help(xgroup_help),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    sub("stream", -3, READONLY, xinfo_stream)
        .since("5.0.0")
        .doc(
            O1,
            "Describes a stream (FULL: its entries, groups and consumers too).",
            DOC_XINFO_STREAM,
        )
        .history(&[
            ("6.0.0", "Added the `FULL` modifier."),
            (
                "7.0.0",
                "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, \
                 `entries-read` and `lag` fields",
            ),
        ]),
    sub("groups", 3, READONLY, xinfo_groups)
        .since("5.0.0")
        .doc(
            O1,
            "Lists the consumer groups of a stream.",
            DOC_XINFO_GROUPS,
        )
        .history(&[("7.0.0", "Added the `entries-read` and `lag` fields")]),
    sub("consumers", 4, READONLY, xinfo_consumers)
        .tips(NONDET)
        .since("5.0.0")
        .doc(O1, "Lists the consumers of a group.", DOC_XINFO_CONSUMERS),
    help(xinfo_help),
];

/// XREAD and XREADGROUP, which may block.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[
    spec(
        "xread",
        -4,
        READONLY | MOVABLE_KEYS | MULTI_KEY,
        KeySpec::Custom(xread_keys),
        xread,
    )
    .key_specs(&[streams_spec(1)])
    .blocking()
    .since("5.0.0")
    .doc(
        "O(N) per stream in the entries returned (O(1) with a fixed COUNT); with BLOCK, each \
         XADD pays O(M) to serve the M clients it wakes.",
        "Returns the entries of streams after given IDs, waiting for new ones with BLOCK.",
        DOC_XREAD,
    ),
    spec(
        "xreadgroup",
        -7,
        WRITE | MOVABLE_KEYS | MULTI_KEY,
        KeySpec::Custom(xreadgroup_keys),
        xreadgroup,
    )
    .key_specs(&[streams_spec(4)])
    .access(RO_ACCESS)
    .blocking()
    .since("5.0.0")
    .doc(
        "O(M) per stream in the entries returned (O(1) with a fixed COUNT); with BLOCK, each \
         XADD pays O(N) to serve the N clients it wakes.",
        "Reads new entries through a consumer group (or a consumer's pending history), \
         waiting with BLOCK.",
        DOC_XREADGROUP,
    ),
];

/// The keys of XREAD as its key spec finds them (what Redis 7.0 routes and COMMAND GETKEYS
/// by): the first half of what follows the first STREAMS from argument 1.
pub fn xread_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(keys_after_streams(args, 1))
}

/// XREADGROUP's keys: as XREAD's, the search for STREAMS starting at argument 4.
pub fn xreadgroup_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(keys_after_streams(args, 4))
}

fn keys_after_streams(args: Args<'_>, start_from: usize) -> Vec<usize> {
    let Some(at) = (start_from..args.len()).find(|&i| args.get(i).eq_ignore_ascii_case(b"streams"))
    else {
        return Vec::new();
    };
    let n = (args.len() - at - 1) / 2;
    (at + 1..at + 1 + n).collect()
}
