//! A script past busy-reply-threshold (alias lua-time-limit): the setting as Redis shows and
//! checks it, -BUSY for the script's shard, SCRIPT KILL / FUNCTION KILL, SHUTDOWN NOSAVE, and
//! other shards serving their clients meanwhile. Side by side with redis-server 7.0 where
//! Redis has the behaviour; every test uses a small threshold and stays bounded.

use crate::compare::same_replies;

#[test]
fn busy_reply_threshold_and_its_alias_match_redis() {
    same_replies(&[
        "CONFIG GET busy-reply-threshold",
        "CONFIG GET lua-time-limit",
        "CONFIG SET lua-time-limit 250",
        "CONFIG GET busy-reply-threshold",
        "CONFIG GET lua-time-limit",
        "CONFIG SET busy-reply-threshold 0",
        "CONFIG GET lua-time-limit",
        "CONFIG SET lua-time-limit -1",
        "CONFIG SET busy-reply-threshold abc",
        "CONFIG SET busy-reply-threshold 5000",
        "CONFIG GET busy-reply-threshold",
    ]);
}
