//! OBJECT and its subcommands.

use super::*;

// ---------------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------------

pub(super) fn object_encoding(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    match peek(ex, args.get(2)).map(|e| e.encoding()) {
        Some(enc) => ex.out.bulk(enc.as_bytes()),
        None => ex.out.null(),
    }
    Ok(())
}

/// The key's LFU counter after its decay (nothing stored), or Redis' error when the policy
/// is not an LFU one.
pub(super) fn object_freq(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    let s = ex.shard.global.maxmemory.load();
    let Some(e) = peek(ex, args.get(2)) else {
        ex.out.null();
        return Ok(());
    };
    if !s.policy.is_lfu() {
        return Err(ReplyError::other(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
             note that when switching between policies at runtime LRU and LFU data will take \
             some time to adjust.",
        ));
    }
    let freq = crate::keyspace::evict::lfu_decayed(e.lru(), s.lfu_decay_min, now);
    ex.out.int(freq as i64);
    Ok(())
}

/// Seconds since the last access by the LRU clock, or Redis' error under an LFU policy.
pub(super) fn object_idletime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let now = ex.now_ms;
    let lfu = ex.shard.global.maxmemory.load().policy.is_lfu();
    let Some(e) = peek(ex, args.get(2)) else {
        ex.out.null();
        return Ok(());
    };
    if lfu {
        return Err(ReplyError::other(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that \
             when switching between policies at runtime LRU and LFU data will take some time \
             to adjust.",
        ));
    }
    let idle_s = e.idle_s(now);
    ex.out.int(idle_s as i64);
    Ok(())
}

/// Redis shares one object for the integers 0..10000 (no maxmemory policy here forbids it) and
/// reports INT_MAX references for it; any other value has exactly one.
pub(super) fn refcount(e: &Entry) -> i64 {
    match e.value() {
        ValueRef::Str(s) if e.encoding() == "int" => match parse_i64(s) {
            Some(n) if (0..10_000).contains(&n) => i32::MAX as i64,
            _ => 1,
        },
        _ => 1,
    }
}

pub(super) fn object_refcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    match peek(ex, args.get(2)).map(|e| refcount(e)) {
        Some(n) => ex.out.int(n),
        None => ex.out.null(),
    }
    Ok(())
}

/// The help lines are part of the reply format clients may show, so they match Redis'.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

pub(super) fn object_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}
