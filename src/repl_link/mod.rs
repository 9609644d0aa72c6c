//! The replication drivers: the replica's link to its master (a thread with a blocking
//! socket that routes the master's records to the shards through the dispatcher), a master's
//! per-replica sender threads, keeping a replica's history across a clean restart (files read
//! at start, written at shutdown), and the shutdown wait for replicas to catch up. The state
//! they work on is `replication` and `global::repl`, below. Design: docs/replication.md.

pub mod block;
pub mod fullsync;
pub mod payload;
pub mod replica;
pub mod resume;
pub mod sender;
pub mod shutdown;
