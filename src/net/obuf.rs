//! Output buffer limits as the event loops use them: the value type, its syntax and the
//! hard/soft check are a config value (`config::obuf`, re-exported here); CONFIG SET makes new
//! limits visible to the running shards and replica senders (`commands::server`).

pub use crate::config::obuf::*;
