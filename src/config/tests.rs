//! Unit tests of the configuration loader: file and command-line parsing, validation errors,
//! includes, CONFIG GET/SET and the directive table.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh scratch directory per test (tests run in parallel; none changes the cwd).
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("slotd-cfg-{}-{n}", std::process::id()));
    // A directory left by an earlier run whose pid was the same would leak its files.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::canonicalize(dir).expect("scratch dir path")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write conf");
    path.display().to_string()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn load_file(text: &str, extra: &[&str]) -> Result<Loaded, String> {
    let file = write(&scratch(), "t.conf", text);
    let mut all = vec![file];
    all.extend(args(extra));
    load(&all)
}

fn err_of(text: &str) -> String {
    match load_file(text, &[]) {
        Err(e) => e,
        Ok(_) => panic!("expected an error for {text:?}"),
    }
}

fn reason_of(text: &str) -> String {
    err_of(text).lines().last().unwrap_or_default().to_string()
}

fn get(cfg: &Config, name: &str) -> String {
    let found = get_params(cfg, &[name.as_bytes()]);
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0].1.clone()
}

fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let raw: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    set_params(cfg, &raw).map_err(|e| e.text())
}

#[test]
fn splits_like_sdssplitargs() {
    // Quoting and escapes must give the same arguments Redis would see.
    let got = split_args(r#"set "a b" 'c d' "\x41\n\t\"\\" 'it\'s' plain"#).unwrap();
    assert_eq!(got, ["set", "a b", "c d", "A\n\t\"\\", "it's", "plain"]);
    assert_eq!(split_args("  a\t\tb  ").unwrap(), ["a", "b"]);
    assert_eq!(split_args(r#"a"b c"d"#), None);
    assert_eq!(split_args(r#"x"y z""#).unwrap(), ["xy z"]);
    assert_eq!(split_args(r#""\xZZ\q""#).unwrap(), ["xZZq"]);
    assert_eq!(split_args(r#""\a\b\r""#).unwrap(), ["\x07\x08\r"]);
    assert_eq!(split_args("\"\"").unwrap(), [""]);
    assert!(split_args("").unwrap().is_empty());
}

#[test]
fn rejects_unbalanced_quotes() {
    // Unclosed quotes and text glued after a closing quote are errors, as in Redis.
    for bad in [r#""abc"#, "'abc", r#""a"b"#, "'a'b", r#""ends with \""#] {
        assert_eq!(split_args(bad), None, "{bad}");
    }
}

#[test]
fn repr_round_trips() {
    // Command-line values are quoted then re-split; any byte must survive.
    for s in [
        "",
        "plain",
        "a b",
        "q\"uote",
        "back\\slash",
        "nl\n\r\t\x07\x08",
        "é\x01",
    ] {
        assert_eq!(split_args(&repr(s)).unwrap(), [s]);
    }
}

#[test]
fn invocation_shapes() {
    // Command-line grammar: file first, `--name value...`, inline values, bare --save, `-`.
    let inv = parse_invocation(&args(&["a.conf", "--port", "7000", "--bind", "x", "y"]));
    let inv = inv.unwrap();
    assert_eq!(inv.file.as_deref(), Some("a.conf"));
    assert_eq!(inv.lines, ["port \"7000\" ", "bind \"x\" \"y\" "]);
    let inv = parse_invocation(&args(&["--port 7000", "--save", "--hz", "5"])).unwrap();
    assert_eq!(inv.file, None);
    assert_eq!(inv.lines, ["port 7000 ", "save \"\" ", "hz \"5\" "]);
    let inv = parse_invocation(&args(&["--requirepass", "--weird", "--save"])).unwrap();
    assert_eq!(inv.lines, ["requirepass \"--weird\" ", "save \"\" "]);
    let inv = parse_invocation(&args(&["-", "--port", "1"])).unwrap();
    assert!(inv.stdin && inv.file.is_none());
    let inv = parse_invocation(&args(&["f.conf", "--port", "1", "-"])).unwrap();
    assert!(inv.stdin);
    assert!(parse_invocation(&[]).unwrap().lines.is_empty());
}

#[test]
fn version_and_help_are_distinct_errors() {
    // The caller tells these apart from real errors by exact value.
    for (a, want) in [
        ("-v", VERSION_REQUESTED),
        ("--version", VERSION_REQUESTED),
        ("-h", HELP_REQUESTED),
        ("--help", HELP_REQUESTED),
    ] {
        assert_eq!(load(&args(&[a])).err().as_deref(), Some(want));
    }
    assert!(help_text().contains("--port"));
}

#[test]
fn file_then_command_line_overrides() {
    // Command-line directives win over the file; directive names are case-insensitive.
    let text = "# comment\n\n  PORT 7000  \r\nhz 20\nloglevel warning\n";
    let loaded = load_file(text, &["--port", "7001", "--loglevel", "debug"]).unwrap();
    let cfg = loaded.config;
    assert_eq!(
        (cfg.port, cfg.hz, cfg.loglevel),
        (7001, 20, LogLevel::Debug)
    );
    assert!(cfg.config_file.is_some_and(|p| p.is_absolute()));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn last_occurrence_wins_and_bind_is_one_line() {
    // A later line replaces an earlier one; bind takes all its values from its last line.
    let cfg = load_file("port 1\nport 2\nbind a b\nbind c d e\n", &[])
        .unwrap()
        .config;
    assert_eq!(cfg.port, 2);
    assert_eq!(cfg.bind, ["c", "d", "e"]);
    assert_eq!(get(&cfg, "bind"), "c d e");
}

#[test]
fn seed_config_loads() {
    // The shipped seed configuration must load cleanly with the fields it sets.
    let text = "port 7001\ncluster-enabled yes\ncluster-config-file nodes.conf\n\
                cluster-node-timeout 3000\nappendonly yes\n";
    let loaded = load_file(text, &[]).unwrap();
    let cfg = loaded.config;
    assert!(cfg.cluster_enabled && cfg.appendonly);
    assert_eq!((cfg.port, cfg.cluster_node_timeout_ms), (7001, 3000));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn fatal_error_names_file_and_line() {
    // The start-up error has Redis' shape and points at the offending line.
    let dir = scratch();
    let file = write(&dir, "bad.conf", "port 7000\nport \"abc\"\n");
    let err = load(&args(&[&file])).err().unwrap();
    let want = format!(
        "*** FATAL CONFIG FILE ERROR (slotd) ***\n\
         Reading the configuration file {file}, at line 2\n\
         >>> 'port \"abc\"'\n\
         argument couldn't be parsed into an integer"
    );
    assert_eq!(err, want);
}

#[test]
fn command_line_errors_say_so() {
    // A bad option reports the command line and shows the value quoted as Redis does.
    let err = load_file("port 1\n", &["--hz", "5", "--port", "abc"])
        .err()
        .unwrap();
    assert!(err.contains("Reading the configuration from the command line, at option 2"));
    assert!(err.contains(">>> 'port \"abc\"'"));
    let err = load(&args(&["--foo", "bar"])).err().unwrap();
    assert!(err.ends_with(">>> 'foo \"bar\"'\nBad directive or wrong number of arguments"));
    let err = load(&args(&["--port", "1", "stray"])).err().unwrap();
    assert!(
        err.ends_with(">>> 'port \"1\" \"stray\"'\nwrong number of arguments"),
        "{err}"
    );
}

#[test]
fn redis_reason_texts() {
    // Each mistake gets the exact reason redis-server 7.0 prints for it.
    let cases = [
        ("foo bar", "Bad directive or wrong number of arguments"),
        (
            "port 70000",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("port 1 2", "wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("port 07", "argument couldn't be parsed into an integer"),
        (
            "port 99999999999999999999",
            "argument couldn't be parsed into an integer",
        ),
        ("port \"abc", "Unbalanced quotes in configuration line"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        (
            "maxclients 0",
            "argument must be between 1 and 4294967295 inclusive",
        ),
        (
            "timeout -1",
            "argument must be between 0 and 2147483647 inclusive",
        ),
        (
            "tcp-keepalive -1",
            "argument must be between 0 and 2147483647 inclusive",
        ),
        (
            "tcp-backlog -1",
            "argument must be between 0 and 2147483647 inclusive",
        ),
        (
            "databases 0",
            "argument must be between 1 and 2147483647 inclusive",
        ),
        (
            "cluster-port 70000",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("proto-max-bulk-len 12xb", "argument must be a memory value"),
        (
            "proto-max-bulk-len 1",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            "client-query-buffer-limit 1kb",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            "loglevel loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        (
            "loglevel nothing",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        (
            "appendfsync sometimes",
            "argument(s) must be one of the following: everysec, always, no",
        ),
        (
            "appendfilename a/b",
            "appendfilename can't be a path, just a filename",
        ),
        (
            "appenddirname a/b",
            "appenddirname can't be a path, just a dirname",
        ),
        ("dir /nonexistent-slotd-dir", "No such file or directory"),
        ("save 10", "Invalid save parameters"),
        ("save abc 1", "Invalid save parameters"),
        ("save 0 0", "Invalid save parameters"),
        ("maxmemory -1", "argument must be a memory value"),
        ("maxmemory 1.5gb", "argument must be a memory value"),
        ("activerehashing maybe", "argument must be 'yes' or 'no'"),
        ("replicaof a", "wrong number of arguments"),
        ("slaveof 127.0.0.1 x", "Invalid master port"),
        (
            "rename-command",
            "Bad directive or wrong number of arguments",
        ),
        ("include", "Bad directive or wrong number of arguments"),
        (
            "sentinel monitor x",
            "sentinel directive while not in sentinel mode",
        ),
        (
            "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
            "Too many bind addresses specified.",
        ),
        (
            "server-threads 0",
            "argument must be 'auto' or an integer between 1 and 256 inclusive",
        ),
        (
            "server-threads 257",
            "argument must be 'auto' or an integer between 1 and 256 inclusive",
        ),
        (
            "server-cpus 3-1",
            "argument must be a list of CPUs like 0-3,6 (each 0..=4095)",
        ),
        (
            "server-cpus 0,,1",
            "argument must be a list of CPUs like 0-3,6 (each 0..=4095)",
        ),
        (
            "server-cpus 4096",
            "argument must be a list of CPUs like 0-3,6 (each 0..=4095)",
        ),
        ("server-cpus 1,0-2", "CPU 1 is listed more than once"),
        (
            "maxmemory-policy lots",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
             noeviction",
        ),
        (
            "client-output-buffer-limit foo 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "unixsocketperm 9",
            "argument couldn't be parsed as an octal number",
        ),
    ];
    for (line, reason) in cases {
        assert_eq!(reason_of(&format!("port 1\n{line}\n")), reason, "{line}");
        assert!(
            err_of(&format!("port 1\n{line}\n")).contains(", at line 2\n"),
            "{line}"
        );
    }
}

#[test]
fn memory_units() {
    // Redis' unit rules: k=1000, kb=1024, any case; no signs, dots or spaces.
    let cases = [
        ("0", Some(0)),
        ("1b", Some(1)),
        ("1k", Some(1000)),
        ("1KB", Some(1024)),
        ("2m", Some(2_000_000)),
        ("2Mb", Some(2 << 20)),
        ("3g", Some(3_000_000_000)),
        ("3gB", Some(3 << 30)),
        ("", Some(0)),
        ("kb", Some(0)),
        ("99999999999999999999", Some(u64::MAX)),
        ("1.5gb", None),
        ("-1", None),
        (" 1", None),
        ("1 kb", None),
        ("1tb", None),
        ("0x10", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_mem(text), want, "{text}");
    }
    let cfg = load_file(
        "proto-max-bulk-len 512mb\nclient-query-buffer-limit 2GB\n",
        &[],
    );
    let cfg = cfg.unwrap().config;
    assert_eq!(cfg.proto_max_bulk_len, 512 << 20);
    assert_eq!(
        get(&cfg, "client-query-buffer-limit"),
        (2u64 << 30).to_string()
    );
}

#[test]
fn strict_integers() {
    // Only plain decimal integers parse, as Redis' string2ll accepts them.
    for good in [
        "0",
        "7",
        "-7",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        assert!(parse_i64(good).is_some(), "{good}");
    }
    for bad in [
        "",
        "-",
        "+5",
        "05",
        "-0",
        " 5",
        "5 ",
        "5.0",
        "9223372036854775808",
    ] {
        assert_eq!(parse_i64(bad), None, "{bad}");
    }
}

#[test]
fn hz_is_clamped() {
    // Redis accepts any non-negative hz and keeps it within 1..=500.
    assert_eq!(load_file("hz 1000\n", &[]).unwrap().config.hz, 500);
    assert_eq!(load_file("hz 0\n", &[]).unwrap().config.hz, 1);
    let mut cfg = Config::default();
    set(&mut cfg, &[("hz", "0")]).unwrap();
    assert_eq!(get(&cfg, "hz"), "1");
}

#[test]
fn includes_follow_dir_and_nest() {
    // include resolves relative paths against the current dir (which `dir` moves) and
    // applies lines in place, so later lines still override.
    let dir = scratch();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir.join("sub"), "inner.conf", "hz 33\nport 5000\n");
    let main = format!("dir {}\ninclude sub/inner.conf\nport 5001\n", dir.display());
    let cfg = load_file(&main, &[]).unwrap().config;
    assert_eq!((cfg.hz, cfg.port), (33, 5001));
    assert_eq!(cfg.dir, dir);
    assert_eq!(get(&cfg, "dir"), dir.display().to_string());
}

#[test]
fn include_errors_name_the_included_file() {
    // An error inside an include points at that file and its own line number.
    let dir = scratch();
    let inner = write(&dir, "inner.conf", "# c\nhz x\n");
    let err = load_file(&format!("port 1\ninclude {inner}\n"), &[])
        .err()
        .unwrap();
    assert!(
        err.contains(&format!("file {inner}, at line 2\n>>> 'hz x'")),
        "{err}"
    );
    let err = load_file("include /nonexistent-slotd/x.conf\n", &[])
        .err()
        .unwrap();
    assert_eq!(
        err,
        "Fatal error, can't open config file '/nonexistent-slotd/x.conf': \
         No such file or directory"
    );
    let err = load(&args(&["/nonexistent-slotd/main.conf"]))
        .err()
        .unwrap();
    assert!(
        err.starts_with("Fatal error, can't open config file"),
        "{err}"
    );
}

#[test]
fn include_cycles_and_depth_are_refused() {
    // A file that includes itself (directly or not) must stop, not recurse forever.
    let dir = scratch();
    let a = dir.join("a.conf").display().to_string();
    let b = write(&dir, "b.conf", &format!("include {a}\n"));
    write(&dir, "a.conf", &format!("port 1\ninclude {b}\n"));
    let err = load(&args(&[&a])).err().unwrap();
    assert!(err.contains("include cycle"), "{err}");
    assert!(err.contains(&format!("Reading the configuration file {b}, at line 1")));
    for i in 0..20 {
        write(
            &dir,
            &format!("d{i}.conf"),
            &format!("include d{}.conf\n", i + 1),
        );
    }
    let main = format!("dir {}\ninclude d0.conf\n", dir.display());
    let err = load_file(&main, &[]).err().unwrap();
    assert!(err.contains("includes nested more than 16 deep"), "{err}");
}

#[test]
fn include_globs() {
    // Wildcards in the last component include every match in sorted order; none is fine.
    let dir = scratch();
    write(&dir, "10-a.conf", "hz 11\nport 1\n");
    write(&dir, "20-b.conf", "hz 22\n");
    write(&dir, "other.txt", "port x\n");
    let main = format!("include {}/*.conf\n", dir.display());
    let cfg = load_file(&main, &[]).unwrap().config;
    assert_eq!((cfg.hz, cfg.port), (22, 1));
    assert!(load_file(&format!("include {}/none*.conf\n", dir.display()), &[]).is_ok());
    let err = load_file("include /tmp/*/x.conf\n", &[]).err().unwrap();
    assert!(err.ends_with("include wildcards are supported in the file name only"));
}

#[test]
fn notify_keyspace_events_takes_redis_classes_and_shows_them_canonically() {
    // Guards part C: the setting is accepted (it used to be refused) and CONFIG GET answers
    // Redis' canonical string; a letter outside the alphabet fails with Redis' reason.
    let cfg = load_file("notify-keyspace-events KEA\n", &[])
        .unwrap()
        .config;
    assert_eq!(get(&cfg, "notify-keyspace-events"), "AKE");
    let mut cfg = Config::default();
    set(&mut cfg, &[("notify-keyspace-events", "Elg$K")]).unwrap();
    assert_eq!(get(&cfg, "notify-keyspace-events"), "g$lKE");
    let e = set(&mut cfg, &[("notify-keyspace-events", "KQ")]).unwrap_err();
    assert_eq!(
        e,
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
         Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
    assert_eq!(get(&cfg, "notify-keyspace-events"), "g$lKE");
}

#[test]
fn refused_values_fail_with_file_and_line() {
    // A refused directive takes only its default; anything else names file, line, reason.
    let err = err_of("port 7000\nmaxmemory-clients 1gb\n");
    assert!(err.contains("at line 2"), "{err}");
    assert!(err.contains(">>> 'maxmemory-clients 1gb'"), "{err}");
    assert!(err.ends_with(
        "'maxmemory-clients' is not supported by slotd: client memory eviction is not \
         implemented yet; only 0 is accepted"
    ));
    // The latency monitor is built (issue 17): a threshold loads.
    assert!(load_file("latency-monitor-threshold 100\n", &[]).is_ok());
    for bad in [
        "tls-port 6380",
        "aclfile /etc/users.acl",
        "user alice on >pw ~* +@all",
        "loadmodule /x.so",
        "hash-max-ziplist-entries 1024",
        "syslog-enabled yes",
    ] {
        let reason = reason_of(&format!("{bad}\n"));
        assert!(
            reason.contains("is not supported by slotd"),
            "{bad}: {reason}"
        );
    }
    // Defaults (in any spelling Redis accepts) stay accepted, so stock redis.conf files load.
    let ok = "maxmemory-clients 0\nnotify-keyspace-events \"\"\ntls-port 0\nsupervised no\n\
              latency-monitor-threshold 0\nhash-max-ziplist-entries 512\nunixsocket \"\"\n";
    assert!(load_file(ok, &[]).is_ok());
    let mut cfg = Config::default();
    let e = set(&mut cfg, &[("maxmemory-clients", "1kb")]).unwrap_err();
    assert!(e.starts_with(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - \
         'maxmemory-clients' is not supported by slotd"
    ));
    assert_eq!(get(&cfg, "maxmemory-clients"), "0");
}

#[test]
fn maxmemory_and_eviction_settings_are_enforced() {
    // Once refused (only 0 / noeviction); now every value Redis takes loads and sets
    // (keyspace::evict's tests read them back as eviction settings).
    let cfg = load_file(
        "maxmemory 1gb\nmaxmemory-policy allkeys-LFU\nmaxmemory-samples 10\n\
         maxmemory-eviction-tenacity 20\nlfu-log-factor 3\nlfu-decay-time 0\n\
         replica-ignore-maxmemory no\n",
        &[],
    )
    .unwrap()
    .config;
    assert_eq!(get(&cfg, "maxmemory"), "1073741824");
    assert_eq!(get(&cfg, "maxmemory-policy"), "allkeys-lfu");
    assert_eq!(get(&cfg, "replica-ignore-maxmemory"), "no");
    let mut cfg = Config::default();
    set(
        &mut cfg,
        &[("maxmemory", "1kb"), ("maxmemory-policy", "volatile-ttl")],
    )
    .unwrap();
    assert_eq!(get(&cfg, "maxmemory"), "1024");
    assert_eq!(get(&cfg, "maxmemory-policy"), "volatile-ttl");
}

#[test]
fn no_effect_directives_are_stored_and_noted_once() {
    // Harmless directives load, show in CONFIG GET, and a changed one is noted once.
    let text = "activerehashing no\nactiverehashing no\nslaveof 10.0.0.1 6379\n\
                replicaof h 1\nlist-max-ziplist-entries 5\nio-threads 1\n";
    let loaded = load_file(text, &[]).unwrap();
    let w = &loaded.warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("directive 'activerehashing' has no effect in slotd: "));
    let cfg = &loaded.config;
    assert_eq!(get(cfg, "slaveof"), "h 1");
    assert_eq!(get(cfg, "replicaof"), "h 1");
    assert_eq!(get(cfg, "activerehashing"), "no");
    assert!(get_params(cfg, &[b"list-max-ziplist-entries"]).is_empty());
    assert!(get_params(cfg, &[b"rename-command"]).is_empty());
}

#[test]
fn numeric_ranges_match_redis() {
    // Redis 7.0's inclusive ranges (probed with CONFIG SET on redis-server 7.0.15).
    let mut cfg = Config::default();
    let range = |lo: &str, hi: &str| format!("argument must be between {lo} and {hi} inclusive");
    for (name, value, why) in [
        ("repl-timeout", "0", range("1", "2147483647")),
        ("repl-timeout", "-5", range("1", "2147483647")),
        ("repl-timeout", "99999999999", range("1", "2147483647")),
        ("repl-ping-replica-period", "0", range("1", "2147483647")),
        ("replica-priority", "-1", range("0", "2147483647")),
        ("cluster-migration-barrier", "-1", range("0", "2147483647")),
        (
            "auto-aof-rewrite-percentage",
            "-1",
            range("0", "2147483647"),
        ),
        ("active-expire-effort", "11", range("1", "10")),
        ("repl-backlog-size", "0", range("1", "9223372036854775807")),
        (
            "hash-max-listpack-value",
            "99999999999999999999",
            range("0", "9223372036854775807"),
        ),
    ] {
        let e = set(&mut cfg, &[(name, value)]).unwrap_err();
        assert!(e.ends_with(&why), "{name} {value}: {e}");
    }
    set(
        &mut cfg,
        &[("slowlog-log-slower-than", "-1"), ("repl-timeout", "1")],
    )
    .unwrap();
    assert_eq!(get(&cfg, "repl-timeout"), "1");
}

#[test]
fn rename_command_lines_follow_redis() {
    // Checked in order against the table as renamed so far, with Redis' reason texts.
    let known = |n: &str| ["get", "set", "flushall", "debug"].contains(&n);
    let run = |text: &str| {
        let file = write(&scratch(), "r.conf", text);
        load_checked(&[file], Some(known))
    };
    let cfg =
        run("rename-command FLUSHALL \"\"\nrename-command DEBUG dbg\nrename-command dbg d2\n")
            .unwrap()
            .config;
    assert_eq!(
        cfg.renames,
        [
            ("flushall".to_string(), String::new()),
            ("debug".to_string(), "d2".to_string())
        ]
    );
    let reason = |text: &str| run(text).err().unwrap().lines().last().unwrap().to_string();
    assert_eq!(
        reason("rename-command FLUSHALL \"\"\nrename-command FLUSHALL x\n"),
        "No such command in rename-command"
    );
    assert_eq!(
        reason("rename-command nope x\n"),
        "No such command in rename-command"
    );
    assert_eq!(
        reason("rename-command get set\n"),
        "Target command name already exists"
    );
    assert_eq!(reason("rename-command get\n"), ERR_BAD_DIRECTIVE);
}

#[test]
fn save_points_work_without_the_aof() {
    // RDB snapshots exist now: save points are accepted with the AOF off, from files, the
    // command line and CONFIG SET, as in Redis.
    let cfg = load_file("save 900 1\nport 1\n", &[]).unwrap().config;
    assert_eq!(get(&cfg, "save"), "900 1");
    assert!(load_file("save 900 1\nappendonly yes\n", &[]).is_ok());
    assert!(load_file("save \"\"\n", &[]).is_ok());
    let mut cfg = Config::default();
    set(&mut cfg, &[("save", "10 1")]).unwrap();
    assert_eq!(get(&cfg, "save"), "10 1");
    set(&mut cfg, &[("appendonly", "yes"), ("save", "10 1")]).unwrap();
    set(&mut cfg, &[("appendonly", "no")]).unwrap();
    set(&mut cfg, &[("save", "")]).unwrap();
    assert_eq!(get(&cfg, "save"), "");
}

#[test]
fn reference_doc_matches_the_table() {
    // docs/config-reference.md carries the generated table verbatim; regenerate it with
    // `cargo test --lib reference_doc -- --ignored` after changing the table.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/config-reference.md"
    ))
    .expect("docs/config-reference.md");
    let table = reference_table();
    assert!(
        doc.contains(&table),
        "docs/config-reference.md is out of date: run \
         `cargo test --lib write_reference_doc -- --ignored`"
    );
}

#[test]
#[ignore = "writes docs/config-reference.md"]
fn write_reference_doc() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config-reference.md");
    let doc = std::fs::read_to_string(path).expect("docs/config-reference.md");
    let start = doc.find("| Directive |").expect("table start");
    let end = doc[start..]
        .find("\n\n")
        .map_or(doc.len(), |i| start + i + 1);
    let new = format!("{}{}{}", &doc[..start], reference_table(), &doc[end..]);
    std::fs::write(path, new).expect("write docs/config-reference.md");
}

#[test]
fn no_directive_is_silently_ignored() {
    // Every "no effect" entry carries its reason, and nothing about security, durability
    // or memory limits may be "no effect".
    for d in DIRECTIVES {
        assert!(!d.note().is_empty(), "{}", d.name);
        if matches!(d.status, Status::NoEffect(_)) {
            for word in [
                "tls",
                "acl",
                "auth",
                "pass",
                "maxmemory",
                "appendfsync",
                "protected",
            ] {
                let sensitive = d.name.contains(word);
                assert!(!sensitive, "{} must be enforced or refused", d.name);
            }
        }
    }
    let mut names: Vec<&str> = DIRECTIVES.iter().map(|d| d.name).collect();
    let sorted = names.clone();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names, sorted, "the table is sorted and has each name once");
}

#[test]
fn typed_defaults_match_the_table() {
    // The table's default column is what CONFIG GET shows for a fresh Config.
    let cfg = Config::default();
    for d in DIRECTIVES.iter().filter(|d| matches!(d.kind, Typed)) {
        if d.name != "dir" {
            assert_eq!(
                get_typed(&cfg, d.name).as_deref(),
                Some(d.default),
                "{}",
                d.name
            );
        }
    }
}

#[test]
fn save_lines_add_up_and_empty_clears() {
    // The first save line replaces the default schedule, later ones append, "" clears.
    let get_save = |text: &str| get(&load_file(text, &[]).unwrap().config, "save");
    // Redis' default schedule when no line says otherwise.
    assert_eq!(get_save(""), "3600 1 300 100 60 10000");
    assert_eq!(
        get_save("appendonly yes\nsave 100 1\nsave 200 2 300 3\n"),
        "100 1 200 2 300 3"
    );
    assert_eq!(get_save("appendonly yes\nsave \"\"\nsave 5 5\n"), "5 5");
    assert_eq!(get_save("save 1 1\nsave \"\"\n"), "");
    let cfg = load_file("", &["--save"]).unwrap().config;
    assert_eq!(get(&cfg, "save"), "");
    let cfg = load_file("appendonly yes\nsave 1 1\n", &["--save", "9 9"])
        .unwrap()
        .config;
    assert_eq!(get(&cfg, "save"), "1 1 9 9");
    let cfg = load_file("bind \"127.0.0.1 ::1\"\n", &[]).unwrap().config;
    assert_eq!(cfg.bind, ["127.0.0.1", "::1"]);
}

#[test]
fn threads_and_cpus() {
    // slotd's own directives: auto/N threads and a CPU list kept in order.
    let cfg = load_file("server-threads auto\nserver-cpus 0-3,6\n", &[])
        .unwrap()
        .config;
    assert_eq!(cfg.server_threads, 0);
    assert_eq!(cfg.server_cpus.as_deref(), Some(&[0, 1, 2, 3, 6][..]));
    assert_eq!(get(&cfg, "server-cpus"), "0-3,6");
    assert_eq!(get(&cfg, "server-threads"), "auto");
    let cfg = load_file("server-threads 8\nserver-cpus \"\"\n", &[])
        .unwrap()
        .config;
    assert_eq!((cfg.server_threads, cfg.server_cpus), (8, None));
}

#[test]
fn service_settings_load() {
    // Guards the service directives that used to be refused: unixsocket, unixsocketperm and
    // every supervised mode load and read back as Redis shows them.
    let cfg = load_file(
        "unixsocket /tmp/x.sock\nunixsocketperm 0770\nsupervised systemd\n",
        &[],
    )
    .expect("loads")
    .config;
    assert_eq!(get(&cfg, "unixsocket"), "/tmp/x.sock");
    assert_eq!(get(&cfg, "unixsocketperm"), "770");
    assert_eq!(get(&cfg, "supervised"), "systemd");
    for mode in ["upstart", "auto", "no"] {
        let cfg = load_file(&format!("supervised {mode}\n"), &[])
            .expect("loads")
            .config;
        assert_eq!(get(&cfg, "supervised"), mode);
    }
}

#[test]
fn pidfile_requirepass_and_strings() {
    // Empty strings mean "none" for pidfile and requirepass; CONFIG GET shows "".
    let cfg = load_file("pidfile /tmp/x.pid\nrequirepass \"s e\"\n", &[])
        .unwrap()
        .config;
    assert_eq!(cfg.pidfile.as_deref(), Some(Path::new("/tmp/x.pid")));
    assert_eq!(cfg.requirepass.as_deref(), Some(&b"s e"[..]));
    let cfg = load_file("pidfile \"\"\nrequirepass ''\n", &[])
        .unwrap()
        .config;
    assert_eq!((cfg.pidfile, cfg.requirepass), (None, None));
    assert_eq!(get(&Config::default(), "pidfile"), "");
}

#[test]
fn config_get_formats_match_redis() {
    // Default values as redis-server 7.0 prints them (checked against a live instance).
    let cfg = Config::default();
    let cases = [
        ("bind", "* -::*"),
        ("save", "3600 1 300 100 60 10000"),
        ("appendonly", "no"),
        ("appendfsync", "everysec"),
        ("proto-max-bulk-len", "536870912"),
        ("client-query-buffer-limit", "1073741824"),
        ("cluster-require-full-coverage", "yes"),
        ("loglevel", "notice"),
        ("maxmemory", "0"),
        (
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("proc-title-template", "{title} {listen-addr} {server-mode}"),
        ("list-max-listpack-size", "-2"),
        ("requirepass", ""),
    ];
    for (name, want) in cases {
        assert_eq!(get(&cfg, name), want, "{name}");
    }
    assert!(Path::new(&get(&cfg, "dir")).is_absolute());
}

#[test]
fn config_get_patterns() {
    // Globs are case-insensitive, several patterns give each name once, hidden names need
    // an exact lookup, and an exact lookup echoes the client's spelling.
    let cfg = Config::default();
    let all = get_params(&cfg, &[b"*"]);
    assert_eq!(all.len(), 194);
    assert!(!all.iter().any(|(n, _)| n == "key-load-delay"));
    assert_eq!(
        get_params(&cfg, &[b"KEY-LOAD-DELAY"]),
        [("KEY-LOAD-DELAY".into(), "0".into())]
    );
    assert_eq!(
        get_params(&cfg, &[b"PORT"]),
        [("PORT".into(), "6379".into())]
    );
    let both = get_params(&cfg, &[b"port", b"PORT", b"p*"]);
    assert_eq!(
        both.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("port"))
            .count(),
        1
    );
    assert_eq!(both.len(), 6);
    let names: Vec<String> = get_params(&cfg, &[b"Cluster-*-port", b"tcp-*"])
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        names,
        [
            "cluster-announce-bus-port",
            "cluster-announce-port",
            "cluster-announce-tls-port",
            "tcp-backlog",
            "tcp-keepalive"
        ]
    );
    assert!(get_params(&cfg, &[b"nosuch", b"zz*"]).is_empty());
    assert!(get_params(&cfg, &[]).is_empty());
}

#[test]
fn config_set_applies_and_formats() {
    // Runtime-settable parameters change the typed fields; units and case are accepted.
    let mut cfg = Config::default();
    set(
        &mut cfg,
        &[
            ("maxclients", "5"),
            ("PROTO-MAX-BULK-LEN", "2MB"),
            ("appendfsync", "ALWAYS"),
            ("appendonly", "Yes"),
            ("requirepass", "pw"),
            ("cluster-node-timeout", "5000"),
            ("maxmemory", "0kb"),
            ("save", "10 1 20 2"),
            ("client-output-buffer-limit", "replica 1mb 2 3"),
            ("slave-priority", "5"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.maxclients, 5);
    assert_eq!(cfg.proto_max_bulk_len, 2 << 20);
    assert_eq!(
        (cfg.appendfsync, cfg.appendonly),
        (AppendFsync::Always, true)
    );
    assert_eq!(cfg.requirepass.as_deref(), Some(&b"pw"[..]));
    assert_eq!(cfg.cluster_node_timeout_ms, 5000);
    assert_eq!(get(&cfg, "maxmemory"), "0");
    assert_eq!(get(&cfg, "save"), "10 1 20 2");
    assert_eq!(
        get(&cfg, "client-output-buffer-limit"),
        "normal 0 0 0 slave 1048576 2 3 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&cfg, "replica-priority"), "5");
    set(&mut cfg, &[("save", ""), ("requirepass", "")]).unwrap();
    assert_eq!(
        (get(&cfg, "save"), cfg.requirepass.clone()),
        (String::new(), None)
    );
}

#[test]
fn config_set_error_texts() {
    // Redis' exact CONFIG SET errors, including which problem is reported first.
    let fail = |arg: &str, why: &str| {
        format!("ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}")
    };
    let cases: &[(&[(&str, &str)], String)] = &[
        (&[("maxclients", "abc")], fail("maxclients", ERR_INT)),
        (
            &[("foo", "1")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into(),
        ),
        (
            &[("daemonize", "yes")],
            fail("daemonize", "can't set immutable config"),
        ),
        (
            &[("maxclients", "abc"), ("port", "1")],
            fail("port", "can't set immutable config"),
        ),
        (
            &[("foo", "1"), ("daemonize", "yes")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into(),
        ),
        (
            &[("dbfilename", "x")],
            fail("dbfilename", "can't set protected config"),
        ),
        (
            &[("timeout", "1"), ("TIMEOUT", "2")],
            fail("TIMEOUT", "duplicate parameter"),
        ),
        (
            &[("maxclients", "0")],
            fail("maxclients", &range_error(1, u32::MAX)),
        ),
        (&[("timeout", " 5")], fail("timeout", ERR_INT)),
        (&[("appendonly", "1")], fail("appendonly", ERR_BOOL)),
        (&[("maxmemory", "5.")], fail("maxmemory", ERR_MEM)),
        (&[("save", "  ")], fail("save", ERR_SAVE)),
        (&[("save", "1 2 3")], fail("save", ERR_SAVE)),
        (
            &[("loglevel", "notice x")],
            fail("loglevel", &enum_error(LOGLEVELS)),
        ),
        (
            &[("proto-max-bulk-len", "1kb")],
            fail("proto-max-bulk-len", &range_error(1 << 20, i64::MAX)),
        ),
        (
            &[("shutdown-on-sigint", "save nosave")],
            fail(
                "shutdown-on-sigint",
                "shutdown options SAVE and NOSAVE can't be used simultaneously",
            ),
        ),
        (
            &[("maxmemory-clients", "500%")],
            fail(
                "maxmemory-clients",
                "percentage argument must be less or equal to 100",
            ),
        ),
        (
            &[("slaveof", "a 1")],
            fail("slaveof", "can't set immutable config"),
        ),
        (
            &[("server-threads", "2")],
            fail("server-threads", "can't set immutable config"),
        ),
        (
            &[("list-max-ziplist-entries", "1")],
            "ERR Unknown option or number of arguments for CONFIG SET - \
             'list-max-ziplist-entries'"
                .into(),
        ),
        (
            &[("rename-command", "a b")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'rename-command'".into(),
        ),
    ];
    for (pairs, want) in cases {
        let mut cfg = Config::default();
        assert_eq!(set(&mut cfg, pairs).err().as_ref(), Some(want), "{pairs:?}");
    }
}

#[test]
fn config_set_is_all_or_nothing() {
    // A bad value late in the list leaves every earlier parameter untouched.
    let mut cfg = Config::default();
    let err = set(
        &mut cfg,
        &[("maxclients", "7"), ("hz", "50"), ("timeout", "x")],
    );
    assert!(err.is_err());
    assert_eq!((cfg.maxclients, cfg.hz, cfg.timeout_s), (10000, 10, 0));
    set(
        &mut cfg,
        &[("maxclients", "7"), ("hz", "50"), ("timeout", "9")],
    )
    .unwrap();
    assert_eq!((cfg.maxclients, cfg.hz, cfg.timeout_s), (7, 50, 9));
}

#[test]
fn shipped_examples_load() {
    // Every file in conf/ must load without errors or warnings.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path().display().to_string();
        let loaded = load(&args(&[&path])).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(loaded.warnings.is_empty(), "{path}: {:?}", loaded.warnings);
    }
}

#[test]
fn stdin_flag_position() {
    // `-` means stdin only first or last, anywhere else it is a plain value.
    let inv = parse_invocation(&args(&["--port", "-", "--hz", "1"])).unwrap();
    assert!(!inv.stdin);
    assert_eq!(inv.lines[0], "port \"-\" ");
}

#[test]
fn min_replicas_range_and_texts() {
    // Guards Redis' bounds and reason texts for both settings.
    assert_eq!(min_replicas_value("3"), Ok("3".into()));
    assert_eq!(min_replicas_value("0"), Ok("0".into()));
    let range = "argument must be between 0 and 2147483647 inclusive";
    assert_eq!(min_replicas_value("-1"), Err(range.into()));
    assert_eq!(min_replicas_value("2147483648"), Err(range.into()));
    let int = "argument couldn't be parsed into an integer";
    assert_eq!(min_replicas_value("x"), Err(int.into()));
}
