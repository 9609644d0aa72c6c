//! The built command table: every family's `COMMANDS` gathered once at first use, each command
//! and subcommand given a dense `CommandId` (its index here), and the name lookups the
//! dispatcher makes once per request (one hash of the lowercased name; subcommands by a short
//! scan of their parent). Per-command arrays (INFO commandstats) are indexed by the id.

use super::spec::CommandSpec;
use super::{
    bitmap, cluster, failover, functions, geo, hash, hll, keys, latency, list, memory, migrate,
    monitor, persistence, pubsub, replication, scripting, server, set, slowlog, sort, stream,
    string, transaction, zset,
};
use crate::command_id::CommandId;
use hashbrown::HashMap;
use std::sync::OnceLock;

/// The families' tables in the order COMMAND lists them.
fn family_commands() -> impl Iterator<Item = &'static CommandSpec> {
    string::COMMANDS
        .iter()
        .chain(keys::COMMANDS.iter())
        .chain(server::COMMANDS.iter())
        .chain(memory::COMMANDS.iter())
        .chain(cluster::COMMANDS.iter())
        .chain(hash::COMMANDS.iter())
        .chain(list::COMMANDS.iter())
        .chain(list::BLOCKING_COMMANDS.iter())
        .chain(set::COMMANDS.iter())
        .chain(zset::COMMANDS.iter())
        .chain(zset::BLOCKING_COMMANDS.iter())
        .chain(stream::COMMANDS.iter())
        .chain(stream::BLOCKING_COMMANDS.iter())
        .chain(bitmap::COMMANDS.iter())
        .chain(hll::COMMANDS.iter())
        .chain(geo::COMMANDS.iter())
        .chain(sort::COMMANDS.iter())
        .chain(persistence::COMMANDS.iter())
        .chain(transaction::COMMANDS.iter())
        .chain(pubsub::COMMANDS.iter())
        .chain(scripting::COMMANDS.iter())
        .chain(migrate::COMMANDS.iter())
        .chain(replication::COMMANDS.iter())
        .chain(functions::COMMANDS.iter())
        .chain(latency::COMMANDS.iter())
        .chain(slowlog::COMMANDS.iter())
        .chain(monitor::COMMANDS.iter())
        .chain(failover::COMMANDS.iter())
}

struct Registry {
    /// Top-level commands, ids 0..top.len(), in `family_commands` order. Their `subcommands`
    /// point into `subs`, so every spec reachable from here carries its id.
    top: &'static [CommandSpec],
    /// Every subcommand, ids top.len().., grouped by parent.
    subs: &'static [CommandSpec],
    /// Full names by id: "get", "config|get".
    names: Vec<&'static str>,
    /// Every id, ordered by full name (INFO commandstats order).
    by_name: Vec<CommandId>,
    /// Top-level commands by lowercase name.
    lookup: HashMap<&'static str, &'static CommandSpec>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(build)
}

fn id_at(i: usize) -> CommandId {
    let id = u16::try_from(i).expect("fewer than 65535 commands");
    assert!(id != CommandId::UNASSIGNED.0, "too many commands");
    CommandId(id)
}

fn build() -> Registry {
    let originals: Vec<&'static CommandSpec> = family_commands().collect();
    let n_top = originals.len();
    let mut subs = Vec::new();
    let mut names: Vec<&'static str> = originals.iter().map(|c| c.name).collect();
    let mut ranges = Vec::with_capacity(n_top);
    for c in &originals {
        let start = subs.len();
        for s in c.subcommands {
            let id = id_at(n_top + subs.len());
            subs.push(CommandSpec { id, ..*s });
            names.push(Box::leak(format!("{}|{}", c.name, s.name).into_boxed_str()));
        }
        ranges.push(start..subs.len());
    }
    let subs: &'static [CommandSpec] = Box::leak(subs.into_boxed_slice());
    let top: Vec<CommandSpec> = originals
        .iter()
        .zip(ranges)
        .enumerate()
        .map(|(i, (c, r))| CommandSpec {
            id: id_at(i),
            subcommands: if c.subcommands.is_empty() {
                c.subcommands
            } else {
                &subs[r]
            },
            ..**c
        })
        .collect();
    let top: &'static [CommandSpec] = Box::leak(top.into_boxed_slice());
    let mut lookup = HashMap::new();
    for c in top {
        let dup = lookup.insert(c.name, c);
        assert!(dup.is_none(), "command {} defined twice", c.name);
    }
    let mut by_name: Vec<CommandId> = (0..names.len()).map(id_at).collect();
    by_name.sort_by_key(|id| names[id.index()]);
    Registry {
        top,
        subs,
        names,
        by_name,
        lookup,
    }
}

/// All top-level commands, in table order.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    registry().top.iter()
}

/// How many ids there are (commands and subcommands): per-command arrays have this length.
#[cfg(test)]
pub fn count_ids() -> usize {
    registry().names.len()
}

/// The spec of `id`.
pub fn spec_of(id: CommandId) -> &'static CommandSpec {
    let r = registry();
    let i = id.index();
    r.top.get(i).unwrap_or_else(|| &r.subs[i - r.top.len()])
}

/// The full name of `id` for stats and errors: "get", or "config|get" for a subcommand.
pub fn name_of(id: CommandId) -> &'static str {
    registry().names[id.index()]
}

/// Every id, ordered by full name.
pub fn ids_by_name() -> &'static [CommandId] {
    &registry().by_name
}

/// The full name of a command for stats and errors: "get", or "config|get" for a subcommand.
/// A spec not taken from the table (no id) answers its own name.
pub fn full_name(spec: &CommandSpec) -> &'static str {
    match registry().names.get(spec.id.index()) {
        Some(n) => n,
        None => spec.name,
    }
}

fn table() -> &'static HashMap<&'static str, &'static CommandSpec> {
    &registry().lookup
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

/// Lowercases the name on the stack (when it fits) and looks it up.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_name_their_spec() {
        // Every command and subcommand has the id of its place; names and lookups agree.
        let n = count_ids();
        for i in 0..n {
            let id = CommandId(i as u16);
            let spec = spec_of(id);
            assert_eq!(spec.id, id);
            assert_eq!(full_name(spec), name_of(id));
        }
        let get = lookup(b"GET").unwrap();
        assert_eq!(name_of(get.id), "get");
        let cfg = lookup(b"config").unwrap();
        let cget = lookup_sub(cfg, b"GeT").unwrap();
        assert_eq!(name_of(cget.id), "config|get");
        assert!(std::ptr::eq(spec_of(cget.id), cget));
        let subs: usize = all_commands().map(|c| c.subcommands.len()).sum();
        assert_eq!(n, all_commands().count() + subs);
        let names: Vec<&str> = ids_by_name().iter().map(|&id| name_of(id)).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(names.len(), n);
    }
}
