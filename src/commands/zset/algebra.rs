//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.

use super::*;

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (and their STORE forms), ZINTERCARD
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
pub(super) enum Agg {
    Sum,
    Min,
    Max,
}

pub(super) fn aggregate(agg: Agg, acc: &mut f64, v: f64) {
    match agg {
        Agg::Sum => {
            *acc += v;
            // inf + -inf: Redis keeps scores numbers.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Agg::Min => *acc = acc.min(v),
        Agg::Max => *acc = acc.max(v),
    }
}

/// A parsed set-algebra request.
struct AlgebraReq {
    keys: std::ops::Range<usize>,
    weights: Vec<f64>,
    agg: Agg,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// numkeys at `at`; the error names the command as typed (lowercase).
fn parse_numkeys(
    args: Args<'_>,
    at: usize,
    cmd: &str,
) -> Result<std::ops::Range<usize>, ReplyError> {
    let n = i64_arg(args.get(at))?;
    if n < 1 {
        return Err(ReplyError::other(format!(
            "ERR at least 1 input key is needed for '{cmd}' command"
        )));
    }
    if n as u64 > (args.len() - at - 1) as u64 {
        return Err(ReplyError::Syntax);
    }
    Ok(at + 1..at + 1 + n as usize)
}

/// Looks every input key up once, as Redis does before reading options: WRONGTYPE first.
fn check_inputs(ex: &mut Exec<'_>, args: Args<'_>, keys: &std::ops::Range<usize>) -> CmdResult {
    let now_ms = ex.now_ms;
    for i in keys.clone() {
        let key = args.get(i);
        zinput(ex.db(key), key, now_ms)?;
    }
    Ok(())
}

/// The options after the keys: WEIGHTS, AGGREGATE, WITHSCORES, or ZINTERCARD's LIMIT.
fn parse_algebra_opts(
    args: Args<'_>,
    keys: std::ops::Range<usize>,
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<AlgebraReq, ReplyError> {
    let n = keys.len();
    let mut req = AlgebraReq {
        weights: vec![1.0; n],
        agg: Agg::Sum,
        withscores: false,
        limit: 0,
        keys,
    };
    let mut cur = ArgCursor::new(args, req.keys.end);
    while !cur.is_done() {
        let left = cur.remaining() - 1;
        let weighable = !card && op != SetOp::Diff;
        if card && left >= 1 && cur.flag("LIMIT") {
            req.limit = cur.next_i64_in(0, i64::MAX, ReplyError::LimitNegative)? as usize;
        } else if weighable && left >= n && cur.flag("WEIGHTS") {
            for w in req.weights.iter_mut() {
                *w = parse_score(cur.next()?)
                    .ok_or_else(|| ReplyError::other("ERR weight value is not a float"))?;
            }
        } else if weighable && left >= 1 && cur.flag("AGGREGATE") {
            let w = cur.next()?;
            req.agg = if w.eq_ignore_ascii_case(b"sum") {
                Agg::Sum
            } else if w.eq_ignore_ascii_case(b"min") {
                Agg::Min
            } else if w.eq_ignore_ascii_case(b"max") {
                Agg::Max
            } else {
                return Err(ReplyError::Syntax);
            };
        } else if !card && !store && cur.flag("WITHSCORES") {
            req.withscores = true;
        } else {
            return Err(ReplyError::Syntax);
        }
    }
    Ok(req)
}

/// Weighted score: Redis turns 0 * inf into 0 rather than NaN.
fn weighted(score: f64, w: f64) -> f64 {
    let v = score * w;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Computes the result as (member -> score); bounded by the inputs' sizes.
fn compute(
    ex: &mut Exec<'_>,
    args: Args<'_>,
    op: SetOp,
    req: &AlgebraReq,
) -> Result<HashMap<Box<[u8]>, f64>, ReplyError> {
    let now_ms = ex.now_ms;
    let keys: Vec<&[u8]> = req.keys.clone().map(|i| args.get(i)).collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if op == SetOp::Inter {
        // Start from the smallest input: the result cannot be larger.
        let mut lens = Vec::with_capacity(keys.len());
        for k in &keys {
            lens.push(zinput(ex.db(k), k, now_ms)?.map_or(0, |z| z.len()));
        }
        if lens.contains(&0) {
            return Ok(HashMap::new());
        }
        order.sort_by_key(|&i| lens[i]);
    }
    let mut acc: HashMap<Box<[u8]>, f64> = HashMap::new();
    for (step, &i) in order.iter().enumerate() {
        let (key, w) = (keys[i], req.weights[i]);
        let z = zinput(ex.db(key), key, now_ms)?;
        let z = z.as_deref();
        match (op, step, z) {
            (SetOp::Inter | SetOp::Diff, 0, None) => return Ok(acc),
            (_, 0, Some(z)) => {
                acc.reserve(z.len());
                for e in z.iter() {
                    acc.insert(e.member.clone(), weighted(e.score, w));
                }
            }
            (SetOp::Union, _, Some(z)) => merge_union(&mut acc, z, w, req.agg),
            (SetOp::Inter, _, Some(z)) => merge_inter(&mut acc, z, w, req.agg),
            (SetOp::Diff, _, Some(z)) => acc.retain(|m, _| z.score(m).is_none()),
            (_, _, None) => {}
        }
        if acc.is_empty() && op != SetOp::Union {
            break;
        }
    }
    Ok(acc)
}

fn merge_union(acc: &mut HashMap<Box<[u8]>, f64>, z: &ZSetValue, w: f64, agg: Agg) {
    for e in z.iter() {
        let v = weighted(e.score, w);
        match acc.get_mut(&e.member) {
            Some(cur) => aggregate(agg, cur, v),
            None => {
                acc.insert(e.member.clone(), v);
            }
        }
    }
}

fn merge_inter(acc: &mut HashMap<Box<[u8]>, f64>, z: &ZSetValue, w: f64, agg: Agg) {
    acc.retain(|m, cur| match z.score(m) {
        Some(s) => {
            aggregate(agg, cur, weighted(s, w));
            true
        }
        None => false,
    });
}

pub(super) fn sorted(acc: HashMap<Box<[u8]>, f64>) -> Vec<Entry> {
    let mut v: Vec<Entry> = acc
        .into_iter()
        .map(|(member, score)| Entry { score, member })
        .collect();
    v.sort_by(|a, b| cmp_key(a.score, &a.member, b));
    v
}

pub(super) fn algebra(ex: &mut Exec<'_>, args: Args<'_>, op: SetOp, store: bool) -> CmdResult {
    let name = String::from_utf8_lossy(args.get(0)).to_ascii_lowercase();
    let at = if store { 2 } else { 1 };
    let keys = parse_numkeys(args, at, &name)?;
    check_inputs(ex, args, &keys)?;
    let req = parse_algebra_opts(args, keys, op, store, false)?;
    let result = sorted(compute(ex, args, op, &req)?);
    if store {
        // The event is the command's name: zunionstore, zinterstore, zdiffstore.
        let n = store_result(ex, args.get(1), result, &name);
        ex.out.int(n as i64);
    } else {
        write_entries(&mut ex.out, result.len(), result.iter(), req.withscores);
    }
    Ok(())
}

pub(super) fn zunion(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Union, false)
}
pub(super) fn zinter(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Inter, false)
}
pub(super) fn zdiff(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Diff, false)
}
pub(super) fn zunionstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Union, true)
}
pub(super) fn zinterstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Inter, true)
}
pub(super) fn zdiffstore(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    algebra(ex, args, SetOp::Diff, true)
}

pub(super) fn zintercard(ex: &mut Exec<'_>, args: Args<'_>) -> CmdResult {
    let keys = parse_numkeys(args, 1, "zintercard")?;
    check_inputs(ex, args, &keys)?;
    let req = parse_algebra_opts(args, keys, SetOp::Inter, false, true)?;
    let mut n = compute(ex, args, SetOp::Inter, &req)?.len();
    if req.limit > 0 {
        n = n.min(req.limit);
    }
    ex.out.int(n as i64);
    Ok(())
}
