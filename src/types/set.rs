//! The set value type: a set of unique members. Data structure and its pure operations only; the commands
//! live in `commands::set`. (Placeholder until the family lands.)

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetValue {}

impl SetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The OBJECT ENCODING name Redis 7.0 would report.
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        0
    }
}
