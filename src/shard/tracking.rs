//! Client-side caching on one shard: the tracking table of this shard's keys (which clients
//! read each key since it last changed), the invalidations a change produces, and the
//! per-client tracking state (CLIENT TRACKING's options). A key lives on one shard, so each
//! table is the whole truth for its keys; the readers may live on any shard and get their
//! invalidations through the mesh (`net::tracking_loop`). Like Redis' table, entries are
//! keyed by the key's name only (every database), and an entry is dropped once invalidated.

use crate::global::tracking::{BcastReader, NodeTracking, Reader};
pub use crate::global::tracking::{Invalidation, What};
use crate::shard::Shard;
use hashbrown::HashMap;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Bit of `ShardTracking::current`: the command's keys are remembered for its client when it
/// is a read (the client tracks, not in BCAST mode, and OPTIN/OPTOUT allow it).
pub const TRACK_READ: u64 = 1 << 63;

/// CLIENT TRACKING's state of one client (None on the client: tracking off).
#[derive(Clone, Debug, Default)]
pub struct ClientTracking {
    /// REDIRECT's client id (0: none) and the shard that client lived on when given.
    pub redirect: u64,
    pub redirect_home: usize,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) for the next command.
    pub caching: bool,
    /// The redirect client left (flag `broken_redirect`).
    pub broken: bool,
    /// BCAST prefixes, sorted (the empty prefix: every key).
    pub prefixes: Vec<Vec<u8>>,
}

impl ClientTracking {
    /// Whether the next command's reads are remembered for this client, as Redis decides it
    /// (OPTIN needs CACHING YES, OPTOUT skips after CACHING NO; BCAST clients use prefixes).
    /// The CACHING flag lasts one command, except inside MULTI and across CLIENT commands
    /// (`keep_caching`), as Redis' resetClient keeps it.
    pub fn eligible(&mut self, keep_caching: bool) -> bool {
        let skip = (self.optin && !self.caching) || (self.optout && self.caching);
        if !keep_caching {
            self.caching = false;
        }
        !self.bcast && !skip
    }
}

#[derive(Default)]
pub struct ShardTracking {
    /// Key name -> clients that read it since it last changed.
    table: HashMap<Box<[u8]>, Vec<Reader>>,
    /// This shard's clients with tracking on: id -> client index.
    pub clients: HashMap<u64, usize>,
    /// The client of the command being run (its id, `TRACK_READ` when its reads are
    /// remembered; 0 outside client commands) and its shard: the reader of a read, the
    /// writer NOLOOP compares with.
    pub current: u64,
    pub current_home: usize,
    /// Keys changed this turn, for BCAST clients, with the client that changed each.
    bcast_pending: BTreeMap<Vec<u8>, u64>,
    /// Invalidations waiting for the end of the turn (or for the current reply).
    pub outbox: Vec<Invalidation>,
}

impl ShardTracking {
    /// True when a change of a key here may have to be told to someone.
    pub fn watching(&self, node: &NodeTracking) -> bool {
        !self.table.is_empty() || node.bcast_clients.load(Ordering::Relaxed) > 0
    }

    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// The writer NOLOOP compares with.
    fn writer(&self) -> u64 {
        self.current & !TRACK_READ
    }
}

/// Remembers that the current client read `key` (a key of this shard).
pub fn remember(sh: &mut Shard, reader: Reader, key: &[u8]) {
    let node = &sh.global.tracking;
    let t = &mut sh.tracking;
    let list = match t.table.get_mut(key) {
        Some(l) => l,
        None => {
            node.total_keys.fetch_add(1, Ordering::Relaxed);
            t.table.entry(key.into()).or_default()
        }
    };
    if !list.contains(&reader) {
        list.push(reader);
        node.total_items.fetch_add(1, Ordering::Relaxed);
    }
    limit(sh);
}

/// The reader a command run now remembers, if any.
pub fn current_reader(sh: &Shard) -> Option<Reader> {
    let c = sh.tracking.current;
    (c & TRACK_READ != 0).then_some(Reader {
        id: c & !TRACK_READ,
        home: sh.tracking.current_home,
    })
}

/// `key` changed (Redis' signalModifiedKey): its readers get an invalidation and its entry
/// goes; BCAST clients of a matching prefix get it at the end of the turn.
pub fn key_changed(sh: &mut Shard, key: &[u8]) {
    let writer = sh.tracking.writer();
    if let Some(list) = sh.tracking.table.remove(key) {
        let node = &sh.global.tracking;
        node.total_keys.fetch_sub(1, Ordering::Relaxed);
        node.total_items.fetch_sub(list.len(), Ordering::Relaxed);
        for r in list {
            sh.tracking.outbox.push(Invalidation {
                to: r.id,
                home: r.home,
                writer,
                bcast: false,
                via: None,
                tracker_resp3: false,
                what: What::Keys(vec![key.to_vec()]),
            });
        }
    }
    if sh.global.tracking.bcast_clients.load(Ordering::Relaxed) > 0 {
        sh.tracking.bcast_pending.insert(key.to_vec(), writer);
    }
}

/// FLUSHALL/FLUSHDB on this shard: the table is emptied and every tracking client of this
/// shard gets the null invalidation (each shard tells its own clients, so each gets one).
pub fn flushed(sh: &mut Shard) {
    let node = &sh.global.tracking;
    let items: usize = sh.tracking.table.values().map(Vec::len).sum();
    node.total_keys
        .fetch_sub(sh.tracking.table.len(), Ordering::Relaxed);
    node.total_items.fetch_sub(items, Ordering::Relaxed);
    sh.tracking.table = HashMap::new();
    let writer = sh.tracking.writer();
    let mut ids: Vec<u64> = sh.tracking.clients.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        sh.tracking.outbox.push(Invalidation {
            to: id,
            home: sh.id,
            writer,
            bcast: false,
            via: None,
            tracker_resp3: false,
            what: What::Flush,
        });
    }
}

/// `tracking-table-max-keys`: past the limit (node-wide), keys of this shard's table are
/// invalidated, as Redis evicts them, until the node is under it or this table is empty.
pub fn limit(sh: &mut Shard) {
    let node = &sh.global.tracking;
    let max = node.max_keys.load(Ordering::Relaxed);
    if max == 0 || node.total_keys.load(Ordering::Relaxed) <= max {
        return;
    }
    let mut effort = crate::constants::TRACKING_EVICT_EFFORT_KEYS;
    while effort > 0 && sh.global.tracking.total_keys.load(Ordering::Relaxed) > max {
        effort -= 1;
        let n = sh.tracking.table.len();
        if n == 0 {
            return;
        }
        // A key near the start of the table's order, picked at random among the first few:
        // walking to a uniformly random entry would cost O(table) per eviction.
        let i = sh
            .rng
            .below(n.min(crate::constants::TRACKING_EVICT_PICK_KEYS));
        let Some(key) = sh.tracking.table.keys().nth(i).cloned() else {
            return;
        };
        // An eviction has no writer: NOLOOP never hides it.
        let current = std::mem::replace(&mut sh.tracking.current, 0);
        key_changed(sh, &key);
        sh.tracking.current = current;
    }
}

/// The shard's cron: `tracking-table-max-keys` is read again (CONFIG SET may have lowered it)
/// and enforced, as Redis does before each command while clients track.
pub fn cron(sh: &mut Shard) {
    if sh.tracking.table.is_empty() && !sh.global.tracking.in_use() {
        return;
    }
    let max = sh.global.cfg(crate::global::tracking::max_keys_of);
    sh.global.tracking.max_keys.store(max, Ordering::Relaxed);
    limit(sh);
}

/// Remembers the keys (argument indexes `keys` of `args`) a read of the current client got,
/// on their owner `sh`.
pub fn remember_keys(sh: &mut Shard, reader: Reader, args: crate::resp::Args<'_>, keys: &[usize]) {
    for &k in keys {
        remember(sh, reader, args.get(k));
    }
}

/// End of a turn: the BCAST messages of the keys changed this turn, one per (prefix, client)
/// with every matching key in order, as Redis sends them before it sleeps.
pub fn broadcast_pending(sh: &mut Shard) {
    if sh.tracking.bcast_pending.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut sh.tracking.bcast_pending);
    let prefixes = sh
        .global
        .tracking
        .prefixes
        .read()
        .unwrap_or_else(|e| e.into_inner());
    for (prefix, readers) in prefixes.iter() {
        let matching: Vec<(&Vec<u8>, u64)> = pending
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, &w)| (k, w))
            .collect();
        if matching.is_empty() {
            continue;
        }
        for b in readers {
            let BcastReader { reader, noloop } = *b;
            let keys: Vec<Vec<u8>> = matching
                .iter()
                .filter(|(_, w)| !(noloop && *w == reader.id))
                .map(|(k, _)| (*k).clone())
                .collect();
            if keys.is_empty() {
                continue;
            }
            sh.tracking.outbox.push(Invalidation {
                to: reader.id,
                home: reader.home,
                writer: 0,
                bcast: true,
                via: None,
                tracker_resp3: false,
                what: What::Keys(keys),
            });
        }
    }
}

/// Tracking of client `idx` of this shard turned off, or the client is leaving: counters,
/// prefixes and the shard's index forget it.
pub fn disable(sh: &mut Shard, idx: usize) {
    let Some(c) = sh.clients.get_live_mut(idx) else {
        return;
    };
    let Some(t) = c.tracking.take() else {
        return;
    };
    let id = c.id;
    let node = &sh.global.tracking;
    if t.bcast {
        node.remove_prefixes(id, &t.prefixes);
        node.bcast_clients.fetch_sub(1, Ordering::Relaxed);
    }
    node.clients.fetch_sub(1, Ordering::Relaxed);
    sh.tracking.clients.remove(&id);
}

/// The RESP frame of an invalidation for a client speaking `proto` (None: nothing can be
/// sent to it: RESP2 without being the subscribed REDIRECT client).
pub fn frame(inv: &Invalidation, resp3: bool, redirected_subscribed: bool) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match &inv.what {
        What::RedirBroken(id) => {
            if !resp3 {
                return None;
            }
            buf.extend_from_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n");
            buf.extend_from_slice(format!(":{id}\r\n").as_bytes());
            return Some(buf);
        }
        _ if resp3 => buf.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n"),
        _ if redirected_subscribed => {
            buf.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n")
        }
        _ => return None,
    }
    match &inv.what {
        What::Keys(keys) => {
            buf.extend_from_slice(format!("*{}\r\n", keys.len()).as_bytes());
            for k in keys {
                buf.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
                buf.extend_from_slice(k);
                buf.extend_from_slice(b"\r\n");
            }
        }
        What::Flush if inv.tracker_resp3 => buf.extend_from_slice(b"_\r\n"),
        What::Flush => buf.extend_from_slice(b"$-1\r\n"),
        What::RedirBroken(_) => unreachable!("written above"),
    }
    Some(buf)
}

/// The index of the client with id `id` on this shard, if it is here.
pub fn client_by_id(sh: &Shard, id: u64) -> Option<usize> {
    if let Some(&i) = sh.tracking.clients.get(&id) {
        return Some(i);
    }
    sh.clients.iter().find(|(_, c)| c.id == id).map(|(i, _)| i)
}

/// Resolves one invalidation on its home shard: frames to write here as (client index,
/// bytes), and invalidations to forward to other shards (to a REDIRECT client elsewhere, or a
/// broken-redirect notice back to its tracker).
pub fn resolve(sh: &mut Shard, mut inv: Invalidation, frames: &mut Vec<(usize, Vec<u8>)>) {
    let me = sh.id;
    if let Some((tracker, tracker_home)) = inv.via {
        // We hold the REDIRECT client (or held it).
        match client_by_id(sh, inv.to) {
            Some(i) => {
                let c = sh.clients.get(i).expect("found above");
                let resp3 = c.proto == crate::resp::Proto::Resp3;
                if let Some(f) = frame(&inv, resp3, c.sub_count() > 0) {
                    frames.push((i, f));
                }
            }
            None => sh.tracking.outbox.push(Invalidation {
                to: tracker,
                home: tracker_home,
                writer: 0,
                bcast: false,
                via: None,
                tracker_resp3: false,
                what: What::RedirBroken(inv.to),
            }),
        }
        return;
    }
    let Some(&idx) = sh.tracking.clients.get(&inv.to) else {
        return; // tracking turned off, or the client left
    };
    let c = sh
        .clients
        .get_live_mut(idx)
        .expect("indexed tracking client");
    let resp3 = c.proto == crate::resp::Proto::Resp3;
    let Some(t) = c.tracking.as_mut() else {
        return;
    };
    match inv.what {
        What::RedirBroken(_) => {
            t.broken = true;
            if let Some(f) = frame(&inv, resp3, false) {
                frames.push((idx, f));
            }
            return;
        }
        What::Keys(_) if t.bcast != inv.bcast => return,
        What::Keys(_) if !inv.bcast && t.noloop && inv.writer == inv.to => return,
        _ => {}
    }
    inv.tracker_resp3 = resp3;
    if t.redirect == 0 {
        if let Some(f) = frame(&inv, resp3, false) {
            frames.push((idx, f));
        }
        return;
    }
    let (redirect, redirect_home) = (t.redirect, t.redirect_home);
    let tracker = inv.to;
    inv.to = redirect;
    inv.home = redirect_home;
    inv.via = Some((tracker, me));
    if redirect_home == me {
        resolve(sh, inv, frames);
    } else {
        sh.tracking.outbox.push(inv);
    }
}

/// Frames for the client running the command now (`client_idx`, RESP3, no REDIRECT), taken
/// out of the outbox so they follow its reply at once, as Redis writes them after the reply
/// of the command that caused them; everything else waits for the end of the turn.
pub fn take_for_current(sh: &mut Shard, client_idx: usize) -> Vec<Vec<u8>> {
    let Some(c) = sh.clients.get(client_idx) else {
        return Vec::new();
    };
    let (id, me) = (c.id, sh.id);
    let direct = c.proto == crate::resp::Proto::Resp3
        && c.tracking.as_ref().is_some_and(|t| t.redirect == 0);
    if !direct
        || !sh
            .tracking
            .outbox
            .iter()
            .any(|i| i.to == id && i.home == me)
    {
        return Vec::new();
    }
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut sh.tracking.outbox)
        .into_iter()
        .partition(|i| i.to == id && i.home == me && i.via.is_none());
    sh.tracking.outbox = rest;
    let mut frames = Vec::new();
    for inv in mine {
        resolve(sh, inv, &mut frames);
    }
    frames.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(what: What) -> Invalidation {
        Invalidation {
            to: 1,
            home: 0,
            writer: 0,
            bcast: false,
            via: None,
            tracker_resp3: true,
            what,
        }
    }

    // Guards the byte form of each message against Redis 7.0's.
    #[test]
    fn frames_as_redis_writes_them() {
        let k = inv(What::Keys(vec![b"k".to_vec()]));
        assert_eq!(
            frame(&k, true, false).unwrap(),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        assert_eq!(frame(&k, false, false), None);
        assert_eq!(
            frame(&k, false, true).unwrap(),
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n".to_vec()
        );
        let f = inv(What::Flush);
        assert_eq!(
            frame(&f, true, false).unwrap(),
            b">2\r\n$10\r\ninvalidate\r\n_\r\n"
        );
        let b = inv(What::RedirBroken(7));
        assert_eq!(
            frame(&b, true, false).unwrap(),
            b">2\r\n$21\r\ntracking-redir-broken\r\n:7\r\n"
        );
    }

    // Guards OPTIN/OPTOUT/CACHING: which commands remember their keys.
    #[test]
    fn optin_optout_caching() {
        let mut t = ClientTracking::default();
        assert!(t.eligible(false));
        t.optin = true;
        assert!(!t.eligible(false));
        t.caching = true;
        assert!(t.eligible(false));
        assert!(!t.caching, "CACHING lasts one command");
        t.caching = true;
        assert!(t.eligible(true));
        assert!(t.caching, "kept inside MULTI");
        let mut o = ClientTracking {
            optout: true,
            ..Default::default()
        };
        assert!(o.eligible(false));
        o.caching = true;
        assert!(!o.eligible(false));
        let mut b = ClientTracking {
            bcast: true,
            ..Default::default()
        };
        assert!(!b.eligible(false));
    }
}
