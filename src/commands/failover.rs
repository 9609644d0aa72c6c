//! CONFIG REWRITE: the config file rewritten in place as Redis does (comments and order kept,
//! changed lines replaced, new ones appended, defaults removed); the text is made by
//! `config::rewrite`, this file only gathers the running state and answers.
//! FAILOVER: standalone coordinated failover from a master to one of its replicas.

use super::spec::CommandSpec;
use super::{CmdResult, ConnCtx};
use crate::resp::{Args, ReplyError};

/// Filled in by its part (issue 17).
pub static COMMANDS: &[CommandSpec] = &[];

/// CONFIG REWRITE: the running configuration (and the current master, if replicating) into
/// the file the server started with; Redis' errors when there is none or the write fails.
pub fn config_rewrite(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    let global = ctx.shard.global.clone();
    let master = global
        .repl
        .state()
        .link
        .as_ref()
        .map(|l| (l.host.clone(), l.port));
    let cluster = ctx.shard.slot_map.cluster_enabled;
    let result = global.cfg(|cfg| {
        let Some(path) = cfg.config_file.clone() else {
            return Err(ReplyError::other(
                "ERR The server is running without a config file",
            ));
        };
        let live = crate::config::rewrite::Live {
            master: master.as_ref().map(|(h, p)| (h.as_str(), *p)),
            cluster,
        };
        crate::config::rewrite::rewrite_file(&path, cfg, &live).map_err(|why| {
            crate::log::warning(&format!("CONFIG REWRITE failed: {why}"));
            ReplyError::Other(format!("ERR Rewriting config file: {why}"))
        })
    });
    result?;
    crate::log::notice("CONFIG REWRITE executed with success.");
    ctx.out.ok();
    Ok(())
}
