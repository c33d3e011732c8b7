//! Glob-style matching exactly as Redis 7.0 `stringmatchlen` (KEYS, SCAN MATCH, PSUBSCRIBE,
//! CONFIG GET, ...). Pure: no keyspace, no I/O.
//!
//! Callers must short-circuit the bare pattern `*` themselves, as Redis does for KEYS and
//! SCAN: `stringmatchlen` never matches the empty string, so `glob_match(b"*", b"", _)` is
//! false although `KEYS *` lists an empty key name.

/// Redis refuses to recurse deeper than this many `*` levels and reports no match instead.
const MAX_NESTING: u32 = 1000;

/// Matches `s` against `pattern` with Redis 7.0 semantics: `*`, `?`, `[...]` classes with
/// `^` negation, ranges (reversed ranges are swapped) and `\` escapes, a `\` escape outside
/// classes, and an unterminated `[` class running to the end of the pattern. `nocase` folds
/// ASCII letters only (the C locale), and never inside a `\` escape within a class.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, s, nocase, &mut skip_longer_matches, 0)
}

/// C `tolower` in the C locale, applied to a (possibly negative) `char` value.
fn lower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// A byte as the C code sees it through a (signed on x86_64) `char`: range bounds compare
/// as signed, so e.g. `[a-\xff]` covers `\x00`..=`a` and `\xff` rather than `a`..=`\xff`.
fn signed(c: u8) -> i32 {
    i32::from(c as i8)
}

fn byte_eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        lower(signed(a)) == lower(signed(b))
    } else {
        a == b
    }
}

/// Cursor-for-cursor port of `stringmatchlen_impl`. `pc` reads the pattern like the C code
/// reads its NUL-terminated buffer: one position past the end yields 0.
fn match_impl(pat: &[u8], st: &[u8], nocase: bool, skip: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let pc = |i: usize| pat.get(i).copied().unwrap_or(0);
    let (mut p, mut s) = (0usize, 0usize);
    while p < pat.len() && s < st.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && pc(p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true;
                }
                while s < st.len() {
                    if match_impl(&pat[p + 1..], &st[s..], nocase, skip, nesting + 1) {
                        return true;
                    }
                    if *skip {
                        return false;
                    }
                    s += 1;
                }
                // The rest of the pattern matches at no position of the rest of the string,
                // so no enclosing `*` can succeed by consuming more: abort the whole search.
                *skip = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = pc(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let plen = pat.len() - p;
                    if pc(p) == b'\\' && plen >= 2 {
                        p += 1;
                        if pat[p] == st[s] {
                            matched = true;
                        }
                    } else if pc(p) == b']' {
                        break;
                    } else if plen == 0 {
                        // Unterminated class: step back so the shared advance below lands
                        // exactly at the end of the pattern.
                        p -= 1;
                        break;
                    } else if plen >= 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end) = (signed(pat[p]), signed(pat[p + 2]));
                        let mut c = signed(st[s]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            c = lower(c);
                        }
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if byte_eq(pat[p], st[s], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            c => {
                let lit = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if !byte_eq(lit, st[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == st.len() {
            while pc(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && s == st.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected sets: `KEYS <pattern>` over exactly these keys on redis-server 7.0.15.
    const KEYS: &[&[u8]] = &[
        b"",
        b"a",
        b"b",
        b"A",
        b"ab",
        b"abc",
        b"aXc",
        b"a-c",
        b"-",
        b"]",
        b"[",
        b"^",
        b"\\",
        b"*",
        b"?",
        b"x*y",
        b"hello",
        b"hallo",
        b"hxllo",
        b"heeeello",
        b"\x80",
        b"\xff",
        b"\x00",
        b"a\x00b",
        b"ba",
        b"aaa",
        b"abab",
    ];
    const CASES: &[(&[u8], &[&[u8]])] = &[
        (b"a", &[b"a"]),
        (
            b"?",
            &[
                b"a", b"b", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\x80", b"\xff",
                b"\x00",
            ],
        ),
        (b"??", &[b"ab", b"ba"]),
        (b"*a", &[b"a", b"ba", b"aaa"]),
        (
            b"a*",
            &[
                b"a", b"ab", b"abc", b"aXc", b"a-c", b"a\x00b", b"aaa", b"abab",
            ],
        ),
        (
            b"*a*",
            &[
                b"a", b"ab", b"abc", b"aXc", b"a-c", b"hallo", b"a\x00b", b"ba", b"aaa", b"abab",
            ],
        ),
        (b"a*c", &[b"abc", b"aXc", b"a-c"]),
        (b"a?c", &[b"abc", b"aXc", b"a-c"]),
        (b"h?llo", &[b"hello", b"hallo", b"hxllo"]),
        (b"h*llo", &[b"hello", b"hallo", b"hxllo", b"heeeello"]),
        (b"h[ae]llo", &[b"hello", b"hallo"]),
        (b"h[^e]llo", &[b"hallo", b"hxllo"]),
        (b"h[a-b]llo", &[b"hallo"]),
        (b"[b-a]", &[b"a", b"b"]),
        (b"[a-c]", &[b"a", b"b"]),
        (b"[c-a]b", &[b"ab"]),
        (b"[", &[]),
        (b"[a", &[b"a"]),
        (
            b"[^",
            &[
                b"a", b"b", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\x80", b"\xff",
                b"\x00",
            ],
        ),
        (
            b"[^a",
            &[
                b"b", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\x80", b"\xff", b"\x00",
            ],
        ),
        (b"[a-", &[b"a", b"-"]),
        (b"[\\", &[b"\\"]),
        (b"[\\]", &[b"]"]),
        (b"[\\a]", &[b"a"]),
        (b"[]", &[]),
        (b"[]]", &[]),
        (b"[^]]", &[]),
        (b"[-]", &[b"-"]),
        (b"[a-]", &[b"a", b"]", b"^"]),
        (b"[-a]", &[b"a", b"-"]),
        (b"[]-a]", &[]),
        (b"\\", &[b"\\"]),
        (b"a\\", &[]),
        (b"\\*", &[b"*"]),
        (b"\\?", &[b"?"]),
        (b"\\[", &[b"["]),
        (b"\\a", &[b"a"]),
        (b"x\\*y", &[b"x*y"]),
        (b"x*y", &[b"x*y"]),
        (b"[*]", &[b"*"]),
        (b"[?]", &[b"?"]),
        (b"[[]", &[b"["]),
        (b"[\\-]", &[b"-"]),
        (b"[a\\-c]", &[b"a", b"-"]),
        (b"a[\\-]c", &[b"a-c"]),
        (
            b"[a-\xff]",
            &[
                b"a", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\xff", b"\x00",
            ],
        ),
        (
            b"[\x80-a]",
            &[
                b"a", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\x80", b"\xff", b"\x00",
            ],
        ),
        (b"[\xff-\x80]", &[b"\x80", b"\xff"]),
        (
            b"[\x00-b]",
            &[
                b"a", b"b", b"A", b"-", b"]", b"[", b"^", b"\\", b"*", b"?", b"\x00",
            ],
        ),
        (b"\x00", &[b"\x00"]),
        (b"a?b", &[b"a\x00b"]),
        (b"*\x00*", &[b"\x00", b"a\x00b"]),
        (
            b"**",
            &[
                b"a",
                b"b",
                b"A",
                b"ab",
                b"abc",
                b"aXc",
                b"a-c",
                b"-",
                b"]",
                b"[",
                b"^",
                b"\\",
                b"*",
                b"?",
                b"x*y",
                b"hello",
                b"hallo",
                b"hxllo",
                b"heeeello",
                b"\x80",
                b"\xff",
                b"\x00",
                b"a\x00b",
                b"ba",
                b"aaa",
                b"abab",
            ],
        ),
        (b"***a", &[b"a", b"ba", b"aaa"]),
        (
            b"a**",
            &[
                b"a", b"ab", b"abc", b"aXc", b"a-c", b"a\x00b", b"aaa", b"abab",
            ],
        ),
        (
            b"*?",
            &[
                b"a",
                b"b",
                b"A",
                b"ab",
                b"abc",
                b"aXc",
                b"a-c",
                b"-",
                b"]",
                b"[",
                b"^",
                b"\\",
                b"*",
                b"?",
                b"x*y",
                b"hello",
                b"hallo",
                b"hxllo",
                b"heeeello",
                b"\x80",
                b"\xff",
                b"\x00",
                b"a\x00b",
                b"ba",
                b"aaa",
                b"abab",
            ],
        ),
        (
            b"?*",
            &[
                b"a",
                b"b",
                b"A",
                b"ab",
                b"abc",
                b"aXc",
                b"a-c",
                b"-",
                b"]",
                b"[",
                b"^",
                b"\\",
                b"*",
                b"?",
                b"x*y",
                b"hello",
                b"hallo",
                b"hxllo",
                b"heeeello",
                b"\x80",
                b"\xff",
                b"\x00",
                b"a\x00b",
                b"ba",
                b"aaa",
                b"abab",
            ],
        ),
        (
            b"*?*?*",
            &[
                b"ab",
                b"abc",
                b"aXc",
                b"a-c",
                b"x*y",
                b"hello",
                b"hallo",
                b"hxllo",
                b"heeeello",
                b"a\x00b",
                b"ba",
                b"aaa",
                b"abab",
            ],
        ),
        (
            b"[^a-c]*",
            &[
                b"A",
                b"-",
                b"]",
                b"[",
                b"^",
                b"\\",
                b"*",
                b"?",
                b"x*y",
                b"hello",
                b"hallo",
                b"hxllo",
                b"heeeello",
                b"\x80",
                b"\xff",
                b"\x00",
            ],
        ),
        (b"*b*", &[b"b", b"ab", b"abc", b"a\x00b", b"ba", b"abab"]),
        (b"*ab", &[b"ab", b"abab"]),
        (b"ab*ab", &[b"abab"]),
        (b"a*b*c", &[b"abc"]),
        (b"[ab][ab]", &[b"ab", b"ba"]),
        (b"[!a]", &[b"a"]),
        (b"[a]]", &[]),
        (b"h*l?o", &[b"hello", b"hallo", b"hxllo", b"heeeello"]),
        (b"*l*o", &[b"hello", b"hallo", b"hxllo", b"heeeello"]),
        (b"*e*e*e*e*e*l", &[]),
    ];

    #[test]
    fn matches_redis_keys() {
        for &(pattern, want) in CASES {
            for &key in KEYS {
                assert_eq!(
                    glob_match(pattern, key, false),
                    want.contains(&key),
                    "pattern {:?} key {:?}",
                    String::from_utf8_lossy(pattern),
                    String::from_utf8_lossy(key)
                );
            }
        }
    }

    #[test]
    fn bare_star_needs_the_callers_short_circuit() {
        assert!(!glob_match(b"*", b"", false));
        assert!(glob_match(b"*", b"x", false));
        assert!(!glob_match(b"", b"x", false));
        assert!(glob_match(b"", b"", false));
    }

    #[test]
    fn nocase_matches_config_get() {
        // `CONFIG GET <pattern>` (nocase matching) on redis-server 7.0.15.
        let name = b"maxmemory";
        assert!(glob_match(b"MAXMEM*", name, true));
        assert!(glob_match(b"[M]axmemory", name, true));
        assert!(glob_match(b"[l-n]AXMEMORY", name, true));
        assert!(glob_match(
            b"MAXMEMORY-[O-Q]OLICY",
            b"maxmemory-policy",
            true
        ));
        assert!(glob_match(b"[^a]axmemory", name, true));
        // A `\` escape inside a class compares case-sensitively even with nocase.
        assert!(!glob_match(b"[\\M]axmemory", name, true));
        assert!(glob_match(b"[\\m]axmemory", name, true));
        assert!(!glob_match(b"MAXMEM*", name, false));
    }

    #[test]
    fn recursion_is_bounded() {
        // `KEYS` with these patterns on redis-server 7.0.15, with keys of 1100 and 50 `a`s.
        let long = vec![b'a'; 1100];
        let short = vec![b'a'; 50];
        let stars = |n: usize| b"*a".repeat(n);
        assert!(glob_match(&stars(1000), &long, false));
        assert!(!glob_match(&stars(1001), &long, false));
        assert!(glob_match(&b"a*".repeat(1001), &long, false));
        assert!(!glob_match(&b"*?".repeat(1001), &long, false));
        assert!(glob_match(&b"?*".repeat(1001), &long, false));
        assert!(!glob_match(&stars(1000), &short, false));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let subject = vec![b'a'; 10_000];
        let start = std::time::Instant::now();
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*a*a*a*a*b", &subject, false));
        let mut p = b"*".to_vec();
        p.extend(b"a*".repeat(1000));
        p.push(b'b');
        assert!(!glob_match(&p, &subject, false));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
