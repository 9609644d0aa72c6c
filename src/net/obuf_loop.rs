//! The event loop's side of `client-output-buffer-limit` and of CLIENT LIST's buffer fields:
//! copying a connection's buffer sizes into its client record when the loop touches them, and
//! closing a client whose pending output passed its class limits. The check costs one compare
//! unless the output is past the smallest configured limit.

use super::*;
use crate::net::obuf::{self, Class};
use crate::shard::clients::BufStats;

/// Copies the connection's buffer sizes into its client record (a few stores, no walk).
pub(super) fn note_mem(c: &Conn, cl: &mut Client) {
    let in_flight = c.sending.len() - c.send_off;
    let unsent = c.unsent_bytes();
    let chunks = unsent - c.out.len() - in_flight;
    let obl = unsent.min(OBUF_UNCOUNTED_BYTES);
    let omem = unsent - obl;
    cl.mem = BufStats {
        qbuf: c.rbuf.len(),
        qbuf_free: c.rbuf.capacity() - c.rbuf.len(),
        obl,
        rbs: c.out.capacity(),
        // As if the counted bytes sat in Redis' 16 KiB reply list nodes.
        oll: omem.div_ceil(OBUF_UNCOUNTED_BYTES),
        omem,
        alloc: c.rbuf.capacity() + c.out.capacity() + c.sending.capacity() + chunks,
    };
}

/// Checks connection `idx` (its unsent output beyond `OBUF_UNCOUNTED_BYTES`) against the
/// limits of its class (replica once it started SYNC/PSYNC, pubsub while it has any
/// subscription, RESP2 or RESP3 as in Redis; normal otherwise). A replica's stream itself is
/// checked by its sender against the same replica class. Past them the client is closed at once without flushing, as Redis' "close
/// ASAP" does: its output is dropped and the socket shut down, which also ends a send the
/// peer never reads. Returns true when the client is being closed.
pub(super) fn enforce(
    c: &mut Conn,
    idx: usize,
    cl: &mut Client,
    limits: &obuf::Limits,
    now_ms: u64,
    close_queue: &mut Vec<usize>,
) -> bool {
    if c.is_dead() {
        return false;
    }
    let class = if cl.replica {
        Class::Replica
    } else if cl.sub_count() > 0 {
        Class::Pubsub
    } else {
        Class::Normal
    };
    let pending = c.unsent_bytes().saturating_sub(OBUF_UNCOUNTED_BYTES) as u64;
    if !obuf::over_limit(
        limits.get(class),
        pending,
        &mut c.obuf_soft_since_ms,
        now_ms,
    ) {
        return false;
    }
    note_mem(c, cl);
    obuf::log_closing(&crate::commands::client::client_line(cl, now_ms));
    c.kill();
    c.out = Vec::new();
    // Our own open socket; it is closed later by `try_close` as usual.
    let _ = crate::sys::shutdown(c.fd);
    close_queue.push(idx);
    true
}

impl Reactor {
    /// Reads the limits in force (once per loop turn).
    pub(super) fn refresh_obuf_limits(&mut self) {
        self.obuf = self.shard.global.obuf.load();
        let floor = usize::try_from(self.obuf.check_floor_bytes()).unwrap_or(usize::MAX);
        self.obuf_floor = floor.saturating_add(OBUF_UNCOUNTED_BYTES);
    }

    /// After output was appended to connection `idx` outside command processing (Pub/Sub
    /// messages, remote replies): the check, when the output is past the smallest limit.
    pub(super) fn check_appended(&mut self, idx: usize) {
        let Some(c) = self.conns.get_mut(idx).and_then(|c| c.as_mut()) else {
            return;
        };
        if c.unsent_bytes() < self.obuf_floor {
            return;
        }
        if let Some(cl) = self.shard.clients.get_live_mut(c.client) {
            enforce(c, idx, cl, &self.obuf, self.now_ms, &mut self.close_queue);
        }
    }

    /// The client record follows the connection's buffers; a client over its soft limit is
    /// checked again (its clock restarts once it is back under it).
    pub(super) fn after_buffers_moved(&mut self, idx: usize) {
        let Some(c) = self.conns.get_mut(idx).and_then(|c| c.as_mut()) else {
            return;
        };
        let Some(cl) = self.shard.clients.get_live_mut(c.client) else {
            return;
        };
        note_mem(c, cl);
        if c.obuf_soft_since_ms != 0 || c.unsent_bytes() >= self.obuf_floor {
            enforce(c, idx, cl, &self.obuf, self.now_ms, &mut self.close_queue);
        }
    }
}
