//! PFADD, PFCOUNT and PFMERGE.

use super::*;
use crate::resp::Args;

/// PFADD key [element ...]: creates the key even with no element; replies 1 when a register
/// changed (or the key was created). A corrupt value stops at the element that found it,
/// keeping the registers already raised and propagating nothing, as Redis.
pub(super) fn pfadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let max_bytes = sparse_max_bytes(ex);
    let elements = (2..args.len()).map(|i| args.get(i));
    let updated = ex.with_db(key, |db, out| {
        let mut updated = 0u64;
        match db.lookup_write(key, now) {
            Some(e) => {
                hll_bytes(e.value())?;
                let v = hll_mut(e);
                for el in elements {
                    updated += hll::add(v, el, max_bytes).map_err(|_| corrupt())? as u64;
                }
                if updated > 0 {
                    hll::invalidate_cache(v);
                }
            }
            None => {
                // Creating the key is one change and each raised register another, as
                // Redis counts them (`dirty`); a new value is never corrupt.
                let mut v = hll::new_sparse();
                updated = 1;
                for el in elements {
                    updated += hll::add(&mut v, el, max_bytes).unwrap_or(false) as u64;
                }
                hll::invalidate_cache(&mut v);
                store_new(db, key, v, now);
            }
        }
        out.int((updated > 0) as i64);
        Ok::<_, ReplyError>(updated)
    })?;
    if updated > 0 {
        ex.notify(crate::shard::notify::STRING, "pfadd", key);
        ex.dirty(key, updated);
    }
    Ok(())
}

/// PFCOUNT key [key ...]: one key answers its cached count, or computes and caches it (a
/// change Redis propagates as the PFCOUNT itself); several keys are merged on the fly and
/// nothing is written.
pub(super) fn pfcount(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    if args.len() > 2 {
        return pfcount_union(ex, args);
    }
    let (key, now) = (args.get(1), ex.now_ms);
    let cached = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.int(0);
            return Ok(true);
        };
        hll_bytes(e.value())?;
        // A valid cache is only read: a small value stays inline in its key's block.
        if let Some(card) = raw_cached_count(e) {
            out.int(card as i64);
            return Ok(true);
        }
        let v = hll_mut(e);
        if let Some(card) = hll::cached(v) {
            out.int(card as i64);
            return Ok(true);
        }
        let card = hll::count(v).map_err(|_| corrupt())?;
        hll::set_cached(v, card);
        out.int(card as i64);
        Ok::<_, ReplyError>(false)
    })?;
    if !cached {
        // Redis counts the cache update as a change: watchers see it, replicas and the AOF
        // get the PFCOUNT.
        ex.dirty(key, 1);
        let db = ex.shard.sel;
        ex.shard_for(key).touch_watched(db, key);
        ex.journal(key, &[args.get(0), key]);
    }
    Ok(())
}

/// Raises `max` to the registers of each existing key of `keys`; missing keys count as
/// empty. Returns true when one of them was dense.
fn merge_keys(
    ex: &mut Exec<'_>,
    keys: impl Iterator<Item = usize>,
    args: Args<'_>,
    max: &mut [u8; hll::REGISTERS],
) -> Result<bool, ReplyError> {
    let now = ex.now_ms;
    let mut dense = false;
    for i in keys {
        let key = args.get(i);
        ex.with_db(key, |db, _| {
            let Some(e) = db.lookup_read(key, now) else {
                return Ok(());
            };
            let b = hll_bytes(e.value())?;
            dense |= hll::encoding(b) == hll::Encoding::Dense;
            hll::merge_into(max, b).map_err(|_| corrupt())
        })?;
    }
    Ok(dense)
}

fn pfcount_union(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let mut max = [0u8; hll::REGISTERS];
    merge_keys(ex, 1..args.len(), args, &mut max)?;
    ex.out.int(hll::count_registers(&max) as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the destination (itself a source) gets the maximum of
/// every register; it turns dense when any input was dense, else stays sparse as long as
/// the sparse limits allow, as in Redis.
pub(super) fn pfmerge(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let mut max = [0u8; hll::REGISTERS];
    let dense = merge_keys(ex, 1..args.len(), args, &mut max)?;
    let (dst, now) = (args.get(1), ex.now_ms);
    let max_bytes = sparse_max_bytes(ex);
    ex.with_db(dst, |db, out| {
        match db.lookup_write(dst, now) {
            Some(e) => {
                let v = hll_mut(e);
                if dense {
                    hll::to_dense(v).map_err(|_| corrupt())?;
                }
                hll::store_registers(v, &max, max_bytes);
                hll::invalidate_cache(v);
            }
            None => {
                let mut v = hll::new_sparse();
                if dense {
                    let _ = hll::to_dense(&mut v);
                }
                hll::store_registers(&mut v, &max, max_bytes);
                hll::invalidate_cache(&mut v);
                store_new(db, dst, v, now);
            }
        }
        out.ok();
        Ok::<_, ReplyError>(())
    })?;
    ex.notify(crate::shard::notify::STRING, "pfadd", dst);
    ex.dirty(dst, 1);
    Ok(())
}
