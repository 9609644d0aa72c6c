//! Signals: sets, the calling thread's mask, dispositions, timed waits, and signals aimed at
//! one thread of this process.
//!
//! The only code that runs inside a signal handler is `do_nothing` below, which touches
//! nothing and so stays async-signal-safe.

use super::cvt;
use std::io;
use std::time::Duration;

/// A set of signals (`sigset_t`).
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// The set holding exactly `signals` (sigemptyset(3) and sigaddset(3)). Panics when one is
    /// not a signal number: callers pass libc's constants, so that is a programming error.
    pub fn of(signals: &[libc::c_int]) -> SigSet {
        // SAFETY: sigset_t is a plain bit array, for which all zeroes is a valid value.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: sigemptyset only writes into the valid local `set`.
        unsafe { libc::sigemptyset(&mut set) };
        for &sig in signals {
            // SAFETY: sigaddset only writes into the valid local `set`.
            let rc = unsafe { libc::sigaddset(&mut set, sig) };
            assert_eq!(rc, 0, "not a signal number: {sig}");
        }
        SigSet(set)
    }

    /// Takes a signal of this set that is pending for the calling thread (it must have them
    /// blocked), waiting up to `timeout` (sigtimedwait(2)): `Some(signal)`, or `None` when the
    /// time ran out. EINTR (a handler of another signal ran) is an error.
    pub fn wait_timeout(&self, timeout: Duration) -> io::Result<Option<libc::c_int>> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: sigtimedwait reads the valid `self.0` and `ts`; the info pointer may be null.
        match cvt(unsafe { libc::sigtimedwait(&self.0, std::ptr::null_mut(), &ts) }) {
            Ok(sig) => Ok(Some(sig)),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How `thread_mask` changes the calling thread's signal mask.
#[derive(Clone, Copy)]
pub enum MaskHow {
    /// Adds the set to the mask: its signals stay pending instead of being delivered.
    Block,
    /// Removes the set from the mask.
    Unblock,
}

/// Changes the calling thread's signal mask by `set` (pthread_sigmask(3)); threads spawned
/// afterwards start with the resulting mask.
pub fn thread_mask(how: MaskHow, set: &SigSet) -> io::Result<()> {
    let how = match how {
        MaskHow::Block => libc::SIG_BLOCK,
        MaskHow::Unblock => libc::SIG_UNBLOCK,
    };
    // SAFETY: reads the valid `set.0`; the old-mask pointer may be null.
    let rc = unsafe { libc::pthread_sigmask(how, &set.0, std::ptr::null_mut()) };
    // pthread_sigmask returns the error number instead of setting errno.
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Makes the process ignore `sig` (signal(2) with SIG_IGN), e.g. SIGPIPE.
pub fn ignore_signal(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: SIG_IGN installs no code to run, so no handler can be unsafe.
    if unsafe { libc::signal(sig, libc::SIG_IGN) } == libc::SIG_ERR {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The handler of `install_wakeup_handler`. It runs in signal context, so it must stay
/// async-signal-safe: it does nothing at all.
extern "C" fn do_nothing(_: libc::c_int) {}

/// Installs a handler that does nothing for `sig` (sigaction(2), no SA_RESTART), for a
/// signal slotd uses only to interrupt a blocking call: in a thread with `sig` unblocked, the
/// call the signal lands in returns EINTR.
pub fn install_wakeup_handler(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: sigaction is plain data (integers, a mask and a handler address), for which all
    // zeroes is valid (flags 0, SIG_DFL).
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = do_nothing as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: sigemptyset only writes into the valid local mask.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: reads the valid local `sa`, whose handler is async-signal-safe; the old-action
    // pointer may be null.
    cvt(unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) }).map(drop)
}

/// The calling thread's kernel id (gettid(2)); the call cannot fail.
pub fn thread_id() -> libc::pid_t {
    // SAFETY: gettid takes no arguments and has no side effect.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// Sends `sig` to thread `tid` of this process (tgkill(2)). Unlike pthread_kill on a
/// `pthread_t`, an id whose thread has gone is not undefined behaviour: the kernel answers
/// ESRCH (or, should a new thread of this process have reused the id, signals that one).
pub fn signal_thread(tid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    let pid = std::process::id() as libc::pid_t;
    // SAFETY: tgkill takes no pointers; it can only reach threads of this process.
    let rc = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, sig) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_signal_sent_to_this_thread_is_taken_by_the_wait() {
        // Guards the stop-signal path: a blocked signal aimed at the thread stays pending and
        // sigtimedwait returns it; with nothing pending the wait times out with None.
        let set = SigSet::of(&[libc::SIGUSR2]);
        thread_mask(MaskHow::Block, &set).unwrap();
        assert_eq!(set.wait_timeout(Duration::from_millis(1)).unwrap(), None);
        signal_thread(thread_id(), libc::SIGUSR2).unwrap();
        assert_eq!(
            set.wait_timeout(Duration::from_secs(5)).unwrap(),
            Some(libc::SIGUSR2)
        );
        thread_mask(MaskHow::Unblock, &set).unwrap();
    }

    #[test]
    fn the_wakeup_handler_swallows_its_signal() {
        // Guards the bus kick: with the no-op handler installed the signal neither kills the
        // process nor is left pending. SIGURG is unused by the test harness.
        install_wakeup_handler(libc::SIGURG).unwrap();
        signal_thread(thread_id(), libc::SIGURG).unwrap();
        assert!(signal_thread(0, libc::SIGURG).is_err());
    }
}
