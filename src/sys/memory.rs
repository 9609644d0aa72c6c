//! Memory: anonymous mappings (page-aligned memory shared with the kernel, e.g. io_uring's
//! provided-buffer rings) and read-only file mappings (RDB files read in place). The
//! allocator's statistics are in `alloc`.

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

/// A read-only private mapping of a whole file (mmap(2)), unmapped when dropped: an RDB file
/// is parsed in place, so loading one costs no copy of it in memory (its pages are the page
/// cache's). The file must not be truncated while mapped (a later access would fault); slotd
/// maps only files it does not write meanwhile.
pub struct FileMapping {
    ptr: *const u8,
    len_bytes: usize,
}

// SAFETY: the mapping is read-only and owned by this value; sharing or moving it between
// threads is like sharing a `&[u8]` / moving a `Box<[u8]>`.
unsafe impl Send for FileMapping {}
// SAFETY: as above: nothing writes through it.
unsafe impl Sync for FileMapping {}

impl FileMapping {
    /// Maps `file` (opened for reading) from its start to its current length.
    pub fn of(file: &std::fs::File) -> io::Result<FileMapping> {
        use std::os::fd::AsRawFd;
        let len = file.metadata()?.len();
        let len_bytes = usize::try_from(len).map_err(|_| io::Error::other("file too large"))?;
        if len_bytes == 0 {
            // mmap refuses a zero length; an empty file is an empty slice.
            return Ok(FileMapping {
                ptr: std::ptr::NonNull::<u8>::dangling().as_ptr(),
                len_bytes: 0,
            });
        }
        // SAFETY: a new private read-only mapping of an open descriptor at an address the
        // kernel picks: it cannot overlap memory Rust already uses; the descriptor may close
        // afterwards (the mapping keeps the file).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len_bytes,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(FileMapping {
            ptr: ptr.cast::<u8>().cast_const(),
            len_bytes,
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len_bytes` readable bytes while `self` lives (or
        // dangling and aligned with length 0).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len_bytes) }
    }
}

impl Drop for FileMapping {
    fn drop(&mut self) {
        if self.len_bytes > 0 {
            // SAFETY: unmaps exactly the mapping `of` made, once; no slice from `bytes` can
            // outlive `self`.
            unsafe { libc::munmap(self.ptr.cast_mut().cast(), self.len_bytes) };
        }
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

    #[test]
    fn a_file_mapping_reads_the_whole_file() {
        // Guards the RDB loader's view of a file: every byte, and an empty file as no bytes.
        let path = std::env::temp_dir().join(format!("slotd-map-{}", std::process::id()));
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let map = FileMapping::of(&std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(map.bytes(), &data[..]);
        drop(map);
        std::fs::write(&path, b"").unwrap();
        let empty = FileMapping::of(&std::fs::File::open(&path).unwrap()).unwrap();
        assert!(empty.bytes().is_empty());
        let _ = std::fs::remove_file(&path);
    }
}
