//! Client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (subcommands of
//! CLIENT, listed in `client`) and the INFO fields. The table and the invalidations are in
//! `shard::tracking`; this file parses and answers as Redis 7.0 does, errors included.

use super::kit::number::i64_arg;
use super::{CmdResult, CommandSpec, ConnCtx};
use crate::global::tracking::{BcastReader, Reader};
use crate::global::Global;
use crate::resp::{Args, ReplyError};
use crate::shard::tracking::{self, ClientTracking, TRACK_READ};
use std::sync::atomic::Ordering;

/// For the dispatcher: `TRACK_READ` when the reads of `spec` are remembered for a client
/// with tracking `t` (the keys are checked where they live); updates CACHING's one-command
/// life (kept inside MULTI and across CLIENT commands, as Redis' resetClient keeps it).
pub fn command_tracks(t: &mut ClientTracking, spec: &CommandSpec, in_multi: bool) -> u64 {
    let name = super::full_name(spec);
    let keep = (in_multi && name != "exec" && name != "discard")
        || name == "multi"
        || name.starts_with("client|");
    if t.eligible(keep) {
        TRACK_READ
    } else {
        0
    }
}

/// The options of one CLIENT TRACKING line.
#[derive(Default)]
struct Options {
    redirect: Option<(u64, usize)>,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
    prefixes: Vec<Vec<u8>>,
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let o = parse_options(ctx, args)?;
    let mode = args.get(2);
    if mode.eq_ignore_ascii_case(b"off") {
        tracking::disable(ctx.shard, ctx.client_idx);
        ctx.out.ok();
        return Ok(());
    }
    if !mode.eq_ignore_ascii_case(b"on") {
        return Err(ReplyError::Syntax);
    }
    check_on(ctx.client().tracking.as_deref(), &o)?;
    enable(ctx, o);
    ctx.out.ok();
    Ok(())
}

fn parse_options(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> Result<Options, ReplyError> {
    let mut o = Options::default();
    let mut j = 3;
    while j < args.len() {
        let a = args.get(j);
        let more = j + 1 < args.len();
        if a.eq_ignore_ascii_case(b"redirect") && more {
            j += 1;
            if o.redirect.is_some() {
                return Err(ReplyError::other(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let id = i64_arg(args.get(j))?;
            let home = find_client(ctx, id)?.ok_or_else(|| {
                ReplyError::other("ERR The client ID you want redirect to does not exist")
            })?;
            o.redirect = Some((id as u64, home));
        } else if a.eq_ignore_ascii_case(b"bcast") {
            o.bcast = true;
        } else if a.eq_ignore_ascii_case(b"optin") {
            o.optin = true;
        } else if a.eq_ignore_ascii_case(b"optout") {
            o.optout = true;
        } else if a.eq_ignore_ascii_case(b"noloop") {
            o.noloop = true;
        } else if a.eq_ignore_ascii_case(b"prefix") && more {
            j += 1;
            o.prefixes.push(args.get(j).to_vec());
        } else {
            return Err(ReplyError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The shard of the client with id `id`, if connected (every shard is asked; a rare path).
fn find_client(ctx: &mut ConnCtx<'_>, id: i64) -> Result<Option<usize>, ReplyError> {
    if id <= 0 {
        return Ok(None);
    }
    let id = id as u64;
    let found = ctx
        .shard
        .try_call_all(|sh| sh.clients.iter().any(|(_, c)| c.id == id))?;
    Ok(found.iter().position(|&f| f))
}

/// Redis' checks before tracking is turned on, in its order.
fn check_on(old: Option<&ClientTracking>, o: &Options) -> Result<(), ReplyError> {
    if !o.bcast && !o.prefixes.is_empty() {
        return Err(ReplyError::other(
            "ERR PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if old.is_some_and(|t| t.bcast != o.bcast) {
        return Err(ReplyError::other(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        ));
    }
    if o.bcast && (o.optin || o.optout) {
        return Err(ReplyError::other(
            "ERR OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if o.optin && o.optout {
        return Err(ReplyError::other(
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if old.is_some_and(|t| (o.optin && t.optout) || (o.optout && t.optin)) {
        return Err(ReplyError::other(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        ));
    }
    if o.bcast {
        let existing = old.map_or(&[][..], |t| &t.prefixes[..]);
        check_prefixes(existing, &o.prefixes)?;
    }
    Ok(())
}

/// A client's prefixes must not overlap (one a prefix of another), as Redis requires.
fn check_prefixes(existing: &[Vec<u8>], new: &[Vec<u8>]) -> Result<(), ReplyError> {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(ReplyError::Other(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single \
                 client must not overlap.",
                s(p),
                s(e)
            )));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(ReplyError::Other(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a \
                 single client must not overlap.",
                s(p),
                s(q)
            )));
        }
    }
    Ok(())
}

/// Turns tracking on (or changes its options), as Redis' enableTracking: CACHING and the
/// BCAST prefixes given before are kept.
fn enable(ctx: &mut ConnCtx<'_>, o: Options) {
    let me = ctx.shard.id;
    let idx = ctx.client_idx;
    let node = &ctx.shard.global.tracking;
    let c = ctx.shard.clients.get_mut(idx);
    let id = c.id;
    if c.tracking.is_none() {
        node.clients.fetch_add(1, Ordering::Relaxed);
        if o.bcast {
            node.bcast_clients.fetch_add(1, Ordering::Relaxed);
        }
        c.tracking = Some(Box::default());
    }
    let t = c.tracking.as_mut().expect("set above");
    let (redirect, redirect_home) = o.redirect.unwrap_or((0, 0));
    t.redirect = redirect;
    t.redirect_home = redirect_home;
    t.broken = false;
    t.optin = o.optin;
    t.optout = o.optout;
    t.noloop = o.noloop;
    t.bcast = o.bcast;
    if o.bcast {
        node.remove_prefixes(id, &t.prefixes);
        if o.prefixes.is_empty() {
            t.prefixes.push(Vec::new());
        }
        t.prefixes.extend(o.prefixes);
        t.prefixes.sort_unstable();
        t.prefixes.dedup();
        let reader = Reader { id, home: me };
        let b = BcastReader {
            reader,
            noloop: o.noloop,
        };
        node.add_prefixes(b, &t.prefixes);
    }
    ctx.shard.tracking.clients.insert(id, idx);
}

/// CLIENT CACHING YES|NO
pub fn client_caching(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let Some(t) = ctx.client().tracking.as_mut() else {
        return Err(ReplyError::other(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with \
             OPTIN or OPTOUT mode enabled",
        ));
    };
    let opt = args.get(2);
    if opt.eq_ignore_ascii_case(b"yes") {
        if !t.optin {
            return Err(ReplyError::other(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if opt.eq_ignore_ascii_case(b"no") {
        if !t.optout {
            return Err(ReplyError::other(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(ReplyError::Syntax);
    }
    t.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the REDIRECT id, 0 without one, -1 when tracking is off.
pub fn client_getredir(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let r = ctx
        .client()
        .tracking
        .as_ref()
        .map_or(-1, |t| t.redirect as i64);
    ctx.out.int(r);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis 7.0 lists them.
pub fn client_trackinginfo(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let t = ctx.client().tracking.clone();
    let mut flags: Vec<&str> = Vec::new();
    match t.as_deref() {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken {
                flags.push("broken_redirect");
            }
        }
    }
    let out = &mut ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(t.as_ref().map_or(-1, |t| t.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes = t.map(|t| t.prefixes).unwrap_or_default();
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(&p);
    }
    Ok(())
}

/// CLIENT LIST's tracking flags, in Redis' order: `t` (on), `R` (broken redirect), `B`
/// (BCAST).
pub fn list_flags(c: &crate::shard::Client) -> String {
    let mut f = String::new();
    if let Some(t) = c.tracking.as_deref() {
        f.push('t');
        if t.broken {
            f.push('R');
        }
        if t.bcast {
            f.push('B');
        }
    }
    f
}

/// INFO clients `tracking_clients`.
pub fn tracking_clients(g: &Global) -> usize {
    g.tracking.clients.load(Ordering::Relaxed)
}

/// INFO stats: `tracking_total_keys`, `tracking_total_items`, `tracking_total_prefixes`.
pub fn info_stats(g: &Global) -> [(&'static str, usize); 3] {
    let t = &g.tracking;
    [
        ("tracking_total_keys", t.total_keys.load(Ordering::Relaxed)),
        (
            "tracking_total_items",
            t.total_items.load(Ordering::Relaxed),
        ),
        ("tracking_total_prefixes", t.prefix_count()),
    ]
}
