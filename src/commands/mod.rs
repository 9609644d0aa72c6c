//! The command table: every command slotd knows, as data (name, arity with Redis' sign
//! convention, flags, key positions, docs, handler). Routing reads key positions from here only.
//! Family files (`string`, `keys`, `server`, `cluster`, ...) each export `COMMANDS`.

pub mod client;
pub mod cluster;
pub mod cluster_admin;
pub mod command_docs;
mod context;
pub mod hash;
pub mod info;
pub mod keys;
pub mod kit;
pub mod list;
pub mod migrate;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod set;
pub mod spec;
pub mod string;
pub mod transaction;
pub mod zset;

pub use context::{AfterReply, ConnCtx, Exec};
pub use spec::{flags, ArgDoc, CommandSpec, Handler, KeySpec, FLAG_NAMES};

use crate::resp::{Args, ReplyError};
use hashbrown::HashMap;
use std::sync::OnceLock;

pub type CmdResult = Result<(), ReplyError>;

/// Runs on the shard that owns the command's keys (possibly not the connection's shard).
pub type KeyFn = fn(&mut Exec<'_>, Args<'_>) -> CmdResult;
/// Runs on the connection's shard with access to the client; may fan out to all shards.
pub type ConnFn = fn(&mut ConnCtx<'_>, Args<'_>) -> CmdResult;

/// All top-level commands.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    string::COMMANDS
        .iter()
        .chain(keys::COMMANDS.iter())
        .chain(server::COMMANDS.iter())
        .chain(cluster::COMMANDS.iter())
        .chain(hash::COMMANDS.iter())
        .chain(list::COMMANDS.iter())
        .chain(list::BLOCKING_COMMANDS.iter())
        .chain(set::COMMANDS.iter())
        .chain(zset::COMMANDS.iter())
        .chain(zset::BLOCKING_COMMANDS.iter())
        .chain(persistence::COMMANDS.iter())
        .chain(transaction::COMMANDS.iter())
        .chain(pubsub::COMMANDS.iter())
        .chain(migrate::COMMANDS.iter())
        .chain(replication::COMMANDS.iter())
}

fn table() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static TABLE: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = HashMap::new();
        for c in all_commands() {
            let dup = m.insert(c.name, c);
            assert!(dup.is_none(), "command {} defined twice", c.name);
        }
        m
    })
}

/// Reads a SCAN-family cursor as Redis' `strtoul` check does: empty is 0, an optional sign,
/// digits only, negative values wrap, values beyond 64 bits are "ERR invalid cursor".
pub fn parse_cursor(raw: &[u8]) -> Result<u64, ReplyError> {
    let invalid = || ReplyError::other("ERR invalid cursor");
    if raw.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match raw[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The full name of a command for stats and errors: "get", or "config|get" for a subcommand.
pub fn full_name(spec: &'static CommandSpec) -> &'static str {
    static NAMES: OnceLock<HashMap<usize, &'static str>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut m = HashMap::new();
        for c in all_commands() {
            m.insert(c as *const CommandSpec as usize, c.name);
            for sub in c.subcommands {
                let full: &'static str = Box::leak(format!("{}|{}", c.name, sub.name).into());
                m.insert(sub as *const CommandSpec as usize, full);
            }
        }
        m
    });
    names
        .get(&(spec as *const CommandSpec as usize))
        .copied()
        .unwrap_or(spec.name)
}

/// The table clients see after `rename-command`, when the configuration renamed anything.
static RENAMED: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();

/// Whether `name` (lower case) is a built-in command: checks `rename-command` lines.
pub fn exists(name: &str) -> bool {
    table().contains_key(name)
}

/// Applies `rename-command` (original, new name or "" to remove) once at start: the old names
/// become unknown commands and the new ones find the same specs. The config loader already
/// checked every line against the table, in order.
pub fn install_renames(renames: &[(String, String)]) {
    if renames.is_empty() {
        return;
    }
    let mut m = table().clone();
    for (from, to) in renames {
        if let Some(spec) = m.remove(from.as_str()) {
            if !to.is_empty() {
                m.insert(Box::leak(to.clone().into_boxed_str()), spec);
            }
        }
    }
    let _ = RENAMED.set(m);
}

/// Lowercases into `scratch` when needed and looks the name up.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        // Only a renamed command can be this long.
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        return RENAMED.get()?.get(lower.as_str()).copied();
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
    RENAMED.get().unwrap_or_else(|| table()).get(lower).copied()
}

/// Looks a subcommand up in `parent` (case-insensitive).
pub fn lookup_sub(parent: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    parent
        .subcommands
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(sub))
}
