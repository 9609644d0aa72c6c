//! The keyspace of one shard as plain data: `db` (a table per owned slot, lazy expiry, the TTL
//! index) and `value` (what a key holds). No I/O, no shard, no process-wide state, so the AOF
//! and replication snapshot writers and the DUMP encoder read it from below `shard`, which
//! owns one `Db` per core (and re-exports these modules as `shard::db` / `shard::value`).

pub mod db;
pub mod entry;
pub mod evict;
pub mod prefetch;
pub mod table;
pub mod value;
