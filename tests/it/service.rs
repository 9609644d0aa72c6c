//! Service integration, side by side with redis-server 7.0 where it has the behaviour:
//! `supervised systemd|auto` (the sd_notify datagrams on a NOTIFY_SOCKET of the test's own, by
//! path and abstract name), `unixsocket`/`unixsocketperm` (a client on the socket, CLIENT LIST's
//! addr/laddr/flags, the file's mode, its removal at exit), `port 0` for a socket-only server,
//! and relative paths resolved inside `dir` wherever they appear in the file.

use crate::common::{free_port, signal, test_dir, BIN};
use std::io::{Read, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process (slotd or redis-server) killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn spawn(bin: &str, args: &[String], envs: &[(&str, String)], cwd: &Path) -> Proc {
        let mut c = Command::new(bin);
        c.args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in envs {
            c.env(k, v);
        }
        Proc(c.spawn().expect("spawn server"))
    }

    /// SIGTERM, then waits (bounded) for the exit.
    fn stop(&mut self) {
        signal(self.0.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Both servers with the same directives; slotd's settings that Redis lacks are added apart.
fn args_for(slotd: bool, port: u16, dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.extend(["--dir".into(), dir.display().to_string()]);
    a.extend(["--save".into(), String::new()]);
    if slotd {
        a.extend(["--server-threads".into(), "2".into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn has_redis() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok()
}

/// Messages arriving on `rx` until `last` is seen or 20 s pass.
fn datagrams_until(rx: &UnixDatagram, last: &str) -> Vec<String> {
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = rx.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if got.last().is_some_and(|m| m == last) {
                break;
            }
        }
    }
    got
}

/// Starts `bin` under a NOTIFY_SOCKET (a path, or an abstract name when `abstract_name`),
/// collects the datagrams until READY=1, reads `process_supervised` from INFO, stops the server
/// with SIGTERM and collects until STOPPING=1.
fn supervised_run(
    bin: &str,
    slotd: bool,
    mode: &str,
    abstract_name: bool,
) -> (Vec<String>, String) {
    let dir = test_dir("notify");
    let (rx, target) = if abstract_name {
        let name = format!("slotd-it-notify-{}-{}", std::process::id(), slotd as u8);
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        (UnixDatagram::bind_addr(&addr).unwrap(), format!("@{name}"))
    } else {
        let p = dir.join("notify.sock");
        (UnixDatagram::bind(&p).unwrap(), p.display().to_string())
    };
    let port = free_port();
    let args = args_for(slotd, port, &dir, &["--supervised", mode]);
    let mut p = Proc::spawn(bin, &args, &[("NOTIFY_SOCKET", target)], &dir);
    let mut got = datagrams_until(&rx, "READY=1\n");
    let info = crate::common::cli(port, &["info", "server"]);
    let supervised = info
        .lines()
        .find_map(|l| l.strip_prefix("process_supervised:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    p.stop();
    got.extend(datagrams_until(&rx, "STOPPING=1\n"));
    let _ = std::fs::remove_dir_all(&dir);
    (got, supervised)
}

#[test]
fn systemd_readiness_as_redis() {
    // Guards issue 17's systemd point: with `supervised systemd` (and `auto`, by an abstract
    // NOTIFY_SOCKET) slotd sends what redis-server sends, in order: loading, ready status,
    // READY=1, and STOPPING=1 at SIGTERM; INFO says process_supervised:systemd.
    let want: Vec<String> = [
        "STATUS=Redis is loading...\n",
        "STATUS=Ready to accept connections\n",
        "READY=1\n",
        "STOPPING=1\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ours = supervised_run(BIN, true, "systemd", false);
    assert_eq!(ours, (want.clone(), "systemd".to_string()));
    let ours_auto = supervised_run(BIN, true, "auto", true);
    assert_eq!(ours_auto, (want.clone(), "systemd".to_string()));
    if has_redis() {
        assert_eq!(
            supervised_run("redis-server", false, "systemd", false),
            ours
        );
        assert_eq!(
            supervised_run("redis-server", false, "auto", true),
            ours_auto
        );
    }
}

/// Connects to the unix socket at `path`, retrying until the server listens (20 s).
fn unix_connect(path: &Path) -> UnixStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match UnixStream::connect(path) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return s;
            }
            Err(e) if Instant::now() >= deadline => panic!("connect {}: {e}", path.display()),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Sends an inline command and reads one reply (a single read; replies here are small).
fn ask(s: &mut UnixStream, line: &str) -> String {
    s.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let mut buf = vec![0u8; 16384];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The `key=value` field of a CLIENT INFO line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or("?")
}

/// (PING reply, addr, laddr, flags, socket file mode, file gone after exit) for `bin` serving
/// on `<dir>/s.sock` with perm 700 (TCP off with `port 0` when `tcp` is false).
fn unix_run(bin: &str, slotd: bool, tcp: bool) -> (String, String, String, String, u32, bool) {
    use std::os::unix::fs::PermissionsExt;
    let dir = test_dir("unixsock");
    let path = dir.join("s.sock");
    let port = if tcp { free_port() } else { 0 };
    let extra = [
        "--unixsocket",
        path.to_str().unwrap(),
        "--unixsocketperm",
        "700",
    ];
    let mut p = Proc::spawn(bin, &args_for(slotd, port, &dir, &extra), &[], &dir);
    let mut s = unix_connect(&path);
    let pong = ask(&mut s, "PING");
    let info = ask(&mut s, "CLIENT INFO");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    drop(s);
    p.stop();
    let gone = !path.exists();
    let _ = std::fs::remove_dir_all(&dir);
    let addr = field(&info, "addr").replace(&dir.display().to_string(), "<dir>");
    let laddr = field(&info, "laddr").replace(&dir.display().to_string(), "<dir>");
    (pong, addr, laddr, field(&info, "flags").into(), mode, gone)
}

#[test]
fn unix_socket_clients_as_redis() {
    // Guards issue 17's unixsocket point: a client on the socket is served and listed as Redis
    // lists it (addr and laddr "<path>:0", flag U); the file has unixsocketperm's mode and is
    // removed at exit; `port 0` serves on the socket alone.
    let want = (
        "+PONG\r\n".to_string(),
        "<dir>/s.sock:0".to_string(),
        "<dir>/s.sock:0".to_string(),
        "U".to_string(),
        0o700,
        true,
    );
    assert_eq!(unix_run(BIN, true, true), want);
    assert_eq!(unix_run(BIN, true, false), want);
    if has_redis() {
        assert_eq!(unix_run("redis-server", false, true), want);
    }
}

#[test]
fn nowhere_to_listen_is_fatal_as_redis() {
    // Guards Redis' rule: port 0 without a unix socket exits at once with its message.
    let out = Command::new(BIN)
        .args([
            "--port",
            "0",
            "--dir",
            std::env::temp_dir().to_str().unwrap(),
        ])
        .output()
        .expect("spawn slotd");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        text.contains("Configured to not listen anywhere, exiting."),
        "{text}"
    );
}

/// Runs `bin` from `cwd` with a config file whose relative logfile comes before `dir` and
/// whose relative pidfile and unixsocket come after it; returns which of the files were
/// created inside `dir` and which in `cwd`.
fn relative_run(bin: &str) -> (Vec<String>, Vec<String>) {
    let cwd = test_dir("relcwd");
    let data = test_dir("reldata");
    let conf = cwd.join("r.conf");
    std::fs::write(
        &conf,
        format!(
            "port 0\nlogfile rel.log\ndir {}\npidfile rel.pid\nunixsocket rel.sock\nsave \"\"\n",
            data.display()
        ),
    )
    .unwrap();
    let args = vec![conf.display().to_string()];
    let p = Proc::spawn(bin, &args, &[], &cwd);
    let mut s = unix_connect(&data.join("rel.sock"));
    assert_eq!(ask(&mut s, "PING"), "+PONG\r\n");
    let names = |d: &PathBuf| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("rel."))
            .collect();
        v.sort();
        v
    };
    let seen = (names(&data), names(&cwd));
    drop(p);
    let _ = std::fs::remove_dir_all(&cwd);
    let _ = std::fs::remove_dir_all(&data);
    seen
}

#[test]
fn relative_paths_land_in_dir_as_redis() {
    // Guards issue 17's path point: as in Redis, relative logfile, pidfile and unixsocket are
    // all inside `dir` (its chdir happens while the file is read), none in the start directory.
    let want = (
        vec!["rel.log".to_string(), "rel.pid".into(), "rel.sock".into()],
        Vec::<String>::new(),
    );
    assert_eq!(relative_run(BIN), want);
    if has_redis() {
        assert_eq!(relative_run("redis-server"), want);
    }
}
