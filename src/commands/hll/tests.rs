//! Family tests of the HyperLogLog commands through the in-process shard harness.

use crate::testkit::{Harness, Reply};

fn int(h: &mut Harness, line: &[&str]) -> i64 {
    match h.run(line) {
        Reply::Int(n) => n,
        other => panic!("{line:?}: {other:?}"),
    }
}

#[test]
fn pfadd_creates_and_counts() {
    // PFADD with no element creates the key; counts follow the elements added.
    let mut h = Harness::new();
    assert_eq!(int(&mut h, &["PFADD", "h"]), 1);
    assert_eq!(int(&mut h, &["PFADD", "h"]), 0);
    assert_eq!(int(&mut h, &["PFCOUNT", "h"]), 0);
    assert_eq!(int(&mut h, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(int(&mut h, &["PFADD", "h", "a"]), 0);
    assert_eq!(int(&mut h, &["PFCOUNT", "h"]), 3);
    assert_eq!(int(&mut h, &["PFCOUNT", "h", "nosuch"]), 3);
    assert_eq!(int(&mut h, &["PFCOUNT", "nosuch"]), 0);
}

#[test]
fn wrong_values_are_refused() {
    // Non-strings get the usual WRONGTYPE, strings that are not HLLs Redis' own WRONGTYPE.
    let mut h = Harness::new();
    h.run(&["SET", "s", "hello"]);
    h.run(&["LPUSH", "l", "x"]);
    let Reply::Error(e) = h.run(&["PFADD", "s", "a"]) else {
        panic!()
    };
    assert_eq!(e, "WRONGTYPE Key is not a valid HyperLogLog string value.");
    let Reply::Error(e) = h.run(&["PFCOUNT", "l"]) else {
        panic!()
    };
    assert!(e.starts_with("WRONGTYPE Operation"), "{e}");
}

#[test]
fn pfmerge_and_debug() {
    // PFMERGE unions registers; PFDEBUG reports and converts the encoding.
    let mut h = Harness::new();
    h.run(&["PFADD", "a", "1", "2", "3"]);
    h.run(&["PFADD", "b", "3", "4"]);
    assert_eq!(
        h.run(&["PFMERGE", "c", "a", "b"]),
        Reply::Simple("OK".into())
    );
    assert_eq!(int(&mut h, &["PFCOUNT", "c"]), 4);
    assert_eq!(
        h.run(&["PFDEBUG", "ENCODING", "c"]),
        Reply::Simple("sparse".into())
    );
    assert_eq!(int(&mut h, &["PFDEBUG", "TODENSE", "c"]), 1);
    assert_eq!(int(&mut h, &["PFDEBUG", "TODENSE", "c"]), 0);
    assert_eq!(
        h.run(&["PFDEBUG", "ENCODING", "c"]),
        Reply::Simple("dense".into())
    );
    assert_eq!(int(&mut h, &["PFCOUNT", "c"]), 4);
    let Reply::Error(e) = h.run(&["PFDEBUG", "nope", "c"]) else {
        panic!()
    };
    assert_eq!(e, "ERR Unknown PFDEBUG subcommand 'nope'");
}
