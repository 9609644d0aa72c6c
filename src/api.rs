//! The crate's public surface: exactly what `src/main.rs`, `benches/` and `tests/it/` use.
//! Every other module is `pub(crate)`, so the compiler reports dead code instead of treating
//! each `pub` item as an export. Add a line here only for a caller outside the crate.

/// The binary's entry point: arguments in, exit code out.
pub use crate::server::main_with_args;
/// The global allocator the binary installs (counts used_memory).
pub use crate::sys::alloc::Allocator;

/// One shard's keyspace and values (benches/keyspace.rs).
pub use crate::keyspace::db::Db;
pub use crate::keyspace::value::{StrValue, Value};
/// The in-process shard harness (benches/keyspace.rs).
pub use crate::testkit::Harness;

/// Command lookup by name (benches/mesh.rs).
pub use crate::commands::lookup;
/// Cross-core messages and their channels (benches/mesh.rs).
pub use crate::mesh::{ConnRef, Mesh, MeshMsg, Replies, Requests};

/// The protocol parser and reply writer (benches/resp.rs, benches/mesh.rs).
pub use crate::resp::{Out, OwnedArgs, ParseOutcome, Parser, Proto};

/// Protected mode's refusal, byte for byte (tests/it/frontdoor.rs).
pub use crate::net::protected::DENIED_REPLY;

/// The cluster bus wire format, for forging hostile peers (tests/it/cluster_bus.rs).
pub use crate::cluster::message::{encode, Body, Gossip, Header, Message};
pub use crate::cluster::node::{flag, SlotBits};

/// The CRC-64 of DUMP payloads and RDB files (benches/rdb.rs).
pub use crate::rdb::crc64::crc64;
