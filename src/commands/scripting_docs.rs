//! What COMMAND INFO and COMMAND DOCS say about the scripting commands (EVAL, EVALSHA, their
//! _RO forms, FCALL, FCALL_RO and the SCRIPT and FUNCTION subcommands): group, ACL category,
//! since, complexity, argument docs, history, tips and key specs, as redis-server 7.0 publishes
//! them (tests/it/command_table.rs compares them field by field). Summaries are slotd's words.
//!
//! Each function takes the spec a family table built (name, arity, flags, key finder, handler:
//! the runner's and the functions' business) and returns it with its documentation, so a table
//! entry reads `scripting_docs::eval(CommandSpec::new(..))`. Nothing here decides behaviour.

use super::spec::{acl, arg, keyflag, multi, oneof, opt, pure, since, tok};
use super::spec::{ArgDoc, BeginSearch, FindKeys, KeySpecDoc};
use super::CommandSpec;

/// Redis' complexity line of the commands that run a script.
const BY_SCRIPT: &str = "Depends on the script that is executed.";
/// Redis' complexity line of FCALL and FCALL_RO.
const BY_FUNCTION: &str = "Depends on the function that is executed.";

/// `<first> numkeys [key ...] [arg ...]`: the shape of every command that runs a script.
const fn run_args(first: &'static str) -> [ArgDoc; 4] {
    [
        arg(first, "string"),
        arg("numkeys", "integer"),
        opt(multi(arg("key", "key"))),
        opt(multi(arg("arg", "string"))),
    ]
}
const EVAL_ARGS: &[ArgDoc] = &run_args("script");
const EVALSHA_ARGS: &[ArgDoc] = &run_args("sha1");
const FCALL_ARGS: &[ArgDoc] = &run_args("function");

/// The numkeys key spec (numkeys at argument 2, keys right after it) with Redis' notes.
const fn numkeys_spec(notes: &'static str, flags: u16) -> KeySpecDoc {
    KeySpecDoc {
        notes,
        flags,
        begin: BeginSearch::Index(2),
        find: FindKeys::Keynum {
            keynum_idx: 0,
            first: 1,
            step: 1,
        },
    }
}
/// A script may do anything to its keys, so Redis declares the worst for the writing forms.
const RW_WORST: u16 = keyflag::RW | keyflag::ACCESS | keyflag::UPDATE;
const RO_WORST: u16 = keyflag::RO | keyflag::ACCESS;
const RW_NOTES: &str =
    "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
const RO_NOTES: &str =
    "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS";
// Redis 7.0 gives EVAL, EVAL_RO, FCALL and FCALL_RO the notes and leaves them off EVALSHA and
// EVALSHA_RO.
const RW_SPECS: &[KeySpecDoc] = &[numkeys_spec(RW_NOTES, RW_WORST)];
const RO_SPECS: &[KeySpecDoc] = &[numkeys_spec(RO_NOTES, RO_WORST)];
const RW_SPECS_BARE: &[KeySpecDoc] = &[numkeys_spec("", RW_WORST)];
const RO_SPECS_BARE: &[KeySpecDoc] = &[numkeys_spec("", RO_WORST)];

/// Every scripting command (and subcommand) is in the scripting group and ACL category.
const fn scripting(s: CommandSpec, version: &'static str, summary: &'static str) -> CommandSpec {
    s.group("scripting", acl::SCRIPTING)
        .since(version)
        .summary(summary)
}

/// What tells the commands that run a script apart: when they came, the first argument's name,
/// the complexity line, the key spec and a summary.
struct Run {
    since: &'static str,
    args: &'static [ArgDoc],
    complexity: &'static str,
    specs: &'static [KeySpecDoc],
    summary: &'static str,
}
const fn run(s: CommandSpec, r: Run) -> CommandSpec {
    scripting(s, r.since, r.summary)
        .complexity(r.complexity)
        .args(r.args)
        .key_specs(r.specs)
}

#[rustfmt::skip]
pub const fn eval(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "2.6.0", args: EVAL_ARGS, complexity: BY_SCRIPT, specs: RW_SPECS,
        summary: "Runs a Lua script on the server" })
}
#[rustfmt::skip]
pub const fn evalsha(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "2.6.0", args: EVALSHA_ARGS, complexity: BY_SCRIPT, specs: RW_SPECS_BARE,
        summary: "Runs a cached Lua script, named by its SHA1" })
}
#[rustfmt::skip]
pub const fn eval_ro(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "7.0.0", args: EVAL_ARGS, complexity: BY_SCRIPT, specs: RO_SPECS,
        summary: "Runs a Lua script that only reads" })
}
#[rustfmt::skip]
pub const fn evalsha_ro(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "7.0.0", args: EVALSHA_ARGS, complexity: BY_SCRIPT, specs: RO_SPECS_BARE,
        summary: "Runs a cached Lua script that only reads" })
}
#[rustfmt::skip]
pub const fn fcall(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "7.0.0", args: FCALL_ARGS, complexity: BY_FUNCTION, specs: RW_SPECS,
        summary: "Calls a function of a loaded library" })
}
#[rustfmt::skip]
pub const fn fcall_ro(s: CommandSpec) -> CommandSpec {
    run(s, Run { since: "7.0.0", args: FCALL_ARGS, complexity: BY_FUNCTION, specs: RO_SPECS,
        summary: "Calls a function that only reads" })
}

/// The SCRIPT container (its ACL categories are only @slow, as for every container).
pub const fn script(s: CommandSpec) -> CommandSpec {
    s.group("scripting", 0)
        .since("2.6.0")
        .summary("Manages the script cache")
        .complexity("Depends on subcommand.")
}
/// The FUNCTION container.
pub const fn function(s: CommandSpec) -> CommandSpec {
    s.group("scripting", 0)
        .since("7.0.0")
        .summary("Manages function libraries")
        .complexity("Depends on subcommand.")
}

/// `[ASYNC | SYNC]` of SCRIPT FLUSH and FUNCTION FLUSH.
const FLUSH_MODES: &[ArgDoc] = &[pure("async", "ASYNC"), pure("sync", "SYNC")];
const SCRIPT_FLUSH_ARGS: &[ArgDoc] = &[since("6.2.0", opt(oneof("async", FLUSH_MODES)))];
const FUNCTION_FLUSH_ARGS: &[ArgDoc] = &[opt(oneof("async", FLUSH_MODES))];
const SHA1S: &[ArgDoc] = &[multi(arg("sha1", "string"))];
const SCRIPT: &[ArgDoc] = &[arg("script", "string")];
const DEBUG_MODES: &[ArgDoc] = &[pure("yes", "YES"), pure("sync", "SYNC"), pure("no", "NO")];
const DEBUG_ARGS: &[ArgDoc] = &[oneof("mode", DEBUG_MODES)];
const LOAD_ARGS: &[ArgDoc] = &[
    opt(pure("replace", "REPLACE")),
    arg("function-code", "string"),
];
const LIST_ARGS: &[ArgDoc] = &[
    opt(tok("LIBRARYNAME", arg("library-name-pattern", "string"))),
    opt(pure("withcode", "WITHCODE")),
];
const LIBRARY: &[ArgDoc] = &[arg("library-name", "string")];
const RESTORE_POLICIES: &[ArgDoc] = &[
    pure("flush", "FLUSH"),
    pure("append", "APPEND"),
    pure("replace", "REPLACE"),
];
const RESTORE_ARGS: &[ArgDoc] = &[
    arg("serialized-value", "string"),
    opt(oneof("policy", RESTORE_POLICIES)),
];
/// Tips of the subcommands a cluster client sends to every node and expects to succeed.
const ALL_NODES_OK: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];
const ALL_SHARDS_OK: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];
/// KILL: sent to every shard, one of them has the script to stop.
const ALL_SHARDS_ONE: &[&str] = &["request_policy:all_shards", "response_policy:one_succeeded"];

pub const fn script_flush(s: CommandSpec) -> CommandSpec {
    scripting(s, "2.6.0", "Empties the script cache")
        .complexity("O(N) with N being the number of scripts in cache")
        .args(SCRIPT_FLUSH_ARGS)
        .history(&[(
            "6.2.0",
            "Added the `ASYNC` and `SYNC` flushing mode modifiers.",
        )])
        .tips(ALL_NODES_OK)
}
pub const fn script_exists(s: CommandSpec) -> CommandSpec {
    scripting(s, "2.6.0", "Tells which of the given SHA1s are cached")
        .complexity(
            "O(N) with N being the number of scripts to check (so checking a single script is \
             an O(1) operation).",
        )
        .args(SHA1S)
        .tips(&[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ])
}
pub const fn script_load(s: CommandSpec) -> CommandSpec {
    scripting(s, "2.6.0", "Caches a script and answers its SHA1")
        .complexity("O(N) with N being the length in bytes of the script body.")
        .args(SCRIPT)
        .tips(ALL_NODES_OK)
}
pub const fn script_kill(s: CommandSpec) -> CommandSpec {
    scripting(s, "2.6.0", "Stops the running script if it has not written")
        .complexity("O(1)")
        .tips(ALL_SHARDS_ONE)
}
pub const fn script_help(s: CommandSpec) -> CommandSpec {
    scripting(s, "5.0.0", "Lists the SCRIPT subcommands").complexity("O(1)")
}
/// SCRIPT DEBUG (Redis' Lua debugger), should a table ever list it.
pub const fn script_debug(s: CommandSpec) -> CommandSpec {
    scripting(s, "3.2.0", "Sets the debug mode of scripts")
        .complexity("O(1)")
        .args(DEBUG_ARGS)
}

pub const fn function_load(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Loads a library of functions")
        .complexity("O(1) (considering compilation time is redundant)")
        .args(LOAD_ARGS)
        .tips(ALL_SHARDS_OK)
}
pub const fn function_list(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Lists the loaded libraries and their functions")
        .complexity("O(N) where N is the number of functions")
        .args(LIST_ARGS)
        .tips(&["nondeterministic_output_order"])
}
pub const fn function_delete(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Deletes a library and its functions")
        .complexity("O(1)")
        .args(LIBRARY)
        .tips(ALL_SHARDS_OK)
}
pub const fn function_flush(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Deletes every library")
        .complexity("O(N) where N is the number of functions deleted")
        .args(FUNCTION_FLUSH_ARGS)
        .tips(ALL_SHARDS_OK)
}
pub const fn function_dump(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Serializes every library into one payload")
        .complexity("O(N) where N is the number of functions")
}
pub const fn function_restore(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Loads the libraries of a FUNCTION DUMP payload")
        .complexity("O(N) where N is the number of functions on the payload")
        .args(RESTORE_ARGS)
        .tips(ALL_SHARDS_OK)
}
pub const fn function_stats(s: CommandSpec) -> CommandSpec {
    scripting(
        s,
        "7.0.0",
        "Tells which function runs now and what is loaded",
    )
    .complexity("O(1)")
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])
}
pub const fn function_kill(s: CommandSpec) -> CommandSpec {
    scripting(
        s,
        "7.0.0",
        "Stops the running function if it has not written",
    )
    .complexity("O(1)")
    .tips(ALL_SHARDS_ONE)
}
pub const fn function_help(s: CommandSpec) -> CommandSpec {
    scripting(s, "7.0.0", "Lists the FUNCTION subcommands").complexity("O(1)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::KeySpec;
    use crate::commands::Handler;

    fn bare(name: &'static str) -> CommandSpec {
        CommandSpec::new(name, -3, 0, KeySpec::None, Handler::Container)
    }

    #[test]
    fn run_commands_document_numkeys_keys() {
        // The key argument of EVAL-like commands is the numkeys spec's, in the scripting group.
        for s in [
            eval(bare("eval")),
            evalsha(bare("evalsha")),
            eval_ro(bare("eval_ro")),
            evalsha_ro(bare("evalsha_ro")),
            fcall(bare("fcall")),
            fcall_ro(bare("fcall_ro")),
        ] {
            assert_eq!(s.group, "scripting", "{}", s.name);
            assert_eq!(s.acl, acl::SCRIPTING, "{}", s.name);
            assert_eq!(s.args.len(), 4, "{}", s.name);
            assert_eq!(s.args[2].kind, "key", "{}", s.name);
            assert_eq!(s.key_specs.len(), 1, "{}", s.name);
            let ro = s.name.ends_with("_ro");
            assert_eq!(s.key_specs[0].flags & keyflag::RO != 0, ro, "{}", s.name);
            assert_eq!(
                s.key_specs[0].notes.is_empty(),
                s.name.starts_with("evalsha")
            );
        }
    }
}
