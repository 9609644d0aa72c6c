//! Service supervision as Redis 7.0 does it (`supervised no|auto|systemd|upstart`): deciding
//! once at start which supervisor is in charge, and systemd's readiness protocol (sd_notify(3):
//! one datagram of `KEY=value\n` lines to the unix socket named by `$NOTIFY_SOCKET`, a path or,
//! with a leading `@`, an abstract name). Upstart is told by stopping the process (SIGSTOP),
//! which its `expect stop` stanza waits for.
//!
//! The decision and the socket are process-wide (set once by `start`, read by `send` and INFO),
//! because readiness and stopping are the process' business, not a shard's.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::OnceLock;

/// Who supervises the process, as INFO's `process_supervised` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervisor {
    No,
    Systemd,
    Upstart,
}

impl Supervisor {
    pub fn name(self) -> &'static str {
        match self {
            Supervisor::No => "no",
            Supervisor::Systemd => "systemd",
            Supervisor::Upstart => "upstart",
        }
    }
}

struct State {
    who: Supervisor,
    systemd: Option<(UnixDatagram, SocketAddr)>,
}

static STATE: OnceLock<State> = OnceLock::new();

/// What `start` decided, with the log lines Redis writes for it.
pub struct Decision {
    pub who: Supervisor,
    /// (warning?, text) lines to log.
    pub log: Vec<(bool, String)>,
}

/// Decides supervision from the `supervised` setting and the environment (Redis'
/// redisIsSupervised): `auto` picks upstart when `$UPSTART_JOB` is set, else systemd when
/// `$NOTIFY_SOCKET` is; an explicit mode without its variable logs an error and runs
/// unsupervised. Only the first call decides.
pub fn start(configured: &str) -> Decision {
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    let socket = std::env::var("NOTIFY_SOCKET").ok();
    let mut log = Vec::new();
    let want = match configured {
        "auto" if upstart => Supervisor::Upstart,
        "auto" if socket.is_some() => Supervisor::Systemd,
        "systemd" => Supervisor::Systemd,
        "upstart" => Supervisor::Upstart,
        _ => Supervisor::No,
    };
    let mut state = State {
        who: Supervisor::No,
        systemd: None,
    };
    match want {
        Supervisor::Upstart if !upstart => log.push((
            true,
            "upstart supervision requested, but UPSTART_JOB not found!".to_string(),
        )),
        Supervisor::Upstart => {
            log.push((
                false,
                "supervised by upstart, will stop to signal readiness.".to_string(),
            ));
            state.who = Supervisor::Upstart;
        }
        Supervisor::Systemd => match socket.as_deref().map(connect) {
            None => log.push((
                true,
                "systemd supervision error: NOTIFY_SOCKET not found!".to_string(),
            )),
            Some(Err(e)) => log.push((true, format!("systemd supervision error: {e}"))),
            Some(Ok(s)) => {
                log.push((
                    false,
                    "Supervised by systemd. Please make sure you set appropriate values for \
                     TimeoutStartSec and TimeoutStopSec in your service unit."
                        .to_string(),
                ));
                state.who = Supervisor::Systemd;
                state.systemd = Some(s);
            }
        },
        Supervisor::No => {}
    }
    let who = state.who;
    let _ = STATE.set(state);
    Decision { who, log }
}

/// The supervisor `start` settled on (`No` before it ran).
pub fn supervisor() -> Supervisor {
    STATE.get().map_or(Supervisor::No, |s| s.who)
}

/// A datagram socket aimed at `$NOTIFY_SOCKET`: `@name` is an abstract socket, else a path.
fn connect(target: &str) -> io::Result<(UnixDatagram, SocketAddr)> {
    let addr = match target.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())?
        }
        None if target.starts_with('/') => SocketAddr::from_pathname(target)?,
        None => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("NOTIFY_SOCKET is neither a path nor an abstract name: {target}"),
            ))
        }
    };
    Ok((UnixDatagram::unbound()?, addr))
}

/// Sends `msg` (lines ending in `\n`, e.g. "READY=1\n") to systemd; nothing when systemd does
/// not supervise the process.
pub fn send(msg: &str) -> io::Result<()> {
    let Some((sock, addr)) = STATE.get().and_then(|s| s.systemd.as_ref()) else {
        return Ok(());
    };
    sock.send_to_addr(msg.as_bytes(), addr).map(|_| ())
}

/// Tells the supervisor the server is ready: `STATUS=<status>` and `READY=1` to systemd, or
/// SIGSTOP for upstart (which resumes the process with SIGCONT once it has seen the stop).
pub fn ready(status: &str) -> io::Result<()> {
    match supervisor() {
        Supervisor::Systemd => {
            send(&format!("STATUS={status}\n"))?;
            send("READY=1\n")
        }
        Supervisor::Upstart => super::signal_thread(super::thread_id(), libc::SIGSTOP),
        Supervisor::No => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstract_and_path_targets() {
        // Guards both address forms of NOTIFY_SOCKET: a datagram reaches a bound socket.
        let dir = std::env::temp_dir().join(format!("slotd-notify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("n.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        let (tx, addr) = connect(path.to_str().unwrap()).unwrap();
        tx.send_to_addr(b"READY=1\n", &addr).unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        let name = format!("slotd-notify-test-{}", std::process::id());
        let rx2 = {
            use std::os::linux::net::SocketAddrExt;
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap()
        };
        let (tx, addr) = connect(&format!("@{name}")).unwrap();
        tx.send_to_addr(b"STOPPING=1\n", &addr).unwrap();
        let n = rx2.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1\n");
        assert!(connect("relative").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
