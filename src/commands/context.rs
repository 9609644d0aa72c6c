//! The contexts handlers run in: `Exec` for a keyed handler on the shard that owns its keys
//! (and, inside a cross-shard exclusive section, the parked peers), `ConnCtx` for a
//! connection-level handler on the connection's shard, and `AfterReply`, what the connection
//! does once the reply is written. Holds no command logic.

use crate::resp::Out;
use crate::shard::{Client, MultiState, Parked, Shard, WatchState};

/// Context of a keyed handler: the executing shard, the time, the reply, and (inside a
/// cross-shard exclusive section) the other frozen shards.
pub struct Exec<'a> {
    pub now_ms: u64,
    pub out: Out<'a>,
    pub shard: &'a mut Shard,
    /// The other shards frozen for this command (standalone multi-key), if any.
    frozen: Parked<'a>,
}

impl<'a> Exec<'a> {
    pub fn new(shard: &'a mut Shard, out: Out<'a>, now_ms: u64) -> Self {
        Exec {
            now_ms,
            out,
            shard,
            frozen: Parked::none(),
        }
    }

    /// A context that also reaches the shards parked for this command's section.
    pub fn with_frozen(
        shard: &'a mut Shard,
        out: Out<'a>,
        now_ms: u64,
        frozen: Parked<'a>,
    ) -> Self {
        Exec {
            now_ms,
            out,
            shard,
            frozen,
        }
    }

    /// The keyspace that holds `key` in the selected database (this shard's, or a frozen
    /// peer's).
    #[inline]
    pub fn db(&mut self, key: &[u8]) -> &mut crate::shard::db::Db {
        let i = self.shard.sel;
        self.shard_for(key).db_at(i)
    }

    /// The database the command runs in (`SELECT`).
    pub fn db_index(&self) -> u32 {
        self.shard.sel
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
        match self.frozen.get(id) {
            Some(sh) => sh,
            None => panic!("key on shard {id} used outside an exclusive section"),
        }
    }

    /// The keyspace that holds `key` when this command may reach it (this shard or a frozen
    /// peer); None for a key on a shard the command does not hold (a key named by data, such
    /// as SORT's BY/GET patterns, when the command did not park every shard).
    pub fn try_db(&mut self, key: &[u8]) -> Option<&mut crate::shard::db::Db> {
        let i = self.shard.sel;
        if self.shard.shards == 1 {
            return Some(self.shard.db_at(i));
        }
        let slot = crate::cluster::hash_slot::key_hash_slot(key);
        let id = crate::topology::shard_of(slot, self.shard.shards);
        if id == self.shard.id {
            return Some(self.shard.db_at(i));
        }
        self.frozen.get(id).map(|sh| sh.db_at(i))
    }

    /// Journals `args` as the record of this command's effect on `key` (on the shard holding
    /// it). A command that journals explicitly is not also journaled verbatim.
    pub fn journal(&mut self, key: &[u8], args: &[&[u8]]) {
        self.shard.journal.explicit = true;
        let i = self.shard.sel;
        let sh = self.shard_for(key);
        sh.journal.select(i);
        sh.journal.record(args);
    }

    /// Journals the whole current state of `key` (DEL, then the commands that recreate it):
    /// for effects that have no cheap deterministic command form across shards (RENAME, COPY).
    pub fn journal_state(&mut self, key: &[u8]) {
        let i = self.shard.sel;
        self.journal_state_in(key, i);
    }

    /// `journal_state` of `key` in database `i` (COPY ... DB).
    pub fn journal_state_in(&mut self, key: &[u8], i: u32) {
        self.shard.journal.explicit = true;
        let now = self.now_ms;
        let cmd_db = self.shard.sel;
        let sh = self.shard_for(key);
        if !sh.journal.enabled {
            return;
        }
        sh.journal.select(i);
        let mut buf = Vec::new();
        crate::aof::journal::encode(&mut buf, &[b"DEL", key]);
        if let Some(e) = sh.db_at(i).lookup_write(key, now) {
            crate::aof::rewrite::serialize_entry(e, now, &mut buf);
        }
        sh.journal.append_raw(&buf);
        sh.journal.select(cmd_db);
    }

    /// Raises keyspace notification `event` of `class` for `key` in the selected database
    /// (`shard::notify`; one failed bit test when notifications are off).
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        crate::shard::notify::event(self.shard, class, event, key);
    }

    /// After a command removed elements from `key`: raises `del` when the key is gone (its
    /// collection emptied), as Redis does after the command's own event.
    pub fn notify_if_gone(&mut self, key: &[u8]) {
        use crate::shard::notify::{enabled, GENERIC};
        if enabled(self.shard, GENERIC) {
            let now = self.now_ms;
            if !self.db(key).contains(key, now) {
                self.notify(GENERIC, "del", key);
            }
        }
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
    /// Set by EXEC when it accepted the transaction: the dispatcher runs the queue next.
    pub run_queue: Option<QueuedTx>,
}

/// A transaction EXEC accepted: its queued commands and the keys its client watched.
pub struct QueuedTx {
    pub multi: MultiState,
    pub watch: Option<WatchState>,
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
