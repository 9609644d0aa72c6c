//! The db-and-output accessor: a handler gets the keyspace that holds a key and the reply
//! writer at the same time (and, when it samples, the shard's random generator), in place of
//! the per-family `with_db` copies. The keyspace is the client's selected database
//! (`Shard::sel`) on the shard that owns the key.

use crate::commands::kit::Rng;
use crate::commands::Exec;
use crate::resp::Out;
use crate::shard::db::Db;

impl Exec<'_> {
    /// Runs `f` with the keyspace of `key` and the reply writer. The reply buffer is moved out
    /// of `self` for the call (a pointer swap, no allocation), because the keyspace borrows
    /// all of `self`. `f` must return its error before writing any reply bytes.
    pub(crate) fn with_db<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut Db, &mut Out<'_>) -> R,
    ) -> R {
        self.with_db_rng(key, |db, out, _| f(db, out))
    }

    /// As `with_db`, with the random generator of the shard holding `key`.
    pub(crate) fn with_db_rng<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut Db, &mut Out<'_>, &mut Rng) -> R,
    ) -> R {
        let proto = self.out.proto;
        let mut buf = std::mem::take(self.out.buf);
        let i = self.shard.sel;
        let r = {
            let shard = self.shard_for(key);
            let mut out = Out::new(&mut buf, proto);
            let db = if i == 0 {
                &mut shard.db
            } else {
                shard.dbs.at(i, (shard.id, shard.shards), &shard.db)
            };
            f(db, &mut out, &mut shard.rng)
        };
        *self.out.buf = buf;
        r
    }
}
