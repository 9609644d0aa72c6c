//! Argument forms led by a key count: `numkeys key... <side> [COUNT n]` (LMPOP, BLMPOP,
//! ZMPOP, BZMPOP) and the count itself (SINTERCARD). Checked in Redis' order, with its texts.

use super::ArgCursor;
use crate::resp::{Args, ReplyError};
use std::ops::Range;

impl ArgCursor<'_> {
    /// A key count: a positive integer, else "ERR numkeys should be greater than 0" (a
    /// non-integer included, as Redis' `getRangeLongFromObjectOrReply` answers).
    pub(crate) fn next_numkeys(&mut self) -> Result<u64, ReplyError> {
        Ok(self.next_i64_in(1, i64::MAX, ReplyError::NumkeysNotPositive)? as u64)
    }
}

/// `numkeys key... <side> [COUNT n]` read from `numkeys_at` on.
pub(crate) struct Mpop<T> {
    /// Argument indexes of the keys.
    pub keys: Range<usize>,
    pub side: T,
    /// How many elements to pop (1 without COUNT).
    pub count: u64,
}

/// Parses the multi-pop form. `side` reads the word after the keys (LEFT/RIGHT, MIN/MAX),
/// None being a syntax error. Keys running past the end, a second COUNT or any other word are
/// syntax errors; COUNT below 1 (or not an integer) is "ERR count should be greater than 0".
pub(crate) fn parse_mpop<T>(
    args: Args<'_>,
    numkeys_at: usize,
    side: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<Mpop<T>, ReplyError> {
    let mut cur = ArgCursor::new(args, numkeys_at);
    let numkeys = cur.next_numkeys()?;
    let first = numkeys_at + 1;
    if numkeys >= (args.len() - first) as u64 {
        return Err(ReplyError::Syntax);
    }
    let side_at = first + numkeys as usize;
    let side = side(args.get(side_at)).ok_or(ReplyError::Syntax)?;
    let mut cur = ArgCursor::new(args, side_at + 1);
    let mut count = None;
    while !cur.is_done() {
        if count.is_some() || cur.remaining() < 2 || !cur.flag("COUNT") {
            return Err(ReplyError::Syntax);
        }
        count = Some(cur.next_i64_in(1, i64::MAX, ReplyError::CountNotPositive)? as u64);
    }
    Ok(Mpop {
        keys: first..side_at,
        side,
        count: count.unwrap_or(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn mpop(v: &[&str]) -> Result<(Range<usize>, bool, u64), String> {
        let slices: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        let a = OwnedArgs::from_slices(&slices);
        let side = |w: &[u8]| match w {
            b"MIN" => Some(false),
            b"MAX" => Some(true),
            _ => None,
        };
        parse_mpop(a.args(), 1, side)
            .map(|m| (m.keys, m.side, m.count))
            .map_err(|e| e.text())
    }

    #[test]
    fn multi_pop_forms_and_errors() {
        // Guards Redis' order: numkeys, keys in range, side word, then COUNT once.
        assert_eq!(mpop(&["ZMPOP", "2", "a", "b", "MAX"]), Ok((2..4, true, 1)));
        assert_eq!(
            mpop(&["ZMPOP", "1", "a", "MIN", "count", "5"]),
            Ok((2..3, false, 5))
        );
        let numkeys = Err("ERR numkeys should be greater than 0".to_string());
        assert_eq!(mpop(&["ZMPOP", "0", "a", "MIN"]), numkeys);
        assert_eq!(mpop(&["ZMPOP", "x", "a", "MIN"]), numkeys);
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(mpop(&["ZMPOP", "2", "a", "MIN"]), syntax);
        assert_eq!(mpop(&["ZMPOP", "1", "a", "LEFT", "COUNT", "0"]), syntax);
        assert_eq!(mpop(&["ZMPOP", "1", "a", "MIN", "COUNT"]), syntax);
        assert_eq!(
            mpop(&["ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1"]),
            syntax
        );
        assert_eq!(
            mpop(&["ZMPOP", "1", "a", "MIN", "COUNT", "0"]),
            Err("ERR count should be greater than 0".into())
        );
    }
}
