//! The Lua engine behind EVAL and FUNCTION, as Redis 7.0 embeds it: PUC Lua 5.1 (through
//! mlua), its sandbox, the `redis` table, the libraries Redis loads, RESP <-> Lua conversion,
//! the time-limit hook and the node-wide script and library store.
//!
//! A leaf: it knows nothing of shards or commands. The dispatcher runs a script by handing the
//! VM a `Host`, which executes each `redis.call` and says what the call may do; everything the
//! engine needs from the server comes through that trait and `RunControl`.

mod builtins;
mod convert;
mod coro;
mod functions_load;
pub mod libs;
mod rand48;
mod redis_table;
mod sandbox;
pub(crate) mod shebang;
mod stack;
pub mod store;
pub mod vm;

use crate::resp::Proto;

/// How a script's writes are propagated (`redis.set_repl`): bit 0 AOF, bit 1 replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplFlags(pub u8);

impl ReplFlags {
    pub const NONE: ReplFlags = ReplFlags(0);
    pub const AOF: ReplFlags = ReplFlags(1);
    pub const REPLICA: ReplFlags = ReplFlags(2);
    pub const ALL: ReplFlags = ReplFlags(3);
}

/// Why a `redis.call` was refused before the command ran. The text is Redis' (no "ERR "
/// prefix: the engine adds the prefix and the "script: ..." suffix Redis adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRefused(pub String);

/// What the engine needs from the server while a script runs. Implemented by the dispatcher
/// (`dispatch::script`) for one run on the shard that owns the script's keys.
pub trait Host {
    /// Runs one command line of `redis.call`/`redis.pcall` (argv[0] is the command name as
    /// given) and writes its RESP reply, in `proto`, to `reply` (a command error is a reply
    /// starting with '-', not a refusal). `Err` when Redis refuses the call before running it:
    /// unknown command, arity, not allowed from scripts, write from a read-only script, OOM,
    /// cross-slot or non-local key, and so on.
    fn call(
        &mut self,
        argv: &[&[u8]],
        proto: Proto,
        repl: ReplFlags,
        reply: &mut Vec<u8>,
    ) -> Result<(), CallRefused>;

    /// `redis.acl_check_cmd(argv...)`: whether the calling client's user may run `argv`.
    /// `Err` is raised in the script: Redis' "Invalid command passed to
    /// redis.acl_check_cmd()" for an unknown command. The default refuses the call, for hosts
    /// that cannot answer (fail closed).
    fn acl_check(&mut self, _argv: &[&[u8]]) -> Result<bool, CallRefused> {
        Err(CallRefused(
            "redis.acl_check_cmd is not supported by slotd".into(),
        ))
    }
}

/// The flags of a script or function (`#!lua flags=...`, `redis.register_function{flags=}`),
/// as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags(pub u8);

impl ScriptFlags {
    pub const NO_WRITES: u8 = 1;
    pub const ALLOW_OOM: u8 = 2;
    pub const ALLOW_STALE: u8 = 4;
    pub const NO_CLUSTER: u8 = 8;
    pub const ALLOW_CROSS_SLOT: u8 = 16;
    /// The script had a shebang line: without one (an old-style EVAL script) Redis applies
    /// none of the flag-based checks and decides per command instead.
    pub const HAS_SHEBANG: u8 = 128;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// One shard's running script, seen by every shard through `Global` (SCRIPT KILL and FUNCTION
/// KILL arriving on any core, -BUSY for requests headed to a busy core, FUNCTION STATS).
/// Atomics, and one lock taken only when a function's run is suspended past the threshold.
#[derive(Default)]
pub struct RunControl {
    /// A script or function runs on this shard now.
    pub running: std::sync::atomic::AtomicBool,
    /// It ran past `busy-reply-threshold`: other commands for this shard get -BUSY.
    pub busy: std::sync::atomic::AtomicBool,
    /// When it started (`clock` milliseconds).
    pub started_ms: std::sync::atomic::AtomicU64,
    /// It is a function (FCALL): FUNCTION KILL stops it, SCRIPT KILL refuses.
    pub is_function: std::sync::atomic::AtomicBool,
    /// It has written: it can no longer be killed (-UNKILLABLE).
    pub wrote: std::sync::atomic::AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop: the hook raises an error in it.
    pub kill: std::sync::atomic::AtomicBool,
    /// The function a suspended run is running (FUNCTION STATS' `running_script`): set when
    /// the run is first suspended, valid while its `started_ms` is the run's.
    pub function: std::sync::Mutex<Option<RunningFunction>>,
}

/// A function past the busy threshold, as FUNCTION STATS shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningFunction {
    /// `RunControl::started_ms` of its run.
    pub started_ms: u64,
    /// The name it registered.
    pub name: Box<[u8]>,
    /// The FCALL command line, as the client sent it.
    pub argv: Vec<Box<[u8]>>,
}
