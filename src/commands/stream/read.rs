//! XLEN, XRANGE, XREVRANGE, XREAD and XREADGROUP. XREAD/XREADGROUP with BLOCK that find
//! nothing ask to wait (`shard::blocking`) with `$` resolved to the stream's last ID and a
//! COUNT of 1000 when none was given, as Redis serves a blocked read; a write to one of the
//! streams runs them again, answering for that stream only. XREADGROUP journals what it
//! changed as Redis propagates it: an XCLAIM per delivered entry, or XGROUP
//! CREATECONSUMER/SETID under NOACK.

use super::id::{self, IdText};
use super::*;
use crate::constants::STREAM_BLOCKED_READ_DEFAULT_COUNT;
use crate::resp::OwnedArgs;

/// XLEN key.
pub(super) fn xlen(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let n = stream_read(ex.db(key), key, now)?.map_or(0, |s| s.len());
    ex.out.int(n as i64);
    Ok(())
}

/// XRANGE key start end [COUNT n].
pub(super) fn xrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range(ex, args, false)
}

/// XREVRANGE key end start [COUNT n].
pub(super) fn xrevrange(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    range(ex, args, true)
}

fn range(ex: &mut Exec<'_>, args: Args<'_>, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (3, 2) } else { (2, 3) };
    let start = id::interval_start(args.get(start_arg))?;
    let end = id::interval_end(args.get(end_arg))?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if args.get(j).eq_ignore_ascii_case(b"count") && j + 1 < args.len() {
            count = ll_arg(args.get(j + 1), None)?.max(0);
            j += 2;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| {
        let Some(s) = stream_read(db, key, now)? else {
            out.array(0);
            return Ok(());
        };
        if count == 0 {
            out.null_array();
        } else {
            write_range(out, s, start, end, count.max(0) as u64, rev);
        }
        Ok(())
    })
}

/// What an XREAD/XREADGROUP line asks for.
struct ReadArgs<'a> {
    /// BLOCK in milliseconds (None: no BLOCK).
    block_ms: Option<u64>,
    /// COUNT (0: all).
    count: u64,
    count_given: bool,
    /// Index of the first key and the number of streams.
    first_key: usize,
    streams: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
}

/// Redis' option loop of `xreadCommand`, errors in its order.
fn parse_read<'a>(
    ex: &Exec<'_>,
    args: Args<'a>,
    xreadgroup: bool,
) -> Result<ReadArgs<'a>, ReplyError> {
    let mut r = ReadArgs {
        block_ms: None,
        count: 0,
        count_given: false,
        first_key: 0,
        streams: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args.get(i);
        if o.eq_ignore_ascii_case(b"block") && more > 0 {
            if in_script(ex) {
                return Err(ReplyError::Other(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(args.get(0))
                )));
            }
            i += 1;
            let t = ll_arg(
                args.get(i),
                Some("timeout is not an integer or out of range"),
            )?;
            if t < 0 {
                return Err(ReplyError::TimeoutNegative);
            }
            r.block_ms = Some(t as u64);
        } else if o.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            r.count = ll_arg(args.get(i), None)?.max(0) as u64;
            r.count_given = true;
        } else if o.eq_ignore_ascii_case(b"streams") && more > 0 {
            let n = args.len() - i - 1;
            if !n.is_multiple_of(2) {
                return Err(ReplyError::other(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' \
                     must be specified.",
                ));
            }
            r.first_key = i + 1;
            r.streams = n / 2;
            break;
        } else if o.eq_ignore_ascii_case(b"group") && more >= 2 {
            if !xreadgroup {
                return Err(ReplyError::other(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD \
                     instead.",
                ));
            }
            r.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"noack") {
            if !xreadgroup {
                return Err(ReplyError::other(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD \
                     instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 1;
    }
    if r.first_key == 0 {
        return Err(ReplyError::Syntax);
    }
    if xreadgroup && r.group.is_none() {
        return Err(ReplyError::other("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// A command of a running script (its global state is taken for the run).
fn in_script(ex: &Exec<'_>) -> bool {
    ex.shard.script_global.is_none()
}

/// Where a stream is read from.
#[derive(Clone, Copy)]
enum From {
    /// Entries after this ID.
    After(StreamId),
    /// XREADGROUP `>`: entries the group has not delivered yet.
    New,
}

/// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...].
pub(super) fn xread(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    read(ex, args, false)
}

/// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key ... id ...
pub(super) fn xreadgroup(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    // What it changed is journaled explicitly (or not at all), never the line itself.
    ex.shard.journal.explicit = true;
    read(ex, args, true)
}

fn read(ex: &mut Exec<'_>, args: Args<'_>, xreadgroup: bool) -> CmdResult {
    let r = parse_read(ex, args, xreadgroup)?;
    let now = ex.now_ms;
    let rerun = ex.shard.blocked.rerun;
    // A waiter woken by a write to one stream answers for that stream alone (its first
    // mention), even when others got entries too: Redis 7.0 serves blocked readers per ready
    // key. A polled waiter (streams on several shards) answers for the first stream that has
    // something.
    let woken = if rerun {
        ex.shard.blocked.woken.take()
    } else {
        None
    };
    let streams = match woken.and_then(|k| (0..r.streams).find(|&i| args.get(r.first_key + i) == k))
    {
        Some(i) => i..i + 1,
        None => 0..r.streams,
    };
    let mut froms = Vec::with_capacity(streams.len());
    for i in streams {
        let key = args.get(r.first_key + i);
        let raw = args.get(r.first_key + r.streams + i);
        let s = stream_read(ex.db(key), key, now)?;
        if let Some((group, _)) = r.group {
            if rerun && s.is_some_and(|s| s.group(group).is_none()) {
                return Err(ReplyError::other(
                    "NOGROUP the consumer group this client was blocked on no longer exists",
                ));
            }
            if s.and_then(|s| s.group(group)).is_none() {
                return Err(ReplyError::Other(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP \
                     option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(group)
                )));
            }
        }
        froms.push((
            i,
            if raw == b"$" {
                if xreadgroup {
                    return Err(ReplyError::other(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read \
                     the history of this consumer by specifying a proper ID, or use the > ID to \
                     get new messages. The $ ID would just return an empty result set.",
                ));
                }
                From::After(s.map_or(StreamId::MIN, |s| s.last_id()))
            } else if raw == b">" {
                if !xreadgroup {
                    return Err(ReplyError::other(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP \
                     <group> <consumer> option.",
                ));
                }
                From::New
            } else {
                From::After(id::parse_id(raw, id::IdForm::Strict, 0)?)
            },
        ));
    }

    let at = ex.out.buf.len();
    let mut served = 0u64;
    for &(i, from) in &froms {
        let key = args.get(r.first_key + i);
        if serve_one(ex, key, from, &r)? {
            served += 1;
            if rerun {
                break;
            }
        }
    }
    if served > 0 {
        if ex.out.resp3() {
            insert_header(ex.out.buf, at, b'%', served);
        } else {
            insert_header(ex.out.buf, at, b'*', served);
        }
        return Ok(());
    }
    match r.block_ms {
        Some(ms) if !ex.shard.no_block => block(ex, args, &r, &froms, ms),
        _ => ex.out.null_array(),
    }
    Ok(())
}

/// Serves one stream if it has something for the reader, writing `key` and its entries
/// (behind a `*2` in RESP2). False when there is nothing to serve.
fn serve_one(
    ex: &mut Exec<'_>,
    key: &[u8],
    from: From,
    r: &ReadArgs<'_>,
) -> Result<bool, ReplyError> {
    let (now, clock) = (ex.now_ms, stream_clock(ex));
    let resp3 = ex.out.resp3();
    let Some((group, consumer)) = r.group else {
        let From::After(gt) = from else {
            return Ok(false);
        };
        return ex.with_db(key, |db, out| {
            let Some(s) = stream_read(db, key, now)? else {
                return Ok(false);
            };
            if s.last_entry_id().is_none_or(|last| last <= gt) {
                return Ok(false);
            }
            if !resp3 {
                out.array(2);
            }
            out.bulk(key);
            let start = gt.next().unwrap_or(StreamId::MAX);
            write_range(out, s, start, StreamId::MAX, r.count, false);
            Ok(true)
        });
    };
    let noack = r.noack;
    let count = r.count;
    let outcome = ex.with_db(key, |db, out| -> Result<Option<GroupRead>, ReplyError> {
        let Some(s) = stream_mut(db, key, now)? else {
            return Ok(None);
        };
        let Some(g) = s.group(group) else {
            return Ok(None);
        };
        let gt = match from {
            From::After(id) => Some(id),
            From::New => {
                let behind = s.last_entry_id().is_some_and(|last| last > g.last_id);
                if !behind {
                    return Ok(None);
                }
                None
            }
        };
        let created = g.consumer(consumer).is_none();
        if !resp3 {
            out.array(2);
        }
        out.bulk(key);
        let mut read = GroupRead {
            created,
            delivered: Vec::new(),
            last_id: g.last_id,
            entries_read: g.entries_read,
        };
        match gt {
            Some(after) => history(out, s, group, consumer, after, count, clock),
            None => {
                deliver_new(out, s, group, consumer, count, noack, clock, &mut read);
            }
        }
        Ok(Some(read))
    })?;
    let Some(read) = outcome else {
        return Ok(false);
    };
    ex.dirty(key, 1);
    journal_group_read(ex, key, group, consumer, noack, &read);
    Ok(true)
}

/// What a group read changed, for the journal.
struct GroupRead {
    created: bool,
    /// (ID, delivery time) of each entry newly delivered into the PEL.
    delivered: Vec<StreamId>,
    last_id: StreamId,
    entries_read: i64,
}

/// `>`: the entries after the group's last delivered ID go to `consumer` (its PEL unless
/// NOACK); the group's last ID and read counter follow, as Redis 7.0 counts them.
#[allow(clippy::too_many_arguments)]
fn deliver_new(
    out: &mut Out<'_>,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    count: u64,
    noack: bool,
    now: u64,
    read: &mut GroupRead,
) {
    let start = read.last_id.next().unwrap_or(StreamId::MAX);
    let at = out.buf.len();
    let mut ids = Vec::new();
    s.range(start, StreamId::MAX, false, |e| {
        write_entry(out, &e);
        ids.push(e.id);
        count == 0 || (ids.len() as u64) < count
    });
    insert_header(out.buf, at, b'*', ids.len() as u64);
    // The read counter moves entry by entry, as Redis does it.
    let mut entries_read = read.entries_read;
    for &id in &ids {
        if entries_read != -1 && !s.range_has_tombstones(Some(id), None) {
            entries_read += 1;
        } else if s.entries_added() > 0 {
            entries_read = s.estimate_entries_read(id).map_or(-1, |v| v as i64);
        }
    }
    let Some(g) = s.group_mut(group) else { return };
    g.touch_consumer(consumer, now);
    if let Some(&last) = ids.last() {
        g.last_id = last;
        g.entries_read = entries_read;
    }
    if !noack {
        for &id in &ids {
            g.claim(id, consumer, now, 1);
        }
        read.delivered = ids;
    } else {
        read.delivered.clear();
        if !ids.is_empty() {
            read.delivered.push(StreamId::MIN); // marks "something was read"
        }
    }
    read.last_id = g.last_id;
    read.entries_read = g.entries_read;
}

/// An explicit ID: the consumer's own pending entries after it, each delivered once more (an
/// entry deleted meanwhile shows as its ID with a null).
fn history(
    out: &mut Out<'_>,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    after: StreamId,
    count: u64,
    now: u64,
) {
    let Some(start) = after.next() else {
        out.array(0);
        return;
    };
    let Some(g) = s.group_mut(group) else { return };
    g.touch_consumer(consumer, now);
    let mut ids: Vec<(StreamId, u64)> = Vec::new();
    for id in g.consumer_pending(consumer).filter(|&id| id >= start) {
        if count != 0 && ids.len() as u64 >= count {
            break;
        }
        let n = g.pending_get(id).map_or(0, |p| p.delivery_count);
        ids.push((id, n));
    }
    out.array(ids.len());
    let mut live = Vec::with_capacity(ids.len());
    for &(id, n) in &ids {
        match s.get(id) {
            Some(e) => {
                write_entry(out, &e);
                live.push((id, n));
            }
            None => {
                out.array(2);
                id::write_id(out, id);
                out.null_array();
            }
        }
    }
    if let Some(g) = s.group_mut(group) {
        for (id, n) in live {
            g.claim(id, consumer, now, n + 1);
        }
    }
}

/// Journals a group read as Redis 7.0 propagates it: one XCLAIM per entry delivered into the
/// PEL (which carries the group's last ID), or under NOACK the consumer's creation and an
/// XGROUP SETID. History reads are not propagated (Redis does not either).
fn journal_group_read(
    ex: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    noack: bool,
    read: &GroupRead,
) {
    if read.delivered.is_empty() {
        return;
    }
    let mark = ex.shard_for(key).journal.begin_block();
    if noack {
        if read.created {
            ex.journal(key, &[b"XGROUP", b"CREATECONSUMER", key, group, consumer]);
        }
        super::group::journal_setid(ex, key, group, read.last_id, read.entries_read);
    } else {
        let mut t = [0u8; 21];
        let time = int_text(stream_clock(ex) as i64, &mut t);
        for &id in &read.delivered {
            // Each XCLAIM carries the group's last ID as it was after that entry: its own.
            let idt = IdText::new(id);
            let idb = idt.as_bytes();
            super::group::journal_xclaim(ex, key, group, consumer, idb, time, b"1", idb);
        }
    }
    ex.shard_for(key).journal.end_block(mark);
}

/// `v` (possibly negative) in decimal, in `buf`.
pub(super) fn int_text(v: i64, buf: &mut [u8; 21]) -> &[u8] {
    let mut d = [0u8; 20];
    let digits = id::decimal(v.unsigned_abs(), &mut d);
    let neg = usize::from(v < 0);
    buf[0] = b'-';
    buf[neg..neg + digits.len()].copy_from_slice(digits);
    &buf[..neg + digits.len()]
}

/// Parks the read: its keys, deadline, and the line to run again, with `$` resolved and a
/// COUNT of 1000 when none was given.
fn block(ex: &mut Exec<'_>, args: Args<'_>, r: &ReadArgs<'_>, froms: &[(usize, From)], ms: u64) {
    let keys: Vec<Vec<u8>> = (0..r.streams)
        .map(|i| args.get(r.first_key + i).to_vec())
        .collect();
    let mut line = OwnedArgs::default();
    let ids_at = r.first_key + r.streams;
    for i in 0..args.len() {
        let a = args.get(i);
        if i + 1 == r.first_key && !r.count_given {
            // Just before STREAMS, where no option value can make a key search go astray.
            line.push(b"COUNT");
            let mut b = [0u8; 21];
            line.push(int_text(STREAM_BLOCKED_READ_DEFAULT_COUNT as i64, &mut b));
        }
        let from = froms.iter().find(|f| i >= ids_at && f.0 == i - ids_at);
        match from {
            Some((_, From::After(id))) if a == b"$" => line.push(IdText::new(*id).as_bytes()),
            _ => line.push(a),
        }
    }
    let at = crate::commands::list::deadline_ms(ex.now_ms, ms).map_or(0, |at| at.max(1));
    ex.shard.block_request = Some(crate::shard::blocking::BlockRequest {
        keys,
        deadline_ms: at,
        args: Some(line),
    });
}
