//! After a client's command ran: INFO commandstats and the command's latency histogram
//! (`Shard::count_call`), then, only when the handler took at least the lowest time the slow
//! log or the latency monitor records (one relaxed load), the slow path that logs it.

use crate::commands::{flags, CommandSpec};
use crate::global::slowlog::{shortened_args, Caller};
use crate::resp::Args;
use crate::shard::latency::RunningFor;
use crate::shard::Shard;
use std::sync::atomic::Ordering;

/// Counts one run of `spec` that took `nsec` in its handler (`failed`: it answered an error).
#[inline]
pub(super) fn count_run(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    nsec: u64,
    failed: bool,
) {
    sh.count_call(spec.id, nsec, failed, false);
    if nsec >= sh.global.observe.floor_ns.load(Ordering::Relaxed) {
        slow_run(sh, spec, args, nsec);
    }
}

/// Redis' `call()` tail for a slow command: the latency monitor's `command` or
/// `fast-command` event, and the slow log entry (unless the command skips the slow log).
#[cold]
#[inline(never)]
fn slow_run(sh: &mut Shard, spec: &'static CommandSpec, args: Args<'_>, nsec: u64) {
    let o = &sh.global.observe;
    let event = if spec.flags & flags::FAST != 0 {
        "fast-command"
    } else {
        "command"
    };
    let duration_us = nsec / 1000;
    o.latency_sample(event, duration_us / 1000);
    let slower_than = o.slowlog_slower_than_us.load(Ordering::Relaxed);
    if slower_than < 0 || duration_us < slower_than as u64 || spec.flags & flags::SKIP_SLOWLOG != 0
    {
        return;
    }
    let caller = match sh.running_for {
        RunningFor::Local(idx) => match sh.clients.get(idx) {
            Some(c) => Caller::Known {
                addr: c.addr.clone(),
                name: c.name.clone().unwrap_or_default(),
            },
            None => no_client(),
        },
        RunningFor::Remote { home, idx, gen } => Caller::Remote { home, idx, gen },
        RunningFor::Nobody => no_client(),
    };
    let max_len = o.slowlog_max_len.load(Ordering::Relaxed) as usize;
    let now_s = crate::clock::unix_ms() / 1000;
    let mut redacted = Vec::new();
    crate::shard::monitors::redacted_positions(spec.name, args, &mut redacted);
    o.slowlog.push(
        shortened_args(args, &redacted),
        duration_us,
        caller,
        now_s,
        max_len,
    );
}

/// A command run for no client (AOF loading, the replication stream).
fn no_client() -> Caller {
    Caller::Known {
        addr: String::new(),
        name: Vec::new(),
    }
}
