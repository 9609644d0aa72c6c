//! Replica side: the link to our master, on its own thread with a blocking socket (the shard
//! loops are never disturbed). Connects, handshakes (PING, REPLCONF, PSYNC), loads the
//! payload (received whole into a file, `payload`, then loaded, `fullsync`) or continues, then
//! applies the stream: every record goes to the shard owning its keys (any `server-threads` on
//! either side), the processed offset is acknowledged every second, and a dropped link
//! reconnects with a partial resync. A failed attempt waits a second before the next (Redis'
//! replication cron cadence), so a refusing master never sees a storm of syncs.

use super::block::{self, Block};
use super::payload::{self, Received};
use crate::clock::unix_ms;
use crate::global::Global;
use crate::mesh::{MeshMsg, ReplBatch};
use crate::replication::{LinkInfo, LinkState};
use crate::resp::{Args, ParseOutcome, Parser};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of records queued for one shard before they are sent as one batch.
const BATCH_BYTES: usize = 64 * 1024;
/// Batches sent to shards and not applied yet before the link waits.
const INFLIGHT_BATCHES_MAX: u64 = 256;
/// Read timeout of the socket: how often the link checks for ACK time and REPLICAOF changes.
const POLL_MS: u64 = 100;

/// Starts the link thread for link generation `gen` (installed as `replication`'s link
/// spawner at boot: REPLICAOF, the bus and the configuration start a link through it).
pub fn spawn(global: Arc<Global>, gen: u64) {
    let spawned = std::thread::Builder::new()
        .name("slotd-repl-link".into())
        .spawn(move || link_main(global, gen));
    if let Err(e) = spawned {
        crate::log::warning(&format!("Can't start the replication link: {e}"));
    }
}

fn current(global: &Global, gen: u64) -> Option<LinkInfo> {
    global
        .repl
        .state()
        .link
        .as_ref()
        .filter(|l| l.gen == gen)
        .cloned()
}

fn set_link(global: &Global, gen: u64, f: impl FnOnce(&mut LinkInfo)) {
    if let Some(l) = global.repl.state().link.as_mut().filter(|l| l.gen == gen) {
        f(l);
    }
    // replica-serve-stale-data follows the link state (-MASTERDOWN while it is down).
    crate::replication::refresh_stale(global);
}

/// Held by the link thread that talks to the shards: after a re-point the new link starts
/// only once the old one stopped dispatching.
static LINK_RUNNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn link_main(global: Arc<Global>, gen: u64) {
    let Some(mesh) = global.repl.mesh.get().cloned() else {
        crate::log::warning("Replication link started before the shards");
        return;
    };
    let _running = crate::replication::lock(&LINK_RUNNING);
    let mut d = Dispatch::new(mesh, global.clone());
    while current(&global, gen).is_some() && !global.shutting_down.load(Ordering::Relaxed) {
        let r = run_link(&global, gen, &mut d);
        d.wait_applied(Duration::from_secs(5));
        let was_up = current(&global, gen).is_some_and(|l| l.state == LinkState::Connected);
        set_link(&global, gen, |l| {
            if l.state == LinkState::Connected {
                l.down_since_ms = unix_ms();
            }
            l.state = LinkState::Connect;
        });
        match r {
            Ok(()) => {}
            Err(e) if e == LOGGED => {}
            Err(e) if was_up => {
                crate::log::notice(&format!("Connection with master lost ({e})."));
                crate::log::notice("Caching the disconnected master state.");
            }
            // A link stopped by a promotion or a re-point says nothing more.
            Err(_) if current(&global, gen).is_none() => {}
            Err(e) => crate::log::warning(&e),
        }
        for _ in 0..10 {
            if current(&global, gen).is_none() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The socket and its unparsed input.
pub(super) struct Conn {
    sock: TcpStream,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
}

impl Conn {
    /// A connected socket, reads bounded by the link's poll interval.
    pub(super) fn new(sock: TcpStream) -> Result<Conn, String> {
        sock.set_read_timeout(Some(Duration::from_millis(POLL_MS)))
            .map_err(|e| e.to_string())?;
        Ok(Conn {
            sock,
            buf: Vec::new(),
            pos: 0,
        })
    }

    /// Reads more input; Ok(false) on a read timeout.
    pub(super) fn fill(&mut self) -> Result<bool, String> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 1 << 20 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        match self.sock.read(&mut chunk) {
            Ok(0) => Err("connection closed by the master".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                Ok(false)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// One line (without CRLF); waits at most `timeout`.
    fn line(&mut self, timeout: Duration) -> Result<String, String> {
        let t0 = Instant::now();
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let raw = &self.buf[self.pos..self.pos + i];
                let text = String::from_utf8_lossy(raw)
                    .trim_end_matches('\r')
                    .to_string();
                self.pos += i + 1;
                return Ok(text);
            }
            if t0.elapsed() > timeout {
                return Err("timeout reading from the master".into());
            }
            self.fill()?;
        }
    }

    fn send(&mut self, parts: &[&[u8]]) -> Result<(), String> {
        let mut b = Vec::new();
        crate::aof_store::journal::encode(&mut b, parts);
        self.sock.write_all(&b).map_err(|e| e.to_string())
    }
}

fn run_link(global: &Arc<Global>, gen: u64, d: &mut Dispatch) -> Result<(), String> {
    let Some(info) = current(global, gen) else {
        return Ok(());
    };
    set_link(global, gen, |l| l.state = LinkState::Connecting);
    if d.attempts > 0 {
        // The first attempt's line came with REPLICAOF.
        crate::log::notice(&format!("Connecting to MASTER {}:{}", info.host, info.port));
    }
    d.attempts += 1;
    crate::log::notice("MASTER <-> REPLICA sync started");
    // A block cut by the last connection was neither applied nor counted: it comes again.
    d.block = None;
    d.carry.clear();
    let addr = (info.host.as_str(), info.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address for the master")?;
    let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = sock.set_nodelay(true);
    let mut c = Conn::new(sock)?;
    set_link(global, gen, |l| l.state = LinkState::Handshake);
    handshake(global, &mut c)?;
    let (replid, offset) = crate::replication::replid_and_offset(global);
    let from = (offset + 1).to_string();
    crate::log::notice(&format!(
        "Trying a partial resynchronization (request {replid}:{from})."
    ));
    c.send(&[b"PSYNC", replid.as_bytes(), from.as_bytes()])?;
    let reply = loop {
        let l = c.line(Duration::from_secs(60))?;
        if !l.is_empty() {
            break l;
        }
    };
    let full = reply.starts_with("+FULLRESYNC ");
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let (id, off) = rest.split_once(' ').ok_or("bad FULLRESYNC reply")?;
        let off: u64 = off.trim().parse().map_err(|_| "bad FULLRESYNC offset")?;
        crate::log::notice(&format!("Full resync from master: {id}:{off}"));
        set_link(global, gen, |l| {
            l.state = LinkState::Sync;
            l.sync_read_bytes = 0;
            l.last_io_ms = unix_ms();
        });
        if let Err(e) = full_sync(global, gen, &mut c, d) {
            crate::log::warning(&e);
            return Err(LOGGED.into());
        }
        adopt_full(global, gen, id, off);
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        adopt_continue(global, rest.trim());
        crate::log::notice("Successful partial resynchronization with master.");
        crate::log::notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        crate::log::notice(&format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        ));
        return Err(LOGGED.into());
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    set_link(global, gen, |l| {
        l.state = LinkState::Connected;
        l.last_up_ms = unix_ms();
        l.last_io_ms = unix_ms();
    });
    if full {
        crate::log::notice("MASTER <-> REPLICA sync: Finished with success");
    }
    send_ack(global, &mut c, d)?;
    stream(global, gen, &mut c, d)
}

/// PING, then `AUTH [masteruser] masterauth` (when `masterauth` is set; read at every
/// connection, so CONFIG SET applies to the next one), REPLCONF listening-port and capa, all
/// pipelined as Redis does. A refused AUTH ends the attempt with Redis' log line; the link
/// retries after its usual pause.
fn handshake(global: &Global, c: &mut Conn) -> Result<(), String> {
    c.send(&[b"PING"])?;
    let pong = c.line(Duration::from_secs(5))?;
    let auth_next = pong.starts_with("-NOAUTH")
        || pong.starts_with("-NOPERM")
        || pong.starts_with("-ERR operation not permitted");
    if !pong.starts_with('+') && !auth_next {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    crate::log::notice("Master replied to PING, replication can continue...");
    // replica-announce-port / -ip: what the master shows for us (Sentinel connects there).
    let (user, pass, port, ip) = global.cfg(|c| {
        let port = match c.stored_i64("replica-announce-port", 0) {
            0 => c.port.to_string(),
            p => p.to_string(),
        };
        (
            c.stored("masteruser", ""),
            c.stored("masterauth", ""),
            port,
            c.stored("replica-announce-ip", ""),
        )
    });
    let mut b = Vec::new();
    let auth = !pass.is_empty();
    if auth && user.is_empty() {
        crate::aof_store::journal::encode(&mut b, &[b"AUTH", pass.as_bytes()]);
    } else if auth {
        crate::aof_store::journal::encode(&mut b, &[b"AUTH", user.as_bytes(), pass.as_bytes()]);
    }
    crate::aof_store::journal::encode(&mut b, &[b"REPLCONF", b"listening-port", port.as_bytes()]);
    let mut steps = vec!["listening-port"];
    if !ip.is_empty() {
        crate::aof_store::journal::encode(&mut b, &[b"REPLCONF", b"ip-address", ip.as_bytes()]);
        steps.push("ip-address");
    }
    steps.push("capa");
    crate::aof_store::journal::encode(&mut b, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]);
    c.sock.write_all(&b).map_err(|e| e.to_string())?;
    if auth {
        let reply = c.line(Duration::from_secs(5))?;
        if reply.starts_with('-') {
            crate::log::warning(&format!("Unable to AUTH to MASTER: {reply}"));
            return Err(LOGGED.into());
        }
    }
    // Errors are tolerated, as in Redis.
    for what in steps {
        let reply = c.line(Duration::from_secs(5))?;
        if reply.starts_with('-') {
            crate::log::notice(&format!(
                "(Non critical) Master does not understand REPLCONF {what}: {reply}"
            ));
        }
    }
    Ok(())
}

/// An error already logged with its own line: the link logs nothing more.
const LOGGED: &str = "";

/// `repl-timeout`: the longest silence of the master accepted.
fn repl_timeout(global: &Global) -> Duration {
    Duration::from_secs(global.cfg(|c| c.stored_i64("repl-timeout", 60)).max(1) as u64)
}

/// The payload into a file in `dir`, then, only when it arrived whole and checks out, the
/// data replaced by it. Until then the shards serve their old data; an Err leaves it intact
/// unless the load itself failed after the flush. Errors are Redis' log lines.
fn full_sync(global: &Global, gen: u64, c: &mut Conn, d: &mut Dispatch) -> Result<(), String> {
    let head = loop {
        let l = c.line(repl_timeout(global))?;
        if !l.is_empty() {
            break l; // empty lines: the master's keepalives while it prepares the payload
        }
    };
    let framing = payload::framing(&head)?;
    crate::log::notice(&payload::start_line(&framing));
    let (dir, dbfilename) = global.cfg(|c| (c.dir.clone(), c.stored("dbfilename", "dump.rdb")));
    let mut progress = |n: u64| {
        set_link(global, gen, |l| {
            l.sync_read_bytes = n;
            l.last_io_ms = unix_ms();
        });
        current(global, gen).is_some()
    };
    let path = payload::temp_path(&dir);
    let mut got = payload::receive(c, &framing, path, repl_timeout(global), &mut progress)?;
    load_rdb(global, d, &mut got, &dir.join(dbfilename))
}

/// A checked RDB payload becomes `dbfilename` (as in Redis) and shard 0 flushes and loads it
/// with every shard parked.
fn load_rdb(
    global: &Global,
    d: &mut Dispatch,
    got: &mut Received,
    dbfile: &std::path::Path,
) -> Result<(), String> {
    let map = std::fs::File::open(&got.path)
        .and_then(|f| crate::sys::FileMapping::of(&f))
        .map_err(|e| format!("Can't read the payload of MASTER <-> REPLICA sync: {e}"))?;
    super::fullsync::check(map.bytes())?;
    std::fs::rename(&got.path, dbfile).map_err(|e| {
        format!(
            "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA \
             synchronization: {e}",
            dbfile.display()
        )
    })?;
    got.keep();
    forget_history(global);
    d.flush()?;
    d.wait_applied(Duration::from_secs(600));
    let done = super::fullsync::stage(map);
    d.send(0, super::fullsync::LOAD_RECORD.to_vec());
    let loaded = loop {
        match done.recv_timeout(Duration::from_millis(POLL_MS)) {
            Ok(r) => break r,
            Err(_) if global.shutting_down.load(Ordering::Relaxed) => {
                super::fullsync::unstage();
                break Err("shutting down during the load".into());
            }
            Err(_) => {}
        }
    };
    d.restart_dbs();
    loaded.map_err(|e| {
        format!(
            "Failed trying to load the MASTER synchronization DB from disk, check server logs. \
             ({e})"
        )
    })
}

/// The data is about to be replaced: until the snapshot is loaded whole, our old id and offset
/// describe nothing we hold, so a retry after a failed load must be a full sync again.
fn forget_history(global: &Global) {
    let mut st = global.repl.state();
    st.replid = crate::clock::random_hex40();
    st.replid2 = crate::replication::NO_REPLID.into();
    st.second_offset = -1;
    st.backlog = None;
}

fn adopt_full(global: &Global, gen: u64, id: &str, off: u64) {
    let size = crate::replication::backlog_size(global);
    let mut st = global.repl.state();
    if st.link.as_ref().is_none_or(|l| l.gen != gen) {
        return;
    }
    st.replid = id.to_string();
    st.replid2 = crate::replication::NO_REPLID.into();
    st.second_offset = -1;
    st.offset = off;
    st.backlog = None;
    st.ensure_backlog(size, false);
    global.repl.offset.store(off, Ordering::Release);
    if let Some(l) = st.link.as_mut().filter(|l| l.gen == gen) {
        l.read_offset = off;
        l.processed_offset = off;
    }
}

/// +CONTINUE <id>: a new id means the master was promoted; our old history becomes replid2.
fn adopt_continue(global: &Global, id: &str) {
    let size = crate::replication::backlog_size(global);
    let mut st = global.repl.state();
    if !id.is_empty() && id != st.replid {
        st.replid2 = std::mem::replace(&mut st.replid, id.to_string());
        st.second_offset = st.offset as i64 + 1;
        for r in &st.replicas {
            r.feed.kill();
        }
    }
    st.ensure_backlog(size, false);
}

/// The continuous stream: records to shards, the offset, ACKs every second.
fn stream(global: &Global, gen: u64, c: &mut Conn, d: &mut Dispatch) -> Result<(), String> {
    let mut parser = Parser::new();
    let mut last_ack = Instant::now();
    let mut last_io = Instant::now();
    let timeout = repl_timeout(global);
    loop {
        if current(global, gen).is_none() {
            return Ok(());
        }
        let mut start = c.pos;
        let mut getack = false;
        while c.pos < c.buf.len() {
            match parser.parse(&c.buf[c.pos..], u64::MAX) {
                ParseOutcome::Command { consumed } => {
                    let args = Args::new(&c.buf[c.pos..], parser.ranges());
                    if d.block.is_some() || block::is_multi(args) {
                        // A block's bytes count in the offset once it reached the shards
                        // whole (a GETACK inside it waits for the next ACK).
                        let opens = d.block.is_none();
                        if opens && !hand_over(global, gen, d, &[&c.buf[start..c.pos]])? {
                            return Ok(());
                        }
                        if opens {
                            start = c.pos;
                        }
                        d.route(args, &c.buf[c.pos..c.pos + consumed])?;
                        c.pos += consumed;
                        if d.block.is_none() {
                            let carried = std::mem::take(&mut d.carry);
                            let parts = [&carried[..], &c.buf[start..c.pos]];
                            if !hand_over(global, gen, d, &parts)? {
                                return Ok(());
                            }
                            start = c.pos;
                        }
                        continue;
                    }
                    if is_getack(args) {
                        getack = true;
                        let _applying = crate::replication::lock(&global.repl.apply_lock);
                        if current(global, gen).is_none() {
                            return Ok(());
                        }
                        // The ACK reports the offset before this record, as Redis does.
                        commit(global, gen, &c.buf[start..c.pos]);
                        let rec_end = c.pos + consumed;
                        d.flush()?;
                        send_ack(global, c, d)?;
                        commit(global, gen, &c.buf[c.pos..rec_end]);
                        c.pos = rec_end;
                        break;
                    }
                    d.route(args, &c.buf[c.pos..c.pos + consumed])?;
                    c.pos += consumed;
                }
                ParseOutcome::Incomplete { .. } => break,
                ParseOutcome::Error(e) => return Err(format!("protocol error in the stream: {e}")),
            }
        }
        if getack {
            continue;
        }
        if d.block.is_some() {
            // The open block's bytes so far: committed with the rest of it.
            let seen = &c.buf[start..c.pos];
            d.carry.extend_from_slice(seen);
        } else if !hand_over(global, gen, d, &[&c.buf[start..c.pos]])? {
            return Ok(());
        }
        let asked = std::mem::take(&mut global.repl.state().ack_requested);
        if asked || last_ack.elapsed() >= Duration::from_secs(1) {
            send_ack(global, c, d)?;
            last_ack = Instant::now();
        }
        if c.fill()? {
            last_io = Instant::now();
            set_link(global, gen, |l| l.last_io_ms = unix_ms());
        } else if last_io.elapsed() > timeout {
            return Err("MASTER timeout: no data nor PING received...".into());
        }
    }
}

/// Hands the queued records to the shards and commits `parts` (their stream bytes, in order)
/// together, under the apply lock; false when the link was re-pointed or stopped meanwhile.
fn hand_over(global: &Global, gen: u64, d: &mut Dispatch, parts: &[&[u8]]) -> Result<bool, String> {
    // Records reach the shards and the offset together, or not at all (shutdown).
    let _applying = crate::replication::lock(&global.repl.apply_lock);
    if current(global, gen).is_none() {
        return Ok(false);
    }
    d.flush()?;
    for p in parts {
        commit(global, gen, p);
    }
    Ok(true)
}

fn is_getack(args: Args<'_>) -> bool {
    args.len() >= 2
        && args.get(0).eq_ignore_ascii_case(b"REPLCONF")
        && args.get(1).eq_ignore_ascii_case(b"GETACK")
}

/// Stream bytes handed to the shards: our backlog (for our own replicas) and offsets grow.
fn commit(global: &Global, gen: u64, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut st = global.repl.state();
    if st.link.as_ref().is_none_or(|l| l.gen != gen) {
        return; // promoted or re-pointed meanwhile: these bytes are not our history
    }
    st.append(bytes, &global.repl.offset);
    let off = st.offset;
    if let Some(l) = st.link.as_mut() {
        l.read_offset = off;
        l.processed_offset = off;
    }
}

/// REPLCONF ACK <offset>, once everything handed to the shards is applied.
fn send_ack(global: &Global, c: &mut Conn, d: &mut Dispatch) -> Result<(), String> {
    d.wait_applied(Duration::from_millis(500));
    let off = global.repl.state().offset.to_string();
    c.send(&[b"REPLCONF", b"ACK", off.as_bytes()])
}

/// Routes records to the shards owning their keys, in batches, keeping per-shard order.
struct Dispatch {
    mesh: Arc<crate::mesh::Mesh>,
    batches: Vec<Vec<u8>>,
    sent: Vec<u64>,
    done: Vec<Arc<AtomicU64>>,
    /// The database the master's records are for (its SELECT records).
    db: u32,
    /// The database each shard's apply path was last told (`NO_DB`: not yet).
    shard_db: Vec<u32>,
    global: Arc<Global>,
    /// A MULTI/EXEC block being collected, and its stream bytes of earlier reads (not
    /// committed to the offset until the block is handed over).
    block: Option<Block>,
    carry: Vec<u8>,
    /// Connection attempts so far.
    attempts: u64,
}

impl Dispatch {
    fn new(mesh: Arc<crate::mesh::Mesh>, global: Arc<Global>) -> Dispatch {
        let n = mesh.inboxes.len();
        let db = global.repl.state().link_db;
        Dispatch {
            mesh,
            batches: vec![Vec::new(); n],
            sent: vec![0; n],
            done: (0..n).map(|_| Arc::new(AtomicU64::new(0))).collect(),
            db,
            shard_db: vec![crate::global::repl::NO_DB; n],
            global,
            block: None,
            carry: Vec::new(),
            attempts: 0,
        }
    }

    /// A SELECT record: later records are for database `db` (kept for a partial resync).
    fn select(&mut self, db: u32) {
        if db != self.db {
            self.db = db;
            self.global.repl.state().link_db = db;
        }
    }

    /// After a full sync the master's records start in database 0, and every shard is told
    /// again which database it applies to.
    fn restart_dbs(&mut self) {
        self.select(0);
        self.shard_db.fill(crate::global::repl::NO_DB);
    }

    /// Appends `SELECT db` to `buf` (bound for shard `id`) unless that shard is in it.
    fn say_db(&mut self, id: usize, buf: &mut Vec<u8>) {
        if self.shard_db[id] != self.db {
            crate::aof_store::journal::encode_select(buf, self.db);
            self.shard_db[id] = self.db;
        }
    }

    fn shards(&self) -> usize {
        self.batches.len()
    }

    fn route(&mut self, args: Args<'_>, raw: &[u8]) -> Result<(), String> {
        let n = self.shards();
        if args.is_empty() {
            return Ok(());
        }
        if self.block.is_some() || block::is_multi(args) {
            return self.route_in_block(args, raw);
        }
        let name = args.get(0);
        if name.eq_ignore_ascii_case(b"SELECT") && args.len() == 2 {
            let db = crate::resp::parse::parse_i64(args.get(1)).unwrap_or(-1);
            let db = u32::try_from(db).map_err(|_| "a SELECT with a bad index".to_string())?;
            self.select(db);
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"REPLFLUSH")
            || name.eq_ignore_ascii_case(b"FLUSHALL")
            || name.eq_ignore_ascii_case(b"FLUSHDB")
            || name.eq_ignore_ascii_case(b"SWAPDB")
        {
            self.flush()?;
            for id in 0..n {
                let mut b = Vec::new();
                self.say_db(id, &mut b);
                b.extend_from_slice(raw);
                self.send(id, b);
            }
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"FUNCTION")
            || crate::dispatch::apply::publish_kind(args).is_some()
        {
            // Function libraries are node-wide: shard 0 applies and journals their changes.
            // A message for subscribers: shard 0 delivers it to every core.
            self.batches[0].extend_from_slice(raw);
            return Ok(());
        }
        use crate::dispatch::replay::{self, Record};
        let Ok(Record::Keyed(spec)) = replay::classify(args) else {
            return Ok(()); // PING, SELECT, unknown: nothing for the shards
        };
        let ids = replay::record_shards(spec, args, n).unwrap_or_default();
        match ids.as_slice() {
            [] => Ok(()),
            [one] => {
                let mut b = std::mem::take(&mut self.batches[*one]);
                self.say_db(*one, &mut b);
                self.batches[*one] = b;
                self.batches[*one].extend_from_slice(raw);
                if self.batches[*one].len() >= BATCH_BYTES {
                    self.flush_one(*one);
                }
                Ok(())
            }
            [first, ..] => {
                // Keys on several shards: everything before it must be applied first, and it
                // must be applied before anything after it.
                self.flush()?;
                self.wait_applied(Duration::from_secs(600));
                let mut b = Vec::new();
                self.say_db(*first, &mut b);
                b.extend_from_slice(raw);
                self.send(*first, b);
                self.wait_applied(Duration::from_secs(600));
                Ok(())
            }
        }
    }

    /// A record of a MULTI/EXEC block: kept until its EXEC, then handed to the shard(s) whole.
    fn route_in_block(&mut self, args: Args<'_>, raw: &[u8]) -> Result<(), String> {
        let n = self.shards();
        let b = match self.block.as_mut() {
            Some(_) if block::is_multi(args) => {
                return Err("MULTI inside a MULTI/EXEC block of the stream".into())
            }
            Some(b) => b,
            None => self.block.insert(Block::new(n, self.db)),
        };
        b.push(args, raw)?;
        if args.get(0).eq_ignore_ascii_case(b"SELECT") && args.len() == 2 {
            let db = crate::resp::parse::parse_i64(args.get(1)).unwrap_or(-1);
            let db = u32::try_from(db).map_err(|_| "a SELECT with a bad index".to_string())?;
            self.select(db);
        }
        if block::is_exec(args) {
            self.end_block();
        }
        Ok(())
    }

    /// The block's EXEC arrived: one shard gets it in its batch; a block over several shards
    /// goes to the first of them (which parks the others) after everything before it was
    /// applied, and is applied before anything after it.
    fn end_block(&mut self) {
        let Some(b) = self.block.take() else {
            return;
        };
        let ids = b.shards();
        let Some(&first) = ids.first() else {
            return; // nothing for the shards (PINGs)
        };
        let mut data = std::mem::take(&mut self.batches[first]);
        if self.shard_db[first] != b.db {
            crate::aof_store::journal::encode_select(&mut data, b.db);
        }
        data.extend_from_slice(&b.data);
        // Its SELECTs moved that shard's apply path to the master's current database.
        self.shard_db[first] = self.db;
        if ids.len() == 1 {
            self.batches[first] = data;
            if self.batches[first].len() >= BATCH_BYTES {
                self.flush_one(first);
            }
            return;
        }
        let _ = self.flush();
        self.wait_applied(Duration::from_secs(600));
        self.send(first, data);
        self.wait_applied(Duration::from_secs(600));
    }

    fn flush_one(&mut self, id: usize) {
        if !self.batches[id].is_empty() {
            let data = std::mem::take(&mut self.batches[id]);
            self.send(id, data);
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        for id in 0..self.shards() {
            self.flush_one(id);
        }
        Ok(())
    }

    fn send(&mut self, id: usize, data: Vec<u8>) {
        while self.sent[id] - self.done[id].load(Ordering::Acquire) >= INFLIGHT_BATCHES_MAX {
            std::thread::sleep(Duration::from_micros(200));
        }
        self.sent[id] += 1;
        let msg = MeshMsg::ReplApply(Box::new(ReplBatch {
            data,
            done: self.done[id].clone(),
        }));
        self.mesh.send_blocking(id, msg);
    }

    /// Waits (bounded) until the shards applied every batch sent; true when they did.
    fn wait_applied(&self, max: Duration) -> bool {
        let t0 = Instant::now();
        loop {
            let all =
                (0..self.shards()).all(|i| self.done[i].load(Ordering::Acquire) >= self.sent[i]);
            if all {
                return true;
            }
            if t0.elapsed() > max {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
