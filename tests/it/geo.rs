//! The geo commands side by side with Debian's redis-server 7.0: a few hundred seeded random
//! points (the poles' edge and the antimeridian included) searched every way in RESP2 and
//! RESP3, every error text, equal distances in Redis' sort order, the STORE forms (across
//! shards too), COMMAND INFO and key extraction; then slotd alone: the journal forms across
//! an AOF restart, and CROSSSLOT in cluster mode. Comparisons skip (with a message) only
//! when redis-server is not installed.

use crate::common::{cmd, free_port, Raw, RedisServer as Redis, Server};
use crate::compare::read_reply;
use std::path::PathBuf;

/// A redis-server and a slotd driven with the same requests.
struct Pair {
    redis: Redis,
    slotd: Server,
    a: Raw,
    b: Raw,
}

impl Pair {
    fn start(tag: &str, extra: &[&str]) -> Option<Pair> {
        let Some(redis) = Redis::start(tag) else {
            eprintln!("redis-server not installed: comparison skipped");
            return None;
        };
        let slotd = Server::start(extra);
        let (a, b) = (Raw::connect(redis.port), slotd.raw());
        Some(Pair { redis, slotd, a, b })
    }

    /// Sends `args` to both; asserts byte-equal replies.
    fn check(&mut self, args: &[&[u8]]) {
        let req = cmd(args);
        self.a.send(&req);
        self.b.send(&req);
        let (want, got) = (read_reply(&mut self.a), read_reply(&mut self.b));
        let line: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "slotd vs redis for `{}`",
            line.join(" ")
        );
    }

    /// `check` of a line split on spaces.
    fn line(&mut self, line: &str) {
        let parts: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        self.check(&parts);
    }

    fn strings(&mut self, args: &[String]) {
        let parts: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.check(&parts);
    }

    /// Switches both connections to RESP `proto` (the HELLO replies name the server: not
    /// compared).
    fn hello(&mut self, proto: &str) {
        let req = cmd(&[b"HELLO", proto.as_bytes()]);
        self.a.send(&req);
        self.b.send(&req);
        read_reply(&mut self.a);
        read_reply(&mut self.b);
    }
}

/// A small seeded generator (the points must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.next() as usize % v.len()]
    }
}

const LAT_MAX: f64 = 85.05112878;

/// 400 points over the whole valid area, every tenth on the antimeridian or the prime
/// meridian, every thirteenth on the poles' edge or the equator, in "g"; 200 points in one
/// square degree in "d".
fn add_points(p: &mut Pair, rng: &mut Lcg) {
    for i in 0..400 {
        let mut lon = rng.range(-180.0, 180.0);
        let mut lat = rng.range(-LAT_MAX, LAT_MAX);
        if i % 10 == 0 {
            lon = *rng.pick(&[-180.0, 180.0, 179.9999, -179.9999, 0.0]);
        }
        if i % 13 == 0 {
            lat = *rng.pick(&[LAT_MAX, -LAT_MAX, 85.0, -85.0, 0.0]);
        }
        p.strings(&[
            "GEOADD".into(),
            "g".into(),
            format!("{lon:.6}"),
            format!("{lat:.6}"),
            format!("m{i}"),
        ]);
    }
    for i in 0..200 {
        let (lon, lat) = (rng.range(13.0, 14.0), rng.range(37.0, 38.0));
        p.strings(&[
            "GEOADD".into(),
            "d".into(),
            format!("{lon:.5}"),
            format!("{lat:.5}"),
            format!("c{i}"),
        ]);
    }
}

/// A pair holding `add_points`' data from `seed`, and the generator to go on with.
fn with_points(tag: &str, seed: u64) -> Option<(Pair, Lcg)> {
    let mut p = Pair::start(tag, &[])?;
    let mut rng = Lcg(seed);
    add_points(&mut p, &mut rng);
    Some((p, rng))
}

/// Random WITH*, ASC/DESC and COUNT [ANY] options.
fn random_options(rng: &mut Lcg) -> Vec<String> {
    let mut o = Vec::new();
    for (word, chance) in [("WITHDIST", 0.5), ("WITHCOORD", 0.5), ("withhash", 0.3)] {
        if rng.unit() < chance {
            o.push(word.to_string());
        }
    }
    if rng.unit() < 0.5 {
        o.push(rng.pick(&["ASC", "desc"]).to_string());
    }
    if rng.unit() < 0.3 {
        o.push("COUNT".into());
        o.push(rng.pick(&[1, 3, 10, 1000]).to_string());
        if rng.unit() < 0.3 {
            o.push("ANY".into());
        }
    }
    o
}

/// One random search of each form around a random centre of `key`.
fn random_searches(p: &mut Pair, rng: &mut Lcg) {
    let units = ["m", "km", "ft", "mi", "KM"];
    let key = *rng.pick(&["g", "d"]);
    let (lon, lat) = if key == "g" {
        (rng.range(-180.0, 180.0), rng.range(-85.0, 85.0))
    } else {
        (rng.range(13.0, 14.0), rng.range(37.0, 38.0))
    };
    let meters = *rng.pick(&[0.0, 1.0, 100.0, 5000.0, 1e5, 1e6, 5e6, 2e7]);
    let unit = *rng.pick(&units);
    let r = if unit.eq_ignore_ascii_case("km") {
        meters / 1000.0
    } else {
        meters
    };
    let opts = random_options(rng);
    let (lon, lat) = (format!("{lon:.6}"), format!("{lat:.6}"));
    let mut line: Vec<String> = ["GEORADIUS", key, &lon, &lat, &r.to_string(), unit]
        .iter()
        .map(|s| s.to_string())
        .collect();
    line.extend(opts.iter().cloned());
    p.strings(&line);
    let h = r * rng.pick(&[0.5, 1.0, 2.0]);
    let mut line: Vec<String> = [
        "GEOSEARCH",
        key,
        "FROMLONLAT",
        &lon,
        &lat,
        "BYBOX",
        &r.to_string(),
        &h.to_string(),
        unit,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    line.extend(opts.iter().cloned());
    p.strings(&line);
    let member = if key == "g" {
        format!("m{}", rng.next() % 400)
    } else {
        format!("c{}", rng.next() % 200)
    };
    let mut line: Vec<String> = ["GEOSEARCH", key, "FROMMEMBER", &member, "BYRADIUS"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    line.extend([r.to_string(), unit.to_string()]);
    line.extend(opts);
    p.strings(&line);
}

#[test]
fn random_points_match_redis() {
    // Scores, positions, geohashes, distances and every search form agree to the byte on
    // seeded random data, in both protocols.
    let Some((mut p, mut rng)) = with_points("geo_random", 42) else {
        return;
    };
    p.line("ZRANGE g 0 -1 WITHSCORES");
    // Geo indexes are sorted sets: the same DUMP payloads, big (skiplist) and small.
    p.line("OBJECT ENCODING g");
    p.line("DUMP g");
    p.line("GEOADD small 13.361389 38.115556 Palermo 180 85.05112878 ne -180 -85.05112878 sw");
    p.line("DUMP small");
    for proto in ["2", "3"] {
        p.hello(proto);
        for i in (0..400).step_by(7) {
            p.strings(&["GEOPOS".into(), "g".into(), format!("m{i}"), "nope".into()]);
            p.strings(&[
                "GEOHASH".into(),
                "g".into(),
                format!("m{i}"),
                format!("m{}", i + 1),
            ]);
            let unit = rng.pick(&["m", "km", "ft", "mi", "MI"]).to_string();
            p.strings(&[
                "GEODIST".into(),
                "g".into(),
                format!("m{i}"),
                format!("m{}", i + 3),
                unit,
            ]);
        }
        for _ in 0..120 {
            random_searches(&mut p, &mut rng);
        }
    }
}

#[test]
fn geo_payloads_move_both_ways() {
    // A geo index DUMPed on redis-server RESTOREs on slotd and answers the same searches,
    // and slotd's payload RESTOREs on redis-server.
    let Some((mut p, _)) = with_points("geo_dump", 9) else {
        return;
    };
    let (mut redis, mut slotd) = (p.redis.client(), p.slotd.client());
    for (key, copy) in [("g", "g2"), ("d", "d2")] {
        let from_redis: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut redis).expect("dump");
        let from_slotd: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut slotd).expect("dump");
        assert_eq!(from_redis, from_slotd, "DUMP {key}");
        let ok: String = redis::cmd("RESTORE")
            .arg(copy)
            .arg(0)
            .arg(&from_redis)
            .query(&mut slotd)
            .expect("restore on slotd");
        assert_eq!(ok, "OK");
        let ok: String = redis::cmd("RESTORE")
            .arg(copy)
            .arg(0)
            .arg(&from_slotd)
            .query(&mut redis)
            .expect("restore on redis");
        assert_eq!(ok, "OK");
    }
    p.line("GEOSEARCH g2 FROMLONLAT 0 0 BYRADIUS 5000 km WITHCOORD WITHDIST ASC");
    p.line("GEOSEARCH d2 FROMLONLAT 13.5 37.5 BYBOX 40 30 km WITHCOORD WITHHASH DESC");
}

#[test]
fn same_meridian_distances_match_redis() {
    // Points on one meridian: Redis 7.0.15 measures them with the exact latitude formula,
    // whose last bits differ from the haversine's (STOREDIST scores show every bit), and
    // tests boxes latitude first.
    let Some(mut p) = Pair::start("geo_meridian", &[]) else {
        return;
    };
    let mut rng = Lcg(3);
    for i in 0..300 {
        let lat = rng.range(-80.0, 80.0);
        p.strings(&[
            "GEOADD".into(),
            "ln".into(),
            "12.5".into(),
            format!("{lat:.6}"),
            format!("p{i}"),
        ]);
    }
    p.line("GEOSEARCHSTORE sd ln FROMLONLAT 12.5 10 BYRADIUS 20000 km STOREDIST");
    p.line("ZRANGE sd 0 -1 WITHSCORES");
    p.line("GEOSEARCHSTORE sd ln FROMMEMBER p0 BYRADIUS 20000 km STOREDIST");
    p.line("ZRANGE sd 0 -1 WITHSCORES");
    for _ in 0..100 {
        let (lon, lat) = (rng.range(12.0, 13.0), rng.range(-80.0, 80.0));
        let w = rng.pick(&[1, 10, 100, 1000]);
        let h = rng.pick(&[1, 10, 100, 1000, 5000]);
        p.line(&format!(
            "GEOSEARCH ln FROMLONLAT {lon:.6} {lat:.6} BYBOX {w} {h} km WITHDIST ASC"
        ));
    }
}

/// Error texts and edge cases, in the order Redis checks them.
const EDGES: &[&str] = &[
    "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOADD g 200 10 y",
    "GEOADD g 10 86 y",
    "GEOADD g abc 10 y",
    "GEOADD g inf 1 x",
    "GEOADD g 1 nan x",
    "GEOADD g 180.0000001 0 x",
    "GEOADD g 0.0078125 200 x",
    "GEOADD g 1e300 0.0234375 x",
    "GEOADD g NX XX 1 2 z",
    "GEOADD g 1 2",
    "GEOADD g ch ch ch",
    "GEOADD g 1 2 3 4",
    "GEOADD g 1 2 m 3 4",
    "GEOADD g XX CH 1 2 Palermo",
    "GEOADD g nx ch 1 2 Palermo 3 4 new",
    "GEOADD g 13.361389 38.115556 Palermo",
    "SET str x",
    "GEOADD str 1 2 m",
    "GEOADD str 200 2 m",
    "GEODIST g Palermo Catania",
    "GEODIST g Palermo Catania km",
    "GEODIST g Palermo Catania mi x",
    "GEODIST g Palermo Catania yd",
    "GEODIST g Palermo Palermo",
    "GEODIST g Palermo nope",
    "GEODIST str a b x",
    "GEODIST str a b",
    "GEODIST nokey a b km",
    "GEOPOS g Palermo nope",
    "GEOPOS str a",
    "GEOPOS nokey a b",
    "GEOHASH g Palermo Catania nope",
    "GEOHASH str a",
    "GEOHASH nokey a",
    "GEOSEARCH g FROMLONLAT 15 37 ASC DESC",
    "GeoSearch g fromlonlat 15 37 asc desc",
    "GEOSEARCH g WITHDIST WITHCOORD ASC",
    "GEOSEARCH g BYRADIUS 1 km ASC",
    "GEOSEARCH g FROMMEMBER Palermo FROMLONLAT 1 2 BYRADIUS 1 km",
    "GEOSEARCH g FROMLONLAT 1 2 FROMMEMBER Palermo BYRADIUS 1 km",
    "GEOSEARCH g FROMMEMBER nope BYRADIUS 1 km",
    "GEOSEARCH nokey FROMMEMBER nope BYRADIUS 1 km",
    "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km",
    "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km STORE x",
    "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km STOREDIST",
    "GEOSEARCH g FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 1 km",
    "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km BYRADIUS 2 km",
    "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km COUNT 2 COUNT 1",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ANY",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT -3",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT x",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY WITHHASH",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX x 1 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 x km",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 -1 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX -1 x km",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1e9 1e9 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 yd",
    "GEOSEARCH g FROMLONLAT 15 237 BYBOX 400 400 km",
    "GEOSEARCH str FROMLONLAT 1 200 BYRADIUS 1 km",
    "GEOSEARCH nokey FROMMEMBER a BYRADIUS 1 km ANY",
    "GEOSEARCH nokey FROMMEMBER a FROMMEMBER b BYRADIUS 1 km",
    "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 KM WITHCOORD WITHDIST WITHHASH",
    "GEOSEARCH g a b c d e",
    "GEORADIUS g 15 37 200 km WITHDIST WITHHASH WITHCOORD",
    "GEORADIUS g 15 37 200 Mi WITHDIST ASC COUNT 1",
    "GEORADIUS g 15 37 200 fT WITHDIST",
    "GEORADIUS g 15 37 -1 km",
    "GEORADIUS g 15 37 1 kmx",
    "GEORADIUS g 15 37 x km",
    "GEORADIUS g 15 37 nan km",
    "GEORADIUS g 15 37 inf km",
    "GEORADIUS g 15 37 1e30 km",
    "GEORADIUS g 15 37 0 km",
    "GEORADIUS g 200 37 200 km",
    "GEORADIUS g 15 37 200 km ANY",
    "GEORADIUS g 15 37 200 km COUNT 1 ANY",
    "GEORADIUS g 15 37 200 km WITHDIST WITHDIST",
    "GEORADIUS g 15 37 200 km STORE",
    "GEORADIUS g 15 37 200 km STOREDIST",
    "GEORADIUS g 15 37 200 km WITHDIST STORE d",
    "GEORADIUS nokey 15 37 200 km",
    "GEORADIUS nokey 15 37 200 kmx",
    "GEORADIUS nokey 15 37 200 km WITHDIST STORE x",
    "GEORADIUS_RO g 15 37 200 km STORE x",
    "GEORADIUS_RO g 15 37 200 km WITHCOORD",
    "GEORADIUSBYMEMBER nokey m abc km",
    "GEORADIUSBYMEMBER g nope 10 km",
    "GEORADIUSBYMEMBER g Palermo 200 km WITHDIST DESC",
    "GEORADIUSBYMEMBER_RO g Catania 200 km WITHDIST ASC STORE x",
    "GEORADIUSBYMEMBER_RO g Catania 200 km WITHDIST ASC",
    "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
    "GEOSEARCHSTORE d g FROMMEMBER Palermo BYBOX 400 400 km STOREDIST STOREDIST",
    "GEOSEARCHSTORE d g FROMMEMBER Palermo BYBOX 400 400 km STORE x",
    "GEOSEARCHSTORE d nokey FROMMEMBER nope BYRADIUS 1 km",
    "GEOSEARCHSTORE a b c d e f g",
    "GEOADD g 1 2",
    "GEOHASH g",
    "GEOPOS g",
    "GEODIST g a",
];

/// The STORE forms: what they store, replace and delete.
const STORES: &[&str] = &[
    "GEOSEARCHSTORE d str FROMLONLAT 1 2 BYRADIUS 1 km",
    "GEOSEARCHSTORE str g FROMLONLAT 15 37 BYRADIUS 400 km",
    "TYPE str",
    "ZRANGE str 0 -1 WITHSCORES",
    "GEORADIUSBYMEMBER g Palermo 200 km STOREDIST sd",
    "ZRANGE sd 0 -1 WITHSCORES",
    "OBJECT ENCODING sd",
    "GEORADIUS g 15 37 200 km STORE s2 COUNT 1",
    "ZRANGE s2 0 -1 WITHSCORES",
    "GEORADIUS g 15 37 200 km STORE a STOREDIST b",
    "EXISTS a b",
    "ZRANGE b 0 -1 WITHSCORES",
    "GEORADIUS g 15 37 200 km STOREDIST a STORE b",
    "ZRANGE b 0 -1 WITHSCORES",
    "GEOSEARCHSTORE s3 g FROMLONLAT 0 0 BYRADIUS 1 m",
    "EXISTS s3",
    "SET s3 v",
    "GEOSEARCHSTORE s3 g FROMLONLAT 0 0 BYRADIUS 1 m",
    "EXISTS s3",
    "SET s3 v",
    "GEOSEARCHSTORE s3 nokey FROMLONLAT 0 0 BYRADIUS 1 m",
    "EXISTS s3",
    "GEORADIUS nokey 15 37 200 km STORE sd",
    "EXISTS sd",
    "GEOSEARCHSTORE s4 g FROMLONLAT 15 37 BYRADIUS 400 km STOREDIST COUNT 1 DESC",
    "ZRANGE s4 0 -1 WITHSCORES",
];

/// Stored scores that are not geohashes (negative, beyond 2^63, infinite), and points at the
/// antimeridian and on the poles' edge.
const ODD_POINTS: &[&str] = &[
    "ZADD junk -5 neg 1e300 big 9.3e18 b63 1.8e19 b64 3.5 frac inf pinf -inf ninf",
    "GEOPOS junk neg big b63 b64 frac pinf ninf",
    "GEOHASH junk neg big b63 b64 frac pinf ninf",
    "GEODIST junk neg big",
    "GEODIST junk pinf ninf",
    "GEOSEARCH junk FROMLONLAT 0 0 BYRADIUS 30000 km WITHHASH WITHCOORD WITHDIST",
    "GEOSEARCH junk FROMLONLAT 179 85 BYRADIUS 1000 km WITHHASH",
    "GEORADIUSBYMEMBER junk neg 100 km WITHHASH",
    "GEOADD anti 179.9 0 e 0 0 o -0 0 z -179.9 0 w 0.0 -0.0 zz 180 85.05112878 ne",
    "GEOADD anti -180 -85.05112878 sw 180 -85.05112878 se",
    "GEOPOS anti z zz ne sw se",
    "GEOHASH anti z zz ne sw se",
    "GEOSEARCH anti FROMLONLAT 180 0 BYRADIUS 100 km WITHDIST WITHCOORD",
    "GEOSEARCH anti FROMLONLAT 0 0 BYRADIUS 20037 km DESC WITHDIST",
    "GEOSEARCH anti FROMLONLAT -180 0 BYRADIUS 20100 km WITHDIST WITHCOORD",
    "GEOSEARCH anti FROMLONLAT 0 0 BYBOX 40075 1 km WITHDIST",
    "GEOSEARCH anti FROMLONLAT 0 85.05112878 BYRADIUS 100000 km ASC WITHDIST",
    "GEOSEARCH anti FROMLONLAT -180 -85.05112878 BYBOX 40000 40000 km ASC WITHDIST",
    "GEOSEARCH anti FROMMEMBER ne BYRADIUS 0 m WITHDIST",
    "GEOSEARCH anti FROMMEMBER sw BYBOX 0 0 m WITHDIST",
    "GEODIST anti sw ne",
    "GEODIST anti e w km",
    "DUMP anti",
    // Distances whose fourth decimal Redis' fixed-point printing rounds otherwise than %.4f.
    "GEOADD fp 10.3519 5.2877 a 103.3127 62.8143 b -45.6827 39.6586 c 64.9645 19.2748 d",
    "GEODIST fp a b ft",
    "GEODIST fp c d ft",
    "GEOSEARCH fp FROMMEMBER a BYRADIUS 60000000 ft WITHDIST",
    "GEORADIUSBYMEMBER fp c 60000000 ft WITHDIST DESC",
];

#[test]
fn errors_edges_and_stores_match_redis() {
    // Every error text and option conflict, the STORE forms, scores that are not geohashes,
    // the poles' edge and the antimeridian, radius 0 and huge radii, in RESP2 and RESP3.
    let Some(mut p) = Pair::start("geo_edges", &[]) else {
        return;
    };
    for proto in ["2", "3"] {
        p.hello(proto);
        p.line("FLUSHALL");
        for line in EDGES.iter().chain(STORES).chain(ODD_POINTS) {
            p.line(line);
        }
    }
}

#[test]
fn equal_distances_sort_as_redis() {
    // Sixty points on six spots: ASC/DESC with and without COUNT (Redis' partial quicksort
    // then decides the order among equals), COUNT ANY, and no order at all.
    let Some(mut p) = Pair::start("geo_ties", &[]) else {
        return;
    };
    for i in 0..60 {
        let lon = format!("{:.6}", 10.0 + (i % 3) as f64 * 0.001);
        let lat = format!("{:.6}", 20.0 + (i % 2) as f64 * 0.001);
        p.strings(&["GEOADD".into(), "t".into(), lon, lat, format!("p{i:02}")]);
    }
    let base = "GEOSEARCH t FROMLONLAT 10.001 20 BYRADIUS 50 km";
    for count in [1, 2, 5, 7, 8, 13, 40, 41, 59, 60, 100] {
        for order in ["ASC", "DESC"] {
            p.line(&format!("{base} COUNT {count} {order} WITHDIST"));
            p.line(&format!("{base} COUNT {count} ANY {order}"));
            p.line(&format!(
                "GEORADIUS t 10.001 20 50 km COUNT {count} {order} STORE s{count}"
            ));
            p.line(&format!("ZRANGE s{count} 0 -1"));
        }
        p.line(&format!("{base} COUNT {count}"));
    }
    p.line(&format!("{base} ASC"));
    p.line(&format!("{base} DESC"));
    p.line(base);
}

#[test]
fn stores_across_shards_match_redis() {
    // Standalone with three shards: the source and destinations land on different shards,
    // and the STORE forms still answer and store as Redis (atomically, all shards parked).
    let Some(mut p) = Pair::start("geo_shards", &["--server-threads", "3"]) else {
        return;
    };
    p.line("GEOADD src 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 2.35 48.85 Paris");
    for dst in ["a", "b", "c", "d", "e", "f"] {
        p.line(&format!(
            "GEOSEARCHSTORE {dst} src FROMLONLAT 15 37 BYRADIUS 300 km"
        ));
        p.line(&format!("ZRANGE {dst} 0 -1 WITHSCORES"));
        p.line(&format!(
            "GEORADIUS src 2 48 2000 km STOREDIST {dst} COUNT 2 DESC"
        ));
        p.line(&format!("ZRANGE {dst} 0 -1 WITHSCORES"));
        p.line(&format!(
            "GEORADIUSBYMEMBER src Paris 1 km STORE x{dst} STORE {dst}"
        ));
        p.line(&format!("ZRANGE {dst} 0 -1 WITHSCORES"));
        p.line(&format!("EXISTS x{dst}"));
        p.line(&format!(
            "GEOSEARCHSTORE {dst} nokey FROMLONLAT 0 0 BYRADIUS 1 km"
        ));
        p.line(&format!("EXISTS {dst}"));
    }
    assert!(p.slotd.cli(&["DBSIZE"]).trim() == "1");
}

#[test]
fn a_store_wakes_a_client_blocked_on_the_destination() {
    // BZPOPMIN waiting on the destination is served by the stored set, as with redis-server,
    // with the source and the destination on different shards too.
    let Some(mut p) = Pair::start("geo_wake", &["--server-threads", "3"]) else {
        return;
    };
    p.line("GEOADD src 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
    for (dst, store) in [
        (
            "w1",
            "GEOSEARCHSTORE w1 src FROMLONLAT 15 37 BYRADIUS 300 km",
        ),
        ("w2", "GEORADIUS src 15 37 300 km STOREDIST w2"),
        ("w3", "GEORADIUSBYMEMBER src Palermo 1 km STORE w3"),
    ] {
        let mut waiting = [Raw::connect(p.redis.port), Raw::connect(p.slotd.port)];
        for w in waiting.iter_mut() {
            w.send(&cmd(&[b"BZPOPMIN", dst.as_bytes(), b"5"]));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        p.line(store);
        let [a, b] = &mut waiting;
        assert_eq!(
            String::from_utf8_lossy(&read_reply(b)),
            String::from_utf8_lossy(&read_reply(a)),
            "{store}"
        );
        p.line(&format!("ZRANGE {dst} 0 -1 WITHSCORES"));
    }
}

#[test]
fn command_info_is_byte_identical() {
    // COMMAND INFO of every geo command in both protocols (GEORADIUS' keyword key specs
    // included), and the keys COMMAND GETKEYS[ANDFLAGS] finds in their lines.
    let Some(mut p) = Pair::start("geo_info", &[]) else {
        return;
    };
    let names = [
        "geoadd",
        "geodist",
        "geohash",
        "geopos",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
        "geosearch",
        "geosearchstore",
    ];
    for proto in ["2", "3"] {
        p.hello(proto);
        for n in names {
            p.line(&format!("COMMAND INFO {n}"));
        }
        for line in [
            "COMMAND GETKEYSANDFLAGS georadius k 1 2 3 m store x storedist y",
            "COMMAND GETKEYSANDFLAGS georadius k 1 2 3 m storedist y store x",
            "COMMAND GETKEYS georadius k 1 2 3 m store x",
            "COMMAND GETKEYS georadius k 1 2 store m",
            "COMMAND GETKEYS georadius k 1 2 3 m store",
            "COMMAND GETKEYSANDFLAGS georadiusbymember k m 3 km store x",
            "COMMAND GETKEYSANDFLAGS georadiusbymember k m 3 store x",
            "COMMAND GETKEYS georadius_ro k 1 2 3 m store x",
            "COMMAND GETKEYSANDFLAGS geosearchstore d s frommember m byradius 1 m",
            "COMMAND GETKEYSANDFLAGS geoadd k 1 2 m",
            "COMMAND GETKEYS geosearch k frommember m byradius 1 m",
        ] {
            p.line(line);
        }
    }
}

/// Every key of `c` with its members and scores, in key order.
fn dump(c: &mut redis::Connection) -> Vec<(String, Vec<(String, String)>)> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).expect("KEYS");
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v: Vec<(String, String)> = redis::cmd("ZRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(c)
                .expect("ZRANGE");
            (k, v)
        })
        .collect()
}

fn aof_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir.join("appendonlydir")).expect("aof dir") {
        let path = e.expect("entry").path();
        if path.to_string_lossy().ends_with(".aof") {
            text += &String::from_utf8_lossy(&std::fs::read(&path).expect("read aof"));
        }
    }
    text
}

#[test]
fn geo_writes_survive_an_aof_restart() {
    // GEOADD is journaled as the ZADD it ran (Redis 7.0's propagated form, nothing when it
    // changed nothing); the STORE forms as written on one shard and as the resulting keys
    // across shards; a restart from the AOF gives back the same sorted sets.
    let args = ["--appendonly", "yes", "--server-threads", "3"];
    let mut s = Server::start(&args);
    let mut c = s.client();
    let lines: &[&[&str]] = &[
        &[
            "GEOADD",
            "src",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &[
            "GEOADD",
            "src",
            "NX",
            "CH",
            "13.361389",
            "38.115556",
            "Palermo",
            "2.35",
            "48.85",
            "Paris",
        ],
        &["GEOADD", "src", "XX", "1", "2", "nobody"],
        &["GEOADD", "{src}d", "1", "2", "x"],
        &[
            "GEOSEARCHSTORE",
            "{src}d",
            "src",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "300",
            "km",
        ],
        &[
            "GEORADIUS",
            "src",
            "2",
            "48",
            "2000",
            "km",
            "STOREDIST",
            "far",
            "COUNT",
            "2",
            "DESC",
        ],
        &[
            "GEORADIUSBYMEMBER",
            "src",
            "Paris",
            "10",
            "km",
            "STORE",
            "near",
        ],
        &[
            "GEOSEARCHSTORE",
            "gone",
            "nokey",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
    ];
    for l in lines {
        let mut q = redis::cmd(l[0]);
        for a in &l[1..] {
            q.arg(*a);
        }
        let _: redis::Value = q.query(&mut c).expect("geo write");
    }
    let before = dump(&mut c);
    assert_eq!(before.len(), 4, "{before:?}");
    drop(c);
    assert_eq!(s.stop(), Some(0), "clean stop");
    let dir: PathBuf = std::mem::take(&mut s.dir);
    let text = aof_text(&dir);
    assert!(!text.to_lowercase().contains("geoadd"), "{text}");
    assert!(
        text.contains("zadd\r\n$3\r\nsrc\r\n$2\r\nNX\r\n$2\r\nCH\r\n"),
        "{text}"
    );
    assert!(!text.contains("nobody"), "{text}");
    let s = Server::start_in(free_port(), dir, &args).expect("restart from the AOF");
    assert_eq!(dump(&mut s.client()), before);
}

#[test]
fn store_keys_of_other_slots_are_crossslot_in_cluster_mode() {
    // The STORE destination is a key like any other: CROSSSLOT unless it shares the source's
    // slot (hash tags), for GEOSEARCHSTORE and for GEORADIUS' STORE/STOREDIST keywords.
    let cluster = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ];
    let s = Server::start(&cluster);
    let run = |line: &str| s.cli(&line.split(' ').collect::<Vec<_>>());
    assert_eq!(run("CLUSTER ADDSLOTSRANGE 0 16383").trim(), "OK");
    for _ in 0..200 {
        if run("CLUSTER INFO").contains("cluster_state:ok") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    run("GEOADD {p}src 13.361389 38.115556 Palermo");
    for line in [
        "GEOSEARCHSTORE other {p}src FROMMEMBER Palermo BYRADIUS 1 km",
        "GEORADIUS {p}src 13 38 100 km STORE other",
        "GEORADIUSBYMEMBER {p}src Palermo 1 km STOREDIST other",
        "GEORADIUS {p}src 13 38 100 km STORE {p}dst STORE other",
    ] {
        let out = run(line);
        assert!(out.contains("CROSSSLOT"), "{line}: {out}");
    }
    for line in [
        "GEOSEARCHSTORE {p}dst {p}src FROMMEMBER Palermo BYRADIUS 1 km",
        "GEORADIUS {p}src 13 38 100 km STORE {p}dst",
        "GEORADIUS_RO {p}src 13 38 100 km",
    ] {
        let out = run(line);
        assert!(
            out.trim() == "1" || out.trim() == "Palermo",
            "{line}: {out}"
        );
    }
}
