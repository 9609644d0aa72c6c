//! The HyperLogLog command table: key specs, argument docs and the `CommandSpec` of each
//! command, as Redis 7.0's COMMAND INFO and COMMAND DOCS describe them.

use super::count::{pfadd, pfcount, pfmerge};
use super::debug::{pfdebug, pfselftest};
use crate::commands::spec::flags::*;
use crate::commands::spec::{acl, arg, docflag, key_range, keyflag, multi, opt, KeySpecDoc};
use crate::commands::spec::{keys, ArgDoc, CommandSpec, KeySpec, K1, K_ALL};

const DOC_PFADD: &[ArgDoc] = &[arg("key", "key"), opt(multi(arg("element", "string")))];
const DOC_PFCOUNT: &[ArgDoc] = &[multi(arg("key", "key"))];
const DOC_PFMERGE: &[ArgDoc] = &[arg("destkey", "key"), multi(arg("sourcekey", "key"))];
const DOC_PFDEBUG: &[ArgDoc] = &[arg("subcommand", "string"), arg("key", "key")];

/// A hyperloglog-group command.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f)
        .group("hyperloglog", acl::HYPERLOGLOG)
        .since("2.8.9")
}

const PFCOUNT_KEYS: &[KeySpecDoc] = &[KeySpecDoc {
    notes: "RW because it may change the internal representation of the key, and propagate \
            to replicas",
    ..key_range(1, -1, keyflag::RW | keyflag::ACCESS)
}];
const PFMERGE_KEYS: &[KeySpecDoc] = &[
    key_range(1, 0, keyflag::RW | keyflag::ACCESS | keyflag::INSERT),
    key_range(2, -1, keyflag::RO | keyflag::ACCESS),
];

pub static COMMANDS: &[CommandSpec] = &[
    spec("pfadd", -2, WRITE | DENYOOM | FAST, K1, pfadd)
        .doc(
            "O(1) to add every element.",
            "Adds elements to the HyperLogLog at a key, creating it when absent.",
            DOC_PFADD,
        )
        .access(keyflag::RW | keyflag::INSERT),
    // MAY_REPLICATE: it may write the cached count (read-only scripts refuse it, as Redis).
    spec(
        "pfcount",
        -2,
        READONLY | MAY_REPLICATE | MULTI_KEY,
        K_ALL,
        pfcount,
    )
    .doc(
        "O(1) with a very small average constant time when called with a single key. \
             O(N) with N being the number of keys, and much bigger constant times, when \
             called with multiple keys.",
        "Estimates the number of distinct elements added to the HyperLogLogs at keys.",
        DOC_PFCOUNT,
    )
    .key_specs(PFCOUNT_KEYS)
    .access(keyflag::RW | keyflag::ACCESS),
    spec("pfmerge", -2, WRITE | DENYOOM | MULTI_KEY, K_ALL, pfmerge)
        .doc(
            "O(N) to merge N HyperLogLogs, but with high constant times.",
            "Merges HyperLogLogs into the one at a destination key.",
            DOC_PFMERGE,
        )
        .key_specs(PFMERGE_KEYS),
    spec(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        keys(2, 2, 1),
        pfdebug,
    )
    .doc(
        "N/A",
        "Looks inside a HyperLogLog value (internal, for debugging).",
        DOC_PFDEBUG,
    )
    .access(keyflag::RW | keyflag::ACCESS)
    .doc_flags(docflag::SYSCMD),
    CommandSpec::conn("pfselftest", 1, ADMIN, pfselftest)
        .group("hyperloglog", acl::HYPERLOGLOG)
        .since("2.8.9")
        .doc(
            "N/A",
            "Checks the HyperLogLog implementation (internal, for testing).",
            &[],
        )
        .doc_flags(docflag::SYSCMD),
];
