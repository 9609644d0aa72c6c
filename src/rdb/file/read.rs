//! Walking an RDB file's items back, from a byte slice holding the whole file (read or
//! memory-mapped by the caller): aux fields, function libraries, database switches, size hints
//! and keys with their expiry and LRU/LFU data, then the EOF opcode and the checksum. Values
//! decode through the same code as RESTORE (`rdb::load`), so every length is checked before
//! anything is allocated: a hostile file fails with a `ReadError`, never a panic. Versions 1
//! to 11 (Redis 7.2's listpack sets and stream consumers' active times included); module data
//! and pre-release function records are refused with Redis' words. Pure: no I/O, no keyspace.

use super::{opcode, READ_VERSION_MAX};
use crate::keyspace::value::Value;
use crate::rdb::load::{value, Cursor};
use crate::rdb::types;
use crate::types::zset::Limits;

/// `REDIS` and four version digits.
const HEADER_BYTES: usize = 9;
/// Files before version 5 end at the EOF opcode; later ones add the CRC-64.
const CHECKSUM_SINCE_VERSION: u32 = 5;
/// Bytes of the checksum after the EOF opcode.
const CHECKSUM_BYTES: usize = 8;
/// Milliseconds per second (the old EXPIRETIME opcode stores seconds).
const MS_PER_S: u64 = 1000;

/// One item of a file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// A FUNCTION2 record: one library's code.
    Function {
        code: Vec<u8>,
    },
    SelectDb(u32),
    ResizeDb {
        keys: u64,
        expires: u64,
    },
    Key(KeyItem),
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeyItem {
    /// The database selected when the key came (0 before any SELECTDB).
    pub db: u32,
    pub key: Vec<u8>,
    pub value: Value,
    /// Absolute expiry in unix ms; 0: none (an expiry stored as 0 or negative reads as 1, long
    /// past, as Redis' loader treats it).
    pub expire_at_ms: u64,
    pub lru_idle_s: Option<u64>,
    pub lfu_freq: Option<u8>,
}

/// Why a file cannot be read, and where (the offset of the item that failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub offset: usize,
    pub reason: String,
}

impl ReadError {
    fn new(offset: usize, reason: impl Into<String>) -> Self {
        ReadError {
            offset,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.reason, self.offset)
    }
}

impl std::error::Error for ReadError {}

/// What the opcodes before a key said about it; cleared once the key is read.
#[derive(Default)]
struct KeyMeta {
    expire_at_ms: u64,
    lru_idle_s: Option<u64>,
    lfu_freq: Option<u8>,
}

pub struct Reader<'a> {
    c: Cursor<'a>,
    version: u32,
    zlim: Limits,
    db: u32,
    meta: KeyMeta,
    done: bool,
    checksum_skipped: bool,
    empty_keys_skipped: u64,
}

impl<'a> Reader<'a> {
    /// Checks the magic and the version (1..=READ_VERSION_MAX).
    pub fn new(data: &'a [u8], zlim: Limits) -> Result<Reader<'a>, ReadError> {
        if data.get(..5) != Some(&b"REDIS"[..]) {
            return Err(ReadError::new(
                0,
                "Wrong signature trying to load DB from file",
            ));
        }
        let version = data
            .get(5..HEADER_BYTES)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .and_then(|d| std::str::from_utf8(d).ok()?.parse::<u32>().ok())
            .unwrap_or(0);
        if !(1..=READ_VERSION_MAX).contains(&version) {
            let reason = format!("Can't handle RDB format version {version}");
            return Err(ReadError::new(5, reason));
        }
        Ok(Reader {
            c: Cursor::new(data, HEADER_BYTES),
            version,
            zlim,
            db: 0,
            meta: KeyMeta::default(),
            done: false,
            checksum_skipped: false,
            empty_keys_skipped: 0,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far: after Ok(None), where an AOF's RESP tail starts.
    pub fn offset(&self) -> usize {
        self.c.pos
    }

    /// Empty collections met so far (skipped, as Redis' loader skips them).
    pub fn empty_keys_skipped(&self) -> u64 {
        self.empty_keys_skipped
    }

    /// Whether the file ended with checksum 0 (`rdbchecksum no`) or predates checksums.
    pub fn checksum_skipped(&self) -> bool {
        self.checksum_skipped
    }

    /// The next item; Ok(None) after the EOF opcode and its checksum (checked unless 0 or the
    /// file's version < 5), and on every call after that.
    pub fn next(&mut self) -> Result<Option<Item>, ReadError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let at = self.c.pos;
            let t = self.c.byte().map_err(|_| short(at))?;
            let item = match t {
                opcode::EXPIRETIME_MS => {
                    let ms = self.c.ms_time().map_err(|_| short(at))? as i64;
                    self.meta.expire_at_ms = expiry_ms(ms);
                    continue;
                }
                opcode::EXPIRETIME => {
                    let b = self.c.take(4).map_err(|_| short(at))?;
                    let s = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
                    self.meta.expire_at_ms = expiry_ms(s.saturating_mul(MS_PER_S as i64));
                    continue;
                }
                opcode::IDLE => {
                    self.meta.lru_idle_s = Some(self.c.u64().map_err(|_| short(at))?);
                    continue;
                }
                opcode::FREQ => {
                    self.meta.lfu_freq = Some(self.c.byte().map_err(|_| short(at))?);
                    continue;
                }
                opcode::SELECTDB => {
                    let n = self.c.u64().map_err(|_| short(at))?;
                    let db = u32::try_from(n)
                        .map_err(|_| ReadError::new(at, format!("Bad database number {n}")))?;
                    self.db = db;
                    Item::SelectDb(db)
                }
                opcode::RESIZEDB => {
                    let keys = self.c.u64().map_err(|_| short(at))?;
                    let expires = self.c.u64().map_err(|_| short(at))?;
                    Item::ResizeDb { keys, expires }
                }
                opcode::AUX => {
                    let key = self.c.string().map_err(|_| short(at))?;
                    let value = self.c.string().map_err(|_| short(at))?;
                    Item::Aux { key, value }
                }
                opcode::FUNCTION2 => {
                    let code = self.c.string().map_err(|_| {
                        ReadError::new(at, "Failed loading library, bad library payload")
                    })?;
                    Item::Function { code }
                }
                opcode::FUNCTION_PRE_GA => {
                    return Err(ReadError::new(
                        at,
                        "Pre-release function format not supported.",
                    ))
                }
                opcode::MODULE_AUX => {
                    let id = self.c.u64().map_err(|_| short(at))?;
                    let reason = format!(
                        "The RDB file contains AUX module data I can't load: \
                         no matching module '{}'",
                        module_name(id)
                    );
                    return Err(ReadError::new(at, reason));
                }
                opcode::EOF => {
                    self.finish(at)?;
                    return Ok(None);
                }
                t => match self.key(at, t)? {
                    Some(k) => Item::Key(k),
                    None => continue,
                },
            };
            return Ok(Some(item));
        }
    }

    /// One key of value type `t` (its type byte read at `at`); None when it was an empty
    /// collection, skipped.
    fn key(&mut self, at: usize, t: u8) -> Result<Option<KeyItem>, ReadError> {
        let key = self.c.string().map_err(|_| short(at))?;
        let meta = std::mem::take(&mut self.meta);
        if t == types::MODULE_PRE_GA {
            return Err(ReadError::new(
                at,
                "Pre-release module format not supported",
            ));
        }
        if t == types::MODULE_2 {
            let id = self.c.u64().map_err(|_| short(at))?;
            let reason = format!(
                "The RDB file contains module data I can't load: no matching module type '{}'",
                module_name(id)
            );
            return Err(ReadError::new(at, reason));
        }
        if !is_value_type(t, self.version) {
            return Err(ReadError::new(at, format!("Unknown RDB encoding type {t}")));
        }
        let Some(value) = value(&mut self.c, t, self.version, self.zlim).map_err(|_| {
            let name = String::from_utf8_lossy(&key);
            ReadError::new(
                at,
                format!("Bad data format in key '{name}' (RDB type {t})"),
            )
        })?
        else {
            self.empty_keys_skipped += 1;
            return Ok(None);
        };
        Ok(Some(KeyItem {
            db: self.db,
            key,
            value,
            expire_at_ms: meta.expire_at_ms,
            lru_idle_s: meta.lru_idle_s,
            lfu_freq: meta.lfu_freq,
        }))
    }

    /// After the EOF opcode (at `at`): the checksum of every byte before it, then done.
    fn finish(&mut self, at: usize) -> Result<(), ReadError> {
        if self.version >= CHECKSUM_SINCE_VERSION {
            let covered = self.c.consumed();
            let b = self.c.take(CHECKSUM_BYTES).map_err(|_| short(at))?;
            let stored = u64::from_le_bytes(b.try_into().map_err(|_| short(at))?);
            if stored == 0 {
                self.checksum_skipped = true;
            } else {
                let computed = crate::rdb::crc64::crc64(0, covered);
                if computed != stored {
                    let reason = format!(
                        "Wrong RDB checksum expected: ({computed:x}) got: ({stored:x}). \
                         Aborting now."
                    );
                    return Err(ReadError::new(at + 1, reason));
                }
            }
        } else {
            self.checksum_skipped = true;
        }
        self.done = true;
        Ok(())
    }
}

/// A truncated file (or a malformed length where an opcode's operand was due).
fn short(at: usize) -> ReadError {
    ReadError::new(
        at,
        "Short read or OOM loading DB. Unrecoverable error, aborting now.",
    )
}

/// A stored expiry as the KeyItem holds it: -1 is "none" to Redis' loader, other values at or
/// below 0 are long past.
fn expiry_ms(ms: i64) -> u64 {
    match ms {
        -1 => 0,
        i64::MIN..=0 => 1,
        ms => ms as u64,
    }
}

/// The value types a file of `version` may hold (module types are refused before this).
fn is_value_type(t: u8, version: u32) -> bool {
    match t {
        types::STRING..=types::ZSET_2 => true,
        types::HASH_ZIPMAP..=types::STREAM_LISTPACKS_2 => true,
        types::SET_LISTPACK | types::STREAM_LISTPACKS_3 => version >= 11,
        _ => false,
    }
}

/// A module type's 9-character name from its 64-bit id (54 bits of name, 6 per character from
/// the first, then 10 bits of encoding version), for the refusal text.
fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const NAME_CHARS: usize = 9;
    const ENCVER_BITS: u32 = 10;
    let mut rest = id >> ENCVER_BITS;
    let mut name = [0u8; NAME_CHARS];
    for c in name.iter_mut().rev() {
        *c = CHARSET[(rest & 63) as usize];
        rest >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}
