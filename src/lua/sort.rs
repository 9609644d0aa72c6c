//! `table.sort` as Lua 5.1's (ltablib.c `auxsort`: the same comparisons in the same order,
//! the same swaps, the same "invalid order function for sorting"), in two ports of the one
//! algorithm: with a comparator it runs as engine Lua code, so the comparator is called by a
//! plain Lua call and the busy-threshold hook can yield through it (`passthrough`); without
//! one it runs in Rust over the C API, comparing with `lua_lessthan` as Lua's C sort does (no
//! Lua code runs there but `__lt` metamethods, which Lua 5.1 cannot yield across anyway).
//! The Lua port indexes a table without a metatable directly (`t[i]`, the same access as
//! Lua's `lua_rawgeti` there) and goes through `rawget`/`rawset` otherwise.

use super::coro::INTERNAL_SOURCE;
use super::passthrough::{arg_error_top, push_user_where};
use mlua::{ffi, Function, Lua};
use std::ffi::c_int;

/// The comparator port. `lt(a, b)`'s truth value is all Lua's C sort reads of it; every value
/// compared is the one read from the table at that step, as on Lua's stack. Written with
/// `rawget`/`rawset`, as Lua's sort reads and writes; `direct` derives the faster copy used for
/// a table without a metatable, where `t[i]` is the same access.
const AUXSORT: &str = r#"
local _, rawget, rawset, floor, invalid = ...
local function auxsort(t, l, u, lt)
  while l < u do
    local al, au = rawget(t, l), rawget(t, u)
    if lt(au, al) then rawset(t, l, au) rawset(t, u, al) end
    if u - l == 1 then break end
    local i = floor((l + u) / 2)
    local ai
    ai, al = rawget(t, i), rawget(t, l)
    if lt(ai, al) then
      rawset(t, i, al) rawset(t, l, ai)
    else
      au = rawget(t, u)
      if lt(au, ai) then rawset(t, i, au) rawset(t, u, ai) end
    end
    if u - l == 2 then break end
    local p = rawget(t, i)
    rawset(t, i, rawget(t, u - 1)) rawset(t, u - 1, p)
    i = l
    local j = u - 1
    while true do
      i = i + 1
      local vi = rawget(t, i)
      while lt(vi, p) do
        if i > u then invalid() end
        i = i + 1
        vi = rawget(t, i)
      end
      j = j - 1
      local vj = rawget(t, j)
      while lt(p, vj) do
        if j < l then invalid() end
        j = j - 1
        vj = rawget(t, j)
      end
      if j < i then break end
      rawset(t, i, vj) rawset(t, j, vi)
    end
    local a, b = rawget(t, u - 1), rawget(t, i)
    rawset(t, u - 1, b) rawset(t, i, a)
    if i - l < u - i then
      j = l i = i - 1 l = i + 2
    else
      j = i + 1 i = u u = j - 2
    end
    auxsort(t, j, i, lt)
  end
end
return auxsort
"#;

/// `AUXSORT` with `rawget(t, x)` as `t[x]` and `rawset(t, x, y)` as `t[x] = y` (its arguments
/// hold no comma or parenthesis once the reads are rewritten).
fn direct(src: &str) -> String {
    let rewrite = |src: &str, call: &str, to: &dyn Fn(&str) -> String| -> String {
        let mut out = String::with_capacity(src.len());
        let mut rest = src;
        while let Some(at) = rest.find(call) {
            out.push_str(&rest[..at]);
            let args = &rest[at + call.len()..];
            let end = args.find(')').unwrap_or(args.len());
            out.push_str(&to(&args[..end]));
            rest = args.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    };
    let reads = rewrite(src, "rawget(t, ", &|x| format!("t[{x}]"));
    rewrite(&reads, "rawset(t, ", &|args| match args.split_once(", ") {
        Some((k, v)) => format!("t[{k}] = {v}"),
        None => format!("rawset(t, {args})"),
    })
}

/// The function scripts call: arguments checked as Lua's sort checks them, then the Rust sort
/// (no comparator) or one of the comparator ports.
const SORT: &str = r#"
local check, default_sort, raw_aux, direct_aux, getmetatable = ...
return function(...)
  local n = check(...)
  local t, lt = ...
  if lt == nil then return default_sort(t, n) end
  if getmetatable(t) == nil then direct_aux(t, 1, n, lt) else raw_aux(t, 1, n, lt) end
end
"#;

/// Builds `table.sort`.
pub(super) fn build(lua: &Lua) -> mlua::Result<Function> {
    // SAFETY: the three C functions follow the C function protocol (see each).
    let (check, default_sort, invalid) = unsafe {
        (
            lua.create_c_function(check)?,
            lua.create_c_function(default_sort)?,
            lua.create_c_function(invalid)?,
        )
    };
    let globals = lua.globals();
    let math: mlua::Table = globals.get("math")?;
    let floor: Function = math.get("floor")?;
    let rawget: Function = globals.get("rawget")?;
    let rawset: Function = globals.get("rawset")?;
    let getmetatable: Function = globals.get("getmetatable")?;
    let aux = |src: &str| -> mlua::Result<Function> {
        lua.load(src).set_name(INTERNAL_SOURCE).call((
            mlua::Value::Nil,
            rawget.clone(),
            rawset.clone(),
            floor.clone(),
            invalid.clone(),
        ))
    };
    let raw_aux = aux(AUXSORT)?;
    let direct_aux = aux(&direct(AUXSORT))?;
    lua.load(SORT).set_name(INTERNAL_SOURCE).call((
        check,
        default_sort,
        raw_aux,
        direct_aux,
        getmetatable,
    ))
}

/// Pushes "<expected> expected, got <type of arg n>" and raises it as argument `n`'s error.
///
/// # Safety
/// Inside a C function called by the sort function; raises.
unsafe fn type_error(l: *mut ffi::lua_State, n: c_int, expected: &std::ffi::CStr) -> ! {
    // SAFETY: the caller's guarantees; lua_typename answers a static string.
    unsafe {
        let got = ffi::lua_typename(l, ffi::lua_type(l, n));
        ffi::lua_pushstring(l, expected.as_ptr());
        ffi::lua_pushstring(l, c" expected, got ".as_ptr());
        ffi::lua_pushstring(l, got);
        ffi::lua_concat(l, 3);
        arg_error_top(l, n)
    }
}

/// Lua's sort prologue: a table at 1 (its length answered), nothing or a function at 2.
unsafe extern "C-unwind" fn check(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; at most one value pushed before a raise.
    unsafe {
        if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
            type_error(l, 1, c"table");
        }
        let n = ffi::lua_objlen(l, 1) as c_int;
        if ffi::lua_type(l, 2) > ffi::LUA_TNIL && ffi::lua_type(l, 2) != ffi::LUA_TFUNCTION {
            type_error(l, 2, c"function");
        }
        ffi::lua_pushinteger(l, n as ffi::lua_Integer);
        1
    }
}

/// Raises "invalid order function for sorting" at the script's position (Lua raises it with
/// `luaL_error` from its sort, so the position is the sort's caller's).
unsafe extern "C-unwind" fn invalid(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; nothing to drop before the raise.
    unsafe {
        push_user_where(l);
        ffi::lua_pushstring(l, c"invalid order function for sorting".as_ptr());
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}

/// `default_sort(t, n)`: Lua's sort without a comparator.
unsafe extern "C-unwind" fn default_sort(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol: the table at 1 (checked by `check`), its length at 2;
    // Lua's sort keeps index 2 for the comparator (nil here), and needs at most 40 slots.
    unsafe {
        let n = ffi::lua_tointeger(l, 2) as c_int;
        ffi::lua_settop(l, 1);
        ffi::lua_pushnil(l);
        ffi::luaL_checkstack(l, 40, c"".as_ptr());
        auxsort(l, 1, n);
        0
    }
}

/// # Safety
/// Inside `default_sort`, the table at 1.
unsafe fn set2(l: *mut ffi::lua_State, i: c_int, j: c_int) {
    // SAFETY: the caller's guarantees; pops the two values Lua's set2 pops.
    unsafe {
        ffi::lua_rawseti(l, 1, i.into());
        ffi::lua_rawseti(l, 1, j.into());
    }
}

/// Pushes `t[i]` (the table at 1).
///
/// # Safety
/// Inside `default_sort`, with a free slot.
unsafe fn geti(l: *mut ffi::lua_State, i: c_int) {
    // SAFETY: the caller's guarantees.
    unsafe { ffi::lua_rawgeti(l, 1, i.into()) };
}

/// # Safety
/// Inside `default_sort`; `a` and `b` are stack indices (may raise Lua's compare error).
unsafe fn less(l: *mut ffi::lua_State, a: c_int, b: c_int) -> bool {
    // SAFETY: the caller's guarantees.
    unsafe { ffi::lua_lessthan(l, a, b) != 0 }
}

/// Lua 5.1's auxsort, line for line, comparing with `lua_lessthan`.
///
/// # Safety
/// Inside `default_sort` (the table at 1, room made); raises on a compare error or an
/// inconsistent order, with no Rust value alive.
unsafe fn auxsort(l: *mut ffi::lua_State, mut lo: c_int, mut up: c_int) {
    // SAFETY: the caller's guarantees; every push is balanced as in ltablib.c.
    unsafe {
        while lo < up {
            geti(l, lo);
            geti(l, up);
            if less(l, -1, -2) {
                set2(l, lo, up);
            } else {
                ffi::lua_pop(l, 2);
            }
            if up - lo == 1 {
                break;
            }
            let mut i = (lo + up) / 2;
            geti(l, i);
            geti(l, lo);
            if less(l, -2, -1) {
                set2(l, i, lo);
            } else {
                ffi::lua_pop(l, 1);
                geti(l, up);
                if less(l, -1, -2) {
                    set2(l, i, up);
                } else {
                    ffi::lua_pop(l, 2);
                }
            }
            if up - lo == 2 {
                break;
            }
            geti(l, i);
            ffi::lua_pushvalue(l, -1);
            geti(l, up - 1);
            set2(l, i, up - 1);
            i = lo;
            let mut j = up - 1;
            loop {
                i += 1;
                geti(l, i);
                while less(l, -1, -2) {
                    if i > up {
                        invalid(l);
                    }
                    ffi::lua_pop(l, 1);
                    i += 1;
                    geti(l, i);
                }
                j -= 1;
                geti(l, j);
                while less(l, -3, -1) {
                    if j < lo {
                        invalid(l);
                    }
                    ffi::lua_pop(l, 1);
                    j -= 1;
                    geti(l, j);
                }
                if j < i {
                    ffi::lua_pop(l, 3);
                    break;
                }
                set2(l, i, j);
            }
            geti(l, up - 1);
            geti(l, i);
            set2(l, up - 1, i);
            if i - lo < up - i {
                j = lo;
                i -= 1;
                lo = i + 2;
            } else {
                j = i + 1;
                i = up;
                up = j - 2;
            }
            auxsort(l, j, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_port_indexes_where_the_raw_one_calls() {
        let d = direct(AUXSORT);
        assert!(!d.contains("rawget(t") && !d.contains("rawset(t"), "{d}");
        assert!(d.contains("t[i] = t[u - 1] t[u - 1] = p"), "{d}");
        assert!(d.contains("local al, au = t[l], t[u]"), "{d}");
        assert_eq!(AUXSORT.lines().count(), d.lines().count());
    }
}
