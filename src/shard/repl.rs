//! A shard's part of the replication state: snapshots it is producing for full syncs, the
//! read-only flag of a replica, its clients' WAIT commands, and the DEL records of keys that
//! expired (or were evicted) while replicas are fed.

/// A WAIT command waiting for acknowledgements.
#[derive(Clone, Copy, Debug)]
pub struct WaitReq {
    pub target: u64,
    pub numreplicas: i64,
    /// Absolute deadline in ms, 0 = forever.
    pub deadline_ms: u64,
}

/// Per-shard replication state.
#[derive(Default)]
pub struct ShardRepl {
    /// Snapshots being produced for full syncs (each slot serialized once per snapshot).
    pub snaps: Vec<super::snapshot::ShardSnap>,
    /// Replica with `replica-read-only yes`: writes of normal clients are refused.
    pub readonly: bool,
    /// The role epoch this shard last saw.
    pub seen_epoch: u64,
    /// WAIT commands of this shard's clients: connection, reply chunk, request.
    pub waits: Vec<(crate::mesh::ConnRef, u64, WaitReq)>,
    /// Set by WAIT's handler; the event loop parks the command (taken at once).
    pub wait_request: Option<WaitReq>,
    /// The ACK generation WAIT waiters were last checked against.
    pub seen_ack_gen: u64,
    /// Replica: the database the master's records applied here are for (their SELECTs).
    pub apply_db: u32,
}

/// Master with replicas: keys the keyspace deleted because they expired go to the journal as
/// DEL (replicas keep expired keys until then). Called before and after every command and
/// after active expiry, so a DEL always precedes any later record of the same key.
pub fn journal_expired(sh: &mut super::Shard) {
    if sh.db.expired_log.is_none() {
        return;
    }
    super::notify::expired_from_log(sh);
    // Each database's deletions in that database; the command's database is restored after.
    let cmd_db = sh.journal.selected();
    let (journal, first, more) = (&mut sh.journal, &mut sh.db, &mut sh.dbs);
    for (i, db) in std::iter::once((0, first)).chain(more.each_mut()) {
        let Some(log) = db.expired_log.as_mut() else {
            continue;
        };
        if log.is_empty() {
            continue;
        }
        journal.select(i);
        for k in log.iter() {
            journal.record(&[b"DEL", k]);
        }
        log.clear();
    }
    journal.select(cmd_db);
}
