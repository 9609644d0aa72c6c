//! String commands: GET, SET and friends, counters, ranges, LCS.

use super::{flags::*, CmdResult, CommandSpec, Exec, Handler, KeySpec};
use crate::resp::{Args, ReplyError};
use crate::shard::value::{StrValue, Value};

const K1: KeySpec = KeySpec::Range {
    first: 1,
    last: 1,
    step: 1,
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        group: "string",
        ..CommandSpec::new("get", 2, READONLY | FAST, K1, Handler::Key(get))
    },
    CommandSpec {
        group: "string",
        ..CommandSpec::new("set", -3, WRITE | DENYOOM, K1, Handler::Key(set))
    },
];

fn get(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    match ex.shard.db.lookup_read(args.get(1), now) {
        None => ex.out.null(),
        Some(e) => match &e.value {
            Value::Str(s) => ex.out.bulk(&s.bytes),
        },
    }
    Ok(())
}

fn set(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len() != 3 {
        return Err(ReplyError::Syntax);
    }
    let now = ex.now_ms;
    let key = args.get(1);
    ex.db(key)
        .set(key, Value::Str(StrValue::from_slice(args.get(2))), 0, now);
    ex.dirty(key, 1);
    ex.out.ok();
    Ok(())
}
