//! Master side, a driver: the per-replica sender thread. A replica is a normal client of some
//! shard: that shard keeps reading its REPLCONF ACKs, while this thread writes the RDB payload
//! (EOF-marked from the snapshot queue, or spooled to a file and sent with its length) and
//! then the stream to a duplicate of its socket with blocking writes, so no shard loop ever
//! waits on a slow replica. Serving PSYNC itself is `replication::master`.

use crate::global::Global;
use crate::rdb::crc64::crc64;
use crate::rdb::file::write::put_footer;
use crate::replication::master::{finish_sender, Payload, Sender};
use crate::replication::snapshot::SnapSession;
use crate::replication::{lock, Feed};
use std::io::{Read, Seek, Write};
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Starts the sender thread of one replica (installed as `master`'s sender spawner).
pub fn spawn(sender: Sender) {
    let g = sender.global.clone();
    let (fd, client_id) = (sender.fd, sender.client_id);
    let (session, feed) = (sender.session.clone(), sender.feed.clone());
    let r = std::thread::Builder::new()
        .name("slotd-repl-send".into())
        .spawn(move || {
            if let Err(e) = send_all(&sender) {
                let name = &sender.name;
                crate::log::warning(&format!("Connection with replica {name} lost: {e}"));
            }
            let s = &sender;
            finish_sender(&s.global, s.fd, s.client_id, s.session.as_deref(), &s.feed);
        });
    if r.is_err() {
        finish_sender(&g, fd, client_id, session.as_deref(), &feed);
    }
}

/// The sender's whole life: header, RDB payload (framed), then the stream until the feed dies.
fn send_all(s: &Sender) -> Result<(), String> {
    let (global, fd, feed) = (&*s.global, s.fd, &*s.feed);
    write_all(fd, s.header.as_bytes())?;
    if let Some(session) = s.session.as_deref() {
        match &s.payload {
            Payload::Eof => {
                send_diskless(global, fd, session, feed)?;
                if !s.rdb_only {
                    wait_first_ack(global, s.client_id, feed)?;
                }
            }
            Payload::Disk(dir) => {
                let name = format!("temp-sync-{}-{}.rdb", std::process::id(), s.client_id);
                let path = dir.join(name);
                let r = send_spooled(global, fd, session, feed, &path);
                let _ = std::fs::remove_file(&path);
                r?;
            }
        }
        let name = &s.name;
        if s.rdb_only {
            crate::log::notice(&format!(
                "RDB transfer completed, rdb only replica ({name}) should be disconnected asap"
            ));
            return Ok(());
        }
        crate::log::notice(&format!("Synchronization with replica {name} succeeded"));
    }
    loop {
        let data = {
            let mut b = lock(&feed.buf);
            while b.data.is_empty() && !b.dead {
                b = feed
                    .cv
                    .wait_timeout(b, std::time::Duration::from_secs(1))
                    .map(|r| r.0)
                    .unwrap_or_else(|e| e.into_inner().0);
                if global.shutting_down.load(Ordering::Relaxed) {
                    return Ok(());
                }
            }
            if b.dead {
                return Err("output buffer limit reached, or the replica is gone".into());
            }
            let data = std::mem::take(&mut b.data);
            b.writing = data.len();
            data
        };
        write_all(fd, &data)?;
        feed.set_writing(0);
    }
}

/// The EOF-marked payload: the bytes go to the socket as the shards make them, with the
/// CRC-64 kept along for the footer.
fn send_diskless(global: &Global, fd: RawFd, s: &SnapSession, feed: &Feed) -> Result<(), String> {
    let mark = crate::clock::random_hex40();
    write_all(fd, format!("$EOF:{mark}\r\n").as_bytes())?;
    let mut crc = 0u64;
    drain_snapshot(global, s, feed, |chunk| {
        crc = crc64(crc, chunk);
        write_all(fd, chunk)
    })?;
    let mut tail = Vec::with_capacity(9 + mark.len());
    put_footer(&mut tail, crc, checksum_on(global));
    tail.extend_from_slice(mark.as_bytes());
    write_all(fd, &tail)
}

/// After an EOF-marked payload the replica finds the end by the mark being the last bytes it
/// read, so no stream byte may follow before it has the whole payload: as Redis, the stream
/// starts once the replica's first `REPLCONF ACK` (sent when it loaded the payload) made it
/// online. The stream meanwhile waits in its output buffer.
fn wait_first_ack(global: &Global, client_id: u64, feed: &Feed) -> Result<(), String> {
    let timeout_s = global.cfg(|c| c.stored_i64("repl-timeout", 60)).max(1) as u64;
    let deadline = Instant::now() + Duration::from_secs(timeout_s);
    loop {
        let online = global
            .repl
            .state()
            .replicas
            .iter()
            .find(|r| r.client_id == client_id)
            .map(|r| r.online);
        match online {
            Some(true) => return Ok(()),
            None => return Err("the replica is gone".into()),
            Some(false) => {}
        }
        if lock(&feed.buf).dead {
            return Err("the replica is gone".into());
        }
        if global.shutting_down.load(Ordering::Relaxed) || Instant::now() >= deadline {
            return Err("no REPLCONF ACK after the payload".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The `$<len>` payload for replicas without `capa eof` (and with `repl-diskless-sync no`):
/// spooled to `path` first (bounded by the disk, not memory), with a newline to the replica
/// every second meanwhile as Redis sends while its BGSAVE runs; then sent from the file.
fn send_spooled(
    global: &Global,
    fd: RawFd,
    s: &SnapSession,
    feed: &Feed,
    path: &Path,
) -> Result<(), String> {
    let spool_err =
        |e: std::io::Error| format!("can't spool the payload to {}: {e}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(spool_err)?;
    let mut crc = 0u64;
    let mut last_ping = Instant::now();
    drain_snapshot(global, s, feed, |chunk| {
        crc = crc64(crc, chunk);
        file.write_all(chunk).map_err(spool_err)?;
        if last_ping.elapsed() >= Duration::from_secs(1) {
            last_ping = Instant::now();
            write_all(fd, b"\n")?;
        }
        Ok(())
    })?;
    let mut tail = Vec::with_capacity(9);
    put_footer(&mut tail, crc, checksum_on(global));
    file.write_all(&tail).map_err(spool_err)?;
    let len = file.stream_position().map_err(spool_err)?;
    file.rewind().map_err(spool_err)?;
    write_all(fd, format!("${len}\r\n").as_bytes())?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(spool_err)?;
        if n == 0 {
            return Ok(());
        }
        write_all(fd, &buf[..n])?;
    }
}

/// `rdbchecksum no`: the payload ends with a zero checksum, which readers skip checking.
fn checksum_on(global: &Global) -> bool {
    global.cfg(|c| c.stored_bool("rdbchecksum", true))
}

/// Hands every chunk of the snapshot to `out`, in queue order, until every shard finished.
fn drain_snapshot(
    global: &Global,
    s: &SnapSession,
    feed: &Feed,
    mut out: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    loop {
        let (chunks, left) = {
            let mut q = lock(&s.q);
            while q.chunks.is_empty() && q.shards_left > 0 && !q.aborted {
                q =
                    s.cv.wait_timeout(q, std::time::Duration::from_millis(200))
                        .map(|r| r.0)
                        .unwrap_or_else(|e| e.into_inner().0);
            }
            if q.aborted {
                return Err("snapshot aborted".into());
            }
            q.bytes = 0;
            (std::mem::take(&mut q.chunks), q.shards_left)
        };
        // Room again: shards waiting for it may be asleep.
        if let Some(mesh) = global.repl.mesh.get() {
            for id in 0..mesh.inboxes.len() {
                mesh.wake(id);
            }
        }
        feed.set_writing(chunks.iter().map(Vec::len).sum());
        for c in chunks {
            out(&c)?;
        }
        feed.set_writing(0);
        if left == 0 && lock(&s.q).chunks.is_empty() {
            return Ok(());
        }
    }
}

/// Blocking write of everything (the duplicated socket may be non-blocking: wait with poll).
pub fn write_all(fd: RawFd, mut data: &[u8]) -> Result<(), String> {
    while !data.is_empty() {
        let e = match crate::sys::send(fd, data, libc::MSG_NOSIGNAL) {
            Ok(n) if n > 0 => {
                data = &data[n..];
                continue;
            }
            Ok(_) => std::io::Error::from(std::io::ErrorKind::WriteZero),
            Err(e) => e,
        };
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => wait_writable(fd)?,
            _ => return Err(e.to_string()),
        }
    }
    Ok(())
}

fn wait_writable(fd: RawFd) -> Result<(), String> {
    match crate::sys::poll_one(fd, libc::POLLOUT, 60_000) {
        Ok(0) => Err("timeout writing to the replica".into()),
        Ok(revents) if revents & (libc::POLLERR | libc::POLLHUP) != 0 => {
            Err("replica socket closed".into())
        }
        // A failed poll (EINTR) only sends the caller round its loop again.
        _ => Ok(()),
    }
}
