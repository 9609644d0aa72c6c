//! The zset value type: members ordered by score. Data structure and its pure operations only; the commands
//! live in `commands::zset`. (Placeholder until the family lands.)

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSetValue {}

impl ZSetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        0
    }
}
