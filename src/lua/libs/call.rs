//! How a library function written in Rust is called from Lua the way a C library function is:
//! a tiny C closure (`trampoline`) calls the Rust body and raises its failure with `lua_error`
//! or `luaL_argerror` itself, after every Rust frame has returned.
//!
//! Why: an error raised from an mlua callback reaches Lua as a userdata, while Redis' C
//! libraries raise plain strings (`pcall(cjson.decode, "[")` gives a string), and
//! `luaL_argerror` names the function the way the caller spelled it ('band', or '?' under
//! pcall). The body reports its outcome as the first value it returns: `true` then the
//! results, `false` then a message, or an argument number then a message.
//!
//! Also here: the checks C libraries make on their arguments (`luaL_checknumber` and
//! friends), with Lua 5.1's coercions and error texts.

use std::ffi::c_int;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

/// Why a library function stopped.
pub enum Fail {
    /// `luaL_error`: the message, after the position of the Lua code that called the
    /// function ("user_script:1: "; nothing when a C function such as pcall called it).
    Msg(String),
    /// `luaL_argerror(narg, msg)`: "bad argument #narg to 'name' (msg)".
    Arg(i32, String),
    /// An error of mlua itself (out of memory and the like), passed through.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Fail {
        Fail::Lua(e)
    }
}

pub type LibResult<T> = Result<T, Fail>;

/// Calls the Rust body held as upvalue 1 with every argument, then hands its results back or
/// raises its failure from this C frame.
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function with upvalue 1 set by `function`; it holds no
    // Rust value with a destructor, so the longjmp of lua_error/luaL_argerror skips nothing.
    unsafe {
        let nargs = ffi::lua_gettop(state);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
        match ffi::lua_type(state, 1) {
            ffi::LUA_TNUMBER => {
                let narg = ffi::lua_tointeger(state, 1) as c_int;
                let msg = ffi::lua_tolstring(state, 2, std::ptr::null_mut());
                ffi::luaL_argerror(state, narg, msg)
            }
            ffi::LUA_TBOOLEAN if ffi::lua_toboolean(state, 1) != 0 => {
                ffi::lua_remove(state, 1);
                ffi::lua_gettop(state)
            }
            _ => {
                // luaL_error: the caller's position (none when that is a C function), then
                // the message.
                ffi::lua_settop(state, 2);
                ffi::luaL_where(state, 1);
                ffi::lua_insert(state, 2);
                ffi::lua_concat(state, 2);
                ffi::lua_error(state)
            }
        }
    }
}

/// A Lua function running `body` with C library semantics.
pub fn function<F>(lua: &Lua, body: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, &[Value]) -> LibResult<MultiValue> + 'static,
{
    let raw = lua.create_function(move |lua, mut args: MultiValue| {
        let mut out = match body(lua, args.make_contiguous()) {
            Ok(out) => out,
            Err(Fail::Msg(msg)) => {
                return Ok(MultiValue::from_vec(vec![
                    Value::Boolean(false),
                    Value::String(lua.create_string(msg)?),
                ]))
            }
            Err(Fail::Arg(narg, msg)) => {
                return Ok(MultiValue::from_vec(vec![
                    Value::Number(f64::from(narg)),
                    Value::String(lua.create_string(msg)?),
                ]))
            }
            Err(Fail::Lua(e)) => return Err(e),
        };
        out.push_front(Value::Boolean(true));
        Ok(out)
    })?;
    // SAFETY: the closure pushes one C closure over the function exec_raw pushed as its only
    // argument, inside exec_raw's protected call.
    unsafe {
        lua.exec_raw::<Function>(raw, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// Sets `name` in `table` to a Lua function running `body`.
pub fn set<F>(lua: &Lua, table: &Table, name: &str, body: F) -> mlua::Result<()>
where
    F: Fn(&Lua, &[Value]) -> LibResult<MultiValue> + 'static,
{
    table.raw_set(name, function(lua, body)?)
}

/// One result.
pub fn one(v: Value) -> LibResult<MultiValue> {
    Ok(MultiValue::from_vec(vec![v]))
}

/// Lua's name for the type of argument `i` (1-based), "no value" past the last one.
pub fn type_name(args: &[Value], i: usize) -> &'static str {
    match arg(args, i) {
        None => "no value",
        Some(v) => match v {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
            Value::Integer(_) | Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            _ => "userdata",
        },
    }
}

/// Argument `i` (1-based), `None` past the last one.
pub fn arg(args: &[Value], i: usize) -> Option<&Value> {
    i.checked_sub(1).and_then(|i| args.get(i))
}

/// Whether argument `i` is absent or nil (`luaL_opt*`'s test).
pub fn is_none_or_nil(args: &[Value], i: usize) -> bool {
    matches!(arg(args, i), None | Some(Value::Nil))
}

fn type_error(args: &[Value], i: usize, expected: &str) -> Fail {
    Fail::Arg(
        i as i32,
        format!("{expected} expected, got {}", type_name(args, i)),
    )
}

/// `lua_tonumber`: numbers, and strings Lua 5.1 reads as numbers.
pub fn to_number(lua: &Lua, v: Option<&Value>) -> LibResult<Option<f64>> {
    match v {
        Some(Value::Number(n)) => Ok(Some(*n)),
        Some(Value::Integer(n)) => Ok(Some(*n as f64)),
        Some(v @ Value::String(_)) => Ok(lua.coerce_number(v.clone())?),
        _ => Ok(None),
    }
}

/// `luaL_checknumber`.
pub fn check_number(lua: &Lua, args: &[Value], i: usize) -> LibResult<f64> {
    match to_number(lua, arg(args, i))? {
        Some(n) => Ok(n),
        None => Err(type_error(args, i, "number")),
    }
}

/// `luaL_checkinteger`: the number truncated toward zero as C does.
pub fn check_integer(lua: &Lua, args: &[Value], i: usize) -> LibResult<i64> {
    check_number(lua, args, i).map(super::cnum::f64_to_i64)
}

/// `luaL_optinteger`.
pub fn opt_integer(lua: &Lua, args: &[Value], i: usize, default: i64) -> LibResult<i64> {
    if is_none_or_nil(args, i) {
        Ok(default)
    } else {
        check_integer(lua, args, i)
    }
}

/// `luaL_checklstring`: a string, or a number turned into one as Lua does.
pub fn check_bytes(lua: &Lua, args: &[Value], i: usize) -> LibResult<mlua::LuaString> {
    match arg(args, i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Number(_) | Value::Integer(_))) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s),
            None => Err(type_error(args, i, "string")),
        },
        _ => Err(type_error(args, i, "string")),
    }
}
