//! Test support: start the real `slotd` binary on free loopback ports in its own directory,
//! wait until it answers, and stop it (SIGTERM, then SIGKILL) when the handle drops.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_slotd");

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// Test ports: client ports from here, bus ports 10000 higher, both below the kernel's
/// ephemeral range (32768 and up), so no outgoing connection can take one between the check
/// below and the server's bind.
const PORT_BASE: u16 = 21000;
const PORT_SPAN: u16 = 1760;

/// A port that is free now, together with port+10000 (the cluster bus).
pub fn free_port() -> u16 {
    if NEXT_PORT.load(Ordering::SeqCst) == 0 {
        // Spread parallel test binaries apart by pid.
        let base = PORT_BASE + (std::process::id() % 35) as u16 * 50;
        let _ = NEXT_PORT.compare_exchange(0, base, Ordering::SeqCst, Ordering::SeqCst);
    }
    loop {
        let p = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let p = PORT_BASE + (p.wrapping_sub(PORT_BASE)) % PORT_SPAN;
        let a = TcpListener::bind(("127.0.0.1", p));
        let b = TcpListener::bind(("127.0.0.1", p + 10000));
        if a.is_ok() && b.is_ok() {
            return p;
        }
    }
}

pub fn test_dir(tag: &str) -> PathBuf {
    static N: AtomicU16 = AtomicU16::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("slotd-it-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    pub child: Option<Child>,
    pub log: PathBuf,
}

impl Server {
    /// Starts slotd with `--port P --dir D --logfile D/slotd.log` plus `extra` directives.
    pub fn start(extra: &[&str]) -> Server {
        Self::try_start(extra).expect("slotd starts")
    }

    pub fn try_start(extra: &[&str]) -> Result<Server, String> {
        // Another process may still grab a checked port before slotd binds it: retry then.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir = test_dir("node");
            match Self::start_in(port, dir, extra) {
                Ok(s) => return Ok(s),
                Err(e) if e.contains("Failed listening") || e.contains("Could not bind") => {
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Starts slotd with a given port and directory (restarts reuse them).
    pub fn start_in(port: u16, dir: PathBuf, extra: &[&str]) -> Result<Server, String> {
        let log = dir.join("slotd.log");
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            dir.display().to_string(),
            "--logfile".into(),
            log.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let stderr = std::fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let mut s = Server {
            port,
            dir,
            child: Some(child),
            log,
        };
        s.wait_ready()?;
        Ok(s)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    let err =
                        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                    return Err(format!("slotd exited early ({status}): {err}"));
                }
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 16];
                    if let Ok(n) = s.read(&mut buf) {
                        // A server with requirepass answers, just not PONG.
                        let answer = &buf[..n];
                        if answer == b"+PONG\r\n" || answer.starts_with(b"-NOAUTH") {
                            return Ok(());
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("slotd did not answer PING within 40 s".into())
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("url");
        let conn = c
            .get_connection_with_timeout(Duration::from_secs(5))
            .expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        conn
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// Runs `redis-cli -p PORT args...` and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait (bounded); returns the exit status code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        signal(c.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Waits (bounded) for the process to exit by itself; returns its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let c = self.child.as_mut()?;
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = c.try_wait() {
                self.child = None;
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

/// Sends signal `sig` to process `pid`, a child the test started. The result is ignored: the
/// child may already have exited, which the waits that follow notice.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill takes no pointers; signalling a process cannot affect our memory.
    unsafe { libc::kill(pid as i32, sig) };
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn cli(port: u16, args: &[&str]) -> String {
    // Bounded: a frozen (SIGSTOPped) node must fail a test, not hang it.
    let out = Command::new("timeout")
        .arg("30")
        .arg("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli runs (apt-get install redis-tools)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A raw socket for protocol edge cases.
pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        Raw { s }
    }
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }
    /// Reads until `want` bytes arrived (or the peer closed / 10 s passed).
    pub fn read_n(&mut self, want: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while out.len() < want {
            match self.s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        out
    }
    /// Reads until `needle` appears at the end of what was read.
    pub fn read_until(&mut self, needle: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while !out.ends_with(needle) {
            match self.s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        out
    }
    /// Sends and reads exactly `expect.len()` bytes back, comparing.
    pub fn roundtrip(&mut self, send: &[u8], expect: &[u8]) {
        self.send(send);
        let got = self.read_n(expect.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expect),
            "reply to {:?}",
            String::from_utf8_lossy(send)
        );
    }
    /// True when the server closed the connection (EOF or reset within 5 s).
    pub fn closed(&mut self) -> bool {
        self.s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut buf = [0u8; 1024];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    }
}

/// RESP encoding of a command.
pub fn cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// A private redis-server (Debian's 7.0) on a free port, killed on drop; `None` when it is not
/// installed (tests comparing against it then skip with a message).
pub struct RedisServer {
    pub port: u16,
    child: Child,
    /// Its `dir`, removed on drop.
    pub dir: PathBuf,
}

impl RedisServer {
    pub fn start(tag: &str) -> Option<RedisServer> {
        Self::start_with(tag, &[])
    }

    /// Like `start`, with more directives (e.g. `--replicaof 127.0.0.1 <port>`).
    pub fn start_with(tag: &str, extra: &[&str]) -> Option<RedisServer> {
        let port = free_port();
        let dir = test_dir(tag);
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir", &dir.display().to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..500 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(RedisServer { port, child, dir });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client(&self) -> redis::Connection {
        let url = format!("redis://127.0.0.1:{}/", self.port);
        redis::Client::open(url)
            .expect("url")
            .get_connection()
            .expect("connect")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
