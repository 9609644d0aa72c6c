//! The geo command table: flags, key specs (GEORADIUS' STORE keys found by keyword) and
//! argument docs, as redis-server 7.0 describes them; summaries in slotd's words.

use super::add::geoadd;
use super::read::{geodist, geohash_cmd, geopos};
use super::search::*;
use crate::commands::flags::*;
use crate::commands::spec::{
    acl, arg, block, key_range, keyflag, multi, oneof, opt, pure, since, tok, BeginSearch,
    FindKeys, KeySpecDoc, K1, K12,
};
use crate::commands::{ArgDoc, CommandSpec, KeyFn, KeySpec};
use crate::resp::{Args, ReplyError};

const fn geo(name: &'static str, arity: i32, flags: u32, keys: KeySpec, f: KeyFn) -> CommandSpec {
    CommandSpec::keyed(name, arity, flags, keys, f).group("geo", acl::GEO)
}

/// GEORADIUS' keys: the source, then what its key specs find (the key after the first
/// STORE, the key after the first STOREDIST, from argument 6), then the key it really stores
/// into when a later STORE/STOREDIST overrides those (so it is routed and parked too).
fn keys_georadius(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(store_keys(args, 6))
}

/// GEORADIUSBYMEMBER's keys: as GEORADIUS', options from argument 5.
fn keys_georadiusbymember(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(store_keys(args, 5))
}

fn store_keys(args: Args<'_>, options_at: usize) -> Vec<usize> {
    let n = args.len();
    let is = |i: usize, word: &[u8]| args.get(i).eq_ignore_ascii_case(word);
    // Redis' keyword search: the first match before the last argument.
    let after = |word: &[u8]| (options_at..n.saturating_sub(1)).find(|&i| is(i, word));
    let mut keys = vec![1];
    keys.extend(after(b"store").map(|i| i + 1));
    keys.extend(after(b"storedist").map(|i| i + 1));
    // The handler's own reading: COUNT takes a value, the last STORE/STOREDIST wins.
    let mut used = None;
    let mut i = options_at;
    while i < n {
        if (is(i, b"store") || is(i, b"storedist") || is(i, b"count")) && i + 1 < n {
            if !is(i, b"count") {
                used = Some(i + 1);
            }
            i += 1;
        }
        i += 1;
    }
    if let Some(k) = used.filter(|k| !keys.contains(k)) {
        keys.push(k);
    }
    keys
}

/// A key spec of the key right after `keyword`, searched from argument `start_from`.
const fn after_keyword(keyword: &'static str, start_from: i32) -> KeySpecDoc {
    KeySpecDoc {
        notes: "",
        flags: keyflag::OW | keyflag::UPDATE,
        begin: BeginSearch::Keyword {
            keyword,
            start_from,
        },
        find: FindKeys::Range {
            last: 0,
            step: 1,
            limit: 0,
        },
    }
}

const SPECS_GEORADIUS: &[KeySpecDoc] = &[
    key_range(1, 0, keyflag::RO | keyflag::ACCESS),
    after_keyword("STORE", 6),
    after_keyword("STOREDIST", 6),
];
const SPECS_GEORADIUSBYMEMBER: &[KeySpecDoc] = &[
    key_range(1, 0, keyflag::RO | keyflag::ACCESS),
    after_keyword("STORE", 5),
    after_keyword("STOREDIST", 5),
];
const SPECS_GEOSEARCHSTORE: &[KeySpecDoc] = &[
    key_range(1, 0, keyflag::OW | keyflag::UPDATE),
    key_range(2, 0, keyflag::RO | keyflag::ACCESS),
];

const UNIT: ArgDoc = oneof(
    "unit",
    &[
        pure("m", "M"),
        pure("km", "KM"),
        pure("ft", "FT"),
        pure("mi", "MI"),
    ],
);

const DOC_GEOADD: &[ArgDoc] = &[
    arg("key", "key"),
    since(
        "6.2.0",
        opt(oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")])),
    ),
    since("6.2.0", opt(pure("change", "CH"))),
    multi(block(
        "longitude_latitude_member",
        &[
            arg("longitude", "double"),
            arg("latitude", "double"),
            arg("member", "string"),
        ],
    )),
];

const DOC_GEODIST: &[ArgDoc] = &[
    arg("key", "key"),
    arg("member1", "string"),
    arg("member2", "string"),
    opt(UNIT),
];

const DOC_MEMBERS: &[ArgDoc] = &[arg("key", "key"), multi(arg("member", "string"))];

const ORDER: ArgDoc = opt(oneof("order", &[pure("asc", "ASC"), pure("desc", "DESC")]));
const WITHS: [ArgDoc; 3] = [
    opt(pure("withcoord", "WITHCOORD")),
    opt(pure("withdist", "WITHDIST")),
    opt(pure("withhash", "WITHHASH")),
];
/// COUNT count [ANY], ANY added in 6.2.0 where the command is older.
const COUNT_ANY_SINCE: ArgDoc = opt(block(
    "count",
    &[
        tok("COUNT", arg("count", "integer")),
        since("6.2.0", opt(pure("any", "ANY"))),
    ],
));
const COUNT_ANY: ArgDoc = opt(block(
    "count",
    &[
        tok("COUNT", arg("count", "integer")),
        opt(pure("any", "ANY")),
    ],
));
const STORE_KEYS: [ArgDoc; 2] = [
    opt(tok("STORE", arg("key", "key"))),
    opt(tok("STOREDIST", arg("key", "key"))),
];

const DOC_GEORADIUS: &[ArgDoc] = &[
    arg("key", "key"),
    arg("longitude", "double"),
    arg("latitude", "double"),
    arg("radius", "double"),
    UNIT,
    WITHS[0],
    WITHS[1],
    WITHS[2],
    COUNT_ANY_SINCE,
    ORDER,
    STORE_KEYS[0],
    STORE_KEYS[1],
];

/// GEORADIUS_RO's arguments: GEORADIUS' without the STORE keys.
const DOC_GEORADIUS_RO: &[ArgDoc] = DOC_GEORADIUS.split_at(DOC_GEORADIUS.len() - 2).0;

const DOC_GEORADIUSBYMEMBER: &[ArgDoc] = &[
    arg("key", "key"),
    arg("member", "string"),
    arg("radius", "double"),
    UNIT,
    WITHS[0],
    WITHS[1],
    WITHS[2],
    COUNT_ANY,
    ORDER,
    STORE_KEYS[0],
    STORE_KEYS[1],
];

/// GEORADIUSBYMEMBER_RO's arguments: GEORADIUSBYMEMBER's without the STORE keys.
const DOC_GEORADIUSBYMEMBER_RO: &[ArgDoc] = DOC_GEORADIUSBYMEMBER
    .split_at(DOC_GEORADIUSBYMEMBER.len() - 2)
    .0;

const FROM: ArgDoc = oneof(
    "from",
    &[
        tok("FROMMEMBER", arg("member", "string")),
        tok(
            "FROMLONLAT",
            block(
                "longitude_latitude",
                &[arg("longitude", "double"), arg("latitude", "double")],
            ),
        ),
    ],
);
const BY: ArgDoc = oneof(
    "by",
    &[
        block("circle", &[tok("BYRADIUS", arg("radius", "double")), UNIT]),
        block(
            "box",
            &[
                tok("BYBOX", arg("width", "double")),
                arg("height", "double"),
                UNIT,
            ],
        ),
    ],
);

const DOC_GEOSEARCH: &[ArgDoc] = &[
    arg("key", "key"),
    FROM,
    BY,
    ORDER,
    COUNT_ANY,
    WITHS[0],
    WITHS[1],
    WITHS[2],
];

const DOC_GEOSEARCHSTORE: &[ArgDoc] = &[
    arg("destination", "key"),
    arg("source", "key"),
    FROM,
    BY,
    ORDER,
    COUNT_ANY,
    opt(pure("storedist", "STOREDIST")),
];

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the \
     bounding box of the circular area delimited by center and radius and M is the number of \
     items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the \
     grid-aligned bounding box area around the shape provided as the filter and M is the \
     number of items inside the shape";
const UPPERCASE_UNITS: (&str, &str) = ("7.0.0", "Added support for uppercase unit names.");
const ANY_ADDED: (&str, &str) = ("6.2.0", "Added the `ANY` option for `COUNT`.");

pub static COMMANDS: &[CommandSpec] = &[
    geo("geoadd", -5, WRITE | DENYOOM, K1, geoadd)
        .since("3.2.0")
        .doc(
            "O(log(N)) for each item added, where N is the number of elements in the \
             sorted set.",
            "Adds points (longitude, latitude, member) to a sorted set used as a geo index.",
            DOC_GEOADD,
        )
        .history(&[("6.2.0", "Added the `CH`, `NX` and `XX` options.")]),
    geo("geodist", -4, READONLY, K1, geodist)
        .since("3.2.0")
        .doc(
            "O(log(N))",
            "Returns the distance between two points of a geo index.",
            DOC_GEODIST,
        ),
    geo("geohash", -2, READONLY, K1, geohash_cmd)
        .since("3.2.0")
        .doc(
            "O(log(N)) for each member requested, where N is the number of elements in \
             the sorted set.",
            "Returns the standard geohash text of points of a geo index.",
            DOC_MEMBERS,
        ),
    geo("geopos", -2, READONLY, K1, geopos).since("3.2.0").doc(
        "O(N) where N is the number of members requested.",
        "Returns the longitude and latitude of points of a geo index.",
        DOC_MEMBERS,
    ),
    geo(
        "georadius",
        -6,
        WRITE | DENYOOM | MULTI_KEY,
        KeySpec::Custom(keys_georadius),
        georadius,
    )
    .key_specs(SPECS_GEORADIUS)
    .since("3.2.0")
    .doc(
        RADIUS_COMPLEXITY,
        "Finds the points within a radius of coordinates, optionally storing them.",
        DOC_GEORADIUS,
    )
    .history(&[ANY_ADDED, UPPERCASE_UNITS])
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
    ),
    geo(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM | MULTI_KEY,
        KeySpec::Custom(keys_georadiusbymember),
        georadiusbymember,
    )
    .key_specs(SPECS_GEORADIUSBYMEMBER)
    .since("3.2.0")
    .doc(
        RADIUS_COMPLEXITY,
        "Finds the points within a radius of a member, optionally storing them.",
        DOC_GEORADIUSBYMEMBER,
    )
    .history(&[UPPERCASE_UNITS])
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ),
    geo("georadius_ro", -6, READONLY, K1, georadius_ro)
        .since("3.2.10")
        .doc(
            RADIUS_COMPLEXITY,
            "Finds the points within a radius of coordinates (read-only GEORADIUS).",
            DOC_GEORADIUS_RO,
        )
        .history(&[ANY_ADDED])
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
    geo(
        "georadiusbymember_ro",
        -5,
        READONLY,
        K1,
        georadiusbymember_ro,
    )
    .since("3.2.10")
    .doc(
        RADIUS_COMPLEXITY,
        "Finds the points within a radius of a member (read-only GEORADIUSBYMEMBER).",
        DOC_GEORADIUSBYMEMBER_RO,
    )
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ),
    geo("geosearch", -7, READONLY, K1, geosearch)
        .since("6.2.0")
        .doc(
            SEARCH_COMPLEXITY,
            "Finds the points inside a circle or a box around a member or coordinates.",
            DOC_GEOSEARCH,
        )
        .history(&[UPPERCASE_UNITS]),
    geo(
        "geosearchstore",
        -8,
        WRITE | DENYOOM | MULTI_KEY,
        K12,
        geosearchstore,
    )
    .key_specs(SPECS_GEOSEARCHSTORE)
    .since("6.2.0")
    .doc(
        SEARCH_COMPLEXITY,
        "Stores the points inside a circle or a box around a member or coordinates.",
        DOC_GEOSEARCHSTORE,
    )
    .history(&[UPPERCASE_UNITS]),
];
