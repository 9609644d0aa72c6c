//! nodes.conf: Redis 7 format, written atomically and read back at start.
//! The file is locked with `flock` for the life of the process so that two nodes never share
//! it. Each save writes a temp file in the same directory, fsyncs it, takes the lock on it,
//! renames it over the old file and fsyncs the directory: a crash leaves either the old or the
//! new file, and the lock always sits on the inode that the path names.

use crate::cluster::node::{flag, valid_id, FLAG_WORDS};
use crate::constants::SLOT_COUNT;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The locked nodes.conf of this process.
#[derive(Debug)]
pub struct ConfFile {
    path: PathBuf,
    /// The name as configured (`cluster-config-file`), used in messages like Redis does.
    shown: String,
    /// Holds the flock; dropping it releases the lock.
    lock: File,
}

/// `strerror`-style text of an I/O error (without Rust's " (os error N)" suffix).
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn try_lock(f: &File) -> std::io::Result<()> {
    crate::sys::try_lock_exclusive(f)
}

impl ConfFile {
    /// Opens (creating it empty if missing) and locks `path`, and returns its content.
    pub fn open_locked(path: PathBuf, shown: &str) -> Result<(ConfFile, String), String> {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(&path)
            .map_err(|e| {
                format!(
                    "Can't open {shown} in order to acquire a lock: {}",
                    io_text(&e)
                )
            })?;
        if let Err(e) = try_lock(&f) {
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(format!(
                    "Sorry, the cluster configuration file {shown} is already used by a \
                     different Redis Cluster node. Please make sure that different nodes use \
                     different cluster configuration files."
                ));
            }
            return Err(format!("Impossible to lock {shown}: {}", io_text(&e)));
        }
        let mut text = String::new();
        f.read_to_string(&mut text).map_err(|e| {
            format!(
                "Unrecoverable error: can't read cluster config file {shown}: {}",
                io_text(&e)
            )
        })?;
        let conf = ConfFile {
            path,
            shown: shown.to_string(),
            lock: f,
        };
        Ok((conf, text))
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Replaces the file's content atomically and durably (see the module comment).
    pub fn write_atomic(&mut self, content: &[u8]) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "nodes.conf".into());
        let tmp = dir.join(format!(
            "{name}.tmp-{}-{}",
            std::process::id(),
            crate::clock::unix_ms()
        ));
        match write_tmp(&tmp, content).and_then(|f| {
            std::fs::rename(&tmp, &self.path)?;
            Ok(f)
        }) {
            Ok(f) => {
                // The renamed inode is what the path now names: keep the lock on it.
                self.lock = f;
                File::open(&dir)?.sync_all()
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

fn write_tmp(tmp: &Path, content: &[u8]) -> std::io::Result<File> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(tmp)?;
    try_lock(&f)?;
    f.write_all(content)?;
    f.sync_all()?;
    Ok(f)
}

/// One node line of nodes.conf, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedNode {
    pub id: String,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub hostname: String,
    pub flags: u16,
    pub master_id: Option<String>,
    pub ping_sent_ms: u64,
    pub pong_received_ms: u64,
    pub config_epoch: u64,
    /// Inclusive slot ranges.
    pub slots: Vec<(u16, u16)>,
    /// (slot, target id) for `[slot->-id]`.
    pub migrating: Vec<(u16, String)>,
    /// (slot, source id) for `[slot-<-id]`.
    pub importing: Vec<(u16, String)>,
}

/// The whole file, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedConf {
    pub nodes: Vec<ParsedNode>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
}

/// Renders the file: node lines (already `\n`-terminated) then the `vars` line.
pub fn render(node_lines: &str, current_epoch: u64, last_vote_epoch: u64) -> String {
    format!("{node_lines}vars currentEpoch {current_epoch} lastVoteEpoch {last_vote_epoch}\n")
}

/// Parses nodes.conf. Errors name the file and the 1-based line.
pub fn parse(text: &str, shown: &str, now_ms: u64) -> Result<ParsedConf, String> {
    let mut conf = ParsedConf::default();
    for (i, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let r = if words[0].eq_ignore_ascii_case("vars") {
            parse_vars(&words, &mut conf)
        } else {
            parse_node(&words, now_ms).map(|n| conf.nodes.push(n))
        };
        r.map_err(|why| corrupt(shown, i + 1, &why, line))?;
    }
    check_whole(&conf).map_err(|why| {
        format!("Unrecoverable error: corrupted cluster config file {shown}: {why}")
    })?;
    let max_epoch = conf.nodes.iter().map(|n| n.config_epoch).max().unwrap_or(0);
    conf.current_epoch = conf.current_epoch.max(max_epoch);
    Ok(conf)
}

fn corrupt(shown: &str, line_no: usize, why: &str, line: &str) -> String {
    let cut: String = line.chars().take(200).collect();
    format!(
        "Unrecoverable error: corrupted cluster config file {shown}, line {line_no}: {why}: \
         \"{cut}\""
    )
}

fn check_whole(conf: &ParsedConf) -> Result<(), String> {
    let myself = conf.nodes.iter().filter(|n| n.flags & flag::MYSELF != 0);
    match myself.count() {
        0 => return Err("no node has the 'myself' flag".into()),
        1 => {}
        _ => return Err("more than one node has the 'myself' flag".into()),
    }
    for (i, n) in conf.nodes.iter().enumerate() {
        if conf.nodes[..i].iter().any(|m| m.id == n.id) {
            return Err(format!("node {} is listed twice", n.id));
        }
    }
    Ok(())
}

fn parse_vars(words: &[&str], conf: &mut ParsedConf) -> Result<(), String> {
    if words.len().is_multiple_of(2) {
        return Err("'vars' needs name/value pairs".into());
    }
    for pair in words[1..].chunks(2) {
        let value = || {
            pair[1]
                .parse::<u64>()
                .map_err(|_| format!("bad value for {}", pair[0]))
        };
        match pair[0] {
            "currentEpoch" => conf.current_epoch = value()?,
            "lastVoteEpoch" => conf.last_vote_epoch = value()?,
            // Redis ignores unknown variables (with a warning): newer versions may add some.
            _ => {}
        }
    }
    Ok(())
}

fn parse_node(words: &[&str], now_ms: u64) -> Result<ParsedNode, String> {
    if words.len() < 8 {
        return Err("a node line needs at least 8 fields".into());
    }
    if !valid_id(words[0]) {
        return Err("invalid node id".into());
    }
    let mut n = ParsedNode {
        id: words[0].to_string(),
        ..Default::default()
    };
    parse_addr(words[1], &mut n)?;
    n.flags = parse_flags(words[2])?;
    if words[3] != "-" {
        if !valid_id(words[3]) {
            return Err("invalid master id".into());
        }
        n.master_id = Some(words[3].to_string());
    }
    // Only "there was one" matters after a restart: any non-zero time becomes now.
    let time = |w: &str, what: &str| -> Result<u64, String> {
        let v: u64 = w.parse().map_err(|_| format!("invalid {what}"))?;
        Ok(if v != 0 { now_ms } else { 0 })
    };
    n.ping_sent_ms = time(words[4], "ping-sent time")?;
    n.pong_received_ms = time(words[5], "pong-received time")?;
    n.config_epoch = words[6]
        .parse()
        .map_err(|_| "invalid config epoch".to_string())?;
    if n.flags & flag::SLAVE != 0 && n.master_id.is_some() {
        // A replica line carries its master's epoch; 7.0.15 does not keep it as its own.
        n.config_epoch = 0;
    }
    for w in &words[8..] {
        parse_slot_word(w, &mut n)?;
    }
    Ok(n)
}

fn parse_addr(word: &str, n: &mut ParsedNode) -> Result<(), String> {
    let (addr, host) = match word.split_once(',') {
        // Later versions append more `,field`s after the hostname.
        Some((a, h)) => (a, h.split(',').next().unwrap_or("")),
        None => (word, ""),
    };
    // A file written before hostnames were checked may hold one slotd now refuses: the node
    // loads without it (the next announcement brings a valid one back).
    match crate::config::announce::check_hostname(host) {
        Ok(()) => n.hostname = host.to_string(),
        Err(why) => crate::log::warning(&format!(
            "nodes.conf: ignoring the hostname of node {}: {why}",
            n.id
        )),
    }
    let (addr, cport) = match addr.split_once('@') {
        Some((a, c)) => (a, Some(c)),
        None => (addr, None),
    };
    let Some(colon) = addr.rfind(':') else {
        return Err("address without ':port'".into());
    };
    n.ip = addr[..colon].to_string();
    if !n.ip.is_empty() && !crate::config::announce::valid_bus_ip(&n.ip) {
        // Never connected to anyway (the bus dials literal addresses only): load the node
        // without an address, as a node that has not told us where it is.
        crate::log::warning(&format!(
            "nodes.conf: ignoring the invalid address of node {}",
            n.id
        ));
        n.ip.clear();
    }
    n.port = addr[colon + 1..]
        .parse()
        .map_err(|_| "invalid port".to_string())?;
    n.cport = match cport {
        Some(c) => c.parse().map_err(|_| "invalid bus port".to_string())?,
        None => n.port.wrapping_add(10000),
    };
    Ok(())
}

fn parse_flags(word: &str) -> Result<u16, String> {
    let mut flags = 0;
    for w in word.split(',') {
        if w == "noflags" {
            continue;
        }
        match FLAG_WORDS.iter().find(|(_, name)| *name == w) {
            Some((bit, _)) => flags |= bit,
            None => return Err(format!("unknown flag '{w}'")),
        }
    }
    Ok(flags)
}

fn parse_slot(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(v) if (v as usize) < SLOT_COUNT => Ok(v),
        _ => Err(format!("invalid slot '{s}'")),
    }
}

fn parse_slot_word(w: &str, n: &mut ParsedNode) -> Result<(), String> {
    if let Some(inner) = w.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("bad open-slot entry '{w}'"))?;
        let (slot, to, id) = if let Some((s, id)) = inner.split_once("->-") {
            (s, true, id)
        } else if let Some((s, id)) = inner.split_once("-<-") {
            (s, false, id)
        } else {
            return Err(format!("bad open-slot entry '{w}'"));
        };
        let slot = parse_slot(slot)?;
        if !valid_id(id) {
            return Err(format!("bad node id in '{w}'"));
        }
        let list = if to {
            &mut n.migrating
        } else {
            &mut n.importing
        };
        list.push((slot, id.to_string()));
        return Ok(());
    }
    let (a, b) = match w.split_once('-') {
        Some((a, b)) => (parse_slot(a)?, parse_slot(b)?),
        None => {
            let s = parse_slot(w)?;
            (s, s)
        }
    };
    if a > b {
        return Err(format!("slot range '{w}' ends before it starts"));
    }
    n.slots.push((a, b));
    Ok(())
}

/// A fresh directory under /tmp/cl for tests.
#[cfg(test)]
pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let d = PathBuf::from(format!(
        "/tmp/cl/unit-{tag}-{}-{}-{}",
        std::process::id(),
        crate::clock::unix_ms(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID1: &str = "918d4f412e53d73aae9c5e30071d4f17c6ebaad4";
    const ID2: &str = "8df5a08cdb59a81fcb2d3ffbfb80ec71ecf0248c";

    fn sample() -> String {
        format!(
            "{ID2} 127.0.0.1:30004@40004,host-b slave {ID1} 0 1795540365867 3 connected\n\
             {ID1} :30001@40001 myself,master - 0 0 7 connected 0-5460 6000 [7->-{ID2}] \
             [9-<-{ID2}]\n\
             vars currentEpoch 6 lastVoteEpoch 2\n"
        )
    }

    #[test]
    fn parses_redis_lines() {
        // Guards every field of the 7.0 line format, including open slots and hostnames.
        let c = parse(&sample(), "nodes.conf", 42).expect("valid");
        assert_eq!(c.current_epoch, 7, "raised to the largest config epoch");
        assert_eq!(c.last_vote_epoch, 2);
        let r = &c.nodes[0];
        assert_eq!(
            (r.ip.as_str(), r.port, r.cport),
            ("127.0.0.1", 30004, 40004)
        );
        assert_eq!(r.hostname, "host-b");
        assert_eq!(r.flags, flag::SLAVE);
        assert_eq!(r.master_id.as_deref(), Some(ID1));
        assert_eq!((r.pong_received_ms, r.config_epoch), (42, 0));
        let m = &c.nodes[1];
        assert_eq!(m.ip, "");
        assert_eq!(m.flags, flag::MYSELF | flag::MASTER);
        assert_eq!(m.slots, vec![(0, 5460), (6000, 6000)]);
        assert_eq!(m.migrating, vec![(7, ID2.to_string())]);
        assert_eq!(m.importing, vec![(9, ID2.to_string())]);
    }

    #[test]
    fn missing_bus_port_defaults_and_blank_lines_skip() {
        // Guards the optional @cport and Redis' padding newlines.
        let t = format!("\n\n{ID1} 10.0.0.1:7000 myself,master - 0 0 0 connected\n\n");
        let c = parse(&t, "n", 0).expect("valid");
        assert_eq!(c.nodes[0].cport, 17000);
        assert_eq!(c.current_epoch, 0);
    }

    #[test]
    fn bad_hostnames_and_addresses_load_without_them() {
        // Guards restarts after a bad hostname or address reached the file (older versions
        // stored what peers sent): the node loads without it instead of refusing to start.
        let text = format!(
            "{ID2} 1.2.3.4x:30004@40004,bad_host master - 0 0 3 connected\n\
             {ID1} 127.0.0.1:30001@40001,ok-host,shard-id=abc myself,master - 0 0 7 connected\n"
        );
        let c = parse(&text, "nodes.conf", 42).expect("loads");
        assert_eq!(
            (c.nodes[0].ip.as_str(), c.nodes[0].hostname.as_str()),
            ("", "")
        );
        assert_eq!(c.nodes[0].port, 30004);
        assert_eq!(
            c.nodes[1].hostname, "ok-host",
            "later fields after the hostname"
        );
    }

    #[test]
    fn corrupt_files_name_file_and_line() {
        // Guards clear start-up errors for every kind of damage.
        let ok = format!("{ID1} :1@2 myself,master - 0 0 0 connected");
        let cases = [
            (format!("{ok}\nabc def"), "line 2"),
            (
                format!("{ID1} :1@2 myself,mastr - 0 0 0 connected"),
                "unknown flag",
            ),
            (format!("{ID1} :1@2 master - 0 0 0 connected"), "myself"),
            (format!("{ok} 16384"), "invalid slot"),
            (format!("{ok} 5-3"), "ends before"),
            (format!("{ok}\nvars currentEpoch 1 lastVoteEpoch"), "pairs"),
            (format!("{ok}\nvars currentEpoch x"), "bad value"),
            (ok.replacen("a", "", 1), "invalid node id"),
            (ok.replace(":1@2", "1@2"), "':port'"),
            (format!("{ok} [5->-xyz]"), "bad node id"),
            (
                format!("{ok}\n{}", ok.replace("myself,", "")),
                "listed twice",
            ),
            (String::new(), "myself"),
        ];
        for (text, want) in cases {
            let e = parse(&text, "my.conf", 0).expect_err(&text);
            assert!(e.contains("my.conf"), "{e}");
            assert!(e.contains(want), "{want} not in {e}");
        }
    }

    #[test]
    fn write_read_back_and_lock() {
        // Guards the atomic save, the lock on the renamed inode, and Redis' lock message.
        let dir = temp_dir("conf");
        let path = dir.join("nodes.conf");
        let (mut f, text) = ConfFile::open_locked(path.clone(), "nodes.conf").expect("open");
        assert_eq!(text, "");
        f.write_atomic(sample().as_bytes()).expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), sample());
        let e = ConfFile::open_locked(path.clone(), "nodes.conf").expect_err("locked");
        assert!(e.starts_with("Sorry, the cluster configuration file nodes.conf is already"));
        f.write_atomic(b"x").expect("rewrite");
        assert!(ConfFile::open_locked(path.clone(), "nodes.conf").is_err());
        let leftovers = std::fs::read_dir(&dir).expect("dir").count();
        assert_eq!(leftovers, 1, "no temp files left behind");
        drop(f);
        let (_g, text) = ConfFile::open_locked(path, "nodes.conf").expect("free again");
        assert_eq!(text, "x");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn render_round_trips() {
        // Guards that what we write parses back to the same content.
        let lines = format!("{ID1} :6440@16440 myself,master - 0 0 3 connected 0-5 9\n");
        let text = render(&lines, 5, 1);
        assert!(text.ends_with("vars currentEpoch 5 lastVoteEpoch 1\n"));
        let c = parse(&text, "n", 0).expect("valid");
        assert_eq!(c.nodes[0].slots, vec![(0, 5), (9, 9)]);
        assert_eq!((c.current_epoch, c.last_vote_epoch), (5, 1));
    }
}
