//! PFDEBUG (GETREG, DECODE, ENCODING, TODENSE) and PFSELFTEST: Redis' internal commands for
//! looking inside HyperLogLog values and checking the implementation.

use super::*;
use crate::commands::ConnCtx;
use crate::resp::Args;

/// PFDEBUG subcommand key. The key must exist and be a HyperLogLog (checked before the
/// subcommand, as Redis); GETREG and TODENSE turn a sparse value dense, a change Redis
/// propagates.
pub(super) fn pfdebug(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (sub, key, now) = (args.get(1), args.get(2), ex.now_ms);
    let changed = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_write(key, now) else {
            return Err(ReplyError::other("ERR The specified key does not exist"));
        };
        hll_bytes(e.value())?;
        let v = hll_mut(e);
        let sparse = hll::encoding(v) == hll::Encoding::Sparse;
        if sub.eq_ignore_ascii_case(b"getreg") {
            if sparse {
                hll::to_dense(v).map_err(|_| corrupt())?;
            }
            let regs = &v[hll::HDR_BYTES..];
            out.array(hll::REGISTERS);
            for i in 0..hll::REGISTERS {
                out.int(hll::dense_get(regs, i) as i64);
            }
            Ok(sparse)
        } else if sub.eq_ignore_ascii_case(b"decode") {
            if !sparse {
                return Err(ReplyError::other("ERR HLL encoding is not sparse"));
            }
            out.bulk(hll::decode(v).as_bytes());
            Ok(false)
        } else if sub.eq_ignore_ascii_case(b"encoding") {
            out.simple(hll::encoding(v).name());
            Ok(false)
        } else if sub.eq_ignore_ascii_case(b"todense") {
            if sparse {
                hll::to_dense(v).map_err(|_| corrupt())?;
            }
            out.int(sparse as i64);
            Ok(sparse)
        } else {
            Err(ReplyError::other(format!(
                "ERR Unknown PFDEBUG subcommand '{}'",
                String::from_utf8_lossy(sub)
            )))
        }
    })?;
    if changed {
        ex.dirty(key, 1);
    }
    Ok(())
}

/// PFSELFTEST: Redis' self-test of the register layout and the estimator (about ten million
/// additions: it holds its shard for a few seconds, as it holds redis-server).
pub(super) fn pfselftest(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let max_bytes = ctx
        .shard
        .global
        .hll_sparse_max_bytes
        .load(Ordering::Relaxed);
    let rng = &mut ctx.shard.rng;
    // C's rand(): 31 random bits.
    let rand = || (rng.next_u64() >> 33) as u32;
    match hll::selftest(rand, max_bytes) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(e) => Err(ReplyError::other(format!("ERR {e}"))),
    }
}
