//! Hash values: a packed byte vector for small hashes (Redis's listpack, insertion-ordered)
//! and a dense slot vector indexed by a hash table for large ones. Knows no sockets or commands.
//!
//! The large encoding keeps field/value pairs in a `Vec` of 32-byte slots (a pair of up to 30
//! bytes in all lives inside its slot, with no allocation of its own) and a `HashTable` of
//! slot numbers with their fields' hashes: about 45 bytes per pair where Redis's dict spends
//! 70-100, and a random pair (HRANDFIELD) is one index away.

use crate::EncodingLimits;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use thin_vec::ThinVec;

/// A hash value.
#[derive(Clone, Debug, Default)]
pub struct Hash {
    repr: Repr,
}

/// The table is boxed so a small hash (the common case: objects, sessions) costs a 32-byte
/// `Hash` plus its packed bytes, not room for a table it does not have.
#[derive(Clone, Debug)]
enum Repr {
    Pack(Pack),
    Table(Box<Table>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Pack(Pack::default())
    }
}

/// Appends `n` as a LEB128 varint.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint at `*at`, advancing past it.
fn get_len(buf: &[u8], at: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let b = buf[*at];
        *at += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// Small hashes: `[pairs: u16][len][field][len][value]...` in insertion order, scanned
/// linearly. One thin pointer to one allocation (length, capacity, then the bytes), so a
/// small hash lives in its entry's value slot plus that one block, like a listpack; an empty
/// one allocates nothing. As in a listpack, the count saturates: at `u16::MAX` the pairs are
/// counted by a scan. Like Redis's listpack (`lpSafeToAdd`), a pack converts before 1 GiB.
#[derive(Clone, Debug, Default)]
struct Pack {
    buf: ThinVec<u8>,
}

/// Bytes before the first pair: the pair count.
const HEAD: usize = 2;

/// The count's "too many, scan" value.
const UNKNOWN: u16 = u16::MAX;

/// Redis's listpack safety limit: past it a hash converts whatever the thresholds say.
const PACK_MAX_BYTES: usize = 1 << 30;

/// Where a pair sits in a `Pack`: the pair's start, the value's length prefix and bytes
/// (whose end is the pair's end).
struct Found {
    start: usize,
    vhead: usize,
    vstart: usize,
    vend: usize,
}

impl Pack {
    fn pairs(&self) -> u32 {
        let Some(h) = self.buf.get(..HEAD) else {
            return 0;
        };
        match u16::from_le_bytes([h[0], h[1]]) {
            UNKNOWN => self.iter().count() as u32,
            n => n as u32,
        }
    }

    /// Adjusts the count by `d`; call with the pair already added or removed.
    fn add_pairs(&mut self, d: i32, before: u32) {
        if self.buf.is_empty() {
            self.buf.extend_from_slice(&[0; HEAD]);
        }
        let n = before as i64 + d as i64;
        let stored = if n < UNKNOWN as i64 {
            n as u16
        } else {
            UNKNOWN
        };
        self.buf[..HEAD].copy_from_slice(&stored.to_le_bytes());
    }

    fn entry(&self, at: &mut usize) -> (usize, usize) {
        let n = get_len(&self.buf, at);
        let s = *at;
        *at += n;
        (s, *at)
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let mut at = HEAD;
        while at < self.buf.len() {
            let start = at;
            let (fs, fe) = self.entry(&mut at);
            let vhead = at;
            let (vs, ve) = self.entry(&mut at);
            if &self.buf[fs..fe] == field {
                return Some(Found {
                    start,
                    vhead,
                    vstart: vs,
                    vend: ve,
                });
            }
        }
        None
    }

    fn iter(&self) -> PackIter<'_> {
        PackIter { p: self, at: HEAD }
    }

    fn push(&mut self, field: &[u8], value: &[u8]) {
        // Grow to the exact size, like a listpack: doubling would leave small hashes up to
        // half empty, and a reallocation within the allocator's size class stays in place.
        let varint = |n: usize| (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize;
        let head = if self.buf.is_empty() { HEAD } else { 0 };
        self.buf.reserve_exact(
            head + varint(field.len()) + field.len() + varint(value.len()) + value.len(),
        );
        let before = self.pairs();
        self.add_pairs(1, before);
        for part in [field, value] {
            let mut head = Vec::with_capacity(0);
            if part.len() < 0x80 {
                self.buf.push(part.len() as u8);
            } else {
                put_len(&mut head, part.len());
                self.buf.extend_from_slice(&head);
            }
            self.buf.extend_from_slice(part);
        }
    }

    /// Sets `field`, replacing its value in place (so the pair keeps its position, as in a
    /// listpack). Returns whether the field is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(f) => {
                let mut enc = Vec::with_capacity(value.len() + 2);
                put_len(&mut enc, value.len());
                enc.extend_from_slice(value);
                self.buf.splice(f.vhead..f.vend, enc);
                false
            }
            None => {
                self.push(field, value);
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(f) => {
                let before = self.pairs();
                self.buf.drain(f.start..f.vend);
                self.add_pairs(-1, before);
                if self.buf.capacity() > 64 && self.buf.capacity() > self.buf.len() * 2 {
                    self.buf.shrink_to_fit();
                }
                true
            }
            None => false,
        }
    }
}

struct PackIter<'a> {
    p: &'a Pack,
    at: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.p.buf.len() {
            return None;
        }
        let (fs, fe) = self.p.entry(&mut self.at);
        let (vs, ve) = self.p.entry(&mut self.at);
        Some((&self.p.buf[fs..fe], &self.p.buf[vs..ve]))
    }
}

/// Pairs of up to this many bytes (plus one byte of field length) live inside the slot.
const INLINE: usize = 30;

/// Fields of up to this many bytes stay inside the slot when the value does not fit.
const SPLIT_FIELD: usize = 22;

/// One field/value pair, 32 bytes in the slot vector whatever its shape.
#[derive(Clone, Debug)]
enum Slot {
    /// `[field len][field][value]`, 30 bytes at most.
    Inline { len: u8, buf: [u8; INLINE] },
    /// A short field inside the slot and the value in a block of its own. A lookup compares
    /// the field without a second cache miss, and a new value replaces only the block.
    Split {
        flen: u8,
        field: [u8; SPLIT_FIELD],
        value: ThinVec<u8>,
    },
    /// `[varint field len][field][value]` in one block: long fields.
    Heap(Box<[u8]>),
}

/// The bytes of `put_len(n)`.
fn len_len(mut n: usize) -> usize {
    let mut k = 1;
    while n >= 0x80 {
        n >>= 7;
        k += 1;
    }
    k
}

/// A value block of exactly the value's size. A `ThinVec` keeps its length in the block, so
/// the slot spends one pointer on it and the field keeps 22 bytes.
fn thin(bytes: &[u8]) -> ThinVec<u8> {
    let mut v = ThinVec::with_capacity(bytes.len());
    v.extend_from_slice(bytes);
    v
}

impl Slot {
    fn new(field: &[u8], value: &[u8]) -> Slot {
        let total = 1 + field.len() + value.len();
        if total <= INLINE && field.len() < 0x80 {
            let mut buf = [0u8; INLINE];
            buf[0] = field.len() as u8;
            buf[1..1 + field.len()].copy_from_slice(field);
            buf[1 + field.len()..total].copy_from_slice(value);
            Slot::Inline {
                len: total as u8,
                buf,
            }
        } else if field.len() <= SPLIT_FIELD {
            let mut f = [0u8; SPLIT_FIELD];
            f[..field.len()].copy_from_slice(field);
            Slot::Split {
                flen: field.len() as u8,
                field: f,
                value: thin(value),
            }
        } else {
            // Sized exactly, so `into_boxed_slice` does not reallocate.
            let mut v = Vec::with_capacity(len_len(field.len()) + field.len() + value.len());
            put_len(&mut v, field.len());
            v.extend_from_slice(field);
            v.extend_from_slice(value);
            Slot::Heap(v.into_boxed_slice())
        }
    }

    #[inline]
    fn pair(&self) -> (&[u8], &[u8]) {
        let b: &[u8] = match self {
            Slot::Inline { len, buf } => &buf[..*len as usize],
            Slot::Split { flen, field, value } => return (&field[..*flen as usize], value),
            Slot::Heap(b) => b,
        };
        let mut at = 0;
        let n = get_len(b, &mut at);
        (&b[at..at + n], &b[at + n..])
    }

    #[inline]
    fn field(&self) -> &[u8] {
        self.pair().0
    }

    /// Gives the pair `field` (this slot's own field) the value `value`.
    fn set_value(&mut self, field: &[u8], value: &[u8]) {
        match self {
            // Only the value's block changes; the field stays where the index found it.
            Slot::Split { value: v, .. } if 1 + field.len() + value.len() > INLINE => {
                *v = thin(value)
            }
            _ => *self = Slot::new(field, value),
        }
    }
}

/// Large hashes: dense slots plus an index of slot numbers keyed by the field's hash.
#[derive(Clone)]
struct Table {
    slots: Vec<Slot>,
    index: HashTable<Ix>,
    hasher: RandomState,
}

/// An index entry: a slot number and its field's 32-bit hash. Keeping the hash here lets the
/// index grow without reading a single slot (a million-field hash resizes its index in a few
/// milliseconds instead of a random walk over every pair under the shard lock), and lets a
/// probe skip slots whose hash differs.
#[derive(Clone, Copy)]
pub(crate) struct Ix {
    pub(crate) slot: u32,
    pub(crate) hash: u32,
}

/// The 64-bit hash the index is built on, from a field's 32-bit one. hashbrown places an
/// entry by the low bits and tags it with the top seven, so both halves carry the hash.
#[inline]
pub(crate) fn spread(h: u32) -> u64 {
    (h as u64) << 32 | h as u64
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({} pairs)", self.slots.len())
    }
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            slots: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: RandomState::default(),
        }
    }

    /// A field's 32-bit hash, which is also its HSCAN position, fixed for the table's
    /// lifetime.
    #[inline]
    fn hash(&self, field: &[u8]) -> u32 {
        (self.hasher.hash_one(field) >> 32) as u32
    }

    fn find(&self, field: &[u8]) -> Option<usize> {
        let slots = &self.slots;
        let h = self.hash(field);
        self.index
            .find(spread(h), |ix| {
                ix.hash == h && slots[ix.slot as usize].field() == field
            })
            .map(|ix| ix.slot as usize)
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(i) => {
                self.slots[i].set_value(field, value);
                false
            }
            None => {
                self.push_new(field, value);
                true
            }
        }
    }

    /// Adds a pair known to be absent.
    fn push_new(&mut self, field: &[u8], value: &[u8]) {
        let hash = self.hash(field);
        // Slot numbers are u32: a hash of 4 billion fields would need 128 GiB of slots alone.
        let slot = u32::try_from(self.slots.len()).expect("a hash holds under 2^32 fields");
        self.slots.push(Slot::new(field, value));
        self.index
            .insert_unique(spread(hash), Ix { slot, hash }, |ix| spread(ix.hash));
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let h = self.hash(field);
        let slots = &self.slots;
        let Ok(e) = self.index.find_entry(spread(h), |ix| {
            ix.hash == h && slots[ix.slot as usize].field() == field
        }) else {
            return false;
        };
        let (ix, _) = e.remove();
        let i = ix.slot as usize;
        let last = self.slots.len() - 1;
        self.slots.swap_remove(i);
        if i != last {
            // The last slot moved into the hole: point its index entry at its new place.
            let h = self.hash(self.slots[i].field());
            let ix = self
                .index
                .find_mut(spread(h), |ix| ix.slot as usize == last)
                .expect("every slot has its index entry");
            ix.slot = i as u32;
        }
        // Give memory back once the hash has shrunk well below its peak, as Redis's dict does.
        let n = self.slots.len();
        if self.slots.capacity() > 64 && n * 4 < self.slots.capacity() {
            self.slots.shrink_to(n * 2);
            self.index.shrink_to(n * 2, |ix| spread(ix.hash));
        }
        true
    }

    /// A field's HSCAN position.
    #[inline]
    fn pos(&self, field: &[u8]) -> u64 {
        self.hash(field) as u64
    }
}

/// An iterator over a hash's pairs: insertion order for small hashes, slot order for large.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Pack(PackIter<'a>),
    Table(std::slice::Iter<'a, Slot>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Pack(p) => p.next(),
            IterRepr::Table(t) => t.next().map(Slot::pair),
        }
    }
}

/// One HSCAN step's result.
pub struct ScanStep<'a> {
    /// The cursor to continue from; 0 when the iteration is complete.
    pub cursor: u64,
    pub pairs: Vec<(&'a [u8], &'a [u8])>,
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Builds a hash from `pairs` in the encoding asked for, as an RDB loader does: Redis
    /// keeps a loaded listpack packed whatever its values' lengths and converts on count
    /// alone. None when a field repeats, which Redis treats as corruption.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        listpack: bool,
    ) -> Option<Hash> {
        let pairs = pairs.into_iter();
        if listpack {
            let mut p = Pack::default();
            let mut seen = hashbrown::HashSet::with_hasher(RandomState::default());
            for (f, v) in pairs {
                if !seen.insert(f) {
                    return None;
                }
                p.push(f, v);
            }
            return Some(Hash {
                repr: Repr::Pack(p),
            });
        }
        // The iterator's own lower bound is trusted only up to a cap: it may come from a
        // length a file merely declares.
        let mut t = Table::with_capacity(pairs.size_hint().0.min(1 << 16));
        for (f, v) in pairs {
            if t.find(f).is_some() {
                return None;
            }
            t.push_new(f, v);
        }
        Some(Hash {
            repr: Repr::Table(Box::new(t)),
        })
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.pairs() as usize,
            Repr::Table(t) => t.slots.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => p.find(field).map(|f| &p.buf[f.vstart..f.vend]),
            Repr::Table(t) => t.find(field).map(|i| t.slots[i].pair().1),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Pack(p) => p.find(field).is_some(),
            Repr::Table(t) => t.find(field).is_some(),
        }
    }

    /// Leaves the compact encoding for good (Redis never converts back).
    fn convert(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut t = Table::with_capacity(p.pairs() as usize + 1);
            for (f, v) in p.iter() {
                t.push_new(f, v);
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// Sets `field` to `value`, converting to the large encoding when the pair is longer than
    /// the limit or the hash gets more entries than it (Redis's `hashTypeSet`). Returns whether
    /// the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        let max = limits.hash_max_listpack_value;
        if let Repr::Pack(p) = &self.repr {
            let too_big = p.buf.len() + field.len() + value.len() > PACK_MAX_BYTES;
            if field.len() > max || value.len() > max || too_big {
                self.convert();
            }
        }
        let new = match &mut self.repr {
            Repr::Pack(p) => p.set(field, value),
            Repr::Table(t) => t.set(field, value),
        };
        if matches!(self.repr, Repr::Pack(_)) && self.len() > limits.hash_max_listpack_entries {
            self.convert();
        }
        new
    }

    /// Converts up front when any of `args` is too long for the compact encoding (Redis's
    /// `hashTypeTryConversion`, run by HSET before it sets anything).
    pub fn try_conversion<'a>(
        &mut self,
        args: impl IntoIterator<Item = &'a [u8]>,
        limits: &EncodingLimits,
    ) {
        if matches!(self.repr, Repr::Pack(_))
            && args
                .into_iter()
                .any(|a| a.len() > limits.hash_max_listpack_value)
        {
            self.convert();
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => p.remove(field),
            Repr::Table(t) => t.remove(field),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.repr {
            Repr::Pack(p) => IterRepr::Pack(p.iter()),
            Repr::Table(t) => IterRepr::Table(t.slots.iter()),
        })
    }

    /// `count` random pairs. With `unique`, distinct pairs (at most `len`): in storage order
    /// for small hashes, as Redis's listpack sampling answers; otherwise picks may repeat.
    pub fn random_pairs(&self, count: usize, unique: bool) -> Vec<(&[u8], &[u8])> {
        let n = self.len();
        if n == 0 || count == 0 {
            return Vec::new();
        }
        match &self.repr {
            Repr::Pack(p) => {
                let all: Vec<(&[u8], &[u8])> = p.iter().collect();
                if !unique {
                    return (0..count).map(|_| all[fastrand::usize(..n)]).collect();
                }
                if count >= n {
                    return all;
                }
                // Selection sampling: each pair is kept with probability needed/remaining,
                // which yields a uniform subset in storage order.
                let mut need = count;
                let mut out = Vec::with_capacity(count);
                for (i, pair) in all.iter().enumerate() {
                    if fastrand::usize(..n - i) < need {
                        out.push(*pair);
                        need -= 1;
                        if need == 0 {
                            break;
                        }
                    }
                }
                out
            }
            Repr::Table(t) => {
                let pick = |i: usize| t.slots[i].pair();
                if !unique {
                    return (0..count).map(|_| pick(fastrand::usize(..n))).collect();
                }
                if count >= n {
                    return t.slots.iter().map(Slot::pair).collect();
                }
                if count * 3 > n {
                    // Partial Fisher-Yates over all slot numbers.
                    let mut idx: Vec<u32> = (0..n as u32).collect();
                    for i in 0..count {
                        let j = fastrand::usize(i..n);
                        idx.swap(i, j);
                    }
                    idx[..count].iter().map(|&i| pick(i as usize)).collect()
                } else {
                    let mut seen =
                        hashbrown::HashSet::with_capacity_and_hasher(count, RandomState::default());
                    let mut out = Vec::with_capacity(count);
                    while out.len() < count {
                        let i = fastrand::usize(..n);
                        if seen.insert(i) {
                            out.push(pick(i));
                        }
                    }
                    out
                }
            }
        }
    }

    /// One HSCAN step from `cursor`, visiting about `count` pairs. Small hashes answer
    /// everything at once with cursor 0, as Redis does. For large ones the cursor is a
    /// position in hash order: a step returns every pair whose position lies in a range, the
    /// ranges in increasing order, so a field present for the whole scan is returned at least
    /// once however the table grows or shrinks.
    pub fn scan(&self, cursor: u64, count: usize) -> ScanStep<'_> {
        let t = match &self.repr {
            Repr::Pack(_) => {
                return ScanStep {
                    cursor: 0,
                    pairs: self.iter().collect(),
                }
            }
            Repr::Table(t) => t,
        };
        if cursor > u32::MAX as u64 {
            return ScanStep {
                cursor: 0,
                pairs: Vec::new(),
            };
        }
        // Take at least a 1/128 of the hash per step, so a full scan costs a bounded multiple
        // of the hash's size (each step looks at every slot).
        let want = count.max(t.slots.len() / 128).max(1);
        let mut cands: Vec<(u64, &Slot)> = t
            .slots
            .iter()
            .map(|s| (t.pos(s.field()), s))
            .filter(|(p, _)| *p >= cursor)
            .collect();
        let mut next = 0;
        if cands.len() > want {
            cands.select_nth_unstable_by_key(want - 1, |c| c.0);
            // Cut after `want` pairs but never inside one position's group.
            let last = cands[want - 1].0;
            cands.retain(|c| c.0 <= last);
            if last < u32::MAX as u64 {
                next = last + 1;
            }
        }
        ScanStep {
            cursor: next,
            pairs: cands.into_iter().map(|c| c.1.pair()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize, value: usize) -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..EncodingLimits::default()
        }
    }

    #[test]
    fn from_pairs_keeps_the_encoding_asked_for_and_refuses_duplicates() {
        let long = [b'v'; 300];
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"b", &long), (b"c", b"")];
        let h = Hash::from_pairs(pairs.iter().copied(), true).unwrap();
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.iter().collect::<Vec<_>>(), pairs);
        let t = Hash::from_pairs(pairs.iter().copied(), false).unwrap();
        assert_eq!(t.encoding(), "hashtable");
        assert_eq!(t.get(b"b"), Some(&long[..]));
        assert_eq!(t.len(), 3);
        for packed in [true, false] {
            let dup: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"a", b"2")];
            assert!(Hash::from_pairs(dup, packed).is_none());
        }
    }

    #[test]
    fn slot_is_32_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        for (f, v) in [
            (&b""[..], &b""[..]),
            (b"f", b"v"),
            (&[b'a'; 29][..], &b""[..]),
            (&[b'a'; 29][..], &b"x"[..]),
            (&[b'a'; 200][..], &[b'b'; 300][..]),
            (&b""[..], &[b'b'; 100][..]),
            (&[b'a'; 22][..], &[b'b'; 64][..]),
            (&[b'a'; 23][..], &[b'b'; 64][..]),
            (&[b'a'; 20][..], &[b'b'; 10][..]),
        ] {
            let mut s = Slot::new(f, v);
            assert_eq!(s.pair(), (f, v));
            // Every shape can take every other shape's value.
            for w in [&b""[..], &b"xy"[..], &[b'c'; 40][..], &[b'd'; 300][..]] {
                s.set_value(f, w);
                assert_eq!(s.pair(), (f, w));
            }
        }
    }

    #[test]
    fn pack_keeps_insertion_order_and_updates_in_place() {
        let l = EncodingLimits::default();
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &l));
        assert!(h.set(b"b", b"2", &l));
        assert!(h.set(b"c", b"3", &l));
        assert!(!h.set(b"a", &[b'x'; 60], &l));
        assert_eq!(h.encoding(), "listpack");
        let got: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(h.get(b"a"), Some(&[b'x'; 60][..]));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"c"), Some(&b"3"[..]));
        assert!(h.remove(b"a") && h.remove(b"c"));
        assert!(h.is_empty());
    }

    #[test]
    fn pack_handles_long_entries_and_prefix_changes() {
        let l = limits(128, 10_000);
        let mut h = Hash::new();
        h.set(b"a", b"1", &l);
        h.set(&[b'f'; 300], &[b'v'; 5000], &l);
        h.set(b"b", b"2", &l);
        h.set(b"a", &[b'x'; 200], &l);
        h.set(&[b'f'; 300], b"short", &l);
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.get(b"a"), Some(&[b'x'; 200][..]));
        assert_eq!(h.get(&[b'f'; 300]), Some(&b"short"[..]));
        assert_eq!(h.get(b"b"), Some(&b"2"[..]));
        let fields: Vec<usize> = h.iter().map(|(f, _)| f.len()).collect();
        assert_eq!(fields, vec![1, 300, 1]);
        assert!(h.remove(&[b'f'; 300]));
        assert_eq!(h.iter().count(), 2);
    }

    #[test]
    fn converts_at_thresholds() {
        let l = limits(3, 5);
        let mut h = Hash::new();
        for f in [b"a", b"b", b"c"] {
            h.set(f, b"v", &l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"d", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        let mut h = Hash::new();
        h.set(b"a", b"12345", &l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"a", b"123456", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"123456"[..]));
        // One-way: removing everything but one pair keeps the large encoding.
        h.remove(b"a");
        h.set(b"z", b"1", &l);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn table_matches_a_model_through_inserts_and_removes() {
        let l = limits(0, 64);
        let mut h = Hash::new();
        let mut model = std::collections::HashMap::new();
        fastrand::seed(7);
        for _ in 0..50_000 {
            let f = format!("f{}", fastrand::u32(..5000)).into_bytes();
            if fastrand::bool() {
                let v = vec![b'v'; fastrand::usize(..40)];
                assert_eq!(h.set(&f, &v, &l), model.insert(f, v).is_none());
            } else {
                assert_eq!(h.remove(&f), model.remove(&f).is_some());
            }
            assert_eq!(h.len(), model.len());
        }
        for (f, v) in &model {
            assert_eq!(h.get(f), Some(&v[..]));
        }
        assert_eq!(h.iter().count(), model.len());
    }

    #[test]
    fn scan_returns_every_stable_field_while_growing() {
        let l = limits(0, 64);
        let mut h = Hash::new();
        for i in 0..10_000 {
            h.set(format!("s{i}").as_bytes(), b"v", &l);
        }
        let mut seen = std::collections::HashSet::new();
        let (mut cursor, mut extra) = (0u64, 0);
        loop {
            let step = h.scan(cursor, 10);
            seen.extend(step.pairs.iter().map(|p| p.0.to_vec()));
            cursor = step.cursor;
            for _ in 0..50 {
                h.set(format!("g{extra}").as_bytes(), b"v", &l);
                extra += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..10_000 {
            assert!(seen.contains(format!("s{i}").as_bytes()));
        }
    }

    #[test]
    fn random_pairs_follow_the_rules() {
        let l = EncodingLimits::default();
        let mut h = Hash::new();
        for i in 0..10 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        let r = h.random_pairs(5, true);
        assert_eq!(r.len(), 5);
        let order: Vec<_> = h.iter().map(|p| p.0).collect();
        let pos: Vec<_> = r
            .iter()
            .map(|p| order.iter().position(|f| *f == p.0).unwrap())
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(h.random_pairs(50, false).len(), 50);
        assert_eq!(h.random_pairs(50, true).len(), 10);
        let big = limits(0, 64);
        let mut t = Hash::new();
        for i in 0..1000 {
            t.set(format!("f{i}").as_bytes(), b"v", &big);
        }
        for c in [1, 10, 500, 999] {
            let r = t.random_pairs(c, true);
            let set: std::collections::HashSet<_> = r.iter().map(|p| p.0).collect();
            assert_eq!(set.len(), c);
        }
    }
}

#[cfg(test)]
#[test]
fn a_small_hash_is_small() {
    // A hash fits the value slot of an entry: no box of its own.
    assert!(
        std::mem::size_of::<Hash>() <= 16,
        "{}",
        std::mem::size_of::<Hash>()
    );
}

#[cfg(test)]
#[test]
fn a_pack_past_the_count_limit_counts_by_scanning() {
    // Reaching u16::MAX pairs for real is quadratic (packs are scanned, as listpacks are),
    // so a pack with its count saturated stands in for one.
    let mut p = Pack::default();
    for i in 0..100 {
        p.set(format!("f{i}").as_bytes(), b"v");
    }
    assert_eq!(p.pairs(), 100);
    p.buf[..HEAD].copy_from_slice(&UNKNOWN.to_le_bytes());
    assert_eq!(p.pairs(), 100, "counted by a scan");
    assert!(p.remove(b"f7"));
    assert_eq!(p.pairs(), 99);
    assert_eq!(
        u16::from_le_bytes([p.buf[0], p.buf[1]]),
        99,
        "exact again below the limit"
    );
    p.add_pairs(0, UNKNOWN as u32 + 5);
    assert_eq!(
        u16::from_le_bytes([p.buf[0], p.buf[1]]),
        UNKNOWN,
        "saturates"
    );
    // Long lengths take multi-byte varints; the exact reservation must still fit them.
    let long = vec![b'x'; 300];
    let mut h = Hash::new();
    let lim = EncodingLimits {
        hash_max_listpack_value: 1000,
        ..Default::default()
    };
    h.set(&long, &long, &lim);
    assert_eq!(h.get(&long), Some(&long[..]));
}
