//! The C libraries of Redis' Lua (issue 14, the libs part) side by side with redis-server
//! 7.0: cjson, cmsgpack, bit and struct through EVAL, results and error replies byte for
//! byte (the error texts carry Redis' "user_script:1:" position and "script: <sha>" suffix),
//! the tables' read-only protection, and cjson settings that outlive the script setting them.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::{read_reply, same_reply};

/// Scripts whose replies must be equal, asked in this order (settings carry over).
const SCRIPTS: &[&str] = &[
    // cjson
    "return cjson.encode({1,2,3,{a={b=true,c=cjson.null}},'x\\\"/\\1'})",
    "return cjson.encode({[1]=1,[2]=2,[4]=4})",
    "return cjson.encode({[1]=1,[20]=2})",
    "return cjson.encode(0.1) .. cjson.encode(1/3) .. cjson.encode(1e15) .. cjson.encode(-0)",
    "return cjson.encode(1/0)",
    "return cjson.encode({[true]=1})",
    "return cjson.encode(function() end)",
    "return cjson.encode()",
    "return cjson.decode('[1,2.5,\"a\\\\u00e9\",{\"k\":[true,false,null]}]')",
    "return cjson.encode(cjson.decode('{\"a\":{\"b\":[1,{},[]]}}'))",
    "return cjson.decode('[1,')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode(string.rep('[', 1001))",
    "return {pcall(cjson.decode, 'x')}",
    "return cjson.decode('1\\0')",
    "return {cjson.encode_sparse_array(true, 3, 4)}",
    "return cjson.encode({[1]=1,[20]=2})",
    "return cjson.encode_max_depth(3)",
    "return cjson.encode_max_depth()",
    "return cjson.encode({{{{1}}}})",
    "return cjson.encode_number_precision(20)",
    "return cjson.encode_invalid_numbers('null') .. cjson.encode({1/0, 2})",
    "return {cjson.new().encode_max_depth(), cjson.new()._VERSION}",
    // cmsgpack
    "return cmsgpack.pack(1, -1, 200, -200, 70000, 2^40, -2^40, 1.5, 0.1, 'ab', true, nil)",
    "return cmsgpack.pack({1,2,3}, {a=1}, {[1]=1,[3]=3}, string.rep('x', 40))",
    "return {cmsgpack.unpack(cmsgpack.pack({1,{2,'x'}}, 'y', 3.5))}",
    "return cmsgpack.unpack('\\196')",
    "return cmsgpack.unpack('\\145')",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}",
    "return cmsgpack.unpack_one('\\1', 5)",
    "return cmsgpack.pack()",
    "return {pcall(cmsgpack.unpack, string.rep('\\145', 5000))}",
    // bit
    "return {bit.tobit(2^32+5), bit.band(0xff, 0x0f), bit.bor(1, 2), bit.bxor(5, 3)}",
    "return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.bnot(0)}",
    "return {bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.bswap(0x12345678)}",
    "return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(1, 20)}",
    "return bit.band('x')",
    "return {pcall(bit.band, {})}",
    // struct
    "return struct.pack('>i4 <h b B s c3 d f', -2, 513, -1, 255, 'ab', 'xyz', 0.5, 1.5)",
    "return {struct.unpack('>i4 <h', struct.pack('>i4 <h', -2, 513))}",
    "return {struct.unpack('s c0', 'x\\0abcd')}",
    "return {struct.unpack('b c0', '\\2abcd')}",
    "return struct.pack('c5', 'ab')",
    "return struct.pack('i33', 1)",
    "return struct.pack('z', 1)",
    "return {struct.size('!8 b d'), struct.size('i16 c10')}",
    "return struct.size('s')",
    "return struct.unpack('i', 'ab')",
    // the tables are read-only, as every global table in Redis 7.0
    "cjson.x = 1",
    "cmsgpack.pack = nil",
    "bit.band = print",
    "struct.pack = 1",
];

/// Sends each script to both servers and asserts byte-equal replies.
fn same_evals(redis: &mut Raw, slotd: &mut Raw, what: &str) {
    for body in SCRIPTS {
        let req = cmd(&[b"EVAL", body.as_bytes(), b"0"]);
        same_reply(redis, slotd, &req, &format!("{body:?} ({what})"));
    }
}

/// Starts both servers fresh (settings start from their defaults) and compares every script.
fn compare(resp3: bool) {
    let Some(redis) = RedisServer::start("redis-lua-libs") else {
        eprintln!("redis-server not installed: skipping");
        return;
    };
    let slotd = Server::start(&["--server-threads", "1"]);
    let mut a = Raw::connect(redis.port);
    let mut b = Raw::connect(slotd.port);
    if resp3 {
        for c in [&mut a, &mut b] {
            c.send(&cmd(&[b"HELLO", b"3"]));
            read_reply(c);
        }
    }
    same_evals(&mut a, &mut b, if resp3 { "RESP3" } else { "RESP2" });
}

/// Guards the four libraries against redis-server 7.0: every result and error reply equal.
#[test]
fn lua_libraries_answer_as_redis_in_resp2() {
    compare(false);
}

/// The same in RESP3 (nulls, booleans and doubles from the libraries convert as Redis').
#[test]
fn lua_libraries_answer_as_redis_in_resp3() {
    compare(true);
}
