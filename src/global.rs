//! Process-wide state shared by every shard: configuration, identity, counters that must be
//! global (client ids, connected clients), the cluster state handle and the latest slot map.
//! Everything here is thread-safe and off the per-command hot path.

pub mod backlog;
pub mod latency_events;
pub mod observe;
pub mod pubsub;
pub mod rdb;
pub mod repl;
pub mod slowlog;
pub mod tracking;

use crate::clock::{random_hex40, unix_ms};
use crate::cluster::slot_map::SlotMap;
use crate::cluster::state::ClusterState;
use crate::config::Config;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

pub type SlotMapSink = Box<dyn Fn(Arc<SlotMap>) + Send + Sync>;
pub type ShutdownHook = Box<dyn Fn() + Send + Sync>;
/// Sends a published message to the other nodes: (sharded, channel, message).
pub type BusPublish = Box<dyn Fn(bool, &[u8], &[u8]) + Send + Sync>;
/// Hands a message from another node to one core: (shard id, sharded, (channel, message)).
pub type PublishSink = Box<dyn Fn(usize, bool, Arc<(Vec<u8>, Vec<u8>)>) + Send + Sync>;

pub struct Global {
    pub config: RwLock<Config>,
    pub shards: usize,
    pub started: Instant,
    pub started_unix_ms: u64,
    /// 40 hex characters, new at every start (INFO server run_id).
    pub run_id: String,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave_unix: AtomicU64,
    pub shutting_down: AtomicBool,
    /// SHUTDOWN was asked for (the main thread may still wait for replicas).
    pub stop_requested: AtomicBool,
    /// SHUTDOWN NOW: skip the wait for replicas.
    pub shutdown_now: AtomicBool,
    /// SHUTDOWN ABORT during the wait for replicas.
    pub shutdown_abort: AtomicBool,
    /// Set by SHUTDOWN: how the process should stop (save or not) is in `shutdown_nosave`.
    pub shutdown_nosave: AtomicBool,
    /// The cluster state (cluster mode only).
    pub cluster: Option<Mutex<ClusterState>>,
    latest_map: RwLock<Arc<SlotMap>>,
    /// Delivers a new slot map to every shard (installed by the server at boot).
    pub map_sink: OnceLock<SlotMapSink>,
    /// Wakes the main thread to stop the server (installed by the server at boot).
    pub shutdown_hook: OnceLock<ShutdownHook>,
    /// Path of the config file slotd was started with (CONFIG REWRITE, INFO config_file).
    pub config_file: Option<std::path::PathBuf>,
    pub executable: String,
    /// AOF files and manifest (set up by `aof_load::boot`).
    pub aof: crate::aof_store::segment::AofGlobal,
    /// Last time (mono_unix_ms) the cluster bus loop ran; the main thread warns when it stalls.
    pub bus_heartbeat_ms: AtomicU64,
    /// Client writes wait until this unix ms (a master paused for a manual failover); 0 = no.
    pub writes_paused_until_ms: AtomicU64,
    /// CLIENT PAUSE: until when (unix ms; 0 = none) and whether every command waits
    /// (`shard::pause`).
    pub client_pause_until_ms: AtomicU64,
    pub client_pause_all: AtomicBool,
    /// MONITOR: monitors in the process (the dispatcher's one relaxed load) and per shard
    /// (where the event loops send each turn's lines; `shard::monitors`).
    pub monitors: AtomicUsize,
    pub monitors_per_shard: Box<[AtomicUsize]>,
    /// Pub/Sub subscriber counts per channel/pattern and shard.
    pub pubsub: RwLock<pubsub::PubSubIndex>,
    /// Cluster mode: PUBLISH goes to every other node and SPUBLISH to the other nodes of the
    /// slot's shard, after local delivery (installed by the cluster bus).
    pub bus_publish: OnceLock<BusPublish>,
    /// Delivers a message that came over the bus to one core's subscribers (installed by the
    /// server at boot; see `shard::pubsub::deliver_from_bus`).
    pub publish_sink: OnceLock<PublishSink>,
    /// Replication: ids, offsets, backlog, replicas, the link to our master.
    pub repl: repl::ReplGlobal,
    /// `client-output-buffer-limit` in force (stored at boot and by CONFIG SET).
    pub obuf: crate::config::obuf::Shared,
    /// maxmemory and the eviction settings in force (stored at boot and by CONFIG SET).
    pub maxmemory: crate::keyspace::evict::Shared,
    /// The script cache and function libraries, shared by every core.
    pub scripts: crate::lua::store::ScriptStore,
    /// Per shard: the script running there, if any (SCRIPT KILL, -BUSY).
    pub script_runs: Vec<crate::lua::RunControl>,
    /// `busy-reply-threshold` (alias `lua-time-limit`) in force, in milliseconds (stored at
    /// boot and by CONFIG SET; read once per script run).
    pub busy_reply_threshold_ms: AtomicU64,
    /// `hll-sparse-max-bytes` in force (stored at boot and by CONFIG SET; read by HyperLogLog
    /// writes that grow a sparse value).
    pub hll_sparse_max_bytes: AtomicU64,
    /// RDB saving: the BGSAVE in progress, the last save's outcome, MISCONF.
    pub rdb: rdb::RdbGlobal,
    /// `notify-keyspace-events` as the bits handlers test (0 when nothing is published;
    /// stored at boot and by CONFIG SET; read by every event site, `shard::notify`).
    pub keyspace_events: std::sync::atomic::AtomicU32,
    /// The slow log, the latency monitor and their settings (issue 17 part A).
    pub observe: observe::Observe,
    /// Client-side caching: node-wide counters, limit and BCAST prefixes.
    pub tracking: tracking::NodeTracking,
    /// DEBUG SET-ACTIVE-EXPIRE: the shards' cron expires keys (Redis'
    /// `active_expire_enabled`; lazy expiry on access is not affected).
    pub active_expire: AtomicBool,
}

impl Global {
    pub fn new(config: Config, shards: usize, cluster: Option<ClusterState>) -> Arc<Global> {
        let map = match &cluster {
            Some(c) => c.slot_map(),
            None => SlotMap::standalone(),
        };
        let config_file = config.config_file.clone();
        let obuf_limits = crate::config::obuf::configured(&config);
        let maxmemory = crate::keyspace::evict::Settings::from_config(&config);
        let busy_threshold = crate::config::busy_reply_threshold_ms(&config);
        let hll_sparse_max = crate::config::hll_sparse_max_bytes(&config);
        let keyspace_events = crate::config::keyspace_events::configured(&config);
        let observe = observe::Observe::new(&config);
        let tracking_max_keys = tracking::max_keys_of(&config);
        let aof = crate::aof_store::segment::AofGlobal::new(
            config.dir.join(&config.appenddirname),
            config.appendfilename.clone(),
            shards,
        );
        Arc::new(Global {
            config: RwLock::new(config),
            shards,
            started: Instant::now(),
            started_unix_ms: unix_ms(),
            run_id: random_hex40(),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            lastsave_unix: AtomicU64::new(unix_ms() / 1000),
            shutting_down: AtomicBool::new(false),
            stop_requested: AtomicBool::new(false),
            shutdown_now: AtomicBool::new(false),
            shutdown_abort: AtomicBool::new(false),
            shutdown_nosave: AtomicBool::new(false),
            cluster: cluster.map(Mutex::new),
            latest_map: RwLock::new(Arc::new(map)),
            map_sink: OnceLock::new(),
            shutdown_hook: OnceLock::new(),
            config_file,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            aof,
            writes_paused_until_ms: AtomicU64::new(0),
            client_pause_until_ms: AtomicU64::new(0),
            client_pause_all: AtomicBool::new(false),
            bus_heartbeat_ms: AtomicU64::new(0),
            monitors: AtomicUsize::new(0),
            monitors_per_shard: (0..shards).map(|_| AtomicUsize::new(0)).collect(),
            pubsub: RwLock::new(Default::default()),
            bus_publish: OnceLock::new(),
            publish_sink: OnceLock::new(),
            repl: repl::ReplGlobal::with_replica_limit(
                obuf_limits.get(crate::config::obuf::Class::Replica),
            ),
            obuf: crate::config::obuf::Shared::new(obuf_limits),
            maxmemory: crate::keyspace::evict::Shared::new(maxmemory, shards),
            scripts: Default::default(),
            script_runs: (0..shards).map(|_| Default::default()).collect(),
            busy_reply_threshold_ms: AtomicU64::new(busy_threshold),
            hll_sparse_max_bytes: AtomicU64::new(hll_sparse_max),
            rdb: rdb::RdbGlobal::new(shards),
            keyspace_events: std::sync::atomic::AtomicU32::new(keyspace_events),
            observe,
            tracking: tracking::NodeTracking::new(tracking_max_keys),
            active_expire: AtomicBool::new(true),
        })
    }

    /// Reads the configuration (a short read lock; never held across I/O).
    pub fn cfg<R>(&self, f: impl FnOnce(&Config) -> R) -> R {
        f(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn initial_slot_map(&self) -> Arc<SlotMap> {
        self.latest_map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes `map` the current slot map and sends it to every shard.
    pub fn publish_slot_map(&self, map: SlotMap) -> Arc<SlotMap> {
        let map = Arc::new(map);
        {
            // Publishers race once the cluster lock is released: keep the newest.
            let mut latest = self.latest_map.write().unwrap_or_else(|e| e.into_inner());
            if map.version >= latest.version {
                *latest = map.clone();
            }
        }
        if let Some(sink) = self.map_sink.get() {
            sink(map.clone());
        }
        map
    }

    pub fn new_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Asks the server to stop (SHUTDOWN). The main thread then waits for the replicas
    /// (`shutdown-timeout`) before it sets `shutting_down`.
    pub fn request_shutdown(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        if let Some(h) = self.shutdown_hook.get() {
            h();
        }
    }

    pub fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}
