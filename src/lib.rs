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
//! - `cluster`: hash slots, slot maps, cluster state, nodes.conf (sans-IO).
//! - `bus`: the cluster bus driver (glommio executor) that runs the cluster state.
//! - `clock`: wall and monotonic unix-ms clocks, random ids.
//! - `log`: Redis-style log lines and the log level.
//! - `resp`: protocol parsing and reply writing.
//! - `sys`: checked wrappers for libc calls made in several places.
//!
//! The modules form layers (docs/architecture.md, "Layers"; enforced by tests/layers.rs).

pub mod aof;
pub mod auth;
pub mod bus;
pub mod clock;
pub mod cluster;
pub mod command_id;
pub mod commands;
pub mod config;
pub mod constants;
pub mod dispatch;
pub mod glob;
pub mod global;
pub mod keyspace;
pub mod log;
pub mod mesh;
pub mod net;
pub mod rdb;
pub mod replication;
pub mod resp;
pub mod rng;
pub mod route;
pub mod server;
pub mod shard;
pub mod sys;
pub mod testkit;
pub mod topology;
pub mod types;
