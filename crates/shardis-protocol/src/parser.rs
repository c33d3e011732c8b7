//! Incremental request parser: RESP multibulk and inline (telnet) commands.
//!
//! The parser keeps its progress between reads, so a command that arrives in many pieces is
//! scanned once, and it never allocates for what a client has only declared: argument spans
//! grow one by one as bulks actually arrive, and the caller's buffer grows with received bytes.

use memchr::memchr;
use thiserror::Error;

/// Longest `*<n>` or `$<n>` header line and longest inline command, as in Redis.
const MAX_INLINE: usize = 64 * 1024;
/// Redis's PROTO_IOBUF_LEN: bulks at least this big get a buffer of their own size hint.
const BIG_BULK: usize = 32 * 1024;

/// A byte range of one argument, relative to the start of the command.
pub type Span = (u32, u32);

/// Bounds a client's requests must respect; the server fills them from its config.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bulk_len: usize,
    pub max_multibulk: usize,
    /// Before AUTH succeeds Redis accepts only tiny requests; so do we.
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk: i32::MAX as usize,
            unauthenticated: false,
        }
    }
}

/// A protocol violation: the connection is answered with `-ERR Protocol error: …` and closed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("Protocol error: {0}")]
pub struct ParseError(pub String);

fn perr(s: impl Into<String>) -> ParseError {
    ParseError(s.into())
}

/// The arguments of one parsed command, borrowed from the read buffer.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    base: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Args<'a> {
    pub fn new(base: &'a [u8], spans: &'a [Span]) -> Self {
        Args { base, spans }
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (a, b) = self.spans[i];
        &self.base[a as usize..b as usize]
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        self.spans
            .iter()
            .map(|&(a, b)| &self.base[a as usize..b as usize])
    }
    /// The arguments from `from` on.
    pub fn tail(&self, from: usize) -> Args<'a> {
        Args {
            base: self.base,
            spans: &self.spans[from.min(self.spans.len())..],
        }
    }
}

#[derive(Default)]
enum State {
    #[default]
    Start,
    /// Inside a multibulk: `left` bulks still to read; `bulk` is the declared length of the
    /// bulk whose header was read but whose body has not fully arrived.
    Multibulk { left: usize, bulk: Option<usize> },
}

/// Parses one command at a time out of the unconsumed part of a connection's read buffer.
#[derive(Default)]
pub struct RequestParser {
    state: State,
    /// Where parsing resumes, relative to the start of the current command.
    pos: usize,
    /// Whether the last complete command was inline; its arguments live in `inline_buf`.
    inline: bool,
    inline_buf: Vec<u8>,
}

/// The outcome of [`RequestParser::parse`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command occupies the first `n` bytes; its spans are in the caller's vector.
    Complete(usize),
    /// More bytes are needed; at least this many more would let parsing progress.
    Incomplete(usize),
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a command is partly parsed: bytes before `pos` must be kept.
    pub fn in_progress(&self) -> bool {
        !matches!(self.state, State::Start) || self.pos > 0
    }

    /// The base buffer for spans of the last complete command.
    pub fn args<'a>(&'a self, buf: &'a [u8], spans: &'a [Span]) -> Args<'a> {
        if self.inline {
            Args::new(&self.inline_buf, spans)
        } else {
            Args::new(buf, spans)
        }
    }

    /// Parses the command at the start of `buf`. Spans are appended to `spans`, which the caller
    /// clears after each complete command and otherwise leaves alone between calls.
    pub fn parse(
        &mut self,
        buf: &[u8],
        spans: &mut Vec<Span>,
        limits: &Limits,
    ) -> Result<Parsed, ParseError> {
        if let State::Start = self.state {
            if buf.is_empty() {
                return Ok(Parsed::Incomplete(1));
            }
            if buf[0] != b'*' {
                return self.parse_inline(buf, spans);
            }
            let Some(nl) = memchr(b'\r', buf) else {
                if buf.len() > MAX_INLINE {
                    return Err(perr("too big mbulk count string"));
                }
                return Ok(Parsed::Incomplete(1));
            };
            if nl > MAX_INLINE {
                return Err(perr("too big mbulk count string"));
            }
            if nl + 1 >= buf.len() {
                return Ok(Parsed::Incomplete(1));
            }
            let n = parse_len(&buf[1..nl]).filter(|&n| n <= i32::MAX as i64);
            let Some(n) = n else {
                return Err(perr("invalid multibulk length"));
            };
            if limits.unauthenticated && n > 10 {
                return Err(perr("unauthenticated multibulk length"));
            }
            if n > limits.max_multibulk as i64 {
                return Err(perr("invalid multibulk length"));
            }
            self.inline = false;
            if n <= 0 {
                return Ok(Parsed::Complete(nl + 2));
            }
            self.pos = nl + 2;
            self.state = State::Multibulk {
                left: n as usize,
                bulk: None,
            };
        }
        let State::Multibulk { left, bulk } = &mut self.state else {
            unreachable!()
        };
        loop {
            let len = match *bulk {
                Some(len) => len,
                None => {
                    let rest = &buf[self.pos..];
                    let Some(nl) = memchr(b'\r', rest) else {
                        if rest.len() > MAX_INLINE {
                            return Err(perr("too big bulk count string"));
                        }
                        return Ok(Parsed::Incomplete(1));
                    };
                    if nl > MAX_INLINE {
                        return Err(perr("too big bulk count string"));
                    }
                    if nl + 1 >= rest.len() {
                        return Ok(Parsed::Incomplete(1));
                    }
                    if rest[0] != b'$' {
                        return Err(perr(format!("expected '$', got '{}'", rest[0] as char)));
                    }
                    let len = parse_len(&rest[1..nl]);
                    let len = match len {
                        Some(l) if l >= 0 && l as u64 <= limits.max_bulk_len as u64 => l as usize,
                        _ => return Err(perr("invalid bulk length")),
                    };
                    if limits.unauthenticated && len > 16384 {
                        return Err(perr("unauthenticated bulk length"));
                    }
                    self.pos += nl + 2;
                    *bulk = Some(len);
                    len
                }
            };
            let need = self.pos + len + 2;
            if buf.len() < need {
                let missing = need - buf.len();
                // Hint a large read only for large bulks, and never more than what is missing.
                return Ok(Parsed::Incomplete(if len >= BIG_BULK {
                    missing
                } else {
                    missing.min(16 * 1024)
                }));
            }
            if need > u32::MAX as usize {
                return Err(perr("invalid bulk length"));
            }
            spans.push((self.pos as u32, (self.pos + len) as u32));
            self.pos = need;
            *bulk = None;
            *left -= 1;
            if *left == 0 {
                let n = self.pos;
                self.state = State::Start;
                self.pos = 0;
                return Ok(Parsed::Complete(n));
            }
        }
    }

    fn parse_inline(&mut self, buf: &[u8], spans: &mut Vec<Span>) -> Result<Parsed, ParseError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > MAX_INLINE {
                return Err(perr("too big inline request"));
            }
            return Ok(Parsed::Incomplete(1));
        };
        if nl > MAX_INLINE {
            return Err(perr("too big inline request"));
        }
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args = crate::split_args(line).ok_or_else(|| perr("unbalanced quotes in request"))?;
        self.inline = true;
        self.inline_buf.clear();
        for a in args {
            let start = self.inline_buf.len() as u32;
            self.inline_buf.extend_from_slice(&a);
            spans.push((start, self.inline_buf.len() as u32));
        }
        Ok(Parsed::Complete(nl + 1))
    }
}

/// Parses a RESP length the way Redis's `string2ll` does: optional '-', digits, no '+', no
/// leading zeros except "0" itself, no spaces.
fn parse_len(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
        let mut p = RequestParser::new();
        let mut spans = Vec::new();
        let mut out = Vec::new();
        let mut start = 0;
        let limits = Limits::default();
        // Feed one byte at a time to exercise resumption.
        let mut end = start;
        while end <= input.len() {
            match p.parse(&input[start..end], &mut spans, &limits)? {
                Parsed::Complete(n) => {
                    let args = p.args(&input[start..end], &spans);
                    out.push(args.iter().map(|a| a.to_vec()).collect());
                    spans.clear();
                    start += n;
                }
                Parsed::Incomplete(_) => end += 1,
            }
        }
        Ok(out)
    }

    #[test]
    fn multibulk_bytewise() {
        let got = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            got,
            vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]
        );
    }

    #[test]
    fn inline() {
        let got = parse_all(b"set a \"b c\"\r\nping\n").unwrap();
        assert_eq!(
            got[0],
            vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()]
        );
        assert_eq!(got[1], vec![b"ping".to_vec()]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_all(b"*2\r\n+3\r\n").unwrap_err().0,
            "expected '+', got '+'".replace("'+', got", "'$', got")
        );
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().0,
            "invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n").unwrap_err().0,
            "invalid bulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$600000000\r\n").unwrap_err().0,
            "invalid bulk length"
        );
        assert_eq!(
            parse_all(b"set \"a\r\n").unwrap_err().0,
            "unbalanced quotes in request"
        );
    }

    #[test]
    fn declared_bulk_is_not_preallocated() {
        let mut p = RequestParser::new();
        let mut spans = Vec::new();
        let r = p
            .parse(b"*1\r\n$500000000\r\nab", &mut spans, &Limits::default())
            .unwrap();
        assert!(matches!(r, Parsed::Incomplete(n) if n > 1000));
        assert!(spans.capacity() < 16);
    }
}
