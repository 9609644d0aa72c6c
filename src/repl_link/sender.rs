//! Master side, a driver: the per-replica sender thread. A replica is a normal client of some
//! shard: that shard keeps reading its REPLCONF ACKs, while this thread writes the snapshot
//! and the stream to a duplicate of its socket with blocking writes, so no shard loop ever
//! waits on a slow replica. Serving PSYNC itself is `replication::master`.

use crate::global::Global;
use crate::replication::master::{finish_sender, Sender};
use crate::replication::snapshot::SnapSession;
use crate::replication::{lock, Feed};
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;

/// Starts the sender thread of one replica (installed as `master`'s sender spawner).
pub fn spawn(sender: Sender) {
    let Sender {
        global,
        fd,
        client_id,
        header,
        session,
        feed,
    } = sender;
    let g = global.clone();
    let s = session.clone();
    let feed2 = feed.clone();
    let r = std::thread::Builder::new()
        .name("slotd-repl-send".into())
        .spawn(move || {
            let result = send_all(&g, fd, header.as_bytes(), s.as_deref(), &feed);
            if let Err(e) = result {
                crate::log::notice(&format!("Connection with replica lost: {e}"));
            }
            finish_sender(&g, fd, client_id, s.as_deref(), &feed);
        });
    if r.is_err() {
        finish_sender(&global, fd, client_id, session.as_deref(), &feed2);
    }
}

/// The sender's whole life: header, snapshot (framed), then the stream until the feed dies.
fn send_all(
    global: &Global,
    fd: RawFd,
    header: &[u8],
    session: Option<&SnapSession>,
    feed: &Feed,
) -> Result<(), String> {
    write_all(fd, header)?;
    if let Some(s) = session {
        let mark = crate::clock::random_hex40();
        write_all(fd, format!("$EOF:{mark}\r\n").as_bytes())?;
        send_snapshot(global, fd, s, feed)?;
        write_all(fd, mark.as_bytes())?;
        crate::log::notice("Synchronization with replica succeeded");
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

fn send_snapshot(global: &Global, fd: RawFd, s: &SnapSession, feed: &Feed) -> Result<(), String> {
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
            write_all(fd, &c)?;
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
