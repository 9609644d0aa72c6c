//! The machine stack scripts run on. Each resume of a script's coroutine (`lua_resume`) runs on
//! a stack of its own, so the count hook can take a script off the core wherever it is, even
//! where Lua 5.1 cannot yield (a metamethod, a generic `for` iterator, a `string.gsub`
//! callback, any C function calling Lua): the hook switches back to the shard loop's stack
//! (`leave`), the run looks suspended to the runner, and the next resume switches to the
//! script's stack again, where the hook returns as if nothing happened. Redis serves its
//! event loop from inside that hook; a shard cannot, so it leaves instead.
//!
//! One stack per shard VM, reused run after run: a corosensei coroutine whose body loops,
//! one `lua_resume` per request. Lua's errors (longjmp) start and end inside that one call,
//! so they never cross a stack switch. A Rust panic aborts the server, as everywhere in it
//! (`panic = "abort"`); built with unwinding, corosensei would carry it to the caller of
//! `resume` and the stack would be rebuilt for the next run.
//!
//! One rule follows: no mlua callback may call a script's Lua code (mlua points its current
//! state at the calling coroutine while a callback runs, and a hook leaving from under it would
//! leave it there). The engine's functions that call script code (`load`'s reader, `pcall`,
//! the sort, the coroutine functions) are C functions over the C API.

use crate::constants::LUA_MACHINE_STACK_BYTES;
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use mlua::ffi;
use std::cell::Cell;
use std::ffi::c_int;

/// What the shard loop asks of the stack.
enum Ask {
    /// `lua_resume(co, nargs)`.
    Resume {
        co: *mut ffi::lua_State,
        nargs: c_int,
    },
    /// Return into the hook that left.
    Continue,
}

/// What the stack answers.
enum Answer {
    /// `lua_resume` returned this status.
    Done(c_int),
    /// The hook left mid-run (`leave`).
    Left,
}

type Machine = Coroutine<Ask, Answer, (), DefaultStack>;

thread_local! {
    /// The yielder of the stack whose Lua code runs on this thread right now; null on the shard
    /// loop's stack (and while a left run waits), so `leave` knows where it is.
    static YIELDER: Cell<*const Yielder<Ask, Answer>> = const { Cell::new(std::ptr::null()) };
}

/// How a resume on the stack ended.
pub(super) enum Outcome {
    /// `lua_resume`'s status.
    Status(c_int),
    /// The hook left; continue the run with `ScriptStack::resume_left(ticket)`.
    Left(u64),
}

/// One shard VM's script stack (made at its first run).
pub(super) struct ScriptStack {
    machine: Option<Machine>,
    /// The ticket of the run that left and waits on the stack, if one does.
    left: Option<u64>,
    tickets: u64,
}

impl Default for ScriptStack {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptStack {
    pub fn new() -> ScriptStack {
        ScriptStack {
            machine: None,
            left: None,
            tickets: 0,
        }
    }

    /// Runs `lua_resume(co, nargs)` on the script stack. A run still waiting there (never
    /// resumed: its `Suspended` was dropped) is abandoned first.
    ///
    /// # Safety
    /// `co` is a live coroutine of a Lua state, with `nargs` values ready for `lua_resume`,
    /// and nothing else resumes it meanwhile.
    pub unsafe fn resume(&mut self, co: *mut ffi::lua_State, nargs: c_int) -> Outcome {
        if !YIELDER.with(|y| y.get()).is_null() {
            // Already on a script stack (no engine path does this): run here.
            // SAFETY: the caller's guarantees.
            return Outcome::Status(unsafe { ffi::lua_resume_(co, nargs) });
        }
        self.abandon();
        let _clear = ClearYielder;
        let answer = self.machine().resume(Ask::Resume { co, nargs });
        self.answer(answer)
    }

    /// Continues the run that left with `ticket`; None when it is not the one waiting (it was
    /// abandoned).
    pub fn resume_left(&mut self, ticket: u64) -> Option<Outcome> {
        if self.left != Some(ticket) {
            return None;
        }
        self.left = None;
        let _clear = ClearYielder;
        let answer = self.machine().resume(Ask::Continue);
        Some(self.answer(answer))
    }

    /// Forgets a run waiting on the stack (its coroutine is dropped or its state closed): the
    /// stack is reset without running anything left on it.
    pub fn abandon(&mut self) {
        if self.left.take().is_none() {
            return;
        }
        if let Some(mut m) = self.machine.take() {
            // SAFETY: the frames left on the stack are the body's loop, Lua's C frames, the
            // hook and the engine's C functions, none of which owns anything while Lua code
            // runs above it (no mlua callback runs script code, see above). The Lua coroutine
            // they ran is dropped by its owner, never resumed.
            unsafe { m.force_reset() };
            self.machine = Some(build(m.into_stack()));
        }
    }

    fn machine(&mut self) -> &mut Machine {
        if self.machine.as_ref().is_none_or(|m| m.done()) {
            // First use, or the body ended by a panic (carried to the caller of `resume`).
            let stack = match self.machine.take() {
                Some(m) => m.into_stack(),
                None => DefaultStack::new(LUA_MACHINE_STACK_BYTES).expect("mapping a script stack"),
            };
            self.machine = Some(build(stack));
        }
        self.machine.as_mut().expect("made above")
    }

    fn answer(&mut self, answer: CoroutineResult<Answer, ()>) -> Outcome {
        match answer {
            CoroutineResult::Yield(Answer::Done(status)) => Outcome::Status(status),
            CoroutineResult::Yield(Answer::Left) => {
                self.tickets += 1;
                self.left = Some(self.tickets);
                Outcome::Left(self.tickets)
            }
            // The body loops forever; a panic resumes unwinding in `Coroutine::resume`.
            CoroutineResult::Return(()) => unreachable!("the script stack's body returned"),
        }
    }
}

impl Drop for ScriptStack {
    fn drop(&mut self) {
        // corosensei's own drop would unwind the stack with a panic (an abort under
        // panic=abort, and a run left waiting has Lua's C frames on it): reset it instead.
        // Between runs only the body's loop is there, waiting for its next request.
        self.abandon();
        if let Some(m) = self.machine.as_mut() {
            // SAFETY: nothing on the stack owns anything (see `abandon`; the body's loop holds
            // only plain values between runs).
            unsafe { m.force_reset() };
        }
    }
}

/// Clears YIELDER when a switch to the stack ends, also by a panic carried over from it (the
/// yielder it held died with the stack's body).
struct ClearYielder;

impl Drop for ClearYielder {
    fn drop(&mut self) {
        YIELDER.with(|c| c.set(std::ptr::null()));
    }
}

fn build(stack: DefaultStack) -> Machine {
    Coroutine::with_stack(stack, |y: &Yielder<Ask, Answer>, mut ask: Ask| loop {
        let answer = match ask {
            Ask::Resume { co, nargs } => {
                YIELDER.with(|c| c.set(y));
                // SAFETY: `ScriptStack::resume`'s caller vouches for `co` and its values.
                let status = unsafe { ffi::lua_resume_(co, nargs) };
                YIELDER.with(|c| c.set(std::ptr::null()));
                Answer::Done(status)
            }
            // Nothing waits: `resume_left` checks its ticket first, so this is never sent.
            Ask::Continue => Answer::Done(ffi::LUA_ERRRUN),
        };
        ask = y.suspend(answer);
    })
}

/// Called by the count hook: when the run is on a script stack, switches back to the shard
/// loop's stack and returns once the runner continues the run (true). False, at once, when
/// the code runs on the shard loop's own stack (nothing to leave to).
pub(super) fn leave() -> bool {
    let y = YIELDER.with(|c| c.replace(std::ptr::null()));
    if y.is_null() {
        return false;
    }
    // SAFETY: YIELDER is set only by the stack's body while its `lua_resume` runs, so `y`
    // points to that body's live yielder and this code runs on that stack.
    let ask = unsafe { (*y).suspend(Answer::Left) };
    debug_assert!(matches!(ask, Ask::Continue));
    YIELDER.with(|c| c.set(y));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Lua;
    use std::time::Instant;

    /// Runs `return 1` on a coroutine `n` times, on the script stack or not: nanoseconds per
    /// run.
    fn runs(on_stack: bool, n: u32) -> f64 {
        let lua = Lua::new();
        let f = lua.load("return 1").into_function().unwrap();
        let co = lua.create_thread(f.clone()).unwrap();
        let mut stack = ScriptStack::new();
        let state = co.state();
        let t = Instant::now();
        for _ in 0..n {
            // SAFETY: exec_raw runs the closure inside a protected call on mlua's stack with
            // `f` on it; the coroutine is finished (or new), gets the function moved to it and
            // is resumed, then emptied.
            let r: mlua::Result<()> = unsafe {
                lua.exec_raw(&f, |l| {
                    ffi::lua_settop(state, 0);
                    ffi::lua_xmove(l, state, 1);
                    let status = if on_stack {
                        match stack.resume(state, 0) {
                            Outcome::Status(s) => s,
                            Outcome::Left(_) => -1,
                        }
                    } else {
                        ffi::lua_resume_(state, 0)
                    };
                    assert_eq!(status, 0);
                    ffi::lua_settop(state, 0);
                })
            };
            r.unwrap();
        }
        t.elapsed().as_nanos() as f64 / n as f64
    }

    #[test]
    fn runs_on_the_stack_return_as_off_it() {
        runs(true, 100);
        runs(false, 100);
    }

    /// What the stack adds to a run (`cargo test --release --lib lua::stack -- --ignored
    /// --nocapture`): prints nanoseconds per run both ways, alternating, for the perf notes.
    #[test]
    #[ignore]
    fn switch_cost() {
        for round in 0..5 {
            let on = runs(true, 1_000_000);
            let off = runs(false, 1_000_000);
            println!("round {round}: on the script stack {on:.1} ns, on the caller's {off:.1} ns");
        }
    }
}
