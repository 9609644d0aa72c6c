//! Consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
//! XACK, XPENDING, XCLAIM and XAUTOCLAIM, with Redis 7.0's replies and errors. XCLAIM and
//! XAUTOCLAIM journal each change as the XCLAIM ... FORCE JUSTID LASTID form Redis
//! propagates (plus XGROUP SETID when only the last ID moved).

use super::id::{self, IdText};
use super::read::int_text;
use super::*;
use crate::commands::ConnCtx;
use crate::resp::error::sanitize_for_error;

fn sub_syntax(args: Args<'_>) -> ReplyError {
    ReplyError::SubcommandOrArity {
        cmd: "XGROUP",
        sub: sanitize_for_error(args.get(1)),
    }
}

/// Journals Redis' XCLAIM propagation form for one pending entry.
#[allow(clippy::too_many_arguments)]
pub(super) fn journal_xclaim(
    ex: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: &[u8],
    time: &[u8],
    count: &[u8],
    last_id: &[u8],
) {
    ex.journal(
        key,
        &[
            b"XCLAIM",
            key,
            group,
            consumer,
            b"0",
            id,
            b"TIME",
            time,
            b"RETRYCOUNT",
            count,
            b"FORCE",
            b"JUSTID",
            b"LASTID",
            last_id,
        ],
    );
}

/// Journals a group's last ID and read counter (XGROUP SETID ... ENTRIESREAD n).
pub(super) fn journal_setid(
    ex: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    last_id: StreamId,
    entries_read: i64,
) {
    let t = IdText::new(last_id);
    let mut b = [0u8; 21];
    let er = int_text(entries_read, &mut b);
    ex.journal(
        key,
        &[
            b"XGROUP",
            b"SETID",
            key,
            group,
            t.as_bytes(),
            b"ENTRIESREAD",
            er,
        ],
    );
}

/// XCLAIM's form for a PEL entry as it now is.
fn journal_pending(
    ex: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    id: &[u8],
    p: &PendingCopy,
    last_id: StreamId,
) {
    let (mut t, mut c) = ([0u8; 21], [0u8; 21]);
    let time = int_text(p.time as i64, &mut t);
    let count = int_text(p.count as i64, &mut c);
    let last = IdText::new(last_id);
    journal_xclaim(
        ex,
        key,
        group,
        &p.consumer,
        id,
        time,
        count,
        last.as_bytes(),
    );
}

/// A pending entry's state, taken out for journaling.
struct PendingCopy {
    consumer: Vec<u8>,
    time: u64,
    count: u64,
}

// ---------------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------------

/// The stream of an XGROUP subcommand, which must exist (no MKSTREAM).
fn xgroup_stream<'d>(
    db: &'d mut Db,
    key: &[u8],
    now: u64,
) -> Result<&'d mut StreamValue, ReplyError> {
    stream_mut(db, key, now)?.ok_or_else(|| {
        ReplyError::other(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may \
             want to use the MKSTREAM option to create an empty stream automatically.",
        )
    })
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n].
pub(super) fn xgroup_create(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut i = 5;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"mkstream") {
            mkstream = true;
            i += 1;
        } else if a.eq_ignore_ascii_case(b"entriesread") && i + 1 < args.len() {
            entries_read = ll_arg(args.get(i + 1), None)?;
            if entries_read < -1 {
                return Err(ReplyError::other(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(sub_syntax(args));
        }
    }
    if args.len() > 8 {
        return Err(sub_syntax(args));
    }
    let (key, group, now) = (args.get(2), args.get(3), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let exists = match stream_mut(db, key, now)? {
            Some(_) => true,
            None if mkstream => false,
            None => {
                return Err(xgroup_stream(db, key, now)
                    .err()
                    .unwrap_or(ReplyError::Syntax))
            }
        };
        let start = if args.get(4) == b"$" {
            stream_mut(db, key, now)?.map_or(StreamId::MIN, |s| s.last_id())
        } else {
            id::parse_id(args.get(4), id::IdForm::Strict, 0)?
        };
        if !exists {
            db.set(key, Value::Stream(Box::default()), 0, now);
        }
        let s = xgroup_stream(db, key, now)?;
        if !s.create_group(group, start, entries_read) {
            return Err(ReplyError::other(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        out.ok();
        Ok(())
    })?;
    ex.notify(crate::shard::notify::STREAM, "xgroup-create", key);
    ex.dirty(key, 1);
    Ok(())
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n].
pub(super) fn xgroup_setid(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, now) = (args.get(2), args.get(3), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let s = xgroup_stream(db, key, now)?;
        if s.group(group).is_none() {
            return Err(no_group_for_key(group, key));
        }
        if args.len() != 5 && args.len() != 7 {
            return Err(sub_syntax(args));
        }
        let to = if args.get(4) == b"$" {
            s.last_id()
        } else {
            id::parse_id(args.get(4), id::IdForm::Loose, 0)?
        };
        let mut entries_read = -1;
        if args.len() == 7 {
            if !args.get(5).eq_ignore_ascii_case(b"entriesread") {
                return Err(sub_syntax(args));
            }
            entries_read = ll_arg(args.get(6), None)?;
            if entries_read < -1 {
                return Err(ReplyError::other(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
        }
        let g = s.group_mut(group).expect("checked above");
        g.last_id = to;
        g.entries_read = entries_read;
        out.ok();
        Ok(())
    })?;
    ex.notify(crate::shard::notify::STREAM, "xgroup-setid", key);
    ex.dirty(key, 1);
    Ok(())
}

/// XGROUP DESTROY key group: 1 when it existed.
pub(super) fn xgroup_destroy(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, now) = (args.get(2), args.get(3), ex.now_ms);
    let destroyed = ex.with_db(key, |db, out| -> Result<bool, ReplyError> {
        let d = xgroup_stream(db, key, now)?.destroy_group(group);
        out.int(i64::from(d));
        Ok(d)
    })?;
    if destroyed {
        ex.notify(crate::shard::notify::STREAM, "xgroup-destroy", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer: 1 when created.
pub(super) fn xgroup_createconsumer(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, at) = (args.get(2), args.get(3), ex.now_ms);
    let now = stream_clock(ex);
    let created = ex.with_db(key, |db, out| -> Result<bool, ReplyError> {
        let s = xgroup_stream(db, key, at)?;
        let g = s
            .group_mut(group)
            .ok_or_else(|| no_group_for_key(group, key))?;
        let c = g.create_consumer(args.get(4), now);
        out.int(i64::from(c));
        Ok(c)
    })?;
    if created {
        ex.notify(crate::shard::notify::STREAM, "xgroup-createconsumer", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer: the pending entries it had.
pub(super) fn xgroup_delconsumer(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, now) = (args.get(2), args.get(3), ex.now_ms);
    let deleted = ex.with_db(key, |db, out| -> Result<bool, ReplyError> {
        let s = xgroup_stream(db, key, now)?;
        let g = s
            .group_mut(group)
            .ok_or_else(|| no_group_for_key(group, key))?;
        let d = g.delete_consumer(args.get(4));
        out.int(d.unwrap_or(0) as i64);
        Ok(d.is_some())
    })?;
    if deleted {
        ex.notify(crate::shard::notify::STREAM, "xgroup-delconsumer", key);
        ex.dirty(key, 1);
    }
    Ok(())
}

/// The help lines are part of the reply clients show, so they match Redis' own.
const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

pub(super) fn xgroup_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(XGROUP_HELP.len());
    for line in XGROUP_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XACK, XPENDING
// ---------------------------------------------------------------------------------------------

/// XACK key group id [id ...]: how many were pending. A missing key or group acknowledges
/// nothing; every ID is checked first.
pub(super) fn xack(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, now) = (args.get(1), args.get(2), ex.now_ms);
    let acked = ex.with_db(key, |db, out| -> Result<u64, ReplyError> {
        let Some(g) = stream_mut(db, key, now)?.and_then(|s| s.group_mut(group)) else {
            out.int(0);
            return Ok(0);
        };
        for i in 3..args.len() {
            id::parse_id(args.get(i), id::IdForm::Strict, 0)?;
        }
        let mut acked = 0;
        for i in 3..args.len() {
            acked += u64::from(g.ack(id::parse_id(args.get(i), id::IdForm::Strict, 0)?));
        }
        out.int(acked as i64);
        Ok(acked)
    })?;
    if acked > 0 {
        ex.dirty(key, acked);
    }
    Ok(())
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]].
pub(super) fn xpending(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(ReplyError::Syntax);
    }
    let mut min_idle = 0i64;
    let mut range = None;
    if n >= 6 {
        let mut at = 3;
        if args.get(3).eq_ignore_ascii_case(b"idle") {
            min_idle = ll_arg(args.get(4), None)?;
            if n < 8 {
                return Err(ReplyError::Syntax);
            }
            at += 2;
        }
        let count = ll_arg(args.get(at + 2), None)?.max(0) as u64;
        let start = id::interval_start(args.get(at))?;
        let end = id::interval_end(args.get(at + 1))?;
        let consumer = (at + 3 < n).then(|| args.get(at + 3));
        range = Some((start, end, count, consumer));
    }
    let (key, group, now) = (args.get(1), args.get(2), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let g = stream_read(db, key, now)?
            .and_then(|s| s.group(group))
            .ok_or_else(|| no_group(key, group))?;
        let Some((start, end, mut count, consumer)) = range else {
            out.array(4);
            out.int(g.pending_len() as i64);
            let mut p = g.pending();
            match (p.next(), g.pending().next_back()) {
                (Some((first, _)), Some((last, _))) => {
                    id::write_id(out, first);
                    id::write_id(out, last);
                    let at = out.buf.len();
                    let mut k = 0;
                    for (name, c) in g.consumers() {
                        if c.pending_len() == 0 {
                            continue;
                        }
                        out.array(2);
                        out.bulk(name);
                        out.bulk_int(c.pending_len() as i64);
                        k += 1;
                    }
                    insert_header(out.buf, at, b'*', k);
                }
                _ => {
                    out.null();
                    out.null();
                    out.null_array();
                }
            }
            return Ok(());
        };
        if let Some(c) = consumer {
            if g.consumer(c).is_none() {
                out.array(0);
                return Ok(());
            }
        }
        let at = out.buf.len();
        let mut k = 0;
        let mut emit = |id: StreamId, p: &crate::types::stream::Pending, out: &mut Out<'_>| {
            if min_idle != 0 && (now as i64).wrapping_sub(p.delivery_time_ms as i64) < min_idle {
                return 0;
            }
            out.array(4);
            id::write_id(out, id);
            out.bulk(&p.consumer);
            out.int((now as i64).wrapping_sub(p.delivery_time_ms as i64).max(0));
            out.int(p.delivery_count as i64);
            k += 1;
            1
        };
        if start <= end {
            match consumer {
                Some(c) => {
                    for id in g.consumer_pending(c).filter(|&id| id >= start && id <= end) {
                        if count == 0 {
                            break;
                        }
                        if let Some(p) = g.pending_get(id) {
                            count -= emit(id, p, out);
                        }
                    }
                }
                None => {
                    for (id, p) in g.pending_range(start, end) {
                        if count == 0 {
                            break;
                        }
                        count -= emit(id, p, out);
                    }
                }
            }
        }
        insert_header(out.buf, at, b'*', k);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

/// XCLAIM's options after the IDs.
struct ClaimOpts {
    force: bool,
    justid: bool,
    /// Delivery time to set (already checked against now).
    time: u64,
    retrycount: Option<u64>,
    last_id: StreamId,
}

fn parse_claim_opts(args: Args<'_>, from: usize, now: u64) -> Result<ClaimOpts, ReplyError> {
    let mut o = ClaimOpts {
        force: false,
        justid: false,
        time: now,
        retrycount: None,
        last_id: StreamId::MIN,
    };
    let mut delivery: Option<i64> = None;
    let mut j = from;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"force") {
            o.force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            o.justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more > 0 {
            j += 1;
            let idle = ll_arg(args.get(j), Some("Invalid IDLE option argument for XCLAIM"))?;
            delivery = Some((now as i64).wrapping_sub(idle));
        } else if opt.eq_ignore_ascii_case(b"time") && more > 0 {
            j += 1;
            delivery = Some(ll_arg(
                args.get(j),
                Some("Invalid TIME option argument for XCLAIM"),
            )?);
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more > 0 {
            j += 1;
            let n = ll_arg(
                args.get(j),
                Some("Invalid RETRYCOUNT option argument for XCLAIM"),
            )?;
            o.retrycount = (n >= 0).then_some(n as u64);
        } else if opt.eq_ignore_ascii_case(b"lastid") && more > 0 {
            j += 1;
            o.last_id = id::parse_id(args.get(j), id::IdForm::Strict, 0)?;
        } else {
            return Err(ReplyError::Other(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    if let Some(t) = delivery {
        o.time = if t < 0 || t as u64 > now {
            now
        } else {
            t as u64
        };
    }
    Ok(o)
}

/// One journal record to write once the stream is no longer borrowed.
enum ClaimRecord {
    /// XCLAIM of an entry: its ID argument (an index into the line, or an ID) and state.
    Claim(ClaimId, PendingCopy),
    /// XGROUP SETID to the group's last ID and read counter.
    SetId(StreamId, i64),
}

enum ClaimId {
    Arg(usize),
    Id(StreamId),
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
/// [FORCE] [JUSTID] [LASTID id].
pub(super) fn xclaim(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ex.shard.journal.explicit = true;
    let (key, group, consumer, at) = (args.get(1), args.get(2), args.get(3), ex.now_ms);
    let now = stream_clock(ex);
    let records = ex.with_db(key, |db, out| -> Result<Vec<ClaimRecord>, ReplyError> {
        let s = stream_mut(db, key, at)?;
        let Some(s) = s.filter(|s| s.group(group).is_some()) else {
            return Err(no_group(key, group));
        };
        let min_idle = ll_arg(
            args.get(4),
            Some("Invalid min-idle-time argument for XCLAIM"),
        )?
        .max(0) as u64;
        let mut last_arg = 5;
        while last_arg < args.len()
            && id::parse_id(args.get(last_arg), id::IdForm::Strict, 0).is_ok()
        {
            last_arg += 1;
        }
        let o = parse_claim_opts(args, last_arg, now)?;
        let mut records = Vec::new();
        let mut set_last = false;
        let g = s.group_mut(group).expect("checked above");
        if o.last_id > g.last_id {
            g.last_id = o.last_id;
            set_last = true;
        }
        let at = out.buf.len();
        let mut k = 0;
        let mut consumer_seen = false;
        for j in 5..last_arg {
            let id = id::parse_id(args.get(j), id::IdForm::Strict, 0)?;
            let exists = s.get(id).is_some();
            let g = s.group_mut(group).expect("checked above");
            let nack = g.pending_get(id).map(|p| PendingCopy {
                consumer: p.consumer.to_vec(),
                time: p.delivery_time_ms,
                count: p.delivery_count,
            });
            if !exists {
                if let Some(p) = nack {
                    g.ack(id);
                    records.push(ClaimRecord::Claim(ClaimId::Arg(j), p));
                    set_last = false;
                }
                continue;
            }
            let (count, fresh) = match nack {
                Some(p) => {
                    if min_idle > 0 && (now as i64).wrapping_sub(p.time as i64) < min_idle as i64 {
                        continue;
                    }
                    (p.count, false)
                }
                None if o.force => (1, true),
                None => continue,
            };
            let _ = fresh;
            if !consumer_seen {
                g.touch_consumer(consumer, now);
                consumer_seen = true;
            }
            let count = match o.retrycount {
                Some(n) => n,
                None if !o.justid => count + 1,
                None => count,
            };
            g.claim(id, consumer, o.time, count);
            if o.justid {
                id::write_id(out, id);
            } else if let Some(e) = s.get(id) {
                write_entry(out, &e);
            }
            k += 1;
            records.push(ClaimRecord::Claim(
                ClaimId::Arg(j),
                PendingCopy {
                    consumer: consumer.to_vec(),
                    time: o.time,
                    count,
                },
            ));
            set_last = false;
        }
        insert_header(out.buf, at, b'*', k);
        if set_last {
            let g = s.group(group).expect("checked above");
            records.push(ClaimRecord::SetId(g.last_id, g.entries_read));
        }
        Ok(records)
    })?;
    journal_claims(ex, key, group, args, &records);
    Ok(())
}

/// Journals the records of an XCLAIM/XAUTOCLAIM as one block.
fn journal_claims(
    ex: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    args: Args<'_>,
    records: &[ClaimRecord],
) {
    if records.is_empty() {
        return;
    }
    let now = ex.now_ms;
    let last_id = {
        let db = ex.db(key);
        stream_read(db, key, now)
            .ok()
            .flatten()
            .and_then(|s| s.group(group))
            .map_or(StreamId::MIN, |g| g.last_id)
    };
    ex.dirty(key, records.len() as u64);
    let mark = ex.shard_for(key).journal.begin_block();
    for r in records {
        match r {
            ClaimRecord::Claim(ClaimId::Arg(j), p) => {
                journal_pending(ex, key, group, args.get(*j), p, last_id);
            }
            ClaimRecord::Claim(ClaimId::Id(id), p) => {
                let t = IdText::new(*id);
                journal_pending(ex, key, group, t.as_bytes(), p, last_id);
            }
            ClaimRecord::SetId(id, entries_read) => {
                journal_setid(ex, key, group, *id, *entries_read);
            }
        }
    }
    ex.shard_for(key).journal.end_block(mark);
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]: the next start
/// (0-0 when the scan ended), the claimed entries, and the IDs found deleted (dropped from the
/// PEL).
pub(super) fn xautoclaim(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    ex.shard.journal.explicit = true;
    let min_idle = ll_arg(
        args.get(4),
        Some("Invalid min-idle-time argument for XAUTOCLAIM"),
    )?
    .max(0) as u64;
    let start = id::interval_start(args.get(5))?;
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"count") && more > 0 {
            let max = i64::MAX / 16;
            count = match crate::resp::parse::parse_i64(args.get(j + 1)) {
                Some(n) if (1..=max).contains(&n) => n as u64,
                _ => return Err(ReplyError::other("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(ReplyError::Syntax);
        }
        j += 1;
    }
    let (key, group, consumer, at) = (args.get(1), args.get(2), args.get(3), ex.now_ms);
    let now = stream_clock(ex);
    let records = ex.with_db(key, |db, out| -> Result<Vec<ClaimRecord>, ReplyError> {
        let s = stream_mut(db, key, at)?;
        let Some(s) = s.filter(|s| s.group(group).is_some()) else {
            return Err(no_group(key, group));
        };
        if count >= crate::constants::STREAM_AUTOCLAIM_COUNT_UNALLOCATABLE {
            return Err(ReplyError::other(
                "ERR Insufficient memory, failed allocating transient memory, COUNT too high.",
            ));
        }
        let mut attempts = count.saturating_mul(crate::constants::STREAM_AUTOCLAIM_ATTEMPTS_FACTOR);
        let mut left = count;
        let mut records = Vec::new();
        let mut deleted = Vec::new();
        let mut claimed = Vec::new();
        let mut consumer_seen = false;
        let mut cursor = start;
        let mut next = None;
        loop {
            if attempts == 0 || left == 0 {
                next = s.group(group).and_then(|g| {
                    g.pending_range(cursor, StreamId::MAX)
                        .next()
                        .map(|(id, _)| id)
                });
                break;
            }
            attempts -= 1;
            let g = s.group(group).expect("checked above");
            let Some((id, p)) = g.pending_range(cursor, StreamId::MAX).next() else {
                break;
            };
            let p = PendingCopy {
                consumer: p.consumer.to_vec(),
                time: p.delivery_time_ms,
                count: p.delivery_count,
            };
            cursor = match id.next() {
                Some(c) => c,
                None => {
                    attempts = 0;
                    StreamId::MAX
                }
            };
            let exists = s.get(id).is_some();
            let g = s.group_mut(group).expect("checked above");
            if !exists {
                g.ack(id);
                records.push(ClaimRecord::Claim(ClaimId::Id(id), p));
                deleted.push(id);
                left -= 1;
                continue;
            }
            if min_idle > 0 && (now as i64).wrapping_sub(p.time as i64) < min_idle as i64 {
                continue;
            }
            if !consumer_seen {
                g.touch_consumer(consumer, now);
                consumer_seen = true;
            }
            let n = if justid { p.count } else { p.count + 1 };
            g.claim(id, consumer, now, n);
            claimed.push(id);
            records.push(ClaimRecord::Claim(
                ClaimId::Id(id),
                PendingCopy {
                    consumer: consumer.to_vec(),
                    time: now,
                    count: n,
                },
            ));
            left -= 1;
            if id == StreamId::MAX {
                break;
            }
        }
        out.array(3);
        id::write_id(out, next.unwrap_or(StreamId::MIN));
        out.array(claimed.len());
        for &id in &claimed {
            if justid {
                id::write_id(out, id);
            } else if let Some(e) = s.get(id) {
                write_entry(out, &e);
            }
        }
        out.array(deleted.len());
        for &id in &deleted {
            id::write_id(out, id);
        }
        Ok(records)
    })?;
    journal_claims(ex, key, group, args, &records);
    Ok(())
}
