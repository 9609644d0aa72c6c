//! The slow log (SLOWLOG): one node-wide list of the commands that ran at least
//! `slowlog-log-slower-than` microseconds, newest first, trimmed to `slowlog-max-len`.
//!
//! Every shard appends to the same list under a mutex, so ids are node-wide and ordered as
//! the entries were logged. Only slow commands reach the lock; the per-command check is the
//! caller's comparison with `Observe::floor_ns` (see `global::observe`).

use crate::constants::{SLOWLOG_ENTRY_MAX_ARGC, SLOWLOG_ENTRY_MAX_STRING_BYTES};
use crate::resp::Args;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Who ran a logged command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// Known when logged: "ip:port" and the client name ("" when none).
    Known { addr: String, name: Vec<u8> },
    /// A command another shard sent here: its client lives on shard `home` at connection
    /// slot `idx` (generation `gen`); SLOWLOG GET asks that shard (`SlowLog::resolve`).
    Remote { home: usize, idx: u32, gen: u32 },
}

/// One entry, as SLOWLOG GET shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    pub unix_s: u64,
    pub duration_us: u64,
    /// The arguments, shortened as Redis shortens them.
    pub args: Vec<Vec<u8>>,
    pub caller: Caller,
}

#[derive(Default)]
struct Log {
    next_id: u64,
    /// Newest first.
    entries: VecDeque<Entry>,
}

#[derive(Default)]
pub struct SlowLog {
    log: Mutex<Log>,
}

/// Redis' shortened copy of a command line: at most `SLOWLOG_ENTRY_MAX_ARGC` arguments (the
/// last one then says how many more there were), each at most
/// `SLOWLOG_ENTRY_MAX_STRING_BYTES` bytes plus how many more there were. The positions in
/// `redacted` (passwords) show as `(redacted)`, as Redis 7.0 logs them.
pub fn shortened_args(args: Args<'_>, redacted: &[usize]) -> Vec<Vec<u8>> {
    let argc = args.len();
    let kept = argc.min(SLOWLOG_ENTRY_MAX_ARGC);
    let mut v = Vec::with_capacity(kept);
    for (j, a) in args.iter().take(kept).enumerate() {
        if redacted.contains(&j) && !(kept != argc && j == kept - 1) {
            v.push(b"(redacted)".to_vec());
        } else if kept != argc && j == kept - 1 {
            v.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
        } else if a.len() > SLOWLOG_ENTRY_MAX_STRING_BYTES {
            let mut s = a[..SLOWLOG_ENTRY_MAX_STRING_BYTES].to_vec();
            let more = a.len() - SLOWLOG_ENTRY_MAX_STRING_BYTES;
            s.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            v.push(s);
        } else {
            v.push(a.to_vec());
        }
    }
    v
}

impl SlowLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs one command (the caller checked the threshold), then trims to `max_len`.
    pub fn push(
        &self,
        args: Vec<Vec<u8>>,
        duration_us: u64,
        caller: Caller,
        unix_s: u64,
        max_len: usize,
    ) {
        let mut l = self.lock();
        let id = l.next_id;
        l.next_id += 1;
        l.entries.push_front(Entry {
            id,
            unix_s,
            duration_us,
            args,
            caller,
        });
        l.entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for None).
    pub fn newest(&self, count: Option<usize>) -> Vec<Entry> {
        let l = self.lock();
        let n = count.unwrap_or(usize::MAX).min(l.entries.len());
        l.entries.iter().take(n).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// SLOWLOG RESET: the entries go; ids keep counting (as in Redis).
    pub fn reset(&self) {
        self.lock().entries.clear();
    }

    /// The remote callers still unresolved, each once.
    pub fn unresolved(&self) -> Vec<Caller> {
        let l = self.lock();
        let mut v: Vec<Caller> = Vec::new();
        for e in &l.entries {
            if matches!(e.caller, Caller::Remote { .. }) && !v.contains(&e.caller) {
                v.push(e.caller.clone());
            }
        }
        v
    }

    /// Replaces every entry whose caller is `remote` by `known` (what its shard answered).
    pub fn resolve(&self, remote: &Caller, known: &Caller) {
        let mut l = self.lock();
        for e in l.entries.iter_mut().filter(|e| e.caller == *remote) {
            e.caller = known.clone();
        }
    }
}
