//! Redis Cluster logic. `hash_slot` and `slot_map` are shared with the shards; the rest is the
//! cluster state (sans-IO) and its persistence in nodes.conf. No sockets, threads, shards or
//! process-wide state here: the bus driver (`crate::bus`) runs this core and performs the
//! actions it returns.

pub mod cron;
pub mod failover;
pub mod gossip;
pub mod hash_slot;
pub mod links;
pub mod message;
pub mod node;
pub mod nodes_conf;
pub mod policy;
#[cfg(test)]
mod sim;
pub mod slot_map;
pub mod state;
