//! Byte-exact ports of the sds.c string helpers the manifest uses (sdssplitargs, sdsneedsrepr, sdscatrepr).
//!
//! This file must not depend on anything but core: it only turns bytes into bytes.

/// C's `isspace` in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's `isprint` in the "C" locale.
fn is_print(c: u8) -> bool {
    (0x20..=0x7e).contains(&c)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments the way `sdssplitargs` does, or returns None
/// where it returns NULL (unbalanced quotes, or a closing quote not followed by
/// a space).
///
/// The input is treated as a C string: the caller cuts it at the first NUL,
/// so reading past the end here stands for reading the terminator.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Reading past the end yields 0 because the C code relies on the terminator.
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let mut args = Vec::new();
    let mut p = 0usize;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(args);
        }
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        let mut current = Vec::new();
        while !done {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 3;
                    } else {
                        // Without two hex digits "\x" is an ordinary escape of 'x'.
                        p += 1;
                        current.push(b'x');
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a space or nothing at all.
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => current.push(other),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

/// Whether `sdscatrepr` quoting is needed for the name to survive `split_args`.
pub(crate) fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08)
            || !is_print(c)
            || is_space(c)
    })
}

/// Appends the quoted representation `sdscatrepr` produces.
pub(crate) fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            c if is_print(c) => out.push(c),
            c => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\x");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0x0f)]);
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_sdssplitargs() {
        let v = split_args(b"file a seq 1 type b").unwrap();
        assert_eq!(v.len(), 6);
        assert_eq!(
            split_args(b"\"a b\" c").unwrap(),
            vec![b"a b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(split_args(b"ab\"c d\"").unwrap(), vec![b"abc d".to_vec()]);
        assert_eq!(split_args(b"\"\\x41\\n\"").unwrap(), vec![b"A\n".to_vec()]);
        assert_eq!(split_args(b"'it\\'s'").unwrap(), vec![b"it's".to_vec()]);
        assert!(split_args(b"\"abc").is_none());
        assert!(split_args(b"\"abc\"d").is_none());
        assert!(split_args(b"'abc").is_none());
        assert_eq!(split_args(b"").unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn repr_round_trips_through_split() {
        let names: [&[u8]; 5] = [b"a b", b"q\"x", b"back\\slash", b"\x01\xff\t", b"plain"];
        for name in names {
            let mut out = Vec::new();
            cat_repr(&mut out, name);
            assert_eq!(split_args(&out).unwrap(), vec![name.to_vec()]);
        }
        assert!(!needs_repr(b"appendonly.aof.1.base.rdb"));
        assert!(needs_repr(b"a b"));
    }
}
