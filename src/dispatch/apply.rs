//! Replica side, on a shard: applying records received from the master (snapshot or stream)
//! through the one replay path (`replay`). The link thread routes each record to the shard
//! owning its keys; records spanning shards run in a parked section; flushes run on every
//! shard; a MULTI/EXEC block runs whole (`apply_block`); a full sync's payload is loaded by
//! the loader the link installs (`REPLLOAD`, sent to shard 0).

use super::replay::{self, Record, Replay};
use crate::commands::CommandSpec;
use crate::resp::{Args, ParseOutcome, Parser};
use crate::shard::{Parked, Shard};
use crate::topology::{local_index, shard_of};
use std::sync::OnceLock;

/// Loads a full sync's staged payload on this shard (which parks the others itself): the
/// replica link's, installed before it sends its first `REPLLOAD` (the link is a driver, above
/// this module).
pub type PayloadLoader = fn(&mut Shard, u64);

static PAYLOAD_LOADER: OnceLock<PayloadLoader> = OnceLock::new();

/// Installs the payload loader (the first call wins; later ones are the same function).
pub fn install_payload_loader(load: PayloadLoader) {
    let _ = PAYLOAD_LOADER.set(load);
}

/// Applies every record of `data` on this shard.
pub fn apply_batch(sh: &mut Shard, data: &[u8], now_ms: u64) {
    // The master's records are in the database its last SELECT named, whatever clients of
    // this shard selected meanwhile.
    sh.sel = sh.repl.apply_db;
    let mut parser = Parser::new();
    let mut off = 0;
    let mut sink = Vec::new();
    while off < data.len() {
        match parser.parse(&data[off..], u64::MAX) {
            ParseOutcome::Command { consumed } => {
                let args = Args::new(&data[off..], parser.ranges());
                if args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"MULTI") {
                    // A MULTI/EXEC block of the master: applied as one unit.
                    off = super::apply_block::apply(sh, data, off + consumed, now_ms);
                    continue;
                }
                if !args.is_empty() {
                    sink.clear();
                    apply_record(sh, args, now_ms, &mut sink);
                }
                off += consumed;
            }
            _ => {
                crate::log::warning("Replication: a malformed record batch was dropped");
                return;
            }
        }
    }
}

/// A PUBLISH (false) or SPUBLISH (true) record: a Redis master outside cluster mode sends its
/// messages to its replicas, whose subscribers get them too.
pub fn publish_kind(args: Args<'_>) -> Option<bool> {
    let name = args.get(0);
    if args.len() != 3 {
        None
    } else if name.eq_ignore_ascii_case(b"PUBLISH") {
        Some(false)
    } else if name.eq_ignore_ascii_case(b"SPUBLISH") {
        Some(true)
    } else {
        None
    }
}

pub(super) fn apply_record(sh: &mut Shard, args: Args<'_>, now_ms: u64, sink: &mut Vec<u8>) {
    if let Some(sharded) = publish_kind(args) {
        // Delivered at the end of this shard's turn, to every core with subscribers.
        sh.subs.outgoing.push(crate::shard::pubsub::Outgoing {
            sharded,
            node_local: false,
            channel: args.get(1).to_vec(),
            message: args.get(2).to_vec(),
        });
        return;
    }
    if args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"REPLLOAD") {
        if let Some(load) = PAYLOAD_LOADER.get() {
            load(sh, now_ms);
        }
        return;
    }
    if args.get(0).eq_ignore_ascii_case(b"REPLFLUSH") && args.len() == 3 {
        let n = |i: usize| {
            crate::resp::parse::parse_i64(args.get(i))
                .filter(|v| *v >= 0)
                .map(|v| v as usize)
        };
        if let (Some(s), Some(n)) = (n(1), n(2)) {
            flush_master_shard(sh, s, n, now_ms);
        }
        return;
    }
    let Ok(record) = replay::classify(args) else {
        crate::log::warning(&format!(
            "Replication: unknown command '{}' from the master ignored",
            String::from_utf8_lossy(args.get(0))
        ));
        return;
    };
    match record {
        Record::Keyed(spec) => apply_keyed(sh, spec, args, sink),
        Record::Flush if args.get(0).eq_ignore_ascii_case(b"FLUSHDB") => {
            crate::commands::keys::flush_shard_db(sh, sh.sel, flush_lazily(args));
            sh.dirty += 1;
        }
        Record::Flush => flush_own(sh, flush_lazily(args)),
        Record::Other(spec) if spec.name == "select" => {
            match replay::select_arg(args, sh.databases) {
                Ok(db) => {
                    sh.repl.apply_db = db;
                    sh.sel = db;
                }
                Err(e) => crate::log::warning(&format!("Replication: {e}")),
            }
        }
        Record::Other(spec) if spec.name == "swapdb" => {
            let dbs = sh.databases;
            match (
                replay::db_arg(args.get(1), dbs),
                replay::db_arg(args.get(2), dbs),
            ) {
                (Ok(a), Ok(b)) => {
                    sh.cover_db(a, now_ms);
                    sh.cover_db(b, now_ms);
                    sh.swap_dbs(a, b);
                    sh.journal.record_args(args);
                    sh.dirty += 1;
                }
                (Err(e), _) | (_, Err(e)) => crate::log::warning(&format!("Replication: {e}")),
            }
        }
        // The link sends FUNCTION records to shard 0, which journals library changes.
        Record::Other(spec) if crate::commands::functions::is_change(spec) => {
            crate::commands::functions::replay(sh, args)
        }
        Record::Other(_) => {} // PING, MULTI/EXEC wrappers: nothing to apply
    }
}

fn apply_keyed(sh: &mut Shard, spec: &'static CommandSpec, args: Args<'_>, sink: &mut Vec<u8>) {
    let mut ids = replay::record_shards(spec, args, sh.shards).unwrap_or_default();
    // The master decides expiry (its DEL records): its records see every key as live.
    let now_ms = 0;
    if ids.iter().all(|&i| i == sh.id) {
        replay::run_record(
            sh,
            &mut Parked::none(),
            spec,
            args,
            sink,
            now_ms,
            Replay::Stream,
        );
        return;
    }
    if !ids.contains(&sh.id) {
        ids.push(sh.id);
    }
    sh.with_parked(&ids, &mut |this, mut peers| {
        replay::run_record(this, &mut peers, spec, args, sink, now_ms, Replay::Stream);
    });
}

/// FLUSHALL ASYNC or SYNC as the record says (the link marks a full sync's flush with
/// `replica-lazy-flush`); a bare FLUSHALL follows this node's `lazyfree-lazy-user-flush`, as a
/// Redis replica running its master's FLUSHALL does.
fn flush_lazily(args: Args<'_>) -> bool {
    match args.len() {
        2 => args.get(1).eq_ignore_ascii_case(b"async"),
        _ => crate::lazyfree::user_flush_async(),
    }
}

/// The master flushed everything: drop this shard's keys (journaled for our own AOF), on the
/// lazy-free worker when `lazily`.
fn flush_own(sh: &mut Shard, lazily: bool) {
    crate::commands::keys::flush_shard_all(sh, lazily);
    sh.dirty += 1;
}

/// One master shard (`s` of `n`) flushed: drop the keys of the slots it owned.
fn flush_master_shard(sh: &mut Shard, s: usize, n: usize, now_ms: u64) {
    if n == 0 || s >= n {
        return;
    }
    if n == sh.shards && s == sh.id {
        flush_own(sh, crate::lazyfree::user_flush_async());
        return;
    }
    let mut slot = s;
    while slot < crate::constants::SLOT_COUNT {
        let slot16 = slot as u16;
        if shard_of(slot16, sh.shards) == sh.id {
            drop_slot(sh, slot16, now_ms);
        }
        slot += n;
    }
}

/// Drops one slot's keys, journaling each deletion (a partial flush has no record form).
fn drop_slot(sh: &mut Shard, slot: u16, now_ms: u64) {
    let idx = local_index(slot, sh.shards);
    let cmd_db = sh.journal.selected();
    let ids: Vec<u32> = sh.each_db().map(|(i, _)| i).collect();
    for i in ids {
        sh.cover_table_in(i, idx, now_ms);
        let db = sh.db_get(i).expect("listed");
        let mut keys: Vec<Vec<u8>> = Vec::new();
        db.for_each_in_table(idx, 0, |e| keys.push(e.key().to_vec()));
        sh.journal.select(i);
        for k in &keys {
            sh.journal.record(&[b"DEL", k]);
            sh.touch_watched(i, k);
        }
        let n = sh.db_at(i).flush_slot(slot);
        sh.dirty += n as u64;
    }
    sh.journal.select(cmd_db);
}
