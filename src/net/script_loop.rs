//! The event loop's side of a script past `busy-reply-threshold` (Redis' "busy" state, kept
//! to one shard): the run the dispatcher left suspended is continued one slice per turn;
//! meanwhile the shard's other commands get -BUSY (the dispatcher's checks read the shard's
//! `RunControl`), later commands of the script's own connection wait for its reply, and
//! what must not see a half-run script (park requests of other shards, the replica stream,
//! slot maps dropping keys, blocked clients, active expiry and eviction) waits for its end,
//! except a client's section, which is refused at once (its command gets -BUSY).
//! Other shards never wait: they answer -BUSY for this shard themselves. The journal is not
//! written or fed to replicas meanwhile, so the script's writes stay one MULTI/EXEC block.
//!
//! A shard that a suspended run on another shard holds is lent back to its loop between the
//! run's slices (`shard::peers::Held::lend`): it finds its busy flag set as its park ends and
//! waits the same way (a `ScriptWait` with no run), so its clients get -BUSY and reach SCRIPT
//! KILL and SHUTDOWN NOSAVE, and shard 0 accepts connections; the run's next park request is
//! served at once, and the wait ends when a park ends with the flag cleared.

use super::*;
use crate::shard::suspended::Suspended;

/// The suspended run and what waits for its end.
pub(super) struct ScriptWait {
    /// None on a shard lent by another shard's run.
    run: Option<Box<Suspended>>,
    /// Where its reply goes: the connection's shard, the connection, its reply chunk.
    home: usize,
    conn: ConnRef,
    seq: u64,
    /// Later requests of the script's own connection (from `home`), run once it ends.
    held: Requests,
    /// Messages that must not see a half-run script, handled in order once it ends.
    deferred: Vec<MeshMsg>,
}

impl ScriptWait {
    /// Takes the run the dispatcher left in `shard.suspended`, with its reply's address.
    pub(super) fn take(shard: &mut Shard, home: usize, conn: ConnRef, seq: u64) -> ScriptWait {
        let run = shard
            .suspended
            .take()
            .expect("Plan::Suspended leaves a suspended run");
        ScriptWait {
            run: Some(run),
            home,
            conn,
            seq,
            held: Requests::default(),
            deferred: Vec::new(),
        }
    }

    /// The request comes from the script's own connection: it waits for the script's reply.
    pub(super) fn holds(&self, from: usize, conn: ConnRef) -> bool {
        self.run.is_some() && self.home == from && self.conn == conn
    }

    /// The loop has nothing to run for it, so it may sleep (a lent shard).
    pub(super) fn is_lent(&self) -> bool {
        self.run.is_none()
    }
}

/// This shard's busy flag: set by a run that holds it and lends it back between slices.
fn flagged(shard: &Shard) -> bool {
    shard.global.script_runs[shard.id]
        .busy
        .load(Ordering::Acquire)
}

impl Reactor {
    /// A message during a suspended script: handed back when it may be handled now, kept for
    /// the script's end otherwise.
    pub(super) fn defer_while_busy(&mut self, msg: MeshMsg) -> Option<MeshMsg> {
        let Some(w) = self.script.as_mut() else {
            return Some(msg);
        };
        match msg {
            // Lent: only the run's holder has the token, so this is its park (the next slice,
            // or a section of its core): served at once, and the wait goes on unless the run
            // ended meanwhile.
            MeshMsg::Park(slot) if w.is_lent() => {
                crate::shard::peers::park_here(&slot, &mut self.shard);
                self.reap_killed();
                self.lent_check();
                None
            }
            // A client's section answers -BUSY at once rather than wait for the script.
            MeshMsg::Park(slot) if slot.busy_mode() == crate::mesh::BusyPark::Refuse => {
                slot.refuse();
                None
            }
            MeshMsg::Park(_) | MeshMsg::ReplApply(_) | MeshMsg::SlotMap(_) => {
                w.deferred.push(msg);
                None
            }
            other => Some(other),
        }
    }

    /// Keeps a request of the script's own connection for the script's end (true), in order.
    pub(super) fn hold_request(&mut self, from: usize, batch: &Requests, c: &RemoteCmd) -> bool {
        let Some(w) = self.script.as_mut().filter(|w| w.holds(from, c.conn)) else {
            return false;
        };
        let args = batch.args(c);
        w.held.push(
            c.conn,
            c.seq,
            c.cmd,
            c.keys.clone(),
            c.proto,
            c.owner_checks,
            c.db,
            c.client,
            args,
        );
        true
    }

    /// A script that yielded where nobody waits for its reply (a master's stream applied
    /// here): it runs to its end now, as the stream's order requires.
    pub(super) fn finish_inline(&mut self) {
        if let Some(mut run) = self.shard.suspended.take() {
            let mut sink = Vec::new();
            let mut out = Out::new(&mut sink, run.proto);
            while !(run.resume)(&mut self.shard, &mut out, self.now_ms) {}
        }
    }

    /// After a park ends: lent by a suspended run of another shard (its busy flag set, no
    /// script of its own), this shard waits for that run's end as for its own script.
    pub(super) fn lent_check(&mut self) {
        match self.script.as_ref() {
            None if flagged(&self.shard) => {
                self.script = Some(ScriptWait {
                    run: None,
                    home: usize::MAX,
                    conn: ConnRef { idx: 0, gen: 0 },
                    seq: 0,
                    held: Requests::default(),
                    deferred: Vec::new(),
                });
            }
            Some(w) if w.is_lent() && !flagged(&self.shard) => {
                let Some(w) = self.script.take() else {
                    return;
                };
                for m in w.deferred {
                    self.on_message(m);
                }
            }
            _ => {}
        }
    }

    /// One slice of the suspended script, if any; at its end the reply goes out, the
    /// script's connection reads again and whatever waited is handled.
    pub(super) fn script_turn(&mut self) {
        let Some(w) = self.script.as_mut() else {
            return;
        };
        let Some(run) = w.run.as_mut() else {
            // Lent: the run's holder clears the flag if it stopped between slices.
            return self.lent_check();
        };
        let mut buf = Vec::new();
        let proto = run.proto;
        let ended = (run.resume)(&mut self.shard, &mut Out::new(&mut buf, proto), self.now_ms);
        if !ended {
            return;
        }
        let Some(w) = self.script.take() else {
            return;
        };
        // The runner clears the run's state as it ends; -BUSY must stop with it in any case.
        self.shard.global.script_runs[self.shard.id]
            .busy
            .store(false, Ordering::Release);
        self.deliver(w.home, w.conn, w.seq, &buf);
        if w.home == self.shard.id {
            if let Some(c) = conn_at(&mut self.conns, w.conn) {
                c.script_held = false;
                if !c.rbuf.is_empty() {
                    c.enlist_parse(&mut self.parse_queue, w.conn.idx as usize);
                }
            }
        }
        if !w.held.is_empty() {
            self.serve_requests(w.home, w.held);
        }
        for m in w.deferred {
            self.on_message(m);
        }
    }
}
