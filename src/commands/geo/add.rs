//! GEOADD: the coordinates become geohash scores and ZADD does the rest, as in Redis (whose
//! GEOADD rewrites itself into that ZADD, which is also what it propagates).

use super::*;
use crate::resp::OwnedArgs;

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]
pub(super) fn geoadd(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    // Options come first, in any order; the triples start at the first other argument.
    let mut first = 2;
    let (mut nx, mut xx) = (false, false);
    while first < args.len() {
        let a = args.get(first);
        if a.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if !a.eq_ignore_ascii_case(b"ch") {
            break;
        }
        first += 1;
    }
    if !(args.len() - first).is_multiple_of(3) || (nx && xx) {
        return Err(ReplyError::Syntax);
    }
    // ZADD key [options as typed] score member ...
    let mut zadd = OwnedArgs::from_slices(&[b"zadd"]);
    for i in 1..first {
        zadd.push(args.get(i));
    }
    for i in (first..args.len()).step_by(3) {
        let (lon, lat) = lon_lat(args.get(i), args.get(i + 1))?;
        let Some(score) = geohash::score_of(lon, lat) else {
            unreachable!("a checked pair always encodes");
        };
        zadd.push(score.to_string().as_bytes());
        zadd.push(args.get(i + 2));
    }
    let key = args.get(1);
    let before = ex.shard_for(key).dirty;
    zadd_handler()(ex, zadd.args())?;
    // A GEOADD that changed nothing leaves no record, as the dispatcher does for any write.
    if ex.shard_for(key).dirty != before {
        let parts: Vec<&[u8]> = zadd.args().iter().collect();
        ex.journal(key, &parts);
    }
    Ok(())
}

/// The sorted-set family's ZADD handler (found by its table name, so RENAME-COMMAND of
/// ZADD does not matter here).
fn zadd_handler() -> crate::commands::KeyFn {
    let spec = crate::commands::zset::COMMANDS
        .iter()
        .find(|c| c.name == "zadd");
    match spec.map(|s| s.handler) {
        Some(crate::commands::Handler::Key(f)) => f,
        _ => unreachable!("the sorted-set table declares ZADD"),
    }
}
