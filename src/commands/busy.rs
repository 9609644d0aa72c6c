//! A script or function past `busy-reply-threshold`, as the rest of the node sees it: the
//! -BUSY refusal and its two texts, which commands still run (`ALLOW_BUSY`), and SCRIPT KILL /
//! FUNCTION KILL (a flag the running script's hook reads). Reads and writes only the
//! per-shard `RunControl` atomics in `Global`; it never touches a shard's keyspace, so any
//! core may call it for any other.

use crate::commands::spec::{flags, CommandSpec};
use crate::commands::{CmdResult, ConnCtx};
use crate::global::Global;
use crate::lua::RunControl;
use crate::resp::Args;
use crate::resp::ReplyError;
pub use crate::shard::{BUSY_EVAL, BUSY_FUNCTION};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// SCRIPT KILL / FUNCTION KILL with nothing past the threshold.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
/// SCRIPT KILL / FUNCTION KILL of a script that has written.
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands \
     against the dataset. You can either wait the script termination or kill the server in a \
     hard way using the SHUTDOWN NOSAVE command.";

/// The command still runs while a script is busy (Redis' CMD_ALLOW_BUSY: AUTH, HELLO, QUIT,
/// RESET, MULTI, DISCARD, WATCH, UNWATCH, REPLCONF, SHUTDOWN, SCRIPT KILL, FUNCTION KILL,
/// FUNCTION STATS).
#[inline]
pub fn allowed(spec: &CommandSpec) -> bool {
    spec.flags & flags::ALLOW_BUSY != 0
}

/// Shard `id` runs a script past the threshold (one relaxed load).
#[inline]
pub fn is_busy(global: &Global, id: usize) -> bool {
    global.script_runs[id].busy.load(Relaxed)
}

/// The -BUSY error for shard `id`'s script (its text names the kill command that fits).
pub fn refusal(global: &Global, id: usize) -> ReplyError {
    busy_text(&global.script_runs[id])
}

fn busy_text(ctl: &RunControl) -> ReplyError {
    if ctl.is_function.load(Relaxed) {
        ReplyError::other(BUSY_FUNCTION)
    } else {
        ReplyError::other(BUSY_EVAL)
    }
}

/// The -BUSY error of the first shard in `ids` that is busy, if any.
pub fn refusal_among(global: &Global, ids: &[usize]) -> Option<ReplyError> {
    ids.iter()
        .find(|&&i| is_busy(global, i))
        .map(|&i| refusal(global, i))
}

/// The -BUSY error of any busy shard (node-wide commands such as SHUTDOWN without NOSAVE).
pub fn refusal_any(global: &Global) -> Option<ReplyError> {
    (0..global.script_runs.len())
        .find(|&i| is_busy(global, i))
        .map(|i| refusal(global, i))
}

/// SCRIPT KILL (`function` false) or FUNCTION KILL (`function` true), from any shard: asks
/// every busy script of the right kind that has not written to stop, and answers at once as
/// Redis does (the killed script's client gets its error when the hook next runs). Errors as
/// Redis, checked in its order for the first busy shard when none could be asked: UNKILLABLE
/// after a write, then -BUSY naming the other kill command for a script of the other kind.
pub fn kill(global: &Global, function: bool) -> Result<(), ReplyError> {
    let mut first_refusal = None;
    let mut asked = false;
    for ctl in &global.script_runs {
        if !ctl.busy.load(Acquire) || !ctl.running.load(Acquire) {
            continue;
        }
        let refused = if ctl.wrote.load(Acquire) {
            Some(ReplyError::other(UNKILLABLE))
        } else if ctl.is_function.load(Relaxed) != function {
            Some(busy_text(ctl))
        } else {
            None
        };
        match refused {
            None => {
                ctl.kill.store(true, Release);
                asked = true;
            }
            Some(e) => {
                first_refusal.get_or_insert(e);
            }
        }
    }
    if asked {
        return Ok(());
    }
    Err(first_refusal.unwrap_or_else(|| ReplyError::other(NOTBUSY)))
}

/// SCRIPT KILL's handler (the SCRIPT table names it; flags NOSCRIPT | ALLOW_BUSY).
pub fn script_kill(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    kill(&ctx.shard.global, false)?;
    ctx.out.ok();
    Ok(())
}

/// FUNCTION KILL's handler (the FUNCTION table names it; flags NOSCRIPT | ALLOW_BUSY).
pub fn function_kill(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    kill(&ctx.shard.global, true)?;
    ctx.out.ok();
    Ok(())
}

/// Shutdown: every script still running is asked to stop, whatever it wrote, so that a shard
/// stuck in a script that cannot yield reaches its event loop and sees the shutdown.
pub fn kill_all_for_shutdown(global: &Global) {
    for ctl in &global.script_runs {
        if ctl.running.load(Acquire) {
            ctl.kill.store(true, Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn global(shards: usize) -> std::sync::Arc<Global> {
        Global::new(Config::default(), shards, None)
    }

    fn run(g: &Global, id: usize, function: bool, wrote: bool) {
        let c = &g.script_runs[id];
        c.running.store(true, Relaxed);
        c.busy.store(true, Relaxed);
        c.is_function.store(function, Relaxed);
        c.wrote.store(wrote, Relaxed);
    }

    fn text(r: Result<(), ReplyError>) -> String {
        r.err().map(|e| e.text().to_string()).unwrap_or_default()
    }

    #[test]
    fn kill_with_nothing_busy_is_notbusy() {
        let g = global(2);
        assert_eq!(text(kill(&g, false)), NOTBUSY);
        assert_eq!(text(kill(&g, true)), NOTBUSY);
        // Running but not past the threshold: Redis could not even read the command then.
        g.script_runs[1].running.store(true, Relaxed);
        assert_eq!(text(kill(&g, false)), NOTBUSY);
        assert!(refusal_any(&g).is_none());
    }

    #[test]
    fn kill_checks_writes_before_the_kind() {
        let g = global(2);
        run(&g, 1, false, true);
        assert_eq!(text(kill(&g, false)), UNKILLABLE);
        assert_eq!(text(kill(&g, true)), UNKILLABLE);
        assert!(!g.script_runs[1].kill.load(Relaxed));
    }

    #[test]
    fn kill_of_the_other_kind_names_the_right_command() {
        let g = global(2);
        run(&g, 0, true, false);
        assert_eq!(text(kill(&g, false)), BUSY_FUNCTION);
        assert!(!g.script_runs[0].kill.load(Relaxed));
        assert_eq!(kill(&g, true), Ok(()));
        assert!(g.script_runs[0].kill.load(Relaxed));
        run(&g, 1, false, false);
        assert_eq!(refusal(&g, 1).text(), BUSY_EVAL);
        assert_eq!(
            refusal_among(&g, &[1])
                .map(|e| e.text().to_string())
                .as_deref(),
            Some(BUSY_EVAL)
        );
    }

    #[test]
    fn shutdown_asks_every_running_script_to_stop() {
        let g = global(3);
        run(&g, 2, false, true);
        g.script_runs[0].running.store(true, Relaxed);
        kill_all_for_shutdown(&g);
        assert!(g.script_runs[0].kill.load(Relaxed));
        assert!(!g.script_runs[1].kill.load(Relaxed));
        assert!(g.script_runs[2].kill.load(Relaxed));
    }
}
