//! `shutdown-timeout`: before a master stops (SHUTDOWN without NOW, SIGTERM, SIGINT) it pauses
//! client writes and waits up to that many seconds for every replica to acknowledge the whole
//! stream, as Redis 7.0 does, so a planned stop (or the failover that follows it) loses no
//! acknowledged write. Runs on the main thread; shards keep serving reads meanwhile.

use crate::clock::unix_ms;
use crate::global::Global;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the wait asks the replicas for an acknowledgement.
const ACK_REQUEST_PERIOD_MS: u64 = 100;
/// Poll period of the wait.
const POLL_MS: u64 = 10;

/// How the wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to wait for (no replica, a replica node, shutdown-timeout 0, SHUTDOWN NOW).
    Skipped,
    /// Waited (all in sync, or the timeout passed); the server stops now.
    Done,
    /// SHUTDOWN ABORT arrived while waiting: writes resume and the server keeps running.
    Aborted,
}

/// Waits for the replicas as described above; logs Redis' lines.
pub fn wait_for_replicas(global: &Global) -> Outcome {
    let timeout_s = global.cfg(|c| c.stored_i64("shutdown-timeout", 10)).max(0) as u64;
    let replica_node = global.repl.is_replica.load(Ordering::Acquire);
    let any = global.repl.state().replicas.iter().any(|r| r.online);
    if timeout_s == 0 || replica_node || !any || global.shutdown_now.load(Ordering::SeqCst) {
        return Outcome::Skipped;
    }
    crate::log::notice("Waiting for replicas before shutting down.");
    let deadline = Instant::now() + Duration::from_secs(timeout_s);
    // Writes stay paused for the whole wait (lifted below on abort; on exit it no longer
    // matters). The same pause serves a manual failover.
    global
        .writes_paused_until_ms
        .store(unix_ms() + timeout_s * 1000 + 1000, Ordering::Relaxed);
    let mut target = 0u64;
    let mut asked_at: Option<Instant> = None;
    loop {
        if global.shutdown_abort.swap(false, Ordering::SeqCst) {
            global.writes_paused_until_ms.store(0, Ordering::Relaxed);
            crate::log::warning("Shutdown manually aborted.");
            return Outcome::Aborted;
        }
        if asked_at.is_none_or(|t| t.elapsed() >= Duration::from_millis(ACK_REQUEST_PERIOD_MS)) {
            // The offset before the request: writes paused, this covers every acknowledged
            // write once the shards have flushed their journals (the next request sees them).
            target = global.repl.offset.load(Ordering::Acquire);
            crate::replication::master::ask_acks(global);
            asked_at = Some(Instant::now());
        }
        let (in_sync, online) = counts(global, target);
        if (in_sync == online && target > 0) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(POLL_MS));
    }
    let st = global.repl.state();
    let now = unix_ms();
    let mut in_sync = 0;
    let online: Vec<_> = st.replicas.iter().filter(|r| r.online).collect();
    for r in &online {
        if r.ack_offset >= target {
            in_sync += 1;
            continue;
        }
        crate::log::warning(&format!(
            "Lagging replica {}:{} reported offset {} behind master, lag={}, state=online.",
            r.ip,
            r.listening_port,
            target - r.ack_offset,
            now.saturating_sub(r.ack_time_ms) / 1000
        ));
    }
    crate::log::notice(&format!(
        "{in_sync} of {} replicas are in sync when shutting down.",
        online.len()
    ));
    Outcome::Done
}

/// (replicas that acknowledged `target`, online replicas).
fn counts(global: &Global, target: u64) -> (usize, usize) {
    let st = global.repl.state();
    let online = st.replicas.iter().filter(|r| r.online);
    let total = online.clone().count();
    (online.filter(|r| r.ack_offset >= target).count(), total)
}
