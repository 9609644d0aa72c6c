//! Helpers for library functions written directly against Lua's C API (`mlua::ffi`), as the
//! C originals are: argument checks with Lua 5.1's coercions and texts, and raising an error
//! once every Rust value of the call has been dropped.
//!
//! The rule that keeps this sound: a function that may raise (`lua_error` longjmps) holds no
//! value with a destructor at that point. Bodies therefore return `Err(Raise)` up to the
//! `extern "C-unwind"` entry point, which hands it to `raise` as its last act. Calls into
//! the C API that can only fail on memory exhaustion are made freely: Lua then unwinds over
//! our frames, which leaks their buffers (as the C libraries would leak theirs) but runs no
//! destructor twice.

use std::ffi::{c_int, CStr};

use mlua::ffi::{self, lua_State};

/// An error to raise from a library function.
pub enum Raise {
    /// `luaL_error`: the caller's position ("user_script:1: ", nothing under pcall), then
    /// the message.
    Msg(String),
    /// `lua_error` with the message alone (what Lua itself raises from inside a C function,
    /// such as "table index is nil").
    Plain(String),
    /// `luaL_argerror`: "bad argument #n to 'name' (msg)", the name as Lua sees the call.
    Arg(c_int, String),
    /// `luaL_argerror` with a message that need not be UTF-8 (it quotes input bytes).
    ArgBytes(c_int, Vec<u8>),
}

pub type Res<T> = Result<T, Raise>;

/// Raises `r` in `l`. Call it as the last act of an entry point, holding nothing else.
pub unsafe fn raise(l: *mut lua_State, r: Raise) -> c_int {
    // SAFETY: the message is copied into Lua and dropped before anything can longjmp.
    unsafe {
        // The error may come from a full stack (a nesting limit); the raise needs two slots
        // and none of the values below.
        ffi::lua_settop(l, 0);
        match r {
            Raise::Msg(msg) => {
                ffi::luaL_where(l, 1);
                push_bytes(l, msg.as_bytes());
                drop(msg);
                ffi::lua_concat(l, 2);
                ffi::lua_error(l)
            }
            Raise::Plain(msg) => {
                push_bytes(l, msg.as_bytes());
                drop(msg);
                ffi::lua_error(l)
            }
            Raise::Arg(narg, msg) => raise(l, Raise::ArgBytes(narg, msg.into_bytes())),
            Raise::ArgBytes(narg, msg) => {
                push_bytes(l, &msg);
                drop(msg);
                ffi::luaL_argerror(l, narg, ffi::lua_tolstring(l, -1, std::ptr::null_mut()))
            }
        }
    }
}

/// A library function as Lua calls it.
pub type CFunction = unsafe extern "C-unwind" fn(*mut lua_State) -> c_int;

/// Ends an entry point: its number of results, or its error raised. The body has returned,
/// so nothing but the error itself is left to drop.
pub unsafe fn finish(l: *mut lua_State, result: Res<c_int>) -> c_int {
    match result {
        Ok(n) => n,
        // SAFETY: the error is the only Rust value left, and raise consumes it.
        Err(r) => unsafe { raise(l, r) },
    }
}

/// Sets each `(name, function)` as a field of the table on top of the stack.
pub unsafe fn set_functions(l: *mut lua_State, functions: &[(&CStr, CFunction)]) {
    // SAFETY: the caller has a table on top.
    unsafe {
        for (name, f) in functions {
            ffi::lua_pushcfunction(l, *f);
            ffi::lua_setfield(l, -2, name.as_ptr());
        }
    }
}

/// Pushes `b` as a Lua string.
pub unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    // SAFETY: the pointer and length describe `b`.
    unsafe {
        ffi::lua_pushlstring(l, b.as_ptr().cast(), b.len());
    }
}

/// The bytes of the string at `idx` (numbers are converted in place, as `lua_tolstring`
/// does), or `None`. The slice lives as long as the value stays on the stack.
pub unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    // SAFETY: Lua keeps the string alive while it is on the stack.
    unsafe {
        let mut len = 0usize;
        let p = ffi::lua_tolstring(l, idx, &mut len);
        if p.is_null() {
            None
        } else {
            Some(std::slice::from_raw_parts(p.cast::<u8>(), len))
        }
    }
}

/// Lua's name for the type at `idx` ("no value" past the top).
pub unsafe fn type_name(l: *mut lua_State, idx: c_int) -> String {
    // SAFETY: lua_typename returns a static C string.
    unsafe {
        let t = ffi::lua_type(l, idx);
        if t == ffi::LUA_TNONE {
            return "no value".to_string();
        }
        CStr::from_ptr(ffi::lua_typename(l, t))
            .to_string_lossy()
            .into_owned()
    }
}

unsafe fn type_error(l: *mut lua_State, idx: c_int, expected: &str) -> Raise {
    // SAFETY: reads the type at idx only.
    let got = unsafe { type_name(l, idx) };
    Raise::Arg(idx, format!("{expected} expected, got {got}"))
}

/// `luaL_checknumber`.
pub unsafe fn check_number(l: *mut lua_State, idx: c_int) -> Res<f64> {
    // SAFETY: plain reads of the stack.
    unsafe {
        let d = ffi::lua_tonumber(l, idx);
        if d == 0.0 && ffi::lua_isnumber(l, idx) == 0 {
            return Err(type_error(l, idx, "number"));
        }
        Ok(d)
    }
}

/// `luaL_checkinteger`: the number truncated as C casts it.
pub unsafe fn check_integer(l: *mut lua_State, idx: c_int) -> Res<i64> {
    // SAFETY: plain reads of the stack.
    unsafe { check_number(l, idx).map(super::cnum::f64_to_i64) }
}

/// `luaL_optinteger`.
pub unsafe fn opt_integer(l: *mut lua_State, idx: c_int, default: i64) -> Res<i64> {
    // SAFETY: plain reads of the stack.
    unsafe {
        if ffi::lua_type(l, idx) <= ffi::LUA_TNIL {
            Ok(default)
        } else {
            check_integer(l, idx)
        }
    }
}

/// `luaL_checklstring`.
pub unsafe fn check_bytes<'a>(l: *mut lua_State, idx: c_int) -> Res<&'a [u8]> {
    // SAFETY: see to_bytes.
    unsafe {
        match to_bytes(l, idx) {
            Some(b) => Ok(b),
            None => Err(type_error(l, idx, "string")),
        }
    }
}

/// Runs `open` (which pushes one table) inside mlua's protection and returns that table.
pub fn open_with(
    lua: &mlua::Lua,
    open: unsafe extern "C-unwind" fn(*mut lua_State) -> c_int,
) -> mlua::Result<mlua::Table> {
    // SAFETY: `open` pushes exactly one table and raises only Lua errors.
    unsafe {
        lua.exec_raw::<mlua::Table>((), |l| {
            open(l);
        })
    }
}
