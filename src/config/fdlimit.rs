//! maxclients against the open-file limit (RLIMIT_NOFILE), as Redis' adjustOpenFilesLimit
//! does it: at start, and when CONFIG SET raises maxclients, the limit is raised to maxclients
//! plus slotd's own reserve of descriptors when the OS allows it; otherwise maxclients is
//! lowered to what fits (with Redis' log lines), and start-up is refused when nothing fits.

use crate::constants::{
    FDS_RESERVED_BASE, FDS_RESERVED_CLUSTER, FDS_RESERVED_PER_SHARD, FDS_RLIMIT_STEP,
};
use crate::log;

/// Descriptors slotd needs besides its client sockets (see the constants for the count).
pub fn reserved_fds(shards: usize, cluster: bool) -> u64 {
    let cluster_links = if cluster { FDS_RESERVED_CLUSTER } else { 0 };
    FDS_RESERVED_BASE + FDS_RESERVED_PER_SHARD * shards as u64 + cluster_links
}

/// What fitting maxclients to the limit came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Fit {
    /// The limit already allowed maxclients plus the reserve.
    Enough,
    /// The limit was raised from `from` to `to`.
    Raised { from: u64, to: u64 },
    /// The limit could only reach `limit` (the last refusal was `errno`): maxclients must
    /// come down to `maxclients`.
    Reduced {
        maxclients: u64,
        limit: u64,
        errno: i32,
    },
    /// The limit `limit` leaves no descriptor for a single client.
    TooLow { limit: u64 },
}

/// Redis' search: try `maxclients + reserve`, then step down until the OS accepts a limit
/// (`set` tries one, returning the errno on refusal) or the current limit is reached.
pub fn plan(
    maxclients: u64,
    reserve: u64,
    current: u64,
    mut set: impl FnMut(u64) -> Result<(), i32>,
) -> Fit {
    let want = maxclients.saturating_add(reserve);
    if current >= want {
        return Fit::Enough;
    }
    let mut best = want;
    let mut errno = 0;
    while best > current {
        match set(best) {
            Ok(()) => break,
            Err(e) => errno = e,
        }
        if best < FDS_RLIMIT_STEP {
            best = current;
            break;
        }
        best -= FDS_RLIMIT_STEP;
    }
    let best = best.max(current);
    if best >= want {
        return Fit::Raised {
            from: current,
            to: want,
        };
    }
    if best <= reserve {
        return Fit::TooLow { limit: current };
    }
    Fit::Reduced {
        maxclients: best - reserve,
        limit: best,
        errno,
    }
}

/// The current soft limit and hard limit, or None when getrlimit fails.
fn nofile() -> Option<(u64, u64)> {
    crate::sys::getrlimit(libc::RLIMIT_NOFILE).ok()
}

/// Makes `limit` the soft limit, keeping the hard limit unless it must grow (which only a
/// privileged process may do). Unlike Redis, a lower hard limit is never set, so a later
/// CONFIG SET can still raise maxclients.
fn set_nofile(limit: u64, hard: u64) -> Result<(), i32> {
    crate::sys::setrlimit(libc::RLIMIT_NOFILE, limit, hard.max(limit))
        .map_err(|e| e.raw_os_error().unwrap_or(0))
}

/// Fits `maxclients` to the limit, logging as Redis does; returns the maxclients that fits,
/// or Redis' refusal text when not a single client fits.
pub fn fit(maxclients: u64, reserve: u64) -> Result<u64, String> {
    let Some((current, hard)) = nofile() else {
        let e = std::io::Error::last_os_error();
        log::warning(&format!(
            "Unable to obtain the current NOFILE limit ({e}), assuming 1024 and setting the max \
             clients configuration accordingly."
        ));
        return Ok(1024u64.saturating_sub(reserve).max(1));
    };
    let want = maxclients.saturating_add(reserve);
    match plan(maxclients, reserve, current, |l| set_nofile(l, hard)) {
        Fit::Enough => Ok(maxclients),
        Fit::Raised { from, to } => {
            log::notice(&format!(
                "Increased maximum number of open files to {to} (it was originally set to \
                 {from})."
            ));
            Ok(maxclients)
        }
        Fit::Reduced {
            maxclients: fitted,
            limit,
            errno,
        } => {
            let why = std::io::Error::from_raw_os_error(errno);
            let why = why.to_string();
            // std appends " (os error N)"; Redis prints strerror alone.
            let why = why.split(" (os error").next().unwrap_or(&why);
            log::warning(&format!(
                "You requested maxclients of {maxclients} requiring at least {want} max file \
                 descriptors."
            ));
            log::warning(&format!(
                "Server can't set maximum open files to {want} because of OS error: {why}."
            ));
            log::warning(&format!(
                "Current maximum open files is {limit}. maxclients has been reduced to \
                 {fitted} to compensate for low ulimit. If you need higher maxclients increase \
                 'ulimit -n'."
            ));
            Ok(fitted)
        }
        Fit::TooLow { limit } => Err(format!(
            "Your current 'ulimit -n' of {limit} is not enough for the server to start. Please \
             increase your open file limit to at least {want}. Exiting."
        )),
    }
}

/// CONFIG SET maxclients: raising it must fit the limit (raised if the OS allows), else the
/// change is refused with Redis' text and maxclients stays as it was.
pub fn check_raise(requested: u64, previous: u64, reserve: u64) -> Result<(), String> {
    if requested <= previous {
        return Ok(());
    }
    let fitted = fit(requested, reserve)?;
    if fitted != requested {
        return Err(format!(
            "The operating system is not able to handle the specified number of clients, try \
             with {fitted}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_raised_when_allowed() {
        // Guards the easy cases: enough already, or the OS takes the full limit at once.
        assert_eq!(plan(100, 40, 140, |_| Err(1)), Fit::Enough);
        let mut tried = Vec::new();
        let fit = plan(10_000, 40, 1024, |l| {
            tried.push(l);
            Ok(())
        });
        assert_eq!(
            fit,
            Fit::Raised {
                from: 1024,
                to: 10_040
            }
        );
        assert_eq!(tried, [10_040]);
    }

    #[test]
    fn maxclients_shrinks_to_the_best_limit() {
        // Guards Redis' step-down search: the first limit the OS accepts wins; with none
        // accepted the current limit stays and maxclients is what it leaves.
        // 10040, 10024, ... steps of 16 reach exactly 1000.
        let fit = plan(10_000, 40, 64, |l| if l <= 1000 { Ok(()) } else { Err(1) });
        assert_eq!(
            fit,
            Fit::Reduced {
                maxclients: 960,
                limit: 1000,
                errno: 1
            }
        );
        let fit = plan(10_000, 40, 64, |_| Err(libc::EPERM));
        assert_eq!(
            fit,
            Fit::Reduced {
                maxclients: 24,
                limit: 64,
                errno: libc::EPERM
            }
        );
        assert_eq!(plan(10_000, 40, 40, |_| Err(1)), Fit::TooLow { limit: 40 });
        assert_eq!(plan(10_000, 40, 32, |_| Err(1)), Fit::TooLow { limit: 32 });
        assert_eq!(
            plan(5, 40, 41, |_| Err(1)),
            Fit::Reduced {
                maxclients: 1,
                limit: 41,
                errno: 1
            }
        );
    }

    #[test]
    fn reserve_grows_with_shards_and_cluster() {
        // Guards the reserve's shape: a base, a share per shard, more for the cluster bus.
        let one = reserved_fds(1, false);
        assert_eq!(reserved_fds(2, false), one + FDS_RESERVED_PER_SHARD);
        assert_eq!(reserved_fds(1, true), one + FDS_RESERVED_CLUSTER);
        assert!(one >= 32, "never less than Redis' own reserve");
    }
}
