//! A cache prefetch hint (`net::prefetch`): no effect on results, only on timing.

/// Asks the CPU to bring the line at `p` into L1; never faults, whatever `p` is.
#[inline(always)]
pub fn hint(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is a hint: it does not fault on any address and has no effect that a
    // program can observe except timing; SSE is part of the x86_64 baseline.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
