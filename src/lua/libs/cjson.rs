//! `cjson`: lua-cjson 2.1.0 as Redis 7.0 links it (`cjson.encode`, `decode`, the settings
//! functions, `new`, `null`), written against Lua's C API so its stack checks, argument
//! errors and nesting limits are Lua's own. Numbers print with `%.14g` (the precision is a
//! setting), strings escape `"`, `\`, `/`, control bytes and DEL, other bytes pass
//! untouched; tables whose keys are all positive integers are arrays unless too sparse.
//!
//! Settings live in a userdata shared by one module table's functions (an upvalue), so
//! `cjson.new()` gets its own and they outlive the script that changed them, as in Redis.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};

use super::capi::{self, Raise, Res};
use super::cnum;

/// One module table's settings (lua-cjson's `json_config_t` without its buffers).
#[derive(Clone, Copy)]
#[repr(C)]
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    /// 0 refuse, 1 allow ("inf", "nan"), 2 write "null".
    encode_invalid_numbers: c_int,
    encode_number_precision: c_int,
    encode_keep_buffer: c_int,
    decode_invalid_numbers: c_int,
    decode_max_depth: c_int,
}

const DEFAULTS: Config = Config {
    encode_sparse_convert: 0,
    encode_sparse_ratio: 2,
    encode_sparse_safe: 10,
    encode_max_depth: 1000,
    encode_invalid_numbers: 0,
    encode_number_precision: 14,
    encode_keep_buffer: 1,
    decode_invalid_numbers: 1,
    decode_max_depth: 1000,
};

unsafe fn config(l: *mut lua_State) -> *mut Config {
    // SAFETY: every function of a module table is created with its Config as upvalue 1.
    unsafe { ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<Config>() }
}

/// lua-cjson's `json_arg_init`: at most `n` arguments, padded with nils to `n`.
unsafe fn arg_init(l: *mut lua_State, n: c_int) -> *mut Config {
    // SAFETY: raises before any Rust value exists.
    unsafe {
        if ffi::lua_gettop(l) > n {
            ffi::luaL_argerror(l, n + 1, c"found too many arguments".as_ptr());
        }
        while ffi::lua_gettop(l) < n {
            ffi::lua_pushnil(l);
        }
        config(l)
    }
}

/// Sets `*setting` from argument `idx` unless nil (range errors name argument 1, as
/// lua-cjson does), then pushes the setting.
unsafe fn integer_option(
    l: *mut lua_State,
    idx: c_int,
    setting: *mut c_int,
    min: c_int,
    max: c_int,
) {
    // SAFETY: raises with nothing to drop (the message is formatted into a stack buffer).
    unsafe {
        if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
            let value = ffi::luaL_checkinteger(l, idx) as c_int;
            if value < min || value > max {
                let mut msg = [0u8; 64];
                let text = format_into(&mut msg, min, max);
                ffi::luaL_argerror(l, 1, text);
            }
            *setting = value;
        }
        ffi::lua_pushinteger(l, (*setting).into());
    }
}

/// "expected integer between <min> and <max>" as a C string in `buf`.
fn format_into(buf: &mut [u8; 64], min: c_int, max: c_int) -> *const std::ffi::c_char {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..63]);
    let _ = write!(cursor, "expected integer between {min} and {max}");
    buf.as_ptr().cast()
}

/// lua-cjson's `json_enum_option`: a boolean (true means `bool_true`) or one of `options`
/// by name; pushes the setting back as a boolean when it is one, else as its name.
unsafe fn enum_option(
    l: *mut lua_State,
    idx: c_int,
    setting: *mut c_int,
    options: &[*const std::ffi::c_char],
) {
    // SAFETY: `options` is NULL-terminated; raises with nothing to drop.
    unsafe {
        let bool_true = 1;
        if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
            if ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
                *setting = ffi::lua_toboolean(l, idx) * bool_true;
            } else {
                *setting = ffi::luaL_checkoption(l, idx, std::ptr::null(), options.as_ptr());
            }
        }
        if *setting == 0 || *setting == bool_true {
            ffi::lua_pushboolean(l, *setting);
        } else {
            ffi::lua_pushstring(l, options[*setting as usize]);
        }
    }
}

const ON_OFF: [*const std::ffi::c_char; 3] = [c"off".as_ptr(), c"on".as_ptr(), std::ptr::null()];

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 3);
        enum_option(l, 1, &raw mut (*cfg).encode_sparse_convert, &ON_OFF);
        integer_option(l, 2, &raw mut (*cfg).encode_sparse_ratio, 0, c_int::MAX);
        integer_option(l, 3, &raw mut (*cfg).encode_sparse_safe, 0, c_int::MAX);
        3
    }
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &raw mut (*cfg).encode_max_depth, 1, c_int::MAX);
        1
    }
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &raw mut (*cfg).decode_max_depth, 1, c_int::MAX);
        1
    }
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        integer_option(l, 1, &raw mut (*cfg).encode_number_precision, 1, 14);
        1
    }
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        enum_option(l, 1, &raw mut (*cfg).encode_keep_buffer, &ON_OFF);
        1
    }
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        let options = [
            c"off".as_ptr(),
            c"on".as_ptr(),
            c"null".as_ptr(),
            std::ptr::null(),
        ];
        enum_option(l, 1, &raw mut (*cfg).encode_invalid_numbers, &options);
        1
    }
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: *mut lua_State) -> c_int {
    // SAFETY: C API calls on the running state.
    unsafe {
        let cfg = arg_init(l, 1);
        enum_option(l, 1, &raw mut (*cfg).decode_invalid_numbers, &ON_OFF);
        1
    }
}

// ===== encoding =====

/// The escape of each byte a JSON string cannot hold as it is (`None`: copied).
fn escape(b: u8) -> Option<&'static [u8]> {
    const LOW: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006",
        b"\\u0007", b"\\b", b"\\t", b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f",
        b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013", b"\\u0014", b"\\u0015", b"\\u0016",
        b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c", b"\\u001d",
        b"\\u001e", b"\\u001f",
    ];
    match b {
        0..=31 => Some(LOW[b as usize]),
        b'"' => Some(b"\\\""),
        b'/' => Some(b"\\/"),
        b'\\' => Some(b"\\\\"),
        127 => Some(b"\\u007f"),
        _ => None,
    }
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(esc) = escape(b) {
            out.extend_from_slice(&s[start..i]);
            out.extend_from_slice(esc);
            start = i + 1;
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// "Cannot serialise <type>: <reason>" for the value at `idx`.
unsafe fn exception(l: *mut lua_State, idx: c_int, reason: &str) -> Raise {
    // SAFETY: reads the type at idx only.
    let type_name = unsafe { capi::type_name(l, idx) };
    Raise::Msg(format!("Cannot serialise {type_name}: {reason}"))
}

struct Encoder {
    cfg: Config,
    out: Vec<u8>,
}

impl Encoder {
    unsafe fn number(&mut self, l: *mut lua_State, idx: c_int) -> Res<()> {
        // SAFETY: reads the number at idx.
        let num = unsafe { ffi::lua_tonumber(l, idx) };
        match self.cfg.encode_invalid_numbers {
            0 if !num.is_finite() => {
                // SAFETY: as above.
                return Err(unsafe { exception(l, idx, "must not be NaN or Inf") });
            }
            1 if num.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            0 | 1 => {}
            _ if !num.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        cnum::push_g(
            &mut self.out,
            num,
            self.cfg.encode_number_precision as usize,
        );
        Ok(())
    }

    /// lua-cjson's `lua_array_length`: the array length of the table on top, or -1 when it
    /// must be an object.
    unsafe fn array_length(&mut self, l: *mut lua_State) -> Res<c_int> {
        // SAFETY: iterates the table on top with lua_next, balancing the stack.
        unsafe {
            let mut max: c_int = 0;
            let mut items: c_int = 0;
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                    let k = ffi::lua_tonumber(l, -2);
                    if k != 0.0 && k.floor() == k && k >= 1.0 {
                        if k > f64::from(max) {
                            max = cnum::f64_to_i32(k);
                        }
                        items = items.wrapping_add(1);
                        ffi::lua_pop(l, 1);
                        continue;
                    }
                }
                ffi::lua_pop(l, 2);
                return Ok(-1);
            }
            let cfg = self.cfg;
            if cfg.encode_sparse_ratio > 0
                && max > items.wrapping_mul(cfg.encode_sparse_ratio)
                && max > cfg.encode_sparse_safe
            {
                if cfg.encode_sparse_convert == 0 {
                    return Err(exception(l, -1, "excessively sparse array"));
                }
                return Ok(-1);
            }
            Ok(max)
        }
    }

    /// Appends the value on top of the stack and pops it, or opens the table on top (left
    /// there until its frame closes).
    unsafe fn value(&mut self, l: *mut lua_State, frames: &mut Vec<Frame>) -> Res<()> {
        // SAFETY: C API calls on the running state.
        unsafe {
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => {
                    let s = capi::to_bytes(l, -1).unwrap_or_default();
                    append_string(&mut self.out, s);
                }
                ffi::LUA_TNUMBER => self.number(l, -1)?,
                ffi::LUA_TBOOLEAN => {
                    let b: &[u8] = if ffi::lua_toboolean(l, -1) != 0 {
                        b"true"
                    } else {
                        b"false"
                    };
                    self.out.extend_from_slice(b);
                }
                ffi::LUA_TTABLE => {
                    let depth = frames.len() as c_int + 1;
                    if depth > self.cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                        return Err(Raise::Msg(format!(
                            "Cannot serialise, excessive nesting ({depth})"
                        )));
                    }
                    let len = self.array_length(l)?;
                    if len > 0 {
                        self.out.push(b'[');
                        frames.push(Frame::Array { len, next: 1 });
                    } else {
                        self.out.push(b'{');
                        ffi::lua_pushnil(l);
                        frames.push(Frame::Object { first: true });
                    }
                    return Ok(());
                }
                ffi::LUA_TNIL => self.out.extend_from_slice(b"null"),
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                    self.out.extend_from_slice(b"null")
                }
                _ => return Err(exception(l, -1, "type not supported")),
            }
            ffi::lua_pop(l, 1);
            Ok(())
        }
    }

    /// Pushes the next value of the innermost open table (writing the separator and, for
    /// an object, the key), closing finished tables on the way; false when all is done.
    unsafe fn advance(&mut self, l: *mut lua_State, frames: &mut Vec<Frame>) -> Res<bool> {
        // SAFETY: an array frame has its table on top; an object frame has its table and
        // the last key (nil at first) on top, as lua_next wants.
        unsafe {
            loop {
                match frames.last_mut() {
                    None => return Ok(false),
                    Some(Frame::Array { len, next }) => {
                        if *next <= *len {
                            if *next > 1 {
                                self.out.push(b',');
                            }
                            ffi::lua_rawgeti_(l, -1, *next);
                            *next += 1;
                            return Ok(true);
                        }
                        self.out.push(b']');
                    }
                    Some(Frame::Object { first }) => {
                        if ffi::lua_next(l, -2) != 0 {
                            if !*first {
                                self.out.push(b',');
                            }
                            *first = false;
                            self.key(l)?;
                            return Ok(true);
                        }
                        self.out.push(b'}');
                    }
                }
                frames.pop();
                ffi::lua_pop(l, 1);
            }
        }
    }

    /// Writes the key below the value on top (never converting it in place: lua_next
    /// needs it as it is).
    unsafe fn key(&mut self, l: *mut lua_State) -> Res<()> {
        // SAFETY: reads the key at -2.
        unsafe {
            match ffi::lua_type(l, -2) {
                ffi::LUA_TNUMBER => {
                    self.out.push(b'"');
                    self.number(l, -2)?;
                    self.out.extend_from_slice(b"\":");
                }
                ffi::LUA_TSTRING => {
                    let s = capi::to_bytes(l, -2).unwrap_or_default();
                    append_string(&mut self.out, s);
                    self.out.push(b':');
                }
                _ => return Err(exception(l, -2, "table key must be a number or string")),
            }
            Ok(())
        }
    }
}

/// A table being written: an array walks its indexes, an object its `lua_next` keys.
enum Frame {
    Array { len: c_int, next: c_int },
    Object { first: bool },
}

unsafe fn encode(l: *mut lua_State) -> Res<()> {
    // SAFETY: the argument is the only value on the stack.
    unsafe {
        let mut enc = Encoder {
            cfg: *config(l),
            out: Vec::new(),
        };
        let mut frames = Vec::new();
        loop {
            enc.value(l, &mut frames)?;
            if !enc.advance(l, &mut frames)? {
                break;
            }
        }
        capi::push_bytes(l, &enc.out);
        Ok(())
    }
}

unsafe extern "C-unwind" fn json_encode(l: *mut lua_State) -> c_int {
    // SAFETY: raises only through `raise`, after `encode` dropped its buffer.
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            return ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
        }
        capi::finish(l, encode(l).map(|()| 1))
    }
}

// ===== decoding =====

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    /// The reason, shown in place of a token name.
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Number(_) => "T_NUMBER",
            Tok::Boolean(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(why) => why,
        }
    }
}

struct Parser<'a> {
    /// The text; a NUL byte, or its end, reads as the end (lua-cjson scans a C string).
    data: &'a [u8],
    pos: usize,
    /// The last string token, unescaped.
    tmp: Vec<u8>,
    cfg: Config,
    depth: c_int,
}

fn hex4(b: [u8; 4]) -> Option<u32> {
    let mut v = 0;
    for c in b {
        v = v << 4 | (c as char).to_digit(16)?;
    }
    Some(v)
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn hex4_at(&self, i: usize) -> Option<u32> {
        hex4([self.at(i), self.at(i + 1), self.at(i + 2), self.at(i + 3)])
    }

    /// Decodes the `\uXXXX` (or surrogate pair) at `pos` into `tmp`.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4_at(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4_at(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        // A lone or misplaced surrogate failed above, so this is always a character.
        let Some(c) = char::from_u32(cp) else {
            return false;
        };
        let mut utf8 = [0u8; 4];
        let n = c.encode_utf8(&mut utf8).len();
        self.tmp.extend_from_slice(&utf8[..n]);
        self.pos += len;
        true
    }

    fn string(&mut self) -> (Tok, usize) {
        self.pos += 1;
        self.tmp.clear();
        loop {
            let mut ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return (Tok::Error("unexpected end of string"), self.pos);
            }
            if ch == b'\\' {
                ch = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return (Tok::Error("invalid unicode escape code"), self.pos);
                    }
                    _ => return (Tok::Error("invalid escape code"), self.pos),
                };
                self.pos += 1;
            }
            self.tmp.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        (Tok::Str, 0)
    }

    /// lua-cjson's `json_is_invalid_number`: forms strtod takes but strict JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // C compares a signed char: bytes from 0x80 up count as "<= '9'".
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let starts = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    fn number(&mut self) -> (Tok, usize) {
        match cnum::strtod(&self.data[self.pos.min(self.data.len())..]) {
            Some((v, n)) => {
                self.pos += n;
                (Tok::Number(v), 0)
            }
            None => (Tok::Error("invalid number"), self.pos),
        }
    }

    /// The next token and where it starts (for an error token: where the error is).
    fn next(&mut self) -> (Tok, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let single = match self.at(start) {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return (Tok::End, start),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, start);
        }
        let (tok, err_at) = match self.at(start) {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    (Tok::Error("invalid number"), start)
                } else {
                    self.number()
                }
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => self.word(),
            _ => (Tok::Error("invalid token"), start),
        };
        match tok {
            Tok::Error(_) => (tok, err_at),
            _ => (tok, start),
        }
    }

    fn word(&mut self) -> (Tok, usize) {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let (tok, n) = if rest.starts_with(b"true") {
            (Tok::Boolean(true), 4)
        } else if rest.starts_with(b"false") {
            (Tok::Boolean(false), 5)
        } else if rest.starts_with(b"null") {
            (Tok::Null, 4)
        } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
            return self.number();
        } else {
            return (Tok::Error("invalid token"), self.pos);
        };
        self.pos += n;
        (tok, 0)
    }

    fn expected(&self, what: &str, tok: (Tok, usize)) -> Raise {
        Raise::Msg(format!(
            "Expected {what} but found {} at character {}",
            tok.0.name(),
            tok.1 + 1
        ))
    }

    unsafe fn descend(&mut self, l: *mut lua_State, slots: c_int) -> Res<()> {
        self.depth += 1;
        // SAFETY: lua_checkstack only grows the stack.
        if self.depth <= self.cfg.decode_max_depth && unsafe { ffi::lua_checkstack(l, slots) } != 0
        {
            return Ok(());
        }
        Err(Raise::Msg(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    /// After an object's '{' or ',': the key, its colon, and the token starting the value.
    unsafe fn member(&mut self, l: *mut lua_State, tok: (Tok, usize)) -> Res<(Tok, usize)> {
        if tok.0 != Tok::Str {
            return Err(self.expected("object key string", tok));
        }
        // SAFETY: descend made room for the table, the key and the value.
        unsafe { capi::push_bytes(l, &self.tmp) };
        let tok = self.next();
        if tok.0 != Tok::Colon {
            return Err(self.expected("colon", tok));
        }
        Ok(self.next())
    }

    /// Pushes the value `tok` starts, walking nested arrays and objects with `frames`
    /// rather than recursion (nesting is bounded only by Lua's stack).
    unsafe fn value(&mut self, l: *mut lua_State, mut tok: (Tok, usize)) -> Res<()> {
        let mut frames: Vec<DFrame> = Vec::new();
        // SAFETY: every push is covered by descend's lua_checkstack.
        unsafe {
            loop {
                match tok.0 {
                    Tok::Str => capi::push_bytes(l, &self.tmp),
                    Tok::Number(n) => ffi::lua_pushnumber(l, n),
                    Tok::Boolean(b) => ffi::lua_pushboolean(l, c_int::from(b)),
                    Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                    Tok::ObjBegin => {
                        self.descend(l, 3)?;
                        ffi::lua_newtable(l);
                        tok = self.next();
                        if tok.0 != Tok::ObjEnd {
                            frames.push(DFrame::Object);
                            tok = self.member(l, tok)?;
                            continue;
                        }
                        self.depth -= 1;
                    }
                    Tok::ArrBegin => {
                        self.descend(l, 2)?;
                        ffi::lua_newtable(l);
                        tok = self.next();
                        if tok.0 != Tok::ArrEnd {
                            frames.push(DFrame::Array(1));
                            continue;
                        }
                        self.depth -= 1;
                    }
                    _ => return Err(self.expected("value", tok)),
                }
                // A value is complete: store it in its container, and close containers
                // that end here, until one continues or none is left.
                loop {
                    match frames.last_mut() {
                        None => return Ok(()),
                        Some(DFrame::Array(i)) => {
                            ffi::lua_rawseti_(l, -2, *i);
                            *i = i.wrapping_add(1);
                            tok = self.next();
                            if tok.0 != Tok::ArrEnd {
                                if tok.0 != Tok::Comma {
                                    return Err(self.expected("comma or array end", tok));
                                }
                                tok = self.next();
                                break;
                            }
                        }
                        Some(DFrame::Object) => {
                            ffi::lua_rawset(l, -3);
                            tok = self.next();
                            if tok.0 != Tok::ObjEnd {
                                if tok.0 != Tok::Comma {
                                    return Err(self.expected("comma or object end", tok));
                                }
                                let key = self.next();
                                tok = self.member(l, key)?;
                                break;
                            }
                        }
                    }
                    self.depth -= 1;
                    frames.pop();
                }
            }
        }
    }
}

/// An array or object being read: an array knows its next index.
enum DFrame {
    Array(c_int),
    Object,
}

unsafe fn decode(l: *mut lua_State, data: &[u8]) -> Res<()> {
    // SAFETY: pushes the decoded value.
    unsafe {
        let mut p = Parser {
            data,
            pos: 0,
            tmp: Vec::new(),
            cfg: *config(l),
            depth: 0,
        };
        let tok = p.next();
        p.value(l, tok)?;
        let tok = p.next();
        if tok.0 != Tok::End {
            return Err(p.expected("the end", tok));
        }
        Ok(())
    }
}

unsafe extern "C-unwind" fn json_decode(l: *mut lua_State) -> c_int {
    // SAFETY: raises directly only before any Rust value exists, else through `raise`.
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            return ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
        }
        let mut len = 0usize;
        let p = ffi::luaL_checklstring(l, 1, &mut len).cast::<u8>();
        let data = std::slice::from_raw_parts(p, len);
        if len >= 2 && (data[0] == 0 || data[1] == 0) {
            return ffi::luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
        }
        capi::finish(l, decode(l, data).map(|()| 1))
    }
}

// ===== the module table =====

/// lua-cjson's `lua_cjson_new`: pushes a module table with settings of its own.
unsafe extern "C-unwind" fn cjson_new(l: *mut lua_State) -> c_int {
    type Entry = (
        &'static std::ffi::CStr,
        unsafe extern "C-unwind" fn(*mut lua_State) -> c_int,
    );
    let functions: [Entry; 10] = [
        (c"encode", json_encode),
        (c"decode", json_decode),
        (c"encode_sparse_array", cfg_encode_sparse_array),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_encode_number_precision),
        (c"encode_keep_buffer", cfg_encode_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
        (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
        (c"new", cjson_new),
    ];
    // SAFETY: C API calls on the running state; the userdata is sized for a Config and
    // written before any function can read it.
    unsafe {
        ffi::lua_newtable(l);
        let cfg = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()).cast::<Config>();
        cfg.write(DEFAULTS);
        for (name, f) in functions {
            ffi::lua_pushvalue(l, -1);
            ffi::lua_pushcclosure(l, f, 1);
            ffi::lua_setfield(l, -3, name.as_ptr());
        }
        ffi::lua_pop(l, 1);
        ffi::lua_pushlightuserdata(l, std::ptr::null_mut::<c_void>());
        ffi::lua_setfield(l, -2, c"null".as_ptr());
        ffi::lua_pushstring(l, c"cjson".as_ptr());
        ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
        ffi::lua_pushstring(l, c"2.1.0".as_ptr());
        ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
        1
    }
}

/// The `cjson` table.
pub fn open(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    capi::open_with(lua, cjson_new)
}

#[cfg(test)]
mod tests {
    use crate::lua::libs::testing::check_lines;

    /// Guards encoding, decoding and their errors, case by case as redis-server 7.0.15
    /// answered `EVAL "return <expression>" 0` (the expected texts were generated from it).
    #[test]
    fn cjson_encode_decode_match_redis() {
        check_lines(
            r#"
cjson.encode({1,2,3}) => [1,2,3]
cjson.encode({}) => {}
cjson.encode({a=1}) => {"a":1}
cjson.encode({1,2,nil,4}) => [1,2,null,4]
cjson.encode({[1]=1,[2]=2,[4]=4}) => [1,2,null,4]
cjson.encode({[1]=1,[11]=2}) => ERR user_script:1: Cannot serialise table: excessively sparse array
cjson.encode({[11]=2}) => ERR user_script:1: Cannot serialise table: excessively sparse array
cjson.encode({[10]=2}) => [null,null,null,null,null,null,null,null,null,2]
cjson.encode({[1.5]=2}) => {"1.5":2}
cjson.encode({[0]=1}) => {"0":1}
cjson.encode({[-1]=1}) => {"-1":1}
cjson.encode({[2^40]=1}) => {"1099511627776":1}
cjson.encode(0.1) => 0.1
cjson.encode(1/3) => 0.33333333333333
cjson.encode(1e15) => 1e+15
cjson.encode(123456789012345) => 1.2345678901234e+14
cjson.encode(-0) => -0
cjson.encode(1/0) => ERR user_script:1: Cannot serialise number: must not be NaN or Inf
cjson.encode(0/0) => ERR user_script:1: Cannot serialise number: must not be NaN or Inf
cjson.encode(-1/0) => ERR user_script:1: Cannot serialise number: must not be NaN or Inf
cjson.encode(nil) => null
cjson.encode(true) => true
cjson.encode(cjson.null) => null
cjson.encode({[true]=1}) => ERR user_script:1: Cannot serialise boolean: table key must be a number or string
cjson.encode({[{}]=1}) => ERR user_script:1: Cannot serialise table: table key must be a number or string
cjson.encode() => ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument)
cjson.encode(1,2) => ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument)
cjson.encode({[1]=1,a=2}) => {"1":1,"a":2}
cjson.encode({[1.0]="x"}) => ["x"]
cjson.encode({["1"]="x"}) => {"1":"x"}
cjson.encode({[3]=1,[1]=1,[2]=1}) => [1,1,1]
cjson.encode({{{{}}}}) => [[[{}]]]
cjson.encode({[1]=1/0}) => ERR user_script:1: Cannot serialise number: must not be NaN or Inf
cjson.encode({[1/0]=1}) => ERR user_script:1: Cannot serialise number: must not be NaN or Inf
cjson.encode(12345678901234567890) => 1.2345678901235e+19
cjson.encode(1e-5) => 1e-05
cjson.encode(-1.5e-300) => -1.5e-300
cjson.encode(cjson.decode('[1,2,3,{"a":null,"b":[true,false]}]')) => [1,2,3,{"a":null,"b":[true,false]}]
cjson.decode(' 12.5e1 ') => 125
cjson.decode('0x10') => 16
cjson.decode('-0x10') => -16
cjson.decode('+1') => 1
cjson.decode('01') => 1
cjson.decode('NaN') ~= cjson.decode('NaN') => 1
cjson.decode('inf') => -9223372036854775808
cjson.decode('-Infinity') => -9223372036854775808
cjson.decode('infinity') => -9223372036854775808
cjson.decode('infx') => ERR user_script:1: Expected the end but found invalid token at character 4
type(cjson.decode('null')) => userdata
cjson.decode('null') == cjson.null => 1
cjson.decode('[') => ERR user_script:1: Expected value but found T_END at character 2
cjson.decode('') => ERR user_script:1: Expected value but found T_END at character 1
cjson.decode('{"a" 1}') => ERR user_script:1: Expected colon but found T_NUMBER at character 6
cjson.decode('{"a":1,}') => ERR user_script:1: Expected object key string but found T_OBJ_END at character 8
cjson.decode('{1:2}') => ERR user_script:1: Expected object key string but found T_NUMBER at character 2
cjson.decode('[1,]') => ERR user_script:1: Expected value but found T_ARR_END at character 4
cjson.decode('[1 2]') => ERR user_script:1: Expected comma or array end but found T_NUMBER at character 4
cjson.decode('tru') => ERR user_script:1: Expected value but found invalid token at character 1
cjson.decode('"abc') => ERR user_script:1: Expected value but found unexpected end of string at character 5
cjson.decode('"\\x"') => ERR user_script:1: Expected value but found invalid escape code at character 2
cjson.decode('"\\u12"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('"\\udc00"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('"\\ud800x"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('[1] x') => ERR user_script:1: Expected the end but found invalid token at character 5
cjson.decode('1\0') => ERR user_script:1: JSON parser does not support UTF-16 or UTF-32
cjson.decode('[1]\0garbage') => 1
cjson.decode('\0') => ERR user_script:1: Expected value but found T_END at character 1
cjson.decode('"a\0b"') => ERR user_script:1: Expected value but found unexpected end of string at character 3
cjson.decode(12) => 12
cjson.decode() => ERR user_script:1: bad argument #1 to 'decode' (expected 1 argument)
cjson.decode(nil) => ERR user_script:1: bad argument #1 to 'decode' (string expected, got nil)
cjson.decode({}) => ERR user_script:1: bad argument #1 to 'decode' (string expected, got table)
cjson.decode('1', 2) => ERR user_script:1: bad argument #1 to 'decode' (expected 1 argument)
cjson.decode('@') => ERR user_script:1: Expected value but found invalid token at character 1
cjson.decode('1.5.3') => ERR user_script:1: Expected the end but found invalid token at character 4
cjson.decode('-') => ERR user_script:1: Expected value but found invalid number at character 1
cjson.decode('--1') => ERR user_script:1: Expected value but found invalid number at character 1
cjson.decode('1e400') => -9223372036854775808
cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001)) => ERR user_script:1: Found too many nested data structures (1001) at character 1001
cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))):len() => 2000
cjson.decode(string.rep('{"a":', 1001)) => ERR user_script:1: Found too many nested data structures (1001) at character 5001
cjson.encode(cjson.decode('{"a":1,"a":2}')) => {"a":2}
cjson.encode(cjson.decode('[1,null,3]')) => [1,null,3]
cjson.decode('"\t"') => 	
cjson.decode('"\\u0000"'):len() => 1
cjson.decode('1 ') => 1
cjson.decode(' ') => ERR user_script:1: Expected value but found T_END at character 2
cjson.decode('[1,2') => ERR user_script:1: Expected comma or array end but found T_END at character 5
cjson.decode('[]]') => ERR user_script:1: Expected the end but found T_ARR_END at character 3
cjson.decode('nul') => ERR user_script:1: Expected value but found invalid token at character 1
cjson.decode('-nan') => -9223372036854775808
cjson.decode('.5') => ERR user_script:1: Expected value but found invalid token at character 1
cjson.decode('-.5') => 0
cjson.decode('1.') => 1
cjson.decode('1e5') => 100000
cjson.decode('nan') => -9223372036854775808
(function() local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return pcall(cjson.encode, t) end)() =>
(function() local t = {} local c = t for i=1,999 do c[1] = {} c = c[1] end return #cjson.encode(t) end)() => 2000
(function() local t = {} local c = t for i=1,1000 do c.a = {} c = c.a end return pcall(cjson.encode, t) end)() =>
(function() local t = {} t[1] = t return pcall(cjson.encode, t) end)() =>
(function() cjson.encode_max_depth(100000) local t = {} local c = t for i=1,5000 do c.a = {} c = c.a end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return e end)() => Cannot serialise, excessive nesting (4000)
(function() cjson.encode_max_depth(100000) local t = {} local c = t for i=1,9000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return e end)() => Cannot serialise, excessive nesting (7998)
(function() cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('[', 9000)) cjson.decode_max_depth(1000) return e end)() => Found too many nested data structures (7999) at character 7999
(function() cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('{"a":', 9000)) cjson.decode_max_depth(1000) return e end)() => Found too many nested data structures (4000) at character 19996
cjson.encode({[1]='a', [2]='b', n=3}) => {"1":"a","2":"b","n":3}
cjson.encode({["a"]={}, ["b"]={1}}) => {"a":{},"b":[1]}
cjson.encode(setmetatable({}, {__index=function() return 1 end})) => {}
cjson.encode({[1]=1, [2]=2, [3]=3, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10, [11]=11, [12]=12}) => [1,2,3,null,5,6,7,8,9,10,11,12]
cjson.encode({[1]=1, [12]=12}) => ERR user_script:1: Cannot serialise table: excessively sparse array
cjson.encode({[-0.0]=1}) => {"-0":1}
cjson.encode({0.1, -0.0, 1e308, 5e-324, 2^53}) => [0.1,-0,1e+308,4.9406564584125e-324,9.007199254741e+15]
cjson.decode('[0.1, 1e308, 5e-324, 9007199254740993, 123456789012345678]')[5] => 123456789012345680
cjson.decode('"\\u0041\\u00DF\\u20ac\\uFFFF"') => Aß€￿
cjson.decode('"\\uD834\\uDD1E"') => 𝄞
cjson.decode('"\\ud834\\u0041"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('"\\ud834"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('"\\u"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('"\\uGGGG"') => ERR user_script:1: Expected value but found invalid unicode escape code at character 2
cjson.decode('true') => 1
cjson.decode('false') =>
cjson.decode('truex') => ERR user_script:1: Expected the end but found invalid token at character 5
cjson.decode('[true,false,null]')[1] => 1
cjson.decode('{"a":1}').a => 1
cjson.decode('[1,2,3]')[3] => 3
"#,
        );
    }

    /// Guards the settings functions (their argument rules and how a setting changes
    /// encoding and decoding), the nesting limits (both the settings and Lua's stack), and
    /// `cjson.new`, in the order they were asked of a fresh redis-server 7.0.15: settings
    /// persist from one case to the next as they do there.
    #[test]
    fn cjson_settings_match_redis() {
        check_lines(
            r#"
table.concat({tostring(cjson.encode_sparse_array())}, ',') => false
(function() local a,b,c = cjson.encode_sparse_array(true) return tostring(a)..','..b..','..c end)() => true,2,10
(function() local a,b,c = cjson.encode_sparse_array(true, 3, 4) return tostring(a)..','..b..','..c..' '..cjson.encode({[1]=1,[20]=2}) end)() => true,3,4 {"1":1,"20":2}
(function() local a,b,c = cjson.encode_sparse_array(false, 0) return tostring(a)..','..b..','..c..' '..cjson.encode({[1]=1,[200]=2}):len() end)() => false,0,4 995
tostring(cjson.encode_sparse_array('on')) => true
tostring(cjson.encode_sparse_array('off')) => false
cjson.encode_sparse_array('x') => ERR user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'x')
cjson.encode_sparse_array(1) => ERR user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')
cjson.encode_sparse_array({}) => ERR user_script:1: bad argument #1 to 'encode_sparse_array' (string expected, got table)
cjson.encode_sparse_array(true, -1) => ERR user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)
cjson.encode_sparse_array(true, 1, -2) => ERR user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)
cjson.encode_sparse_array(true, 1, 2, 3) => ERR user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)
cjson.encode_sparse_array(nil, 'a') => ERR user_script:1: bad argument #2 to 'encode_sparse_array' (number expected, got string)
(function() local a,b,c = cjson.encode_sparse_array(false, 2, 10) return tostring(a)..','..b..','..c end)() => false,2,10
cjson.encode_max_depth(0) => ERR user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)
cjson.encode_max_depth(2.7) => 2
cjson.encode_max_depth('5') => 5
cjson.encode_max_depth(2^32+3) => 3
cjson.encode_max_depth(2^31) => ERR user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)
cjson.encode_max_depth(nil) => 3
cjson.encode_max_depth() => 3
cjson.encode_max_depth(1000) => 1000
cjson.decode_max_depth(-1) => ERR user_script:1: bad argument #1 to 'decode_max_depth' (expected integer between 1 and 2147483647)
cjson.decode_max_depth() => 1000
cjson.encode_number_precision(15) => ERR user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)
cjson.encode_number_precision(0) => ERR user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)
cjson.encode_number_precision('x') => ERR user_script:1: bad argument #1 to 'encode_number_precision' (number expected, got string)
cjson.encode_number_precision(nil, 1) => ERR user_script:1: bad argument #2 to 'encode_number_precision' (found too many arguments)
cjson.encode_number_precision(3) .. ' ' .. cjson.encode(1/3) .. ' ' .. cjson.encode(12345) .. ' ' .. cjson.encode({[0.12345]=1}) => 3 0.333 1.23e+04 {"0.123":1}
cjson.encode_number_precision(14) => 14
tostring(cjson.encode_keep_buffer(false)) => false
tostring(cjson.encode_keep_buffer('on')) => true
cjson.encode_keep_buffer(1) => ERR user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option '1')
cjson.encode(string.rep('ab', 3)) => "ababab"
tostring(cjson.encode_invalid_numbers(true)) => true
cjson.encode({1/0, 0/0, -1/0, -(0/0)}) => [inf,nan,-inf,nan]
cjson.encode({[1/0]=1}) => {"inf":1}
cjson.encode_invalid_numbers('null') => null
cjson.encode({1/0, 0/0, -1/0}) => [null,null,null]
cjson.encode({[1/0]=1}) => {"null":1}
cjson.encode_invalid_numbers('both') => ERR user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'both')
tostring(cjson.encode_invalid_numbers('off')) => false
tostring(cjson.decode_invalid_numbers(false)) => false
select(2, pcall(cjson.decode, '0x10')) => Expected value but found invalid number at character 1
select(2, pcall(cjson.decode, 'inf')) => Expected value but found invalid token at character 1
select(2, pcall(cjson.decode, '+1')) => Expected value but found invalid token at character 1
select(2, pcall(cjson.decode, '01')) => Expected value but found invalid number at character 1
select(2, pcall(cjson.decode, '-01')) => Expected value but found invalid number at character 1
select(2, pcall(cjson.decode, '-inf')) => Expected value but found invalid number at character 1
select(2, pcall(cjson.decode, 'nan')) => Expected value but found invalid token at character 1
select(2, pcall(cjson.decode, 'NaN')) => Expected value but found invalid token at character 1
select(2, pcall(cjson.decode, '-0')) => 0
select(2, pcall(cjson.decode, '0.5e1')) => 5
select(2, pcall(cjson.decode, '0')) => 0
cjson.decode_invalid_numbers('null') => ERR user_script:1: bad argument #1 to 'decode_invalid_numbers' (invalid option 'null')
tostring(cjson.decode_invalid_numbers('on')) => true
cjson.encode_max_depth(2) => 2
select(2, pcall(cjson.encode, {{{1}}})) => Cannot serialise, excessive nesting (3)
select(2, pcall(cjson.encode, {{1}})) => [[1]]
select(2, pcall(cjson.encode, {a={b={}}})) => Cannot serialise, excessive nesting (3)
cjson.decode_max_depth(2) => 2
select(2, pcall(cjson.decode, '[[[1]]]')) => Found too many nested data structures (3) at character 3
select(2, pcall(cjson.decode, '{"a":{"b":{}}}')) => Found too many nested data structures (3) at character 11
select(2, pcall(cjson.decode, '[[1]]'))[1][1] => 1
cjson.new().encode_max_depth() => 1000
cjson.new()._NAME .. cjson.new()._VERSION => cjson2.1.0
cjson.new().encode_max_depth(3) .. cjson.encode_max_depth() => 32
cjson.new().null == cjson.null => 1
type(cjson.new(1,2).new(1)) => table
cjson.encode_max_depth(1000) .. cjson.decode_max_depth(1000) => 10001000
(function() local t = {} local c = t for i=1,1000 do c[1] = {} c = c[1] end return select(2, pcall(cjson.encode, t)) end)() => Cannot serialise, excessive nesting (1001)
(function() local t = {} local c = t for i=1,1000 do c.a = {} c = c.a end return select(2, pcall(cjson.encode, t)) end)() => Cannot serialise, excessive nesting (1001)
(function() local t = {} t[1] = t return select(2, pcall(cjson.encode, t)) end)() => Cannot serialise, excessive nesting (1001)
(function() cjson.encode_max_depth(100000) local t = {} local c = t for i=1,5000 do c.a = {} c = c.a end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return e end)() => Cannot serialise, excessive nesting (4000)
(function() cjson.encode_max_depth(100000) local t = {} local c = t for i=1,9000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return e end)() => Cannot serialise, excessive nesting (7998)
(function() cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('[', 9000)) cjson.decode_max_depth(1000) return e end)() => Found too many nested data structures (7999) at character 7999
(function() cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('{"a":', 9000)) cjson.decode_max_depth(1000) return e end)() => Found too many nested data structures (4000) at character 19996
(function() cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('[', 7997) .. string.rep(']', 7997)) cjson.decode_max_depth(1000) return tostring(ok) end)() => true
type(cjson.decode('{"a":[1,{"b":null}]}').a[2].b) => userdata
cjson.encode(cjson.decode('{"a":[1,{"b":null}],"c":"\\u00e9"}')) => {"a":[1,{"b":null}],"c":"é"}
cjson.encode({a={1,2,{b=false}}}) => {"a":[1,2,{"b":false}]}
cjson.encode(cjson.decode('[1.5,-2,3e2,0.1]')) => [1.5,-2,300,0.1]
select(2, pcall(cjson.encode, function() end)) => Cannot serialise function: type not supported
select(2, pcall(cjson.encode, coroutine.create(function() end))) => Cannot serialise thread: type not supported
select(2, pcall(cjson.encode, {f=function() end})) => Cannot serialise function: type not supported
select(2, pcall(cjson.encode)) => bad argument #1 to '?' (expected 1 argument)
select(2, pcall(cjson.decode)) => bad argument #1 to '?' (expected 1 argument)
"#,
        );
    }
}
