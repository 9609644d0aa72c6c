//! The directive table: every Redis 7.0 configuration directive declared once, with its
//! aliases, value syntax, default (as CONFIG GET shows it), run-time mutability and what slotd
//! does with it. Nothing here reads files or applies values; `config::mod` does that from this
//! table, and docs/config-reference.md is generated from it (a test keeps the two equal).

/// How CONFIG SET may treat a parameter. Hidden ones are settable but only an exact name
/// (no pattern) finds them in CONFIG GET, as in Redis. `FileOnly` directives (rename-command,
/// user, loadmodule) exist only in files and on the command line; `Deprecated` ones are read
/// from files and ignored by Redis 7.0 itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    Mutable,
    Immutable,
    Protected,
    Hidden,
    FileOnly,
    Deprecated,
}

/// How a directive's value is checked before it is applied or stored.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Bool,
    /// An integer within Redis' inclusive range for this directive.
    Int(i64, i64),
    /// A memory amount (units as Redis) within Redis' inclusive range.
    Mem(u64, u64),
    Str,
    Enum(&'static [&'static str]),
    /// Its own syntax (save, client-output-buffer-limit, replicaof, ...): see `special`.
    Special,
    /// A typed field of `Config` (`set_typed` / `get_typed`).
    Typed,
    /// Not a CONFIG parameter (file-only and deprecated directives).
    Line,
}

/// What slotd does with a directive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Behaves as in Redis 7.0; the text says what it does.
    Enforced(&'static str),
    /// Accepted and shown, but nothing in slotd acts on it; the text says why ignoring it
    /// cannot change anything a user relies on (tuning, cosmetics, a feature slotd lacks
    /// entirely).
    NoEffect(&'static str),
    /// Only the default value is accepted; any other value fails start-up (naming the file
    /// and line) and CONFIG SET. The text is the reason given.
    Refused(&'static str),
}

#[derive(Debug)]
pub(super) struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub default: &'static str,
    pub kind: Kind,
    pub access: Access,
    pub status: Status,
}

const fn d(
    name: &'static str,
    default: &'static str,
    kind: Kind,
    access: Access,
    status: Status,
) -> Directive {
    Directive {
        name,
        aliases: &[],
        default,
        kind,
        access,
        status,
    }
}

use Access::{Deprecated, FileOnly, Hidden, Immutable, Mutable, Protected};
use Kind::{Bool, Enum, Int, Line, Mem, Special, Str, Typed};

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const LLONG: u64 = i64::MAX as u64;
use Status::{Enforced as On, NoEffect as Inert, Refused as No};

// Reasons shared by several directives.
const TLS: &str = "TLS is not implemented yet (plaintext only); only the default is accepted";
const ACL: &str = "ACL users are not implemented yet (only the default user and requirepass)";
const ENCODING: &str = "slotd's small encodings use Redis' default thresholds, which are fixed \
     in this version; only the default is accepted";
/// Redis' save points when no `save` line is given.
pub(crate) const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";
const CPU_LIST: &str = "thread affinity tuning: slotd has no such thread; pin shards with \
     server-cpus";
const NOT_YET: &str = "not implemented yet; only the default is accepted";

/// Every directive, sorted by name.
pub(super) static DIRECTIVES: &[Directive] = &[
    d("acl-pubsub-default", "resetchannels", Enum(&["allchannels", "resetchannels"]), Mutable,
        No(ACL)),
    d("aclfile", "", Str, Immutable, No(ACL)),
    d("acllog-max-len", "128", Int(0, i64::MAX), Mutable, No(ACL)),
    d("active-defrag-cycle-max", "25", Int(1, 99), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-defrag-cycle-min", "1", Int(1, 99), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-defrag-ignore-bytes", "104857600", Mem(1, LLONG), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-defrag-max-scan-fields", "1000", Int(1, i64::MAX), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-defrag-threshold-lower", "10", Int(0, 1000), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-defrag-threshold-upper", "100", Int(0, 1000), Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("active-expire-effort", "1", Int(1, 10), Mutable, Inert("CPU tuning of active expiry; slotd's expiry cycle has its own fixed time budget per shard")),
    d("activedefrag", "no", Bool, Mutable, Inert("allocator defragmentation tuning; slotd does no active defragmentation")),
    d("activerehashing", "yes", Bool, Mutable, Inert("CPU tuning; slotd's per-slot tables always grow incrementally")),
    d("always-show-logo", "no", Bool, Immutable, Inert("cosmetic: slotd prints no ASCII logo")),
    d("aof-disable-auto-gc", "no", Bool, Mutable, No(NOT_YET)),
    d("aof-load-truncated", "yes", Bool, Mutable, On("yes: a torn AOF tail is truncated with a warning at start; no: start-up fails")),
    d("aof-rewrite-incremental-fsync", "yes", Bool, Mutable, Inert("latency tuning of rewrite fsyncs; slotd's rewrite always fsyncs before it switches files")),
    d("aof-timestamp-enabled", "no", Bool, Mutable, No(NOT_YET)),
    d("aof-use-rdb-preamble", "yes", Bool, Mutable, On("yes: each shard's rewritten AOF base is an RDB file (`<appendfilename>.s<shard>.<gen>.base.rdb`); no: RESP commands (docs/aof.md)")),
    d("aof_rewrite_cpulist", "", Str, Immutable, Inert(CPU_LIST)),
    d("appenddirname", "appendonlydir", Typed, Immutable, On("AOF directory inside `dir` (a name, not a path)")),
    d("appendfilename", "appendonly.aof", Typed, Immutable, On("AOF base file name (a name, not a path)")),
    d("appendfsync", "everysec", Typed, Mutable, On("AOF fsync policy: `always`, `everysec` or `no`")),
    d("appendonly", "no", Typed, Mutable, On("keep an append-only file and replay it at start")),
    d("auto-aof-rewrite-min-size", "67108864", Mem(0, LLONG), Mutable, On("smallest AOF size that triggers an automatic rewrite")),
    d("auto-aof-rewrite-percentage", "100", Int(0, INT_MAX), Mutable, On("growth over the last rewrite that triggers an automatic rewrite; 0 off")),
    d("bgsave_cpulist", "", Str, Immutable, Inert(CPU_LIST)),
    d("bind", "* -::*", Typed, Immutable, On("addresses the client port (and the cluster bus) listen on; a leading `-` makes one optional")),
    d("bind-source-addr", "", Str, Mutable, No(NOT_YET)),
    d("bio_cpulist", "", Str, Immutable, Inert(CPU_LIST)),
    d("busy-reply-threshold", "5000", Int(0, i64::MAX), Mutable, On("milliseconds a script or function runs before other commands for its shard get -BUSY and SCRIPT KILL / FUNCTION KILL can stop it")).aliased(&["lua-time-limit"]),
    d("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Special, Mutable, On("output limits per client class (normal, replica, pubsub): a client past the hard limit, or past the soft limit for the given seconds, is closed")),
    d("client-query-buffer-limit", "1073741824", Typed, Mutable, On("largest unparsed input per client (>= 1mb)")),
    d("cluster-allow-pubsubshard-when-down", "yes", Bool, Mutable, No(NOT_YET)),
    d("cluster-allow-reads-when-down", "no", Typed, Mutable, On("keep serving reads while the cluster is down")),
    d("cluster-allow-replica-migration", "yes", Bool, Mutable, On("replicas may migrate to orphaned masters")),
    d("cluster-announce-bus-port", "0", Typed, Mutable, On("bus port advertised; 0 for the real bus port")),
    d("cluster-announce-hostname", "", Special, Mutable, On("hostname advertised to other nodes (letters, digits, `-` and `.`)")),
    d("cluster-announce-ip", "", Typed, Mutable, On("address advertised to other nodes; empty to detect")),
    d("cluster-announce-port", "0", Typed, Mutable, On("client port advertised; 0 for `port`")),
    d("cluster-announce-tls-port", "0", Int(0, 65535), Mutable, No(TLS)),
    d("cluster-config-file", "nodes.conf", Typed, Immutable, On("the node's own cluster state file, written by slotd")),
    d("cluster-enabled", "no", Typed, Immutable, On("run as a Redis Cluster node")),
    d("cluster-link-sendbuf-limit", "0", Mem(0, u64::MAX), Mutable, No("slotd bounds every bus link's queue with a fixed limit (src/constants.rs); only the default is accepted")),
    d("cluster-migration-barrier", "1", Int(0, INT_MAX), Mutable, On("replicas a master keeps before one may migrate")),
    d("cluster-node-timeout", "15000", Typed, Mutable, On("milliseconds of silence before a node is suspected failed")),
    d("cluster-port", "0", Typed, Immutable, On("cluster bus port; 0 means `port` + 10000")),
    d("cluster-preferred-endpoint-type", "ip", Enum(&["ip", "hostname", "unknown-endpoint"]), Mutable, On("endpoint shown in redirects, CLUSTER SLOTS and SHARDS")),
    d("cluster-replica-no-failover", "no", Bool, Mutable, On("this replica never starts an automatic failover")).aliased(&["cluster-slave-no-failover"]),
    d("cluster-replica-validity-factor", "10", Int(0, INT_MAX), Mutable, On("how stale a replica may be and still fail over; 0 always")).aliased(&["cluster-slave-validity-factor"]),
    d("cluster-require-full-coverage", "yes", Typed, Mutable, On("refuse queries while any slot is uncovered")),
    d("crash-log-enabled", "yes", Bool, Mutable, Inert("diagnostics: slotd stops with its own panic message and writes no Redis crash report")),
    d("crash-memcheck-enabled", "yes", Bool, Mutable, Inert("diagnostics: slotd runs no memory test after a crash")),
    d("daemonize", "no", Typed, Immutable, On("run in the background")),
    d("databases", "16", Typed, Immutable, On("SELECT 0..N-1, MOVE, SWAPDB, COPY ... DB; in cluster mode too (as Valkey 9, where Redis 7 allows database 0 only); a database costs nothing until first used")),
    d("dbfilename", "dump.rdb", Str, Protected, On("the RDB file in `dir` that SAVE, BGSAVE, the save points and the save at shutdown write (atomically: temp file, fsync, rename)")),
    d("dir", "./", Typed, Immutable, On("working directory; must exist. CONFIG GET shows it absolute")),
    d("disable-thp", "yes", Bool, Immutable, Inert("kernel tuning: slotd forks no child, so transparent huge pages cost it no copy-on-write latency")),
    d("dynamic-hz", "yes", Bool, Mutable, Inert("CPU tuning; slotd's cron period is fixed")),
    d("enable-debug-command", "no", Enum(&["no", "yes", "local"]), Immutable, On("DEBUG is refused (`no`), allowed (`yes`), or allowed from loopback connections only (`local`)")),
    d("enable-module-command", "no", Enum(&["no", "yes", "local"]), Immutable, Inert("slotd has no MODULE command and loads no modules, whatever this says")),
    d("enable-protected-configs", "no", Enum(&["no", "yes", "local"]), Immutable, No(NOT_YET)),
    d("hash-max-listpack-entries", "512", Int(0, i64::MAX), Mutable, No(ENCODING)).aliased(&["hash-max-ziplist-entries"]),
    d("hash-max-listpack-value", "64", Mem(0, LLONG), Mutable, No(ENCODING)).aliased(&["hash-max-ziplist-value"]),
    d("hll-sparse-max-bytes", "3000", Mem(0, LLONG), Mutable, On("a sparse HyperLogLog that would grow past this many bytes (header included) turns dense, as in Redis")),
    d("hz", "10", Typed, Mutable, Inert("CPU tuning: slotd's cron runs every 100 ms whatever this says; INFO shows the value")),
    d("ignore-warnings", "", Str, Mutable, Inert("silences Redis start-up warnings that slotd never prints")),
    d("io-threads", "1", Int(1, 128), Immutable, Inert("CPU tuning: slotd's threads are set with server-threads")),
    d("io-threads-do-reads", "no", Bool, Immutable, Inert("CPU tuning: slotd's threads are set with server-threads")),
    d("jemalloc-bg-thread", "yes", Bool, Mutable, On("yes: jemalloc purges freed pages from its own background thread, as in Redis (at start and on CONFIG SET); no: the shard threads purge as they allocate")),
    d("key-load-delay", "0", Int(INT_MIN, INT_MAX), Hidden, Inert("a Redis test knob (delay while loading)")),
    d("latency-monitor-threshold", "0", Int(0, i64::MAX), Mutable, On("milliseconds at or above which LATENCY records an event (command, fast-command, ...); 0 turns the monitor off")),
    d("latency-tracking", "yes", Bool, Mutable, On("per-command latency histograms for INFO latencystats and LATENCY HISTOGRAM")),
    d("latency-tracking-info-percentiles", "50 99 99.9", Special, Mutable, On("the percentiles INFO latencystats shows per command")),
    d("lazyfree-lazy-eviction", "no", Bool, Mutable, On("keys evicted for maxmemory free their big values on the lazy-free thread")),
    d("lazyfree-lazy-expire", "no", Bool, Mutable, On("expired keys free their big values on the lazy-free thread")),
    d("lazyfree-lazy-server-del", "no", Bool, Mutable, On("values deleted or replaced by a write (SET or RENAME over a key, RESTORE REPLACE, ...) are freed on the lazy-free thread when big")),
    d("lazyfree-lazy-user-del", "no", Bool, Mutable, On("DEL frees big values on the lazy-free thread, as UNLINK")),
    d("lazyfree-lazy-user-flush", "no", Bool, Mutable, On("FLUSHALL/FLUSHDB without SYNC or ASYNC flush asynchronously")),
    d("lfu-decay-time", "1", Int(0, INT_MAX), Mutable, On("minutes for an LFU counter to lose one (0: never decays)")),
    d("lfu-log-factor", "10", Int(0, INT_MAX), Mutable, On("how slowly the LFU counter grows with hits (Redis' logarithmic counter)")),
    d("list-compress-depth", "0", Int(0, INT_MAX), Mutable, No(ENCODING)),
    d("list-max-listpack-size", "-2", Int(INT_MIN, INT_MAX), Mutable, No(ENCODING)).aliased(&["list-max-ziplist-size"]),
    d("list-max-ziplist-entries", "", Line, Deprecated, Inert("read and ignored by Redis 7.0 too")),
    d("list-max-ziplist-value", "", Line, Deprecated, Inert("read and ignored by Redis 7.0 too")),
    d("loading-process-events-interval-bytes", "2097152", Int(1024, INT_MAX), Hidden, Inert("a Redis test knob (event processing while loading); slotd's shards keep serving while they load")),
    d("loadmodule", "", Line, FileOnly, No("slotd loads no Redis modules")),
    d("logfile", "", Typed, Immutable, On("log file; empty logs to standard output")),
    d("loglevel", "notice", Typed, Mutable, On("`debug`, `verbose`, `notice` or `warning`")),
    d("lua-replicate-commands", "", Line, Deprecated, Inert("read and ignored by Redis 7.0 too")),
    d("masterauth", "", Str, Mutable, On("password a replica sends (AUTH) to its master before it syncs")),
    d("masteruser", "", Str, Mutable, On("user name a replica sends with masterauth")),
    d("maxclients", "10000", Typed, Mutable, On("most simultaneous clients; fitted to the open-file limit at start")),
    d("maxmemory", "0", Mem(0, u64::MAX), Mutable, On("memory limit (used_memory); over it keys are evicted by maxmemory-policy, each shard from its own databases, or deny-oom commands get -OOM; CONFIG SET evicts down in time-sliced steps")),
    d("maxmemory-clients", "0", Special, Mutable, No("client memory eviction is not implemented yet; only 0 is accepted")),
    d("maxmemory-eviction-tenacity", "10", Int(0, 100), Mutable, On("time one eviction call may take before the rest continues in later loop turns")),
    d("maxmemory-policy", "noeviction", Enum(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), Mutable, On("which keys maxmemory evicts: the eight Redis policies")),
    d("maxmemory-samples", "5", Int(1, INT_MAX), Mutable, On("keys sampled per database for each refill of the 16-key eviction pool")),
    d("min-replicas-max-lag", "10", Special, Mutable, On("seconds since a replica's last ACK for it to count as good")).aliased(&["min-slaves-max-lag"]),
    d("min-replicas-to-write", "0", Special, Mutable, On("writes are refused (NOREPLICAS) with fewer good replicas than this")).aliased(&["min-slaves-to-write"]),
    d("no-appendfsync-on-rewrite", "no", Bool, Mutable, No("slotd always fsyncs during a rewrite; only no is accepted")),
    d("notify-keyspace-events", "", Special, Mutable, On("keyspace notifications: the classes K E g $ l s h z x e t m d n A, published as Redis 7.0 does to subscribers on any core (node-local in cluster mode)")),
    d("oom-score-adj", "no", Enum(&["no", "yes", "relative", "absolute"]), Mutable, No("slotd does not set its oom_score_adj yet (which process the kernel kills first under memory pressure); only no is accepted")),
    d("oom-score-adj-values", "0 200 800", Special, Mutable, Inert("used only with oom-score-adj, which is refused")),
    d("pidfile", "", Typed, Immutable, On("where to write the process id; empty for none")),
    d("port", "6379", Typed, Immutable, On("client TCP port (0..65535)")),
    d("proc-title-template", "{title} {listen-addr} {server-mode}", Str, Mutable, Inert("cosmetic: slotd does not rewrite its process title")),
    d("propagation-error-behavior", "ignore", Enum(&["ignore", "panic", "panic-on-replicas"]), Mutable, No(NOT_YET)),
    d("protected-mode", "yes", Bool, Mutable, On("without a password and without an explicit bind, only loopback clients are served")),
    d("proto-max-bulk-len", "536870912", Typed, Mutable, On("largest bulk string in a request (>= 1mb; at most 4gb - 1 in slotd, which stores key lengths in 32 bits)")),
    d("rdb-del-sync-files", "no", Bool, Mutable, No("a slotd replica keeps the RDB file of its last full sync as dbfilename (as Redis); deleting it afterwards is not implemented yet, so only no is accepted")),
    d("rdb-key-save-delay", "0", Int(INT_MIN, INT_MAX), Hidden, On("a test knob: microseconds the BGSAVE writer thread sleeps per chunk written (Redis: per key); the shards never sleep")),
    d("rdb-save-incremental-fsync", "yes", Bool, Mutable, Inert("disk tuning: slotd's RDB writer fsyncs once, before the rename")),
    d("rdbchecksum", "yes", Bool, Immutable, On("RDB files end with the CRC-64 of their bytes (`no`: 0, which readers skip)")),
    d("rdbcompression", "yes", Bool, Mutable, On("LZF-compress long strings in RDB files and DUMP payloads")),
    d("rename-command", "", Line, FileOnly, On("renames a command, or removes it with \"\"")),
    d("repl-backlog-size", "1048576", Mem(1, LLONG), Mutable, On("bytes of the replication stream kept for partial resyncs")),
    d("repl-backlog-ttl", "3600", Int(0, i64::MAX), Mutable, Inert("memory tuning: the backlog stays allocated (bounded by repl-backlog-size) after the last replica leaves")),
    d("repl-disable-tcp-nodelay", "no", Bool, Mutable, Inert("network tuning of the replication stream")),
    d("repl-diskless-load", "disabled", Enum(&["disabled", "on-empty-db", "swapdb"]), Mutable, Inert("a slotd replica always receives the payload into a file in `dir` while it keeps serving its old data, and flushes and loads it in one step only once it is complete and its checksum is right")),
    d("repl-diskless-sync", "yes", Bool, Mutable, On("yes: a full sync streams the RDB payload EOF-marked to replicas with capa eof as the shards make it; no (and replicas without capa eof, plain SYNC): the payload is spooled to a temp file in dir and sent with its length")),
    d("repl-diskless-sync-delay", "5", Int(0, INT_MAX), Mutable, Inert("a slotd master starts each full sync at once: its snapshot needs no fork, so waiting for more replicas to share one saves nothing")),
    d("repl-diskless-sync-max-replicas", "0", Int(0, INT_MAX), Mutable, Inert("a slotd master starts each full sync at once: its snapshot needs no fork, so waiting for more replicas to share one saves nothing")),
    d("repl-ping-replica-period", "10", Int(1, INT_MAX), Mutable, On("seconds between the master's pings to its replicas")).aliased(&["repl-ping-slave-period"]),
    d("repl-timeout", "60", Int(1, INT_MAX), Mutable, On("seconds of silence before a replication link is dropped")),
    d("replica-announce-ip", "", Str, Mutable, On("address a replica announces to its master (REPLCONF ip-address), shown in the master's INFO replication and ROLE; empty: the connection's address")).aliased(&["slave-announce-ip"]),
    d("replica-announce-port", "0", Int(0, 65535), Mutable, On("port a replica announces to its master (REPLCONF listening-port); 0: `port`")).aliased(&["slave-announce-port"]),
    d("replica-announced", "yes", Bool, Mutable, On("whether Sentinel-facing listings show this replica")),
    d("replica-ignore-disk-write-errors", "no", Bool, Mutable, No(NOT_YET)),
    d("replica-ignore-maxmemory", "yes", Bool, Mutable, On("a replica does not evict (its master's DELs do); `no` makes it evict on its own")).aliased(&["slave-ignore-maxmemory"]),
    d("replica-lazy-flush", "no", Bool, Mutable, On("a replica empties its data set for a full sync on the lazy-free thread")).aliased(&["slave-lazy-flush"]),
    d("replica-priority", "100", Int(0, INT_MAX), Mutable, On("shown in INFO replication, where Sentinel reads it to choose the replica to promote (0: never)")).aliased(&["slave-priority"]),
    d("replica-read-only", "yes", Bool, Mutable, On("a replica refuses writes from clients")).aliased(&["slave-read-only"]),
    d("replica-serve-stale-data", "yes", Bool, Mutable, On("no: while a replica's link to its master is down, commands without the `stale` flag (all but INFO, REPLICAOF, PING, CONFIG, ...) answer -MASTERDOWN")).aliased(&["slave-serve-stale-data"]),
    d("replicaof", "", Special, Immutable, On("replicate this master (standalone mode)")).aliased(&["slaveof"]),
    d("requirepass", "", Typed, Mutable, On("password for AUTH; empty for none")),
    d("sanitize-dump-payload", "no", Enum(&["no", "yes", "clients"]), Mutable, Inert("slotd decodes and checks every RESTORE payload completely before it accepts it, as `yes` does")),
    d("save", DEFAULT_SAVE, Special, Mutable, On("save points: BGSAVE after SECONDS when at least CHANGES writes happened; with any point, SHUTDOWN and SIGTERM/SIGINT save too (\"\" for none)")),
    d("server-cpus", "", Typed, Immutable, On("slotd only: CPUs to pin shards to, e.g. `0-3,6`; empty for no pinning")),
    d("server-threads", "1", Typed, Immutable, On("slotd only: shard threads, 1..256 or `auto` (one per `server-cpus` entry)")),
    d("server_cpulist", "", Str, Immutable, Inert(CPU_LIST)),
    d("set-max-intset-entries", "512", Int(0, i64::MAX), Mutable, No(ENCODING)),
    d("set-proc-title", "yes", Bool, Immutable, Inert("cosmetic: slotd does not rewrite its process title")),
    d("shutdown-on-sigint", "default", Special, Mutable, No("slotd takes no snapshot at shutdown; only default is accepted")),
    d("shutdown-on-sigterm", "default", Special, Mutable, No("slotd takes no snapshot at shutdown; only default is accepted")),
    d("shutdown-timeout", "10", Int(0, INT_MAX), Mutable, On("seconds a master with replicas waits at SHUTDOWN, SIGTERM or SIGINT (not SHUTDOWN NOW) for them to acknowledge everything, writes paused; 0 does not wait")),
    d("slowlog-log-slower-than", "10000", Int(-1, i64::MAX), Mutable, On("microseconds in the handler at or above which a command enters SLOWLOG (-1: off, 0: every command)")),
    d("slowlog-max-len", "128", Int(0, i64::MAX), Mutable, On("entries SLOWLOG keeps (the oldest go first)")),
    d("socket-mark-id", "0", Int(0, 4294967295), Immutable, No(NOT_YET)),
    d("stop-writes-on-bgsave-error", "yes", Bool, Mutable, On("after a failed BGSAVE (with save points), writes and PING answer -MISCONF until a save succeeds")),
    d("stream-node-max-bytes", "4096", Mem(0, LLONG), Mutable, On("bytes at which a stream's tail node is full and XADD starts a new one (0: no limit)")),
    d("stream-node-max-entries", "100", Int(0, i64::MAX), Mutable, On("entries (deleted ones included) at which a stream's tail node is full (0: no limit)")),
    d("supervised", "no", Enum(&["upstart", "systemd", "auto", "no"]), Immutable, On("systemd: STATUS= and READY=1 (STOPPING=1 at shutdown) to $NOTIFY_SOCKET; upstart: SIGSTOP when ready; auto picks from the environment")),
    d("syslog-enabled", "no", Bool, Immutable, No("slotd does not log to syslog; only no is accepted")),
    d("syslog-facility", "local0", Enum(&["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]), Immutable, Inert("used only with syslog-enabled, which is refused")),
    d("syslog-ident", "redis", Str, Immutable, Inert("used only with syslog-enabled, which is refused")),
    d("tcp-backlog", "511", Typed, Immutable, On("listen queue length for pending connections")),
    d("tcp-keepalive", "300", Typed, Mutable, On("seconds between keepalive probes; 0 off")),
    d("timeout", "0", Typed, Mutable, On("idle seconds before a client is closed; 0 never")),
    d("tls-auth-clients", "yes", Enum(&["no", "yes", "optional"]), Mutable, No(TLS)),
    d("tls-ca-cert-dir", "", Str, Mutable, No(TLS)),
    d("tls-ca-cert-file", "", Str, Mutable, No(TLS)),
    d("tls-cert-file", "", Str, Mutable, No(TLS)),
    d("tls-ciphers", "", Str, Mutable, No(TLS)),
    d("tls-ciphersuites", "", Str, Mutable, No(TLS)),
    d("tls-client-cert-file", "", Str, Mutable, No(TLS)),
    d("tls-client-key-file", "", Str, Mutable, No(TLS)),
    d("tls-client-key-file-pass", "", Str, Mutable, No(TLS)),
    d("tls-cluster", "no", Bool, Mutable, No(TLS)),
    d("tls-dh-params-file", "", Str, Mutable, No(TLS)),
    d("tls-key-file", "", Str, Mutable, No(TLS)),
    d("tls-key-file-pass", "", Str, Mutable, No(TLS)),
    d("tls-port", "0", Int(0, 65535), Mutable, No(TLS)),
    d("tls-prefer-server-ciphers", "no", Bool, Mutable, No(TLS)),
    d("tls-protocols", "", Str, Mutable, No(TLS)),
    d("tls-replication", "no", Bool, Mutable, No(TLS)),
    d("tls-session-cache-size", "20480", Int(0, INT_MAX), Mutable, No(TLS)),
    d("tls-session-cache-timeout", "300", Int(0, INT_MAX), Mutable, No(TLS)),
    d("tls-session-caching", "yes", Bool, Mutable, No(TLS)),
    d("tracking-table-max-keys", "1000000", Int(0, i64::MAX), Mutable, On("most keys the client-side caching tables hold node-wide (0: no limit); past it keys are invalidated at random, as Redis evicts them")),
    d("unixsocket", "", Str, Immutable, On("also accept clients on this unix socket (relative to dir); removed at exit")),
    d("unixsocketperm", "0", Special, Immutable, On("octal permissions of the unixsocket file; 0 keeps the umask's")),
    d("user", "", Line, FileOnly, No(ACL)),
    d("zset-max-listpack-entries", "128", Int(0, i64::MAX), Mutable, No(ENCODING)).aliased(&["zset-max-ziplist-entries"]),
    d("zset-max-listpack-value", "64", Mem(0, LLONG), Mutable, No(ENCODING)).aliased(&["zset-max-ziplist-value"]),
];

impl Directive {
    const fn aliased(self, aliases: &'static [&'static str]) -> Directive {
        Directive { aliases, ..self }
    }

    /// A CONFIG parameter (CONFIG GET/SET know it), as opposed to a file-only line.
    pub(super) fn is_param(&self) -> bool {
        !matches!(self.access, Access::FileOnly | Access::Deprecated)
    }

    #[cfg(test)]
    pub(super) fn status_word(&self) -> &'static str {
        match self.status {
            Status::Enforced(_) => "enforced",
            Status::NoEffect(_) => "no effect",
            Status::Refused(_) => "refused",
        }
    }

    pub(super) fn note(&self) -> &'static str {
        match self.status {
            Status::Enforced(t) | Status::NoEffect(t) | Status::Refused(t) => t,
        }
    }
}

/// The directive named `name` (canonical or alias, lower case).
pub(super) fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name == name || d.aliases.contains(&name))
}

/// docs/config-reference.md's table, generated from `DIRECTIVES`.
#[cfg(test)]
pub fn reference_table() -> String {
    let mut s = String::from(
        "| Directive | Default | Runtime | Status | What slotd does |\n|---|---|---|---|---|\n",
    );
    for d in DIRECTIVES {
        let mut name = format!("`{}`", d.name);
        for a in d.aliases {
            name.push_str(&format!(" (`{a}`)"));
        }
        let default = match d.kind {
            Kind::Line => String::from("-"),
            _ if d.default.is_empty() => String::from("`\"\"`"),
            _ => format!("`{}`", d.default),
        };
        let runtime = match d.access {
            Access::Mutable | Access::Hidden => "yes",
            Access::Immutable | Access::Protected => "no",
            Access::FileOnly | Access::Deprecated => "file only",
        };
        s.push_str(&format!(
            "| {name} | {default} | {runtime} | {} | {} |\n",
            d.status_word(),
            d.note().replace('|', "\\|")
        ));
    }
    s
}
