//! A script that leaves its core past busy-reply-threshold from inside `pcall`, `xpcall` or a
//! coroutine of its own (issue 14): first the rebuilt `pcall`, `xpcall` and `coroutine`
//! functions side by side with redis-server 7.0 (RESP2 and RESP3, byte for byte: results,
//! error objects and positions, handlers, nesting and depth limits, the script's own yields),
//! then, on a one-shard node, scripts and functions looping inside them: another client gets
//! -BUSY, SCRIPT KILL / FUNCTION KILL end them with Redis' text, SHUTDOWN NOSAVE stops the node.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::script_busy::{call, reply, side_by_side, until_busy};
use crate::scripting_engine::{both, same_evals};

const PCALL: &[(&str, &[&str])] = &[
    // Protected calls one after another (their coroutines are reused): results, errors and
    // refused yields interleaved, nested.
    (
        "local r = {} for i = 1, 40 do local ok, e = pcall(function(x) \
         if x % 3 == 0 then error('e' .. x, 0) end if x % 5 == 0 then coroutine.yield() end \
         return pcall(function() return x * 2 end) end, i) \
         r[#r + 1] = tostring(ok) .. ':' .. tostring(e) end return table.concat(r, ',')",
        &[],
    ),
    (
        "local t = {} for i = 1, 300 do t[i] = i end \
         return {pcall(function(...) return select('#', ...), select(300, ...) end, unpack(t))}",
        &[],
    ),
    (
        "local t = {} for i = 1, 300 do t[i] = i end \
         local co = coroutine.create(function(...) return select('#', ...) end) \
         return {coroutine.resume(co, unpack(t))}",
        &[],
    ),
    ("return {pcall(function() return 1, 2, 3 end)}", &[]),
    ("return select('#', pcall(function() end))", &[]),
    (
        "return select('#', pcall(function() return nil, nil end))",
        &[],
    ),
    ("return {pcall(function(a, b) return a + b end, 2, 3)}", &[]),
    (
        "return {pcall(function(...) return select('#', ...) end, nil, nil)}",
        &[],
    ),
    ("return {pcall(function() error('boom') end)}", &[]),
    ("return {pcall(function() error('boom', 0) end)}", &[]),
    ("return {pcall(function() error('boom', 2) end)}", &[]),
    ("return {pcall(function()\n\n error('line 3')\n end)}", &[]),
    ("return {pcall(function() error({err='tbl'}) end)}", &[]),
    ("return {pcall(function() error({err=42}) end)}", &[]),
    (
        "local ok, e = pcall(function() error({code=1}) end) return {type(e), e.code}",
        &[],
    ),
    (
        "local ok, e = pcall(function() error() end) return {tostring(ok), tostring(e)}",
        &[],
    ),
    (
        "local ok, e = pcall(function() error(nil) end) return {tostring(ok), tostring(e)}",
        &[],
    ),
    (
        "local ok, e = pcall(function() error(7) end) return {tostring(ok), e}",
        &[],
    ),
    (
        "return {pcall(function() local x = nil return x.y end)}",
        &[],
    ),
    (
        "return {pcall(function() return redis.call('nosuch') end)}",
        &[],
    ),
    (
        "return {pcall(function() return redis.call('incr', KEYS[1]) end)}",
        &["str"],
    ),
    (
        "return {pcall(function() return redis.call('get', KEYS[1]) end)}",
        &["str"],
    ),
    (
        "return {pcall(function() return redis.pcall('nosuch') end)}",
        &[],
    ),
    ("return {pcall(redis.call, 'incr', KEYS[1])}", &["str"]),
    ("return {pcall(error, 'x')}", &[]),
    (
        "local ok, e = pcall(error) return {tostring(ok), tostring(e)}",
        &[],
    ),
    ("return {pcall(nil)}", &[]),
    ("return {pcall(42)}", &[]),
    ("return {pcall(pcall)}", &[]),
    ("return {pcall()}", &[]),
    ("return {pcall(pcall, error, 'e')}", &[]),
    ("return {pcall(string.rep)}", &[]),
    (
        "return {pcall(function() return pcall(function() error('in') end) end)}",
        &[],
    ),
    (
        "local n = 0 local function f() n = n + 1 return pcall(f) end f() return n",
        &[],
    ),
    (
        "local function f(d) local ok, e = pcall(f, d + 1) if not ok then return {d, e} end \
         return e end return f(1)",
        &[],
    ),
    (
        "local function f() return 1 + f() end local ok, e = pcall(f) return {tostring(ok), e}",
        &[],
    ),
    (
        "return select('#', pcall(function() return unpack({}, 1, 5000) end))",
        &[],
    ),
    (
        "local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}) \
         return {pcall(function() return t.x end)}",
        &[],
    ),
    ("pcall(function() end) error('top')", &[]),
    ("return {pcall(function() xpcall = 1 end)}", &[]),
    // error's level counted on the stack Lua 5.1 has (pcall and sort are one C frame there).
    (
        "local function f() error('x', 3) end return {pcall(f)}",
        &[],
    ),
    (
        "local function f() error('x', 4) end return {pcall(f)}",
        &[],
    ),
    (
        "local function chk(x) if not x then error('bad', 3) end end \
         local function api(x) chk(x) end return {pcall(api)}",
        &[],
    ),
    (
        "local function chk(x) if not x then error('bad', 4) end end \
         local function api(x) chk(x) end return {pcall(api)}",
        &[],
    ),
    ("return {pcall(pcall, function() error('y', 4) end)}", &[]),
    ("return {pcall(function() error('lvl2', 2) end)}", &[]),
    ("return {pcall(function() error('lvl0', 0) end)}", &[]),
    ("return {pcall(function() error('lvl9', 9) end)}", &[]),
    ("error('top', 2)", &[]),
    ("error('top', 1)", &[]),
    ("error('x', 'y')", &[]),
    ("local function f() error('deep', 2) end f()", &[]),
    (
        "local co = coroutine.wrap(function() error('w', 2) end) return {pcall(co)}",
        &[],
    ),
    (
        "local co = coroutine.wrap(function() error('w', 3) end) return {pcall(co)}",
        &[],
    ),
    ("pcall = nil", &[]),
    (
        "return type(pcall) .. type(xpcall) .. type(coroutine.wrap)",
        &[],
    ),
];

const XPCALL: &[(&str, &[&str])] = &[
    (
        "return {xpcall(function() return 1, 2 end, function(e) return e end)}",
        &[],
    ),
    (
        "return {xpcall(function() error('x') end, function(e) return 'h:' .. e end)}",
        &[],
    ),
    (
        "return {xpcall(function() error({err='t'}) end, function(e) return e.err end)}",
        &[],
    ),
    (
        "return {xpcall(function() return redis.call('nosuch') end, \
         function(e) return type(e) .. ':' .. e.err end)}",
        &[],
    ),
    (
        "return {xpcall(function() local t = nil return t.x end, function(e) return e end)}",
        &[],
    ),
    (
        "return {xpcall(function() error('x') end, function(e) error('again') end)}",
        &[],
    ),
    ("return {xpcall(function() error('x') end, 42)}", &[]),
    ("return {xpcall(function() return 'ok' end)}", &[]),
    (
        "return {xpcall(error, function(e) return 'h' .. tostring(e) end)}",
        &[],
    ),
    ("return {xpcall(nil, function(e) return e end)}", &[]),
    (
        "return {xpcall(function(...) return select('#', ...) end, function(e) return e end)}",
        &[],
    ),
];

const COROUTINES: &[(&str, &[&str])] = &[
    (
        "local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b) \
         return c * 2 end) local r1 = {coroutine.resume(co, 1, 2)} \
         local r2 = {coroutine.resume(co, 10)} local r3 = {coroutine.resume(co)} \
         return {r1[2], r2[2], tostring(r3[1]), r3[2], coroutine.status(co)}",
        &[],
    ),
    (
        "local f = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) \
         return {f(), f(), f()}",
        &[],
    ),
    (
        "local f = coroutine.wrap(function() error('boom') end) return {pcall(f)}",
        &[],
    ),
    (
        "local f = coroutine.wrap(function() error('boom') end) f()",
        &[],
    ),
    (
        "local f = coroutine.wrap(function() error({err='tb'}) end) f()",
        &[],
    ),
    (
        "local f = coroutine.wrap(function() end) f() return {pcall(f)}",
        &[],
    ),
    ("local f = coroutine.wrap(function() end) f() f()", &[]),
    (
        "local co = coroutine.create(function() end) coroutine.resume(co) \
         return {coroutine.resume(co)}",
        &[],
    ),
    // Not as tail calls (`return coroutine.resume(42)`): see docs/scripting.md.
    ("local r = coroutine.resume(42) return r", &[]),
    ("local r = coroutine.wrap(42) return r", &[]),
    ("local r = coroutine.wrap(error) return r", &[]),
    (
        "local r = coroutine.resume(coroutine.running()) return r",
        &[],
    ),
    ("return tostring(coroutine.running())", &[]),
    (
        "local co = coroutine.create(function() return coroutine.running() end) \
         local ok, r = coroutine.resume(co) return tostring(r == co)",
        &[],
    ),
    (
        "local co co = coroutine.create(function() local ok, s = pcall(function() \
         return coroutine.status(co) end) return s end) return {coroutine.resume(co)}",
        &[],
    ),
    (
        "local co co = coroutine.create(function() return pcall(function() \
         return coroutine.resume(co) end) end) return {coroutine.resume(co)}",
        &[],
    ),
    (
        "local co = coroutine.create(function() return pcall(function() \
         return tostring(coroutine.running()) end) end) local ok, a, b = coroutine.resume(co) \
         return {tostring(ok), tostring(a), tostring(b == tostring(co))}",
        &[],
    ),
    (
        "local co1, co2 co1 = coroutine.create(function() return coroutine.resume(co2) end) \
         co2 = coroutine.create(function() return coroutine.status(co1) end) \
         return {coroutine.resume(co1)}",
        &[],
    ),
    (
        "local co = coroutine.create(function() return pcall(coroutine.yield, 1) end) \
         return {coroutine.resume(co)}",
        &[],
    ),
    (
        "local co = coroutine.create(function() return pcall(function() \
         coroutine.yield(1) end) end) return {coroutine.resume(co)}",
        &[],
    ),
    ("return {pcall(coroutine.yield, 1)}", &[]),
    ("return {pcall(function() coroutine.yield(1) end)}", &[]),
    ("coroutine.yield(1)", &[]),
    (
        "return coroutine.status(coroutine.create(function() end))",
        &[],
    ),
    (
        "local n = 0 local function f() n = n + 1 \
         local ok, e = coroutine.resume(coroutine.create(f)) return e end \
         local e = f() return {n, e}",
        &[],
    ),
    (
        "local co = coroutine.create(function() error({err='x'}) end) \
         local ok, e = coroutine.resume(co) return {tostring(ok), type(e), e.err}",
        &[],
    ),
    (
        "return {pcall(coroutine.wrap(function(a) return a, 1 end), 5)}",
        &[],
    ),
    ("coroutine.resume = nil", &[]),
    ("return {pcall(coroutine.create, pcall)}", &[]),
    ("return {pcall(coroutine.create, table.sort)}", &[]),
    ("return {pcall(coroutine.wrap, coroutine.resume)}", &[]),
    ("local r = coroutine.create(pcall) return r", &[]),
    ("local r = coroutine.create() return r", &[]),
    (
        "return type(coroutine.create(function() end)) .. coroutine.status(\
         coroutine.create(function() end))",
        &[],
    ),
    (
        "local co = coroutine.wrap(function() table.sort({3, 1, 2}, function(a, b) \
         coroutine.yield('y') return a < b end) return 'done' end) return {pcall(co)}",
        &[],
    ),
    (
        "local co = coroutine.wrap(function() table.sort({3, 1, 2}, function(a, b) \
         local f = coroutine.wrap(function() coroutine.yield(a < b) end) return f() end) \
         return 'done' end) return co()",
        &[],
    ),
];

/// A linear congruential generator every sort script starts with (the same numbers on both
/// servers, whatever their math.random does).
const LCG: &str = "local seed = 12345 local function rnd(n) seed = (seed * 1103515245 + 12345) \
                   % 2147483648 return seed % n + 1 end ";

const SORTS: &[&str] = &[
    // Random arrays with duplicates, every length up to 60 and a few long ones, with the default
    // order, a reversed comparator and a comparator logging every comparison it is asked.
    "local out = {} for n = 0, 60 do local t = {} for i = 1, n do t[i] = rnd(n + 1) end \
     table.sort(t) out[#out + 1] = table.concat(t, ',') end return out",
    "local out = {} for _, n in ipairs({100, 257, 1000}) do local t = {} \
     for i = 1, n do t[i] = rnd(50) end table.sort(t) out[#out + 1] = table.concat(t, ',') end \
     return redis.sha1hex(table.concat(out, ';'))",
    "local out = {} for n = 0, 40 do local t = {} for i = 1, n do t[i] = rnd(10) end \
     table.sort(t, function(a, b) return a > b end) out[#out + 1] = table.concat(t, ',') end \
     return out",
    "local out = {} for n = 2, 40 do local t, log = {}, {} for i = 1, n do t[i] = rnd(n) end \
     table.sort(t, function(a, b) log[#log + 1] = a .. '<' .. b return a < b end) \
     out[#out + 1] = table.concat(t, ',') .. '|' .. table.concat(log, ' ') end return out",
    "local t, log = {}, {} for i = 1, 500 do t[i] = rnd(1000) end \
     table.sort(t, function(a, b) log[#log + 1] = a .. '<' .. b return a < b end) \
     return {#log, redis.sha1hex(table.concat(log, ' ')), redis.sha1hex(table.concat(t, ','))}",
    "local t = {} for i = 1, 30 do t[i] = tostring(rnd(100)) end table.sort(t) \
     return table.concat(t, ',')",
    "local t = {} for i = 1, 30 do t[i] = {k = rnd(5), id = i} end \
     table.sort(t, function(a, b) return a.k < b.k end) local o = {} \
     for i = 1, 30 do o[i] = t[i].k .. '/' .. t[i].id end return table.concat(o, ',')",
    // A table with a metatable goes through rawget/rawset, as Lua's sort does.
    "local t = setmetatable({3, 1, 2, 5}, {__index = function() return 0 end, \
     __newindex = function() error('no') end}) table.sort(t, function(a, b) return a > b end) \
     return {t[1], t[2], t[3], t[4], t[9]}",
    "local out = {} for n = 0, 40 do local t = setmetatable({}, {}) \
     for i = 1, n do t[i] = rnd(n + 1) end \
     table.sort(t, function(a, b) return a < b end) out[#out + 1] = table.concat(t, ',') end \
     return out",
    // Inconsistent comparators: Lua's error, or its order, exactly.
    "local out = {} for n = 1, 30 do local t = {} for i = 1, n do t[i] = rnd(5) end \
     local ok, e = pcall(table.sort, t, function(a, b) return a <= b end) \
     out[#out + 1] = tostring(ok) .. ' ' .. tostring(e) .. ' ' .. table.concat(t, ',') end \
     return out",
    "local out = {} for n = 1, 30 do local t = {} for i = 1, n do t[i] = i end \
     local ok, e = pcall(table.sort, t, function(a, b) return rnd(2) == 1 end) \
     out[#out + 1] = tostring(ok) .. ' ' .. tostring(e) .. ' ' .. table.concat(t, ',') end \
     return out",
    "local t = {3, 1, 2, 5, 4} table.sort(t, function(a, b) return true end)",
    "local t = {3, 1, 2, 5, 4} local ok, e = pcall(function() \
     table.sort(t, function(a, b) return true end) end) return {tostring(ok), e}",
    "local t = {3, 1, 2} table.sort(t, function(a, b) return false end) \
     return table.concat(t, ',')",
    // Mixed types and argument errors.
    "table.sort({1, 'a', 2})",
    "return {pcall(table.sort, {1, 'a', 2})}",
    "return {pcall(table.sort, {{}, {}})}",
    "local t = {1, 2, 3} t[2] = nil table.sort(t) return t",
    "table.sort()",
    "table.sort(1)",
    "table.sort({}, 1)",
    "table.sort({}, false)",
    "return {pcall(table.sort)}",
    "table.sort({2, 1}, nil) return 1",
    // Errors inside the comparator, with their positions.
    "table.sort({3, 1, 2}, function(a, b)\n  return a.x < b\nend)",
    "table.sort({3, 1, 2}, function(a, b)\n  error('cmp')\nend)",
    "table.sort({3, 1, 2}, function(a, b)\n  return redis.call('nosuch')\nend)",
    "return {pcall(table.sort, {3, 1, 2}, function(a, b) error({err='t'}) end)}",
    "return {pcall(table.sort, {3, 1, 2}, function(a, b) error('cmp', 2) end)}",
    "return {pcall(function() table.sort({3, 1, 2}, function(a, b) error('cmp', 3) end) end)}",
    "local t = {} for i = 1, 100 do t[i] = rnd(100) end local n = 0 \
     local ok, e = pcall(table.sort, t, function(a, b) n = n + 1 if n == 300 then \
     error('late', 2) end return a < b end) return {tostring(ok), e}",
    "table.sort({3, 1, 2}, function(a, b)\n error('cmp3', 3)\n end)",
    // The comparator's own protected calls and coroutines.
    "local t = {5, 3, 9, 1} table.sort(t, function(a, b) local ok, r = pcall(function() \
     return a < b end) return r end) return t",
    "local t = {5, 3, 9, 1} table.sort(t, coroutine.wrap(function(a, b) \
     while true do a, b = coroutine.yield(a < b) end end)) return t",
];

/// Each sort script with the generator in front.
fn sort_cases() -> Vec<(String, &'static [&'static str])> {
    SORTS
        .iter()
        .map(|s| (format!("{LCG}{s}"), &[][..]))
        .collect()
}

fn compare(resp3: bool) {
    let Some(redis) = RedisServer::start("redis-yield") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "1"]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    both(&mut a, &mut b, &[b"SET", b"str", b"abc"]);
    if resp3 {
        both(&mut a, &mut b, &[b"HELLO", b"3"]);
    }
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    same_evals(&mut a, &mut b, PCALL, &format!("{proto} pcall"));
    same_evals(&mut a, &mut b, XPCALL, &format!("{proto} xpcall"));
    same_evals(&mut a, &mut b, COROUTINES, &format!("{proto} coroutines"));
    let sorts = sort_cases();
    let sorts: Vec<(&str, &[&str])> = sorts.iter().map(|(s, k)| (s.as_str(), *k)).collect();
    same_evals(&mut a, &mut b, &sorts, &format!("{proto} table.sort"));
}

#[test]
fn pcall_xpcall_and_coroutines_answer_as_redis_in_resp2() {
    compare(false);
}

#[test]
fn pcall_xpcall_and_coroutines_answer_as_redis_in_resp3() {
    compare(true);
}

/// Scripts that loop forever behind a boundary Lua 5.1 cannot yield across.
const LOOPS: &[&str] = &[
    "pcall(function() while true do end end)",
    "xpcall(function() while true do end end, function(e) return e end)",
    "coroutine.wrap(function() while true do end end)()",
    "local co = coroutine.create(function() pcall(function() while true do end end) end) \
     coroutine.resume(co) return 1",
    "while true do pcall(function() while true do end end) end",
    "table.sort({3, 1, 2}, function(a, b) while true do end end)",
    "local t = {3, 1, 2} local ok = pcall(table.sort, t, function(a, b) while true do end end) \
     return 1",
];

/// Each loop on a one-shard node: another client gets -BUSY, SCRIPT KILL ends the script and
/// its client gets Redis' kill error; the node serves again.
fn kill_loops(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut b = Raw::connect(port);
    t.push(call(&mut b, &["SET", "k", "v"]));
    for body in LOOPS {
        let mut a = Raw::connect(port);
        a.send(&cmd(&[b"EVAL", body.as_bytes(), b"0"]));
        t.push(until_busy(&mut b, &["GET", "k"]));
        t.push(call(&mut b, &["SCRIPT", "KILL"]));
        t.push(reply(&mut a));
        t.push(call(&mut a, &["GET", "k"]));
    }
    t
}

#[test]
fn script_kill_ends_loops_inside_pcall_and_coroutines_on_one_shard_as_redis() {
    side_by_side(kill_loops);
}

/// A script that wrote, then loops inside pcall: UNKILLABLE; SHUTDOWN NOSAVE stops the node.
fn shutdown_nosave_inside_pcall(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    a.send(&cmd(&[
        b"EVAL",
        b"redis.call('set', KEYS[1], '1') pcall(function() while true do end end)",
        b"1",
        b"w",
    ]));
    t.push(until_busy(&mut b, &["GET", "w"]));
    t.push(call(&mut b, &["SCRIPT", "KILL"]));
    b.send(&cmd(&[b"SHUTDOWN", b"NOSAVE"]));
    t.push(format!("shutdown closes the client: {}", b.closed()));
    t.push(format!("script client closed: {}", a.closed()));
    t
}

#[test]
fn shutdown_nosave_stops_a_node_looping_inside_pcall_as_redis() {
    side_by_side(shutdown_nosave_inside_pcall);
}

/// Functions looping inside pcall, xpcall and a coroutine: FUNCTION KILL ends each.
fn kill_looping_functions(port: u16) -> Vec<String> {
    let lib = "#!lua name=spinlib\n\
               redis.register_function('p', function() pcall(function() while true do end end) end)\n\
               redis.register_function('x', function() \
               xpcall(function() while true do end end, function(e) return e end) end)\n\
               redis.register_function('c', function() \
               coroutine.wrap(function() while true do end end)() end)";
    kill_each_function(port, lib, &["p", "x", "c"])
}

/// Loads `lib` and, for each of its looping functions `names`: FCALL from a fresh client,
/// -BUSY for another, SCRIPT KILL refused, FUNCTION KILL, then the killed call's reply.
pub(crate) fn kill_each_function(port: u16, lib: &str, names: &[&str]) -> Vec<String> {
    let mut t = Vec::new();
    let mut b = Raw::connect(port);
    t.push(call(&mut b, &["FUNCTION", "LOAD", lib]));
    for name in names {
        let mut a = Raw::connect(port);
        a.send(&cmd(&[b"FCALL", name.as_bytes(), b"0"]));
        t.push(until_busy(&mut b, &["GET", "k"]));
        t.push(call(&mut b, &["SCRIPT", "KILL"]));
        t.push(call(&mut b, &["FUNCTION", "KILL"]));
        t.push(reply(&mut a));
    }
    t
}

#[test]
fn function_kill_ends_functions_looping_inside_pcall_on_one_shard_as_redis() {
    side_by_side(kill_looping_functions);
}

/// A long loop inside pcall that ends by itself after being taken off the core: the same result
/// as Redis, and the other client was answered -BUSY meanwhile.
fn long_pcall_finishes(port: u16) -> Vec<String> {
    let mut t = Vec::new();
    let mut a = Raw::connect(port);
    let mut b = Raw::connect(port);
    // Bounded by time (400 ms), not by a count: a debug build on a busy machine is slow.
    let body = "local ok, r = pcall(function() local s = redis.call('time') repeat \
                for i = 1, 20000 do end local t = redis.call('time') \
                until (t[1] - s[1]) * 1e6 + (t[2] - s[2]) > 400000 \
                return 'done' end) return {tostring(ok), r, redis.call('incr', KEYS[1])}";
    a.send(&cmd(&[b"EVAL", body.as_bytes(), b"1", b"cnt"]));
    t.push(until_busy(&mut b, &["GET", "cnt"]));
    t.push(reply(&mut a));
    t.push(call(&mut b, &["GET", "cnt"]));
    t
}

#[test]
fn a_long_loop_inside_pcall_finishes_with_redis_result() {
    side_by_side(long_pcall_finishes);
}
