//! The local wall-clock time, broken down for log lines (Redis prints local time).

/// A moment in local time, to the microsecond.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalTime {
    /// The year, e.g. 2026.
    pub year: i32,
    /// The month, 0 (January) to 11.
    pub month0: i32,
    /// The day of the month, 1 to 31.
    pub mday: i32,
    pub hour: i32,
    pub min: i32,
    /// The second, 0 to 60 (a leap second).
    pub sec: i32,
    /// Microseconds within the second.
    pub micros: i64,
}

/// Now, in the local time zone (gettimeofday(2) and localtime_r(3)). Neither call can fail
/// for the current time; were the conversion to fail anyway, the fields stay at zero (year
/// 1900, as `tm` counts from there).
pub fn local_time_now() -> LocalTime {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: tm is plain integers plus a nullable pointer; all zeroes is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: gettimeofday only writes into the valid local `tv` (the timezone argument may be
    // null); localtime_r, the thread-safe variant, reads `tv.tv_sec` and writes into `tm`.
    unsafe {
        libc::gettimeofday(&mut tv, std::ptr::null_mut());
        libc::localtime_r(&tv.tv_sec, &mut tm);
    }
    LocalTime {
        year: tm.tm_year + 1900,
        month0: tm.tm_mon,
        mday: tm.tm_mday,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
        micros: tv.tv_usec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_a_plausible_calendar_moment() {
        // Guards the conversion: the fields land in their ranges and the year is this era's.
        let t = local_time_now();
        assert!((2020..3000).contains(&t.year), "{t:?}");
        assert!(
            (0..12).contains(&t.month0) && (1..=31).contains(&t.mday),
            "{t:?}"
        );
        assert!(
            (0..24).contains(&t.hour) && (0..60).contains(&t.min),
            "{t:?}"
        );
        assert!(
            (0..=60).contains(&t.sec) && (0..1_000_000).contains(&t.micros),
            "{t:?}"
        );
    }
}
