//! The Rust side of the `redis` table scripts see: `redis.call`/`redis.pcall` (through the
//! run's `Host`), `error_reply`, `status_reply`, `sha1hex`, `log`, `setresp`, `set_repl`,
//! `replicate_commands`, `breakpoint`/`debug`, the constants, and math.random's generator.
//!
//! Functions that raise return `(value, true)` and are wrapped by `coro::raising` in a C
//! function that raises the value: Redis raises tables (`{err=...}`), which a Rust callback
//! cannot do through mlua.

use super::convert;
use super::coro::{self, RunVars};
use super::rand48;
use super::ReplFlags;
use crate::constants::{REDIS_VERSION, REDIS_VERSION_NUM};
use crate::resp::write::{format_double_g17, push_int};
use crate::resp::Proto;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::cell::RefCell;

/// Which `redis` table to build.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    /// EVAL scripts: everything, with `breakpoint`, `debug` and `replicate_commands`.
    Eval,
    /// Function libraries while they run (FCALL).
    Function,
}

/// Arguments of a `redis.call` passed to the host without allocating.
const ARGV_INLINE: usize = 16;

thread_local! {
    /// Reused for every `redis.call` reply on this thread.
    static REPLY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Reused for the arguments of every `redis.call` on this thread.
    static ARGS: RefCell<(Vec<u8>, Vec<usize>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Stores `f` (answering `(value, raise)`) under `name`, wrapped so that it raises.
pub(super) fn set_raising(lua: &Lua, t: &Table, name: &str, f: Function) -> mlua::Result<()> {
    t.set(name, coro::raising(lua, f)?)
}

/// Builds the `redis` table.
pub(super) fn build(lua: &Lua, flavor: Flavor) -> mlua::Result<Table> {
    let redis = lua.create_table()?;
    let raising = |name: &str, f: Function| set_raising(lua, &redis, name, f);
    // The common calls take the C fast path (coro::fast_call); these handle the rest.
    let slow_call = coro::raising(
        lua,
        lua.create_function(|lua, a: MultiValue| call(lua, a, true))?,
    )?;
    let slow_pcall = lua.create_function(|lua, a: MultiValue| Ok(call(lua, a, false)?.0))?;
    let convert = lua.create_function(|lua, reply: mlua::LuaString| {
        convert::reply_to_lua(lua, &reply.as_bytes())
    })?;
    redis.set(
        "call",
        coro::fast_call(lua, slow_call, convert.clone(), true)?,
    )?;
    redis.set("pcall", coro::fast_call(lua, slow_pcall, convert, false)?)?;
    raising("sha1hex", lua.create_function(sha1hex)?)?;
    redis.set("error_reply", lua.create_function(error_reply)?)?;
    redis.set("status_reply", lua.create_function(status_reply)?)?;
    raising("setresp", lua.create_function(setresp)?)?;
    raising("set_repl", lua.create_function(set_repl)?)?;
    raising("acl_check_cmd", lua.create_function(acl_check_cmd)?)?;
    add_log(lua, &redis)?;
    add_version(&redis)?;
    for (name, v) in [
        ("REPL_NONE", ReplFlags::NONE),
        ("REPL_AOF", ReplFlags::AOF),
        ("REPL_SLAVE", ReplFlags::REPLICA),
        ("REPL_REPLICA", ReplFlags::REPLICA),
        ("REPL_ALL", ReplFlags::ALL),
    ] {
        redis.set(name, v.0)?;
    }
    if flavor == Flavor::Eval {
        // Effects replication is the only mode of Redis 7: this answers true and does nothing.
        redis.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
        // The debugger (SCRIPT DEBUG) is not offered: outside it Redis' calls do nothing.
        redis.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
        redis.set("debug", lua.create_function(|_, _a: MultiValue| Ok(()))?)?;
    }
    Ok(redis)
}

/// `redis.log` and the level constants, also part of a library's load-time `redis` table.
pub(super) fn add_log(lua: &Lua, redis: &Table) -> mlua::Result<()> {
    set_raising(lua, redis, "log", lua.create_function(log)?)?;
    for (name, level) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
    ] {
        redis.set(name, level)?;
    }
    Ok(())
}

pub(super) fn add_version(redis: &Table) -> mlua::Result<()> {
    redis.set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
    redis.set("REDIS_VERSION", REDIS_VERSION)
}

/// `math.random` and `math.randomseed` as Redis replaces them (stored in `raw` for the
/// prelude to install), with Lua's argument checks and texts.
pub(super) fn add_rand(lua: &Lua, raw: &Table) -> mlua::Result<()> {
    set_raising(lua, raw, "random", lua.create_function(random)?)?;
    set_raising(lua, raw, "randomseed", lua.create_function(randomseed)?)
}

/// `luaL_checkint`: a number or a string that reads as one, truncated to a C int.
fn check_int(args: &MultiValue, n: usize, fname: &str) -> Result<i64, String> {
    let v = args.get(n - 1).unwrap_or(&Value::Nil);
    match convert::to_number(v) {
        Some(x) => Ok(convert::truncate(x) as i32 as i64),
        None => {
            let got = super::builtins::type_name(args.get(n - 1));
            Err(format!(
                "bad argument #{n} to '{fname}' (number expected, got {got})"
            ))
        }
    }
}

/// A `luaL_error`-style message: raised after the caller's position.
fn message(lua: &Lua, text: &str) -> mlua::Result<(Value, u8)> {
    Ok((Value::String(lua.create_string(text)?), 2))
}

fn random(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, u8)> {
    let r = rand48::next_unit();
    let empty = |n: usize| format!("bad argument #{n} to 'random' (interval is empty)");
    let v = match args.len() {
        0 => r,
        1 => match check_int(&args, 1, "random") {
            Err(e) => return message(lua, &e),
            Ok(u) if u < 1 => return message(lua, &empty(1)),
            Ok(u) => (r * u as f64).floor() + 1.0,
        },
        2 => match (check_int(&args, 1, "random"), check_int(&args, 2, "random")) {
            (Err(e), _) | (_, Err(e)) => return message(lua, &e),
            (Ok(l), Ok(u)) if l > u => return message(lua, &empty(2)),
            (Ok(l), Ok(u)) => (r * (u - l + 1) as f64).floor() + l as f64,
        },
        _ => return message(lua, "wrong number of arguments"),
    };
    Ok((Value::Number(v), 0))
}

fn randomseed(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, u8)> {
    match check_int(&args, 1, "randomseed") {
        Ok(seed) => {
            rand48::seed(seed as i32);
            Ok((Value::Nil, 0))
        }
        Err(e) => message(lua, &e),
    }
}

fn raise(lua: &Lua, text: &str) -> mlua::Result<(Value, bool)> {
    Ok((
        Value::Table(convert::error_table(lua, text.as_bytes())?),
        true,
    ))
}

/// Redis' `luaArgsToRedisArgv`: runs `f` with the arguments as byte strings (numbers as
/// `%.17g`), or answers the error table for no arguments or one of another type.
fn with_args<R>(
    lua: &Lua,
    args: &MultiValue,
    f: impl FnOnce(&[&[u8]]) -> R,
) -> mlua::Result<Result<R, Table>> {
    if args.is_empty() {
        let text = b"Please specify at least one argument for this redis lib call";
        return Ok(Err(convert::error_table(lua, text)?));
    }
    let collected = ARGS.with(|a| {
        let (buf, ends) = &mut *a.borrow_mut();
        buf.clear();
        ends.clear();
        for v in args.iter() {
            match v {
                Value::String(s) => buf.extend_from_slice(&s.as_bytes()),
                Value::Integer(i) => push_int(buf, *i),
                Value::Number(n) => buf.extend_from_slice(format_double_g17(*n).as_bytes()),
                _ => return false,
            }
            ends.push(buf.len());
        }
        true
    });
    if !collected {
        let text = b"Lua redis lib command arguments must be strings or integers";
        return Ok(Err(convert::error_table(lua, text)?));
    }
    Ok(Ok(ARGS.with(|a| {
        let (buf, ends) = &*a.borrow();
        // Most calls have few arguments: their slices stay on the stack.
        let mut small: [&[u8]; ARGV_INLINE] = [&[]; ARGV_INLINE];
        let mut large: Vec<&[u8]> = Vec::new();
        let mut start = 0;
        for (i, &end) in ends.iter().enumerate() {
            let arg = &buf[start..end];
            if ends.len() <= ARGV_INLINE {
                small[i] = arg;
            } else {
                large.push(arg);
            }
            start = end;
        }
        if ends.len() <= ARGV_INLINE {
            f(&small[..ends.len()])
        } else {
            f(&large)
        }
    })))
}

/// `redis.call` (raise = true) and `redis.pcall`.
fn call(lua: &Lua, args: MultiValue, raise_err: bool) -> mlua::Result<(Value, bool)> {
    if !coro::in_run() {
        return raise(
            lua,
            "redis.call/pcall can only be called inside a script invocation",
        );
    }
    let vars = coro::vars();
    let proto = if vars.resp3 {
        Proto::Resp3
    } else {
        Proto::Resp2
    };
    REPLY.with(|r| {
        let reply = &mut *r.borrow_mut();
        reply.clear();
        let run = |argv: &[&[u8]]| coro::with_host(|host| host.call(argv, proto, vars.repl, reply));
        let outcome = match with_args(lua, &args, run)? {
            Ok(outcome) => outcome,
            Err(t) => return Ok((Value::Table(t), raise_err)),
        };
        match outcome {
            None => raise(
                lua,
                "redis.call/pcall can only be called inside a script invocation",
            ),
            Some(Err(refused)) => {
                let t = convert::error_table(lua, refused.0.as_bytes())?;
                t.set("ignore_error_stats_update", true)?;
                Ok((Value::Table(t), raise_err))
            }
            Some(Ok(())) => {
                let is_err = reply.first() == Some(&b'-');
                let v = convert::reply_to_lua(lua, reply)?;
                Ok((v, raise_err && is_err))
            }
        }
    })
}

fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if args.len() != 1 {
        return raise(lua, "wrong number of arguments");
    }
    // lua_tolstring: strings and numbers; anything else hashes as the empty string.
    let bytes: Vec<u8> = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Number(n) => convert::lua_number_text(*n).into_bytes(),
        _ => Vec::new(),
    };
    let sha = super::store::sha_of(&bytes);
    Ok((Value::String(lua.create_string(sha)?), false))
}

fn error_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Table> {
    let text = match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => s.as_bytes().to_vec(),
        _ => return convert::error_table(lua, b"wrong number or type of arguments"),
    };
    if text.first() == Some(&b'-') {
        convert::error_table(lua, &text)
    } else {
        let mut dashed = Vec::with_capacity(text.len() + 1);
        dashed.push(b'-');
        dashed.extend_from_slice(&text);
        convert::error_table(lua, &dashed)
    }
}

fn status_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Table> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => {
            let t = lua.create_table()?;
            t.set("ok", s.clone())?;
            Ok(t)
        }
        _ => convert::error_table(lua, b"wrong number or type of arguments"),
    }
}

fn setresp(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if !coro::in_run() {
        return raise(
            lua,
            "redis.setresp can only be called inside a script invocation",
        );
    }
    if args.len() != 1 {
        return raise(lua, "redis.setresp() requires one argument.");
    }
    let resp = convert::to_number(&args[0]).map(|n| n as i64).unwrap_or(0);
    if resp != 2 && resp != 3 {
        return raise(lua, "RESP version must be 2 or 3.");
    }
    coro::set_vars(RunVars {
        resp3: resp == 3,
        ..coro::vars()
    });
    Ok((Value::Nil, false))
}

/// slotd's refusal of `redis.set_repl(REPL_AOF)` and `(REPL_REPLICA)`.
pub(crate) const SET_REPL_ONE_SIDE: &str = "slotd writes the AOF and the replication stream \
     together: redis.set_repl takes REPL_ALL or REPL_NONE";

fn set_repl(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if !coro::in_run() {
        return raise(
            lua,
            "redis.set_repl can only be called inside a script invocation",
        );
    }
    if args.len() != 1 {
        return raise(lua, "redis.set_repl() requires two arguments.");
    }
    let flags = convert::to_number(&args[0]).map(|n| n as i64).unwrap_or(0);
    if flags & !(ReplFlags::ALL.0 as i64) != 0 {
        return raise(
            lua,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    // slotd's journal feeds the AOF and the replicas together: a write goes to both or to
    // neither, so a flag naming only one of them is refused rather than half honoured.
    if flags == ReplFlags::AOF.0 as i64 || flags == ReplFlags::REPLICA.0 as i64 {
        return raise(lua, SET_REPL_ONE_SIDE);
    }
    coro::set_vars(RunVars {
        repl: ReplFlags(flags as u8),
        ..coro::vars()
    });
    Ok((Value::Nil, false))
}

/// `redis.acl_check_cmd`: the host answers for the calling client's user.
fn acl_check_cmd(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if !coro::in_run() {
        return raise(
            lua,
            "redis.acl_check_cmd can only be called inside a script invocation",
        );
    }
    let answer = with_args(lua, &args, |argv| {
        coro::with_host(|host| host.acl_check(argv))
    })?;
    match answer {
        Err(t) => Ok((Value::Table(t), true)),
        Ok(None) => raise(
            lua,
            "redis.acl_check_cmd can only be called inside a script invocation",
        ),
        Ok(Some(Ok(allowed))) => Ok((Value::Boolean(allowed), false)),
        Ok(Some(Err(refused))) => raise(lua, &refused.0),
    }
}

fn log(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if args.len() < 2 {
        return raise(lua, "redis.log() requires two arguments or more.");
    }
    let Some(level) = convert::to_number(&args[0]) else {
        return raise(lua, "First argument must be a number (log level).");
    };
    let level = level as i64;
    let level = match level {
        0 => crate::log::LogLevel::Debug,
        1 => crate::log::LogLevel::Verbose,
        2 => crate::log::LogLevel::Notice,
        3 => crate::log::LogLevel::Warning,
        _ => return raise(lua, "Invalid debug level."),
    };
    // Redis glues the arguments that convert to strings with a space before each one but the
    // first argument's (even when that one was skipped).
    let mut line = Vec::new();
    for (i, v) in args.iter().skip(1).enumerate() {
        let piece: Option<Vec<u8>> = match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(i) => Some(i.to_string().into_bytes()),
            Value::Number(n) => Some(convert::lua_number_text(*n).into_bytes()),
            _ => None,
        };
        if let Some(p) = piece {
            if i != 0 {
                line.push(b' ');
            }
            line.extend_from_slice(&p);
        }
    }
    crate::log::write(level, &String::from_utf8_lossy(&line));
    Ok((Value::Nil, false))
}
