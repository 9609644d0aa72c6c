//! Loading an RDB image into the shards, a driver: `dump.rdb` at start, the RDB base (or
//! preamble) of an AOF, DEBUG RELOAD, and a replica's full-sync payload. Every key goes to the
//! shard that owns its slot, in the database its SELECTDB names; function libraries are
//! installed node-wide. Reading the bytes is `rdb::file::read`; this module never opens a
//! file or a socket (the callers map or receive the bytes) and never journals what it loads.
//! Format and behaviour: docs/aof.md ("Redis data files").

pub mod reload;

use crate::cluster::hash_slot::key_hash_slot;
use crate::cluster::slot_map::{SlotMap, NO_NODE};
use crate::global::Global;
use crate::rdb::file::read::{Item, KeyItem, Reader};
use crate::shard::{Parked, Shard};
use crate::topology::shard_of;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What one load did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Keys created (Redis' `rdb_last_load_keys_loaded`).
    pub keys_loaded: u64,
    /// Keys skipped because their expiry had passed (`rdb_last_load_keys_expired`).
    pub keys_expired: u64,
    /// Keys of slots another node owns (cluster mode), dropped.
    pub keys_unowned: u64,
    /// Function libraries installed.
    pub libraries: u64,
    /// The file's RDB version.
    pub version: u32,
    /// Bytes of the image up to its checksum: where an AOF preamble's RESP tail starts.
    pub end_offset: usize,
}

/// How an image is loaded.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOpts {
    /// The image is an AOF's base or preamble: keys whose expiry passed are loaded anyway (the
    /// AOF's own records delete them later), as Redis' `RDBFLAGS_AOF_PREAMBLE`, and keys of
    /// slots another node serves are kept, as the AOF's RESP records are.
    pub aof_preamble: bool,
}

/// What the loader needs to know about the node, taken once before any shard is borrowed.
struct Node {
    global: Arc<Global>,
    shards: usize,
    databases: u32,
    map: Arc<SlotMap>,
    zlim: crate::types::zset::Limits,
    /// A replica keeps its master's expired keys (the master's DELs remove them), as Redis.
    is_replica: bool,
}

impl Node {
    fn of(sh: &Shard) -> Node {
        let global = sh.global.clone();
        let zlim = global.cfg(|c| {
            let d = crate::types::zset::Limits::default();
            let get = |name: &str, dflt: usize| {
                usize::try_from(c.stored_i64(name, dflt as i64)).unwrap_or(dflt)
            };
            crate::types::zset::Limits {
                entries_max: get("zset-max-listpack-entries", d.entries_max),
                value_max_bytes: get("zset-max-listpack-value", d.value_max_bytes),
            }
        });
        Node {
            is_replica: global.repl.is_replica.load(Ordering::Acquire),
            shards: sh.shards,
            databases: sh.databases,
            map: sh.slot_map.clone(),
            zlim,
            global,
        }
    }

    /// In cluster mode: the slot is served by another node (keys of a slot nobody serves are
    /// kept: start-up claims such slots, as Redis does).
    fn unowned(&self, slot: u16) -> bool {
        if !self.map.cluster_enabled {
            return false;
        }
        let mine = if self.map.myself_is_replica {
            self.map.master
        } else {
            self.map.myself
        };
        let owner = self.map.owner_of(slot);
        owner != NO_NODE && owner != mine
    }
}

/// Hands a closure the shard with a given id: where the keys of its slots go.
pub type Place<'p> = dyn FnMut(usize, &mut dyn FnMut(&mut Shard)) -> Result<(), String> + 'p;

/// Loads every key of the RDB image `data` into this shard and the parked ones (every shard
/// of the node must be in the section), and installs its function libraries (a library of
/// the same name is replaced). The caller flushes first when the image replaces the data set
/// (DEBUG RELOAD, a replica's full sync); nothing is journaled.
pub fn load_parked(
    me: &mut Shard,
    peers: &mut Parked<'_>,
    data: &[u8],
    now_ms: u64,
) -> Result<LoadStats, String> {
    load_parked_with(me, peers, data, now_ms, LoadOpts::default())
}

/// `load_parked` with options.
pub fn load_parked_with(
    me: &mut Shard,
    peers: &mut Parked<'_>,
    data: &[u8],
    now_ms: u64,
    opts: LoadOpts,
) -> Result<LoadStats, String> {
    let node = Node::of(me);
    let my_id = me.id;
    let mut place = |id: usize, f: &mut dyn FnMut(&mut Shard)| -> Result<(), String> {
        if id == my_id {
            f(me);
            return Ok(());
        }
        let sh = peers
            .get(id)
            .ok_or_else(|| format!("shard {id} is not parked for the load"))?;
        f(sh);
        Ok(())
    };
    load_into(&node, data, now_ms, opts, &mut place)
}

/// Loads `data` through `place` (shard 0 reached through it gives the node's view): for
/// loaders that hold the shards some other way (the AOF loader's locks).
pub fn load_placed(
    data: &[u8],
    now_ms: u64,
    opts: LoadOpts,
    place: &mut Place<'_>,
) -> Result<LoadStats, String> {
    let mut node = None;
    place(0, &mut |sh| node = Some(Node::of(sh)))?;
    let node = node.ok_or("no shard 0 to load into")?;
    load_into(&node, data, now_ms, opts, place)
}

fn load_into(
    node: &Node,
    data: &[u8],
    now_ms: u64,
    opts: LoadOpts,
    place: &mut Place<'_>,
) -> Result<LoadStats, String> {
    let mut r = Reader::new(data, node.zlim).map_err(|e| e.to_string())?;
    let mut stats = LoadStats {
        version: r.version(),
        ..Default::default()
    };
    while let Some(item) = r.next().map_err(|e| e.to_string())? {
        match item {
            Item::Aux { key, value } => log_aux(&key, &value),
            Item::Function { code } => {
                install_library(&node.global, &code)?;
                stats.libraries += 1;
            }
            Item::SelectDb(_) | Item::ResizeDb { .. } => {}
            Item::Key(k) => put_key(node, k, now_ms, opts, &mut stats, place)?,
        }
    }
    stats.end_offset = r.offset();
    if stats.keys_unowned > 0 {
        crate::log::warning(&format!(
            "Dropped {} keys of slots this node does not serve (cluster mode)",
            stats.keys_unowned
        ));
    }
    crate::log::notice(&format!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded, stats.keys_expired
    ));
    let rdb = &node.global.rdb;
    rdb.last_load_keys_loaded
        .store(stats.keys_loaded, Ordering::Relaxed);
    rdb.last_load_keys_expired
        .store(stats.keys_expired, Ordering::Relaxed);
    Ok(stats)
}

/// Redis' log lines for the aux fields it reports while loading.
fn log_aux(key: &[u8], value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    let int = || text.trim().parse::<i64>().unwrap_or(0);
    match key {
        b"redis-ver" => crate::log::notice(&format!("Loading RDB produced by version {text}")),
        b"ctime" => {
            let age = (crate::clock::unix_ms() / 1000) as i64 - int();
            crate::log::notice(&format!("RDB age {} seconds", age.max(0)));
        }
        b"used-mem" => crate::log::notice(&format!(
            "RDB memory usage when created {:.2} Mb",
            int() as f64 / (1024.0 * 1024.0)
        )),
        b"aof-preamble" if int() != 0 => crate::log::notice("RDB has an AOF tail"),
        b"aof-base" if int() != 0 => crate::log::notice("RDB is base AOF"),
        _ => {}
    }
}

/// One key into its shard: skipped when expired (on a master, outside an AOF) or when its
/// slot is another node's; a key the data set already has is an error, as in Redis.
fn put_key(
    node: &Node,
    k: KeyItem,
    now_ms: u64,
    opts: LoadOpts,
    stats: &mut LoadStats,
    place: &mut Place<'_>,
) -> Result<(), String> {
    if k.db >= node.databases {
        return Err(format!(
            "FATAL: Data file was created with a Redis server configured to handle more than \
             {} databases. Exiting",
            node.databases
        ));
    }
    let expired = k.expire_at_ms != 0 && k.expire_at_ms < now_ms;
    if expired && !opts.aof_preamble && !node.is_replica {
        stats.keys_expired += 1;
        return Ok(());
    }
    let slot = key_hash_slot(&k.key);
    // A node's own AOF keeps every key, as its RESP records do (start-up then marks such
    // slots importing, as Redis); other images lose the keys of slots another node serves.
    if !opts.aof_preamble && node.unowned(slot) {
        stats.keys_unowned += 1;
        return Ok(());
    }
    let KeyItem {
        db,
        key,
        value,
        expire_at_ms,
        lru_idle_s,
        ..
    } = k;
    let mut value = Some(value);
    let mut duplicate = false;
    place(shard_of(slot, node.shards), &mut |sh| {
        let d = sh.db_at(db);
        if d.contains(&key, now_ms) {
            duplicate = true;
            return;
        }
        if let Some(v) = value.take() {
            d.set(&key, v, expire_at_ms, now_ms);
        }
        if let (Some(idle), Some(e)) = (lru_idle_s, d.lookup_write(&key, now_ms)) {
            e.set_idle_s(now_ms, idle);
        }
    })?;
    if duplicate {
        crate::log::warning(&format!(
            "RDB has duplicated key '{}' in DB {db}",
            String::from_utf8_lossy(&key)
        ));
        return Err("Duplicated key found in RDB file".into());
    }
    stats.keys_loaded += 1;
    Ok(())
}

/// One FUNCTION2 record: compiled and installed node-wide, replacing a library of its name.
fn install_library(global: &Global, code: &[u8]) -> Result<(), String> {
    use crate::commands::functions::{apply, Change};
    let failed = |e: crate::resp::ReplyError| {
        let mut text = Vec::new();
        e.write_text(&mut text);
        format!(
            "Failed loading library from RDB: {}",
            String::from_utf8_lossy(&text)
        )
    };
    let lib = crate::lua::vm::load_library(code).map_err(failed)?;
    let next = apply(
        &global.scripts.libraries(),
        &Change::Load { lib, replace: true },
    )
    .map_err(failed)?;
    global.scripts.set_libraries(next);
    Ok(())
}

/// `dump.rdb` at start (`appendonly no`), into shards that are not running yet: the file is
/// mapped read-only and loaded with Redis' log lines; a damaged file stops start-up with its
/// path, the offset and the reason.
pub fn load_file_at_start(
    shards: &mut [Shard],
    path: &std::path::Path,
    now_ms: u64,
) -> Result<LoadStats, String> {
    let fatal = |e: String| {
        format!(
            "Fatal error loading the DB from {}: {e}. Exiting.",
            path.display()
        )
    };
    let t0 = std::time::Instant::now();
    let file = std::fs::File::open(path).map_err(|e| fatal(e.to_string()))?;
    let map = crate::sys::FileMapping::of(&file).map_err(|e| fatal(e.to_string()))?;
    let mut ptrs: Vec<*mut Shard> = vec![std::ptr::null_mut(); shards.len()];
    let (first, rest) = shards.split_first_mut().ok_or("no shard to load into")?;
    for sh in rest.iter_mut() {
        ptrs[sh.id] = sh;
    }
    // SAFETY: the entries are the distinct shards of `rest` (indexed by their ids), borrowed
    // uniquely for this whole function and reached only through the view; `first` is not
    // among them (its entry stays null).
    let mut peers = unsafe { Parked::new(&ptrs) };
    let stats = load_parked(first, &mut peers, map.bytes(), now_ms).map_err(fatal)?;
    crate::log::notice(&format!(
        "DB loaded from disk: {:.3} seconds",
        t0.elapsed().as_secs_f64()
    ));
    Ok(stats)
}
