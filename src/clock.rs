//! Clocks and random ids: the wall clock in unix ms, a unix-ms clock that never goes backwards,
//! and 40-hex-character ids (node ids, run ids, replication ids). A leaf: imports nothing of
//! ours, so the sans-IO cluster core and the state tier can use it without the process-wide
//! state.

use std::sync::OnceLock;
use std::time::Instant;

/// The wall clock in unix ms (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix time in ms that never goes backwards: the wall clock read once, then advanced by the
/// monotonic clock. Cluster timing (pings, failure detection, handshakes, elections) uses it,
/// so a wall-clock step backwards (NTP, a VM resuming) cannot freeze the cluster cron or the
/// timeouts, and a step forwards cannot fail every node at once.
pub fn mono_unix_ms() -> u64 {
    static START: OnceLock<(Instant, u64)> = OnceLock::new();
    let (at, unix) = START.get_or_init(|| (Instant::now(), unix_ms()));
    unix + at.elapsed().as_millis() as u64
}

/// 40 random lowercase hex characters (node ids, run ids, replication ids).
pub fn random_hex40() -> String {
    let mut bytes = [0u8; 20];
    let ok = matches!(crate::sys::getrandom(&mut bytes), Ok(20));
    if !ok {
        // getrandom cannot fail for 20 bytes on Linux >= 3.17; fall back to time + pid anyway.
        let seed = unix_ms() ^ ((std::process::id() as u64) << 32);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed.rotate_left(i as u32 * 7) ^ (i as u64 * 0x9E37)) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
