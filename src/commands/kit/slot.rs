//! Hash-slot arguments as Redis' `getSlotOrReply` reads them: an integer in `0..16384`, and
//! "ERR Invalid or out of range slot" for anything else (not a number, negative, too large).

use super::number::parse_i64;
use super::ArgCursor;
use crate::constants::SLOT_COUNT;
use crate::resp::ReplyError;

impl ArgCursor<'_> {
    /// The next argument as a hash slot.
    pub(crate) fn next_slot(&mut self) -> Result<u16, ReplyError> {
        match parse_i64(self.next()?) {
            Some(s) if (0..SLOT_COUNT as i64).contains(&s) => Ok(s as u16),
            _ => Err(ReplyError::InvalidSlot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    #[test]
    fn slots_and_their_one_error() {
        // Bounds are inclusive of 0 and 16383; every other value has the same text.
        let a = OwnedArgs::from_slices(&[&b"X"[..], b"0", b"16383", b"16384", b"-1", b"a"]);
        let mut c = ArgCursor::new(a.args(), 1);
        assert_eq!(c.next_slot(), Ok(0));
        assert_eq!(c.next_slot(), Ok(16383));
        for _ in 0..3 {
            assert_eq!(c.next_slot(), Err(ReplyError::InvalidSlot));
        }
    }
}
