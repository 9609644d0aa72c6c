//! Output buffer limits as the event loops and commands use them: the value type, its syntax
//! and the hard/soft check are a config value (`config::obuf`, re-exported here); this file
//! makes new limits visible to the running shards and replica senders.

pub use crate::config::obuf::*;

/// Makes new limits visible to the shards (next turn) and to the replica senders.
pub fn publish(global: &crate::global::Global, limits: Limits) {
    global.obuf.store(limits);
    global.repl.state().replica_obuf = limits.get(Class::Replica);
}
