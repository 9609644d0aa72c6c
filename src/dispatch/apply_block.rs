//! Replica side, on a shard: a MULTI ... EXEC block of the master's stream (the link sends it
//! whole, `repl_link::block`) applied as one unit. Every shard it touches is held for the
//! whole block (this one alone, or the others parked), so no client of the replica sees half
//! of it; each shard's writes are journaled as one block for its own AOF and replicas.

use super::apply::apply_record;
use super::replay::{self, Record, Replay};
use crate::resp::{Args, ParseOutcome, Parser};
use crate::shard::{Parked, Shard};

/// One record of the block: where it starts in the batch and its argument ranges there.
type Rec = (usize, Vec<(u32, u32)>);

/// Applies the block whose MULTI ended at `from` in `data`; returns where its EXEC ends. A
/// block without its EXEC (the link never sends one) is dropped whole, with a log line.
pub(super) fn apply(sh: &mut Shard, data: &[u8], from: usize, now_ms: u64) -> usize {
    let mut parser = Parser::new();
    let mut off = from;
    let mut recs: Vec<Rec> = Vec::new();
    while off < data.len() {
        let ParseOutcome::Command { consumed } = parser.parse(&data[off..], u64::MAX) else {
            break;
        };
        let args = Args::new(&data[off..], parser.ranges());
        let end = off + consumed;
        if args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"EXEC") {
            run(sh, data, &recs, now_ms);
            return end;
        }
        recs.push((off, parser.ranges().to_vec()));
        off = end;
    }
    crate::log::warning("Replication: a MULTI/EXEC block without its EXEC was dropped");
    data.len()
}

fn args_of<'a>(data: &'a [u8], r: &'a Rec) -> Args<'a> {
    Args::new(&data[r.0..], &r.1)
}

/// The shards the block's records need (this one included), ascending.
fn shards_of(sh: &Shard, data: &[u8], recs: &[Rec]) -> Vec<usize> {
    let n = sh.shards;
    let mut ids = vec![sh.id];
    for r in recs {
        let args = args_of(data, r);
        if everywhere(args) {
            return (0..n).collect();
        }
        match replay::classify(args) {
            Ok(Record::Keyed(spec)) => {
                ids.extend(replay::record_shards(spec, args, n).unwrap_or_default())
            }
            Ok(Record::Other(spec)) if crate::commands::functions::is_change(spec) => ids.push(0),
            _ => {}
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A record every shard applies for its own keys (flushes, SWAPDB).
pub fn everywhere(args: Args<'_>) -> bool {
    let name = args.get(0);
    ["REPLFLUSH", "FLUSHALL", "FLUSHDB", "SWAPDB"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
}

fn run(sh: &mut Shard, data: &[u8], recs: &[Rec], now_ms: u64) {
    let ids = shards_of(sh, data, recs);
    let mut sink = Vec::new();
    if ids.len() == 1 {
        let mark = sh.journal.begin_block();
        for r in recs {
            sink.clear();
            apply_record(sh, args_of(data, r), now_ms, &mut sink);
        }
        sh.journal.end_block(mark);
        return;
    }
    sh.with_parked(&ids, &mut |this, mut peers| {
        let mark = this.journal.begin_block();
        let marks: Vec<_> = peers
            .iter_mut()
            .map(|p| (p.id, p.journal.begin_block()))
            .collect();
        for r in recs {
            sink.clear();
            apply_held(this, &mut peers, args_of(data, r), now_ms, &mut sink);
        }
        this.journal.end_block(mark);
        for (id, m) in marks {
            if let Some(p) = peers.get(id) {
                p.journal.end_block(m);
            }
        }
    });
}

/// One record of a block over several shards, with the others parked: on the shard that owns
/// its keys, on all of them for a flush, on shard 0 for a function change.
fn apply_held(
    this: &mut Shard,
    peers: &mut Parked<'_>,
    args: Args<'_>,
    now_ms: u64,
    sink: &mut Vec<u8>,
) {
    let sel = this.sel;
    if everywhere(args) {
        apply_record(this, args, now_ms, sink);
        for p in peers.iter_mut() {
            p.sel = sel;
            apply_record(p, args, now_ms, sink);
        }
        return;
    }
    let owner = match replay::classify(args) {
        Ok(Record::Keyed(spec)) => {
            let ids = replay::record_shards(spec, args, this.shards).unwrap_or_default();
            match ids.as_slice() {
                [one] if *one != this.id => peers.get(*one),
                [_] | [] => None,
                _ => {
                    // Keys on several shards: the record runs with them all held.
                    replay::run_record(this, peers, spec, args, sink, 0, Replay::Stream);
                    return;
                }
            }
        }
        Ok(Record::Other(spec)) if crate::commands::functions::is_change(spec) && this.id != 0 => {
            peers.get(0)
        }
        _ => None,
    };
    match owner {
        Some(p) => {
            p.sel = sel;
            apply_record(p, args, now_ms, sink);
        }
        None => apply_record(this, args, now_ms, sink),
    }
}
