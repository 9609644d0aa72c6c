//! The same command scripts against Debian's redis-server 7.0 and slotd: replies must be
//! byte-identical. Skipped (with a message) only when redis-server is not installed.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};

/// Reads one whole RESP reply from a raw connection.
pub fn read_reply(r: &mut Raw) -> Vec<u8> {
    let mut buf = Vec::new();
    loop {
        if let Some(n) = reply_len(&buf) {
            assert_eq!(n, buf.len(), "one reply at a time");
            return buf;
        }
        let more = r.read_n(1);
        if more.is_empty() {
            return buf;
        }
        buf.extend(more);
    }
}

pub fn reply_len(b: &[u8]) -> Option<usize> {
    let end = b.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&b[1..end]).ok()?;
    let next = end + 2;
    match b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' => Some(next),
        b'$' | b'=' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(next);
            }
            let total = next + n as usize + 2;
            (b.len() >= total).then_some(total)
        }
        b'*' | b'~' | b'%' | b'>' => {
            let mut n: i64 = line.parse().ok()?;
            if b[0] == b'%' {
                n *= 2;
            }
            let mut pos = next;
            for _ in 0..n.max(0) {
                pos += reply_len(&b[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// Sends `req` to both connections (redis-server first) and asserts byte-equal replies;
/// `what` names the case in the failure.
pub fn same_reply(redis: &mut Raw, slotd: &mut Raw, req: &[u8], what: &str) {
    redis.send(req);
    slotd.send(req);
    let want = read_reply(redis);
    let got = read_reply(slotd);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
        "slotd vs redis for {what}"
    );
}

/// Runs each line (split on spaces; `\s` stands for a space inside an argument) on both
/// servers and asserts equal replies.
pub fn same_replies(script: &[&str]) {
    let Some(redis) = Redis::start("redis") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let mut a = Raw::connect(redis.port);
    let mut b = slotd.raw();
    for line in script {
        let parts: Vec<Vec<u8>> = line
            .split(' ')
            .map(|p| p.replace("\\s", " ").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        let req = cmd(&refs);
        a.send(&req);
        b.send(&req);
        let ra = read_reply(&mut a);
        let rb = read_reply(&mut b);
        assert_eq!(
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&ra),
            "slotd vs redis for `{line}`"
        );
    }
}

#[test]
fn strings_match_redis() {
    // Guards string replies and error texts against the real thing.
    same_replies(&[
        "SET k v",
        "GET k",
        "GET nokey",
        "SET k v NX",
        "SET k v2 XX GET",
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v PX 100 EX 10",
        "SET k v KEEPTTL EX 10",
        "SET n 10",
        "INCR n",
        "INCRBY n -20",
        "DECRBY n 9223372036854775807",
        "INCR k",
        "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 0.1",
        "INCRBYFLOAT f abc",
        "APPEND k 123",
        "STRLEN k",
        "GETRANGE k 0 -2",
        "GETRANGE k -100 100",
        "SETRANGE k 10 xyz",
        "GET k",
        "SETRANGE k -1 x",
        "MSET a 1 b 2 c 3",
        "MGET a b c nokey",
        "MSETNX a 1 z 2",
        "MSET a",
        "GETDEL a",
        "GETDEL a",
        "GETEX b PERSIST",
        "GETEX b EX 100 PX 100",
        "SETNX b 3",
        "SETEX b 0 v",
        "PSETEX b 1000 v",
        "GETSET b new",
        "LCS nokey1 nokey2",
        "SET l1 ohmytext",
        "SET l2 mynewtext",
        "LCS l1 l2",
        "LCS l1 l2 LEN",
        "LCS l1 l2 IDX MINMATCHLEN 2 WITHMATCHLEN",
        "SUBSTR l1 0 3",
    ]);
}

#[test]
fn keys_match_redis() {
    // Guards generic key command replies and error texts against the real thing.
    same_replies(&[
        "SET a 1",
        "SET b 2",
        "EXISTS a b nokey a",
        "TYPE a",
        "TYPE nokey",
        "EXPIRE a 100",
        "TTL a",
        "EXPIRE a 100 NX",
        "EXPIRE a 50 GT",
        "EXPIRE a 200 GT",
        "EXPIRE a 100 NX XX",
        "EXPIRE a abc",
        "EXPIRE a 9223372036854775807",
        "PERSIST a",
        "TTL a",
        "PTTL nokey",
        "EXPIRETIME b",
        "RENAME a c",
        "RENAME nokey d",
        "RENAMENX b c",
        "COPY c d",
        "COPY c d",
        "COPY c d REPLACE",
        "TOUCH c d nokey",
        "DEL c d nokey",
        "UNLINK b",
        "DBSIZE",
        "OBJECT ENCODING nokey",
        "SET i 12345",
        "OBJECT ENCODING i",
        "SET s hello",
        "OBJECT ENCODING s",
        "OBJECT FREQ s",
        "OBJECT nosuch",
        "FLUSHALL",
        "DBSIZE",
        "RANDOMKEY",
        "KEYS *",
    ]);
}

#[test]
fn server_commands_match_redis() {
    // Guards connection/server command replies that have no volatile fields.
    same_replies(&[
        "PING",
        "PING hello",
        "PING a b",
        "ECHO hi",
        "ECHO",
        "SELECT 0",
        "SELECT x",
        "SELECT 4294967296",
        "SELECT -2147483649",
        "SELECT 99999999999999999999",
        "CLIENT SETNAME my\\sname",
        "CLIENT SETNAME myname",
        "CLIENT GETNAME",
        "CLIENT NO-EVICT on",
        "CLIENT NO-EVICT maybe",
        "CLIENT nosuch",
        "CONFIG GET maxclients",
        "CONFIG GET nosuchparam",
        "CONFIG SET maxclients abc",
        "CONFIG SET nosuch 1",
        "CONFIG GET timeout",
        "COMMAND COUNTX",
        "AUTH foo",
        "HELLO 4",
    ]);
}

#[test]
fn transactions_match_redis() {
    // Guards MULTI/EXEC/DISCARD replies, queued errors and EXECABORT against the real thing.
    same_replies(&[
        "EXEC",
        "DISCARD",
        "MULTI",
        "MULTI",
        "SET a 1",
        "INCR a",
        "GET a",
        "LPUSH a x",
        "EXEC",
        "MULTI",
        "SET b 2",
        "DISCARD",
        "GET b",
        "MULTI",
        "SET c 3",
        "NOSUCHCMD",
        "GET",
        "EXEC",
        "GET c",
        "WATCH w",
        "MULTI",
        "WATCH x",
        "SET w 1",
        "EXEC",
        "UNWATCH",
        "MULTI",
        "PING",
        "ECHO hi",
        "EXEC",
    ]);
}

#[test]
fn hashes_match_redis() {
    // Guards hash replies and error texts (small listpack hashes keep insertion order).
    same_replies(&[
        "HSET h f1 v1 f2 v2 f3 v3",
        "HSET h f1 x",
        "HSET h f1",
        "HSET h",
        "HGET h f1",
        "HGET h nofield",
        "HGET nokey f",
        "HMGET h f1 nofield f3",
        "HMGET nokey a b",
        "HMSET h f4 v4",
        "HGETALL h",
        "HGETALL nokey",
        "HKEYS h",
        "HVALS h",
        "HLEN h",
        "HLEN nokey",
        "HEXISTS h f2",
        "HEXISTS h nofield",
        "HSTRLEN h f1",
        "HSTRLEN h nofield",
        "HSETNX h f1 y",
        "HSETNX h f5 y",
        "HDEL h f1 f1 nofield",
        "HDEL nokey f",
        "HGETALL h",
        "HINCRBY h n 5",
        "HINCRBY h n -10",
        "HINCRBY h n abc",
        "HINCRBY h n 9223372036854775807",
        "HINCRBY h f2 1",
        "HSET h big 9223372036854775807",
        "HINCRBY h big 1",
        "HINCRBYFLOAT h fl 1.5",
        "HINCRBYFLOAT h fl 0.1",
        "HINCRBYFLOAT h fl -1e3",
        "HINCRBYFLOAT h fl abc",
        "HINCRBYFLOAT h fl inf",
        "HINCRBYFLOAT h f2 1",
        "HSET h e 5.0e3",
        "HINCRBYFLOAT h e 0",
        "HGET h e",
        "HGETALL h",
        "HRANDFIELD nokey",
        "HRANDFIELD nokey 5",
        "HRANDFIELD h 0",
        "HRANDFIELD h abc",
        "HSCAN nokey 0",
        "HSCAN h abc",
        "SET str v",
        "HSET str f v",
        "HGET str f",
        "HGETALL str",
        "HLEN str",
        "HINCRBY str f 1",
        "HDEL h f2 f3 f4 f5 n fl big e",
        "EXISTS h",
        "HSET h a 1",
        "HDEL h a",
        "EXISTS h",
        "TYPE str",
        "HSET e1 f v",
        "OBJECT ENCODING e1",
        "HSET e1 long 01234567890123456789012345678901234567890123456789012345678901234",
        "OBJECT ENCODING e1",
        "HLEN e1",
        "HGET e1 long",
        "TYPE e1",
    ]);
}

#[test]
fn lists_match_redis() {
    // Guards list replies and error texts, including negative indexes and huge counts.
    same_replies(&[
        "RPUSH l a b c d e",
        "LPUSH l z",
        "LRANGE l 0 -1",
        "LRANGE l -2 -1",
        "LRANGE l -100 100",
        "LRANGE l 5 2",
        "LRANGE l 9223372036854775807 -9223372036854775808",
        "LRANGE l a b",
        "LRANGE nokey 0 -1",
        "LLEN l",
        "LLEN nokey",
        "LINDEX l 0",
        "LINDEX l -1",
        "LINDEX l 100",
        "LINDEX l x",
        "LSET l 1 A",
        "LSET l -1 E",
        "LSET l 100 x",
        "LSET nokey 0 x",
        "LRANGE l 0 -1",
        "LINSERT l BEFORE A before",
        "LINSERT l AFTER E after",
        "LINSERT l AFTER nothere x",
        "LINSERT l MIDDLE A x",
        "LINSERT nokey BEFORE a b",
        "LRANGE l 0 -1",
        "RPUSH d x y x z x",
        "LPOS d x",
        "LPOS d x RANK 2",
        "LPOS d x RANK -1",
        "LPOS d x COUNT 0",
        "LPOS d x COUNT 2 RANK -1",
        "LPOS d x MAXLEN 1 COUNT 0",
        "LPOS d x RANK 0",
        "LPOS d x COUNT -1",
        "LPOS d nothere",
        "LPOS d nothere COUNT 0",
        "LPOS d x RANK -9223372036854775808",
        "LREM d 1 x",
        "LREM d -1 x",
        "LREM d 0 x",
        "LREM d 0 nothere",
        "LRANGE d 0 -1",
        "LTRIM l 1 -2",
        "LRANGE l 0 -1",
        "LTRIM l 100 200",
        "EXISTS l",
        "RPUSH p 1 2 3 4 5",
        "LPOP p",
        "RPOP p",
        "LPOP p 2",
        "LPOP p 0",
        "LPOP p -1",
        "RPOP p 100",
        "EXISTS p",
        "LPOP nokey",
        "LPOP nokey 2",
        "RPOP nokey 0",
        "LPUSHX nokey a",
        "RPUSHX nokey a",
        "RPUSH m a b c",
        "LPUSHX m z",
        "RPUSHX m y",
        "LMOVE m m2 LEFT RIGHT",
        "LMOVE m m2 RIGHT LEFT",
        "LMOVE m m LEFT RIGHT",
        "LMOVE m m2 UP DOWN",
        "LMOVE nokey m2 LEFT LEFT",
        "RPOPLPUSH m m2",
        "RPOPLPUSH nokey m2",
        "LRANGE m 0 -1",
        "LRANGE m2 0 -1",
        "LMPOP 2 nokey m2 LEFT",
        "LMPOP 2 nokey m2 RIGHT COUNT 10",
        "LMPOP 1 nokey LEFT",
        "LMPOP 0 m LEFT",
        "LMPOP 1 m LEFT COUNT 0",
        "LMPOP 1 m MIDDLE",
        "LMPOP 2 m LEFT",
        "LMPOP 1 m LEFT COUNT 1 COUNT 2",
        "SET str v",
        "LPUSH str a",
        "LRANGE str 0 -1",
        "LLEN str",
        "LMOVE m str LEFT LEFT",
        "LMOVE str m LEFT LEFT",
        "LMPOP 2 nokey str LEFT",
        "RPUSH n 1 2 3",
        "OBJECT ENCODING n",
        "LINDEX n 1",
        "DEL n m m2 d",
        "DBSIZE",
    ]);
}

#[test]
fn sets_match_redis() {
    // Guards set replies; only order-free forms for non-integer sets (hashtable order varies).
    same_replies(&[
        "SADD i 3 1 2 2",
        "SMEMBERS i",
        "OBJECT ENCODING i",
        "SADD i -5 100",
        "SMEMBERS i",
        "SADD s a b c",
        "SADD s a",
        "SADD s",
        "SCARD s",
        "SCARD nokey",
        "SISMEMBER s a",
        "SISMEMBER s z",
        "SISMEMBER nokey a",
        "SMISMEMBER s a z b",
        "SMISMEMBER nokey a",
        "SREM s a z",
        "SREM nokey a",
        "SCARD s",
        "SMEMBERS nokey",
        "SADD j 2 3 4 200",
        "SINTER i j",
        "SINTER i nokey",
        "SUNION i j",
        "SDIFF i j",
        "SDIFF j i nokey",
        "SDIFF nokey i",
        "SINTERCARD 2 i j",
        "SINTERCARD 2 i j LIMIT 1",
        "SINTERCARD 2 i j LIMIT 0",
        "SINTERCARD 2 i j LIMIT -1",
        "SINTERCARD 0 i",
        "SINTERCARD 3 i j",
        "SINTERCARD 1 nokey",
        "SINTERSTORE dst i j",
        "SMEMBERS dst",
        "SUNIONSTORE dst i j",
        "SMEMBERS dst",
        "SDIFFSTORE dst i j",
        "SMEMBERS dst",
        "SINTERSTORE dst i nokey",
        "EXISTS dst",
        "SINTERSTORE s2 s s",
        "SCARD s2",
        "SDIFFSTORE s2 s s",
        "EXISTS s2",
        "SMOVE i j 1",
        "SMOVE i j 1",
        "SMOVE nokey j 1",
        "SMOVE i i 2",
        "SMEMBERS i",
        "SMEMBERS j",
        "SPOP nokey",
        "SPOP nokey 3",
        "SPOP i 0",
        "SPOP i -1",
        "SPOP i abc",
        "SRANDMEMBER nokey",
        "SRANDMEMBER nokey 3",
        "SRANDMEMBER i 0",
        "SRANDMEMBER i -9223372036854775808",
        "SADD one x",
        "SPOP one",
        "EXISTS one",
        "SADD one x",
        "SRANDMEMBER one",
        "SRANDMEMBER one -3",
        "SRANDMEMBER one 5",
        "SPOP one 10",
        "EXISTS one",
        "SSCAN nokey 0",
        "SSCAN i 0 COUNT 0",
        "SET str v",
        "SADD str a",
        "SCARD str",
        "SISMEMBER str a",
        "SINTER i str",
        "SUNIONSTORE dst i str",
        "SMOVE str i a",
        "SMOVE i str 3",
        "SMEMBERS i",
        "SADD k 1 2 3",
        "SADD k a",
        "OBJECT ENCODING k",
        "SCARD k",
        "DEL i j k s",
        "DBSIZE",
    ]);
}

#[test]
fn zsets_match_redis() {
    // Guards sorted set replies: ranges by rank/score/lex, inf scores, bad numbers, stores.
    same_replies(&[
        "ZADD z 1 a 2 b 3 c",
        "ZADD z 1.5 a2 -inf min +inf max",
        "ZADD z nan x",
        "ZADD z abc x",
        "ZADD z 1 a 2",
        "ZADD z XX NX 1 a",
        "ZADD z GT LT 1 a",
        "ZADD z NX GT 1 a",
        "ZADD z CH 10 a 20 new",
        "ZADD z INCR 5 a",
        "ZADD z INCR 5 a 6 b",
        "ZADD z XX INCR 1 nothere",
        "ZADD z GT 0 b",
        "ZADD z GT CH 30 b",
        "ZADD z LT CH 0.5 b",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z -2 -1",
        "ZRANGE z 100 200",
        "ZRANGE z 0 -1 REV",
        "ZRANGE z (1 +inf BYSCORE",
        "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES",
        "ZRANGE z 0 -1 LIMIT 0 1",
        "ZRANGE z x y",
        "ZRANGE z (x 1 BYSCORE",
        "ZRANGEBYSCORE z -inf +inf",
        "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 -1",
        "ZRANGEBYSCORE z 2 1",
        "ZREVRANGEBYSCORE z +inf 1 WITHSCORES",
        "ZREVRANGE z 0 1 WITHSCORES",
        "ZSCORE z a",
        "ZSCORE z min",
        "ZSCORE z nothere",
        "ZSCORE nokey a",
        "ZMSCORE z a nothere max",
        "ZMSCORE nokey a",
        "ZRANK z c",
        "ZREVRANK z c",
        "ZRANK z nothere",
        "ZCARD z",
        "ZCARD nokey",
        "ZCOUNT z -inf +inf",
        "ZCOUNT z (1 (3",
        "ZCOUNT z abc 1",
        "ZINCRBY z 2.5 c",
        "ZINCRBY z 1 newm",
        "ZINCRBY z abc c",
        "ZINCRBY z -inf max",
        "ZINCRBY z +inf max",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZADD lex 0 a 0 b 0 c 0 d 0 e",
        "ZRANGEBYLEX lex - +",
        "ZRANGEBYLEX lex [b (d",
        "ZRANGEBYLEX lex (a [c LIMIT 1 5",
        "ZRANGEBYLEX lex b d",
        "ZREVRANGEBYLEX lex + - LIMIT 0 2",
        "ZRANGE lex [e [a BYLEX REV",
        "ZLEXCOUNT lex [b +",
        "ZLEXCOUNT lex x y",
        "ZREMRANGEBYLEX lex - (b",
        "ZREMRANGEBYRANK lex -1 -1",
        "ZREMRANGEBYSCORE z -inf (0",
        "ZRANGE lex 0 -1",
        "ZREM z a nothere",
        "ZREM nokey a",
        "ZPOPMIN z",
        "ZPOPMAX z 2",
        "ZPOPMIN z 0",
        "ZPOPMIN z -1",
        "ZPOPMIN nokey",
        "ZPOPMAX nokey 3",
        "ZMPOP 2 nokey z MIN",
        "ZMPOP 1 z MAX COUNT 100",
        "ZMPOP 1 z MIN COUNT 0",
        "ZMPOP 0 z MIN",
        "ZMPOP 1 nokey MAX",
        "EXISTS z",
        "ZADD z1 1 a 2 b 3 c",
        "ZADD z2 10 b 20 c 30 d",
        "ZUNIONSTORE out 2 z1 z2",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZUNIONSTORE out 2 z1 z2 WEIGHTS 2 -1 AGGREGATE MAX",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZINTERSTORE out 2 z1 z2 AGGREGATE MIN",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZINTERSTORE out 2 z1 nokey",
        "EXISTS out",
        "ZDIFFSTORE out 2 z1 z2",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZUNION 2 z1 z2 WITHSCORES",
        "ZINTER 2 z1 z2 WEIGHTS 1",
        "ZINTER 2 z1 z2 WEIGHTS 1 x",
        "ZINTERCARD 2 z1 z2",
        "ZINTERCARD 2 z1 z2 LIMIT 1",
        "ZDIFF 2 z1 z2 WITHSCORES",
        "ZUNIONSTORE out 0 z1",
        "ZUNIONSTORE out 3 z1 z2",
        "ZADD infs +inf a -inf b",
        "ZUNIONSTORE out 2 infs infs WEIGHTS 1 -1",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZUNIONSTORE out 1 infs WEIGHTS 0",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZRANGESTORE dst z1 0 -1 REV",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZRANGESTORE dst z1 5 10",
        "EXISTS dst",
        "ZRANDMEMBER nokey",
        "ZRANDMEMBER nokey 3 WITHSCORES",
        "ZRANDMEMBER z1 0",
        "ZADD one 1.5 x",
        "ZRANDMEMBER one -2 WITHSCORES",
        "ZRANDMEMBER one 5",
        "SET str v",
        "ZADD str 1 a",
        "ZRANGE str 0 -1",
        "ZSCORE str a",
        "ZUNIONSTORE out 2 z1 str",
        "ZADD prec 0.1 a 1e300 b 123456789012345678 c -0 d",
        "ZRANGE prec 0 -1 WITHSCORES",
        "ZSCORE prec d",
        "ZINCRBY prec 1e308 b",
        "ZINCRBY prec 1e308 b",
        "ZSCAN nokey 0",
        "OBJECT ENCODING z1",
        "DEL z1 z2 lex one prec infs out dst",
        "DBSIZE",
    ]);
}

#[test]
fn zset_ops_accept_plain_sets() {
    // Guards Redis' rule that set inputs to the zset algebra count as members with score 1.
    same_replies(&[
        "ZADD z1 1 a 2 b 3 c",
        "SADD set b c e",
        "ZUNION 2 z1 set WITHSCORES",
        "ZINTERSTORE out 2 z1 set WEIGHTS 1 10",
        "ZRANGE out 0 -1 WITHSCORES",
        "ZDIFF 2 set z1",
        "ZINTERCARD 2 z1 set",
        "ZUNIONSTORE out 1 set",
        "ZRANGE out 0 -1 WITHSCORES",
    ]);
}

/// `same_replies` for generated lines.
fn same_replies_owned(script: &[String]) {
    let refs: Vec<&str> = script.iter().map(String::as_str).collect();
    same_replies(&refs);
}

#[test]
fn big_collections_match_redis() {
    // Guards the big encodings (hashtable, quicklist, skiplist, hashtable set) with order-free
    // reads, and the conversions when a collection grows past the small-encoding limits.
    let mut s: Vec<String> = Vec::new();
    for i in 0..300 {
        s.push(format!("HSET h f{i} {i}"));
        s.push(format!("RPUSH l e{}", i % 17));
        s.push(format!("SADD si {}", i * 3));
        s.push(format!("SADD ss m{i}"));
        s.push(format!("ZADD z {} z{i}", (i % 40) as f64 / 8.0));
    }
    for i in 300..600 {
        s.push(format!("SADD si {}", i * 3));
    }
    for line in [
        "OBJECT ENCODING h",
        "HLEN h",
        "HGET h f150",
        "HMGET h f0 f299 f300",
        "HSTRLEN h f299",
        "HEXISTS h f7",
        "HINCRBY h f10 5",
        "HINCRBYFLOAT h f11 0.5",
        "HDEL h f1 f2 f1000",
        "HLEN h",
        "OBJECT ENCODING l",
        "LLEN l",
        "LRANGE l 100 110",
        "LRANGE l -5 -1",
        "LINDEX l 250",
        "LINDEX l -300",
        "LPOS l e5 RANK 3 COUNT 4",
        "LPOS l e5 RANK -2 MAXLEN 50",
        "LPOS l e16 COUNT 0",
        "LINSERT l BEFORE e16 new",
        "LREM l 3 e3",
        "LREM l -2 e4",
        "LSET l 150 mid",
        "LTRIM l 10 -10",
        "LLEN l",
        "LRANGE l 0 20",
        "LRANGE l 140 150",
        "OBJECT ENCODING si",
        "SCARD si",
        "SISMEMBER si 1797",
        "SISMEMBER si 1798",
        "SMISMEMBER si 0 1 3",
        "SINTERCARD 2 si ss",
        "SINTERCARD 1 si LIMIT 10",
        "OBJECT ENCODING ss",
        "SCARD ss",
        "SREM ss m1 m2 nothere",
        "SCARD ss",
        "SDIFFSTORE d ss ss",
        "EXISTS d",
        "SINTERSTORE d ss si",
        "EXISTS d",
        "SUNIONSTORE d ss si",
        "SCARD d",
        "OBJECT ENCODING z",
        "ZCARD z",
        "ZRANGE z 0 9 WITHSCORES",
        "ZRANGE z -3 -1 WITHSCORES",
        "ZRANGEBYSCORE z 2 (2.25 WITHSCORES LIMIT 2 3",
        "ZREVRANGEBYSCORE z 4 3.5 LIMIT 0 4",
        "ZRANK z z39",
        "ZREVRANK z z0",
        "ZCOUNT z 1 2",
        "ZINCRBY z -100 z123",
        "ZRANGE z 0 0 WITHSCORES",
        "ZREMRANGEBYRANK z 0 9",
        "ZREMRANGEBYSCORE z (4 +inf",
        "ZCARD z",
        "ZPOPMAX z 3",
        "ZMPOP 1 z MIN COUNT 2",
        "ZRANGESTORE dz z 5 9",
        "ZRANGE dz 0 -1 WITHSCORES",
        "OBJECT ENCODING dz",
        "ZUNIONSTORE dz 2 z z WEIGHTS 1 2",
        "ZRANGE dz 0 4 WITHSCORES",
        "ZINTERCARD 2 z dz LIMIT 100",
        "SPOP si 0",
        "LPOP l 9223372036854775807",
        "EXISTS l",
    ] {
        s.push(line.to_string());
    }
    same_replies_owned(&s);
}

#[test]
fn collection_argument_errors_match_redis() {
    // Guards error texts for bad numbers, huge counts, syntax and arity in every family.
    same_replies(&[
        "HSET h a 1",
        "RPUSH l a b c",
        "SADD s a",
        "ZADD z 1 a 2 b",
        "HSET h a",
        "HMSET h a",
        "HGET h",
        "HINCRBY h a 1 2",
        "HINCRBYFLOAT h a 1e400",
        "HINCRBYFLOAT h a nan",
        "HRANDFIELD h -9223372036854775808",
        "HRANDFIELD h 1 WITHVALUES x",
        "HRANDFIELD h 5000000000000000000 WITHVALUES",
        "HRANDFIELD h -5000000000000000000 WITHVALUES",
        "HRANDFIELD nokey 4611686018427387904 WITHVALUES",
        "HRANDFIELD nokey 4611686018427387903 WITHVALUES",
        "ZRANDMEMBER z 5000000000000000000 WITHSCORES",
        "ZRANDMEMBER nokey -4611686018427387904 WITHSCORES",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 MATCH",
        "LPUSH l",
        "LRANGE l 0",
        "LINDEX l 9223372036854775808",
        "LPOP l 9223372036854775808",
        "LPOS l a MAXLEN -1",
        "LPOS l a RANK x",
        "LPOS l a FOO 1",
        "LMPOP -1 l LEFT",
        "LMPOP 9223372036854775807 l LEFT",
        "LMPOP 5 l LEFT",
        "LMPOP 1 l LEFT COUNT -1",
        "LMPOP 1 l LEFT COUNT 9223372036854775807",
        "LTRIM l x 1",
        "LREM l x a",
        "LINSERT l",
        "SADD s",
        "SPOP s 9223372036854775808",
        "SRANDMEMBER s 1 2",
        "SINTERCARD 9223372036854775807 s",
        "SINTERCARD 1 s LIMIT x",
        "SINTERCARD 1 s FOO 1",
        "SMOVE s",
        "SSCAN s x",
        "ZADD z",
        "ZADD z 1",
        "ZADD z 1e400 a",
        "ZADD z 0x10 a",
        "ZADD z INCR 1 a INCR",
        "ZADD z INCR nan a",
        "ZADD z INCR +inf a",
        "ZADD z INCR -inf a",
        "ZSCORE z a",
        "ZINCRBY z 1",
        "ZRANGE z 0 -1 LIMIT 0 1",
        "ZRANGE z 0 -1 BYSCORE BYLEX",
        "ZRANGE z (inf +inf BYSCORE",
        "ZRANGE z ((1 2 BYSCORE",
        "ZRANGE z a b BYLEX",
        "ZRANGE z - + BYLEX WITHSCORES",
        "ZRANGE z 0 -1 WITHSCORES WITHSCORES",
        "ZRANGEBYSCORE z 0 1 LIMIT 0",
        "ZRANGEBYSCORE z 0 1 LIMIT a b",
        "ZRANGESTORE d z - + BYLEX LIMIT 0 -1",
        "ZRANGESTORE d z 0 -1 WITHSCORES",
        "ZREMRANGEBYSCORE z x y",
        "ZREMRANGEBYLEX z a b",
        "ZPOPMIN z 9223372036854775808",
        "ZMPOP 1 z",
        "ZMPOP 1 z MIN COUNT -2",
        "ZMPOP 9223372036854775807 z MIN",
        "ZUNIONSTORE d -1 z",
        "ZUNIONSTORE d 9223372036854775807 z",
        "ZUNIONSTORE d 1 z WEIGHTS",
        "ZUNIONSTORE d 1 z WEIGHTS nan",
        "ZUNIONSTORE d 1 z AGGREGATE AVG",
        "ZUNION 1 z WITHSCORES WITHSCORES",
        "ZINTERCARD 1 z LIMIT -1",
        "ZDIFF 1 z WEIGHTS 1",
        "ZRANDMEMBER z -9223372036854775808",
        "ZRANDMEMBER z 1 WITHSCORES x",
        "ZLEXCOUNT z",
        "ZSCAN z 0 COUNT -1",
    ]);
}

#[test]
fn collection_oddities_match_redis() {
    // Guards empty strings, binary-ish members, float formatting and flag corner cases.
    same_replies(&[
        "HSET h  empty",
        "HSET h e  ",
        "HGET h ",
        "HSTRLEN h e",
        "HGETALL h",
        "HINCRBYFLOAT h f 0.1",
        "HINCRBYFLOAT h f 0.2",
        "HINCRBYFLOAT h g 1e-20",
        "HINCRBYFLOAT h g 1.10",
        "HINCRBYFLOAT h big 1e300",
        "HINCRBYFLOAT h big 1e300",
        "HINCRBYFLOAT h neg -0",
        "HSET h sp \\s1",
        "HINCRBY h sp 1",
        "HINCRBYFLOAT h sp 1",
        "HSET h lead 01",
        "HINCRBY h lead 1",
        "HINCRBYFLOAT h lead 1",
        "HSET h zz 1.5e2",
        "HINCRBYFLOAT h zz 0",
        "OBJECT ENCODING h",
        "HMGET h  e f g big neg sp lead zz",
        "RPUSH l  a ",
        "LRANGE l 0 -1",
        "LPOS l ",
        "LREM l 0 ",
        "LRANGE l 0 -1",
        "LINSERT l BEFORE  x",
        "LINSERT l BEFORE a ",
        "LRANGE l 0 -1",
        "SADD s  \\s x",
        "SISMEMBER s ",
        "SISMEMBER s \\s",
        "SCARD s",
        "SADD n 1 01 -0 0 +1",
        "OBJECT ENCODING n",
        "SCARD n",
        "SADD n2 9223372036854775807 -9223372036854775808",
        "SMEMBERS n2",
        "OBJECT ENCODING n2",
        "ZADD z 0.1 a 0.2 b 1e17 c 1.5e-7 d",
        "ZSCORE z a",
        "ZINCRBY z 0.2 a",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZADD z 0 ",
        "ZSCORE z ",
        "ZADD z 0 A 0 B 0 [ 0 ( 0 - 0 +",
        "ZRANGEBYSCORE z 0 0",
        "ZRANGEBYLEX z [ +",
        "ZRANGEBYLEX z - [",
        "ZRANGEBYLEX z ([ (a",
        "ZRANGEBYLEX z [- [+",
        "ZLEXCOUNT z - +",
        "ZADD z CH 0.1 a",
        "ZADD z CH 0.1 a 5 q",
        "ZADD z GT INCR -1 a",
        "ZADD z LT INCR 1 a",
        "ZADD z NX INCR 1 a",
        "ZADD z XX CH 7 a 7 newone",
        "ZSCORE z a",
        "ZADD z 1e308 m",
        "ZINCRBY z 1e308 m",
        "ZADD z -inf lo",
        "ZINCRBY z +inf lo",
        "ZSCORE z lo",
        "ZADD z 0.30000000000000004 p",
        "ZSCORE z p",
        "ZADD z 123456789.123456789 r",
        "ZSCORE z r",
        "ZRANGE z 0 3 WITHSCORES",
        "ZREVRANGEBYLEX z + - LIMIT 2 3",
        "ZRANGE z (0 (1 BYSCORE",
        "ZRANGE z +inf -inf BYSCORE",
        "ZRANGE z 0 -1 REV LIMIT 1 1",
    ]);
}

#[test]
fn whole_collection_random_replies_match_redis() {
    // Guards the deterministic cases of the random commands: a count covering the whole
    // small collection returns it in storage order.
    same_replies(&[
        "HSET h c 3 a 1 b 2",
        "HRANDFIELD h 3",
        "HRANDFIELD h 100 WITHVALUES",
        "ZADD z 3 c 1 a 2 b",
        "ZRANDMEMBER z 3",
        "ZRANDMEMBER z 100 WITHSCORES",
        "SADD i 30 10 20",
        "SRANDMEMBER i 3",
        "SRANDMEMBER i 100",
        "SPOP i 3",
        "EXISTS i",
        "SADD i 5 -5 0",
        "SPOP i 9223372036854775807",
    ]);
}

#[test]
fn pubsub_replies_match_redis() {
    // Guards the subscribe/unsubscribe confirmations and PUBSUB introspection texts.
    same_replies(&[
        "PUBLISH nobody hi",
        "PUBSUB NUMSUB a b",
        "PUBSUB NUMPAT",
        "PUBSUB CHANNELS",
        "PUBSUB SHARDNUMSUB x",
        "PUBSUB SHARDCHANNELS",
        "PUBSUB NOSUCH",
        "SUBSCRIBE a",
        "PSUBSCRIBE p*",
        "PING",
        "PING x",
        "UNSUBSCRIBE a",
        "PUNSUBSCRIBE",
        "UNSUBSCRIBE",
        "PING",
    ]);
}

#[test]
fn zset_scan_and_timeout_checks_match_redis() {
    // Guards ZSCAN's order (absent key, then type, then options, as SSCAN/HSCAN) and
    // BZPOPMIN's timeout reader (the long double one BLPOP uses: tiny timeouts round up).
    same_replies(&[
        "SET str v",
        "ZSCAN str 0 COUNT 0",
        "ZSCAN nokey 0 COUNT 0",
        "ZSCAN nokey 0 FOO",
        "ZADD z 1 a",
        "ZSCAN z 0 COUNT 0",
        "ZSCAN z 0 MATCH",
        "BZPOPMIN nokey 0.0001",
        "BZPOPMAX nokey 1e5000",
        "BZPOPMIN nokey -0.0011",
        "BZMPOP 0.0001 1 nokey MIN",
        "BZPOPMIN z 0.0001",
    ]);
}
