//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted numerically (the
//! elements read as doubles, sorted sets too) or with ALPHA by bytes, optionally by the values
//! of other keys (BY pattern, `*` replaced by the element, `->field` reading a hash) or not at
//! all (BY without `*`), cut by LIMIT, each replaced by the values GET patterns name (`#` is the
//! element itself), returned or stored as a list (STORE; an empty result deletes the
//! destination). Checks run in Redis 7.0's order with its texts; in cluster mode BY patterns
//! and GET are refused as Redis refuses them.
//!
//! Where keys live: the sorted key and the STORE destination are the command's keys (routed
//! like any keyed command). Keys named by BY/GET patterns are known only from the data, so a
//! standalone node with several shards runs such a line with every shard parked
//! (`CommandSpec::line_reaches_any_key`); a line that reaches a shard it does not hold anyway
//! (a script's `redis.call`) is refused rather than answered from part of the keyspace.
//!
//! Order details, as Debian's redis-server 7.0 (glibc 2.36, C.UTF-8) behaves: its qsort is a
//! stable merge sort, so equal elements keep their loading order (the same here, with a stable
//! sort); ALPHA uses `strcoll`, which in the C and C.UTF-8 locales compares bytes up to the
//! first NUL, and STORE compares whole byte strings. Equal elements of a set or sorted set
//! load in the value's own order, which is Redis' hash-table order there and slotd's own order
//! here; BY with LIMIT makes Redis use an unstable partial sort. Only ties can differ.

use super::kit::number::{c_str, parse_i64, strtod};
use super::spec::{
    acl, arg, block, key_range, key_spec_at, key_unknown, keyflag, multi_token, oneof, opt, pure,
    tok, KeySpecDoc,
};
use super::{flags::*, ArgDoc, CmdResult, CommandSpec, Exec, KeySpec};
use crate::resp::{Args, ReplyError};
use crate::shard::value::{Value, ValueRef};
use crate::types::list::{End, ListValue};
use std::cmp::Ordering;

/// A parsed SORT line.
struct Sort<'a> {
    desc: bool,
    alpha: bool,
    limit: (i64, i64),
    /// The BY pattern when it holds a `*` (else the line does not sort).
    by: Option<&'a [u8]>,
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// Reads the options in Redis' order and with its errors. `read_only` (SORT_RO) knows no
/// STORE; `cluster` refuses BY patterns and GET.
fn parse(args: Args<'_>, read_only: bool, cluster: bool) -> Result<Sort<'_>, ReplyError> {
    let mut s = Sort {
        desc: false,
        alpha: false,
        limit: (0, -1),
        by: None,
        dont_sort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let word = args.get(j);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        if is("asc") {
            s.desc = false;
        } else if is("desc") {
            s.desc = true;
        } else if is("alpha") {
            s.alpha = true;
        } else if is("limit") && left >= 2 {
            let start = parse_i64(args.get(j + 1)).ok_or(ReplyError::NotInteger)?;
            let count = parse_i64(args.get(j + 2)).ok_or(ReplyError::NotInteger)?;
            s.limit = (start, count);
            j += 2;
        } else if !read_only && is("store") && left >= 1 {
            s.store = Some(args.get(j + 1));
            j += 1;
        } else if is("by") && left >= 1 {
            let p = args.get(j + 1);
            if !c_str(p).contains(&b'*') {
                s.dont_sort = true;
                s.by = None;
            } else {
                if cluster {
                    return Err(ReplyError::other(
                        "ERR BY option of SORT denied in Cluster mode.",
                    ));
                }
                // Redis keeps "do not sort" once set by an earlier BY without `*`.
                s.by = Some(p);
            }
            j += 1;
        } else if is("get") && left >= 1 {
            if cluster {
                return Err(ReplyError::other(
                    "ERR GET option of SORT denied in Cluster mode.",
                ));
            }
            s.gets.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(ReplyError::Syntax);
        }
        j += 1;
    }
    Ok(s)
}

/// Whether the line names keys through BY or GET patterns (any GET but `#` alone, any BY with
/// a `*`): such a line needs every shard in standalone mode. A rough scan in the order SORT
/// reads its options; a line that does not parse fails before reaching any pattern key.
fn reaches_pattern_keys(args: Args<'_>) -> bool {
    let mut j = 2;
    while j + 1 < args.len() {
        let (word, next) = (args.get(j), args.get(j + 1));
        if word.eq_ignore_ascii_case(b"get") {
            if c_str(next) != b"#" {
                return true;
            }
            j += 2;
        } else if word.eq_ignore_ascii_case(b"by") {
            if c_str(next).contains(&b'*') {
                return true;
            }
            j += 2;
        } else if word.eq_ignore_ascii_case(b"limit") {
            j += 3;
        } else if word.eq_ignore_ascii_case(b"store") {
            j += 2;
        } else {
            j += 1;
        }
    }
    false
}

/// SORT's keys as Redis' `sortGetKeys` finds them: the sorted key, and the destination of the
/// last STORE.
fn sort_keys(args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let w = args.get(i);
        if w.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if w.eq_ignore_ascii_case(b"get") || w.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if w.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    Ok(keys)
}

/// One element to sort: its bytes, its numeric score, its ALPHA comparison value (BY).
struct Item {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

impl Item {
    fn new(obj: Vec<u8>) -> Item {
        Item {
            obj,
            score: 0.0,
            cmp: None,
        }
    }
}

/// Refusal for a pattern key on a shard the command does not hold.
fn unreachable_key() -> ReplyError {
    ReplyError::other(
        "ERR SORT BY/GET patterns reach keys on other cores here; \
         run it outside MULTI and scripts",
    )
}

/// What `pattern` names for element `subst` (Redis' `lookupKeyByPattern`): the element itself
/// for `#`, the string at the key with the first `*` replaced, or with `->field` the field of
/// the hash at that key; None when there is no `*`, no key, or a value of another type.
fn lookup(ex: &mut Exec<'_>, pattern: &[u8], subst: &[u8]) -> Result<Option<Vec<u8>>, ReplyError> {
    let text = c_str(pattern);
    if text == b"#" {
        return Ok(Some(subst.to_vec()));
    }
    let Some(star) = text.iter().position(|&c| c == b'*') else {
        return Ok(None);
    };
    let after = &text[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&f| f + 2 < after.len());
    let (tail, field) = match arrow {
        Some(f) => (
            &pattern[star + 1..star + 1 + f],
            Some(&pattern[star + 3 + f..]),
        ),
        None => (&pattern[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + subst.len() + tail.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(tail);
    let now = ex.now_ms;
    let db = ex.try_db(&key).ok_or_else(unreachable_key)?;
    let Some(e) = db.lookup_read(&key, now) else {
        return Ok(None);
    };
    Ok(match (e.value(), field) {
        (ValueRef::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
        (ValueRef::Str(s), None) => Some(s.to_vec()),
        _ => None,
    })
}

/// The elements to sort, loaded as Redis loads them, and the output range `start..=end`
/// over them (end < start: nothing).
fn load(
    ex: &mut Exec<'_>,
    key: &[u8],
    s: &mut Sort<'_>,
) -> Result<(Vec<Item>, i64, i64), ReplyError> {
    let now = ex.now_ms;
    // A script run holds `script_global` for its duration: Redis' CLIENT_SCRIPT.
    let in_script = ex.shard.script_global.is_none();
    let db = ex.try_db(key).ok_or_else(unreachable_key)?;
    let value = db.lookup_read(key, now).map(|e| e.value());
    let len = match value {
        None => 0,
        Some(ValueRef::List(l)) => l.len(),
        Some(ValueRef::Set(st)) => st.len(),
        Some(ValueRef::ZSet(z)) => z.len(),
        Some(_) => return Err(ReplyError::WrongType),
    } as i64;
    // A set in no order is sorted by its members when the result is stored or a script asks,
    // so that replicas and the AOF see the same list.
    if s.dont_sort && matches!(value, Some(ValueRef::Set(_))) && (s.store.is_some() || in_script) {
        s.dont_sort = false;
        s.alpha = true;
        s.by = None;
    }
    let start = s.limit.0.clamp(0, len);
    let count = s.limit.1.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    let mut start = start;
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    let mut items = Vec::new();
    let mut range = (start, end);
    match value {
        None => {}
        Some(ValueRef::List(l)) if s.dont_sort => {
            load_range(&mut items, l.len(), &mut range, s.desc, |i| list_at(l, i))
        }
        Some(ValueRef::ZSet(z)) if s.dont_sort => {
            let member = |i| z.at(i).map(|e| e.member.to_vec()).unwrap_or_default();
            load_range(&mut items, z.len(), &mut range, s.desc, member)
        }
        Some(ValueRef::List(l)) => items.extend((0..l.len()).map(|i| Item::new(list_at(l, i)))),
        Some(ValueRef::Set(st)) => items.extend(st.iter().map(|m| Item::new(m.to_vec()))),
        Some(ValueRef::ZSet(z)) => items.extend(z.iter().map(|e| Item::new(e.member.to_vec()))),
        Some(_) => unreachable!("checked above"),
    }
    Ok((items, range.0, range.1))
}

fn list_at(l: &ListValue, i: usize) -> Vec<u8> {
    l.get(i).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Loads positions `range` of an ordered value of `len` elements (a list, a sorted set by
/// rank), counted from the tail when `desc`, as Redis does when it does not sort; the range
/// then covers what was loaded. Nothing when the range is empty.
fn load_range(
    items: &mut Vec<Item>,
    len: usize,
    range: &mut (i64, i64),
    desc: bool,
    at: impl Fn(usize) -> Vec<u8>,
) {
    let (start, end) = *range;
    if end < start {
        return;
    }
    for k in start as usize..=end as usize {
        items.push(Item::new(at(if desc { len - 1 - k } else { k })));
    }
    *range = (0, end - start);
}

/// Fills scores (or ALPHA comparison values) from the elements or the BY pattern and sorts.
/// Returns true when a score could not be read as a double.
fn sort_items(ex: &mut Exec<'_>, s: &Sort<'_>, items: &mut [Item]) -> Result<bool, ReplyError> {
    let mut bad = false;
    for it in items.iter_mut() {
        let by = match s.by {
            Some(p) => match lookup(ex, p, &it.obj)? {
                Some(v) => Some(v),
                None => continue,
            },
            None => None,
        };
        if s.alpha {
            it.cmp = by;
            continue;
        }
        let text = c_str(by.as_deref().unwrap_or(&it.obj));
        let (v, used, erange) = strtod(text);
        // An empty string reads as 0, as C's strtod leaves it.
        if used != text.len() || erange || v.is_nan() {
            bad = true;
        }
        it.score = v;
    }
    let store = s.store.is_some();
    // strcoll in the C locales: bytes up to the first NUL.
    let coll = |a: &[u8], b: &[u8]| c_str(a).cmp(c_str(b));
    let cmp = |a: &Item, b: &Item| -> Ordering {
        let o = if !s.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.obj.cmp(&b.obj),
                Some(o) => o,
            }
        } else if s.by.is_some() {
            match (&a.cmp, &b.cmp) {
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Less,
                (_, None) => Ordering::Greater,
                (Some(x), Some(y)) if store => x.cmp(y),
                (Some(x), Some(y)) => coll(x, y),
            }
        } else if store {
            a.obj.cmp(&b.obj)
        } else {
            coll(&a.obj, &b.obj)
        };
        if s.desc {
            o.reverse()
        } else {
            o
        }
    };
    items.sort_by(cmp);
    Ok(bad)
}

fn sort(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    run(ex, args, false)
}

fn sort_ro(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    run(ex, args, true)
}

fn run(ex: &mut Exec<'_>, args: Args<'_>, read_only: bool) -> CmdResult {
    let cluster = ex.shard.slot_map.cluster_enabled;
    let mut s = parse(args, read_only, cluster)?;
    let (mut items, start, end) = load(ex, args.get(1), &mut s)?;
    if !s.dont_sort && sort_items(ex, &s, &mut items)? {
        return Err(ReplyError::other(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let rows = (start.max(0)..=end).map(|j| j as usize);
    let n = (end - start + 1).max(0) as usize;
    let out_len = if s.gets.is_empty() {
        n
    } else {
        n * s.gets.len()
    };
    let Some(dest) = s.store else {
        // Every value is read before the reply starts (errors come first).
        let mut vals = Vec::with_capacity(out_len);
        for j in rows {
            if s.gets.is_empty() {
                vals.push(Some(std::mem::take(&mut items[j].obj)));
            }
            for g in &s.gets {
                vals.push(lookup(ex, g, &items[j].obj)?);
            }
        }
        ex.out.array(vals.len());
        for v in &vals {
            match v {
                Some(b) => ex.out.bulk(b),
                None => ex.out.null(),
            }
        }
        return Ok(());
    };
    let mut list = ListValue::new();
    for j in rows {
        if s.gets.is_empty() {
            list.push(End::Tail, &items[j].obj);
        }
        for g in &s.gets {
            let v = lookup(ex, g, &items[j].obj)?.unwrap_or_default();
            list.push(End::Tail, &v);
        }
    }
    let now = ex.now_ms;
    let db = ex.try_db(dest).ok_or_else(unreachable_key)?;
    let changed = if out_len > 0 {
        db.set(dest, Value::List(list), 0, now);
        out_len as u64
    } else {
        db.remove(dest, now).is_some() as u64
    };
    if changed > 0 {
        if out_len > 0 {
            ex.notify(crate::shard::notify::LIST, "sortstore", dest);
        } else {
            ex.notify(crate::shard::notify::GENERIC, "del", dest);
        }
        ex.dirty(dest, changed);
        // The pattern keys are not the record's keys: a verbatim SORT could not be replayed
        // shard by shard, so the result itself is journaled.
        if s.by.is_some() || s.gets.iter().any(|g| c_str(g) != b"#") {
            ex.journal_state(dest);
        }
    }
    ex.out.int(out_len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------------

const BY_GET_NOTE: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the \
key names derive from the content of the key we sort";
const STORE_NOTE: &str = "For the optional STORE keyword. It is marked 'unknown' because the \
keyword can appear anywhere in the argument array";
const SORT_COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or \
set to sort, and M the number of returned elements. When the elements are not sorted, \
complexity is O(N).";

const DOC_PATTERN_BY: ArgDoc = key_spec_at(1, opt(tok("BY", arg("pattern", "pattern"))));
const DOC_LIMIT: ArgDoc = opt(tok(
    "LIMIT",
    block(
        "offset_count",
        &[arg("offset", "integer"), arg("count", "integer")],
    ),
));
const DOC_GET: ArgDoc = key_spec_at(1, opt(multi_token(tok("GET", arg("pattern", "pattern")))));
const DOC_ORDER: ArgDoc = opt(oneof("order", &[pure("asc", "ASC"), pure("desc", "DESC")]));
const DOC_ALPHA: ArgDoc = opt(pure("sorting", "ALPHA"));
const DOC_SORT: &[ArgDoc] = &[
    arg("key", "key"),
    DOC_PATTERN_BY,
    DOC_LIMIT,
    DOC_GET,
    DOC_ORDER,
    DOC_ALPHA,
    key_spec_at(2, opt(tok("STORE", arg("destination", "key")))),
];
/// SORT's arguments without STORE.
const DOC_SORT_RO: &[ArgDoc] = DOC_SORT.split_at(DOC_SORT.len() - 1).0;
const SORTED_KEY: KeySpecDoc = key_range(1, 0, keyflag::RO | keyflag::ACCESS);
const PATTERN_KEYS: KeySpecDoc = key_unknown(BY_GET_NOTE, keyflag::RO | keyflag::ACCESS);
const ACL: u32 = acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS;

/// SORT_RO's only routed key: the sorted one.
fn sort_ro_keys(_args: Args<'_>) -> Result<Vec<usize>, ReplyError> {
    Ok(vec![1])
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::keyed(
        "sort",
        -2,
        WRITE | DENYOOM | MOVABLE_KEYS | MULTI_KEY,
        KeySpec::Custom(sort_keys),
        sort,
    )
    .acl(ACL)
    .key_specs(&[
        SORTED_KEY,
        PATTERN_KEYS,
        key_unknown(STORE_NOTE, keyflag::OW | keyflag::UPDATE),
    ])
    // The destination, the only key no spec above locates, is written over.
    .access(keyflag::OW | keyflag::UPDATE)
    .line_reaches_any_key(reaches_pattern_keys)
    .since("1.0.0")
    .doc(
        SORT_COMPLEXITY,
        "Sorts a list, set or sorted set, optionally by other keys, and returns or stores the \
         result.",
        DOC_SORT,
    ),
    CommandSpec::keyed(
        "sort_ro",
        -2,
        READONLY | MOVABLE_KEYS,
        KeySpec::Custom(sort_ro_keys),
        sort_ro,
    )
    .acl(ACL)
    .key_specs(&[SORTED_KEY, PATTERN_KEYS])
    .line_reaches_any_key(reaches_pattern_keys)
    .since("7.0.0")
    .doc(
        SORT_COMPLEXITY,
        "Sorts a list, set or sorted set like SORT, without STORE.",
        DOC_SORT_RO,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn owned(v: &[&str]) -> OwnedArgs {
        let slices: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        OwnedArgs::from_slices(&slices)
    }

    #[test]
    fn keys_are_the_sorted_key_and_the_last_store() {
        // As sortGetKeys: LIMIT/GET/BY arguments are skipped, the last STORE wins.
        let a = owned(&["SORT", "k", "STORE", "a", "GET", "store", "STORE", "b"]);
        assert_eq!(sort_keys(a.args()), Ok(vec![1, 7]));
        let a = owned(&["SORT", "k", "LIMIT", "store", "x", "BY", "store"]);
        assert_eq!(sort_keys(a.args()), Ok(vec![1]));
    }

    #[test]
    fn pattern_lines_are_recognised() {
        // Only lines that name keys by data hold every shard.
        let yes = |v: &[&str]| reaches_pattern_keys(owned(v).args());
        assert!(yes(&["SORT", "k", "BY", "w_*"]));
        assert!(yes(&["SORT", "k", "GET", "#", "GET", "o_*"]));
        assert!(!yes(&["SORT", "k", "BY", "nosort", "GET", "#"]));
        assert!(!yes(&[
            "SORT", "k", "LIMIT", "0", "1", "STORE", "d", "ALPHA"
        ]));
    }

    #[test]
    fn options_and_their_errors() {
        // Redis' texts: LIMIT integers, SORT_RO without STORE, cluster refusals.
        let parse_text = |v: &[&str], ro: bool, cluster: bool| {
            parse(owned(v).args(), ro, cluster)
                .map(|s| {
                    (
                        s.desc,
                        s.alpha,
                        s.limit,
                        s.dont_sort,
                        s.gets.len(),
                        s.store.is_some(),
                    )
                })
                .map_err(|e| e.text())
        };
        assert_eq!(
            parse_text(
                &["SORT", "k", "desc", "ALPHA", "limit", "1", "2", "STORE", "d"],
                false,
                false
            ),
            Ok((true, true, (1, 2), false, 0, true))
        );
        assert_eq!(
            parse_text(&["SORT", "k", "STORE", "d"], true, false),
            Err("ERR syntax error".into())
        );
        assert_eq!(
            parse_text(&["SORT", "k", "LIMIT", "a", "1"], false, false),
            Err("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            parse_text(&["SORT", "k", "BY", "w*"], false, true),
            Err("ERR BY option of SORT denied in Cluster mode.".into())
        );
        assert_eq!(
            parse_text(&["SORT", "k", "BY", "nosort", "GET", "#"], false, true),
            Err("ERR GET option of SORT denied in Cluster mode.".into())
        );
    }
}
