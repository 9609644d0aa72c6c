//! Keyspace-wide commands that fan out over shards: KEYS, RANDOMKEY, DBSIZE, FLUSHALL,
//! FLUSHDB, and SCAN with its slot-based cursor. All but FLUSHALL see the client's selected
//! database only.

use super::*;

// ---------------------------------------------------------------------------------------------
// Keyspace-wide: KEYS, RANDOMKEY, DBSIZE, FLUSHALL, FLUSHDB
// ---------------------------------------------------------------------------------------------

/// Every live key of one shard matching `pattern` (None: all keys).
fn shard_keys(sh: &Shard, dbi: u32, pattern: Option<&[u8]>, now_ms: u64) -> Vec<Vec<u8>> {
    let Some(db) = sh.db_get(dbi) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for idx in 0..db.table_count() {
        db.for_each_in_table(idx, now_ms, |e| {
            if pattern.is_none_or(|p| crate::glob::matches(p, e.key(), false)) {
                found.push(e.key().to_vec());
            }
        });
    }
    found
}

pub(super) fn keys(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let pattern = args.get(1);
    // "*" alone skips matching, as Redis does.
    let pattern = (pattern != b"*").then_some(pattern);
    let (now, dbi) = (ctx.now_ms, ctx.client().db);
    let per_shard = ctx
        .shard
        .try_call_all(|sh| shard_keys(sh, dbi, pattern, now))?;
    ctx.out.array(per_shard.iter().map(Vec::len).sum());
    for key in per_shard.iter().flatten() {
        ctx.out.bulk(key);
    }
    Ok(())
}

pub(super) fn randomkey(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let (now, dbi) = (ctx.now_ms, ctx.client().db);
    // One candidate per shard, weighted by the shard's size, keeps the pick uniform per key.
    let picks = ctx.shard.try_call_all(|sh| {
        if sh.db_get(dbi).is_none() {
            return (0, None);
        }
        let db = if dbi == 0 {
            &mut sh.db
        } else {
            sh.dbs.at(dbi, (sh.id, sh.shards), &sh.db)
        };
        (db.len(), db.random_key(&mut sh.rng, now))
    })?;
    let total: usize = picks.iter().filter(|p| p.1.is_some()).map(|p| p.0).sum();
    if total == 0 {
        ctx.out.null();
        return Ok(());
    }
    let mut r = ctx.shard.rng.below(total);
    for (len, key) in &picks {
        let Some(key) = key else { continue };
        if r < *len {
            ctx.out.bulk(key);
            return Ok(());
        }
        r -= len;
    }
    ctx.out.null();
    Ok(())
}

pub(super) fn dbsize(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let dbi = ctx.client().db;
    let total: usize = ctx
        .shard
        .try_call_all(|sh| sh.db_get(dbi).map_or(0, |d| d.len()))?
        .into_iter()
        .sum();
    ctx.out.int(total as i64);
    Ok(())
}

/// FLUSHALL (every database) and FLUSHDB (the selected one). ASYNC hands every shard's
/// tables to the lazy-free worker, SYNC frees them here; neither, `lazyfree-lazy-user-flush`
/// decides.
pub(super) fn flush(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let all = args.get(0).eq_ignore_ascii_case(b"flushall");
    let lazily = flush_mode(args)?;
    let dbi = ctx.client().db;
    let mut seen = 0;
    let mut dirty = Vec::new();
    ctx.shard.try_call_all(|sh| {
        if all {
            flush_shard_all(sh, lazily);
            crate::replication::stream_once(sh, &mut seen, None, &[b"FLUSHALL"]);
            dirty.push((sh.id, sh.dirty));
        } else {
            flush_shard_db(sh, dbi, lazily);
            crate::replication::stream_once(sh, &mut seen, Some(dbi), &[b"FLUSHDB"]);
        }
    })?;
    // Counted even when empty so the flush itself is propagated.
    ctx.shard.dirty += 1;
    if all {
        let me = ctx.shard.id;
        if let Some(d) = dirty.iter_mut().find(|d| d.0 == me) {
            d.1 = ctx.shard.dirty;
        }
        crate::commands::persistence::save_after_flushall(&ctx.shard.global, &dirty, ctx.now_ms);
    }
    ctx.out.ok();
    Ok(())
}

/// FLUSHALL on one shard: every database. Every shard journals the flush of its own keys; a
/// running AOF rewrite or snapshot has nothing left to copy.
pub(crate) fn flush_shard_all(sh: &mut Shard, lazily: bool) {
    let n = sh.flush_all_dbs(lazily);
    sh.dirty += n as u64;
    sh.journal.record(&[b"FLUSHALL"]);
    sh.touch_all_watched();
    if sh.global.tracking.in_use() {
        crate::shard::tracking::flushed(sh);
    }
    if let Some(rw) = sh.aof.rewrite.as_mut() {
        rw.cover_all_empty();
    }
    for s in sh.repl.snaps.iter_mut() {
        s.cover_all_empty();
    }
}

/// FLUSHDB on one shard: database `dbi` only.
pub(crate) fn flush_shard_db(sh: &mut Shard, dbi: u32, lazily: bool) {
    if sh.repl.snaps.iter().any(|s| s.is_file()) {
        // A BGSAVE's file holds the database as it was when the save started.
        sh.cover_db(dbi, crate::clock::unix_ms());
    }
    let tables = sh.db.table_count();
    let n = match sh.db_get(dbi) {
        None => 0,
        Some(_) if lazily => sh.db_at(dbi).flush_lazily(),
        Some(_) => sh.db_at(dbi).flush(),
    };
    sh.dirty += n as u64;
    let cmd_db = sh.journal.selected();
    sh.journal.select(dbi);
    sh.journal.record(&[b"FLUSHDB"]);
    sh.journal.select(cmd_db);
    sh.touch_watched_db(dbi);
    if sh.global.tracking.in_use() {
        crate::shard::tracking::flushed(sh);
    }
    if let Some(rw) = sh.aof.rewrite.as_mut() {
        rw.cover_db_empty(dbi, tables);
    }
    for s in sh.repl.snaps.iter_mut() {
        s.cover_db_empty(dbi, tables);
    }
}

/// FLUSHALL/FLUSHDB's optional modifier (Redis' getFlushCommandFlags): true for ASYNC.
fn flush_mode(args: Args<'_>) -> Result<bool, ReplyError> {
    match args.len() {
        1 => Ok(crate::lazyfree::user_flush_async()),
        2 if args.get(1).eq_ignore_ascii_case(b"sync") => Ok(false),
        2 if args.get(1).eq_ignore_ascii_case(b"async") => Ok(true),
        _ => Err(ReplyError::Syntax),
    }
}

// ---------------------------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------------------------
//
// Cursor design: the cursor is the next hash slot to visit (0..16384), 0 meaning both "start"
// and "done". A call visits slots in increasing order and always returns a slot whole, stopping
// once COUNT keys were visited (COUNT is a hint, as in Redis). Because a slot is never split
// across calls, any key present for the whole scan is returned exactly once, whatever happens
// to other keys meanwhile. Each shard walks its own slots from the cursor on, stopping once it
// alone visited COUNT keys; the merged answer covers only slots below the first slot some shard
// did not reach, so no slot is skipped. COUNT is capped by SCAN_MAX_KEYS_PER_CALL, and a call
// returns at most that many keys unless a single slot holds more.

pub(super) struct ScanOpts {
    pub(super) cursor: usize,
    pub(super) count: usize,
    pub(super) pattern: Option<Vec<u8>>,
    pub(super) type_name: Option<Vec<u8>>,
}

/// What one shard saw: (slot, keys visited, keys kept) for each non-empty slot, and the first
/// slot at or above the cursor it did not visit.
pub(super) struct ShardScan {
    slots: Vec<(u16, usize, Vec<Vec<u8>>)>,
    next_slot: usize,
}

/// A SCAN cursor is the next slot to visit: anything slotd never hands out is invalid.
fn parse_slot_cursor(raw: &[u8]) -> Result<usize, ReplyError> {
    let v = crate::commands::parse_cursor(raw)?;
    if v >= SLOT_COUNT as u64 {
        return Err(ReplyError::InvalidCursor);
    }
    Ok(v as usize)
}

fn parse_scan(args: Args<'_>) -> Result<ScanOpts, ReplyError> {
    let mut opts = ScanOpts {
        cursor: parse_slot_cursor(args.get(1))?,
        count: 10,
        pattern: None,
        type_name: None,
    };
    let o = ScanArgs::parse(ArgCursor::new(args, 2), SCAN_MAX_KEYS_PER_CALL, true)?;
    opts.count = o.count;
    opts.pattern = o.pattern.map(<[u8]>::to_vec);
    opts.type_name = o.type_name.map(<[u8]>::to_vec);
    Ok(opts)
}

fn scan_keep(opts: &ScanOpts, e: &Entry) -> bool {
    let type_ok = opts
        .type_name
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case(e.value().type_name().as_bytes()));
    type_ok
        && opts
            .pattern
            .as_deref()
            .is_none_or(|p| crate::glob::matches(p, e.key(), false))
}

/// Walks this shard's slots from the cursor on until COUNT keys were visited.
pub(super) fn scan_shard(sh: &Shard, dbi: u32, opts: &ScanOpts, now_ms: u64) -> ShardScan {
    let (id, n) = (sh.id, sh.shards);
    let Some(db) = sh.db_get(dbi) else {
        return ShardScan {
            slots: Vec::new(),
            next_slot: SLOT_COUNT,
        };
    };
    let first_idx = if opts.cursor <= id {
        0
    } else {
        (opts.cursor - id).div_ceil(n)
    };
    let mut out = ShardScan {
        slots: Vec::new(),
        next_slot: SLOT_COUNT,
    };
    let mut visited = 0;
    for idx in first_idx..db.table_count() {
        let mut seen = 0;
        let mut kept = Vec::new();
        db.for_each_in_table(idx, now_ms, |e| {
            seen += 1;
            if scan_keep(opts, e) {
                kept.push(e.key().to_vec());
            }
        });
        let slot = db.slot_of_table(idx);
        if seen > 0 {
            out.slots.push((slot, seen, kept));
        }
        visited += seen;
        if visited >= opts.count {
            out.next_slot = slot as usize + 1;
            break;
        }
    }
    out
}

/// Merges the shards' walks in slot order; returns the next cursor and the keys.
pub(super) fn scan_merge(per_shard: Vec<ShardScan>, count: usize) -> (usize, Vec<Vec<u8>>) {
    let limit = per_shard
        .iter()
        .map(|s| s.next_slot)
        .min()
        .unwrap_or(SLOT_COUNT);
    let mut slots: Vec<_> = per_shard
        .into_iter()
        .flat_map(|s| s.slots)
        .filter(|s| (s.0 as usize) < limit)
        .collect();
    slots.sort_unstable_by_key(|s| s.0);
    let (mut visited, mut keys, mut next) = (0, Vec::new(), limit);
    for (slot, seen, kept) in slots {
        if !keys.is_empty() && keys.len() + kept.len() > SCAN_MAX_KEYS_PER_CALL {
            next = slot as usize;
            break;
        }
        visited += seen;
        keys.extend(kept);
        if visited >= count {
            next = slot as usize + 1;
            break;
        }
    }
    (if next >= SLOT_COUNT { 0 } else { next }, keys)
}

pub(super) fn scan(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let opts = parse_scan(args)?;
    let (now, dbi) = (ctx.now_ms, ctx.client().db);
    let per_shard = ctx
        .shard
        .try_call_all(|sh| scan_shard(sh, dbi, &opts, now))?;
    let (next, keys) = scan_merge(per_shard, opts.count);
    ctx.out.array(2);
    ctx.out.bulk_int(next as i64);
    ctx.out.array(keys.len());
    for key in &keys {
        ctx.out.bulk(key);
    }
    Ok(())
}
