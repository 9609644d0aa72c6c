//! Checked wrappers for the libc calls slotd makes in more than one place: resource limits and
//! socket shutdown. Each returns `io::Result` (errno as `io::Error`) so callers keep no
//! `unsafe` of their own. These calls take no pointers the caller provides, so they are safe
//! to expose; closing a descriptor is not wrapped, as it ends an ownership that only the
//! caller can vouch for.

use std::io;
use std::os::fd::RawFd;

/// A resource's (soft, hard) limit, as getrlimit(2) reports it (`libc::RLIM_INFINITY` for
/// none).
pub fn getrlimit(resource: libc::__rlimit_resource_t) -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the valid local `lim`.
    if unsafe { libc::getrlimit(resource, &mut lim) } == 0 {
        Ok((lim.rlim_cur, lim.rlim_max))
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets a resource's soft and hard limits with setrlimit(2).
pub fn setrlimit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the valid local `lim`.
    if unsafe { libc::setrlimit(resource, &lim) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Shuts both directions of socket `fd` down (shutdown(2) with SHUT_RDWR): its peer sees the
/// end and every pending or later read of it returns 0, while the descriptor stays open for
/// its owner to close. The caller must know `fd` is still its own open socket (else this
/// shuts down whatever now has that number, a logic error though not a memory one).
pub fn shutdown(fd: RawFd) -> io::Result<()> {
    // SAFETY: shutdown takes no pointers and does not close or free the descriptor.
    if unsafe { libc::shutdown(fd, libc::SHUT_RDWR) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlimit_round_trips_and_errors_are_errno() {
        // Guards the wrappers' plumbing: the values read are the values set back, and a
        // failing call reports its errno instead of a made-up success.
        let (soft, hard) = getrlimit(libc::RLIMIT_NOFILE).expect("getrlimit");
        assert!(soft <= hard);
        setrlimit(libc::RLIMIT_NOFILE, soft, hard).expect("setrlimit to the same values");
        assert_eq!(getrlimit(libc::RLIMIT_NOFILE).unwrap(), (soft, hard));
        let e = shutdown(-1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn shutdown_ends_the_peers_stream() {
        // Guards the socket wrapper: after shutdown the peer reads end-of-stream at once.
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        shutdown(server.as_raw_fd()).expect("shutdown");
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(client.read(&mut buf).unwrap(), 0);
    }
}
