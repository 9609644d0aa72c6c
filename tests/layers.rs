//! The layer check: top-level modules import downwards only, and no import cycle comes back.
//!
//! Reads the source tree (no build of it), walks the module tree from `src/lib.rs` and
//! `src/main.rs`, and collects every reference to another top-level module: `crate::x` paths,
//! `use crate::{a, b::c}` groups, `super::` chains that climb to the crate root, and
//! `slotd::x` in `main.rs`. Comments and string literals are skipped.
//!
//! It fails when (a) the graph without the edges listed in `ALLOWED` has a cycle (named), (b)
//! a module imports a module of a higher layer (or later in its own layer's order) and the edge
//! is not listed in `ALLOWED`, (c) a listed edge no longer exists (the list only shrinks and
//! stays exact), (d) a top-level module is missing from `LAYERS`, or (e) docs/architecture.md
//! does not carry the same table. `testkit` (the in-process harness) is exempt when imported
//! from `#[cfg(test)]` code.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The layers, bottom to top. A module may import modules of lower layers and modules earlier
/// in its own layer's list. Modules not created yet are allowed here (e.g. `dispatch`).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaves",
        &[
            "constants",
            "sys",
            "glob",
            "clock",
            "rng",
            "log",
            "resp",
            "types",
            "topology",
            "auth",
            "command_id",
            "lua",
        ],
    ),
    ("config", &["config"]),
    ("cluster core", &["cluster", "route"]),
    (
        "state",
        &[
            "mesh",
            "lazyfree",
            "keyspace",
            "rdb",
            "aof_store",
            "global",
            "shard",
            "replication",
            "aof",
        ],
    ),
    ("commands", &["commands"]),
    ("dispatch", &["dispatch"]),
    (
        "drivers",
        &[
            "rdb_save",
            "rdb_load",
            "aof_load",
            "repl_link",
            "net",
            "bus",
            "server",
            "testkit",
            "api",
            "main",
        ],
    ),
];

/// Edges allowed to go upwards, each with who removes it: empty since issue 12 finished the
/// layering. Keep it empty; a refactor that must list an edge for a while names its owner, and
/// the check fails once the edge is gone, so the line goes in the same commit.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// Where `testkit` may be imported from test code only.
const TEST_HARNESS: &str = "testkit";

#[test]
fn top_level_modules_import_downwards_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = collect(root);
    let rank = ranks();
    let mut problems = String::new();
    if std::env::var_os("LAYERS_GRAPH").is_some() {
        // `LAYERS_GRAPH=1 cargo test --test layers -- --nocapture` prints every edge.
        for ((from, to), at) in &graph.edges {
            eprintln!("{from} -> {to} ({at})");
        }
    }

    for module in graph.modules.iter() {
        if !rank.contains_key(module.as_str()) {
            let _ = writeln!(problems, "module `{module}` is not in LAYERS: place it");
        }
    }
    let allowed: BTreeSet<(&str, &str)> = ALLOWED.iter().map(|&(a, b, _)| (a, b)).collect();
    for ((from, to), at) in &graph.edges {
        let (Some(rf), Some(rt)) = (rank.get(from.as_str()), rank.get(to.as_str())) else {
            continue;
        };
        if rt > rf && !allowed.contains(&(from.as_str(), to.as_str())) {
            let _ = writeln!(
                problems,
                "`{from}` imports `{to}` of a higher layer ({at}): not allowed"
            );
        }
    }
    for &(from, to, owner) in ALLOWED {
        if !graph
            .edges
            .contains_key(&(from.to_string(), to.to_string()))
        {
            let _ = writeln!(
                problems,
                "ALLOWED lists {from} -> {to} ({owner}) but the edge is gone: delete the line"
            );
        } else if rank.get(to) <= rank.get(from) {
            let _ = writeln!(
                problems,
                "ALLOWED lists {from} -> {to} ({owner}) but it goes downwards: delete the line"
            );
        }
    }
    let strict: BTreeSet<(String, String)> = graph
        .edges
        .keys()
        .filter(|(a, b)| !allowed.contains(&(a.as_str(), b.as_str())))
        .cloned()
        .collect();
    for cycle in cycles(&strict) {
        let _ = writeln!(problems, "import cycle: {}", cycle.join(" -> "));
    }
    for cycle in cycles(&graph.edges.keys().cloned().collect()) {
        eprintln!("cycle still allowed by ALLOWED: {}", cycle.join(" -> "));
    }

    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs");
    let table = doc_table();
    if !doc.contains(&table) {
        let _ = writeln!(
            problems,
            "docs/architecture.md must contain the layer table verbatim:\n{table}"
        );
    }
    assert!(problems.is_empty(), "layer check failed:\n{problems}");
}

/// The layer table as docs/architecture.md shows it.
fn doc_table() -> String {
    let mut out = String::new();
    for (i, (name, modules)) in LAYERS.iter().enumerate() {
        let _ = writeln!(out, "{}. {name}: {}", i + 1, modules.join(", "));
    }
    out
}

/// (layer, position in layer) of each module: imports go to strictly smaller ranks.
fn ranks() -> BTreeMap<&'static str, (usize, usize)> {
    let mut out = BTreeMap::new();
    for (layer, (_, modules)) in LAYERS.iter().enumerate() {
        for (pos, m) in modules.iter().enumerate() {
            assert!(out.insert(*m, (layer, pos)).is_none(), "{m} listed twice");
        }
    }
    out
}

struct Graph {
    modules: BTreeSet<String>,
    /// (from, to) -> the first place seen, "file:line".
    edges: BTreeMap<(String, String), String>,
}

fn collect(root: &Path) -> Graph {
    let mut graph = Graph {
        modules: BTreeSet::new(),
        edges: BTreeMap::new(),
    };
    let src = root.join("src");
    graph.modules.insert("main".to_string());
    walk(
        &mut graph,
        root,
        &src.join("main.rs"),
        &["main".to_string()],
        true,
        false,
    );
    walk(&mut graph, root, &src.join("lib.rs"), &[], true, false);
    // `crate::x` where x is not a module (a macro exported at the root) is not an edge.
    let modules = graph.modules.clone();
    graph.edges.retain(|(_, to), _| modules.contains(to));
    graph
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Punct(char),
    /// `::`
    Path,
    Str(String),
}

/// Tokens with their line numbers; comments dropped, string contents kept (for `#[path]`).
fn tokenize(text: &str) -> Vec<(Tok, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += (b[i] == b'\n') as usize;
                    i += 1;
                }
            }
        } else if c == b'"' || (c == b'b' && b.get(i + 1) == Some(&b'"')) {
            i += if c == b'b' { 2 } else { 1 };
            let start = i;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                line += (b.get(i) == Some(&b'\n')) as usize;
                i += 1;
            }
            out.push((Tok::Str(text[start..i.min(b.len())].to_string()), line));
            i += 1;
        } else if (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r')))
            && raw_string_hashes(&b[i..]).is_some()
        {
            let skip = if c == b'b' { 2 } else { 1 };
            let hashes = raw_string_hashes(&b[i..]).unwrap_or(0);
            i += skip + hashes + 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let start = i;
            while i < b.len() && !b[i..].starts_with(&close) {
                line += (b[i] == b'\n') as usize;
                i += 1;
            }
            out.push((Tok::Str(text[start..i.min(b.len())].to_string()), line));
            i += close.len();
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\'', '\u{..}') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                i += 3;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else if let Some(len) = text[i + 1..].chars().next().map(char::len_utf8) {
                if b.get(i + 1 + len) == Some(&b'\'') {
                    i += 2 + len;
                } else {
                    i += 1;
                }
            } else {
                i += 1;
            }
        } else if c == b'_' || c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            out.push((Tok::Ident(text[start..i].to_string()), line));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i] == b'_' || b[i] == b'.' || b[i].is_ascii_alphanumeric()) {
                if b[i] == b'.' && b.get(i + 1) == Some(&b'.') {
                    break;
                }
                i += 1;
            }
        } else if b[i..].starts_with(b"::") {
            out.push((Tok::Path, line));
            i += 2;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push((Tok::Punct(ch), line));
            i += ch.len_utf8();
        }
    }
    out
}

/// `r"`, `r#"`, `br##"`...: the number of hashes, or None when this is not a raw string.
fn raw_string_hashes(b: &[u8]) -> Option<usize> {
    let mut i = if b.first() == Some(&b'b') { 2 } else { 1 };
    let mut hashes = 0;
    while b.get(i) == Some(&b'#') {
        hashes += 1;
        i += 1;
    }
    (b.get(i) == Some(&b'"')).then_some(hashes)
}

fn ident(toks: &[(Tok, usize)], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    }
}

fn is(toks: &[(Tok, usize)], i: usize, t: &Tok) -> bool {
    toks.get(i).map(|(x, _)| x) == Some(t)
}

/// Reads one file of module `path` (empty = crate root). `mod_rs`: the file owns a directory
/// (lib.rs, main.rs, mod.rs). `test_only`: the whole file is `#[cfg(test)]`.
fn walk(graph: &mut Graph, root: &Path, file: &Path, path: &[String], mod_rs: bool, test: bool) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let toks = tokenize(&text);
    let shown = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    let dir: PathBuf = if mod_rs {
        file.parent().expect("dir").to_path_buf()
    } else {
        file.with_extension("")
    };
    // Inline `mod x { .. }` blocks: (brace depth inside, test-only).
    let mut inline: Vec<(usize, String, bool)> = Vec::new();
    let mut depth = 0usize;
    // A pending `#[cfg(test)]` applies to the next item; `test_until` ends it.
    let mut pending_test = false;
    let mut pending_path: Option<String> = None;
    let mut test_item: Option<(usize, bool)> = None; // (depth, saw_open_brace)
    let mut i = 0;
    while i < toks.len() {
        let in_test =
            test || inline.iter().any(|(_, _, t)| *t) || test_item.is_some_and(|(d, _)| d <= depth);
        match &toks[i].0 {
            Tok::Punct('#') if is(&toks, i + 1, &Tok::Punct('[')) => {
                // Attributes: note cfg(test) and path = "..".
                let mut j = i + 2;
                let mut bracket = 1;
                let start = j;
                while j < toks.len() && bracket > 0 {
                    match toks[j].0 {
                        Tok::Punct('[') => bracket += 1,
                        Tok::Punct(']') => bracket -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                let attr = &toks[start..j.saturating_sub(1)];
                let names: Vec<&Tok> = attr.iter().map(|(t, _)| t).collect();
                if names
                    == [
                        &Tok::Ident("cfg".into()),
                        &Tok::Punct('('),
                        &Tok::Ident("test".into()),
                        &Tok::Punct(')'),
                    ]
                {
                    pending_test = true;
                }
                if let [(Tok::Ident(p), _), (Tok::Punct('='), _), (Tok::Str(s), _)] = attr {
                    if p == "path" {
                        pending_path = Some(s.clone());
                    }
                }
                i = j;
                continue;
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(&toks, i + 1) {
                    let name = name.to_string();
                    let here_test = in_test || pending_test;
                    if is(&toks, i + 2, &Tok::Punct(';')) {
                        let mut inner_dir = dir.clone();
                        for (_, m, _) in &inline {
                            inner_dir.push(m);
                        }
                        let (child, child_mod_rs) = match pending_path.take() {
                            // `#[path]` outside inline modules is relative to this file's
                            // directory.
                            Some(p) if inline.is_empty() => {
                                (file.parent().expect("dir").join(p), true)
                            }
                            Some(p) => (inner_dir.join(p), true),
                            None => {
                                let flat = inner_dir.join(format!("{name}.rs"));
                                if flat.exists() {
                                    (flat, false)
                                } else {
                                    (inner_dir.join(&name).join("mod.rs"), true)
                                }
                            }
                        };
                        let mut child_path = path.to_vec();
                        child_path.extend(inline.iter().map(|(_, m, _)| m.clone()));
                        child_path.push(name.clone());
                        if path.is_empty() && inline.is_empty() {
                            graph.modules.insert(name.clone());
                        }
                        walk(graph, root, &child, &child_path, child_mod_rs, here_test);
                        pending_test = false;
                        i += 3;
                        continue;
                    }
                    if is(&toks, i + 2, &Tok::Punct('{')) {
                        depth += 1;
                        inline.push((depth, name, here_test));
                        pending_test = false;
                        pending_path = None;
                        i += 3;
                        continue;
                    }
                }
            }
            Tok::Punct('{') => {
                depth += 1;
                if pending_test {
                    test_item = Some((depth, true));
                    pending_test = false;
                }
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(d, _, _)| *d == depth) {
                    inline.pop();
                }
                if test_item.is_some_and(|(d, _)| d == depth) {
                    test_item = None;
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Punct(';') if pending_test => {
                // `#[cfg(test)] use ..;` or a one-line item: it ends here.
                pending_test = false;
            }
            Tok::Ident(kw) if kw == "crate" || (kw == "slotd" && path == ["main"]) => {
                let from_root = i == 0 || !is(&toks, i - 1, &Tok::Path);
                if from_root && is(&toks, i + 1, &Tok::Path) {
                    let line = toks[i].1;
                    let targets = path_heads(&toks, i + 2);
                    let test_here = in_test || pending_test;
                    for t in targets {
                        add_edge(graph, path, &t, &shown, line, test_here);
                    }
                }
            }
            Tok::Ident(kw) if kw == "super" => {
                let from_start = i == 0 || !is(&toks, i - 1, &Tok::Path);
                if from_start {
                    let mut ups = 0;
                    let mut j = i;
                    while ident(&toks, j) == Some("super") && is(&toks, j + 1, &Tok::Path) {
                        ups += 1;
                        j += 2;
                    }
                    let here = path.len() + inline.len();
                    if ups == here && here > 0 {
                        let line = toks[i].1;
                        let test_here = in_test || pending_test;
                        for t in path_heads(&toks, j) {
                            add_edge(graph, path, &t, &shown, line, test_here);
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The first segment(s) after `crate::`: one identifier, or each head of a `{a, b::c}` group.
fn path_heads(toks: &[(Tok, usize)], i: usize) -> Vec<String> {
    if let Some(id) = ident(toks, i) {
        return vec![id.to_string()];
    }
    let mut out = Vec::new();
    if !is(toks, i, &Tok::Punct('{')) {
        return out;
    }
    let mut depth = 0;
    let mut expect_head = true;
    let mut j = i;
    while j < toks.len() {
        match &toks[j].0 {
            Tok::Punct('{') => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                }
            }
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => expect_head = true,
            Tok::Ident(s) if depth == 1 && expect_head => {
                out.push(s.clone());
                expect_head = false;
            }
            _ if depth == 1 => expect_head = false,
            _ => {}
        }
        j += 1;
    }
    out
}

fn add_edge(graph: &mut Graph, path: &[String], to: &str, file: &str, line: usize, test: bool) {
    let from = path.first().map(String::as_str).unwrap_or("lib");
    if from == "lib" || from == to || (test && to == TEST_HARNESS) {
        return;
    }
    graph
        .edges
        .entry((from.to_string(), to.to_string()))
        .or_insert_with(|| format!("{file}:{line}"));
}

/// One shortest cycle through each module that lies on a cycle and is not yet named by an
/// earlier one (enough to name every tangle).
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a.as_str()).or_default().push(b.as_str());
    }
    let nodes: BTreeSet<&str> = edges
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    let mut seen_in_cycle: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for &start in &nodes {
        if seen_in_cycle.contains(start) {
            continue;
        }
        // Shortest path start -> ... -> start by breadth-first search.
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut found = false;
        while let Some(n) = queue.pop_front() {
            for &m in next.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if m == start {
                    prev.insert(start, n);
                    found = true;
                    break;
                }
                if !prev.contains_key(m) {
                    prev.insert(m, n);
                    queue.push_back(m);
                }
            }
            if found {
                break;
            }
        }
        if !found {
            continue;
        }
        let mut cycle = vec![start.to_string()];
        let mut at = prev[start];
        while at != start {
            cycle.push(at.to_string());
            at = prev[at];
        }
        cycle.push(start.to_string());
        cycle.reverse();
        seen_in_cycle.extend(cycle.iter().cloned());
        out.push(cycle);
    }
    out
}

/// The parser itself: groups, comments, strings and `super` escapes.
#[test]
fn parser_finds_groups_and_skips_comments() {
    let toks =
        tokenize("use crate::{a, b::c, d::{e, f}}; // crate::x\n\"crate::y\" '\\'' crate::g");
    let start = toks.iter().position(|(t, _)| t == &Tok::Path).expect("::") + 1;
    assert_eq!(path_heads(&toks, start), ["a", "b", "d"]);
    let idents: Vec<&str> = toks
        .iter()
        .filter_map(|(t, _)| match t {
            Tok::Ident(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        !idents.contains(&"x") && !idents.contains(&"y"),
        "{idents:?}"
    );
    assert_eq!(idents.last(), Some(&"g"));
}
