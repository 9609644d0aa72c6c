//! The compact keyspace (one block per key, short strings inline): every move of a string
//! between the inline and the boxed form, and between TTL and no TTL, answers as Redis does.

use crate::compare::same_replies;

fn run(script: &[String]) {
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same_replies(&refs);
}

#[test]
fn strings_across_the_inline_limit_match_redis() {
    // Guards APPEND/SETRANGE/INCR/SET on both sides of the 255-byte inline limit: contents,
    // lengths and OBJECT ENCODING must be Redis' whatever form the value is kept in.
    let a255 = "a".repeat(255);
    let b300 = "b".repeat(300);
    let k300 = format!("k{}", "y".repeat(299));
    let mut s: Vec<String> = vec![
        format!("SET s {a255}"),
        "OBJECT ENCODING s".into(),
        "STRLEN s".into(),
        "APPEND s b".into(),
        "OBJECT ENCODING s".into(),
        "GETRANGE s 250 260".into(),
        "SET s short".into(),
        "OBJECT ENCODING s".into(),
        "GET s".into(),
        format!("SET s {b300}"),
        "OBJECT ENCODING s".into(),
        "SET s 42".into(),
        "OBJECT ENCODING s".into(),
        "INCR s".into(),
        "OBJECT ENCODING s".into(),
        "APPEND s 7".into(),
        "OBJECT ENCODING s".into(),
        "INCRBY s 10".into(),
        "OBJECT ENCODING s".into(),
        "GET s".into(),
        "SET r hello".into(),
        "SETRANGE r 2 XY".into(),
        "OBJECT ENCODING r".into(),
        "SETRANGE r 300 z".into(),
        "STRLEN r".into(),
        "GETRANGE r 0 6".into(),
        format!("SET {} {}", "e".repeat(44), "f".repeat(44)),
        format!("OBJECT ENCODING {}", "e".repeat(44)),
        format!("SET g {}", "f".repeat(45)),
        "OBJECT ENCODING g".into(),
        "SET i 12345678901234567890".into(),
        "OBJECT ENCODING i".into(),
        "SET i -9223372036854775808".into(),
        "OBJECT ENCODING i".into(),
        format!("SET {k300} v"),
        format!("GET {k300}"),
        format!("APPEND {k300} {b300}"),
        format!("STRLEN {k300}"),
        "LPUSH s x".into(),
        "OBJECT ENCODING s".into(),
        "GET s".into(),
        "DEL s".into(),
        "RPUSH s a b".into(),
        "SET s 12".into(),
        "TYPE s".into(),
        "OBJECT ENCODING s".into(),
        "APPEND new abc".into(),
        "OBJECT ENCODING new".into(),
    ];
    for n in [1, 100, 254, 255, 256, 1000] {
        s.push(format!("APPEND grow {}", "c".repeat(n)));
        s.push("STRLEN grow".into());
        s.push("OBJECT ENCODING grow".into());
    }
    run(&s);
}

#[test]
fn ttl_moves_match_redis() {
    // Guards the expiry section appearing and disappearing with every value form.
    let b300 = "b".repeat(300);
    run(&[
        "SET t x EX 100".into(),
        "TTL t".into(),
        format!("APPEND t {b300}"),
        "TTL t".into(),
        "OBJECT ENCODING t".into(),
        "PERSIST t".into(),
        "TTL t".into(),
        "STRLEN t".into(),
        "SET t short KEEPTTL".into(),
        "TTL t".into(),
        "EXPIRE t 50".into(),
        "TTL t".into(),
        "SET t v2 KEEPTTL".into(),
        "TTL t".into(),
        "INCR t".into(),
        "SET c 5 EX 100".into(),
        "INCR c".into(),
        "TTL c".into(),
        "SET t plain".into(),
        "TTL t".into(),
        "RPUSH l a".into(),
        "EXPIRE l 100".into(),
        "TTL l".into(),
        "PERSIST l".into(),
        "TTL l".into(),
        "SET l now-a-string EX 10".into(),
        "TTL l".into(),
        "GET l".into(),
    ]);
}
