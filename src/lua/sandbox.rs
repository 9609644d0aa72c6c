//! Builds one sandboxed Lua state as Redis 7.0 sets them up: the EVAL state, or the FUNCTION
//! state (whose globals fall back to the library API while a library loads, and to the real
//! globals when its functions run).
//!
//! Redis patches its Lua with a read-only flag on tables; stock Lua 5.1 has none, so the same
//! refusals come from views: scripts see an empty table whose metatable reads through to the
//! real globals (or library) and refuses every write ("Attempt to modify a readonly table"),
//! while reading an undefined global raises Redis' "Script attempted to access nonexistent
//! global variable". `rawset` and `setmetatable` (`builtins`) refuse the views too; `next`, `pairs` and `ipairs`
//! see through them. `#string` is 0 (a view is empty): a known difference.

use super::coro::INTERNAL_SOURCE;
use super::redis_table::{self, Flavor};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Thread};

/// One Lua state with its sandbox.
pub(super) struct State {
    pub lua: Lua,
    /// The real globals table (KEYS and ARGV are written here; scripts only see it through the
    /// read-only view).
    pub globals: Table,
    /// Switches the globals' fallback: true while a library's top-level code runs.
    pub phase: Function,
    /// A finished coroutine kept for the next run (creating one per run costs an allocation).
    pub co: Option<Thread>,
    /// The last run ended with an error a command already counted (see `LuaVm::error_counted`).
    pub counted: bool,
}

impl State {
    /// The coroutine for a new run: the cached one, or a new one.
    pub fn take_co(&mut self) -> mlua::Result<Thread> {
        match self.co.take() {
            Some(co) => Ok(co),
            None => {
                let noop = self
                    .lua
                    .load("")
                    .set_name(INTERNAL_SOURCE)
                    .into_function()?;
                self.lua.create_thread(noop)
            }
        }
    }
}

const PRELUDE: &str = r#"
local G, raw, redis, flavor, load_redis, co = ...
local error, type, tostring, tonumber, select, pairs, ipairs =
  error, type, tostring, tonumber, select, pairs, ipairs
local setmetatable, getmetatable, rawset, pcall = setmetatable, getmetatable, rawset, pcall

local readonly = setmetatable({}, {__mode = 'k'})
local function deny() error('Attempt to modify a readonly table', 2) end
local sealed = setmetatable({}, {__newindex = deny, __metatable = false})
readonly[sealed] = true
local function missing(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local function view(t)
  local v = setmetatable({}, {__index = t, __newindex = deny, __metatable = sealed})
  readonly[v] = true
  return v
end

math.random = raw.random
math.randomseed = raw.randomseed

G.pcall = raw.pcall
for name, f in pairs(co) do G.coroutine[name] = f end
G.next = raw.next
G.pairs = raw.pairs
G.ipairs = raw.ipairs
G.rawset = raw.rawset
G.setmetatable = raw.setmetatable
G.loadstring = raw.loadstring
G.load = raw.load
for _, name in ipairs({'print', 'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy',
                       'module', 'require', 'package', 'debug', 'io', 'os'}) do
  G[name] = nil
end
G.redis = redis
if flavor == 'eval' then
  G.__redis__err__handler = function(err)
    if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
    return err
  end
end
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct',
                       'cmsgpack', 'redis'}) do
  if G[name] ~= nil then G[name] = view(G[name]) end
end
-- Strings' methods go through the read-only `string`, and their metatable is read-only too.
local smt = getmetatable('')
smt.__index = G.string
smt.__metatable = view(smt)

local gmt = {__index = G, __newindex = deny, __metatable = sealed}
local P = setmetatable({}, gmt)
readonly[P] = true
G._G = P
setmetatable(G, {__index = missing})

local load_env = G
if flavor == 'function' then
  setmetatable(load_redis, {__index = missing})
  load_env = setmetatable({redis = view(load_redis)}, {__index = missing})
end
local function phase(loading)
  if loading then gmt.__index = load_env else gmt.__index = G end
end
return P, phase, readonly
"#;

/// A new sandboxed state of the given flavor, libraries opened.
pub(super) fn new_state(flavor: Flavor) -> mlua::Result<State> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::new(),
    )?;
    super::libs::open_all(&lua)?;
    let globals = lua.globals();
    let redis = redis_table::build(&lua, flavor)?;
    let raw = lua.create_table()?;
    redis_table::add_rand(&lua, &raw)?;
    let co = lua.create_table()?;
    super::coro::add_pcall_and_running(&lua, &raw, &co)?;
    super::builtins::add(&lua, &raw)?;
    super::coro::add_iterators(&lua, &raw)?;
    let load_redis = lua.create_table()?;
    if flavor == Flavor::Function {
        super::functions_load::add_register(&lua, &load_redis)?;
        redis_table::add_log(&lua, &load_redis)?;
        redis_table::add_version(&load_redis)?;
    }
    let name = match flavor {
        Flavor::Eval => "eval",
        Flavor::Function => "function",
    };
    let (view, phase, readonly): (Table, Function, Table) = lua
        .load(PRELUDE)
        .set_name(INTERNAL_SOURCE)
        .call((globals.clone(), raw, redis, name, load_redis, co))?;
    lua.set_named_registry_value(super::builtins::READONLY_KEY, readonly)?;
    lua.set_globals(view)?;
    Ok(State {
        lua,
        globals,
        phase,
        co: None,
        counted: false,
    })
}
