//! One client connection's socket-side state: unparsed bytes, the parser, and replies kept in
//! request order even when some are computed on other shards (reply chunks by sequence).

use crate::resp::Parser;
use std::collections::VecDeque;
use std::os::fd::RawFd;

/// A reply chunk waiting for its turn to be written.
pub enum Chunk {
    Ready(Vec<u8>),
    /// Waiting for a remote shard's reply.
    Waiting,
}

/// Where a connection is in its life. It only moves forward: Open, then Closing or Dead, and
/// Closing may still become Dead. What operations are in flight and which work lists hold the
/// connection are separate facts (`recv_armed`, `send_inflight`, `in_*_queue`): any of them
/// can hold in any of these states.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Life {
    /// Reading, running commands and replying.
    Open,
    /// Reads nothing more; closes once every reply is flushed (QUIT, a protocol error,
    /// SHUTDOWN, a kill noticed while parsing).
    Closing,
    /// The peer hung up or errored, or the client was killed, timed out or passed its output
    /// limits: no more output either; closes as soon as no operation is in flight.
    Dead,
}

pub struct Conn {
    pub fd: RawFd,
    pub gen: u32,
    /// Index of this connection's `Client` in the shard's client table.
    pub client: usize,
    /// Unparsed bytes carried between reads (empty most of the time).
    pub rbuf: Vec<u8>,
    pub parser: Parser,
    /// Replies ready to send, in order.
    pub out: Vec<u8>,
    /// The buffer owned by the in-flight send, and how much of it was sent.
    pub sending: Vec<u8>,
    pub send_off: usize,
    pub send_inflight: bool,
    /// The unparsed input arrived (or waited) while replies were unsent: parsing stopped
    /// behind `CONN_OUT_PAUSE_BYTES` of output. Cleared once that input is consumed.
    pub input_behind_output: bool,
    /// A multishot receive is armed for this socket.
    pub recv_armed: bool,
    /// Chunks after the first reply that waits on another shard.
    pub pending: VecDeque<Chunk>,
    /// Sequence number of `pending.front()`.
    pub pending_base: u64,
    /// Bytes of every ready chunk in `pending` except the back one (which may still grow):
    /// keeps `unsent_bytes` O(1).
    pending_sealed_bytes: usize,
    /// Start of the current stretch over the soft output limit (0 = under it; `net::obuf`).
    pub obuf_soft_since_ms: u64,
    /// Remote requests not answered yet.
    pub remote_inflight: usize,
    /// Its script runs past busy-reply-threshold on this shard: its later commands wait.
    pub script_held: bool,
    /// Where the connection is in its life (only ever moves forward).
    life: Life,
    /// Listed in the reactor's "has unparsed input" list (or its list of input held while
    /// writes are paused, which goes back to the former).
    pub in_parse_queue: bool,
    /// Listed in the reactor's "has output to send" list.
    pub in_send_queue: bool,
    /// Bytes ever moved from `out` to the kernel, and how far sending may go: under
    /// `appendfsync always` replies wait for the fsync covering their writes. u64::MAX when
    /// nothing is held.
    pub sent_total: u64,
    pub safe_total: u64,
    /// Output position up to which holds were recorded (new bytes beyond it are untagged).
    pub tagged_end: u64,
}

impl Conn {
    pub fn new(fd: RawFd, gen: u32, client: usize) -> Self {
        Conn {
            fd,
            gen,
            client,
            rbuf: Vec::new(),
            parser: Parser::new(),
            out: Vec::new(),
            sending: Vec::new(),
            send_off: 0,
            send_inflight: false,
            input_behind_output: false,
            recv_armed: false,
            pending: VecDeque::new(),
            pending_base: 0,
            pending_sealed_bytes: 0,
            obuf_soft_since_ms: 0,
            remote_inflight: 0,
            script_held: false,
            life: Life::Open,
            in_parse_queue: false,
            in_send_queue: false,
            sent_total: 0,
            safe_total: u64::MAX,
            tagged_end: 0,
        }
    }

    /// Reading and replying as usual (neither closing nor dead).
    #[inline]
    pub fn is_open(&self) -> bool {
        self.life == Life::Open
    }

    /// Closing after its replies are flushed (and not dead).
    #[inline]
    pub fn is_closing(&self) -> bool {
        self.life == Life::Closing
    }

    /// Closing without flushing.
    #[inline]
    pub fn is_dead(&self) -> bool {
        self.life == Life::Dead
    }

    /// Stops reading and closes once the replies are out; a dead connection stays dead.
    #[inline]
    pub fn close_after_reply(&mut self) {
        if self.life == Life::Open {
            self.life = Life::Closing;
        }
    }

    /// Closes without flushing, as soon as no operation is in flight.
    #[inline]
    pub fn kill(&mut self) {
        self.life = Life::Dead;
    }

    /// Lists the connection (slot `idx`) in `sends`, the reactor's send list, unless it is
    /// there already.
    #[inline]
    pub fn enlist_send(&mut self, sends: &mut Vec<usize>, idx: usize) {
        if !self.in_send_queue {
            self.in_send_queue = true;
            sends.push(idx);
        }
    }

    /// Lists the connection (slot `idx`) in `parses`, a list of connections with input to
    /// parse, unless it is in such a list already.
    #[inline]
    pub fn enlist_parse(&mut self, parses: &mut Vec<usize>, idx: usize) {
        if !self.in_parse_queue {
            self.in_parse_queue = true;
            parses.push(idx);
        }
    }

    /// Where the next reply goes: straight to `out` when nothing waits ahead of it, else a
    /// ready chunk at the back of the queue.
    pub fn reply_target(&mut self) -> &mut Vec<u8> {
        if self.pending.is_empty() {
            return &mut self.out;
        }
        if !matches!(self.pending.back(), Some(Chunk::Ready(_))) {
            self.pending.push_back(Chunk::Ready(Vec::new()));
        }
        match self.pending.back_mut() {
            Some(Chunk::Ready(v)) => v,
            _ => unreachable!("a ready chunk was just ensured"),
        }
    }

    /// Reserves a waiting chunk for a remote reply; returns its sequence number.
    pub fn reserve_remote(&mut self) -> u64 {
        if let Some(Chunk::Ready(v)) = self.pending.back() {
            self.pending_sealed_bytes += v.len();
        }
        self.pending.push_back(Chunk::Waiting);
        self.remote_inflight += 1;
        self.pending_base + self.pending.len() as u64 - 1
    }

    /// Fills chunk `seq` with a remote reply and moves every leading ready chunk to `out`.
    pub fn fill_remote(&mut self, seq: u64, data: &[u8]) {
        let idx = (seq - self.pending_base) as usize;
        self.remote_inflight -= 1;
        match self.pending.get_mut(idx) {
            Some(c @ Chunk::Waiting) => *c = Chunk::Ready(data.to_vec()),
            _ => panic!("remote reply for a chunk that is not waiting"),
        }
        if idx + 1 < self.pending.len() {
            self.pending_sealed_bytes += data.len();
        }
        while let Some(Chunk::Ready(_)) = self.pending.front() {
            let was_back = self.pending.len() == 1;
            if let Some(Chunk::Ready(v)) = self.pending.pop_front() {
                if !was_back {
                    self.pending_sealed_bytes -= v.len();
                }
                if self.out.is_empty() {
                    self.out = v;
                } else {
                    self.out.extend_from_slice(&v);
                }
            }
            self.pending_base += 1;
        }
    }

    /// Bytes of replies not yet accepted by the kernel: the output buffer, the unsent rest of
    /// the send in flight, and the ready chunks waiting behind a remote reply. O(1).
    pub fn unsent_bytes(&self) -> usize {
        let back = match self.pending.back() {
            Some(Chunk::Ready(v)) => v.len(),
            _ => 0,
        };
        self.out.len() + (self.sending.len() - self.send_off) + self.pending_sealed_bytes + back
    }

    /// Bytes queued in reply chunks behind a remote reply (counted by walking).
    #[cfg(test)]
    pub fn chunk_bytes(&self) -> usize {
        self.pending
            .iter()
            .map(|c| match c {
                Chunk::Ready(v) => v.len(),
                Chunk::Waiting => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_leave_in_request_order() {
        // Guards the ordering of local replies behind a pending remote one.
        let mut c = Conn::new(-1, 0, 0);
        c.reply_target().extend_from_slice(b"1");
        let s2 = c.reserve_remote();
        c.reply_target().extend_from_slice(b"3");
        let s4 = c.reserve_remote();
        c.reply_target().extend_from_slice(b"5");
        assert_eq!(c.out, b"1");
        c.fill_remote(s4, b"4");
        assert_eq!(c.out, b"1");
        c.fill_remote(s2, b"2");
        assert_eq!(c.out, b"12345");
        assert!(c.pending.is_empty());
        c.reply_target().extend_from_slice(b"6");
        assert_eq!(c.out, b"123456");
    }

    #[test]
    fn life_only_moves_forward() {
        // Guards the lifecycle: a close after the reply never revives or un-kills a connection.
        let mut c = Conn::new(-1, 0, 0);
        assert!(c.is_open());
        c.close_after_reply();
        assert!(c.is_closing() && !c.is_open() && !c.is_dead());
        c.kill();
        c.close_after_reply();
        assert!(c.is_dead() && !c.is_closing());
    }

    #[test]
    fn a_connection_is_listed_once() {
        // Guards the work lists against double entries (a connection served twice a turn).
        let mut c = Conn::new(-1, 0, 0);
        let (mut sends, mut parses) = (Vec::new(), Vec::new());
        c.enlist_send(&mut sends, 4);
        c.enlist_send(&mut sends, 4);
        c.enlist_parse(&mut parses, 4);
        c.enlist_parse(&mut parses, 4);
        assert_eq!((sends, parses), (vec![4], vec![4]));
    }

    #[test]
    fn unsent_count_matches_a_walk() {
        // Guards the O(1) output count against the chunks it summarises, through every way a
        // chunk is added, grows, is filled (in and out of order) and leaves.
        let mut c = Conn::new(-1, 0, 0);
        let mut waiting = Vec::new();
        let mut rng = 0x2545F4914F6CDD1Du64;
        for step in 0..5000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            match rng % 4 {
                0 => c
                    .reply_target()
                    .extend_from_slice(&vec![b'x'; (rng % 9) as usize]),
                1 if waiting.len() < 20 => waiting.push(c.reserve_remote()),
                2 | 3 if !waiting.is_empty() => {
                    let i = (rng as usize / 7) % waiting.len();
                    let seq = waiting.swap_remove(i);
                    c.fill_remote(seq, &vec![b'y'; (step % 5) as usize]);
                }
                _ => c.out.clear(),
            }
            assert_eq!(
                c.unsent_bytes(),
                c.out.len() + c.chunk_bytes(),
                "step {step}"
            );
        }
    }
}
