//! Memory: anonymous mappings (page-aligned memory shared with the kernel, e.g. io_uring's
//! provided-buffer rings). The allocator's statistics are in `alloc`.

use std::io;

/// A private anonymous read-write mapping (mmap(2)), unmapped when dropped (munmap(2)).
/// The memory starts zeroed and page aligned. Whoever hands its address to the kernel (as an
/// io_uring ring does) must stop the kernel's use of it before the mapping drops.
pub struct AnonMapping {
    ptr: *mut u8,
    len_bytes: usize,
}

impl AnonMapping {
    /// Maps `len_bytes` (more than 0) of fresh zeroed memory, faulted in on first touch.
    pub fn new(len_bytes: usize) -> io::Result<AnonMapping> {
        Self::map(len_bytes, 0)
    }

    /// Like `new`, with every page faulted in now (MAP_POPULATE): for memory the kernel will
    /// write into on the hot path, so no receive pays a page fault and the resident size is
    /// known from the start.
    pub fn new_populated(len_bytes: usize) -> io::Result<AnonMapping> {
        Self::map(len_bytes, libc::MAP_POPULATE)
    }

    fn map(len_bytes: usize, extra_flags: libc::c_int) -> io::Result<AnonMapping> {
        // SAFETY: a new private anonymous mapping at an address the kernel picks: it cannot
        // overlap memory Rust already uses.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra_flags,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(AnonMapping {
            ptr: ptr.cast(),
            len_bytes,
        })
    }

    /// The start of the mapping, valid for `len_bytes` bytes while `self` lives.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr
    }

    #[cfg(test)]
    pub fn len_bytes(&self) -> usize {
        self.len_bytes
    }
}

impl Drop for AnonMapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made, once; the owner's contract is that
        // nothing uses it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.len_bytes) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_zeroed_writable_and_page_aligned() {
        // Guards the buffer ring's memory: fresh zeroes, page alignment, and room to write.
        let map = AnonMapping::new(4096).expect("mmap");
        assert_eq!(map.as_mut_ptr() as usize % 4096, 0);
        // SAFETY: the mapping is 4096 writable bytes and lives until the end of the test.
        let bytes = unsafe { std::slice::from_raw_parts_mut(map.as_mut_ptr(), map.len_bytes()) };
        assert!(bytes.iter().all(|&b| b == 0));
        bytes[4095] = 7;
        assert_eq!(bytes[4095], 7);
        assert!(AnonMapping::new(0).is_err());
    }
}
