//! `bit`: LuaBitOp 1.0.2 as Redis links it. Every operand becomes a 32-bit integer the way
//! LuaBitOp does it on doubles (add 2^52+2^51, keep the low word: wraps modulo 2^32 and
//! rounds to nearest-even), every result is a signed 32-bit number.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::capi::{self, Raise, Res};

/// LuaBitOp's `barg`: argument `i` as 32 bits. A value `lua_tonumber` cannot read counts as
/// 0 and is an error.
unsafe fn barg(l: *mut lua_State, i: c_int) -> Res<u32> {
    // SAFETY: plain reads of the stack.
    unsafe {
        let n = ffi::lua_tonumber(l, i);
        let bits = (n + 6_755_399_441_055_744.0).to_bits() as u32;
        if bits == 0 && ffi::lua_isnumber(l, i) == 0 {
            let got = capi::type_name(l, i);
            return Err(Raise::Arg(i, format!("number expected, got {got}")));
        }
        Ok(bits)
    }
}

/// Pushes a result as LuaBitOp does: the 32 bits read as a signed number.
unsafe fn ret(l: *mut lua_State, b: Res<u32>) -> c_int {
    // SAFETY: pushes one number, or raises the body's error.
    unsafe {
        let b = b.map(|b| {
            ffi::lua_pushnumber(l, f64::from(b as i32));
            1
        });
        capi::finish(l, b)
    }
}

/// `band`, `bor`, `bxor`: the first operand, then the others from the last one down.
unsafe fn fold(l: *mut lua_State, op: fn(u32, u32) -> u32) -> Res<u32> {
    // SAFETY: plain reads of the stack.
    unsafe {
        let mut b = barg(l, 1)?;
        for i in (2..=ffi::lua_gettop(l)).rev() {
            b = op(b, barg(l, i)?);
        }
        Ok(b)
    }
}

/// The shifts and rotations: operand 1 by operand 2 modulo 32.
unsafe fn shift(l: *mut lua_State, op: fn(u32, u32) -> u32) -> Res<u32> {
    // SAFETY: plain reads of the stack.
    unsafe { Ok(op(barg(l, 1)?, barg(l, 2)? & 31)) }
}

unsafe fn tohex(l: *mut lua_State) -> Res<()> {
    // SAFETY: reads the arguments, pushes one string.
    unsafe {
        let mut b = barg(l, 1)?;
        let n = if ffi::lua_type(l, 2) == ffi::LUA_TNONE {
            8
        } else {
            barg(l, 2)? as i32
        };
        let digits: &[u8; 16] = if n < 0 {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = n.saturating_abs().min(8) as usize;
        let mut buf = [0u8; 8];
        for slot in buf[..n].iter_mut().rev() {
            *slot = digits[(b & 15) as usize];
            b >>= 4;
        }
        capi::push_bytes(l, &buf[..n]);
        Ok(())
    }
}

macro_rules! bit_fn {
    ($name:ident, |$l:ident| $body:expr) => {
        unsafe extern "C-unwind" fn $name($l: *mut lua_State) -> c_int {
            // SAFETY: the body only reads arguments; ret pushes or raises.
            unsafe { ret($l, $body) }
        }
    };
}

bit_fn!(bit_tobit, |l| barg(l, 1));
bit_fn!(bit_bnot, |l| barg(l, 1).map(|b| !b));
bit_fn!(bit_band, |l| fold(l, |x, y| x & y));
bit_fn!(bit_bor, |l| fold(l, |x, y| x | y));
bit_fn!(bit_bxor, |l| fold(l, |x, y| x ^ y));
bit_fn!(bit_lshift, |l| shift(l, |b, n| b << n));
bit_fn!(bit_rshift, |l| shift(l, |b, n| b >> n));
bit_fn!(bit_arshift, |l| shift(l, |b, n| ((b as i32) >> n) as u32));
bit_fn!(bit_rol, |l| shift(l, u32::rotate_left));
bit_fn!(bit_ror, |l| shift(l, u32::rotate_right));
bit_fn!(bit_bswap, |l| barg(l, 1).map(u32::swap_bytes));

unsafe extern "C-unwind" fn bit_tohex(l: *mut lua_State) -> c_int {
    // SAFETY: the body returns its errors; finish raises them.
    unsafe { capi::finish(l, tohex(l).map(|()| 1)) }
}

unsafe extern "C-unwind" fn bit_open(l: *mut lua_State) -> c_int {
    // SAFETY: builds one table on the running state.
    unsafe {
        ffi::lua_newtable(l);
        capi::set_functions(
            l,
            &[
                (c"tobit", bit_tobit),
                (c"bnot", bit_bnot),
                (c"band", bit_band),
                (c"bor", bit_bor),
                (c"bxor", bit_bxor),
                (c"lshift", bit_lshift),
                (c"rshift", bit_rshift),
                (c"arshift", bit_arshift),
                (c"rol", bit_rol),
                (c"ror", bit_ror),
                (c"bswap", bit_bswap),
                (c"tohex", bit_tohex),
            ],
        );
        1
    }
}

/// The `bit` table.
pub fn open(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    capi::open_with(lua, bit_open)
}

#[cfg(test)]
mod tests {
    use crate::lua::libs::testing::check;

    /// Guards the 32-bit normalisation, each operation and the argument errors, all as
    /// redis-server 7.0.15 answered them.
    #[test]
    fn bit_matches_redis() {
        check(&[
            ("bit.tobit(0xffffffff)", "-1"),
            ("bit.tobit(2^32+5)", "5"),
            ("bit.tobit(1.5)", "2"),
            ("bit.tobit(2.5)", "2"),
            ("bit.tobit(-1.5)", "-2"),
            ("bit.tobit('0x10')", "16"),
            ("bit.tobit(' 12 ')", "12"),
            ("bit.tobit(2^52)", "0"),
            ("bit.tobit(1e300)", "-2013235812"),
            ("bit.tobit(0/0)", "0"),
            ("bit.tohex(255)", "000000ff"),
            ("bit.tohex(-1, -4)", "FFFF"),
            ("bit.tohex(0x1234, 2)", "34"),
            ("bit.tohex(1, 0)", ""),
            ("bit.tohex(1, 20)", "00000001"),
            ("bit.bnot(0)", "-1"),
            ("bit.band(0xff, 0x0f, 0x3)", "3"),
            ("bit.bor(1,2,4,8)", "15"),
            ("bit.bxor(5,3)", "6"),
            ("bit.lshift(1, 31)", "-2147483648"),
            ("bit.lshift(1,32)", "1"),
            ("bit.rshift(-1, 28)", "15"),
            ("bit.arshift(-256, 4)", "-16"),
            ("bit.rol(0x12345678, 12)", "1164411171"),
            ("bit.ror(0x12345678, 12)", "1736516421"),
            ("bit.bswap(0x12345678)", "2018915346"),
            ("select('#', bit.band(1))", "1"),
            ("bit.tobit('1e1')", "10"),
            ("bit.tohex(bit.tobit(-2^31), -2^31)", "80000000"),
            (
                "bit.band()",
                "ERR user_script:1: bad argument #1 to 'band' (number expected, got no value)",
            ),
            (
                "bit.band(1, {})",
                "ERR user_script:1: bad argument #2 to 'band' (number expected, got table)",
            ),
            (
                "bit.band(1, nil)",
                "ERR user_script:1: bad argument #2 to 'band' (number expected, got nil)",
            ),
            (
                "bit.tohex(1, nil)",
                "ERR user_script:1: bad argument #2 to 'tohex' (number expected, got nil)",
            ),
            (
                "bit.lshift(1)",
                "ERR user_script:1: bad argument #2 to 'lshift' (number expected, got no value)",
            ),
            (
                "bit.band('x', 1)",
                "ERR user_script:1: bad argument #1 to 'band' (number expected, got string)",
            ),
            (
                "bit.bor(true)",
                "ERR user_script:1: bad argument #1 to 'bor' (number expected, got boolean)",
            ),
            (
                "bit.tobit('0x')",
                "ERR user_script:1: bad argument #1 to 'tobit' (number expected, got string)",
            ),
            // Under pcall Lua cannot name the function, and the error is a plain string.
            (
                "select(2, pcall(bit.band, 'x'))",
                "bad argument #1 to '?' (number expected, got string)",
            ),
            ("type(select(2, pcall(bit.band, 'x')))", "string"),
        ]);
    }
}
