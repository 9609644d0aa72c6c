//! The bitmap command table: key specs, argument docs and the `CommandSpec` of every bitmap
//! command, as COMMAND INFO / DOCS of Redis 7.0 describe them.

use super::bitfield::{bitfield, bitfield_ro, key_flags as bitfield_key_flags};
use super::bitop::bitop;
use super::count::{bitcount, bitpos};
use super::single::{getbit, setbit};
use super::*;
use crate::commands::spec::{
    acl, arg, block, key_range, keyflag, multi, multi_token, oneof, opt, pure, since, tok,
    KeySpecDoc, K1,
};

const A_KEY: ArgDoc = arg("key", "key");
const A_OFFSET: ArgDoc = arg("offset", "integer");
const A_ENCODING: ArgDoc = arg("encoding", "string");
const A_UNIT: ArgDoc = since(
    "7.0.0",
    opt(oneof(
        "index_unit",
        &[pure("byte", "BYTE"), pure("bit", "BIT")],
    )),
);
const DOC_SETBIT: &[ArgDoc] = &[A_KEY, A_OFFSET, arg("value", "integer")];
const DOC_GETBIT: &[ArgDoc] = &[A_KEY, A_OFFSET];
const DOC_BITCOUNT: &[ArgDoc] = &[
    A_KEY,
    opt(block(
        "index",
        &[arg("start", "integer"), arg("end", "integer"), A_UNIT],
    )),
];
const DOC_BITPOS: &[ArgDoc] = &[
    A_KEY,
    arg("bit", "integer"),
    opt(block(
        "index",
        &[
            arg("start", "integer"),
            opt(block("end_index", &[arg("end", "integer"), A_UNIT])),
        ],
    )),
];
const DOC_BITOP: &[ArgDoc] = &[
    arg("operation", "string"),
    arg("destkey", "key"),
    multi(A_KEY),
];
const GET_FIELD: ArgDoc = tok("GET", block("encoding_offset", &[A_ENCODING, A_OFFSET]));
const DOC_BITFIELD: &[ArgDoc] = &[
    A_KEY,
    opt(multi(oneof(
        "operation",
        &[
            GET_FIELD,
            block(
                "write",
                &[
                    opt(tok(
                        "OVERFLOW",
                        oneof(
                            "wrap_sat_fail",
                            &[
                                pure("wrap", "WRAP"),
                                pure("sat", "SAT"),
                                pure("fail", "FAIL"),
                            ],
                        ),
                    )),
                    oneof(
                        "write_operation",
                        &[
                            tok(
                                "SET",
                                block(
                                    "encoding_offset_value",
                                    &[A_ENCODING, A_OFFSET, arg("value", "integer")],
                                ),
                            ),
                            tok(
                                "INCRBY",
                                block(
                                    "encoding_offset_increment",
                                    &[A_ENCODING, A_OFFSET, arg("increment", "integer")],
                                ),
                            ),
                        ],
                    ),
                ],
            ),
        ],
    ))),
];
const DOC_BITFIELD_RO: &[ArgDoc] = &[A_KEY, opt(multi_token(GET_FIELD))];

/// A bitmap-group command.
const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: KeySpec,
    f: crate::commands::KeyFn,
) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f).group("bitmap", acl::BITMAP)
}

const O1: &str = "O(1)";
const ON: &str = "O(N)";
const BYTE_BIT: &[(&str, &str)] = &[("7.0.0", "Added the `BYTE|BIT` option.")];
const PER_OP: &str = "O(1) for each subcommand specified";

pub static COMMANDS: &[CommandSpec] = &[
    spec("setbit", 4, WRITE | DENYOOM, K1, setbit)
        .since("2.2.0")
        .doc(
            O1,
            "Sets or clears one bit of the string at a key, returning its old value.",
            DOC_SETBIT,
        )
        .access(keyflag::RW_ACCESS_UPDATE),
    spec("getbit", 3, READONLY | FAST, K1, getbit)
        .since("2.2.0")
        .doc(O1, "Returns one bit of the string at a key.", DOC_GETBIT),
    spec("bitcount", -2, READONLY, K1, bitcount)
        .since("2.6.0")
        .doc(
            ON,
            "Counts the set bits of a string, or of a byte or bit range of it.",
            DOC_BITCOUNT,
        )
        .history(BYTE_BIT),
    spec("bitpos", -3, READONLY, K1, bitpos)
        .since("2.8.7")
        .doc(
            ON,
            "Finds the first set or clear bit of a string, or of a range of it.",
            DOC_BITPOS,
        )
        .history(BYTE_BIT),
    spec(
        "bitop",
        -4,
        WRITE | DENYOOM | MULTI_KEY,
        crate::commands::spec::keys(2, -1, 1),
        bitop,
    )
    .key_specs(&[
        key_range(2, 0, keyflag::OW | keyflag::UPDATE),
        key_range(3, -1, keyflag::RO | keyflag::ACCESS),
    ])
    .since("2.6.0")
    .doc(
        ON,
        "Stores the AND, OR, XOR of strings, or the NOT of one, at a destination key.",
        DOC_BITOP,
    ),
    spec("bitfield", -2, WRITE | DENYOOM, K1, bitfield)
        .key_specs(&[KeySpecDoc {
            notes: "This command allows both access and modification of the key",
            ..key_range(1, 0, keyflag::RW_ACCESS_UPDATE | keyflag::VARIABLE_FLAGS)
        }])
        .line_key_flags(bitfield_key_flags)
        .since("3.2.0")
        .doc(
            PER_OP,
            "Reads, writes and increments integers of any width at bit offsets of a string.",
            DOC_BITFIELD,
        ),
    spec("bitfield_ro", -2, READONLY | FAST, K1, bitfield_ro)
        .since("6.0.0")
        .doc(
            PER_OP,
            "Reads integers at bit offsets of a string (BITFIELD's read-only form).",
            DOC_BITFIELD_RO,
        ),
];
