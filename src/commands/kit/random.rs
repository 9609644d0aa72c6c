//! Random-count arguments (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): how they are read and the
//! bound slotd puts on negative counts.

use crate::resp::ReplyError;

/// Most elements a negative-count random command (SRANDMEMBER, HRANDFIELD) may return. Redis
/// has no bound and runs out of memory; slotd refuses larger counts with Redis' range error.
pub(crate) const RANDOM_COUNT_MAX: u64 = 10_000_000;

/// A random-count argument as SRANDMEMBER, HRANDFIELD and ZRANDMEMBER read it: any integer
/// except i64::MIN (whose absolute value does not fit).
pub(crate) fn random_count(raw: &[u8]) -> Result<i64, ReplyError> {
    let v = super::number::i64_arg(raw)?;
    if v == i64::MIN {
        return Err(ReplyError::CountNotAbsolute);
    }
    Ok(v)
}

/// A count whose reply carries pairs (HRANDFIELD WITHVALUES, ZRANDMEMBER WITHSCORES) must fit
/// twice: Redis refuses any magnitude above `i64::MAX / 2`, positive or negative, before it
/// looks at the key.
pub(crate) fn check_pair_count(count: i64) -> Result<(), ReplyError> {
    if count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(ReplyError::ValueOutOfRange);
    }
    Ok(())
}
