//! Effects replication of scripts and transactions into the AOF (issue 14): what a block of
//! writes looks like in the files (as redis-server 7.0 writes it), that a restart applies it,
//! that a file ending inside MULTI loses the block whole (aof-load-truncated), and that kill -9
//! under `appendfsync always` loses no acknowledged write of a script.

use crate::common::{free_port, Server};
use std::path::{Path, PathBuf};

/// The incr files named by the manifest, in manifest order.
fn incr_files(dir: &Path) -> Vec<PathBuf> {
    let aof = dir.join("appendonlydir");
    let text = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).expect("manifest");
    text.lines()
        .filter(|l| l.contains("type i"))
        .filter_map(|l| l.split_whitespace().nth(1).map(|f| aof.join(f)))
        .collect()
}

/// The records of a RESP command file, each as its words joined by spaces.
pub fn records(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut lines = text.split("\r\n");
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*').and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        let mut words = Vec::new();
        for _ in 0..n {
            let _len = lines.next();
            words.push(lines.next().unwrap_or_default().to_string());
        }
        out.push(words.join(" "));
    }
    out
}

fn all_records(dir: &Path) -> Vec<String> {
    incr_files(dir)
        .iter()
        .flat_map(|f| records(&std::fs::read(f).unwrap_or_default()))
        .collect()
}

fn kill9(s: &mut Server) {
    if let Some(mut c) = s.child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn get(c: &mut redis::Connection, k: &str) -> Option<String> {
    redis::cmd("GET").arg(k).query(c).expect("GET")
}

const AOF: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

#[test]
fn exec_of_two_writes_is_one_multi_exec_block_and_a_torn_block_is_dropped() {
    let mut s = Server::start(&[AOF, &["--server-threads", "1"]].concat());
    let mut c = s.client();
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a")
        .arg("1")
        .cmd("SET")
        .arg("b")
        .arg("2")
        .query(&mut c)
        .expect("MULTI/EXEC");
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("one")
        .arg("1")
        .cmd("GET")
        .arg("one")
        .query(&mut c)
        .expect("MULTI/EXEC");
    // As redis-server 7.0.15 writes them: a transaction of one write stays bare.
    let recs = all_records(&s.dir);
    let tail: Vec<&str> = recs.iter().map(String::as_str).collect();
    assert!(
        tail.ends_with(&["MULTI", "SET a 1", "SET b 2", "EXEC", "SET one 1"]),
        "{tail:?}"
    );
    // A crash while a block was written: the file ends inside MULTI.
    let file = incr_files(&s.dir).pop().expect("an incr file");
    kill9(&mut s);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .expect("open incr");
    use std::io::Write;
    f.write_all(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\nd\r\n")
        .expect("append");
    drop(f);
    let dir = std::mem::take(&mut s.dir);
    let s2 = Server::start_in(free_port(), dir, AOF).expect("restart past a torn block");
    let mut c = s2.client();
    assert_eq!(get(&mut c, "a").as_deref(), Some("1"));
    assert_eq!(get(&mut c, "b").as_deref(), Some("2"));
    assert_eq!(get(&mut c, "c"), None, "an incomplete block is not applied");
    let recs = all_records(&s2.dir);
    assert_eq!(
        recs.last().map(String::as_str),
        Some("SET one 1"),
        "cut before MULTI"
    );
    assert!(s2
        .log_text()
        .contains("Revert incomplete MULTI/EXEC transaction"));
}

#[test]
fn a_torn_block_refuses_to_load_with_aof_load_truncated_no() {
    let mut s = Server::start(AOF);
    let mut c = s.client();
    let _: () = redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query(&mut c)
        .expect("SET");
    let file = incr_files(&s.dir).pop().expect("an incr file");
    kill9(&mut s);
    let mut data = std::fs::read(&file).expect("read");
    data.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n");
    std::fs::write(&file, data).expect("write");
    let dir = std::mem::take(&mut s.dir);
    let r = Server::start_in(
        free_port(),
        dir.clone(),
        &[AOF, &["--aof-load-truncated", "no"]].concat(),
    );
    assert!(r.is_err(), "refused");
    let _ = std::fs::remove_dir_all(dir);
}
