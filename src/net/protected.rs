//! Protected mode (Redis 7.0's rule, decided once per connection when it is registered):
//! while `protected-mode` is yes and the default user has no password (`requirepass` unset),
//! a client whose address is not a loopback one gets Redis' DENIED text and is closed.
//! `bind` plays no part in Redis 7.0 (checked against redis-server 7.0.15: an explicit
//! `bind 192.0.2.1` still denies); unix sockets would always pass, as in Redis.

use std::os::fd::{FromRawFd, RawFd};

/// Redis 7.0's reply, byte for byte (including its "a an" typo).
pub const DENIED_REPLY: &[u8] = b"-DENIED Redis is running in protected mode \
    because protected mode is enabled and no password is set for the default user. In this \
    mode connections are only accepted from the loopback interface. If you want to connect \
    from external computers to Redis you may adopt one of the following solutions: 1) Just \
    disable protected mode sending the command 'CONFIG SET protected-mode no' from the \
    loopback interface by connecting to Redis from the same host the server is running, \
    however MAKE SURE Redis is not publicly accessible from internet if you do so. Use \
    CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the \
    protected mode by editing the Redis configuration file, and setting the protected mode \
    option to 'no', and then restarting the server. 3) If you started the server manually \
    just for testing, restart it with the '--protected-mode no' option. 4) Setup a an \
    authentication password for the default user. NOTE: You only need to do one of the above \
    things in order for the server to start accepting connections from the outside.\r\n";

/// True when protected mode is in force: then every client not on the loopback interface is
/// refused with `DENIED_REPLY` (the caller looks at the address only in that case).
pub fn in_force(protected_mode: bool, password_set: bool) -> bool {
    protected_mode && !password_set
}

/// Whether the peer of client socket `fd` is on the loopback interface (127.0.0.0/8 or ::1),
/// as Redis' connIsLocal decides it. A socket with no IP peer (unix) counts as local.
pub fn peer_is_loopback(fd: RawFd) -> bool {
    // SAFETY: borrowing the fd for this call only; ownership stays with the caller.
    let sk = std::mem::ManuallyDrop::new(unsafe { socket2::Socket::from_raw_fd(fd) });
    match sk.peer_addr() {
        Ok(a) => match a.as_socket() {
            Some(ip) => ip.ip().is_loopback(),
            None => a.is_unix(),
        },
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_rule() {
        // Guards Redis 7.0's rule: only protected mode without a password refuses (bind plays
        // no part), with Redis' exact text.
        assert!(in_force(true, false));
        assert!(!in_force(true, true));
        assert!(!in_force(false, false));
        assert!(!in_force(false, true));
        assert!(DENIED_REPLY.starts_with(b"-DENIED Redis is running in protected mode because"));
        assert!(DENIED_REPLY.ends_with(b"accepting connections from the outside.\r\n"));
        assert_eq!(DENIED_REPLY.len(), 1067);
    }

    #[test]
    fn loopback_peers_are_recognised() {
        // Guards the address test on real sockets: a 127.0.0.1 peer is local.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let _c = std::net::TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (s, _) = l.accept().expect("accept");
        assert!(peer_is_loopback(std::os::fd::AsRawFd::as_raw_fd(&s)));
    }
}
