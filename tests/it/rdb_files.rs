//! RDB file format checks at the binary level (issue 16, part A; the reader and writer have
//! their own tests beside the code in src/rdb/file/): files slotd saves with the settings that
//! change the bytes (`rdbcompression no`, `rdbchecksum no`) pass `redis-check-rdb` and load into
//! redis-server 7.0 with every key's DEBUG DIGEST-VALUE and PEXPIRETIME equal.

use crate::common::{free_port, test_dir, Server};
use crate::rdb_load::{digests, fill_every_type, redis_in};

#[test]
fn uncompressed_unchecksummed_saves_load_in_redis() {
    // Guards the byte-changing save settings end to end: plain strings and listpacks instead of
    // LZF, and a zero checksum, in a file of three shards that Redis' tools and loader accept.
    let dir = test_dir("rdbfiles-plain");
    let args = [
        "--server-threads",
        "3",
        "--enable-debug-command",
        "yes",
        "--save",
        "",
        "--rdbcompression",
        "no",
        "--rdbchecksum",
        "no",
    ];
    let s = Server::start_in(free_port(), dir.clone(), &args).expect("slotd starts");
    let mut c = s.client();
    fill_every_type(&mut c);
    let want = digests(&mut c);
    assert_eq!(s.cli(&["save"]).trim(), "OK");
    let file = dir.join("dump.rdb");
    let bytes = std::fs::read(&file).expect("dump.rdb");
    assert_eq!(
        &bytes[bytes.len() - 8..],
        &[0u8; 8],
        "rdbchecksum no writes 0"
    );
    let check = std::process::Command::new("redis-check-rdb")
        .arg(&file)
        .output()
        .expect("redis-check-rdb is installed");
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
    let rdir = test_dir("rdbfiles-plain-redis");
    std::fs::copy(&file, rdir.join("dump.rdb")).expect("copy");
    let r = redis_in(&rdir, "rdbfiles-plain-redis", &[]);
    assert_eq!(digests(&mut r.client()), want);
    drop(r);
    drop(s);
    let _ = std::fs::remove_dir_all(&rdir);
    let _ = std::fs::remove_dir_all(&dir);
}
