//! Loading a FUNCTION library: the metadata line, compiling the code, running its top level in
//! the library API environment (where only `redis.register_function`, `redis.log` and the
//! version constants exist) under the load timeout, and `redis.register_function` itself in
//! its positional and named forms.

use super::convert;
use super::coro::{self, Resumed};
use super::redis_table::Flavor;
use super::sandbox::{self, State};
use super::shebang;
use super::store::{FunctionMeta, Library};
use super::ScriptFlags;
use crate::resp::ReplyError;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::cell::RefCell;

/// A function a library registered, with its compiled callback.
pub(super) struct Registered {
    pub meta: FunctionMeta,
    pub callback: Function,
}

thread_local! {
    /// The functions registered by the library loading on this thread (None: no load running).
    static LOADING: RefCell<Option<Vec<Registered>>> = const { RefCell::new(None) };
}

/// FUNCTION LOAD's check (see `vm::load_library`).
pub(super) fn check(code: &[u8]) -> Result<Library, ReplyError> {
    let mut st =
        sandbox::new_state(Flavor::Function).map_err(|e| ReplyError::Other(format!("ERR {e}")))?;
    let (lib, _) = load_into(&mut st, code).map_err(|e| ReplyError::Other(format!("ERR {e}")))?;
    Ok(lib)
}

/// Loads `code` into `st`; Err is Redis' text without "ERR ".
pub(super) fn load_into(st: &mut State, code: &[u8]) -> Result<(Library, Vec<Registered>), String> {
    let (engine, name, body) = shebang::library(code)?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{engine}' not found"));
    }
    if !shebang::valid_name(name.as_bytes()) {
        return Err(
            "Library names can only contain letters, numbers, or underscores(_) and \
                    must be at least one character long"
                .into(),
        );
    }
    let func = st
        .lua
        .load(body)
        .set_name("@user_function")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map_err(|e| format!("Error compiling function: {}", lua_message(&e)))?;
    let registered = run_top_level(st, &func)?;
    if registered.is_empty() {
        return Err("No functions registered".into());
    }
    let lib = Library {
        name,
        engine: "LUA".into(),
        code: code.into(),
        functions: registered.iter().map(|r| r.meta.clone()).collect(),
    };
    Ok((lib, registered))
}

/// The message Lua gave for a compile error.
pub(super) fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

fn run_top_level(st: &mut State, func: &Function) -> Result<Vec<Registered>, String> {
    let internal = |e: mlua::Error| format!("Error registering functions: {e}");
    st.phase.call::<()>(true).map_err(internal)?;
    LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let co = st.take_co().map_err(internal)?;
    coro::arm_hook(&co);
    let outcome = {
        let _scope = coro::LoadScope::enter(&co);
        coro::resume(&st.lua, &co, None, coro::Start::Plain(func), None)
    };
    let registered = LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
    st.phase.call::<()>(false).map_err(internal)?;
    match outcome.map_err(internal)? {
        // Written: only with an `out`, which a load has not.
        Resumed::Returned(_) | Resumed::Written => {
            st.co = Some(co);
            Ok(registered)
        }
        Resumed::Left(_) => Err("Error registering functions: ERR FUNCTION LOAD timeout".into()),
        Resumed::Failed { value, .. } => Err(format!(
            "Error registering functions: {}",
            String::from_utf8_lossy(&super::vm::error_message(&value))
        )),
    }
}

/// Adds `register_function` to a library's load-time `redis` table.
pub(super) fn add_register(lua: &Lua, redis: &Table) -> mlua::Result<()> {
    let f = lua.create_function(register)?;
    super::redis_table::set_raising(lua, redis, "register_function", f)
}

fn raise(lua: &Lua, text: &str) -> mlua::Result<(Value, bool)> {
    Ok((
        Value::Table(convert::error_table(lua, text.as_bytes())?),
        true,
    ))
}

fn register(lua: &Lua, args: MultiValue) -> mlua::Result<(Value, bool)> {
    if LOADING.with(|l| l.borrow().is_none()) {
        return raise(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let parsed = match args.len() {
        1 => named_args(&args[0])?,
        2 => positional_args(&args[0], &args[1]),
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let (name, description, flags, callback) = match parsed {
        Ok(p) => p,
        Err(text) => return raise(lua, text),
    };
    if !shebang::valid_name(name.as_bytes()) {
        // Redis 7.0 says "Library" here too (functionLibCreateFunction), and so does slotd.
        return raise(
            lua,
            "Library names can only contain letters, numbers, or underscores(_) and must be at \
             least one character long",
        );
    }
    let duplicate = LOADING.with(|l| {
        l.borrow()
            .as_ref()
            .is_some_and(|v| v.iter().any(|r| r.meta.name == name))
    });
    if duplicate {
        return raise(lua, "Function already exists in the library");
    }
    LOADING.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(Registered {
                meta: FunctionMeta {
                    name,
                    description,
                    // Functions always apply their flags (no compatibility mode as EVAL scripts
                    // without a shebang have).
                    flags: ScriptFlags(flags | ScriptFlags::HAS_SHEBANG),
                },
                callback,
            });
        }
    });
    Ok((Value::Nil, false))
}

type Parsed = (String, Option<String>, u8, Function);

/// `lua_isstring` then `lua_tostring`: strings and numbers.
fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Number(n) => Some(convert::lua_number_text(*n)),
        _ => None,
    }
}

fn positional_args(name: &Value, callback: &Value) -> Result<Parsed, &'static str> {
    let Some(name) = string_of(name) else {
        return Err("first argument to redis.register_function must be a string");
    };
    let Value::Function(f) = callback else {
        return Err("second argument to redis.register_function must be a function");
    };
    Ok((name, None, 0, f.clone()))
}

fn named_args(arg: &Value) -> mlua::Result<Result<Parsed, &'static str>> {
    let Value::Table(t) = arg else {
        return Ok(Err(
            "calling redis.register_function with a single argument is only \
                       applicable to Lua table (representing named arguments).",
        ));
    };
    let (mut name, mut description, mut flags, mut callback) = (None, None, 0u8, None);
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let Some(key) = string_of(&k) else {
            return Ok(Err(
                "named argument key given to redis.register_function is not a string",
            ));
        };
        match key.to_ascii_lowercase().as_str() {
            "function_name" => match string_of(&v) {
                Some(s) => name = Some(s),
                None => {
                    return Ok(Err(
                        "function_name argument given to redis.register_function \
                                   must be a string",
                    ))
                }
            },
            "description" => match string_of(&v) {
                Some(s) => description = Some(s),
                None => {
                    return Ok(Err(
                        "description argument given to redis.register_function \
                                   must be a string",
                    ))
                }
            },
            "callback" => match v {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Ok(Err(
                        "callback argument given to redis.register_function must \
                                   be a function",
                    ))
                }
            },
            "flags" => {
                let Value::Table(ft) = v else {
                    return Ok(Err(
                        "flags argument to redis.register_function must be a table \
                                   representing function flags",
                    ));
                };
                match read_flags(&ft)? {
                    Some(f) => flags = f,
                    None => return Ok(Err("unknown flag given")),
                }
            }
            _ => return Ok(Err("unknown argument given to redis.register_function")),
        }
    }
    let Some(name) = name else {
        return Ok(Err(
            "redis.register_function must get a function name argument",
        ));
    };
    let Some(callback) = callback else {
        return Ok(Err("redis.register_function must get a callback argument"));
    };
    Ok(Ok((name, description, flags, callback)))
}

/// The flags array (`{'no-writes', ...}`); None on anything unknown.
fn read_flags(t: &Table) -> mlua::Result<Option<u8>> {
    let mut flags = 0;
    let mut j = 1i64;
    loop {
        let v: Value = t.get(j)?;
        if v.is_nil() {
            return Ok(Some(flags));
        }
        let Some(s) = string_of(&v) else {
            return Ok(None);
        };
        match shebang::flag_bit(s.as_bytes(), true) {
            Some(bit) => flags |= bit,
            None => return Ok(None),
        }
        j += 1;
    }
}
