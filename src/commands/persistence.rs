//! Persistence commands. slotd's snapshot is the AOF base of every shard (docs/aof.md), so
//! BGREWRITEAOF, BGSAVE and SAVE all write it; SAVE does it in the foreground like Redis.

use super::{flags::*, CmdResult, CommandSpec, ConnCtx};
use crate::resp::{Args, ReplyError};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::conn(
    "bgrewriteaof",
    1,
    ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
    bgrewriteaof,
)
.group("server", 0)
.since("1.0.0")
.complexity("O(1)")
.summary("Compacts the append-only files of every shard in the background")];

/// Starts the rewrite on every shard now (each then advances it a slot at a time).
fn bgrewriteaof(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let busy = ctx
        .shard
        .try_call_all(|sh| sh.aof.rewrite.is_some())?
        .into_iter()
        .any(|b| b);
    if busy {
        return Err(ReplyError::other(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    let results = ctx.shard.call_all(|sh| {
        let enabling = !sh.aof.active();
        crate::aof::start_rewrite(sh, enabling)
    });
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        return Err(ReplyError::Other(format!("ERR {e}")));
    }
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}
