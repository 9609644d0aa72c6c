//! `struct`: Roberto Ierusalimschy's struct library as Redis 7.0 carries it (`pack`,
//! `unpack`, `size`), on Lua's C API.
//!
//! Formats: `<` `>` endianness (native, little, at first), `![n]` alignment (power of 2,
//! default 8), `x` a zero byte, `b B h H l L T` and `i[n] I[n]` (n up to 32 bytes) signed
//! and unsigned integers, `f d` floats, `s` a zero-terminated string, `c[n]` n bytes (`c0`:
//! the whole string when packing, the previous number as length when unpacking), and
//! spaces. Integers go through doubles as in C (x86-64 conversions), sizes are checked
//! before anything is copied, and a format ends at its first NUL byte.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::capi::{self, Raise, Res};
use super::cnum;

/// The largest `i`/`I` size.
const MAX_INT_SIZE: usize = 32;
/// `!` alone: the alignment of a double on x86-64.
const MAX_ALIGN: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: usize,
}

const DEFAULTS: Header = Header {
    endian: Endian::Little,
    align: 1,
};

/// A format string read one option at a time.
struct Format<'a> {
    fmt: &'a [u8],
}

impl Format<'_> {
    fn next_opt(&mut self) -> Option<u8> {
        let (&opt, rest) = self.fmt.split_first()?;
        self.fmt = rest;
        Some(opt)
    }

    /// The decimal number that follows, or `default`; more than an int holds is an error.
    fn number(&mut self, default: usize) -> Res<usize> {
        if !self.fmt.first().is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&d) = self.fmt.first().filter(|d| d.is_ascii_digit()) {
            let d = i32::from(d - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Raise::Msg("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.fmt = &self.fmt[1..];
        }
        Ok(a as usize)
    }

    /// The size of option `opt` (reading its number, if it takes one).
    fn size(&mut self, opt: u8) -> Res<usize> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(Raise::Msg(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// The options that only change the header (and spaces); anything else unknown is an
    /// error on argument 1.
    fn control(&mut self, opt: u8, h: &mut Header) -> Res<()> {
        match opt {
            b' ' => {}
            b'>' => h.endian = Endian::Big,
            b'<' => h.endian = Endian::Little,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(Raise::Msg(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.extend_from_slice(&[opt, b'\'']);
                return Err(Raise::ArgBytes(1, msg));
            }
        }
        Ok(())
    }
}

/// Padding needed before an item of `size` bytes at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

fn is_integer_opt(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// The format argument (a C string: it ends at the first NUL).
unsafe fn format_arg<'a>(l: *mut lua_State) -> Res<&'a [u8]> {
    // SAFETY: the string stays on the stack for the whole call.
    let fmt = unsafe { capi::check_bytes(l, 1)? };
    Ok(&fmt[..fmt.iter().position(|&b| b == 0).unwrap_or(fmt.len())])
}

/// Appends `n` as a `size`-byte integer the way the C library converts a double.
fn put_integer(out: &mut Vec<u8>, n: f64, endian: Endian, size: usize) {
    let mut value = if n < 0.0 {
        cnum::f64_to_i64(n) as u64
    } else {
        cnum::f64_to_u64(n)
    };
    let start = out.len();
    out.resize(start + size, 0);
    for i in 0..size {
        let slot = if endian == Endian::Little {
            start + i
        } else {
            start + size - 1 - i
        };
        out[slot] = value as u8;
        value >>= 8;
    }
}

unsafe fn pack(l: *mut lua_State) -> Res<()> {
    // SAFETY: reads arguments from the stack; pushes the result at the end.
    unsafe {
        let mut fmt = Format {
            fmt: format_arg(l)?,
        };
        let mut h = DEFAULTS;
        let mut arg: c_int = 2;
        let mut out = Vec::new();
        // The C library marks the end of the arguments with a nil (a missing value reads as
        // "got nil").
        ffi::lua_pushnil(l);
        while let Some(opt) = fmt.next_opt() {
            let mut size = fmt.size(opt)?;
            let pad = to_align(out.len(), &h, opt, size);
            out.resize(out.len() + pad, 0);
            match opt {
                _ if is_integer_opt(opt) => {
                    let n = capi::check_number(l, arg)?;
                    arg += 1;
                    put_integer(&mut out, n, h.endian, size);
                }
                b'x' => out.push(0),
                b'f' => {
                    let f = capi::check_number(l, arg)? as f32;
                    arg += 1;
                    match h.endian {
                        Endian::Little => out.extend_from_slice(&f.to_le_bytes()),
                        Endian::Big => out.extend_from_slice(&f.to_be_bytes()),
                    }
                }
                b'd' => {
                    let d = capi::check_number(l, arg)?;
                    arg += 1;
                    match h.endian {
                        Endian::Little => out.extend_from_slice(&d.to_le_bytes()),
                        Endian::Big => out.extend_from_slice(&d.to_be_bytes()),
                    }
                }
                b'c' | b's' => {
                    let s = capi::check_bytes(l, arg)?;
                    arg += 1;
                    if size == 0 {
                        size = s.len();
                    }
                    if s.len() < size {
                        return Err(Raise::Arg(arg, "string too short".into()));
                    }
                    out.extend_from_slice(&s[..size]);
                    if opt == b's' {
                        out.push(0);
                    }
                }
                _ => fmt.control(opt, &mut h)?,
            }
        }
        capi::push_bytes(l, &out);
        Ok(())
    }
}

/// Reads a `size`-byte integer as the C library does (bytes past 8 shift out; the sign
/// bit is the top bit of the size, taken modulo 64 as x86 shifts).
fn get_integer(b: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut take = |byte: u8| l = l << 8 | u64::from(byte);
    match endian {
        Endian::Big => b.iter().for_each(|&x| take(x)),
        Endian::Little => b.iter().rev().for_each(|&x| take(x)),
    }
    if !signed {
        return l as f64;
    }
    let mask = u64::MAX.wrapping_shl((b.len() as i64 * 8 - 1) as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

unsafe fn unpack(l: *mut lua_State) -> Res<c_int> {
    // SAFETY: results are pushed above the arguments, each after luaL_checkstack's test.
    unsafe {
        let mut fmt = Format {
            fmt: format_arg(l)?,
        };
        let data = capi::check_bytes(l, 2)?;
        let ld = data.len();
        let mut pos = capi::opt_integer(l, 3, 1)? as u64 as usize;
        if pos == 0 {
            return Err(Raise::Arg(3, "offset must be 1 or greater".into()));
        }
        pos -= 1;
        let mut h = DEFAULTS;
        let mut n: c_int = 0;
        let too_short = || Raise::Arg(2, "data string too short".into());
        while let Some(opt) = fmt.next_opt() {
            let mut size = fmt.size(opt)?;
            pos = pos.wrapping_add(to_align(pos, &h, opt, size));
            if size > ld || pos > ld - size {
                return Err(too_short());
            }
            if ffi::lua_checkstack(l, 2) == 0 {
                return Err(Raise::Msg("stack overflow (too many results)".into()));
            }
            match opt {
                _ if is_integer_opt(opt) => {
                    let signed = opt.is_ascii_lowercase();
                    ffi::lua_pushnumber(l, get_integer(&data[pos..pos + size], h.endian, signed));
                    n += 1;
                }
                b'x' => {}
                b'f' => {
                    let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or_default();
                    let f = match h.endian {
                        Endian::Little => f32::from_le_bytes(b),
                        Endian::Big => f32::from_be_bytes(b),
                    };
                    ffi::lua_pushnumber(l, f64::from(f));
                    n += 1;
                }
                b'd' => {
                    let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or_default();
                    let d = match h.endian {
                        Endian::Little => f64::from_le_bytes(b),
                        Endian::Big => f64::from_be_bytes(b),
                    };
                    ffi::lua_pushnumber(l, d);
                    n += 1;
                }
                b'c' => {
                    if size == 0 {
                        if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                            return Err(Raise::Msg("format 'c0' needs a previous size".into()));
                        }
                        size = cnum::f64_to_u64(ffi::lua_tonumber(l, -1)) as usize;
                        ffi::lua_pop(l, 1);
                        n -= 1;
                        if size > ld || pos > ld - size {
                            return Err(too_short());
                        }
                    }
                    capi::push_bytes(l, &data[pos..pos + size]);
                    n += 1;
                }
                b's' => {
                    let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                        return Err(Raise::Msg("unfinished string in data".into()));
                    };
                    capi::push_bytes(l, &data[pos..pos + end]);
                    size = end + 1;
                    n += 1;
                }
                _ => fmt.control(opt, &mut h)?,
            }
            pos = pos.wrapping_add(size);
        }
        ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
        Ok(n + 1)
    }
}

unsafe fn size(l: *mut lua_State) -> Res<()> {
    // SAFETY: reads the format argument, pushes one integer.
    unsafe {
        let mut fmt = Format {
            fmt: format_arg(l)?,
        };
        let mut h = DEFAULTS;
        let mut pos: usize = 0;
        while let Some(opt) = fmt.next_opt() {
            let size = fmt.size(opt)?;
            pos = pos.wrapping_add(to_align(pos, &h, opt, size));
            if opt == b's' {
                return Err(Raise::Arg(1, "option 's' has no fixed size".into()));
            }
            if opt == b'c' && size == 0 {
                return Err(Raise::Arg(1, "option 'c0' has no fixed size".into()));
            }
            if !opt.is_ascii_alphanumeric() {
                fmt.control(opt, &mut h)?;
            }
            pos = pos.wrapping_add(size);
        }
        ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
        Ok(())
    }
}

unsafe extern "C-unwind" fn b_pack(l: *mut lua_State) -> c_int {
    // SAFETY: the body returns its errors; finish raises them.
    unsafe { capi::finish(l, pack(l).map(|()| 1)) }
}

unsafe extern "C-unwind" fn b_unpack(l: *mut lua_State) -> c_int {
    // SAFETY: as b_pack.
    unsafe { capi::finish(l, unpack(l)) }
}

unsafe extern "C-unwind" fn b_size(l: *mut lua_State) -> c_int {
    // SAFETY: as b_pack.
    unsafe { capi::finish(l, size(l).map(|()| 1)) }
}

unsafe extern "C-unwind" fn struct_open(l: *mut lua_State) -> c_int {
    // SAFETY: builds one table on the running state.
    unsafe {
        ffi::lua_newtable(l);
        capi::set_functions(
            l,
            &[(c"pack", b_pack), (c"unpack", b_unpack), (c"size", b_size)],
        );
        1
    }
}

/// The `struct` table.
pub fn open(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    capi::open_with(lua, struct_open)
}

#[cfg(test)]
mod tests {
    use crate::lua::libs::testing::check_lines;

    /// Guards every option's packing and unpacking (sizes, endianness, alignment, the C
    /// conversions of out-of-range numbers), `size`, the limits on sizes in formats and the
    /// argument errors, as redis-server 7.0.15 answered `EVAL "return <expression>" 0`.
    #[test]
    fn struct_matches_redis() {
        check_lines(
            r#"
hex(struct.pack('b', -1)) => ff
hex(struct.pack('B', 255)) => ff
hex(struct.pack('B', 256)) => 00
hex(struct.pack('b', 200)) => c8
hex(struct.pack('h', -2)) => feff
hex(struct.pack('>h', -2)) => fffe
hex(struct.pack('<H', 0x1234)) => 3412
hex(struct.pack('>H', 0x1234)) => 1234
hex(struct.pack('l', 1)) => 0100000000000000
hex(struct.pack('>L', 1)) => 0000000000000001
hex(struct.pack('i', -1)) => ffffffff
hex(struct.pack('I', 1)) => 01000000
hex(struct.pack('>i3', 0x123456)) => 123456
hex(struct.pack('<i3', 0x123456)) => 563412
hex(struct.pack('>i16', -1)) => 0000000000000000ffffffffffffffff
hex(struct.pack('<i16', -1)) => ffffffffffffffff0000000000000000
hex(struct.pack('>I8', 2^64)) => 0000000000000000
hex(struct.pack('>I8', 2^63)) => 8000000000000000
hex(struct.pack('>i8', -2^63)) => 8000000000000000
hex(struct.pack('>i8', -2^64)) => 8000000000000000
hex(struct.pack('>I8', 0/0)) => 8000000000000000
hex(struct.pack('>I8', 1e30)) => 0000000000000000
hex(struct.pack('>i4', 1.9)) => 00000001
hex(struct.pack('>i4', -1.9)) => ffffffff
hex(struct.pack('>T', 5)) => 0000000000000005
hex(struct.pack('>f', 1.5)) => 3fc00000
hex(struct.pack('<d', 1.5)) => 000000000000f83f
hex(struct.pack('>d', 0.1)) => 3fb999999999999a
hex(struct.pack('s', 'ab')) => 616200
hex(struct.pack('c', 'ab')) => 61
hex(struct.pack('c3', 'abcd')) => 616263
hex(struct.pack('c0', 'abcd')) => 61626364
hex(struct.pack('c5', 'ab')) => ERR user_script:1: bad argument #3 to 'pack' (string too short)
hex(struct.pack('s', 12)) => 313200
hex(struct.pack('x')) => 00
hex(struct.pack('xxb', 1)) => 000001
hex(struct.pack('!4 b i', 1, 2)) => 0100000002000000
hex(struct.pack('!b d', 1, 2)) => 01000000000000000000000000000040
hex(struct.pack('!2 b h b i', 1, 2, 3, 4)) => 01000200030004000000
hex(struct.pack('!8 b i8', 1, 2)) => 01000000000000000200000000000000
hex(struct.pack('!b c3 h', 1, 'abc', 2)) => 016162630200
hex(struct.pack('!4 bs i', 1, 'ab', 2)) => 0161620002000000
hex(struct.pack('! b i', 1, 2)) => 0100000002000000
hex(struct.pack('!3 b i', 1, 2)) => ERR user_script:1: alignment 3 is not a power of 2
hex(struct.pack('!4 b i3', 1, 2)) => 010000020000
hex(struct.pack('i0', 5)) =>
hex(struct.pack('>i33', 1)) => ERR user_script:1: integral size 33 is larger than limit of 32
hex(struct.pack('>i32', 1)) => 0000000000000000000000000000000000000000000000000000000000000001
hex(struct.pack('z', 1)) => ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z')
hex(struct.pack('b')) => ERR user_script:1: bad argument #2 to 'pack' (number expected, got nil)
hex(struct.pack('b', 'x')) => ERR user_script:1: bad argument #2 to 'pack' (number expected, got string)
hex(struct.pack('b', '12')) => 0c
hex(struct.pack('s', {})) => ERR user_script:1: bad argument #2 to 'pack' (string expected, got table)
hex(struct.pack()) => ERR user_script:1: bad argument #1 to 'pack' (string expected, got no value)
hex(struct.pack(12)) => ERR user_script:1: bad argument #1 to 'pack' (invalid format option '1')
hex(struct.pack('', 1, 2)) =>
hex(struct.pack('i99999999999')) => ERR user_script:1: integral size overflow
hex(struct.pack('c2147483647', 'a')) => ERR user_script:1: bad argument #3 to 'pack' (string too short)
hex(struct.pack('c2147483648', 'a')) => ERR user_script:1: integral size overflow
hex(struct.pack('!0 b', 1)) => ERR user_script:1: alignment 0 is not a power of 2
hex(struct.pack('!99999999999 b', 1)) => ERR user_script:1: integral size overflow
hex(struct.pack('b\0b', 1, 2)) => 01
struct.size('b') => 1
struct.size('i') => 4
struct.size('!4 b i') => 8
struct.size('!8 b d') => 16
struct.size('>i16 h c10') => 28
struct.size('s') => ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)
struct.size('c0') => ERR user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)
struct.size('c') => 1
struct.size('x') => 1
struct.size('z') => 0
struct.size('T l L f d') => 36
struct.size('c2147483647c2147483647c2147483647') => 6442450941
struct.size() => ERR user_script:1: bad argument #1 to 'size' (string expected, got no value)
struct.size('i40') => ERR user_script:1: integral size 40 is larger than limit of 32
cjson.encode({struct.unpack('b', '\255')}) => [-1,2]
cjson.encode({struct.unpack('B', '\255')}) => [255,2]
cjson.encode({struct.unpack('>h', '\255\254')}) => [-2,3]
cjson.encode({struct.unpack('<H', '\52\18')}) => [4660,3]
cjson.encode({struct.unpack('>i3', '\255\255\254')}) => [-2,4]
cjson.encode({struct.unpack('>I3', '\255\255\254')}) => [16777214,4]
string.format('%.17g', struct.unpack('>I8', '\255\255\255\255\255\255\255\255')) => 1.8446744073709552e+19
string.format('%.17g', struct.unpack('>i8', '\128\0\0\0\0\0\0\1')) => -9.2233720368547758e+18
string.format('%.17g', struct.unpack('>i16', string.rep('\255', 16))) => -1
string.format('%.17g', struct.unpack('>I16', string.rep('\255', 16))) => 1.8446744073709552e+19
string.format('%.17g', struct.unpack('>I16', '\1' .. string.rep('\0', 15))) => 0
string.format('%.17g', struct.unpack('<I16', '\1' .. string.rep('\0', 15))) => 1
string.format('%.17g', struct.unpack('<i16', string.rep('\0', 7) .. '\128' .. string.rep('\0', 8))) => -9.2233720368547758e+18
string.format('%.17g', struct.unpack('>i0', '')) => 0
string.format('%.17g', struct.unpack('>f', '\63\192\0\0')) => 1.5
string.format('%.17g', struct.unpack('<d', struct.pack('<d', 0.1))) => 0.10000000000000001
cjson.encode({struct.unpack('s', 'ab\0cd')}) => ["ab",4]
cjson.encode({struct.unpack('s', 'abcd')}) => ERR user_script:1: unfinished string in data
cjson.encode({struct.unpack('c2', 'abcd')}) => ["ab",3]
cjson.encode({struct.unpack('c2 c2', 'abcd')}) => ["ab","cd",5]
cjson.encode({struct.unpack('c0', 'abcd')}) => ERR user_script:1: format 'c0' needs a previous size
cjson.encode({struct.unpack('b c0', '\2abcd')}) => ["ab",4]
cjson.encode({struct.unpack('b c0', '\9abcd')}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
cjson.encode({struct.unpack('s c0', 'x\0abcd')}) => ERR user_script:1: format 'c0' needs a previous size
cjson.encode({struct.unpack('b', 'ab', 2)}) => [98,3]
cjson.encode({struct.unpack('b', 'ab', 3)}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
cjson.encode({struct.unpack('b', 'ab', 0)}) => ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)
cjson.encode({struct.unpack('b', 'ab', -5)}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
cjson.encode({struct.unpack('x b', 'ab')}) => [98,3]
cjson.encode({struct.unpack('!4 b i', '\1\0\0\0\2\0\0\0')}) => [1,2,9]
cjson.encode({struct.unpack('i', 'abc')}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
cjson.encode({struct.unpack('z', 'abc')}) => ERR user_script:1: bad argument #1 to 'unpack' (invalid format option 'z')
cjson.encode({struct.unpack('b')}) => ERR user_script:1: bad argument #2 to 'unpack' (string expected, got no value)
cjson.encode({struct.unpack('b', {})}) => ERR user_script:1: bad argument #2 to 'unpack' (string expected, got table)
cjson.encode({struct.unpack('b', 'a', 'x')}) => ERR user_script:1: bad argument #3 to 'unpack' (number expected, got string)
cjson.encode({struct.unpack('', 'abc')}) => [1]
cjson.encode({struct.unpack('c2147483647', 'abc')}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
cjson.encode({struct.unpack('bbbb', 'abcd', 2)}) => ERR user_script:1: bad argument #2 to 'unpack' (data string too short)
select('#', struct.unpack(string.rep('b', 7000), string.rep('a', 7000))) => 7001
select(2, pcall(struct.unpack, string.rep('b', 9000), string.rep('a', 9000))) => stack overflow (too many results)
select(2, pcall(struct.pack, 'b')) => bad argument #2 to '?' (number expected, got nil)
select(2, pcall(struct.pack, 'q')) => bad argument #1 to '?' (invalid format option 'q')
"#,
        );
    }
}
