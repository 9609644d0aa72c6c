//! The collection value types (hash, list, set, sorted set): data structures and their pure
//! operations, independent of commands and of the keyspace.

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;
