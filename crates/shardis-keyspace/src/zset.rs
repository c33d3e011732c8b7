//! ZSet values: a compact encoding for small ones and a scalable one for large ones.
//!
//! Being written (issue 3): only the shape the rest of the keyspace relies on is here yet.

/// A zset value.
#[derive(Clone, Debug, Default)]
pub struct ZSet {}

impl ZSet {
    /// The name OBJECT ENCODING answers.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
