//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 links it (`pack`, `unpack`, `unpack_one`,
//! `unpack_limit`), on Lua's C API so the stack limits that bound unpacking are Lua's own.
//!
//! Packing: integral numbers that fit an int64 take the smallest integer encoding, other
//! numbers a float32 when exact, else a float64; a table whose keys are exactly 1..n is an
//! array, any other a map; tables nested 16 deep, and values msgpack cannot hold, pack as
//! nil. Unpacking accepts what lua-cmsgpack accepts (no bin/ext types), turns uint64 into a
//! signed integer and int64 into a double as it does, and never allocates by a count read
//! from the input: containers grow as their elements arrive.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::capi::{self, Raise, Res};
use super::cnum;

/// Tables nested deeper than this pack as nil (lua-cmsgpack's guard against cycles).
const MAX_NESTING: c_int = 16;

/// `luaL_checkstack` whose failure is returned rather than raised.
unsafe fn check_stack(l: *mut lua_State, slots: c_int, what: &str) -> Res<()> {
    // SAFETY: lua_checkstack only grows the stack.
    if unsafe { ffi::lua_checkstack(l, slots) } != 0 {
        Ok(())
    } else {
        Err(Raise::Msg(format!("stack overflow ({what})")))
    }
}

// ===== packing =====

fn put_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn put_int(buf: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => buf.push(n as u8),
        128..=0xff => buf.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => buf.push(n as u8),
        -128..=-33 => buf.extend_from_slice(&[0xd0, n as u8]),
        -32768..=-129 => {
            buf.push(0xd1);
            buf.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            buf.push(0xd2);
            buf.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            buf.push(0xd3);
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn put_number(buf: &mut Vec<u8>, d: f64) {
    let i = cnum::f64_to_i64(d);
    if !d.is_infinite() && i as f64 == d {
        put_int(buf, i);
    } else if f64::from(d as f32) == d {
        buf.push(0xca);
        buf.extend_from_slice(&(d as f32).to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

/// The array header (`map` false) or map header for `n` elements or pairs.
fn put_container(buf: &mut Vec<u8>, n: u64, map: bool) {
    let (fix, b16, b32) = if map {
        (0x80, 0xde, 0xdf)
    } else {
        (0x90, 0xdc, 0xdd)
    };
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// lua-cmsgpack's `table_is_an_array`: every key a positive number that is a C int, and
/// the largest equal to their count.
unsafe fn is_array(l: *mut lua_State) -> Res<bool> {
    // SAFETY: iterates the table on top, leaving the stack as it found it.
    unsafe {
        check_stack(l, 2, "in function table_is_an_array")?;
        let (mut count, mut max): (c_int, c_int) = (0, 0);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            let n = ffi::lua_tonumber(l, -1);
            if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER
                || n <= 0.0
                || f64::from(cnum::f64_to_i32(n)) != n
            {
                ffi::lua_pop(l, 1);
                return Ok(false);
            }
            if n > f64::from(max) {
                max = cnum::f64_to_i32(n);
            }
            count = count.wrapping_add(1);
        }
        Ok(max == count)
    }
}

/// Appends the value on top of the stack and pops it.
unsafe fn pack_value(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) -> Res<()> {
    // SAFETY: C API calls on the running state, balanced.
    unsafe {
        let mut t = ffi::lua_type(l, -1);
        if t == ffi::LUA_TTABLE && level == MAX_NESTING {
            t = ffi::LUA_TNIL;
        }
        match t {
            ffi::LUA_TSTRING => put_bytes(buf, capi::to_bytes(l, -1).unwrap_or_default()),
            ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
                0xc3
            } else {
                0xc2
            }),
            ffi::LUA_TNUMBER => put_number(buf, ffi::lua_tonumber(l, -1)),
            ffi::LUA_TTABLE => {
                if is_array(l)? {
                    let len = ffi::lua_objlen(l, -1);
                    put_container(buf, len as u64, false);
                    check_stack(l, 1, "in function mp_encode_lua_table_as_array")?;
                    for j in 1..=len {
                        ffi::lua_rawgeti_(l, -1, j as c_int);
                        pack_value(l, buf, level + 1)?;
                    }
                } else {
                    check_stack(l, 3, "in function mp_encode_lua_table_as_map")?;
                    let mut len = 0u64;
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_pop(l, 1);
                        len += 1;
                    }
                    put_container(buf, len, true);
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_pushvalue(l, -2);
                        pack_value(l, buf, level + 1)?;
                        pack_value(l, buf, level + 1)?;
                    }
                }
            }
            _ => buf.push(0xc0),
        }
        ffi::lua_pop(l, 1);
        Ok(())
    }
}

unsafe fn pack_all(l: *mut lua_State, nargs: c_int) -> Res<()> {
    // SAFETY: one string pushed per argument, then concatenated, as lua-cmsgpack does.
    unsafe {
        let mut buf = Vec::new();
        for i in 1..=nargs {
            check_stack(l, 1, "in function mp_check")?;
            ffi::lua_pushvalue(l, i);
            pack_value(l, &mut buf, 0)?;
            capi::push_bytes(l, &buf);
            buf.clear();
        }
        ffi::lua_concat(l, nargs);
        Ok(())
    }
}

unsafe extern "C-unwind" fn mp_pack(l: *mut lua_State) -> c_int {
    // SAFETY: raises directly only before any Rust value exists, else through `raise`.
    unsafe {
        let nargs = ffi::lua_gettop(l);
        if nargs == 0 {
            return ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
        }
        if ffi::lua_checkstack(l, nargs) == 0 {
            return ffi::luaL_argerror(l, 0, c"Too many arguments for MessagePack pack.".as_ptr());
        }
        capi::finish(l, pack_all(l, nargs).map(|()| 1))
    }
}

// ===== unpacking =====

enum Stop {
    /// The input ended inside a value.
    Eof,
    /// A byte no msgpack type lua-cmsgpack knows starts with.
    BadFormat,
    Raise(Raise),
}

impl From<Raise> for Stop {
    fn from(r: Raise) -> Stop {
        Stop::Raise(r)
    }
}

/// An array or map being filled: how many items (elements, or keys and values) are still
/// to come, and for an array the index of the next one.
struct Frame {
    map: bool,
    left: u64,
    done: u64,
    index: f64,
}

struct Cursor<'a> {
    data: &'a [u8],
}

impl Cursor<'_> {
    fn need(&self, n: usize) -> Result<(), Stop> {
        if self.data.len() < n {
            Err(Stop::Eof)
        } else {
            Ok(())
        }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[from..from + n]
            .iter()
            .fold(0, |v, &b| v << 8 | u64::from(b))
    }

    fn consume(&mut self, n: usize) {
        self.data = &self.data[n..];
    }

    /// Pushes a string of `len` bytes that follow a `hdr`-byte header.
    unsafe fn string(&mut self, l: *mut lua_State, hdr: usize, len: usize) -> Result<(), Stop> {
        self.need(hdr.saturating_add(len))?;
        // SAFETY: pushes one value (room checked by the caller).
        unsafe { capi::push_bytes(l, &self.data[hdr..hdr + len]) };
        self.consume(hdr + len);
        Ok(())
    }

    /// Decodes one item: pushes a value (false), or pushes an empty table and returns the
    /// frame that will fill it (true, via `frames`).
    unsafe fn item(&mut self, l: *mut lua_State, frames: &mut Vec<Frame>) -> Result<bool, Stop> {
        self.need(1)?;
        let b = self.data[0];
        // SAFETY: pushes one value after checking room for it.
        unsafe {
            let why = "too many return values at once; use unpack_one or unpack_limit instead.";
            check_stack(l, 1, why)?;
            let (width, container) = match b {
                0xcc | 0xd0 => (1, None),
                0xcd | 0xd1 => (2, None),
                0xce | 0xd2 | 0xca => (4, None),
                0xcf | 0xd3 | 0xcb => (8, None),
                0xdc => (2, Some(false)),
                0xdd => (4, Some(false)),
                0xde => (2, Some(true)),
                0xdf => (4, Some(true)),
                _ => (0, None),
            };
            match b {
                0xca..=0xd3 => {
                    self.need(1 + width)?;
                    let v = self.be(1, width);
                    let n = match b {
                        0xcc..=0xcf => v as i64 as f64,
                        0xd0 => f64::from(v as u8 as i8),
                        0xd1 => f64::from(v as u16 as i16),
                        0xd2 => f64::from(v as u32 as i32),
                        0xd3 => v as i64 as f64,
                        0xca => f64::from(f32::from_bits(v as u32)),
                        _ => f64::from_bits(v),
                    };
                    ffi::lua_pushnumber(l, n);
                    self.consume(1 + width);
                }
                0xc0 => {
                    ffi::lua_pushnil(l);
                    self.consume(1);
                }
                0xc2 | 0xc3 => {
                    ffi::lua_pushboolean(l, c_int::from(b == 0xc3));
                    self.consume(1);
                }
                0xd9 => {
                    self.need(2)?;
                    self.string(l, 2, self.data[1] as usize)?;
                }
                0xda => {
                    self.need(3)?;
                    self.string(l, 3, self.be(1, 2) as usize)?;
                }
                0xdb => {
                    self.need(5)?;
                    let len = self.be(1, 4) as usize;
                    self.consume(5);
                    self.string(l, 0, len)?;
                }
                0xdc..=0xdf => {
                    self.need(1 + width)?;
                    let n = self.be(1, width);
                    self.consume(1 + width);
                    return open(l, frames, n, container == Some(true));
                }
                0x00..=0x7f => {
                    ffi::lua_pushnumber(l, f64::from(b));
                    self.consume(1);
                }
                0xe0..=0xff => {
                    ffi::lua_pushnumber(l, f64::from(b as i8));
                    self.consume(1);
                }
                0xa0..=0xbf => self.string(l, 1, usize::from(b & 0x1f))?,
                0x90..=0x9f => {
                    self.consume(1);
                    return open(l, frames, u64::from(b & 0xf), false);
                }
                0x80..=0x8f => {
                    self.consume(1);
                    return open(l, frames, u64::from(b & 0xf), true);
                }
                _ => return Err(Stop::BadFormat),
            }
            Ok(false)
        }
    }

    /// Pushes one complete value, filling arrays and maps iteratively.
    unsafe fn value(&mut self, l: *mut lua_State) -> Result<(), Stop> {
        let mut frames: Vec<Frame> = Vec::new();
        // SAFETY: an array frame keeps its table and pending index on the stack, a map frame
        // its table and pending key; each store pops what it consumes.
        unsafe {
            loop {
                let mut complete = !self.item(l, &mut frames)?;
                loop {
                    let Some(f) = frames.last_mut() else {
                        return Ok(());
                    };
                    if complete {
                        f.done += 1;
                        if !f.map || f.done % 2 == 0 {
                            store(l)?;
                        }
                    }
                    if f.left == 0 {
                        frames.pop();
                        complete = true;
                        continue;
                    }
                    f.left -= 1;
                    if !f.map {
                        ffi::lua_pushnumber(l, f.index);
                        f.index += 1.0;
                    }
                    break;
                }
            }
        }
    }
}

/// Pushes an empty table for a container of `n` elements (pairs for a map).
unsafe fn open(
    l: *mut lua_State,
    frames: &mut Vec<Frame>,
    n: u64,
    map: bool,
) -> Result<bool, Stop> {
    // SAFETY: the caller checked room for the table.
    unsafe {
        ffi::lua_newtable(l);
        if !map {
            check_stack(l, 1, "in function mp_decode_to_lua_array")?;
        }
    }
    let left = if map { n * 2 } else { n };
    frames.push(Frame {
        map,
        left,
        done: 0,
        index: 1.0,
    });
    Ok(true)
}

/// `t[k] = v` for the table, key and value on top, with the errors Lua raises for a nil
/// or NaN key (plain messages: they come from inside a C function).
unsafe fn store(l: *mut lua_State) -> Result<(), Stop> {
    // SAFETY: the stack holds table, key, value.
    unsafe {
        match ffi::lua_type(l, -2) {
            ffi::LUA_TNIL => return Err(Stop::Raise(Raise::Plain("table index is nil".into()))),
            ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
                return Err(Stop::Raise(Raise::Plain("table index is NaN".into())));
            }
            _ => {}
        }
        ffi::lua_rawset(l, -3);
        Ok(())
    }
}

/// lua-cmsgpack's `mp_unpack_full`: up to `limit` values from `offset` (all of them when
/// both are 0), and after them the next offset unless decoding all.
unsafe fn unpack_full(l: *mut lua_State, data: &[u8], limit: i64, offset: i64) -> Res<c_int> {
    let len = data.len();
    if offset < 0 || limit < 0 {
        return Err(Raise::Msg(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as c_int, len as c_int
        )));
    }
    if offset as u64 > len as u64 {
        return Err(Raise::Msg(format!(
            "Start offset {} greater than input length {}.",
            offset as c_int, len as c_int
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(c_int::MAX)
    } else {
        limit
    };
    let mut cur = Cursor {
        data: &data[offset as usize..],
    };
    let mut count: c_int = 0;
    // SAFETY: values are pushed above the arguments and returned from there.
    unsafe {
        while !cur.data.is_empty() && i64::from(count) < limit {
            match cur.value(l) {
                Ok(()) => {}
                Err(Stop::Eof) => return Err(Raise::Msg("Missing bytes in input.".into())),
                Err(Stop::BadFormat) => return Err(Raise::Msg("Bad data format in input.".into())),
                Err(Stop::Raise(r)) => return Err(r),
            }
            count += 1;
        }
        if !decode_all {
            check_stack(l, 1, "in function mp_unpack_full")?;
            let next = if cur.data.is_empty() {
                -1
            } else {
                (len - cur.data.len()) as i64
            };
            ffi::lua_pushinteger(l, next as ffi::lua_Integer);
            ffi::lua_insert(l, 2);
            count += 1;
        }
    }
    Ok(count)
}

/// The entry points' common part: the data argument, then `unpack_full`.
unsafe fn unpack_entry(l: *mut lua_State, limit: i64, offset: i64) -> c_int {
    // SAFETY: luaL_checklstring raises before any Rust value exists.
    unsafe {
        let mut len = 0usize;
        let p = ffi::luaL_checklstring(l, 1, &mut len).cast::<u8>();
        let data = std::slice::from_raw_parts(p, len);
        capi::finish(l, unpack_full(l, data, limit, offset))
    }
}

unsafe extern "C-unwind" fn mp_unpack(l: *mut lua_State) -> c_int {
    // SAFETY: see unpack_entry.
    unsafe { unpack_entry(l, 0, 0) }
}

unsafe extern "C-unwind" fn mp_unpack_one(l: *mut lua_State) -> c_int {
    // SAFETY: argument checks raise before any Rust value exists.
    unsafe {
        let offset = opt_integer(l, 2);
        ffi::lua_settop(l, ffi::lua_gettop(l).min(1));
        unpack_entry(l, 1, offset)
    }
}

unsafe extern "C-unwind" fn mp_unpack_limit(l: *mut lua_State) -> c_int {
    // SAFETY: argument checks raise before any Rust value exists.
    unsafe {
        let limit = ffi::luaL_checkinteger(l, 2);
        let offset = opt_integer(l, 3);
        ffi::lua_settop(l, ffi::lua_gettop(l).min(1));
        unpack_entry(l, limit, offset)
    }
}

/// `luaL_optinteger(l, idx, 0)` with Lua 5.1's truncating conversion.
unsafe fn opt_integer(l: *mut lua_State, idx: c_int) -> i64 {
    // SAFETY: raises (through luaL_checkinteger) with nothing to drop.
    unsafe {
        if ffi::lua_type(l, idx) <= ffi::LUA_TNIL {
            0
        } else {
            ffi::luaL_checkinteger(l, idx)
        }
    }
}

unsafe extern "C-unwind" fn cmsgpack_open(l: *mut lua_State) -> c_int {
    let fields: [(&std::ffi::CStr, &std::ffi::CStr); 4] = [
        (c"_NAME", c"cmsgpack"),
        (c"_VERSION", c"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", c"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", c"MessagePack C implementation for Lua"),
    ];
    // SAFETY: builds one table on the running state.
    unsafe {
        ffi::lua_newtable(l);
        capi::set_functions(
            l,
            &[
                (c"pack", mp_pack),
                (c"unpack", mp_unpack),
                (c"unpack_one", mp_unpack_one),
                (c"unpack_limit", mp_unpack_limit),
            ],
        );
        for (name, value) in fields {
            ffi::lua_pushstring(l, value.as_ptr());
            ffi::lua_setfield(l, -2, name.as_ptr());
        }
        1
    }
}

/// The `cmsgpack` table.
pub fn open_table(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    capi::open_with(lua, cmsgpack_open)
}

#[cfg(test)]
mod tests {
    use crate::lua::libs::testing::check_lines;

    /// Guards packing (every integer and float width, strings, arrays versus maps, the
    /// nesting cap), unpacking (each type, truncated and bad input, nil and NaN keys, the
    /// stack limits Redis hits), unpack_one/unpack_limit offsets and the argument errors,
    /// as redis-server 7.0.15 answered `EVAL "return <expression>" 0` (`hex` is a local
    /// helper prepended to each script there and here).
    #[test]
    fn cmsgpack_matches_redis() {
        check_lines(
            r#"
hex(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53)) => 00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020000000000000
hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, -2^53)) => ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000000
hex(cmsgpack.pack(2^63, -2^63, 2^64, 1e300, 0.5, 0.1, -0.0, 1/0, -1/0)) => ca5f000000d38000000000000000ca5f800000cb7e37e43c8800759cca3f000000cb3fb999999999999a00caff800000ca7f800000
hex(cmsgpack.pack(0/0)) => cbfff8000000000000
hex(cmsgpack.pack(1.5, 3.25, 1e-10)) => ca3fc00000ca40500000cb3ddb7cdfd9d7bdbb
hex(cmsgpack.pack(true, false, nil)) => c3c2c0
hex(cmsgpack.pack('', 'a', string.rep('x', 31))) => a0a161bf78787878787878787878787878787878787878787878787878787878787878
hex(cmsgpack.pack(string.rep('x', 32))):sub(1, 10) => d920787878
hex(cmsgpack.pack(string.rep('x', 255))):sub(1, 10) => d9ff787878
hex(cmsgpack.pack(string.rep('x', 256))):sub(1, 10) => da01007878
hex(cmsgpack.pack(string.rep('x', 65536))):sub(1, 12) => db0001000078
hex(cmsgpack.pack({})) => 90
hex(cmsgpack.pack({1,2,3})) => 93010203
hex(cmsgpack.pack({1,nil,3})) => 8201010303
hex(cmsgpack.pack({[1]=1,[3]=3})) => 8201010303
hex(cmsgpack.pack({[2]=2})) => 810202
hex(cmsgpack.pack({[1]=1,[2]=2,[1.5]=3})) => 8301010202ca3fc0000003
hex(cmsgpack.pack({a=1})) => 81a16101
hex(cmsgpack.pack({[0]=1})) => 810001
hex(cmsgpack.pack({[-1]=1})) => 81ff01
hex(cmsgpack.pack({[2^31]=1})) => 81ce8000000001
hex(cmsgpack.pack({[true]=1})) => 81c301
hex(cmsgpack.pack(cjson.null)) => c0
hex(cmsgpack.pack(function() end)) => c0
hex(cmsgpack.pack({{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}})) => 91919191919191919191919191919191c0
(function() local t = {} t[1] = t return hex(cmsgpack.pack(t)) end)() => 91919191919191919191919191919191c0
(function() local t = {} for i=1,16 do t[i]=i end return hex(cmsgpack.pack(t)):sub(1,8) end)() => dc001001
(function() local t = {} for i=1,65536 do t[i]=0 end return hex(cmsgpack.pack(t)):sub(1,12) end)() => dd0001000000
(function() local t = {} for i=1,16 do t['k'..i]=i end return hex(cmsgpack.pack(t)):sub(1,8) end)() => de0010a3
cmsgpack.pack() => ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)
select(2, pcall(cmsgpack.pack)) => bad argument #0 to '?' (MessagePack pack needs input.)
hex(cmsgpack.pack('a', 1)) => a16101
cjson.encode({cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, {a=true}, 1.5))}) => [1,"a",[1,2],{"a":true},1.5]
cjson.encode({cmsgpack.unpack('')}) => {}
cmsgpack.unpack() => ERR user_script:1: bad argument #1 to 'unpack' (string expected, got no value)
cmsgpack.unpack(12) => 49
cmsgpack.unpack({}) => ERR user_script:1: bad argument #1 to 'unpack' (string expected, got table)
cmsgpack.unpack('\196') => ERR user_script:1: Bad data format in input.
cmsgpack.unpack('\193') => ERR user_script:1: Bad data format in input.
cmsgpack.unpack('\204') => ERR user_script:1: Missing bytes in input.
cmsgpack.unpack('\145') => ERR user_script:1: Missing bytes in input.
cmsgpack.unpack('\129\1') => ERR user_script:1: Missing bytes in input.
cmsgpack.unpack('\221\255\255\255\255') => ERR user_script:1: Missing bytes in input.
cmsgpack.unpack('\219\255\255\255\255') => ERR user_script:1: Missing bytes in input.
cmsgpack.unpack('\217\5ab') => ERR user_script:1: Missing bytes in input.
string.format('%.17g', cmsgpack.unpack('\207\255\255\255\255\255\255\255\255')) => -1
string.format('%.17g', cmsgpack.unpack('\207\128\0\0\0\0\0\0\0')) => -9.2233720368547758e+18
string.format('%.17g', cmsgpack.unpack('\211\128\0\0\0\0\0\0\1')) => -9.2233720368547758e+18
string.format('%.17g', cmsgpack.unpack('\206\255\255\255\255')) => 4294967295
string.format('%.17g', cmsgpack.unpack('\210\255\255\255\254')) => -2
string.format('%.17g', cmsgpack.unpack('\209\255\254')) => -2
string.format('%.17g', cmsgpack.unpack('\208\254')) => -2
string.format('%.17g', cmsgpack.unpack('\202\63\192\0\0')) => 1.5
string.format('%.17g', cmsgpack.unpack('\203\63\185\153\153\153\153\153\154')) => 0.10000000000000001
string.format('%.17g', cmsgpack.unpack('\224')) => -32
cmsgpack.unpack('\160') =>
cmsgpack.unpack('\162ab') => ab
type(cmsgpack.unpack('\192')) => nil
select('#', cmsgpack.unpack('\192\192')) => 2
cjson.encode({cmsgpack.unpack('\146\1\192')}) => [[1]]
cjson.encode(cmsgpack.unpack('\130\1\2\3\4')) => [2,null,4]
cjson.encode(cmsgpack.unpack('\130\192\2\3\4')) => ERR table index is nil
select(2, pcall(cmsgpack.unpack, '\130\192\2\3\4')) => table index is nil
cjson.encode({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}) => [1,1]
cjson.encode({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}) => [2,2]
cjson.encode({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}) => [-1,3]
cjson.encode({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}) => [-1]
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4) => ERR user_script:1: Start offset 4 greater than input length 3.
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1) => ERR user_script:1: Invalid request to unpack with offset of -1 and limit of 3.
cjson.encode({cmsgpack.unpack_one('')}) => [-1]
cjson.encode({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}) => [2,1,2]
cjson.encode({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}) => [-1,2,3]
cjson.encode({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}) => [1,2,3]
cjson.encode({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}) => [1]
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1) => ERR user_script:1: Invalid request to unpack with offset of 0 and limit of 3.
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)) => ERR user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 'x') => ERR user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x') => ERR user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)
cjson.encode({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1.7)}) => [2,2]
cjson.encode({cmsgpack.unpack_one('\1\2', nil)}) => [1,1]
select('#', cmsgpack.unpack(string.rep('\192', 7997))) => 7997
select(2, pcall(cmsgpack.unpack, string.rep('\145', 5000))) => stack overflow (in function mp_decode_to_lua_array)
select(2, pcall(cmsgpack.unpack, string.rep('\129\1', 5000))) => stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)
select(2, pcall(cmsgpack.unpack, string.rep('\145', 3998) .. '\1')) => 1
select(2, pcall(cmsgpack.unpack, string.rep('\145', 3999) .. '\1')) => 1
select(2, pcall(cmsgpack.unpack, string.rep('\129\1', 3998) .. '\1')) => 1
select(2, pcall(cmsgpack.unpack, string.rep('\129\1', 3999) .. '\1')) => 1
select(2, pcall(cmsgpack.unpack, string.rep('\129', 2700) .. '\1')) => Missing bytes in input.
select(2, pcall(cmsgpack.unpack, string.rep('\129', 2800) .. '\1')) => Missing bytes in input.
select(2, pcall(cmsgpack.unpack_one, string.rep('\145', 3999) .. '\1')) => -1
select(2, pcall(cmsgpack.unpack_one, string.rep('\145', 4000) .. '\1')) => stack overflow (in function mp_decode_to_lua_array)
cmsgpack._NAME .. ' ' .. cmsgpack._VERSION .. ' ' .. cmsgpack._COPYRIGHT .. ' ' .. cmsgpack._DESCRIPTION => cmsgpack lua-cmsgpack 0.4.0 Copyright (C) 2012, Salvatore Sanfilippo MessagePack C implementation for Lua
hex(cmsgpack.pack(setmetatable({}, {__index=function(t,k) return k end}))) => 90
hex(cmsgpack.pack({1, 2, x=3})) => 8301010202a17803
hex(cmsgpack.pack(1.25, 123456789.5)) => ca3fa00000cb419d6f3456000000
hex(cmsgpack.pack(2^63-1024, -2^63-2048)) => cf7ffffffffffffc00cbc3e0000000000001
"#,
        );
    }
}
