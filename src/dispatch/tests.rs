//! Unit tests of the dispatcher's guards and paths that no single command family owns.

use super::{run_client_key, run_key, Keys};
use crate::replication::min_replicas::NOREPLICAS_TEXT;
use crate::resp::{Out, OwnedArgs, Proto};
use crate::testkit::{Harness, Reply};
use std::sync::atomic::Ordering;

#[test]
fn cluster_guard_is_for_clients_only() {
    // Guards the apply path: in cluster mode a refused write is answered to a client's
    // command on its owner shard, but a master's record (or a blocked command resuming,
    // both through `run_key`) is still applied.
    let mut h = Harness::new();
    let mut map = (*h.shard.slot_map).clone();
    map.cluster_enabled = true;
    h.shard.slot_map = std::sync::Arc::new(map);
    h.shard
        .global
        .repl
        .writes_refused
        .store(true, Ordering::Relaxed);
    let run = |h: &mut Harness, client: bool, argv: &[&[u8]]| {
        let owned = OwnedArgs::from_slices(argv);
        let spec = crate::commands::lookup(argv[0]).expect("known command");
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, Proto::Resp2);
        if client {
            let keys = Keys::unknown();
            run_client_key(
                &mut h.shard,
                spec,
                owned.args(),
                keys,
                &mut out,
                h.now_ms,
                None,
            );
        } else {
            run_key(&mut h.shard, spec, owned.args(), &mut out, h.now_ms, None);
        }
        Reply::decode(&buf).expect("one reply").0
    };
    let set: &[&[u8]] = &[b"SET", b"k", b"v"];
    assert_eq!(run(&mut h, true, set), Reply::err(NOREPLICAS_TEXT));
    assert_eq!(run(&mut h, true, &[b"GET", b"k"]), Reply::Nil);
    assert_eq!(run(&mut h, false, set), Reply::ok());
    assert_eq!(run(&mut h, true, &[b"GET", b"k"]), Reply::bulk("v"));
}
