//! The shard side of the park protocol (`mesh::ParkSlot`): `ShardPeers`, this shard's `Peers`
//! over the mesh, which takes the park token, parks the other shards a section needs and hands
//! them to the section as a `Parked` view; and `park_here`, how this shard parks for another.

use super::{Parked, Peers, Shard};
use crate::mesh::{Mesh, MeshMsg, ParkSlot};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// The `Peers` of one shard: its view of the mesh, plus a stash for messages that arrive while
/// it waits for the park token (the event loop drains the stash before its inbox).
pub struct ShardPeers {
    pub mesh: Arc<Mesh>,
    pub stash: Rc<RefCell<Vec<MeshMsg>>>,
}

/// Parks this shard for another shard's section: publishes it and sleeps until released.
pub fn park_here(slot: &ParkSlot, me: &mut Shard) {
    // SAFETY: we publish our own `Shard` (as the section expects), from a unique borrow held,
    // and unused, until `park_here` returns after the release.
    unsafe { slot.park_here(me.id, me as *mut Shard as *mut ()) };
}

impl ShardPeers {
    /// While another shard holds the token it may be trying to park us: serve Park messages,
    /// stash everything else in arrival order.
    fn serve_parks(&self, me: &mut Shard) {
        while let Some(msg) = self.mesh.pop(me.id) {
            match msg {
                MeshMsg::Park(slot) => park_here(&slot, me),
                other => self.stash.borrow_mut().push(other),
            }
        }
    }
}

impl Peers for ShardPeers {
    fn with_parked(
        &self,
        me: &mut Shard,
        ids: &[usize],
        f: &mut dyn FnMut(&mut Shard, Parked<'_>),
    ) {
        let n = self.mesh.inboxes.len();
        while !self.mesh.try_take_token(me.id) {
            self.serve_parks(me);
            std::thread::yield_now();
        }
        let slot = Arc::new(ParkSlot::new(n));
        let others: Vec<usize> = ids.iter().copied().filter(|&i| i != me.id).collect();
        for &id in &others {
            self.mesh.send_blocking(id, MeshMsg::Park(slot.clone()));
        }
        slot.wait_parked(others.len());
        // Only `park_here` publishes, and its contract says it publishes a `Shard`.
        let ptrs: Vec<*mut Shard> = slot.published().into_iter().map(|p| p.cast()).collect();
        // SAFETY: each non-null entry was published by a shard that now sleeps in `park_here`
        // until `release` below, after `f` returned; a shard parks for one slot at a time, so
        // the entries are distinct, and `me` is not among them (it did not park).
        f(me, unsafe { Parked::new(&ptrs) });
        slot.release();
        self.mesh.release_token();
    }
}
