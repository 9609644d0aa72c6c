//! Replaying journaled records: the one path by which AOF loading and a replica applying its
//! master's stream run a record (a write as some node journaled it) on the shards that own its
//! keys. The callers differ only in how they reach those shards (loader locks, the mesh's park)
//! and in `Replay`, which says what a record counts as; they never resolve a command or call a
//! handler themselves.

use super::{run_key, run_parked};
use crate::cluster::hash_slot::key_hash_slot;
use crate::commands::{CommandSpec, Exec, Handler};
use crate::resp::{Args, Out, Proto, ReplyError};
use crate::shard::{Parked, Shard};
use crate::topology::shard_of;

/// What a journaled record asks for, found from its name.
pub enum Record {
    /// A keyed command: run it on the shards that own its keys (`record_shards`).
    Keyed(&'static CommandSpec),
    /// FLUSHALL or FLUSHDB: every key the writer held goes.
    Flush,
    /// Anything else (PING, SELECT, MULTI/EXEC wrappers): nothing to apply.
    Other(&'static CommandSpec),
}

/// How a replayed record runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Replay {
    /// AOF loading: the handler alone. The record is in the files already and no client is
    /// served yet, so nothing is journaled, guarded or counted.
    Load,
    /// A replica applying its master's stream: like a write of this node (journaled for its
    /// own AOF and replicas, counted in INFO), never refused; errors are dropped.
    Stream,
}

/// Resolves a record's command (unknown names and wrong arities are errors).
pub fn classify(args: Args<'_>) -> Result<Record, ReplyError> {
    let spec = super::resolve(args)?;
    Ok(match spec.handler {
        Handler::Key(_) => Record::Keyed(spec),
        _ if spec.name == "flushall" || spec.name == "flushdb" => Record::Flush,
        _ => Record::Other(spec),
    })
}

/// A record's database argument (SELECT n, SWAPDB a b) below `databases`.
pub fn db_arg(raw: &[u8], databases: u32) -> Result<u32, String> {
    crate::resp::parse::parse_i64(raw)
        .filter(|&v| v >= 0 && v < i64::from(databases.max(1)))
        .map(|v| v as u32)
        .ok_or_else(|| {
            format!(
                "database index '{}' out of range (databases {databases})",
                String::from_utf8_lossy(raw)
            )
        })
}

/// The database of a SELECT record (its first argument).
pub fn select_arg(args: Args<'_>, databases: u32) -> Result<u32, String> {
    db_arg(args.get(1), databases)
}

/// The shards (of `shards`) that own a keyed record's keys, ascending, each once.
pub fn record_shards(
    spec: &'static CommandSpec,
    args: Args<'_>,
    shards: usize,
) -> Result<Vec<usize>, ReplyError> {
    let keys = spec.key_positions(args)?;
    let mut ids: Vec<usize> = keys
        .iter()
        .map(|&k| shard_of(key_hash_slot(args.get(k)), shards))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Runs one keyed record on `me` with the other shards that own its keys in `peers` (none when
/// they are all on `me`). Replies go to `sink` and are dropped: errors inside a record (e.g.
/// WRONGTYPE) are replies, as when Redis replays its AOF or its master's stream.
pub fn run_record(
    me: &mut Shard,
    peers: &mut Parked<'_>,
    spec: &'static CommandSpec,
    args: Args<'_>,
    sink: &mut Vec<u8>,
    now_ms: u64,
    how: Replay,
) {
    match how {
        Replay::Load => {
            let Handler::Key(f) = spec.handler else {
                unreachable!("keyed record")
            };
            let out = Out::new(sink, Proto::Resp2);
            let _ = f(
                &mut Exec::with_frozen(me, out, now_ms, peers.reborrow()),
                args,
            );
        }
        Replay::Stream if peers.iter().next().is_none() => {
            run_key(
                me,
                spec,
                args,
                &mut Out::new(sink, Proto::Resp2),
                now_ms,
                None,
            );
            me.block_request = None;
        }
        Replay::Stream => {
            let flush = Some(false);
            let _ = run_parked(me, peers, spec, args, sink, Proto::Resp2, now_ms, flush);
        }
    }
}
