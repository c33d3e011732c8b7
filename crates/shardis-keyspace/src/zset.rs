//! Sorted set values: a packed byte vector for small sets, and for large ones a member arena
//! with a hash index and a counted B+tree (`ztree`) for the order. Knows no sockets, no
//! commands: only ordering, ranks and encodings.
//!
//! Both encodings keep elements ordered by (score, member bytes) and expose the same
//! rank-based interface: a score or lex interval is turned into a rank interval
//! (`count_*_below`), and ranges, removals and pops then work on ranks, which the tree
//! answers in O(log n) through its per-child counts.

use crate::hash::{spread, Ix};
use crate::set::Mem;
use crate::ztree::Tree;
use crate::EncodingLimits;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// One end of a lexicographic interval (ZRANGEBYLEX and friends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// True when `m` lies below this bound taken as the interval's minimum.
    fn below_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(v) => m < v.as_slice(),
            LexBound::Excl(v) => m <= v.as_slice(),
        }
    }

    /// True when `m` lies within this bound taken as the interval's maximum.
    fn within_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(v) => m <= v.as_slice(),
            LexBound::Excl(v) => m < v.as_slice(),
        }
    }
}

/// Elements are ordered by score, ties by member bytes (Redis's `sdscmp` order).
#[inline]
fn cmp_elem(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

// ---------------------------------------------------------------------------------------------
// Packed encoding

/// Small sets: entries `varint(len) member f64-le` back to back, in order, scanned linearly
/// like Redis's listpack. One allocation for the whole set.
#[derive(Clone, Debug, Default)]
struct Pack {
    buf: Vec<u8>,
    len: usize,
}

/// One decoded entry of a `Pack`: where it starts and ends in the buffer.
struct PEntry<'a> {
    start: usize,
    end: usize,
    member: &'a [u8],
    score: f64,
}

fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn encoded_len(m: &[u8]) -> usize {
    let mut n = m.len();
    let mut v = 1;
    while n >= 0x80 {
        n >>= 7;
        v += 1;
    }
    v + m.len() + 8
}

impl Pack {
    fn entry_at(&self, start: usize) -> PEntry<'_> {
        let (mut n, mut shift, mut p) = (0usize, 0, start);
        loop {
            let b = self.buf[p];
            p += 1;
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let member = &self.buf[p..p + n];
        let mut s = [0u8; 8];
        s.copy_from_slice(&self.buf[p + n..p + n + 8]);
        PEntry {
            start,
            end: p + n + 8,
            member,
            score: f64::from_le_bytes(s),
        }
    }

    fn iter(&self) -> impl Iterator<Item = PEntry<'_>> + '_ {
        let mut p = 0;
        std::iter::from_fn(move || {
            if p >= self.buf.len() {
                return None;
            }
            let e = self.entry_at(p);
            p = e.end;
            Some(e)
        })
    }

    fn find(&self, m: &[u8]) -> Option<(usize, PEntry<'_>)> {
        self.iter().enumerate().find(|(_, e)| e.member == m)
    }

    fn nth(&self, i: usize) -> PEntry<'_> {
        self.iter().nth(i).expect("rank within the set")
    }

    fn insert(&mut self, m: &[u8], score: f64) {
        // Redis's listpack stores scores as text where -0 becomes 0; only skiplists keep -0.
        let score = if score == 0.0 { 0.0 } else { score };
        let at = self
            .iter()
            .find(|e| cmp_elem(e.score, e.member, score, m) == Ordering::Greater)
            .map_or(self.buf.len(), |e| e.start);
        let mut enc = Vec::with_capacity(encoded_len(m));
        put_varint(&mut enc, m.len());
        enc.extend_from_slice(m);
        enc.extend_from_slice(&score.to_le_bytes());
        self.buf.splice(at..at, enc);
        self.len += 1;
    }

    fn remove_span(&mut self, start: usize, end: usize, n: usize) {
        self.buf.drain(start..end);
        self.len -= n;
    }
}

// ---------------------------------------------------------------------------------------------
// Large encoding (what Redis calls "skiplist")

/// A member and its score, 32 bytes; short members sit inside it (`set::Mem`), so comparing
/// one costs no second cache miss. `None` for a free record. Records move only when a
/// shrinking set rewrites them all (`Large::shrink`); a record's number is the member's id in
/// the tree and the index.
#[derive(Clone, Debug)]
struct Rec {
    score: f64,
    mem: Option<Mem>,
}

impl Rec {
    fn new(m: &[u8], score: f64) -> Rec {
        Rec {
            score,
            mem: Some(Mem::new(m)),
        }
    }

    #[inline]
    fn member(&self) -> &[u8] {
        self.mem.as_ref().map_or(&[], |m| m.bytes())
    }
}

/// Records per chunk of the record arena.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;
/// No record (in a map of old to new numbers).
const NO_REC: u32 = u32::MAX;

/// The record arena, in fixed chunks rather than one vector: growing it never copies the
/// records already there (a pause under the shard lock on a large set) and never holds twice
/// their memory while it does.
#[derive(Clone)]
struct Recs {
    chunks: Vec<Vec<Rec>>,
    /// Records ever handed out (free ones included).
    slots: usize,
    /// Free records, reused last freed first.
    free: Vec<u32>,
    /// Bytes of the members kept in blocks of their own.
    heap: usize,
}

impl Recs {
    fn new() -> Recs {
        Recs {
            chunks: Vec::new(),
            slots: 0,
            free: Vec::new(),
            heap: 0,
        }
    }

    #[inline]
    fn get(&self, id: u32) -> &Rec {
        &self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    #[inline]
    fn get_mut(&mut self, id: u32) -> &mut Rec {
        &mut self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    #[inline]
    fn member(&self, id: u32) -> &[u8] {
        self.get(id).member()
    }

    fn add(&mut self, rec: Rec) -> u32 {
        if let Some(Mem::Heap(b)) = &rec.mem {
            self.heap += b.len();
        }
        if let Some(id) = self.free.pop() {
            *self.get_mut(id) = rec;
            return id;
        }
        if self.slots.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("a chunk").push(rec);
        self.slots += 1;
        (self.slots - 1) as u32
    }

    fn release(&mut self, id: u32) {
        if let Some(Mem::Heap(b)) = self.get_mut(id).mem.take() {
            self.heap -= b.len();
        }
        self.free.push(id);
    }

    fn heap_bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<Rec>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Rec>>()
            + self.free.capacity() * 4
            + self.heap
    }
}

/// Members in a record arena with a hash index (member -> id) for lookups, and the order in
/// a counted B+tree (`ztree`) for ranks and ranges.
#[derive(Clone)]
struct Large {
    tree: Tree,
    recs: Recs,
    dict: HashTable<Ix>,
    hasher: RandomState,
    /// Counts rewrites of the records (`shrink`), which renumber them; ZSCAN cursors carry it.
    epoch: u32,
}

impl std::fmt::Debug for Large {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Large")
            .field("len", &self.tree.len())
            .finish()
    }
}

impl Large {
    fn new() -> Large {
        Large {
            tree: Tree::new(),
            recs: Recs::new(),
            dict: HashTable::new(),
            hasher: RandomState::default(),
            epoch: 0,
        }
    }

    #[inline]
    fn hash(&self, m: &[u8]) -> u32 {
        (self.hasher.hash_one(m) >> 32) as u32
    }

    #[inline]
    fn member(&self, id: u32) -> &[u8] {
        self.recs.member(id)
    }

    #[inline]
    fn score_of(&self, id: u32) -> f64 {
        self.recs.get(id).score
    }

    fn find(&self, m: &[u8]) -> Option<u32> {
        let h = self.hash(m);
        let recs = &self.recs;
        self.dict
            .find(spread(h), |ix| ix.hash == h && recs.member(ix.slot) == m)
            .map(|ix| ix.slot)
    }

    fn insert(&mut self, m: &[u8], score: f64) {
        let id = self.recs.add(Rec::new(m, score));
        let recs = &self.recs;
        self.tree.insert(score, id, |e| recs.member(e).cmp(m));
        let hash = self.hash(m);
        self.dict
            .insert_unique(spread(hash), Ix { slot: id, hash }, |ix| spread(ix.hash));
    }

    fn update_score(&mut self, id: u32, score: f64) {
        let recs = &self.recs;
        let r = recs.get(id);
        let m = r.member();
        let removed = self.tree.remove(r.score, id, |e| recs.member(e).cmp(m));
        debug_assert!(removed);
        self.tree.insert(score, id, |e| recs.member(e).cmp(m));
        self.recs.get_mut(id).score = score;
    }

    /// Takes member `id` out of the order, the index and the arena, then shrinks if due
    /// (which renames ids: callers holding other ids use `unlink_id`).
    fn remove_id(&mut self, id: u32) {
        self.unlink_id(id);
        self.shrink();
    }

    /// `remove_id` without the shrink.
    fn unlink_id(&mut self, id: u32) {
        let recs = &self.recs;
        let r = recs.get(id);
        let m = r.member();
        let removed = self.tree.remove(r.score, id, |e| recs.member(e).cmp(m));
        debug_assert!(removed);
        let h = self.hash(m);
        if let Ok(e) = self.dict.find_entry(spread(h), |ix| ix.slot == id) {
            e.remove();
        }
        self.recs.release(id);
    }

    /// Gives memory back once the set has shrunk well below its peak, as Redis's dict and
    /// skiplist do: the index table shrinks, and the records are rewritten densely (in order,
    /// so a range walks adjacent records) with the tree and the index renamed to match. Each
    /// costs O(n) once per O(n) removals.
    fn shrink(&mut self) {
        let n = self.tree.len();
        if self.dict.capacity() > 1024 && n * 4 < self.dict.capacity() {
            self.dict.shrink_to(n * 2, |ix| spread(ix.hash));
        }
        if self.recs.slots <= CHUNK || n * 4 >= self.recs.slots {
            return;
        }
        let mut map = vec![NO_REC; self.recs.slots];
        let mut dense = Recs::new();
        let mut p = self.tree.locate(0);
        for _ in 0..n {
            let id = self.tree.at(p).1;
            let r = self.recs.get_mut(id);
            let rec = Rec {
                score: r.score,
                mem: r.mem.take(),
            };
            map[id as usize] = dense.add(rec);
            p = self.tree.next(p);
        }
        self.recs = dense;
        self.epoch = self.epoch.wrapping_add(1);
        self.tree.remap(&map);
        for ix in self.dict.iter_mut() {
            ix.slot = map[ix.slot as usize];
        }
    }

    /// 0-based rank of member `id`.
    fn rank_of(&self, id: u32) -> usize {
        let recs = &self.recs;
        let r = recs.get(id);
        let m = r.member();
        self.tree.rank(r.score, |e| recs.member(e).cmp(m))
    }

    /// How many leading elements satisfy `pred` (which holds for a prefix of the order).
    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let recs = &self.recs;
        self.tree.count_prefix(|s, e| pred(s, recs.member(e)))
    }

    /// Removes `count` elements starting at 0-based rank `start`.
    fn remove_ranks(&mut self, start: usize, count: usize) {
        let mut ids = Vec::with_capacity(count);
        let mut p = self.tree.locate(start);
        for _ in 0..count {
            ids.push(self.tree.at(p).1);
            p = self.tree.next(p);
        }
        for id in ids {
            self.unlink_id(id);
        }
        self.shrink();
    }
}

// ---------------------------------------------------------------------------------------------
// The value

#[derive(Clone, Debug)]
enum Repr {
    Pack(Pack),
    Large(Box<Large>),
}

/// A sorted set value.
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    /// An empty set in the packed encoding.
    pub fn new() -> ZSet {
        ZSet {
            repr: Repr::Pack(Pack::default()),
        }
    }

    /// An empty set already in the skiplist encoding (Redis's choice when the first member
    /// is too long or packing is disabled).
    pub fn new_skiplist() -> ZSet {
        ZSet {
            repr: Repr::Large(Box::new(Large::new())),
        }
    }

    /// An empty set in the encoding Redis picks for `size_hint` members of at most
    /// `max_len` bytes.
    pub fn with_hint(size_hint: usize, max_len: usize, limits: &EncodingLimits) -> ZSet {
        if size_hint <= limits.zset_max_listpack_entries
            && max_len <= limits.zset_max_listpack_value
            && limits.zset_max_listpack_entries > 0
        {
            ZSet::new()
        } else {
            ZSet::new_skiplist()
        }
    }

    /// The name OBJECT ENCODING answers.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Large(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len,
            Repr::Large(s) => s.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(m).map(|(_, e)| e.score),
            Repr::Large(s) => s.find(m).map(|x| s.score_of(x)),
        }
    }

    /// Converts to the skiplist encoding (one-way, like Redis).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut s = Large::new();
            for e in p.iter() {
                s.insert(e.member, e.score);
            }
            self.repr = Repr::Large(Box::new(s));
        }
    }

    /// Sets `m`'s score, adding it if absent; returns true if it was added. A packed set
    /// converts first when the new member would pass the limits.
    pub fn insert(&mut self, m: &[u8], score: f64, limits: &EncodingLimits) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => {
                if let Some((_, e)) = p.find(m) {
                    if e.score.to_bits() != score.to_bits() {
                        let (start, end) = (e.start, e.end);
                        p.remove_span(start, end, 1);
                        p.insert(m, score);
                    }
                    return false;
                }
                if p.len + 1 > limits.zset_max_listpack_entries
                    || m.len() > limits.zset_max_listpack_value
                {
                    self.convert_to_skiplist();
                    return self.insert(m, score, limits);
                }
                p.insert(m, score);
                true
            }
            Repr::Large(s) => match s.find(m) {
                Some(x) => {
                    if s.score_of(x).to_bits() != score.to_bits() {
                        s.update_score(x, score);
                    }
                    false
                }
                None => {
                    s.insert(m, score);
                    true
                }
            },
        }
    }

    /// Removes `m`; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(m) {
                Some((_, e)) => {
                    let (start, end) = (e.start, e.end);
                    p.remove_span(start, end, 1);
                    true
                }
                None => false,
            },
            Repr::Large(s) => match s.find(m) {
                Some(x) => {
                    s.remove_id(x);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based rank of `m` (from the highest score when `rev`) and its score.
    pub fn rank(&self, m: &[u8], rev: bool) -> Option<(usize, f64)> {
        let (r, score) = match &self.repr {
            Repr::Pack(p) => p.find(m).map(|(i, e)| (i, e.score))?,
            Repr::Large(s) => {
                let x = s.find(m)?;
                (s.rank_of(x), s.score_of(x))
            }
        };
        Some((if rev { self.len() - 1 - r } else { r }, score))
    }

    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.iter().take_while(|e| pred(e.score, e.member)).count(),
            Repr::Large(s) => s.count_prefix(pred),
        }
    }

    /// The number of elements with a score below `x` (or at most `x` when `inclusive`).
    pub fn count_score_below(&self, x: f64, inclusive: bool) -> usize {
        if inclusive {
            self.count_prefix(|s, _| s <= x)
        } else {
            self.count_prefix(|s, _| s < x)
        }
    }

    /// Forward ranks `[lo, hi)` of the elements whose score lies in the interval.
    pub fn score_ranks(&self, min: f64, minex: bool, max: f64, maxex: bool) -> (usize, usize) {
        let lo = self.count_score_below(min, minex);
        let hi = self.count_score_below(max, !maxex);
        (lo, hi.max(lo))
    }

    /// Forward ranks `[lo, hi)` of the elements whose member lies in the lex interval
    /// (meaningful when all scores are equal, as in Redis).
    pub fn lex_ranks(&self, min: &LexBound, max: &LexBound) -> (usize, usize) {
        let lo = self.count_prefix(|_, m| min.below_min(m));
        let hi = self.count_prefix(|_, m| max.within_max(m));
        (lo, hi.max(lo))
    }

    /// Visits `count` elements from 0-based `start`, counted from the highest score and
    /// walking downwards when `rev`. `start + count` must not exceed the length.
    pub fn range(&self, start: usize, count: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if count == 0 {
            return;
        }
        let len = self.len();
        match &self.repr {
            Repr::Pack(p) => {
                if rev {
                    let es: Vec<PEntry<'_>> = p.iter().collect();
                    for e in es[len - start - count..len - start].iter().rev() {
                        f(e.member, e.score);
                    }
                } else {
                    for e in p.iter().skip(start).take(count) {
                        f(e.member, e.score);
                    }
                }
            }
            Repr::Large(s) => {
                let first = if rev { len - 1 - start } else { start };
                let mut p = s.tree.locate(first);
                for _ in 0..count {
                    let (score, id) = s.tree.at(p);
                    f(s.member(id), score);
                    p = if rev { s.tree.prev(p) } else { s.tree.next(p) };
                }
            }
        }
    }

    /// Collects `count` elements from `start` (see `range`).
    pub fn collect(&self, start: usize, count: usize, rev: bool) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(count);
        self.range(start, count, rev, |m, s| out.push((m.to_vec(), s)));
        out
    }

    /// The element at forward 0-based `rank`.
    pub fn get(&self, rank: usize) -> (&[u8], f64) {
        match &self.repr {
            Repr::Pack(p) => {
                let e = p.nth(rank);
                (e.member, e.score)
            }
            Repr::Large(s) => {
                let (score, id) = s.tree.at(s.tree.locate(rank));
                (s.member(id), score)
            }
        }
    }

    /// Removes `count` elements from forward 0-based rank `start`.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        if count == 0 {
            return;
        }
        match &mut self.repr {
            Repr::Pack(p) => {
                let (mut a, mut b) = (p.buf.len(), p.buf.len());
                for (i, e) in p.iter().enumerate() {
                    if i == start {
                        a = e.start;
                    }
                    if i == start + count - 1 {
                        b = e.end;
                        break;
                    }
                }
                p.remove_span(a, b, count);
            }
            Repr::Large(s) => s.remove_ranks(start, count),
        }
    }

    /// All elements in order.
    pub fn iter(&self) -> Vec<(Vec<u8>, f64)> {
        self.collect(0, self.len(), false)
    }

    /// One SCAN step: visits some elements and returns the next cursor (0 when done).
    /// A packed set is returned whole. For a large set the cursor is a record number (low 32
    /// bits) and the records' epoch (high 32 bits): records stay put between rewrites, so a
    /// step costs O(count) and a member present for the whole scan is returned at least once;
    /// a rewrite (at most one per fourfold shrink) sends scans in progress back to the start.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for e in p.iter() {
                    f(e.member, e.score);
                }
                0
            }
            Repr::Large(s) => {
                // A cursor from before a rewrite of the records starts over: duplicates are
                // allowed, missing a member is not.
                let mut i = if (cursor >> 32) as u32 == s.epoch {
                    cursor as u32 as usize
                } else {
                    0
                };
                let mut seen = 0;
                // Visits at most 10x the count of records, so a sparse arena still returns.
                let mut budget = count.saturating_mul(10).max(10);
                while i < s.recs.slots && seen < count && budget > 0 {
                    let r = s.recs.get(i as u32);
                    if r.mem.is_some() {
                        f(r.member(), r.score);
                        seen += 1;
                    }
                    i += 1;
                    budget -= 1;
                }
                if i >= s.recs.slots {
                    0
                } else {
                    (s.epoch as u64) << 32 | i as u64
                }
            }
        }
    }

    /// Builds a set from distinct members, in the encoding Redis gives stored results
    /// (packed when small enough).
    pub fn from_members(items: Vec<(Vec<u8>, f64)>, limits: &EncodingLimits) -> ZSet {
        let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let packed = matches!(
            ZSet::with_hint(items.len(), max_len, limits).repr,
            Repr::Pack(_)
        );
        ZSet::from_members_in(items, packed)
    }

    /// Builds a set from distinct members in the encoding asked for. An RDB loader needs this:
    /// Redis keeps a loaded listpack packed whatever its members' lengths.
    pub fn from_members_in(items: Vec<(Vec<u8>, f64)>, listpack: bool) -> ZSet {
        let mut z = if listpack {
            ZSet::new()
        } else {
            ZSet::new_skiplist()
        };
        match &mut z.repr {
            Repr::Pack(p) => {
                let mut items = items;
                items.sort_by(|a, b| cmp_elem(a.1, &a.0, b.1, &b.0));
                for (m, s) in &items {
                    let s = if *s == 0.0 { 0.0 } else { *s };
                    put_varint(&mut p.buf, m.len());
                    p.buf.extend_from_slice(m);
                    p.buf.extend_from_slice(&s.to_le_bytes());
                }
                p.len = items.len();
            }
            Repr::Large(s) => {
                for (m, sc) in &items {
                    s.insert(m, *sc);
                }
            }
        }
        z
    }

    /// Approximate heap bytes used (for MEMORY USAGE-style accounting and tests).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.buf.capacity(),
            Repr::Large(s) => {
                s.tree.heap_bytes()
                    + s.recs.heap_bytes()
                    + s.dict.capacity() * (std::mem::size_of::<Ix>() + 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: usize) -> EncodingLimits {
        EncodingLimits {
            zset_max_listpack_entries: entries,
            ..Default::default()
        }
    }

    /// A straightforward model: a sorted vector.
    fn check(z: &ZSet, model: &[(Vec<u8>, f64)]) {
        assert_eq!(z.len(), model.len());
        assert_eq!(z.iter(), model);
        for (i, (m, s)) in model.iter().enumerate() {
            assert_eq!(z.rank(m, false), Some((i, *s)));
            assert_eq!(z.rank(m, true), Some((model.len() - 1 - i, *s)));
            assert_eq!(z.get(i), (m.as_slice(), *s));
        }
        let rev: Vec<_> = model.iter().rev().cloned().collect();
        assert_eq!(z.collect(0, model.len(), true), rev);
        if let Repr::Large(s) = &z.repr {
            assert_eq!(s.dict.len(), model.len());
            let order = s
                .tree
                .check(|a, b| cmp_elem(a.0, s.member(a.1), b.0, s.member(b.1)));
            assert_eq!(order.len(), model.len());
        }
    }

    fn sort(model: &mut [(Vec<u8>, f64)]) {
        model.sort_by(|a, b| cmp_elem(a.1, &a.0, b.1, &b.0));
    }

    #[test]
    fn random_ops_match_model_in_both_encodings() {
        for entries in [0usize, 8, 1000] {
            let lim = limits(entries);
            let mut rng = fastrand::Rng::with_seed(7 + entries as u64);
            let mut z = ZSet::with_hint(1, 1, &lim);
            let mut model: Vec<(Vec<u8>, f64)> = Vec::new();
            for step in 0..3000 {
                // Every third member is too long to sit inside its record.
                let n = rng.u32(..60);
                let m = if n.is_multiple_of(3) {
                    format!("a-member-longer-than-twenty-two-bytes-{n}").into_bytes()
                } else {
                    format!("m{n}").into_bytes()
                };
                let score = rng.i32(-20..20) as f64 / 2.0;
                match rng.u32(..10) {
                    0..=4 => {
                        let added = z.insert(&m, score, &lim);
                        let pos = model.iter().position(|(x, _)| *x == m);
                        assert_eq!(added, pos.is_none());
                        match pos {
                            Some(p) => model[p].1 = score,
                            None => model.push((m, score)),
                        }
                        sort(&mut model);
                    }
                    5..=6 => {
                        let pos = model.iter().position(|(x, _)| *x == m);
                        assert_eq!(z.remove(&m), pos.is_some());
                        if let Some(p) = pos {
                            model.remove(p);
                        }
                    }
                    7 => {
                        if !model.is_empty() {
                            let a = rng.usize(..model.len());
                            let n = rng.usize(..=(model.len() - a).min(5));
                            z.remove_range(a, n);
                            model.drain(a..a + n);
                        }
                    }
                    _ => {
                        let (lo, hi) = z.score_ranks(score, step % 2 == 0, score + 3.0, false);
                        let want_lo = model
                            .iter()
                            .filter(|(_, s)| {
                                if step % 2 == 0 {
                                    *s <= score
                                } else {
                                    *s < score
                                }
                            })
                            .count();
                        let want_hi = model.iter().filter(|(_, s)| *s <= score + 3.0).count();
                        assert_eq!((lo, hi), (want_lo, want_hi.max(want_lo)));
                    }
                }
                if step % 97 == 0 {
                    check(&z, &model);
                }
            }
            check(&z, &model);
        }
    }

    /// Score changes on a set large enough for a tree of two levels, checked against the
    /// model's ranks and order.
    #[test]
    fn score_moves_in_a_tall_set_keep_ranks() {
        let lim = limits(0);
        let mut rng = fastrand::Rng::with_seed(11);
        let mut z = ZSet::with_hint(1, 1, &lim);
        let mut model: Vec<(Vec<u8>, f64)> = Vec::new();
        for i in 0..3000u32 {
            let (m, s) = (format!("m{i}").into_bytes(), rng.u32(..500) as f64);
            z.insert(&m, s, &lim);
            model.push((m, s));
        }
        sort(&mut model);
        check(&z, &model);
        for step in 0..20_000 {
            let i = rng.usize(..model.len());
            // Scores repeat, so ties are ordered by member, in both directions.
            let s = rng.u32(..500) as f64;
            assert!(!z.insert(&model[i].0.clone(), s, &lim));
            model[i].1 = s;
            sort(&mut model);
            if step % 2000 == 0 {
                check(&z, &model);
            }
        }
        check(&z, &model);
    }

    #[test]
    fn from_members_in_keeps_the_encoding_asked_for() {
        let items = vec![
            (b"b".to_vec(), 2.0),
            (vec![b'm'; 100], 1.0),
            (b"a".to_vec(), 2.0),
        ];
        let want = vec![
            (vec![b'm'; 100], 1.0),
            (b"a".to_vec(), 2.0),
            (b"b".to_vec(), 2.0),
        ];
        for (packed, enc) in [(true, "listpack"), (false, "skiplist")] {
            let z = ZSet::from_members_in(items.clone(), packed);
            assert_eq!(z.encoding(), enc);
            assert_eq!(z.iter(), want);
        }
        assert_eq!(
            ZSet::from_members(items, &limits(128)).encoding(),
            "skiplist"
        );
    }

    /// A set that loses most of its members rewrites its records densely and shrinks its
    /// index; order, ranks, lookups and a ZSCAN running across the rewrite all stay right.
    #[test]
    fn a_shrinking_set_gives_memory_back() {
        let lim = limits(0);
        let mut z = ZSet::new_skiplist();
        let mut model = Vec::new();
        for i in 0..20_000u32 {
            let m = format!("member:{i}").into_bytes();
            z.insert(&m, (i % 777) as f64, &lim);
            model.push((m, (i % 777) as f64));
        }
        let peak = z.heap_bytes();
        // A scan starts, then most members go, some one by one and some by rank.
        let mut seen = std::collections::HashSet::new();
        let mut cursor = z.scan(0, 50, |m, _| {
            seen.insert(m.to_vec());
        });
        for i in (0..20_000u32).filter(|i| i % 10 != 3) {
            if i < 15_000 {
                assert!(z.remove(format!("member:{i}").as_bytes()));
            }
        }
        model.retain(|(m, _)| {
            let i: u32 = std::str::from_utf8(&m[7..]).unwrap().parse().unwrap();
            i % 10 == 3 || i >= 15_000
        });
        sort(&mut model);
        let keep = model.len();
        z.remove_range(100, keep - 600);
        model.drain(100..keep - 500);
        check(&z, &model);
        assert!(
            z.heap_bytes() * 8 < peak,
            "{} of {peak} bytes",
            z.heap_bytes()
        );
        while cursor != 0 {
            cursor = z.scan(cursor, 50, |m, _| {
                seen.insert(m.to_vec());
            });
        }
        for (m, _) in &model {
            assert!(seen.contains(m), "scan missed a member present throughout");
        }
    }

    #[test]
    fn a_member_record_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Rec>(), 32);
    }

    #[test]
    fn converts_at_the_limits() {
        let lim = limits(3);
        let mut z = ZSet::new();
        for m in ["a", "b", "c"] {
            z.insert(m.as_bytes(), 1.0, &lim);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"d", 1.0, &lim);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new();
        z.insert(&[b'x'; 65], 1.0, &lim);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(&[b'x'; 65]), Some(1.0));
    }

    #[test]
    fn lex_ranks_and_scan() {
        let lim = limits(0);
        let mut z = ZSet::new_skiplist();
        for m in ["a", "b", "c", "d", "e"] {
            z.insert(m.as_bytes(), 0.0, &lim);
        }
        let b = |s: &str| s.as_bytes().to_vec();
        assert_eq!(
            z.lex_ranks(&LexBound::Incl(b("b")), &LexBound::Excl(b("d"))),
            (1, 3)
        );
        assert_eq!(z.lex_ranks(&LexBound::NegInf, &LexBound::PosInf), (0, 5));
        assert_eq!(z.lex_ranks(&LexBound::PosInf, &LexBound::NegInf), (5, 5));
        let mut seen = Vec::new();
        let mut c = 0;
        loop {
            c = z.scan(c, 2, |m, _| seen.push(m.to_vec()));
            if c == 0 {
                break;
            }
        }
        seen.sort();
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn big_set_ranks_after_removals() {
        let lim = limits(128);
        let mut z = ZSet::new();
        for i in 0..20000u32 {
            z.insert(format!("member:{i}").as_bytes(), (i % 1000) as f64, &lim);
        }
        for i in (0..20000u32).step_by(2) {
            assert!(z.remove(format!("member:{i}").as_bytes()));
        }
        assert_eq!(z.len(), 10000);
        assert_eq!(z.count_score_below(500.0, false), 5000);
        let (m, s) = z.get(0);
        assert_eq!((m, s), (&b"member:1"[..], 1.0));
        assert_eq!(z.rank(b"member:9999", false), Some((9999, 999.0)));
        for i in (1..20000u32).step_by(2) {
            z.insert(format!("member:{i}").as_bytes(), -(i as f64), &lim);
        }
        assert_eq!(z.get(0).0, b"member:19999");
    }
}
