//! Set values: a sorted integer array for small all-integer sets, a packed byte buffer for other
//! small sets and a compact chained hash table for large ones. Knows no sockets or commands.
//!
//! Redis 7.0 has only two set encodings, "intset" and "hashtable". The packed small form is
//! our own memory saving; it answers "hashtable" to OBJECT ENCODING so clients see exactly
//! what Redis 7.0 shows, and it leaves for the table past the set-max-listpack-* limits.

use crate::value::canonical_int;
use crate::EncodingLimits;
use foldhash::fast::RandomState;
use std::hash::BuildHasher;

/// One member as a set yields it: intsets hold numbers, not text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Elem<'_> {
    /// Runs `f` on the member's text without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Elem::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Elem::Bytes(b) => f(b),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

/// Sorted integers in the narrowest width that holds them all, like Redis's intset.
#[derive(Clone, Debug)]
enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

macro_rules! each_width {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            IntSet::I16($v) => $body,
            IntSet::I32($v) => $body,
            IntSet::I64($v) => $body,
        }
    };
}

impl IntSet {
    fn len(&self) -> usize {
        each_width!(self, v => v.len())
    }

    fn get(&self, i: usize) -> i64 {
        match self {
            IntSet::I16(v) => v[i].into(),
            IntSet::I32(v) => v[i].into(),
            IntSet::I64(v) => v[i],
        }
    }

    fn search(&self, x: i64) -> Result<usize, usize> {
        match self {
            IntSet::I16(v) => match i16::try_from(x) {
                Ok(x) => v.binary_search(&x),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::I32(v) => match i32::try_from(x) {
                Ok(x) => v.binary_search(&x),
                Err(_) => Err(if x < 0 { 0 } else { v.len() }),
            },
            IntSet::I64(v) => v.binary_search(&x),
        }
    }

    fn contains(&self, x: i64) -> bool {
        self.search(x).is_ok()
    }

    /// Widens the array so `x` fits, as Redis's `intsetUpgradeAndAdd` does.
    fn widen_for(&mut self, x: i64) {
        let need = if i16::try_from(x).is_ok() {
            0
        } else if i32::try_from(x).is_ok() {
            1
        } else {
            2
        };
        let have = match self {
            IntSet::I16(_) => 0,
            IntSet::I32(_) => 1,
            IntSet::I64(_) => 2,
        };
        if need <= have {
            return;
        }
        let all: Vec<i64> = (0..self.len()).map(|i| self.get(i)).collect();
        *self = if need == 1 {
            IntSet::I32(all.into_iter().map(|x| x as i32).collect())
        } else {
            IntSet::I64(all)
        };
    }

    fn insert(&mut self, x: i64) -> bool {
        self.widen_for(x);
        match self.search(x) {
            Ok(_) => false,
            Err(pos) => {
                // Width was widened above, so the casts cannot truncate.
                match self {
                    IntSet::I16(v) => v.insert(pos, x as i16),
                    IntSet::I32(v) => v.insert(pos, x as i32),
                    IntSet::I64(v) => v.insert(pos, x),
                }
                true
            }
        }
    }

    fn remove(&mut self, x: i64) -> bool {
        match self.search(x) {
            Ok(pos) => {
                each_width!(self, v => { v.remove(pos); });
                true
            }
            Err(_) => false,
        }
    }
}

/// Small non-integer sets: members back to back, each after a LEB128 length, in insertion
/// order, scanned linearly — one allocation for the whole set.
#[derive(Clone, Debug, Default)]
struct Pack {
    buf: Vec<u8>,
    n: usize,
}

fn read_len(buf: &[u8], mut at: usize) -> (usize, usize) {
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let b = buf[at];
        at += 1;
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (len, at);
        }
        shift += 7;
    }
}

struct PackIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.at >= self.buf.len() {
            return None;
        }
        let (len, start) = read_len(self.buf, self.at);
        self.at = start + len;
        Some(&self.buf[start..start + len])
    }
}

impl Pack {
    fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            at: 0,
        }
    }

    /// Byte range of the entry (length prefix included) holding `m`.
    fn find(&self, m: &[u8]) -> Option<(usize, usize)> {
        let mut at = 0;
        while at < self.buf.len() {
            let (len, start) = read_len(&self.buf, at);
            if &self.buf[start..start + len] == m {
                return Some((at, start + len));
            }
            at = start + len;
        }
        None
    }

    fn push(&mut self, m: &[u8]) {
        let mut len = m.len();
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                self.buf.push(b);
                break;
            }
            self.buf.push(b | 0x80);
        }
        self.buf.extend_from_slice(m);
        self.n += 1;
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        match self.find(m) {
            Some((a, b)) => {
                self.buf.drain(a..b);
                self.n -= 1;
                true
            }
            None => false,
        }
    }
}

/// Members up to this many bytes are stored inside the table's slot, with no allocation.
const INLINE: usize = 22;

/// A member held by the table (and by a large sorted set's records): 24 bytes, inline when
/// short.
#[derive(Clone, Debug)]
pub(crate) enum Mem {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Mem {
    pub(crate) fn new(m: &[u8]) -> Mem {
        if m.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..m.len()].copy_from_slice(m);
            Mem::Inline {
                len: m.len() as u8,
                buf,
            }
        } else {
            Mem::Heap(m.into())
        }
    }

    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Mem::Inline { len, buf } => &buf[..*len as usize],
            Mem::Heap(b) => b,
        }
    }
}

const NIL: u32 = u32::MAX;

/// Large sets: a chained hash table whose chains are indices, not pointers. Members live in a
/// dense array (24 bytes each, short ones inline), with a parallel array of chain links and a
/// power-of-two array of chain heads: about 32 bytes per member plus growth slack, and a
/// uniform random member is one index away. Chains (rather than open addressing) keep every
/// member in bucket `hash & mask`, which is what lets SSCAN's reverse-binary cursor promise
/// to return every member present for the whole scan however the table resizes, as Redis's
/// dict does.
#[derive(Clone, Debug)]
struct Table {
    hasher: RandomState,
    heads: Vec<u32>,
    next: Vec<u32>,
    mems: Vec<Mem>,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            hasher: RandomState::default(),
            heads: vec![NIL; n.next_power_of_two().max(4)],
            next: Vec::with_capacity(n),
            mems: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn bucket(&self, m: &[u8]) -> usize {
        (self.hasher.hash_one(m) as usize) & (self.heads.len() - 1)
    }

    fn find(&self, m: &[u8]) -> Option<usize> {
        let mut i = self.heads[self.bucket(m)];
        while i != NIL {
            if self.mems[i as usize].bytes() == m {
                return Some(i as usize);
            }
            i = self.next[i as usize];
        }
        None
    }

    fn insert(&mut self, m: &[u8]) -> bool {
        if self.find(m).is_some() {
            return false;
        }
        assert!(self.mems.len() < NIL as usize, "set too large");
        let b = self.bucket(m);
        let i = self.mems.len() as u32;
        self.mems.push(Mem::new(m));
        self.next.push(self.heads[b]);
        self.heads[b] = i;
        if self.mems.len() > self.heads.len() {
            self.rehash(self.heads.len() * 2);
        }
        true
    }

    fn rehash(&mut self, size: usize) {
        self.heads = vec![NIL; size];
        for i in 0..self.mems.len() {
            let b = self.bucket(self.mems[i].bytes());
            self.next[i] = self.heads[b];
            self.heads[b] = i as u32;
        }
    }

    /// Redirects the link that points at `from` to point at `to`.
    fn relink(&mut self, from: usize, to: u32) {
        let b = self.bucket(self.mems[from].bytes());
        if self.heads[b] == from as u32 {
            self.heads[b] = to;
            return;
        }
        let mut i = self.heads[b];
        while self.next[i as usize] != from as u32 {
            i = self.next[i as usize];
        }
        self.next[i as usize] = to;
    }

    fn remove_at(&mut self, i: usize) -> Mem {
        let after = self.next[i];
        self.relink(i, after);
        let last = self.mems.len() - 1;
        if i != last {
            // The last member moves into the hole; whoever linked to it must follow.
            self.relink(last, i as u32);
        }
        self.next.swap_remove(i);
        let m = self.mems.swap_remove(i);
        let n = self.mems.len();
        if self.heads.len() > 4 && n * 8 < self.heads.len() {
            self.rehash(n.next_power_of_two().max(4));
        }
        if self.mems.capacity() > 2 * n + 16 {
            self.mems.shrink_to(n + n / 2);
            self.next.shrink_to(n + n / 2);
        }
        m
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        match self.find(m) {
            Some(i) => {
                self.remove_at(i);
                true
            }
            None => false,
        }
    }

    /// Redis's `dictScan` over one table: visits bucket `cursor & mask`, then advances the
    /// cursor's reversed bits, so buckets already visited before a resize map onto buckets
    /// that are also behind the cursor after it.
    fn scan(&self, mut cursor: u64, count: usize, mut f: impl FnMut(&[u8])) -> u64 {
        let mask = (self.heads.len() - 1) as u64;
        let mut budget = count.saturating_mul(10).max(1);
        let mut got = 0;
        loop {
            let mut i = self.heads[(cursor & mask) as usize];
            while i != NIL {
                f(self.mems[i as usize].bytes());
                got += 1;
                i = self.next[i as usize];
            }
            cursor |= !mask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            budget -= 1;
            if cursor == 0 || budget == 0 || got >= count {
                return cursor;
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Repr {
    Ints(IntSet),
    Pack(Pack),
    Table(Table),
}

/// A set value.
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            repr: Repr::Ints(IntSet::I16(Vec::new())),
        }
    }
}

/// Iterates a set's members: intsets ascending, small sets in insertion order.
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

enum IterInner<'a> {
    Ints(&'a IntSet, usize),
    Pack(PackIter<'a>),
    Table(std::slice::Iter<'a, Mem>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;
    fn next(&mut self) -> Option<Elem<'a>> {
        match &mut self.inner {
            IterInner::Ints(s, i) => {
                if *i < s.len() {
                    *i += 1;
                    Some(Elem::Int(s.get(*i - 1)))
                } else {
                    None
                }
            }
            IterInner::Pack(p) => p.next().map(Elem::Bytes),
            IterInner::Table(t) => t.next().map(|m| Elem::Bytes(m.bytes())),
        }
    }
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// The name OBJECT ENCODING answers (Redis 7.0 knows no listpack sets; see the top).
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Pack(_) | Repr::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Pack(p) => p.n,
            Repr::Table(t) => t.mems.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Ints(s) => IterInner::Ints(s, 0),
                Repr::Pack(p) => IterInner::Pack(p.iter()),
                Repr::Table(t) => IterInner::Table(t.mems.iter()),
            },
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(s) => canonical_int(m).is_some_and(|x| s.contains(x)),
            Repr::Pack(p) => p.find(m).is_some(),
            Repr::Table(t) => t.find(m).is_some(),
        }
    }

    pub fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (&self.repr, e) {
            (Repr::Ints(s), Elem::Int(x)) => s.contains(x),
            _ => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Leaves the intset or packed form for one that can take `extra` more members, the
    /// longest of them `longest` bytes. Never goes back, like Redis.
    fn convert(&mut self, extra: usize, longest: usize, lim: &EncodingLimits) {
        let n = self.len() + extra;
        let fits_pack = n <= lim.set_max_listpack_entries
            && longest <= lim.set_max_listpack_value
            && self
                .iter()
                .all(|e| e.with_bytes(|b| b.len()) <= lim.set_max_listpack_value);
        let mut repr = if fits_pack && !matches!(self.repr, Repr::Pack(_)) {
            Repr::Pack(Pack::default())
        } else {
            Repr::Table(Table::with_capacity(n))
        };
        for e in self.iter() {
            e.with_bytes(|b| match &mut repr {
                Repr::Pack(p) => p.push(b),
                Repr::Table(t) => {
                    t.insert(b);
                }
                Repr::Ints(_) => unreachable!(),
            });
        }
        self.repr = repr;
    }

    /// Builds a set from `members` the way Redis 7.0's RDB loader does: an intset while every
    /// member is a canonical integer and there are at most set-max-intset-entries of them,
    /// otherwise the table. None when a member repeats, which Redis treats as corruption.
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = &'a [u8]>,
        lim: &EncodingLimits,
    ) -> Option<Set> {
        let mut s = Set::new();
        for m in members {
            if !s.insert(m, lim) {
                return None;
            }
        }
        Some(s)
    }

    /// Adds `m`; false if it was already there. Converts at the `lim` thresholds.
    pub fn insert(&mut self, m: &[u8], lim: &EncodingLimits) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => {
                if let Some(x) = canonical_int(m) {
                    if s.contains(x) {
                        return false;
                    }
                    if s.len() < lim.set_max_intset_entries {
                        return s.insert(x);
                    }
                }
            }
            Repr::Pack(p) => {
                if p.find(m).is_some() {
                    return false;
                }
                if p.n < lim.set_max_listpack_entries && m.len() <= lim.set_max_listpack_value {
                    p.push(m);
                    return true;
                }
            }
            Repr::Table(t) => return t.insert(m),
        }
        let was_pack = matches!(self.repr, Repr::Pack(_));
        self.convert(1, m.len(), lim);
        debug_assert!(!was_pack || matches!(self.repr, Repr::Table(_)));
        self.insert(m, lim)
    }

    pub fn insert_elem(&mut self, e: Elem<'_>, lim: &EncodingLimits) -> bool {
        if let (Repr::Ints(s), Elem::Int(x)) = (&mut self.repr, e) {
            if s.len() < lim.set_max_intset_entries || s.contains(x) {
                return s.insert(x);
            }
        }
        e.with_bytes(|b| self.insert(b, lim))
    }

    /// Removes `m`; false if it was not there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => canonical_int(m).is_some_and(|x| s.remove(x)),
            Repr::Pack(p) => p.remove(m),
            Repr::Table(t) => t.remove(m),
        }
    }

    /// The member at position `i` of the iteration order (constant time except for the
    /// small packed form).
    pub fn nth(&self, i: usize) -> Option<Elem<'_>> {
        match &self.repr {
            Repr::Ints(s) => (i < s.len()).then(|| Elem::Int(s.get(i))),
            Repr::Pack(p) => p.iter().nth(i).map(Elem::Bytes),
            Repr::Table(t) => t.mems.get(i).map(|m| Elem::Bytes(m.bytes())),
        }
    }

    /// A uniformly chosen member.
    pub fn random(&self) -> Option<Elem<'_>> {
        if self.is_empty() {
            return None;
        }
        self.nth(fastrand::usize(..self.len()))
    }

    /// Removes and returns a uniformly chosen member.
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        if self.is_empty() {
            return None;
        }
        let i = fastrand::usize(..self.len());
        match &mut self.repr {
            Repr::Ints(s) => {
                let x = s.get(i);
                s.remove(x);
                Some(itoa::Buffer::new().format(x).as_bytes().to_vec())
            }
            Repr::Pack(p) => {
                let m = p.iter().nth(i)?.to_vec();
                p.remove(&m);
                Some(m)
            }
            Repr::Table(t) => Some(t.remove_at(i).bytes().to_vec()),
        }
    }

    /// One SSCAN step: compact sets yield everything and cursor 0 (as Redis does for
    /// intsets); the table follows Redis's `dictScan` contract.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Elem<'_>)) -> u64 {
        match &self.repr {
            Repr::Table(t) => t.scan(cursor, count, |b| f(Elem::Bytes(b))),
            _ => {
                self.iter().for_each(f);
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn lim() -> EncodingLimits {
        EncodingLimits::default()
    }

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn intset_sorted_and_widens() {
        let mut s = Set::new();
        for x in ["5", "-3", "100000", "7", "-9223372036854775808"] {
            assert!(s.insert(x.as_bytes(), &lim()));
        }
        assert!(!s.insert(b"7", &lim()));
        assert_eq!(s.encoding(), "intset");
        let got: Vec<String> = members(&s)
            .into_iter()
            .map(|m| String::from_utf8(m).unwrap())
            .collect();
        assert_eq!(got, ["-9223372036854775808", "-3", "5", "7", "100000"]);
        assert!(s.contains(b"100000") && !s.contains(b"007") && !s.contains(b"8"));
        assert!(s.remove(b"5") && !s.remove(b"5"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn from_members_picks_redis_load_encodings() {
        let l = lim();
        let ints: Vec<Vec<u8>> = (0..512).map(|i| i.to_string().into_bytes()).collect();
        let s = Set::from_members(ints.iter().map(Vec::as_slice), &l).unwrap();
        assert_eq!((s.encoding(), s.len()), ("intset", 512));
        let more: Vec<Vec<u8>> = (0..513).map(|i| i.to_string().into_bytes()).collect();
        let s = Set::from_members(more.iter().map(Vec::as_slice), &l).unwrap();
        assert_eq!((s.encoding(), s.len()), ("hashtable", 513));
        let mixed = [&b"1"[..], b"x", b"-0"];
        let s = Set::from_members(mixed, &l).unwrap();
        assert_eq!((s.encoding(), s.len()), ("hashtable", 3));
        assert!(Set::from_members([&b"1"[..], b"1"], &l).is_none());
        assert!(Set::from_members([&b"a"[..], b"a"], &l).is_none());
    }

    #[test]
    fn canonical_ints_only() {
        for bad in [
            "-0",
            "+1",
            "01",
            " 1",
            "1 ",
            "",
            "9223372036854775808",
            "1.0",
        ] {
            assert_eq!(canonical_int(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"-12"), Some(-12));
    }

    #[test]
    fn conversions_one_way() {
        let l = lim();
        let mut s = Set::new();
        s.insert(b"1", &l);
        s.insert(b"a", &l);
        assert!(matches!(s.repr, Repr::Pack(_)));
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"a");
        assert_eq!(s.encoding(), "hashtable");
        for i in 0..200 {
            s.insert(format!("m{i}").as_bytes(), &l);
        }
        assert!(matches!(s.repr, Repr::Table(_)));
        assert_eq!(s.len(), 201);

        let mut t = Set::new();
        for i in 0..512 {
            t.insert(i.to_string().as_bytes(), &l);
        }
        assert_eq!(t.encoding(), "intset");
        t.insert(b"512", &l);
        assert!(matches!(t.repr, Repr::Table(_)));

        let mut u = Set::new();
        u.insert(b"1", &l);
        u.insert(&[b'x'; 65], &l);
        assert!(matches!(u.repr, Repr::Table(_)));
    }

    #[test]
    fn table_matches_model() {
        let mut s = Set::new();
        let mut model = HashSet::new();
        let l = lim();
        fastrand::seed(7);
        for _ in 0..50_000 {
            let m = format!(
                "{}{}",
                "k".repeat(fastrand::usize(..30)),
                fastrand::u32(..3000)
            );
            if fastrand::u8(..3) == 0 {
                assert_eq!(s.remove(m.as_bytes()), model.remove(&m));
            } else {
                assert_eq!(s.insert(m.as_bytes(), &l), model.insert(m.clone()));
            }
            assert_eq!(s.len(), model.len());
        }
        for m in &model {
            assert!(s.contains(m.as_bytes()));
        }
        while let Some(m) = s.pop_random() {
            assert!(model.remove(&String::from_utf8(m).unwrap()));
        }
        assert!(model.is_empty());
    }

    #[test]
    fn scan_survives_growth_and_shrink() {
        let l = lim();
        let mut s = Set::new();
        for i in 0..1000 {
            s.insert(format!("a{i}").as_bytes(), &l);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = s.scan(cursor, 10, |e| {
                seen.insert(e.to_vec());
            });
            step += 1;
            // Grow then shrink mid-scan; the original members must all still come back.
            if step == 5 {
                for i in 0..5000 {
                    s.insert(format!("b{i}").as_bytes(), &l);
                }
            }
            if step == 40 {
                for i in 0..5000 {
                    s.remove(format!("b{i}").as_bytes());
                }
                for i in 500..1000 {
                    s.remove(format!("a{i}").as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(format!("a{i}").as_bytes()), "a{i} missed");
        }
    }

    #[test]
    fn small_sets_scan_whole() {
        let mut s = Set::new();
        s.insert(b"x", &lim());
        s.insert(b"y", &lim());
        let mut n = 0;
        assert_eq!(s.scan(0, 1, |_| n += 1), 0);
        assert_eq!(n, 2);
    }

    #[test]
    fn compact_slots() {
        assert_eq!(std::mem::size_of::<Mem>(), 24);
    }
}
