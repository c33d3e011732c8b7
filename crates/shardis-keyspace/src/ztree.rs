//! A counted B+tree of (score, id) entries: the order of a large sorted set, with ranks in
//! O(log n). It stores no members: callers order equal scores through a `tie` closure that
//! compares the member behind an entry's id with the key's. Knows nothing of commands,
//! sockets or the rest of the keyspace.
//!
//! Why not the skiplist Redis uses: a skiplist search follows some forty links to scattered
//! nodes on a million elements, and each is a cache miss waited for in turn. A node here keeps
//! 63 sorted scores in adjacent cache lines that are fetched together, so a search waits on
//! memory about once per level, four times on a million elements. Entries are 12 bytes
//! instead of a 64-byte node, which also makes the large encoding smaller.
//!
//! Every inner node keeps, for each child, the child's smallest entry (exactly, not a bound,
//! so the id behind it always names a live member) and the child's number of entries.

use std::cmp::Ordering;

/// Entries per node. 63 makes a leaf exactly 768 bytes, one of jemalloc's size classes.
const B: usize = 63;
/// A node below this many entries merges with a neighbour...
const LOW: usize = B / 4;
/// ...when both together hold at most this many, leaving room before the next split.
const MERGED_MAX: usize = B * 3 / 4;
/// No leaf (the ends of the leaf chain).
const NIL: u32 = u32::MAX;
/// Far above any reachable height (a million entries need three levels of inner nodes);
/// `insert` asserts it.
const MAX_HEIGHT: usize = 24;

#[derive(Clone)]
struct Leaf {
    scores: [f64; B],
    ids: [u32; B],
    len: u32,
    prev: u32,
    next: u32,
}

#[derive(Clone)]
struct Inner {
    /// Score and id of each child's smallest entry.
    scores: [f64; B],
    ids: [u32; B],
    /// Entries under each child.
    counts: [u32; B],
    /// Children: leaves when this node sits just above them, inner nodes otherwise.
    kids: [u32; B],
    len: u32,
}

impl Leaf {
    fn empty() -> Leaf {
        Leaf {
            scores: [0.0; B],
            ids: [0; B],
            len: 0,
            prev: NIL,
            next: NIL,
        }
    }
}

impl Inner {
    fn empty() -> Inner {
        Inner {
            scores: [0.0; B],
            ids: [0; B],
            counts: [0; B],
            kids: [0; B],
            len: 0,
        }
    }

    fn total(&self) -> usize {
        self.counts[..self.len as usize]
            .iter()
            .map(|&c| c as usize)
            .sum()
    }
}

/// A child to be placed in an inner node: its smallest entry, its size and its index.
#[derive(Clone, Copy)]
struct Child {
    score: f64,
    id: u32,
    count: usize,
    kid: u32,
}

/// Whether a split node lies on the last (`tail`) or first (`head`) path of the tree.
#[derive(Clone, Copy)]
struct Edge {
    tail: bool,
    head: bool,
}

/// Where an entry sits: a leaf and an index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    leaf: u32,
    idx: usize,
}

/// Entries in `scores`/`ids` (sorted) that are at or below the key `(ks, tie)`. `tie(id)`
/// orders the member behind `id` against the key's member; it is asked only on equal scores,
/// and then by a binary search of its own, so a set whose scores are all equal (a lex index)
/// costs log n member comparisons per node, not a linear scan.
#[inline]
fn le_count(scores: &[f64], ids: &[u32], ks: f64, tie: &impl Fn(u32) -> Ordering) -> usize {
    let lo = scores.partition_point(|&s| s < ks);
    let eq = scores[lo..].partition_point(|&s| s <= ks);
    if eq == 0 {
        return lo;
    }
    lo + ids[lo..lo + eq].partition_point(|&id| tie(id) != Ordering::Greater)
}

/// Entries for which `pred` holds, given that it holds for a prefix of them.
#[inline]
fn prefix_count(scores: &[f64], ids: &[u32], pred: &impl Fn(f64, u32) -> bool) -> usize {
    let (mut lo, mut hi) = (0, scores.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(scores[mid], ids[mid]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn insert_at<T: Copy>(a: &mut [T], len: usize, at: usize, v: T) {
    a.copy_within(at..len, at + 1);
    a[at] = v;
}

fn remove_at<T: Copy>(a: &mut [T], len: usize, at: usize) {
    a.copy_within(at + 1..len, at);
}

/// Asks the CPU to start loading all of `*p`: the lines of a node are independent loads, so
/// they arrive in about the time of one miss instead of one after another.
#[inline(always)]
fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let base = p as *const T as *const i8;
        let mut off = 0;
        while off < std::mem::size_of::<T>() {
            // SAFETY: SSE is part of every x86_64 CPU, and a prefetch is only a hint: it never
            // faults and changes no memory, whatever the address.
            #[allow(unsafe_code)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    base.wrapping_add(off),
                )
            };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Numbered nodes of one kind, each boxed on its own rather than kept in one growing array,
/// so the tree never copies itself to grow: growth costs no pause on a large set. Freed
/// numbers are reused.
#[derive(Clone)]
struct Nodes<T> {
    slots: Vec<Option<Box<T>>>,
    free: Vec<u32>,
}

impl<T> Nodes<T> {
    fn with_none() -> Nodes<T> {
        Nodes {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    fn with(first: T) -> Nodes<T> {
        let mut n = Nodes::with_none();
        n.alloc(first);
        n
    }

    #[inline]
    fn get(&self, i: u32) -> &T {
        self.slots[i as usize].as_deref().expect("live node")
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut T {
        self.slots[i as usize].as_deref_mut().expect("live node")
    }

    fn alloc(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(Box::new(v));
                i
            }
            None => {
                self.slots.push(Some(Box::new(v)));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, i: u32) -> Box<T> {
        self.free.push(i);
        self.slots[i as usize].take().expect("live node")
    }

    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().flatten().map(|b| &mut **b)
    }

    fn heap_bytes(&self) -> usize {
        self.live() * std::mem::size_of::<T>()
            + self.slots.capacity() * 8
            + self.free.capacity() * 4
    }
}

#[derive(Clone)]
pub(crate) struct Tree {
    leaves: Nodes<Leaf>,
    inners: Nodes<Inner>,
    root: u32,
    /// 0 while the root is a leaf.
    height: usize,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub(crate) fn new() -> Tree {
        Tree {
            leaves: Nodes::with(Leaf::empty()),
            inners: Nodes::with_none(),
            root: 0,
            height: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Starts loading child `kid` of a node at `level` levels above the leaves (1 = leaves).
    #[inline(always)]
    fn prefetch_kid(&self, kid: u32, level: usize) {
        if level == 1 {
            prefetch(self.leaves.get(kid));
        } else {
            prefetch(self.inners.get(kid));
        }
    }

    /// The smallest entry under node `x` at `level` (0 = a leaf).
    fn min_of(&self, x: u32, level: usize) -> (f64, u32) {
        if level == 0 {
            let l = self.leaves.get(x);
            (l.scores[0], l.ids[0])
        } else {
            let n = self.inners.get(x);
            (n.scores[0], n.ids[0])
        }
    }

    /// Adds (score, id), which must not be in the tree; `tie` orders an entry's member
    /// against the new one's.
    pub(crate) fn insert(&mut self, score: f64, id: u32, tie: impl Fn(u32) -> Ordering) {
        let mut path = [(0u32, 0usize); MAX_HEIGHT];
        let mut node = self.root;
        for (d, step) in path.iter_mut().enumerate().take(self.height) {
            let n = self.inners.get_mut(node);
            let len = n.len as usize;
            let c = le_count(&n.scores[..len], &n.ids[..len], score, &tie);
            let pos = c.saturating_sub(1);
            if c == 0 {
                // The new entry becomes the smallest of child 0's subtree.
                n.scores[0] = score;
                n.ids[0] = id;
            }
            n.counts[pos] += 1;
            *step = (node, pos);
            node = n.kids[pos];
            self.prefetch_kid(node, self.height - d);
        }
        self.len += 1;
        let l = self.leaves.get_mut(node);
        let len = l.len as usize;
        let at = le_count(&l.scores[..len], &l.ids[..len], score, &tie);
        if len < B {
            insert_at(&mut l.scores, len, at, score);
            insert_at(&mut l.ids, len, at, id);
            l.len += 1;
            return;
        }
        // In the last leaf every node on the path is the last at its level; in the first
        // leaf, the first.
        let edge = Edge {
            tail: l.next == NIL,
            head: l.prev == NIL,
        };
        let (mut carry, mut left) = self.split_leaf(node, at, score, id, edge);
        for d in (0..self.height).rev() {
            let (p, pos) = path[d];
            match self.add_child(p, pos, left, carry, edge) {
                None => return,
                Some((c, l)) => (carry, left) = (c, l),
            }
        }
        // The root split: a new root above the two halves.
        let old = self.root;
        let (s, i) = self.min_of(old, self.height);
        let mut r = Inner::empty();
        (r.scores[0], r.ids[0], r.counts[0], r.kids[0]) = (s, i, left as u32, old);
        (r.scores[1], r.ids[1], r.counts[1], r.kids[1]) =
            (carry.score, carry.id, carry.count as u32, carry.kid);
        r.len = 2;
        self.root = self.inners.alloc(r);
        self.height += 1;
        assert!(
            self.height < MAX_HEIGHT,
            "tree height within the path arrays"
        );
    }

    /// Where a full node splits when a new entry goes to index `at`, and whether the entry
    /// goes to the left part: in the middle, except at the ends of the whole set. An entry
    /// appended past the end starts a node of its own, and one put at the very front leaves
    /// the rest of its node to the new right part, so a set filled in order, ascending or
    /// descending (RDB files list large sets highest first), leaves full nodes behind instead
    /// of half-full ones. Inside the set those rules would leave a one-entry node per insert
    /// for keys arriving in order into one gap.
    fn split_point(at: usize, edge: Edge) -> (usize, bool) {
        if at == B && edge.tail {
            (B, false)
        } else if at <= 1 && edge.head {
            (at, true)
        } else {
            (B / 2, at <= B / 2)
        }
    }

    /// Splits full leaf `x` while adding (score, id) at index `at`; returns the new right
    /// leaf as a child for the parent, and the left leaf's size.
    fn split_leaf(&mut self, x: u32, at: usize, score: f64, id: u32, edge: Edge) -> (Child, usize) {
        let (mid, into_left) = Self::split_point(at, edge);
        let l = self.leaves.get_mut(x);
        let mut r = Leaf::empty();
        let rn = B - mid;
        r.scores[..rn].copy_from_slice(&l.scores[mid..B]);
        r.ids[..rn].copy_from_slice(&l.ids[mid..B]);
        r.len = rn as u32;
        l.len = mid as u32;
        if into_left {
            insert_at(&mut l.scores, mid, at, score);
            insert_at(&mut l.ids, mid, at, id);
            l.len += 1;
        } else {
            insert_at(&mut r.scores, rn, at - mid, score);
            insert_at(&mut r.ids, rn, at - mid, id);
            r.len += 1;
        }
        let left = l.len as usize;
        let next = l.next;
        (r.prev, r.next) = (x, next);
        let child = Child {
            score: r.scores[0],
            id: r.ids[0],
            count: r.len as usize,
            kid: 0,
        };
        let rid = self.leaves.alloc(r);
        self.leaves.get_mut(x).next = rid;
        if next != NIL {
            self.leaves.get_mut(next).prev = rid;
        }
        (Child { kid: rid, ..child }, left)
    }

    /// Gives child `pos` of inner node `p` the size `left` and puts `c` right after it.
    /// When `p` was full it splits, and the new right half comes back for `p`'s parent,
    /// with the left half's size.
    fn add_child(
        &mut self,
        p: u32,
        pos: usize,
        left: usize,
        c: Child,
        edge: Edge,
    ) -> Option<(Child, usize)> {
        let n = self.inners.get_mut(p);
        n.counts[pos] = left as u32;
        let at = pos + 1;
        let len = n.len as usize;
        let put = |n: &mut Inner, len: usize, at: usize| {
            insert_at(&mut n.scores, len, at, c.score);
            insert_at(&mut n.ids, len, at, c.id);
            insert_at(&mut n.counts, len, at, c.count as u32);
            insert_at(&mut n.kids, len, at, c.kid);
            n.len += 1;
        };
        if len < B {
            put(n, len, at);
            return None;
        }
        let (mid, into_left) = Self::split_point(at, edge);
        let mut q = Inner::empty();
        let rn = B - mid;
        q.scores[..rn].copy_from_slice(&n.scores[mid..B]);
        q.ids[..rn].copy_from_slice(&n.ids[mid..B]);
        q.counts[..rn].copy_from_slice(&n.counts[mid..B]);
        q.kids[..rn].copy_from_slice(&n.kids[mid..B]);
        q.len = rn as u32;
        n.len = mid as u32;
        if into_left {
            put(n, mid, at);
        } else {
            put(&mut q, rn, at - mid);
        }
        let left = n.total();
        let child = Child {
            score: q.scores[0],
            id: q.ids[0],
            count: q.total(),
            kid: 0,
        };
        let kid = self.inners.alloc(q);
        Some((Child { kid, ..child }, left))
    }

    /// Removes (score, id); `tie` orders an entry's member against `id`'s. False if absent
    /// (also when `id` is there under another score).
    pub(crate) fn remove(&mut self, score: f64, id: u32, tie: impl Fn(u32) -> Ordering) -> bool {
        let mut path = [(0u32, 0usize); MAX_HEIGHT];
        let mut node = self.root;
        for (d, step) in path.iter_mut().enumerate().take(self.height) {
            let n = self.inners.get(node);
            let len = n.len as usize;
            let c = le_count(&n.scores[..len], &n.ids[..len], score, &tie);
            if c == 0 {
                return false;
            }
            *step = (node, c - 1);
            node = n.kids[c - 1];
            self.prefetch_kid(node, self.height - d);
        }
        let l = self.leaves.get(node);
        let len = l.len as usize;
        let c = le_count(&l.scores[..len], &l.ids[..len], score, &tie);
        if c == 0 || l.ids[c - 1] != id || l.scores[c - 1].to_bits() != score.to_bits() {
            return false;
        }
        let h = self.height;
        for &(p, pos) in &path[..h] {
            self.inners.get_mut(p).counts[pos] -= 1;
        }
        self.len -= 1;
        let at = c - 1;
        let l = self.leaves.get_mut(node);
        remove_at(&mut l.scores, len, at);
        remove_at(&mut l.ids, len, at);
        l.len -= 1;
        let len = len - 1;
        if len > 0 && at == 0 {
            let (s, i) = (l.scores[0], l.ids[0]);
            self.set_min(&path[..h], s, i);
        }
        if h == 0 {
            return true;
        }
        if len == 0 {
            let l = self.leaves.take(node);
            if l.prev != NIL {
                self.leaves.get_mut(l.prev).next = l.next;
            }
            if l.next != NIL {
                self.leaves.get_mut(l.next).prev = l.prev;
            }
            self.remove_entry(&path[..h], h - 1, path[h - 1].1);
        } else if len < LOW {
            self.merge(&path[..h], h - 1);
        }
        true
    }

    /// Records (s, i) as the smallest entry of the subtree at the end of `path`, in every
    /// ancestor whose smallest it also is.
    fn set_min(&mut self, path: &[(u32, usize)], s: f64, i: u32) {
        for &(p, pos) in path.iter().rev() {
            let n = self.inners.get_mut(p);
            n.scores[pos] = s;
            n.ids[pos] = i;
            if pos != 0 {
                break;
            }
        }
    }

    /// Removes entry `pos` of the inner node `path[k]`, then deals with what that leaves:
    /// an empty node goes too, a new smallest entry goes up, a small node merges.
    fn remove_entry(&mut self, path: &[(u32, usize)], k: usize, pos: usize) {
        let p = path[k].0;
        let n = self.inners.get_mut(p);
        let len = n.len as usize;
        remove_at(&mut n.scores, len, pos);
        remove_at(&mut n.ids, len, pos);
        remove_at(&mut n.counts, len, pos);
        remove_at(&mut n.kids, len, pos);
        n.len -= 1;
        let len = len - 1;
        if k == 0 {
            // The root: a root with one child hands over to it.
            while self.height > 0 && self.inners.get(self.root).len == 1 {
                let old = self.root;
                self.root = self.inners.get(old).kids[0];
                self.inners.take(old);
                self.height -= 1;
            }
            return;
        }
        if len == 0 {
            self.inners.take(p);
            self.remove_entry(path, k - 1, path[k - 1].1);
            return;
        }
        if pos == 0 {
            let (s, i) = (n.scores[0], n.ids[0]);
            self.set_min(&path[..k], s, i);
        }
        if len < LOW {
            self.merge(path, k - 1);
        }
    }

    /// Merges the small child `path[k].1` of inner node `path[k].0` with a neighbour when the
    /// two fit in one node.
    fn merge(&mut self, path: &[(u32, usize)], k: usize) {
        let (p, pos) = path[k];
        let n = self.inners.get(p);
        let len = n.len as usize;
        let lpos = if pos + 1 < len {
            pos
        } else if pos > 0 {
            pos - 1
        } else {
            return;
        };
        let (a, b) = (n.kids[lpos], n.kids[lpos + 1]);
        // The children are leaves when `p` is the last inner node on the path.
        if k + 1 == self.height {
            let (la, lb) = (
                self.leaves.get(a).len as usize,
                self.leaves.get(b).len as usize,
            );
            if la + lb > MERGED_MAX {
                return;
            }
            let r = self.leaves.take(b);
            let l = self.leaves.get_mut(a);
            l.scores[la..la + lb].copy_from_slice(&r.scores[..lb]);
            l.ids[la..la + lb].copy_from_slice(&r.ids[..lb]);
            l.len += lb as u32;
            l.next = r.next;
            if r.next != NIL {
                self.leaves.get_mut(r.next).prev = a;
            }
        } else {
            let (la, lb) = (
                self.inners.get(a).len as usize,
                self.inners.get(b).len as usize,
            );
            if la + lb > MERGED_MAX {
                return;
            }
            let r = self.inners.take(b);
            let l = self.inners.get_mut(a);
            l.scores[la..la + lb].copy_from_slice(&r.scores[..lb]);
            l.ids[la..la + lb].copy_from_slice(&r.ids[..lb]);
            l.counts[la..la + lb].copy_from_slice(&r.counts[..lb]);
            l.kids[la..la + lb].copy_from_slice(&r.kids[..lb]);
            l.len += lb as u32;
        }
        let n = self.inners.get_mut(p);
        n.counts[lpos] += n.counts[lpos + 1];
        self.remove_entry(path, k, lpos + 1);
    }

    /// How many leading entries satisfy `pred`, which holds for a prefix of the order.
    pub(crate) fn count_prefix(&self, pred: impl Fn(f64, u32) -> bool) -> usize {
        let mut acc = 0usize;
        let mut node = self.root;
        for d in 0..self.height {
            let n = self.inners.get(node);
            let len = n.len as usize;
            let j = prefix_count(&n.scores[..len], &n.ids[..len], &pred);
            if j == 0 {
                return acc;
            }
            acc += n.counts[..j - 1].iter().map(|&c| c as usize).sum::<usize>();
            node = n.kids[j - 1];
            self.prefetch_kid(node, self.height - d);
        }
        let l = self.leaves.get(node);
        let len = l.len as usize;
        acc + prefix_count(&l.scores[..len], &l.ids[..len], &pred)
    }

    /// The 0-based rank of (score, id), which is in the tree.
    pub(crate) fn rank(&self, score: f64, tie: impl Fn(u32) -> Ordering) -> usize {
        self.count_prefix(|s, e| s < score || (s == score && tie(e) == Ordering::Less))
    }

    /// Where the entry of 0-based `rank` (< len) sits.
    pub(crate) fn locate(&self, mut rank: usize) -> Pos {
        let mut node = self.root;
        for d in 0..self.height {
            let n = self.inners.get(node);
            let mut i = 0;
            while rank >= n.counts[i] as usize {
                rank -= n.counts[i] as usize;
                i += 1;
            }
            node = n.kids[i];
            self.prefetch_kid(node, self.height - d);
        }
        Pos {
            leaf: node,
            idx: rank,
        }
    }

    /// The entry at `p`.
    #[inline]
    pub(crate) fn at(&self, p: Pos) -> (f64, u32) {
        let l = self.leaves.get(p.leaf);
        (l.scores[p.idx], l.ids[p.idx])
    }

    /// The position after `p` (meaningless past the last entry, which callers count to).
    #[inline]
    pub(crate) fn next(&self, p: Pos) -> Pos {
        let l = self.leaves.get(p.leaf);
        if p.idx + 1 < l.len as usize || l.next == NIL {
            Pos {
                leaf: p.leaf,
                idx: p.idx + 1,
            }
        } else {
            Pos {
                leaf: l.next,
                idx: 0,
            }
        }
    }

    /// The position before `p` (meaningless before the first entry).
    #[inline]
    pub(crate) fn prev(&self, p: Pos) -> Pos {
        if p.idx > 0 {
            return Pos {
                leaf: p.leaf,
                idx: p.idx - 1,
            };
        }
        let l = self.leaves.get(p.leaf);
        if l.prev == NIL {
            return p;
        }
        Pos {
            leaf: l.prev,
            idx: self.leaves.get(l.prev).len as usize - 1,
        }
    }

    /// Renames every id through `map` (old id -> new id).
    pub(crate) fn remap(&mut self, map: &[u32]) {
        for l in self.leaves.iter_mut() {
            for id in &mut l.ids[..l.len as usize] {
                *id = map[*id as usize];
            }
        }
        for n in self.inners.iter_mut() {
            for id in &mut n.ids[..n.len as usize] {
                *id = map[*id as usize];
            }
        }
    }

    /// Heap bytes held by the nodes and their index arrays.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.leaves.heap_bytes() + self.inners.heap_bytes()
    }

    /// Checks every structural rule against `cmp` (the full order of two ids' entries) and
    /// returns the entries in order.
    #[cfg(test)]
    pub(crate) fn check(
        &self,
        cmp: impl Fn((f64, u32), (f64, u32)) -> Ordering,
    ) -> Vec<(f64, u32)> {
        fn walk(
            t: &Tree,
            x: u32,
            level: usize,
            is_root: bool,
            out: &mut Vec<(f64, u32)>,
            leaves: &mut Vec<u32>,
        ) -> (usize, (f64, u32)) {
            if level == 0 {
                let l = t.leaves.get(x);
                assert!(l.len > 0 || is_root, "empty leaf below the root");
                leaves.push(x);
                for i in 0..l.len as usize {
                    out.push((l.scores[i], l.ids[i]));
                }
                let min = if l.len > 0 {
                    (l.scores[0], l.ids[0])
                } else {
                    (0.0, 0)
                };
                return (l.len as usize, min);
            }
            let n = t.inners.get(x);
            assert!(
                n.len >= 1 && (!is_root || n.len >= 2),
                "inner node too small"
            );
            let mut total = 0;
            for i in 0..n.len as usize {
                let (c, min) = walk(t, n.kids[i], level - 1, false, out, leaves);
                assert_eq!(c, n.counts[i] as usize, "child count");
                assert_eq!(
                    min.0.to_bits(),
                    n.scores[i].to_bits(),
                    "child minimum score"
                );
                assert_eq!(min.1, n.ids[i], "child minimum id");
                total += c;
            }
            (total, (n.scores[0], n.ids[0]))
        }
        let mut out = Vec::new();
        let mut leaves = Vec::new();
        let (total, _) = walk(self, self.root, self.height, true, &mut out, &mut leaves);
        assert_eq!(total, self.len);
        assert_eq!(out.len(), self.len);
        for w in out.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Ordering::Less, "entries in order");
        }
        for w in leaves.windows(2) {
            assert_eq!(self.leaves.get(w[0]).next, w[1], "leaf chain forwards");
            assert_eq!(self.leaves.get(w[1]).prev, w[0], "leaf chain backwards");
        }
        assert_eq!(self.leaves.get(leaves[0]).prev, NIL);
        assert_eq!(self.leaves.get(*leaves.last().expect("a leaf")).next, NIL);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Members are ids; equal scores order by id, as members would.
    fn tie_of(id: u32) -> impl Fn(u32) -> Ordering {
        move |e: u32| e.cmp(&id)
    }

    fn cmp(a: (f64, u32), b: (f64, u32)) -> Ordering {
        a.0.partial_cmp(&b.0).expect("no NaN").then(a.1.cmp(&b.1))
    }

    #[derive(PartialEq, PartialOrd, Clone, Copy, Debug)]
    struct K(f64, u32);
    impl Eq for K {}
    #[allow(clippy::derive_ord_xor_partial_ord)]
    impl Ord for K {
        fn cmp(&self, o: &Self) -> Ordering {
            cmp((self.0, self.1), (o.0, o.1))
        }
    }

    fn verify(t: &Tree, model: &BTreeSet<K>) {
        let got = t.check(cmp);
        let want: Vec<(f64, u32)> = model.iter().map(|k| (k.0, k.1)).collect();
        assert_eq!(got, want);
    }

    /// Random inserts, removals and score moves against a BTreeSet, in phases that grow the
    /// tree to three levels, shrink it to nothing (merging and collapsing) and grow it again.
    #[test]
    fn matches_a_model_through_growth_and_shrinkage() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut t = Tree::new();
        let mut model = BTreeSet::new();
        let mut score_of = vec![None::<f64>; 40_000];
        for phase in 0..4 {
            let (grow, steps) = match phase {
                0 => (0.9, 60_000),
                1 => (0.3, 60_000),
                2 => (0.0, 40_000),
                _ => (0.8, 20_000),
            };
            for step in 0..steps {
                let id = rng.u32(..40_000);
                // Few distinct scores, so ties (ordered by id) are common.
                let s = rng.u32(..200) as f64;
                match score_of[id as usize] {
                    None if rng.f64() < grow => {
                        t.insert(s, id, tie_of(id));
                        model.insert(K(s, id));
                        score_of[id as usize] = Some(s);
                    }
                    None => assert!(!t.remove(s, id, tie_of(id))),
                    Some(old) => {
                        assert!(t.remove(old, id, tie_of(id)));
                        model.remove(&K(old, id));
                        score_of[id as usize] = None;
                        if rng.f64() < grow {
                            t.insert(s, id, tie_of(id));
                            model.insert(K(s, id));
                            score_of[id as usize] = Some(s);
                        }
                    }
                }
                assert_eq!(t.len(), model.len());
                if step % 5000 == 0 {
                    verify(&t, &model);
                }
            }
            verify(&t, &model);
            if phase == 0 {
                assert!(t.height >= 2, "the test reaches inner levels");
            }
        }
        // Drain the rest, then the tree is a lone empty leaf again.
        for k in model.clone() {
            assert!(t.remove(k.0, k.1, tie_of(k.1)));
        }
        assert_eq!((t.len(), t.height), (0, 0));
        verify(&t, &BTreeSet::new());
    }

    #[test]
    fn ranks_positions_and_prefixes() {
        let mut t = Tree::new();
        let mut model = Vec::new();
        let mut rng = fastrand::Rng::with_seed(5);
        for id in 0..20_000u32 {
            let s = rng.u32(..5000) as f64;
            t.insert(s, id, tie_of(id));
            model.push((s, id));
        }
        model.sort_by(|a, b| cmp(*a, *b));
        for (r, &(s, id)) in model.iter().enumerate() {
            assert_eq!(t.rank(s, tie_of(id)), r);
            assert_eq!(t.at(t.locate(r)), (s, id));
        }
        // Walking forwards and backwards from a located position.
        let mut p = t.locate(0);
        for &e in &model {
            assert_eq!(t.at(p), e);
            p = t.next(p);
        }
        let mut p = t.locate(model.len() - 1);
        for &e in model.iter().rev() {
            assert_eq!(t.at(p), e);
            p = t.prev(p);
        }
        for x in [0.0, 1.0, 2500.5, 4999.0, 6000.0] {
            let want = model.iter().filter(|e| e.0 < x).count();
            assert_eq!(t.count_prefix(|s, _| s < x), want);
        }
    }

    /// Filling in order, either way, leaves full nodes behind (the splits at the ends).
    #[test]
    fn filling_in_order_packs_nodes() {
        for descending in [false, true] {
            let mut t = Tree::new();
            for k in 0..100_000u32 {
                let id = if descending { 100_000 - k } else { k };
                t.insert(id as f64, id, tie_of(id));
            }
            let leaves = t.leaves.live();
            assert!(leaves <= 100_000 / B + 2, "{leaves} leaves");
            let inners = t.inners.live();
            assert!(inners <= leaves / (B - 2) + 4, "{inners} inner nodes");
            t.check(cmp);
        }
    }

    /// Keys arriving in descending order into one gap of an in-order set split in the middle,
    /// not into a one-entry node per insert.
    #[test]
    fn descending_runs_inside_the_set_keep_nodes_full_enough() {
        let mut t = Tree::new();
        for id in 0..6300u32 {
            t.insert(id as f64, id, tie_of(id));
        }
        for k in 0..5000u32 {
            let id = 10_000 + k;
            t.insert(62.9999 - k as f64 * 1e-5, id, tie_of(id));
        }
        let leaves = t.leaves.live();
        assert!(leaves < 400, "{leaves} leaves for 11300 entries");
        t.check(cmp);
    }

    #[test]
    fn a_leaf_is_one_size_class() {
        assert_eq!(std::mem::size_of::<Leaf>(), 768);
    }
}
