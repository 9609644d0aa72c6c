//! Replica side: receiving a full sync's payload into a temporary file in `dir`, in either of
//! Redis' framings (`$EOF:<40 chars>` then the bytes then the same 40 chars, as a diskless
//! master sends it; `$<length>` then that many bytes, as a disk-based master does), while the
//! shards keep serving their old data. Nothing here touches the shards: a payload that is cut,
//! does not fit on the disk or times out leaves only a removed temporary file behind.
//!
//! The payload must be an RDB file (`REDIS` first), as redis-server and slotd masters send;
//! the RESP snapshot of slotd masters before issue 16 is refused (fail closed: the data stays).

use super::replica::Conn;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Length of the EOF mark of a diskless payload (Redis' `RDB_EOF_MARK_SIZE`).
pub const EOF_MARK_LEN: usize = 40;

/// How the payload's end is found.
#[derive(Debug, PartialEq, Eq)]
pub enum Framing {
    /// Ends with this mark (diskless).
    Mark(Vec<u8>),
    /// This many bytes (disk-based).
    Len(u64),
}

/// A complete payload on disk. The file is removed when this is dropped unless `keep` was
/// called (it then belongs to whoever renamed it).
pub struct Received {
    pub path: PathBuf,
    pub bytes: u64,
    kept: bool,
}

impl Received {
    /// The file was renamed or consumed: dropping this must not remove anything.
    pub fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The payload's first line (`$EOF:<mark>` or `$<len>`), with Redis' log texts for the others.
pub fn framing(head: &str) -> Result<Framing, String> {
    if let Some(e) = head.strip_prefix('-') {
        return Err(format!("MASTER aborted replication with an error: {e}"));
    }
    let Some(rest) = head.strip_prefix('$') else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{head}'), are \
             you sure the host and port are right?"
        ));
    };
    if let Some(mark) = rest.strip_prefix("EOF:") {
        if mark.len() != EOF_MARK_LEN {
            return Err(format!("Bad EOF mark from MASTER: '{head}'"));
        }
        return Ok(Framing::Mark(mark.as_bytes().to_vec()));
    }
    rest.parse::<u64>()
        .map(Framing::Len)
        .map_err(|_| format!("Bad payload length from MASTER: '{head}'"))
}

/// The log line Redis writes when the transfer starts.
pub fn start_line(f: &Framing) -> String {
    match f {
        Framing::Mark(_) => {
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk".into()
        }
        Framing::Len(n) => {
            format!("MASTER <-> REPLICA sync: receiving {n} bytes from master to disk")
        }
    }
}

/// Redis' name for a replica's temporary payload file.
pub fn temp_path(dir: &Path) -> PathBuf {
    let secs = crate::clock::unix_ms() / 1000;
    dir.join(format!("temp-{secs}.{}.rdb", std::process::id()))
}

/// Receives the payload from `c` into a new file at `path`. `progress(bytes_so_far)` is called
/// after every read and stops the transfer when it returns false (the link was re-pointed);
/// `timeout` is the longest silence accepted. Bytes after the payload stay in `c`.
pub(super) fn receive(
    c: &mut Conn,
    framing: &Framing,
    path: PathBuf,
    timeout: Duration,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Received, String> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
        })?;
    let mut r = Received {
        path,
        bytes: 0,
        kept: false,
    };
    let mut spool = Spool {
        file,
        head: Vec::new(),
        bytes: 0,
    };
    let mut left = match framing {
        Framing::Len(n) => *n,
        Framing::Mark(_) => u64::MAX,
    };
    let mut last_io = Instant::now();
    loop {
        let avail = &c.buf[c.pos..];
        let done = match framing {
            Framing::Mark(mark) => match memchr::memmem::find(avail, mark) {
                Some(i) => {
                    spool.write(&avail[..i])?;
                    c.pos += i + mark.len();
                    true
                }
                None => {
                    // The mark may be cut by this read: its first bytes stay for the next.
                    let n = avail.len().saturating_sub(mark.len() - 1);
                    spool.write(&avail[..n])?;
                    c.pos += n;
                    false
                }
            },
            Framing::Len(_) => {
                let n = avail.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                spool.write(&avail[..n])?;
                c.pos += n;
                left -= n as u64;
                left == 0
            }
        };
        if done {
            break;
        }
        match c.fill() {
            Ok(true) => last_io = Instant::now(),
            Ok(false) if last_io.elapsed() > timeout => {
                return Err(
                    "Timeout receiving bulk data from MASTER... If the problem persists \
                            try to set the 'repl-timeout' parameter in redis.conf to a larger \
                            value."
                        .into(),
                )
            }
            Ok(false) => {}
            Err(_) => return Err("I/O error trying to sync with MASTER: connection lost".into()),
        }
        if !progress(spool.bytes + (c.buf.len() - c.pos) as u64) {
            return Err("replication re-pointed during the transfer".into());
        }
    }
    spool.finish()?;
    r.bytes = spool.bytes;
    sniff(&spool.head)?;
    Ok(r)
}

/// The payload is an RDB file (its first bytes say so).
fn sniff(head: &[u8]) -> Result<(), String> {
    if head.starts_with(b"REDIS") {
        Ok(())
    } else {
        Err("MASTER <-> REPLICA sync: the payload is not an RDB file".into())
    }
}

/// The file being written, its first bytes (for `sniff`) and its length.
struct Spool {
    file: File,
    head: Vec<u8>,
    bytes: u64,
}

impl Spool {
    fn write(&mut self, data: &[u8]) -> Result<(), String> {
        if data.is_empty() {
            return Ok(());
        }
        if self.head.len() < 5 {
            let n = (5 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
        }
        self.file.write_all(data).map_err(write_error)?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Everything is on the disk (a payload the kernel could not keep fails here).
    fn finish(&mut self) -> Result<(), String> {
        self.file.sync_data().map_err(write_error)
    }
}

fn write_error(e: std::io::Error) -> String {
    format!(
        "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA \
         synchronization: {e}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    /// A link whose master writes `pieces` (one write each, a pause between) and closes.
    fn link(pieces: Vec<Vec<u8>>) -> Conn {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().expect("accept");
            for p in pieces {
                s.write_all(&p).expect("write");
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Conn::new(TcpStream::connect(addr).expect("connect")).expect("conn")
    }

    fn dir(tag: &str) -> PathBuf {
        let pid = std::process::id();
        let d = std::env::temp_dir().join(format!("slotd-payload-{pid}-{tag}"));
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn a_mark_cut_across_reads_ends_the_payload() {
        // Guards the diskless framing: the mark split over two reads is found, the bytes
        // before it are the file, the stream after it stays for the link.
        let mark = b"0123456789abcdef0123456789abcdef01234567".to_vec();
        let body = [b"REDIS0010".to_vec(), vec![7u8; 100_000]].concat();
        let pieces = vec![
            body[..70_000].to_vec(),
            [&body[70_000..], &mark[..13]].concat(),
            [&mark[13..], b"*1\r\n$4\r\nPING\r\n"].concat(),
        ];
        let mut c = link(pieces);
        let path = dir("mark").join("mark.rdb");
        let mut calls = 0;
        let got = receive(
            &mut c,
            &Framing::Mark(mark),
            path.clone(),
            Duration::from_secs(5),
            &mut |_| {
                calls += 1;
                true
            },
        )
        .expect("received");
        assert_eq!(got.bytes, body.len() as u64);
        assert_eq!(std::fs::read(&path).expect("file"), body);
        assert!(c.buf[c.pos..].starts_with(b"*1\r\n"));
        assert!(calls > 0);
        drop(got);
        assert!(!path.exists(), "an unkept payload file is removed");
        let _ = std::fs::remove_dir_all(dir("mark"));
    }

    #[test]
    fn a_cut_link_fails_and_leaves_no_file() {
        // Guards the disk framing: fewer bytes than announced and a closed link fail the
        // transfer with Redis' line, and the temporary file goes.
        let mut c = link(vec![b"REDIS0010abc".to_vec()]);
        let path = dir("cut").join("cut.rdb");
        let e = receive(
            &mut c,
            &Framing::Len(1000),
            path.clone(),
            Duration::from_secs(5),
            &mut |_| true,
        )
        .err()
        .expect("cut");
        assert_eq!(e, "I/O error trying to sync with MASTER: connection lost");
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(dir("cut"));
    }

    #[test]
    fn the_first_line_names_the_framing() {
        // Guards the two framings Redis masters use and the texts of the refusals.
        let mark = "a".repeat(40);
        assert_eq!(
            framing(&format!("$EOF:{mark}")).unwrap(),
            Framing::Mark(mark.into_bytes())
        );
        assert_eq!(framing("$1234").unwrap(), Framing::Len(1234));
        assert!(framing("$EOF:abc").is_err());
        assert!(framing("$-1").is_err());
        assert_eq!(
            framing("-ERR nope").unwrap_err(),
            "MASTER aborted replication with an error: ERR nope"
        );
        assert!(framing("+OK")
            .unwrap_err()
            .starts_with("Bad protocol from MASTER"));
    }

    #[test]
    fn the_first_bytes_name_the_format() {
        // Guards the one format: an RDB file; the RESP snapshot of older slotd masters, an
        // empty payload or anything else is refused.
        assert!(sniff(b"REDIS").is_ok());
        assert!(sniff(
            b"*3
"
        )
        .is_err());
        assert!(sniff(b"").is_err());
        assert!(sniff(b"HELLO").is_err());
    }
}
