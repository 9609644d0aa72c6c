//! Running a script (EVAL family, FCALL) on the shard that owns its declared keys: finding the
//! script, Redis 7.0's checks before the run (shebang flags) and before each `redis.call`
//! (`lua::Host` over this shard and any parked peers), blocking commands answering at once,
//! the effects journaled as one MULTI/EXEC block per shard, the shards a run parks (held
//! across its slices when it leaves the core past the threshold), and, when a standalone
//! script reaches a key of a shard it does not hold, taking that shard mid-run (or, when that
//! cannot be done without waiting, the rerun with every shard parked).
//!
//! Never runs Lua itself (`lua::vm` does) and never parses a script.

use super::{misconf, reply_error, run_key_with, run_parked, Keys};
use crate::aof_store::journal::BlockMark;
use crate::cluster::hash_slot::key_hash_slot;
use crate::commands::guards::write_refusal;
use crate::commands::{self, flags, AfterReply, CommandSpec, ConnCtx, Handler, ScriptCmd};
use crate::global::Global;
use crate::lua::store::{sha_of, Script, Sha};
use crate::lua::vm::{LuaVm, Run, Step};
use crate::lua::{CallRefused, Host, ReplFlags, RunControl, ScriptFlags};
use crate::resp::{Args, Out, Proto, ReplyError};
use crate::route::{self, ClientFlags, CmdFlags};
use crate::shard::peers::Held;
use crate::shard::{Client, Parked, Shard};
use crate::topology::shard_of;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The refusal of a call that reached a key of a core the script does not hold, once it has
/// written (before that, the run is abandoned and repeated with every core held).
const UNDECLARED_KEY: &str = "Script attempted to access a key of another core that it did not \
     declare, after it had written (slotd runs a script on the cores of its declared keys: \
     pass every key the script uses in KEYS)";

/// Script keys and arguments passed to the engine from the stack, without allocating.
const SCRIPT_ARGS_INLINE: usize = 8;

/// What a run executes: an EVAL script, or a function of the loaded libraries.
enum Body {
    Script(Arc<Script>),
    /// A script this shard's VM compiled already (found without the node-wide store).
    Compiled(Sha),
    Function(Box<[u8]>),
}

struct Target {
    body: Body,
    flags: ScriptFlags,
    /// An EVAL script not in the cache yet: cached once it compiled.
    uncached: bool,
}

/// Finds what `args` runs: the EVAL body (cached or not), the cached script of an EVALSHA, or
/// a loaded function.
fn target(sh: &mut Shard, cmd: ScriptCmd, args: Args<'_>) -> Result<Target, ReplyError> {
    let store = &sh.global.scripts;
    // A script this shard ran before: no lock and no reference count on the store.
    let mut compiled = |sha: &Sha| {
        let vm = sh.lua.as_mut()?;
        vm.sync_scripts(store);
        let flags = vm.compiled_flags(sha)?;
        Some(Target {
            body: Body::Compiled(*sha),
            flags,
            uncached: false,
        })
    };
    match cmd {
        ScriptCmd::Eval | ScriptCmd::EvalRo => {
            let body = args.get(1);
            let sha = sha_of(body);
            if let Some(t) = compiled(&sha) {
                return Ok(t);
            }
            if let Some(s) = store.get(&sha) {
                let flags = s.flags;
                return Ok(Target {
                    body: Body::Script(s),
                    flags,
                    uncached: false,
                });
            }
            let flags = crate::lua::vm::script_flags(body)?;
            let s = Arc::new(Script {
                sha,
                body: body.into(),
                flags,
            });
            Ok(Target {
                body: Body::Script(s),
                flags,
                uncached: true,
            })
        }
        ScriptCmd::EvalSha | ScriptCmd::EvalShaRo => {
            let sha = crate::lua::store::parse_sha(args.get(1));
            if let Some(t) = sha.as_ref().and_then(compiled) {
                return Ok(t);
            }
            let s = sha.and_then(|sha| store.get(&sha)).ok_or_else(|| {
                ReplyError::other("NOSCRIPT No matching script. Please use EVAL.")
            })?;
            let flags = s.flags;
            Ok(Target {
                body: Body::Script(s),
                flags,
                uncached: false,
            })
        }
        ScriptCmd::Fcall | ScriptCmd::FcallRo => {
            let libs = store.libraries();
            // Found without case, as Redis' function table does; the VM knows it by the name
            // it registered.
            let (_, meta) = crate::commands::functions::find_function(&libs, args.get(1))
                .ok_or_else(|| ReplyError::other("ERR Function not found"))?;
            // A function always has flags semantics (no compatibility mode).
            let flags = ScriptFlags(meta.flags.0 | ScriptFlags::HAS_SHEBANG);
            Ok(Target {
                body: Body::Function(meta.name.as_bytes().into()),
                flags,
                uncached: false,
            })
        }
    }
}

/// How one run may act, from the command and the script's flags (Redis' `scriptPrepareForRun`).
#[derive(Clone, Copy)]
struct Mode {
    read_only: bool,
    allow_oom: bool,
    allow_cross_slot: bool,
    /// memory was over maxmemory (nothing evictable) when the script started.
    oom_at_start: bool,
}

/// Redis' refusals before a run, in its order: processCommand's (a script declaring writes
/// counts as a write, and as deny-oom unless allow-oom), then `scriptPrepareForRun`'s.
fn prepare(
    sh: &mut Shard,
    cmd: ScriptCmd,
    flags: ScriptFlags,
    now_ms: u64,
) -> Result<Mode, ReplyError> {
    let shebang = flags.has(ScriptFlags::HAS_SHEBANG);
    let no_writes = flags.has(ScriptFlags::NO_WRITES);
    let allow_oom = flags.has(ScriptFlags::ALLOW_OOM);
    let oom_at_start = sh.global.maxmemory.maxmemory_bytes() != 0
        && crate::shard::evict::before_command(sh, now_ms) == crate::shard::evict::Outcome::Fail;
    if shebang {
        let writes = !no_writes;
        if writes && !allow_oom && oom_at_start {
            return Err(ReplyError::other(super::OOM_TEXT));
        }
        if writes {
            if let Some(e) = misconf(sh) {
                return Err(e);
            }
            if let Some(text) = write_refusal(sh) {
                return Err(ReplyError::Other(text.into()));
            }
        }
        if flags.has(ScriptFlags::NO_CLUSTER) && sh.slot_map.cluster_enabled {
            return Err(ReplyError::other(
                "ERR Can not run script on cluster, 'no-cluster' flag is set.",
            ));
        }
        if writes && cmd.read_only() {
            return Err(ReplyError::other(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        if oom_at_start && !allow_oom && !no_writes {
            return Err(ReplyError::other(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > \
                 'maxmemory'",
            ));
        }
    }
    Ok(Mode {
        read_only: cmd.read_only() || (shebang && no_writes),
        allow_oom: shebang && allow_oom,
        allow_cross_slot: !shebang || flags.has(ScriptFlags::ALLOW_CROSS_SLOT),
        oom_at_start,
    })
}

/// A run's result, and whether its error is one a `redis.call` already counted (Redis does
/// not count it twice in INFO errorstats).
type Outcome = (Result<(), ReplyError>, bool);

fn fresh(r: Result<(), ReplyError>) -> Outcome {
    (r, false)
}

/// The error a run gets when, holding every shard already, it cannot run.
fn undeclared() -> Outcome {
    fresh(Err(ReplyError::Other(format!("ERR {UNDECLARED_KEY}"))))
}

/// The declared key count, checked. FCALL looks its function up first, so a missing function
/// answers "Function not found" before a bad count, as in Redis.
fn numkeys(sh: &mut Shard, cmd: ScriptCmd, args: Args<'_>) -> Result<usize, ReplyError> {
    let n = commands::scripting::numkeys(args);
    if n.is_err() && matches!(cmd, ScriptCmd::Fcall | ScriptCmd::FcallRo) {
        target(sh, cmd, args)?;
    }
    n
}

/// Runs a script command on the shard that owns its declared keys (`keys` found by routing, or
/// here), all of them on this shard (none: every shard is held when there are several).
pub(super) fn run(
    sh: &mut Shard,
    cmd: ScriptCmd,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
    now_ms: u64,
) {
    let t0 = Instant::now();
    let r = match numkeys(sh, cmd, args) {
        Ok(_) => {
            let keys = keys.get(spec, args);
            run_here(sh, cmd, args, keys, out, now_ms, t0)
        }
        Err(e) => fresh(Err(e)),
    };
    finish(sh, spec, args, out, r, t0);
}

/// Standalone, declared keys on several shards: the run holds every shard in `ids` parked.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_multi(
    sh: &mut Shard,
    cmd: ScriptCmd,
    spec: &'static CommandSpec,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    ids: &[usize],
) {
    let t0 = Instant::now();
    let r = run_held(sh, cmd, args, keys, out, now_ms, t0, ids);
    finish(sh, spec, args, out, r, t0);
}

/// Inside EXEC, which holds every shard (`peers`, none on a one-shard node): runs the script
/// there. With `may_yield` a run past the threshold leaves `this.suspended` for the EXEC to
/// take (`transaction::ExecRun`), which keeps the park, so the peers stay valid.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_in_exec(
    this: &mut Shard,
    peers: Option<&mut Parked<'_>>,
    may_yield: bool,
    cmd: ScriptCmd,
    spec: &'static CommandSpec,
    args: Args<'_>,
    buf: &mut Vec<u8>,
    proto: Proto,
    now_ms: u64,
) {
    let t0 = Instant::now();
    let out = &mut Out::new(buf, proto);
    let r = match numkeys(this, cmd, args) {
        Ok(n) => {
            let keys: Vec<usize> = (3..3 + n).collect();
            let start = out.buf.len();
            match attempt(
                this, peers, None, may_yield, cmd, args, &keys, out, now_ms, t0,
            ) {
                Attempt::Done(r) => r,
                // Every shard is held here (or there is one): no other core to reach.
                Attempt::NeedAll => {
                    out.buf.truncate(start);
                    undeclared()
                }
            }
        }
        Err(e) => fresh(Err(e)),
    };
    finish(this, spec, args, out, r, t0);
}

/// The error reply and INFO commandstats of the script command itself.
fn finish(
    sh: &mut Shard,
    spec: &'static CommandSpec,
    args: Args<'_>,
    out: &mut Out<'_>,
    r: Outcome,
    t0: Instant,
) {
    let failed = r.0.is_err();
    match r {
        (Err(e), true) => out.error(&e),
        (Err(e), false) => reply_error(sh, out, &e),
        (Ok(()), _) => {}
    }
    sh.stats.commands_processed += 1;
    let nsec = t0.elapsed().as_nanos() as u64;
    super::observe::count_run(sh, spec, args, nsec, failed);
    if sh.suspended.is_some() {
        count_at_end(sh, spec.id);
    }
}

/// A run that left the core was counted as a call when it did; its end adds the time since
/// then and, when it ends in an error reply, the failure: Redis counts the whole call once,
/// its time included.
fn count_at_end(sh: &mut Shard, id: crate::command_id::CommandId) {
    let Some(s) = sh.suspended.take() else {
        return;
    };
    let crate::shard::suspended::Suspended {
        resume: mut inner,
        proto,
    } = *s;
    let since = Instant::now();
    let resume: crate::shard::suspended::ResumeFn = Box::new(move |sh, out, now_ms| {
        let start = out.buf.len();
        let ended = inner(sh, out, now_ms);
        if ended {
            let c = sh.stats.cmd.entry(id);
            c.nsec += since.elapsed().as_nanos() as u64;
            if out.buf.get(start) == Some(&b'-') {
                c.failed_calls += 1;
            }
        }
        ended
    });
    sh.suspended = Some(Box::new(crate::shard::suspended::Suspended {
        resume,
        proto,
    }));
}

/// This shard alone, unless the script is known to need every shard (or finds out).
fn run_here(
    sh: &mut Shard,
    cmd: ScriptCmd,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    t0: Instant,
) -> Outcome {
    // Known to reach keys of other shards: it holds every shard from the start. Otherwise it
    // runs here (and may leave the core past busy-reply-threshold).
    if sh.shards > 1 && needs_all(sh, cmd, args) {
        return run_held(sh, cmd, args, keys, out, now_ms, t0, &every_shard(sh));
    }
    let start = out.buf.len();
    match attempt(sh, None, None, false, cmd, args, keys, out, now_ms, t0) {
        Attempt::Done(r) => r,
        Attempt::NeedAll => {
            out.buf.truncate(start);
            remember_needs_all(sh, cmd, args);
            run_held(sh, cmd, args, keys, out, now_ms, t0, &every_shard(sh))
        }
    }
}

/// The ids of every shard (the rare runs that hold them all).
fn every_shard(sh: &Shard) -> Vec<usize> {
    (0..sh.shards).collect()
}

/// With the shards `ids` parked (every shard when the first try reached another one).
#[allow(clippy::too_many_arguments)]
fn run_held(
    sh: &mut Shard,
    cmd: ScriptCmd,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    t0: Instant,
    ids: &[usize],
) -> Outcome {
    let all;
    let ids = if needs_all(sh, cmd, args) {
        all = every_shard(sh);
        &all
    } else {
        ids
    };
    let start = out.buf.len();
    // The park outlives this call when the run is suspended past the threshold (the run
    // releases it as it ends).
    let held = match sh.hold(ids) {
        Ok(h) => h,
        // A shard it needs runs a script past the threshold: -BUSY at once, nothing ran.
        Err(busy) => return fresh(Err(busy)),
    };
    match attempt(
        sh,
        None,
        Some(held),
        false,
        cmd,
        args,
        keys,
        out,
        now_ms,
        t0,
    ) {
        Attempt::Done(r) => r,
        Attempt::NeedAll if ids.len() < sh.shards => {
            out.buf.truncate(start);
            remember_needs_all(sh, cmd, args);
            run_held(sh, cmd, args, keys, out, now_ms, t0, &every_shard(sh))
        }
        Attempt::NeedAll => {
            out.buf.truncate(start);
            undeclared()
        }
    }
}

/// The script's name for the needs-every-shard memory: its SHA (functions by name).
fn run_key_of(cmd: ScriptCmd, args: Args<'_>) -> Option<Sha> {
    match cmd {
        ScriptCmd::Eval | ScriptCmd::EvalRo => Some(sha_of(args.get(1))),
        ScriptCmd::EvalSha | ScriptCmd::EvalShaRo => crate::lua::store::parse_sha(args.get(1)),
        ScriptCmd::Fcall | ScriptCmd::FcallRo => Some(sha_of(args.get(1))),
    }
}

fn needs_all(sh: &Shard, cmd: ScriptCmd, args: Args<'_>) -> bool {
    !sh.script_needs_all.is_empty()
        && run_key_of(cmd, args).is_some_and(|k| sh.script_needs_all.contains(&k))
}

fn remember_needs_all(sh: &mut Shard, cmd: ScriptCmd, args: Args<'_>) {
    if let Some(k) = run_key_of(cmd, args) {
        remember_needs_all_key(sh, k);
    }
}

fn remember_needs_all_key(sh: &mut Shard, k: Sha) {
    if sh.script_needs_all.len() >= crate::constants::SCRIPT_NEEDS_ALL_MAX {
        sh.script_needs_all.clear();
    }
    sh.script_needs_all.insert(k);
}

enum Attempt {
    Done(Outcome),
    /// The script reached a key of a shard not held before it wrote: nothing it did counts;
    /// run it again holding every shard.
    NeedAll,
}

/// One run of the script on `sh` (and `peers` when held).
#[allow(clippy::too_many_arguments)]
fn attempt(
    sh: &mut Shard,
    peers: Option<&mut Parked<'_>>,
    taken: Option<Held>,
    in_exec: bool,
    cmd: ScriptCmd,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    t0: Instant,
) -> Attempt {
    // The run borrows the node-wide state beside the shard: the shard's own handle is taken
    // for the run and put back (no reference count moves per run).
    let global = sh.script_global.take().unwrap_or_else(|| sh.global.clone());
    let r = attempt_with(
        sh, &global, peers, taken, in_exec, cmd, args, keys, out, now_ms, t0,
    );
    sh.script_global = Some(global);
    r
}

/// Splits `items` into at most `SCRIPT_ARGS_INLINE` slices on the stack, or a Vec beyond.
struct Slices<'a> {
    inline: [&'a [u8]; SCRIPT_ARGS_INLINE],
    len: usize,
    spill: Vec<&'a [u8]>,
}

impl<'a> Slices<'a> {
    fn of(args: Args<'a>, idx: impl ExactSizeIterator<Item = usize>) -> Self {
        let mut s = Slices {
            inline: [&[]; SCRIPT_ARGS_INLINE],
            len: idx.len(),
            spill: Vec::new(),
        };
        if s.len <= SCRIPT_ARGS_INLINE {
            for (slot, i) in s.inline.iter_mut().zip(idx) {
                *slot = args.get(i);
            }
        } else {
            s.spill = idx.map(|i| args.get(i)).collect();
        }
        s
    }

    fn as_slice(&self) -> &[&'a [u8]] {
        if self.len <= SCRIPT_ARGS_INLINE {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn attempt_with(
    sh: &mut Shard,
    global: &Global,
    mut peers: Option<&mut Parked<'_>>,
    mut taken: Option<Held>,
    in_exec: bool,
    cmd: ScriptCmd,
    args: Args<'_>,
    keys: &[usize],
    out: &mut Out<'_>,
    now_ms: u64,
    t0: Instant,
) -> Attempt {
    let t = match target(sh, cmd, args) {
        Ok(t) => t,
        Err(e) => return unheld(sh, taken, Err(e)),
    };
    let mode = match prepare(sh, cmd, t.flags, now_ms) {
        Ok(m) => m,
        Err(e) => return unheld(sh, taken, Err(e)),
    };
    let held = 1
        + peers.as_ref().map_or(0, |p| p.iter().count())
        + taken.as_mut().map_or(0, |h| h.view().iter().count());
    let slot = if sh.slot_map.cluster_enabled {
        keys.first().map(|&k| key_hash_slot(args.get(k)))
    } else {
        None
    };
    // Each held shard's writes become one block.
    let mark = sh.journal.begin_block();
    let peer_marks: Vec<_> = peers
        .as_mut()
        .map(|p| {
            p.iter_mut()
                .map(|s| (s.id, s.journal.begin_block()))
                .collect()
        })
        .unwrap_or_default();
    let taken_marks: Vec<_> = taken
        .as_mut()
        .map(|h| {
            h.view()
                .iter_mut()
                .map(|s| (s.id, s.journal.begin_block()))
                .collect()
        })
        .unwrap_or_default();
    let ctl = &global.script_runs[sh.id];
    ctl.kill.store(false, Ordering::Relaxed);
    ctl.wrote.store(false, Ordering::Relaxed);
    ctl.is_function
        .store(matches!(t.body, Body::Function(_)), Ordering::Relaxed);
    ctl.started_ms.store(now_ms, Ordering::Relaxed);
    ctl.running.store(true, Ordering::Release);
    // Past busy-reply-threshold a run may leave the core (the event loop continues it, the
    // shards it parked stay parked); not inside the AOF loader (`no_block`), nor in a section
    // that parked its peers for it, except EXEC's (which says so: it keeps its park across
    // the suspension, and continues the run itself).
    let may_yield = in_exec || (peers.is_none() && !sh.no_block);
    let no_block = std::mem::replace(&mut sh.no_block, true);
    let mut vm = sh.lua.take().unwrap_or_else(|| Box::new(LuaVm::new()));
    vm.sync_scripts(&global.scripts);
    let key_args = Slices::of(args, keys.iter().copied());
    let argv = Slices::of(args, 3 + keys.len()..args.len());
    let run = Run {
        keys: key_args.as_slice(),
        args: argv.as_slice(),
        may_yield,
        busy_threshold_ms: global.busy_reply_threshold_ms.load(Ordering::Relaxed),
        started: t0,
    };
    let db = sh.sel;
    let sh_shards = sh.shards;
    // EXEC's parked peers, kept by a run that yields inside it.
    let section_ptrs = peers.as_ref().map(|p| p.as_ptrs());
    let mut host = ScriptHost {
        sh,
        peers: peers.as_deref_mut(),
        held_all: false,
        now_ms,
        mode,
        ctl,
        wrote: false,
        slot,
        db,
        need_all: false,
        run_key: run_key_of(cmd, args),
        may_take: may_yield && held < sh_shards,
        taken,
        taken_marks,
    };
    host.held_all = held >= host.sh.shards;
    let step = match &t.body {
        Body::Script(s) => vm.eval(&mut host, ctl, run, s, out),
        Body::Compiled(sha) => vm.eval_compiled(&mut host, ctl, run, sha, out),
        Body::Function(name) => {
            vm.sync_libraries(&global.scripts);
            vm.fcall(&mut host, ctl, run, name, out)
        }
    };
    let need_all = host.need_all;
    // A suspended run keeps the shards it parked (they answer -BUSY through other shards);
    // otherwise they resume now.
    let keep = match step {
        Step::Yielded(_) if !need_all => host.taken.take().map(|mut h| {
            lend_busy(global, ctl, &mut h);
            (h, std::mem::take(&mut host.taken_marks))
        }),
        _ => {
            host.release_taken();
            None
        }
    };
    let (wrote, slot, script_db) = (host.wrote, host.slot, host.db);
    let is_function = matches!(t.body, Body::Function(_));
    let counted = matches!(step, Step::Done(Err(_))) && vm.error_counted(is_function);
    let sh = host.sh;
    sh.sel = db;
    sh.lua = Some(vm);
    sh.no_block = no_block;
    let mut keep = keep;
    if let Some((h, _)) = keep.as_mut() {
        lend(sh, h);
    }
    let step = match step {
        Step::Yielded(s) if !need_all => {
            // Nothing is written yet: the event loop continues the run (`Shard::suspended`).
            if let Body::Function(name) = &t.body {
                crate::commands::functions::note_running(ctl, now_ms, name, args);
            }
            // Inside EXEC: the section's peers, valid while the EXEC holds its park, which
            // outlives this run (`transaction::ExecRun` drops the run first).
            let section = section_ptrs.map(|p| (p.to_vec(), peer_marks));
            let run = Resumable {
                co: Some(s),
                mark: Some(mark),
                section,
                mode,
                wrote,
                slot,
                db: script_db,
                now_ms,
                body: t.body,
                uncached: t.uncached,
                needs_all_key: run_key_of(cmd, args),
                taken: keep,
            };
            sh.suspended = Some(Box::new(crate::shard::suspended::Suspended {
                resume: run.into_resume(),
                proto: out.proto,
            }));
            return Attempt::Done(fresh(Ok(())));
        }
        step => step,
    };
    ctl.running.store(false, Ordering::Release);
    ctl.busy.store(false, Ordering::Release);
    sh.journal.end_block(mark);
    if let Some(p) = peers.as_mut() {
        for (id, m) in peer_marks {
            if let Some(peer) = p.get(id) {
                peer.journal.end_block(m);
            }
        }
    }
    if need_all {
        // It compiled (a call reached another core): cached now, as Redis caches every EVAL
        // that compiles, so the store agrees with this VM's compiled scripts (which EVALSHA
        // consults first) even when the run ends in the undeclared-key error.
        if let (true, Body::Script(s)) = (t.uncached, &t.body) {
            global.scripts.insert(&s.body, s.flags);
        }
        return Attempt::NeedAll;
    }
    let r = match step {
        Step::Done(r) => r,
        // Dropped: the run reached another core and runs again holding every shard.
        Step::Yielded(_) => unreachable!("a yielded run continues unless it needs every shard"),
    };
    if t.uncached && !r.as_ref().is_err_and(is_compile_error) {
        if let Body::Script(s) = &t.body {
            global.scripts.insert(&s.body, s.flags);
        }
    }
    // An error a call produced (raised by redis.call, or returned from redis.pcall) was
    // counted when the call failed.
    Attempt::Done((r, counted))
}

/// A run taken off the core at busy-reply-threshold (this shard, and the shards it parked if
/// any, or those EXEC parked when it runs inside one): everything its `ScriptHost` and the
/// end of `attempt` need to continue it a slice at a time.
struct Resumable {
    co: Option<crate::lua::vm::Suspended>,
    /// The journal block of its writes, ended (wrapped in MULTI/EXEC) when it ends.
    mark: Option<crate::aof_store::journal::BlockMark>,
    mode: Mode,
    wrote: bool,
    slot: Option<u16>,
    /// The database the script selected.
    db: u32,
    /// When it started: its commands see that time, as every slice of one run.
    now_ms: u64,
    body: Body,
    uncached: bool,
    needs_all_key: Option<Sha>,
    /// The shards it parked (a run over several shards), with their journal blocks.
    taken: Option<(Held, Vec<(usize, BlockMark)>)>,
    /// Inside EXEC over several shards: the peers EXEC parked (raw, indexed by shard id), and
    /// their journal blocks. The EXEC holds them parked until after this run is dropped.
    section: Option<Section>,
}

/// EXEC's parked peers as a run inside it keeps them (indexed by shard id, null for this
/// shard), with the run's journal block on each.
type Section = (Vec<*mut Shard>, Vec<(usize, BlockMark)>);

impl Resumable {
    /// The event loop's handle: one slice per call; true once the run ended and its reply
    /// (or error reply) is in `out`.
    fn into_resume(mut self) -> crate::shard::suspended::ResumeFn {
        Box::new(move |sh: &mut Shard, out: &mut Out<'_>, _now_ms: u64| self.slice(sh, out))
    }

    fn slice(&mut self, sh: &mut Shard, out: &mut Out<'_>) -> bool {
        let global = sh.global.clone();
        let ctl = &global.script_runs[sh.id];
        let Some(co) = self.co.take() else {
            return true;
        };
        let client_db = sh.sel;
        let no_block = std::mem::replace(&mut sh.no_block, true);
        let mut vm = sh.lua.take().unwrap_or_else(|| Box::new(LuaVm::new()));
        let start = out.buf.len();
        let section = self.section.take();
        // SAFETY: the EXEC that parked these shards keeps them parked (and touches none of
        // them) for as long as this run lives (`section`'s contract); they are distinct, and
        // this shard is not among them.
        let mut view = section
            .as_ref()
            .map(|(ptrs, _)| unsafe { Parked::new(ptrs) });
        let in_section = view.as_ref().map(|v| 1 + v.iter().count());
        let mut host = ScriptHost {
            sh: &mut *sh,
            peers: view.as_mut(),
            held_all: false,
            now_ms: self.now_ms,
            mode: self.mode,
            ctl,
            wrote: self.wrote,
            slot: self.slot,
            db: self.db,
            need_all: false,
            run_key: self.needs_all_key,
            // Past the threshold already: taking more cores now would leave fewer to read
            // SCRIPT KILL while it runs on.
            may_take: false,
            taken: None,
            taken_marks: Vec::new(),
        };
        if let Some((mut h, marks)) = self.taken.take() {
            recall(host.sh, &mut h);
            host.held_all = 1 + h.view().iter().count() >= host.sh.shards;
            host.taken = Some(h);
            host.taken_marks = marks;
        } else if let Some(held) = in_section {
            host.held_all = held >= host.sh.shards;
        } else {
            host.held_all = host.sh.shards == 1;
        }
        let step = vm.resume(co, &mut host, ctl, out);
        let is_function = matches!(self.body, Body::Function(_));
        let counted = matches!(step, Step::Done(Err(_))) && vm.error_counted(is_function);
        let need_all = host.need_all;
        match step {
            Step::Yielded(_) if !need_all => {
                self.taken = host
                    .taken
                    .take()
                    .map(|h| (h, std::mem::take(&mut host.taken_marks)))
            }
            _ => host.release_taken(),
        }
        (self.wrote, self.slot, self.db) = (host.wrote, host.slot, host.db);
        if let Some((h, _)) = self.taken.as_mut() {
            lend(sh, h);
        }
        sh.sel = client_db;
        sh.lua = Some(vm);
        sh.no_block = no_block;
        let r = match step {
            Step::Yielded(co) if !need_all => {
                self.co = Some(co);
                self.section = section;
                return false;
            }
            Step::Done(r) if !need_all => r,
            // It reached another core after its first slice: too late to run it again (its
            // reply may not be withheld that long); it holds every shard from now on.
            _ => {
                out.buf.truncate(start);
                if let Some(k) = self.needs_all_key {
                    remember_needs_all_key(sh, k);
                }
                Err(ReplyError::Other(format!("ERR {UNDECLARED_KEY}")))
            }
        };
        ctl.running.store(false, Ordering::Release);
        ctl.busy.store(false, Ordering::Release);
        if let Some(mark) = self.mark.take() {
            sh.journal.end_block(mark);
        }
        if let (Some(view), Some((_, marks))) = (view.as_mut(), section.as_ref()) {
            for &(id, m) in marks {
                if let Some(peer) = view.get(id) {
                    peer.journal.end_block(m);
                }
            }
        }
        if self.uncached && !r.as_ref().is_err_and(is_compile_error) {
            if let Body::Script(s) = &self.body {
                global.scripts.insert(&s.body, s.flags);
            }
        }
        // As `finish`: an error a call produced was counted when the call failed.
        match r {
            Err(e) if counted && !need_all => out.error(&e),
            Err(e) => reply_error(sh, out, &e),
            Ok(()) => {}
        }
        true
    }
}

/// A run over several shards is suspended past the threshold: the shards it parked show busy
/// too (with its kind), so the other shards answer -BUSY for their keys at once.
pub(super) fn lend_busy(global: &Global, ctl: &RunControl, held: &mut Held) {
    let function = ctl.is_function.load(Ordering::Relaxed);
    for p in held.view().iter() {
        let c = &global.script_runs[p.id];
        c.is_function.store(function, Ordering::Relaxed);
        c.busy.store(true, Ordering::Release);
    }
}

/// Between two slices of a suspended run the shards it holds serve their own clients (-BUSY,
/// `Held::lend`); this shard stops naming them as parked meanwhile.
pub(super) fn lend(sh: &mut Shard, held: &mut Held) {
    sh.set_parked(None);
    held.lend(&sh.global);
}

/// Before the next slice: the held shards parked again (`Held::recall`).
pub(super) fn recall(sh: &mut Shard, held: &mut Held) {
    held.recall();
    sh.set_parked(Some(held.ptrs().to_vec()));
}

/// A run that fails before it starts releases the shards it was given.
fn unheld(sh: &mut Shard, taken: Option<Held>, r: Result<(), ReplyError>) -> Attempt {
    if taken.is_some() {
        sh.set_parked(None);
    }
    drop(taken);
    Attempt::Done(fresh(r))
}

/// Redis caches an EVAL script only once it compiled.
fn is_compile_error(e: &ReplyError) -> bool {
    e.text().starts_with("ERR Error compiling script")
}

/// `lua::Host` for one run: `redis.call` through Redis' checks, then the command through the
/// path a client's command takes on its owner.
struct ScriptHost<'h, 'p> {
    sh: &'h mut Shard,
    peers: Option<&'h mut Parked<'p>>,
    /// Every shard is held (this one and all peers): fan-out commands may run.
    held_all: bool,
    now_ms: u64,
    mode: Mode,
    ctl: &'h RunControl,
    wrote: bool,
    /// Cluster mode: the slot of the declared keys, or of the first key used.
    slot: Option<u16>,
    /// The database the script selected (SELECT inside a script affects it alone).
    db: u32,
    need_all: bool,
    /// The script's name for the needs-every-shard memory (`run_key_of`).
    run_key: Option<Sha>,
    /// A call reaching another core may park every other shard there and then (`take_all`):
    /// the shards the run holds were frozen since it started, so the whole script is as if it
    /// ran at that moment with every shard held.
    may_take: bool,
    /// The shards the run parked itself (its declared keys' shards, `Shard::hold`, and those
    /// taken mid-run), and their journal blocks; released as the run ends.
    taken: Option<Held>,
    taken_marks: Vec<(usize, BlockMark)>,
}

/// The parked peers of a run: those of its section, or those it took mid-run.
fn peers_of<'a>(
    peers: &'a mut Option<&mut Parked<'_>>,
    taken: &'a mut Option<Held>,
) -> Option<Parked<'a>> {
    match (peers, taken) {
        (Some(p), _) => Some(p.reborrow()),
        (None, Some(h)) => Some(h.view()),
        (None, None) => None,
    }
}

fn refused(text: &str) -> CallRefused {
    CallRefused(text.to_string())
}

impl ScriptHost<'_, '_> {
    /// Redis' `scriptVerifyClusterState`.
    fn cluster_check(
        &mut self,
        spec: &'static CommandSpec,
        args: Args<'_>,
        keys: &[usize],
    ) -> Result<(), CallRefused> {
        if keys.is_empty() {
            return Ok(());
        }
        let map = self.sh.slot_map.clone();
        let cmd = CmdFlags {
            write: spec.is_write(),
            asking: false,
            migrate: false,
        };
        let now = self.now_ms;
        let db = self.sh.sel_db();
        let r = route::decide_on_owner(args, keys, &map, ClientFlags::default(), cmd, &mut |k| {
            db.contains(k, now)
        });
        match r {
            Ok(()) => {}
            Err(ReplyError::ClusterDownState) => {
                return Err(refused(
                    "Script attempted to execute a command while the cluster is down",
                ))
            }
            Err(e)
                if e.text()
                    .starts_with("CLUSTERDOWN The cluster is down and only") =>
            {
                return Err(refused(
                    "Script attempted to execute a write command while the cluster is down and \
                     readonly",
                ))
            }
            // Unbound, another node's, cross-slot, migrating: Redis says the same.
            Err(_) => {
                return Err(refused(
                    "Script attempted to access a non local key in a cluster node",
                ))
            }
        }
        if self.mode.allow_cross_slot {
            return Ok(());
        }
        let slot = key_hash_slot(args.get(keys[0]));
        match self.slot {
            None => self.slot = Some(slot),
            Some(s) if s != slot => {
                return Err(refused(
                    "Script attempted to access keys that do not hash to the same slot",
                ))
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// True when every key of the call is on a shard this run holds.
    fn keys_held(&mut self, args: Args<'_>, keys: &[usize]) -> bool {
        let n = self.sh.shards;
        if n == 1 {
            return true;
        }
        let me = self.sh.id;
        keys.iter().all(|&k| {
            let id = shard_of(key_hash_slot(args.get(k)), n);
            id == me
                || peers_of(&mut self.peers, &mut self.taken)
                    .is_some_and(|mut p| p.get(id).is_some())
        })
    }

    /// A call needing a shard not held: the run takes every other shard now when it can
    /// (`take_all`). Otherwise, before any write the run is abandoned and repeated holding
    /// every shard; after, the call is refused.
    fn reach_out(&mut self) -> Result<(), CallRefused> {
        if self.take_all() {
            return Ok(());
        }
        if !self.wrote {
            self.need_all = true;
        }
        // Either way its later runs hold every shard from the start.
        if let Some(k) = self.run_key {
            remember_needs_all_key(self.sh, k);
        }
        Err(refused(UNDECLARED_KEY))
    }

    /// Parks every other shard mid-run: a run alone on its shard when the park token is free
    /// (taken without waiting: its holder may be waiting for this shard), a run over some
    /// shards with the token it holds; never when a shard is busy in a script. From then on
    /// the run holds every shard.
    fn take_all(&mut self) -> bool {
        if !self.may_take || self.peers.is_some() {
            return false;
        }
        let sh = &mut *self.sh;
        let ids: Vec<usize> = (0..sh.shards).collect();
        let Some(peers) = sh.peers.as_ref() else {
            return false;
        };
        let mut held = match self.taken.take() {
            // A run over some shards holds the token: it parks the rest with it.
            Some(mut h) => {
                if !peers.park_more(&sh.global, sh.id, &mut h, &ids) {
                    self.taken = Some(h);
                    return false;
                }
                h
            }
            None => match peers.try_park(&sh.global, sh.id, &ids) {
                Some(h) => h,
                None => return false,
            },
        };
        sh.set_parked(Some(held.ptrs().to_vec()));
        let new: Vec<_> = held
            .view()
            .iter_mut()
            .filter(|p| !self.taken_marks.iter().any(|(id, _)| *id == p.id))
            .map(|p| (p.id, p.journal.begin_block()))
            .collect();
        self.taken_marks.extend(new);
        self.taken = Some(held);
        self.held_all = true;
        // Its later runs hold every shard from the start, as after a rerun.
        if let Some(k) = self.run_key {
            remember_needs_all_key(self.sh, k);
        }
        true
    }

    /// Ends a mid-run park: the taken shards' blocks close, their journals are written (under
    /// `always`, fsynced before the reply) and they resume.
    fn release_taken(&mut self) {
        let Some(mut held) = self.taken.take() else {
            return;
        };
        let always = self
            .sh
            .global
            .cfg(|c| c.appendfsync == crate::config::AppendFsync::Always);
        let mut view = held.view();
        for (id, m) in self.taken_marks.drain(..) {
            if let Some(p) = view.get(id) {
                p.journal.end_block(m);
            }
        }
        super::flush_parked(&mut view, always);
        // Before they resume: their own clients must not see -BUSY for this run.
        for p in view.iter() {
            self.sh.global.script_runs[p.id]
                .busy
                .store(false, Ordering::Release);
        }
        self.sh.set_parked(None);
        self.held_all = self.sh.shards == 1;
    }

    fn run_conn(
        &mut self,
        f: commands::ConnFn,
        spec: &'static CommandSpec,
        args: Args<'_>,
        proto: Proto,
        reply: &mut Vec<u8>,
    ) {
        let sh = &mut *self.sh;
        let idx = sh.clients.insert(Client {
            authenticated: true,
            db: self.db,
            proto,
            ..Default::default()
        });
        let t0 = Instant::now();
        let mut cx = ConnCtx {
            now_ms: self.now_ms,
            out: Out::new(reply, proto),
            shard: sh,
            client_idx: idx,
            after: AfterReply::Nothing,
            run_queue: None,
        };
        let r = f(&mut cx, args);
        let failed = r.is_err();
        if let Err(e) = r {
            reply_error(sh, &mut Out::new(reply, proto), &e);
        }
        if let Some(c) = sh.clients.remove(idx) {
            self.db = c.db;
        }
        sh.stats.commands_processed += 1;
        sh.count_call(spec.id, t0.elapsed().as_nanos() as u64, failed, false);
    }
}

/// Connection-level commands a script may call that read or change every shard.
fn fans_out(spec: &CommandSpec) -> bool {
    matches!(
        commands::full_name(spec),
        "dbsize"
            | "keys"
            | "scan"
            | "randomkey"
            | "flushall"
            | "flushdb"
            | "swapdb"
            | "info"
            | "memory|stats"
            | "memory|doctor"
    )
}

/// The command a script names, as Redis' `lookupCommand` finds it for `scriptCall`.
fn lookup(args: Args<'_>) -> Result<&'static CommandSpec, CallRefused> {
    let unknown = || refused("Unknown Redis command called from script");
    let spec = commands::lookup(args.get(0)).ok_or_else(unknown)?;
    let spec = match spec.handler {
        Handler::Container if args.len() >= 2 => {
            commands::lookup_sub(spec, args.get(1)).ok_or_else(unknown)?
        }
        _ => spec,
    };
    if !spec.arity_ok(args.len()) {
        return Err(refused(
            "Wrong number of args calling Redis command from script",
        ));
    }
    Ok(spec)
}

impl Host for ScriptHost<'_, '_> {
    fn call(
        &mut self,
        argv: &[&[u8]],
        proto: Proto,
        repl: ReplFlags,
        reply: &mut Vec<u8>,
    ) -> Result<(), CallRefused> {
        // The line in one buffer for the handlers (`Args`), reusing the shard's scratch.
        let (mut buf, mut ranges) = std::mem::take(&mut self.sh.script_args);
        buf.clear();
        ranges.clear();
        for a in argv {
            ranges.push((buf.len() as u32, a.len() as u32));
            buf.extend_from_slice(a);
        }
        let r = self.call_checked(Args::new(&buf, &ranges), proto, repl, reply);
        self.sh.script_args = (buf, ranges);
        match &r {
            // The run is abandoned and repeated: nothing of it counts.
            Err(_) if self.need_all => {}
            // Counted as Redis counts a rejected call (errorstats by its code).
            Err(CallRefused(text)) => {
                let full = match text.strip_prefix('-') {
                    Some(coded) => coded.to_string(),
                    None => format!("ERR {text}"),
                };
                super::count_error(self.sh, &full);
                if let Ok(spec) = lookup_name(argv) {
                    self.sh.count_call(spec.id, 0, false, true);
                }
            }
            Ok(()) => {}
        }
        r
    }
}

/// The command an argv names, for counting a refused call (none when unknown).
fn lookup_name(argv: &[&[u8]]) -> Result<&'static CommandSpec, ()> {
    let name = argv.first().ok_or(())?;
    let spec = commands::lookup(name).ok_or(())?;
    match (spec.handler, argv.get(1)) {
        (Handler::Container, Some(sub)) => commands::lookup_sub(spec, sub).ok_or(()),
        _ => Ok(spec),
    }
}

impl ScriptHost<'_, '_> {
    /// `Host::call` once the refusal bookkeeping is set aside.
    fn call_checked(
        &mut self,
        args: Args<'_>,
        proto: Proto,
        repl: ReplFlags,
        reply: &mut Vec<u8>,
    ) -> Result<(), CallRefused> {
        if self.need_all {
            return Err(refused(UNDECLARED_KEY));
        }
        if args.is_empty() {
            return Err(refused(
                "Please specify at least one argument for this redis lib call",
            ));
        }
        let spec = lookup(args)?;
        if spec.flags & flags::NOSCRIPT != 0 {
            return Err(refused("This Redis command is not allowed from script"));
        }
        let write = spec.is_write();
        if self.mode.read_only && spec.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
            return Err(refused(
                "Write commands are not allowed from read-only scripts.",
            ));
        }
        if write && !self.wrote {
            if let Some(text) = write_refusal(self.sh) {
                return Err(CallRefused(format!("-{text}")));
            }
            if let Some(e) = misconf(self.sh) {
                return Err(CallRefused(format!("-{}", e.text())));
            }
        }
        if !self.mode.allow_oom
            && !self.wrote
            && self.mode.oom_at_start
            && spec.flags & flags::DENYOOM != 0
        {
            return Err(CallRefused(format!("-{}", super::OOM_TEXT)));
        }
        let keys = spec.key_idx(args).unwrap_or_default();
        if self.sh.slot_map.cluster_enabled {
            self.cluster_check(spec, args, &keys)?;
        }
        let conn = matches!(spec.handler, Handler::Conn(_));
        // A connection-level command that reads or changes every shard (DBSIZE, INFO...) of
        // a run that does not hold them all reaches out first (a run alone on its shard would
        // otherwise park the others from mid-script through a waiting park, which could park
        // this very shard for another section and show it the script half-run); one of a run
        // that parked some shards would reach shards it does not hold.
        let some_held = self.peers.is_some() || self.taken.is_some();
        let some_held = some_held || (conn && self.sh.shards > 1 && fans_out(spec));
        // Keys named by data (SORT's BY/GET patterns) may be on any shard: hold them all.
        let any_key = self.sh.shards > 1 && spec.line_reaches_any_key.is_some_and(|f| f(args));
        if !self.keys_held(args, &keys)
            || (conn && !self.held_all && some_held)
            || (any_key && !self.held_all)
        {
            self.reach_out()?;
        }
        if write {
            self.wrote = true;
            self.ctl.wrote.store(true, Ordering::Relaxed);
        }
        // redis.set_repl: slotd's journal feeds the AOF and the replicas together, so a write
        // goes to both or (REPL_NONE) to neither.
        let journal_off = repl == ReplFlags::NONE;
        let saved = self.set_journal(!journal_off);
        self.sh.sel = self.db;
        let now = self.now_ms;
        // MONITOR (issue 17 B): a script's command is shown as `[db lua]`.
        if crate::shard::monitors::active(&self.sh.global)
            && spec.flags & (flags::ADMIN | flags::SKIP_MONITOR) == 0
        {
            let origin = crate::shard::monitors::Origin::Lua;
            crate::shard::monitors::feed(self.sh, self.db, origin, args, &[]);
        }
        match spec.handler {
            Handler::Key(_) => {
                let (me, n) = (self.sh.id, self.sh.shards);
                let mut owners = keys
                    .iter()
                    .map(|&k| shard_of(key_hash_slot(args.get(k)), n));
                // Alone on this shard, every key is here (keys_held): no key is hashed.
                let (first, one) = match (&self.peers, &self.taken) {
                    (None, None) => (me, true),
                    _ => {
                        let first = owners.next().unwrap_or(me);
                        (first, owners.all(|id| id == first) && !any_key)
                    }
                };
                if one {
                    // All its keys on one shard: the command runs there as a client's would.
                    let db = self.db;
                    // Client-side caching: the caller reads (and writes) on the owner too.
                    let caller = (self.sh.tracking.current, self.sh.tracking.current_home);
                    let mut view = peers_of(&mut self.peers, &mut self.taken);
                    let owner = match view.as_mut() {
                        Some(p) if first != me => p.get(first).expect("keys_held"),
                        _ => &mut *self.sh,
                    };
                    owner.sel = db;
                    let t = &mut owner.tracking;
                    let before = (t.current, t.current_home);
                    (t.current, t.current_home) = caller;
                    let out = &mut Out::new(reply, proto);
                    run_key_with(owner, spec, args, &mut Keys::given(&keys), out, now, None);
                    owner.block_request = None;
                    (owner.tracking.current, owner.tracking.current_home) = before;
                } else {
                    let mut peers = peers_of(&mut self.peers, &mut self.taken).expect("not local");
                    let t0 = Instant::now();
                    let r = run_parked(self.sh, &mut peers, spec, args, reply, proto, now, None);
                    let failed = r.is_err();
                    if let Err(e) = r {
                        reply_error(self.sh, &mut Out::new(reply, proto), &e);
                    }
                    self.sh.stats.commands_processed += 1;
                    let ns = t0.elapsed().as_nanos() as u64;
                    self.sh.count_call(spec.id, ns, failed, false);
                }
            }
            Handler::Conn(f) => self.run_conn(f, spec, args, proto, reply),
            Handler::Script(_) | Handler::Container => {
                unreachable!("scripts are noscript; containers resolve to a subcommand")
            }
        }
        self.restore_journal(saved);
        Ok(())
    }
}

impl ScriptHost<'_, '_> {
    /// Turns journaling of every held shard on or off for one call; returns what it was.
    fn set_journal(&mut self, on: bool) -> Vec<bool> {
        if on {
            return Vec::new();
        }
        let mut saved = vec![self.sh.journal.enabled];
        self.sh.journal.enabled = false;
        if let Some(mut p) = peers_of(&mut self.peers, &mut self.taken) {
            for s in p.iter_mut() {
                saved.push(s.journal.enabled);
                s.journal.enabled = false;
            }
        }
        saved
    }

    fn restore_journal(&mut self, saved: Vec<bool>) {
        let mut it = saved.into_iter();
        if let Some(v) = it.next() {
            self.sh.journal.enabled = v;
        }
        if let Some(mut p) = peers_of(&mut self.peers, &mut self.taken) {
            for (s, v) in p.iter_mut().zip(it) {
                s.journal.enabled = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fan_out_list_names_scriptable_connection_commands() {
        // Guards `fans_out` against a renamed or re-homed command: each name resolves to a
        // connection-level command a script may call.
        let lines: &[&[&[u8]]] = &[
            &[b"dbsize"],
            &[b"keys", b"*"],
            &[b"scan", b"0"],
            &[b"randomkey"],
            &[b"flushall"],
            &[b"flushdb"],
            &[b"swapdb", b"0", b"1"],
            &[b"info"],
            &[b"memory", b"stats"],
            &[b"memory", b"doctor"],
        ];
        for argv in lines {
            let owned = crate::resp::OwnedArgs::from_slices(argv);
            let spec = lookup(owned.args()).unwrap_or_else(|_| panic!("{argv:?}"));
            assert!(fans_out(spec), "{argv:?}");
            assert!(matches!(spec.handler, Handler::Conn(_)), "{argv:?}");
            assert_eq!(spec.flags & flags::NOSCRIPT, 0, "{argv:?}");
        }
    }
}
