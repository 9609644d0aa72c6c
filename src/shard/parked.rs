//! A safe view of the shards parked for one exclusive section (a cross-shard multi-key command,
//! EXEC over several shards, a fan-out, AOF loading): the one type that holds raw shard
//! pointers and owns the unsafety of reaching them. It hands out `&mut Shard` only through a
//! borrow of itself, so two borrows of one peer can never be alive at once, and only for as long
//! as the view lives, which its creator promises is no longer than the park holds.
//!
//! It never parks anything itself: the mesh (`Peers::with_parked`) and the AOF loader (shard
//! mutexes) establish the invariant and build the view.

use super::Shard;
use std::marker::PhantomData;

/// The parked peers of one section, indexed by shard id.
pub struct Parked<'a> {
    /// Indexed by shard id: the parked shard, or null (the section's own shard, and shards the
    /// section did not ask for).
    ptrs: &'a [*mut Shard],
    /// The view stands for unique borrows of the parked shards.
    _shards: PhantomData<&'a mut Shard>,
}

impl Parked<'static> {
    /// No peer: a command that runs on one shard.
    pub fn none() -> Self {
        Parked {
            ptrs: &[],
            _shards: PhantomData,
        }
    }
}

impl<'a> Parked<'a> {
    /// The view over `ptrs` (indexed by shard id, null where no shard is parked).
    ///
    /// # Safety
    /// For all of `'a`: every non-null entry points at a live shard that nothing else reaches
    /// (its thread is parked, or its lock is held by the caller), the non-null entries are
    /// pairwise distinct, and none of them is a shard the caller holds a reference to.
    pub unsafe fn new(ptrs: &'a [*mut Shard]) -> Self {
        Parked {
            ptrs,
            _shards: PhantomData,
        }
    }

    /// A shorter-lived view of the same peers (for an `Exec` that ends before this one).
    pub fn reborrow(&mut self) -> Parked<'_> {
        Parked {
            ptrs: self.ptrs,
            _shards: PhantomData,
        }
    }

    /// Shard `id`, when it is parked in this section.
    pub fn get(&mut self, id: usize) -> Option<&mut Shard> {
        let p = self.ptrs.get(id).copied().filter(|p| !p.is_null())?;
        // SAFETY: `new`'s contract: a live shard nothing else reaches for `'a`; the result
        // borrows `self` mutably, so no other borrow through this view is alive meanwhile.
        Some(unsafe { &mut *p })
    }

    /// Every parked shard, in id order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Shard> + '_ {
        self.ptrs
            .iter()
            .filter(|p| !p.is_null())
            // SAFETY: `new`'s contract: live, pairwise distinct shards nothing else reaches;
            // the iterator borrows `self` mutably, so these are the only borrows.
            .map(|&p| unsafe { &mut *p })
    }

    /// Every parked shard, in id order, for reading.
    pub fn iter(&self) -> impl Iterator<Item = &Shard> + '_ {
        self.ptrs
            .iter()
            .filter(|p| !p.is_null())
            // SAFETY: `new`'s contract; the iterator borrows `self`, so no `&mut` from this
            // view is alive meanwhile.
            .map(|&p| unsafe { &*p })
    }

    /// The raw entries, for a section nested in this one (`Shard::with_parked`), whose own
    /// contract takes raw pointers.
    pub fn as_ptrs(&self) -> &'a [*mut Shard] {
        self.ptrs
    }
}
