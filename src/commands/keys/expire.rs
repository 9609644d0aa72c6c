//! The EXPIRE family: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME, PERSIST.

use super::*;

// ---------------------------------------------------------------------------------------------
// EXPIRE family
// ---------------------------------------------------------------------------------------------

/// The NX/XX/GT/LT condition of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCond {
    /// Options come before the time in Redis' checks, so a bad option wins over a bad time.
    fn parse(args: Args<'_>) -> Result<Self, ReplyError> {
        let mut c = ExpireCond::default();
        let mut cur = ArgCursor::new(args, 3);
        while let Some(opt) = cur.peek() {
            if cur.flag("NX") {
                c.nx = true;
            } else if cur.flag("XX") {
                c.xx = true;
            } else if cur.flag("GT") {
                c.gt = true;
            } else if cur.flag("LT") {
                c.lt = true;
            } else {
                // Redis turns line breaks inside error texts into spaces.
                let shown = String::from_utf8_lossy(opt).replace(['\r', '\n'], " ");
                return Err(ReplyError::other(format!("ERR Unsupported option {shown}")));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(ReplyError::other(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(ReplyError::other(
                "ERR GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose expiry is `cur_ms` (0: none, i.e. infinite) may get `at_ms`.
    fn allows(self, cur_ms: u64, at_ms: i64) -> bool {
        let has = cur_ms != 0;
        let cur = cur_ms.min(i64::MAX as u64) as i64;
        !((self.nx && has)
            || (self.xx && !has)
            || (self.gt && (!has || at_ms <= cur))
            || (self.lt && has && at_ms >= cur))
    }
}

/// How the EXPIRE family reads its time argument.
#[derive(Clone, Copy)]
struct ExpireKind {
    name: &'static str,
    seconds: bool,
    relative: bool,
}

pub(super) fn expire(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "expire",
            seconds: true,
            relative: true,
        },
    )
}

pub(super) fn pexpire(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "pexpire",
            seconds: false,
            relative: true,
        },
    )
}

pub(super) fn expireat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "expireat",
            seconds: true,
            relative: false,
        },
    )
}

pub(super) fn pexpireat(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    expire_generic(
        ex,
        args,
        ExpireKind {
            name: "pexpireat",
            seconds: false,
            relative: false,
        },
    )
}

/// The absolute expiry in ms, or Redis' "invalid expire time" when it does not fit an i64.
/// Negative results are allowed: they are in the past and delete the key.
fn expire_target_ms(when: i64, kind: ExpireKind, now_ms: u64) -> Result<i64, ReplyError> {
    let invalid = || ReplyError::InvalidExpire(kind.name.into());
    let ms = if kind.seconds {
        when.checked_mul(1000).ok_or_else(invalid)?
    } else {
        when
    };
    let base = if kind.relative { now_ms as i64 } else { 0 };
    ms.checked_add(base).ok_or_else(invalid)
}

fn expire_generic(ex: &mut Exec<'_>, args: Args<'_>, kind: ExpireKind) -> CmdResult {
    let cond = ExpireCond::parse(args)?;
    let when = i64_arg(args.get(2))?;
    let now = ex.now_ms;
    let at_ms = expire_target_ms(when, kind, now)?;
    let key = args.get(1);
    let Some(e) = ex.db(key).lookup_write(key, now) else {
        ex.out.int(0);
        return Ok(());
    };
    if !cond.allows(e.expire_at_ms(), at_ms) {
        ex.out.int(0);
        return Ok(());
    }
    // A time already past deletes the key at once, as Redis 7 does (and still answers 1).
    if at_ms <= now as i64 {
        ex.db(key).remove(key, now);
        ex.notify(notify::GENERIC, "del", key);
        ex.journal(key, &[b"DEL", key]);
    } else {
        ex.db(key).set_expire(key, at_ms as u64, now);
        ex.notify(notify::GENERIC, "expire", key);
        // Journaled as an absolute time so a replay later gives the same deadline.
        let t = at_ms.to_string();
        ex.journal(key, &[b"PEXPIREAT", key, t.as_bytes()]);
    }
    ex.dirty(key, 1);
    ex.out.int(1);
    Ok(())
}

/// What the TTL family reports.
#[derive(Clone, Copy)]
enum TtlOut {
    Seconds,
    Millis,
    AtSeconds,
    AtMillis,
}

pub(super) fn ttl(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::Seconds)
}

pub(super) fn pttl(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::Millis)
}

pub(super) fn expiretime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::AtSeconds)
}

pub(super) fn pexpiretime(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ex, args, TtlOut::AtMillis)
}

/// -2 for a missing key, -1 for a key without TTL; seconds are rounded to the nearest one.
fn ttl_generic(ex: &mut Exec<'_>, args: Args<'_>, what: TtlOut) -> CmdResult {
    let now = ex.now_ms as i64;
    let reply = match peek(ex, args.get(1)) {
        None => -2,
        Some(e) if e.expire_at_ms() == 0 => -1,
        Some(e) => {
            let at = e.expire_at_ms().min(i64::MAX as u64) as i64;
            let left = at.saturating_sub(now).max(0);
            match what {
                TtlOut::Seconds => left.saturating_add(500) / 1000,
                TtlOut::Millis => left,
                TtlOut::AtSeconds => at.saturating_add(500) / 1000,
                TtlOut::AtMillis => at,
            }
        }
    };
    ex.out.int(reply);
    Ok(())
}

pub(super) fn persist(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ex.now_ms;
    let had_ttl = ex
        .db(key)
        .lookup_write(key, now)
        .is_some_and(|e| e.expire_at_ms() != 0);
    if had_ttl {
        ex.db(key).set_expire(key, 0, now);
        ex.notify(notify::GENERIC, "persist", key);
        ex.dirty(key, 1);
    }
    ex.out.int(had_ttl as i64);
    Ok(())
}
