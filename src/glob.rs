//! Glob-style matching as Redis does it for KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE:
//! `*`, `?`, `[abc]`, `[^a-z]`, and `\x` escapes, byte-wise, optionally case-insensitive.

/// Most nested `*` expansions before giving up (Redis bounds the recursion the same way, so
/// hostile patterns cannot take exponential time).
const MAX_STAR_DEPTH: u32 = 1000;

/// True when `s` matches `pattern`.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_at(pattern, s, nocase, &mut skip_longer, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_at(mut p: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, depth: u32) -> bool {
    if depth > MAX_STAR_DEPTH {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_at(&p[1..], s, nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // The rest of the pattern failed against every suffix: a longer string at
                // this level cannot match either.
                *skip_longer = true;
                return false;
            }
            b'?' => s = &s[1..],
            b'[' => {
                let (hit, rest) = match_class(&p[1..], s[0], nocase);
                if !hit {
                    return false;
                }
                // Skip the closing `]` (absent when the class ran to the end).
                p = rest.get(1..).unwrap_or(rest);
                s = &s[1..];
                continue;
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
    }
    if s.is_empty() {
        while !p.is_empty() && p[0] == b'*' {
            p = &p[1..];
        }
    }
    p.is_empty() && s.is_empty()
}

/// Matches `c` against a class body (after `[`). Returns whether it matched and the pattern
/// after the closing `]` (an unclosed class runs to the end, as in Redis).
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let not = !p.is_empty() && p[0] == b'^';
    if not {
        p = &p[1..];
    }
    let mut hit = false;
    loop {
        if p.is_empty() {
            break;
        }
        if p[0] == b'\\' && p.len() >= 2 {
            p = &p[1..];
            if eq(p[0], c, nocase) {
                hit = true;
            }
        } else if p[0] == b']' {
            break;
        } else if p.len() >= 3 && p[1] == b'-' {
            let (mut lo, mut hi) = (p[0], p[2]);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let (lo, hi, cc) = if nocase {
                (
                    lo.to_ascii_lowercase(),
                    hi.to_ascii_lowercase(),
                    c.to_ascii_lowercase(),
                )
            } else {
                (lo, hi, c)
            };
            if cc >= lo && cc <= hi {
                hit = true;
            }
            p = &p[2..];
        } else if eq(p[0], c, nocase) {
            hit = true;
        }
        p = &p[1..];
    }
    // `p` is at `]`, or empty for an unclosed class (Redis ends the class at the pattern end).
    (hit != not, p)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_cases() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hello", false));
        assert!(matches(b"MAX*", b"maxclients", true));
        assert!(!matches(b"a*b", b"acd", false));
        assert!(matches(b"*a*", b"bab", false));
        assert!(!matches(b"", b"a", false));
        assert!(matches(b"", b"", false));
    }

    #[test]
    fn hostile_pattern_is_bounded() {
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = vec![b'a'; 5000];
        assert!(!matches(p, &s, false));
    }
}
