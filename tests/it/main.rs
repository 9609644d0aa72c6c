//! Integration tests: the real `slotd` binary driven by real clients (raw sockets, the `redis`
//! crate, redis-cli) on loopback. One crate so everything builds once.

mod aof;
mod aof_foreign;
mod blocking;
mod clients;
mod cluster;
mod cluster1;
mod cluster_bus;
mod command_table;
mod common;
mod compare;
mod databases;
mod evict;
mod failclosed;
mod failover;
mod frontdoor;
mod functions;
mod keyspace;
mod lazyfree;
mod memory;
mod migrate;
mod obuf;
mod protocol;
mod pubsub;
mod repl_clients;
mod repl_guard;
mod replication;
mod script_busy;
mod scripting;
mod scripting_aof;
mod scripting_engine;
mod scripting_fast;
mod scripting_libs;
mod shards;
mod startup;
mod types;
