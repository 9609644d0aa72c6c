//! AOF storage, per shard: the journal commands write to, the segment files, the manifest, the
//! start-up checks, and base serialization for rewrites. Files and bytes only: no shard, no
//! process-wide state, so the shard and `Global` hold these types from below. Starting,
//! loading and rewriting a shard's AOF is `aof`, above the shard. Format: docs/aof.md.

pub mod check;
pub mod foreign;
pub mod journal;
pub mod manifest;
pub mod rewrite;
pub mod segment;
