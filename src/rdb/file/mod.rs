//! Whole RDB files (and replication payloads, which are the same bytes): `write` appends the
//! pieces of a version-10 file as Redis 7.0 writes them; `read` walks a file's items back.
//! Pure: the callers own the files, sockets and the keyspace.
//!
//! Layout: `REDIS0010`, aux fields, function libraries, then per database a SELECTDB (and an
//! optional RESIZEDB hint) and its keys, each optionally preceded by its expiry and LRU/LFU
//! data, then the EOF opcode and the CRC-64 of every byte before it (0 with `rdbchecksum no`).
//! A database may be selected more than once: Redis' loader only switches, so the chunks of
//! several shards can follow each other, each starting with its own SELECTDB.

// Until the parts of issue 16 that save, load and replicate (B, C, D) call them, only tests
// do: these lines go when they land.
#[cfg_attr(not(test), allow(dead_code))]
pub mod read;
#[cfg_attr(not(test), allow(dead_code))]
pub mod write;

/// The first bytes of every file slotd writes: the magic and the version Redis 7.0 writes.
#[cfg_attr(not(test), allow(dead_code))]
pub const MAGIC: &[u8; 9] = b"REDIS0010";
/// The newest version the reader accepts (Redis 7.2 writes 11, with listpack sets).
pub const READ_VERSION_MAX: u32 = 11;

/// RDB opcodes (the bytes in the type position that are not value types).
#[cfg_attr(not(test), allow(dead_code))]
pub mod opcode {
    pub const FUNCTION2: u8 = super::super::OPCODE_FUNCTION2;
    pub const FUNCTION_PRE_GA: u8 = super::super::OPCODE_FUNCTION_PRE_GA;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

#[cfg(test)]
mod tests;
