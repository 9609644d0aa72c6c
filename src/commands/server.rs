//! Server and connection commands: PING, ECHO, QUIT, HELLO, INFO, CONFIG, CLIENT, ...

use super::{flags::*, AfterReply, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec};
use crate::resp::{Args, ReplyError};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        group: "connection",
        ..CommandSpec::new("ping", -1, FAST | STALE, KeySpec::None, Handler::Conn(ping))
    },
    CommandSpec {
        group: "connection",
        ..CommandSpec::new(
            "quit",
            -1,
            FAST | NO_AUTH | STALE,
            KeySpec::None,
            Handler::Conn(quit),
        )
    },
];

fn ping(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args.get(1)),
        _ => return Err(ReplyError::Arity("ping".into())),
    }
    Ok(())
}

fn quit(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.ok();
    ctx.after = AfterReply::Close;
    Ok(())
}
