//! Values stored in the keyspace. Each data type family owns its variant.
//! Encodings are reported with Redis' names (OBJECT ENCODING) without copying Redis' layouts.

use crate::lazyfree::FreeEffort;
use crate::resp::parse::parse_i64;
use crate::types::stream::StreamValue;
use crate::types::{hash::HashValue, list::ListValue, set::SetValue, zset::ZSetValue};

/// A string value. `modified` marks strings grown in place (APPEND, SETRANGE), which Redis
/// reports as "raw" whatever their length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrValue {
    pub bytes: Vec<u8>,
    pub modified: bool,
}

impl StrValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        StrValue {
            bytes,
            modified: false,
        }
    }
    pub fn from_slice(b: &[u8]) -> Self {
        StrValue::new(b.to_vec())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrValue),
    Hash(HashValue),
    List(ListValue),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(Box<StreamValue>),
}

/// A read-only view of a stored value. The keyspace hands values out through this view (not as
/// `&Value`) so an entry may keep a small string inside its own allocation.
#[derive(Clone, Copy, Debug)]
pub enum ValueRef<'a> {
    Str(&'a [u8]),
    Hash(&'a HashValue),
    List(&'a ListValue),
    Set(&'a SetValue),
    ZSet(&'a ZSetValue),
    Stream(&'a StreamValue),
}

impl<'a> ValueRef<'a> {
    /// The TYPE name.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Str(_) => "string",
            ValueRef::Hash(_) => "hash",
            ValueRef::List(_) => "list",
            ValueRef::Set(_) => "set",
            ValueRef::ZSet(_) => "zset",
            ValueRef::Stream(_) => "stream",
        }
    }

    /// Approximate heap bytes held by the value.
    pub fn heap_bytes(self) -> usize {
        match self {
            ValueRef::Str(b) => b.len(),
            ValueRef::Hash(v) => v.heap_bytes(),
            ValueRef::List(v) => v.heap_bytes(),
            ValueRef::Set(v) => v.heap_bytes(),
            ValueRef::ZSet(v) => v.heap_bytes(),
            ValueRef::Stream(v) => v.heap_bytes(),
        }
    }

    /// An owned copy of the value (a string copies as unmodified).
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Str(b) => Value::Str(StrValue::from_slice(b)),
            ValueRef::Hash(v) => Value::Hash(v.clone()),
            ValueRef::List(v) => Value::List(v.clone()),
            ValueRef::Set(v) => Value::Set(v.clone()),
            ValueRef::ZSet(v) => Value::ZSet(v.clone()),
            ValueRef::Stream(v) => Value::Stream(Box::new(v.clone())),
        }
    }
}

/// Largest embstr in Redis 7 (bytes).
const EMBSTR_MAX_BYTES: usize = 44;

impl Value {
    /// The read-only view of this value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Str(s) => ValueRef::Str(&s.bytes),
            Value::Hash(v) => ValueRef::Hash(v),
            Value::List(v) => ValueRef::List(v),
            Value::Set(v) => ValueRef::Set(v),
            Value::ZSet(v) => ValueRef::ZSet(v),
            Value::Stream(v) => ValueRef::Stream(v),
        }
    }

    /// The TYPE name.
    pub fn type_name(&self) -> &'static str {
        self.as_ref().type_name()
    }

    /// The OBJECT ENCODING name Redis would report for this value.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => str_encoding(&s.bytes, s.modified),
            Value::Hash(v) => v.encoding(),
            Value::List(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Approximate heap bytes held, for INFO memory and MEMORY USAGE-like accounting.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.bytes.capacity(),
            Value::Hash(v) => v.heap_bytes(),
            Value::List(v) => v.heap_bytes(),
            Value::Set(v) => v.heap_bytes(),
            Value::ZSet(v) => v.heap_bytes(),
            Value::Stream(v) => v.heap_bytes(),
        }
    }
}

/// The OBJECT ENCODING name of a string: "int" and "embstr" as Redis decides them, "raw" for
/// longer strings and for strings grown in place (`modified`).
pub fn str_encoding(bytes: &[u8], modified: bool) -> &'static str {
    if !modified && bytes.len() <= 20 && parse_i64(bytes).is_some() {
        "int"
    } else if !modified && bytes.len() <= EMBSTR_MAX_BYTES {
        "embstr"
    } else {
        "raw"
    }
}

impl FreeEffort for ValueRef<'_> {
    /// Redis' free effort of the value (strings are one allocation).
    fn free_effort(&self) -> usize {
        match self {
            ValueRef::Str(_) => 1,
            ValueRef::Hash(v) => v.free_effort(),
            ValueRef::List(v) => v.free_effort(),
            ValueRef::Set(v) => v.free_effort(),
            ValueRef::ZSet(v) => v.free_effort(),
            ValueRef::Stream(v) => v.free_effort(),
        }
    }
}

impl FreeEffort for Value {
    fn free_effort(&self) -> usize {
        self.as_ref().free_effort()
    }
}
