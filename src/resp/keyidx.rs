//! `KeyIdx`: the argument indexes of a command's keys, found once per command and carried
//! with it (routing, the owner's checks, the AOF barrier, expire-first, WATCH). Up to
//! `KEY_IDX_INLINE` indexes live inline, so the common one-to-three-key command allocates
//! nothing; longer lists (MSET of many pairs) spill to the heap.

use crate::constants::KEY_IDX_INLINE;

#[derive(Clone, Debug, Default)]
pub struct KeyIdx {
    /// Indexes held inline (`inline[..len]`) while `spill` is empty.
    inline: [usize; KEY_IDX_INLINE],
    len: usize,
    /// Every index, once there are more than fit inline.
    spill: Vec<usize>,
}

impl KeyIdx {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, i: usize) {
        if self.spill.is_empty() && self.len < KEY_IDX_INLINE {
            self.inline[self.len] = i;
            self.len += 1;
            return;
        }
        if self.spill.is_empty() {
            self.spill.extend_from_slice(&self.inline[..self.len]);
        }
        self.spill.push(i);
    }

    pub fn as_slice(&self) -> &[usize] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

impl std::ops::Deref for KeyIdx {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl From<Vec<usize>> for KeyIdx {
    fn from(v: Vec<usize>) -> Self {
        if v.len() <= KEY_IDX_INLINE {
            let mut k = KeyIdx::new();
            v.iter().for_each(|&i| k.push(i));
            return k;
        }
        KeyIdx {
            spill: v,
            ..KeyIdx::default()
        }
    }
}

impl PartialEq for KeyIdx {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for KeyIdx {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_then_spilled_keeps_every_index_in_order() {
        let mut k = KeyIdx::new();
        for i in 1..=KEY_IDX_INLINE {
            k.push(i);
        }
        assert_eq!(
            k.as_slice(),
            (1..=KEY_IDX_INLINE).collect::<Vec<_>>().as_slice()
        );
        k.push(99);
        let mut want: Vec<usize> = (1..=KEY_IDX_INLINE).collect();
        want.push(99);
        assert_eq!(&*k, want.as_slice());
        assert_eq!(KeyIdx::from(want.clone()).as_slice(), want.as_slice());
        assert_eq!(KeyIdx::from(vec![3]).as_slice(), &[3]);
    }
}
