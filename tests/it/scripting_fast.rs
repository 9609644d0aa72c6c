//! The fast paths of a script run side by side with redis-server 7.0 (issue 14's EVALSHA
//! cost): `redis.call`/`redis.pcall` with string arguments answered straight from the Lua
//! stack (status, error, integer, bulk, null and boolean replies, error tables as `pcall`
//! hands them back, refusals), the replies they leave to the general conversion, the calls
//! they leave to the general path (numbers, many arguments), in RESP2 and RESP3, and a
//! script found in the shard's compiled scripts forgotten by SCRIPT FLUSH.

use crate::common::{cmd, Raw, RedisServer, Server};
use crate::compare::read_reply;
use crate::scripting::{line, same};

fn cases() -> Vec<Vec<String>> {
    let many = "return redis.call('del','a1','a2','a3','a4','a5','a6','a7','a8','a9','a10',\
                'a11','a12','a13','a14','a15','a16','a17')";
    let fields = "local e = redis.pcall('incr',KEYS[1]) local t = {} \
                  for k, v in pairs(e) do t[#t+1] = k .. '=' .. tostring(v) end return t";
    vec![
        line(&["EVAL", "return redis.call('set',KEYS[1],'v')", "1", "fk"]),
        line(&[
            "EVAL",
            "local r = redis.call('set',KEYS[1],'v') return {type(r), r.ok}",
            "1",
            "fk",
        ]),
        line(&["EVAL", "return redis.call('get',KEYS[1])", "1", "fk"]),
        line(&["EVAL", "return redis.call('get','nokey')", "0"]),
        line(&["EVAL", "return type(redis.call('get','nokey'))", "0"]),
        line(&["EVAL", "return redis.call('incr','fn')", "0"]),
        line(&["EVAL", "return type(redis.call('incr','fn'))", "0"]),
        line(&["EVAL", "return redis.call('incr',KEYS[1])", "1", "fk"]),
        line(&["EVAL", "return redis.pcall('incr',KEYS[1])", "1", "fk"]),
        line(&["EVAL", fields, "1", "fk"]),
        line(&["EVAL", "return redis.pcall('nosuch')", "0"]),
        line(&["EVAL", "local e = redis.pcall('nosuch') return e.err", "0"]),
        line(&["EVAL", "return redis.call('nosuch')", "0"]),
        line(&["EVAL", "return redis.call('set','fk','v','bogus')", "0"]),
        line(&["EVAL", "return redis.call('lrange','nolist','0','-1')", "0"]),
        line(&[
            "EVAL",
            "redis.call('rpush','fl','a','b') return redis.call('lrange','fl','0','-1')",
            "0",
        ]),
        line(&["EVAL", "return redis.call('set','num',5)", "0"]),
        line(&["EVAL", "return redis.call('get','num')", "0"]),
        line(&["EVAL", "return redis.call('incrbyfloat','num',1.5)", "0"]),
        line(&["EVAL", many, "0"]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('get','nokey')",
            "0",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) return type(redis.call('get','nokey'))",
            "0",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('exists','fk')",
            "0",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) redis.call('hset','fh','f','v') return redis.call('hgetall','fh')",
            "0",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.call('set','fk','w')",
            "0",
        ]),
        line(&[
            "EVAL",
            "redis.setresp(3) return redis.pcall('incr','fk')",
            "0",
        ]),
        // Compiled by EVAL on this shard, then run by EVALSHA; gone after SCRIPT FLUSH.
        line(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
        line(&["EVAL", "return 1", "0"]),
        line(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
        line(&[
            "EVALSHA_RO",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0",
        ]),
        line(&["SCRIPT", "FLUSH"]),
        line(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
        line(&[
            "SCRIPT",
            "LOAD",
            "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])",
        ]),
        line(&[
            "EVALSHA",
            "f98531bf2373a3e0604dc44ced00e6b04598b3ed",
            "1",
            "fk",
        ]),
    ]
}

#[test]
fn redis_call_fast_paths_answer_as_redis_in_resp2_and_resp3() {
    for hello in [None, Some("3")] {
        let Some(redis) = RedisServer::start("redis-fastcall") else {
            eprintln!("redis-server not installed: comparison skipped");
            return;
        };
        let slotd = Server::start(&["--server-threads", "1"]);
        let mut a = Raw::connect(redis.port);
        let mut b = slotd.raw();
        if let Some(v) = hello {
            // Its reply names the client id, which differs: switched, not compared.
            for c in [&mut a, &mut b] {
                c.send(&cmd(&[b"HELLO", v.as_bytes()]));
                assert!(read_reply(c).starts_with(b"%"));
            }
        }
        same(&mut a, &mut b, &cases(), &format!("HELLO {hello:?}"));
    }
}
