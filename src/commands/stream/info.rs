//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP: Redis 7.0's
//! fields, in its order, as RESP3 maps (flat arrays in RESP2).

use super::id;
use super::*;
use crate::commands::ConnCtx;
use crate::constants::STREAM_INFO_FULL_DEFAULT_COUNT;
use crate::resp::error::sanitize_for_error;

fn sub_syntax(args: Args<'_>) -> ReplyError {
    ReplyError::SubcommandOrArity {
        cmd: "XINFO",
        sub: sanitize_for_error(args.get(1)),
    }
}

/// The stream of an XINFO subcommand: "no such key" when absent.
fn info_stream<'d>(db: &'d mut Db, key: &[u8], now: u64) -> Result<&'d StreamValue, ReplyError> {
    stream_read(db, key, now)?.ok_or(ReplyError::NoSuchKey)
}

/// The fields XINFO STREAM starts with, FULL or not.
fn write_head(out: &mut Out<'_>, s: &StreamValue) {
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.radix_tree_nodes() as i64);
    out.bulk(b"last-generated-id");
    id::write_id(out, s.last_id());
    out.bulk(b"max-deleted-entry-id");
    id::write_id(out, s.max_deleted_id());
    out.bulk(b"entries-added");
    out.int(s.entries_added() as i64);
    out.bulk(b"recorded-first-entry-id");
    id::write_id(out, s.first_id_raw());
}

/// An integer, or a null when unknown (entries-read, lag).
fn int_or_null(out: &mut Out<'_>, v: Option<u64>) {
    match v {
        Some(v) => out.int(v as i64),
        None => out.null(),
    }
}

/// A group's last delivered ID, read counter and lag (null when unknown).
fn write_progress(out: &mut Out<'_>, s: &StreamValue, g: &crate::types::stream::Group) {
    out.bulk(b"last-delivered-id");
    id::write_id(out, g.last_id);
    out.bulk(b"entries-read");
    int_or_null(out, (g.entries_read >= 0).then_some(g.entries_read as u64));
    out.bulk(b"lag");
    match lag(s, g) {
        Some(v) => out.int(v),
        None => out.null(),
    }
}

/// A group's lag as Redis 7.0 reports it: entries added minus the group's read counter (when
/// no deleted entry lies ahead of it) or its estimate, signed (a counter set past the entries
/// added gives a negative lag); None when it cannot be known.
fn lag(s: &StreamValue, g: &crate::types::stream::Group) -> Option<i64> {
    let added = s.entries_added() as i64;
    if added == 0 {
        return Some(0);
    }
    if g.entries_read >= 0 && !s.range_has_tombstones(Some(g.last_id), None) {
        return Some(added.wrapping_sub(g.entries_read));
    }
    s.estimate_entries_read(g.last_id)
        .map(|read| added.wrapping_sub(read as i64))
}

fn write_edge(out: &mut Out<'_>, s: &StreamValue, rev: bool) {
    let mut found = false;
    s.range(StreamId::MIN, StreamId::MAX, rev, |e| {
        write_entry(out, &e);
        found = true;
        false
    });
    if !found {
        out.null();
    }
}

/// XINFO STREAM key [FULL [COUNT n]].
pub(super) fn xinfo_stream(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(2), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let s = info_stream(db, key, now)?;
        let opts = args.len() - 3;
        let mut count = STREAM_INFO_FULL_DEFAULT_COUNT;
        if opts > 0 {
            if (opts != 1 && opts != 3) || !args.get(3).eq_ignore_ascii_case(b"full") {
                return Err(sub_syntax(args));
            }
            if opts == 3 {
                if !args.get(4).eq_ignore_ascii_case(b"count") {
                    return Err(sub_syntax(args));
                }
                let n = ll_arg(args.get(5), None)?;
                count = if n < 0 {
                    STREAM_INFO_FULL_DEFAULT_COUNT
                } else {
                    n as u64
                };
            }
        }
        if opts == 0 {
            out.map(10);
            write_head(out, s);
            out.bulk(b"groups");
            out.int(s.groups_len() as i64);
            out.bulk(b"first-entry");
            write_edge(out, s, false);
            out.bulk(b"last-entry");
            write_edge(out, s, true);
            return Ok(());
        }
        out.map(9);
        write_head(out, s);
        out.bulk(b"entries");
        write_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
        out.bulk(b"groups");
        out.array(s.groups_len());
        let cap = |n: usize| if count == 0 { n } else { n.min(count as usize) };
        for (name, g) in s.groups() {
            out.map(7);
            out.bulk(b"name");
            out.bulk(name);
            write_progress(out, s, g);
            out.bulk(b"pel-count");
            out.int(g.pending_len() as i64);
            out.bulk(b"pending");
            out.array(cap(g.pending_len()));
            for (id, p) in g.pending().take(cap(g.pending_len())) {
                out.array(4);
                id::write_id(out, id);
                out.bulk(&p.consumer);
                out.int(p.delivery_time_ms as i64);
                out.int(p.delivery_count as i64);
            }
            out.bulk(b"consumers");
            out.array(g.consumers_len());
            for (cname, c) in g.consumers() {
                out.map(4);
                out.bulk(b"name");
                out.bulk(cname);
                out.bulk(b"seen-time");
                out.int(c.seen_time_ms as i64);
                out.bulk(b"pel-count");
                out.int(c.pending_len() as i64);
                out.bulk(b"pending");
                let n = cap(c.pending_len());
                out.array(n);
                for id in c.pending().take(n) {
                    let p = g.pending_get(id);
                    out.array(3);
                    id::write_id(out, id);
                    out.int(p.map_or(0, |p| p.delivery_time_ms) as i64);
                    out.int(p.map_or(0, |p| p.delivery_count) as i64);
                }
            }
        }
        Ok(())
    })
}

/// XINFO GROUPS key.
pub(super) fn xinfo_groups(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, now) = (args.get(2), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let s = info_stream(db, key, now)?;
        out.array(s.groups_len());
        for (name, g) in s.groups() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers_len() as i64);
            out.bulk(b"pending");
            out.int(g.pending_len() as i64);
            write_progress(out, s, g);
        }
        Ok(())
    })
}

/// XINFO CONSUMERS key group.
pub(super) fn xinfo_consumers(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let (key, group, now) = (args.get(2), args.get(3), ex.now_ms);
    ex.with_db(key, |db, out| -> CmdResult {
        let s = info_stream(db, key, now)?;
        let g = s.group(group).ok_or_else(|| no_group_for_key(group, key))?;
        out.array(g.consumers_len());
        for (name, c) in g.consumers() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pending_len() as i64);
            out.bulk(b"idle");
            out.int((now as i64).wrapping_sub(c.seen_time_ms as i64).max(0));
        }
        Ok(())
    })
}

/// The help lines are part of the reply clients show, so they match Redis' own.
const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

pub(super) fn xinfo_help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.array(XINFO_HELP.len());
    for line in XINFO_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}
