//! Sorted set values: a packed byte vector for small sets and an arena skiplist with a member
//! index for large ones. Knows no sockets, no commands: only ordering, ranks and encodings.
//!
//! Both encodings keep elements ordered by (score, member bytes) and expose the same
//! rank-based interface: a score or lex interval is turned into a rank interval
//! (`count_*_below`), and ranges, removals and pops then work on ranks, which the skiplist
//! answers in O(log n) through its spans.

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
// Skiplist encoding

const MAX_LEVEL: usize = 32;
/// Index 0 is the header, which no forward link ever points at, so it doubles as "none".
const NIL: u32 = 0;

/// A forward link and the number of level-0 steps it skips (for ranks).
#[derive(Clone, Copy, Debug, Default)]
struct Link {
    next: u32,
    span: u32,
}

/// Links kept inside the node: with a level probability of 1/4, 99.6% of nodes need no
/// more, so a search step reads the node it stands on and the next node's score, nothing else.
const INLINE_LINKS: usize = 4;

/// 64 bytes, one cache line in the (page-aligned) node array: the member lives in the shared byte arena and links above
/// `INLINE_LINKS` in the shared link arena, so an element costs no heap allocation of its own.
#[derive(Clone, Copy, Debug)]
struct Node {
    score: f64,
    off: u64,
    mlen: u32,
    /// Previous node at level 0 (NIL for the first); for a free node, the next free node.
    back: u32,
    /// First of this node's links above `INLINE_LINKS` in `Skip::links` (if it has any).
    links: u32,
    /// 0 for a free slot.
    level: u8,
    lo: [Link; INLINE_LINKS],
}

#[inline]
fn member_of<'a>(nodes: &[Node], bytes: &'a [u8], i: u32) -> &'a [u8] {
    let n = &nodes[i as usize];
    &bytes[n.off as usize..n.off as usize + n.mlen as usize]
}

#[derive(Clone)]
struct Skip {
    nodes: Vec<Node>,
    links: Vec<Link>,
    bytes: Vec<u8>,
    /// Arena bytes no longer referenced, reclaimed by compaction once they dominate.
    garbage: usize,
    free_node: u32,
    /// Free link blocks by level, threaded through their first link's `next`.
    free_links: [u32; MAX_LEVEL + 1],
    tail: u32,
    level: usize,
    len: usize,
    dict: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Skip").field("len", &self.len).finish()
    }
}

impl Skip {
    fn new() -> Skip {
        Skip {
            nodes: vec![Node {
                score: 0.0,
                off: 0,
                mlen: 0,
                back: NIL,
                links: 0,
                level: MAX_LEVEL as u8,
                lo: [Link::default(); INLINE_LINKS],
            }],
            links: vec![Link::default(); MAX_LEVEL - INLINE_LINKS],
            bytes: Vec::new(),
            garbage: 0,
            free_node: NIL,
            free_links: [u32::MAX; MAX_LEVEL + 1],
            tail: NIL,
            level: 1,
            len: 0,
            dict: HashTable::new(),
            hasher: RandomState::default(),
        }
    }

    #[inline]
    fn link(&self, x: u32, i: usize) -> Link {
        let n = &self.nodes[x as usize];
        if i < INLINE_LINKS {
            n.lo[i]
        } else {
            self.links[n.links as usize + i - INLINE_LINKS]
        }
    }

    #[inline]
    fn link_mut(&mut self, x: u32, i: usize) -> &mut Link {
        if i < INLINE_LINKS {
            return &mut self.nodes[x as usize].lo[i];
        }
        let at = self.nodes[x as usize].links as usize + i - INLINE_LINKS;
        &mut self.links[at]
    }

    /// Asks the CPU to start loading node `x`'s cache line.
    #[inline(always)]
    fn prefetch(&self, x: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.nodes.as_ptr().wrapping_add(x as usize) as *const i8;
            // SAFETY: SSE is part of every x86_64 CPU, and a prefetch is only a hint: it
            // never faults and changes no memory, whatever the address.
            #[allow(unsafe_code)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p)
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = x;
    }

    #[inline]
    fn member(&self, x: u32) -> &[u8] {
        member_of(&self.nodes, &self.bytes, x)
    }

    #[inline]
    fn score_of(&self, x: u32) -> f64 {
        self.nodes[x as usize].score
    }

    fn find(&self, m: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(m);
        let (nodes, bytes) = (&self.nodes, &self.bytes);
        self.dict
            .find(h, |&i| member_of(nodes, bytes, i) == m)
            .copied()
    }

    fn random_level() -> usize {
        let mut l = 1;
        while l < MAX_LEVEL && fastrand::u32(..) & 0xFFFF < 0xFFFF / 4 {
            l += 1;
        }
        l
    }

    /// Arena links for a node of `level` (only those above the inline ones).
    fn alloc_links(&mut self, level: usize) -> u32 {
        if level <= INLINE_LINKS {
            return u32::MAX;
        }
        let level = level - INLINE_LINKS;
        let head = self.free_links[level];
        if head != u32::MAX {
            self.free_links[level] = self.links[head as usize].next;
            head
        } else {
            let at = self.links.len() as u32;
            self.links.resize(self.links.len() + level, Link::default());
            at
        }
    }

    /// A new, unlinked node holding a copy of `m`.
    fn alloc_node(&mut self, m: &[u8], score: f64) -> u32 {
        let level = Self::random_level();
        let links = self.alloc_links(level);
        let off = self.bytes.len() as u64;
        self.bytes.extend_from_slice(m);
        let node = Node {
            score,
            off,
            mlen: m.len() as u32,
            back: NIL,
            links,
            level: level as u8,
            lo: [Link::default(); INLINE_LINKS],
        };
        if self.free_node != NIL {
            let x = self.free_node;
            self.free_node = self.nodes[x as usize].back;
            self.nodes[x as usize] = node;
            x
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn free_node(&mut self, x: u32) {
        let n = self.nodes[x as usize];
        if n.level as usize > INLINE_LINKS {
            let l = n.level as usize - INLINE_LINKS;
            self.links[n.links as usize].next = self.free_links[l];
            self.free_links[l] = n.links;
        }
        self.garbage += n.mlen as usize;
        self.nodes[x as usize].level = 0;
        self.nodes[x as usize].mlen = 0;
        self.nodes[x as usize].back = self.free_node;
        self.free_node = x;
        if self.garbage > 4096 && self.garbage * 2 > self.bytes.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.garbage);
        for n in self.nodes.iter_mut().skip(1).filter(|n| n.level > 0) {
            let off = bytes.len() as u64;
            bytes.extend_from_slice(&self.bytes[n.off as usize..n.off as usize + n.mlen as usize]);
            n.off = off;
        }
        self.bytes = bytes;
        self.garbage = 0;
    }

    /// For each level, the last node before the position of (score, m), and its rank.
    fn path(&self, score: f64, m: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [NIL; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.link(x, i);
                if i > 0 {
                    // Where the search goes if it stops here: fetched while this level's
                    // next node is compared, so the descent does not wait for memory.
                    self.prefetch(self.link(x, i - 1).next);
                }
                if l.next != NIL
                    && cmp_elem(self.score_of(l.next), self.member(l.next), score, m)
                        == Ordering::Less
                {
                    rank[i] += l.span;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Links an allocated node into the list at its (score, member) position.
    fn link_in(&mut self, x: u32) {
        let (score, lvl) = (self.score_of(x), self.nodes[x as usize].level as usize);
        let (mut update, mut rank) = {
            let m = self.member(x);
            self.path(score, m)
        };
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = NIL;
                self.link_mut(NIL, i).span = self.len as u32;
            }
            self.level = lvl;
        }
        self.splice_in(x, lvl, &update, &rank);
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.link_mut(u, i).span += 1;
        }
        self.len += 1;
    }

    /// Links `x` (of height `lvl`) after its predecessors `update` on its own levels, given
    /// the search's ranks, and sets the level-0 back links. Spans above `lvl` are the
    /// caller's.
    fn splice_in(
        &mut self,
        x: u32,
        lvl: usize,
        update: &[u32; MAX_LEVEL],
        rank: &[u32; MAX_LEVEL],
    ) {
        for (i, &u) in update.iter().enumerate().take(lvl) {
            let ul = self.link(u, i);
            let d = rank[0] - rank[i];
            *self.link_mut(x, i) = Link {
                next: ul.next,
                span: ul.span - d,
            };
            *self.link_mut(u, i) = Link {
                next: x,
                span: d + 1,
            };
        }
        self.nodes[x as usize].back = update[0];
        let next = self.link(x, 0).next;
        if next != NIL {
            self.nodes[next as usize].back = x;
        } else {
            self.tail = x;
        }
    }

    /// Takes `x` (of height `lvl`) out of its predecessors' links on its own levels and out
    /// of the level-0 back links. Spans above `lvl` are the caller's.
    fn splice_out(&mut self, x: u32, lvl: usize, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(lvl) {
            let (ul, xl) = (self.link(u, i), self.link(x, i));
            debug_assert_eq!(ul.next, x);
            *self.link_mut(u, i) = Link {
                next: xl.next,
                span: ul.span + xl.span - 1,
            };
        }
        let (next, back) = (self.link(x, 0).next, self.nodes[x as usize].back);
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
    }

    /// Unlinks `x`, whose predecessors at each level are `update`.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        let lvl = self.nodes[x as usize].level as usize;
        self.splice_out(x, lvl, update);
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.link_mut(u, i).span -= 1;
        }
        while self.level > 1 && self.link(NIL, self.level - 1).next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    fn insert(&mut self, m: &[u8], score: f64) {
        let x = self.alloc_node(m, score);
        self.link_in(x);
        let h = self.hasher.hash_one(m);
        let (nodes, bytes, hasher) = (&self.nodes, &self.bytes, &self.hasher);
        self.dict
            .insert_unique(h, x, |&i| hasher.hash_one(member_of(nodes, bytes, i)));
    }

    fn update_score(&mut self, x: u32, score: f64) {
        let old = self.score_of(x);
        let back = self.nodes[x as usize].back;
        let next = self.link(x, 0).next;
        let m = self.member(x);
        // Stays in place when the neighbours still bracket it: no relinking needed.
        if (back == NIL || cmp_elem(self.score_of(back), self.member(back), score, m).is_lt())
            && (next == NIL || cmp_elem(self.score_of(next), self.member(next), score, m).is_gt())
        {
            self.nodes[x as usize].score = score;
            return;
        }
        let lvl = self.nodes[x as usize].level as usize;
        if lvl >= self.level {
            // The node reaches the top level, so moving it may change the list's height:
            // take the general way.
            let (update, _) = self.path(old, m);
            self.unlink(x, &update);
            self.nodes[x as usize].score = score;
            self.link_in(x);
            return;
        }
        self.move_node(x, score, lvl);
    }

    /// Moves node `x` (of height `lvl`, below the list's) to `score`'s position. Unlinking
    /// and relinking separately would lower and then raise the span of every predecessor above
    /// `lvl` at the old and the new position; near the top of the list those are the same few
    /// nodes for both positions, so their spans are left alone. That matters beyond the saved
    /// writes: those top nodes are read by every search, and a write to one makes each other
    /// core that searches the set fetch its cache line again.
    fn move_node(&mut self, x: u32, score: f64, lvl: usize) {
        let (old_upd, _) = {
            let (s, m) = (self.score_of(x), self.member(x));
            self.path(s, m)
        };
        // Above `lvl` the old predecessors' spans still count x for now: the new search
        // below passes through them only at levels above `lvl`, which adds the same one to
        // every rank it records, and only rank differences are used.
        self.splice_out(x, lvl, &old_upd);
        self.nodes[x as usize].score = score;
        let (new_upd, rank) = {
            let m = self.member(x);
            self.path(score, m)
        };
        self.splice_in(x, lvl, &new_upd, &rank);
        for i in lvl..self.level {
            if old_upd[i] != new_upd[i] {
                self.link_mut(old_upd[i], i).span -= 1;
                self.link_mut(new_upd[i], i).span += 1;
            }
        }
    }

    fn remove_node(&mut self, x: u32) {
        let (update, _) = self.path(self.score_of(x), self.member(x));
        self.unlink(x, &update);
        self.forget(x);
    }

    /// Drops `x` from the member index and frees it (already unlinked).
    fn forget(&mut self, x: u32) {
        let h = self.hasher.hash_one(self.member(x));
        if let Ok(e) = self.dict.find_entry(h, |&i| i == x) {
            e.remove();
        }
        self.free_node(x);
    }

    /// 1-based rank of node `x`.
    fn rank_of(&self, x: u32) -> usize {
        let (score, m) = (self.score_of(x), self.member(x));
        let mut rank = 0usize;
        let mut y = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(y, i);
                if l.next != NIL
                    && cmp_elem(self.score_of(l.next), self.member(l.next), score, m).is_le()
                {
                    rank += l.span as usize;
                    y = l.next;
                } else {
                    break;
                }
            }
            if y == x {
                return rank;
            }
        }
        unreachable!("node is linked")
    }

    /// The node at 1-based `rank`, and for each level the last node before it.
    fn by_rank(&self, rank: usize) -> (u32, [u32; MAX_LEVEL]) {
        let mut update = [NIL; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next != NIL && traversed + (l.span as usize) < rank {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (self.link(x, 0).next, update)
    }

    /// How many leading elements satisfy `pred` (which holds for a prefix of the order).
    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut rank = 0usize;
        let mut x = NIL;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next != NIL && pred(self.score_of(l.next), self.member(l.next)) {
                    rank += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// Removes `count` elements starting at 0-based rank `start`.
    fn remove_ranks(&mut self, start: usize, count: usize) {
        let (mut x, update) = self.by_rank(start + 1);
        for _ in 0..count {
            let next = self.link(x, 0).next;
            self.unlink(x, &update);
            self.forget(x);
            x = next;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The value

#[derive(Clone, Debug)]
enum Repr {
    Pack(Pack),
    Skip(Box<Skip>),
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
            repr: Repr::Skip(Box::new(Skip::new())),
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
            Repr::Skip(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len,
            Repr::Skip(s) => s.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(m).map(|(_, e)| e.score),
            Repr::Skip(s) => s.find(m).map(|x| s.score_of(x)),
        }
    }

    /// Converts to the skiplist encoding (one-way, like Redis).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Pack(p) = &self.repr {
            let mut s = Skip::new();
            for e in p.iter() {
                s.insert(e.member, e.score);
            }
            self.repr = Repr::Skip(Box::new(s));
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
            Repr::Skip(s) => match s.find(m) {
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
            Repr::Skip(s) => match s.find(m) {
                Some(x) => {
                    s.remove_node(x);
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
            Repr::Skip(s) => {
                let x = s.find(m)?;
                (s.rank_of(x) - 1, s.score_of(x))
            }
        };
        Some((if rev { self.len() - 1 - r } else { r }, score))
    }

    fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.iter().take_while(|e| pred(e.score, e.member)).count(),
            Repr::Skip(s) => s.count_prefix(pred),
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
            Repr::Skip(s) => {
                let first = if rev { len - start } else { start + 1 };
                let (mut x, _) = s.by_rank(first);
                for _ in 0..count {
                    f(s.member(x), s.score_of(x));
                    x = if rev {
                        s.nodes[x as usize].back
                    } else {
                        s.link(x, 0).next
                    };
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
            Repr::Skip(s) => {
                let (x, _) = s.by_rank(rank + 1);
                (s.member(x), s.score_of(x))
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
            Repr::Skip(s) => s.remove_ranks(start, count),
        }
    }

    /// All elements in order.
    pub fn iter(&self) -> Vec<(Vec<u8>, f64)> {
        self.collect(0, self.len(), false)
    }

    /// One SCAN step: visits some elements and returns the next cursor (0 when done).
    /// A packed set is returned whole. For a skiplist the cursor is a node slot, and slots
    /// never move, so an element present for the whole scan is returned at least once.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for e in p.iter() {
                    f(e.member, e.score);
                }
                0
            }
            Repr::Skip(s) => {
                let mut i = (cursor as usize).max(1);
                let mut seen = 0;
                // Visits at most 10x the count of slots, so a sparse arena still returns.
                let mut budget = count.saturating_mul(10).max(10);
                while i < s.nodes.len() && seen < count && budget > 0 {
                    let n = &s.nodes[i];
                    if n.level > 0 {
                        f(s.member(i as u32), n.score);
                        seen += 1;
                    }
                    i += 1;
                    budget -= 1;
                }
                if i >= s.nodes.len() {
                    0
                } else {
                    i as u64
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
            Repr::Skip(s) => {
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
            Repr::Skip(s) => {
                s.nodes.capacity() * std::mem::size_of::<Node>()
                    + s.links.capacity() * std::mem::size_of::<Link>()
                    + s.bytes.capacity()
                    + s.dict.capacity() * (std::mem::size_of::<u32>() + 1)
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
        if let Repr::Skip(s) = &z.repr {
            assert_eq!(s.dict.len(), model.len());
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
                let m = format!("m{}", rng.u32(..60)).into_bytes();
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

    /// Score changes on a set tall enough that most moves keep the top levels' spans
    /// (`move_node`), checked against the model's ranks and order.
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

    #[test]
    fn node_stays_small() {
        assert_eq!(std::mem::size_of::<Node>(), 64);
        assert_eq!(std::mem::size_of::<Link>(), 8);
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
    fn big_set_ranks_and_compaction() {
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
