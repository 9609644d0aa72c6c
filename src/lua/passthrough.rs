//! `pcall`, `xpcall`, `coroutine.resume`, `coroutine.wrap`, `coroutine.running` and
//! `coroutine.status` as rebuilt for a hook that left by a Lua yield: Lua 5.1 cannot yield
//! across a C call, so a protected call runs its function in a coroutine of its own and a
//! small Lua loop (`RELAY`, engine code) resumes it; a step function answering `MARK` (a light
//! userdata only this file makes) made each loop yield its own coroutine in turn. The hook now
//! leaves by switching stacks (`stack`) and never yields, so `MARK` is never answered; the
//! functions stay until Lua's own replace them (docs/scripting.md). A script's own
//! `coroutine.yield` behaves as in Lua 5.1: an error inside `pcall`, a value handed to
//! `resume` in a coroutine.
//!
//! Scripts must not see the difference, so `coroutine.running`/`status` hide a protected
//! call's coroutine, `coroutine.yield` refuses to cross the engine's sort as Lua refuses to
//! cross its C sort, and `error` counts its level on the stack Lua 5.1 would have.

use super::coro::{self, INTERNAL_SOURCE};
use mlua::{ffi, Function, Lua, Table};
use std::cell::RefCell;
use std::ffi::{c_int, c_void, CStr};

/// The engine's Lua side: the loop that forwards a hook yield, and the functions scripts see.
const RELAY: &str = r#"
local MARK, hook_yield, cont, pstart, xstart, rstart, wcreate, wstart = ...
local function relay(a, ...)
  if a == MARK then
    hook_yield()
    return relay(cont(...))
  end
  return a, ...
end
local function pcall(...) return relay(pstart(...)) end
local function xpcall(...) return relay(xstart(...)) end
local function resume(...) return relay(rstart(...)) end
local function wrap(...)
  local co = wcreate(...)
  return function(...) return relay(wstart(co, ...)) end
end
return pcall, xpcall, resume, wrap
"#;

/// What a step function does with the coroutine's outcome.
const PCALL: ffi::lua_Integer = 0;
const XPCALL: ffi::lua_Integer = 1;
const RESUME: ffi::lua_Integer = 2;
const WRAP: ffi::lua_Integer = 3;

/// Lua 5.1's limits (luaconf.h): nested C calls, and the margin while handling that error.
const MAX_C_CALLS: u16 = 200;
const MAX_C_CALLS_ERRERR: u16 = MAX_C_CALLS + (MAX_C_CALLS >> 3);

/// The marker's address (its value is never read).
static MARK: u8 = 0;

fn mark() -> *mut c_void {
    std::ptr::addr_of!(MARK) as *mut c_void
}

/// One coroutine resumed by a step function and not yet returned.
#[derive(Clone, Copy)]
struct Link {
    co: *mut ffi::lua_State,
    /// A script's own coroutine (resume/wrap), not a protected call's.
    user: bool,
}

thread_local! {
    /// The coroutines resumed through this file, outermost first (strictly nested: one
    /// thread runs at a time). Always balanced: `drive` pops what it pushed, and lua_resume
    /// never raises past it, so a run (or a suspension) leaves it empty.
    static CHAIN: RefCell<Vec<Link>> = const { RefCell::new(Vec::new()) };
}

// The counters `lua_yield` compares (lstate.h of Lua 5.1.5, x86-64 / aarch64 layout: eight
// bytes of `next`, then `tt`, `marked`, `status`, padding, ten pointers, two ints).
const OFF_STATUS: usize = 10;
const OFF_NCCALLS: usize = 96;
const OFF_BASECCALLS: usize = 98;
const OFF_HOOKMASK: usize = 100;
const OFF_BASEHOOKCOUNT: usize = 104;

/// # Safety
/// `l` must be a live thread of a state whose layout `layout_ok` accepted.
unsafe fn c_calls(l: *mut ffi::lua_State) -> (u16, u16) {
    // SAFETY: the caller's guarantees; plain reads of two aligned u16 fields.
    unsafe {
        let p = l.cast::<u8>();
        (
            p.add(OFF_NCCALLS).cast::<u16>().read(),
            p.add(OFF_BASECCALLS).cast::<u16>().read(),
        )
    }
}

/// `lua_setlevel`: `to` counts the nested C calls of `from`.
///
/// # Safety
/// As `c_calls`, for both threads; `to` is not running.
unsafe fn set_level(from: *mut ffi::lua_State, to: *mut ffi::lua_State) {
    // SAFETY: the caller's guarantees; a plain write of an aligned u16 field.
    unsafe {
        let n = c_calls(from).0;
        to.cast::<u8>().add(OFF_NCCALLS).cast::<u16>().write(n);
    }
}

/// Whether the interpreter this binary links has the lua_State layout read above: checked once
/// per state against what the C API reports (status, hook mask and count).
pub(super) fn layout_ok(lua: &Lua) -> bool {
    // SAFETY: exec_raw runs the closure on a live thread of `lua`; lua_newthread pushes a new
    // thread (popped at the end); the reads stay inside the thread object, which is larger
    // than the last offset read (the struct goes on past `hook`).
    let ok: mlua::Result<bool> = unsafe {
        lua.exec_raw((), |state| {
            let t = ffi::lua_newthread(state);
            ffi::lua_sethook(t, Some(noop_hook), ffi::LUA_MASKCOUNT, 54321);
            let p = t.cast::<u8>();
            let mask = p.add(OFF_HOOKMASK).read() as c_int;
            let count = p.add(OFF_BASEHOOKCOUNT).cast::<c_int>().read();
            let status = p.add(OFF_STATUS).read() as c_int;
            let (n, base) = c_calls(t);
            let ok = mask == ffi::lua_gethookmask(t)
                && count == ffi::lua_gethookcount(t)
                && status == ffi::lua_status(t)
                && n == 0
                && base == 0;
            ffi::lua_sethook(t, None, 0, 0);
            ffi::lua_pop(state, 1);
            ffi::lua_pushboolean(state, ok as c_int);
        })
    };
    ok.unwrap_or(false)
}

unsafe extern "C-unwind" fn noop_hook(_l: *mut ffi::lua_State, _ar: *mut ffi::lua_Debug) {}

/// Empties the chain after the run it belonged to was abandoned on the script stack (its
/// step functions never return to pop their links).
pub(super) fn forget_chain() {
    CHAIN.with(|c| c.borrow_mut().clear());
}

/// Switches the coroutine the script sees as running to the line hook, as Redis switches the
/// thread its hook ran in: the innermost script coroutine of the chain (or `run`), and the
/// protected calls' coroutines inside it. Once the kill flag is set, a protected call that
/// catches the kill error cannot keep that coroutine going past its next line.
///
/// # Safety
/// `run` and the chain's coroutines are live threads; inside the hook.
pub(super) unsafe fn hook_every_line(run: *mut ffi::lua_State, hook: ffi::lua_Hook) {
    CHAIN.with(|c| {
        let chain = c.borrow();
        let set = |t: *mut ffi::lua_State| {
            // SAFETY: a live thread (caller); lua_sethook only stores the hook.
            unsafe { ffi::lua_sethook(t, Some(hook), ffi::LUA_MASKLINE, 0) };
        };
        for link in chain.iter().rev() {
            set(link.co);
            if link.user {
                return;
            }
        }
        set(run);
    });
}

/// Builds the functions and stores them in `raw` (pcall, xpcall, error) and `co` (resume,
/// wrap, running, status, create, yield), for the sandbox prelude to install.
pub(super) fn add(lua: &Lua, raw: &Table, co: &Table) -> mlua::Result<()> {
    // SAFETY: every function made here follows the C function protocol (see each).
    let (hook_yield, cont, pstart, xstart, rstart, wcreate, wstart, running, status) = unsafe {
        (
            lua.create_c_function(hook_yield)?,
            lua.create_c_function(cont)?,
            lua.create_c_function(pstart)?,
            lua.create_c_function(xstart)?,
            lua.create_c_function(rstart)?,
            lua.create_c_function(wcreate)?,
            lua.create_c_function(wstart)?,
            lua.create_c_function(running)?,
            lua.create_c_function(status)?,
        )
    };
    let marker = mlua::LightUserData(mark());
    let (pcall, xpcall, resume, wrap): (Function, Function, Function, Function) =
        lua.load(RELAY).set_name(INTERNAL_SOURCE).call((
            marker, hook_yield, cont, pstart, xstart, rstart, wcreate, wstart,
        ))?;
    lua.set_named_registry_value(POOL_KEY.to_str().unwrap_or_default(), lua.create_table()?)?;
    raw.set("pcall", pcall)?;
    // SAFETY: `error` follows the C function protocol (see it).
    raw.set("error", unsafe { lua.create_c_function(error)? })?;
    raw.set("xpcall", xpcall)?;
    co.set("resume", resume)?;
    co.set("wrap", wrap)?;
    co.set("running", running)?;
    co.set("status", status)?;
    // SAFETY: `create` follows the C function protocol (see it).
    co.set("create", unsafe { lua.create_c_function(create)? })?;
    // SAFETY: `yield_checked` follows the C function protocol (see it).
    co.set("yield", unsafe { lua.create_c_function(yield_checked)? })
}

/// `error(message [, level])`: Lua's luaB_error, with the position of `level` counted on the
/// stack Lua 5.1 would have: the engine's Lua frames in a row (a sort, a relay and the C step
/// function it called) count as the one C frame they stand for, and the bottom of a protected
/// call's coroutine continues into the coroutine that called `pcall`.
unsafe extern "C-unwind" fn error(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; luaL_optinteger raises Lua's argument error itself,
    // and the final raise happens with nothing to drop.
    unsafe {
        let level = ffi::luaL_optinteger(l, 2, 1);
        ffi::lua_settop(l, 1);
        if ffi::lua_isstring(l, 1) != 0 && level > 0 {
            push_where_at(l, level);
            ffi::lua_pushvalue(l, 1);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_error(l)
    }
}

/// A frame of the stack walked by `push_where_at`.
enum Frame {
    /// No frame: past the bottom.
    None,
    /// The engine's Lua code, or a C function it called (part of one virtual C frame).
    Engine,
    /// Anything else: a script's function, a C function, a tail-call placeholder.
    Other { lua_line: Option<c_int> },
}

/// # Safety
/// `t` a live thread whose frame `idx` may be read.
unsafe fn frame(t: *mut ffi::lua_State, idx: c_int) -> Frame {
    // SAFETY: plain C records filled by lua_getstack / lua_getinfo; `source` and `what` are
    // never null after "Sl".
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(t, idx, &mut ar) == 0
            || ffi::lua_getinfo(t, c"Sl".as_ptr(), &mut ar) == 0
        {
            return Frame::None;
        }
        let internal = |ar: &ffi::lua_Debug| {
            CStr::from_ptr(ar.source).to_bytes() == INTERNAL_SOURCE.as_bytes()
        };
        if internal(&ar) {
            return Frame::Engine;
        }
        let what = CStr::from_ptr(ar.what).to_bytes();
        if what == b"C" || what == b"tail" {
            // Part of the engine's frame: a C function engine code called (the frame below),
            // or the placeholder of an engine function a relay replaced by a tail call (the
            // frame above).
            let next = if what == b"C" { idx + 1 } else { idx - 1 };
            let mut near: ffi::lua_Debug = std::mem::zeroed();
            if next >= 0
                && ffi::lua_getstack(t, next, &mut near) != 0
                && ffi::lua_getinfo(t, c"S".as_ptr(), &mut near) != 0
                && internal(&near)
            {
                return Frame::Engine;
            }
            return Frame::Other { lua_line: None };
        }
        Frame::Other {
            lua_line: (ar.currentline > 0).then_some(ar.currentline),
        }
    }
}

/// Pushes `luaL_where(l, level)` as Lua 5.1 would answer it for the script's stack (see
/// `error`).
///
/// # Safety
/// Inside a C function the script called, with two free slots.
unsafe fn push_where_at(l: *mut ffi::lua_State, level: ffi::lua_Integer) {
    // The coroutines below `l` that a protected call's bottom continues into, innermost
    // first (copied out: no borrow is held while Lua pushes).
    let mut parents = [std::ptr::null_mut(); 8];
    let mut n_parents = 0;
    CHAIN.with(|c| {
        let chain = c.borrow();
        if chain.last().map(|link| link.co) != Some(l) {
            return;
        }
        for (i, link) in chain.iter().enumerate().rev() {
            if link.user || n_parents == parents.len() {
                return;
            }
            parents[n_parents] = if i == 0 {
                coro::run_co().unwrap_or(std::ptr::null_mut())
            } else {
                chain[i - 1].co
            };
            n_parents += 1;
        }
    });
    let mut thread = l;
    let mut idx: c_int = 1;
    let mut v: ffi::lua_Integer = 1;
    let mut crossed = 0;
    // SAFETY: every thread walked is alive (the chain's coroutines and the run's are held by
    // their callers' stacks); the walk only reads debug records; the push uses `l`'s room.
    unsafe {
        loop {
            match frame(thread, idx) {
                Frame::None => {
                    if crossed == n_parents || parents[crossed].is_null() {
                        break;
                    }
                    // The protected call's C frame: the parent's step function and relay.
                    thread = parents[crossed];
                    crossed += 1;
                    idx = 0;
                    if v == level {
                        break;
                    }
                    while matches!(frame(thread, idx), Frame::Engine) {
                        idx += 1;
                    }
                    v += 1;
                }
                Frame::Engine => {
                    if v == level {
                        break;
                    }
                    while matches!(frame(thread, idx), Frame::Engine) {
                        idx += 1;
                    }
                    v += 1;
                }
                Frame::Other { lua_line } => {
                    if v == level {
                        if lua_line.is_some() {
                            push_position(l, thread, idx);
                            return;
                        }
                        break;
                    }
                    idx += 1;
                    v += 1;
                }
            }
        }
        ffi::lua_pushstring(l, c"".as_ptr());
    }
}

/// Pushes "short_src:line: " of frame `idx` of `thread` onto `l`.
///
/// # Safety
/// `idx` a Lua frame of live `thread`; `l` with a free slot.
unsafe fn push_position(l: *mut ffi::lua_State, thread: *mut ffi::lua_State, idx: c_int) {
    // SAFETY: the caller's guarantees; lua_pushfstring copies the C string it is given.
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        ffi::lua_getstack(thread, idx, &mut ar);
        ffi::lua_getinfo(thread, c"Sl".as_ptr(), &mut ar);
        ffi::lua_pushfstring(
            l,
            c"%s:%d: ".as_ptr(),
            ar.short_src.as_ptr(),
            ar.currentline,
        );
    }
}

/// `coroutine.yield(...)`: Lua's, refusing as Lua 5.1 does a yield from inside `table.sort`'s
/// comparator (a C call there; the engine's Lua sort here, whose frames are the only engine
/// frames a script's yield can cross).
unsafe extern "C-unwind" fn yield_checked(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; the frame walk only reads debug records, and the raise
    // happens with nothing to drop.
    unsafe {
        let mut level = 1;
        loop {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(l, level, &mut ar) == 0 {
                break;
            }
            if ffi::lua_getinfo(l, c"S".as_ptr(), &mut ar) != 0
                && CStr::from_ptr(ar.source).to_bytes() == INTERNAL_SOURCE.as_bytes()
            {
                ffi::lua_pushstring(
                    l,
                    c"attempt to yield across metamethod/C-call boundary".as_ptr(),
                );
                ffi::lua_error(l);
            }
            level += 1;
        }
        ffi::lua_yield(l, ffi::lua_gettop(l))
    }
}

/// Yields the running coroutine for the hook (the relay got `MARK` from the coroutine below).
unsafe extern "C-unwind" fn hook_yield(l: *mut ffi::lua_State) -> c_int {
    coro::mark_hook_yield();
    // SAFETY: called by the relay through a plain Lua call in a coroutine `chain_yieldable`
    // accepted when the hook yielded below it (nothing has run since), so lua_yield succeeds.
    unsafe { ffi::lua_yield(l, 0) }
}

/// The name the calling script gave the engine function it called, or "?" when Lua cannot
/// tell (`luaL_argerror` asks the same of a C function itself).
///
/// # Safety
/// Inside a C function called by a relay function.
unsafe fn caller_name(l: *mut ffi::lua_State) -> Vec<u8> {
    // SAFETY: plain C records filled by lua_getstack / lua_getinfo for frames of `l`; `name`
    // is checked for null before it is read.
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(l, 1, &mut ar) != 0
            && ffi::lua_getinfo(l, c"n".as_ptr(), &mut ar) != 0
            && !ar.name.is_null()
        {
            return CStr::from_ptr(ar.name).to_bytes().to_vec();
        }
        b"?".to_vec()
    }
}

/// Pushes `luaL_where` of the first frame above the engine's own (its relay functions and
/// tail-call placeholders): the script's frame that called pcall, resume or a wrap function.
///
/// # Safety
/// Inside a C function with two free stack slots.
pub(super) unsafe fn push_user_where(l: *mut ffi::lua_State) {
    let mut level = 1;
    loop {
        // SAFETY: as in `caller_name`; `source` and `what` are never null after "Sl".
        unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(l, level, &mut ar) == 0
                || ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar) == 0
            {
                ffi::lua_pushstring(l, c"".as_ptr());
                return;
            }
            let what = CStr::from_ptr(ar.what).to_bytes();
            let ours = CStr::from_ptr(ar.source).to_bytes() == INTERNAL_SOURCE.as_bytes();
            if what != b"tail" && !ours {
                ffi::luaL_where(l, level);
                return;
            }
        }
        level += 1;
    }
}

/// Raises `bad argument #n to '<name>' (why)` at the script's position, as luaL_argerror
/// does from a C function the script called.
///
/// # Safety
/// Inside a C function called by a relay function; raises (nothing to drop here).
pub(super) unsafe fn arg_error(l: *mut ffi::lua_State, n: c_int, why: &CStr) -> ! {
    // SAFETY: the caller's guarantees.
    unsafe {
        ffi::lua_pushstring(l, why.as_ptr());
        arg_error_top(l, n)
    }
}

/// `arg_error` with the reason at the top of the stack (popped).
///
/// # Safety
/// As `arg_error`, with the reason string pushed and four more free slots.
pub(super) unsafe fn arg_error_top(l: *mut ffi::lua_State, n: c_int) -> ! {
    // SAFETY: the caller's guarantees; the name is copied by Lua before the Vec is dropped,
    // and the raise happens after every Rust value is gone.
    unsafe {
        push_user_where(l);
        {
            let name = caller_name(l);
            let text = format!("bad argument #{n} to '");
            ffi::lua_pushlstring(l, text.as_ptr().cast(), text.len());
            ffi::lua_pushlstring(l, name.as_ptr().cast(), name.len());
        }
        ffi::lua_pushstring(l, c"' (".as_ptr());
        ffi::lua_pushvalue(l, -5);
        ffi::lua_pushstring(l, c")".as_ptr());
        ffi::lua_concat(l, 6);
        ffi::lua_error(l)
    }
}

/// The coroutine scripts see as running: the innermost script coroutine of the chain (a
/// protected call's coroutine is not one), or none (the script's main body).
fn visible_running() -> Option<*mut ffi::lua_State> {
    CHAIN.with(|c| c.borrow().iter().rev().find(|link| link.user).map(|l| l.co))
}

/// `pcall(f, ...)`: a Lua function runs in a new coroutine; anything else (a C function, a
/// value that is not callable) goes through Redis' pcall as before, since a hook never runs
/// inside C code.
unsafe extern "C-unwind" fn pstart(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; `start_protected` documents the rest.
    unsafe {
        // Redis' pcall has no argument check: `pcall()` calls its own placeholder.
        if ffi::lua_gettop(l) < 1
            || ffi::lua_type(l, 1) != ffi::LUA_TFUNCTION
            || ffi::lua_iscfunction(l, 1) != 0
        {
            return coro::pcall_keeping_messages(l);
        }
        let nargs = ffi::lua_gettop(l) - 1;
        start_protected(l, nargs, PCALL, 0)
    }
}

/// `xpcall(f, handler)`: as `pstart`; Lua 5.1 passes `f` no arguments.
unsafe extern "C-unwind" fn xstart(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; `start_protected` documents the rest.
    unsafe {
        if ffi::lua_gettop(l) < 2 {
            arg_error(l, 2, c"value expected");
        }
        ffi::lua_settop(l, 2);
        if ffi::lua_type(l, 1) != ffi::LUA_TFUNCTION || ffi::lua_iscfunction(l, 1) != 0 {
            // Lua's luaB_xpcall.
            ffi::lua_insert(l, 1);
            let status = ffi::lua_pcall(l, 0, ffi::LUA_MULTRET, 1);
            ffi::lua_pushboolean(l, (status == 0) as c_int);
            ffi::lua_replace(l, 1);
            return ffi::lua_gettop(l);
        }
        // Stack: f, handler. The handler stays at 2 for `finish`.
        ffi::lua_pushvalue(l, 1);
        ffi::lua_remove(l, 1);
        start_protected(l, 0, XPCALL, 1)
    }
}

/// Starts the function under the `nargs` arguments at the top of `l`'s stack (the handler, for
/// XPCALL, at `handler` below it) in a new coroutine, counting the nested C call Lua's
/// `lua_pcall` would.
///
/// # Safety
/// Inside `pstart` / `xstart` with the stack described.
unsafe fn start_protected(
    l: *mut ffi::lua_State,
    nargs: c_int,
    kind: ffi::lua_Integer,
    handler: c_int,
) -> c_int {
    // SAFETY: the C function protocol: LUA_MINSTACK free slots on entry (luaL_checkstack
    // makes more before the move); the new thread is anchored on `l`'s stack while it runs.
    unsafe {
        // Lua's luaD_call counts the call before running it: 200 nested C calls is an error
        // the protected call catches, past 225 one that even the error handler cannot run.
        let depth = c_calls(l).0 + 1;
        if depth == MAX_C_CALLS || depth >= MAX_C_CALLS_ERRERR {
            let msg = if depth == MAX_C_CALLS {
                c"C stack overflow"
            } else {
                c"error in error handling"
            };
            ffi::lua_settop(l, handler);
            ffi::lua_pushboolean(l, 0);
            ffi::lua_pushstring(l, msg.as_ptr());
            if kind == XPCALL && depth == MAX_C_CALLS {
                // The handler sees the error, as Lua's would.
                ffi::lua_pushvalue(l, handler);
                ffi::lua_insert(l, -2);
                if ffi::lua_pcall(l, 1, 1, handler) != 0 {
                    // Its error is the result as well.
                }
            }
            return 2;
        }
        make_room(l, 4);
        let first = ffi::lua_gettop(l) - nargs; // the function
        let co = pooled_thread(l);
        ffi::lua_insert(l, first); // thread under the function and its arguments
        if ffi::lua_checkstack(co, nargs + 1) == 0 {
            // More arguments than Lua lets a C function push (8000): Lua's own pcall fails
            // the same way, on its call.
            ffi::lua_settop(l, handler);
            ffi::lua_pushboolean(l, 0);
            ffi::lua_pushstring(l, c"stack overflow".as_ptr());
            return 2;
        }
        ffi::lua_xmove(l, co, nargs + 1);
        set_level(l, co);
        drive(l, (co, first), nargs, kind, handler)
    }
}

/// The registry key of the finished protected-call coroutines kept for reuse (a creation per
/// `pcall` is most of its cost).
const POOL_KEY: &CStr = c"slotd.pcall_threads";

/// Pushes a coroutine for a protected call: a finished one from the pool (its hook set again as
/// a new thread would copy it from `l`), else a new one.
///
/// # Safety
/// Inside a step function with three free slots.
unsafe fn pooled_thread(l: *mut ffi::lua_State) -> *mut ffi::lua_State {
    // SAFETY: the pool is a plain table of the engine's holding only threads `give_back`
    // checked as finished; reading and clearing its last slot cannot raise.
    unsafe {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, POOL_KEY.as_ptr());
        let n = ffi::lua_objlen(l, -1) as ffi::lua_Integer;
        if n == 0 || ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
            ffi::lua_pop(l, 1);
            return ffi::lua_newthread(l);
        }
        ffi::lua_rawgeti(l, -1, n);
        ffi::lua_pushnil(l);
        ffi::lua_rawseti(l, -3, n);
        ffi::lua_remove(l, -2);
        let co = ffi::lua_tothread(l, -1);
        ffi::lua_sethook(
            co,
            ffi::lua_gethook(l),
            ffi::lua_gethookmask(l),
            ffi::lua_gethookcount(l),
        );
        co
    }
}

/// Puts the protected call's coroutine at `at` back in the pool when it finished cleanly (no
/// frame, nothing on its stack) and the pool has room.
///
/// # Safety
/// Inside a step function with two free slots; `co` is the thread at `at`.
unsafe fn give_back(l: *mut ffi::lua_State, co: *mut ffi::lua_State, at: c_int) {
    // SAFETY: as `pooled_thread`; lua_rawseti into the engine's plain table cannot raise but
    // for memory, and the table never grows past POOL_MAX.
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_status(co) != 0
            || ffi::lua_gettop(co) != 0
            || ffi::lua_getstack(co, 0, &mut ar) != 0
        {
            return;
        }
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, POOL_KEY.as_ptr());
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            let n = ffi::lua_objlen(l, -1);
            if n < POOL_MAX {
                ffi::lua_pushvalue(l, at);
                ffi::lua_rawseti(l, -2, n as ffi::lua_Integer + 1);
            }
        }
        ffi::lua_pop(l, 1);
    }
}

/// Coroutines kept per Lua state for reuse.
const POOL_MAX: usize = 16;

/// Makes room for `n` values on `l` or raises Lua's "stack overflow" for it.
///
/// # Safety
/// Inside a C function.
unsafe fn make_room(l: *mut ffi::lua_State, n: c_int) {
    // SAFETY: the caller's guarantees.
    unsafe { ffi::luaL_checkstack(l, n, c"too many results".as_ptr()) }
}

/// Resumes `co` (its thread value at index `at` of `l`'s stack) with `nargs` values already
/// on its stack and answers as `kind` does: the results, or `MARK, kind, co, handler` when the
/// hook yielded it.
///
/// # Safety
/// Inside a step function; `co` is a thread of the same state, suspended or fresh, anchored
/// on `l`'s stack at `at`; `handler` is the handler's index on `l` for XPCALL.
unsafe fn drive(
    l: *mut ffi::lua_State,
    (co, at): (*mut ffi::lua_State, c_int),
    nargs: c_int,
    kind: ffi::lua_Integer,
    handler: c_int,
) -> c_int {
    CHAIN.with(|c| {
        c.borrow_mut().push(Link {
            co,
            user: kind >= RESUME,
        })
    });
    // SAFETY: lua_resume catches every error raised in `co`; nothing between the push and
    // the pop can raise in `l`.
    let status = unsafe { ffi::lua_resume_(co, nargs) };
    CHAIN.with(|c| c.borrow_mut().pop());
    // SAFETY: the caller's guarantees; from here on errors may be raised in `l` (no Rust
    // value owning resources is alive).
    unsafe { finish(l, (co, at), status, kind, handler) }
}

/// Leaves on `l` what the step function returns after `co` stopped with `status`.
///
/// # Safety
/// As `drive`.
unsafe fn finish(
    l: *mut ffi::lua_State,
    (co, at): (*mut ffi::lua_State, c_int),
    status: c_int,
    kind: ffi::lua_Integer,
    handler: c_int,
) -> c_int {
    // SAFETY: the caller's guarantees; each push is preceded by the room it needs.
    unsafe {
        if status == ffi::LUA_YIELD && coro::take_hook_yield() {
            make_room(l, 4);
            ffi::lua_pushlightuserdata(l, mark());
            ffi::lua_pushinteger(l, kind);
            ffi::lua_pushvalue(l, at);
            if kind == XPCALL {
                ffi::lua_pushvalue(l, handler);
            } else {
                ffi::lua_pushnil(l);
            }
            return 4;
        }
        make_room(l, 4);
        let base = ffi::lua_gettop(l);
        match (status, kind) {
            (0 | ffi::LUA_YIELD, RESUME | WRAP) | (0, PCALL | XPCALL) => {
                let n = ffi::lua_gettop(co);
                // The results, the boolean, and two slots for `give_back` above them.
                if ffi::lua_checkstack(l, n + 3) == 0 {
                    ffi::lua_settop(co, 0);
                    return resume_failed(l, kind, c"too many results to resume");
                }
                if kind != WRAP {
                    ffi::lua_pushboolean(l, 1);
                }
                ffi::lua_xmove(co, l, n);
                if kind == PCALL || kind == XPCALL {
                    give_back(l, co, at);
                }
                ffi::lua_gettop(l) - base
            }
            (ffi::LUA_YIELD, _) => {
                // The script's own yield inside a protected call: in Lua 5.1 it crosses the
                // pcall's C call, an error the pcall catches. The coroutine is dropped.
                ffi::lua_settop(co, 0);
                ffi::lua_pushstring(
                    l,
                    c"attempt to yield across metamethod/C-call boundary".as_ptr(),
                );
                protected_error(l, None, kind, handler, ffi::LUA_ERRRUN)
            }
            _ => {
                if kind == WRAP {
                    ffi::lua_xmove(co, l, 1);
                    if ffi::lua_isstring(l, -1) != 0 {
                        push_user_where(l);
                        ffi::lua_insert(l, -2);
                        ffi::lua_concat(l, 2);
                    }
                    ffi::lua_error(l);
                }
                if kind == RESUME {
                    ffi::lua_pushboolean(l, 0);
                    ffi::lua_xmove(co, l, 1);
                    return 2;
                }
                protected_error(l, Some(co), kind, handler, status)
            }
        }
    }
}

/// `resume`'s or `wrap`'s answer to a coroutine that cannot be resumed (`msg`).
///
/// # Safety
/// Inside a step function with two free slots; raises for WRAP.
unsafe fn resume_failed(l: *mut ffi::lua_State, kind: ffi::lua_Integer, msg: &CStr) -> c_int {
    // SAFETY: the caller's guarantees.
    unsafe {
        if kind == WRAP {
            push_user_where(l);
            ffi::lua_pushstring(l, msg.as_ptr());
            ffi::lua_concat(l, 2);
            ffi::lua_error(l);
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_pushstring(l, msg.as_ptr());
        2
    }
}

/// `false, error` for PCALL (Redis' pcall hands back an error table's `err`) and XPCALL (the
/// handler's answer, the handler running on the failed coroutine's stack as Lua runs it on
/// the failing stack). The error is on `co`'s stack when `co` is given, else on `l`'s.
///
/// # Safety
/// As `finish`.
unsafe fn protected_error(
    l: *mut ffi::lua_State,
    co: Option<*mut ffi::lua_State>,
    kind: ffi::lua_Integer,
    handler: c_int,
    status: c_int,
) -> c_int {
    // SAFETY: the caller's guarantees. lua_pcall on the dead coroutine runs the handler above
    // its failed frames (lua_resume leaves them in place) under a protected call of its own,
    // with the handler as its error function too, so an error in the handler calls it again,
    // as Lua 5.1 does, until "error in error handling".
    unsafe {
        make_room(l, 4);
        if kind == XPCALL && status == ffi::LUA_ERRRUN {
            match co {
                Some(co) if ffi::lua_checkstack(co, 4) != 0 => {
                    ffi::lua_pushvalue(l, handler);
                    ffi::lua_xmove(l, co, 1);
                    let ef = ffi::lua_gettop(co);
                    ffi::lua_pushvalue(co, ef);
                    ffi::lua_pushvalue(co, ef - 1);
                    ffi::lua_pcall(co, 1, 1, ef);
                    ffi::lua_xmove(co, l, 1);
                }
                Some(co) => {
                    ffi::lua_xmove(co, l, 1);
                    call_handler_on(l, handler);
                }
                None => call_handler_on(l, handler),
            }
        } else if let Some(co) = co {
            ffi::lua_xmove(co, l, 1);
        }
        if kind == PCALL && ffi::lua_istable(l, -1) != 0 {
            ffi::lua_getfield(l, -1, c"err".as_ptr());
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            } else {
                ffi::lua_pop(l, 1);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, -2);
        2
    }
}

/// Replaces the error at the top of `l` by `handler(error)` (or by the handler's own error).
///
/// # Safety
/// Inside a step function with three free slots; `handler` an index of `l`.
unsafe fn call_handler_on(l: *mut ffi::lua_State, handler: c_int) {
    // SAFETY: the caller's guarantees.
    unsafe {
        ffi::lua_pushvalue(l, handler);
        ffi::lua_insert(l, -2);
        ffi::lua_pcall(l, 1, 1, handler);
    }
}

/// Continues the coroutine (2) the hook suspended, for the kind (1) and handler (3) `finish`
/// answered with `MARK`.
unsafe extern "C-unwind" fn cont(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; only the relay calls this, with what `finish` gave it
    // (a thread suspended by the hook, alive on this stack).
    unsafe {
        let kind = ffi::lua_tointeger(l, 1);
        let co = ffi::lua_tothread(l, 2);
        drive(l, (co, 2), 0, kind, 3)
    }
}

/// Lua 5.1's costatus, except that the coroutine scripts see as running is `running` even
/// while a protected call's coroutine runs inside it.
///
/// # Safety
/// `co` a live thread of `l`'s state.
unsafe fn co_status(l: *mut ffi::lua_State, co: *mut ffi::lua_State) -> &'static CStr {
    let running = visible_running();
    if Some(co) == running || (co == l && running.is_none()) {
        return c"running";
    }
    // SAFETY: lua_status, lua_getstack and lua_gettop only read `co`.
    unsafe {
        match ffi::lua_status(co) {
            ffi::LUA_YIELD => c"suspended",
            0 => {
                let mut ar: ffi::lua_Debug = std::mem::zeroed();
                if ffi::lua_getstack(co, 0, &mut ar) > 0 {
                    c"normal"
                } else if ffi::lua_gettop(co) == 0 {
                    c"dead"
                } else {
                    c"suspended"
                }
            }
            _ => c"dead",
        }
    }
}

/// `coroutine.resume(co, ...)`.
unsafe extern "C-unwind" fn rstart(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; the thread at 1 is checked and stays anchored there.
    unsafe {
        let co = ffi::lua_tothread(l, 1);
        if co.is_null() {
            arg_error(l, 1, c"coroutine expected");
        }
        let nargs = ffi::lua_gettop(l) - 1;
        resume_user(l, co, nargs, RESUME)
    }
}

/// Lua 5.1's auxresume up to the resume: status check, arguments moved, C calls counted.
///
/// # Safety
/// Inside a step function, `co` anchored on `l`, its `nargs` arguments at the top of `l`.
unsafe fn resume_user(
    l: *mut ffi::lua_State,
    co: *mut ffi::lua_State,
    nargs: c_int,
    kind: ffi::lua_Integer,
) -> c_int {
    // SAFETY: the caller's guarantees.
    unsafe {
        let status = co_status(l, co);
        if ffi::lua_checkstack(co, nargs) == 0 {
            push_user_where(l);
            ffi::lua_pushstring(l, c"too many arguments to resume".as_ptr());
            ffi::lua_concat(l, 2);
            ffi::lua_error(l);
        }
        if status != c"suspended" {
            return resume_failed_owned(l, kind, status);
        }
        ffi::lua_xmove(l, co, nargs);
        set_level(l, co);
        drive(l, (co, 1), nargs, kind, 0)
    }
}

/// `resume_failed` for "cannot resume <status> coroutine", built on Lua's stack so no Rust
/// string is alive if it raises.
///
/// # Safety
/// As `resume_failed`.
unsafe fn resume_failed_owned(
    l: *mut ffi::lua_State,
    kind: ffi::lua_Integer,
    status: &'static CStr,
) -> c_int {
    // SAFETY: the caller's guarantees; `status` is a static string.
    unsafe {
        if kind == WRAP {
            push_user_where(l);
        } else {
            ffi::lua_pushboolean(l, 0);
        }
        ffi::lua_pushstring(l, c"cannot resume ".as_ptr());
        ffi::lua_pushstring(l, status.as_ptr());
        ffi::lua_pushstring(l, c" coroutine".as_ptr());
        ffi::lua_concat(l, 3);
        if kind == WRAP {
            ffi::lua_concat(l, 2);
            ffi::lua_error(l);
        }
        2
    }
}

/// `coroutine.wrap(f)`'s coroutine (Lua's luaB_cocreate check, named as the script called
/// `wrap`).
unsafe extern "C-unwind" fn wcreate(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol.
    unsafe {
        if !script_lua_function(l, 1) {
            arg_error(l, 1, c"Lua function expected");
        }
        let co = ffi::lua_newthread(l);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_xmove(l, co, 1);
        1
    }
}

/// Whether the value at `idx` is a Lua function of the script's: Lua's coroutine.create
/// refuses C functions, and the engine's Lua functions stand for Lua's C ones.
///
/// # Safety
/// Inside a C function with a free slot.
unsafe fn script_lua_function(l: *mut ffi::lua_State, idx: c_int) -> bool {
    // SAFETY: lua_getinfo(">S") pops the function pushed for it and fills a plain record;
    // `source` is never null after "S".
    unsafe {
        if ffi::lua_type(l, idx) != ffi::LUA_TFUNCTION || ffi::lua_iscfunction(l, idx) != 0 {
            return false;
        }
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        ffi::lua_pushvalue(l, idx);
        ffi::lua_getinfo(l, c">S".as_ptr(), &mut ar) != 0
            && CStr::from_ptr(ar.source).to_bytes() != INTERNAL_SOURCE.as_bytes()
    }
}

/// `coroutine.create(f)`: Lua's luaB_cocreate, refusing the engine's functions too.
unsafe extern "C-unwind" fn create(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; luaL_argerror names this C function as Lua's does.
    unsafe {
        if !script_lua_function(l, 1) {
            ffi::luaL_argerror(l, 1, c"Lua function expected".as_ptr());
        }
        let co = ffi::lua_newthread(l);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_xmove(l, co, 1);
        1
    }
}

/// A `wrap` function's call: `co` at 1, the arguments after it.
unsafe extern "C-unwind" fn wstart(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; the relay passes the coroutine `wcreate` made.
    unsafe {
        let co = ffi::lua_tothread(l, 1);
        let nargs = ffi::lua_gettop(l) - 1;
        resume_user(l, co, nargs, WRAP)
    }
}

/// `coroutine.running()`: the script coroutine running, nil in the script's main body.
unsafe extern "C-unwind" fn running(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; a chain thread is alive and has room for one value
    // (lua_checkstack), which goes straight to `l`.
    unsafe {
        match visible_running() {
            None => ffi::lua_pushnil(l),
            Some(co) if co == l => {
                ffi::lua_pushthread(l);
            }
            Some(co) => {
                if ffi::lua_checkstack(co, 1) == 0 {
                    ffi::lua_pushnil(l);
                } else {
                    ffi::lua_pushthread(co);
                    ffi::lua_xmove(co, l, 1);
                }
            }
        }
        1
    }
}

/// `coroutine.status(co)`.
unsafe extern "C-unwind" fn status(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; the thread is checked.
    unsafe {
        let co = ffi::lua_tothread(l, 1);
        if co.is_null() {
            ffi::luaL_argerror(l, 1, c"coroutine expected".as_ptr());
        }
        ffi::lua_pushstring(l, co_status(l, co).as_ptr());
        1
    }
}
