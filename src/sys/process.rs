//! Process-wide calls: resource limits, daemonizing, the kernel's name, CPU usage, system
//! constants and random bytes.

use super::cvt;
use std::io;

/// A resource's (soft, hard) limit, as getrlimit(2) reports it (`libc::RLIM_INFINITY` for
/// none).
pub fn getrlimit(resource: libc::__rlimit_resource_t) -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the valid local `lim`.
    cvt(unsafe { libc::getrlimit(resource, &mut lim) })?;
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Sets a resource's soft and hard limits with setrlimit(2).
pub fn setrlimit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the valid local `lim`.
    cvt(unsafe { libc::setrlimit(resource, &lim) }).map(drop)
}

/// Threads of this process, from /proc/self/task; None when that cannot be read.
fn thread_count() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/task").ok()?.count())
}

/// Forks into the background like Redis: the parent exits at once (`_exit(0)`, running no
/// destructors or atexit handlers), and in the child, which returns, a new session starts
/// (setsid) and stdin, stdout and stderr point at /dev/null. Only fork's failure is
/// reported; setsid or /dev/null failing leaves the child as it is, as Redis does.
///
/// Must run while the process has a single thread, since the child of a threaded process may
/// only make async-signal-safe calls; it refuses (error, no fork) when other threads exist.
pub fn daemonize() -> io::Result<()> {
    if thread_count().is_some_and(|n| n > 1) {
        return Err(io::Error::other("other threads exist"));
    }
    // SAFETY: the process has one thread (checked above), so the child is a full copy of a
    // consistent process and may run anything.
    match cvt(unsafe { libc::fork() })? {
        0 => {}
        // SAFETY: _exit ends the parent at once; nothing of it is used afterwards.
        _ => unsafe { libc::_exit(0) },
    }
    // SAFETY: setsid takes no arguments.
    unsafe { libc::setsid() };
    // SAFETY: the path is a NUL-terminated literal.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    if null >= 0 {
        for stdio in 0..=2 {
            // SAFETY: dup2 takes no pointers; replacing stdio is the purpose here, and no
            // Rust object owns descriptors 0 to 2.
            unsafe { libc::dup2(null, stdio) };
        }
        if null > 2 {
            // SAFETY: `null` is the descriptor opened above, used by nothing else.
            unsafe { libc::close(null) };
        }
    }
    Ok(())
}

/// The kernel's name, release and machine, as uname(2) reports them.
#[derive(Clone, Debug, Default)]
pub struct Uname {
    pub sysname: String,
    pub release: String,
    pub machine: String,
}

/// The kernel's name, release and machine (uname(2)).
pub fn uname() -> io::Result<Uname> {
    // SAFETY: utsname is plain data (arrays of c_char), for which all zeroes is valid.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname; uname fills it with NUL-terminated strings.
    cvt(unsafe { libc::uname(&mut u) })?;
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(Uname {
        sysname: field(&u.sysname),
        release: field(&u.release),
        machine: field(&u.machine),
    })
}

/// CPU time consumed, split as getrusage(2) reports it: whole seconds and microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user_secs: i64,
    pub user_micros: i64,
    pub system_secs: i64,
    pub system_micros: i64,
}

/// CPU time of `who` (`libc::RUSAGE_SELF` or `libc::RUSAGE_CHILDREN`), from getrusage(2).
pub fn getrusage(who: libc::c_int) -> io::Result<CpuTimes> {
    // SAFETY: rusage is plain integers and timevals, for which all zeroes is valid.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only fills the valid, writable `r`.
    cvt(unsafe { libc::getrusage(who, &mut r) })?;
    Ok(CpuTimes {
        user_secs: r.ru_utime.tv_sec,
        user_micros: r.ru_utime.tv_usec,
        system_secs: r.ru_stime.tv_sec,
        system_micros: r.ru_stime.tv_usec,
    })
}

/// A system constant (sysconf(3), e.g. `libc::_SC_PAGESIZE`); None when the system reports
/// it as unknown or unlimited (-1).
pub fn sysconf(name: libc::c_int) -> Option<i64> {
    // SAFETY: sysconf takes no pointers and only reads a system constant.
    match unsafe { libc::sysconf(name) } {
        -1 => None,
        v => Some(v),
    }
}

/// Fills `buf` from the kernel's random source (getrandom(2), flags 0): the number of bytes
/// written, which Linux guarantees to be all of them for up to 256 bytes.
pub fn getrandom(buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into the live, writable `buf`.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    super::cvt_size(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlimit_round_trips() {
        // Guards the wrappers' plumbing: the values read are the values set back.
        let (soft, hard) = getrlimit(libc::RLIMIT_NOFILE).expect("getrlimit");
        assert!(soft <= hard);
        setrlimit(libc::RLIMIT_NOFILE, soft, hard).expect("setrlimit to the same values");
        assert_eq!(getrlimit(libc::RLIMIT_NOFILE).unwrap(), (soft, hard));
    }

    #[test]
    fn daemonize_refuses_a_threaded_process() {
        // Guards the wrapper's contract: the test harness runs threads, so no fork happens.
        // (Without /proc the check could not see them, and the fork would end this process.)
        assert!(thread_count().is_some(), "needs /proc/self/task");
        let _other = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        assert!(daemonize().is_err());
    }

    #[test]
    fn system_facts_are_sane() {
        // Guards INFO's sources: uname names Linux, CPU time is well formed, the page size is
        // a power of two, and random bytes arrive (and differ between two draws).
        let u = uname().unwrap();
        assert_eq!(u.sysname, "Linux");
        assert!(!u.release.is_empty() && !u.machine.is_empty());
        let t = getrusage(libc::RUSAGE_SELF).unwrap();
        assert!((0..1_000_000).contains(&t.user_micros) && t.user_secs >= 0);
        let page = sysconf(libc::_SC_PAGESIZE).unwrap();
        assert!(page > 0 && (page as u64).is_power_of_two());
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        assert_eq!(getrandom(&mut a).unwrap(), 20);
        assert_eq!(getrandom(&mut b).unwrap(), 20);
        assert_ne!(a, b);
    }
}
