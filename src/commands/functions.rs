//! FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS / KILL / HELP: the
//! node-wide function libraries (`Global.scripts`), as Redis 7.0 keeps them.
//!
//! Every change is computed whole (`apply`: the new set of libraries, or Redis' error) and
//! installed at once with `ScriptStore::set_libraries`, whose version every shard's VM syncs
//! on before its next FCALL. Changes run on shard 0 (parked when the client is elsewhere), so
//! they are serialized and journaled once, in shard 0's journal: its AOF files carry the
//! FUNCTION records (loading an AOF of any layout replays them once, as they sit in one old
//! shard's files), and the replication stream gets them from there. A rewrite of shard 0's AOF
//! starts its base with one FUNCTION LOAD per library, and a full sync's snapshot with a
//! FUNCTION FLUSH followed by them (`aof_store::rewrite::serialize_libraries`).
//!
//! Compiling a library is the engine's (`lua::vm::load_library`); this file never runs Lua.

use super::scripting_docs as docs;
use super::server::write_help;
use super::spec::{keyflag, ScriptCmd};
use super::{flags::*, scripting, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::lua::store::{FunctionMeta, Libraries, Library};
use crate::lua::{RunControl, RunningFunction, ScriptFlags};
use crate::resp::{Args, Out, ReplyError};
use crate::shard::Shard;
use std::sync::atomic::Ordering;

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// A FUNCTION subcommand: name, arity, flags and handler here; what COMMAND INFO and DOCS say
/// about it comes from `scripting_docs`.
const fn sub(name: &'static str, arity: i32, flags: u32, f: super::ConnFn) -> CommandSpec {
    CommandSpec::conn(name, arity, flags, f)
}

/// FCALL and FCALL_RO: routed by their declared keys like EVAL, run by `dispatch::script`.
const fn fcall_spec(name: &'static str, flags: u32, cmd: ScriptCmd) -> CommandSpec {
    CommandSpec::new(
        name,
        -3,
        flags,
        KeySpec::Custom(fcall_keys),
        Handler::Script(cmd),
    )
}

/// The keys of FCALL/FCALL_RO. A bad key count finds no keys here (as Redis' key lookup), so
/// the call runs where the client is and answers "Function not found" first when the
/// function is missing too, as Redis does; the count's error comes from the run.
fn fcall_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(scripting::script_keys(args).unwrap_or_default())
}

pub static COMMANDS: &[CommandSpec] = &[
    docs::function(CommandSpec::new(
        "function",
        -2,
        0,
        KeySpec::None,
        Handler::Container,
    ))
    .subcommands(SUBCOMMANDS),
    docs::fcall(fcall_spec("fcall", scripting::SCRIPT_RUN, ScriptCmd::Fcall))
        .access(keyflag::RW_ACCESS_UPDATE),
    docs::fcall_ro(fcall_spec(
        "fcall_ro",
        scripting::SCRIPT_RUN | READONLY,
        ScriptCmd::FcallRo,
    ))
    .access(keyflag::RO | keyflag::ACCESS),
];

const SUBCOMMANDS: &[CommandSpec] = &[
    docs::function_delete(sub("delete", 3, WRITE | NOSCRIPT, delete)),
    docs::function_dump(sub("dump", 2, NOSCRIPT, dump)),
    docs::function_flush(sub("flush", -2, WRITE | NOSCRIPT, flush)),
    docs::function_help(sub("help", 2, LOADING | STALE, help)),
    docs::function_kill(sub(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        super::busy::function_kill,
    )),
    docs::function_list(sub("list", -2, NOSCRIPT, list)),
    docs::function_load(sub("load", -3, WRITE | DENYOOM | NOSCRIPT, load)),
    docs::function_restore(sub("restore", -3, WRITE | DENYOOM | NOSCRIPT, restore)),
    docs::function_stats(sub("stats", 2, NOSCRIPT | ALLOW_BUSY, stats)),
];

// ---------------------------------------------------------------------------------------------
// Library metadata and the pure change logic
// ---------------------------------------------------------------------------------------------

fn err(text: impl Into<String>) -> ReplyError {
    ReplyError::Other(format!("ERR {}", text.into()))
}

/// The library name the first line of a FUNCTION LOAD payload declares (`#!lua name=<lib>`),
/// checked in Redis' order (metadata, name, engine) before any code runs.
pub fn library_name(code: &[u8]) -> Result<String, ReplyError> {
    let (engine, name, _) = crate::lua::shebang::library(code).map_err(err)?;
    if !crate::lua::shebang::valid_name(name.as_bytes()) {
        return Err(err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at \
             least one character long",
        ));
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(err(format!("Engine '{engine}' not found")));
    }
    Ok(name)
}

/// How FUNCTION RESTORE treats libraries that exist already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Drop every library first.
    Flush,
    /// A library of the same name is an error (the default).
    Append,
    /// A library of the same name is replaced.
    Replace,
}

/// One change to the libraries, checked and applied whole by `apply`.
pub enum Change {
    Load { lib: Library, replace: bool },
    Delete(Vec<u8>),
    Flush,
    Restore { libs: Vec<Library>, policy: Policy },
}

/// The first function of `lib` whose name (compared without case, as Redis' function table
/// does) a library of `libs` other than `lib`'s namesake already has.
fn clash<'a>(libs: &Libraries, lib: &'a Library) -> Option<&'a FunctionMeta> {
    lib.functions.iter().find(|f| {
        libs.values()
            .filter(|l| l.name != lib.name)
            .flat_map(|l| l.functions.iter())
            .any(|g| g.name.eq_ignore_ascii_case(&f.name))
    })
}

/// FUNCTION LOAD's rules: an existing name needs REPLACE, and no function may clash with
/// another library's.
fn add(libs: &mut Libraries, lib: &Library, replace: bool) -> Result<(), ReplyError> {
    if libs.contains_key(&lib.name) && !replace {
        return Err(err(format!("Library '{}' already exists", lib.name)));
    }
    if let Some(f) = clash(libs, lib) {
        return Err(err(format!("Function {} already exists", f.name)));
    }
    libs.insert(lib.name.clone(), lib.clone());
    Ok(())
}

/// The libraries a payload's codes describe, as a fresh set (a clash inside the payload is
/// FUNCTION LOAD's error).
fn fresh_set(libs: &[Library]) -> Result<Libraries, ReplyError> {
    let mut set = Libraries::new();
    for lib in libs {
        add(&mut set, lib, false)?;
    }
    Ok(set)
}

/// The libraries after `change`, or Redis' error (nothing changes then).
pub fn apply(cur: &Libraries, change: &Change) -> Result<Libraries, ReplyError> {
    match change {
        Change::Load { lib, replace } => {
            let mut next = cur.clone();
            add(&mut next, lib, *replace)?;
            Ok(next)
        }
        Change::Delete(name) => {
            let key = std::str::from_utf8(name)
                .ok()
                .filter(|n| cur.contains_key(*n));
            let key = key.ok_or_else(|| err("Library not found"))?;
            let mut next = cur.clone();
            next.remove(key);
            Ok(next)
        }
        Change::Flush => Ok(Libraries::new()),
        Change::Restore { libs, policy } => {
            let fresh = fresh_set(libs)?;
            if *policy == Policy::Flush {
                return Ok(fresh);
            }
            let mut next = cur.clone();
            for lib in sorted(&fresh) {
                if next.contains_key(&lib.name) {
                    if *policy == Policy::Append {
                        return Err(err(format!("Library {} already exists", lib.name)));
                    }
                    next.remove(&lib.name);
                }
            }
            for lib in sorted(&fresh) {
                if let Some(f) = clash(&next, lib) {
                    return Err(err(format!("Function {} already exists", f.name)));
                }
            }
            next.extend(fresh);
            Ok(next)
        }
    }
}

/// The libraries in name order (Redis lists them in its hash table's order, which differs from
/// run to run; slotd's order is stable).
pub fn sorted(libs: &Libraries) -> Vec<&Library> {
    let mut v: Vec<&Library> = libs.values().collect();
    v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The function called `name` (without case, as FCALL finds it) and its library.
pub fn find_function<'a>(
    libs: &'a Libraries,
    name: &[u8],
) -> Option<(&'a Library, &'a FunctionMeta)> {
    libs.values().find_map(|l| {
        l.functions
            .iter()
            .find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|f| (l, f))
    })
}

/// What the libraries amount to, for INFO memory and MEMORY STATS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub libraries: u64,
    pub functions: u64,
    /// Their code, names and descriptions (Redis counts its own structures instead, so this
    /// is close to, not equal to, its `used_memory_functions`).
    pub bytes: u64,
}

pub fn footprint(libs: &Libraries) -> Footprint {
    let mut f = Footprint {
        libraries: libs.len() as u64,
        ..Default::default()
    };
    for lib in libs.values() {
        f.functions += lib.functions.len() as u64;
        f.bytes += (lib.code.len() + lib.name.len()) as u64;
        for g in &lib.functions {
            f.bytes += (g.name.len() + g.description.as_ref().map_or(0, String::len)) as u64;
        }
    }
    f
}

/// FUNCTION DUMP's payload: each library's code under the FUNCTION2 opcode, then the RDB
/// version and the CRC-64.
pub fn dump_payload(libs: &Libraries, compress: bool) -> Vec<u8> {
    let mut b = Vec::new();
    for lib in sorted(libs) {
        b.push(crate::rdb::OPCODE_FUNCTION2);
        crate::rdb::put_string(&mut b, &lib.code, compress);
    }
    crate::rdb::seal(&mut b);
    b
}

/// The script flags FUNCTION LIST names, in Redis' order.
const FLAG_NAMES: &[(u8, &str)] = &[
    (ScriptFlags::NO_WRITES, "no-writes"),
    (ScriptFlags::ALLOW_OOM, "allow-oom"),
    (ScriptFlags::ALLOW_STALE, "allow-stale"),
    (ScriptFlags::NO_CLUSTER, "no-cluster"),
    (ScriptFlags::ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];

// ---------------------------------------------------------------------------------------------
// Compiling (the engine) and committing (shard 0)
// ---------------------------------------------------------------------------------------------

/// Compiles and registers one library's code in a scratch state (the engine's check).
fn compile(code: &[u8]) -> Result<Library, ReplyError> {
    crate::lua::vm::load_library(code)
}

/// Reads a FUNCTION change line (`FUNCTION LOAD|DELETE|FLUSH|RESTORE ...`, the subcommand at
/// argument 1) into a `Change`, compiling what it loads. `cur` decides Redis' early
/// "already exists" error of LOAD, which comes before the code runs.
fn parse_change(args: Args<'_>, cur: &Libraries) -> Result<Change, ReplyError> {
    let sub = args.get(1);
    if sub.eq_ignore_ascii_case(b"load") {
        let mut replace = false;
        let mut i = 2;
        while i + 1 < args.len() {
            let a = args.get(i);
            if !a.eq_ignore_ascii_case(b"replace") {
                let shown = String::from_utf8_lossy(a);
                return Err(err(format!("Unknown option given: {shown}")));
            }
            replace = true;
            i += 1;
        }
        let code = args.get(i);
        let name = library_name(code)?;
        if cur.contains_key(&name) && !replace {
            return Err(err(format!("Library '{name}' already exists")));
        }
        return Ok(Change::Load {
            lib: compile(code)?,
            replace,
        });
    }
    if sub.eq_ignore_ascii_case(b"delete") {
        return Ok(Change::Delete(args.get(2).to_vec()));
    }
    if sub.eq_ignore_ascii_case(b"flush") {
        flush_mode(args)?;
        return Ok(Change::Flush);
    }
    if sub.eq_ignore_ascii_case(b"restore") {
        if args.len() > 4 {
            return Err(subcommand_syntax(args));
        }
        let policy = match args.len() {
            4 => restore_policy(args.get(3))?,
            _ => Policy::Append,
        };
        let codes = crate::rdb::function_codes(args.get(2)).map_err(err)?;
        let mut libs: Vec<Library> = Vec::with_capacity(codes.len());
        for code in &codes {
            // Each library is checked as LOAD checks it, against those before it.
            let name = library_name(code)?;
            if libs.iter().any(|l| l.name == name) {
                return Err(err(format!("Library '{name}' already exists")));
            }
            libs.push(compile(code)?);
        }
        return Ok(Change::Restore { libs, policy });
    }
    Err(subcommand_syntax(args))
}

fn subcommand_syntax(args: Args<'_>) -> ReplyError {
    ReplyError::SubcommandOrArity {
        cmd: "FUNCTION",
        sub: String::from_utf8_lossy(args.get(1)).into_owned(),
    }
}

/// FUNCTION FLUSH's mode: true for ASYNC (no mode: `lazyfree-lazy-user-flush`). Libraries
/// are small and freed at once either way; only the argument check shows.
fn flush_mode(args: Args<'_>) -> Result<bool, ReplyError> {
    match args.len() {
        2 => Ok(crate::lazyfree::user_flush_async()),
        3 if args.get(2).eq_ignore_ascii_case(b"sync") => Ok(false),
        3 if args.get(2).eq_ignore_ascii_case(b"async") => Ok(true),
        3 => Err(err("FUNCTION FLUSH only supports SYNC|ASYNC option")),
        _ => Err(subcommand_syntax(args)),
    }
}

fn restore_policy(raw: &[u8]) -> Result<Policy, ReplyError> {
    if raw.eq_ignore_ascii_case(b"append") {
        Ok(Policy::Append)
    } else if raw.eq_ignore_ascii_case(b"replace") {
        Ok(Policy::Replace)
    } else if raw.eq_ignore_ascii_case(b"flush") {
        Ok(Policy::Flush)
    } else {
        Err(err(
            "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ))
    }
}

/// Installs `change` on shard 0 (`sh`): checked against the libraries in force there, then
/// set, journaled as the command line that asked for it, and counted as a change.
fn commit_on(sh: &mut Shard, change: &Change, args: Args<'_>) -> Result<(), ReplyError> {
    debug_assert_eq!(sh.id, 0, "function changes are journaled by shard 0");
    let store = &sh.global.scripts;
    let next = apply(&store.libraries(), change)?;
    store.set_libraries(next);
    sh.journal.record_args(args);
    sh.dirty += 1;
    Ok(())
}

/// A library change needs shard 0: while a script holds it past the busy threshold, the
/// change is refused with its -BUSY (as Redis refuses every such command then) rather than
/// waiting for the script with this shard's clients.
fn shard0_busy(ctx: &ConnCtx<'_>) -> CmdResult {
    match super::busy::refusal_among(&ctx.shard.global, &[0]) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Runs `change` on shard 0 (parking it when this client is on another shard).
fn commit(ctx: &mut ConnCtx<'_>, change: &Change, args: Args<'_>) -> CmdResult {
    let here = ctx.shard.id;
    let always = ctx
        .shard
        .global
        .cfg(|c| c.appendfsync == crate::config::AppendFsync::Always);
    ctx.shard.try_call_on(0, |sh| {
        commit_on(sh, change, args)?;
        if always && sh.id != here {
            // A parked shard 0 cannot fsync before this shard replies: do it for it now.
            if let Err(e) = crate::aof::flush_now(sh, true) {
                crate::log::warning(&format!("AOF write of shard 0: {e}"));
            }
        }
        Ok(())
    })?
}

/// Whether a journaled record (resolved to `spec`) changes the function libraries: AOF
/// loading and a replica run it with `replay`.
pub fn is_change(spec: &CommandSpec) -> bool {
    matches!(
        super::full_name(spec),
        "function|load" | "function|delete" | "function|flush" | "function|restore"
    )
}

/// Applies a FUNCTION record from the AOF or the master's stream on shard 0 (`sh`): like the
/// command, journaled for this node's own AOF and replicas. An error (a record the libraries
/// already reflect, e.g. replayed twice around a rewrite) changes nothing and is logged.
pub fn replay(sh: &mut Shard, args: Args<'_>) {
    let cur = sh.global.scripts.libraries();
    let r = parse_change(args, &cur).and_then(|change| commit_on(sh, &change, args));
    if let Err(e) = r {
        let mut text = Vec::new();
        e.write_text(&mut text);
        crate::log::notice(&format!(
            "A FUNCTION record changed nothing: {}",
            String::from_utf8_lossy(&text)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

fn load(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    shard0_busy(ctx)?;
    let cur = ctx.shard.global.scripts.libraries();
    let change = parse_change(args, &cur)?;
    commit(ctx, &change, args)?;
    if let Change::Load { lib, .. } = &change {
        ctx.out.bulk(lib.name.as_bytes());
    }
    Ok(())
}

fn delete(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    shard0_busy(ctx)?;
    let change = Change::Delete(args.get(2).to_vec());
    commit(ctx, &change, args)?;
    ctx.out.ok();
    Ok(())
}

fn flush(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    shard0_busy(ctx)?;
    flush_mode(args)?;
    commit(ctx, &Change::Flush, args)?;
    ctx.out.ok();
    Ok(())
}

fn restore(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    shard0_busy(ctx)?;
    let cur = ctx.shard.global.scripts.libraries();
    let change = parse_change(args, &cur)?;
    commit(ctx, &change, args)?;
    ctx.out.ok();
    Ok(())
}

fn dump(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let compress = ctx.shard.global.cfg(|c| {
        c.unimplemented
            .get("rdbcompression")
            .is_none_or(|v| v != "no")
    });
    let libs = ctx.shard.global.scripts.libraries();
    ctx.out.bulk(&dump_payload(&libs, compress));
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], each option at most once.
fn list(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i + 1 >= args.len() {
                return Err(err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            let shown = String::from_utf8_lossy(a);
            return Err(err(format!("Unknown argument {shown}")));
        }
        i += 1;
    }
    let libs = ctx.shard.global.scripts.libraries();
    let shown: Vec<&Library> = sorted(&libs)
        .into_iter()
        .filter(|l| pattern.is_none_or(|p| crate::glob::matches(p, l.name.as_bytes(), true)))
        .collect();
    ctx.out.array(shown.len());
    for lib in shown {
        write_library(&mut ctx.out, lib, with_code);
    }
    Ok(())
}

fn write_library(out: &mut Out<'_>, lib: &Library, with_code: bool) {
    out.map(if with_code { 4 } else { 3 });
    out.bulk(b"library_name");
    out.bulk(lib.name.as_bytes());
    out.bulk(b"engine");
    out.bulk(lib.engine.as_bytes());
    out.bulk(b"functions");
    let mut functions: Vec<&FunctionMeta> = lib.functions.iter().collect();
    functions.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    out.array(functions.len());
    for f in functions {
        out.map(3);
        out.bulk(b"name");
        out.bulk(f.name.as_bytes());
        out.bulk(b"description");
        match &f.description {
            Some(d) => out.bulk(d.as_bytes()),
            None => out.null(),
        }
        out.bulk(b"flags");
        let names: Vec<&str> = FLAG_NAMES
            .iter()
            .filter(|(bit, _)| f.flags.has(*bit))
            .map(|(_, n)| *n)
            .collect();
        out.set(names.len());
        for n in names {
            out.simple(n);
        }
    }
    if with_code {
        out.bulk(b"library_code");
        out.bulk(&lib.code);
    }
}

/// Publishes the function a run that was just suspended past the busy threshold is running
/// (once per such run), for FUNCTION STATS on any core.
pub fn note_running(ctl: &RunControl, started_ms: u64, name: &[u8], args: Args<'_>) {
    let info = RunningFunction {
        started_ms,
        name: name.into(),
        argv: (0..args.len()).map(|i| args.get(i).into()).collect(),
    };
    *ctl.function.lock().unwrap_or_else(|e| e.into_inner()) = Some(info);
}

/// The function a shard runs past the busy threshold, if its run was suspended.
fn running_function(ctl: &RunControl) -> Option<RunningFunction> {
    let busy = ctl.running.load(Ordering::Acquire) && ctl.busy.load(Ordering::Acquire);
    if !busy || !ctl.is_function.load(Ordering::Acquire) {
        return None;
    }
    let started = ctl.started_ms.load(Ordering::Acquire);
    let info = ctl.function.lock().unwrap_or_else(|e| e.into_inner());
    info.as_ref().filter(|f| f.started_ms == started).cloned()
}

/// FUNCTION STATS: the function running past the busy threshold, if any (the only time Redis
/// can answer while one runs; an EVAL script there is -BUSY), and the LUA engine's counts.
fn stats(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let global = &ctx.shard.global;
    let busy_eval = (0..global.script_runs.len()).any(|i| {
        super::busy::is_busy(global, i)
            && !global.script_runs[i].is_function.load(Ordering::Acquire)
    });
    if busy_eval {
        return Err(ReplyError::other(super::busy::BUSY_EVAL));
    }
    let running = global.script_runs.iter().find_map(running_function);
    let libs = global.scripts.libraries();
    let functions: usize = libs.values().map(|l| l.functions.len()).sum();
    let now_ms = ctx.now_ms;
    let out = &mut ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        None => out.null(),
        Some(f) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&f.name);
            out.bulk(b"command");
            out.array(f.argv.len());
            for a in &f.argv {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(now_ms.saturating_sub(f.started_ms) as i64);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs.len() as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

fn help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    write_help(
        ctx,
        "FUNCTION",
        &[
            (
                "LOAD [REPLACE] <FUNCTION CODE>",
                "Create the library the code names on its first line (#!lua name=<lib>).",
            ),
            (
                "DELETE <LIBRARY NAME>",
                "Remove a library and its functions.",
            ),
            (
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "Describe each library (only those matching PATTERN), with its code if asked.",
            ),
            (
                "STATS",
                "The function running now, and the libraries and functions per engine.",
            ),
            ("KILL", "Stop the running function (if it has not written)."),
            (
                "FLUSH [ASYNC|SYNC]",
                "Remove every library (the mode only matters for the argument check).",
            ),
            ("DUMP", "Serialize every library, for FUNCTION RESTORE."),
            (
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "Recreate the libraries of a DUMP payload: FLUSH drops the others first, \
                 APPEND (default) refuses a library that exists, REPLACE replaces it.",
            ),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests;
