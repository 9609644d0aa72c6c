//! The unsafe corner of the engine: resuming a script's coroutine through the Lua C API (so an
//! error value stays a Lua value and its position can be read from the dead coroutine's
//! stack), the count hook that raises the kill error and leaves the core at the busy threshold, and the
//! per-thread run context (the `Host` and `RunControl` of the run in progress) that
//! `redis.call` and the hook read.
//!
//! `stack` holds the machine stack runs go on and `libs` the C libraries; everything else in
//! `lua` uses mlua's safe API.

use super::stack::{self, ScriptStack};
use super::{Host, ReplFlags, RunControl};
use crate::constants::{LUA_HOOK_INSTRUCTIONS, LUA_LOAD_TIMEOUT_MS};
use crate::resp::Out;
use mlua::{ffi, Function, IntoLuaMulti, Lua, Table, Thread, Value};
use std::cell::Cell;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The chunk name of the engine's own Lua code: frames with this source are skipped when an
/// error's position is reported, as Redis reports the user's line, never its own helpers'.
pub(super) const INTERNAL_SOURCE: &str = "=slotd";

/// What the hook needs for the run in progress on this thread.
#[derive(Clone, Copy)]
struct HookCtx {
    /// Null while a library loads (`load`).
    ctl: *const RunControl,
    /// A FUNCTION LOAD runs the library's top level: the hook enforces the load timeout.
    load: bool,
    /// The run's own coroutine (`coroutine.running` answers nil there, as on Redis' main
    /// thread).
    co: *mut ffi::lua_State,
    /// When the run started; None until the hook first runs (short scripts, the common case,
    /// never read the clock: the first 100k instructions count as time zero).
    started: Option<Instant>,
    busy_threshold_ms: u64,
    may_yield: bool,
}

/// Per-run settings the script changes through `redis.setresp` and `redis.set_repl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RunVars {
    pub resp3: bool,
    pub repl: ReplFlags,
}

impl Default for RunVars {
    fn default() -> Self {
        RunVars {
            resp3: false,
            repl: ReplFlags::ALL,
        }
    }
}

thread_local! {
    static HOST: Cell<Option<NonNull<dyn Host + 'static>>> = const { Cell::new(None) };
    static HOOK: Cell<Option<HookCtx>> = const { Cell::new(None) };
    static VARS: Cell<RunVars> = const {
        Cell::new(RunVars {
            resp3: false,
            repl: ReplFlags::ALL,
        })
    };
}

/// Everything a run sets up on this thread; cleared when dropped, so no pointer outlives the
/// borrow it came from.
pub(super) struct RunScope<'a> {
    _host: PhantomData<&'a mut dyn Host>,
}

/// How one resume ended.
pub(super) enum Resumed {
    /// The script returned; its first result (nil when it returned nothing).
    Returned(Value),
    /// The hook left the script's stack at the busy threshold; continue it later with
    /// `Start::Continue(ticket)`.
    Left(u64),
    /// The script returned a string: its bulk reply is written to the `out` given to `resume`
    /// already (the common EVALSHA result, with no value handle made for it).
    Written,
    /// The script raised `value`; `source`/`line` locate the user's code that raised it.
    Failed {
        value: Value,
        source: Option<String>,
        line: i64,
    },
}

/// The run's timing and kill switch as the hook sees them.
pub(super) struct HookArgs<'a> {
    pub ctl: &'a RunControl,
    /// None for a new run (see `HookCtx::started`).
    pub started: Option<Instant>,
    pub busy_threshold_ms: u64,
    pub may_yield: bool,
}

impl<'a> RunScope<'a> {
    /// Makes `host`, `hook` and `vars` the run in progress on this thread until the scope drops.
    pub fn enter(host: &'a mut dyn Host, co: &Thread, hook: HookArgs<'a>, vars: RunVars) -> Self {
        let ptr: NonNull<dyn Host + 'a> = NonNull::from(host);
        // SAFETY: only the lifetime is erased. The pointer lives in HOST while the scope
        // lives, the scope borrows `host` mutably for 'a, and Drop clears HOST, so the pointer
        // is never used after the borrow ends and never aliases another use of `host`.
        let ptr: NonNull<dyn Host + 'static> = unsafe { std::mem::transmute(ptr) };
        HOST.with(|h| h.set(Some(ptr)));
        HOOK.with(|h| {
            h.set(Some(HookCtx {
                ctl: hook.ctl,
                load: false,
                co: co.state(),
                started: hook.started,
                busy_threshold_ms: hook.busy_threshold_ms,
                may_yield: hook.may_yield,
            }))
        });
        VARS.with(|v| v.set(vars));
        RunScope { _host: PhantomData }
    }

    /// The settings as the script left them (saved while the run is off the core).
    pub fn vars(&self) -> RunVars {
        VARS.with(|v| v.get())
    }

    /// When the run started, as the hook knows it (None: the hook never ran).
    pub fn started(&self) -> Option<Instant> {
        HOOK.with(|h| h.get().and_then(|c| c.started))
    }
}

impl Drop for RunScope<'_> {
    fn drop(&mut self) {
        HOST.with(|h| h.set(None));
        HOOK.with(|h| h.set(None));
        VARS.with(|v| v.set(RunVars::default()));
    }
}

/// The hook context of a library's top-level code running on this thread (no host: its
/// `redis` table has no `call`).
pub(super) struct LoadScope;

impl LoadScope {
    pub fn enter(co: &Thread) -> Self {
        HOOK.with(|h| {
            h.set(Some(HookCtx {
                ctl: std::ptr::null(),
                load: true,
                co: co.state(),
                started: Some(Instant::now()),
                busy_threshold_ms: LUA_LOAD_TIMEOUT_MS,
                may_yield: false,
            }))
        });
        LoadScope
    }
}

impl Drop for LoadScope {
    fn drop(&mut self) {
        HOOK.with(|h| h.set(None));
    }
}

/// Runs `f` with the host of the run in progress; None outside a run (e.g. while a function
/// library loads) or when a call is already in progress (no re-entry).
pub(super) fn with_host<R>(f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
    let ptr = HOST.with(|h| h.take())?;
    struct Restore(NonNull<dyn Host + 'static>);
    impl Drop for Restore {
        fn drop(&mut self) {
            HOST.with(|h| h.set(Some(self.0)));
        }
    }
    let restore = Restore(ptr);
    let mut p = restore.0;
    // SAFETY: the pointer was stored by a live RunScope (see `enter`) and was taken out of
    // HOST, so no other reference to the host exists while `f` runs; it goes back on return.
    let host = unsafe { p.as_mut() };
    Some(f(host))
}

/// True while a script runs on this thread (not while a library loads).
pub(super) fn in_run() -> bool {
    HOOK.with(|h| h.get().is_some_and(|c| !c.load))
}

/// The run's (or library load's) own coroutine on this thread, if one runs.
pub(super) fn run_co() -> Option<*mut ffi::lua_State> {
    HOOK.with(|h| h.get().map(|c| c.co))
}

pub(super) fn vars() -> RunVars {
    VARS.with(|v| v.get())
}

pub(super) fn set_vars(vars: RunVars) {
    VARS.with(|v| v.set(vars));
}

/// Arms the count hook on `co` (Redis checks every 100k instructions).
pub(super) fn arm_hook(co: &Thread) {
    // SAFETY: `co` is a live coroutine of this Lua state (the Thread handle keeps it
    // anchored); lua_sethook only stores the hook in it.
    unsafe {
        ffi::lua_sethook(
            co.state(),
            Some(count_hook),
            ffi::LUA_MASKCOUNT,
            LUA_HOOK_INSTRUCTIONS,
        );
    }
}

/// How a resume begins.
pub(super) enum Start<'a> {
    /// An EVAL script: `KEYS` and `ARGV` become globals of `globals` (fresh tables, as Redis
    /// makes them per run), then `func()`.
    Eval {
        func: &'a Function,
        globals: &'a Table,
        keys: &'a [&'a [u8]],
        args: &'a [&'a [u8]],
    },
    /// FCALL: `func(keys, args)`.
    Function {
        func: &'a Function,
        keys: &'a [&'a [u8]],
        args: &'a [&'a [u8]],
    },
    /// A library's top level: `func()` (on the shard loop's stack: it never leaves).
    Plain(&'a Function),
    /// After the hook left (`Resumed::Left`).
    Continue(u64),
}

/// Starts a run on `co` (a fresh or cleanly finished coroutine), or continues `co` after the
/// hook left. Scripts and functions run on `stack` (`stack::ScriptStack`), a library's top
/// level on the caller's. The KEYS/ARGV tables are built through the C API: this is EVALSHA's
/// hot path.
pub(super) fn resume(
    lua: &Lua,
    co: &Thread,
    stack: Option<&mut ScriptStack>,
    start: Start<'_>,
    out: Option<&mut Out<'_>>,
) -> mlua::Result<Resumed> {
    let co_state = co.state();
    let mut left = None;
    let on = On {
        stack,
        left: &mut left,
        ticket: match start {
            Start::Continue(t) => Some(t),
            _ => None,
        },
    };
    let (value, status, source, line): Outcome = match start {
        Start::Eval {
            func,
            globals,
            keys,
            args,
        } => exec(lua, (func, globals), co_state, on, out, |state| {
            // SAFETY: inside `exec`'s protected call with room made; the stack holds func,
            // globals; each array is pushed and stored into globals (a plain table without
            // __newindex), then globals is popped.
            unsafe {
                push_array(state, keys);
                ffi::lua_setfield(state, -2, c"KEYS".as_ptr());
                push_array(state, args);
                ffi::lua_setfield(state, -2, c"ARGV".as_ptr());
                ffi::lua_pop(state, 1);
            }
            (1, 0)
        })?,
        Start::Function { func, keys, args } => exec(lua, func, co_state, on, out, |state| {
            // SAFETY: inside `exec`'s protected call with room made; func, then the two arrays,
            // go to the coroutine.
            unsafe {
                push_array(state, keys);
                push_array(state, args);
            }
            (3, 2)
        })?,
        Start::Plain(func) => exec(lua, func, co_state, on, out, |_| (1, 0))?,
        Start::Continue(_) => exec(lua, (), co_state, on, out, |_| (0, 0))?,
    };
    Ok(match status {
        0 => Resumed::Returned(value),
        1 => Resumed::Left(left.unwrap_or_default()),
        3 => Resumed::Written,
        _ => {
            let source = match source {
                Value::String(s) => Some(s.to_string_lossy()),
                _ => None,
            };
            let line = line.as_integer().unwrap_or(0);
            Resumed::Failed {
                value,
                source,
                line,
            }
        }
    })
}

/// What `exec` leaves: the value, the status, and for a failure the source and line (a
/// tuple, so reading it allocates nothing).
type Outcome = (Value, i64, Value, Value);

/// Where `exec` runs `lua_resume`: on `stack` (None: the caller's), continuing the run that
/// left with `ticket` if set; the ticket of a run that leaves goes to `left`.
struct On<'a> {
    stack: Option<&'a mut ScriptStack>,
    left: &'a mut Option<u64>,
    ticket: Option<u64>,
}

/// lua_resume's status for a run whose hook left its stack (not one of Lua's).
const LEFT: c_int = -1;

impl On<'_> {
    /// # Safety
    /// As `lua_resume(co, nargs)`.
    unsafe fn resume(self, co: *mut ffi::lua_State, nargs: c_int) -> c_int {
        let outcome = match (self.stack, self.ticket) {
            // SAFETY: the caller's guarantees.
            (None, _) => return unsafe { ffi::lua_resume_(co, nargs) },
            // SAFETY: the caller's guarantees.
            (Some(stack), None) => unsafe { stack.resume(co, nargs) },
            (Some(stack), Some(ticket)) => match stack.resume_left(ticket) {
                Some(outcome) => outcome,
                // Not the run waiting on the stack: nothing to continue.
                None => return ABANDONED,
            },
        };
        match outcome {
            stack::Outcome::Status(status) => status,
            stack::Outcome::Left(ticket) => {
                *self.left = Some(ticket);
                LEFT
            }
        }
    }
}

/// The status `On::resume` answers for a ticket that is not the run waiting on the stack.
const ABANDONED: c_int = -2;

/// Runs `prepare` then resumes `co` inside one protected call on mlua's stack (`exec_raw`),
/// and leaves the outcome there: (value, status 0 returned / 1 left the core / 2 failed, then for a
/// failure the source and line of the user frame). `prepare` gets mlua's stack holding `args`
/// and answers how many values to move to `co` (0: continue after the hook left) and how many of
/// them are arguments.
fn exec(
    lua: &Lua,
    args: impl IntoLuaMulti,
    co: *mut ffi::lua_State,
    on: On<'_>,
    out: Option<&mut Out<'_>>,
    prepare: impl FnOnce(*mut ffi::lua_State) -> (c_int, c_int),
) -> mlua::Result<Outcome> {
    // SAFETY: exec_raw runs the closure on mlua's own stack with `args` on it, inside a
    // protected call (an allocation error is caught). The closure makes room, lets `prepare`
    // push the run's values, moves them to `co` (same global state), resumes `co` (errors
    // inside it are caught by lua_resume and leave it dead), reads its call stack and leaves
    // at most four values for exec_raw to convert. A run the hook took off the core gets
    // nothing pushed before it continues.
    unsafe {
        lua.exec_raw(args, |state| {
            ffi::luaL_checkstack(state, 8, std::ptr::null());
            let (moved, nargs) = prepare(state);
            if moved > 0 {
                ffi::lua_settop(co, 0);
                ffi::lua_xmove(state, co, moved);
            }
            match on.resume(co, nargs) {
                0 if out.is_some()
                    && ffi::lua_gettop(co) > 0
                    && ffi::lua_type(co, 1) == ffi::LUA_TSTRING =>
                {
                    // A string result: its bulk reply, straight from the coroutine's stack.
                    let mut len = 0;
                    let p = ffi::lua_tolstring(co, 1, &mut len);
                    if let Some(out) = out {
                        out.bulk(std::slice::from_raw_parts(p.cast(), len));
                    }
                    ffi::lua_settop(co, 0);
                    ffi::lua_pushnil(state);
                    ffi::lua_pushinteger(state, 3);
                }
                0 => {
                    if ffi::lua_gettop(co) == 0 {
                        ffi::lua_pushnil(state);
                    } else {
                        ffi::lua_settop(co, 1);
                        ffi::lua_xmove(co, state, 1);
                    }
                    ffi::lua_pushinteger(state, 0);
                }
                LEFT => {
                    ffi::lua_pushnil(state);
                    ffi::lua_pushinteger(state, 1);
                }
                ABANDONED => {
                    ffi::lua_pushstring(
                        state,
                        c"ERR the script was abandoned while it was suspended".as_ptr(),
                    );
                    ffi::lua_pushinteger(state, 2);
                    ffi::lua_pushnil(state);
                    ffi::lua_pushnil(state);
                }
                ffi::LUA_YIELD => {
                    // The script called coroutine.yield outside a coroutine of its own: in
                    // Redis that crosses its pcall, an error. The coroutine is dropped.
                    ffi::lua_pushstring(
                        state,
                        c"attempt to yield across metamethod/C-call boundary".as_ptr(),
                    );
                    ffi::lua_pushinteger(state, 2);
                    push_error_position(co, state);
                }
                _ => {
                    ffi::lua_xmove(co, state, 1);
                    ffi::lua_pushinteger(state, 2);
                    push_error_position(co, state);
                }
            }
        })
    }
}

/// Pushes a new Lua array of byte strings.
///
/// # Safety
/// `state` must have room for two more values, inside a protected call.
unsafe fn push_array(state: *mut ffi::lua_State, items: &[&[u8]]) {
    // SAFETY: the caller's guarantees; each string is copied by Lua.
    unsafe {
        ffi::lua_createtable(state, items.len() as c_int, 0);
        for (i, item) in items.iter().enumerate() {
            ffi::lua_pushlstring(state, item.as_ptr().cast(), item.len());
            ffi::lua_rawseti(state, -2, i as ffi::lua_Integer + 1);
        }
    }
}

/// Wraps `f`, a function answering its results then a flag (false/0: return them; true/1:
/// raise the last result; 2: raise it after the caller's position, as `luaL_error` does), in a
/// C function. Redis raises error tables from its C functions; a Rust callback cannot raise a
/// table through mlua, and a Lua wrapper would be a tail-call target that hides the caller's
/// line from the error. A C function is neither.
pub(super) fn raising(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: exec_raw leaves `f` on the stack; lua_pushcclosure pops it as the upvalue of a
    // new C closure, which is the one value left for exec_raw to return.
    unsafe {
        lua.exec_raw(f, |state| {
            ffi::lua_pushcclosure(state, raise_if_asked, 1);
        })
    }
}

unsafe extern "C-unwind" fn raise_if_asked(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function with its arguments on the stack; calls the upvalue
    // (a Lua-callable function) with them, keeping every result; the last one is the flag
    // (false or 0: return the others; true or 1: raise the value under it; 2: raise it with
    // the caller's position). Errors inside the call propagate as Lua errors through this
    // frame, which owns nothing.
    unsafe {
        let argc = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, argc, ffi::LUA_MULTRET);
        let n = ffi::lua_gettop(l);
        let flag = if ffi::lua_type(l, n) == ffi::LUA_TNUMBER {
            ffi::lua_tointeger(l, n)
        } else {
            ffi::lua_toboolean(l, n) as ffi::lua_Integer
        };
        ffi::lua_pop(l, 1);
        if flag == 0 {
            return n - 1;
        }
        if flag == 2 {
            ffi::luaL_where(l, 1);
            ffi::lua_insert(l, -2);
            ffi::lua_concat(l, 2);
        }
        ffi::lua_error(l)
    }
}

/// `lua_gc(LUA_GCSTEP, kbytes)`: one step of the incremental collector, sized as Redis asks.
pub(super) fn gc_step(lua: &Lua, kbytes: c_int) {
    // SAFETY: exec_raw runs the closure on mlua's stack inside a protected call; lua_gc only
    // collects (Lua 5.1's sandbox has no finalizer that could run Lua code here).
    let done: mlua::Result<()> = unsafe {
        lua.exec_raw((), |state| {
            ffi::lua_gc(state, ffi::LUA_GCSTEP, kbytes);
        })
    };
    // A collector step can only fail for memory, which the next allocation reports anyway.
    drop(done);
}

/// Installs Redis' `pcall` in `raw` and `coroutine.running` in `co`, for the sandbox prelude.
/// Everything else of `xpcall`, `error`, `coroutine` and `table.sort` is Lua's own: the
/// hook leaves a script from anywhere by switching stacks (`stack`), so nothing needs them
/// rebuilt.
pub(super) fn add_pcall_and_running(lua: &Lua, raw: &Table, co: &Table) -> mlua::Result<()> {
    // SAFETY: both follow the C function protocol (see each).
    let (pcall, running) = unsafe {
        (
            lua.create_c_function(pcall_keeping_messages)?,
            lua.create_c_function(running)?,
        )
    };
    raw.set("pcall", pcall)?;
    co.set("running", running)
}

/// `coroutine.running()`: Lua's, except that the run's own coroutine answers nil, as Redis'
/// main thread does (a script runs on a coroutine here, on the main thread there).
unsafe extern "C-unwind" fn running(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol; one value pushed (LUA_MINSTACK slots are free).
    unsafe {
        if run_co() == Some(l) {
            ffi::lua_pushnil(l);
        } else {
            ffi::lua_pushthread(l);
        }
        1
    }
}

/// Redis' `pcall` (luaRedisPcall): Lua's, except that an error table is handed back as its
/// `err` message, as scripts written for Redis 6 expect.
///
/// # Safety
/// Called as a C function, with its arguments.
unsafe extern "C-unwind" fn pcall_keeping_messages(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: the C function protocol: arguments on the stack, results returned by count. The
    // stack has LUA_MINSTACK free slots on entry; at most two more values are pushed here.
    unsafe {
        let argc = ffi::lua_gettop(l);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_insert(l, 1);
        if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
            ffi::lua_remove(l, 1);
            if ffi::lua_istable(l, -1) != 0 {
                ffi::lua_getfield(l, -1, c"err".as_ptr());
                if ffi::lua_isstring(l, -1) != 0 {
                    ffi::lua_replace(l, -2);
                }
            }
            ffi::lua_pushboolean(l, 0);
            ffi::lua_insert(l, 1);
        }
        ffi::lua_gettop(l)
    }
}

/// `next`, `pairs` and `ipairs` that see through the sandbox's read-only views to the tables
/// behind them (a view is an empty table: Lua's own would iterate nothing), stored in `raw`.
/// C functions as Lua's, so their argument errors read as Lua's.
pub(super) fn add_iterators(lua: &Lua, raw: &Table) -> mlua::Result<()> {
    // SAFETY: the three C functions follow the C function protocol (see each); exec_raw
    // leaves the pushed function on its stack and lua_pushcclosure pops it as the upvalue of
    // the closure it leaves for exec_raw to return.
    unsafe {
        let next = lua.create_c_function(next_through_views)?;
        raw.set("next", next.clone())?;
        let pairs: Function = lua.exec_raw(next, |state| {
            ffi::lua_pushcclosure(state, pairs_through_views, 1);
        })?;
        raw.set("pairs", pairs)?;
        let aux = lua.create_c_function(ipairs_step)?;
        let ipairs: Function = lua.exec_raw(aux, |state| {
            ffi::lua_pushcclosure(state, ipairs_through_views, 1);
        })?;
        raw.set("ipairs", ipairs)
    }
}

/// Replaces the table at stack index 1, when it is a read-only view, by the table the view
/// reads through to.
///
/// # Safety
/// Inside a C function called by Lua, index 1 holding a table, with 3 free slots.
unsafe fn see_through(l: *mut ffi::lua_State) {
    // SAFETY: the caller's guarantees; only raw reads of the registry and of the view's
    // metatable (a plain table of the engine's), and the stack is left as found but index 1.
    unsafe {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, c"slotd.readonly".as_ptr());
        ffi::lua_pushvalue(l, 1);
        ffi::lua_rawget(l, -2);
        let is_view = ffi::lua_toboolean(l, -1) != 0;
        ffi::lua_pop(l, 2);
        if is_view && ffi::lua_getmetatable(l, 1) != 0 {
            ffi::lua_pushstring(l, c"__index".as_ptr());
            ffi::lua_rawget(l, -2);
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                ffi::lua_replace(l, 1);
                ffi::lua_pop(l, 1);
            } else {
                ffi::lua_pop(l, 2);
            }
        }
    }
}

unsafe extern "C-unwind" fn next_through_views(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua's luaB_next with `see_through` first: arguments on the stack, a table checked
    // at 1 (luaL_checktype raises otherwise), the key at 2.
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        ffi::lua_settop(l, 2);
        see_through(l);
        if ffi::lua_next(l, 1) != 0 {
            2
        } else {
            ffi::lua_pushnil(l);
            1
        }
    }
}

unsafe extern "C-unwind" fn pairs_through_views(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua's luaB_pairs: returns the `next` upvalue, the table and nil.
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_pushvalue(l, 1);
        ffi::lua_pushnil(l);
        3
    }
}

unsafe extern "C-unwind" fn ipairs_through_views(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua's luaB_ipairs: returns the step upvalue, the table and 0.
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_pushvalue(l, 1);
        ffi::lua_pushinteger(l, 0);
        3
    }
}

unsafe extern "C-unwind" fn ipairs_step(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua's ipairsaux with `see_through`: the table at 1 (checked), the index at 2.
    unsafe {
        let i = ffi::luaL_checkinteger(l, 2) + 1;
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        see_through(l);
        ffi::lua_pushinteger(l, i);
        ffi::lua_rawgeti(l, 1, i);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            0
        } else {
            2
        }
    }
}

/// Pushes the source and current line of the user frame that raised the error on dead `co`
/// (nothing when none is found). Redis' handler takes the function that raised, or its caller
/// when that is a C function; here the engine's own Lua helpers are skipped as well.
///
/// # Safety
/// `co` must be a coroutine that just died with an error (its call stack intact) and `state`
/// a stack with room for two more values.
unsafe fn push_error_position(co: *mut ffi::lua_State, state: *mut ffi::lua_State) {
    let mut level = 0;
    loop {
        // SAFETY: lua_Debug is plain C data (zero is a valid "empty" record); lua_getstack and
        // lua_getinfo fill it for a frame of `co` (the caller guarantees its stack is intact),
        // and `what`/`source` then point to NUL-terminated strings owned by Lua that live as
        // long as the function does. `state` has room for the two values (caller).
        unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(co, level, &mut ar) == 0 {
                return;
            }
            if ffi::lua_getinfo(co, c"Sl".as_ptr(), &mut ar) == 0 {
                return;
            }
            let what = CStr::from_ptr(ar.what).to_bytes();
            let source = CStr::from_ptr(ar.source);
            let ours = source.to_bytes() == INTERNAL_SOURCE.as_bytes();
            if what != b"C" && what != b"tail" && !ours {
                ffi::lua_pushstring(state, source.as_ptr());
                ffi::lua_pushinteger(state, ar.currentline as ffi::lua_Integer);
                return;
            }
        }
        level += 1;
    }
}

/// The count hook: raises the kill error once `ctl.kill` is set (and from then on at every line,
/// so `pcall` cannot swallow it, as Redis does), marks the shard busy past the threshold, and
/// leaves the core there (`stack::leave`) when the run allows it.
unsafe extern "C-unwind" fn count_hook(l: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    let Some(mut ctx) = HOOK.with(|h| h.get()) else {
        return;
    };
    // SAFETY: Lua hands the hook a valid record for the running function; lua_getinfo("S")
    // fills its `source`, a NUL-terminated string Lua owns.
    let engine_line = unsafe {
        (*ar).event == ffi::LUA_HOOKLINE
            && ffi::lua_getinfo(l, c"S".as_ptr(), ar) != 0
            && CStr::from_ptr((*ar).source).to_bytes() == INTERNAL_SOURCE.as_bytes()
    };
    if engine_line {
        // A line of the engine's own Lua code (the sandbox's views): Redis' C functions have
        // no lines, so the kill error waits for the script's next line, as there.
        return;
    }
    let started = match ctx.started {
        Some(t) => t,
        None => {
            let now = Instant::now();
            ctx.started = Some(now);
            HOOK.with(|h| h.set(Some(ctx)));
            now
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if ctx.load {
        if elapsed_ms > ctx.busy_threshold_ms {
            // SAFETY: Lua calls the hook on the running coroutine `l`; nothing in this frame
            // owns resources.
            unsafe { raise_from_hook(l, c"ERR FUNCTION LOAD timeout") };
        }
        return;
    }
    // SAFETY: outside a load HOOK holds the RunControl of the run in progress, which outlives
    // the RunScope that stored it.
    let ctl = unsafe { &*ctx.ctl };
    if ctl.kill.load(Ordering::Relaxed) {
        crate::log::warning("Lua script killed by user with SCRIPT KILL.");
        // SAFETY: as above; the log line is written and dropped before the raise.
        unsafe { raise_from_hook(l, c"ERR Script killed by user with SCRIPT KILL...") };
    }
    // A threshold of 0 means none, as Redis' busy-reply-threshold 0.
    if ctx.busy_threshold_ms > 0 && elapsed_ms >= ctx.busy_threshold_ms {
        ctl.busy.store(true, Ordering::Relaxed);
        // Off the core until the runner continues the run (whatever Lua is doing: the whole
        // machine stack waits), as Redis serves its clients from inside this hook. Then the
        // kill flag is read again, as Redis reads it after serving them.
        if ctx.may_yield && stack::leave() {
            if let Some(ctx) = HOOK.with(|h| h.get()) {
                // SAFETY: the runner entered a new RunScope before continuing the run; its
                // RunControl outlives that scope.
                if !ctx.ctl.is_null() && unsafe { &*ctx.ctl }.kill.load(Ordering::Relaxed) {
                    crate::log::warning("Lua script killed by user with SCRIPT KILL.");
                    // SAFETY: as the raise above.
                    unsafe { raise_from_hook(l, c"ERR Script killed by user with SCRIPT KILL...") };
                }
            }
        }
    }
}

/// Raises `{err = text}` in `l` and switches the hook to every line, so a `pcall` that catches
/// the error cannot keep the script going (Redis does the same).
///
/// # Safety
/// `l` must be the running coroutine, inside its hook, with no Rust value owning resources
/// alive in the calling frames (the error unwinds them with a longjmp).
unsafe fn raise_from_hook(l: *mut ffi::lua_State, text: &CStr) -> ! {
    // SAFETY: a hook may use the stack of `l` (Lua reserved LUA_MINSTACK slots for it) and
    // raise an error; the caller guarantees no Rust destructor is skipped by the longjmp.
    unsafe {
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKLINE, 0);
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushstring(l, text.as_ptr());
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        ffi::lua_error(l)
    }
}

/// `redis.call` (`raise`) or `redis.pcall` as a C function: a call whose arguments are all
/// strings goes straight to the run's host and its reply straight onto the Lua stack (no
/// Rust callback, no value handles). Anything else (no run, numbers or other types as
/// arguments, more than `CALL_ARGV_INLINE` of them) calls `slow`, the general `redis.call` /
/// `redis.pcall`; replies other than a status, an error, an integer, a bulk string, a null or a
/// boolean are converted by `convert` (a reply string in, the Lua value out).
pub(super) fn fast_call(
    lua: &Lua,
    slow: Function,
    convert: Function,
    raise: bool,
) -> mlua::Result<Function> {
    let f: ffi::lua_CFunction = if raise {
        fast_redis_call
    } else {
        fast_redis_pcall
    };
    // SAFETY: exec_raw leaves `slow` and `convert` on the stack; lua_pushcclosure pops them as
    // the upvalues of a new C closure, the one value left for exec_raw to return.
    unsafe {
        lua.exec_raw((slow, convert), |state| {
            ffi::lua_pushcclosure(state, f, 2);
        })
    }
}

/// Arguments of a fast `redis.call` held on the stack.
const CALL_ARGV_INLINE: usize = 16;

thread_local! {
    /// The reply of the fast `redis.call` in progress (reused).
    static FAST_REPLY: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// What the Rust part of a fast call left to do.
enum Fast {
    /// Not for the fast path: nothing was done, call the general function.
    Slow,
    /// The reply (`len` bytes at `ptr`, in FAST_REPLY) is ready to push.
    Reply(*const u8, usize),
    /// The host refused the call: the refusal text (in FAST_REPLY).
    Refused(*const u8, usize),
}

unsafe extern "C-unwind" fn fast_redis_call(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function (see `fast_call_body`).
    unsafe { fast_call_body(l, true) }
}

unsafe extern "C-unwind" fn fast_redis_pcall(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function (see `fast_call_body`).
    unsafe { fast_call_body(l, false) }
}

/// # Safety
/// Called by Lua as a C function with upvalues `slow` and `convert` (`fast_call`).
unsafe fn fast_call_body(l: *mut ffi::lua_State, raise: bool) -> c_int {
    // SAFETY: the C function protocol. `fast_host_call` owns every Rust value it makes and
    // returns before any Lua call that may raise; from here on only plain pointers into
    // FAST_REPLY (a thread-local buffer nothing else touches until the next fast call) are
    // live, so a Lua error's longjmp skips no destructor. The stack has LUA_MINSTACK free
    // slots on entry; at most four values are pushed at a time.
    unsafe {
        let argc = ffi::lua_gettop(l);
        let bytes = |p: *const u8, n: usize| std::slice::from_raw_parts(p, n);
        match fast_host_call(l, argc) {
            Fast::Slow => {
                ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
                ffi::lua_insert(l, 1);
                ffi::lua_call(l, argc, ffi::LUA_MULTRET);
                ffi::lua_gettop(l)
            }
            Fast::Refused(p, n) => {
                push_error_table(l, bytes(p, n));
                if raise {
                    ffi::lua_error(l);
                }
                1
            }
            Fast::Reply(p, n) => {
                use super::convert::Simple;
                let reply = bytes(p, n);
                match super::convert::simple_reply(reply) {
                    Simple::Status(s) => {
                        ffi::lua_createtable(l, 0, 0);
                        ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                        ffi::lua_setfield(l, -2, c"ok".as_ptr());
                    }
                    Simple::Error(text) => {
                        push_error_table(l, text);
                        if raise {
                            ffi::lua_error(l);
                        }
                    }
                    Simple::Number(x) => {
                        ffi::lua_pushnumber(l, x);
                    }
                    Simple::Bulk(s) => {
                        ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                    }
                    Simple::Nil => {
                        ffi::lua_pushnil(l);
                    }
                    Simple::Bool(b) => {
                        ffi::lua_pushboolean(l, b as c_int);
                    }
                    Simple::Other => {
                        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
                        ffi::lua_pushlstring(l, p.cast(), n);
                        ffi::lua_call(l, 1, 1);
                    }
                }
                1
            }
        }
    }
}

/// Pushes Redis' error table for `text` ("-CODE message" or a bare message), marked as
/// counted by the command already (`ignore_error_stats_update`), as the general path makes it.
///
/// # Safety
/// Inside a C function with three free stack slots.
unsafe fn push_error_table(l: *mut ffi::lua_State, text: &[u8]) {
    let (code, msg) = super::convert::error_parts(text);
    // SAFETY: the caller's guarantees; Lua copies each string; lua_concat joins the three.
    unsafe {
        ffi::lua_createtable(l, 0, 0);
        ffi::lua_pushlstring(l, code.as_ptr().cast(), code.len());
        ffi::lua_pushlstring(l, c" ".as_ptr(), 1);
        ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
        ffi::lua_concat(l, 3);
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
    }
}

/// The Rust part of a fast call: checks the call fits the fast path, runs it on the host and
/// leaves its reply (or refusal) in FAST_REPLY. Calls no Lua function that may raise.
///
/// # Safety
/// `l` is inside a C function whose `argc` arguments are on its stack.
unsafe fn fast_host_call(l: *mut ffi::lua_State, argc: c_int) -> Fast {
    if argc < 1 || argc as usize > CALL_ARGV_INLINE || !in_run() {
        return Fast::Slow;
    }
    let mut argv: [&[u8]; CALL_ARGV_INLINE] = [&[]; CALL_ARGV_INLINE];
    for (i, slot) in argv.iter_mut().take(argc as usize).enumerate() {
        let idx = i as c_int + 1;
        // SAFETY: `idx` is an argument on the stack; lua_tolstring on a string (checked) only
        // reads it, and the bytes stay alive while the string is on the stack, which outlasts
        // this function (the host runs commands, never Lua).
        unsafe {
            if ffi::lua_type(l, idx) != ffi::LUA_TSTRING {
                return Fast::Slow;
            }
            let mut len = 0;
            let p = ffi::lua_tolstring(l, idx, &mut len);
            *slot = std::slice::from_raw_parts(p.cast(), len);
        }
    }
    let vars = vars();
    let proto = if vars.resp3 {
        crate::resp::Proto::Resp3
    } else {
        crate::resp::Proto::Resp2
    };
    let mut reply = FAST_REPLY.with(|r| r.take());
    reply.clear();
    let argv = &argv[..argc as usize];
    let outcome = with_host(|host| host.call(argv, proto, vars.repl, &mut reply));
    let fast = match outcome {
        // No host (a call already in progress): the general path answers.
        None => Fast::Slow,
        Some(Ok(())) => Fast::Reply(reply.as_ptr(), reply.len()),
        Some(Err(refused)) => {
            reply.clear();
            reply.extend_from_slice(refused.0.as_bytes());
            Fast::Refused(reply.as_ptr(), reply.len())
        }
    };
    // The pointers stay valid: moving the Vec does not move its bytes.
    FAST_REPLY.with(|r| r.set(reply));
    fast
}
