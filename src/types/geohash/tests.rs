//! Unit tests of the geohash arithmetic, against values read from redis-server 7.0.15.

use super::*;

/// `%.17Lf` with trailing zeros removed, as Redis prints GEOPOS coordinates.
fn human(v: f64) -> String {
    let s = format!("{v:.17}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[test]
fn scores_match_redis() {
    // GEOADD's scores of known points, corners of the valid area included.
    let cases: &[(f64, f64, u64)] = &[
        (13.361389, 38.115556, 3479099956230698),
        (15.087269, 37.502669, 3479447370796909),
        (-180.0, -85.05112878, 0),
        (180.0, 85.05112878, 13510798882111488),
        (0.0, 0.0, 3377699720527872),
        (179.9999, -0.5, 3377678245412263),
        (0.000001, 0.000001, 3377699720527872),
    ];
    for &(lon, lat, score) in cases {
        assert_eq!(score_of(lon, lat), Some(score), "{lon},{lat}");
    }
    assert_eq!(score_of(180.000001, 0.0), None);
    assert_eq!(score_of(0.0, 85.06), None);
}

#[test]
fn decoded_positions_match_redis() {
    // GEOPOS text of stored scores, junk scores (negative, beyond 2^63, huge) included:
    // they decode as C's double-to-uint64 cast makes them on x86-64.
    let cases: &[(f64, &str, &str)] = &[
        (
            3479099956230698.0,
            "13.36138933897018433",
            "38.11555639549629859",
        ),
        (0.0, "-179.99999731779098511", "-85.05112751263942528"),
        (13510798882111488.0, "180", "85.0511287799999991"),
        (
            3377699720527872.0,
            "0.00000268220901489",
            "0.00000126736058093",
        ),
        (
            3377678245412263.0,
            "179.99990075826644897",
            "-0.50000036325177888",
        ),
        (-5.0, "180", "85.0511287799999991"),
        (1e300, "-179.99999731779098511", "-85.05112751263942528"),
        (9.3e18, "180", "85.0511287799999991"),
        (1.8e19, "180", "85.0511287799999991"),
        (3.5, "-179.99999195337295532", "-85.05112497791824921"),
    ];
    for &(score, lon, lat) in cases {
        let (x, y) = decode_score(score);
        assert_eq!(
            (human(x).as_str(), human(y).as_str()),
            (lon, lat),
            "{score}"
        );
    }
}

#[test]
fn geohash_text_matches_redis() {
    // GEOHASH re-encodes on the -90..90 latitude range and pads the 11th character.
    let cases: &[(f64, &[u8; 11])] = &[
        (3479099956230698.0, b"sqc8b49rny0"),
        (3479447370796909.0, b"sqdtr74hyu0"),
        (0.0, b"00bh0hbj200"),
        (13510798882111488.0, b"bp05b5048p0"),
        (3377699720527872.0, b"s0000000000"),
        (3377678245412263.0, b"rzzvpuzzm90"),
        (3.5, b"00bh0hbj210"),
    ];
    for &(score, text) in cases {
        assert_eq!(&geohash_text(score), text, "{score}");
    }
}

#[test]
fn distances_match_redis() {
    // GEODIST's %.4f figures for known pairs.
    let d = |a: f64, b: f64| {
        let (x1, y1) = decode_score(a);
        let (x2, y2) = decode_score(b);
        format!("{:.4}", distance(x1, y1, x2, y2))
    };
    assert_eq!(d(3479099956230698.0, 3479447370796909.0), "166274.1516");
    assert_eq!(d(0.0, 13510798882111488.0), "18919844.5891");
    assert_eq!(
        format!("{:.4}", d_mi(3377699720527872.0, 3377678245412263.0)),
        "12405.7818"
    );
}

fn d_mi(a: f64, b: f64) -> f64 {
    let (x1, y1) = decode_score(a);
    let (x2, y2) = decode_score(b);
    distance(x1, y1, x2, y2) / 1609.34
}

#[test]
fn neighbours_wrap_and_interleave() {
    // Moving east then west returns to the cell; the east of the last column wraps to the
    // first (the antimeridian); a neighbour changes only its own coordinate's bits.
    let h = encode_wgs84(13.361389, 38.115556, 10).unwrap();
    let n = neighbours(h);
    assert_eq!(neighbours(n.east).west, h);
    assert_eq!(neighbours(n.north).south, h);
    assert_eq!(n.east.bits & EVEN_BITS, h.bits & EVEN_BITS);
    assert_eq!(n.north.bits & ODD_BITS, h.bits & ODD_BITS);
    let edge = encode_wgs84(179.99, 0.0, 4).unwrap();
    let wrapped = decode_wgs84(neighbours(edge).east).unwrap();
    assert_eq!(wrapped.lon.min, -180.0);
}

#[test]
fn step_estimate() {
    // Redis' estimate: 26 for radius 0, coarser for larger radii and near the poles.
    assert_eq!(estimate_step(0.0, 0.0), 26);
    assert_eq!(estimate_step(1.0, 0.0), 24);
    assert_eq!(estimate_step(1000.0, 0.0), 14);
    assert_eq!(estimate_step(1000.0, 70.0), 13);
    assert_eq!(estimate_step(1000.0, -85.0), 12);
    assert_eq!(estimate_step(f64::INFINITY, 0.0), 1);
}

#[test]
fn search_cells_cover_the_centre() {
    // The first cell holds the centre; a radius search at the equator keeps some neighbours.
    let s = Search {
        lon: 15.0,
        lat: 37.0,
        shape: Shape::Radius(200.0),
        conversion: 1000.0,
    };
    let cells = search_cells(&s);
    let (min, max) = cells[0].score_range();
    let score = score_of(15.0, 37.0).unwrap();
    assert!(min <= score && score < max);
    assert!(cells.iter().any(|c| !c.is_none()));
}

#[test]
fn equal_longitudes_use_the_latitude_formula() {
    // redis-server 7.0.15 measures along a meridian as R * |dlat| (not the haversine, whose
    // last bits differ); that is what its STOREDIST scores show.
    let (a, b) = (-41.92566, 21.577705);
    assert_eq!(distance(12.5, a, 12.5, b), lat_distance(a, b));
    assert_eq!(distance(12.5, a, 12.5, b), distance(12.5, b, 12.5, a));
}
