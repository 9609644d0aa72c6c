//! Every limit and fixed size in slotd, in one place, with the assertions that relate them.
//! Defaults that a user can change through redis.conf live in `config`; these cannot.

/// The Redis release slotd mirrors: INFO `redis_version`, HELLO, and Lua's
/// `redis.REDIS_VERSION` (with `REDIS_VERSION_NUM`, 0x00MMmmpp as Redis encodes it).
pub const REDIS_VERSION: &str = "7.0.15";
pub const REDIS_VERSION_NUM: u32 = (7 << 16) | 15;

/// Lua instructions between two runs of the script hook (kill flag, busy threshold), as
/// Redis' LUA_MASKCOUNT hook.
pub const LUA_HOOK_INSTRUCTIONS: i32 = 100_000;
/// Redis 7.0 runs one extra Lua collector step (`lua_gc(LUA_GCSTEP, 50)`) every 50 script or
/// function runs (`LUA_GC_CYCLE_PERIOD`, one counter for both); slotd does it per shard VM.
pub const LUA_GC_CYCLE_PERIOD: u32 = 50;
/// Nesting depth at which converting a script's result to a reply stops (a table that contains
/// itself would otherwise recurse forever); the element becomes an error, as Redis' "reached
/// lua stack limit".
pub const LUA_REPLY_DEPTH_MAX: usize = 1000;
/// How long a library's top-level code may run during FUNCTION LOAD (Redis 7.0: 500 ms).
pub const LUA_LOAD_TIMEOUT_MS: u64 = 500;
/// The machine stack each shard's scripts run on (`lua::stack`; a guard page below it): Lua
/// 5.1 stops nesting C calls at 200 (LUAI_MAXCCALLS), which needs well under this; only the
/// pages a script touches are resident.
pub const LUA_MACHINE_STACK_BYTES: usize = 2 << 20;

/// Hash slots in a Redis Cluster.
pub const SLOT_COUNT: usize = 16384;

/// Longest inline command, or multibulk/bulk header, before a protocol error (Redis: 64 KiB).
pub const INLINE_MAX_BYTES: usize = 64 * 1024;
/// Most arguments in one multibulk request (Redis 7: INT_MAX; we bound it to keep the argument
/// index allocation bounded; 1M is far above any real request).
pub const MULTIBULK_MAX_ARGS: usize = 1024 * 1024;
/// Before a client has authenticated (when a password is required), Redis 7 accepts at most
/// this many arguments per multibulk and this many bytes per bulk, so a stranger cannot make
/// the server allocate for huge requests (CVE-2021-32675). Texts: "unauthenticated ...".
pub const PREAUTH_MULTIBULK_MAX_ARGS: i64 = 10;
pub const PREAUTH_BULK_MAX_BYTES: i64 = 16384;

/// Bytes of the query buffer quoted in a protocol error log line (Redis' PROTO_DUMP_LEN).
pub const PROTO_DUMP_BYTES: usize = 128;

/// Descriptors kept back from maxclients (Redis keeps 32, CONFIG_MIN_RESERVED_FDS). Counted
/// on a running node (/proc/PID/fd): standard streams (3), the log file, the pid file while
/// written, up to 16 listening sockets (`bind`), the replica link or a snapshot socket, and
/// the cluster bus executor (its listener, 3 io_uring rings, an eventfd, a pipe, nodes.conf
/// and its temporary file): about 30 at most, so Redis' 32.
pub const FDS_RESERVED_BASE: u64 = 32;
/// Per shard: its io_uring ring and mesh eventfd, its open AOF increment file, and during a
/// rewrite the new base, the new increment and the manifest being written (6), rounded up.
pub const FDS_RESERVED_PER_SHARD: u64 = 8;
/// Cluster mode: bus links use descriptors too. Like Redis, two per known peer count against
/// maxclients; this covers links the count misses (handshakes, links of forgotten nodes).
pub const FDS_RESERVED_CLUSTER: u64 = 64;
/// Step by which the open-file limit is lowered while searching for one the OS accepts.
pub const FDS_RLIMIT_STEP: u64 = 16;
/// An accept that fails for lack of descriptors or memory is not retried before the next
/// cron tick; its log line is written at most once per this period.
pub const ACCEPT_ERROR_LOG_PERIOD_MS: u64 = 1000;

/// Size of one provided receive buffer in a shard's io_uring buffer ring.
pub const RECV_BUF_BYTES: usize = 16 * 1024;
/// Provided receive buffers per shard ring (a power of two): 512 x 16 KiB is 8 MiB per shard,
/// faulted in at start (the kernel takes buffers in ring order, so all of them become
/// resident under load anyway). A receive that finds the ring empty ends with ENOBUFS and its
/// connection is re-armed once buffers come back. (128 buffers made the pub/sub output limit
/// test drop its subscriber late, some 10-30% past the limit: not understood yet.)
pub const RECV_BUF_COUNT: u16 = 512;
/// Submission queue entries per shard ring (the completion queue is 4x). Rings count against
/// RLIMIT_MEMLOCK for users without CAP_IPC_LOCK, so keep this modest.
pub const RING_ENTRIES: u32 = 1024;

/// Locked memory one shard's ring and buffer ring need when RLIMIT_MEMLOCK applies (SQEs,
/// CQEs, ring headers, the provided-buffer ring), rounded up.
pub const RING_LOCKED_BYTES_PER_SHARD: u64 = 192 * 1024;

/// When the unsent reply bytes of one connection exceed this, the connection stops reading
/// (and parsing) until the socket drains. Bounds memory per pipelining client.
pub const CONN_OUT_PAUSE_BYTES: usize = 4 * 1024 * 1024;
/// Output bytes `client-output-buffer-limit` leaves uncounted per client: Redis keeps the
/// first 16 KiB of replies in a fixed reply buffer outside the list its limits count, so a
/// small reply never trips even a tiny limit. CLIENT LIST shows them as `obl`.
pub const OBUF_UNCOUNTED_BYTES: usize = 16 * 1024;
/// Most commands parsed from one connection in one loop turn before others get a chance.
pub const CONN_CMDS_PER_TURN: usize = 4096;
/// Cross-shard requests of one connection that may wait for replies at once; reading pauses
/// beyond it.
pub const CONN_REMOTE_INFLIGHT_MAX: usize = 16 * 1024;

/// Time a shard spends on its mesh inbox per loop turn before serving its connections again
/// (a replica applying a full sync must still answer PING and INFO).
pub const INBOX_TURN_BUDGET_US: u64 = 2_000;
/// Mesh inbox capacity per shard, in messages (each message is a batch).
pub const MESH_INBOX_MESSAGES: usize = 4096;

/// Cron period of each shard (Redis `hz 10`).
pub const CRON_PERIOD_MS: u64 = 100;
/// Active expiry: keys sampled per round (as Redis), and the time budget per cron tick. Redis
/// allows 25% of the cron period (25 ms); we keep each cycle short for tail latency and, when
/// a cycle runs out of budget with expired keys left, run short extra cycles on later turns.
pub const EXPIRE_SAMPLE_KEYS: usize = 20;
pub const EXPIRE_CYCLE_BUDGET_US: u64 = 2_000;
pub const EXPIRE_FAST_BUDGET_US: u64 = 500;

/// Longest value a string may grow to with APPEND/SETRANGE when proto-max-bulk-len allows
/// more (Redis: 512 MiB checked against proto-max-bulk-len).
pub const STRING_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Smallest proto-max-bulk-len the configuration accepts (Redis' minimum): bit offsets within
/// it need no look at the configured value (bit commands skip the config lock then).
pub const PROTO_MAX_BULK_LEN_MIN: u64 = 1024 * 1024;

/// Most keys returned per slot step of one SCAN call beyond COUNT.
pub const SCAN_MAX_KEYS_PER_CALL: usize = 100_000;

/// LCS refuses inputs whose DP table would exceed this many cells (bounded memory).
pub const LCS_MAX_CELLS: u64 = 64 * 1024 * 1024;

/// AUTH compares passwords over whole blocks of this size (Redis' old fixed buffer was 512
/// bytes), so the time taken depends on neither the content nor the exact length.
pub const AUTH_COMPARE_BLOCK_BYTES: usize = 512;

/// Bytes of an argument echoed back inside an "unknown command" error.
pub const ERROR_ARG_ECHO_BYTES: usize = 128;

/// Key indexes of one command kept inline (no allocation) before they spill to the heap: the
/// common command names one to three keys.
pub const KEY_IDX_INLINE: usize = 4;

const _: () = assert!(RECV_BUF_COUNT.is_power_of_two());
const _: () = assert!(RECV_BUF_BYTES >= 4096);
const _: () = assert!(CONN_OUT_PAUSE_BYTES > RECV_BUF_BYTES);

/// Largest cluster bus message accepted (PUBLISH carries a whole Pub/Sub message; Redis has
/// no limit beyond memory). Longer length prefixes drop the link.
pub const BUS_MSG_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Unsent bytes a bus link may queue before it is dropped (Redis' cluster-link-sendbuf-limit
/// default is 0 = unlimited; we bound it).
pub const BUS_LINK_SENDBUF_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Most nodes a cluster state accepts (gossip about more is ignored).
pub const CLUSTER_NODES_MAX: usize = 1000;
/// Longest `cluster-announce-hostname` (Redis 7.0: "less than 256 characters").
pub const CLUSTER_HOSTNAME_MAX_BYTES: usize = 255;

/// A deleted value goes to the lazy-free worker only when freeing it costs more than this many
/// units of Redis' free effort (elements of a table, nodes of a list): Redis' LAZYFREE_THRESHOLD.
pub const LAZYFREE_THRESHOLD: usize = 64;
/// Frees the lazy-free worker may have queued; beyond it a value is freed in place, so the
/// memory awaiting the worker stays bounded and the shard never waits for it.
pub const LAZYFREE_QUEUE_JOBS_MAX: usize = 1024;
/// Bytes of one quicklist node in Redis 7.0 (list-max-listpack-size -2): the unit in which a
/// list's free effort is counted.
pub const LISTPACK_NODE_BYTES: usize = 8192;
/// Longest a shard waits for the lazy-free worker when eviction ran out of keys and only the
/// victims it handed over can bring memory under the limit (Redis waits the eviction time
/// limit, which `maxmemory-eviction-tenacity 100` makes unbounded).
pub const LAZYFREE_EVICTION_WAIT_MAX_US: u64 = 10_000;

/// Scripts a shard remembers as needing every shard (standalone, keys they did not declare on
/// other shards); the memory starts over past this many.
pub const SCRIPT_NEEDS_ALL_MAX: usize = 1024;

/// Redis 7.0's `stream-node-max-bytes` and `stream-node-max-entries` defaults: where a
/// stream's tail node stops taking entries.
pub const STREAM_NODE_MAX_BYTES_DEFAULT: u64 = 4096;
pub const STREAM_NODE_MAX_ENTRIES_DEFAULT: u64 = 100;

/// Streams: the LIMIT an approximate trim (`MAXLEN ~`, `MINID ~`) gets when none is given is
/// 100 times stream-node-max-entries, or this default when that product is 0 or above
/// `STREAM_APPROX_TRIM_LIMIT_MAX` (Redis' listpack size cap), as in Redis 7.0.
pub const STREAM_APPROX_TRIM_DEFAULT_LIMIT: i64 = 10_000;
pub const STREAM_APPROX_TRIM_LIMIT_MAX: i64 = 1 << 30;
/// XREAD/XREADGROUP: the COUNT a blocked read is served with when it gave none (Redis'
/// XREAD_BLOCKED_DEFAULT_COUNT), so a low ID does not answer a huge stream at once.
pub const STREAM_BLOCKED_READ_DEFAULT_COUNT: u64 = 1000;
/// XAUTOCLAIM with a COUNT from this one up answers Redis' "Insufficient memory ... COUNT too
/// high": Redis allocates 16 bytes per COUNT up front, and on x86-64 Linux that fails from
/// 2^47 bytes (the user address space) whatever the memory. slotd allocates nothing per COUNT.
pub const STREAM_AUTOCLAIM_COUNT_UNALLOCATABLE: u64 = 1 << 43;
/// XAUTOCLAIM examines at most COUNT times this many pending entries per call.
pub const STREAM_AUTOCLAIM_ATTEMPTS_FACTOR: u64 = 10;
/// XINFO STREAM FULL lists this many entries (and pending entries) when COUNT is not given.
pub const STREAM_INFO_FULL_DEFAULT_COUNT: u64 = 10;
/// A stream's node index grows by a 1/this share of its length when full (at least
/// `STREAM_INDEX_MIN_GROWTH` slots) rather than doubling, so its spare slots stay near that
/// share of the nodes; it gives memory back when its capacity passes this many times its length.
pub const STREAM_INDEX_GROWTH_DIVISOR: usize = 8;
pub const STREAM_INDEX_MIN_GROWTH: usize = 4;
pub const STREAM_INDEX_SHRINK_FACTOR: usize = 4;

/// A standalone script taking the other shards mid-run (a key it did not declare) waits at
/// most this long for them to park, then falls back to refusing the call: a safety bound, as
/// nothing it waits for should wait for it.
pub const SCRIPT_TAKE_PARK_MS: u64 = 1000;

/// The largest MULTI/EXEC block of a master's stream a replica collects to apply it as one
/// unit; a larger one breaks the link (as a protocol error does) rather than be applied in
/// parts.
pub const REPL_BLOCK_BYTES_MAX: usize = 256 << 20;

// ---- issue 17 part A: latency tracking, latency monitor, SLOWLOG ----

/// SLOWLOG: arguments kept per entry (the last says how many more there were), as Redis.
pub const SLOWLOG_ENTRY_MAX_ARGC: usize = 32;
/// SLOWLOG: bytes kept per argument (then "... (N more bytes)"), as Redis.
pub const SLOWLOG_ENTRY_MAX_STRING_BYTES: usize = 128;
/// SLOWLOG GET without a count: the newest this many entries.
pub const SLOWLOG_GET_DEFAULT_COUNT: usize = 10;
/// The latency monitor keeps this many one-second samples per event (Redis' LATENCY_TS_LEN).
pub const LATENCY_TS_LEN: usize = 160;
/// LATENCY GRAPH: columns of the graph (Redis' LATENCY_GRAPH_COLS).
pub const LATENCY_GRAPH_COLS: usize = 80;
/// Per-command latency histograms: lowest and highest value, in nanoseconds, and significant
/// digits (Redis' LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE / PRECISION).
pub const LATENCY_HISTOGRAM_MIN_NS: u64 = 1;
pub const LATENCY_HISTOGRAM_MAX_NS: u64 = 1_000_000_000;
pub const LATENCY_HISTOGRAM_SIGFIGS: u8 = 2;
/// LATENCY HISTOGRAM: the first bucket's upper bound, in nanoseconds; each next one doubles.
pub const LATENCY_HISTOGRAM_FIRST_BUCKET_NS: u64 = 1024;

// ---- issue 17 part B: MONITOR and client control ----

// ---- issue 17 part C: keyspace notifications ----

// ---- issue 17 part D: client-side caching ----

/// Keys one pass over `tracking-table-max-keys` may invalidate (Redis' first effort: 100).
pub const TRACKING_EVICT_EFFORT_KEYS: usize = 100;
/// An evicted tracking-table key is drawn from this many entries at the table's start.
pub const TRACKING_EVICT_PICK_KEYS: usize = 64;

// ---- issue 17 part E: CONFIG REWRITE, FAILOVER, Sentinel ----

/// Longest `REPLCONF ip-address` a master accepts (Redis' NET_HOST_STR_LEN - 1).
pub const REPLCONF_IP_BYTES_MAX: usize = 255;
/// Announced replica addresses kept between REPLCONF and PSYNC (oldest dropped first).
pub const PENDING_ANNOUNCED_IPS_MAX: usize = 1024;

// ---- issue 17 part F: INFO, service integration, DEBUG ----

/// Samples in each instantaneous-metric ring (Redis' STATS_METRIC_SAMPLES; one per cron tick).
pub const INSTANT_METRIC_SAMPLES: usize = 16;

// ---- issue 17 part G: cluster behaviours ----

// ---- issue 17 part H: RDB and replication leftovers ----
