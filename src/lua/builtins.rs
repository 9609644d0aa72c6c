//! The Lua builtins the sandbox replaces: `rawset` and `setmetatable` (which must refuse the
//! read-only views as Redis' patched Lua refuses its read-only tables), and `loadstring` and
//! `load` (Redis' Lua parses bytecode as text). Written in Rust behind `coro::raising`, so they
//! are C functions as in Lua: their argument errors carry the caller's position and a
//! `return rawset(...)` keeps the caller's frame for the error's line.
//!
//! Each answers its results followed by a flag: 0 return, 1 raise the value as it is (Lua's
//! `luaG_runerror` from C: no position), 2 raise it with the caller's position (`luaL_error`).

use super::coro;
use mlua::{ffi, Function, Lua, MultiValue, Table, Value};
use std::ffi::c_int;

/// The registry key of the set of read-only views (a weak-keyed table the prelude fills;
/// `coro::see_through` spells it too).
pub(super) const READONLY_KEY: &str = "slotd.readonly";

const RETURN: u8 = 0;
const RAISE: u8 = 1;
const RAISE_HERE: u8 = 2;

/// Installs the four builtins into `raw` for the prelude to place in the globals.
pub(super) fn add(lua: &Lua, raw: &Table) -> mlua::Result<()> {
    raw.set("rawset", coro::raising(lua, lua.create_function(rawset)?)?)?;
    raw.set(
        "setmetatable",
        coro::raising(lua, lua.create_function(setmetatable)?)?,
    )?;
    raw.set(
        "loadstring",
        coro::raising(lua, lua.create_function(loadstring)?)?,
    )?;
    raw.set("load", load_function(lua)?)
}

/// `load(reader [, name])`: Lua 5.1's luaB_load as a C function: the reader is called on the
/// script's own thread, as Lua's does, so the count hook sees a loop inside it (and may take
/// the script off the core there: no mlua callback is on the stack); the pieces are compiled
/// in Rust (`load_pieces`), as `loadstring` compiles.
fn load_function(lua: &Lua) -> mlua::Result<Function> {
    let pieces = coro::raising(lua, lua.create_function(load_pieces)?)?;
    // SAFETY: exec_raw leaves the function on the stack; lua_pushcclosure pops it as the
    // upvalue of a new C closure, the one value left for exec_raw to return.
    unsafe {
        lua.exec_raw(pieces, |state| {
            ffi::lua_pushcclosure(state, load_entry, 1);
        })
    }
}

unsafe extern "C-unwind" fn load_entry(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol, with upvalue `load_pieces`. The argument checks are
    // Lua's own (their errors name the function as the call spelled it, at the caller's
    // line). Then generic_reader: each call of the reader is protected (lua_load's
    // protection: its error value is answered with nil), a nil or empty string ends the
    // chunk, anything but a string or a number is "reader function must return a string".
    // Pieces are kept in a table at index 3; nothing here owns Rust values when Lua raises.
    unsafe {
        ffi::luaL_optlstring(l, 2, c"=(load)".as_ptr(), std::ptr::null_mut());
        ffi::luaL_checktype(l, 1, ffi::LUA_TFUNCTION);
        ffi::lua_settop(l, 2);
        ffi::lua_createtable(l, 0, 0);
        let mut n: ffi::lua_Integer = 0;
        loop {
            ffi::luaL_checkstack(l, 2, c"too many nested functions".as_ptr());
            ffi::lua_pushvalue(l, 1);
            if ffi::lua_pcall(l, 0, 1, 0) != 0 {
                ffi::lua_pushnil(l);
                ffi::lua_insert(l, -2);
                return 2;
            }
            match ffi::lua_type(l, -1) {
                ffi::LUA_TNIL => break,
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                    let mut len = 0;
                    ffi::lua_tolstring(l, -1, &mut len);
                    if len == 0 {
                        break;
                    }
                    n += 1;
                    ffi::lua_rawseti(l, 3, n);
                }
                _ => {
                    ffi::lua_pushnil(l);
                    ffi::lua_pushstring(l, c"reader function must return a string".as_ptr());
                    return 2;
                }
            }
        }
        ffi::lua_settop(l, 3);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, 3, ffi::LUA_MULTRET);
        ffi::lua_gettop(l)
    }
}

/// Lua 5.1's name of a value's type (mlua names integers apart).
pub(super) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::LightUserData(_)) => "userdata",
        Some(v) => v.type_name(),
    }
}

fn out(_lua: &Lua, values: Vec<Value>, flag: u8) -> mlua::Result<MultiValue> {
    let mut m = MultiValue::with_capacity(values.len() + 1);
    m.extend(values);
    m.push_back(Value::Integer(flag.into()));
    Ok(m)
}

fn text(lua: &Lua, s: &str) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(s)?))
}

fn raise_here(lua: &Lua, msg: String) -> mlua::Result<MultiValue> {
    out(lua, vec![text(lua, &msg)?], RAISE_HERE)
}

fn bad_arg(lua: &Lua, n: usize, fname: &str, why: String) -> mlua::Result<MultiValue> {
    raise_here(lua, format!("bad argument #{n} to '{fname}' ({why})"))
}

fn table_arg(lua: &Lua, args: &MultiValue, fname: &str) -> mlua::Result<Result<Table, MultiValue>> {
    match args.front() {
        Some(Value::Table(t)) => Ok(Ok(t.clone())),
        other => {
            let why = format!("table expected, got {}", type_name(other));
            Ok(Err(bad_arg(lua, 1, fname, why)?))
        }
    }
}

fn is_readonly(lua: &Lua, t: &Table) -> mlua::Result<bool> {
    let set: Table = lua.named_registry_value(READONLY_KEY)?;
    let marked = set.raw_get::<Value>(t.clone())?;
    Ok(!matches!(marked, Value::Nil | Value::Boolean(false)))
}

fn readonly_error(lua: &Lua) -> mlua::Result<MultiValue> {
    out(
        lua,
        vec![text(lua, "Attempt to modify a readonly table")?],
        RAISE,
    )
}

fn rawset(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let t = match table_arg(lua, &args, "rawset")? {
        Ok(t) => t,
        Err(e) => return Ok(e),
    };
    for n in [2, 3] {
        if args.len() < n {
            return bad_arg(lua, n, "rawset", "value expected".into());
        }
    }
    if is_readonly(lua, &t)? {
        return readonly_error(lua);
    }
    let key = args[1].clone();
    if key.is_nil() {
        return out(lua, vec![text(lua, "table index is nil")?], RAISE);
    }
    if matches!(key, Value::Number(n) if n.is_nan()) {
        return out(lua, vec![text(lua, "table index is NaN")?], RAISE);
    }
    t.raw_set(key, args[2].clone())?;
    out(lua, vec![Value::Table(t)], RETURN)
}

fn setmetatable(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let t = match table_arg(lua, &args, "setmetatable")? {
        Ok(t) => t,
        Err(e) => return Ok(e),
    };
    let mt = match args.get(1) {
        Some(Value::Nil) => None,
        Some(Value::Table(m)) => Some(m.clone()),
        _ => {
            let why = "nil or table expected".to_string();
            return bad_arg(lua, 2, "setmetatable", why);
        }
    };
    if is_readonly(lua, &t)? {
        return readonly_error(lua);
    }
    if let Some(current) = t.metatable() {
        if !current.raw_get::<Value>("__metatable")?.is_nil() {
            return raise_here(lua, "cannot change a protected metatable".into());
        }
    }
    t.set_metatable(mt)?;
    out(lua, vec![Value::Table(t)], RETURN)
}

/// `lua_tolstring` of a string or number argument.
fn string_arg(v: Option<&Value>) -> Option<Vec<u8>> {
    match v? {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(super::convert::lua_number_text(*n).into_bytes()),
        _ => None,
    }
}

/// Compiles `code` as Lua 5.1's `lua_load` would with Redis' text-only parser: (function) or
/// (nil, message).
fn compile(lua: &Lua, code: &[u8], name: &[u8]) -> mlua::Result<MultiValue> {
    // A C chunk name ends at its first NUL.
    let name = name.split(|&c| c == 0).next().unwrap_or_default();
    let name = String::from_utf8_lossy(name).into_owned();
    let code: Vec<u8> = if code.first() == Some(&27) {
        // A leading blank makes stock Lua parse the escape byte as text, as Redis' Lua does.
        [b" ".as_slice(), code].concat()
    } else {
        code.to_vec()
    };
    let chunk = lua
        .load(code)
        .set_name(name)
        .set_mode(mlua::chunk::ChunkMode::Text);
    match chunk.into_function() {
        Ok(f) => out(lua, vec![Value::Function(f)], RETURN),
        Err(e) => {
            let msg = super::functions_load::lua_message(&e);
            out(lua, vec![Value::Nil, text(lua, &msg)?], RETURN)
        }
    }
}

fn loadstring(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let Some(code) = string_arg(args.front()) else {
        let why = format!("string expected, got {}", type_name(args.front()));
        return bad_arg(lua, 1, "loadstring", why);
    };
    let name = match args.get(1) {
        None | Some(Value::Nil) => code.clone(),
        Some(v) => match string_arg(Some(v)) {
            Some(n) => n,
            None => {
                let why = format!("string expected, got {}", type_name(Some(v)));
                return bad_arg(lua, 2, "loadstring", why);
            }
        },
    };
    compile(lua, &code, &name)
}

/// `load`'s chunk: (reader, name, the pieces the reader gave) -> the function or nil and the
/// message, as `loadstring` compiles.
fn load_pieces(lua: &Lua, (_, name, pieces): (Value, Value, Table)) -> mlua::Result<MultiValue> {
    let name = match name {
        Value::Nil => b"=(load)".to_vec(),
        v => string_arg(Some(&v)).unwrap_or_default(),
    };
    let mut code = Vec::new();
    for i in 1..=pieces.raw_len() {
        if let Some(piece) = string_arg(Some(&pieces.raw_get::<Value>(i)?)) {
            code.extend_from_slice(&piece);
        }
    }
    compile(lua, &code, &name)
}
