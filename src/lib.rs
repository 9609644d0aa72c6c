//! slotd: a Redis Cluster node, thread-per-core on io_uring.
//!
//! Source map (mirrors README "Architecture"):
//! - `config`: redis.conf + command line -> `Config`.
//! - `server`: boot (memlock, listener, shards, bus), signals, shutdown.
//! - `net`: per-shard io_uring event loop, connections, reply ordering.
//! - `mesh`: every cross-shard message and the channels that carry them.
//! - `shard`: what one core owns: clients, blocking waiters, subscriptions, its replication
//!   and AOF state, around its keyspace.
//! - `keyspace`: one shard's data (slot tables, values), plain data below the shard.
//! - `lazyfree`: the worker thread that frees big deleted values off the shards.
//! - `aof_store` / `aof`: AOF files and bytes (below the shard) / a shard's AOF at run time.
//! - `global`: process-wide state (config, ids, the replication state, the Pub/Sub index).
//! - `replication`: feeding the stream, role changes, the master and replica links.
//! - `dispatch`: one command from parse to handler (lookup, checks, routing, replay).
//! - `commands`: the command table and one file per family.
//! - `route`: pure redirect/ownership decisions.
//! - `cluster`: hash slots, slot maps, cluster state, nodes.conf (sans-IO).
//! - `bus`: the cluster bus driver (glommio executor) that runs the cluster state.
//! - `clock`: wall and monotonic unix-ms clocks, random ids.
//! - `log`: Redis-style log lines and the log level.
//! - `resp`: protocol parsing and reply writing.
//! - `lua`: the Lua engine of EVAL and FUNCTION (VM, sandbox, `redis` table, libraries).
//! - `sys`: checked wrappers for every libc call (the only place libc is called).
//! - `api`: the public surface (main.rs, benches, integration tests); the rest is crate-private.
//!
//! The modules form layers (docs/architecture.md, "Layers"; enforced by tests/layers.rs).

pub(crate) mod aof;
pub(crate) mod aof_load;
pub(crate) mod aof_store;
pub mod api;
pub(crate) mod auth;
pub(crate) mod bus;
pub(crate) mod clock;
pub(crate) mod cluster;
pub(crate) mod command_id;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod constants;
pub(crate) mod dispatch;
pub(crate) mod glob;
pub(crate) mod global;
pub(crate) mod keyspace;
pub(crate) mod lazyfree;
pub(crate) mod log;
// Until the dispatcher runs scripts through it (issue 14, in progress).
#[allow(dead_code)]
pub(crate) mod lua;
pub(crate) mod mesh;
pub(crate) mod net;
pub(crate) mod rdb;
pub(crate) mod rdb_load;
pub(crate) mod rdb_save;
pub(crate) mod repl_link;
pub(crate) mod replication;
pub(crate) mod resp;
pub(crate) mod rng;
pub(crate) mod route;
pub(crate) mod server;
pub(crate) mod shard;
pub(crate) mod sys;
pub(crate) mod testkit;
pub(crate) mod topology;
pub(crate) mod types;
