//! Boot and shutdown: configuration, daemonizing, logging, pid file, locked-memory check,
//! listening sockets, cluster state, the shard threads and their readiness barrier, signals.

use crate::cluster::state::ClusterState;
use crate::config::{self, Config};
use crate::global::Global;
use crate::log;
use crate::mesh::{Mesh, MeshMsg};
use crate::net::reactor::{Reactor, ShardSetup};
use crate::net::socket;
use crate::shard::Shard;
use crate::sys::{MaskHow, SigSet};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs slotd with command-line arguments (without the program name); returns the exit code.
pub fn main_with_args(args: &[String]) -> i32 {
    let loaded = match config::load_checked(args, Some(crate::commands::exists)) {
        Ok(l) => l,
        Err(e) if e == config::VERSION_REQUESTED => {
            println!("slotd v={VERSION} (Redis 7.0.15 compatible) bits=64");
            return 0;
        }
        Err(e) if e == config::HELP_REQUESTED => {
            println!("{}", config::help_text());
            return 0;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match boot(loaded.config, loaded.warnings) {
        Ok(code) => code,
        Err(e) => {
            log::warning(&e);
            eprintln!("{e}");
            1
        }
    }
}

/// Logs a panic (a broken invariant) before the process aborts, so the log says why.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        log::warning(&format!(
            "=== slotd BUG REPORT: panic in thread {thread}: {info}"
        ));
        default(info);
    }));
}

fn boot(mut cfg: Config, warnings: Vec<String>) -> Result<i32, String> {
    install_panic_hook();
    // As Redis, which changes directory while it reads `dir`: every relative path (logfile,
    // pidfile, unixsocket, data files) is inside `dir`, wherever it appears in the file.
    std::env::set_current_dir(&cfg.dir)
        .map_err(|e| format!("Can't chdir to '{}': {e}", cfg.dir.display()))?;
    let supervision = crate::sys::notify::start(&cfg.stored("supervised", "no"));
    // A supervised server stays in the foreground, whatever `daemonize` says (as Redis).
    if cfg.daemonize && supervision.who == crate::sys::notify::Supervisor::No {
        daemonize()?;
    }
    log::init(cfg.loglevel, &cfg.logfile)?;
    for (warn, line) in &supervision.log {
        if *warn {
            log::warning(line);
        } else {
            log::notice(line);
        }
    }
    log::notice("oO0OoO0OoO0Oo slotd is starting oO0OoO0OoO0Oo");
    log::notice(&format!(
        "slotd version={VERSION}, bits=64, pid={}, just started",
        std::process::id()
    ));
    match &cfg.config_file {
        Some(p) => log::notice(&format!("Configuration loaded from {}", p.display())),
        None => log::warning("Warning: no config file specified, using the default config."),
    }
    for w in &warnings {
        log::notice(w);
    }
    if !cfg.appendonly && !crate::commands::persistence::has_save_points(&cfg) {
        log::notice(
            "No persistence: appendonly is off and no save points are set, so the data set is \
             lost at restart unless SAVE or BGSAVE writes it.",
        );
    }
    crate::commands::install_renames(&cfg.renames);
    if let Some(p) = &cfg.pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            log::warning(&format!("Failed to write PID file: {e}"));
        }
    }
    let cpus = plan_cpus(&cfg)?;
    let shards = shard_count(&cfg, &cpus);
    check_memlock(shards)?;
    let reserve = crate::config::fdlimit::reserved_fds(shards, cfg.cluster_enabled);
    cfg.maxclients = crate::config::fdlimit::fit(cfg.maxclients, reserve)?;
    let unix_path = unix_socket_path(&cfg);
    let listeners = bind_all(&cfg, unix_path.as_deref())?;
    let bus_fds = if cfg.cluster_enabled {
        Some(bind_bus(&cfg)?)
    } else {
        None
    };
    let cluster = if cfg.cluster_enabled {
        Some(ClusterState::load_or_create(&cfg)?)
    } else {
        None
    };
    let mode = if cfg.cluster_enabled {
        "cluster"
    } else {
        "standalone"
    };
    log::notice(&format!(
        "Running mode={mode}, port={}, server-threads={shards}.",
        cfg.port
    ));
    let pidfile = cfg.pidfile.clone();
    crate::lazyfree::configure(&cfg);
    crate::config::stream_nodes::configure(&cfg);
    let global = Global::new(cfg, shards, cluster);
    let code = run(
        global,
        shards,
        listeners,
        cpus,
        bus_fds,
        unix_path.as_deref(),
    )?;
    if let Some(p) = pidfile {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(p);
    }
    if let Some(p) = unix_path {
        log::notice("Removing the unix socket file.");
        let _ = std::fs::remove_file(p);
    }
    log::notice("slotd is now ready to exit, bye bye...");
    Ok(code)
}

/// Forks into the background like Redis: the parent exits, the child starts a new session
/// and points stdio at /dev/null. Must run before any thread exists.
fn daemonize() -> Result<(), String> {
    crate::sys::daemonize().map_err(|e| format!("fork: {e}"))
}

/// CPUs this process may run on (sched_getaffinity), as `core_affinity` sees them.
fn allowed_cpus() -> Vec<usize> {
    core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// The pinning plan: empty unless `server-cpus` asks for it; every CPU must be allowed.
fn plan_cpus(cfg: &Config) -> Result<Vec<usize>, String> {
    let Some(want) = &cfg.server_cpus else {
        return Ok(Vec::new());
    };
    let allowed = allowed_cpus();
    for c in want {
        if !allowed.contains(c) {
            return Err(format!(
                "server-cpus lists CPU {c}, which this process may not use (allowed: {allowed:?}; \
                 check taskset/cgroup cpusets)"
            ));
        }
    }
    Ok(want.clone())
}

fn shard_count(cfg: &Config, cpus: &[usize]) -> usize {
    match cfg.server_threads {
        0 if !cpus.is_empty() => cpus.len(),
        0 => allowed_cpus().len().max(1),
        n => n,
    }
}

fn has_cap_ipc_lock() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 14) != 0)
}

/// io_uring rings are charged to RLIMIT_MEMLOCK (per user) without CAP_IPC_LOCK. Raise the soft
/// limit to the hard one when that helps, and refuse to start with a clear message when even
/// that is too small.
fn check_memlock(shards: usize) -> Result<(), String> {
    if has_cap_ipc_lock() {
        return Ok(());
    }
    // A failed getrlimit reads as (0, 0), as the zeroed struct did before.
    let (mut soft, hard) = crate::sys::getrlimit(libc::RLIMIT_MEMLOCK).unwrap_or((0, 0));
    if soft < hard && crate::sys::setrlimit(libc::RLIMIT_MEMLOCK, hard, hard).is_ok() {
        soft = hard;
    }
    let per_shard = crate::constants::RING_LOCKED_BYTES_PER_SHARD;
    let need = shards as u64 * per_shard;
    if soft != libc::RLIM_INFINITY && soft < need {
        return Err(format!(
            "The locked-memory limit (ulimit -l) is {} KiB but {shards} shard(s) need about {} KiB \
             for their io_uring rings. Raise it (ulimit -l / LimitMEMLOCK= in systemd / \
             memlock in limits.conf), grant CAP_IPC_LOCK, or lower server-threads.",
            soft / 1024,
            need / 1024
        ));
    }
    Ok(())
}

/// Binds every `bind` address like Redis: a `-` prefix marks an optional address that may be
/// unavailable; any other failure aborts start-up. `port 0` means no TCP listener; the
/// `unixsocket` listener joins the list. Listening nowhere at all is fatal, as in Redis.
fn bind_all(cfg: &Config, unix: Option<&Path>) -> Result<Vec<RawFd>, String> {
    let mut fds = if cfg.port != 0 {
        bind_port(cfg, cfg.port, "tcp")?
    } else {
        Vec::new()
    };
    if let Some(path) = unix {
        let perm = u32::from_str_radix(&cfg.stored("unixsocketperm", "0"), 8).unwrap_or(0);
        match socket::listen_unix(path, perm, cfg.tcp_backlog) {
            Ok(fd) => fds.push(fd),
            Err(e) => {
                close_all(&fds);
                return Err(format!("Failed opening Unix socket: {e}"));
            }
        }
    }
    if fds.is_empty() {
        return Err("Configured to not listen anywhere, exiting.".into());
    }
    Ok(fds)
}

/// The `unixsocket` path (relative to `dir`, the working directory by then), if set.
fn unix_socket_path(cfg: &Config) -> Option<PathBuf> {
    let p = cfg.stored("unixsocket", "");
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// Sends one sd_notify message when systemd supervises; a failure is logged, not fatal.
fn notify_supervisor(msg: &str) {
    if let Err(e) = crate::sys::notify::send(msg) {
        log::warning(&format!("systemd supervision error: {e}"));
    }
}

/// Binds `port` on every `bind` address; `kind` names the port in the fatal error ("tcp" or
/// "cluster", as Redis' listenToPort callers do).
fn bind_port(cfg: &Config, port: u16, kind: &str) -> Result<Vec<RawFd>, String> {
    let mut fds = Vec::new();
    for b in &cfg.bind {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        match socket::listen(host, port, cfg.tcp_backlog) {
            Ok(fd) => fds.push(fd),
            Err(e) if optional => {
                log::verbose(&format!("Skipping optional address {host}:{port}: {e}"))
            }
            Err(e) => {
                log::warning(&format!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {e}"
                ));
                close_all(&fds);
                return Err(format!(
                    "Failed listening on port {port} ({kind}), aborting."
                ));
            }
        }
    }
    if fds.is_empty() {
        return Err(format!(
            "Failed listening on port {port} ({kind}), aborting."
        ));
    }
    Ok(fds)
}

fn close_all(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY: listening sockets this function opened and nobody else holds.
        let _ = unsafe { crate::sys::close(fd) };
    }
}

/// Reserves the cluster bus port now, as Redis does at start (a busy bus port is fatal). The
/// bus listens on the same `bind` addresses as the client port: it has no authentication, so
/// it must never be reachable where clients are not.
fn bind_bus(cfg: &Config) -> Result<Vec<RawFd>, String> {
    if cfg.port > 55535 && cfg.cluster_port == 0 {
        return Err(format!(
            "Redis port number too high. Cluster communication port is 10,000 port numbers \
             higher than your Redis port. Your Redis port number must be 55535 or less \
             (port {} given).",
            cfg.port
        ));
    }
    let port = if cfg.cluster_port != 0 {
        cfg.cluster_port
    } else {
        cfg.port + 10000
    };
    bind_port(cfg, port, "cluster")
}

/// Blocks the stop signals in the calling thread (and every thread it spawns later), so the
/// main thread alone takes them with sigtimedwait.
fn block_signals() -> SigSet {
    let set = SigSet::of(&[libc::SIGTERM, libc::SIGINT]);
    let _ = crate::sys::thread_mask(MaskHow::Block, &set);
    let _ = crate::sys::ignore_signal(libc::SIGPIPE);
    crate::bus::block_kick_signal();
    set
}

fn run(
    global: Arc<Global>,
    shards: usize,
    listeners: Vec<RawFd>,
    cpus: Vec<usize>,
    bus_fds: Option<Vec<RawFd>>,
    unix_path: Option<&Path>,
) -> Result<i32, String> {
    let sigset = block_signals();
    // The state tier reaches these drivers only through the hooks installed here.
    crate::replication::install_link_spawner(crate::repl_link::replica::spawn);
    crate::aof::install_reloader(crate::rdb_load::reload::reload_for_debug);
    crate::replication::master::install_sender_spawner(crate::repl_link::sender::spawn);
    crate::rdb_save::install();
    let mesh = Mesh::new(shards).map_err(|e| format!("eventfd: {e}"))?;
    {
        let m = mesh.clone();
        let _ = global
            .map_sink
            .set(Box::new(move |map| m.broadcast_slot_map(map)));
        let m = mesh.clone();
        let _ = global.publish_sink.set(Box::new(move |to, sharded, msg| {
            let msg = if sharded {
                MeshMsg::ShardPublish(msg)
            } else {
                MeshMsg::Publish(msg)
            };
            m.send_blocking(to, msg);
        }));
    }
    let _ = global.repl.mesh.set(mesh.clone());
    let mut states: Vec<Shard> = (0..shards)
        .map(|id| Shard::new(id, shards, global.clone()))
        .collect();
    global.cfg(crate::commands::server::apply_jemalloc_bg_thread);
    // Redis' used_memory_startup: the server's own structures, before any data loads.
    crate::sys::alloc::mark_startup();
    notify_supervisor("STATUS=Redis is loading...\n");
    crate::aof_load::boot(&global, &mut states)?;
    crate::repl_link::resume::restore_at_start(&global);
    if global.cluster.is_some() {
        check_slots_after_load(&global, &mut states)?;
    }
    let (ready_tx, ready_rx) = mpsc::channel::<Result<usize, String>>();
    let mut handles = Vec::new();
    let mut listeners = Some(listeners);
    for (id, state) in states.into_iter().enumerate() {
        let m = mesh.clone();
        let tx = ready_tx.clone();
        let l = if id == 0 {
            listeners.take().unwrap_or_default()
        } else {
            Vec::new()
        };
        let cpu = (!cpus.is_empty()).then(|| cpus[id % cpus.len()]);
        let state = SendShard(state);
        let h = std::thread::Builder::new()
            .name(format!("slotd-shard-{id}"))
            .spawn(move || shard_thread(state, m, l, cpu, tx))
            .map_err(|e| format!("spawning shard {id}: {e}"))?;
        handles.push(h);
    }
    drop(ready_tx);
    for _ in 0..shards {
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                stop_shards(&mesh, shards);
                return Err(e);
            }
            Err(_) => {
                stop_shards(&mesh, shards);
                return Err("a shard did not start within 10 s".into());
            }
        }
    }
    log::notice("Server initialized");
    let bus = match bus_fds {
        Some(fds) => match crate::bus::spawn(global.clone(), fds) {
            Ok(h) => Some(h),
            Err(e) => {
                stop_shards(&mesh, shards);
                return Err(e);
            }
        },
        None => None,
    };
    log::notice("Ready to accept connections tcp");
    if let Some(path) = &unix_path {
        log::notice(&format!(
            "The server is now ready to accept connections at {}",
            path.display()
        ));
    }
    let status = if global.cfg(|c| c.stored("replicaof", "").is_empty()) {
        "Ready to accept connections"
    } else {
        "Ready to accept connections in read-only mode. Waiting for MASTER <-> REPLICA sync"
    };
    if let Err(e) = crate::sys::notify::ready(status) {
        log::warning(&format!("Failed to tell the supervisor we are ready: {e}"));
    }
    start_configured_replication(&global);
    let reason = loop {
        let reason = wait_for_stop(&global, &sigset);
        global.stop_requested.store(true, Ordering::SeqCst);
        log::warning(&format!("{reason}, scheduling shutdown..."));
        notify_supervisor("STOPPING=1\n");
        log::notice("User requested shutdown...");
        match crate::repl_link::shutdown::wait_for_replicas(&global) {
            crate::repl_link::shutdown::Outcome::Aborted => {
                global.stop_requested.store(false, Ordering::SeqCst);
                global.shutdown_now.store(false, Ordering::SeqCst);
            }
            // A signal with save points saves first (SHUTDOWN saved in its command); a failed
            // save keeps the server running, as Redis.
            _ if reason != "Received SHUTDOWN" && !save_at_signal(&global) => {
                global.stop_requested.store(false, Ordering::SeqCst);
                global.shutdown_now.store(false, Ordering::SeqCst);
            }
            _ => break reason,
        }
    };
    crate::rdb_save::background::stop_at_exit(&global);
    global.shutting_down.store(true, Ordering::SeqCst);
    if let Some(h) = bus {
        // The loop notices the shutdown after its next 10 ms timer, whose wake-up glommio
        // can lose (bus::kick): keep waking it until it has returned.
        let deadline = std::time::Instant::now() + Duration::from_millis(BUS_STOP_WAIT_MS);
        while !crate::bus::finished() && std::time::Instant::now() < deadline {
            crate::bus::kick();
            std::thread::sleep(Duration::from_millis(20));
        }
        if h.join().is_err() {
            log::warning("The cluster bus thread failed");
        }
    }
    log::verbose(&format!("Stopping ({reason})"));
    let frozen = crate::repl_link::resume::freeze_for_shutdown(&global);
    // A shard inside a script that cannot yield sees Shutdown only once the script stops.
    crate::commands::busy::kill_all_for_shutdown(&global);
    stop_shards(&mesh, shards);
    for h in handles {
        let _ = h.join();
    }
    crate::repl_link::resume::save_after_shutdown(&global, frozen);
    Ok(0)
}

/// The final save at SIGTERM/SIGINT when save points exist; false when it failed.
fn save_at_signal(global: &Global) -> bool {
    if !global.cfg(crate::commands::persistence::has_save_points) {
        return true;
    }
    match crate::rdb_save::background::save_before_exit(global) {
        Ok(()) => true,
        Err(e) => {
            log::warning(&e);
            log::warning("Error trying to save the DB, can't exit.");
            notify_supervisor("STATUS=Error trying to save the DB, can't exit.\n");
            log::warning(
                "Errors trying to shut down the server. Check the logs for more information.",
            );
            false
        }
    }
}

/// `replicaof host port` in the configuration (standalone mode only, as in Redis).
fn start_configured_replication(global: &Arc<Global>) {
    // min-replicas-to-write from the file holds from the first command on.
    crate::replication::min_replicas::refresh(global);
    crate::replication::refresh_stale(global);
    let target = global.cfg(|c| c.unimplemented.get("replicaof").cloned());
    let Some((host, port)) = target.as_deref().and_then(|t| t.split_once(' ')) else {
        return;
    };
    let Ok(port) = port.parse::<u16>() else {
        return;
    };
    if global.cluster.is_some() {
        log::warning("replicaof is ignored in cluster mode");
        return;
    }
    crate::replication::start_replica_of(global, host, port);
}

fn stop_shards(mesh: &Mesh, shards: usize) {
    for id in 0..shards {
        mesh.send_blocking(id, MeshMsg::Shutdown);
    }
}

/// Waits for SIGTERM/SIGINT or a SHUTDOWN command; returns why.
/// Silence of the cluster bus loop after which the main thread logs a warning.
const BUS_STALL_WARN_MS: u64 = 2000;
/// Silence of the bus loop (normally 10 ms) after which the main thread wakes it.
const BUS_KICK_AFTER_MS: u64 = 250;
/// How long shutdown keeps waking the bus loop before joining it regardless.
const BUS_STOP_WAIT_MS: u64 = 5000;

fn wait_for_stop(global: &Global, set: &SigSet) -> &'static str {
    let mut warned_stall = false;
    loop {
        if global.stop_requested.load(Ordering::SeqCst) {
            return "Received SHUTDOWN";
        }
        // The bus loop runs every 10 ms; a long silence means gossip and failover are stuck.
        let beat = match global.bus_heartbeat_ms.load(Ordering::Relaxed) {
            0 => global.started_unix_ms, // not run even once yet: count from the start
            b => b,
        };
        let silent_ms = crate::clock::mono_unix_ms().saturating_sub(beat);
        let stalled = global.cluster.is_some() && silent_ms > BUS_STALL_WARN_MS;
        if stalled && !warned_stall {
            log::warning("The cluster bus loop has not run for over 2 seconds");
        }
        if global.cluster.is_some() && silent_ms > BUS_KICK_AFTER_MS {
            crate::bus::kick();
        }
        warned_stall = stalled;
        match set.wait_timeout(Duration::from_millis(50)) {
            Ok(Some(libc::SIGTERM)) => return "Received SIGTERM",
            Ok(Some(libc::SIGINT)) => return "Received SIGINT",
            _ => {}
        }
    }
}

/// A shard built (and loaded) on the main thread, moved once into its own thread.
struct SendShard(Shard);
// SAFETY: before its thread starts a shard holds no thread-bound state (`peers` is None and
// nothing else is shared non-atomically); it is moved, never shared.
unsafe impl Send for SendShard {}

/// After loading in cluster mode (as Redis does for a master): keys in a slot nobody serves
/// make the node claim that slot; keys in a slot another node serves are dropped.
fn check_slots_after_load(global: &Arc<Global>, shards: &mut [Shard]) -> Result<(), String> {
    let Some(cluster) = global.cluster.as_ref() else {
        return Ok(());
    };
    let mut state = cluster.lock().unwrap_or_else(|e| e.into_inner());
    let map = state.slot_map();
    if map.myself_is_replica {
        return Ok(());
    }
    let mut claim = Vec::new();
    let mut marked = false;
    for sh in shards.iter_mut() {
        for idx in 0..sh.db.table_count() {
            let slot = sh.db.slot_of_table(idx);
            if sh.count_in_slot_all(slot) == 0 || map.owner_of(slot) == map.myself {
                continue;
            }
            if map.owner_of(slot) == crate::cluster::slot_map::NO_NODE {
                claim.push(slot);
            } else if map.importing_from(slot).is_none() {
                // As Redis: keep the keys and mark the slot importing from its owner, so
                // `redis-cli --cluster fix` sees it and moves them.
                log::warning(&format!(
                    "I have keys for slot {slot}, but the slot is assigned to another node. \
                     Setting it to importing state."
                ));
                let owner = map.owner_of(slot);
                state.importing_from.insert(slot, owner);
                marked = true;
            }
        }
    }
    if !claim.is_empty() || marked {
        log::notice(&format!(
            "Claiming {} slots that hold keys but had no owner",
            claim.len()
        ));
        state.add_slots(&claim);
        state.save()?;
        global.publish_slot_map(state.slot_map());
        for sh in shards.iter_mut() {
            sh.slot_map = global.initial_slot_map();
        }
    }
    Ok(())
}

fn shard_thread(
    state: SendShard,
    mesh: Arc<Mesh>,
    listeners: Vec<RawFd>,
    cpu: Option<usize>,
    ready: mpsc::Sender<Result<usize, String>>,
) {
    let shard = state.0;
    let id = shard.id;
    if let Some(c) = cpu {
        if !core_affinity::set_for_current(core_affinity::CoreId { id: c }) {
            let _ = ready.send(Err(format!("could not pin shard {id} to CPU {c}")));
            return;
        }
    }
    let conn_bytes = std::mem::size_of::<crate::net::conn::Conn>();
    crate::commands::client::CONN_RECORD_BYTES.store(conn_bytes, Ordering::Relaxed);
    let reactor = match Reactor::new(ShardSetup {
        shard,
        mesh,
        listeners,
    }) {
        Ok(r) => r,
        Err(e) => {
            let hint = if e.raw_os_error() == Some(libc::ENOMEM)
                || e.raw_os_error() == Some(libc::EPERM)
            {
                " (io_uring needs locked memory: raise `ulimit -l` or grant CAP_IPC_LOCK)"
            } else {
                ""
            };
            let _ = ready.send(Err(format!("shard {id}: io_uring setup failed: {e}{hint}")));
            return;
        }
    };
    // The event loop's own structures (buffers, connection slots) belong to start-up memory.
    crate::sys::alloc::add_startup(crate::sys::alloc::thread_net_bytes());
    let _ = ready.send(Ok(id));
    reactor.run();
}
