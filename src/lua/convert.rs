//! Conversions between RESP and Lua values, both directions, as Redis 7.0 does them:
//! a `redis.call` reply (RESP2 or RESP3, as `redis.setresp` chose) becomes a Lua value, and a
//! script's result becomes a reply in the client's protocol.

use crate::constants::LUA_REPLY_DEPTH_MAX;
use crate::resp::write::push_int;
use crate::resp::Out;
use mlua::{Lua, Table, Value};

/// Redis' error table (`luaPushErrorBuff`): `text` is either "-CODE message" (the code is kept)
/// or a bare message (code ERR); a trailing CR/LF is trimmed. A "-" text without a space is a
/// bare message too.
pub(super) fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let (code, msg) = error_parts(text);
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    let t = lua.create_table()?;
    t.set("err", lua.create_string(&full)?)?;
    Ok(t)
}

/// The code and the message of an error table's `err` ("CODE message"), as `error_table`
/// splits `text`.
pub(super) fn error_parts(text: &[u8]) -> (&[u8], &[u8]) {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    (code, trim_crlf(msg))
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// A Lua number as `tostring` prints it (`%.14g`).
pub(super) fn lua_number_text(n: f64) -> String {
    format_g(n, 14)
}

/// C's `%.<prec>g`.
pub(super) fn format_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_fraction(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `lua_tonumber`: numbers, and strings that read as numbers.
pub(super) fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let b = s.as_bytes();
            let t = std::str::from_utf8(&b).ok()?.trim();
            if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                return u64::from_str_radix(hex, 16).ok().map(|u| u as f64);
            }
            t.parse::<f64>().ok()
        }
        _ => None,
    }
}

/// A script's number as Redis replies it: `(long long)` of the double, which truncates (and
/// gives i64::MIN for what does not fit, as x86-64 does).
pub(super) fn truncate(n: f64) -> i64 {
    if n.is_finite() && n > -9.223_372_036_854_776e18 && n < 9.223_372_036_854_776e18 {
        n as i64
    } else {
        i64::MIN
    }
}

// ---- RESP -> Lua -------------------------------------------------------------------------

/// Converts one reply (as produced by a command) to the Lua value `redis.call` returns.
pub(super) fn reply_to_lua(lua: &Lua, reply: &[u8]) -> mlua::Result<Value> {
    let mut pos = 0;
    parse(lua, reply, &mut pos)
}

/// A reply `redis.call` turns into a Lua value without building anything but a string or a
/// one-field table (the common replies); `Other` for the rest (`reply_to_lua` converts them).
pub(super) enum Simple<'a> {
    /// `{ok = ..}`
    Status(&'a [u8]),
    /// An error reply: its whole line ("-CODE message"), for `error_parts`.
    Error(&'a [u8]),
    Number(f64),
    Bulk(&'a [u8]),
    Nil,
    Bool(bool),
    Other,
}

pub(super) fn simple_reply(reply: &[u8]) -> Simple<'_> {
    let Some(&tag) = reply.first() else {
        return Simple::Nil;
    };
    let mut pos = 1;
    let head = line(reply, &mut pos);
    match tag {
        b'+' => Simple::Status(head),
        b'-' => Simple::Error(&reply[..1 + head.len()]),
        b':' => Simple::Number(int_of(head) as f64),
        b'$' => match int_of(head) {
            n if n < 0 => Simple::Bool(false),
            n => Simple::Bulk(bulk(reply, &mut pos, n)),
        },
        b'_' => Simple::Nil,
        b'#' => Simple::Bool(head == b"t"),
        _ => Simple::Other,
    }
}

/// The line at `*pos` (without its CRLF); moves past it.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = *pos;
    let end = buf[start..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(buf.len(), |i| start + i);
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn int_of(s: &[u8]) -> i64 {
    crate::resp::parse::parse_i64(s).unwrap_or(0)
}

fn bulk<'a>(buf: &'a [u8], pos: &mut usize, len: i64) -> &'a [u8] {
    let start = (*pos).min(buf.len());
    let end = (start + len.max(0) as usize).min(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

/// Parses one value at `*pos`. Attributes are parsed and dropped: scripts never see them.
fn parse(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    if *pos >= buf.len() {
        return Ok(Value::Nil);
    }
    let tag = buf[*pos];
    *pos += 1;
    let head = line(buf, pos);
    Ok(match tag {
        b'+' => {
            let t = lua.create_table()?;
            t.set("ok", lua.create_string(head)?)?;
            Value::Table(t)
        }
        b'-' => {
            let mut text = Vec::with_capacity(head.len() + 1);
            text.push(b'-');
            text.extend_from_slice(head);
            let t = error_table(lua, &text)?;
            // The command already counted its error in the stats.
            t.set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b':' => Value::Number(int_of(head) as f64),
        b'$' => {
            let n = int_of(head);
            if n < 0 {
                Value::Boolean(false)
            } else {
                Value::String(lua.create_string(bulk(buf, pos, n))?)
            }
        }
        b'*' => {
            let n = int_of(head);
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let t = lua.create_table_with_capacity(n as usize, 0)?;
            for i in 1..=n {
                let v = parse(lua, buf, pos)?;
                t.raw_set(i, v)?;
            }
            Value::Table(t)
        }
        b'%' => {
            let n = int_of(head);
            let inner = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                let v = parse(lua, buf, pos)?;
                if !k.is_nil() {
                    inner.raw_set(k, v)?;
                }
            }
            wrap(lua, "map", Value::Table(inner))?
        }
        b'~' => {
            let n = int_of(head);
            let inner = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                if !k.is_nil() {
                    inner.raw_set(k, true)?;
                }
            }
            wrap(lua, "set", Value::Table(inner))?
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let d = std::str::from_utf8(head)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            wrap(lua, "double", Value::Number(d))?
        }
        b'(' => wrap(lua, "big_number", Value::String(lua.create_string(head)?))?,
        b'=' => {
            let body = bulk(buf, pos, int_of(head));
            let (format, text) = if body.len() >= 4 {
                (&body[..3], &body[4..])
            } else {
                (&b"txt"[..], body)
            };
            let inner = lua.create_table()?;
            inner.set("string", lua.create_string(text)?)?;
            inner.set("format", lua.create_string(format)?)?;
            wrap(lua, "verbatim_string", Value::Table(inner))?
        }
        b'|' => {
            for _ in 0..int_of(head) {
                parse(lua, buf, pos)?;
                parse(lua, buf, pos)?;
            }
            return parse(lua, buf, pos);
        }
        _ => Value::Nil,
    })
}

fn wrap(lua: &Lua, field: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.set(field, v)?;
    Ok(Value::Table(t))
}

// ---- Lua -> RESP -------------------------------------------------------------------------

/// The `err` field of an error table (a string, as Redis checks it), if `v` is one.
pub(super) fn error_of(v: &Value) -> mlua::Result<Option<Vec<u8>>> {
    if let Value::Table(t) = v {
        if let Value::String(s) = field(t, t.metatable().is_none(), "err")? {
            return Ok(Some(s.as_bytes().to_vec()));
        }
    }
    Ok(None)
}

/// Error or status text as it goes on the wire: CR and LF become spaces, every other byte
/// stays as it is (Redis passes a script's text on byte for byte, UTF-8 or not).
pub(super) fn one_line(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// Writes a script's result (`luaReplyToRedisReply`). `script_resp3` is the protocol the
/// script chose with `redis.setresp` (it decides how booleans convert); `out` is the client's.
pub(super) fn write_reply(v: &Value, script_resp3: bool, out: &mut Out<'_>) -> mlua::Result<()> {
    write_value(v, script_resp3, out, 0)
}

fn write_value(v: &Value, resp3: bool, out: &mut Out<'_>, depth: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if resp3 {
                out.boolean(*b)
            } else if *b {
                out.int(1)
            } else {
                out.null()
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(truncate(*n)),
        Value::Table(t) => {
            if depth >= LUA_REPLY_DEPTH_MAX {
                out.error_text("ERR reached lua stack limit");
                return Ok(());
            }
            write_table(t, resp3, out, depth)?
        }
        _ => out.null(),
    }
    Ok(())
}

/// A field of a reply table: a raw read when the table has no metatable (the same answer
/// without the protected call `lua_gettable` needs for metamethods).
fn field(t: &Table, plain: bool, name: &str) -> mlua::Result<Value> {
    if plain {
        t.raw_get(name)
    } else {
        t.get(name)
    }
}

/// `one_line` without a copy when the text has no CR or LF (a status such as OK).
fn line_of(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr2(b'\r', b'\n', text).is_some() {
        one_line(text).into()
    } else {
        text.into()
    }
}

fn write_table(t: &Table, resp3: bool, out: &mut Out<'_>, depth: usize) -> mlua::Result<()> {
    let plain = t.metatable().is_none();
    if let Value::String(s) = field(t, plain, "err")? {
        out.error_bytes(&line_of(&s.as_bytes()));
        return Ok(());
    }
    if let Value::String(s) = field(t, plain, "ok")? {
        out.simple_bytes(&line_of(&s.as_bytes()));
        return Ok(());
    }
    match field(t, plain, "double")? {
        Value::Number(n) => {
            out.double(n);
            return Ok(());
        }
        Value::Integer(i) => {
            out.double(i as f64);
            return Ok(());
        }
        _ => {}
    }
    if let Value::String(s) = field(t, plain, "big_number")? {
        let num = one_line(&s.as_bytes());
        if out.resp3() {
            out.raw(b"(");
            out.raw(&num);
            out.raw(b"\r\n");
        } else {
            out.bulk(&num);
        }
        return Ok(());
    }
    if let Value::Table(vt) = field(t, plain, "verbatim_string")? {
        if let (Value::String(format), Value::String(text)) =
            (vt.get::<Value>("format")?, vt.get::<Value>("string")?)
        {
            write_verbatim(&format.as_bytes(), &text.as_bytes(), out);
            return Ok(());
        }
    }
    if let Value::Table(m) = field(t, plain, "map")? {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_value(k, resp3, out, depth + 1)?;
            write_value(v, resp3, out, depth + 1)?;
        }
        return Ok(());
    }
    if let Value::Table(s) = field(t, plain, "set")? {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .map(|kv| kv.map(|(k, _)| k))
            .collect::<mlua::Result<_>>()?;
        out.set(keys.len());
        for k in &keys {
            write_value(k, resp3, out, depth + 1)?;
        }
        return Ok(());
    }
    let mut items = Vec::new();
    let mut j = 1i64;
    loop {
        let v: Value = t.get(j)?;
        if v.is_nil() {
            break;
        }
        items.push(v);
        j += 1;
    }
    out.array(items.len());
    for v in &items {
        write_value(v, resp3, out, depth + 1)?;
    }
    Ok(())
}

/// `addReplyVerbatim`: `=len\r\nfmt:text` in RESP3 (the format cut or padded to 3 bytes), a
/// bulk string in RESP2.
fn write_verbatim(format: &[u8], text: &[u8], out: &mut Out<'_>) {
    if !out.resp3() {
        out.bulk(text);
        return;
    }
    let mut fmt = [b' '; 3];
    for (d, s) in fmt.iter_mut().zip(format.iter()) {
        *d = *s;
    }
    out.raw(b"=");
    push_int(out.buf, text.len() as i64 + 4);
    out.raw(b"\r\n");
    out.raw(&fmt);
    out.raw(b":");
    out.raw(text);
    out.raw(b"\r\n");
}
