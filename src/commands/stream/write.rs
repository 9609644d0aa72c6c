//! XADD, XTRIM, XDEL and XSETID: the writes that add, trim and delete entries, with Redis
//! 7.0's argument rules and the forms it propagates (the ID XADD chose, `~` trims rewritten
//! as exact ones to the length or first ID they reached).

use super::id::{self, IdText};
use super::*;
use crate::types::stream::Trim;

/// The trimming part of XADD and XTRIM.
#[derive(Default)]
pub(super) struct TrimArgs {
    pub how: Option<Trim>,
    pub approx: bool,
    /// LIMIT as given (0 when not).
    pub limit: i64,
    pub limit_given: bool,
    /// Where the threshold argument is (the `~`/`=` is just before it when given).
    pub threshold_at: usize,
    /// Where an explicit operator (`~` or `=`) is.
    pub operator_at: Option<usize>,
}

/// XADD's options and ID.
struct AddArgs {
    trim: TrimArgs,
    nomkstream: bool,
    /// The explicit ID and whether its sequence was given (false for `ms-*`).
    id: Option<(StreamId, bool)>,
    id_at: usize,
}

const MAXLEN_MINID_CLASH: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";

/// Redis' `streamParseAddOrTrimArgsOrReply`: options from argument 2 on; for XADD, up to the
/// ID (whose position is returned).
fn parse_add_or_trim(ex: &Exec<'_>, args: Args<'_>, xadd: bool) -> Result<AddArgs, ReplyError> {
    let mut a = AddArgs {
        trim: TrimArgs::default(),
        nomkstream: false,
        id: None,
        id_at: args.len(),
    };
    let t = &mut a.trim;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            a.id_at = i;
            break;
        }
        let maxlen = opt.eq_ignore_ascii_case(b"maxlen");
        if (maxlen || opt.eq_ignore_ascii_case(b"minid")) && more > 0 {
            if t.how.is_some() {
                return Err(ReplyError::other(MAXLEN_MINID_CLASH));
            }
            t.approx = false;
            t.operator_at = None;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                t.approx = next == b"~";
                t.operator_at = Some(i + 1);
                i += 1;
            }
            let raw = args.get(i + 1);
            t.how = Some(if maxlen {
                let n = ll_arg(raw, None)?;
                if n < 0 {
                    return Err(ReplyError::other("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(id::parse_id(raw, id::IdForm::Strict, 0)?)
            });
            i += 1;
            t.threshold_at = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            t.limit = ll_arg(args.get(i + 1), None)?;
            if t.limit < 0 {
                return Err(ReplyError::other("ERR The LIMIT argument must be >= 0."));
            }
            t.limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(id::parse_xadd_id(opt)?);
            a.id_at = i;
            break;
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 1;
    }
    if t.limit != 0 && t.how.is_none() {
        return Err(ReplyError::other(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && t.how.is_none() {
        return Err(ReplyError::other(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if replaying(ex) {
        // A master's stream or an AOF: trims were made exact; LIMIT no longer applies.
        t.limit = 0;
    } else if t.limit_given {
        if !t.approx {
            return Err(ReplyError::other(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if t.approx {
        let entries = node_limits().1 as i64;
        t.limit = entries.saturating_mul(100);
        if t.limit <= 0 || t.limit > crate::constants::STREAM_APPROX_TRIM_LIMIT_MAX {
            t.limit = crate::constants::STREAM_APPROX_TRIM_DEFAULT_LIMIT;
        }
    } else {
        t.limit = 0;
    }
    Ok(a)
}

/// True for records Redis obeys without the client checks: the AOF being loaded, and a
/// master's stream (which a replica applies at time 0). Their trims were made exact, and a
/// LIMIT they still carry no longer applies.
fn replaying(ex: &Exec<'_>) -> bool {
    ex.now_ms == 0 || (ex.shard.no_block && !ex.shard.journal.enabled)
}

/// Applies the trim of `t` to `s`; the entries removed.
pub(super) fn apply_trim(s: &mut StreamValue, t: &TrimArgs) -> u64 {
    let Some(how) = &t.how else { return 0 };
    let how = match how {
        Trim::MaxLen(n) => Trim::MaxLen(*n),
        Trim::MinId(id) => Trim::MinId(*id),
    };
    let limit = (t.limit > 0).then_some(t.limit as u64);
    s.trim(how, t.approx, limit)
}

/// The threshold an approximate trim reached, as Redis rewrites it for propagation: the
/// length for MAXLEN, the first entry's ID for MINID.
fn reached_threshold(s: &StreamValue, t: &TrimArgs) -> Threshold {
    match t.how {
        Some(Trim::MinId(_)) => Threshold::Id(IdText::new(s.first_id().unwrap_or(StreamId::MAX))),
        _ => Threshold::Len(IdText::new(StreamId {
            ms: s.len(),
            seq: 0,
        })),
    }
}

enum Threshold {
    Id(IdText),
    /// A length, kept in an `IdText` (its "-0" suffix is cut off when used).
    Len(IdText),
}

impl Threshold {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Threshold::Id(t) => t.as_bytes(),
            Threshold::Len(t) => {
                let b = t.as_bytes();
                &b[..b.len() - 2]
            }
        }
    }
}

/// Journals `args` with some arguments replaced, without allocating for ordinary lines.
fn journal_edited(ex: &mut Exec<'_>, key: &[u8], args: Args<'_>, replace: &[(usize, &[u8])]) {
    let mut stack: [&[u8]; 32] = [&[]; 32];
    let mut heap: Vec<&[u8]> = Vec::new();
    let mut n = 0;
    for i in 0..args.len() {
        let a = replace
            .iter()
            .find(|(at, _)| *at == i)
            .map_or(args.get(i), |(_, v)| *v);
        if n < stack.len() {
            stack[n] = a;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(a);
        }
        n += 1;
    }
    if heap.is_empty() {
        ex.journal(key, &stack[..n]);
    } else {
        ex.journal(key, &heap);
    }
}

/// The trim rewrite of an approximate trim, as Redis propagates it: `~` becomes `=` and the
/// threshold what was reached (LIMIT stays; replays ignore it). Fills `replace`; returns how
/// many.
fn trim_edits<'t>(
    t: &TrimArgs,
    reached: &'t Threshold,
    replace: &mut [(usize, &'t [u8])],
) -> usize {
    let mut r = 0;
    if let Some(op) = t.operator_at {
        replace[r] = (op, b"=");
        r += 1;
    }
    replace[r] = (t.threshold_at, reached.as_bytes());
    r + 1
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
pub(super) fn xadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let a = parse_add_or_trim(ex, args, true)?;
    let fields_at = a.id_at + 1;
    let nfields = args.len().saturating_sub(fields_at);
    if nfields < 2 || nfields % 2 == 1 {
        return Err(ReplyError::Arity("xadd".into()));
    }
    if let Some((id, true)) = a.id {
        if id == StreamId::MIN {
            return Err(ReplyError::other(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let (key, now, clock) = (args.get(1), ex.now_ms, stream_clock(ex));
    let (max_bytes, max_entries) = node_limits();
    let mut stack: [(&[u8], &[u8]); 8] = [(&[], &[]); 8];
    let mut heap = Vec::new();
    let pairs = (fields_at..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)));
    let fields: &[(&[u8], &[u8])] = if nfields / 2 <= stack.len() {
        for (slot, p) in stack.iter_mut().zip(pairs) {
            *slot = p;
        }
        &stack[..nfields / 2]
    } else {
        heap.extend(pairs);
        &heap
    };
    let done = ex.with_db(
        key,
        |db, out| -> Result<Option<(StreamId, Option<Threshold>)>, ReplyError> {
            let s = match stream_mut(db, key, now)? {
                Some(s) => s,
                None if a.nomkstream => {
                    out.null();
                    return Ok(None);
                }
                None => {
                    db.set(key, Value::Stream(Box::default()), 0, now);
                    stream_mut(db, key, now)?.expect("just created")
                }
            };
            let last = s.last_id();
            if last == StreamId::MAX {
                return Err(ReplyError::other(
                    "ERR The stream has exhausted the last possible ID, unable to add more items",
                ));
            }
            let id = match a.id {
                None => next_auto_id(last, clock),
                Some((id, true)) => id,
                Some((id, false)) if id.ms == last.ms => match last.seq.checked_add(1) {
                    Some(seq) => StreamId { ms: id.ms, seq },
                    // Redis fails here without setting errno: its other append error shows.
                    None => {
                        return Err(ReplyError::other("ERR Elements are too large to be stored"))
                    }
                },
                Some((id, false)) => id,
            };
            if id <= last {
                return Err(too_small());
            }
            s.append(id, fields, max_bytes, max_entries);
            id::write_id(out, id);
            let mut reached = None;
            if a.trim.how.is_some() {
                apply_trim(s, &a.trim);
                if a.trim.approx {
                    reached = Some(reached_threshold(s, &a.trim));
                }
            }
            Ok(Some((id, reached)))
        },
    )?;
    let Some((id, reached)) = done else {
        return Ok(());
    };
    ex.notify(crate::shard::notify::STREAM, "xadd", key);
    ex.dirty(key, 1);
    let id_given_whole = matches!(a.id, Some((_, true)));
    if id_given_whole && reached.is_none() {
        return Ok(()); // journaled as it came
    }
    let text = IdText::new(id);
    let mut replace: [(usize, &[u8]); 3] = [(0, &[]); 3];
    let mut r = 0;
    if let Some(reached) = &reached {
        r = trim_edits(&a.trim, reached, &mut replace);
    }
    if !id_given_whole {
        replace[r] = (a.id_at, text.as_bytes());
        r += 1;
    }
    journal_edited(ex, key, args, &replace[..r]);
    Ok(())
}

fn too_small() -> ReplyError {
    ReplyError::other(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item",
    )
}

/// The ID of `XADD *`: the clock when it moved past the last ID, else the last ID plus one.
fn next_auto_id(last: StreamId, now_ms: u64) -> StreamId {
    if now_ms > last.ms {
        StreamId { ms: now_ms, seq: 0 }
    } else {
        // The caller refused a stream whose last ID is the largest one.
        last.next().unwrap_or(StreamId::MAX)
    }
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]: the entries removed.
pub(super) fn xtrim(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let a = parse_add_or_trim(ex, args, false)?;
    let (key, now) = (args.get(1), ex.now_ms);
    let (deleted, reached) = ex.with_db(key, |db, out| -> Result<_, ReplyError> {
        let Some(s) = stream_mut(db, key, now)? else {
            out.int(0);
            return Ok((0, None));
        };
        let deleted = apply_trim(s, &a.trim);
        out.int(deleted as i64);
        let reached = (deleted > 0 && a.trim.approx).then(|| reached_threshold(s, &a.trim));
        Ok((deleted, reached))
    })?;
    if deleted == 0 {
        return Ok(());
    }
    ex.notify(crate::shard::notify::STREAM, "xtrim", key);
    ex.dirty(key, deleted);
    if let Some(reached) = reached {
        let mut replace: [(usize, &[u8]); 3] = [(0, &[]); 3];
        let r = trim_edits(&a.trim, &reached, &mut replace);
        journal_edited(ex, key, args, &replace[..r]);
    }
    Ok(())
}

/// XDEL key id [id ...]: the entries deleted. Every ID is checked before any is deleted.
pub(super) fn xdel(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(1), ex.now_ms);
    let deleted = ex.with_db(key, |db, out| -> Result<u64, ReplyError> {
        let Some(s) = stream_mut(db, key, now)? else {
            out.int(0);
            return Ok(0);
        };
        for i in 2..args.len() {
            id::parse_id(args.get(i), id::IdForm::Strict, 0)?;
        }
        let mut deleted = 0;
        for i in 2..args.len() {
            let id = id::parse_id(args.get(i), id::IdForm::Strict, 0)?;
            deleted += u64::from(s.delete(id));
        }
        out.int(deleted as i64);
        Ok(deleted)
    })?;
    if deleted > 0 {
        ex.notify(crate::shard::notify::STREAM, "xdel", key);
        ex.dirty(key, deleted);
    }
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
pub(super) fn xsetid(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let id = id::parse_id(args.get(2), id::IdForm::Strict, 0)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"entriesadded") && more > 0 {
            entries_added = ll_arg(args.get(i + 1), None)?;
            if entries_added < 0 {
                return Err(ReplyError::other("ERR entries_added must be positive"));
            }
        } else if opt.eq_ignore_ascii_case(b"maxdeletedid") && more > 0 {
            max_deleted = id::parse_id(args.get(i + 1), id::IdForm::Strict, 0)?;
            if id < max_deleted {
                return Err(ReplyError::other(
                    "ERR The ID specified in XSETID is smaller than the provided \
                     max_deleted_entry_id",
                ));
            }
        } else {
            return Err(ReplyError::Syntax);
        }
        i += 2;
    }
    let (key, now) = (args.get(1), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let s = stream_mut(db, key, now)?.ok_or(ReplyError::NoSuchKey)?;
        if let Some(top) = s.last_entry_id() {
            if id < top {
                return Err(ReplyError::other(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if entries_added != -1 && s.len() > entries_added as u64 {
                return Err(ReplyError::other(
                    "ERR The entries_added specified in XSETID is smaller than the target \
                     stream length",
                ));
            }
        }
        let added = if entries_added == -1 {
            s.entries_added()
        } else {
            entries_added as u64
        };
        let max_del = if max_deleted == StreamId::MIN {
            s.max_deleted_id()
        } else {
            max_deleted
        };
        s.set_meta(id, added, max_del);
        out.ok();
        Ok(())
    })?;
    ex.notify(crate::shard::notify::STREAM, "xsetid", key);
    ex.dirty(key, 1);
    Ok(())
}
