//! A provided-buffer ring for multishot receives: the kernel picks a free buffer for each
//! completion; we hand buffers back in batches and publish the tail once per loop turn.

use io_uring::types::BufRingEntry;
use io_uring::IoUring;
use std::sync::atomic::{AtomicU16, Ordering};

pub struct BufRing {
    ring_mem: *mut BufRingEntry,
    /// The ring's memory (`ring_mem` points into it), unmapped when the ring drops.
    _ring_map: crate::sys::AnonMapping,
    /// The buffers themselves, mapped directly rather than taken from the allocator: memory
    /// the kernel writes into, fixed for the shard's life, so not part of used_memory (see
    /// docs/architecture.md, memory accounting). Faulted in at start, so receives never take
    /// a page fault and the ring's RSS is there from the first moment. Unmapped on drop.
    bufs: crate::sys::AnonMapping,
    buf_bytes: usize,
    count: u16,
    /// Local tail: entries added but not yet published.
    tail: u16,
    pub group_id: u16,
}

impl BufRing {
    /// Allocates `count` buffers of `buf_bytes` and registers them as group `group_id`.
    pub fn new(
        ring: &IoUring,
        group_id: u16,
        count: u16,
        buf_bytes: usize,
    ) -> std::io::Result<BufRing> {
        assert!(count.is_power_of_two());
        let ring_bytes = count as usize * std::mem::size_of::<BufRingEntry>();
        // Page aligned, as the kernel requires.
        let map = crate::sys::AnonMapping::new(ring_bytes)?;
        let mem = map.as_mut_ptr();
        let mut br = BufRing {
            ring_mem: mem as *mut BufRingEntry,
            _ring_map: map,
            bufs: crate::sys::AnonMapping::new_populated(count as usize * buf_bytes)?,
            buf_bytes,
            count,
            tail: 0,
            group_id,
        };
        // SAFETY: the ring memory stays mapped until drop, after the ring is gone.
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(mem as u64, count, group_id, 0)?
        };
        for bid in 0..count {
            br.push(bid);
        }
        br.publish();
        Ok(br)
    }

    /// The bytes of buffer `bid` that a completion filled.
    pub fn data(&self, bid: u16, len: usize) -> &[u8] {
        assert!(
            bid < self.count && len <= self.buf_bytes,
            "buffer out of range"
        );
        let start = bid as usize * self.buf_bytes;
        // SAFETY: in bounds (checked above); the kernel filled buffer `bid` and does not
        // touch it again until `push` hands it back, which needs `&mut self`.
        unsafe { std::slice::from_raw_parts(self.bufs.as_mut_ptr().add(start), len) }
    }

    /// Gives buffer `bid` back (visible to the kernel after `publish`).
    pub fn push(&mut self, bid: u16) {
        let idx = (self.tail & (self.count - 1)) as usize;
        // SAFETY: idx < count; the entry belongs to us until the tail is published.
        let entry = unsafe { &mut *self.ring_mem.add(idx) };
        assert!(bid < self.count, "buffer out of range");
        // SAFETY: bid < count, so the offset stays inside the mapping.
        let addr = unsafe { self.bufs.as_mut_ptr().add(bid as usize * self.buf_bytes) };
        entry.set_addr(addr as u64);
        entry.set_len(self.buf_bytes as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Publishes every pushed buffer to the kernel.
    pub fn publish(&mut self) {
        // SAFETY: `ring_mem` is our live mapping of the ring; its tail field lives in the
        // first entry.
        let tail = unsafe { BufRingEntry::tail(self.ring_mem) } as *const AtomicU16;
        // SAFETY: `tail` points at an aligned u16 in that mapping, shared with the kernel, so
        // it is written through an atomic as the io_uring ABI requires.
        unsafe { (*tail).store(self.tail, Ordering::Release) };
    }
}
