//! COMMAND and its subcommands (COUNT, INFO, DOCS, GETKEYS, LIST, HELP): the command table
//! described to clients in Redis 7.0's shapes. redis-cli reads COMMAND DOCS at start for its
//! hints, and cluster clients read COMMAND INFO for key positions, so the shapes must match.

use super::kit::ArgCursor;
use super::server::write_help;
use super::spec::{
    acl, arg, docflag, keyflag, multi, oneof, opt, tok, BeginSearch, FindKeys, KeySpecDoc,
};
use super::{flags, ArgDoc, CmdResult, CommandSpec, ConnCtx, Handler, KeySpec, FLAG_NAMES};
use crate::resp::{Args, Out, ReplyError};

const fn sub(
    name: &'static str,
    arity: i32,
    f: super::ConnFn,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        group: "server",
        acl: acl::CONNECTION,
        since,
        summary,
        complexity: "O(1)",
        ..CommandSpec::conn(name, arity, flags::LOADING | flags::STALE, f)
    }
}

const NAMES: &[ArgDoc] = &[opt(multi(arg("command-name", "string")))];

pub const SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "count",
        2,
        count,
        "2.8.13",
        "How many commands the server knows",
    ),
    sub(
        "docs",
        -2,
        docs,
        "7.0.0",
        "Documentation of commands, for clients",
    )
    .complexity("O(N) where N is the number of commands to look up")
    .args(NAMES)
    .tips(&["nondeterministic_output_order"]),
    sub(
        "getkeys",
        -4,
        getkeys,
        "2.8.13",
        "Which arguments of a command line are keys",
    )
    .complexity("O(N) where N is the number of arguments to the command"),
    sub(
        "getkeysandflags",
        -4,
        getkeysandflags,
        "7.0.0",
        "The keys of a command line and how it uses each",
    )
    .complexity("O(N) where N is the number of arguments to the command"),
    sub(
        "info",
        -2,
        info,
        "2.8.13",
        "Arity, flags and key positions of commands",
    )
    .complexity("O(N) where N is the number of commands to look up")
    .args(NAMES)
    .tips(&["nondeterministic_output_order"])
    .history(&[(
        "7.0.0",
        "Allowed to be called with no argument to get info on all commands.",
    )]),
    sub(
        "list",
        -2,
        list,
        "7.0.0",
        "Names of the commands, optionally filtered",
    )
    .complexity("O(N) where N is the total number of Redis commands")
    .args(&[opt(tok(
        "FILTERBY",
        oneof(
            "filterby",
            &[
                tok("MODULE", arg("module-name", "string")),
                tok("ACLCAT", arg("category", "string")),
                tok("PATTERN", arg("pattern", "pattern")),
            ],
        ),
    ))])
    .tips(&["nondeterministic_output_order"]),
    sub("help", 2, help, "5.0.0", "List the COMMAND subcommands"),
];

/// COMMAND: with no subcommand, the same as COMMAND INFO for every command. It is not a
/// container in the table because the bare form is valid, so it dispatches here.
pub fn command(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 1 {
        write_all_info(&mut ctx.out);
        return Ok(());
    }
    let name = args.get(1);
    let Some(sub) = SUBCOMMANDS
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    else {
        return Err(ReplyError::UnknownSubcommand {
            cmd: "COMMAND".into(),
            sub: crate::resp::error::sanitize_for_error(name),
        });
    };
    if !sub.arity_ok(args.len()) {
        return Err(ReplyError::Arity(format!("command|{}", sub.name)));
    }
    let Handler::Conn(f) = sub.handler else {
        unreachable!("COMMAND subcommands are connection handlers")
    };
    f(ctx, args)
}

fn write_all_info(out: &mut Out<'_>) {
    let all: Vec<_> = super::all_commands().collect();
    out.array(all.len());
    for c in all {
        write_info(out, c, None);
    }
}

/// Finds "name" or "parent|sub" (case-insensitive): the spec and its parent.
pub fn find(name: &[u8]) -> Option<(&'static CommandSpec, Option<&'static CommandSpec>)> {
    match name.iter().position(|&c| c == b'|') {
        None => super::lookup(name).map(|c| (c, None)),
        Some(i) => {
            let parent = super::lookup(&name[..i])?;
            let sub = super::lookup_sub(parent, &name[i + 1..])?;
            Some((sub, Some(parent)))
        }
    }
}

fn full_name(spec: &CommandSpec, parent: Option<&CommandSpec>) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

fn flag_names(spec: &CommandSpec) -> Vec<&'static str> {
    let mut f = spec.flags | spec.info_flags;
    if matches!(spec.keys, KeySpec::Custom(_)) {
        f |= flags::MOVABLE_KEYS;
    }
    FLAG_NAMES
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// A command's ACL categories: the ones its table entry declares and the ones Redis implies
/// from its flags, in Redis' order.
pub fn categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut implied = acl::implied(spec.flags | spec.info_flags);
    // Redis leaves scripting commands out of @read (EVAL_RO...).
    if spec.acl & acl::SCRIPTING != 0 {
        implied &= !acl::READ;
    }
    let bits = spec.acl | implied;
    names_of(bits, acl::NAMES)
}

/// The names of the bits set in `bits`, bit `i` being `names[i]`.
fn names_of(bits: u32, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// How the command uses its keys, as key-spec flag names.
fn key_access(spec: &CommandSpec) -> Vec<&'static str> {
    names_of(spec.key_flags as u32, keyflag::NAMES)
}

fn status_set(out: &mut Out<'_>, items: &[&str]) {
    out.set(items.len());
    for i in items {
        out.simple(i);
    }
}

/// Legacy (first, last, step) of a command's keys.
fn legacy_range(spec: &CommandSpec) -> (i64, i64, i64) {
    match (spec.keys, spec.key_specs.first()) {
        (KeySpec::Range { first, last, step }, _) => (first as i64, last as i64, step as i64),
        // Keys the command finds itself: the declared leading index + range spec, as Redis.
        (
            KeySpec::Custom(_),
            Some(KeySpecDoc {
                begin: BeginSearch::Index(i),
                find: FindKeys::Range { last, step, .. },
                ..
            }),
        ) => {
            let last = if *last < 0 { *last } else { i + last };
            (*i as i64, last as i64, *step as i64)
        }
        _ => (0, 0, 0),
    }
}

/// One COMMAND INFO entry (10 elements).
pub fn write_info(out: &mut Out<'_>, spec: &CommandSpec, parent: Option<&CommandSpec>) {
    let full = full_name(spec, parent);
    out.array(10);
    out.bulk(full.as_bytes());
    out.int(spec.arity as i64);
    status_set(out, &flag_names(spec));
    let (first, last, step) = legacy_range(spec);
    out.int(first);
    out.int(last);
    out.int(step);
    let cats: Vec<String> = categories(spec).iter().map(|c| format!("@{c}")).collect();
    let cats: Vec<&str> = cats.iter().map(|s| s.as_str()).collect();
    status_set(out, &cats);
    out.set(spec.tips.len());
    for tip in spec.tips {
        out.bulk(tip.as_bytes());
    }
    write_key_specs(out, spec);
    out.set(spec.subcommands.len());
    for s in spec.subcommands {
        write_info(out, s, Some(spec));
    }
}

fn write_key_specs(out: &mut Out<'_>, spec: &CommandSpec) {
    if !spec.key_specs.is_empty() {
        out.set(spec.key_specs.len());
        for k in spec.key_specs {
            write_key_spec(out, k);
        }
        return;
    }
    match spec.keys {
        KeySpec::None => out.set(0),
        KeySpec::Range { first, last, step } => {
            out.set(1);
            let find = FindKeys::Range {
                last: if last < 0 { last } else { last - first },
                step,
                limit: 0,
            };
            let k = KeySpecDoc {
                notes: "",
                flags: spec.key_flags,
                begin: BeginSearch::Index(first),
                find,
            };
            write_key_spec(out, &k);
        }
        KeySpec::Custom(_) => {
            // Key positions depend on the arguments: say so, as Redis does for such specs.
            out.set(1);
            out.map(3);
            out.bulk(b"flags");
            status_set(out, &key_access(spec));
            for part in [&b"begin_search"[..], b"find_keys"] {
                out.bulk(part);
                out.map(2);
                out.bulk(b"type");
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
    }
}

/// One key spec: notes, flags, where the search begins and how keys are found from there.
fn write_key_spec(out: &mut Out<'_>, k: &KeySpecDoc) {
    out.map(3 + !k.notes.is_empty() as usize);
    if !k.notes.is_empty() {
        out.bulk(b"notes");
        out.bulk(k.notes.as_bytes());
    }
    out.bulk(b"flags");
    status_set(out, &names_of(k.flags as u32, keyflag::NAMES));
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match k.begin {
        BeginSearch::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i as i64);
        }
        BeginSearch::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(start_from as i64);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    let fields = match k.find {
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
            return;
        }
        FindKeys::Range { last, step, limit } => {
            out.bulk(b"range");
            [("lastkey", last), ("keystep", step), ("limit", limit)]
        }
        FindKeys::Keynum {
            keynum_idx,
            first,
            step,
        } => {
            out.bulk(b"keynum");
            [
                ("keynumidx", keynum_idx),
                ("firstkey", first),
                ("keystep", step),
            ]
        }
    };
    out.bulk(b"spec");
    out.map(3);
    for (name, v) in fields {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    }
}

/// One COMMAND DOCS value (the map of fields; the caller writes the name).
pub fn write_docs(out: &mut Out<'_>, spec: &CommandSpec) {
    let has_args = !spec.args.is_empty();
    let has_subs = !spec.subcommands.is_empty();
    let n = 2
        + (!spec.summary.is_empty()) as usize
        + (!spec.complexity.is_empty()) as usize
        + (spec.doc_flags != 0) as usize
        + (!spec.deprecated_since.is_empty()) as usize
        + (!spec.replaced_by.is_empty()) as usize
        + (!spec.history.is_empty()) as usize
        + has_args as usize
        + has_subs as usize;
    out.map(n);
    if !spec.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(spec.summary.as_bytes());
    }
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    if !spec.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(spec.complexity.as_bytes());
    }
    if spec.doc_flags != 0 {
        out.bulk(b"doc_flags");
        status_set(out, &names_of(spec.doc_flags as u32, docflag::NAMES));
    }
    if !spec.deprecated_since.is_empty() {
        out.bulk(b"deprecated_since");
        out.bulk(spec.deprecated_since.as_bytes());
    }
    if !spec.replaced_by.is_empty() {
        out.bulk(b"replaced_by");
        out.bulk(spec.replaced_by.as_bytes());
    }
    if !spec.history.is_empty() {
        out.bulk(b"history");
        out.set(spec.history.len());
        for (version, change) in spec.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if has_args {
        out.bulk(b"arguments");
        // Key arguments name the key spec that finds them: with one spec, all of them name 0;
        // with several (declared in `key_specs`), they name them in order.
        let step = i64::from(spec.key_specs.len() > 1);
        write_args_counting(out, spec.args, &mut 0, step);
    }
    if has_subs {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for s in spec.subcommands {
            out.bulk(full_name(s, Some(spec)).as_bytes());
            write_docs(out, s);
        }
    }
}

/// The argument docs; key arguments get successive key spec indexes from `key_index`.
#[cfg(test)]
fn write_args(out: &mut Out<'_>, args: &[ArgDoc], key_index: &mut i64) {
    write_args_counting(out, args, key_index, 1);
}

/// The argument docs; each key argument gets `key_index`, which then grows by `step`.
fn write_args_counting(out: &mut Out<'_>, args: &[ArgDoc], key_index: &mut i64, step: i64) {
    out.array(args.len());
    for a in args {
        let mut fl = Vec::new();
        if a.optional {
            fl.push("optional");
        }
        if a.multiple {
            fl.push("multiple");
        }
        if a.multiple_token {
            fl.push("multiple_token");
        }
        let is_key = a.kind == "key" || a.key_spec_index >= 0;
        let n = 2
            + is_key as usize
            + (!a.token.is_empty()) as usize
            + (!a.since.is_empty()) as usize
            + (!a.deprecated_since.is_empty()) as usize
            + (!fl.is_empty()) as usize
            + (!a.args.is_empty()) as usize;
        out.map(n);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_bytes());
        if a.key_spec_index >= 0 {
            out.bulk(b"key_spec_index");
            out.int(a.key_spec_index as i64);
        } else if is_key {
            out.bulk(b"key_spec_index");
            out.int(*key_index);
            *key_index += step;
        }
        if !a.token.is_empty() {
            out.bulk(b"token");
            out.bulk(a.token.as_bytes());
        }
        if !a.since.is_empty() {
            out.bulk(b"since");
            out.bulk(a.since.as_bytes());
        }
        if !a.deprecated_since.is_empty() {
            out.bulk(b"deprecated_since");
            out.bulk(a.deprecated_since.as_bytes());
        }
        if !fl.is_empty() {
            out.bulk(b"flags");
            status_set(out, &fl);
        }
        if !a.args.is_empty() {
            out.bulk(b"arguments");
            write_args_counting(out, a.args, key_index, step);
        }
    }
}

fn count(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    ctx.out.int(super::all_commands().count() as i64);
    Ok(())
}

fn info(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        write_all_info(&mut ctx.out);
        return Ok(());
    }
    ctx.out.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match find(name) {
            Some((spec, parent)) => write_info(&mut ctx.out, spec, parent),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn docs(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let found: Vec<_> = if args.len() == 2 {
        super::all_commands().map(|c| (c, None)).collect()
    } else {
        args.iter().skip(2).filter_map(find).collect()
    };
    ctx.out.map(found.len());
    for (spec, parent) in found {
        ctx.out.bulk(full_name(spec, parent).as_bytes());
        write_docs(&mut ctx.out, spec);
    }
    Ok(())
}

/// The spec a command line names, without checking its arity (GETKEYS reports that itself).
fn spec_of_line(line: Args<'_>) -> Option<&'static CommandSpec> {
    let spec = super::lookup(line.get(0))?;
    if matches!(spec.handler, Handler::Container) && line.len() >= 2 {
        return super::lookup_sub(spec, line.get(1));
    }
    Some(spec)
}

/// The keys of the command line after `COMMAND GETKEYS[ANDFLAGS]`, each with its key-spec
/// flags.
fn keys_of_line(args: Args<'_>) -> Result<Vec<(Vec<u8>, u16)>, ReplyError> {
    let mut owned = crate::resp::OwnedArgs::default();
    for a in args.iter().skip(2) {
        owned.push(a);
    }
    let line = owned.args();
    let Some(spec) = spec_of_line(line) else {
        return Err(ReplyError::other("ERR Invalid command specified"));
    };
    if matches!(spec.keys, KeySpec::None) {
        return Err(ReplyError::other("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(line.len()) {
        return Err(ReplyError::other(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    // No keys found (or a bad key count): an empty list for commands whose keys are optional
    // (EVAL, FCALL...), as Redis answers, an error for the others.
    let keys = spec.key_positions(line).unwrap_or_default();
    if keys.is_empty() {
        if spec.flags & flags::NO_MANDATORY_KEYS != 0 {
            return Ok(Vec::new());
        }
        return Err(ReplyError::other(
            "ERR Invalid arguments specified for command",
        ));
    }
    Ok(keys
        .into_iter()
        .map(|i| (line.get(i).to_vec(), flags_at(spec, line, i)))
        .collect())
}

/// The key-spec flags of the key at argument `at`: those of the declared key spec that finds
/// it when the command has several, else the command's.
fn flags_at(spec: &CommandSpec, line: Args<'_>, at: usize) -> u16 {
    if let Some(f) = spec.line_key_flags {
        return f(line);
    }
    if spec.key_specs.len() > 1 {
        for k in spec.key_specs {
            if spec_positions(k, line).contains(&at) {
                return k.flags;
            }
        }
    }
    spec.key_flags
}

/// The arguments a key spec finds in `line`.
fn spec_positions(k: &KeySpecDoc, line: Args<'_>) -> Vec<usize> {
    let n = line.len() as i64;
    let start = match k.begin {
        BeginSearch::Unknown => return Vec::new(),
        BeginSearch::Index(i) => i as i64,
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let is_kw = |j: &i64| {
                line.get(*j as usize)
                    .eq_ignore_ascii_case(keyword.as_bytes())
            };
            let found = if start_from < 0 {
                (1..=n + start_from as i64).rev().find(is_kw)
            } else {
                (start_from as i64..n).find(is_kw)
            };
            match found {
                Some(j) => j + 1,
                None => return Vec::new(),
            }
        }
    };
    let (first, end, step) = match k.find {
        FindKeys::Unknown => return Vec::new(),
        FindKeys::Range { last, step, .. } => {
            let end = if last >= 0 {
                start + last as i64
            } else {
                n + last as i64
            };
            (start, end, step as i64)
        }
        FindKeys::Keynum {
            keynum_idx,
            first,
            step,
        } => {
            let at = start + keynum_idx as i64;
            let count = (at < n)
                .then(|| crate::resp::parse::parse_i64(line.get(at as usize)))
                .flatten()
                .unwrap_or(0);
            let first = start + first as i64;
            (first, first + (count - 1) * step as i64, step as i64)
        }
    };
    let mut v = Vec::new();
    let mut i = first;
    while i <= end && i < n && i >= 0 {
        v.push(i as usize);
        i += step.max(1);
    }
    v
}

fn getkeys(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let keys = keys_of_line(args)?;
    ctx.out.array(keys.len());
    for (k, _) in keys {
        ctx.out.bulk(&k);
    }
    Ok(())
}

fn getkeysandflags(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let keys = keys_of_line(args)?;
    ctx.out.array(keys.len());
    for (k, flags) in keys {
        ctx.out.array(2);
        ctx.out.bulk(&k);
        status_set(&mut ctx.out, &names_of(flags as u32, keyflag::NAMES));
    }
    Ok(())
}

/// Every command name, subcommands as "parent|sub", with its spec and parent.
fn every_name() -> Vec<(String, &'static CommandSpec, Option<&'static CommandSpec>)> {
    let mut v = Vec::new();
    for c in super::all_commands() {
        v.push((c.name.to_string(), c, None));
        for s in c.subcommands {
            v.push((full_name(s, Some(c)), s, Some(c)));
        }
    }
    v
}

fn list(ctx: &mut ConnCtx<'_>, args: Args<'_>) -> CmdResult {
    let all = every_name();
    let mut cur = ArgCursor::new(args, 2);
    let names: Vec<&String> = match cur.remaining() {
        0 => all.iter().map(|(n, _, _)| n).collect(),
        3 if cur.flag("filterby") => {
            let (kind, x) = (cur.next()?, cur.next()?);
            if kind.eq_ignore_ascii_case(b"module") {
                Vec::new()
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                let want = String::from_utf8_lossy(x).to_ascii_lowercase();
                all.iter()
                    .filter(|(_, s, _)| categories(s).contains(&want.as_str()))
                    .map(|(n, _, _)| n)
                    .collect()
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                all.iter()
                    .filter(|(n, _, _)| crate::glob::matches(x, n.as_bytes(), true))
                    .map(|(n, _, _)| n)
                    .collect()
            } else {
                return Err(ReplyError::Syntax);
            }
        }
        _ => return Err(ReplyError::Syntax),
    };
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn help(ctx: &mut ConnCtx<'_>, _args: Args<'_>) -> CmdResult {
    write_help(
        ctx,
        "COMMAND",
        &[
            ("(no subcommand)", "Describe every command (as INFO does)."),
            ("COUNT", "How many commands this server has."),
            (
                "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <glob>)]",
                "Names of the commands, optionally filtered.",
            ),
            (
                "INFO [<command-name> ...]",
                "Arity, flags, categories and key specs.",
            ),
            (
                "DOCS [<command-name> ...]",
                "Summaries, versions and arguments, for clients.",
            ),
            (
                "GETKEYS <full-command>",
                "The keys a full command line would touch.",
            ),
            (
                "GETKEYSANDFLAGS <full-command>",
                "Those keys with their access flags.",
            ),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::resp::Proto;
    use crate::testkit::{Harness, Reply};

    fn bulk(s: &str) -> Reply {
        Reply::bulk(s)
    }
    fn st(s: &str) -> Reply {
        Reply::Simple(s.into())
    }

    #[test]
    fn info_get_matches_redis_shape() {
        // COMMAND INFO get: the exact 10-element entry Redis 7.0 sends (RESP2).
        let mut h = Harness::new();
        let got = h.raw(&["COMMAND", "INFO", "get"]);
        let want = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
            *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
            +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
            *2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
            $4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
            *0\r\n";
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    #[test]
    fn info_resp3_sets_and_missing() {
        // RESP3 uses sets for flags/categories/tips/specs/subcommands; unknown names are nil.
        let mut h = Harness::new();
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        let got = h.raw(&["COMMAND", "INFO", "lastsave", "nosuch"]);
        let want = "*2\r\n*10\r\n$8\r\nlastsave\r\n:1\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n\
            :0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@fast\r\n+@dangerous\r\n~1\r\n\
            $23\r\nnondeterministic_output\r\n~0\r\n~0\r\n_\r\n";
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    #[test]
    fn info_containers_and_subcommands() {
        // Containers list their subcommands as "parent|sub" entries with their own flags.
        let mut h = Harness::new();
        let Reply::Array(v) = h.run(&["COMMAND", "INFO", "config", "client|kill"]) else {
            panic!()
        };
        let Reply::Array(cfg) = &v[0] else { panic!() };
        assert_eq!(cfg[0], bulk("config"));
        assert_eq!(cfg[1], Reply::Int(-2));
        assert_eq!(cfg[2], Reply::Array(vec![]));
        assert_eq!(cfg[6], Reply::Array(vec![st("@slow")]));
        let Reply::Array(subs) = &cfg[9] else {
            panic!()
        };
        let Reply::Array(get) = &subs[0] else {
            panic!()
        };
        assert_eq!(get[0], bulk("config|get"));
        assert_eq!(get[1], Reply::Int(-3));
        let flags = ["admin", "noscript", "loading", "stale"].map(st).to_vec();
        assert_eq!(get[2], Reply::Array(flags));
        let cats = ["@admin", "@slow", "@dangerous"].map(st).to_vec();
        assert_eq!(get[6], Reply::Array(cats));
        let Reply::Array(kill) = &v[1] else { panic!() };
        assert_eq!(kill[0], bulk("client|kill"));
        let cats = ["@admin", "@slow", "@dangerous", "@connection"]
            .map(st)
            .to_vec();
        assert_eq!(kill[6], Reply::Array(cats));
        let Reply::Array(quit) = &h.run(&["COMMAND", "INFO", "quit"]) else {
            panic!()
        };
        let Reply::Array(q) = &quit[0] else { panic!() };
        let flags = [
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
            "allow_busy",
        ];
        assert_eq!(q[2], Reply::Array(flags.map(st).to_vec()));
        assert_eq!(
            q[6],
            Reply::Array(["@fast", "@connection"].map(st).to_vec())
        );
    }

    #[test]
    fn bare_command_count_and_errors() {
        // COMMAND lists every command; COUNT agrees; subcommand errors as Redis.
        let mut h = Harness::new();
        let Reply::Array(all) = h.run(&["COMMAND"]) else {
            panic!()
        };
        let n = crate::commands::all_commands().count();
        assert_eq!(all.len(), n);
        assert_eq!(h.run(&["COMMAND", "COUNT"]), Reply::Int(n as i64));
        let Reply::Array(info_all) = h.run(&["COMMAND", "INFO"]) else {
            panic!()
        };
        assert_eq!(info_all.len(), n);
        let e = "ERR wrong number of arguments for 'command|count' command";
        assert_eq!(h.run(&["COMMAND", "COUNT", "x"]), Reply::err(e));
        let e = "ERR unknown subcommand 'FOO'. Try COMMAND HELP.";
        assert_eq!(h.run(&["COMMAND", "FOO"]), Reply::err(e));
        let Reply::Array(help) = h.run(&["COMMAND", "HELP"]) else {
            panic!()
        };
        assert_eq!(help.len(), 17);
    }

    #[test]
    fn docs_shapes() {
        // COMMAND DOCS: map of name -> fields, arguments with flags, subcommands nested.
        let mut h = Harness::new();
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        let got = h.raw(&["COMMAND", "DOCS", "ping", "nosuch"]);
        let want_prefix = "%1\r\n$4\r\nping\r\n%5\r\n$7\r\nsummary\r\n";
        let got = String::from_utf8_lossy(&got).into_owned();
        assert!(got.starts_with(want_prefix), "{got}");
        let tail = "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n\
            $10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n\
            $7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n~1\r\n+optional\r\n";
        assert!(got.ends_with(tail), "{got}");
        assert_eq!(h.run(&["COMMAND", "DOCS", "nosuch"]), Reply::Map(vec![]));
        let Reply::Map(m) = h.run(&["COMMAND", "DOCS", "client"]) else {
            panic!()
        };
        let Reply::Map(fields) = &m[0].1 else {
            panic!()
        };
        let (k, Reply::Map(subs)) = fields.last().unwrap() else {
            panic!()
        };
        assert_eq!(*k, bulk("subcommands"));
        assert!(subs.iter().any(|(n, _)| *n == bulk("client|no-evict")));
        let Reply::Map(all) = h.run(&["COMMAND", "DOCS"]) else {
            panic!()
        };
        assert_eq!(all.len(), crate::commands::all_commands().count());
    }

    #[test]
    fn docs_key_spec_index() {
        // Key arguments carry key_spec_index, counted in order.
        let mut out = Vec::new();
        let mut o = crate::resp::Out::new(&mut out, Proto::Resp2);
        let args = [super::arg("key", "key"), super::arg("value", "string")];
        super::write_args(&mut o, &args, &mut 0);
        let s = String::from_utf8_lossy(&out);
        assert!(s.starts_with(
            "*2\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
                               $14\r\nkey_spec_index\r\n:0\r\n"
        ));
    }

    #[test]
    fn getkeys() {
        // GETKEYS resolves the command line and reports its keys or Redis' errors.
        let mut h = Harness::new();
        let r = h.run(&["COMMAND", "GETKEYS", "set", "k", "v"]);
        assert_eq!(r, Reply::Array(vec![bulk("k")]));
        let r = h.run(&["COMMAND", "GETKEYS", "get", "a"]);
        assert_eq!(r, Reply::Array(vec![bulk("a")]));
        let e = "ERR Invalid command specified";
        assert_eq!(h.run(&["COMMAND", "GETKEYS", "nosuch", "a"]), Reply::err(e));
        let e = "ERR Invalid number of arguments specified for command";
        assert_eq!(h.run(&["COMMAND", "GETKEYS", "set", "a"]), Reply::err(e));
        let e = "ERR The command has no key arguments";
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "config", "get"]),
            Reply::err(e)
        );
        assert_eq!(h.run(&["COMMAND", "GETKEYS", "echo", "x"]), Reply::err(e));
        let e = "ERR wrong number of arguments for 'command|getkeys' command";
        assert_eq!(h.run(&["COMMAND", "GETKEYS", "get"]), Reply::err(e));
    }

    #[test]
    fn getkeysandflags() {
        // Each key comes with its access flags; errors are GETKEYS' errors.
        let mut h = Harness::new();
        let r = h.run(&["COMMAND", "GETKEYSANDFLAGS", "get", "a"]);
        let want = Reply::Array(vec![bulk("a"), Reply::Array(vec![st("RO"), st("access")])]);
        assert_eq!(r, Reply::Array(vec![want]));
        let e = "ERR The command has no key arguments";
        assert_eq!(
            h.run(&["COMMAND", "GETKEYSANDFLAGS", "echo", "a"]),
            Reply::err(e)
        );
        h.shard.clients.get_mut(h.client).proto = Proto::Resp3;
        let raw = h.raw(&["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"]);
        assert_eq!(raw, b"*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+OW\r\n+update\r\n");
    }

    #[test]
    fn list_filters() {
        // LIST with and without FILTERBY; bad forms are syntax errors.
        let mut h = Harness::new();
        let Reply::Array(all) = h.run(&["COMMAND", "LIST"]) else {
            panic!()
        };
        assert!(all.contains(&bulk("client|kill")) && all.contains(&bulk("get")));
        let r = h.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]);
        let Reply::Array(v) = r else { panic!() };
        assert_eq!(v[0], bulk("config"));
        assert!(v
            .iter()
            .all(|n| matches!(n, Reply::Bulk(b) if b.starts_with(b"config"))));
        let r = h.run(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"]);
        let Reply::Array(v) = r else { panic!() };
        assert!(v.contains(&bulk("ping")) && v.contains(&bulk("client|id")));
        assert!(!v.contains(&bulk("get")) && !v.contains(&bulk("client")));
        let r = h.run(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]);
        assert_eq!(r, Reply::Array(vec![]));
        let syn = Reply::err("ERR syntax error");
        assert_eq!(h.run(&["COMMAND", "LIST", "FILTERBY", "foo", "x"]), syn);
        assert_eq!(h.run(&["COMMAND", "LIST", "x"]), syn);
    }
}
