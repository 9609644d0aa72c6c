//! slotd: a Redis Cluster node, thread-per-core on io_uring.
//!
//! Source map (mirrors README "Architecture"):
//! - `config`: redis.conf + command line -> `Config`.
//! - `server`: boot (memlock, listener, shards, bus), signals, shutdown.
//! - `net`: per-shard io_uring event loop, connections, reply ordering.
//! - `mesh`: every cross-shard message and the channels that carry them.
//! - `shard`: keyspace, clients, blocking waiters and subscriptions of one core.
//! - `dispatch`: one command from parse to handler (lookup, checks, routing, replay).
//! - `commands`: the command table and one file per family.
//! - `route`: pure redirect/ownership decisions.
//! - `cluster`: hash slots, slot maps, cluster state, nodes.conf.
//! - `resp`: protocol parsing and reply writing.
//! - `sys`: checked wrappers for every libc call (the only place libc is called).

pub mod aof;
pub mod auth;
pub mod cluster;
pub mod command_id;
pub mod commands;
pub mod config;
pub mod constants;
pub mod dispatch;
pub mod glob;
pub mod global;
pub mod log;
pub mod mesh;
pub mod net;
pub mod rdb;
pub mod replication;
pub mod resp;
pub mod route;
pub mod server;
pub mod shard;
pub mod sys;
pub mod testkit;
pub mod topology;
pub mod types;
