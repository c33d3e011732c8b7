//! List values: a double-ended queue of strings. Knows no sockets and no commands.
//!
//! Redis 7.0 always reports lists as `quicklist`; elements here are `StrVal`s, so elements of
//! up to 21 bytes cost no allocation of their own, and both ends are O(1).

use crate::StrVal;
use std::collections::VecDeque;

/// A list value.
#[derive(Clone, Debug, Default)]
pub struct List {
    items: VecDeque<StrVal>,
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl List {
    /// The name OBJECT ENCODING answers (Redis 7.0 has no other list encoding).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// A list holding `items` in order, as a loader builds it.
    pub fn from_items(items: impl IntoIterator<Item = StrVal>) -> List {
        List {
            items: items.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push(&mut self, end: End, v: &[u8]) {
        let v = StrVal::encoded(v);
        match end {
            End::Left => self.items.push_front(v),
            End::Right => self.items.push_back(v),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<StrVal> {
        match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }
    }

    /// Resolves a Redis index (negative counts from the end) to a position.
    pub fn index_of(&self, i: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if i < 0 { len + i } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    pub fn get(&self, pos: usize) -> Option<&StrVal> {
        self.items.get(pos)
    }

    pub fn set(&mut self, pos: usize, v: &[u8]) {
        self.items[pos] = StrVal::encoded(v);
    }

    /// The elements in `[start, stop]` after Redis's clamping of LRANGE indexes.
    pub fn range(&self, start: i64, stop: i64) -> impl Iterator<Item = &StrVal> {
        let (a, b) = clamp(self.items.len(), start, stop).unwrap_or((0, 0));
        self.items.range(a..b)
    }

    /// Keeps only `[start, stop]` (LTRIM).
    pub fn trim(&mut self, start: i64, stop: i64) {
        match clamp(self.items.len(), start, stop) {
            None => self.items.clear(),
            Some((a, b)) => {
                self.items.truncate(b);
                self.items.drain(..a);
            }
        }
    }

    /// Inserts `v` before or after the first `pivot`; false when there is no pivot.
    pub fn insert(&mut self, before: bool, pivot: &[u8], v: &[u8]) -> bool {
        match self.items.iter().position(|e| &**e == pivot) {
            None => false,
            Some(p) => {
                self.items
                    .insert(if before { p } else { p + 1 }, StrVal::encoded(v));
                true
            }
        }
    }

    /// Removes up to `count` elements equal to `v` (all when 0; from the tail when negative),
    /// returning how many went.
    pub fn remove(&mut self, count: i64, v: &[u8]) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < self.items.len() && removed < limit {
                if &*self.items[i] == v {
                    self.items.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if &*self.items[i] == v {
                    self.items.remove(i);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// LPOS: positions of `v`, starting at the `rank`-th match (negative: from the tail),
    /// at most `count` of them (0 = all), looking at no more than `maxlen` elements (0 = all).
    pub fn positions(&self, v: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        let len = self.items.len();
        let scan = if maxlen == 0 { len } else { maxlen.min(len) };
        let want = if count == 0 { usize::MAX } else { count };
        let mut skip = rank.unsigned_abs().saturating_sub(1);
        let mut out = Vec::new();
        let mut visit = |i: usize| {
            if &*self.items[i] == v {
                if skip > 0 {
                    skip -= 1;
                } else {
                    out.push(i);
                }
            }
            out.len() < want
        };
        if rank > 0 {
            for i in 0..scan {
                if !visit(i) {
                    break;
                }
            }
        } else {
            for i in (len - scan..len).rev() {
                if !visit(i) {
                    break;
                }
            }
        }
        out
    }
}

/// Redis's range clamping: `Some((from, to))` as a half-open range, `None` when empty.
fn clamp(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        let mut l = List::default();
        for i in items {
            l.push(End::Right, i.as_bytes());
        }
        l
    }

    fn strs<'a>(it: impl Iterator<Item = &'a StrVal>) -> Vec<String> {
        it.map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    #[test]
    fn from_items_keeps_order() {
        let l = List::from_items(["x", "1", "y"].map(|s| StrVal::encoded(s.as_bytes())));
        assert_eq!(strs(l.range(0, -1)), ["x", "1", "y"]);
        assert_eq!(l.get(1).unwrap().encoding(), crate::StrEnc::SharedInt);
    }

    #[test]
    fn ranges_trim_remove_positions() {
        let mut l = list(&["a", "b", "c", "b", "d"]);
        assert_eq!(strs(l.range(1, -2)), ["b", "c", "b"]);
        assert_eq!(strs(l.range(-100, 100)).len(), 5);
        assert!(strs(l.range(3, 1)).is_empty());
        assert_eq!(l.positions(b"b", 1, 0, 0), [1, 3]);
        assert_eq!(l.positions(b"b", -1, 1, 0), [3]);
        assert_eq!(l.positions(b"b", 2, 0, 0), [3]);
        assert_eq!(l.positions(b"b", 1, 0, 2), [1]);
        assert_eq!(l.remove(-1, b"b"), 1);
        assert_eq!(strs(l.range(0, -1)), ["a", "b", "c", "d"]);
        l.trim(1, 2);
        assert_eq!(strs(l.range(0, -1)), ["b", "c"]);
        l.trim(5, 10);
        assert!(l.is_empty());
    }
}
