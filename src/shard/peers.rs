//! The shard side of the park protocol (`mesh::ParkSlot`): `ShardPeers`, this shard's `Peers`
//! over the mesh, which takes the park token, parks the other shards a section needs and hands
//! them to the section as a `Parked` view (or, for a script mid-run, as a `Held` park taken
//! without waiting for the token); and `park_here`, how this shard parks for another.
//!
//! A shard whose script is past busy-reply-threshold must not be parked by a client's section
//! (the section would see the script half-run): such a section is abandoned with `BusyShard`
//! when a target refuses (it is suspended between slices) or shows busy before parking (it is
//! stuck in a script that cannot yield and does not read its inbox). Nothing waits for a busy
//! script then, so nothing can wait in a cycle through it.

use super::{BusyShard, Parked, Peers, Shard};
use crate::constants::SCRIPT_TAKE_PARK_MS;
use crate::global::Global;
use crate::mesh::{BusyPark, Mesh, MeshMsg, ParkSlot};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// At shutdown, once this shard's loop ended: it stays parkable until every shard's loop
/// ended, dropping whatever else arrives. A section another shard began before it saw the
/// shutdown (a WATCH on a core lent to a suspended script, waiting for the script's token,
/// then parking the key's core) would otherwise wait for a thread that is gone, and the node
/// would never exit. A shard's loop ends only between sections, and a lingering shard starts
/// none, so once every loop ended no park request can come.
pub fn linger(mesh: &Mesh, me: &mut Shard) {
    mesh.loop_ended();
    loop {
        while let Some(msg) = mesh.pop(me.id) {
            if let MeshMsg::Park(slot) = msg {
                park_here(&slot, me);
            }
        }
        if mesh.all_loops_ended() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Shard `id` runs a script past the threshold (one relaxed load).
fn busy(global: &Global, id: usize) -> bool {
    global.script_runs[id].busy.load(Ordering::Relaxed)
}

/// The refusal naming shard `id`'s script.
fn busy_shard(global: &Global, id: usize) -> BusyShard {
    BusyShard {
        id,
        function: global.script_runs[id].is_function.load(Ordering::Relaxed),
    }
}

/// A park that outlives one call (a script over several shards, `Peers::park`, or one that
/// took shards mid-run, `Peers::try_park` / `park_more`): the shards stay parked, and the
/// token held, until it is dropped.
///
/// Between two slices of a suspended run the park is lent back (`lend`): the shards return to
/// their own loops, which see their busy flag (lent by the run) and answer their clients
/// -BUSY without touching their keyspace (`net::script_loop`), and `recall` parks them again
/// before the next slice. The token stays with the holder all along.
pub struct Held {
    mesh: Arc<Mesh>,
    /// One slot per time shards were added (none while lent).
    slots: Vec<Arc<ParkSlot>>,
    /// Indexed by shard id: the held shards, null for the holder and shards not held. While
    /// lent they name the shards only: nothing may reach them.
    ptrs: Vec<*mut Shard>,
    /// Lent back to their loops (`lend`); the busy flags to clear if dropped so.
    lent: Option<Arc<Global>>,
    /// The token was the holder's already (a section between two slices of its own
    /// suspended run, `Peers::park`): it stays taken when this park ends.
    token_borrowed: bool,
}

impl Held {
    /// The parked shards, for as long as this borrow lasts.
    pub fn view(&mut self) -> Parked<'_> {
        assert!(self.lent.is_none(), "a lent park is recalled before use");
        // SAFETY: every non-null entry was published by a shard that sleeps in `park_here`
        // until `drop` releases the slot, which cannot happen while this borrow lives; the
        // entries are distinct (a shard parks for one slot at a time) and the holder, the only
        // shard the caller holds a reference to, did not park.
        unsafe { Parked::new(&self.ptrs) }
    }

    /// The raw entries, for fan-out calls nested in the run (`Shard::parked`).
    pub fn ptrs(&self) -> &[*mut Shard] {
        assert!(self.lent.is_none(), "a lent park is recalled before use");
        &self.ptrs
    }

    /// Between two slices: the held shards go back to their own loops. Their busy flags must
    /// be set already (`dispatch::script::lend_busy`): that is how they know they are lent.
    pub fn lend(&mut self, global: &Arc<Global>) {
        if self.lent.is_some() {
            return;
        }
        self.lent = Some(global.clone());
        for s in self.slots.drain(..) {
            s.release();
        }
    }

    /// Before the next slice: parks the lent shards again and waits until they did. A lent
    /// shard serves any park request at once and does not stop its loop while lent, so this
    /// wait ends.
    pub fn recall(&mut self) {
        if self.lent.take().is_none() {
            return;
        }
        let n = self.ptrs.len();
        let ids: Vec<usize> = (0..n).filter(|&i| !self.ptrs[i].is_null()).collect();
        let slot = Arc::new(ParkSlot::with_busy(n, BusyPark::Wait));
        for &id in &ids {
            self.mesh.send_blocking(id, MeshMsg::Park(slot.clone()));
        }
        slot.wait_parked(ids.len());
        for &id in &ids {
            // A shard's state lives in its event loop for the thread's life: the same
            // address every time (the run inside an EXEC keeps them, `Resumable::section`).
            assert_eq!(
                slot.published()[id].cast(),
                self.ptrs[id],
                "shard {id} moved"
            );
        }
        self.slots.push(slot);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(global) = self.lent.take() {
            // The run is dropped between slices (its shard stops): the lent shards must see
            // it ended, or they would keep answering -BUSY (and keep their loops running).
            for (id, p) in self.ptrs.iter().enumerate() {
                if !p.is_null() {
                    global.script_runs[id].busy.store(false, Ordering::Release);
                }
            }
        }
        for s in &self.slots {
            s.release();
        }
        if !self.token_borrowed {
            self.mesh.release_token();
        }
    }
}

impl ShardPeers {
    /// While another shard holds the token it may be trying to park us: serve Park messages,
    /// stash everything else in arrival order. A busy shard (here for a command Redis allows
    /// while busy) refuses a section that may be refused rather than show its script half-run.
    fn serve_parks(&self, me: &mut Shard) {
        while let Some(msg) = self.mesh.pop(me.id) {
            match msg {
                MeshMsg::Park(slot)
                    if slot.busy_mode() == BusyPark::Refuse && busy(&me.global, me.id) =>
                {
                    slot.refuse()
                }
                MeshMsg::Park(slot) => park_here(&slot, me),
                other => self.stash.borrow_mut().push(other),
            }
        }
    }

    /// Sends the park requests of a section held by `me` (token taken) and waits until every
    /// other shard of `ids` parked; under `BusyPark::Refuse` gives up (releasing what parked,
    /// the caller gives the token back) on the first busy shard. With a `deadline`, also gives up when the others have not all
    /// parked by then.
    fn park_set(
        &self,
        global: &Global,
        me: usize,
        ids: &[usize],
        mode: BusyPark,
        deadline: Option<Instant>,
    ) -> Result<Arc<ParkSlot>, Option<BusyShard>> {
        let n = self.mesh.inboxes.len();
        let others: Vec<usize> = ids.iter().copied().filter(|&i| i != me).collect();
        let refuse = mode == BusyPark::Refuse;
        if refuse {
            if let Some(&id) = others.iter().find(|&&i| busy(global, i)) {
                return Err(Some(busy_shard(global, id)));
            }
        }
        let slot = Arc::new(ParkSlot::with_busy(n, mode));
        for &id in &others {
            self.mesh.send_blocking(id, MeshMsg::Park(slot.clone()));
        }
        while slot.parked_count() < others.len() {
            let busy_one = refuse.then(|| gave_up(global, &slot, &others)).flatten();
            let late = deadline.is_some_and(|d| Instant::now() >= d);
            if busy_one.is_some() || late {
                // Shards that parked resume; those that have not read the request yet find
                // the slot released and do not park.
                slot.release();
                return Err(busy_one.map(|id| busy_shard(global, id)));
            }
            std::thread::park_timeout(Duration::from_millis(1));
        }
        Ok(slot)
    }
}

/// A shard of `others` that will not park for `slot`: it refused, or it shows busy without
/// having parked (a script that cannot yield does not read its inbox).
fn gave_up(global: &Global, slot: &ParkSlot, others: &[usize]) -> Option<usize> {
    let mut unparked = others.iter().copied().filter(|&i| !slot.is_parked(i));
    if slot.refused() {
        return unparked.next();
    }
    unparked.find(|&i| busy(global, i))
}

impl ShardPeers {
    /// The park of a slot every other shard of the section parked for.
    fn held(&self, slot: Arc<ParkSlot>) -> Held {
        // Only `park_here` publishes, and its contract says it publishes a `Shard`.
        let ptrs = slot.published().into_iter().map(|p| p.cast()).collect();
        Held {
            mesh: self.mesh.clone(),
            slots: vec![slot],
            ptrs,
            lent: None,
            token_borrowed: false,
        }
    }
}

impl Peers for ShardPeers {
    fn park(&self, me: &mut Shard, ids: &[usize], mode: BusyPark) -> Result<Held, BusyShard> {
        let global = me.global.clone();
        // This shard holds the token already only when a run of its own is suspended between
        // slices with its shards lent back (`Held::lend`): a section of this core meanwhile
        // (WATCH of a key there) parks them under that token, as the next slice will.
        let own = self.mesh.token_holder() == Some(me.id);
        while !own && !self.mesh.try_take_token(me.id) {
            // A client's section does not wait behind a script past the threshold that holds
            // the token (a run over several shards, suspended between slices).
            let holder = self.mesh.token_holder();
            if let Some(h) = holder.filter(|&h| mode == BusyPark::Refuse && busy(&global, h)) {
                return Err(busy_shard(&global, h));
            }
            self.serve_parks(me);
            std::thread::yield_now();
        }
        let slot = self
            .park_set(&global, me.id, ids, mode, None)
            .map_err(|e| {
                if !own {
                    self.mesh.release_token();
                }
                e.expect("only a deadline gives up without a busy shard")
            })?;
        let mut held = self.held(slot);
        held.token_borrowed = own;
        Ok(held)
    }

    fn with_parked(
        &self,
        me: &mut Shard,
        ids: &[usize],
        mode: BusyPark,
        f: &mut dyn FnMut(&mut Shard, Parked<'_>),
    ) -> Result<(), BusyShard> {
        let mut held = self.park(me, ids, mode)?;
        f(me, held.view());
        // Dropping `held` releases the parked shards and the token.
        Ok(())
    }

    fn try_park(&self, global: &Global, me: usize, ids: &[usize]) -> Option<Held> {
        // Never wait for the token here: its holder may be waiting for this shard, which is
        // in the middle of a script and reads no park request until the script ends.
        if !self.mesh.try_take_token(me) {
            return None;
        }
        // Bounded as well: whatever keeps a shard from parking, the script falls back.
        let deadline = Instant::now() + Duration::from_millis(SCRIPT_TAKE_PARK_MS);
        let Ok(slot) = self.park_set(global, me, ids, BusyPark::Refuse, Some(deadline)) else {
            self.mesh.release_token();
            return None;
        };
        Some(self.held(slot))
    }

    fn park_more(&self, global: &Global, me: usize, held: &mut Held, ids: &[usize]) -> bool {
        let missing: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&i| i != me && held.ptrs[i].is_null())
            .collect();
        if missing.is_empty() {
            return true;
        }
        // The token is ours already (held); the same bound as `try_park`.
        let deadline = Instant::now() + Duration::from_millis(SCRIPT_TAKE_PARK_MS);
        let Ok(slot) = self.park_set(global, me, &missing, BusyPark::Refuse, Some(deadline)) else {
            return false;
        };
        for (i, p) in slot.published().into_iter().enumerate() {
            if !p.is_null() {
                held.ptrs[i] = p.cast();
            }
        }
        held.slots.push(slot);
        true
    }
}
