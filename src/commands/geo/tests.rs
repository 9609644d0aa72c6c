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
fn distances_round_half_to_even_like_glibc() {
    // %.4f of an exact tie rounds to even, as glibc's printf does.
    let mut out = Vec::new();
    let mut o = Out::new(&mut out, crate::resp::Proto::Resp2);
    write_distance(&mut o, 0.03125);
    write_distance(&mut o, 0.09375);
    assert_eq!(out, b"$6\r\n0.0312\r\n$6\r\n0.0938\r\n");
}
