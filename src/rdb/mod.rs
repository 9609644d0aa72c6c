//! Redis' serialization of one value as DUMP/RESTORE and MIGRATE carry it: the RDB type byte,
//! the value in RDB encoding, the RDB version (2 bytes LE) and a CRC-64 (8 bytes LE) of all that
//! precedes it. `dump` writes what Redis 7.0 writes for the same value; `restore` accepts every
//! encoding a 7.0 payload may contain (and the older ziplist ones). Pure: no keyspace, no I/O.

pub mod crc64;
pub mod digest;
pub mod dump;
pub mod file;
pub mod listpack;
pub mod load;
pub mod lzf;

pub use dump::{dump, DumpOpts};
pub use load::{function_codes, restore};

/// The RDB version Redis 7.0 writes, and the newest a payload may carry.
pub const RDB_VERSION: u16 = 10;
/// Version (2 bytes) and CRC-64 (8 bytes) closing every payload.
pub const FOOTER_BYTES: usize = 10;

/// RDB value type bytes.
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    /// Module values (4.0 release candidates, then 4.0 on): slotd has no modules.
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    /// Hashes of Redis before 2.6 (files only).
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Redis 7.2 (RDB version 11): listpack sets, and streams with consumers' active times.
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Why a payload was refused; each maps to Redis' exact error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short, newer than version 10, or the checksum does not match.
    VersionOrChecksum,
    /// The checksum is fine but the value cannot be decoded.
    BadData,
}

impl PayloadError {
    pub fn text(self) -> &'static str {
        match self {
            PayloadError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            PayloadError::BadData => "ERR Bad data format",
        }
    }
}

/// RDB opcodes of a FUNCTION DUMP payload: one library's code (7.0 GA), and the format of
/// the 7.0 release candidates, which slotd does not read.
pub const OPCODE_FUNCTION2: u8 = 245;
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// Closes a payload body: the RDB version, then the CRC-64 of everything before it.
pub fn seal(b: &mut Vec<u8>) {
    b.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, b);
    b.extend_from_slice(&crc.to_le_bytes());
}

/// Checks the footer and returns the body (type byte and value).
pub fn verify(payload: &[u8]) -> Result<&[u8], PayloadError> {
    let bad = PayloadError::VersionOrChecksum;
    let body_len = payload.len().checked_sub(FOOTER_BYTES).ok_or(bad)?;
    let footer = &payload[body_len..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(bad);
    }
    let mut crc_bytes = [0u8; 8];
    crc_bytes.copy_from_slice(&footer[2..]);
    if crc64::crc64(0, &payload[..body_len + 2]) != u64::from_le_bytes(crc_bytes) {
        return Err(bad);
    }
    Ok(&payload[..body_len])
}

/// Writes an RDB length in its shortest form.
pub fn put_len(buf: &mut Vec<u8>, n: u64) {
    if n < 64 {
        buf.push(n as u8);
    } else if n < 16384 {
        buf.push(0x40 | (n >> 8) as u8);
        buf.push(n as u8);
    } else if n <= u32::MAX as u64 {
        buf.push(0x80);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        buf.push(0x81);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes a string as Redis' `rdbSaveRawString` does: small canonical integers in 32-bit range
/// as integers, strings over 20 bytes LZF-compressed when that saves at least 4 bytes.
pub fn put_string(buf: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = crate::resp::parse::parse_i64(s) {
            if let Ok(b) = i8::try_from(v) {
                buf.extend_from_slice(&[0xC0, b as u8]);
                return;
            }
            if let Ok(h) = i16::try_from(v) {
                buf.push(0xC1);
                buf.extend_from_slice(&h.to_le_bytes());
                return;
            }
            if let Ok(w) = i32::try_from(v) {
                buf.push(0xC2);
                buf.extend_from_slice(&w.to_le_bytes());
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            buf.push(0xC3);
            put_len(buf, c.len() as u64);
            put_len(buf, s.len() as u64);
            buf.extend_from_slice(&c);
            return;
        }
    }
    put_len(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

#[cfg(test)]
mod tests;
