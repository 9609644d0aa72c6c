//! Unit tests of the geo family's number formatting.

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
