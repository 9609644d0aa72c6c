//! Descriptor and socket calls: close, dup, send, write, poll, flock, shutdown, eventfd.
//!
//! These take a raw descriptor that the caller vouches for (its own, still open) and memory
//! only as Rust slices, so no call can reach memory it was not handed. Passing a descriptor
//! the caller does not own is a logic error (the call acts on whatever now has that number),
//! never a memory one.

use super::{cvt, cvt_size};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// Closes `fd` (close(2)). The caller gives the descriptor up: it must be its own, with no
/// other holder (no `File` or socket object wrapping it, no pending io_uring operation on
/// it), since the number can be reused at once. Linux releases the descriptor even when it
/// reports an error (EINTR, EIO), so a failed close is never retried.
///
/// # Safety
/// `fd` is the caller's own open descriptor with no other holder, and nothing uses the number
/// afterwards (Rust's I/O safety: ending a descriptor someone else owns is unsound).
pub unsafe fn close(fd: RawFd) -> io::Result<()> {
    // SAFETY: close takes no pointers; which descriptor it ends is our caller's contract.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// A second descriptor for the open file behind `fd` (dup(2)), owned by the caller, who must
/// close it. Like dup, the copy is not close-on-exec.
pub fn dup(fd: RawFd) -> io::Result<RawFd> {
    // SAFETY: dup takes no pointers and leaves `fd` as it was.
    cvt(unsafe { libc::dup(fd) })
}

/// Sends from `data` on socket `fd` with `flags` (send(2), e.g. `libc::MSG_NOSIGNAL`): the
/// number of bytes the socket took, which may be fewer than `data.len()`.
pub fn send(fd: RawFd, data: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: the kernel reads at most `data.len()` bytes from the live slice `data`.
    cvt_size(unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), flags) })
}

/// Writes from `data` to `fd` (write(2)): the number of bytes written, possibly fewer.
pub fn write(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: the kernel reads at most `data.len()` bytes from the live slice `data`.
    cvt_size(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) })
}

/// Waits up to `timeout_ms` (negative: forever) for `events` (e.g. `libc::POLLOUT`) on `fd`
/// (poll(2) on one descriptor): the events that occurred, 0 when the time ran out.
pub fn poll_one(fd: RawFd, events: libc::c_short, timeout_ms: libc::c_int) -> io::Result<i16> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: poll reads and writes exactly one pollfd, the valid local `p`.
    cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    Ok(p.revents)
}

/// Takes an exclusive advisory lock on `file` without waiting (flock(2) with LOCK_EX |
/// LOCK_NB): EWOULDBLOCK when another open file holds it. Closing the file releases it.
pub fn try_lock_exclusive(file: &File) -> io::Result<()> {
    // SAFETY: flock takes no pointers; `file` keeps the descriptor open during the call.
    cvt(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }).map(drop)
}

/// Shuts both directions of socket `fd` down (shutdown(2) with SHUT_RDWR): its peer sees the
/// end and every pending or later read of it returns 0, while the descriptor stays open for
/// its owner to close.
pub fn shutdown(fd: RawFd) -> io::Result<()> {
    // SAFETY: shutdown takes no pointers and does not close or free the descriptor.
    cvt(unsafe { libc::shutdown(fd, libc::SHUT_RDWR) }).map(drop)
}

/// A new eventfd (eventfd(2)) with counter 0 and `flags` (e.g. `libc::EFD_NONBLOCK`), owned
/// by the caller, who must close it.
pub fn eventfd(flags: libc::c_int) -> io::Result<RawFd> {
    // SAFETY: eventfd takes no pointers; it only creates a descriptor.
    cvt(unsafe { libc::eventfd(0, flags) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_errno() {
        // Guards the plumbing: a failing call reports its errno instead of a made-up success.
        assert_eq!(shutdown(-1).unwrap_err().raw_os_error(), Some(libc::EBADF));
        // SAFETY: -1 is no descriptor; nothing is closed.
        let closed = unsafe { close(-1) };
        assert_eq!(closed.unwrap_err().raw_os_error(), Some(libc::EBADF));
        assert_eq!(dup(-1).unwrap_err().raw_os_error(), Some(libc::EBADF));
        assert_eq!(
            write(-1, b"x").unwrap_err().raw_os_error(),
            Some(libc::EBADF)
        );
    }

    #[test]
    fn eventfd_counts_writes_and_polls_readable() {
        // Guards the mesh doorbell's calls: a write makes the eventfd readable, and the copy
        // from dup sees the same counter.
        let fd = eventfd(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK).expect("eventfd");
        assert_eq!(poll_one(fd, libc::POLLIN, 0).unwrap(), 0);
        assert_eq!(write(fd, &1u64.to_ne_bytes()).unwrap(), 8);
        let copy = dup(fd).expect("dup");
        assert_eq!(poll_one(copy, libc::POLLIN, 0).unwrap(), libc::POLLIN);
        // SAFETY: both descriptors were made by this test and are not used again.
        unsafe {
            close(copy).unwrap();
            close(fd).unwrap();
        }
    }

    #[test]
    fn shutdown_ends_the_peers_stream_and_send_counts_bytes() {
        // Guards the socket wrappers: send reports what the socket took, and after shutdown
        // the peer reads the sent bytes then end-of-stream at once.
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert_eq!(
            send(server.as_raw_fd(), b"hi", libc::MSG_NOSIGNAL).unwrap(),
            2
        );
        shutdown(server.as_raw_fd()).expect("shutdown");
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"hi");
    }

    #[test]
    fn a_second_exclusive_lock_would_block() {
        // Guards the nodes.conf lock: a second open file cannot take the lock while the first
        // holds it, and the error is EWOULDBLOCK (what the caller turns into its message).
        let path = std::env::temp_dir().join(format!("slotd-sys-lock-{}", std::process::id()));
        let first = File::create(&path).unwrap();
        let second = File::open(&path).unwrap();
        try_lock_exclusive(&first).expect("first lock");
        let e = try_lock_exclusive(&second).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EWOULDBLOCK));
        drop(first);
        try_lock_exclusive(&second).expect("lock after the holder closed");
        let _ = std::fs::remove_file(path);
    }
}
