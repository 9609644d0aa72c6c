//! The event loop's side of client input: receive completions, then each connection's
//! command loop in named steps (join the input, parse, pre-auth limits, flow control, run or
//! queue each command, keep the unparsed tail, re-list the connection, check its buffers).

use super::*;
use crate::net::prefetch;

impl Reactor {
    /// A receive completion: the bytes go to the command loop; errors, EOF and cancellations
    /// close the connection; a receive that ended is re-armed at the end of the turn.
    pub(super) fn on_recv(&mut self, idx: usize, gen: u32, res: i32, flags: u32, limits: &Limits) {
        let bid = cqueue::buffer_select(flags);
        let more = cqueue::more(flags);
        let cref = ConnRef {
            idx: idx as u32,
            gen,
        };
        let Some(c) = conn_at(&mut self.conns, cref) else {
            if let Some(b) = bid {
                self.give_back(b);
            }
            return;
        };
        if !more {
            c.recv_armed = false;
        }
        if res <= 0 {
            match -res {
                libc::ENOBUFS => self.rearm_queue.push(idx),
                libc::ECANCELED => {
                    if !c.is_open() {
                        self.close_queue.push(idx);
                    }
                }
                _ => {
                    // 0 is EOF; anything else is a reset or error: the client is gone.
                    c.kill();
                    self.close_queue.push(idx);
                }
            }
            if let Some(b) = bid {
                self.give_back(b);
            }
            return;
        }
        let Some(b) = bid else { return };
        self.shard.stats.net_input_bytes += res as u64;
        self.shard.stats.reads_processed += 1;
        if c.is_open() {
            self.process_input(idx, Some((b, res as usize)), limits);
        }
        self.give_back(b);
        if !more {
            self.rearm_queue.push(idx);
        }
    }

    /// Returns a provided buffer to the ring (published once per turn).
    fn give_back(&mut self, bid: u16) {
        self.bufs.push(bid);
        self.bufs_dirty = true;
    }

    /// Parses and runs every complete command of connection `idx`: the bytes already carried in
    /// its read buffer plus `fresh` (a provided buffer), without copying when nothing is carried.
    pub(super) fn process_input(
        &mut self,
        idx: usize,
        fresh: Option<(u16, usize)>,
        limits: &Limits,
    ) {
        let Reactor {
            conns,
            bufs,
            shard,
            outbox,
            script,
            scratch,
            ahead,
            now_ms,
            parse_queue,
            send_queue,
            close_queue,
            write_paused,
            ..
        } = self;
        let Some(conn) = conns[idx].as_mut() else {
            return;
        };
        let fresh: &[u8] = match fresh {
            Some((b, len)) => bufs.data(b, len),
            None => &[],
        };
        let mut carried = std::mem::take(&mut conn.rbuf);
        let src = join_input(&mut carried, fresh);
        // CLIENT PAUSE, a failover's or a shutdown's write pause: held commands wait.
        let pause = crate::shard::pause::state(&shard.global, *now_ms);
        let mut run = CommandRun {
            shard,
            outbox,
            script,
            scratch,
            close_queue,
            limits,
            now_ms: *now_ms,
            pause,
        };
        if !conn.parser.in_frame() {
            prefetch::batch(ahead, &run.shard.db, src, limits.max_bulk);
        }
        let (off, stop) = if conn.script_held {
            (0, Stop::Held)
        } else {
            run.commands(conn, idx, src)
        };
        if !keep_unparsed(conn, carried, fresh, off, stop, limits.qbuf_max) {
            close_queue.push(idx);
            return;
        }
        relist(conn, idx, stop, parse_queue, write_paused, send_queue);
        check_client(conn, idx, shard, limits, *now_ms, close_queue);
    }
}

/// Whether a pause holds this command: replicas' own traffic never waits (Redis exempts
/// them), and only while paused is the command looked up.
#[cold]
fn held(shard: &Shard, pause: crate::shard::pause::Pause, conn: &Conn, args: Args<'_>) -> bool {
    if shard.clients.get(conn.client).is_some_and(|c| c.replica) {
        return false;
    }
    use crate::commands::flags::{MAY_REPLICATE, WRITE};
    let flags = crate::commands::lookup(args.get(0)).map_or(0, |s| s.flags);
    crate::shard::pause::holds(pause, flags & (WRITE | MAY_REPLICATE) != 0)
}

/// Why a connection's command loop stopped this time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    /// Every complete command ran; the next one needs `want` bytes in all (0: not known yet).
    Incomplete { want: usize },
    /// The connection stopped reading (closing or dead, maybe because of the last command).
    Closed,
    /// Flow control (unsent output, commands per turn, remote requests): the rest waits.
    Later,
    /// A write command arrived while writes are paused: it waits for the pause to end.
    WritePaused,
    /// The connection's script runs past busy-reply-threshold: the rest waits for its end.
    Held,
}

/// What running one connection's commands borrows from the reactor besides the connection.
struct CommandRun<'a> {
    shard: &'a mut Shard,
    outbox: &'a mut [Requests],
    script: &'a mut Option<script_loop::ScriptWait>,
    scratch: &'a mut OwnedArgs,
    close_queue: &'a mut Vec<usize>,
    limits: &'a Limits,
    now_ms: u64,
    /// Commands are paused (CLIENT PAUSE, manual failover): a held command stops the loop.
    pause: crate::shard::pause::Pause,
}

impl CommandRun<'_> {
    /// Runs the complete commands at the start of `src` until a stop; returns the bytes they
    /// took and why the loop stopped.
    #[inline]
    fn commands(&mut self, conn: &mut Conn, idx: usize, src: &[u8]) -> (usize, Stop) {
        let mut parser = std::mem::take(&mut conn.parser);
        let mut unauth = self.limits.password_set && self.unauthenticated(conn);
        let mut off = 0usize;
        let mut cmds = 0usize;
        let stop = loop {
            if let Some(stop) = flow_control(conn, cmds) {
                break stop;
            }
            match parser.parse_as(&src[off..], self.limits.max_bulk, unauth) {
                ParseOutcome::Command { consumed } => {
                    let args = command_args(&parser, &src[off..], self.scratch);
                    if self.pause != crate::shard::pause::Pause::None
                        && held(self.shard, self.pause, conn, args)
                    {
                        break Stop::WritePaused;
                    }
                    let held = run_command(
                        self.shard,
                        conn,
                        idx,
                        args,
                        self.outbox,
                        self.script,
                        self.now_ms,
                    );
                    off += consumed;
                    cmds += 1;
                    if held {
                        break Stop::Held;
                    }
                    self.check_output(conn, idx);
                    if unauth {
                        unauth = self.unauthenticated(conn);
                    }
                }
                ParseOutcome::Incomplete { want_total } => {
                    break Stop::Incomplete { want: want_total };
                }
                ParseOutcome::Error(e) => {
                    let sample = &src[(off + parser.error_offset()).min(src.len())..];
                    self.protocol_error(conn, &e, sample);
                    break Stop::Closed;
                }
            }
        };
        conn.parser = parser;
        (off, stop)
    }

    /// Redis' authRequired(): decided per read, and again after each command while it holds
    /// (an AUTH in the same read lifts the pre-auth limits for the commands behind it).
    #[inline]
    fn unauthenticated(&self, conn: &Conn) -> bool {
        self.shard
            .clients
            .get(conn.client)
            .is_some_and(|c| !c.authenticated)
    }

    /// Checks the output limits as each reply is added, as Redis does, so a pipeline cannot
    /// pile up many large replies before the check.
    #[inline]
    fn check_output(&mut self, conn: &mut Conn, idx: usize) {
        if conn.unsent_bytes() < self.limits.obuf_floor {
            return;
        }
        if let Some(cl) = self.shard.clients.get_live_mut(conn.client) {
            let (limits, now_ms) = (&self.limits.obuf, self.now_ms);
            obuf_loop::enforce(conn, idx, cl, limits, now_ms, self.close_queue);
        }
    }

    /// Answers a protocol error as Redis does (the error, then a verbose log line with a
    /// sample of the input) and closes the connection after that reply.
    fn protocol_error(&mut self, conn: &mut Conn, text: &str, sample: &[u8]) {
        let target = conn.reply_target();
        target.extend_from_slice(b"-ERR ");
        target.extend_from_slice(text.as_bytes());
        target.extend_from_slice(b"\r\n");
        log_protocol_error(self.shard, conn.client, text, sample);
        conn.close_after_reply();
    }
}

/// The input to parse: `fresh` alone when nothing was carried (no copy), else appended to it.
#[inline]
fn join_input<'a>(carried: &'a mut Vec<u8>, fresh: &'a [u8]) -> &'a [u8] {
    if carried.is_empty() {
        fresh
    } else {
        carried.extend_from_slice(fresh);
        carried
    }
}

/// Decides before each command whether the loop stops here: the connection stopped reading,
/// its unsent output reached the pause threshold (checked before every command, so a pipeline
/// of large replies stops there plus one reply), or its share of this turn is used up.
#[inline]
fn flow_control(conn: &mut Conn, cmds: usize) -> Option<Stop> {
    if !conn.is_open() {
        return Some(Stop::Closed);
    }
    if conn.unsent_bytes() >= CONN_OUT_PAUSE_BYTES {
        // What is held back arrived while replies were unsent: Redis, which never holds
        // input, would run it with that output pending (SYNC/PSYNC refuse).
        conn.input_behind_output = true;
        return Some(Stop::Later);
    }
    if cmds >= CONN_CMDS_PER_TURN || conn.remote_inflight >= CONN_REMOTE_INFLIGHT_MAX {
        return Some(Stop::Later);
    }
    None
}

/// The arguments of the command just parsed from `base`: in place, or unquoted into
/// `scratch` when an inline command had quoted arguments.
#[inline]
fn command_args<'a>(parser: &'a Parser, base: &'a [u8], scratch: &'a mut OwnedArgs) -> Args<'a> {
    let ranges = parser.ranges();
    if ranges.iter().any(|r| r.1 & QUOTED_FLAG != 0) {
        decode_inline(base, ranges, scratch);
        scratch.args()
    } else {
        Args::new(base, ranges)
    }
}

/// Keeps the input after `off` for the next read (`carried` if input was carried, else a
/// copy of the tail of `fresh`), growing it once for a large bulk on its way. False when the
/// tail passes the query buffer limit: the connection is then dead.
#[inline]
fn keep_unparsed(
    conn: &mut Conn,
    mut carried: Vec<u8>,
    fresh: &[u8],
    off: usize,
    stop: Stop,
    qbuf_max: u64,
) -> bool {
    let total = if carried.is_empty() {
        fresh.len()
    } else {
        carried.len()
    };
    if (total - off) as u64 > qbuf_max {
        crate::log::warning("Closing client that reached max query buffer length");
        conn.kill();
        return false;
    }
    if off == total {
        conn.input_behind_output = false;
    }
    if carried.is_empty() {
        conn.rbuf = fresh[off..].to_vec();
    } else {
        carried.drain(..off);
        conn.rbuf = carried;
    }
    // A large bulk is arriving: grow once to its full size instead of doubling repeatedly.
    let want = match stop {
        Stop::Incomplete { want } => want,
        Stop::Closed | Stop::Later | Stop::WritePaused | Stop::Held => 0,
    };
    if want > conn.rbuf.capacity() && want as u64 <= qbuf_max {
        let extra = want - conn.rbuf.len();
        conn.rbuf.reserve(extra);
    }
    true
}

/// Lists the connection where it goes next: held until writes resume, back to parsing when
/// only its share of the turn stopped it, and to sending when it has output or is closing.
#[inline]
fn relist(
    conn: &mut Conn,
    idx: usize,
    stop: Stop,
    parse_queue: &mut Vec<usize>,
    write_paused: &mut Vec<usize>,
    send_queue: &mut Vec<usize>,
) {
    match stop {
        Stop::WritePaused => conn.enlist_parse(write_paused, idx),
        Stop::Later
            if !conn.rbuf.is_empty()
                && conn.remote_inflight < CONN_REMOTE_INFLIGHT_MAX
                && conn.unsent_bytes() < CONN_OUT_PAUSE_BYTES =>
        {
            conn.enlist_parse(parse_queue, idx)
        }
        Stop::Incomplete { .. } | Stop::Closed | Stop::Later | Stop::Held => {}
    }
    if !conn.out.is_empty() || conn.is_closing() {
        conn.enlist_send(send_queue, idx);
    }
}

/// After a read: a client killed meanwhile closes after its replies, the client record gets
/// the buffer sizes, and the output limits are checked.
#[inline]
fn check_client(
    conn: &mut Conn,
    idx: usize,
    shard: &mut Shard,
    limits: &Limits,
    now_ms: u64,
    close_queue: &mut Vec<usize>,
) {
    let Some(cl) = shard.clients.get_live_mut(conn.client) else {
        return;
    };
    if cl.kill {
        conn.close_after_reply();
    }
    obuf_loop::note_mem(conn, cl);
    if conn.unsent_bytes() >= limits.obuf_floor {
        obuf_loop::enforce(conn, idx, cl, &limits.obuf, now_ms, close_queue);
    }
}

/// Redis' verbose log line for a protocol error: the reason, who sent it, and a sample of
/// the query buffer from the failing header (non-printable bytes shown as '.').
fn log_protocol_error(shard: &Shard, client: usize, text: &str, sample: &[u8]) {
    let (id, addr, laddr) = match shard.clients.get(client) {
        Some(c) => (c.id, c.addr.as_str(), c.laddr.as_str()),
        None => (0, "?", "?"),
    };
    let printable = |part: &[u8]| -> String {
        part.iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect()
    };
    // As Redis: all of it when short, else both ends around the count of what is left out.
    let shown = if sample.len() < PROTO_DUMP_BYTES {
        format!("'{}'", printable(sample))
    } else {
        let half = PROTO_DUMP_BYTES / 2;
        format!(
            "'{}' (... more {} bytes ...) '{}'",
            printable(&sample[..half]),
            sample.len() - PROTO_DUMP_BYTES,
            printable(&sample[sample.len() - half..])
        )
    };
    crate::log::verbose(&format!(
        "Protocol error ({}) from client: id={id} addr={addr} laddr={laddr}. Query buffer \
         during protocol error: {shown}",
        crate::resp::parse::error_log_tag(text)
    ));
}
