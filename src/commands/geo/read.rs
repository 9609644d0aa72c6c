//! GEODIST, GEOHASH and GEOPOS: reads of single members' positions.

use super::*;

/// GEODIST key member1 member2 [M|KM|FT|MI]
pub(super) fn geodist(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    // The unit is checked before the key, as Redis does.
    let to_meters = match args.len() {
        4 => 1.0,
        5 => unit_meters(args.get(4))?,
        _ => return Err(ReplyError::Syntax),
    };
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let z = zset_at(db, args.get(1), now_ms)?;
        let scores = z.and_then(|z| Some((z.score(args.get(2))?, z.score(args.get(3))?)));
        match scores {
            None => out.null(),
            Some((a, b)) => {
                let (lon1, lat1) = geohash::decode_score(a);
                let (lon2, lat2) = geohash::decode_score(b);
                write_distance(out, geohash::distance(lon1, lat1, lon2, lat2) / to_meters);
            }
        }
        Ok(())
    })
}

/// GEOHASH key [member ...]: the standard 11-character geohash of each member, or null.
pub(super) fn geohash_cmd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    per_member(ex, args, |out, score| match score {
        Some(score) => out.bulk(&geohash::geohash_text(score)),
        None => out.null(),
    })
}

/// GEOPOS key [member ...]: [longitude, latitude] of each member, or a null array.
pub(super) fn geopos(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    per_member(ex, args, |out, score| match score {
        Some(score) => {
            let (lon, lat) = geohash::decode_score(score);
            out.array(2);
            write_coord(out, lon);
            write_coord(out, lat);
        }
        None => out.null_array(),
    })
}

/// Replies an array with one element per member argument, written by `f` from the
/// member's score (None when the member or the key is missing).
fn per_member(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    f: impl Fn(&mut Out<'_>, Option<f64>),
) -> CmdResult {
    let now_ms = ex.now_ms;
    ex.with_db(args.get(1), |db, out| {
        let z = zset_at(db, args.get(1), now_ms)?;
        out.array(args.len() - 2);
        for i in 2..args.len() {
            f(out, z.and_then(|z| z.score(args.get(i))));
        }
        Ok(())
    })
}
