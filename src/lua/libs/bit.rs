//! `bit`: LuaBitOp 1.0.2 as Redis links it. Every operand becomes a 32-bit integer the way
//! LuaBitOp does it on doubles (add 2^52+2^51, keep the low word: wraps modulo 2^32 and
//! rounds to nearest-even), every result is a signed 32-bit number.

use mlua::{Lua, MultiValue, Table, Value};

use super::call::{self, arg, to_number, Fail, LibResult};

/// LuaBitOp's `barg`: argument `i` as 32 bits; a value `lua_tonumber` cannot read is an
/// error unless its bits happen to be non-zero (never: a non-number reads as 0).
fn barg(lua: &Lua, args: &[Value], i: usize) -> LibResult<u32> {
    let n = to_number(lua, arg(args, i))?;
    let bits = (n.unwrap_or(0.0) + 6_755_399_441_055_744.0).to_bits() as u32;
    if bits == 0 && n.is_none() {
        return Err(Fail::Arg(
            i as i32,
            format!("number expected, got {}", call::type_name(args, i)),
        ));
    }
    Ok(bits)
}

fn ret(b: u32) -> LibResult<MultiValue> {
    call::one(Value::Number(f64::from(b as i32)))
}

fn fold(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let mut b = barg(lua, args, 1)?;
    // LuaBitOp reads the operands from the last one down.
    for i in (2..=args.len()).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    ret(b)
}

fn shift(lua: &Lua, args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    ret(op(b, n))
}

fn tohex(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let mut b = barg(lua, args, 1)?;
    let mut n = if args.len() < 2 {
        8
    } else {
        barg(lua, args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    n = n.saturating_abs().min(8);
    let mut buf = [0u8; 8];
    for slot in buf[..n as usize].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    call::one(Value::String(lua.create_string(&buf[..n as usize])?))
}

/// The `bit` table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    call::set(lua, &t, "tobit", |l, a| ret(barg(l, a, 1)?))?;
    call::set(lua, &t, "bnot", |l, a| ret(!barg(l, a, 1)?))?;
    call::set(lua, &t, "band", |l, a| fold(l, a, |x, y| x & y))?;
    call::set(lua, &t, "bor", |l, a| fold(l, a, |x, y| x | y))?;
    call::set(lua, &t, "bxor", |l, a| fold(l, a, |x, y| x ^ y))?;
    call::set(lua, &t, "lshift", |l, a| shift(l, a, |b, n| b << n))?;
    call::set(lua, &t, "rshift", |l, a| shift(l, a, |b, n| b >> n))?;
    call::set(lua, &t, "arshift", |l, a| {
        shift(l, a, |b, n| ((b as i32) >> n) as u32)
    })?;
    call::set(lua, &t, "rol", |l, a| shift(l, a, |b, n| b.rotate_left(n)))?;
    call::set(lua, &t, "ror", |l, a| shift(l, a, |b, n| b.rotate_right(n)))?;
    call::set(lua, &t, "bswap", |l, a| ret(barg(l, a, 1)?.swap_bytes()))?;
    call::set(lua, &t, "tohex", tohex)?;
    Ok(t)
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
