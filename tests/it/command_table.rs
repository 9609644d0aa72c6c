//! COMMAND INFO and COMMAND DOCS of every command and subcommand slotd implements, field by
//! field against Debian's redis-server 7.0: equal, or listed in `KNOWN` with the reason. The
//! list is exact both ways: a new difference fails, and so does a listed one that went away.
//! Skipped (with a message) only when redis-server is not installed.

use crate::common::{cmd, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;
use std::collections::{BTreeMap, BTreeSet};

/// Known, justified differences: (field, commands, why).
const KNOWN: &[(&str, &[&str], &str)] = &[
    (
        "complexity",
        &[
            "append",
            "blmpop",
            "blpop",
            "brpop",
            "cluster|shards",
            "copy",
            "del",
            "discard",
            "dump",
            "exec",
            "exists",
            "flushall",
            "flushdb",
            "getrange",
            "keys",
            "lcs",
            "lindex",
            "linsert",
            "lmpop",
            "lpop",
            "lpos",
            "lpush",
            "lpushx",
            "lrange",
            "lrem",
            "lset",
            "ltrim",
            "mget",
            "migrate",
            "mset",
            "msetnx",
            "object",
            "restore",
            "restore-asking",
            "rpop",
            "rpush",
            "rpushx",
            "scan",
            "setrange",
            "substr",
            "touch",
            "unlink",
            "watch",
            "xack",
            "xadd",
            "xautoclaim",
            "xclaim",
            "xdel",
            "xgroup|destroy",
            "xpending",
            "xrange",
            "xread",
            "xreadgroup",
            "xrevrange",
            "xtrim",
            "zrangebylex",
            "zrangebyscore",
            "zrevrangebylex",
            "zrevrangebyscore",
        ],
        "prose: the same bound, worded by slotd (like every summary, which is not compared)",
    ),
    (
        "arguments",
        &["migrate"],
        "MIGRATE's empty-string token is spelled \"\": an empty token means none here",
    ),
];

/// A reply, as much of it as COMMAND INFO/DOCS use (RESP2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum V {
    Nil,
    Int(i64),
    Str(String),
    List(Vec<V>),
}

fn v(x: redis::Value) -> V {
    match x {
        redis::Value::Nil => V::Nil,
        redis::Value::Int(i) => V::Int(i),
        redis::Value::BulkString(b) => V::Str(String::from_utf8_lossy(&b).into_owned()),
        redis::Value::SimpleString(s) => V::Str(s),
        redis::Value::Okay => V::Str("OK".into()),
        redis::Value::Array(a) => V::List(a.into_iter().map(v).collect()),
        other => panic!("unexpected RESP2 value {other:?}"),
    }
}

fn list(x: &V) -> &[V] {
    match x {
        V::List(l) => l,
        other => panic!("not a list: {other:?}"),
    }
}

/// The same list in a fixed order: flags, categories and tips are sets.
fn sorted(x: &V) -> V {
    let mut l = list(x).to_vec();
    l.sort();
    V::List(l)
}

/// The compared fields of one COMMAND INFO entry (subcommands are compared on their own).
fn info_fields(entry: &V) -> BTreeMap<String, V> {
    let e = list(entry);
    let mut m = BTreeMap::new();
    for (i, name) in [
        "arity",
        "flags",
        "first",
        "last",
        "step",
        "acl",
        "tips",
        "key_specs",
    ]
    .into_iter()
    .enumerate()
    {
        let x = &e[i + 1];
        let x = if matches!(name, "flags" | "acl" | "tips") {
            sorted(x)
        } else {
            x.clone()
        };
        m.insert(name.to_string(), x);
    }
    m
}

/// The compared fields of one COMMAND DOCS value: all but the summary and the subcommands.
fn docs_fields(doc: &V) -> BTreeMap<String, V> {
    let mut m = BTreeMap::new();
    for pair in list(doc).chunks(2) {
        let V::Str(k) = &pair[0] else {
            panic!("docs key {:?}", pair[0])
        };
        if k != "summary" && k != "subcommands" {
            m.insert(k.clone(), pair[1].clone());
        }
    }
    m
}

fn query(c: &mut redis::Connection, args: &[&str]) -> V {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    v(cmd.query(c).expect("reply"))
}

/// Every differing (command, field) of one command, with a readable account in `detail`.
fn differences(
    name: &str,
    redis: &BTreeMap<String, V>,
    slotd: &BTreeMap<String, V>,
    detail: &mut String,
) -> Vec<(String, String)> {
    let keys: BTreeSet<&String> = redis.keys().chain(slotd.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (a, b) = (redis.get(k), slotd.get(k));
        if a != b {
            detail.push_str(&format!("{name} {k}:\n  redis {a:?}\n  slotd {b:?}\n"));
            out.push((name.to_string(), k.clone()));
        }
    }
    out
}

#[test]
fn command_info_and_docs_match_redis() {
    let Some(redis) = Redis::start("command_table") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    let V::List(names) = query(&mut s, &["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST")
    };
    assert!(names.len() > 200, "{}", names.len());
    let mut found = BTreeSet::new();
    let mut detail = String::new();
    for n in &names {
        let V::Str(name) = n else { panic!("{n:?}") };
        let ri = query(&mut r, &["COMMAND", "INFO", name]);
        let si = query(&mut s, &["COMMAND", "INFO", name]);
        let (ri, si) = (&list(&ri)[0], &list(&si)[0]);
        assert_ne!(*ri, V::Nil, "redis-server does not know {name}");
        let (ri, si) = (info_fields(ri), info_fields(si));
        found.extend(differences(name, &ri, &si, &mut detail));
        let rd = query(&mut r, &["COMMAND", "DOCS", name]);
        let sd = query(&mut s, &["COMMAND", "DOCS", name]);
        let (rd, sd) = (docs_fields(&list(&rd)[1]), docs_fields(&list(&sd)[1]));
        found.extend(differences(name, &rd, &sd, &mut detail));
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .flat_map(|(field, cmds, _)| cmds.iter().map(|c| (c.to_string(), field.to_string())))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "unlisted differences {new:?}\nlisted but now equal {gone:?}\n{detail}"
    );
}

#[test]
fn getkeysandflags_match_redis() {
    // Each key with the flags of the key spec that finds it (source and destination apart).
    crate::compare::same_replies(&[
        "COMMAND GETKEYSANDFLAGS lmove a b left right",
        "COMMAND GETKEYSANDFLAGS rpoplpush a b",
        "COMMAND GETKEYSANDFLAGS rename a b",
        "COMMAND GETKEYSANDFLAGS renamenx a b",
        "COMMAND GETKEYSANDFLAGS copy a b",
        "COMMAND GETKEYSANDFLAGS smove a b m",
        "COMMAND GETKEYSANDFLAGS sinterstore d a b c",
        "COMMAND GETKEYSANDFLAGS sunionstore d a b",
        "COMMAND GETKEYSANDFLAGS zunionstore d 2 a b",
        "COMMAND GETKEYSANDFLAGS zdiffstore d 2 a b",
        "COMMAND GETKEYSANDFLAGS zrangestore d s 0 -1",
        "COMMAND GETKEYSANDFLAGS get a",
        "COMMAND GETKEYSANDFLAGS lpush a x",
        "COMMAND GETKEYSANDFLAGS del a b",
        "COMMAND GETKEYSANDFLAGS mget a b",
        "COMMAND GETKEYSANDFLAGS set a v",
        "COMMAND GETKEYSANDFLAGS set a v get",
        "COMMAND GETKEYSANDFLAGS set a v ex 10 GET",
    ]);
}

/// The scripting commands and subcommands of Redis 7.0 (SCRIPT DEBUG included: slotd lists it
/// and refuses its debugger modes).
const SCRIPTING: &[&str] = &[
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "script|debug",
    "script|exists",
    "script|flush",
    "script|help",
    "script|kill",
    "script|load",
    "function|delete",
    "function|dump",
    "function|flush",
    "function|help",
    "function|kill",
    "function|list",
    "function|load",
    "function|restore",
    "function|stats",
];

#[test]
fn scripting_commands_info_is_byte_identical() {
    // COMMAND INFO of each scripting command and subcommand, byte for byte in RESP2 and RESP3
    // (one name per call: a container's subcommands come in Redis' hash-table order).
    let mut script = Vec::new();
    for proto in ["2", "3"] {
        script.push(format!("HELLO {proto}"));
        for name in SCRIPTING {
            script.push(format!("COMMAND INFO {name}"));
        }
        script.push("COMMAND INFO eval fcall_ro nosuch evalsha_ro".to_string());
    }
    let Some(redis) = Redis::start("scripting_info") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut a, mut b) = (Raw::connect(redis.port), slotd.raw());
    for line in &script {
        let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        a.send(&cmd(&parts));
        b.send(&cmd(&parts));
        let (ra, rb) = (read_reply(&mut a), read_reply(&mut b));
        // HELLO's reply names the server and its version: only the COMMAND replies compare.
        if !line.starts_with("HELLO") {
            assert_eq!(
                String::from_utf8_lossy(&rb),
                String::from_utf8_lossy(&ra),
                "{line}"
            );
        }
    }
}

#[test]
fn scripting_commands_are_listed_as_redis() {
    // COMMAND LIST FILTERBY ACLCAT scripting / PATTERN give the same names as Redis (as sets),
    // and every scripting name is in COMMAND LIST, so COMMAND COUNT counts them.
    let Some(redis) = Redis::start("scripting_list") else {
        eprintln!("redis-server not installed: comparison skipped");
        return;
    };
    let slotd = Server::start(&[]);
    let (mut r, mut s) = (redis.client(), slotd.client());
    for args in [
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "scripting"][..],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "eval*"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "f[cu]*"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "script|*"],
    ] {
        assert_eq!(
            sorted(&query(&mut s, args)),
            sorted(&query(&mut r, args)),
            "{args:?}"
        );
    }
    let all = query(&mut s, &["COMMAND", "LIST"]);
    let names: BTreeSet<&V> = list(&all).iter().collect();
    for n in SCRIPTING {
        assert!(
            names.contains(&V::Str(n.to_string())),
            "COMMAND LIST lacks {n}"
        );
    }
    let V::Int(count) = query(&mut s, &["COMMAND", "COUNT"]) else {
        panic!("COMMAND COUNT")
    };
    let top = list(&all)
        .iter()
        .filter(|n| !matches!(n, V::Str(x) if x.contains('|')));
    assert_eq!(
        count as usize,
        top.count(),
        "COMMAND COUNT counts top-level commands"
    );
}
