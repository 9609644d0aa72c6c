//! Master side: serving PSYNC and SYNC (partial from the backlog, or full: an RDB payload made
//! by a snapshot of every shard, then the stream) to slotd and redis-server replicas and to
//! `redis-cli --rdb`, REPLCONF's effects (the commands themselves are in
//! `commands::replication`), WAIT's bookkeeping, and the keepalive PING in the stream. The per-replica sender thread is the
//! `repl_link::sender` driver, started through the hook `server` installs.
//!
//! A replica is a normal client of some shard: that shard keeps reading its REPLCONF ACKs,
//! while a sender thread writes the snapshot and the stream to a duplicate of its socket with
//! blocking writes, so no shard loop ever waits on a slow replica.

use super::snapshot::{ShardSnap, SnapFormat, SnapSession};
use super::{Feed, ReplicaInfo};
use crate::clock::unix_ms;
use crate::global::Global;
use crate::rdb::dump::DumpOpts;
use crate::rdb::file::write::{put_functions, put_header, Aux, ReplAux};
use crate::resp::ReplyError;
use crate::shard::Shard;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

pub use crate::shard::repl::WaitReq;

/// Listening ports announced before PSYNC, by client id (few entries, short-lived).
pub fn set_listening_port(global: &Global, client_id: u64, port: u16) {
    let mut st = global.repl.state();
    st.pending_ports.retain(|(id, _)| *id != client_id);
    if st.pending_ports.len() >= 1024 {
        st.pending_ports.remove(0);
    }
    st.pending_ports.push((client_id, port));
}

/// REPLCONF ip-address (the replica's `replica-announce-ip`), by client id until its sync:
/// INFO replication and ROLE then show it instead of the connection's address, as Redis.
pub fn set_announced_ip(global: &Global, client_id: u64, ip: String) {
    let mut st = global.repl.state();
    st.pending_ips.retain(|(id, _)| *id != client_id);
    if st.pending_ips.len() >= crate::constants::PENDING_ANNOUNCED_IPS_MAX {
        st.pending_ips.remove(0);
    }
    st.pending_ips.push((client_id, ip));
}

/// The address a replica announced, taken out of the pending list.
fn take_announced_ip(global: &Global, client_id: u64) -> Option<String> {
    let mut st = global.repl.state();
    let at = st.pending_ips.iter().position(|(id, _)| *id == client_id)?;
    Some(st.pending_ips.remove(at).1)
}

/// What a replica asked for with REPLCONF before its SYNC/PSYNC, as bits (Redis' `slave_capa`
/// and `slave_req`).
pub mod req {
    /// `capa eof`: it reads an EOF-marked payload of unknown length (diskless).
    pub const CAPA_EOF: u8 = 1;
    /// `rdb-only 1`: the payload only, then the connection closes (`redis-cli --rdb`).
    pub const RDB_ONLY: u8 = 2;
    /// `rdb-filter-only`: the payload leaves out the keys ...
    pub const NO_DATA: u8 = 4;
    /// ... and the function libraries unless the filter names `functions`.
    pub const NO_FUNCTIONS: u8 = 8;
}

/// REPLCONF flags of a client not syncing yet: `clear` bits off, then `set` bits on.
pub fn set_req(global: &Global, client_id: u64, clear: u8, set: u8) {
    let mut st = global.repl.state();
    match st.pending_reqs.iter_mut().find(|(id, _)| *id == client_id) {
        Some((_, f)) => *f = (*f & !clear) | set,
        None => {
            if st.pending_reqs.len() >= 1024 {
                st.pending_reqs.remove(0);
            }
            st.pending_reqs.push((client_id, set));
        }
    }
}

/// The REPLCONF flags of `client_id` (kept until its sync begins).
fn pending_req(st: &super::ReplState, client_id: u64) -> u8 {
    st.pending_reqs
        .iter()
        .find(|(id, _)| *id == client_id)
        .map_or(0, |p| p.1)
}

/// REPLCONF ACK <offset> from replica `client_id`.
pub fn on_ack(global: &Global, client_id: u64, off: u64) {
    let mut st = global.repl.state();
    if let Some(r) = st.replicas.iter_mut().find(|r| r.client_id == client_id) {
        r.ack_offset = r.ack_offset.max(off);
        r.ack_time_ms = unix_ms();
        r.online = true;
    }
    drop(st);
    super::min_replicas::refresh(global);
    global.repl.ack_gen.fetch_add(1, Ordering::Release);
    if global.repl.waits_pending.load(Ordering::Acquire) > 0 {
        // WAIT commands may be parked on sleeping shards.
        if let Some(mesh) = global.repl.mesh.get() {
            for id in 0..mesh.inboxes.len() {
                mesh.wake(id);
            }
        }
    }
}

/// What a replica asked for with PSYNC/SYNC, once the command checked it may be served.
pub struct SyncAsk {
    pub client_id: u64,
    /// The replica's socket (duplicated here for the sender thread).
    pub fd: RawFd,
    /// "ip:port" as CLIENT LIST shows it.
    pub addr: String,
    /// The replication id and offset to continue from ("?" and -1 for a full sync).
    pub replid: String,
    pub from: i64,
    /// This node is itself a replica (as read when the command was checked).
    pub is_replica: bool,
    /// PSYNC (false: the old SYNC, answered without `+FULLRESYNC`).
    pub psync: bool,
}

/// How the RDB payload of a full sync is framed.
pub enum Payload {
    /// `$EOF:<40 chars>\r\n`, the bytes as the shards make them, the 40 chars again.
    Eof,
    /// `$<len>\r\n` and the bytes: spooled first to a temp file in this directory.
    Disk(std::path::PathBuf),
}

/// Starts serving a replica: a partial resync from the backlog when its history allows it,
/// else a full one (a snapshot of every shard, then the stream), written by a sender thread.
/// `sh` is the shard of the replica's connection.
pub fn begin_sync(sh: &mut Shard, ask: SyncAsk) -> Result<(), ReplyError> {
    let global = sh.global.clone();
    let (client_id, fd, from) = (ask.client_id, ask.fd, ask.from);
    let reqs = {
        let mut st = global.repl.state();
        let reqs = pending_req(&st, client_id);
        if reqs & (req::NO_DATA | req::NO_FUNCTIONS) != 0 && reqs & req::CAPA_EOF == 0 {
            return Err(ReplyError::other(
                "ERR Filtered replica requires EOF capability",
            ));
        }
        st.pending_reqs.retain(|(id, _)| *id != client_id);
        reqs
    };
    let ip = take_announced_ip(&global, client_id).unwrap_or_else(|| {
        ask.addr
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("")
            .to_string()
    });
    // As Redis names a replica in its log lines: the IP and the announced port.
    let name = {
        let st = global.repl.state();
        match st.pending_ports.iter().find(|(id, _)| *id == client_id) {
            Some((_, port)) => format!("{ip}:{port}"),
            None => format!("{ip}:<unknown-replica-port>"),
        }
    };
    crate::log::notice(&format!("Replica {name} asks for synchronization"));
    // A copy of our own live socket, owned by the sender thread.
    let Ok(dup) = crate::sys::dup(fd) else {
        return Err(ReplyError::Other(
            "ERR can't duplicate the replica socket".into(),
        ));
    };
    let feed = Arc::new(Feed::default());
    feed.attach(
        dup,
        format!(
            "id={client_id} addr={} fd={fd} name= flags=S db=0 cmd=psync",
            ask.addr
        ),
    );
    if from > 0 && try_partial(&global, &ask.replid, from as u64, client_id, &ip, &feed) {
        let header = format!("+CONTINUE {}\r\n", global.repl.state().replid);
        spawn_sender(Sender {
            global,
            fd: dup,
            client_id,
            header,
            session: None,
            payload: Payload::Eof,
            rdb_only: false,
            name,
            feed,
        });
        return Ok(());
    }
    if ask.replid != "?" {
        global.repl.sync_partial_err.fetch_add(1, Ordering::Relaxed);
    }
    if ask.is_replica {
        // SAFETY: our dup, not shared yet.
        let _ = unsafe { crate::sys::close(dup) };
        return Err(ReplyError::Other(
            "ERR slotd replicas serve partial resyncs only".into(),
        ));
    }
    global.repl.sync_full.fetch_add(1, Ordering::Relaxed);
    if ask.psync {
        crate::log::notice(&format!("Full resync requested by replica {name}"));
    }
    let (session, header) = start_full(sh, client_id, &ip, &feed, reqs, ask.psync);
    let diskless = global.cfg(|c| c.stored_bool("repl-diskless-sync", true));
    let payload = match diskless && reqs & req::CAPA_EOF != 0 {
        true => Payload::Eof,
        false => Payload::Disk(global.cfg(|c| c.dir.clone())),
    };
    let target = match payload {
        Payload::Disk(_) => "disk",
        Payload::Eof => "replicas sockets",
    };
    crate::log::notice(&format!(
        "Starting a slot-by-slot snapshot for SYNC with target: {target}"
    ));
    spawn_sender(Sender {
        global,
        fd: dup,
        client_id,
        header,
        session: Some(session),
        payload,
        rdb_only: reqs & req::RDB_ONLY != 0,
        name,
        feed,
    });
    Ok(())
}

/// The replica's announced port, taken out of the pending list. Also starts the keepalive
/// clock when this is the first replica (the first PING comes one period later).
fn take_port(st: &mut super::ReplState, client_id: u64) -> u16 {
    if st.replicas.is_empty() {
        st.last_ping_ms = unix_ms();
    }
    let port = st
        .pending_ports
        .iter()
        .find(|(id, _)| *id == client_id)
        .map(|p| p.1)
        .unwrap_or(0);
    st.pending_ports.retain(|(id, _)| *id != client_id);
    port
}

fn try_partial(
    global: &Global,
    replid: &str,
    from: u64,
    client_id: u64,
    ip: &str,
    feed: &Arc<Feed>,
) -> bool {
    let mut st = global.repl.state();
    if !st.can_continue(replid, from) {
        return false;
    }
    let Some(missing) = st.backlog.as_ref().and_then(|b| b.copy_from(from)) else {
        return false;
    };
    feed.push(&missing, st.replica_obuf);
    let port = take_port(&mut st, client_id);
    st.replicas.push(ReplicaInfo {
        client_id,
        ip: ip.to_string(),
        listening_port: port,
        feed: feed.clone(),
        ack_offset: from.saturating_sub(1),
        ack_time_ms: unix_ms(),
        online: true,
    });
    global.repl.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
    crate::log::notice(&format!(
        "Partial resynchronization request from {ip} accepted. Sending {} bytes of backlog \
         starting from offset {from}.",
        st.offset + 1 - from
    ));
    true
}

/// Starts a snapshot on every shard at one instant (all shards parked): each shard's
/// unfed journal goes to the stream first, then the offset read there is the snapshot's. The
/// RDB header (with that offset) and the function libraries are the session's first chunk;
/// the shards' key entries follow (none with `rdb-filter-only`).
fn start_full(
    sh: &mut Shard,
    client_id: u64,
    ip: &str,
    feed: &Arc<Feed>,
    reqs: u8,
    psync: bool,
) -> (Arc<SnapSession>, String) {
    let global = sh.global.clone();
    let shards = sh.shards;
    let with_data = reqs & req::NO_DATA == 0;
    let session = Arc::new(SnapSession::new(if with_data { shards } else { 0 }));
    let size = super::backlog_size(&global);
    let format = SnapFormat::Rdb(global.cfg(|c| DumpOpts {
        compress: c.stored_bool("rdbcompression", true),
        list_fill: c.stored_i64("list-max-listpack-size", DumpOpts::default().list_fill),
    }));
    let mut seen = 0usize;
    let mut header = String::new();
    sh.call_all(|sh| {
        if seen == 0 {
            let mut st = global.repl.state();
            let first = st.replicas.is_empty();
            st.ensure_backlog(size, first);
            global.repl.feeding.store(true, Ordering::Release);
        }
        super::feed_journal(sh);
        sh.journal.enabled = true;
        if with_data {
            let tables = sh.walk_tables();
            let snap = ShardSnap::new(session.clone(), tables, format);
            sh.repl.snaps.push(snap);
        }
        seen += 1;
        if seen < shards {
            return;
        }
        // The last shard: every journal is fed, the offset is the snapshot's. The head goes
        // in before any shard's chunk (they come in later loop turns).
        let mut st = global.repl.state();
        let port = take_port(&mut st, client_id);
        if psync {
            header = format!("+FULLRESYNC {} {}\r\n", st.replid, st.offset);
        }
        let aux = Aux {
            redis_ver: crate::constants::REDIS_VERSION.to_string(),
            ctime_s: unix_ms() / 1000,
            used_mem_bytes: crate::sys::alloc::used_bytes(),
            repl: Some(ReplAux {
                stream_db: 0,
                replid: st.replid.clone(),
                offset: st.offset,
            }),
            aof_base: false,
        };
        let mut head = Vec::new();
        put_header(&mut head, &aux);
        if reqs & req::NO_FUNCTIONS == 0 {
            put_functions(&mut head, &global.scripts.libraries());
        }
        session.push(head, false);
        // The replica reads the stream from here in database 0 (repl-stream-db); the next
        // records say which database they are for.
        st.stream_db = crate::global::repl::NO_DB;
        st.replicas.push(ReplicaInfo {
            client_id,
            ip: ip.to_string(),
            listening_port: port,
            feed: feed.clone(),
            ack_offset: 0,
            ack_time_ms: unix_ms(),
            online: false,
        });
    });
    (session, header)
}

/// One replica's sender, ready to start.
pub struct Sender {
    pub global: Arc<Global>,
    /// Our duplicate of the replica's socket (the sender closes it).
    pub fd: RawFd,
    pub client_id: u64,
    /// The +CONTINUE or +FULLRESYNC line.
    pub header: String,
    /// The snapshot of a full sync (its chunks are the RDB payload but for the footer).
    pub session: Option<Arc<SnapSession>>,
    /// How a full sync's payload is framed.
    pub payload: Payload,
    /// Close once the payload is sent (`REPLCONF rdb-only 1`).
    pub rdb_only: bool,
    /// "ip:port" for log lines.
    pub name: String,
    pub feed: Arc<Feed>,
}

/// Starts the sender thread of one replica: the `repl_link` driver's, installed by `server`
/// at boot (this module is below the drivers and does not name them).
pub type SenderSpawner = fn(Sender);

static SENDER_SPAWNER: OnceLock<SenderSpawner> = OnceLock::new();

/// Installs the sender spawner (once, at boot).
pub fn install_sender_spawner(spawn: SenderSpawner) {
    let _ = SENDER_SPAWNER.set(spawn);
}

fn spawn_sender(s: Sender) {
    match SENDER_SPAWNER.get() {
        Some(spawn) => spawn(s),
        None => finish_sender(&s.global, s.fd, s.client_id, s.session.as_deref(), &s.feed),
    }
}

/// A sender is done (or could not start): the replica is forgotten and its socket closed.
pub fn finish_sender(
    global: &Global,
    fd: RawFd,
    client_id: u64,
    session: Option<&SnapSession>,
    feed: &Feed,
) {
    if let Some(s) = session {
        s.abort();
    }
    feed.detach();
    global
        .repl
        .state()
        .replicas
        .retain(|r| r.client_id != client_id);
    super::min_replicas::refresh(global);
    global.repl.ack_gen.fetch_add(1, Ordering::Release);
    // Our duplicate of the socket. shutdown() makes the shard's receive see the end.
    let _ = crate::sys::shutdown(fd);
    // SAFETY: the sender's own duplicate, closed once here as the sender finishes.
    let _ = unsafe { crate::sys::close(fd) };
}

/// A connection closed: if it was a replica its sender stops.
pub fn client_closed(global: &Global, client_id: u64) {
    let r = &global.repl;
    if !r.feeding.load(Ordering::Relaxed) && !r.is_replica.load(Ordering::Relaxed) {
        return; // no replicas can exist: no lock on every connection close
    }
    let st = global.repl.state();
    if let Some(r) = st.replicas.iter().find(|r| r.client_id == client_id) {
        r.feed.kill();
    }
}

/// Shard 0's cron: the keepalive PING every `repl-ping-replica-period` seconds while
/// replicas are connected (it is part of the stream and counts in the offset).
pub fn cron(global: &Global, now_ms: u64) {
    // Replicas age out of the good count even when nothing else happens.
    super::min_replicas::refresh(global);
    if !global.repl.feeding.load(Ordering::Relaxed) {
        return;
    }
    let period_s = global.cfg(|c| {
        c.unimplemented
            .get("repl-ping-replica-period")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(10)
    });
    let timeout_ms = global.cfg(|c| {
        c.unimplemented
            .get("repl-timeout")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(60)
    }) * 1000;
    let mut st = global.repl.state();
    // A replica that stopped acknowledging (online ones ACK every second) is dropped.
    for r in st.replicas.iter().filter(|r| r.online) {
        if now_ms.saturating_sub(r.ack_time_ms) > timeout_ms.max(1000) {
            crate::log::warning("Disconnecting timedout replica (streaming sync)");
            r.feed.kill();
        }
    }
    if st.replicas.is_empty() || now_ms < st.last_ping_ms + period_s.max(1) * 1000 {
        return;
    }
    st.last_ping_ms = now_ms;
    st.append(b"*1\r\n$4\r\nping\r\n", &global.repl.offset);
}

/// Online replicas that acknowledged at least `target`.
pub fn acked_count(global: &Global, target: u64) -> i64 {
    let st = global.repl.state();
    st.replicas
        .iter()
        .filter(|r| r.online && r.ack_offset >= target)
        .count() as i64
}

/// Appends `REPLCONF GETACK *` to the stream so replicas acknowledge at once.
pub fn ask_acks(global: &Global) {
    let mut st = global.repl.state();
    if st.replicas.is_empty() {
        return;
    }
    st.append(
        b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n",
        &global.repl.offset,
    );
}
