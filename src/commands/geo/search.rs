//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the `_RO` forms: one request
//! parsed in Redis' order (the source's type first, then the centre and the options, each
//! failing with Redis' text), the nine cells of `geohash::search_cells` scanned, the matches
//! sorted as redis-server sorts them, then replied or stored.

use super::order::{cmp_dist, merge_sort, partial_sort};
use super::*;
use crate::commands::kit::number::{c_str, i64_arg};
use crate::shard::value::Value;
use crate::types::geohash::{Search, Shape};
use crate::types::zset::{cmp_key, Entry};

/// Which command of the family runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Radius,
    RadiusRo,
    ByMember,
    ByMemberRo,
    Search,
    SearchStore,
}

impl Kind {
    /// The GEOSEARCH syntax (FROM... and BY... options).
    fn is_search(self) -> bool {
        matches!(self, Kind::Search | Kind::SearchStore)
    }
    /// GEORADIUS and GEORADIUSBYMEMBER take STORE and STOREDIST key.
    fn takes_store_key(self) -> bool {
        matches!(self, Kind::Radius | Kind::ByMember)
    }
    /// Where the options start.
    fn options_at(self) -> usize {
        match self {
            Kind::Radius | Kind::RadiusRo => 6,
            Kind::ByMember | Kind::ByMemberRo => 5,
            Kind::Search => 2,
            Kind::SearchStore => 3,
        }
    }
    fn source_at(self) -> usize {
        if self == Kind::SearchStore {
            2
        } else {
            1
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed request. `centre` and `shape` are unset only when the source is missing (the
/// reply is then empty, after every argument was checked).
struct Request<'a> {
    centre: (f64, f64),
    shape: Shape,
    conversion: f64,
    store: Option<&'a [u8]>,
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    /// 0: no COUNT.
    count: i64,
    sort: Sort,
}

/// A radius and its unit (Redis' `extractDistanceOrReply`): (radius, meters per unit).
fn radius_arg(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), ReplyError> {
    let r = number(radius, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(ReplyError::other("ERR radius cannot be negative"));
    }
    Ok((r, unit_meters(unit)?))
}

/// A box and its unit (Redis' `extractBoxOrReply`): (width, height, meters per unit).
fn box_arg(w: &[u8], h: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), ReplyError> {
    let w = number(w, "ERR need numeric width")?;
    let h = number(h, "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(ReplyError::other("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit_meters(unit)?))
}

/// The position of `member` in `z`.
fn member_pos(z: &ZSetValue, member: &[u8]) -> Result<(f64, f64), ReplyError> {
    match z.score(member) {
        Some(score) => Ok(geohash::decode_score(score)),
        None => Err(ReplyError::other(
            "ERR could not decode requested zset member",
        )),
    }
}

/// Parses the whole command line against the source `z` (read for FROMMEMBER and
/// GEORADIUSBYMEMBER's member), in Redis' order of checks.
fn parse<'a>(args: Args<'a>, kind: Kind, z: Option<&ZSetValue>) -> Result<Request<'a>, ReplyError> {
    let mut req = Request {
        centre: (0.0, 0.0),
        shape: Shape::Radius(0.0),
        conversion: 0.0,
        store: (kind == Kind::SearchStore).then(|| args.get(1)),
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        any: false,
        count: 0,
        sort: Sort::None,
    };
    match kind {
        Kind::Radius | Kind::RadiusRo => {
            req.centre = lon_lat(args.get(2), args.get(3))?;
            let (r, conv) = radius_arg(args.get(4), args.get(5))?;
            (req.shape, req.conversion) = (Shape::Radius(r), conv);
        }
        Kind::ByMember | Kind::ByMemberRo => {
            // Without a source Redis checks nothing more here (the reply is empty anyway).
            if let Some(z) = z {
                req.centre = member_pos(z, args.get(2))?;
                let (r, conv) = radius_arg(args.get(3), args.get(4))?;
                (req.shape, req.conversion) = (Shape::Radius(r), conv);
            }
        }
        Kind::Search | Kind::SearchStore => {}
    }
    parse_options(args, kind, z, &mut req)?;
    Ok(req)
}

/// Which of GEOSEARCH's centre and shape options were given.
#[derive(Default)]
struct Seen {
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
}

/// The options after the fixed arguments, then the checks Redis makes once all are read.
fn parse_options<'a>(
    args: Args<'a>,
    kind: Kind,
    z: Option<&ZSetValue>,
    req: &mut Request<'a>,
) -> Result<(), ReplyError> {
    let mut seen = Seen::default();
    let mut i = kind.options_at();
    while i < args.len() {
        i += 1 + one_option(args, i, kind, z, req, &mut seen)?;
    }
    check_request(args, kind, req, &seen)
}

/// Reads the option at `i` (Redis' `strcasecmp` ladder: an option whose values are missing
/// or that this command does not take is a syntax error); returns the values it consumed.
fn one_option<'a>(
    args: Args<'a>,
    i: usize,
    kind: Kind,
    z: Option<&ZSetValue>,
    req: &mut Request<'a>,
    seen: &mut Seen,
) -> Result<usize, ReplyError> {
    let a = args.get(i);
    let is = |name: &[u8]| a.eq_ignore_ascii_case(name);
    let has = |k: usize| i + k < args.len();
    let search = kind.is_search();
    let flag = if is(b"withdist") {
        &mut req.with_dist
    } else if is(b"withhash") {
        &mut req.with_hash
    } else if is(b"withcoord") {
        &mut req.with_coord
    } else if is(b"any") {
        &mut req.any
    } else if is(b"asc") || is(b"desc") {
        req.sort = if is(b"asc") { Sort::Asc } else { Sort::Desc };
        return Ok(0);
    } else if is(b"count") && has(1) {
        req.count = i64_arg(args.get(i + 1))?;
        if req.count <= 0 {
            return Err(ReplyError::other("ERR COUNT must be > 0"));
        }
        return Ok(1);
    } else if (is(b"store") || is(b"storedist")) && has(1) && kind.takes_store_key() {
        req.store = Some(args.get(i + 1));
        req.store_dist = is(b"storedist");
        return Ok(1);
    } else if is(b"storedist") && kind == Kind::SearchStore {
        &mut req.store_dist
    } else if is(b"frommember") && has(1) && search && !seen.from_lonlat {
        // Without a source the member is not looked up (the reply is empty anyway).
        if let Some(z) = z {
            req.centre = member_pos(z, args.get(i + 1))?;
        }
        seen.from_member = true;
        return Ok(1);
    } else if is(b"fromlonlat") && has(2) && search && !seen.from_member {
        req.centre = lon_lat(args.get(i + 1), args.get(i + 2))?;
        seen.from_lonlat = true;
        return Ok(2);
    } else if is(b"byradius") && has(2) && search && !seen.by_box {
        let (r, conv) = radius_arg(args.get(i + 1), args.get(i + 2))?;
        (req.shape, req.conversion) = (Shape::Radius(r), conv);
        seen.by_radius = true;
        return Ok(2);
    } else if is(b"bybox") && has(3) && search && !seen.by_radius {
        let (width, height, conv) = box_arg(args.get(i + 1), args.get(i + 2), args.get(i + 3))?;
        (req.shape, req.conversion) = (Shape::Box { width, height }, conv);
        seen.by_box = true;
        return Ok(3);
    } else {
        return Err(ReplyError::Syntax);
    };
    *flag = true;
    Ok(0)
}

/// The conflicts Redis reports after reading every option, in its order.
fn check_request(args: Args<'_>, kind: Kind, req: &Request<'_>, seen: &Seen) -> CmdResult {
    if req.store.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        return Err(ReplyError::other(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if kind == Kind::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    // The command's name as typed (Redis prints its argv[0]).
    let typed = || String::from_utf8_lossy(c_str(args.get(0))).into_owned();
    if kind.is_search() && !(seen.from_member || seen.from_lonlat) {
        return Err(ReplyError::other(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            typed()
        )));
    }
    if kind.is_search() && !(seen.by_radius || seen.by_box) {
        return Err(ReplyError::other(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            typed()
        )));
    }
    if req.any && req.count == 0 {
        return Err(ReplyError::other(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    Ok(())
}

/// One match: a member of the source with its score, position and distance in meters.
#[derive(Clone, Copy)]
struct Point<'z> {
    member: &'z [u8],
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

/// The matches of a search in Redis' scan order: cell by cell (a cell equal to the last one
/// scanned is skipped), ascending score inside a cell, stopping at `limit` when not 0.
fn scan<'z>(z: &'z ZSetValue, s: &Search, limit: usize) -> Vec<Point<'z>> {
    let cells = geohash::search_cells(s);
    let mut out = Vec::new();
    let mut last = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_none() || (last != 0 && cell == cells[last]) {
            continue;
        }
        if limit != 0 && out.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let (min, max) = (min as f64, max as f64);
        let from = z.count_before(|e| e.score < min);
        for e in z.iter_from(from) {
            if e.score >= max {
                break;
            }
            let (lon, lat) = geohash::decode_score(e.score);
            if let Some(dist) = geohash::within(s, lon, lat) {
                out.push(Point {
                    member: &e.member,
                    score: e.score,
                    lon,
                    lat,
                    dist,
                });
            }
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
        last = i;
    }
    out
}

/// Sorts the matches as Redis does and returns how many are returned.
fn order(points: &mut [Point<'_>], req: &Request<'_>) -> usize {
    let n = points.len();
    let returned = if req.count == 0 || (n as u64) < req.count as u64 {
        n
    } else {
        req.count as usize
    };
    let desc = match req.sort {
        Sort::None => return returned,
        Sort::Asc => false,
        Sort::Desc => true,
    };
    let cmp = |a: &Point<'_>, b: &Point<'_>| cmp_dist(a.dist, b.dist, desc);
    if returned == n {
        merge_sort(points, &cmp);
    } else {
        partial_sort(points, &cmp, 0, returned - 1);
    }
    returned
}

/// A score as C's `(long long)` conversion gives it (WITHHASH).
fn score_as_int(score: f64) -> i64 {
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&score) {
        score as i64
    } else {
        i64::MIN
    }
}

fn write_points(out: &mut Out<'_>, points: &[Point<'_>], req: &Request<'_>) {
    let extra = req.with_dist as usize + req.with_hash as usize + req.with_coord as usize;
    out.array(points.len());
    for p in points {
        if extra > 0 {
            out.array(extra + 1);
        }
        out.bulk(p.member);
        if req.with_dist {
            write_distance(out, p.dist / req.conversion);
        }
        if req.with_hash {
            out.int(score_as_int(p.score));
        }
        if req.with_coord {
            out.array(2);
            write_coord(out, p.lon);
            write_coord(out, p.lat);
        }
    }
}

/// What the source's scan gives: the reply was written, or the entries to store.
enum Found<'a> {
    Replied,
    /// The destination and its new entries.
    Store(&'a [u8], Vec<Entry>),
}

pub(super) fn search<'a>(ex: &mut Exec<'_>, args: Args<'a>, kind: Kind) -> CmdResult {
    let src = args.get(kind.source_at());
    let now_ms = ex.now_ms;
    let found = ex.with_db(src, |db, out| -> Result<Found<'a>, ReplyError> {
        let z = zset_at(db, src, now_ms)?;
        let req = parse(args, kind, z)?;
        let Some(z) = z else {
            if let Some(dst) = req.store {
                return Ok(Found::Store(dst, Vec::new()));
            }
            out.array(0);
            return Ok(Found::Replied);
        };
        let mut req = req;
        if req.count != 0 && req.sort == Sort::None && !req.any {
            req.sort = Sort::Asc;
        }
        let s = Search {
            lon: req.centre.0,
            lat: req.centre.1,
            shape: req.shape,
            conversion: req.conversion,
        };
        let limit = if req.any { req.count as usize } else { 0 };
        let mut points = scan(z, &s, limit);
        let returned = order(&mut points, &req);
        let points = &points[..returned];
        let Some(dst) = req.store else {
            write_points(out, points, &req);
            return Ok(Found::Replied);
        };
        let entries = points
            .iter()
            .map(|p| Entry {
                score: if req.store_dist {
                    p.dist / req.conversion
                } else {
                    p.score
                },
                member: p.member.into(),
            })
            .collect();
        Ok(Found::Store(dst, entries))
    })?;
    if let Found::Store(dst, entries) = found {
        let n = store(ex, dst, entries);
        let event = if c_str(args.get(0))
            .to_ascii_lowercase()
            .starts_with(b"geosearch")
        {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        if n > 0 {
            ex.notify(crate::shard::notify::ZSET, event, dst);
        }
        ex.out.int(n as i64);
    }
    Ok(())
}

/// Replaces `dst` with the entries (deletes it when there are none); the count stored.
fn store(ex: &mut Exec<'_>, dst: &[u8], mut entries: Vec<Entry>) -> usize {
    let now_ms = ex.now_ms;
    let n = entries.len();
    if n == 0 {
        if ex.db(dst).remove(dst, now_ms).is_some() {
            ex.notify(crate::shard::notify::GENERIC, "del", dst);
            ex.dirty(dst, 1);
        }
        return 0;
    }
    entries.sort_by(|a, b| cmp_key(a.score, &a.member, b));
    entries.dedup_by(|a, b| a.member == b.member);
    let lim = crate::commands::zset::limits(ex);
    let z = ZSetValue::from_sorted(entries, lim);
    ex.db(dst).set(dst, Value::ZSet(z), 0, now_ms);
    ex.dirty(dst, n as u64);
    n
}

pub(super) fn georadius(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::Radius)
}
pub(super) fn georadius_ro(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::RadiusRo)
}
pub(super) fn georadiusbymember(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::ByMember)
}
pub(super) fn georadiusbymember_ro(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::ByMemberRo)
}
pub(super) fn geosearch(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::Search)
}
pub(super) fn geosearchstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    search(ex, args, Kind::SearchStore)
}
