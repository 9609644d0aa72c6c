//! The hash value type: field-value pairs. Data structure and its pure operations only; the commands
//! live in `commands::hash`. (Placeholder until the family lands.)

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HashValue {}

impl HashValue {
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
