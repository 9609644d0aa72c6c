//! The replication backlog: a bounded ring holding the last `size` bytes of the node-wide
//! replication stream, addressed by stream offsets (the first byte of the stream is offset 1,
//! as in Redis). Pure data structure: no locks, no I/O.

/// Circular history of the stream.
pub struct Backlog {
    ring: Vec<u8>,
    /// Ring index where the next byte goes.
    head: usize,
    /// Bytes of history held (at most `ring.len()`).
    histlen: usize,
    /// Offset of the last byte ever appended (`master_repl_offset`).
    pub offset: u64,
}

impl Backlog {
    /// A new, empty backlog continuing a stream whose last byte is `offset`.
    pub fn new(size_bytes: usize, offset: u64) -> Backlog {
        Backlog {
            ring: vec![0; size_bytes.max(1)],
            head: 0,
            histlen: 0,
            offset,
        }
    }

    pub fn size(&self) -> usize {
        self.ring.len()
    }
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Offset of the oldest byte held (Redis' `repl_backlog_first_byte_offset`).
    pub fn first_offset(&self) -> u64 {
        self.offset + 1 - self.histlen as u64
    }

    /// Appends stream bytes; the oldest history is overwritten when the ring is full.
    pub fn append(&mut self, mut data: &[u8]) {
        self.offset += data.len() as u64;
        let size = self.ring.len();
        if data.len() > size {
            data = &data[data.len() - size..];
        }
        let first = (size - self.head).min(data.len());
        self.ring[self.head..self.head + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        self.ring[..rest].copy_from_slice(&data[first..]);
        self.head = (self.head + data.len()) % size;
        self.histlen = (self.histlen + data.len()).min(size);
    }

    /// True when a replica whose next byte to receive is `from` can continue from here.
    pub fn can_serve(&self, from: u64) -> bool {
        from >= self.first_offset() && from <= self.offset + 1
    }

    /// Every byte from offset `from` to the end (None when not held).
    pub fn copy_from(&self, from: u64) -> Option<Vec<u8>> {
        if !self.can_serve(from) {
            return None;
        }
        let n = (self.offset + 1 - from) as usize;
        let size = self.ring.len();
        let start = (self.head + size - n) % size;
        let mut out = Vec::with_capacity(n);
        let first = (size - start).min(n);
        out.extend_from_slice(&self.ring[start..start + first]);
        out.extend_from_slice(&self.ring[..n - first]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_wraparound() {
        // Guards the offset arithmetic and the ring copy across the wrap point.
        let mut b = Backlog::new(8, 0);
        assert_eq!(b.first_offset(), 1);
        assert!(b.can_serve(1));
        assert_eq!(b.copy_from(1).unwrap(), b"");
        b.append(b"abcde");
        assert_eq!(b.offset, 5);
        assert_eq!(b.copy_from(3).unwrap(), b"cde");
        b.append(b"fghij");
        assert_eq!(b.offset, 10);
        assert_eq!(b.first_offset(), 3);
        assert_eq!(b.copy_from(3).unwrap(), b"cdefghij");
        assert_eq!(b.copy_from(9).unwrap(), b"ij");
        assert_eq!(b.copy_from(11).unwrap(), b"");
        assert!(b.copy_from(2).is_none());
        assert!(b.copy_from(12).is_none());
    }

    #[test]
    fn append_larger_than_ring() {
        // Guards a single append bigger than the whole backlog: only its tail is kept.
        let mut b = Backlog::new(4, 100);
        b.append(b"0123456789");
        assert_eq!(b.offset, 110);
        assert_eq!(b.first_offset(), 107);
        assert_eq!(b.copy_from(107).unwrap(), b"6789");
        b.append(b"x");
        assert_eq!(b.copy_from(108).unwrap(), b"789x");
    }
}
