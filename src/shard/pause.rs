//! CLIENT PAUSE's process-wide state and the question the event loops ask before running a
//! parsed command: is it held? Commands held wait (they are not refused) until the pause ends,
//! beside the write pause of a manual failover or a shutdown waiting for replicas
//! (`Global::writes_paused_until_ms`).

use crate::global::Global;
use std::sync::atomic::Ordering;

/// What is held right now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pause {
    None,
    /// Commands that write or may replicate (CLIENT PAUSE WRITE, failover, shutdown).
    Writes,
    /// Every client command (CLIENT PAUSE ALL); replicas' own traffic still runs.
    All,
}

/// The pause in force at `now_ms` (two relaxed loads; once per read, not per command).
#[inline]
pub fn state(global: &Global, now_ms: u64) -> Pause {
    let client = global.client_pause_until_ms.load(Ordering::Relaxed) > now_ms;
    if client && global.client_pause_all.load(Ordering::Relaxed) {
        Pause::All
    } else if client || global.writes_paused_until_ms.load(Ordering::Relaxed) > now_ms {
        Pause::Writes
    } else {
        Pause::None
    }
}

/// When every pause ends (unix ms; 0 or past when none holds).
pub fn until_ms(global: &Global) -> u64 {
    let client = global.client_pause_until_ms.load(Ordering::Relaxed);
    client.max(global.writes_paused_until_ms.load(Ordering::Relaxed))
}

/// CLIENT PAUSE: the type is the latest asked, the end the later of the two (Redis'
/// pauseClients for one purpose).
pub fn pause_clients(global: &Global, until_ms: u64, all: bool) {
    global.client_pause_all.store(all, Ordering::Relaxed);
    global
        .client_pause_until_ms
        .fetch_max(until_ms, Ordering::Relaxed);
}

/// CLIENT UNPAUSE: lifts CLIENT PAUSE (not a failover's or a shutdown's write pause).
pub fn unpause_clients(global: &Global) {
    global.client_pause_until_ms.store(0, Ordering::Relaxed);
    global.client_pause_all.store(false, Ordering::Relaxed);
}

/// True when a command makes it wait under `pause`: `writes` says whether it writes or may
/// replicate (its WRITE or MAY_REPLICATE flag, read by the caller: the command table is a
/// higher layer).
#[inline]
pub fn holds(pause: Pause, writes: bool) -> bool {
    match pause {
        Pause::None => false,
        Pause::Writes => writes,
        Pause::All => true,
    }
}
