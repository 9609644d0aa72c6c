//! The Lua environment of EVAL side by side with redis-server 7.0 (issue 14, the engine): the
//! sandbox's refusals, error texts and their "script: <sha>, on @user_script:N." positions,
//! the `redis` table's argument checks, and the conversions between Lua and RESP2/RESP3 in both
//! directions, byte for byte.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::read_reply;

/// Sends each EVAL (body, keys, args) to both servers and asserts byte-equal replies.
pub(crate) fn same_evals(redis: &mut Raw, slotd: &mut Raw, cases: &[(&str, &[&str])], what: &str) {
    for (body, keys) in cases {
        let numkeys = keys.len().to_string();
        let mut parts: Vec<&[u8]> = vec![b"EVAL", body.as_bytes(), numkeys.as_bytes()];
        parts.extend(keys.iter().map(|k| k.as_bytes()));
        let req = cmd(&parts);
        redis.send(&req);
        slotd.send(&req);
        let want = read_reply(redis);
        let got = read_reply(slotd);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "slotd vs redis ({what}) for {body:?}"
        );
    }
}

/// Sends a command to both servers and drops the replies (setup whose reply may differ).
pub(crate) fn both(redis: &mut Raw, slotd: &mut Raw, parts: &[&[u8]]) {
    let req = cmd(parts);
    redis.send(&req);
    slotd.send(&req);
    read_reply(redis);
    read_reply(slotd);
}

const CONVERSIONS: &[(&str, &[&str])] = &[
    ("return 1", &[]),
    ("return {1,2,nil,4}", &[]),
    ("return 3.99", &[]),
    ("return -3.99", &[]),
    ("return {true,false}", &[]),
    ("return {false,true}", &[]),
    ("return nil", &[]),
    ("return 'a\r\nb'", &[]),
    ("return {ok='fine'}", &[]),
    ("return {ok='two\r\nlines'}", &[]),
    ("return {double=1.5}", &[]),
    ("return {double=0.1}", &[]),
    ("return {double='1.5'}", &[]),
    ("return {err='bad'}", &[]),
    ("return {err='bad\r\nline'}", &[]),
    ("return {1,{err='x'},{ok='y'},{double=2}}", &[]),
    ("return {big_number='12345678901234567890'}", &[]),
    ("return {map={a=1}}", &[]),
    ("return {set={x=true}}", &[]),
    ("return {verbatim_string={format='txt',string='hi'}}", &[]),
    ("return redis.error_reply('FOO bar')", &[]),
    ("return redis.error_reply('bar')", &[]),
    ("return redis.error_reply()", &[]),
    ("return redis.status_reply('x')", &[]),
    ("return redis.status_reply(1)", &[]),
    ("redis.setresp(3) return {true,false}", &[]),
    (
        "redis.setresp(3) return redis.call('hgetall',KEYS[1])",
        &["eh"],
    ),
    ("return redis.call('hgetall',KEYS[1])", &["eh"]),
    (
        "redis.setresp(3) local r = redis.call('hgetall',KEYS[1]) return {r.map.f}",
        &["eh"],
    ),
    ("local s = redis.call('ping') return s.ok", &[]),
    ("return tostring(redis.call('get','nokey'))", &[]),
    (
        "redis.setresp(3) return tostring(redis.call('get','nokey'))",
        &[],
    ),
    ("return redis.call('set',KEYS[1],1.5)", &["num"]),
    ("return redis.call('get',KEYS[1])", &["num"]),
    ("return redis.call('set',KEYS[1],0.1)", &["num"]),
    ("return redis.call('get',KEYS[1])", &["num"]),
    ("return {redis.call('incr',KEYS[1])}", &["n"]),
    ("return {pcall(error, {err='x'})}", &[]),
    ("return {pcall(redis.call, 'nosuch')}", &[]),
    ("return {pcall()}", &[]),
    ("return redis.sha1hex('abc')", &[]),
    ("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", &[]),
    ("return redis.replicate_commands()", &[]),
    ("return redis.breakpoint()", &[]),
    ("return redis.debug('x')", &[]),
    (
        "return math.randomseed(7) or {math.random(1000), math.random(5, 9)}",
        &[],
    ),
    ("return type(loadstring)", &[]),
    ("return {loadstring('return 1', 'x')()}", &[]),
    ("local a, b = loadstring('return +') return b", &[]),
    ("local a, b = loadstring('return +', '=mine') return b", &[]),
    ("local s = {'return ', '7'} local i = 0 return load(function() i = i + 1 return s[i] end)()", &[]),
    ("return {rawset({}, 1, 2)[1], setmetatable({}, nil) ~= nil}", &[]),
    ("local t = setmetatable({}, {__index = function() return 9 end}) return t.x", &[]),
    (
        "local a, b = loadstring(string.dump(function() return 5 end)) return b",
        &[],
    ),
    (
        "local co = coroutine.wrap(function() coroutine.yield(4) end) return co()",
        &[],
    ),
    (
        "return {getmetatable('').__index == string, ('ab'):upper()}",
        &[],
    ),
    ("return type(getmetatable(_G))", &[]),
    (
        "local r = {} for k in pairs(_G) do table.insert(r, k) end table.sort(r) return r",
        &["k"],
    ),
    (
        "local r = {} for k in pairs(redis) do table.insert(r, k) end table.sort(r) return r",
        &[],
    ),
    (
        "local n = 0 for k, v in pairs(string) do n = n + 1 end return n",
        &[],
    ),
    ("local n = 0 for i, v in ipairs(KEYS) do n = n + i end return n", &["a", "b"]),
    ("return next({})", &[]),
    ("return next(math, nil) ~= nil", &[]),
    ("return pairs(nil)", &[]),
    ("return ipairs()", &[]),
    ("return #KEYS + #ARGV", &["k1", "k2"]),
];

const ERRORS: &[(&str, &[&str])] = &[
    ("return redis.call('nosuch')", &[]),
    ("return redis.pcall('nosuch')", &[]),
    ("error('x')", &[]),
    ("error({err='MY bad'})", &[]),
    ("error({err=12})", &[]),
    ("error()", &[]),
    ("error(12)", &[]),
    ("error(true)", &[]),
    ("x = 1", &[]),
    ("string.x = 1", &[]),
    ("redis.call = 1", &[]),
    ("rawset(_G, 'x', 1)", &[]),
    ("setmetatable(_G, {})", &[]),
    ("return rawset(_G, 'x', 1)", &[]),
    ("return setmetatable(_G, {})", &[]),
    ("return setmetatable(string, {})", &[]),
    ("return rawset(nil, 1, 2)", &[]),
    ("return rawset({}, nil, 2)", &[]),
    ("return setmetatable({}, 5)", &[]),
    ("return setmetatable(5, {})", &[]),
    (
        "local t = setmetatable({}, {__metatable = 1}) return setmetatable(t, {})",
        &[],
    ),
    ("return loadstring(nil)", &[]),
    ("return loadstring()", &[]),
    ("return load(5)", &[]),
    ("return pcall()", &[]),
    ("return y", &[]),
    ("return print", &[]),
    ("return debug", &[]),
    ("return newproxy", &[]),
    ("return setfenv", &[]),
    ("return loadfile", &[]),
    ("return dofile", &[]),
    ("return 1 +", &[]),
    ("return redis.call()", &[]),
    ("return redis.call('get', {})", &[]),
    ("return redis.call('get', nil)", &[]),
    ("return redis.call('incr',KEYS[1])", &["str"]),
    ("local a = 1\n\nreturn redis.call('incr',KEYS[1])", &["str"]),
    ("return redis.pcall('incr',KEYS[1])", &["str"]),
    ("return redis.setresp(4)", &[]),
    ("return redis.setresp()", &[]),
    ("return redis.set_repl(8)", &[]),
    ("return redis.set_repl()", &[]),
    ("return redis.log(9, 'x')", &[]),
    ("return redis.log('x', 'y')", &[]),
    ("return redis.log(1)", &[]),
    ("return redis.sha1hex()", &[]),
    ("coroutine.yield(1)", &[]),
    ("local function f() coroutine.yield(2) end\nf()", &[]),
    ("return math.random(0)", &[]),
    ("return math.random(3, 1)", &[]),
    ("return math.random('x')", &[]),
    ("return math.random(1, {})", &[]),
    ("return math.random(1, 2, 3)", &[]),
    ("math.randomseed()", &[]),
    ("#!lua\nreturn redis.call('nosuch')", &[]),
    ("#!lua flags=bad\nreturn 1", &[]),
    ("#!python\nreturn 1", &[]),
    ("#!lua name=x\nreturn 1", &[]),
    ("#!lua", &[]),
    ("\x1bLuaQ", &[]),
];

/// Puts the same starting data into both servers.
fn seed(redis: &mut Raw, slotd: &mut Raw) {
    both(redis, slotd, &[b"HSET", b"eh", b"f", b"v"]);
    both(redis, slotd, &[b"SET", b"str", b"abc"]);
}

/// Runs every case on fresh servers, the client speaking RESP3 when `resp3`.
fn compare(resp3: bool) {
    let Some(redis) = RedisServer::start("redis-lua-env") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&["--server-threads", "1"]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    seed(&mut a, &mut b);
    if resp3 {
        // The HELLO replies name each server; only the protocol switch matters here.
        both(&mut a, &mut b, &[b"HELLO", b"3"]);
    }
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    same_evals(&mut a, &mut b, CONVERSIONS, &format!("{proto} conversions"));
    same_evals(&mut a, &mut b, ERRORS, &format!("{proto} errors"));
}

#[test]
fn lua_environment_answers_as_redis_in_resp2() {
    compare(false);
}

#[test]
fn lua_environment_answers_as_redis_in_resp3() {
    compare(true);
}
