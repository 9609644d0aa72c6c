//! The GET/SET family (GET, SET, SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX) and the expiry
//! and condition options of SET and GETEX.

use super::*;

// ---------------------------------------------------------------------------------------------
// Expiry and condition options (SET, GETEX)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expiry {
    Unchanged,
    Ex,
    Px,
    ExAt,
    PxAt,
    KeepTtl,
    Persist,
}

/// The options that take a time value.
const TIMED_OPTIONS: [(&str, Expiry); 4] = [
    ("EX", Expiry::Ex),
    ("PX", Expiry::Px),
    ("EXAT", Expiry::ExAt),
    ("PXAT", Expiry::PxAt),
];

/// Parsed options of SET (`for_set`) or GETEX.
#[derive(Clone, Copy)]
struct Opts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Expiry,
    ttl_arg: &'a [u8],
}

impl Opts<'_> {
    fn plain() -> Self {
        Opts {
            nx: false,
            xx: false,
            get: false,
            ttl: Expiry::Unchanged,
            ttl_arg: b"",
        }
    }
}

/// Parses options from `args[from..]`. Each expiry form excludes the others (repeating the
/// same one is allowed, the last value wins), NX excludes XX, and a form needing a value must
/// have one; any violation is a syntax error, as in Redis.
fn parse_opts<'a>(args: Args<'a>, from: usize, for_set: bool) -> Result<Opts<'a>, ReplyError> {
    let mut o = Opts::plain();
    let free = |ttl: Expiry, t: Expiry| ttl == Expiry::Unchanged || ttl == t;
    let mut cur = ArgCursor::new(args, from);
    while !cur.is_done() {
        if for_set && !o.xx && cur.flag("NX") {
            o.nx = true;
        } else if for_set && !o.nx && cur.flag("XX") {
            o.xx = true;
        } else if for_set && cur.flag("GET") {
            o.get = true;
        } else if for_set && free(o.ttl, Expiry::KeepTtl) && cur.flag("KEEPTTL") {
            o.ttl = Expiry::KeepTtl;
        } else if !for_set && free(o.ttl, Expiry::Persist) && cur.flag("PERSIST") {
            o.ttl = Expiry::Persist;
        } else if let Some((t, v)) = timed_option(&mut cur)? {
            if !free(o.ttl, t) {
                return Err(ReplyError::Syntax);
            }
            o.ttl = t;
            o.ttl_arg = v;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(o)
}

/// EX/PX/EXAT/PXAT and its value when the cursor is at one (a syntax error when the value is
/// missing), None at any other argument.
fn timed_option<'a>(cur: &mut ArgCursor<'a>) -> Result<Option<(Expiry, &'a [u8])>, ReplyError> {
    for (name, t) in TIMED_OPTIONS {
        if let Some(v) = cur.opt_value(name)? {
            return Ok(Some((t, v)));
        }
    }
    Ok(None)
}

/// The absolute expiry (ms) an EX/PX/EXAT/PXAT option asks for, None for other options.
/// Non-positive values, and values whose absolute form overflows, are rejected with the
/// command's name in the message.
fn expire_at_ms(
    ttl: Expiry,
    raw: &[u8],
    now_ms: u64,
    cmd: &str,
) -> Result<Option<u64>, ReplyError> {
    let (secs, relative) = match ttl {
        Expiry::Ex => (true, true),
        Expiry::Px => (false, true),
        Expiry::ExAt => (true, false),
        Expiry::PxAt => (false, false),
        _ => return Ok(None),
    };
    let bad = || ReplyError::InvalidExpire(cmd.into());
    let v = i64_arg(raw)?;
    if v <= 0 {
        return Err(bad());
    }
    let ms = if secs {
        v.checked_mul(1000).ok_or_else(bad)?
    } else {
        v
    };
    let ms = if relative {
        ms.checked_add(now_ms as i64).ok_or_else(bad)?
    } else {
        ms
    };
    Ok(Some(ms as u64))
}

// ---------------------------------------------------------------------------------------------
// GET / SET family
// ---------------------------------------------------------------------------------------------

pub(super) fn get(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        match db.lookup_read(key, now) {
            None => out.null(),
            Some(e) => out.bulk(as_str(e.value())?),
        }
        Ok(())
    })
}

/// How SET-like commands answer when they do not return the old value.
#[derive(Clone, Copy)]
enum SetReply {
    /// +OK, or a null when a condition stopped the write (SET).
    Ok,
    /// :1 when written, :0 when not (SETNX).
    Flag,
}

/// The shared body of SET, SETNX, SETEX, PSETEX and GETSET. `at_ms` is the validated
/// absolute expiry, if any.
fn set_generic(
    ex: &mut Exec<'_>,
    key: &[u8],
    value: &[u8],
    o: Opts<'_>,
    at_ms: Option<u64>,
    reply: SetReply,
) -> CmdResult {
    let now = ex.now_ms;
    // The journal form: the expiry that was stored (absolute), or a deletion.
    let mut stored_at: Option<u64> = None;
    let written = ex.with_db(key, |db, out| {
        if o.get {
            match db.lookup_read(key, now) {
                None => out.null(),
                Some(e) => out.bulk(as_str(e.value())?),
            }
        }
        // Only NX, XX and KEEPTTL need the old entry; a plain SET is a single probe.
        let needs_old = o.nx || o.xx || matches!(o.ttl, Expiry::KeepTtl);
        let old_ttl = if needs_old {
            db.lookup_write(key, now).map(|e| e.expire_at_ms())
        } else {
            None
        };
        let exists = old_ttl.is_some();
        if (o.nx && exists) || (o.xx && !exists) {
            match (o.get, reply) {
                (true, _) => {}
                (false, SetReply::Ok) => out.null(),
                (false, SetReply::Flag) => out.int(0),
            }
            return Ok(false);
        }
        let at = match o.ttl {
            Expiry::KeepTtl => old_ttl.unwrap_or(0),
            _ => at_ms.unwrap_or(0),
        };
        if at != 0 && at <= now {
            // An absolute expiry already in the past leaves no key behind.
            db.remove(key, now);
        } else {
            db.set_str(key, value, at, now);
            stored_at = Some(at);
        }
        match (o.get, reply) {
            (true, _) => {}
            (false, SetReply::Ok) => out.ok(),
            (false, SetReply::Flag) => out.int(1),
        }
        Ok(true)
    })?;
    if written {
        ex.notify(notify::STRING, "set", key);
        if at_ms.is_some() {
            ex.notify(notify::GENERIC, "expire", key);
        }
        ex.dirty(key, 1);
        match stored_at {
            None => ex.journal(key, &[b"DEL", key]),
            Some(0) => ex.journal(key, &[b"SET", key, value]),
            Some(at) => {
                let t = at.to_string();
                ex.journal(key, &[b"SET", key, value, b"PXAT", t.as_bytes()]);
            }
        }
    }
    Ok(())
}

pub(super) fn set(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_opts(args, 3, true)?;
    let at = expire_at_ms(o.ttl, o.ttl_arg, ex.now_ms, "set")?;
    set_generic(ex, args.get(1), args.get(2), o, at, SetReply::Ok)
}

pub(super) fn setnx(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = Opts {
        nx: true,
        ..Opts::plain()
    };
    set_generic(ex, args.get(1), args.get(2), o, None, SetReply::Flag)
}

fn setex_generic(ex: &mut Exec<'_>, args: Args<'_>, ttl: Expiry, cmd: &str) -> CmdResult {
    let at = expire_at_ms(ttl, args.get(2), ex.now_ms, cmd)?;
    set_generic(
        ex,
        args.get(1),
        args.get(3),
        Opts::plain(),
        at,
        SetReply::Ok,
    )
}

pub(super) fn setex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ex, args, Expiry::Ex, "setex")
}

pub(super) fn psetex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    setex_generic(ex, args, Expiry::Px, "psetex")
}

pub(super) fn getset(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = Opts {
        get: true,
        ..Opts::plain()
    };
    set_generic(ex, args.get(1), args.get(2), o, None, SetReply::Ok)
}

pub(super) fn getdel(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let deleted = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(false);
        };
        out.bulk(as_str(e.value())?);
        db.remove(key, now);
        Ok(true)
    })?;
    if deleted {
        ex.notify(notify::GENERIC, "del", key);
        ex.dirty(key, 1);
        ex.journal(key, &[b"DEL", key]);
    }
    Ok(())
}

/// GETEX: a missing key answers null and a wrong type WRONGTYPE before the expiry value is
/// validated (Redis' order); syntax errors come first of all.
pub(super) fn getex(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_opts(args, 2, false)?;
    let (key, now) = (args.get(1), ex.now_ms);
    // The journal form of the change: DEL, PEXPIREAT with the absolute time, or PERSIST.
    let mut record: Option<(&[u8], Option<u64>)> = None;
    let changed = ex.with_db(key, |db, out| {
        let Some(e) = db.lookup_read(key, now) else {
            out.null();
            return Ok(false);
        };
        let s = as_str(e.value())?;
        let at = expire_at_ms(o.ttl, o.ttl_arg, now, "getex")?;
        let had_ttl = e.expire_at_ms() != 0;
        out.bulk(s);
        Ok(match (o.ttl, at) {
            (_, Some(at)) if at <= now => {
                record = Some((b"DEL", None));
                db.remove(key, now).is_some()
            }
            (_, Some(at)) => {
                record = Some((b"PEXPIREAT", Some(at)));
                db.set_expire(key, at, now)
            }
            (Expiry::Persist, None) if had_ttl => {
                record = Some((b"PERSIST", None));
                db.set_expire(key, 0, now)
            }
            _ => false,
        })
    })?;
    if changed {
        let event = match record {
            Some((b"DEL", _)) => "del",
            Some((b"PERSIST", _)) => "persist",
            _ => "expire",
        };
        ex.notify(notify::GENERIC, event, key);
        ex.dirty(key, 1);
        match record {
            Some((cmd, Some(at))) => ex.journal(key, &[cmd, key, at.to_string().as_bytes()]),
            Some((cmd, None)) => ex.journal(key, &[cmd, key]),
            None => {}
        }
    }
    Ok(())
}
