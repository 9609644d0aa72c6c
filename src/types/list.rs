//! The list value type: an ordered sequence of elements. Data structure and its pure operations only; the commands
//! live in `commands::list`. (Placeholder until the family lands.)

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListValue {}

impl ListValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        0
    }
}
