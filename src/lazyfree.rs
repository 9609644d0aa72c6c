//! Lazy free: big values are dropped on a worker thread instead of the shard's, as Redis'
//! lazyfree.c hands them to its BIO_LAZY_FREE thread, so deleting a set of a million members
//! does not stall every client of the shard.
//!
//! What goes to the worker follows Redis 7.0: a value whose free effort (`FreeEffort`: the
//! elements of a hash table or skiplist, the nodes of a quicklist, 1 for anything held in one
//! allocation) exceeds `LAZYFREE_THRESHOLD`, when the delete may be lazy (UNLINK always; DEL,
//! implicit deletes, expiry and eviction when their `lazyfree-lazy-*` setting says so), and
//! whole keyspaces emptied by FLUSHALL/FLUSHDB ASYNC. Everything else is dropped in place,
//! which costs less than the hand-off.
//!
//! The queue is bounded (`LAZYFREE_QUEUE_JOBS_MAX`): when it is full, or the worker could not
//! be started, the value is dropped in place. A burst of deletes then slows the shard down
//! instead of holding memory without limit; the caller never blocks or waits for the worker.
//! The settings and counters are process-wide, as in Redis (one worker serves every shard).
//! Never touches a keyspace: callers remove the key and hand over only its value.

use crate::config::Config;
use crate::constants::{LAZYFREE_QUEUE_JOBS_MAX, LAZYFREE_THRESHOLD, LISTPACK_NODE_BYTES};
use crate::resp::parse::parse_i64;
use crate::types::{hash::HashValue, list::ListValue, set::SetValue, zset::ZSetValue};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;

/// How much work freeing a value is, in Redis' units (`lazyfreeGetFreeEffort`).
pub trait FreeEffort {
    fn free_effort(&self) -> usize;
}

impl FreeEffort for HashValue {
    fn free_effort(&self) -> usize {
        table_effort(self.encoding(), self.len())
    }
}

impl FreeEffort for SetValue {
    fn free_effort(&self) -> usize {
        table_effort(self.encoding(), self.len())
    }
}

impl FreeEffort for ZSetValue {
    fn free_effort(&self) -> usize {
        table_effort(self.encoding(), self.len())
    }
}

/// A hash table or skiplist costs one free per element; the compact encodings (listpack,
/// intset) are one allocation.
fn table_effort(encoding: &str, len: usize) -> usize {
    match encoding {
        "hashtable" | "skiplist" => len,
        _ => 1,
    }
}

impl FreeEffort for ListValue {
    /// Redis 7.0 keeps every list as a quicklist whose nodes are listpacks of at most
    /// `LISTPACK_NODE_BYTES` (list-max-listpack-size -2); its effort is the node count. slotd's
    /// list has no nodes, so the count is estimated from the listpack size of an even sample of
    /// the elements (exact for lists of alike elements), in constant time.
    fn free_effort(&self) -> usize {
        let n = self.len();
        if n <= LAZYFREE_THRESHOLD {
            return 1; // at least one element per node: at most n nodes, never above
        }
        let step = n / LIST_SAMPLE_ELEMENTS;
        let sampled: usize = (0..LIST_SAMPLE_ELEMENTS)
            .filter_map(|i| self.get(i * step))
            .map(listpack_entry_bytes)
            .sum();
        let bytes = sampled as u128 * n as u128 / LIST_SAMPLE_ELEMENTS as u128;
        bytes.div_ceil(LISTPACK_NODE_BYTES as u128) as usize
    }
}

/// Elements of a list read to estimate its listpack size (above `LAZYFREE_THRESHOLD`).
const LIST_SAMPLE_ELEMENTS: usize = 64;

/// Bytes one element takes in a listpack: its encoding (integers in 1-9 bytes, strings with a
/// 1, 2 or 5 byte header) plus the back-length field (1-5 bytes), as Redis' listpack.c.
fn listpack_entry_bytes(elem: &[u8]) -> usize {
    let encoded = match parse_i64(elem) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if i16::try_from(v).is_ok() => 3,
        Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if elem.len() < 64 => 1 + elem.len(),
        None if elem.len() < 4096 => 2 + elem.len(),
        None => 5 + elem.len(),
    };
    let backlen = match encoded {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    encoded + backlen
}

/// Which kind of delete frees a value; each but `Unlink` has its `lazyfree-lazy-*` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// UNLINK: always lazy.
    Unlink,
    /// DEL (`lazyfree-lazy-user-del`).
    UserDel,
    /// A value a write replaced or a key a command deleted on its own: SET or RENAME over an
    /// existing key, RESTORE REPLACE, ... (`lazyfree-lazy-server-del`).
    ServerDel,
    /// An expired key (`lazyfree-lazy-expire`).
    Expire,
    /// A key evicted for maxmemory (`lazyfree-lazy-eviction`).
    Eviction,
}

/// The `lazyfree-lazy-*` / `replica-lazy-flush` settings as bits of `SETTINGS`.
const USER_DEL: u8 = 1;
const SERVER_DEL: u8 = 2;
const EXPIRE: u8 = 4;
const EVICTION: u8 = 8;
const USER_FLUSH: u8 = 16;
const REPLICA_FLUSH: u8 = 32;

/// Current settings (bits above); all off until `configure` runs, as Redis' defaults.
static SETTINGS: AtomicU8 = AtomicU8::new(0);

/// Reads the settings from the configuration: at boot and after every CONFIG SET.
pub fn configure(cfg: &Config) {
    let bit = |name: &str, b: u8| if cfg.stored_bool(name, false) { b } else { 0 };
    let bits = bit("lazyfree-lazy-user-del", USER_DEL)
        | bit("lazyfree-lazy-server-del", SERVER_DEL)
        | bit("lazyfree-lazy-expire", EXPIRE)
        | bit("lazyfree-lazy-eviction", EVICTION)
        | bit("lazyfree-lazy-user-flush", USER_FLUSH)
        | bit("replica-lazy-flush", REPLICA_FLUSH);
    SETTINGS.store(bits, Ordering::Relaxed);
}

fn setting(b: u8) -> bool {
    SETTINGS.load(Ordering::Relaxed) & b != 0
}

/// True when a delete of this kind may hand its value to the worker.
pub fn lazy_for(cause: Cause) -> bool {
    match cause {
        Cause::Unlink => true,
        Cause::UserDel => setting(USER_DEL),
        Cause::ServerDel => setting(SERVER_DEL),
        Cause::Expire => setting(EXPIRE),
        Cause::Eviction => setting(EVICTION),
    }
}

/// FLUSHALL/FLUSHDB without SYNC or ASYNC: `lazyfree-lazy-user-flush`.
pub fn user_flush_async() -> bool {
    setting(USER_FLUSH)
}

/// A replica emptying its data set for a full sync: `replica-lazy-flush`.
pub fn replica_flush_async() -> bool {
    setting(REPLICA_FLUSH)
}

/// Frees `value` deleted by `cause`: on the worker when the delete may be lazy and the value
/// is big enough to be worth it, here otherwise. Returns true when the worker took it.
pub fn free<T: FreeEffort + Send + 'static>(value: T, cause: Cause) -> bool {
    if !lazy_for(cause) || value.free_effort() <= LAZYFREE_THRESHOLD {
        return false; // dropped here
    }
    worker().is_some_and(|w| w.hand_off(Box::new(value), 1))
}

/// Frees a whole emptied keyspace holding `keys` keys (FLUSHALL/FLUSHDB ASYNC) on the worker,
/// or here when the queue is full. Returns true when the worker took it.
pub fn free_keyspace<T: Send + 'static>(contents: T, keys: usize) -> bool {
    if keys == 0 {
        return false;
    }
    worker().is_some_and(|w| w.hand_off(Box::new(contents), keys as u64))
}

/// Waits up to `max` for the worker to free everything pending; true when nothing is left.
/// Only for eviction's last resort (Redis' short wait in performEvictions when the victims it
/// handed over are all that can bring memory down); never on a command's normal path.
pub fn wait_idle(max: std::time::Duration) -> bool {
    let until = std::time::Instant::now() + max;
    while pending_objects() != 0 {
        if std::time::Instant::now() >= until {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_micros(20));
    }
    true
}

/// Objects handed to the worker and not freed yet (INFO `lazyfree_pending_objects`).
pub fn pending_objects() -> u64 {
    COUNTERS.pending.load(Ordering::Relaxed)
}

/// Objects the worker freed since start or CONFIG RESETSTAT (INFO `lazyfreed_objects`).
pub fn freed_objects() -> u64 {
    COUNTERS.freed.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT: `lazyfreed_objects` starts again from 0 (the pending count stays).
pub fn reset_stats() {
    COUNTERS.freed.store(0, Ordering::Relaxed);
}

thread_local! {
    /// Bytes the worker freed of what this thread handed it (leaked once per thread that
    /// hands anything over: the shards, and a few test threads).
    static FREED_FOR_ME: &'static AtomicI64 = Box::leak(Box::new(AtomicI64::new(0)));
}

/// This thread's net allocated bytes (`sys::alloc::thread_net_bytes`) less what the worker
/// freed for it. A shard measuring its own memory (its share of maxmemory) reads this: the
/// worker's frees count on the worker's thread, so without the credit a shard would go on
/// holding every big value it ever unlinked. One thread-local read and one relaxed load.
pub fn thread_net_bytes() -> i64 {
    crate::sys::alloc::thread_net_bytes() - FREED_FOR_ME.with(|c| c.load(Ordering::Relaxed))
}

/// The counters of the process' worker.
static COUNTERS: Counters = Counters {
    pending: AtomicU64::new(0),
    freed: AtomicU64::new(0),
};

/// The process' worker, started on first use; None when the thread could not be spawned
/// (values are then freed in place, and the failure is logged once).
fn worker() -> Option<&'static Worker> {
    static WORKER: OnceLock<Option<Worker>> = OnceLock::new();
    WORKER
        .get_or_init(|| match Worker::start(LAZYFREE_QUEUE_JOBS_MAX, &COUNTERS) {
            Ok(w) => Some(w),
            Err(e) => {
                crate::log::warning(&format!(
                    "Can't start the lazy free thread ({e}): big values are freed in place"
                ));
                None
            }
        })
        .as_ref()
}

/// One queued free: the value (or whole keyspace), how many objects it counts for, and the
/// handing thread's credit for the bytes it frees.
struct Job {
    contents: Box<dyn Send>,
    objects: u64,
    freed_for: &'static AtomicI64,
}

struct Counters {
    pending: AtomicU64,
    freed: AtomicU64,
}

/// The worker thread's sending end and the counters it shares with it.
struct Worker {
    tx: SyncSender<Job>,
    counters: &'static Counters,
}

impl Worker {
    /// Starts a worker whose queue holds at most `jobs_max` jobs, counting in `counters`.
    fn start(jobs_max: usize, counters: &'static Counters) -> std::io::Result<Worker> {
        let (tx, rx) = sync_channel::<Job>(jobs_max);
        std::thread::Builder::new()
            .name("slotd-lazyfree".into())
            .spawn(move || Self::run(rx, counters))?;
        Ok(Worker { tx, counters })
    }

    /// The worker's loop: drop each job, then count it. Ends when every sender is gone.
    fn run(rx: Receiver<Job>, counters: &Counters) {
        for job in rx {
            let before = crate::sys::alloc::thread_net_bytes();
            drop(job.contents);
            let freed_bytes = before - crate::sys::alloc::thread_net_bytes();
            job.freed_for.fetch_add(freed_bytes, Ordering::Relaxed);
            counters.pending.fetch_sub(job.objects, Ordering::Relaxed);
            counters.freed.fetch_add(job.objects, Ordering::Relaxed);
        }
    }

    /// Queues `contents` without waiting; when the queue is full it is dropped here.
    fn hand_off(&self, contents: Box<dyn Send>, objects: u64) -> bool {
        // Counted before the send, so the worker's subtraction can never run first.
        self.counters.pending.fetch_add(objects, Ordering::Relaxed);
        let freed_for = FREED_FOR_ME.with(|c| *c);
        match self.tx.try_send(Job {
            contents,
            objects,
            freed_for,
        }) {
            Ok(()) => true,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.counters.pending.fetch_sub(objects, Ordering::Relaxed);
                drop(job);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    /// Counters of a test's own worker (leaked: the worker thread outlives the test).
    fn test_counters() -> &'static Counters {
        Box::leak(Box::new(Counters {
            pending: AtomicU64::new(0),
            freed: AtomicU64::new(0),
        }))
    }

    /// Waits until the worker freed `n` objects and none are pending.
    fn wait_freed(w: &Worker, n: u64) {
        let until = Instant::now() + Duration::from_secs(10);
        while w.counters.freed.load(Ordering::Relaxed) < n
            || w.counters.pending.load(Ordering::Relaxed) != 0
        {
            assert!(Instant::now() < until, "the worker did not free its jobs");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Reports, when dropped, the thread it was dropped on; blocks in drop until released.
    struct Probe {
        dropped_on: std::sync::mpsc::Sender<std::thread::ThreadId>,
        gate: Option<Receiver<()>>,
    }
    impl Drop for Probe {
        fn drop(&mut self) {
            if let Some(g) = self.gate.take() {
                let _ = g.recv();
            }
            let _ = self.dropped_on.send(std::thread::current().id());
        }
    }

    #[test]
    fn effort_follows_redis_rules() {
        // Guards the threshold inputs: compact encodings count 1, tables their elements.
        let mut s = SetValue::new();
        for i in 0..100 {
            s.insert(format!("m{i}").as_bytes());
        }
        assert_eq!(s.free_effort(), 100);
        let mut ints = SetValue::new();
        for i in 0..100 {
            ints.insert(i.to_string().as_bytes());
        }
        assert_eq!(ints.encoding(), "intset");
        assert_eq!(ints.free_effort(), 1);
        let mut h = HashValue::new();
        h.set(b"f", b"v");
        assert_eq!(h.free_effort(), 1);
    }

    #[test]
    fn list_effort_estimates_quicklist_nodes() {
        // 100k one-byte strings take 3 bytes each in a listpack: 37 nodes of 8 KB, under the
        // threshold (Redis frees such a list in place); 100k 100-byte strings need ~1260.
        let small: Vec<&[u8]> = vec![b"x"; 100_000];
        assert_eq!(ListValue::from_slices(&small).free_effort(), 37);
        let big = vec![[b'y'; 100]; 100_000];
        let big: Vec<&[u8]> = big.iter().map(|b| &b[..]).collect();
        let nodes = ListValue::from_slices(&big).free_effort();
        assert_eq!(nodes, (100_000usize * 103).div_ceil(8192));
        assert_eq!(listpack_entry_bytes(b"127"), 2);
        assert_eq!(listpack_entry_bytes(b"-4096"), 3);
        assert_eq!(listpack_entry_bytes(b"01"), 4, "not canonical: a string");
        assert_eq!(listpack_entry_bytes(&[b'a'; 200]), 204);
    }

    #[test]
    fn worker_frees_off_thread_and_counts() {
        // Guards the hand-off: the drop runs on the worker, counters end at 0 pending.
        let w = Worker::start(4, test_counters()).unwrap();
        let (tx, rx) = channel();
        let probe = Probe {
            dropped_on: tx,
            gate: None,
        };
        assert!(w.hand_off(Box::new(probe), 3));
        let on = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_ne!(on, std::thread::current().id());
        wait_freed(&w, 3);
    }

    #[test]
    fn worker_frees_are_credited_to_the_handing_thread() {
        // Guards per-shard accounting: memory a thread hands over stops counting for it once
        // the worker freed it, though the worker's own counter took the frees.
        let w = Worker::start(4, test_counters()).unwrap();
        let big = vec![7u8; 4 << 20];
        let holding = thread_net_bytes();
        assert!(w.hand_off(Box::new(big), 1));
        wait_freed(&w, 1);
        let released = holding - thread_net_bytes();
        // Less this thread's one-time credit cell, allocated by the hand-off itself.
        assert!(released >= (4 << 20) - 64, "credited {released} bytes");
    }

    #[test]
    fn full_queue_frees_in_place() {
        // Guards the bound: with the worker stuck and its queue full, the caller frees.
        let w = Worker::start(1, test_counters()).unwrap();
        let (tx, rx) = channel();
        let (open, gate) = channel();
        let stuck = Probe {
            dropped_on: tx.clone(),
            gate: Some(gate),
        };
        assert!(w.hand_off(Box::new(stuck), 1));
        // Wait until the worker holds the stuck job, so the next one fills the queue.
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let queued = Box::new(Probe {
                dropped_on: tx.clone(),
                gate: None,
            });
            if w.hand_off(queued, 1) {
                break;
            }
            assert!(Instant::now() < until, "queue never drained to the worker");
            let _ = rx.try_recv();
        }
        let extra = Probe {
            dropped_on: tx,
            gate: None,
        };
        assert!(
            !w.hand_off(Box::new(extra), 1),
            "queue full: freed in place"
        );
        let here = std::thread::current().id();
        let freed_here = std::iter::from_fn(|| rx.try_recv().ok()).any(|t| t == here);
        assert!(freed_here);
        assert_eq!(w.counters.pending.load(Ordering::Relaxed), 2);
        open.send(()).unwrap();
        wait_freed(&w, 2);
    }
}
