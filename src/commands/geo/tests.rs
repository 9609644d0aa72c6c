//! Unit tests of the geo family: number formatting, then family tests through the harness.

use super::*;

#[test]
fn coordinates_print_as_redis_human_long_double() {
    // %.17Lf without trailing zeros; a whole number loses its point; -0 is 0.
    let mut buf = [0u8; 64];
    assert_eq!(
        coord_text(13.361389338970184, &mut buf),
        b"13.36138933897018433"
    );
    assert_eq!(coord_text(180.0, &mut buf), b"180");
    assert_eq!(coord_text(-0.0, &mut buf), b"0");
    assert_eq!(coord_text(85.05112878, &mut buf), b"85.0511287799999991");
}

#[test]
fn distances_print_as_redis_fixed_point() {
    // Redis rounds the distance times 10^4 (half to even), not the exact decimal expansion:
    // 30697827.88915 ft prints ...8892 where %.4f gives ...8891; ties go to even; zero and
    // tiny values print with a leading 0; NaN prints llrint's out-of-range value.
    let mut buf = [0u8; 32];
    let d = 9356697.94061292 / 0.3048;
    assert_eq!(distance_text(d, &mut buf), b"30697827.8892");
    assert_eq!(distance_text(0.03125, &mut buf), b"0.0312");
    assert_eq!(distance_text(0.09375, &mut buf), b"0.0938");
    assert_eq!(distance_text(0.0, &mut buf), b"0.0000");
    assert_eq!(distance_text(0.0005, &mut buf), b"0.0005");
    assert_eq!(distance_text(166274.15156960033, &mut buf), b"166274.1516");
    assert_eq!(distance_text(f64::NAN, &mut buf), b"-922337203685477.5808");
}

// Family tests through the in-process harness.

use crate::testkit::{Harness, Reply};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

#[test]
fn geoadd_is_journaled_as_the_zadd_it_ran() {
    // Redis 7.0 propagates GEOADD as ZADD with the computed scores and the options as
    // typed; a GEOADD that changes nothing leaves no record.
    let mut h = Harness::new();
    h.shard.journal.enabled = true;
    h.shard.journal.take();
    assert_eq!(
        h.run(&["GEOADD", "g", "ch", "13.361389", "38.115556", "Palermo"]),
        Reply::Int(1)
    );
    let text = String::from_utf8_lossy(&h.shard.journal.take()).into_owned();
    assert!(
        text.ends_with("*5\r\n$4\r\nzadd\r\n$1\r\ng\r\n$2\r\nch\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo\r\n"),
        "{text:?}"
    );
    assert_eq!(
        h.run(&["GEOADD", "g", "NX", "1", "2", "Palermo"]),
        Reply::Int(0)
    );
    assert!(h.shard.journal.take().is_empty());
}

#[test]
fn reads_and_searches_through_the_harness() {
    // GEOPOS, GEOHASH, GEODIST and a sorted GEOSEARCH answer Redis' values; the STORE form
    // stores the members with their geohash scores.
    let mut h = Harness::new();
    let add = "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania";
    h.run(&add.split(' ').collect::<Vec<_>>());
    assert_eq!(
        h.run(&["GEOPOS", "g", "Palermo", "x"]),
        Reply::Array(vec![
            Reply::Array(vec![b("13.36138933897018433"), b("38.11555639549629859")]),
            Reply::Nil,
        ])
    );
    assert_eq!(
        h.run(&["GEOHASH", "g", "Catania"]),
        Reply::Array(vec![b("sqdtr74hyu0")])
    );
    assert_eq!(
        h.run(&["GEODIST", "g", "Palermo", "Catania"]),
        b("166274.1516")
    );
    assert_eq!(
        h.run(&[
            "GEOSEARCH",
            "g",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "DESC"
        ]),
        Reply::Array(vec![b("Palermo"), b("Catania")])
    );
    assert_eq!(
        h.run(&["GEORADIUS", "g", "15", "37", "100", "km", "STORE", "d"]),
        Reply::Int(1)
    );
    assert_eq!(h.run(&["ZSCORE", "d", "Catania"]), b("3479447370796909"));
}

#[test]
fn option_conflicts_answer_redis_texts() {
    // The checks made once every option is read, in Redis' order.
    let mut h = Harness::new();
    h.run(&["GEOADD", "g", "1", "2", "m"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "GEOSEARCHSTORE",
                "d",
                "g",
                "FROMMEMBER",
                "m",
                "BYRADIUS",
                "1",
                "m",
                "WITHDIST",
            ],
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &["GEOSEARCH", "g", "BYRADIUS", "1", "m", "ASC", "DESC"],
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH",
        ),
        (
            &[
                "geosearch",
                "g",
                "FROMMEMBER",
                "m",
                "ASC",
                "WITHDIST",
                "DESC",
            ],
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch",
        ),
        (
            &["GEORADIUS", "g", "1", "2", "3", "m", "ANY"],
            "ERR the ANY argument requires COUNT argument",
        ),
        (
            &["GEORADIUS", "g", "1", "2", "3", "m", "COUNT", "0"],
            "ERR COUNT must be > 0",
        ),
    ];
    for (argv, text) in cases {
        assert_eq!(h.run(argv), Reply::err(text), "{argv:?}");
    }
}
