//! The global allocator and the memory accounting built on it: `Allocator` wraps the chosen
//! allocator (jemalloc by default; mimalloc or glibc malloc through cargo features) and counts
//! every allocation at its allocator usable size, which is what Redis calls `used_memory`.
//! Also the allocator's own statistics, its stats text, and arena purging.
//!
//! How the count stays cheap: each thread claims one cache-padded slot of a fixed static array
//! on its first allocation and keeps its net byte count there with a plain load and store (only
//! that thread ever writes it, so no read-modify-write is needed). Threads beyond the array
//! share one overflow slot updated with `fetch_add`. A thread that exits leaves its slot
//! holding its net count, which stays part of the total: memory it allocated and another
//! thread freed is counted once up and once down, in two slots. Slots are never reused.
//!
//! Never allocates, locks or logs inside the allocator hooks (they run under every `Box::new`).
//! The binary installs `Allocator` (src/main.rs); the library's unit tests install it too (at
//! the bottom), other test binaries and benches run on the system allocator and read 0 here.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// Threads that get a slot of their own; later threads share the overflow slot. A node runs
/// one thread per shard, the bus, the main thread, a replica link and a sender per replica.
const SLOTS: usize = 128;

/// One thread's net allocated bytes, alone on its cache lines (128 bytes: the adjacent-line
/// prefetcher pairs 64-byte lines, so two slots on neighbouring lines would still contend).
#[repr(align(128))]
struct Slot(AtomicI64);

static SLOT_TABLE: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
static OVERFLOW: Slot = Slot(AtomicI64::new(0));
/// Slots handed out so far (may exceed `SLOTS`; those threads use `OVERFLOW`).
static CLAIMED: AtomicUsize = AtomicUsize::new(0);

/// `Local::slot` before the thread's first allocation.
const UNCLAIMED: usize = usize::MAX;
/// `Local::slot` of a thread that found the table full.
const IN_OVERFLOW: usize = SLOTS;

/// The thread's own view: its net bytes and the slot that mirrors them. Const-initialized and
/// without `Drop`, so reading it never allocates and works until the thread is gone.
struct Local {
    net_bytes: Cell<i64>,
    slot: Cell<usize>,
}

thread_local! {
    static LOCAL: Local = const {
        Local { net_bytes: Cell::new(0), slot: Cell::new(UNCLAIMED) }
    };
}

/// Adds `delta` bytes to the calling thread's count.
#[inline]
fn note(delta: i64) {
    let counted = LOCAL.try_with(|l| {
        let net = l.net_bytes.get() + delta;
        l.net_bytes.set(net);
        let mut slot = l.slot.get();
        if slot == UNCLAIMED {
            slot = claim(net);
            l.slot.set(slot);
        } else if slot < SLOTS {
            SLOT_TABLE[slot].0.store(net, Ordering::Relaxed);
        } else {
            OVERFLOW.0.fetch_add(delta, Ordering::Relaxed);
        }
    });
    if counted.is_err() {
        // The thread's locals are gone (its very last frees): still count the bytes.
        OVERFLOW.0.fetch_add(delta, Ordering::Relaxed);
    }
}

/// First allocation of a thread: takes the next slot (or the overflow) and records `net`.
#[cold]
fn claim(net: i64) -> usize {
    let at = CLAIMED.fetch_add(1, Ordering::Relaxed);
    if at < SLOTS {
        SLOT_TABLE[at].0.store(net, Ordering::Relaxed);
        at
    } else {
        OVERFLOW.0.fetch_add(net, Ordering::Relaxed);
        IN_OVERFLOW
    }
}

/// Bytes this thread allocated minus bytes it freed (usable sizes); a thread-local read, cheap
/// enough per command. Negative when the thread freed more than it allocated.
pub fn thread_net_bytes() -> i64 {
    LOCAL.try_with(|l| l.net_bytes.get()).unwrap_or(0)
}

/// Bytes allocated and not yet freed by the whole process, at usable sizes: Redis'
/// `used_memory`. Sums every slot (a few relaxed loads): call it from INFO and crons, not per
/// command. 0 where `Allocator` is not the global allocator.
pub fn used_bytes() -> u64 {
    let claimed = CLAIMED.load(Ordering::Relaxed).min(SLOTS);
    let mut sum = OVERFLOW.0.load(Ordering::Relaxed);
    for slot in &SLOT_TABLE[..claimed] {
        sum += slot.0.load(Ordering::Relaxed);
    }
    sum.max(0) as u64
}

/// `used_bytes` once the server's own structures exist, before data loads (Redis'
/// `used_memory_startup`).
static STARTUP_BYTES: AtomicU64 = AtomicU64::new(0);
/// Highest `used_bytes` seen by `sample_peak` (Redis samples it in its cron and on INFO).
static PEAK_BYTES: AtomicU64 = AtomicU64::new(0);

/// Records the start-up baseline (once boot has built the shards, before loading data).
pub fn mark_startup() {
    STARTUP_BYTES.store(used_bytes(), Ordering::Relaxed);
}

/// Adds what a thread allocated while starting (a shard's event loop) to the baseline.
pub fn add_startup(bytes: i64) {
    STARTUP_BYTES.fetch_add(bytes.max(0) as u64, Ordering::Relaxed);
}

pub fn startup_bytes() -> u64 {
    STARTUP_BYTES.load(Ordering::Relaxed)
}

/// Folds the current `used_bytes` into the peak and returns (used, peak). Called from one
/// shard's 100 ms cron and by INFO / MEMORY STATS.
pub fn sample_peak() -> (u64, u64) {
    let used = used_bytes();
    let peak = PEAK_BYTES.fetch_max(used, Ordering::Relaxed).max(used);
    (used, peak)
}

/// What the wrapper needs from the allocator beneath it: the usable size it hands out for a
/// layout, the same number at allocation and at free, without looking at the pointer.
pub trait SizeClass {
    fn usable_bytes(layout: Layout) -> usize;
}

/// The counting wrapper around the allocator `A`.
pub struct Counting<A> {
    inner: A,
}

// SAFETY: every call is forwarded unchanged to `inner`, a correct allocator; the wrapper only
// adds counting, which neither allocates nor touches the memory.
unsafe impl<A: GlobalAlloc + SizeClass> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            note(A::usable_bytes(layout) as i64);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on unchanged.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            note(A::usable_bytes(layout) as i64);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { self.inner.dealloc(ptr, layout) };
        note(-(A::usable_bytes(layout) as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            // SAFETY: `realloc`'s caller guarantees `new_size` rounded up to the alignment
            // does not overflow isize, which is what this constructor requires.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            note(A::usable_bytes(new_layout) as i64 - A::usable_bytes(layout) as i64);
        }
        new_ptr
    }
}

/// The allocator the binary installs: the chosen one, counted.
pub type Allocator = Counting<chosen::Inner>;

impl Allocator {
    pub const fn new() -> Allocator {
        Counting {
            inner: chosen::INNER,
        }
    }
}

impl Default for Allocator {
    fn default() -> Allocator {
        Allocator::new()
    }
}

/// The allocator's own view of its memory (jemalloc's `stats.*`), for INFO memory. Only
/// jemalloc fills it (the other allocators' builds answer None).
#[cfg_attr(
    not(all(
        feature = "jemalloc",
        not(feature = "mimalloc"),
        not(feature = "system")
    )),
    allow(dead_code)
)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes in allocated objects (jemalloc `stats.allocated`).
    pub allocated_bytes: u64,
    /// Bytes in active pages, allocated or not (`stats.active`).
    pub active_bytes: u64,
    /// Bytes in resident pages the allocator maps, metadata included (`stats.resident`).
    pub resident_bytes: u64,
}

pub use chosen::allocator_name;
pub use chosen::{allocator_stats, malloc_stats_text, purge, set_background_thread};

/// jemalloc's size classes (lg quantum 4, four classes per doubling): the usable size of an
/// allocation of `size` bytes with an alignment of at most 16. Matches `nallocx(size, 0)`
/// (the unit test compares them); computed inline because it runs on every allocation.
#[inline]
pub fn jemalloc_size_class(size: usize) -> usize {
    if size <= 8 {
        return 8;
    }
    if size <= 128 {
        return (size + 15) & !15;
    }
    let lg_floor = usize::BITS - 1 - (size - 1).leading_zeros();
    let delta = 1usize << (lg_floor - 2);
    size.saturating_add(delta - 1) & !(delta - 1)
}

#[cfg(all(
    feature = "jemalloc",
    not(feature = "mimalloc"),
    not(feature = "system")
))]
mod chosen {
    use super::{jemalloc_size_class, AllocatorStats, SizeClass};
    use std::alloc::Layout;

    pub type Inner = tikv_jemallocator::Jemalloc;
    pub const INNER: Inner = tikv_jemallocator::Jemalloc;

    impl SizeClass for tikv_jemallocator::Jemalloc {
        #[inline]
        fn usable_bytes(layout: Layout) -> usize {
            if layout.align() <= 16 {
                jemalloc_size_class(layout.size().max(layout.align()))
            } else {
                aligned_usable_bytes(layout)
            }
        }
    }

    /// Over-aligned layouts are rare (cache-padded structures): ask jemalloc.
    #[cold]
    fn aligned_usable_bytes(layout: Layout) -> usize {
        let flags = tikv_jemalloc_sys::MALLOCX_ALIGN(layout.align());
        // SAFETY: nallocx only computes a size class; any size and flags are valid inputs.
        let usable = unsafe { tikv_jemalloc_sys::nallocx(layout.size(), flags) };
        usable.max(layout.size())
    }

    /// "jemalloc-5.3.0", as Redis' `mem_allocator`.
    pub fn allocator_name() -> String {
        let version = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
        let short = version.split('-').next().unwrap_or(version);
        format!("jemalloc-{short}")
    }

    /// Fresh statistics: advances jemalloc's epoch (it caches them), then reads them.
    pub fn allocator_stats() -> Option<AllocatorStats> {
        tikv_jemalloc_ctl::epoch::advance().ok()?;
        Some(AllocatorStats {
            allocated_bytes: tikv_jemalloc_ctl::stats::allocated::read().ok()? as u64,
            active_bytes: tikv_jemalloc_ctl::stats::active::read().ok()? as u64,
            resident_bytes: tikv_jemalloc_ctl::stats::resident::read().ok()? as u64,
        })
    }

    /// Starts or stops jemalloc's background purging thread (`jemalloc-bg-thread`, as Redis'
    /// set_jemalloc_bg_thread). False when jemalloc refused.
    pub fn set_background_thread(on: bool) -> bool {
        tikv_jemalloc_ctl::background_thread::write(on).is_ok()
    }

    /// jemalloc's `malloc_stats_print` text (MEMORY MALLOC-STATS).
    pub fn malloc_stats_text() -> String {
        let mut out = Vec::new();
        let options = tikv_jemalloc_ctl::stats_print::Options::default();
        if tikv_jemalloc_ctl::stats_print::stats_print(&mut out, options).is_err() {
            return "Stats not supported for the current allocator".to_string();
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Returns dirty pages of every arena to the system (MEMORY PURGE), as Redis'
    /// `jemalloc_purge`: `arena.<MALLCTL_ARENAS_ALL>.purge`. False when jemalloc refused.
    pub fn purge() -> bool {
        // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
        const NAME: &[u8] = b"arena.4096.purge\0";
        // SAFETY: a void control: no old or new value is read or written, and the name is
        // NUL-terminated.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                NAME.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        rc == 0
    }
}

#[cfg(all(feature = "mimalloc", not(feature = "system")))]
mod chosen {
    use super::{AllocatorStats, SizeClass};
    use std::alloc::Layout;

    pub type Inner = mimalloc::MiMalloc;
    pub const INNER: Inner = mimalloc::MiMalloc;

    impl SizeClass for mimalloc::MiMalloc {
        #[inline]
        fn usable_bytes(layout: Layout) -> usize {
            // SAFETY: mi_good_size only computes a size class.
            unsafe { libmimalloc_sys::mi_good_size(layout.size().max(layout.align())) }
        }
    }

    pub fn allocator_name() -> String {
        "mimalloc".to_string()
    }

    pub fn allocator_stats() -> Option<AllocatorStats> {
        None
    }

    /// Only jemalloc has a background purging thread.
    pub fn set_background_thread(_on: bool) -> bool {
        true
    }

    pub fn malloc_stats_text() -> String {
        "Stats not supported for the current allocator".to_string()
    }

    pub fn purge() -> bool {
        // SAFETY: mi_collect takes a flag and only returns free memory to the system.
        unsafe { libmimalloc_sys::mi_collect(true) };
        true
    }
}

#[cfg(any(
    feature = "system",
    not(any(feature = "jemalloc", feature = "mimalloc"))
))]
mod chosen {
    use super::{AllocatorStats, SizeClass};
    use std::alloc::Layout;

    pub type Inner = std::alloc::System;
    pub const INNER: Inner = std::alloc::System;

    impl SizeClass for std::alloc::System {
        /// glibc malloc: a chunk is the request plus an 8-byte header rounded up to 16, at
        /// least 32; its usable part is the chunk less the header.
        #[inline]
        fn usable_bytes(layout: Layout) -> usize {
            let size = layout.size().max(layout.align());
            (size.saturating_add(8 + 15) & !15).max(32) - 8
        }
    }

    /// Redis' name for the C library's allocator.
    pub fn allocator_name() -> String {
        "libc".to_string()
    }

    pub fn allocator_stats() -> Option<AllocatorStats> {
        None
    }

    /// Only jemalloc has a background purging thread.
    pub fn set_background_thread(_on: bool) -> bool {
        true
    }

    pub fn malloc_stats_text() -> String {
        "Stats not supported for the current allocator".to_string()
    }

    pub fn purge() -> bool {
        true
    }
}

/// The library's unit tests run on the counting allocator, so the counters are real there.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: Allocator = Allocator::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_counts_what_it_allocates_and_frees_at_usable_size() {
        // Guards the per-thread counter: +usable size on allocation, the same back on free.
        let before = thread_net_bytes();
        let block = vec![0u8; 1000];
        let during = thread_net_bytes();
        let usable = <chosen::Inner as SizeClass>::usable_bytes(Layout::new::<[u8; 1000]>());
        assert_eq!(during - before, usable as i64);
        assert!(usable >= 1000);
        drop(block);
        assert_eq!(thread_net_bytes(), before);
    }

    #[test]
    fn growth_by_realloc_counts_the_difference() {
        // Guards realloc: the count moves from the old size class to the new one.
        let before = thread_net_bytes();
        let mut v: Vec<u8> = Vec::with_capacity(100);
        v.extend_from_slice(&[1; 100]);
        v.reserve_exact(5000);
        let cap = v.capacity();
        let usable = <chosen::Inner as SizeClass>::usable_bytes(
            Layout::array::<u8>(cap).expect("small layout"),
        );
        assert_eq!(thread_net_bytes() - before, usable as i64);
        drop(v);
        assert_eq!(thread_net_bytes(), before);
    }

    #[test]
    fn memory_freed_on_another_thread_leaves_the_total_balanced() {
        // Guards the slot design: a block allocated here and freed by a thread that then
        // exits must not leak into (or vanish from) the process total.
        let block = vec![7u8; 1 << 20];
        let here = thread_net_bytes();
        let total_with = used_bytes();
        assert!(total_with >= 1 << 20);
        let freed_there = std::thread::spawn(move || {
            let start = thread_net_bytes();
            drop(block);
            thread_net_bytes() - start
        })
        .join()
        .expect("thread");
        assert!(freed_there <= -(1 << 20));
        // This thread's count kept the block (only the spawn's own bookkeeping moved it).
        assert!((thread_net_bytes() - here).abs() < 4096);
        // Other tests run at the same time, so the total only bounds the change loosely.
        assert!(used_bytes() > 0);
    }

    #[test]
    #[cfg(all(
        feature = "jemalloc",
        not(feature = "mimalloc"),
        not(feature = "system")
    ))]
    fn the_inline_size_classes_match_jemalloc() {
        // Guards the formula against jemalloc's own nallocx over small and large sizes.
        let mut sizes: Vec<usize> = (1..=70_000).collect();
        let mut s = 70_000usize;
        while s < 1 << 40 {
            sizes.extend([s - 1, s, s + 1]);
            s = s * 9 / 7;
        }
        for size in sizes {
            // SAFETY: nallocx only computes a size class.
            let theirs = unsafe { tikv_jemalloc_sys::nallocx(size, 0) };
            assert_eq!(jemalloc_size_class(size), theirs, "size {size}");
        }
        assert!(allocator_name().starts_with("jemalloc-5."));
        let stats = allocator_stats().expect("stats");
        assert!(stats.allocated_bytes > 0 && stats.active_bytes >= stats.allocated_bytes);
        assert!(stats.resident_bytes >= stats.active_bytes);
        assert!(malloc_stats_text().contains("jemalloc"));
        assert!(purge());
        assert!(set_background_thread(true) && set_background_thread(false));
    }
}
