//! Unit tests of -BUSY in the dispatcher: which commands a shard with a script past
//! busy-reply-threshold still runs, the refusal inside MULTI and at EXEC, and the sending
//! shard's answer for a command headed to a busy shard.

use crate::commands::busy::{BUSY_EVAL, BUSY_FUNCTION};
use crate::config::Config;
use crate::global::Global;
use crate::shard::{Client, Shard};
use crate::testkit::{Harness, Reply};
use std::sync::atomic::Ordering::Relaxed;

fn set_busy(g: &Global, id: usize, busy: bool, function: bool) {
    let c = &g.script_runs[id];
    c.running.store(busy, Relaxed);
    c.busy.store(busy, Relaxed);
    c.is_function.store(function, Relaxed);
}

#[test]
fn a_busy_shard_refuses_all_but_the_allowed_commands() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v"]);
    set_busy(&h.shard.global, 0, true, false);
    for cmd in [
        &["GET", "k"][..],
        &["SET", "k", "w"],
        &["PING"],
        &["SELECT", "0"],
    ] {
        assert_eq!(h.run(cmd), Reply::err(BUSY_EVAL), "{cmd:?}");
    }
    // Redis' CMD_ALLOW_BUSY commands still run.
    assert!(matches!(h.run(&["HELLO", "2"]), Reply::Array(_)));
    assert_eq!(h.run(&["WATCH", "k"]), Reply::ok());
    assert_eq!(h.run(&["UNWATCH"]), Reply::ok());
    assert_eq!(
        h.run(&["SHUTDOWN", "ABORT"]),
        Reply::err("ERR No shutdown in progress.")
    );
    // SHUTDOWN without NOSAVE is refused while busy.
    assert_eq!(h.run(&["SHUTDOWN"]), Reply::err(BUSY_EVAL));
    assert_eq!(h.run(&["SHUTDOWN", "SAVE"]), Reply::err(BUSY_EVAL));
    // A function names FUNCTION KILL instead.
    set_busy(&h.shard.global, 0, true, true);
    assert_eq!(h.run(&["GET", "k"]), Reply::err(BUSY_FUNCTION));
    set_busy(&h.shard.global, 0, false, false);
    assert_eq!(h.run(&["GET", "k"]), Reply::bulk("v"));
}

#[test]
fn busy_inside_multi_dooms_the_transaction_and_exec_says_why() {
    let mut h = Harness::new();
    set_busy(&h.shard.global, 0, true, false);
    assert_eq!(h.run(&["MULTI"]), Reply::ok());
    assert_eq!(h.run(&["GET", "k"]), Reply::err(BUSY_EVAL));
    let abort = format!("EXECABORT Transaction discarded because of: {BUSY_EVAL}");
    assert_eq!(h.run(&["EXEC"]), Reply::err(&abort));
    // EXEC discarded it.
    assert_eq!(h.run(&["DISCARD"]), Reply::err("ERR DISCARD without MULTI"));
    set_busy(&h.shard.global, 0, false, false);
    assert_eq!(h.run(&["MULTI"]), Reply::ok());
    assert_eq!(h.run(&["EXEC"]), Reply::Array(vec![]));
}

/// Shard 0 of two, with one client.
fn two_shards() -> Harness {
    let global = Global::new(Config::default(), 2, None);
    let mut shard = Shard::new(0, 2, global);
    let client = shard.clients.insert(Client {
        id: 1,
        authenticated: true,
        ..Default::default()
    });
    let mut h = Harness::new();
    h.shard = shard;
    h.client = client;
    h
}

/// A key owned by shard `id` of two.
fn key_on(id: usize) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|k| crate::cluster::hash_slot::key_hash_slot(k.as_bytes()) as usize % 2 == id)
        .expect("a key")
}

#[test]
fn the_sending_shard_answers_busy_for_a_busy_owner() {
    let mut h = two_shards();
    let (here, there) = (key_on(0), key_on(1));
    set_busy(&h.shard.global, 1, true, false);
    assert_eq!(h.run(&["GET", &there]), Reply::err(BUSY_EVAL));
    // Keys here, and keyless commands, are not this shard's business to refuse.
    assert_eq!(h.run(&["GET", &here]), Reply::Nil);
    assert_eq!(h.run(&["PING"]), Reply::Simple("PONG".into()));
    // A command whose keys span the busy shard would park it: refused.
    assert_eq!(
        h.run(&["MSET", &here, "1", &there, "2"]),
        Reply::err(BUSY_EVAL)
    );
    // With replies pending on the connection, the owner decides (the script's own client
    // waits there for its reply instead).
    h.shard.replies_ahead = true;
    let argv = crate::resp::OwnedArgs::from_slices(&[b"GET", there.as_bytes()]);
    let mut buf = Vec::new();
    let mut out = crate::resp::Out::new(&mut buf, crate::resp::Proto::Resp2);
    let plan = super::plan(&mut h.shard, h.client, argv.args(), &mut out, h.now_ms);
    assert!(matches!(plan, super::Plan::Remote { shard: 1, .. }));
    assert!(buf.is_empty());
}

#[test]
fn exec_over_a_busy_shard_is_aborted_before_parking() {
    let mut h = two_shards();
    let (here, there) = (key_on(0), key_on(1));
    set_busy(&h.shard.global, 1, true, false);
    assert_eq!(h.run(&["MULTI"]), Reply::ok());
    assert_eq!(h.run(&["SET", &here, "1"]), Reply::Simple("QUEUED".into()));
    assert_eq!(h.run(&["SET", &there, "1"]), Reply::Simple("QUEUED".into()));
    let abort = format!("EXECABORT Transaction discarded because of: {BUSY_EVAL}");
    assert_eq!(h.run(&["EXEC"]), Reply::err(&abort));
    assert_eq!(h.run(&["GET", &here]), Reply::Nil);
}
