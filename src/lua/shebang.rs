//! The first line of a script or library: `#!lua flags=no-writes,allow-oom` on an EVAL script,
//! `#!lua name=mylib` on a FUNCTION library. Parsed as Redis 7.0 does (its `sdssplitargs`
//! rules for the words), with its error texts.

use super::ScriptFlags;

/// Flag names as scripts and libraries spell them.
const FLAG_NAMES: [(&str, u8); 5] = [
    ("no-writes", ScriptFlags::NO_WRITES),
    ("allow-oom", ScriptFlags::ALLOW_OOM),
    ("allow-stale", ScriptFlags::ALLOW_STALE),
    ("no-cluster", ScriptFlags::NO_CLUSTER),
    ("allow-cross-slot-keys", ScriptFlags::ALLOW_CROSS_SLOT),
];

/// The bit of a flag name (`case_insensitive` for `register_function`'s flags table).
pub(super) fn flag_bit(name: &[u8], case_insensitive: bool) -> Option<u8> {
    FLAG_NAMES.iter().find_map(|(n, bit)| {
        let same = if case_insensitive {
            n.as_bytes().eq_ignore_ascii_case(name)
        } else {
            n.as_bytes() == name
        };
        same.then_some(*bit)
    })
}

/// An EVAL script's flags and where its code starts (the shebang line is skipped but its line
/// feed kept, so line numbers in errors stay the user's). Err: Redis' text without "ERR ".
pub(super) fn script(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::default(), 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = ScriptFlags::HAS_SHEBANG;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&c| c == b',') {
            match flag_bit(name, false) {
                Some(bit) => flags |= bit,
                None => {
                    return Err(format!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
    }
    Ok((ScriptFlags(flags), end))
}

/// A library's metadata: (engine, name, code after the shebang line, starting at its line feed).
pub(crate) fn library(payload: &[u8]) -> Result<(String, String, &[u8]), String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = payload.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&payload[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2.min(parts[0].len())..]).into_owned();
    let mut name: Option<String> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok((engine, name, &payload[end..]))
}

/// Letters, digits and underscores, at least one (library and function names).
pub(crate) fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Splits a line into words as Redis' `sdssplitargs`: blanks separate words, a word in quotes
/// takes the escapes of `resp::parse::unquote` and must be followed by a blank or the end.
/// None on an unbalanced quote.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(words);
        }
        let start = i;
        let q = line[i];
        if q == b'"' || q == b'\'' {
            i += 1;
            loop {
                let c = *line.get(i)?;
                if c == b'\\' && i + 1 < line.len() {
                    i += 2;
                    continue;
                }
                i += 1;
                if c == q {
                    break;
                }
            }
            if i < line.len() && !line[i].is_ascii_whitespace() {
                return None;
            }
            words.push(crate::resp::parse::unquote(&line[start..i]));
        } else {
            while i < line.len() && !line[i].is_ascii_whitespace() {
                i += 1;
            }
            words.push(line[start..i].to_vec());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_shebangs_parse_as_redis() {
        // Texts from redis-server 7.0.15 (EVAL with each shebang).
        assert_eq!(script(b"return 1").unwrap(), (ScriptFlags(0), 0));
        let (f, start) = script(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert_eq!(start, 31);
        assert!(f.has(ScriptFlags::NO_WRITES) && f.has(ScriptFlags::ALLOW_OOM));
        assert!(f.has(ScriptFlags::HAS_SHEBANG));
        let bare = script(b"#!lua \"flags=no-cluster\"\nreturn 1").unwrap().0;
        assert_eq!(bare.0, ScriptFlags::HAS_SHEBANG | ScriptFlags::NO_CLUSTER);
        let cases: [(&[u8], &str); 5] = [
            (b"#!lua", "Invalid script shebang"),
            (
                b"#!python\n",
                "Unexpected engine in script shebang: #!python",
            ),
            (
                b"#!lua flags=bad\n",
                "Unexpected flag in script shebang: bad",
            ),
            (b"#!lua name=x\n", "Unknown lua shebang option: name=x"),
            (b"#!lua \"a\n", "Invalid engine in script shebang"),
        ];
        for (body, err) in cases {
            assert_eq!(script(body).unwrap_err(), err);
        }
    }

    #[test]
    fn library_metadata_parses_as_redis() {
        let (engine, name, code) = library(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!((engine.as_str(), name.as_str()), ("lua", "mylib"));
        assert_eq!(code, b"\nreturn 1");
        let cases: [(&[u8], &str); 5] = [
            (b"return 1", "Missing library metadata"),
            (b"#!lua name=x", "Invalid library metadata"),
            (b"#!lua\n", "Library name was not given"),
            (
                b"#!lua name=a name=b\n",
                "Invalid metadata value, name argument was given multiple times",
            ),
            (b"#!lua foo=1\n", "Invalid metadata value given: foo=1"),
        ];
        for (payload, err) in cases {
            assert_eq!(library(payload).unwrap_err(), err);
        }
        assert!(valid_name(b"a_1") && !valid_name(b"") && !valid_name(b"a-b"));
    }
}
