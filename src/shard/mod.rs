//! A shard: the state one core owns (keyspace, slot map copy, clients, counters). Commands run
//! against it synchronously. The event loop that feeds it lives in `net`; cross-shard access
//! goes through `Peers` (implemented by `mesh`), which only admin and multi-key paths use.

pub mod blocking;
pub mod clients;
pub mod dbs;
pub mod evict;
pub mod latency;
pub mod metrics;
pub mod monitors;
pub mod notify;
pub mod parked;
pub mod pause;
pub mod peers;
pub mod pubsub;
pub mod repl;
pub mod snapshot;
pub mod suspended;
pub mod tracking;

// The keyspace is its own module below the shard (the AOF and DUMP writers read it); these
// paths stay for the code above.
pub use crate::keyspace::{db, value};

pub use clients::{Client, Clients, MultiState, WatchState};
pub use parked::Parked;

use crate::cluster::slot_map::SlotMap;
use crate::command_id::CommandId;
use crate::global::Global;
use crate::mesh::BusyPark;
use hashbrown::HashMap;
use std::sync::Arc;

/// Per-command counters for INFO commandstats.
#[derive(Default, Debug, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    /// Time spent in the handler, in nanoseconds (INFO shows microseconds: summing whole
    /// microseconds per call would round every sub-microsecond command to 0).
    pub nsec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Per-command counters indexed by command id; a command never called has no entry here (or
/// an all-zero one).
#[derive(Default, Debug, Clone)]
pub struct CmdStats(Vec<CmdStat>);

impl CmdStats {
    /// The counters of `id`, created on first use (the array grows once to the table's size).
    pub fn entry(&mut self, id: CommandId) -> &mut CmdStat {
        let i = id.index();
        if i >= self.0.len() {
            self.0.resize(i + 1, CmdStat::default());
        }
        &mut self.0[i]
    }

    /// The commands counted so far (called or rejected at least once), by id.
    pub fn iter(&self) -> impl Iterator<Item = (CommandId, &CmdStat)> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, s)| s.calls + s.rejected_calls > 0)
            .map(|(i, s)| (CommandId(i as u16), s))
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The counters of `id`, if it was counted.
    pub fn get(&self, id: CommandId) -> Option<&CmdStat> {
        self.0
            .get(id.index())
            .filter(|s| s.calls + s.rejected_calls > 0)
    }

    /// Adds every counter of `other` to this one.
    pub fn add(&mut self, other: &CmdStats) {
        for (id, st) in other.iter() {
            let t = self.entry(id);
            t.calls += st.calls;
            t.nsec += st.nsec;
            t.rejected_calls += st.rejected_calls;
            t.failed_calls += st.failed_calls;
        }
    }
}

/// Counters of one shard; INFO sums them over shards.
#[derive(Default, Debug, Clone)]
pub struct ShardStats {
    pub commands_processed: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub error_replies: u64,
    /// Reads and writes of client sockets (INFO total_reads/writes_processed).
    pub reads_processed: u64,
    pub writes_processed: u64,
    /// INFO's instantaneous rates, sampled by the cron.
    pub instant: metrics::InstantMetrics,
    pub cmd: CmdStats,
    /// Errors by prefix (ERR, WRONGTYPE, ...) for INFO errorstats.
    pub errors: HashMap<String, u64>,
}

/// Access to the other shards of this process. Every call parks the target shard's thread
/// for its duration, so it is for rare paths (fan-out admin commands, cross-shard multi-key
/// commands in standalone mode), never for the per-key hot path.
pub trait Peers {
    /// Runs `f` with every other shard in `ids` parked. `f` gets this shard back and the view
    /// of the parked ones. Under `BusyPark::Refuse`, `f` does not run when one of them runs a
    /// script past busy-reply-threshold.
    fn with_parked(
        &self,
        me: &mut Shard,
        ids: &[usize],
        mode: crate::mesh::BusyPark,
        f: &mut dyn FnMut(&mut Shard, Parked<'_>),
    ) -> Result<(), BusyShard>;

    /// Parks the other shards of `ids` until the returned park is dropped (for a section that
    /// outlives one call: a script over several shards, suspended between slices).
    fn park(
        &self,
        me: &mut Shard,
        ids: &[usize],
        mode: crate::mesh::BusyPark,
    ) -> Result<peers::Held, BusyShard>;

    /// For a script mid-run on shard `me`: parks the other shards of `ids` unless the park
    /// token is taken (never waits for it) or one of them is busy.
    fn try_park(&self, global: &Global, me: usize, ids: &[usize]) -> Option<peers::Held>;

    /// For a script mid-run on shard `me` that holds `held` (and so the token): parks the
    /// shards of `ids` it does not hold yet; false when one is busy or does not park in time.
    fn park_more(&self, global: &Global, me: usize, held: &mut peers::Held, ids: &[usize]) -> bool;
}

/// A section refused because shard `id` runs a script past busy-reply-threshold (a function
/// when `function`): the command gets Redis' -BUSY (`reply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusyShard {
    pub id: usize,
    pub function: bool,
}

/// Redis' refusal while an EVAL script is past the threshold.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// Redis' refusal while a function (FCALL) is past the threshold.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

impl BusyShard {
    /// Redis' -BUSY, naming the kill command that fits the script.
    pub fn reply(self) -> crate::resp::ReplyError {
        crate::resp::ReplyError::other(if self.function {
            BUSY_FUNCTION
        } else {
            BUSY_EVAL
        })
    }
}

pub struct Shard {
    pub id: usize,
    pub shards: usize,
    /// Database 0; the others are in `dbs` (`db_at`, `each_db`).
    pub db: Db,
    /// Databases 1.. (`databases N`), created on first use.
    pub dbs: dbs::Dbs,
    /// The database the command being run selected (set by the dispatcher; `Exec::db`).
    pub sel: u32,
    /// `databases` (fixed at start).
    pub databases: u32,
    /// The shard's one random generator: key sampling, SPOP/SRANDMEMBER, HRANDFIELD,
    /// ZRANDMEMBER, RANDOMKEY.
    pub rng: crate::rng::Rng,
    /// Changes to the data set since start (Redis' `server.dirty`).
    pub dirty: u64,
    pub global: Arc<Global>,
    pub slot_map: Arc<SlotMap>,
    pub clients: Clients,
    pub stats: ShardStats,
    /// Per-command latency histograms (`latency-tracking`).
    pub latency: latency::Histograms,
    /// Whose command runs now (for the slow log's client address and name).
    pub running_for: latency::RunningFor,
    pub peers: Option<Box<dyn Peers>>,
    /// Writes of this shard in deterministic form, consumed by the AOF (and replication).
    pub journal: crate::aof_store::journal::Journal,
    pub aof: crate::aof_store::segment::AofShard,
    /// WATCHed keys of this shard and the flags of the clients watching them.
    /// Keys are `dbs::tagged` (database number, then the key).
    pub watchers: HashMap<Box<[u8]>, Vec<std::sync::Weak<std::sync::atomic::AtomicBool>>>,
    /// Scratch for `dbs::tagged` keys (reused, so touching a key does not allocate).
    pub tag_buf: Vec<u8>,
    /// Pub/Sub subscriptions of this shard's clients.
    pub subs: pubsub::ShardSubs,
    /// MONITOR: this shard's monitors and the lines of this turn.
    pub monitor: monitors::ShardMonitors,
    /// Clients blocked on keys of this shard.
    pub blocked: blocking::Blocked,
    /// Set by a blocking handler that found nothing to serve (taken by the caller).
    pub block_request: Option<blocking::BlockRequest>,
    /// A script run that yielded past busy-reply-threshold, left by the dispatcher for the
    /// event loop to continue (`net` script loop); taken at once.
    pub suspended: Option<Box<suspended::Suspended>>,
    /// Blocking commands answer at once (inside EXEC, and in the AOF loader).
    pub no_block: bool,
    /// The connection of the command being planned has replies ahead of it that are not in
    /// the buffer its handler writes to (a remote reply still waiting, a send in flight, or
    /// the command was held back behind unsent output). Set by the event loop before each
    /// command (one plain store); SYNC/PSYNC refuse to start then.
    pub replies_ahead: bool,
    /// Replication: snapshots in progress, read-only replica flag, WAIT waiters.
    pub repl: repl::ShardRepl,
    /// maxmemory: this shard's memory estimate, eviction pool and counters.
    pub evict: evict::ShardEvict,
    /// This shard's Lua interpreter, created by the first script run here.
    pub lua: Option<Box<crate::lua::vm::LuaVm>>,
    /// Scripts (by SHA; functions by the SHA of their name) that reached keys of shards they
    /// did not declare: in standalone mode with several shards they run holding every shard.
    pub script_needs_all: hashbrown::HashSet<crate::lua::store::Sha>,
    /// Scratch for the command line of a script's `redis.call` (bytes, argument ranges),
    /// reused so a call does not allocate.
    pub script_args: (Vec<u8>, Vec<(u32, u32)>),
    /// `global` again, taken by a script run for its duration (a borrow beside the shard
    /// without a reference count change per run); None while a run has it.
    pub script_global: Option<Arc<Global>>,
    /// Client-side caching: this shard's tracking table and pending invalidations.
    pub tracking: tracking::ShardTracking,
    /// Inside a parked section: the parked peers (indexed by id, null for this shard and for
    /// shards not parked), so fan-out calls made there reuse them.
    parked: Option<Vec<*mut Shard>>,
}

use db::Db;

impl Shard {
    pub fn new(id: usize, shards: usize, global: Arc<Global>) -> Self {
        Shard {
            id,
            shards,
            db: Db::new(id, shards),
            dbs: Default::default(),
            sel: 0,
            databases: global.cfg(|c| c.databases),
            rng: crate::rng::Rng::for_shard(id),
            dirty: 0,
            slot_map: global.initial_slot_map(),
            script_global: Some(global.clone()),
            global,
            clients: Clients::default(),
            stats: ShardStats::default(),
            latency: Default::default(),
            running_for: Default::default(),
            peers: None,
            journal: Default::default(),
            aof: crate::aof_store::segment::AofShard::new(id, Default::default(), String::new()),
            watchers: HashMap::new(),
            tag_buf: Vec::new(),
            subs: Default::default(),
            monitor: Default::default(),
            blocked: Default::default(),
            block_request: None,
            suspended: None,
            no_block: false,
            replies_ahead: false,
            repl: Default::default(),
            evict: Default::default(),
            lua: None,
            script_needs_all: Default::default(),
            script_args: Default::default(),
            tracking: Default::default(),
            parked: None,
        }
    }

    /// Deletes every key of `slot` (a slot this node lost to a newer owner), journaling each
    /// delete so the AOF agrees. Slots of other shards are ignored.
    pub fn drop_slot_keys(&mut self, slot: u16) -> usize {
        if !self.db.owns_slot(slot) {
            return 0;
        }
        let now_ms = crate::clock::unix_ms();
        let ids: Vec<u32> = self.each_db().map(|(i, _)| i).collect();
        let mut total = 0;
        for i in ids {
            let keys = self.db_at(i).keys_in_slot(slot, usize::MAX);
            self.journal.select(i);
            for k in &keys {
                if let Some(e) = self.db_at(i).remove(k, now_ms) {
                    crate::lazyfree::free(e, crate::lazyfree::Cause::ServerDel);
                }
                self.journal.record(&[b"DEL", k]);
                self.touch_watched(i, k);
            }
            total += keys.len();
        }
        self.dirty += total as u64;
        total
    }

    /// Runs `f` on every shard (this one included), in shard order, and collects the results;
    /// a shard busy in a script is waited for (internal work, never a client's command).
    pub fn call_all<R>(&mut self, mut f: impl FnMut(&mut Shard) -> R) -> Vec<R> {
        let ids: Vec<usize> = (0..self.shards).collect();
        self.call_many(&ids, BusyPark::Wait, &mut f)
            .expect("a waiting section is never refused")
    }

    /// Runs `f` on shard `id` and returns its result (waiting for a busy script, as `call_all`).
    pub fn call_on<R>(&mut self, id: usize, mut f: impl FnMut(&mut Shard) -> R) -> R {
        self.call_many(&[id], BusyPark::Wait, &mut f)
            .expect("a waiting section is never refused")
            .pop()
            .expect("one result per shard")
    }

    /// `call_all` for a client's command: refused at once, without running `f` anywhere, when
    /// a shard runs a script past busy-reply-threshold (Redis answers -BUSY then).
    pub fn try_call_all<R>(
        &mut self,
        mut f: impl FnMut(&mut Shard) -> R,
    ) -> Result<Vec<R>, crate::resp::ReplyError> {
        let ids: Vec<usize> = (0..self.shards).collect();
        self.call_many(&ids, BusyPark::Refuse, &mut f)
            .map_err(BusyShard::reply)
    }

    /// `call_on` for a client's command, refused as `try_call_all`.
    pub fn try_call_on<R>(
        &mut self,
        id: usize,
        mut f: impl FnMut(&mut Shard) -> R,
    ) -> Result<R, crate::resp::ReplyError> {
        let mut r = self
            .call_many(&[id], BusyPark::Refuse, &mut f)
            .map_err(BusyShard::reply)?;
        Ok(r.pop().expect("one result per shard"))
    }

    fn call_many<R>(
        &mut self,
        ids: &[usize],
        mode: BusyPark,
        f: &mut impl FnMut(&mut Shard) -> R,
    ) -> Result<Vec<R>, BusyShard> {
        if let Some(parked) = self.parked.clone() {
            // Already inside a parked section (e.g. EXEC): use the parked peers directly.
            return Ok(ids
                .iter()
                .map(|&i| {
                    if i == self.id {
                        return f(self);
                    }
                    // SAFETY: the entries were handed to this shard by the section it runs in
                    // (`with_parked` below), which keeps them parked until it returns, and
                    // the section's own view is not in use while this shard runs.
                    let mut view = unsafe { Parked::new(&parked) };
                    let sh = view.get(i);
                    f(sh.unwrap_or_else(|| panic!("shard {i} is not parked in this section")))
                })
                .collect());
        }
        if ids.iter().all(|&i| i == self.id) || self.peers.is_none() {
            assert!(
                ids.iter().all(|&i| i == self.id),
                "no peers in a one-shard context"
            );
            return Ok(ids.iter().map(|_| f(self)).collect());
        }
        let peers = self.peers.take().expect("peers checked above");
        let mut out = Vec::with_capacity(ids.len());
        let r = peers.with_parked(self, ids, mode, &mut |me, mut parked| {
            for &i in ids {
                if i == me.id {
                    out.push(f(me));
                } else {
                    let sh = parked
                        .get(i)
                        .expect("with_parked parks every shard asked for");
                    out.push(f(sh));
                }
            }
        });
        self.peers = Some(peers);
        r.map(|()| out)
    }

    /// Runs `f` with the given shards parked (for cross-shard multi-key commands); a shard
    /// busy in a script is waited for.
    pub fn with_parked(&mut self, ids: &[usize], f: &mut dyn FnMut(&mut Shard, Parked<'_>)) {
        self.park_section(ids, BusyPark::Wait, f)
            .expect("a waiting section is never refused");
    }

    /// `with_parked` for a client's command: `f` does not run when one of the shards runs a
    /// script past busy-reply-threshold (the command gets -BUSY).
    pub fn try_with_parked(
        &mut self,
        ids: &[usize],
        f: &mut dyn FnMut(&mut Shard, Parked<'_>),
    ) -> Result<(), crate::resp::ReplyError> {
        self.park_section(ids, BusyPark::Refuse, f)
            .map_err(BusyShard::reply)
    }

    fn park_section(
        &mut self,
        ids: &[usize],
        mode: BusyPark,
        f: &mut dyn FnMut(&mut Shard, Parked<'_>),
    ) -> Result<(), BusyShard> {
        if let Some(parked) = self.parked.clone() {
            // Nested inside a section: every shard asked for must be parked already.
            let me = self.id;
            assert!(
                ids.iter().all(|&i| i == me || !parked[i].is_null()),
                "shard not parked"
            );
            // SAFETY: as in `call_many`: the enclosing section keeps these parked and does not
            // use its own view while this shard runs.
            f(self, unsafe { Parked::new(&parked) });
            return Ok(());
        }
        let peers = self.peers.take().expect("multi-shard section needs peers");
        let r = peers.with_parked(self, ids, mode, &mut |me, parked| {
            me.parked = Some(parked.as_ptrs().to_vec());
            f(me, parked);
            me.parked = None;
        });
        self.peers = Some(peers);
        r
    }

    /// Parks the other shards of `ids` for a script run (outside any section), refused at
    /// once when one runs a script past busy-reply-threshold; `parked` names them until the
    /// run calls `set_parked(None)` and drops the park.
    pub fn hold(&mut self, ids: &[usize]) -> Result<peers::Held, crate::resp::ReplyError> {
        assert!(
            self.parked.is_none(),
            "a run holds shards from outside any section"
        );
        let peers = self.peers.take().expect("multi-shard run needs peers");
        let r = peers.park(self, ids, BusyPark::Refuse);
        self.peers = Some(peers);
        let held = r.map_err(BusyShard::reply)?;
        self.parked = Some(held.ptrs().to_vec());
        Ok(held)
    }

    /// A script mid-run took the other shards (`Peers::try_park`): fan-out calls it makes
    /// reach them through `parked`, as inside a section; `None` when the park ends.
    pub fn set_parked(&mut self, ptrs: Option<Vec<*mut Shard>>) {
        self.parked = ptrs;
    }

    /// FLUSHALL/FLUSHDB: every watched key of this shard is touched.
    pub fn touch_all_watched(&mut self) {
        for (_, list) in self.watchers.drain() {
            for w in list {
                if let Some(flag) = w.upgrade() {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
    }

    /// Counts one call of command `id` for INFO commandstats.
    pub fn count_call(&mut self, id: CommandId, nsec: u64, failed: bool, rejected: bool) {
        let s = self.stats.cmd.entry(id);
        if rejected {
            s.rejected_calls += 1;
            return;
        }
        s.calls += 1;
        s.nsec += nsec;
        if failed {
            s.failed_calls += 1;
        }
        if self
            .global
            .observe
            .tracking
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.latency.record(id, nsec);
        }
    }
}
