//! One key of the keyspace in one heap block: a one-word `Entry` owns a block holding a small
//! header, the expiry when the key has one, the key bytes and either a short string value
//! inline or a pointer to the boxed `Value`. The per-slot tables store `Entry` itself, so a key
//! costs one table word, one control byte and one allocation (docs/memory-layout.md has the
//! bytes). This is the keyspace's only unsafe code; everything above it uses safe methods.
//!
//! Block layout (unaligned little-endian fields, offsets in bytes):
//!
//! ```text
//! 0   u32 meta     bits 0-23 LRU/LFU field, 24 EXPIRE, 25 BOXED, 26 MODIFIED
//! 4   u32 key_len
//! 8   [EXPIRE]     u64 expire_at_ms, u32 vpos (position in the Db's volatile index)
//! .   [BOXED]      *mut Value      [inline] u8 val_len
//! .   key bytes
//! .   [inline]     value bytes
//! ```
//!
//! Sizes are never stored: they follow from the header, so the block's layout is recomputed
//! for every deallocation and reallocation.

use super::value::{str_encoding, StrValue, Value, ValueRef};
use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

/// Longest string value kept inline in the block (its length fits the one-byte `val_len`).
/// Measured in docs/memory-layout.md: inline is smaller than a boxed string at every length
/// (one allocation instead of three), and the one-byte length keeps 8-byte values of 14-byte
/// keys in jemalloc's 32-byte class.
pub const INLINE_STR_MAX_BYTES: usize = u8::MAX as usize;

/// Largest value of the 24-bit LRU/LFU field.
pub const LRU_MAX: u32 = 0x00ff_ffff;

const F_EXPIRE: u32 = 1 << 24;
const F_BOXED: u32 = 1 << 25;
const F_MODIFIED: u32 = 1 << 26;

const HEAD_BYTES: usize = 8;
const EXPIRE_BYTES: usize = 12;
const PTR_BYTES: usize = std::mem::size_of::<*mut Value>();
const VAL_LEN_BYTES: usize = 1;
const BLOCK_ALIGN: usize = 8;

/// What a block holds besides its key, in the form the shape and the writers need.
enum Payload<'a> {
    Inline(&'a [u8]),
    Boxed(*mut Value),
}

/// Where the fields of a block sit; derived from the header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    meta: u32,
    key_len: usize,
    /// Inline value length (0 for boxed values).
    val_len: usize,
}

impl Shape {
    fn has_expire(self) -> bool {
        self.meta & F_EXPIRE != 0
    }
    fn boxed(self) -> bool {
        self.meta & F_BOXED != 0
    }
    fn body_off(self) -> usize {
        HEAD_BYTES + if self.has_expire() { EXPIRE_BYTES } else { 0 }
    }
    fn key_off(self) -> usize {
        self.body_off()
            + if self.boxed() {
                PTR_BYTES
            } else {
                VAL_LEN_BYTES
            }
    }
    fn val_off(self) -> usize {
        self.key_off() + self.key_len
    }
    fn size(self) -> usize {
        self.val_off() + self.val_len
    }
    fn layout(self) -> Layout {
        // A key is at most proto-max-bulk-len bytes and a block stays far below isize::MAX.
        Layout::from_size_align(self.size(), BLOCK_ALIGN).expect("entry block size overflows")
    }
}

/// A read view of what the entry stores.
#[derive(Debug)]
pub enum Stored<'a> {
    /// A string kept inline; `modified` marks strings grown in place (reported as "raw").
    Inline {
        bytes: &'a [u8],
        modified: bool,
    },
    Boxed(&'a Value),
}

/// The owner of one key's block; one word, so a table slot is one pointer. The word's top 16
/// bits carry a tag the table sets from the key's hash (x86-64 user addresses fit in 47 bits),
/// so a probe can skip non-matching keys without reading their blocks.
pub struct Entry {
    word: NonNull<u8>,
}

/// Bits of the word that hold the block's address.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: usize = (1 << ADDR_BITS) - 1;

// SAFETY: an Entry owns its block (and the boxed Value in it) exclusively, like a Box: moving
// it to another thread moves that ownership, and `Value` is itself Send (checked below).
unsafe impl Send for Entry {}
const _: () = {
    fn value_is_send<T: Send>() {}
    let _ = value_is_send::<Value>;
};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("keyspace::entry keeps a hash tag in the top 16 bits of a 64-bit pointer");

/// Stops the process when the allocator returns an address the tag would overwrite. An abort,
/// not a panic: callers have already reallocated the old block, and unwinding would free it
/// a second time through the entry's Drop.
fn check_address(block: NonNull<u8>) {
    if block.as_ptr().addr() & !ADDR_MASK != 0 {
        eprintln!("slotd: heap address above 48 bits; the keyspace cannot tag it");
        std::process::abort();
    }
}

/// Allocates and fills a block. The only place blocks are created.
fn build(key: &[u8], meta: u32, expire: Option<(u64, u32)>, payload: Payload) -> NonNull<u8> {
    let key_len = u32::try_from(key.len()).expect("key longer than 4 GiB");
    let mut meta = meta & !(F_EXPIRE | F_BOXED);
    if expire.is_some() {
        meta |= F_EXPIRE;
    }
    let val_len = match payload {
        Payload::Inline(b) => {
            assert!(b.len() <= INLINE_STR_MAX_BYTES, "inline string too long");
            b.len()
        }
        Payload::Boxed(_) => {
            meta |= F_BOXED;
            0
        }
    };
    let shape = Shape {
        meta,
        key_len: key_len as usize,
        val_len,
    };
    let layout = shape.layout();
    // SAFETY: the layout has a non-zero size (at least the 8 header bytes).
    let raw = unsafe { alloc::alloc(layout) };
    let Some(block) = NonNull::new(raw) else {
        alloc::handle_alloc_error(layout)
    };
    let p = block.as_ptr();
    // SAFETY: every write below stays inside the `shape.size()` bytes just allocated: the
    // offsets come from the same shape that sized the block, and the copies are of exactly
    // `key.len()` and `val_len` bytes into their regions; `key` and the inline value are
    // caller memory, which cannot overlap a fresh allocation.
    unsafe {
        ptr::write_unaligned(p as *mut u32, meta);
        ptr::write_unaligned(p.add(4) as *mut u32, key_len);
        if let Some((at_ms, vpos)) = expire {
            ptr::write_unaligned(p.add(HEAD_BYTES) as *mut u64, at_ms);
            ptr::write_unaligned(p.add(HEAD_BYTES + 8) as *mut u32, vpos);
        }
        let body = p.add(shape.body_off());
        match payload {
            Payload::Inline(b) => {
                *body = val_len as u8;
                ptr::copy_nonoverlapping(b.as_ptr(), p.add(shape.val_off()), val_len);
            }
            Payload::Boxed(v) => ptr::write_unaligned(body as *mut *mut Value, v),
        }
        ptr::copy_nonoverlapping(key.as_ptr(), p.add(shape.key_off()), key.len());
    }
    block
}

fn boxed_payload(v: Value) -> Payload<'static> {
    Payload::Boxed(Box::into_raw(Box::new(v)))
}

impl Entry {
    /// A key holding `value`; short strings are stored inline. `expire_at_ms` 0 means no TTL.
    pub fn new(key: &[u8], value: Value, expire_at_ms: u64, lru: u32) -> Entry {
        match value {
            Value::Str(s) if s.bytes.len() <= INLINE_STR_MAX_BYTES => {
                Self::new_str_flagged(key, &s.bytes, s.modified, expire_at_ms, lru)
            }
            v => Entry::from_block(build(
                key,
                lru & LRU_MAX,
                expire(expire_at_ms),
                boxed_payload(v),
            )),
        }
    }

    /// A key holding the string `bytes` (not modified in place).
    pub fn new_str(key: &[u8], bytes: &[u8], expire_at_ms: u64, lru: u32) -> Entry {
        Self::new_str_flagged(key, bytes, false, expire_at_ms, lru)
    }

    fn new_str_flagged(key: &[u8], b: &[u8], modified: bool, at_ms: u64, lru: u32) -> Entry {
        if b.len() > INLINE_STR_MAX_BYTES {
            let v = Value::Str(StrValue {
                bytes: b.to_vec(),
                modified,
            });
            return Self::new(key, v, at_ms, lru);
        }
        let meta = (lru & LRU_MAX) | if modified { F_MODIFIED } else { 0 };
        Entry::from_block(build(key, meta, expire(at_ms), Payload::Inline(b)))
    }

    fn from_block(block: NonNull<u8>) -> Entry {
        check_address(block);
        Entry { word: block }
    }

    /// The block's address (the word without its tag).
    fn p(&self) -> *mut u8 {
        self.word.as_ptr().map_addr(|a| a & ADDR_MASK)
    }

    /// The block's address, for a prefetch hint only.
    pub fn block_addr(&self) -> *const u8 {
        self.p()
    }

    /// Points the entry at a new block, keeping its tag.
    fn set_block(&mut self, block: NonNull<u8>) {
        check_address(block);
        let tag = self.word.as_ptr().addr() & !ADDR_MASK;
        self.word = block.map_addr(|a| a | tag);
    }

    /// The table's 16-bit tag (0 until a table sets it).
    pub fn tag(&self) -> u16 {
        (self.word.as_ptr().addr() >> ADDR_BITS) as u16
    }

    pub fn set_tag(&mut self, tag: u16) {
        let addr = self.word.as_ptr().addr() & ADDR_MASK;
        // The address part is non-zero, so the tagged word is too.
        self.word = self.word.map_addr(|_| {
            std::num::NonZeroUsize::new(addr | (tag as usize) << ADDR_BITS)
                .expect("a block address is non-zero")
        });
    }

    fn meta(&self) -> u32 {
        // SAFETY: every block starts with its 4-byte meta word.
        unsafe { ptr::read_unaligned(self.p() as *const u32) }
    }

    fn set_meta(&mut self, meta: u32) {
        // SAFETY: as in `meta`; `&mut self` makes this the only access to the block.
        unsafe { ptr::write_unaligned(self.p() as *mut u32, meta) }
    }

    fn shape(&self) -> Shape {
        let meta = self.meta();
        let p = self.p();
        // SAFETY: bytes 4..8 hold the key length in every block.
        let key_len = unsafe { ptr::read_unaligned(p.add(4) as *const u32) } as usize;
        let mut shape = Shape {
            meta,
            key_len,
            val_len: 0,
        };
        if !shape.boxed() {
            // SAFETY: an inline block has its one-byte value length at the body offset.
            shape.val_len = unsafe { *p.add(shape.body_off()) } as usize;
        }
        shape
    }

    pub fn key(&self) -> &[u8] {
        // The key's place needs the flags and the key length only: skip the value length, so a
        // lookup reads nothing past the key.
        let p = self.p();
        let s = Shape {
            meta: self.meta(),
            // SAFETY: bytes 4..8 hold the key length in every block.
            key_len: unsafe { ptr::read_unaligned(p.add(4) as *const u32) } as usize,
            val_len: 0,
        };
        // SAFETY: the key's `key_len` bytes sit at `key_off` inside the block, which lives as
        // long as `&self` and is not mutated while shared.
        unsafe { std::slice::from_raw_parts(self.p().add(s.key_off()), s.key_len) }
    }

    /// The 24-bit LRU/LFU field.
    pub fn lru(&self) -> u32 {
        self.meta() & LRU_MAX
    }

    pub fn set_lru(&mut self, lru: u32) {
        let meta = (self.meta() & !LRU_MAX) | (lru & LRU_MAX);
        self.set_meta(meta);
    }

    pub fn has_expire(&self) -> bool {
        self.meta() & F_EXPIRE != 0
    }

    /// Absolute expiry in ms since the Unix epoch, 0 when the key has no TTL.
    pub fn expire_at_ms(&self) -> u64 {
        if !self.has_expire() {
            return 0;
        }
        // SAFETY: blocks with EXPIRE hold the expiry at offset 8.
        unsafe { ptr::read_unaligned(self.p().add(HEAD_BYTES) as *const u64) }
    }

    /// True when the key has a TTL that has passed at `now_ms`: as Redis' keyIsExpired, a key
    /// is still there in the millisecond its TTL names and gone after it.
    pub fn expired(&self, now_ms: u64) -> bool {
        let at = self.expire_at_ms();
        at != 0 && at < now_ms
    }

    /// Position in the Db's volatile index (meaningful only while the key has a TTL).
    pub fn vpos(&self) -> u32 {
        if !self.has_expire() {
            return u32::MAX;
        }
        // SAFETY: blocks with EXPIRE hold the index position at offset 16.
        unsafe { ptr::read_unaligned(self.p().add(HEAD_BYTES + 8) as *const u32) }
    }

    pub fn set_vpos(&mut self, vpos: u32) {
        assert!(self.has_expire(), "vpos of a key without TTL");
        // SAFETY: as in `vpos`, with exclusive access through `&mut self`.
        unsafe { ptr::write_unaligned(self.p().add(HEAD_BYTES + 8) as *mut u32, vpos) }
    }

    /// Sets the expiry (0 removes it). Adding or removing a TTL rebuilds the block, so keys
    /// without a TTL carry no expiry bytes; changing an existing TTL writes it in place.
    pub fn set_expire(&mut self, at_ms: u64, vpos: u32) {
        match (self.has_expire(), at_ms != 0) {
            (true, true) => {
                // SAFETY: the block has the expiry section (EXPIRE is set).
                unsafe { ptr::write_unaligned(self.p().add(HEAD_BYTES) as *mut u64, at_ms) }
                self.set_vpos(vpos);
            }
            (false, false) => {}
            _ => self.rebuild(expire(at_ms).map(|(a, _)| (a, vpos))),
        }
    }

    /// Moves key, header and payload into a new block with a different expiry section.
    fn rebuild(&mut self, expire: Option<(u64, u32)>) {
        let s = self.shape();
        let block = match self.stored() {
            Stored::Inline { bytes, .. } => {
                build(self.key(), s.meta, expire, Payload::Inline(bytes))
            }
            Stored::Boxed(_) => build(self.key(), s.meta, expire, Payload::Boxed(self.boxed_ptr())),
        };
        // The boxed Value (if any) now belongs to the new block: free only the old block.
        self.free_block_only();
        self.set_block(block);
    }

    fn boxed_ptr(&self) -> *mut Value {
        let s = self.shape();
        assert!(s.boxed());
        // SAFETY: a boxed block holds the Value pointer at its body offset.
        unsafe { ptr::read_unaligned(self.p().add(s.body_off()) as *const *mut Value) }
    }

    fn set_boxed_ptr(&mut self, v: *mut Value) {
        let s = self.shape();
        assert!(s.boxed());
        // SAFETY: as in `boxed_ptr`, with exclusive access through `&mut self`.
        unsafe { ptr::write_unaligned(self.p().add(s.body_off()) as *mut *mut Value, v) }
    }

    /// Deallocates the block without dropping a boxed Value (the caller took it over).
    fn free_block_only(&mut self) {
        let layout = self.shape().layout();
        // SAFETY: the block was allocated by `build` (or resized by `realloc` in
        // `set_str`) with exactly this layout, recomputed from the same header.
        unsafe { alloc::dealloc(self.p(), layout) }
    }

    /// What the key holds.
    pub fn stored(&self) -> Stored<'_> {
        let s = self.shape();
        if s.boxed() {
            // SAFETY: the pointer came from Box::into_raw and is owned by this block for as
            // long as `&self` lives.
            return Stored::Boxed(unsafe { &*self.boxed_ptr() });
        }
        // SAFETY: the inline value's `val_len` bytes sit at `val_off` inside the block.
        let bytes = unsafe { std::slice::from_raw_parts(self.p().add(s.val_off()), s.val_len) };
        Stored::Inline {
            bytes,
            modified: s.meta & F_MODIFIED != 0,
        }
    }

    /// The value, read-only.
    pub fn value(&self) -> ValueRef<'_> {
        match self.stored() {
            Stored::Inline { bytes, .. } => ValueRef::Str(bytes),
            Stored::Boxed(v) => v.as_ref(),
        }
    }

    /// Seconds since the last access, read from the LRU clock as Redis does (wrapping at 24
    /// bits). Meaningful under an LRU or no policy.
    pub fn idle_s(&self, now_ms: u64) -> u64 {
        let (clock, lru) = ((now_ms / 1000) as u32 & LRU_MAX, self.lru());
        if clock >= lru {
            (clock - lru) as u64
        } else {
            (clock as u64 + LRU_MAX as u64) - lru as u64
        }
    }

    /// Makes the key look idle for `idle_s` seconds (RESTORE IDLETIME).
    pub fn set_idle_s(&mut self, now_ms: u64, idle_s: u64) {
        let clock = (now_ms / 1000).saturating_sub(idle_s);
        self.set_lru(clock as u32 & LRU_MAX);
    }

    /// The bytes of a string value, inline or boxed; None for other types.
    pub fn str_bytes(&self) -> Option<&[u8]> {
        match self.stored() {
            Stored::Inline { bytes, .. } => Some(bytes),
            Stored::Boxed(Value::Str(s)) => Some(&s.bytes),
            Stored::Boxed(_) => None,
        }
    }

    /// True when the value is kept inline in the block.
    pub fn is_inline(&self) -> bool {
        !self.shape().boxed()
    }

    /// The value for modification. An inline string moves to a boxed `StrValue` first (the
    /// caller may grow it past the inline limit); hot string paths use `set_str` instead.
    pub fn value_mut(&mut self) -> &mut Value {
        if let Stored::Inline { bytes, modified } = self.stored() {
            let v = Value::Str(StrValue {
                bytes: bytes.to_vec(),
                modified,
            });
            self.replace_payload(boxed_payload(v));
        }
        // SAFETY: the block is boxed now; the Value is owned by this block and `&mut self`
        // makes the returned borrow exclusive.
        unsafe { &mut *self.boxed_ptr() }
    }

    /// Replaces the value (keeping key, expiry and LRU field); short strings go inline.
    pub fn set_value(&mut self, value: Value) {
        match value {
            Value::Str(s) if s.bytes.len() <= INLINE_STR_MAX_BYTES => {
                self.set_str_flagged(&s.bytes, s.modified)
            }
            v if self.shape().boxed() => {
                let old = self.boxed_ptr();
                self.set_boxed_ptr(Box::into_raw(Box::new(v)));
                // SAFETY: `old` came from Box::into_raw and the block no longer refers to it.
                drop(unsafe { Box::from_raw(old) });
            }
            v => self.replace_payload(boxed_payload(v)),
        }
    }

    /// Stores the string `bytes` (not modified in place), reusing the block or the boxed
    /// string's buffer when they fit, so overwriting a value of similar size allocates
    /// nothing.
    pub fn set_str(&mut self, bytes: &[u8]) {
        self.set_str_flagged(bytes, false)
    }

    /// Stores a string that was grown in place (APPEND, SETRANGE): OBJECT ENCODING says "raw".
    pub fn set_str_modified(&mut self, bytes: &[u8]) {
        self.set_str_flagged(bytes, true)
    }

    fn set_str_flagged(&mut self, bytes: &[u8], modified: bool) {
        let s = self.shape();
        if bytes.len() > INLINE_STR_MAX_BYTES {
            if s.boxed() {
                // SAFETY: the boxed Value is owned by the block; `&mut self` is exclusive.
                if let Value::Str(old) = unsafe { &mut *self.boxed_ptr() } {
                    let cap = old.bytes.capacity();
                    if cap >= bytes.len() && cap <= 2 * bytes.len() {
                        old.bytes.clear();
                        old.bytes.extend_from_slice(bytes);
                        old.modified = modified;
                        return;
                    }
                }
            }
            let v = Value::Str(StrValue {
                bytes: bytes.to_vec(),
                modified,
            });
            return self.set_value(v);
        }
        if s.boxed() {
            self.replace_payload(Payload::Inline(bytes));
            let meta = self.meta() | if modified { F_MODIFIED } else { 0 };
            return self.set_meta(meta);
        }
        let meta = (s.meta & !F_MODIFIED) | if modified { F_MODIFIED } else { 0 };
        if bytes.len() != s.val_len {
            let new = Shape {
                val_len: bytes.len(),
                ..s
            };
            // SAFETY: the block was allocated with `s.layout()`; the new size is non-zero and
            // below isize::MAX (checked by `layout`). realloc keeps the key and header, which
            // precede the value; the old pointer is not used again.
            let raw = unsafe { alloc::realloc(self.p(), s.layout(), new.size()) };
            let Some(block) = NonNull::new(raw) else {
                alloc::handle_alloc_error(new.layout())
            };
            self.set_block(block);
        }
        self.set_meta(meta);
        let new = Shape {
            val_len: bytes.len(),
            ..s
        };
        // SAFETY: the block now has room for `bytes.len()` value bytes at `val_off`, the
        // length byte sits at the body offset, and `bytes` is caller memory outside the block
        // (the caller cannot hold a borrow of this entry while passing `&mut self`).
        unsafe {
            *self.p().add(new.body_off()) = bytes.len() as u8;
            let dst = self.p().add(new.val_off());
            ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
    }

    /// APPEND: adds `tail` to a string value (the caller checked the type), growing an inline
    /// string in its block while it fits, and marks it modified. Returns the new length.
    pub fn append_str(&mut self, tail: &[u8]) -> usize {
        let s = self.shape();
        if !s.boxed() && s.val_len + tail.len() <= INLINE_STR_MAX_BYTES {
            let new = Shape {
                val_len: s.val_len + tail.len(),
                ..s
            };
            // SAFETY: as in `set_str_flagged`: the block had `s.layout()`; realloc keeps its
            // bytes (header, key, old value) and the old pointer is not used again.
            let raw = unsafe { alloc::realloc(self.p(), s.layout(), new.size()) };
            let Some(block) = NonNull::new(raw) else {
                alloc::handle_alloc_error(new.layout())
            };
            self.set_block(block);
            // SAFETY: the block now has room for `new.val_len` value bytes at `val_off`; the
            // tail goes after the old value, and `tail` is caller memory outside the block.
            unsafe {
                *block.as_ptr().add(new.body_off()) = new.val_len as u8;
                let dst = block.as_ptr().add(new.val_off() + s.val_len);
                ptr::copy_nonoverlapping(tail.as_ptr(), dst, tail.len());
            }
            self.set_meta(s.meta | F_MODIFIED);
            return new.val_len;
        }
        match self.value_mut() {
            Value::Str(v) => {
                v.bytes.extend_from_slice(tail);
                v.modified = true;
                v.bytes.len()
            }
            other => panic!("append_str on a {}", other.type_name()),
        }
    }

    /// Rebuilds the block around a new payload, dropping the old boxed Value if any.
    fn replace_payload(&mut self, payload: Payload) {
        let s = self.shape();
        let expire = s.has_expire().then(|| (self.expire_at_ms(), self.vpos()));
        let mut meta = s.meta;
        if let Payload::Inline(_) = payload {
            meta &= !F_MODIFIED; // callers that keep the flag set it after
        }
        let old_box = s.boxed().then(|| self.boxed_ptr());
        let block = build(self.key(), meta, expire, payload);
        self.free_block_only();
        self.set_block(block);
        if let Some(old) = old_box {
            // SAFETY: `old` came from Box::into_raw; the freed block was its only owner.
            drop(unsafe { Box::from_raw(old) });
        }
    }

    /// Takes the value out, freeing the block.
    pub fn into_value(self) -> Value {
        let v = match self.stored() {
            Stored::Inline { bytes, modified } => Value::Str(StrValue {
                bytes: bytes.to_vec(),
                modified,
            }),
            // SAFETY: the pointer came from Box::into_raw; the block is freed below without
            // dropping it, so ownership moves to the returned Value exactly once.
            Stored::Boxed(_) => *unsafe { Box::from_raw(self.boxed_ptr()) },
        };
        let mut me = std::mem::ManuallyDrop::new(self);
        me.free_block_only();
        v
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self.stored() {
            Stored::Inline { bytes, modified } => str_encoding(bytes, modified),
            Stored::Boxed(v) => v.encoding(),
        }
    }

    /// Bytes the block occupies as requested from the allocator (header, expiry, key, inline
    /// value or pointer); the boxed Value's own heap is not included.
    pub fn block_bytes(&self) -> usize {
        self.shape().size()
    }
}

fn expire(at_ms: u64) -> Option<(u64, u32)> {
    (at_ms != 0).then_some((at_ms, u32::MAX))
}

impl Drop for Entry {
    fn drop(&mut self) {
        let old_box = self.shape().boxed().then(|| self.boxed_ptr());
        self.free_block_only();
        if let Some(v) = old_box {
            // SAFETY: the pointer came from Box::into_raw and the block was its only owner.
            drop(unsafe { Box::from_raw(v) });
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.stored())
            .field("expire_at_ms", &self.expire_at_ms())
            .field("lru", &self.lru())
            .finish()
    }
}

#[cfg(test)]
mod tests;
