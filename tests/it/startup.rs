//! Start-up and shutdown like redis-server: port conflicts, bad config lines, signals,
//! the seed's config files.

use crate::common::{free_port, test_dir, Server, BIN};
use std::process::Command;

#[test]
fn port_in_use_fails_start_with_a_clear_message() {
    // Guards against two servers silently sharing a port (SO_REUSEPORT trap).
    let a = Server::start(&[]);
    let out = Command::new(BIN)
        .args(["--port", &a.port.to_string(), "--bind", "127.0.0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Address already in use"), "{text}");
    assert!(
        text.contains(&format!("Failed listening on port {}", a.port)),
        "{text}"
    );
}

#[test]
fn sigterm_stops_cleanly() {
    // Guards a clean exit (code 0, farewell logged) on SIGTERM.
    let mut s = Server::start(&[]);
    assert_eq!(s.stop(), Some(0));
    assert!(s.log_text().contains("bye bye"), "{}", s.log_text());
}

#[test]
fn bad_config_line_names_file_and_line() {
    // Guards config errors: the file, the line number and the reason are printed.
    let dir = test_dir("badconf");
    let f = dir.join("bad.conf");
    std::fs::write(&f, "port 7001\nport abc\n").unwrap();
    let out = Command::new(BIN).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&f.display().to_string()), "{err}");
    assert!(err.contains("line 2"), "{err}");
    let f2 = dir.join("unknown.conf");
    std::fs::write(&f2, "port 7001\nno-such-directive yes\n").unwrap();
    let out = Command::new(BIN).arg(&f2).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn seed_config_files_start_unchanged() {
    // Guards the drop-in promise: the seed's cluster configs start as they are (port and bind
    // are overridden on the command line only so tests run in parallel, on loopback).
    let root = env!("CARGO_MANIFEST_DIR");
    for n in 1..=3 {
        let conf = format!("{root}/conf/redis-master-{n}.conf");
        let port = free_port();
        let dir = test_dir("seed");
        let mut child = Command::new(BIN)
            .arg(&conf)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--dir",
                &dir.display().to_string(),
            ])
            .args(["--logfile", &dir.join("log").display().to_string()])
            .spawn()
            .unwrap();
        let mut ok = false;
        for _ in 0..300 {
            let out = crate::common::cli(port, &["cluster", "info"]);
            if out.contains("cluster_enabled") || out.contains("cluster_state") {
                ok = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(ok, "node from {conf} answers CLUSTER INFO");
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn no_effect_directive_is_noted_at_start() {
    // Guards that a harmless directive slotd does not act on is accepted and said once in the
    // log with its reason (refused ones are in failclosed.rs).
    let s = Server::start(&["--activerehashing", "no"]);
    let log = s.log_text();
    assert!(
        log.contains("directive 'activerehashing' has no effect in slotd"),
        "{log}"
    );
}

#[test]
fn too_little_locked_memory_says_what_to_raise() {
    // Guards the io_uring memlock trap: a clear message instead of a half-started server.
    // Needs root to drop to `nobody` (no CAP_IPC_LOCK) with a tiny RLIMIT_MEMLOCK.
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc_geteuid() } != 0 || !std::path::Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let port = free_port();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .args([
            "prlimit",
            "--memlock=65536:65536",
            BIN,
            "--port",
            &port.to_string(),
        ])
        .args(["--dir", "/tmp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("locked-memory limit (ulimit -l)"), "{err}");
}

#[test]
fn shutdown_command_stops_the_server() {
    // Guards SHUTDOWN: no reply, clean exit with code 0.
    let mut s = Server::start(&[]);
    let mut r = s.raw();
    r.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(r.closed());
    assert_eq!(s.wait_exit(10), Some(0));
    assert!(s.log_text().contains("bye bye"));
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn server_cpus_is_checked_against_the_affinity_mask() {
    // Guards opt-in pinning: a CPU outside the mask stops start-up with the reason; allowed
    // CPUs run pinned.
    let e = Server::try_start(&["--server-threads", "2", "--server-cpus", "4000"])
        .err()
        .unwrap();
    assert!(e.contains("server-cpus lists CPU 4000"), "{e}");
    let s = Server::start(&["--server-threads", "2", "--server-cpus", "0"]);
    assert_eq!(s.cli(&["ping"]).trim(), "PONG");
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).unwrap();
    assert!(status.contains("Threads:"), "{status}");
}

#[test]
fn daemonize_writes_the_pidfile_and_detaches() {
    // Guards `daemonize yes` + `pidfile`: the launcher returns, the daemon serves and removes
    // its pid file on shutdown.
    let dir = test_dir("daemon");
    let port = free_port();
    let pidfile = dir.join("slotd.pid");
    let status = Command::new(BIN)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
        ])
        .args([
            "--pidfile",
            &pidfile.display().to_string(),
            "--dir",
            &dir.display().to_string(),
        ])
        .args(["--logfile", &dir.join("log").display().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut pong = String::new();
    for _ in 0..300 {
        pong = crate::common::cli(port, &["ping"]);
        if pong.trim() == "PONG" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(pong.trim(), "PONG");
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert!(pid.trim().parse::<u32>().is_ok(), "{pid}");
    crate::common::cli(port, &["shutdown"]);
    for _ in 0..300 {
        if !pidfile.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!pidfile.exists(), "pid file removed at exit");
    let _ = std::fs::remove_dir_all(dir);
}
