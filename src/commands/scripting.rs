//! Scripting commands as data: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO (routed by their declared
//! keys and run by `dispatch::script` on the shard that owns them) and SCRIPT LOAD / EXISTS /
//! FLUSH / KILL / HELP over the node-wide script cache (`lua::store`). Never runs Lua itself
//! except to check a script SCRIPT LOAD is given.

use super::scripting_docs as docs;
use super::spec::{acl, keyflag, ScriptCmd};
use super::{flags::*, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::lua::store::parse_sha;
use crate::resp::{Args, ReplyError};

/// The keys of a script call: `<cmd> <script|sha|function> numkeys key... arg...`, as
/// Redis' `evalGetKeys` reads them, with its errors.
pub fn script_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    let n = numkeys(args)?;
    Ok((3..3 + n).collect())
}

/// The declared key count of a script call (argument 2), checked against the line.
pub fn numkeys(args: Args<'_>) -> Result<usize, ReplyError> {
    let v = crate::resp::parse::parse_i64(args.get(2)).ok_or_else(|| {
        // FCALL and FCALL_RO word it their own way.
        let name = args.get(0);
        if name.len() >= 5 && name[..5].eq_ignore_ascii_case(b"fcall") {
            ReplyError::other("ERR Bad number of keys provided")
        } else {
            ReplyError::other("ERR value is not an integer or out of range")
        }
    })?;
    if v > args.len() as i64 - 3 {
        return Err(ReplyError::other(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if v < 0 {
        return Err(ReplyError::other("ERR Number of keys can't be negative"));
    }
    Ok(v as usize)
}

/// Flags Redis 7.0 gives EVAL, EVALSHA and FCALL (COMMAND INFO); the `_RO` forms add
/// `readonly`.
pub const SCRIPT_RUN: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLE_KEYS;

/// One script-running command: keys from `numkeys`, @slow @scripting.
const fn run(name: &'static str, flags: u32, cmd: ScriptCmd) -> CommandSpec {
    CommandSpec::new(
        name,
        -3,
        flags,
        KeySpec::Custom(script_keys),
        Handler::Script(cmd),
    )
    .group("scripting", acl::SCRIPTING)
}

const fn sub(name: &'static str, arity: i32, flags: u32, f: super::ConnFn) -> CommandSpec {
    CommandSpec::conn(name, arity, flags, f).group("scripting", acl::SCRIPTING)
}

// What COMMAND INFO and DOCS say beyond name, arity, flags and keys comes from
// `scripting_docs`.
pub static COMMANDS: &[CommandSpec] = &[
    docs::eval(run("eval", SCRIPT_RUN, ScriptCmd::Eval)).access(keyflag::RW_ACCESS_UPDATE),
    docs::evalsha(run("evalsha", SCRIPT_RUN, ScriptCmd::EvalSha)).access(keyflag::RW_ACCESS_UPDATE),
    docs::eval_ro(run("eval_ro", SCRIPT_RUN | READONLY, ScriptCmd::EvalRo))
        .access(keyflag::RO | keyflag::ACCESS),
    docs::evalsha_ro(run(
        "evalsha_ro",
        SCRIPT_RUN | READONLY,
        ScriptCmd::EvalShaRo,
    ))
    .access(keyflag::RO | keyflag::ACCESS),
    docs::script(CommandSpec::new(
        "script",
        -2,
        0,
        KeySpec::None,
        Handler::Container,
    ))
    .subcommands(SCRIPT_SUBCOMMANDS),
];

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    docs::script_debug(sub("debug", 3, NOSCRIPT, script_debug)),
    docs::script_help(sub("help", 2, LOADING | STALE, script_help)),
    docs::script_flush(sub("flush", -2, NOSCRIPT, script_flush)),
    docs::script_exists(sub("exists", -3, NOSCRIPT, script_exists)),
    docs::script_load(sub("load", 3, NOSCRIPT | STALE, script_load)),
    docs::script_kill(sub(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        super::busy::script_kill,
    )),
];

/// SCRIPT LOAD: checks the script (shebang flags, compiles) and caches it node-wide.
fn script_load(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let body = args.get(2);
    let sha = crate::lua::store::sha_of(body);
    if !ctx.shard.global.scripts.exists(&sha) {
        let flags = check_script(ctx.shard, body)?;
        ctx.shard.global.scripts.insert(body, flags);
    }
    ctx.out.bulk(&sha);
    Ok(())
}

/// A script's shebang flags once it compiled in this shard's VM, or Redis' error for a bad
/// shebang or a compile error.
pub fn check_script(
    sh: &mut crate::shard::Shard,
    body: &[u8],
) -> Result<crate::lua::ScriptFlags, ReplyError> {
    let flags = crate::lua::vm::script_flags(body)?;
    let vm = sh
        .lua
        .get_or_insert_with(|| Box::new(crate::lua::vm::LuaVm::new()));
    vm.sync_scripts(&sh.global.scripts);
    let script = crate::lua::store::Script {
        sha: crate::lua::store::sha_of(body),
        body: body.into(),
        flags,
    };
    vm.compile(&script)?;
    Ok(flags)
}

/// SCRIPT EXISTS sha...: 1 or 0 for each.
fn script_exists(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let n = args.len() - 2;
    ctx.out.array(n);
    for i in 2..args.len() {
        let found = parse_sha(args.get(i)).is_some_and(|s| ctx.shard.global.scripts.exists(&s));
        ctx.out.int(i64::from(found));
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]: forgets every cached script; each core's VM drops what it
/// compiled before it runs a script again (the store's epoch).
fn script_flush(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let lazily = match args.len() {
        2 => crate::lazyfree::user_flush_async(),
        3 if args.get(2).eq_ignore_ascii_case(b"async") => true,
        3 if args.get(2).eq_ignore_ascii_case(b"sync") => false,
        _ => {
            return Err(ReplyError::other(
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            ))
        }
    };
    let dropped = ctx.shard.global.scripts.flush();
    let n = dropped.len();
    if !lazily || !crate::lazyfree::free_keyspace(dropped, n) {
        // Dropped here.
    }
    ctx.out.simple("OK");
    Ok(())
}

/// SCRIPT DEBUG: slotd has no Lua debugger (LDB), so only NO (the default) is accepted.
fn script_debug(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let mode = args.get(2);
    if mode.eq_ignore_ascii_case(b"no") {
        ctx.out.simple("OK");
        return Ok(());
    }
    if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        return Err(ReplyError::other(
            "ERR slotd has no Lua debugger: SCRIPT DEBUG YES and SYNC are not supported",
        ));
    }
    Err(ReplyError::other("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
}

/// The help lines are part of the reply format clients may show, so they match Redis'.
const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

fn script_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(SCRIPT_HELP.len());
    for line in SCRIPT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn keys(line: &[&str]) -> Result<Vec<usize>, String> {
        let v: Vec<&[u8]> = line.iter().map(|s| s.as_bytes()).collect();
        let owned = OwnedArgs::from_slices(&v);
        script_keys(owned.args()).map_err(|e| e.text())
    }

    #[test]
    fn numkeys_errors_are_redis_texts_in_redis_order() {
        assert_eq!(keys(&["EVAL", "s", "0"]), Ok(vec![]));
        assert_eq!(keys(&["EVAL", "s", "2", "a", "b", "c"]), Ok(vec![3, 4]));
        assert_eq!(
            keys(&["EVAL", "s", "x"]),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            keys(&["EVAL", "s", "5"]),
            Err("ERR Number of keys can't be greater than number of args".into())
        );
        assert_eq!(
            keys(&["EVAL", "s", "-1"]),
            Err("ERR Number of keys can't be negative".into())
        );
    }
}
