//! The command table: every command slotd knows, as data (name, arity with Redis' sign
//! convention, flags, key positions, docs, handler). Routing reads key positions from here only.
//! Family files (`string`, `keys`, `server`, `cluster`, ...) each export `COMMANDS`.

pub mod client;
pub mod cluster;
pub mod cluster_admin;
pub mod command_docs;
pub mod hash;
pub mod info;
pub mod keys;
pub mod list;
pub mod longdouble;
pub mod migrate;
pub mod persistence;
pub mod pubsub;
pub mod registry;
pub mod replication;
pub mod server;
pub mod set;
pub mod spec;
pub mod string;
pub mod transaction;
pub mod zset;

pub use registry::{
    all_commands, count_ids, exists, full_name, ids_by_name, install_renames, lookup, lookup_sub,
    name_of, spec_of,
};
pub use spec::{flags, ArgDoc, CommandSpec, Handler, KeySpec, FLAG_NAMES};

use crate::resp::{Args, Out, ReplyError};
use crate::shard::{Client, Shard};

pub type CmdResult = Result<(), ReplyError>;

/// Runs on the shard that owns the command's keys (possibly not the connection's shard).
pub type KeyFn = fn(&mut Exec<'_>, Args<'_>) -> CmdResult;
/// Runs on the connection's shard with access to the client; may fan out to all shards.
pub type ConnFn = fn(&mut ConnCtx<'_>, Args<'_>) -> CmdResult;

/// Reads a SCAN-family cursor as Redis' `strtoul` check does: empty is 0, an optional sign,
/// digits only, negative values wrap, values beyond 64 bits are "ERR invalid cursor".
pub fn parse_cursor(raw: &[u8]) -> Result<u64, ReplyError> {
    let invalid = || ReplyError::other("ERR invalid cursor");
    if raw.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match raw[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Context of a keyed handler: the executing shard, the time, the reply, and (inside a
/// cross-shard exclusive section) the other frozen shards.
pub struct Exec<'a> {
    pub now_ms: u64,
    pub out: Out<'a>,
    pub shard: &'a mut Shard,
    /// Indexed by shard id; non-null for shards frozen for this command (standalone multi-key).
    frozen: &'a [*mut Shard],
}

impl<'a> Exec<'a> {
    pub fn new(shard: &'a mut Shard, out: Out<'a>, now_ms: u64) -> Self {
        Exec {
            now_ms,
            out,
            shard,
            frozen: &[],
        }
    }

    /// # Safety
    /// Every non-null pointer must point at a shard whose thread is parked in an exclusive
    /// section for the whole life of this `Exec` (see `mesh::exclusive`).
    pub unsafe fn with_frozen(
        shard: &'a mut Shard,
        out: Out<'a>,
        now_ms: u64,
        frozen: &'a [*mut Shard],
    ) -> Self {
        Exec {
            now_ms,
            out,
            shard,
            frozen,
        }
    }

    /// The keyspace that holds `key` (this shard's, or a frozen peer's).
    pub fn db(&mut self, key: &[u8]) -> &mut crate::shard::db::Db {
        &mut self.shard_for(key).db
    }

    /// The shard that holds `key`.
    pub fn shard_for(&mut self, key: &[u8]) -> &mut Shard {
        if self.shard.shards == 1 {
            return self.shard;
        }
        let slot = crate::cluster::hash_slot::key_hash_slot(key);
        let id = crate::topology::shard_of(slot, self.shard.shards);
        if id == self.shard.id {
            return self.shard;
        }
        let p = self.frozen.get(id).copied().unwrap_or(std::ptr::null_mut());
        assert!(
            !p.is_null(),
            "key on shard {id} used outside an exclusive section"
        );
        // SAFETY: guaranteed by `with_frozen`'s contract: the owner thread is parked.
        unsafe { &mut *p }
    }

    /// Journals `args` as the record of this command's effect on `key` (on the shard holding
    /// it). A command that journals explicitly is not also journaled verbatim.
    pub fn journal(&mut self, key: &[u8], args: &[&[u8]]) {
        self.shard.journal.explicit = true;
        self.shard_for(key).journal.record(args);
    }

    /// Journals the whole current state of `key` (DEL, then the commands that recreate it):
    /// for effects that have no cheap deterministic command form across shards (RENAME, COPY).
    pub fn journal_state(&mut self, key: &[u8]) {
        self.shard.journal.explicit = true;
        let now = self.now_ms;
        let sh = self.shard_for(key);
        if !sh.journal.enabled {
            return;
        }
        let mut buf = Vec::new();
        crate::aof::journal::encode(&mut buf, &[b"DEL", key]);
        if let Some(e) = sh.db.lookup_write(key, now) {
            crate::aof::rewrite::serialize_entry(e, now, &mut buf);
        }
        sh.journal.append_raw(&buf);
    }

    /// Counts a change to the data set (Redis' `server.dirty`) on the shard holding `key`.
    pub fn dirty(&mut self, key: &[u8], n: u64) {
        self.shard_for(key).dirty += n;
    }
}

/// Context of a connection-level handler: runs on the connection's shard.
pub struct ConnCtx<'a> {
    pub now_ms: u64,
    pub out: Out<'a>,
    pub shard: &'a mut Shard,
    /// Index of this connection's client in `shard.clients`.
    pub client_idx: usize,
    /// Set by handlers that must affect the connection after the reply is written.
    pub after: AfterReply,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AfterReply {
    #[default]
    Nothing,
    /// QUIT: flush the reply, then close.
    Close,
    /// SHUTDOWN accepted: the server is stopping; write nothing more.
    Shutdown,
}

impl<'a> ConnCtx<'a> {
    pub fn client(&mut self) -> &mut Client {
        self.shard.clients.get_mut(self.client_idx)
    }
}
