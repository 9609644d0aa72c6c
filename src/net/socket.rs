//! Socket set-up outside the hot path: the listening sockets (TCP with Redis' "address in use"
//! behaviour, and the `unixsocket` one), options on accepted clients, addresses for CLIENT
//! LIST, refusing a client.

use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::path::Path;
use std::time::Duration;

/// Binds `addr:port` without SO_REUSEPORT, so a second server on the same port fails with
/// EADDRINUSE instead of silently sharing it.
pub fn listen(host: &str, port: u16, backlog: u32) -> Result<RawFd, String> {
    let ip: IpAddr = match host {
        "*" | "0.0.0.0" => IpAddr::from([0, 0, 0, 0]),
        "::*" | "::" => "::".parse().map_err(|_| "bad address".to_string())?,
        h => match h.parse() {
            Ok(ip) => ip,
            Err(_) => (h, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip())
                .ok_or_else(|| format!("Could not resolve address {h}"))?,
        },
    };
    let addr = SocketAddr::new(ip, port);
    let domain = if ip.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let sk = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP))
        .map_err(|e| format!("socket: {e}"))?;
    sk.set_reuse_address(true)
        .map_err(|e| format!("setsockopt: {e}"))?;
    if ip.is_ipv6() {
        let _ = sk.set_only_v6(true);
    }
    bind_retrying(&sk, &SockAddr::from(addr))?;
    sk.listen(backlog as i32)
        .map_err(|e| format!("listen: {e}"))?;
    Ok(sk.into_raw_fd())
}

/// A process killed with SIGKILL keeps its listening socket alive for a moment after it exits
/// (the kernel tears io_uring rings down asynchronously, and a pending accept holds the socket),
/// so "address in use" is retried briefly before it is believed.
fn bind_retrying(sk: &Socket, addr: &SockAddr) -> Result<(), String> {
    let deadline = std::time::Instant::now() + Duration::from_millis(BIND_RETRY_MS);
    loop {
        match sk.bind(addr) {
            Ok(()) => return Ok(()),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("{e}")),
        }
    }
}

/// Listens on the unix socket `path` as Redis does for `unixsocket`: a file already there is
/// removed first, and `perm` (octal bits, 0 for the umask's) is applied after the bind.
pub fn listen_unix(path: &Path, perm: u32, backlog: u32) -> Result<RawFd, String> {
    let _ = std::fs::remove_file(path);
    let sk = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None)
        .map_err(|e| format!("socket: {e}"))?;
    let addr = SockAddr::unix(path).map_err(|e| e.to_string())?;
    sk.bind(&addr).map_err(|e| e.to_string())?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(|e| format!("chmod: {e}"))?;
    }
    sk.listen(backlog as i32)
        .map_err(|e| format!("listen: {e}"))?;
    Ok(sk.into_raw_fd())
}

/// How long "address in use" is retried at start.
const BIND_RETRY_MS: u64 = 1500;

/// TCP_NODELAY and keepalive, as Redis sets them on TCP clients.
pub fn tune_client(fd: RawFd, keepalive_s: u64) {
    // SAFETY: borrowing the fd for the duration of this call; ownership stays with the caller.
    let sk = std::mem::ManuallyDrop::new(unsafe { Socket::from_raw_fd(fd) });
    let _ = sk.set_nodelay(true);
    if keepalive_s > 0 {
        let ka = TcpKeepalive::new()
            .with_time(Duration::from_secs(keepalive_s))
            .with_interval(Duration::from_secs((keepalive_s / 3).max(1)))
            .with_retries(3);
        let _ = sk.set_tcp_keepalive(&ka);
    }
}

fn fmt_addr(a: Option<SocketAddr>) -> String {
    match a {
        Some(SocketAddr::V4(v)) => format!("{}:{}", v.ip(), v.port()),
        Some(SocketAddr::V6(v)) => format!("{}:{}", v.ip(), v.port()),
        None => "?:0".into(),
    }
}

/// A client's addresses as CLIENT LIST shows them.
pub struct ClientAddrs {
    /// "ip:port" of the peer; for a unix socket client, "<socket path>:0" as Redis.
    pub peer: String,
    /// "ip:port" of our side; the same "<socket path>:0" for a unix socket client.
    pub local: String,
    /// Accepted on the `unixsocket` listener (CLIENT LIST flag `U`).
    pub unix: bool,
}

/// The addresses of accepted client `fd`.
pub fn addrs(fd: RawFd) -> ClientAddrs {
    // SAFETY: as in `tune_client`.
    let sk = std::mem::ManuallyDrop::new(unsafe { Socket::from_raw_fd(fd) });
    let local = sk.local_addr().ok();
    if let Some(path) = local.as_ref().filter(|a| a.is_unix()) {
        // The path the listener was bound to, as configured (relative stays relative).
        let shown = path
            .as_pathname()
            .map(|p| format!("{}:0", p.display()))
            .unwrap_or_else(|| "?:0".into());
        return ClientAddrs {
            peer: shown.clone(),
            local: shown,
            unix: true,
        };
    }
    let peer = sk.peer_addr().ok().and_then(|a| a.as_socket());
    ClientAddrs {
        peer: fmt_addr(peer),
        local: fmt_addr(local.and_then(|a| a.as_socket())),
        unix: false,
    }
}

/// Writes what the socket takes right now without blocking the loop for long.
pub fn write_best_effort(fd: RawFd, data: &[u8]) {
    let _ = crate::sys::send(fd, data, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT);
}

/// Sends a final error line and closes (e.g. max clients reached).
pub fn refuse(fd: RawFd, line: &[u8]) {
    write_best_effort(fd, line);
    // SAFETY: `refuse` takes over the accepted socket it is handed; nobody else holds it.
    let _ = unsafe { crate::sys::close(fd) };
}
