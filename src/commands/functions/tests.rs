use super::*;

fn lib(name: &str, functions: &[&str]) -> Library {
    Library {
        name: name.to_string(),
        engine: "LUA".to_string(),
        code: format!("#!lua name={name}\n-- {functions:?}")
            .into_bytes()
            .into(),
        functions: functions
            .iter()
            .map(|f| FunctionMeta {
                name: f.to_string(),
                description: None,
                flags: ScriptFlags::default(),
            })
            .collect(),
    }
}

fn set(libs: &[Library]) -> Libraries {
    libs.iter().map(|l| (l.name.clone(), l.clone())).collect()
}

fn text(e: ReplyError) -> String {
    let mut v = Vec::new();
    e.write_text(&mut v);
    String::from_utf8(v).unwrap()
}

fn names(libs: &Libraries) -> Vec<&str> {
    sorted(libs).iter().map(|l| l.name.as_str()).collect()
}

#[test]
fn header_errors_in_redis_order() {
    // Guards FUNCTION LOAD's metadata checks (texts and order as redis-server 7.0.15 answers).
    let e = |code: &str| text(library_name(code.as_bytes()).unwrap_err());
    assert_eq!(e("return 1"), "ERR Missing library metadata");
    assert_eq!(e("#!lua name=a"), "ERR Invalid library metadata");
    assert_eq!(
        e("#!lua name=a b=c\n"),
        "ERR Invalid metadata value given: b=c"
    );
    assert_eq!(
        e("#!lua name=a NAME=b\n"),
        "ERR Invalid metadata value, name argument was given multiple times"
    );
    assert_eq!(e("#!lua\nx"), "ERR Library name was not given");
    assert_eq!(e("#!lua 'name=a\nx"), "ERR Invalid library metadata");
    let bad_name = "ERR Library names can only contain letters, numbers, or underscores(_) and \
                    must be at least one character long";
    assert_eq!(e("#!foo name=a-b\nx"), bad_name);
    assert_eq!(e("#!lua name=\nx"), bad_name);
    assert_eq!(e("#!foo name=a\nx"), "ERR Engine 'foo' not found");
    assert_eq!(library_name(b"#!LUA Name=lib_1 \nx").unwrap(), "lib_1");
}

#[test]
fn load_checks_names_and_function_clashes() {
    // Guards LOAD: an existing library needs REPLACE; functions clash across libraries
    // without case, but not with the library being replaced.
    let cur = set(&[lib("a", &["f1", "f2"])]);
    let load = |l: Library, replace| Change::Load { lib: l, replace };
    let e = apply(&cur, &load(lib("a", &["x"]), false)).unwrap_err();
    assert_eq!(text(e), "ERR Library 'a' already exists");
    let e = apply(&cur, &load(lib("b", &["F1"]), false)).unwrap_err();
    assert_eq!(text(e), "ERR Function F1 already exists");
    let next = apply(&cur, &load(lib("a", &["f1"]), true)).unwrap();
    assert_eq!(next["a"].functions.len(), 1);
    let next = apply(&cur, &load(lib("b", &["g"]), false)).unwrap();
    assert_eq!(names(&next), ["a", "b"]);
}

#[test]
fn delete_and_flush() {
    // Guards DELETE's "Library not found" (names are case-sensitive) and FLUSH.
    let cur = set(&[lib("a", &["f"]), lib("b", &["g"])]);
    let e = apply(&cur, &Change::Delete(b"A".to_vec())).unwrap_err();
    assert_eq!(text(e), "ERR Library not found");
    let next = apply(&cur, &Change::Delete(b"a".to_vec())).unwrap();
    assert_eq!(names(&next), ["b"]);
    assert!(apply(&cur, &Change::Flush).unwrap().is_empty());
}

#[test]
fn restore_policies() {
    // Guards RESTORE: APPEND refuses an existing name (no quotes, as Redis' join says it),
    // REPLACE swaps it but still refuses a clash with another library, FLUSH drops the rest,
    // and a payload clashing with itself fails as LOAD does.
    let cur = set(&[lib("a", &["f"]), lib("b", &["g"])]);
    let restore = |libs: Vec<Library>, policy| Change::Restore { libs, policy };
    let e = apply(&cur, &restore(vec![lib("a", &["h"])], Policy::Append)).unwrap_err();
    assert_eq!(text(e), "ERR Library a already exists");
    let next = apply(&cur, &restore(vec![lib("a", &["h"])], Policy::Replace)).unwrap();
    assert_eq!(next["a"].functions[0].name, "h");
    let e = apply(&cur, &restore(vec![lib("a", &["G"])], Policy::Replace)).unwrap_err();
    assert_eq!(text(e), "ERR Function G already exists");
    let next = apply(&cur, &restore(vec![lib("c", &["f"])], Policy::Flush)).unwrap();
    assert_eq!(names(&next), ["c"]);
    let twice = vec![lib("c", &["x"]), lib("c", &["y"])];
    let e = apply(&cur, &restore(twice, Policy::Flush)).unwrap_err();
    assert_eq!(text(e), "ERR Library 'c' already exists");
    let clash = vec![lib("c", &["x"]), lib("d", &["X"])];
    let e = apply(&cur, &restore(clash, Policy::Flush)).unwrap_err();
    assert_eq!(text(e), "ERR Function X already exists");
}

#[test]
fn dump_payload_reads_back() {
    // Guards the DUMP framing: FUNCTION2 records with the code, version 10 and the CRC; an
    // empty set is the footer alone; other opcodes and damage get Redis' errors.
    let libs = set(&[lib("b", &["g"]), lib("a", &["f"])]);
    for compress in [false, true] {
        let p = dump_payload(&libs, compress);
        let codes = crate::rdb::function_codes(&p).unwrap();
        assert_eq!(
            codes,
            vec![libs["a"].code.to_vec(), libs["b"].code.to_vec()]
        );
    }
    let empty = dump_payload(&Libraries::new(), true);
    assert_eq!(empty.len(), crate::rdb::FOOTER_BYTES);
    assert_eq!(crate::rdb::function_codes(&empty).unwrap().len(), 0);
    let mut bad = dump_payload(&libs, false);
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = crate::rdb::function_codes(&bad).unwrap_err();
    assert_eq!(e, "DUMP payload version or checksum are wrong");
    let mut other = vec![0u8, 1, b'x'];
    crate::rdb::seal(&mut other);
    let e = crate::rdb::function_codes(&other).unwrap_err();
    assert_eq!(e, "given type is not a function");
    let mut short = vec![crate::rdb::OPCODE_FUNCTION2, 60, b'x'];
    crate::rdb::seal(&mut short);
    let e = crate::rdb::function_codes(&short).unwrap_err();
    assert_eq!(e, "Failed loading library payload");
}

#[test]
fn a_redis_payload_reads_and_matches() {
    // Guards compatibility with redis-server 7.0.15: its FUNCTION DUMP of one library (code
    // LZF-compressed) reads back to the code, and slotd dumps the very same bytes.
    let code = b"#!lua name=zz\nredis.register_function('zf', function() return \
                 redis.call('ping') end)";
    let hex = "f5c3405040551f23216c7561206e616d653d7a7a0a72656469732e72656769737465725f66756e0b\
               6374696f6e28277a66272c20e0000e07292072657475726e2006402f1063616c6c282770696e6727\
               2920656e64290a0055a15f6d560bb685";
    let p: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(crate::rdb::function_codes(&p).unwrap(), vec![code.to_vec()]);
    let mut l = lib("zz", &["zf"]);
    l.code = code.to_vec().into();
    assert_eq!(dump_payload(&set(&[l]), true), p);
}

#[test]
fn find_function_ignores_case() {
    // Guards FCALL's lookup: function names match without case, as in Redis.
    let libs = set(&[lib("a", &["MyFunc"])]);
    assert_eq!(find_function(&libs, b"myfunc").unwrap().1.name, "MyFunc");
    assert!(find_function(&libs, b"other").is_none());
}

#[test]
fn a_change_waits_for_no_busy_shard_0() {
    // Guards the changes' -BUSY: a client on shard 1 changing libraries while a function holds
    // shard 0 past the threshold gets shard 0's refusal instead of waiting for the script.
    use std::sync::atomic::Ordering::Relaxed;
    let global = crate::global::Global::new(crate::config::Config::default(), 2, None);
    let ctl = &global.script_runs[0];
    ctl.running.store(true, Relaxed);
    ctl.busy.store(true, Relaxed);
    ctl.is_function.store(true, Relaxed);
    let mut sh = Shard::new(1, 2, global);
    let client = sh.clients.insert(crate::shard::Client {
        id: 1,
        authenticated: true,
        ..Default::default()
    });
    let mut h = crate::testkit::Harness {
        shard: sh,
        client,
        now_ms: 0,
        proto: crate::resp::Proto::Resp2,
    };
    let code = b"#!lua name=x\nredis.register_function('f', function() return 1 end)";
    for argv in [
        &[&b"FUNCTION"[..], b"LOAD", code][..],
        &[b"FUNCTION", b"DELETE", b"x"],
        &[b"FUNCTION", b"FLUSH"],
        &[b"FUNCTION", b"RESTORE", b"payload"],
    ] {
        let reply = h.raw_line(client, argv, crate::resp::Proto::Resp2);
        let want = format!("-{}\r\n", crate::commands::busy::BUSY_FUNCTION);
        assert_eq!(String::from_utf8_lossy(&reply), want);
    }
}
