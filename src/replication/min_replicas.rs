//! The write guard of `min-replicas-to-write` / `min-replicas-max-lag` (Redis'
//! `min-slaves-*`): a master with fewer than N online replicas whose last ACK is at most
//! max-lag seconds old refuses write commands with `-NOREPLICAS`.
//!
//! The count is computed off the request path: by shard 0's replication cron, when a replica
//! acknowledges or goes away, and after every CONFIG SET. Shards read one atomic flag per
//! write command (`ReplGlobal::writes_refused`), nothing more.

use crate::clock::unix_ms;
use crate::global::Global;
use std::sync::atomic::Ordering;

/// The reply of a refused write (Redis' `shared.noreplicaserr`).
pub const NOREPLICAS_TEXT: &str = "NOREPLICAS Not enough good replicas to write.";

/// (min-replicas-to-write, min-replicas-max-lag) as configured.
fn settings(global: &Global) -> (u64, u64) {
    global.cfg(|c| {
        let n = c.stored_i64("min-replicas-to-write", 0).max(0) as u64;
        let lag = c.stored_i64("min-replicas-max-lag", 10).max(0) as u64;
        (n, lag)
    })
}

/// Whether the guard is on: both settings non-zero, as in Redis (INFO shows
/// `min_slaves_good_slaves` only then).
pub fn enabled(global: &Global) -> bool {
    let (n, lag) = settings(global);
    n > 0 && lag > 0
}

/// Online replicas whose last ACK is at most `max_lag_s` whole seconds old.
fn count_good(st: &super::ReplState, now_ms: u64, max_lag_s: u64) -> u64 {
    st.replicas
        .iter()
        .filter(|r| r.online && now_ms.saturating_sub(r.ack_time_ms) / 1000 <= max_lag_s)
        .count() as u64
}

/// Recounts the good replicas and sets the flag shards test before each write. A replica
/// never refuses (its writes come from its master), like Redis with `masterhost` set.
///
/// Race-free: every change of an input (settings, role, replicas, ACKs) is followed by a
/// refresh, and refreshes run one at a time reading their inputs inside `refresh_lock`, so
/// a refresh that read older inputs can never store after one that read newer ones.
/// Callers hold neither the state lock nor the config lock.
pub fn refresh(global: &Global) {
    let r = &global.repl;
    let _serial = super::lock(&r.refresh_lock);
    let (n, lag) = settings(global);
    let replica = r.is_replica.load(Ordering::Acquire);
    let good = count_good(&r.state(), unix_ms(), lag);
    r.good_replicas.store(good, Ordering::Relaxed);
    let refuse = n > 0 && lag > 0 && !replica && good < n;
    r.writes_refused.store(refuse, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_writes_served_reads_and_doomed_multi() {
        // Guards the dispatch side: writes (also queued ones) refused, reads served, EXEC
        // aborted with Redis' texts, and everything allowed again once the flag clears.
        use crate::testkit::{Harness, Reply};
        let mut h = Harness::new();
        h.shard
            .global
            .repl
            .writes_refused
            .store(true, Ordering::Relaxed);
        assert_eq!(h.run(&["SET", "k", "v"]), Reply::err(NOREPLICAS_TEXT));
        assert_eq!(h.run(&["GET", "k"]), Reply::Nil);
        assert_eq!(h.run(&["MULTI"]), Reply::ok());
        assert_eq!(h.run(&["SET", "k", "v"]), Reply::err(NOREPLICAS_TEXT));
        assert_eq!(h.run(&["GET", "k"]), Reply::Simple("QUEUED".into()));
        let aborted = "EXECABORT Transaction discarded because of previous errors.";
        assert_eq!(h.run(&["EXEC"]), Reply::err(aborted));
        h.shard
            .global
            .repl
            .writes_refused
            .store(false, Ordering::Relaxed);
        assert_eq!(h.run(&["MULTI"]), Reply::ok());
        assert_eq!(h.run(&["SET", "k", "v"]), Reply::Simple("QUEUED".into()));
        h.shard
            .global
            .repl
            .writes_refused
            .store(true, Ordering::Relaxed);
        let at_exec = format!("EXECABORT Transaction discarded because of: {NOREPLICAS_TEXT}");
        assert_eq!(h.run(&["EXEC"]), Reply::err(&at_exec));
        h.shard
            .global
            .repl
            .writes_refused
            .store(false, Ordering::Relaxed);
        assert_eq!(h.run(&["SET", "k", "v"]), Reply::ok());
    }

    #[test]
    fn good_replicas_are_online_and_recent() {
        // Guards the lag rule: whole seconds since the last ACK, at most max-lag; online only.
        let g = crate::global::repl::ReplGlobal::default();
        let mut st = g.state();
        let mk = |id, online, ack_time_ms| super::super::ReplicaInfo {
            client_id: id,
            ip: String::new(),
            listening_port: 0,
            feed: Default::default(),
            ack_offset: 0,
            ack_time_ms,
            online,
        };
        st.replicas.push(mk(1, true, 10_000));
        st.replicas.push(mk(2, true, 5_000));
        st.replicas.push(mk(3, false, 10_000));
        assert_eq!(count_good(&st, 10_500, 0), 1);
        assert_eq!(count_good(&st, 15_999, 5), 1);
        assert_eq!(count_good(&st, 10_999, 5), 2);
        assert_eq!(count_good(&st, 30_000, 5), 0);
    }
}
