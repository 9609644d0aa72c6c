//! Stream commands against Debian's redis-server 7.0: the same scripts (good input and every
//! kind of bad input) give byte-identical replies in RESP2 and RESP3, with one shard and with
//! several; XREAD/XREADGROUP blocking with real second clients; the journaled forms survive an
//! AOF restart. Skipped (with a message) where redis-server is needed and not installed.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;

/// Runs each line (split on spaces; `\s` stands for a space inside an argument) on a fresh
/// redis-server and a fresh slotd started with `extra`, in RESP2 and then RESP3 (after a
/// FLUSHALL), asserting byte-equal replies.
pub fn same_stream_replies(extra: &[&str], script: &[&str]) {
    let Some(redis) = Redis::start("streams") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(extra);
    for hello in [None, Some("3")] {
        let mut a = Raw::connect(redis.port);
        let mut b = slotd.raw();
        let mut run = |line: &str| -> (Vec<u8>, Vec<u8>) {
            let parts: Vec<Vec<u8>> = line
                .split(' ')
                .map(|p| p.replace("\\s", " ").into_bytes())
                .collect();
            let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
            let req = cmd(&refs);
            a.send(&req);
            b.send(&req);
            (read_reply(&mut a), read_reply(&mut b))
        };
        run("FLUSHALL");
        if let Some(v) = hello {
            run(&format!("HELLO {v}"));
        }
        for line in script {
            let (want, got) = run(line);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "slotd vs redis for `{line}` (HELLO {hello:?}, {extra:?})"
            );
        }
    }
}

/// XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM and XSETID: replies and every error text.
const WRITES: &[&str] = &[
    "xadd s 1-1 a 1",
    "xadd s 1-1 a 1",
    "xadd s 1-* b 2",
    "xadd s 2 c 3 d 4",
    "xadd s 0 a 1",
    "xadd s 0-0 a 1",
    "xadd s 0-* a 1",
    "xadd s * a",
    "xadd s nomkstream 5-0 a",
    "xadd nokey nomkstream * a 1",
    "xadd s maxlen x * a 1",
    "xadd s maxlen -1 * a 1",
    "xadd s limit 5 3-0 a 1",
    "xadd s maxlen 5 limit 5 3-0 a 1",
    "xadd s maxlen 5 minid 5 3-0 a 1",
    "xadd s maxlen ~ 5 limit -1 3-0 a 1",
    "xadd s minid ~ x 3-0 a 1",
    "xadd s maxlen = 10 3-0 a 1",
    "xadd s maxlen ~ 10 limit 3 4-0 a 1",
    "xadd s badid a 1",
    "xadd s 1--5 a 1",
    "xlen s",
    "xlen nokey",
    "xrange s - +",
    "xrevrange s + -",
    "xrange s - + count 2",
    "xrevrange s + - count 1",
    "xrange s - + count 0",
    "xrange nokey - + count 0",
    "xrange s - + count -5",
    "xrange s (1-1 +",
    "xrange s - (2-0",
    "xrange s (- +",
    "xrange s ( +",
    "xrange s 1 1",
    "xrange s - + count",
    "xrange s - + foo 1",
    "xrange s 18446744073709551615 +",
    "xrange s (18446744073709551615-18446744073709551615 +",
    "xrange s - (0-0",
    "xdel s 1-2 9-9",
    "xdel s bad",
    "xdel nokey bad",
    "xlen s",
    "xrange s - +",
    "set str x",
    "xadd str * a 1",
    "xlen str",
    "xrange str - +",
    "xdel str 1-1",
    "xtrim str maxlen 0",
    "xtrim s maxlen",
    "xtrim s limit 5",
    "xtrim s foo 5",
    "xtrim s maxlen 100",
    "xtrim s minid 2",
    "xtrim nokey maxlen 0",
    "xrange s - +",
    "xsetid s 1-0",
    "xsetid s 5-0 entriesadded -1",
    "xsetid s 5-0 maxdeletedid 6-0",
    "xsetid nokey 5-0",
    "xsetid s 5-0 foo",
    "xsetid s 5-0 entriesadded 1",
    "xsetid s 9-0 entriesadded 10 maxdeletedid 8-0",
    "xsetid str 9-0",
    "xadd s 9-0 a 1",
    "xadd s 9-* a 1",
    "xadd s 10-* a 1",
    "xrange s - +",
    "xsetid s 18446744073709551615-18446744073709551615",
    "xadd s * a 1",
    "xadd s maxlen",
    "xadd s",
    "xtrim s",
    "xdel s",
    "xrange s -",
];

/// Consumer groups, XREAD/XREADGROUP without blocking, XINFO and their errors (only fields
/// that do not depend on the clock).
const GROUPS: &[&str] = &[
    "xadd s 1-0 a 1",
    "xadd s 2-0 b 2 c 3",
    "xadd s 3-0 d 4",
    "xgroup create s g 0",
    "xgroup create s g 0",
    "xgroup create s g2 $ entriesread 1",
    "xgroup create s g3 0 entriesread -2",
    "xgroup create s g3 0 foo",
    "xgroup create nokey g 0",
    "xgroup create nokey g 0 mkstream",
    "xgroup create nokey2 g bad mkstream",
    "exists nokey2",
    "xgroup create s g4 bad",
    "xgroup setid s nog 0",
    "xgroup setid s g 0 entriesread",
    "xgroup setid s g 0 entriesread x",
    "xgroup setid s g 0 foo 5",
    "xgroup setid s g 0 entriesread -3",
    "xgroup setid s g (1-0",
    "xgroup setid s g - entriesread 0",
    "xgroup createconsumer s g c1",
    "xgroup createconsumer s g c1",
    "xgroup createconsumer s nog c1",
    "xgroup delconsumer s g c9",
    "xgroup delconsumer s g c1",
    "xgroup destroy s nog",
    "xgroup destroy s g2",
    "xgroup foo s g",
    "xgroup create s",
    "xgroup help",
    "xgroup help x",
    "xinfo help",
    "xinfo foo s",
    "xinfo groups s x",
    "xinfo stream nokey",
    "xinfo consumers s nog",
    "xinfo stream s full count",
    "xinfo stream s fulll",
    "xinfo stream s",
    "xinfo groups s",
    "xreadgroup group g alice count 2 streams s >",
    "xinfo groups s",
    "xdel s 2-0",
    "xinfo stream s",
    "xinfo groups s",
    "xpending s g",
    "xpending s g - + 10 nobody",
    "xpending s g idle 5 - +",
    "xpending s g - + x",
    "xpending s g x + 10",
    "xpending s g - + 10 a b",
    "xpending s nog",
    "xpending nokey g",
    "xreadgroup group g alice streams s 0",
    "xreadgroup group g bob streams s 0",
    "xreadgroup group g alice count 1 streams s 1-0",
    "xreadgroup group g alice streams s >",
    "xreadgroup group g alice streams s >",
    "xinfo groups s",
    "xack s g 1-0 9-9",
    "xack s g bad",
    "xack s nog 1-0",
    "xack nokey g 1-0",
    "xpending s g",
    "xclaim s nog c 0 1-0",
    "xclaim s g c x 1-0",
    "xclaim s g c 0 1-0 foo",
    "xclaim s g c 0 1-0 idle x",
    "xclaim s g c 0 1-0 time x",
    "xclaim s g c 0 1-0 retrycount x",
    "xclaim s g c 0 1-0 lastid x",
    "xclaim s g carol 0 3-0 justid",
    "xclaim s g carol 0 2-0",
    "xclaim s g dave 0 1-0 force justid",
    "xclaim s g dave 0 1-0 force",
    "xpending s g",
    "xautoclaim s g bob 0 0 count 0",
    "xautoclaim s g bob 0 0 count x",
    "xautoclaim s g bob 0 x",
    "xautoclaim s g bob x 0",
    "xautoclaim s g bob 0 0 foo",
    "xautoclaim s nog bob 0 0",
    "xautoclaim s g bob 0 0 justid",
    "xautoclaim s g bob 0 (0-0 count 1",
    "xautoclaim s g bob 0 0 count 1",
    "xgroup create s g5 0",
    "xreadgroup group g5 zed noack streams s >",
    "xinfo groups s",
    "xreadgroup group g5 zed count 1 streams s 0",
    "set str x",
    "xgroup create str g 0",
    "xreadgroup group g c streams str >",
    "xinfo stream str",
    "xpending str g",
    "xack str g 1-0",
    "xclaim str g c 0 1-0",
    "xautoclaim str g c 0 0",
    "xread streams s",
    "xread streams a b c",
    "xreadgroup group g c streams a b c",
    "xread count 1 streams",
    "xread group a b streams s 0",
    "xread noack streams s 0",
    "xread streams s >",
    "xreadgroup streams s >",
    "xreadgroup group g c streams s $",
    "xreadgroup group g c streams s x",
    "xreadgroup group nog c streams s >",
    "xread block -1 streams s $",
    "xread block 1.5 streams s $",
    "xread count -5 streams s 0",
    "xread count x streams s 0",
    "xread streams s nokey 0 0",
    "xread streams nokey 0",
    "xread count 1 streams s nokey 0 0",
    "xread streams s $",
    "xread foo streams s 0",
    "xreadgroup group g c count 1 streams s nokey > >",
    "multi",
    "xread block 0 streams s $",
    "xreadgroup group g c block 0 streams s >",
    "exec",
];

/// Limits and corners: huge and negative counts, the largest IDs, emptied streams, group
/// counters set by hand (negative lag), many fields; the keys COMMAND GETKEYS finds.
const EDGES: &[&str] = &[
    "xadd s 1-0 a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 j 10",
    "xadd s 2-0 a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9",
    "xadd s 3-0 a 1 b 2 c 3",
    "xrange s - + count 9223372036854775807",
    "xrange s - + count 9223372036854775808",
    "xrevrange s + - count -9223372036854775808",
    "xread count 9223372036854775807 streams s 0",
    "xadd s maxlen 9223372036854775807 4-0 a 1",
    "xadd s maxlen 9223372036854775808 5-0 a 1",
    "xadd s minid 18446744073709551615 5-0 a 1",
    "xlen s",
    "xadd s 6-0 a 1",
    "xadd s maxlen ~ 0 limit 9223372036854775807 7-0 a 1",
    "xadd s maxlen ~ 0 limit 0 8-0 a 1",
    "xlen s",
    "xadd s MAXLEN = 1 9-0 a 1",
    "xrange s - +",
    "xtrim s MINID = 9-0",
    "xtrim s MINID = 10",
    "xlen s",
    "xadd s 10-0 x y",
    "xadd s 10-0 x y",
    "xadd s 10-1 x y",
    "xadd s 10-18446744073709551615 x y",
    "xadd s 10-* x y",
    "xadd s 11-* x y",
    "xgroup create s g 0",
    "xautoclaim s g c 0 0 count 9223372036854775807",
    "xautoclaim s g c 0 0 count 576460752303423487",
    "xautoclaim s g c 0 0 count 576460752303423488",
    "xautoclaim s g c -5 0",
    "xclaim s g c -5 10-0",
    "xpending s g - + 9223372036854775807",
    "xpending s g - + -1",
    "xpending s g idle x - + 10",
    "xpending s g idle 5 - + 10 c extra",
    "xinfo stream s full count 0",
    "xinfo stream s full count 1",
    "xinfo stream s full count x",
    "xreadgroup group g c count 1 streams s >",
    "xreadgroup group g c count 0 streams s >",
    "xinfo groups s",
    "xgroup setid s g 10-0 entriesread 5",
    "xinfo groups s",
    "xgroup setid s g $",
    "xinfo groups s",
    "xgroup setid s g + entriesread 100",
    "xinfo groups s",
    "xreadgroup group g c streams s >",
    "xadd s 20-0 new 1",
    "xinfo groups s",
    "xreadgroup group g c streams s >",
    "xinfo groups s",
    "xinfo stream s",
    "xdel s 20-0 10-0",
    "xinfo stream s",
    "xinfo groups s",
    "xsetid s 99-0 entriesadded 100 maxdeletedid 50-0",
    "xinfo stream s",
    "xinfo groups s",
    "xadd e 1-0 a 1",
    "xdel e 1-0",
    "xinfo stream e",
    "xinfo stream e full",
    "xrange e - +",
    "xread streams e 0",
    "xgroup create e g $",
    "xinfo groups e",
    "xadd e maxlen 0 2-0 a 1",
    "xinfo stream e",
    "xlen e",
    "exists e",
    "xtrim e maxlen 0",
    "exists e",
    "del e",
    "xadd e nomkstream maxlen 0 * a 1",
    "xgroup createconsumer e g c",
    "xread streams s s 0 0",
    "xread count 1 streams s s 0 (0",
    "xrange s (10-0 (10-1",
    "xrange s 20 10",
    "xrevrange s 10 20",
    "xack s g 10-0 10-0 10-0",
    "xdel s 1-0 1-0",
    "command getkeys xread count 1 streams a b 0 0",
    "command getkeys xreadgroup group g c noack block 0 streams a b > >",
    "command getkeys xread streams a",
    "command getkeys xread streams",
    "command getkeys xadd s * a 1",
    "command getkeysandflags xreadgroup group g c streams a >",
    "command getkeysandflags xadd s maxlen ~ 5 * a 1",
    "command getkeys xgroup create s g $",
    "command getkeys xinfo stream s",
    "command getkeys xread foo streams a 0",
];

#[test]
fn stream_writes_and_ranges_match_redis() {
    // Guards the reply bytes and error texts of the non-group commands.
    same_stream_replies(&[], WRITES);
}

#[test]
fn stream_limits_and_corners_match_redis() {
    // Guards huge and negative numbers, ID overflow, emptied streams and XINFO's counters.
    same_stream_replies(&[], EDGES);
}

#[test]
fn stream_groups_and_reads_match_redis() {
    // Guards consumer groups, XREAD/XREADGROUP without BLOCK and XINFO, one shard and three.
    same_stream_replies(&[], GROUPS);
    same_stream_replies(&["--server-threads", "3"], GROUPS);
}

mod blocking;
mod journal;

mod random;
