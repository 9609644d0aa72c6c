//! Arguments of the random-member commands (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): the count
//! and its bound. The numbers themselves come from the shard's generator (`shard::rng`).

use crate::resp::ReplyError;

/// Most elements a negative-count random command (SRANDMEMBER, HRANDFIELD) may return. Redis
/// has no bound and runs out of memory; slotd refuses larger counts with Redis' range error.
pub(crate) const RANDOM_COUNT_MAX: u64 = 10_000_000;

/// A random-count argument as SRANDMEMBER and HRANDFIELD read it: any integer except
/// i64::MIN (whose absolute value does not fit).
pub(crate) fn random_count(raw: &[u8]) -> Result<i64, ReplyError> {
    let v = super::number::i64_arg(raw)?;
    if v == i64::MIN {
        return Err(ReplyError::CountNotAbsolute);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_their_errors() {
        // Any integer but i64::MIN, whose absolute value does not fit; Redis' texts.
        assert_eq!(random_count(b"-5"), Ok(-5));
        assert_eq!(
            random_count(b"x").map_err(|e| e.text()),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            random_count(b"-9223372036854775808").map_err(|e| e.text()),
            Err(
                "ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807"
                    .into()
            )
        );
    }
}
