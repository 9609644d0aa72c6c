//! The operations a shard keeps in its io_uring ring: what each one is (`Op`, carried in the
//! submission's user data so its completion finds its owner), the one place that builds and
//! queues a submission and marks it in flight, and the dispatch of completions.

use super::*;

/// One kind of ring operation and what it belongs to. Encoded in 64 bits of user data as
/// kind (8 bits), generation (24 bits) and index (32 bits); the generation makes a completion
/// for a connection slot that was reused meanwhile recognisable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Op {
    /// The multishot accept of listening socket `listener`.
    Accept { listener: usize },
    /// The multishot receive of a connection.
    Recv { conn: usize, gen: u32 },
    /// The send of a connection's `sending[send_off..]`.
    Send { conn: usize, gen: u32 },
    /// The read of the mesh doorbell (eventfd).
    Wake,
    /// The cron tick.
    Timer,
    /// Cancels a connection's armed receive (closing it).
    CancelRecv { conn: usize, gen: u32 },
    /// Cancels a listener's armed accept (out of descriptors).
    CancelAccept { listener: usize },
    /// An fsync of the AOF's incr file under the fsync policy.
    Fsync { fd: RawFd },
    /// An fsync of a file written by a finishing rewrite.
    RewriteSync { fd: RawFd },
}

const KIND_ACCEPT: u64 = 1;
const KIND_RECV: u64 = 2;
const KIND_SEND: u64 = 3;
const KIND_WAKE: u64 = 4;
const KIND_TIMER: u64 = 5;
const KIND_CANCEL_RECV: u64 = 6;
const KIND_FSYNC: u64 = 7;
const KIND_REWRITE_SYNC: u64 = 8;
const KIND_CANCEL_ACCEPT: u64 = 9;
/// IORING_ENTER_GETEVENTS (not re-exported by the io-uring crate).
pub(super) const ENTER_GETEVENTS: u32 = 1;

impl Op {
    /// The user data that identifies this operation's completions.
    pub(super) fn user_data(self) -> u64 {
        let (kind, idx, gen) = match self {
            Op::Accept { listener } => (KIND_ACCEPT, listener, 0),
            Op::Recv { conn, gen } => (KIND_RECV, conn, gen),
            Op::Send { conn, gen } => (KIND_SEND, conn, gen),
            Op::Wake => (KIND_WAKE, 0, 0),
            Op::Timer => (KIND_TIMER, 0, 0),
            Op::CancelRecv { conn, gen } => (KIND_CANCEL_RECV, conn, gen),
            Op::CancelAccept { listener } => (KIND_CANCEL_ACCEPT, listener, 0),
            Op::Fsync { fd } => (KIND_FSYNC, fd as usize, 0),
            Op::RewriteSync { fd } => (KIND_REWRITE_SYNC, fd as usize, 0),
        };
        (kind << 56) | (((gen & 0xFF_FFFF) as u64) << 32) | (idx as u64 & 0xFFFF_FFFF)
    }

    /// The operation a completion's user data names (None: not one of ours).
    pub(super) fn from_user_data(ud: u64) -> Option<Op> {
        let idx = (ud & 0xFFFF_FFFF) as usize;
        let gen = ((ud >> 32) & 0xFF_FFFF) as u32;
        let op = match ud >> 56 {
            KIND_ACCEPT => Op::Accept { listener: idx },
            KIND_RECV => Op::Recv { conn: idx, gen },
            KIND_SEND => Op::Send { conn: idx, gen },
            KIND_WAKE => Op::Wake,
            KIND_TIMER => Op::Timer,
            KIND_CANCEL_RECV => Op::CancelRecv { conn: idx, gen },
            KIND_CANCEL_ACCEPT => Op::CancelAccept { listener: idx },
            KIND_FSYNC => Op::Fsync { fd: idx as RawFd },
            KIND_REWRITE_SYNC => Op::RewriteSync { fd: idx as RawFd },
            _ => return None,
        };
        Some(op)
    }
}

impl Reactor {
    /// Queues one submission, flushing the submission queue when it is full.
    fn push_sqe(&mut self, e: squeue::Entry) {
        // SAFETY: every buffer an entry points at lives in `self` (boxed or in a Conn that is
        // only freed after its operations completed) until the completion arrives.
        while unsafe { self.ring.submission().push(&e) }.is_err() {
            let _ = self.ring.submit();
        }
    }

    /// Starts operation `op`: marks it in flight where its owner tracks that, builds its
    /// submission and queues it. A connection or listener that is gone starts nothing.
    pub(super) fn submit(&mut self, op: Op) {
        let entry = match op {
            Op::Accept { listener } => {
                let Some(&fd) = self.listeners.get(listener) else {
                    return;
                };
                self.accept_armed[listener] = true;
                opcode::AcceptMulti::new(types::Fd(fd)).build()
            }
            Op::Recv { conn, .. } => {
                let Some(c) = self.conns.get_mut(conn).and_then(|c| c.as_mut()) else {
                    return;
                };
                c.recv_armed = true;
                opcode::RecvMulti::new(types::Fd(c.fd), self.bufs.group_id).build()
            }
            Op::Send { conn, .. } => {
                let Some(c) = self.conns.get_mut(conn).and_then(|c| c.as_mut()) else {
                    return;
                };
                c.send_inflight = true;
                let rest = &c.sending[c.send_off..];
                opcode::Send::new(types::Fd(c.fd), rest.as_ptr(), rest.len() as u32)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
            }
            Op::Wake => {
                let fd = self.mesh.inboxes[self.shard.id].eventfd;
                let p = &mut *self.wake_buf as *mut u64 as *mut u8;
                opcode::Read::new(types::Fd(fd), p, 8).build()
            }
            Op::Timer => opcode::Timeout::new(&*self.timer_ts as *const types::Timespec).build(),
            Op::CancelRecv { conn, gen } => {
                opcode::AsyncCancel::new(Op::Recv { conn, gen }.user_data()).build()
            }
            Op::CancelAccept { listener } => {
                opcode::AsyncCancel::new(Op::Accept { listener }.user_data()).build()
            }
            Op::Fsync { fd } | Op::RewriteSync { fd } => opcode::Fsync::new(types::Fd(fd))
                .flags(types::FsyncFlags::DATASYNC)
                .build(),
        };
        self.push_sqe(entry.user_data(op.user_data()));
    }

    /// Arms the multishot receive of connection `idx` unless it is armed or the connection
    /// no longer reads.
    pub(super) fn arm_recv(&mut self, idx: usize) {
        let Some(c) = self.conns[idx].as_ref() else {
            return;
        };
        if c.recv_armed || !c.is_open() {
            return;
        }
        let gen = c.gen;
        self.submit(Op::Recv { conn: idx, gen });
    }

    /// Moves every completion out of the ring, then hands each to its operation's owner.
    pub(super) fn reap(&mut self) {
        self.cqes.clear();
        for cqe in self.ring.completion() {
            self.cqes.push((cqe.user_data(), cqe.result(), cqe.flags()));
        }
        let cqes = std::mem::take(&mut self.cqes);
        let limits = self.limits();
        for &(ud, res, flags) in &cqes {
            let Some(op) = Op::from_user_data(ud) else {
                debug_assert!(false, "a completion with unknown user data {ud:#x}");
                continue;
            };
            match op {
                Op::Accept { listener } => self.on_accept(listener, res, flags),
                Op::Recv { conn, gen } => self.on_recv(conn, gen, res, flags, &limits),
                Op::Send { conn, gen } => self.on_send(conn, gen, res),
                Op::Wake => self.submit(Op::Wake),
                Op::Timer => {
                    self.cron();
                    self.submit(Op::Timer);
                }
                // The cancelled operation's own completion does the work.
                Op::CancelRecv { .. } | Op::CancelAccept { .. } => {}
                Op::Fsync { .. } => self.on_fsync(res),
                Op::RewriteSync { .. } => self.on_rewrite_sync(res),
            }
        }
        self.cqes = cqes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_round_trips() {
        // Guards the encoding that routes every completion back to its owner.
        let ops = [
            Op::Accept { listener: 3 },
            Op::Recv {
                conn: 0xFFFF_FFFF,
                gen: 0xFF_FFFF,
            },
            Op::Send { conn: 7, gen: 1 },
            Op::Wake,
            Op::Timer,
            Op::CancelRecv { conn: 9, gen: 42 },
            Op::CancelAccept { listener: 0 },
            Op::Fsync { fd: 12 },
            Op::RewriteSync { fd: 1000 },
        ];
        for op in ops {
            assert_eq!(Op::from_user_data(op.user_data()), Some(op), "{op:?}");
        }
        assert_eq!(Op::from_user_data(0), None);
    }
}
