//! A shard's write journal: every write, in a deterministic RESP form, appended in memory as
//! commands run. The replication backlog and the AOF segment consume it (in that order, at the
//! end of each loop turn); it is the one write path of a shard's changes.
//!
//! Databases: a record is for the database last given to `select`; a `SELECT n` record goes
//! in front of it whenever that differs from the database in effect at that point of the
//! stream, as Redis writes its AOF and replication stream. A reader starts every file (and
//! every chunk of the replication stream, `repl_unsent`) in database 0 unless told otherwise.

/// Appends RESP commands; taken whole by the consumer at the end of a loop turn.
#[derive(Default)]
pub struct Journal {
    buf: Vec<u8>,
    /// A handler wrote its own records for the command being run (no verbatim copy then).
    pub explicit: bool,
    /// Off while loading the AOF (replayed commands are not journaled again) or with AOF off
    /// and nothing else consuming.
    pub enabled: bool,
    /// Bytes at the front of `buf` already copied to the replication backlog.
    repl_sent: usize,
    /// Positions in `buf` of FLUSHALL/FLUSHDB/SWAPDB records (with several shards the stream
    /// carries each once, `replication::stream_once`).
    flush_marks: Vec<usize>,
    /// The database the next records are for (`select`).
    db: u32,
    /// The database in effect at the end of `buf` for a reader of the records so far.
    written: u32,
    /// The database in effect at the front of `buf`, and before the last `take`.
    start_db: u32,
    taken_db: u32,
    /// The database in effect at `repl_sent`.
    repl_db: u32,
    /// Bumped whenever the buffer is taken or put back (a `BlockMark` from before is stale).
    generation: u64,
    /// Blocks begun and not ended: a block inside another (EVAL inside EXEC) is part of it.
    open_blocks: u32,
}

/// Where a block of records starts (a script's or a transaction's writes), for `end_block`.
#[derive(Clone, Copy, Debug)]
pub struct BlockMark {
    at: usize,
    generation: u64,
    nested: bool,
}

/// The MULTI and EXEC records that wrap a block of two or more writes.
const MULTI_RECORD: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const EXEC_RECORD: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

/// The end of the RESP record starting at `at` in `buf`, and whether it is a SELECT.
fn record_end(buf: &[u8], at: usize) -> Option<(usize, bool)> {
    let line = |from: usize| -> Option<(i64, usize)> {
        let nl = from + buf.get(from..)?.windows(2).position(|w| w == b"\r\n")?;
        let v = crate::resp::parse::parse_i64(buf.get(from + 1..nl)?)?;
        Some((v, nl + 2))
    };
    let (n, mut pos) = line(at)?;
    let mut select = false;
    for i in 0..n {
        let (len, start) = line(pos)?;
        let end = start + usize::try_from(len).ok()?;
        if i == 0 {
            select = buf.get(start..end)?.eq_ignore_ascii_case(b"SELECT");
        }
        pos = end + 2;
    }
    Some((pos, select))
}

/// The FLUSHALL record as `record` writes it.
#[cfg(test)]
pub const FLUSHALL_RECORD: &[u8] = b"*1\r\n$8\r\nFLUSHALL\r\n";

/// Appends one command in RESP form to `buf`.
pub fn encode(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.push(b'*');
    crate::resp::write::push_int(buf, args.len() as i64);
    buf.extend_from_slice(b"\r\n");
    for a in args {
        buf.push(b'$');
        crate::resp::write::push_int(buf, a.len() as i64);
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Appends `SELECT db` to `buf`.
pub fn encode_select(buf: &mut Vec<u8>, db: u32) {
    let n = db.to_string();
    encode(buf, &[b"SELECT", n.as_bytes()]);
}

impl Journal {
    /// The records that follow are for database `db` (a plain store; the SELECT record, when
    /// one is needed, is written with the next record).
    #[inline]
    pub fn select(&mut self, db: u32) {
        self.db = db;
    }

    /// The database the next records are for.
    pub fn selected(&self) -> u32 {
        self.db
    }

    #[inline]
    fn before_record(&mut self) {
        if self.db != self.written {
            encode_select(&mut self.buf, self.db);
            self.written = self.db;
        }
    }

    /// The records not written yet go to a new file as well (a rewrite's new incr file), whose
    /// reader starts in database 0: the buffer is made to say which database it starts in.
    pub fn new_file(&mut self) {
        if self.start_db == 0 {
            return;
        }
        self.generation += 1;
        let mut head = Vec::new();
        encode_select(&mut head, self.start_db);
        // The put-back form: the head counts as copied to the backlog when the buffer's
        // front was, and the positions behind it move.
        let was_sent = self.repl_sent > 0;
        let n = head.len();
        for m in self.flush_marks.iter_mut() {
            *m += n;
        }
        if was_sent {
            self.repl_sent += n;
        }
        head.extend_from_slice(&self.buf);
        self.buf = head;
        self.start_db = 0;
    }

    /// Records a command (explicit form chosen by a handler).
    pub fn record(&mut self, args: &[&[u8]]) {
        if self.enabled {
            self.before_record();
            let marked = (args.len() == 1 && (args[0] == b"FLUSHALL" || args[0] == b"FLUSHDB"))
                || (args.len() == 3 && args[0] == b"SWAPDB");
            if marked {
                self.flush_marks.push(self.buf.len());
            }
            encode(&mut self.buf, args);
        }
    }

    /// Records the arguments as they came (the default for deterministic writes).
    pub fn record_args(&mut self, args: crate::resp::Args<'_>) {
        if !self.enabled {
            return;
        }
        self.before_record();
        self.buf.push(b'*');
        crate::resp::write::push_int(&mut self.buf, args.len() as i64);
        self.buf.extend_from_slice(b"\r\n");
        for a in args.iter() {
            self.buf.push(b'$');
            crate::resp::write::push_int(&mut self.buf, a.len() as i64);
            self.buf.extend_from_slice(b"\r\n");
            self.buf.extend_from_slice(a);
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    /// Appends records already in RESP form.
    pub fn append_raw(&mut self, records: &[u8]) {
        if self.enabled {
            self.before_record();
            self.buf.extend_from_slice(records);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// A block of records starts here (see `end_block`).
    pub fn begin_block(&mut self) -> BlockMark {
        self.open_blocks += 1;
        BlockMark {
            at: self.buf.len(),
            generation: self.generation,
            nested: self.open_blocks > 1,
        }
    }

    /// Ends the block begun at `m`: two or more records in it (SELECTs aside) are wrapped in
    /// MULTI ... EXEC, as Redis 7 propagates the effects of a script or a transaction; the
    /// MULTI goes after a leading SELECT, as in Redis' files. A block whose records were taken
    /// (or partly copied to the backlog) meanwhile is left as it is.
    pub fn end_block(&mut self, m: BlockMark) {
        self.open_blocks = self.open_blocks.saturating_sub(1);
        if m.nested
            || !self.enabled
            || m.generation != self.generation
            || self.repl_sent > m.at
            || self.buf.len() <= m.at
        {
            return;
        }
        let mut pos = m.at;
        let mut writes = 0;
        let mut multi_at = m.at;
        while pos < self.buf.len() {
            let Some((end, select)) = record_end(&self.buf, pos) else {
                return;
            };
            if select && writes == 0 {
                multi_at = end;
            }
            writes += usize::from(!select);
            pos = end;
        }
        if writes < 2 {
            return;
        }
        let tail = self.buf.split_off(multi_at);
        self.buf.extend_from_slice(MULTI_RECORD);
        for mk in self.flush_marks.iter_mut().filter(|mk| **mk >= multi_at) {
            *mk += MULTI_RECORD.len();
        }
        self.buf.extend_from_slice(&tail);
        self.buf.extend_from_slice(EXEC_RECORD);
    }

    /// Takes everything recorded so far.
    pub fn take(&mut self) -> Vec<u8> {
        self.generation += 1;
        self.repl_sent = 0;
        self.taken_db = self.start_db;
        self.start_db = self.written;
        self.repl_db = self.written;
        self.flush_marks.clear();
        std::mem::take(&mut self.buf)
    }

    /// The database in effect at the front of `repl_unsent`, and at its end.
    pub fn repl_dbs(&self) -> (u32, u32) {
        (self.repl_db, self.written)
    }

    /// The records not yet copied to the replication backlog, and the positions (relative to
    /// that slice) of the FLUSHALL (and FLUSHDB) records among them.
    pub fn repl_unsent(&self) -> (&[u8], Vec<usize>) {
        let from = self.repl_sent;
        let marks = self
            .flush_marks
            .iter()
            .filter(|&&m| m >= from)
            .map(|&m| m - from)
            .collect();
        (&self.buf[from..], marks)
    }

    /// Everything recorded so far counts as copied to the backlog (or as never to be).
    pub fn mark_repl_sent(&mut self) {
        self.repl_sent = self.buf.len();
        self.repl_db = self.written;
    }

    /// Gives a buffer back after it was written (keeps its capacity for the next turn).
    pub fn give_back(&mut self, mut buf: Vec<u8>) {
        if self.buf.is_empty() && buf.capacity() <= 4 * 1024 * 1024 {
            buf.clear();
            self.buf = buf;
        }
    }

    /// Puts unwritten bytes back in front of anything recorded since (a failed write).
    pub fn unwrite(&mut self, mut data: Vec<u8>) {
        self.generation += 1;
        // The bytes put back were copied to the backlog before they were taken.
        self.repl_sent += data.len();
        for m in self.flush_marks.iter_mut() {
            *m += data.len();
        }
        data.extend_from_slice(&self.buf);
        self.buf = data;
        self.start_db = self.taken_db;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_resp() {
        // Guards the on-disk record form.
        let mut j = Journal {
            enabled: true,
            ..Default::default()
        };
        j.record(&[b"SET", b"k", b"v"]);
        assert_eq!(j.take(), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
        let mut off = Journal::default();
        off.record(&[b"SET"]);
        assert!(off.is_empty());
    }

    /// Records of `buf`, one line each, as "SET k v".
    fn lines(buf: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            let (end, _) = record_end(buf, pos).expect("whole records");
            let text = String::from_utf8_lossy(&buf[pos..end]).to_string();
            let words: Vec<&str> = text
                .split("\r\n")
                .filter(|w| !w.is_empty() && !w.starts_with('*') && !w.starts_with('$'))
                .collect();
            out.push(words.join(" "));
            pos = end;
        }
        out
    }

    #[test]
    fn blocks_of_two_writes_are_wrapped_like_redis_7() {
        // Guards the effects form Redis 7.0.15 writes to its AOF: one write stays bare, two
        // or more go inside MULTI/EXEC, after the SELECT of the first one.
        let mut j = Journal {
            enabled: true,
            ..Default::default()
        };
        let m = j.begin_block();
        j.record(&[b"SET", b"a", b"1"]);
        j.end_block(m);
        let m = j.begin_block();
        j.select(3);
        j.record(&[b"SET", b"x", b"1"]);
        j.select(4);
        j.record(&[b"FLUSHALL"]);
        j.end_block(m);
        let m = j.begin_block();
        j.end_block(m);
        // A block inside a block (EVAL inside EXEC) is part of the outer one.
        let outer = j.begin_block();
        j.select(0);
        let inner = j.begin_block();
        j.record(&[b"SET", b"i", b"1"]);
        j.record(&[b"SET", b"j", b"1"]);
        j.end_block(inner);
        j.record(&[b"SET", b"k", b"1"]);
        j.end_block(outer);
        assert_eq!(
            lines(&j.buf),
            [
                "SET a 1", "SELECT 3", "MULTI", "SET x 1", "SELECT 4", "FLUSHALL", "EXEC",
                "SELECT 0", "MULTI", "SET i 1", "SET j 1", "SET k 1", "EXEC"
            ]
        );
        assert_eq!(j.repl_unsent().1, vec![lines_len(&j.buf, 5)]);
        // A block whose start was taken meanwhile is left alone.
        let m = j.begin_block();
        j.record(&[b"SET", b"b", b"1"]);
        let _ = j.take();
        j.record(&[b"SET", b"c", b"1"]);
        j.record(&[b"SET", b"d", b"1"]);
        j.end_block(m);
        assert_eq!(lines(&j.buf), ["SET c 1", "SET d 1"]);
    }

    /// Byte offset of record `i` of `buf`.
    fn lines_len(buf: &[u8], i: usize) -> usize {
        let mut pos = 0;
        for _ in 0..i {
            pos = record_end(buf, pos).unwrap().0;
        }
        pos
    }

    #[test]
    fn repl_cursor_and_flush_marks() {
        // Guards the backlog cursor: unsent bytes only, FLUSHALL positions, put-back bytes.
        let mut j = Journal {
            enabled: true,
            ..Default::default()
        };
        j.record(&[b"SET", b"k", b"v"]);
        j.mark_repl_sent();
        j.record(&[b"FLUSHALL"]);
        let (bytes, marks) = j.repl_unsent();
        assert_eq!(bytes, FLUSHALL_RECORD);
        assert_eq!(marks, vec![0]);
        j.mark_repl_sent();
        let data = j.take();
        j.record(&[b"DEL", b"k"]);
        j.unwrite(data);
        let (bytes, marks) = j.repl_unsent();
        assert_eq!(bytes, b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
        assert!(marks.is_empty());
    }

    #[test]
    fn select_records_when_the_database_changes() {
        // Guards SELECT in the journal: written once per change, before the record it is for,
        // and in front of what a new file gets.
        let mut j = Journal {
            enabled: true,
            ..Default::default()
        };
        j.record(&[b"DEL", b"a"]);
        j.select(3);
        j.record(&[b"DEL", b"b"]);
        j.record(&[b"DEL", b"c"]);
        j.select(0);
        j.record(&[b"DEL", b"d"]);
        let sel = |n: &str| format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{n}\r\n", n.len());
        let del = |k: &str| format!("*2\r\n$3\r\nDEL\r\n$1\r\n{k}\r\n");
        let want = [del("a"), sel("3"), del("b"), del("c"), sel("0"), del("d")].concat();
        assert_eq!(String::from_utf8(j.take()).unwrap(), want);
        j.select(5);
        j.record(&[b"DEL", b"e"]);
        let _ = j.take();
        j.record(&[b"DEL", b"f"]);
        j.new_file();
        assert_eq!(
            String::from_utf8(j.take()).unwrap(),
            [sel("5"), del("f")].concat()
        );
    }
}
